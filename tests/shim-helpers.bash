# SPDX-License-Identifier: MIT
# shim-helpers.bash - what the shim suites (shim, hazards, fork) share on
# top of helpers.bash: a per-test data directory and config, wt-writer runs
# with and without the library, and strace output boiled down to the events
# that matter for one file (wt_events / wt_seq).

load helpers

W=$WT_BIN/wt-writer

# Everything the events below are made of, plus access() for wt-writer's
# `mark` and close() to follow the private O_DIRECT fd.
export WT_STRACE_SET=openat,open,creat,close,write,pwrite64,pwritev,pwritev2,writev,fsync,fdatasync,sync_file_range,io_uring_setup,io_uring_enter,access,copy_file_range

# wt_dirs FSDIR - this test's data directory D on FSDIR (made fresh), the
# tracked file F in it, the reference file REF (written without the
# library), config C, strace output T.
wt_dirs() {
	D=$1/${BATS_SUITE_TEST_NUMBER:-0}.$BATS_TEST_NUMBER
	rm -rf "$D"
	mkdir -p "$D"
	F=$D/f
	REF=$D.ref     # beside D: the same file system, not tracked
	C=$BATS_TEST_TMPDIR/wt.conf
	T=$BATS_TEST_TMPDIR/strace.out
	rm -f "$REF" "$REF".*
}

