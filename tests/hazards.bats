#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# hazards.bats - one test (or a few) per hazard of design.md 1b, named after
# it, plus a writer killed mid-write (1.3). Each test first shows that the
# library would skip a sync on the file (so that it can fail), then does
# the hazardous thing and checks that the sync reaches the kernel and the
# data is what the program wrote without walthrough.

load shim-helpers

setup_file() {
	# A small XFS to fill up (300 MiB is mkfs.xfs's minimum); made first,
	# so that WT_SCRATCH_XFS is the ordinary one made next.
	scratch_fs xfs 300 || return 0
	export WT_SMALL_XFS=$WT_SCRATCH
	scratch_fs xfs || return 0
	scratch_fs ext4 || return 0
}

setup() {
	requires root loopdev xfs ext4 tmpfs strace
	wt_dirs "$WT_SCRATCH_XFS"
	wt_mkconf
	HOLDER=
}

teardown() {
	if [[ -n $HOLDER ]]; then
		kill -KILL "$HOLDER" 2>/dev/null || true
		wait "$HOLDER" 2>/dev/null || true
	fi
}

# hold_table - a process under the library that keeps the dirty table
# alive between the runs of a test, as PostgreSQL's postmaster does.
hold_table() {
	local table
	table=$(wt_table)
	wt_bg "$D/held" hold
	HOLDER=$BGPID
	for _ in $(seq 100); do
		ls -l "/proc/$HOLDER/fd" 2>/dev/null | grep -qF -- "-> $table" && return 0
		sleep 0.05
	done
	fail "the holder never opened $table"
}

# clean - makes F clean in the table, and shows that a sync is then skipped.
clean() {
	wt_trace 'open rw; fdatasync; fdatasync'
	(($(n_events "$T" "$F" '^fdatasync$') < 2)) ||
		fail "the file did not become clean: $(wt_seq "$T" "$F")"
}

# ---- 1. writes the shim does not see --------------------------------------

@test "hazard 1 (writes the shim does not see): cp into a reused inode, then rename and fsync: the fsync is real" {
	# ext4 hands a freed inode number to the next file at once.
	wt_dirs "$WT_SCRATCH_EXT4"
	wt_mkconf
	hold_table
	prefill 64k
	clean
	local ino
	ino=$(stat -c %i "$F")
	rm "$F"
	head -c 64k /dev/urandom >"$BATS_TEST_TMPDIR/src"
	cp "$BATS_TEST_TMPDIR/src" "$D/tmp"
	[[ $(stat -c %i "$D/tmp") == "$ino" ]] || { sync; rm "$D/tmp"; cp "$BATS_TEST_TMPDIR/src" "$D/tmp"; }
	assert_equal "$(stat -c %i "$D/tmp")" "$ino"
	mv "$D/tmp" "$F"
	wt_trace 'open rw; fsync; fsync'
	assert_equal "$(wt_seq "$T" "$F")" "fsync"
	cmp "$F" "$BATS_TEST_TMPDIR/src"
}

@test "hazard 1 (writes the shim does not see): cp and reflink into a clean tracked file under the library: the next fsync is real" {
	hold_table
	prefill 64k
	# the source on the same file system (untracked), so that reflink works
	local src=$D.src
	head -c 64k /dev/urandom >"$src"
	clean
	wt_run "$C" cp --reflink=always "$src" "$F"
	cmp "$F" "$src"
	wt_trace 'open rw; fsync; fsync'
	assert_equal "$(wt_seq "$T" "$F")" "fsync"
	# FICLONERANGE (xfs_io reflink), without O_TRUNC
	clean
	wt_run "$C" xfs_io -c "reflink $src 8k 0 8k" "$F"
	wt_trace 'open rw; fsync; fsync'
	assert_equal "$(wt_seq "$T" "$F")" "fsync"
	cmp -n 8192 -i 0:8192 "$F" "$src"
}

@test "hazard 1 (writes the shim does not see): copy_file_range, sendfile and splice into a clean tracked file: the next sync is real" {
	prefill 64k
	local src=$D.src
	head -c 64k /dev/urandom >"$src"
	local s="open rw; fdatasync; fdatasync
		mark copy; copyrange $src 16k 8k 8k; fdatasync; fdatasync
		mark sendfile; seek 16k; sendfile $src 0 8k; fdatasync; fdatasync
		mark splice; splice 32k 8k S; fdatasync; fdatasync"
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark copy fdatasync mark sendfile fdatasync mark splice fdatasync"
}

@test "hazard 1 (writes the shim does not see): stdio fwrite to a tracked path, then fsync through another fd is real" {
	prefill 64k
	local s='open rw; save a; fdatasync; fdatasync; mark stdio; fopen r+; fwrite 100 S; fflush; use $a; fsync; fsync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	# The fwrite reaches the kernel as glibc's own write, which no wrapper
	# sees; the fopen that made it possible marks the file.
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark stdio write fsync*2"
}

