#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# atomic.bats - RWF_ATOMIC: when it is used, how writes are split, and that
# a promise of atomicity is never silently dropped (design.md 1b.8, 1b.9, 3).
# XFS on loop offers atomic writes of 4 KiB..2 MiB in software only; ext4 on
# loop offers none.

load helpers

setup_file() {
	scratch_fs xfs || return 0
	scratch_fs ext4 || return 0
	# A small XFS to fill up (300 MiB is mkfs.xfs's minimum).
	scratch_fs xfs 300 || return 0
	export WT_SMALL=$WT_SCRATCH
}

setup() {
	requires root loopdev xfs ext4 strace
	W=$WT_BIN/wt-writer
	CONF=$BATS_TEST_TMPDIR/wt.conf
	T=$BATS_TEST_TMPDIR/trace
}

# conf DIR ENGINE MODE ATOMIC - one rule for DIR/*.
conf() {
	wt_conf "$CONF" <<-EOF
	[global]
	engine = $2
	[path $1/*]
	mode = $3
	atomic = $4
	atomic_unit = 8192
	EOF
}

# Lines of the trace for tracked writes with RWF_ATOMIC (0x40).
atomic_lines() { grep -E 'pwritev2\(.*0x40' "$T" || true; }

@test "atomic = require on ext4: open fails with EOPNOTSUPP and says why" {
	conf "$WT_SCRATCH_EXT4" pwritev2 writethrough require
	run wt_run "$CONF" "$W" "$WT_SCRATCH_EXT4/f" 'expect EOPNOTSUPP open rw,creat'
	assert_success
	assert_output --partial "atomic writes of 8192 bytes are not offered here"
	assert_output --partial "$WT_SCRATCH_EXT4/f"
}

@test "walthrough check accepts the config, and the probe reason is in the open's message" {
	conf "$WT_SCRATCH_EXT4" auto writethrough require
	run "$WT_CLI" check "$CONF"
	assert_success
}

@test "atomic = require on XFS, engine pwritev2: every tracked write carries RWF_ATOMIC, split pieces at the right offsets" {
	local d=$WT_SCRATCH_XFS/req-pw
	mkdir -p "$d"
	conf "$d" pwritev2 writethrough require
	wt_strace "$T" "$CONF" "$W" "$d/f" \
		'open rw,creat; pwrite 0 1m Z; fsync; pwrite 8k 24k A; fdatasync; pwrite 0 8k B; fdatasync; pwrite 64k 56k C; fdatasync; verify 8k 24k A; verify 0 8k B; verify 64k 56k C'
	# 1 MiB at 0 is one piece; 24 KiB at 8 KiB is 8 KiB + 16 KiB;
	# 8 KiB at 0 is one; 56 KiB at 64 KiB is 32 + 16 + 8 KiB.
	run atomic_lines
	assert_equal "$(echo "$output" | grep -c .)" 7
	assert_line --partial 'iov_len=1048576}], 1, 0, RWF_DSYNC|0x40'
	assert_line --partial 'iov_len=8192}], 1, 8192, RWF_DSYNC|0x40'
	assert_line --partial 'iov_len=16384}], 1, 16384, RWF_DSYNC|0x40'
	assert_line --partial 'iov_len=8192}], 1, 0, RWF_DSYNC|0x40'
	assert_line --partial 'iov_len=32768}], 1, 65536, RWF_DSYNC|0x40'
	assert_line --partial 'iov_len=16384}], 1, 98304, RWF_DSYNC|0x40'
	assert_line --partial 'iov_len=8192}], 1, 114688, RWF_DSYNC|0x40'
	# No tracked write went without it.
	run grep -cE 'pwritev2\([0-9]+<[^>]*/f>.*RWF_DSYNC\)' "$T"
	assert_output 0
}

@test "atomic = require on XFS, engine auto: a split write is one linked io_uring chain with one datasync" {
	requires io_uring
	local d=$WT_SCRATCH_XFS/req-auto
	mkdir -p "$d"
	conf "$d" auto writethrough require
	local script='open rw,creat; pwrite 0 64k Z; fsync; pwrite 8k 24k A; fdatasync'
	wt_strace "$T" "$CONF" "$W" "$d/f" "$script"
	"$W" "$BATS_TEST_TMPDIR/expected" "$script"
	cmp "$d/f" "$BATS_TEST_TMPDIR/expected"
	# Two writes and the fsync in one submission, nothing else.
	run grep -E 'io_uring_enter\([0-9]+<[^>]*>, 3, 3,' "$T"
	assert_success
	run count_syscalls "$T" pwritev2 '/f>'
	assert_output 1
}

