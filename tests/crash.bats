#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Power loss at many points of a workload, on a disk that logs every write
# and cache flush (tests/crash/): no acknowledged record or commit may be
# lost, no page corrupt, stock or under walthrough, and the same harness must
# catch a preload that drops syncs and PostgreSQL without full-page writes on
# a disk that tears 4 KiB writes. CRASH_POINTS crash points per variant
# (default 50; `make crash-test` runs 500 of each through tests/crash/run).

load helpers

RUN=$WT_TOP/tests/crash/run
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
			printf '# %-16s %6s %6s %8s %6s  %-8s %s\n' variant points lost \
				corrupt errors verdict time
			sed 's/^/# /' "$BATS_FILE_TMPDIR/table"
		} >&3
	fi
	scratch_fs_cleanup
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