@test "hazard 1 (writes the shim does not see): a writable MAP_SHARED mapping: no later sync of that file is skipped" {
	prefill 64k
	local s='open rw; fdatasync; fdatasync; mark map; mmapwrite 100 8k M; fdatasync; pwrite 0 8k A; fdatasync; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark map fdatasync odirect direct fdatasync*2"
}

@test "hazard 1: a shared mapping of an untracked file the library never saw opened (as PostgreSQL's shm_open segments): nothing falls back, tracked syncs are still skipped" {
	prefill 64k "$F" "$D.z"
	# After exec the fd is unknown: the mmap classifies it.
	local s="open rw $D.z; exec { mmapwrite 0 8k M; open rw; fdatasync; fdatasync; mark done }"
	run --separate-stderr wt_trace "$s"
	assert_success
	[[ $stderr != *"no fsync is skipped"* ]] || fail "fell back to skipping nothing: $stderr"
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark done"
}

@test "hazard 1 (writes the shim does not see): POSIX aio_write and lio_listio: no later sync of that file is skipped, nothing left dirty" {
	local g=$D/g
	prefill 64k "$F" "$g"
	local s="open rw; fdatasync; fdatasync; mark aio; aiowrite 4k 8k A; fdatasync; dirty; pwrite 16k 8k B; fdatasync; fdatasync
		open rw $g; fdatasync; fdatasync; mark lio; liowrite 32k 8k C; fdatasync; dirty; fdatasync"
	run wt_trace "$s"
	assert_success
	assert_equal "$(grep '^dirty' <<<"$output" | tr '\n' ' ')" "dirty 0 dirty 0 "
	# glibc's aio threads write by an internal call: strace sees pwrite64.
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark aio write fdatasync odirect direct fdatasync*2 mark lio"
	assert_equal "$(wt_seq "$T" "$g")" "mark aio fdatasync mark lio write fdatasync*2"
	ref "$s"
	same_as_ref
}

@test "hazard 1 (writes the shim does not see): dprintf: the next sync is real, nothing left dirty" {
	prefill 64k
	local s='open rw; fdatasync; fdatasync; mark d; seek 4k; dprintf 8k; fdatasync; dirty; fdatasync'
	run wt_trace "$s"
	assert_success
	assert_line "dirty 0"
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark d write*2 fdatasync"
	ref "$s"
	same_as_ref
}

@test "hazard 1 (writes the shim does not see): a tracked file at fd 1, written by printf through stdout: no sync of it is skipped" {
	prefill 64k
	# wt-writer's own output goes to fd 1 too, after "mark" only
	local s='open rw; fdatasync; fdatasync; dup2 1; use 1; fdatasync; fdatasync; mark out; stdout 8k; fdatasync; fdatasync'
	run wt_trace "$s"
	assert_success
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync*3 mark out write*2 fdatasync*2"
	ref "$s"
	same_as_ref
}

# ---- 2. stale fd numbers -------------------------------------------------

@test "hazard 2 (stale fd numbers): fclose, then the number reused by a pipe: the file unchanged, the data in the pipe" {
	prefill 64k
	# x is closed with close(), a with fclose() (glibc's own close): the
	# pipe then gets x as its read end and a as its write end.
	# The first call on each stale number is one the library would redirect
	# or skip if it trusted the number: an aligned pwrite right after a
	# sync, an fdatasync of a clean file.
	local s='open rw; save x; fdatasync; pwrite 0 8k A; fdatasync; fopen r+; save a; use $x; close; fclose
		pipe; fd; use $a; fd
		use $w; expect ESPIPE pwrite 0 8k Q; expect EINVAL fsync; expect EINVAL fdatasync
		write 100 P; use $r; read 100 P
		use $w; writev 2 4k R; use $r; read 8k R; use $w; expect ESPIPE sfr 0 8k'
	run wt_trace "$s"
	assert_success
	# The write end has the number of the fclosed tracked fd, or of the
	# library's private fd opened just before it, which the fclose (seen
	# by its wrapper) closed as the program's last fd on the file.
	local w a
	w=$(grep '^fd ' <<<"$output" | sed -n 1p | cut -d' ' -f2)
	a=$(grep '^fd ' <<<"$output" | sed -n 2p | cut -d' ' -f2)
	((w == a || w == a - 1)) || fail "the pipe's write end $w reuses neither $a nor $((a - 1))"
	ref "$s"
	same_as_ref
}

@test "hazard 2 (stale fd numbers): closefrom (close_range inside glibc), then the numbers reused by a pipe" {
	prefill 64k
	local s='open rw; save a; open rw; save b; fdatasync; pwrite 0 8k A; fdatasync; closefrom $a
		pipe; use $r; expect EINVAL fdatasync; use $w; expect ESPIPE pwrite 0 8k Q; use $r; expect EBADF write 8k Q
		use $w; write 100 P; use $r; read 100 P
		use $w; expect EINVAL fsync; expect EINVAL fdatasync'
	run wt_trace "$s"
	assert_success
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct"
}