@test "atomic = auto on XFS on loop: no RWF_ATOMIC (software atomics only)" {
	local d=$WT_SCRATCH_XFS/auto
	mkdir -p "$d"
	conf "$d" pwritev2 writethrough auto
	wt_strace "$T" "$CONF" "$W" "$d/f" 'open rw,creat; pwrite 0 64k Z; fsync; pwrite 8k 24k A; fdatasync; verify 8k 24k A'
	run atomic_lines
	assert_output ""
	run count_syscalls "$T" pwritev2 'RWF_DSYNC'
	assert_output 2
}

@test "atomic = off: never RWF_ATOMIC even where the file system offers it" {
	local d=$WT_SCRATCH_XFS/off
	mkdir -p "$d"
	conf "$d" pwritev2 writethrough off
	wt_strace "$T" "$CONF" "$W" "$d/f" 'open rw,creat; pwrite 0 16k Z; fsync; pwrite 0 8k A; fdatasync'
	run atomic_lines
	assert_output ""
}

@test "writethrough with atomic = require: an unaligned write is still written, without RWF_ATOMIC, and logged once" {
	local d=$WT_SCRATCH_XFS/unal
	mkdir -p "$d"
	conf "$d" pwritev2 writethrough require
	wt_strace "$T" "$CONF" "$W" "$d/f" \
		'open rw,creat; pwrite 0 16k Z; fsync; pwrite 4k 4k A; fdatasync; pwrite 4k 4k B; fdatasync; verify 4k 4k B'
	run wt_run "$CONF" "$W" "$d/g" 'open rw,creat; pwrite 0 16k Z; fsync; pwrite 4k 4k A; fdatasync; pwrite 4k 4k B; fdatasync; verify 4k 4k B'
	assert_success
	assert_equal "$(grep -c 'not whole atomic units' <<<"$output")" 1
	# The unaligned writes themselves: writethrough, no RWF_ATOMIC.
	run grep -E 'pwritev2\(.*iov_len=4096.*' "$T"
	assert_success
	refute_output --partial '0x40'
}

@test "mode = atomic with an unaligned write: EINVAL, the file unchanged" {
	local d=$WT_SCRATCH_XFS/matom
	mkdir -p "$d"
	conf "$d" pwritev2 atomic require
	run wt_run "$CONF" "$W" "$d/f" \
		'open rw,creat; pwrite 0 16k Z; fsync; expect EINVAL pwrite 100 8k A; expect EINVAL write 8k A; expect EINVAL pwrite 4k 8k A; verify 0 16k Z'
	assert_success
	assert_output --partial "cannot be atomic"
}

@test "mode = atomic: RWF_ATOMIC without DSYNC, and every fsync reaches the kernel" {
	local d=$WT_SCRATCH_XFS/matom2
	mkdir -p "$d"
	conf "$d" pwritev2 atomic require
	wt_strace "$T" "$CONF" "$W" "$d/f" \
		'open rw,creat; pwrite 0 16k Z; fsync; pwrite 0 8k A; fdatasync; pwrite 8k 8k B; fdatasync; verify 0 8k A; verify 8k 8k B'
	run grep -E 'pwritev2\(.*/f>.*0x40' "$T"
	assert_success
	refute_output --partial RWF_DSYNC
	run count_syscalls "$T" fdatasync '/f>'
	assert_output 2
	run count_syscalls "$T" fsync '/f>'
	assert_output 1
}

@test "mode = atomic with atomic = auto where only software atomics exist: open refused, saying why" {
	local d=$WT_SCRATCH_XFS/mauto
	mkdir -p "$d"
	conf "$d" pwritev2 atomic auto
	run wt_run "$CONF" "$W" "$d/f" 'expect EOPNOTSUPP open rw,creat'
	assert_success
	assert_output --partial "only does in software"
}

@test "atomic = require on a full XFS: ENOSPC reaches the caller and the log, the next fsync is real" {
	local d=$WT_SMALL/full
	mkdir -p "$d"
	conf "$d" pwritev2 atomic require
	# Preallocated blocks, then the file system filled by someone else.
	wt_run "$CONF" "$W" "$d/f" 'open rw,creat; pwrite 0 1m Z; fsync'
	run "$W" "$WT_SMALL/filler" 'open rw,creat; fill 0 1m X'
	run dd if=/dev/zero of="$WT_SMALL/filler2" bs=4k
	wt_strace "$T" "$CONF" "$W" "$d/f" \
		'open rw; try pwrite 0 64k A; try fsync; try fsync' >"$BATS_TEST_TMPDIR/out" 2>&1 || true
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line 'pwrite = -1 ENOSPC'
	assert_output --partial "atomic write of 65536 bytes at 0 failed: No space left on device"
	run count_syscalls "$T" fsync '/f>'
	assert_output 2
	rm -f "$WT_SMALL/filler" "$WT_SMALL/filler2"
}
