#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# faults.bats - fault injection (design.md 1.4, in the manner of SQLite's
# test_vfs.c): tests/preload/faults.so, placed after walthrough in
# LD_PRELOAD, fails the Nth write, io_uring completion or submission, sync
# or open with EIO, ENOSPC, EINTR, EAGAIN or a short count. For N = 1, 2, …
# until the fault no longer fires, a workload of writes and syncs runs with
# the library (run B), and then without it (run A: faults.so alone, so the
# program meets plain libc) with the same fault at the same call of the
# program. Each time:
#   - B's program saw exactly what A's saw, call for call: the error (or the
#     short count) where libc gave it, and nothing else anywhere else;
#   - the file is byte for byte A's: every block holds the old or the new
#     data, as plain libc leaves it (no write lost, none done twice, none
#     done later with another buffer);
#   - after an injected error other than EINTR/EAGAIN (which mean nothing
#     was written) in a write, completion, submission or sync of the file,
#     every later sync of it reached the kernel (design 1.3: any error the
#     library sees poisons the inode; faults.so sits below the library, so
#     each sync it logs is a real one);
#   - io_uring: no SQE left published and unconsumed, no CQE left unreaped
#     when the next operation begins, no failed SQE that never completed.
# What "the same call" is: the first program call after the fault fired,
# counted among the program's calls of its class (writes, syncs, opens);
# libc's Nth sync is not the library's Nth (it skips some), its Nth write is.
# A write split into linked atomic pieces (design 1b.8) may be left done in
# part, which plain libc never does: there B may report the error or a
# short count, and each 4 KiB block must be that of run A (the write failed
# whole) or of run N (no fault).

load helpers

setup_file() {
	scratch_fs xfs || return 0
	scratch_fs ext4 || return 0
}

setup() {
	wt_setup
	requires root loopdev xfs ext4
	FAULTS=$WT_BIN/faults.so
	WRITER=$WT_BIN/wt-writer
	[[ -r $FAULTS && -x $WRITER ]] || fail "$FAULTS or $WRITER missing: run make"
	# faults.so of a sanitized build needs the ASan runtime first, too.
	# shellcheck disable=SC2154 # wt_preload comes from helpers.bash
	FPRE=${wt_preload%"$WT_LIB"}
	froot "$WT_SCRATCH_XFS"
}

# froot FSDIR - this test's directory on FSDIR: A/ and B/ runs in it.
froot() {
	FROOT=$1/faults-$BATS_TEST_NUMBER
	rm -rf "$FROOT"
	mkdir -p "$FROOT"
}

teardown() {
	[[ -z ${FROOT:-} ]] || rm -rf "$FROOT"
}