@test "hazard 2 (stale fd numbers): the library's private fd closed by closefrom: the program's next file on that number is never closed by the library" {
	prefill 64k "$F" "$D.other"
	# a, b: the program's fds; the library's private O_DIRECT fd comes next.
	local s="open rw; save a; open rw; save b; fdatasync; pwrite 0 8k A; fdatasync; closefrom \$a
		pipe; open rw $D.other; save o
		use \$w; write 100 P; use \$r; expect EBADF write 8k Q; read 100 P
		use \$o; pwrite 0 8k O; fdatasync; verify 0 8k O; print ok"
	run wt "$s"
	assert_success
	assert_line ok
}

# ---- 3. buffers that change during the write -------------------------------

@test "hazard 3 (buffers that change during the write): a thread rewrites the buffer during each write: every byte is old or new, no crash" {
	prefill 64k
	run wt_timeout 120 'open rw; scribble 300 0 8k X Y sync; memalign 24; scribble 300 16k 16k X Y sync; scribble 300 32k 8k X Y'
	assert_success
	assert_equal "$(grep -c 'every byte old or new' <<<"$output")" 3
}

@test "hazard 3 (buffers that change during the write), engine io_uring" {
	requires io_uring
	wt_mkconf "engine = io_uring"
	prefill 64k
	run wt_timeout 120 'open rw; scribble 300 0 8k X Y sync; memalign 24; scribble 300 16k 16k X Y sync'
	assert_success
	assert_equal "$(grep -c 'every byte old or new' <<<"$output")" 2
}

# ---- 4. write()/writev() and O_APPEND ------------------------------------

@test "hazard 4 (write() and O_APPEND): threads and a forked child write() to one open file: exact concatenation" {
	local s='open w,creat,trunc; bg { records 9 300 100 7 }; threads 4 { records t 300 100 5 }; wait'
	run wt_timeout 120 "$s"
	assert_success
	run "$W" --records "$F" 100
	assert_success
	assert_line "1500 records, 0 bad"
	local w
	for w in 0 1 2 3 9; do
		assert_line "writer $w: 300 records"
	done
}

@test "hazard 4 (write() and O_APPEND): O_APPEND from threads and a process with its own open file: exact concatenation" {
	local s='open w,creat,append; bg { open w,append; records 9 200 4096 3 }; threads 4 { records t 200 4096 4 }; wait'
	run wt_timeout 120 "$s"
	assert_success
	run "$W" --records "$F" 4096
	assert_success
	assert_line "1000 records, 0 bad"
	local w
	for w in 0 1 2 3 9; do
		assert_line "writer $w: 200 records"
	done
}

# ---- 5. the private O_DIRECT fd --------------------------------------------

@test "hazard 5 (the private O_DIRECT fd): one per inode, close-on-exec, closed with the program's last fd" {
	prefill 64k
	local s='open rw; save a; open rw; save b; pwrite 0 8k A; use $a; fdatasync; pwrite 8k 8k B; fds
		exec { fds }; use $a; close; fds; use $b; close; fds'
	run wt_trace "$s"
	assert_success
	assert_equal "$(grep '^fds' <<<"$output" | tr '\n' ' ')" "fds 3 fds 2 fds 2 fds 0 "
	assert_equal "$(n_events "$T" "$F" '^odirect$')" 1
	ref "$s"
	same_as_ref
}

@test "hazard 5 (the private O_DIRECT fd): gone with the program's last fd, so an unlinked file is not kept" {
	prefill 64k
	wt_bg "$F" 'open rw; pwrite 0 8k A; fdatasync; pwrite 8k 8k B; fds; close; print closed; hold' >"$BATS_TEST_TMPDIR/out"
	HOLDER=$BGPID
	for _ in $(seq 100); do
		grep -q closed "$BATS_TEST_TMPDIR/out" && break
		sleep 0.05
	done
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "fds 2
closed"
	rm "$F"
	run ls -l "/proc/$HOLDER/fd"
	refute_output --partial "$F"
}

@test "hazard 5 (the private O_DIRECT fd): O_SYNC writes use RWF_SYNC, O_DSYNC writes never take the burst path" {
	prefill 64k
	local s='open rw,sync; pwrite 0 8k A; pwrite 8k 8k B; close; open rw,dsync; repeat 4 { pwrite i*8k 8k C%i }; write 100 D'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "odirect direct-sync*2 odirect direct*4 dsync"
}

# ---- 6. extending writes ---------------------------------------------------

extending() {
	wt_dirs "$1"
	wt_mkconf
	prefill 16k
	local s='open rw; fdatasync; pwrite 0 8k A; fdatasync; pwrite 8k 8k B; fdatasync; mark extend; pwrite 16k 8k C; fdatasync; pwrite 16k 8k D; fdatasync; size'
	run wt_trace "$s"
	assert_success
	assert_line "size 24576"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct*2 mark extend direct fdatasync direct"
}

@test "hazard 6 (extending writes): a write that extends the file is writethrough, and the next sync stays real (ext4)" {
	extending "$WT_SCRATCH_EXT4"
}

@test "hazard 6 (extending writes): the same on XFS" {
	extending "$WT_SCRATCH_XFS"
}

# ---- 7. errors per open file -------------------------------------------------

