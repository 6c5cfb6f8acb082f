#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Power loss at many points of a workload, on a disk that logs every write
# and cache flush (tests/crash/): no acknowledged record or commit may be
# lost, no page corrupt, stock or under walthrough, and the same harness must
# catch a preload that drops syncs and PostgreSQL without full-page writes on
# a disk that tears 4 KiB writes. CRASH_POINTS crash points per variant
# (default 50; `make crash-test` runs 500 of each through tests/crash/run).
# And the harness itself: an image that does not mount is damage, a machine
# that gives no loop device or mount point is an environment error (never
# counted as damage), and two runs at once do not meet.

load helpers

RUN=$WT_TOP/tests/crash/run
DISK=$WT_TOP/tests/crash/disk
HOSTILE=$WT_TOP/tests/crash/hostile
CB=$WT_BUILD/crash
export WT_BUILD

setup_file() {
	requires root loopdev xfs fuse postgres || return 0
	local f
	for f in logdisk replay recwriter reaper nosync.so; do
		[[ -e $CB/$f ]] || fail "$CB/$f missing: run make crash"
	done
	: >"$BATS_FILE_TMPDIR/table"
}

teardown_file() {
	if [[ -s $BATS_FILE_TMPDIR/table ]]; then
		{
			printf '# %-16s %6s %6s %8s %6s %5s  %-8s %s\n' variant points lost \
				corrupt errors env verdict time
			sed 's/^/# /' "$BATS_FILE_TMPDIR/table"
		} >&3
	fi
	scratch_fs_cleanup
}

# Work directories of the harness tests (their own, outside bats' 0700
# tree: user postgres walks into them), and whatever a run cut short left
# in them: processes, mounts, loop devices bound to files there.
crash_tmpdir() {
	local d
	d=$(mktemp -d /tmp/wt-crash-test.XXXXXX)
	chmod 0755 "$d"
	echo "$d" >>"$BATS_TEST_TMPDIR/dirs"
	echo "$d"
}

teardown() {
	local d
	[[ -r $BATS_TEST_TMPDIR/dirs ]] || return 0
	while read -r d; do
		"$DISK" sweep "$d" || true
		rm -rf "$d"
	done <"$BATS_TEST_TMPDIR/dirs"
}

# Loop devices bound to a file under $1.
loops_under() {
	losetup -n -l -O BACK-FILE | awk -v d="$1/" 'index($0, d) == 1' | wc -l
}

# A hook that hides every loop device from the harness while it checks
# (tests/crash/hostile; the run must be under `hostile ns`).
noloop_hook() {
	cat >"$1" <<-EOF
	#!/bin/bash
	case \$1 in
	checks-begin) exec "$HOSTILE" noloop on ;;
	checks-end) exec "$HOSTILE" noloop off ;;
	esac
	EOF
	chmod +x "$1"
}

# crash_variant NAME - runs one variant; its row goes to the table printed
# at the end, its whole output to the log of a failing test.
crash_variant() {
	run "$RUN" --points "${CRASH_POINTS:-50}" "$1"
	printf '%s\n' "$output"
	grep -E "^$1 " <<<"$output" | tail -n1 >>"$BATS_FILE_TMPDIR/table" || true
	assert_success
	assert_line --regexp "^$1 +[0-9]+ .* (PASS|CAUGHT) "
}

requires_lib() {
	[[ -r $WT_LIB ]] || fail "$WT_LIB missing: run make"
}

@test "crash: write+fdatasync records, stock: none lost at any point" {
	crash_variant c-stock
}

@test "crash: write+fdatasync records under walthrough: none lost" {
	requires_lib
	crash_variant c-walthrough
}

@test "crash: records stored through a shared mapping made writable by mprotect, under walthrough: none lost" {
	requires_lib
	crash_variant c-walthrough-mmap
}

@test "crash: records written through an fd opened under a name no rule covers, renamed under the rule, under walthrough: none lost" {
	requires_lib
	crash_variant c-walthrough-rename
}

@test "crash: write+fdatasync records with syncs dropped (control): losses caught" {
	crash_variant c-nosync
}

@test "crash: PostgreSQL stock: no acknowledged commit lost, no page corrupt" {
	crash_variant pg-stock
}

@test "crash: PostgreSQL under walthrough (postgres-wal.conf): none lost, none corrupt" {
	requires_lib
	crash_variant pg-walthrough
}

@test "crash: PostgreSQL under walthrough, pg_wal/xlogtemp.* passthrough, segments renamed under the rule: none lost, none corrupt" {
	requires_lib
	crash_variant pg-walthrough-rename
}

@test "crash: PostgreSQL with syncs dropped (control): lost commits caught" {
	crash_variant pg-nosync
}

@test "crash: PostgreSQL full_page_writes=off, 4 KiB torn writes (control): corruption caught" {
	crash_variant pg-fpw-off-torn
}

