# SPDX-License-Identifier: MIT
# helpers.bash - loaded by every suite (`load helpers`): paths of the build
# under test, `requires`, configs, running programs under walthrough (and
# strace), and scratch file systems that never outlive their test file.

# shellcheck disable=SC2034 # variables are for the suites
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

WT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${WT_BUILD:=$WT_TOP/build}"
WT_BUILD=${WT_BUILD%/}
WT_LIB=$WT_BUILD/libwalthrough.so
WT_CLI=$WT_BUILD/walthrough
WT_BIN=$WT_BUILD/tests
WT_SCRATCHFS=$WT_TOP/scripts/scratchfs
WT_PGBIN=${WT_PGBIN:-/usr/lib/postgresql/15/bin}

# The LD_PRELOAD value. A sanitized library needs the ASan runtime first in
# the list; leaks are not checked because the programs under test are not
# ours.
wt_preload=$WT_LIB
wt_san_env=()
if [[ $WT_BUILD == *build-san ]]; then
	wt_preload="$(gcc -print-file-name=libasan.so):$WT_LIB"
	wt_san_env=(ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
	export "${wt_san_env[@]}"
elif [[ $WT_BUILD == *build-tsan ]]; then
	wt_preload="$(gcc -print-file-name=libtsan.so):$WT_LIB"
	wt_san_env=(TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0)
	export "${wt_san_env[@]}"
fi

# The same for PostgreSQL, which also needs san-init.so (see there) right
# after a sanitizer runtime.
wt_pg_preload=$WT_LIB
[[ $wt_preload == "$WT_LIB" ]] || wt_pg_preload="${wt_preload%:*}:$WT_BIN/san-init.so:$WT_LIB"

# Syscalls that wt_strace records unless WT_STRACE_SET says otherwise.
: "${WT_STRACE_SET:=openat,open,creat,write,pwrite64,pwritev,pwritev2,writev,fsync,fdatasync,sync_file_range,io_uring_setup,io_uring_enter,close}"

wt_ci() { [[ ${CI:-} == true || ${CI:-} == 1 ]]; }

# requires NAME… - skips the test (fails it when CI=true) unless this
# machine really has each of: root loopdev xfs ext4 tmpfs io_uring strace
# postgres fuse zram. An unknown name always fails.
# bats 1.8 cannot skip from setup_file. There, `requires` records what is
# missing and returns 1, and wt_setup (the default setup) then skips or
# fails each test: write `requires … || return 0` in setup_file, and call
# wt_setup first in a suite's own setup.
requires() {
	local r why
	for r; do
		why=$(_wt_lacks "$r") || continue
		[[ $why == unknown ]] && why="requires: unknown requirement '$r'"
		if [[ " ${FUNCNAME[*]} " == *" setup_file "* ]]; then
			export WT_SKIP_REASON=${WT_SKIP_REASON:-$why}
			return 1
		fi
		_wt_skip "$why"
		return 1
	done
}

_wt_skip() {
	if [[ $1 == requires:* ]]; then
		fail "$1"
	elif wt_ci; then
		fail "requires: $1 (CI=true: a missing requirement is a failure)"
	else
		skip "$1"
	fi
}

# Skips or fails the test when setup_file found a requirement missing.
wt_setup() {
	if [[ -n ${WT_SKIP_REASON:-} ]]; then
		_wt_skip "$WT_SKIP_REASON"
		return 1
	fi
}
setup() { wt_setup; }

# Prints why NAME is missing and succeeds, or fails when it is there.
_wt_lacks() {
	case $1 in
	root) [[ $(id -u) == 0 ]] && return 1
		echo "needs root" ;;
	loopdev) [[ $(id -u) == 0 && -e /dev/loop-control ]] && losetup -f >/dev/null 2>&1 && return 1
		echo "needs loop devices (root, /dev/loop-control, a free loop device)" ;;
	xfs | ext4) command -v "mkfs.$1" >/dev/null && _wt_kernel_fs "$1" && return 1
		echo "needs $1 (mkfs.$1 and kernel support)" ;;
	tmpfs) [[ $(id -u) == 0 ]] && _wt_kernel_fs tmpfs && return 1
		echo "needs tmpfs mounts (root)" ;;
	io_uring) _wt_io_uring && return 1
		echo "needs io_uring (io_uring_setup refused: $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo ?) in kernel.io_uring_disabled, or seccomp)" ;;
	strace) command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null && return 1
		echo "needs strace (installed and allowed to ptrace)" ;;
	postgres) [[ -x $WT_PGBIN/postgres ]] && id postgres >/dev/null 2>&1 && return 1
		echo "needs PostgreSQL 15 ($WT_PGBIN/postgres and user postgres)" ;;
	fuse) [[ -c /dev/fuse ]] && command -v fusermount3 >/dev/null && return 1
		echo "needs FUSE (/dev/fuse and fusermount3)" ;;
	zram) [[ $(id -u) == 0 && -w /sys/class/zram-control/hot_add ]] && command -v mkfs.xfs >/dev/null && return 1
		echo "needs zram (root, /sys/class/zram-control/hot_add, mkfs.xfs)" ;;
	*) echo unknown ;;
	esac
}