# wt_mkconf [GLOBAL_LINE...] [-- RULE_LINE...] - config C tracking $D/*.
wt_mkconf() {
	local g=() r=()
	while (($#)) && [[ $1 != -- ]]; do g+=("$1"); shift; done
	(($#)) && shift
	r=("$@")
	{
		echo "[global]"
		[[ " ${g[*]}" == *" log_level"* ]] || echo "log_level = debug"
		printf '%s\n' "${g[@]}"
		echo "[path $D/*]"
		echo "mode = writethrough"
		printf '%s\n' "${r[@]}"
	} | wt_conf "$C"
}

# wt SCRIPT - wt-writer on F under the library (bats: `run wt '…'`).
wt() { wt_run "$C" "$W" "$F" "$@"; }

# wt_trace SCRIPT - the same under strace, into T.
wt_trace() { wt_strace "$T" "$C" "$W" "$F" "$@"; }

# wt_timeout SECS SCRIPT - wt, killed after SECS seconds (a deadlock fails).
wt_timeout() {
	local secs=$1
	shift
	timeout -s KILL "$secs" env LD_PRELOAD="$wt_preload" WALTHROUGH_CONFIG="$C" \
		WALTHROUGH_TABLE="$(wt_table)" "$W" "$F" "$@"
}

# wt_bg FILE SCRIPT - wt-writer on FILE under the library in the
# background, its pid (the program's own, not a shell's) in BGPID.
wt_bg() {
	env LD_PRELOAD="$wt_preload" WALTHROUGH_CONFIG="$C" \
		WALTHROUGH_TABLE="$(wt_table)" "$W" "$@" 3>&- &
	BGPID=$!
}

# wt_trace_timeout SECS SCRIPT - wt_trace, killed after SECS seconds with
# its tracees (strace kills them when it dies); `timeout` itself stays
# outside the library.
wt_trace_timeout() {
	local secs=$1
	shift
	timeout -s KILL "$secs" strace -f -qq -y -o "$T" -e trace="$WT_STRACE_SET" \
		-E "LD_PRELOAD=$wt_preload" -E "WALTHROUGH_CONFIG=$C" \
		-E "WALTHROUGH_TABLE=$(wt_table)" "$W" "$F" "$@"
}

# ref SCRIPT - the same script without the library on REF: the expected file.
ref() { "$W" "$REF" "$@"; }

# same_as_ref [FILE] - FILE (default F) equals REF byte for byte.
same_as_ref() {
	local f=${1:-$F}
	[[ -e $REF ]] || { fail "no reference file $REF"; return 1; }
	cmp "$f" "$REF" || { fail "$f differs from what the program wrote without walthrough"; return 1; }
}

# prefill SIZE [FILE...] - FILEs (default F) and REF: zeros written and
# synced without the library, like PostgreSQL's pre-zeroed WAL segments.
prefill() {
	local size=$1 f
	shift
	for f in "${@:-$F}" "$REF"; do
		"$W" "$f" "open w,creat,trunc; pwrite 0 $size Z; fsync; close"
	done
}

# wt_events OUT PATH [who] - one line per event in strace output OUT that
# concerns file PATH, in order:
#   direct        a write with RWF_DSYNC on a private O_DIRECT fd
#   dsync / sync  a write with RWF_DSYNC / RWF_SYNC on the program's fd
#   write         a write without either (page cache)
#   fsync, fdatasync, sfr   real syncs
#   uring         io_uring_enter (any ring)
#   uring-setup, odirect    io_uring_setup, openat(/proc/self/fd/N, O_DIRECT)
#   mark NAME     wt-writer's `mark NAME`
# A failed call gets " -1 ERRNO" appended. With `who`, events of processes
# other than the first get a "child " prefix.
wt_events() {
	wt_strace_joined "$1" | WT_PATH=$2 WT_WHO=${3:-} awk '
		function emit(s) {
			if (ENVIRON["WT_WHO"] != "" && pid != first) s = "child " s
			print s
		}
		{
			line = $0
			pid = $1
			if (first == "") first = pid
			call = line
			sub(/^[0-9]+ +/, "", call)
			name = substr(call, 1, index(call, "(") - 1)
			res = call
			sub(/.*\) += /, "", res)
			err = ""
			if (res ~ /^-1 /) {
				split(res, e, " ")
				err = " -1 " e[2]
			}
			tag = "<" ENVIRON["WT_PATH"] ">"
			tagd = "<" ENVIRON["WT_PATH"] " (deleted)>"
			# the fd argument, decorated: "(5</path>"
			fdarg = substr(call, index(call, "(") + 1)
			fdnum = fdarg + 0
			onfile = index(fdarg, tag) == length(fdnum "") + 1 ||
				 index(fdarg, tagd) == length(fdnum "") + 1
		}
		name == "access" && call ~ /"\/wt-mark\// {
			m = call
			sub(/^[^"]*"\/wt-mark\//, "", m)
			sub(/".*/, "", m)
			emit("mark " m)
			next
		}
		name == "openat" && call ~ /"\/proc\/self\/fd\/[0-9]+"/ && call ~ /O_DIRECT/ {
			if (err != "") { emit("odirect" err); next }
			if (index(res, tag) || index(res, tagd)) {
				direct[pid, res + 0] = 1
				emit("odirect")
			}
			next
		}
		name == "close" { delete direct[pid, fdnum]; next }
		name == "io_uring_setup" { emit("uring-setup" err); next }
		name == "io_uring_enter" { emit("uring" err); next }
		!onfile { next }
		name == "fsync" || name == "fdatasync" { emit(name err); next }
		name == "sync_file_range" { emit("sfr" err); next }
		name ~ /^(write|writev|pwrite64|pwritev|pwritev2)$/ {
			if (call ~ /RWF_DSYNC/) ev = "dsync"
			else if (call ~ /RWF_SYNC/) ev = "sync"
			else ev = "write"
			if ((pid, fdnum) in direct)
				ev = ev == "dsync" ? "direct" : "direct-" ev
			emit(ev err)
			next
		}
		name == "copy_file_range" || name == "ioctl" { emit(name err); next }
	'
}

# wt_seq OUT PATH [who] - wt_events on one line, runs of one event folded
# into "EVENT*N": "odirect direct fdatasync direct*7".
wt_seq() {
	wt_events "$@" | awk '
		function flush() { if (n) out = out (out == "" ? "" : " ") prev (n > 1 ? "*" n : "") }
		$0 == prev { n++; next }
		{ flush(); prev = $0; n = 1 }
		END { flush(); print out }
	'
}

# n_events OUT PATH REGEX - how many events match the extended REGEX.
n_events() {
	wt_events "$1" "$2" "${4:-}" | grep -cE "$3" || true
}