@test "crash: PostgreSQL, atomic config with full_page_writes=off, 4 KiB torn writes: none lost, none corrupt" {
	requires_lib
	crash_variant pg-atomic
}

@test "crash/disk: an image that does not mount is damage; no loop device or a busy mount point is an environment error" {
	local t img
	t=$(crash_tmpdir)
	img=$t/good.img
	truncate -s 320M "$img"
	mkfs.xfs -q "$img"
	export CRASH_ATTACH_TRIES=2

	run "$DISK" attach "$img" "$t/m"
	assert_success
	run "$DISK" detach "$t/m" --fsck
	assert_success

	# A superblock gone: the image's own fault, twice on a fresh binding.
	cp --sparse=always "$img" "$t/bad.img"
	dd if=/dev/zero of="$t/bad.img" bs=4096 count=1 conv=notrunc status=none
	run "$DISK" attach "$t/bad.img" "$t/m"
	printf '%s\n' "$output"
	assert_equal "$status" 4
	assert_output --partial "does not mount (twice"
	refute_output --partial "environment error"

	# Something else on the mount point: left alone, and not the image.
	mkdir -p "$t/busy"
	mount -t tmpfs wt-crash-busy "$t/busy"
	run "$DISK" attach "$img" "$t/busy"
	printf '%s\n' "$output"
	assert_equal "$(findmnt -n -o SOURCE --mountpoint "$t/busy")" wt-crash-busy
	umount "$t/busy"
	assert_equal "$status" 5
	assert_output --partial "environment error: "
	assert_output --partial "already a mount point"

	# No loop device to be had.
	run "$HOSTILE" ns bash -c '"$1" noloop on && exec "$2" attach "$3" "$4"' - \
		"$HOSTILE" "$DISK" "$img" "$t/m"
	printf '%s\n' "$output"
	assert_equal "$status" 5
	assert_output --partial "environment error: "
	assert_output --partial "no loop device"

	assert_equal "$(loops_under "$t")" 0
	refute mountpoint -q "$t/m"
}

@test "crash: no loop device while points are checked: environment errors, not damage, and a control is not caught (exit 3)" {
	local t
	t=$(crash_tmpdir)
	noloop_hook "$t/hook"
	run env CRASH_TMPDIR="$t" CRASH_HOOK="$t/hook" CRASH_ATTACH_TRIES=2 \
		timeout -k 10 120 "$HOSTILE" ns "$RUN" --points 4 c-stock c-nosync
	printf '%s\n' "$output"
	assert_equal "$status" 3
	assert_line --regexp '^c-stock +4 +0 +0 +0 +4  ERROR '
	assert_line --regexp '^c-nosync +4 +0 +0 +0 +4  ERROR '
	assert_output --partial "environment error: "
	refute_output --partial unmountable
	assert_equal "$(loops_under "$t")" 0
}

@test "crash: no loop device at all: the harness stops with an environment error (exit 3), nothing counted" {
	local t
	t=$(crash_tmpdir)
	run env CRASH_TMPDIR="$t" CRASH_ATTACH_TRIES=2 timeout -k 10 60 "$HOSTILE" ns \
		bash -c '"$1" noloop on && exec "$2" --points 4 c-stock' - "$HOSTILE" "$RUN"
	printf '%s\n' "$output"
	assert_equal "$status" 3
	assert_output --partial "crash: environment error: the scratch file system could not be attached"
	refute_line --regexp '^c-stock +[0-9]'
	assert_equal "$(ls -A "$t")" ""
}

@test "crash: two runs at once (C under walthrough, PostgreSQL): both pass" {
	requires_lib
	local t a b ra=0 rb=0
	t=$(crash_tmpdir)
	mkdir -m 0755 "$t/a" "$t/b"
	CRASH_TMPDIR=$t/a timeout -k 10 150 "$RUN" --points 6 --seconds 2 --jobs 1 \
		c-walthrough pg-stock >"$t/a.out" 2>&1 &
	a=$!
	CRASH_TMPDIR=$t/b timeout -k 10 150 "$RUN" --points 6 --seconds 2 --jobs 1 \
		c-walthrough pg-stock >"$t/b.out" 2>&1 &
	b=$!
	wait "$a" || ra=$?
	wait "$b" || rb=$?
	cat "$t/a.out" "$t/b.out"
	assert_equal "$ra $rb" "0 0"
	run cat "$t/a.out" "$t/b.out"
	assert_equal "$(grep -cE '^(c-walthrough|pg-stock) +6 +0 +0 +0 +0  PASS ' <<<"$output")" 4
	# Each took down and removed all it made.
	assert_equal "$(find "$t/a" "$t/b" -mindepth 1 | wc -l)" 0
	assert_equal "$(loops_under "$t")" 0
}