@test "hazard 7 (errors per open file): an error poisons the inode: every later sync, from any fd and any process, is real" {
	scratch_fs tmpfs 1
	wt_dirs "$WT_SCRATCH"
	wt_mkconf
	hold_table
	prefill 64k
	clean
	dd if=/dev/zero of="$WT_SCRATCH/filler" bs=4k 2>/dev/null || true
	wt_trace 'open rw; fdatasync; mark full; expect ENOSPC pwrite 1m 8k X; fdatasync; fdatasync; open rw; fsync; pwrite 0 8k A; fsync'
	assert_equal "$(wt_seq "$T" "$F")" "mark full odirect direct -1 ENOSPC fdatasync*2 fsync direct fsync"
	rm "$WT_SCRATCH/filler"
	wt_trace 'open rw; pwrite 0 8k B; fdatasync; fdatasync'
	assert_equal "$(wt_seq "$T" "$F")" "odirect direct fdatasync*2"
}

@test "hazard 7 (errors per open file): a failed burst write poisons the inode too" {
	scratch_fs tmpfs 1
	wt_dirs "$WT_SCRATCH"
	wt_mkconf
	prefill 64k
	dd if=/dev/zero of="$WT_SCRATCH/filler" bs=4k 2>/dev/null || true
	wt_trace 'open rw; fdatasync; pwrite 0 8k A; expect ENOSPC pwrite 1m 8k X; fdatasync; pwrite 8k 8k B; fdatasync; fdatasync'
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct write -1 ENOSPC fdatasync direct fdatasync*2"
}

# ---- 8, 9. atomic writes (more in atomic.bats) -------------------------------

@test "hazard 8 (split atomic pieces): a split write cut short by the file size limit returns the kernel's prefix" {
	wt_mkconf -- "atomic = require" "atomic_unit = 8192"
	prefill 8k
	# 24 KiB at 8 KiB is 8 KiB + 16 KiB; the limit (16 KiB) stops the
	# second piece, so the call returns 8192, as a plain pwrite does.
	local s='open rw; fdatasync; try pwrite 8k 24k A; size'
	run bash -c 'trap "" XFSZ; ulimit -f 16; exec "$@"' - "$W" "$REF" "$s"
	assert_success
	assert_line "pwrite = 8192"
	local want=$output
	run bash -c 'trap "" XFSZ; ulimit -f 16; exec "$@"' - env LD_PRELOAD="$wt_preload" \
		WALTHROUGH_CONFIG="$C" WALTHROUGH_TABLE="$(wt_table)" "$W" "$F" "$s"
	assert_success
	assert_equal "$(grep -E '^(pwrite|size)' <<<"$output")" "$(grep -E '^(pwrite|size)' <<<"$want")"
	same_as_ref
}

@test "hazard 9 (atomic writes and free space): mode = atomic on a full XFS never falls back to a buffered write" {
	wt_dirs "$WT_SMALL_XFS"
	wt_mkconf -- "mode = atomic" "atomic = require" "atomic_unit = 8192"
	sed -i '/^mode = writethrough$/d' "$C"
	prefill 64k
	local free
	free=$(($(stat -f -c '%a*%S' "$WT_SMALL_XFS")))
	fallocate -l "$free" "$WT_SMALL_XFS/filler" 2>/dev/null || true
	dd if=/dev/zero of="$WT_SMALL_XFS/filler2" bs=4k 2>/dev/null || true
	run wt_trace 'try open rw; try pwrite 0 8k A; try pwrite 8k 8k B; try fdatasync'
	rm -f "$WT_SMALL_XFS/filler" "$WT_SMALL_XFS/filler2"
	assert_success
	if grep -q '^open = -1' <<<"$output"; then
		# Refusing the open is failing closed.
		assert_line "open = -1 EOPNOTSUPP"
		return
	fi
	# Every write that reached the file carried RWF_ATOMIC (0x40 to this
	# strace), whether it succeeded or not.
	local writes
	writes=$(grep -E "^[0-9]+ +(write|writev|pwrite64|pwritev|pwritev2)\([0-9]+<$F>" "$T" || true)
	[[ -n $writes ]] || grep -q '^pwrite = -1' <<<"$output" || fail "no write reached the file"
	run grep -vE 'RWF_ATOMIC|0x40' <<<"$writes"
	assert_output ""
}

# ---- 10. io_uring in a forking, signal-using program ----------------------------

# fork_storm ENGINE - _Fork and vfork children write while a thread writes.
fork_storm() {
	wt_mkconf "engine = $1"
	prefill 256k
	local s='open rw; spawn { repeat 200 { pwrite 0 8k A%i; fdatasync } }; repeat 30 { _fork { pwrite 64k 8k C%i; fdatasync }; vforkwrite 128k 8k D%i }; join; mark end; fdatasync'
	wt_trace_timeout 240 "$s"
	ref "$s"
	same_as_ref
	# A child's write is durable when it returns, or the parent's next
	# sync is real.
	if wt_events "$T" "$F" | grep -q '^write'; then
		wt_events "$T" "$F" | sed -n '/^mark end$/,$p' | grep -q '^fdatasync$' ||
			fail "a child's page-cache write was followed by a skipped sync"
	fi
}