_wt_kernel_fs() {
	grep -qw "$1" /proc/filesystems ||
		compgen -G "/lib/modules/$(uname -r)/kernel/fs/$1/$1.ko*" >/dev/null
}

# A tiny io_uring_setup(4, &params) probe (syscall 425 on every arch but alpha).
_wt_io_uring() {
	perl -e 'my $p = "\0" x 120; exit(syscall(425, 4, $p) >= 0 ? 0 : 1)' 2>/dev/null
}

# wt_conf FILE <<EOF … EOF - writes a config from stdin, mode 0600.
wt_conf() {
	(umask 077 && cat >"$1") && chmod 0600 "$1"
}

# The dirty table shared by what one test runs (WT_TABLE overrides).
wt_table() { echo "${WT_TABLE:-${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/dirty.table}"; }

# wt_run CONFIG CMD… - CMD under walthrough with CONFIG and the test's table.
wt_run() {
	local conf=$1; shift
	[[ -r $WT_LIB ]] || { fail "$WT_LIB missing: run make"; return 1; }
	env LD_PRELOAD="$wt_preload" WALTHROUGH_CONFIG="$conf" \
		WALTHROUGH_TABLE="$(wt_table)" "$@"
}

# wt_strace OUT CONFIG CMD… - wt_run under strace (not strace under the
# library): -f, file names of fds (-y), the syscalls in WT_STRACE_SET.
wt_strace() {
	local out=$1 conf=$2; shift 2
	[[ -r $WT_LIB ]] || { fail "$WT_LIB missing: run make"; return 1; }
	local e=(-E "LD_PRELOAD=$wt_preload" -E "WALTHROUGH_CONFIG=$conf" -E "WALTHROUGH_TABLE=$(wt_table)")
	strace -f -qq -y -o "$out" -e trace="$WT_STRACE_SET" "${e[@]}" "$@"
}

# wt_strace_joined OUT - strace output OUT with each call on one line: an
# unfinished call ("PID call(args <unfinished ...>") joined to its
# resumption ("PID <... call resumed>rest").
wt_strace_joined() {
	awk '
		/ <unfinished \.\.\.>$/ {
			pend[$1] = substr($0, 1, length($0) - length(" <unfinished ...>"))
			next
		}
		$2 == "<..." && $4 ~ /^resumed>/ {
			line = pend[$1] substr($0, index($0, "resumed>") + 8)
			delete pend[$1]
		}
		$2 != "<..." { line = $0 }
		{ print line }
	' "$1"
}

# count_syscalls OUT NAME [REGEX] - prints how many calls of NAME in strace
# output OUT succeeded, counting only those whose line (an unfinished call
# joined to its resumption) matches the extended REGEX, e.g. '/data/f>'.
count_syscalls() {
	wt_strace_joined "$1" | WT_RE=${3:-} awk -v name="$2" '
		{
			line = $0
			call = line
			sub(/^[0-9]+ +/, "", call)
			if (index(call, name "(") != 1) next
			if (line !~ /\) += [0-9]+(<[^>]*>)?$/) next
			if (ENVIRON["WT_RE"] != "" && line !~ ENVIRON["WT_RE"]) next
			n++
		}
		END { print n + 0 }
	'
}

# scratch_fs TYPE [SIZE_MB] - a scratch xfs/ext4/zram/tmpfs for this test file,
# made in setup_file (`scratch_fs xfs || return 0`, see requires). Exports
# WT_SCRATCH = its mount point, and WT_SCRATCH_<TYPE> = that of the first
# of its type. scratch_fs_cleanup (the default teardown_file) takes down
# every one made.
scratch_fs() {
	local type=$1 mb=${2:-}
	case $type in
	xfs | ext4) requires root loopdev "$type" || return ;; # see requires
	tmpfs) requires root tmpfs || return ;;
	zram) requires root zram xfs || return ;;
	*) fail "scratch_fs: unknown type '$type'"; return 1 ;;
	esac
	local dir=$BATS_FILE_TMPDIR/scratch-$type n=1
	while [[ -e $dir ]]; do
		dir=$BATS_FILE_TMPDIR/scratch-$type-$((n++))
	done
	mkdir -p "$dir"
	# Recorded first, so that even a half-made one is taken down.
	echo "$dir" >>"$BATS_FILE_TMPDIR/.wt-scratch"
	"$WT_SCRATCHFS" up "$type" "$dir" ${mb:+"$mb"} >/dev/null ||
		{ fail "scratchfs up $type $dir failed"; return 1; }
	export WT_SCRATCH=$dir
	# The first of each type keeps WT_SCRATCH_<TYPE>.
	[[ $dir == */scratch-$type ]] && export "WT_SCRATCH_${type^^}=$dir"
	return 0
}

scratch_fs_cleanup() {
	local list=$BATS_FILE_TMPDIR/.wt-scratch dir rc=0
	[[ -r $list ]] || return 0
	while read -r dir; do
		"$WT_SCRATCHFS" down "$dir" || rc=1
	done <"$list"
	rm -f "$list"
	return $rc
}

# A suite that defines its own teardown_file must call scratch_fs_cleanup.
teardown_file() { scratch_fs_cleanup; }
