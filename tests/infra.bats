#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# infra.bats - the test machinery itself: scripts/scratchfs, tests/run's
# summary and counting, `requires` under CI=true, scratch_fs cleanup,
# count_syscalls, and that CI runs the README's test command.

load helpers

setup() {
	wt_setup
	# A private state directory: nothing here touches other scratch FSs.
	export WT_SCRATCH_DIR=$BATS_TEST_TMPDIR/sd
}

teardown() {
	local _t _d dir _r dev
	"$WT_SCRATCHFS" list 2>/dev/null | while read -r _t _d dir _r; do
		"$WT_SCRATCHFS" down "$dir" || true
	done
	# Even when scratchfs itself is broken, leak no loop device.
	losetup -n -l -O NAME,BACK-FILE | awk -v d="$WT_SCRATCH_DIR/" 'index($2, d) == 1 { print $1 }' |
		while read -r dev; do
			findmnt -n -r -o TARGET -S "$dev" | xargs -r -n1 umount -l
			losetup -d "$dev"
		done
}

# Loop devices backed by a file in our state directory.
loops_left() { losetup -n -l -O BACK-FILE | grep -cF "$WT_SCRATCH_DIR/" || true; }

# nested [VAR=VALUE…] CMD… - `run` CMD in a clean environment: no BATS_*,
# and bats' own libexec out of PATH (its `bats` there is not the command).
nested() {
	local path
	path=$(tr : '\n' <<<"$PATH" | grep -v bats-core | paste -sd:)
	run env -i PATH="$path" HOME="${HOME:-/root}" WT_SCRATCH_DIR="$WT_SCRATCH_DIR" "$@"
}

# mkbats NAME <<EOF … EOF - a suite in the test's directory that loads
# helpers. Its tests are written @TEST: bats would take "@test" lines here
# for tests of this file.
mkbats() {
	{
		echo "load '$WT_TOP/tests/helpers'"
		sed 's/^\([[:blank:]]*\)@TEST /\1@test /'
	} >"$BATS_TEST_TMPDIR/$1.bats"
	echo "$BATS_TEST_TMPDIR/$1.bats"
}