@test "hazard 10 (io_uring in a forking, signal-using program): _Fork and vfork children write while a thread writes, engine io_uring" {
	requires io_uring
	fork_storm io_uring
}

@test "hazard 10 (io_uring in a forking, signal-using program): _Fork and vfork children write while a thread writes, engine auto" {
	fork_storm auto
}

@test "hazard 10 (io_uring in a forking, signal-using program): a signal handler writes and syncs a tracked fd, engine io_uring" {
	requires io_uring
	wt_mkconf "engine = io_uring"
	prefill 128k
	local s='open rw; sigalrm 3000 64k 8k S; repeat 1000 { pwrite 0 8k M%i; fdatasync }; sigstop'
	run wt_timeout 120 "$s"
	assert_success
	assert_line "signals many"
	ref "$s"
	same_as_ref
}

@test "hazard 10 (io_uring in a forking, signal-using program): a signal handler's first tracked write interrupts malloc: no deadlock" {
	prefill 128k
	# A thread has no bounce buffer yet when a handler first writes on it;
	# it must not come from the allocator the handler interrupted. Four
	# threads in malloc loops, eight processes: each thread's first handler
	# write is a chance to interrupt malloc (more than half hung before).
	# The timer is slower than a handler's durable write, or it livelocks.
	wt_mkconf "log_level = warn" # not a debug line per handler call
	local s='open rw; sigalrm 1000 64k 8k S; threads 4 { mallocs 300000 }; sigstop; pwrite 0 8k M; fdatasync' i
	for i in $(seq 8); do
		run wt_timeout 30 "$s"
		assert_success
		assert_line "signals many"
	done
	ref "$s"
	same_as_ref
}

@test "hazard 10 (io_uring in a forking, signal-using program): a signal handler that opens, writes, syncs and closes a tracked file interrupts malloc: no crash, no deadlock" {
	prefill 128k "$F" "$D/h"
	# Each handler call makes and frees the library's file object for h
	# (no other fd holds it); it must not come from the allocator the
	# handler interrupted. The first open, outside the handler, probes.
	# The main thread allocates: a process-directed signal goes to it.
	# (From malloc, 9 of 10 runs crashed.)
	wt_mkconf "log_level = warn"
	local s="open rw $D/h; pwrite 0 8k P; fdatasync; close; open rw
		sigalrm 1000 64k 8k S $D/h; mallocs 1000000; sigstop" i
	for i in $(seq 8); do
		run wt_timeout 30 "$s"
		assert_success
		assert_line "signals many"
	done
}

@test "hazard 10 (io_uring in a forking, signal-using program): a signal handler writes and syncs a tracked fd, engine pwritev2" {
	wt_mkconf "engine = pwritev2"
	prefill 128k
	local s='open rw; sigalrm 3000 64k 8k S; repeat 1000 { pwrite 0 8k M%i; pwrite 8k 8k N%i; fdatasync }; sigstop'
	run wt_timeout 120 "$s"
	assert_success
	assert_line "signals many"
	ref "$s"
	same_as_ref
}

# ---- 11. direct-I/O alignment -------------------------------------------------

@test "hazard 11 (direct-I/O alignment): on XFS, 512-byte-aligned writes are not sent direct; 4 KiB ones are, reflinked or not" {
	prefill 64k
	# A reflinked copy: its shared blocks are unshared by the writes.
	cp --reflink=always "$F" "$D/g"
	cp "$REF" "$REF.g"
	local s='open rw; fdatasync; pwrite 512 512 A; fdatasync; pwrite 1k 3k B; fdatasync; pwrite 4k 4k C; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync dsync*2 odirect direct"
	wt_strace "$T" "$C" "$W" "$D/g" "$s"
	"$W" "$REF.g" "$s"
	cmp "$D/g" "$REF.g"
	assert_equal "$(wt_seq "$T" "$D/g")" "fdatasync dsync*2 odirect direct"
}

# ---- 12. what a skipped fsync does not persist --------------------------------

@test "hazard 12 (what a skipped fsync does not persist): only timestamps and mode: after ftruncate or fallocate the sync is real" {
	prefill 64k
	local s='open rw; fdatasync; fdatasync; mark trunc; ftruncate 128k; fdatasync; fdatasync; mark alloc; fallocate 128k 64k; fdatasync; mark shrink; ftruncate 32k; fsync; size'
	run wt_trace "$s"
	assert_success
	assert_line "size 32768"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark trunc fdatasync mark alloc fdatasync mark shrink fsync"
}

# ---- 13. page cache left behind -------------------------------------------------

