#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fork.bats - writes and syncs split across processes: a write in one
# process and the sync in another must make that sync real (design.md
# invariant 2), and fork/exec must neither lose data nor hang.

load shim-helpers

setup_file() {
	scratch_fs xfs || return 0
}

setup() {
	requires root loopdev xfs strace
	wt_dirs "$WT_SCRATCH_XFS"
	wt_mkconf
}

@test "write in a child, fdatasync in the parent: the parent's sync is real" {
	prefill 64k
	local s='open rw; fdatasync; fdatasync; child { pwrite 0 8k A; pwrite 8k 8k B }; mark back; fdatasync; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F" who)" "fdatasync child odirect child direct child write mark back fdatasync"
}

@test "write in the parent, fdatasync in a child: the child's sync is real" {
	prefill 64k
	local s='open rw; fdatasync; pwrite 0 8k A; pwrite 8k 8k B; child { fdatasync; fdatasync }; mark back; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	# After the child's real sync the file is clean, for the parent too.
	assert_equal "$(wt_seq "$T" "$F" who)" "fdatasync odirect direct write child fdatasync mark back"
}

@test "parent and child write and sync at once: contents right" {
	prefill 512k
	local s='open rw; bg { repeat 20 { pwrite i*8k 8k C%i; fdatasync } }; repeat 20 { pwrite 256k+i*8k 8k P%i; fdatasync }; wait'
	run wt_timeout 120 "$s"
	assert_success
	ref "$s"
	same_as_ref
}

@test "an exec'd child writes, the parent syncs: the sync is real; the private O_DIRECT fd is not inherited" {
	prefill 64k
	local s='open rw; pwrite 0 8k P; fdatasync; fdatasync; exec { fds; pwrite 8k 8k A; pwrite 16k 8k B }; mark back; fdatasync; fdatasync'
	run wt_trace "$s"
	assert_success
	# Only the program's own fd crossed exec.
	assert_line "fds 1"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F" who)" "odirect direct fdatasync child odirect child direct child write mark back fdatasync"
}

@test "an exec'd child with one writethrough write: the parent's next sync is still real (the child's fd was never seen opened)" {
	prefill 64k
	local s='open rw; fdatasync; fdatasync; exec { pwrite 8k 8k A }; mark back; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F" who)" "fdatasync child odirect child direct mark back fdatasync"
}

@test "fork then exec, engine io_uring: every process makes its own ring, data right" {
	requires io_uring
	wt_mkconf "engine = io_uring"
	prefill 64k
	local s='open rw; pwrite 0 8k P; fdatasync; child { pwrite 8k 8k C; fdatasync; exec { pwrite 16k 8k E; fdatasync } }; exec { pwrite 24k 8k X; fdatasync }; pwrite 32k 8k Q; fdatasync'
	WT_STRACE_SET=$WT_STRACE_SET,execve wt_trace_timeout 120 "$s"
	ref "$s"
	same_as_ref
	# The parent, its forked child, and two exec'd programs: one ring each.
	assert_equal "$(n_events "$T" "$F" '^uring-setup$')" 4
	assert_equal "$(n_events "$T" "$F" '^(direct|dsync|write)')" 0
}

@test "fork with a burst: the child's writes are recorded in the shared table, not in the parent's count" {
	prefill 64k
	# The parent's first write after its sync is writethrough even though
	# its child wrote in between: the count is per process.
	local s='open rw; fdatasync; child { pwrite 0 8k A; pwrite 8k 8k B; pwrite 16k 8k C }; pwrite 24k 8k D; mark sync; fdatasync; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F" who)" "fdatasync child odirect child direct child write*2 odirect direct mark sync fdatasync"
}