# up_down TYPE SIZE: the round trip every scratch file system must make.
up_down() {
	local type=$1 mb=$2 m=$BATS_TEST_TMPDIR/m dev
	run -0 "$WT_SCRATCHFS" up "$type" "$m" "$mb"
	dev=$output
	if [[ $type == tmpfs ]]; then
		assert_output tmpfs
	elif [[ $type == zram ]]; then
		assert_output --regexp '^/dev/zram[0-9]+$'
		[[ $(cat "/sys/block/${dev#/dev/}/queue/write_cache") == "write through" ]]
	else
		assert_output --regexp '^/dev/loop[0-9]+$'
		losetup -n -O BACK-FILE "$dev" | grep -qF "$WT_SCRATCH_DIR/"
	fi
	run -0 findmnt -n -r -o SOURCE,FSTYPE --mountpoint "$m"
	assert_output "$dev ${type/zram/xfs}"
	echo data >"$m/f"
	sync "$m/f"
	# Twice is fine and changes nothing.
	run -0 "$WT_SCRATCHFS" up "$type" "$m" "$mb"
	assert_output "$dev"

	run -0 "$WT_SCRATCHFS" down "$m"
	run ! findmnt --mountpoint "$m"
	[[ -d $m && ! -e $m/f ]]
	[[ $(loops_left) == 0 ]] || fail "loop device left: $(losetup -l)"
	run -0 find "$WT_SCRATCH_DIR" -name '*.img' -o -name '*.state'
	assert_output ''
	[[ $type != zram || ! -e /sys/block/${dev#/dev/} ]] || fail "$dev left"
	run -0 "$WT_SCRATCHFS" down "$m"
}

@test "scratchfs: xfs up and down, reflink on, nothing left behind" {
	requires root loopdev xfs
	up_down xfs 300
	# And the mkfs really made it with reflink.
	"$WT_SCRATCHFS" up xfs "$BATS_TEST_TMPDIR/m" >/dev/null
	run -0 xfs_info "$BATS_TEST_TMPDIR/m"
	assert_output --partial 'reflink=1'
}

@test "scratchfs: ext4 up and down, nothing left behind" {
	requires root loopdev ext4
	up_down ext4 64
}

@test "scratchfs: zram (XFS on a write-through zram device) up and down, the device removed" {
	requires root zram xfs
	up_down zram 300
}

@test "scratchfs: tmpfs up and down" {
	requires root tmpfs
	up_down tmpfs 16
	"$WT_SCRATCHFS" up tmpfs "$BATS_TEST_TMPDIR/m" 16 >/dev/null
	run -0 findmnt -n -r -o OPTIONS --mountpoint "$BATS_TEST_TMPDIR/m"
	assert_output --partial 'size=16384k'
}

@test "scratchfs: leftovers of a dead run are cleaned by the next up, down and gc" {
	requires root loopdev ext4
	local m=$BATS_TEST_TMPDIR/m dev
	dev=$("$WT_SCRATCHFS" up ext4 "$m" 64)
	umount "$m" # as if the run had died half-way through down
	[[ $(loops_left) == 1 ]]
	run -0 "$WT_SCRATCHFS" list
	assert_output --partial dead
	run -0 "$WT_SCRATCHFS" up ext4 "$m" 64
	[[ $(loops_left) == 1 ]] || fail "$(losetup -l)"
	run -0 "$WT_SCRATCHFS" down "$m"
	[[ $(loops_left) == 0 ]]

	# State lost, mount still there: down still recognises its own.
	"$WT_SCRATCHFS" up ext4 "$m" 64 >/dev/null
	rm "$WT_SCRATCH_DIR"/*.state
	run -0 "$WT_SCRATCHFS" down "$m"
	run ! findmnt --mountpoint "$m"
	[[ $(loops_left) == 0 ]]

	# gc --run ID: everything of that run and nothing else; gc: the dead.
	"$WT_SCRATCHFS" up ext4 "$m" 64 >/dev/null
	WT_RUN_ID=r1 "$WT_SCRATCHFS" up tmpfs "$BATS_TEST_TMPDIR/t" 8 >/dev/null
	WT_RUN_ID=r2 "$WT_SCRATCHFS" up tmpfs "$BATS_TEST_TMPDIR/u" 8 >/dev/null
	umount "$m"
	run -0 "$WT_SCRATCHFS" gc --run r1
	run ! findmnt --mountpoint "$BATS_TEST_TMPDIR/t"
	findmnt --mountpoint "$BATS_TEST_TMPDIR/u" >/dev/null
	[[ $(loops_left) == 1 ]]
	run -0 "$WT_SCRATCHFS" gc
	[[ $(loops_left) == 0 ]]
	findmnt --mountpoint "$BATS_TEST_TMPDIR/u" >/dev/null
	run -0 "$WT_SCRATCHFS" list
	assert_output "tmpfs tmpfs $BATS_TEST_TMPDIR/u up run=r2"
	"$WT_SCRATCHFS" down "$BATS_TEST_TMPDIR/u"
}

@test "scratchfs: a busy mount is detached lazily and its loop device still goes" {
	requires root loopdev ext4
	local m=$BATS_TEST_TMPDIR/m dev pid i
	dev=$("$WT_SCRATCHFS" up ext4 "$m" 64)
	(cd "$m" && exec sleep 60) 3>&- &
	pid=$!
	run -0 "$WT_SCRATCHFS" down "$m"
	assert_output --partial 'lazily'
	run ! findmnt --mountpoint "$m"
	kill "$pid"
	wait "$pid" || true
	# Autoclear happens once the last user has gone.
	for ((i = 0; i < 50; i++)); do
		[[ $(loops_left) == 0 ]] && break
		sleep 0.1
	done
	[[ $(loops_left) == 0 ]] || fail "loop device left: $(losetup -l)"
}

@test "scratchfs: refuses a second type on a mount point and a foreign mount" {
	requires root tmpfs
	local m=$BATS_TEST_TMPDIR/m f=$BATS_TEST_TMPDIR/foreign
	"$WT_SCRATCHFS" up tmpfs "$m" 8 >/dev/null
	run ! "$WT_SCRATCHFS" up ext4 "$m" 64
	assert_output --partial 'already up as tmpfs'
	mkdir "$f"
	mount -t tmpfs -o size=1m tmpfs "$f"
	run ! "$WT_SCRATCHFS" down "$f"
	assert_output --partial 'not by scratchfs'
	run ! "$WT_SCRATCHFS" up tmpfs "$f" 8
	umount "$f"
}

@test "scratch_fs: mounted for the file, taken down even when tests or setup_file fail or teardown_file forgets" {
	requires root loopdev xfs ext4
	local f log=$BATS_TEST_TMPDIR/dirs dir
	f=$(mkbats s <<-EOF
		setup_file() {
			scratch_fs xfs || return 0
			scratch_fs ext4 64 || return 0
			scratch_fs xfs 300 || return 0
			echo "\$WT_SCRATCH_XFS \$WT_SCRATCH_EXT4 \$WT_SCRATCH" >>'$log'
		}
		@TEST "all mounted" {
			findmnt -n -o FSTYPE --mountpoint "\$WT_SCRATCH_XFS" | grep -qx xfs
			findmnt -n -o FSTYPE --mountpoint "\$WT_SCRATCH_EXT4" | grep -qx ext4
			findmnt -n -o FSTYPE --mountpoint "\$WT_SCRATCH" | grep -qx xfs
			[[ \$WT_SCRATCH != "\$WT_SCRATCH_XFS" ]]
		}
		@TEST "fails" { false; }
	EOF
	)
	nested "$WT_TOP/tests/run" "$f"
	assert_failure
	assert_line '1 passed, 1 failed, 0 skipped'
	local dirs
	read -ra dirs <"$log"
	((${#dirs[@]} == 3))
	for dir in "${dirs[@]}"; do
		run ! findmnt --mountpoint "$dir"
	done
	[[ $(loops_left) == 0 ]] || fail "loop device left: $(losetup -l)"

	f=$(mkbats s2 <<-EOF
		setup_file() { scratch_fs ext4 64; echo "\$WT_SCRATCH" >'$log'; false; }
		@TEST "never runs" { true; }
	EOF
	)
	nested "$WT_TOP/tests/run" "$f"
	assert_failure
	assert_line '0 passed, 1 failed, 0 skipped'
	run ! findmnt --mountpoint "$(cat "$log")"
	[[ $(loops_left) == 0 ]] || fail "loop device left: $(losetup -l)"

	# A suite that forgets to clean up: tests/run takes it down at the end,
	# and fails the run.
	f=$(mkbats s3 <<-EOF
		setup_file() { scratch_fs ext4 64; echo "\$WT_SCRATCH" >'$log'; }
		teardown_file() { :; }
		@TEST "passes" { true; }
	EOF
	)
	nested "$WT_TOP/tests/run" "$f"
	assert_failure
	assert_line --partial "tearing down ext4 on $(cat "$log")"
	assert_line '# a suite left scratch file systems up: counted as a failure'
	[[ ${lines[-1]} == '1 passed, 1 failed, 0 skipped' ]]
	run ! findmnt --mountpoint "$(cat "$log")"
	[[ $(loops_left) == 0 ]] || fail "loop device left: $(losetup -l)"
}

@test "tests/run: streams TAP and ends with the summary line" {
	local f
	f=$(mkbats mixed <<-'EOF'
		@TEST "passes" { true; }
		@TEST "fails" { false; }
		@TEST "skips" { skip "not today"; }
	EOF
	)
	nested "$WT_TOP/tests/run" "$f"
	assert_failure
	assert_line --index 0 '1..3'
	assert_line 'ok 1 passes'
	assert_line 'not ok 2 fails'
	assert_line 'ok 3 skips # skip not today'
	[[ ${lines[-1]} == '1 passed, 1 failed, 1 skipped' ]] || fail "last line: ${lines[-1]}"

	f=$(mkbats good <<-'EOF'
		@TEST "one" { true; }
		@TEST "two" { run true; assert_success; }
	EOF
	)
	nested "$WT_TOP/tests/run" "$f"
	assert_success
	[[ ${lines[-1]} == '2 passed, 0 failed, 0 skipped' ]]

	# A suite bats cannot even parse, and no test at all, both fail.
	printf '@test "x" { true\n' >"$BATS_TEST_TMPDIR/broken.bats"
	nested "$WT_TOP/tests/run" "$BATS_TEST_TMPDIR/broken.bats"
	assert_failure
	[[ ${lines[-1]} =~ ^0\ passed,\ [1-9][0-9]*\ failed ]]
	nested "$WT_TOP/tests/run" --filter nothing-matches "$f"
	assert_failure
	[[ ${lines[-1]} == '0 passed, 0 failed, 0 skipped' ]]

	# A failing test's flood of output is cut short, whole in tests.tap.
	f=$(mkbats long <<-'EOF'
		@TEST "floods" { run seq 1 1000; false; }
		@TEST "after" { true; }
	EOF
	)
	mkdir "$BATS_TEST_TMPDIR/b"
	nested WT_MAX_DIAG=50 WT_BUILD="$BATS_TEST_TMPDIR/b" "$WT_TOP/tests/run" "$f"
	assert_failure
	assert_line --regexp "^# … 9[0-9][0-9] more lines cut: all in $BATS_TEST_TMPDIR/b/tests.tap\$"
	refute_line '# 1000'
	assert_line 'ok 2 after'
	[[ ${lines[-1]} == '1 passed, 1 failed, 0 skipped' ]]
	grep -qx '# 1000' "$BATS_TEST_TMPDIR/b/tests.tap"
}

@test "tests/run: under CI=true a skip for root, loop, FUSE or PostgreSQL is a failure" {
	local f
	f=$(mkbats skips <<-'EOF'
		@TEST "a" { skip "needs FUSE"; }
		@TEST "b" { skip "needs root"; }
		@TEST "c" { skip "needs PostgreSQL 15"; }
		@TEST "d" { skip "not relevant here"; }
		@TEST "e" { true; }
	EOF
	)
	nested "$WT_TOP/tests/run" "$f"
	assert_success
	[[ ${lines[-1]} == '1 passed, 0 failed, 4 skipped' ]]
	nested CI=true "$WT_TOP/tests/run" "$f"
	assert_failure
	[[ ${lines[-1]} == '1 passed, 3 failed, 1 skipped' ]]
}

@test "requires: skips with a reason, fails under CI=true, fails on an unknown name" {
	local f
	f=$(mkbats req <<-'EOF'
		@TEST "postgres" { requires postgres; echo ran >&3; }
		@TEST "unknown" { requires frobnicator; }
	EOF
	)
	nested WT_PGBIN=/nonexistent "$WT_TOP/tests/run" "$f"
	assert_failure
	assert_line --partial 'ok 1 postgres # skip needs PostgreSQL 15'
	assert_line --partial "unknown requirement 'frobnicator'"
	refute_line ran
	[[ ${lines[-1]} == '0 passed, 1 failed, 1 skipped' ]]

	nested CI=true WT_PGBIN=/nonexistent "$WT_TOP/tests/run" "$f"
	assert_failure
	assert_line --partial 'not ok 1 postgres'
	assert_line --partial 'CI=true: a missing requirement is a failure'
	refute_line ran
	[[ ${lines[-1]} == '0 passed, 2 failed, 0 skipped' ]]
}

@test "requires in setup_file: every test skips, or fails under CI=true" {
	local f
	f=$(mkbats reqfile <<-'EOF'
		setup_file() { requires root postgres || return 0; echo setup-went-on >&3; }
		@TEST "a" { echo ran >&3; }
		@TEST "b" { echo ran >&3; }
	EOF
	)
	nested WT_PGBIN=/nonexistent "$WT_TOP/tests/run" "$f"
	assert_success
	refute_line ran
	refute_line setup-went-on
	[[ ${lines[-1]} == '0 passed, 0 failed, 2 skipped' ]]
	nested CI=true WT_PGBIN=/nonexistent "$WT_TOP/tests/run" "$f"
	assert_failure
	refute_line ran
	[[ ${lines[-1]} == '0 passed, 2 failed, 0 skipped' ]]
}

@test "requires: everything the suites need is on this machine" {
	requires root loopdev xfs ext4 tmpfs io_uring strace postgres fuse zram
}

@test "helpers: a build-san tree preloads the ASan runtime first" {
	local f
	f=$(mkbats san <<-'EOF'
		@TEST "san" {
			[[ $wt_preload == /*libasan.so*:/x/build-san/libwalthrough.so ]]
			[[ $ASAN_OPTIONS == *detect_leaks=0* && $ASAN_OPTIONS == *halt_on_error=1* ]]
			[[ $UBSAN_OPTIONS == *halt_on_error=1* ]]
		}
	EOF
	)
	nested WT_BUILD=/x/build-san "$WT_TOP/tests/run" "$f"
	assert_success
	nested WT_BUILD=/x/build "$WT_TOP/tests/run" "$f"
	assert_failure
}

@test "wt_conf writes the config with mode 0600" {
	wt_conf "$BATS_TEST_TMPDIR/c.conf" <<-EOF
		[global]
		log_level = debug
	EOF
	run -0 stat -c %a "$BATS_TEST_TMPDIR/c.conf"
	assert_output 600
	run -0 cat "$BATS_TEST_TMPDIR/c.conf"
	assert_line '[global]'
}

@test "count_syscalls: successful calls only, unfinished ones joined, filtered by path" {
	local t=$BATS_TEST_TMPDIR/t.strace
	cat >"$t" <<-'EOF'
		100 openat(AT_FDCWD</d>, "/d/wal", O_RDWR) = 3</d/wal>
		100 fdatasync(3</d/wal>) = 0
		100 fdatasync(3</d/wal>) = -1 EIO (Input/output error)
		101 fsync(4</d/data> <unfinished ...>
		100 fdatasync(5</d/other>) = 0
		101 <... fsync resumed>) = 0
		102 fsync(6</d/wal> <unfinished ...>
		102 <... fsync resumed>) = -1 EINTR (Interrupted system call)
		100 pwrite64(3</d/wal>, "fdatasync(", 10, 0) = 10
		100 +++ exited with 0 +++
	EOF
	run -0 count_syscalls "$t" fdatasync
	assert_output 2
	run -0 count_syscalls "$t" fdatasync '/d/wal>'
	assert_output 1
	run -0 count_syscalls "$t" fsync
	assert_output 1
	run -0 count_syscalls "$t" fsync '/d/data>'
	assert_output 1
	run -0 count_syscalls "$t" pwrite64 '/d/wal>'
	assert_output 1

	# And on real strace output.
	requires strace
	local f=$BATS_TEST_TMPDIR/file out=$BATS_TEST_TMPDIR/real.strace
	strace -f -qq -y -o "$out" -e trace="$WT_STRACE_SET" \
		sh -c "echo x >'$f' && sync -d '$f' && sync '$f' && (sync -d '$f' &) && wait"
	run -0 count_syscalls "$out" fdatasync "$f>"
	assert_output 2
	run -0 count_syscalls "$out" fsync "$f>"
	assert_output 1
}

@test "CI runs the README's test command, and the README's demo command exists" {
	local cmd
	cmd=$(sed -n "s/^TEST_CMD='\(.*\)'$/\1/p" "$WT_TOP/.ci/run")
	[[ -n $cmd ]]
	grep -qxF "$cmd" "$WT_TOP/README.md" || fail "README.md lacks a line '$cmd'"
	run -0 grep -m1 -E '^scripts/setup && ' "$WT_TOP/README.md"
	local demo=${output#scripts/setup && }
	demo=${demo##*&& }
	[[ -x $WT_TOP/${demo%% *} ]] || fail "README demo '${demo%% *}' is not an executable in the tree"
}

# design_citations - "FILE:LINE SECTION" for every section of docs/design.md
# that a comment in shim/ cli/ tests/ bench/ scripts/ cites: "design 1b.2",
# "design.md §4", "design.md 1.1-1.2", "design.md 1b.8, 1b.9, 3", "(1.3)",
# "(1b.6)"; "invariant N" stays as it is (its heading is "1.N Invariant N:").
design_citations() {
	local at cite s
	(cd "$WT_TOP" && grep -rnoE 'design(\.md)? (§ ?)?[0-9][0-9a-z.]*([,-] ?[0-9][0-9a-z.]*)*|invariant [0-9]+|\(1b?\.[0-9]+\)' \
		shim cli tests bench scripts) | sed -E 's/^([^:]*:[0-9]+):/\1 /' |
		while read -r at cite; do
			case $cite in
			invariant*) echo "$at $cite" ;;
			\(*) cite=${cite#(}; echo "$at ${cite%)}" ;;
			*)
				cite=${cite#design}
				cite=${cite#.md}
				cite=${cite//§/}
				for s in ${cite//[,-]/ }; do echo "$at ${s%.}"; done
				;;
			esac
		done
}

@test "every design section cited in the code exists in docs/design.md" {
	local at sec re missing=() n=0
	while read -r at sec; do
		n=$((n + 1))
		if [[ $sec == invariant* ]]; then
			re="^#{1,6} 1\\.${sec#invariant } Invariant ${sec#invariant }:"
		else
			re="^#{1,6} ${sec//./\\.}( |\$)"
		fi
		grep -qE "$re" "$WT_TOP/docs/design.md" || missing+=("$at cites '$sec'")
	done < <(design_citations)
	((n > 0)) || fail "no citation found: the pattern no longer matches the comments"
	((${#missing[@]} == 0)) || fail "no such heading in docs/design.md: ${missing[*]}"
}

@test "every hazard test's number and title is a heading of docs/design.md section 1b" {
	local n title head missing=() count=0
	while IFS=$'\t' read -r n title; do
		count=$((count + 1))
		head=$(sed -nE "s/^### 1b\\.$n //p" "$WT_TOP/docs/design.md" | tr -d '`')
		[[ ${head,,} == "${title,,}" ]] || missing+=("hazard $n ($title): heading '1b.$n ${head:-(none)}'")
	done < <(sed -nE 's/^@test "hazard ([0-9]+) \((([^()]|\(\))*)\).*/\1\t\2/p' "$WT_TOP/tests/hazards.bats" | sort -u)
	((count > 0)) || fail "no hazard test found in tests/hazards.bats"
	((${#missing[@]} == 0)) || fail "${missing[*]}"
}