@test "hazard 13 (page cache left behind): a direct write over pages a burst left cached: reads see the new data" {
	prefill 64k
	local s='open rw; fdatasync; pwrite 0 8k A; pwrite 0 8k B; pwrite 8k 8k B; verify 0 8k B; fdatasync; pwrite 0 8k C; verify 0 8k C; verify 8k 8k B; open r; verify 0 8k C'
	wt_trace "$s"
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct write*2 fdatasync direct"
	ref "$s"
	same_as_ref
	echo 3 >/proc/sys/vm/drop_caches
	run "$W" "$F" 'open r; verify 0 8k C; verify 8k 8k B; print ok'
	assert_success
	assert_line ok
}

# ---- 1.3: a writer killed between its write and the bookkeeping -----------------

@test "a writer killed between its write and the bookkeeping: pending stays up, every later sync is real" {
	wt_mkconf "log_level = warn"
	hold_table
	prefill 64k
	clean
	# SIGKILL on entering the page-cache write of the burst: the library
	# has raised pending and never lowers it.
	run strace -f -qq -o /dev/null -e trace=pwrite64,pwritev,write,writev -e inject=pwrite64,pwritev,write,writev:signal=KILL \
		-E LD_PRELOAD="$wt_preload" -E WALTHROUGH_CONFIG="$C" -E WALTHROUGH_TABLE="$(wt_table)" \
		"$W" "$F" 'open rw; pwrite 0 8k A; pwrite 8k 8k B; print survived'
	refute_output --partial survived
	wt_trace 'open rw; fdatasync; fdatasync; fdatasync'
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync*3"
}

@test "writers killed at random points of a burst: the next sync is real every time" {
	wt_mkconf "log_level = warn"
	hold_table
	prefill 1m
	local k
	for k in $(seq 12); do
		# clean again if nothing is left pending
		wt_run "$C" "$W" "$F" 'open rw; fdatasync; fdatasync'
		# killed once its burst has begun (before, the file is clean and
		# a skipped sync is right)
		wt_bg "$F" 'open rw; pwrite 8k 8k K; pwrite 16k 4k L; print started; repeat 1000000 { pwrite 8k 8k K%i; pwrite 16k 4k L }' >"$BATS_TEST_TMPDIR/out"
		for _ in $(seq 200); do
			grep -q started "$BATS_TEST_TMPDIR/out" && break
			sleep 0.02
		done
		sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
		kill -KILL "$BGPID"
		wait "$BGPID" || true
		wt_trace 'open rw; fdatasync'
		assert_equal "$(wt_seq "$T" "$F")" "fdatasync"
	done
}

# ---- holes: ways around the dirty table (design 1b.14) ----------------------

# wt_trace_bg SCRIPT - wt_trace in the background (output in $BATS_TEST_TMPDIR/bg.out);
# the pid of strace in BGPID.
wt_trace_bg() {
	strace -f -qq -y -o "$T" -e trace="$WT_STRACE_SET" \
		-E "LD_PRELOAD=$wt_preload" -E "WALTHROUGH_CONFIG=$C" \
		-E "WALTHROUGH_TABLE=$(wt_table)" "$W" "$F" "$@" >"$BATS_TEST_TMPDIR/bg.out" 2>&1 3>&- &
	BGPID=$!
	HOLDER=$BGPID
}

# wait_file PATH - until PATH exists (another process's `touch`).
wait_file() {
	local _
	for _ in $(seq 600); do
		[[ -e $1 ]] && return 0
		sleep 0.05
	done
	fail "$1 never appeared"
}

# rules CONF RULE_LINE... - config CONF from the global lines of a test plus rules.
rules() {
	local conf=$1
	shift
	{ echo "[global]"; echo "log_level = debug"; printf '%s\n' "$@"; } | wt_conf "$conf"
}

@test "hole 1 (a shared mapping made writable later): mmap read-only, mprotect writable, a store: the next sync is real, nothing left dirty" {
	prefill 64k
	local s='open rw; fdatasync; fdatasync; mark map; mprotectwrite 100 8k M; fdatasync; dirty; fdatasync'
	run wt_trace "$s"
	assert_success
	assert_line "dirty 0"
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark map fdatasync*2"
	ref "$s"
	same_as_ref
}

@test "hole 1 (a shared mapping made writable later): the same by pkey_mprotect, and after mremap moved the mapping" {
	prefill 64k
	local s='open rw; fdatasync; fdatasync; mark pkey; mprotectwrite 8k 8k P pkey; fdatasync; dirty'
	run wt_trace "$s"
	assert_success
	assert_line "dirty 0"
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark pkey fdatasync"
	ref "$s"
	same_as_ref
	local g=$D/g
	prefill 64k "$g"
	s="open rw $g; fdatasync; fdatasync; mark remap; mremapwrite 16k 8k R; fdatasync; dirty"
	run wt_trace "$s"
	assert_success
	assert_line "dirty 0"
	assert_equal "$(wt_seq "$T" "$g")" "fdatasync mark remap fdatasync"
}

@test "hole 1 (a shared mapping made writable later): a mapping that stays read-only changes nothing: syncs are still skipped" {
	prefill 64k
	run wt_trace 'open rw; fdatasync; fdatasync; mark map; mmapread 0 16k; fdatasync; pwrite 0 8k A; fdatasync; fdatasync'
	assert_success
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark map odirect direct"
}