# fconf ENGINE WT_WRITES [ATOMIC [MODE]] - the config of run B; ATOMIC
# require makes writes of whole 4 KiB units RWF_ATOMIC (default off).
fconf() {
	FCONF=$BATS_TEST_TMPDIR/faults.conf
	wt_conf "$FCONF" <<-EOF
		[global]
		engine = $1
		[path $FROOT/*/f]
		mode = ${4:-writethrough}
		writethrough_writes = $2
		atomic = ${3:-off}
		atomic_unit = 4096
	EOF
}

# Every call under `try`, so that a run goes on after an error and prints
# each result. Positioned: aligned and unaligned pwrite, pwritev, a burst
# of four writes, extending writes; each group followed by a sync.
WL_POSITIONED='try open rw,creat
try pwrite 0 48k base
try fdatasync
try pwrite 0 8k a1
try fdatasync
try pwrite 8k 16k a2
try fdatasync
try pwritev 2 4k 24k a3
try fsync
try pwrite 100 300 u1
try fdatasync
try pwrite 32k 4k b1
try pwrite 36k 4k b2
try pwrite 40k 8k b3
try pwrite 4k 4k b4
try fdatasync
try pwrite 48k 8k x1
try fsync
try pwrite 0 8k a4
try fdatasync
try close'

# Sequential: write/writev through O_APPEND (pwritev2 on the program's fd
# in the library), then a second open and write at a position.
WL_SEQUENTIAL='try open w,creat,append
try write 8k r1
try fdatasync
try write 8k r2
try fdatasync
try writev 2 4k r3
try fdatasync
try write 100 r4
try write 8k r5
try write 8k r6
try fdatasync
try close
try open rw
try seek 4k
try write 4k s1
try fdatasync
try close'

# Through a directory fd, relative to the working directory.
WL_OPENAT='try openat . f rw,creat
try pwrite 0 16k o1
try fdatasync
try pwrite 0 8k o2
try fdatasync
try close'

# Chains: with atomic = require and a 4 KiB unit (XFS offers software
# atomic writes), a write of several units goes as naturally aligned
# RWF_ATOMIC pieces linked in one io_uring chain with a datasync at its tail
# (design 1b.8): 48k = 32k+16k, 12k = 8k+4k, 28k at 4k = 4k+8k+16k.
WL_CHAIN='try open rw,creat
try pwrite 0 48k base
try fdatasync
try pwrite 0 12k a1
try fdatasync
try pwrite 16k 24k a2
try fdatasync
try pwrite 8k 8k a3
try fdatasync
try pwrite 4k 28k a4
try fsync
try pwrite 0 4k a5
try fdatasync
try close'

# frun NAME SPEC WORKLOAD - one run in $FROOT/NAME on the file f there,
# failing as SPEC says ("" for none); B runs with the library, the others
# without. log gets faults.so's lines and the program's, in order; err its
# stderr.
frun() {
	local d=$FROOT/$1 e
	rm -rf "$d"
	mkdir -p "$d"
	e=(WT_FAULT="$2" WT_FAULT_PATH="$FROOT/*/f" WT_FAULT_LOG="$d/log")
	if [[ $1 == B ]]; then
		e+=(LD_PRELOAD="$wt_preload:$FAULTS" WALTHROUGH_CONFIG="$FCONF"
			WALTHROUGH_TABLE="$d/table")
	else
		e+=(LD_PRELOAD="$FPRE$FAULTS")
	fi
	# In the run's directory, for workloads that open f relative to it.
	(cd "$d" && env "${e[@]}" "$WRITER" "$d/f" "$3") >>"$d/log" 2>"$d/err" ||
		fail "wt-writer failed in run $1 ($2): $(cat "$d/err")"
}

# The program's lines of a run's log; fd numbers differ (the library and
# faults.so hold some), so an open's result is just FD.
prog() {
	grep -v '^@ ' "$FROOT/$1/log" | sed -E 's/^(open|openat|creat) = [0-9]+$/\1 = FD/' || true
}

# fanalyse - reads run B's log and prints:
#   at LINE CLASS INDEX CMD RESULT  the first program call after the first
#       injected fault: its line among the program's, its class (write,
#       sync, open, other) and index in that class, what it returned;
#   bad WHY  for each io_uring leftover, and for each program sync that did
#       not reach the kernel after an injected I/O error (any errno but
#       EINTR and EAGAIN, which mean that nothing was written) in a write,
#       completion or sync of the file (design 1.3: poisoned); a refused
#       submission wrote nothing either, and the library writes it again
#       by pwritev2;
#   syncs PROGRAM REAL.
fanalyse() {
	awk '
	function cls(c) {
		if (c ~ /^(pwrite|write|writev|pwritev|pwritev2)$/) return "write"
		if (c ~ /^(fsync|fdatasync)$/) return "sync"
		if (c ~ /^(open|openat|creat)$/) return "open"
		return "other"
	}
	/^@ / {
		if ($0 ~ / injected$/) {
			if (!inj) inj = NR
			if ($2 !~ /^(open|uring_init|uring_enter)/ && $0 ~ /(-1|fail) E[A-Z]+ injected$/ &&
			    $0 !~ /(EINTR|EAGAIN) injected$/)
				must = 1
		}
		if ($2 ~ /^(fsync|fdatasync|sqe_fsync)$/) real = 1
		if ($2 ~ /^uring_(stale|leftover|lost)$/) print "bad " $0
		next
	}
	{
		n++
		c = cls($1)
		idx[c]++
		res = substr($0, index($0, " = ") + 3)
		if (c == "sync") {
			nsync++
			if (real) nreal++
			else if (must && res != "-1 EBADF")
				print "bad sync not real after an injected error, line " NR ": " $0
		}
		if (inj && !at) {
			at = n
			print "at", n, c, idx[c], $1, res
		}
		real = 0
	}
	END { print "syncs", nsync + 0, nreal + 0 }
	' "$FROOT/B/log"
}

# fshow - what a failure needs: the logs of the runs, and B's stderr.
fshow() {
	local r
	echo "--- run B (library + faults.so): $FROOT/B/log"
	cat "$FROOT/B/log"
	for r in A N; do
		[[ -e $FROOT/$r/log ]] || continue
		echo "--- run $r (faults.so alone, fault '$(cat "$FROOT/$r/fault" 2>/dev/null)')"
		cat "$FROOT/$r/log"
	done
	echo "--- run B stderr"
	cat "$FROOT/B/err" 2>&1 || true
}

# fsame WHAT - B's program saw what A's saw, and the files are the same.
fsame() {
	local what=$1
	if [[ $(prog B) != "$(prog A)" ]]; then
		fshow
		fail "$what: the program saw something else with the library"
	fi
	# Neither there (a failed open) is the same too.
	if [[ -e $FROOT/A/f || -e $FROOT/B/f ]] && ! cmp -s "$FROOT/A/f" "$FROOT/B/f"; then
		fshow
		cmp "$FROOT/A/f" "$FROOT/B/f" || true
		fail "$what: the file differs from plain libc's"
	fi
}

# fdiffblocks X Y - the 4 KiB blocks where files X and Y differ, one a
# line; past the end of the shorter one, every block of the longer.
fdiffblocks() {
	local sx sy lo hi b
	sx=$(stat -c %s "$1") sy=$(stat -c %s "$2")
	lo=$((sx < sy ? sx : sy)) hi=$((sx > sy ? sx : sy))
	{
		cmp -l "$1" "$2" 2>/dev/null | awk '{ print int(($1 - 1) / 4096) }' || true
		for ((b = lo / 4096; b * 4096 < hi; b++)); do
			echo "$b"
		done
	} | sort -un
}

# fchain WHAT LINE - for a fault in a write that may be left done in part:
# run A has that write fail whole, run N has no fault. B's program saw
# what A's saw at every other call; at the faulted one the injected error
# (or EIO) or a count short of N's; every block of B's file is A's (old) or
# N's (new).
fchain() {
	local what=$1 line=$2 i bad
	local -a b a n
	mapfile -t b < <(prog B)
	mapfile -t a < <(prog A)
	mapfile -t n < <(prog N)
	if ((${#b[@]} != ${#a[@]})); then
		fshow
		fail "$what: ${#b[@]} program calls with the library, ${#a[@]} without"
	fi
	for ((i = 0; i < ${#b[@]}; i++)); do
		((i + 1 == line)) && continue
		[[ ${b[i]} == "${a[i]}" ]] && continue
		fshow
		fail "$what: call $((i + 1)) returned '${b[i]}' with the library, '${a[i]}' without"
	done
	local got=${b[line - 1]#* = } full=${n[line - 1]#* = }
	if [[ $got == -1\ * ]]; then
		[[ $got == "-1 ${what##*:}" || $got == "-1 EIO" ]] ||
			{ fshow; fail "$what: the faulted write failed with '$got'"; }
	elif ! [[ $got =~ ^[0-9]+$ ]] || ((got >= full)); then
		fshow
		fail "$what: the faulted write returned '$got', not an error nor short of $full"
	fi
	bad=$(comm -12 <(fdiffblocks "$FROOT/B/f" "$FROOT/A/f") \
		<(fdiffblocks "$FROOT/B/f" "$FROOT/N/f") | tr '\n' ' ')
	if [[ $bad ]]; then
		fshow
		fail "$what: blocks neither old nor new: $bad"
	fi
}

# fbaseline WORKLOAD - no fault: same as libc, and some sync was skipped
# (else the library is not in the way and the loops prove nothing).
fbaseline() {
	frun B "" "$1"
	frun A "" "$1"
	fsame "no fault"
	local s np nr
	s=$(fanalyse | grep '^syncs')
	read -r _ np nr <<<"$s"
	((nr < np)) || { fshow; fail "no sync was skipped without faults ($s)"; }
}

# floop KIND WHAT WORKLOAD [MODE] - the loop over N = 1, 2, … until the
# fault no longer fires. MODE strict (default): the fault surfaces as
# itself at the program's call, as libc's would. lenient (a failed io_uring
# submission or set-up): the library may also recover, and then run A has
# no fault. chain (a write the kernel may leave done in part): see fchain.
floop() {
	local kind=$1 what=$2 wl=$3 mode=${4:-strict} n a line cls idx cmd res
	for ((n = 1; n <= 100; n++)); do
		rm -rf "$FROOT/A" "$FROOT/N"
		frun B "$kind:$n:$what" "$wl"
		grep -q ' injected$' "$FROOT/B/log" || break
		a=$(fanalyse)
		if grep -q '^bad ' <<<"$a"; then
			fshow
			fail "$kind:$n:$what: $(grep '^bad ' <<<"$a")"
		fi
		read -r _ line cls idx cmd res < <(grep '^at ' <<<"$a" || echo "at 0 none")
		AFAULT=
		if [[ $mode == lenient && ($cls == none || $res != -1\ *) ]]; then
			AFAULT=
		elif [[ $cls == none || $cls == other ]]; then
			fshow
			fail "$kind:$n:$what: the fault surfaced in no write, sync or open (${cmd:-after the last call})"
		elif [[ $mode == lenient ]]; then
			AFAULT=$cls:$idx:${res#-1 }
		elif [[ $mode == chain ]]; then
			[[ $cls == write ]] || { fshow; fail "$kind:$n:$what: surfaced in $cmd"; }
			AFAULT=$cls:$idx:EIO
		else
			AFAULT=$cls:$idx:$what
			[[ $cls == sync && $what == short ]] && AFAULT=$cls:$idx:EIO
		fi
		frun A "$AFAULT" "$wl"
		echo "$AFAULT" >"$FROOT/A/fault"
		if [[ $AFAULT ]] && ! grep -q ' injected$' "$FROOT/A/log"; then
			fshow
			fail "$kind:$n:$what: run A's fault $AFAULT never fired"
		fi
		if [[ $mode == chain ]]; then
			frun N "" "$wl"
			echo >"$FROOT/N/fault"
			fchain "$kind:$n:$what" "$line"
		else
			fsame "$kind:$n:$what (libc: ${AFAULT:-no fault})"
		fi
	done
	((n > 1)) || fail "$kind:1:$what never fired"
	((n <= 100)) || fail "$kind:$what still fires after 100 calls"
	echo "# $kind:$what: $((n - 1)) fault points" >&3
}

# fsuite ENGINE WT_WRITES KIND... - the write faults on both workloads.
fsuite() {
	local engine=$1 wtw=$2 wl what
	fconf "$engine" "$wtw"
	for wl in "$WL_POSITIONED" "$WL_SEQUENTIAL"; do
		fbaseline "$wl"
		for what in EIO ENOSPC EINTR EAGAIN short; do
			floop write "$what" "$wl"
		done
	done
}

# ---- the fault layer itself ----------------------------------------------

@test "faults.so alone: fails just the Nth call of its kind on matching files, short counts are half" {
	frun A "write:2:EIO,sync:2:ENOSPC" 'try open rw,creat; try pwrite 0 8k a; try pwrite 8k 8k b; try fsync; try fdatasync; try pwrite 0 1000 c; try fdatasync'
	assert_equal "$(prog A | tr '\n' ';')" "open = FD;pwrite = 8192;pwrite = -1 EIO;fsync = 0;fdatasync = -1 ENOSPC;pwrite = 1000;fdatasync = 0;"
	assert_equal "$(grep -c ' injected$' "$FROOT/A/log")" 2
	frun A "write:1+:short" 'try open rw,creat; try pwrite 0 8k a; try pwrite 0 1000 b; try write 1 c'
	assert_equal "$(prog A | tr '\n' ';')" "open = FD;pwrite = 4096;pwrite = 500;write = 0;"
	# Other files are neither counted nor failed.
	run -0 env WT_FAULT_PATH='/nonexistent/*' LD_PRELOAD="$FPRE$FAULTS" \
		WT_FAULT=write:1:EIO "$WRITER" "$FROOT/g" 'try open rw,creat; try pwrite 0 8k a'
	assert_line --index 1 "pwrite = 8192"
}

@test "faults.so below the library: its failures reach the library's own calls" {
	fconf pwritev2 1
	frun B "pwritev2:2:EIO" "$WL_POSITIONED"
	grep -q '^@ pwritev2 .* = -1 EIO injected$' "$FROOT/B/log" || { fshow; fail "no pwritev2 failed"; }
	fconf io_uring 1
	frun B "uring_write:1:EIO" "$WL_POSITIONED"
	grep -q '^@ cqe .* = -1 EIO injected$' "$FROOT/B/log" || { fshow; fail "no completion failed"; }
}

# ---- write faults ----------------------------------------------------------

@test "pwritev2 engine, writethrough_writes = 1: write EIO, ENOSPC, EINTR, EAGAIN, short" {
	fsuite pwritev2 1
}

@test "pwritev2 engine, bursts (writethrough_writes = 2): write EIO, ENOSPC, EINTR, EAGAIN, short" {
	fsuite pwritev2 2
}

@test "io_uring engine, writethrough_writes = 1: write completions EIO, ENOSPC, EINTR, EAGAIN, short" {
	requires io_uring
	fsuite io_uring 1
}

@test "io_uring engine, bursts (writethrough_writes = 2): write completions EIO, ENOSPC, EINTR, EAGAIN, short" {
	requires io_uring
	fsuite io_uring 2
}

@test "ext4, both engines: write EIO and short" {
	requires io_uring
	froot "$WT_SCRATCH_EXT4"
	local e
	for e in pwritev2 io_uring; do
		fconf "$e" 1
		fbaseline "$WL_POSITIONED"
		floop write EIO "$WL_POSITIONED"
		floop write short "$WL_POSITIONED"
	done
}

# ---- sync and open faults --------------------------------------------------

@test "sync EIO and ENOSPC, both engines, with and without bursts: the error reaches the program, every later sync is real" {
	requires io_uring
	local e w wl
	for e in pwritev2 io_uring; do
		for w in 1 2; do
			fconf "$e" "$w"
			for wl in "$WL_POSITIONED" "$WL_SEQUENTIAL"; do
				floop sync EIO "$wl"
				floop sync ENOSPC "$wl"
			done
		done
	done
}

@test "fdatasync EIO after skipped ones: the first real one fails, and the program sees it" {
	fconf pwritev2 1
	floop fdatasync EIO "$WL_POSITIONED"
	floop fsync EIO "$WL_POSITIONED"
}

@test "open ENOSPC and EIO: the program's open fails as libc's would, and nothing is written" {
	fconf pwritev2 1
	floop open ENOSPC "$WL_SEQUENTIAL"
	floop openat EIO "$WL_OPENAT"
	floop open EIO "$WL_OPENAT"
}

# ---- io_uring submission and set-up ---------------------------------------

@test "io_uring submission interrupted (EINTR) or returning early: no completion lost or reported twice" {
	requires io_uring
	local w
	for w in 1 2; do
		fconf io_uring "$w"
		floop uring_enter EINTR "$WL_POSITIONED" lenient
		floop uring_enter short "$WL_POSITIONED" lenient
	done
}

@test "io_uring submission refused (EAGAIN, ENOMEM: nothing consumed): the write is not done later behind the program's back" {
	requires io_uring
	fconf io_uring 1
	floop uring_enter EAGAIN "$WL_POSITIONED" lenient
	floop uring_enter ENOMEM "$WL_POSITIONED" lenient
}

@test "io_uring chain submission refused (EAGAIN): no piece is done later behind the program's back" {
	requires io_uring
	fchain_ready
	floop uring_enter EAGAIN "$WL_CHAIN" lenient
}

# ---- linked chains of atomic pieces (design 1b.8) -------------------------

# fchain_ready - a config whose multi-unit writes go as chains, checked.
fchain_ready() {
	fconf auto 1 require
	fbaseline "$WL_CHAIN"
	grep -q '^@ sqe_fsync ' "$FROOT/B/log" ||
		{ fshow; fail "no linked chain: XFS here offers no atomic writes?"; }
}

@test "chain: a failed piece (EIO, ENOSPC, EINTR) gives the error or the durable prefix; every block old or new; later syncs real" {
	requires io_uring
	fchain_ready
	floop uring_write EIO "$WL_CHAIN" chain
	floop uring_write ENOSPC "$WL_CHAIN" chain
	floop uring_write EINTR "$WL_CHAIN" chain
}

@test "chain: a failed tail datasync (EIO) fails the write; every block old or new; every later sync real" {
	requires io_uring
	fchain_ready
	floop uring_sync EIO "$WL_CHAIN" chain
}

@test "chain, pwritev2 engine: pieces one by one with RWF_DSYNC; a failed one gives the error or the prefix; later syncs real" {
	fconf pwritev2 1 require
	fbaseline "$WL_CHAIN"
	floop pwritev2 EIO "$WL_CHAIN" chain
	floop pwritev2 ENOSPC "$WL_CHAIN" chain
}

@test "mode = atomic: chains without a tail sync; a failed piece gives the error or the prefix; every block old or new" {
	requires io_uring
	fconf auto 1 require atomic
	frun B "" "$WL_CHAIN"
	frun A "" "$WL_CHAIN"
	fsame "no fault"
	grep -q '^@ sqe_write ' "$FROOT/B/log" || { fshow; fail "no io_uring chain"; }
	floop uring_write EIO "$WL_CHAIN" chain
	floop uring_write EINTR "$WL_CHAIN" chain
	floop fdatasync EIO "$WL_CHAIN"
}

@test "io_uring refused at set-up (EPERM): writes go by pwritev2, nothing lost" {
	requires io_uring
	fconf io_uring 1
	floop uring_init EPERM "$WL_POSITIONED" lenient
	frun B uring_init:1:EPERM "$WL_POSITIONED"
	grep -q '^@ pwritev2 ' "$FROOT/B/log" || { fshow; fail "no pwritev2 after io_uring was refused"; }
	grep -q '^@ sqe_write ' "$FROOT/B/log" && { fshow; fail "io_uring used after it was refused"; }
	true
}