# clean_waiter - in the background, a process under the library that makes F
# clean, then waits for $D.go and syncs it again (see waiter_synced).
clean_waiter() {
	wt_trace_bg "open rw; fdatasync; fdatasync; touch $D.clean; waitfor $D.go; mark go; fdatasync; dirty"
	wait_file "$D.clean"
}

# waiter_synced - lets it go: its sync must be real, nothing left dirty.
waiter_synced() {
	touch "$D.go"
	wait "$BGPID"
	HOLDER=
	grep -qx 'dirty 0' "$BATS_TEST_TMPDIR/bg.out" || fail "left dirty: $(cat "$BATS_TEST_TMPDIR/bg.out")"
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark go fdatasync"
}

# hole 2: table_swap HOW - removes (rm) or replaces (mv of a copy over it)
# the table while a process holding it has F clean and waits; then a new
# process writes a burst; the waiting one's sync must be real.
table_swap() {
	prefill 64k
	local table
	table=$(wt_table)
	clean_waiter
	case $1 in
	rm) rm "$table" ;;
	mv) cp "$table" "$table.new" && mv "$table.new" "$table" ;;
	esac
	run --separate-stderr wt 'open rw; pwrite 0 8k A; pwrite 8k 8k B; ftruncate 72k'
	assert_success
	[[ $stderr == *"removed or replaced"* ]] || fail "no warning: $stderr"
	waiter_synced
	assert_equal "$(stat -c %s "$F")" 73728
}

@test "hole 2 (the table removed while processes hold it): a burst in a new process, then a sync in one holding the old table: real" {
	table_swap rm
}

@test "hole 2 (the table replaced while processes hold it): the same with a copy moved over it" {
	table_swap mv
}

@test "hole 3 (a uid change after start-up): a process that drops from root to another uid leaves nothing that uid's programs skip" {
	command -v setpriv >/dev/null || fail "setpriv (util-linux) missing"
	local u=$((40000 + RANDOM % 20000)) ud=$D.u p
	mkdir "$ud"
	chown "$u" "$ud"
	local t1000=$ud/table conf=$ud/conf
	# uid u must reach F and the library
	p=$D
	while [[ $p != / ]]; do chmod a+x "$p"; p=$(dirname "$p"); done
	prefill 64k
	chmod 666 "$F"
	cp "$C" "$conf"
	chown "$u" "$conf"
	local as_u=(setpriv --reuid="$u" --regid="$u" --clear-groups env LD_PRELOAD="$wt_preload"
		WALTHROUGH_CONFIG="$conf" WALTHROUGH_TABLE="$t1000" "${wt_san_env[@]}" "$W" "$F")
	# uid u's programs: one keeps its table, with F clean in it
	"${as_u[@]}" "open rw; fdatasync; fdatasync; touch $ud/clean; hold" 3>&- &
	HOLDER=$!
	wait_file "$ud/clean"
	# root writes a burst, drops to u, writes another
	run wt "open rw; pwrite 0 8k A; pwrite 8k 8k B; setuid $u; pwrite 16k 8k C; pwrite 24k 8k D; pwrite 32k 8k E"
	assert_success
	run "${as_u[@]}" 'open rw; fdatasync; dirty'
	assert_success
	assert_line "dirty 0"
	# each way of changing it
	local how
	for how in e re res; do
		run wt "open rw; pwrite 0 8k A; setuid $u $how; pwrite 8k 8k B; pwrite 16k 8k C"
		assert_success
		run "${as_u[@]}" 'open rw; fdatasync; dirty'
		assert_line "dirty 0"
	done
}

# old_fd_written - lets the background writer write through its old fd:
# the next sync of F must be real, nothing left dirty.
old_fd_written() {
	touch "$D.go"
	wait_file "$D.written"
	run wt_trace 'open rw; mark after; fdatasync; dirty'
	assert_success
	assert_line "dirty 0"
	assert_equal "$(wt_seq "$T" "$F")" "mark after fdatasync"
}

@test "hole 4 (a classification that changes under a rename): written through a passthrough-rule fd after a rename under a writethrough rule: the sync is real" {
	rules "$C" "[path $D/*.tmp]" "mode = passthrough" "[path $D/*]" "mode = writethrough"
	wt_trace_bg "open rw,creat $D/x.tmp; pwrite 0 64k Z; fsync; rename $D/x.tmp $F; touch $D.renamed; waitfor $D.go; pwrite 8k 8k B; touch $D.written; hold"
	wait_file "$D.renamed"
	local T0=$T
	T=$BATS_TEST_TMPDIR/strace2.out
	wt_trace 'open rw; fdatasync; fdatasync; mark clean; fdatasync'
	[[ $(wt_seq "$T" "$F") == *"mark clean" ]] || fail "not clean: $(wt_seq "$T" "$F")"
	old_fd_written
	T=$T0
}

@test "hole 4 (a classification that changes under a rename): a file no rule matched, renamed under a writethrough rule, written through an old fd in another process: the sync is real" {
	wt_trace_bg "open rw,creat $D.x; pwrite 0 64k Z; fsync; touch $D.opened; waitfor $D.go; pwrite 8k 8k B; touch $D.written; hold"
	wait_file "$D.opened"
	T=$BATS_TEST_TMPDIR/strace2.out
	wt_trace "rename $D.x $F; open rw; fdatasync; fdatasync"
	old_fd_written
}

@test "hole 4 (a classification that changes under a rename): in one process, an fd of a file no rule matched, written after renaming it under a rule: the sync is real" {
	local s="open rw,creat $D.x; save x; pwrite 0 64k Z; fsync; rename $D.x $F; open rw; save f; fdatasync; fdatasync; mark after; use \$x; pwrite 8k 8k B; use \$f; fdatasync; dirty"
	run wt_trace "$s"
	assert_success
	assert_line "dirty 0"
	[[ $(wt_seq "$T" "$F") == *"mark after"*fdatasync ]] || fail "$(wt_seq "$T" "$F")"
}

@test "hole 4 (a classification that changes under a rename): two programs whose configs classify a file differently, sharing a table: no sync is skipped" {
	prefill 64k
	clean_waiter
	local other=$BATS_TEST_TMPDIR/other.conf
	rules "$other" "[path $D/none-*]" "mode = writethrough"
	run --separate-stderr wt_run "$other" "$W" "$F" 'open rw; pwrite 0 8k A; pwrite 8k 8k B'
	assert_success
	[[ $stderr == *"classify files differently"* ]] || fail "no warning: $stderr"
	waiter_synced
}

@test "hole 5 (the mark made after the call): a writer killed inside ftruncate, fallocate, copy_file_range or dprintf, once the kernel did it: the next sync is real" {
	wt_mkconf "log_level = warn"
	hold_table
	local src=$D.src call cmd tracee k
	head -c 64k /dev/urandom >"$src"
	for call in ftruncate fallocate copy_file_range write; do
		# a file each: a kill leaves its pending count up for good
		F=$D/$call
		prefill 64k
		clean
		case $call in
		ftruncate) cmd='ftruncate 40k' ;;
		fallocate) cmd='fallocate 64k 64k' ;;
		copy_file_range) cmd="copyrange $src 0 0 8k" ;;
		write) cmd='seek 4k; dprintf 8k' ;;
		esac
		# strace stops the call on its way out of the kernel; the test
		# kills the program there, after the change, before any mark
		# made after it.
		k=$BATS_TEST_TMPDIR/kill.out
		rm -f "$k"
		strace -f -qq -o "$k" -P "$F" -e trace="$call" -e inject="$call:delay_exit=30000000" \
			-E LD_PRELOAD="$wt_preload" -E WALTHROUGH_CONFIG="$C" -E WALTHROUGH_TABLE="$(wt_table)" \
			"$W" "$F" "open rw; touch $D.pre; $cmd; print survived" >"$BATS_TEST_TMPDIR/k.stdout" 2>&1 3>&- &
		local spid=$!
		wait_file "$D.pre"
		rm -f "$D.pre"
		sleep 0.5
		tracee=$(pgrep -P "$spid" -f wt-writer | head -1)
		[[ -n $tracee ]] || fail "$call: no tracee"
		kill -KILL "$tracee"
		wait "$spid" || true
		! grep -q survived "$BATS_TEST_TMPDIR/k.stdout" || fail "$call: not killed"
		T=$BATS_TEST_TMPDIR/strace-$call.out
		wt_trace 'open rw; fdatasync'
		assert_equal "$(wt_seq "$T" "$F") ($call)" "fdatasync ($call)"
	done
}

@test "the dirty table: a real sync during which its entry was evicted and inserted again does not make the new entry clean" {
	export WALTHROUGH_TABLE_ENTRIES=1
	wt_mkconf "log_level = warn"
	hold_table
	local a=$D/a b=$D/b
	prefill 64k "$a" "$b"
	wt_run "$C" "$W" "$a" 'open rw; fdatasync; pwrite 0 8k A; pwrite 8k 8k B'
	# a real sync of a, held in the kernel while the entry moves on
	strace -qq -o /dev/null -e trace=fdatasync -e inject=fdatasync:delay_enter=5000000 \
		-E LD_PRELOAD="$wt_preload" -E WALTHROUGH_CONFIG="$C" -E WALTHROUGH_TABLE="$(wt_table)" \
		-E WALTHROUGH_TABLE_ENTRIES=1 "$W" "$a" "open rw; touch $D.syncing; fdatasync" 3>&- &
	local p=$!
	wait_file "$D.syncing"
	sleep 0.3
	wt_run "$C" "$W" "$a" 'open rw; fdatasync'          # a clean
	wt_run "$C" "$W" "$b" 'open rw; fdatasync; fdatasync' # b evicts it
	wt_run "$C" "$W" "$a" 'open rw; fdatasync'          # a back, clean at 0
	wait "$p"
	run wt_run "$C" "$W" "$a" 'open rw; pwrite 16k 8k C; pwrite 24k 8k D; fdatasync; dirty'
	assert_success
	assert_line "dirty 0"
}
