#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Unmodified PostgreSQL 15 under walthrough, on a scratch XFS on a loop
# device: start-up, pgbench, how many WAL syncs reach the kernel, segment
# creation and recycling, kill -9 with acknowledged commits, clean restarts,
# a streaming standby, and full_page_writes = off with atomic writes.

load helpers

PGBIN=$WT_PGBIN
PORT=54329
PG=$WT_TOP/scripts/pg
export WT_BUILD # scripts/pg preloads from there
WAL_CONF=$WT_TOP/config/postgres-wal.conf
ATOMIC_CONF=$WT_TOP/config/postgres-atomic.conf
SAN_REPORT='(Address|Thread|Leak|UndefinedBehavior)Sanitizer|runtime error:'

setup_file() {
	requires root loopdev xfs postgres strace || return 0
	[[ -r $WT_LIB ]] || fail "$WT_LIB missing: run make"
	LD_PRELOAD=$wt_preload true || fail "$WT_LIB does not load"
	# Not under BATS_FILE_TMPDIR: its mode 0700 parents keep user postgres
	# out. scratchfs tags it with WT_RUN_ID, so tests/run sweeps it too.
	PGT=$(mktemp -d /tmp/wt-pgtest.XXXXXX)
	chmod 0755 "$PGT"
	export PGT
	mkdir "$PGT/mnt"
	"$WT_SCRATCHFS" up xfs "$PGT/mnt" 3072 >/dev/null
	chmod 0755 "$PGT/mnt"
	install -m 0644 "$WT_TOP/bench/pgbench-insert.sql" "$PGT/mnt/insert.sql"
}

teardown_file() {
	[[ -n ${PGT:-} ]] || return 0
	"$WT_SCRATCHFS" down "$PGT/mnt"
	rmdir "$PGT/mnt" "$PGT"
}

setup() {
	wt_setup
	D=$PGT/mnt/t$BATS_TEST_NUMBER
	STARTED=()
}

# Stops exactly the clusters this test started, whatever happened.
teardown() {
	local d
	for d in "${STARTED[@]}"; do
		"$PG" stop "$d" immediate || true
	done
	# With a sanitized library, a report in a server's log fails the test.
	local bad=
	for d in "${STARTED[@]}"; do
		if grep -E "$SAN_REPORT" "$d/server.log" 2>/dev/null; then
			bad=$d/server.log
		fi
	done
	if [[ -n ${D:-} ]]; then
		rm -rf "$D"
	fi
	[[ -z $bad ]] || fail "sanitizer report in $bad"
}

# ---- helpers ------------------------------------------------------------

# init NAME [initdb options]: a cluster in $D/NAME, with data checksums.
pg_init() {
	local name=$1; shift
	mkdir -p "$D"
	chmod 0755 "$D"
	"$PG" init "$D/$name" --checksums "$@"
}

# start NAME [--walthrough CONF [--stats]] [postgres options…]
pg_start() {
	local name=$1 wt=(); shift
	if [[ ${1:-} == --walthrough ]]; then
		wt=(--walthrough "$2")
		shift 2
		[[ ${1:-} == --stats ]] && wt+=("$1") && shift
	fi
	STARTED+=("$D/$name")
	"$PG" start "$D/$name" "$PORT" "${wt[@]}" -- -c log_checkpoints=on \
		-c fsync=on -c synchronous_commit=on "$@"
}

# Under walthrough (--stats first if wanted), and check that the library
# is really in the postmaster.
pg_start_wt() {
	local name=$1; shift
	pg_start "$name" --walthrough "$WAL_CONF" "$@"
	local pid
	pid=$("$PG" pid "$D/$name")
	grep -q libwalthrough "/proc/$pid/maps" ||
		fail "libwalthrough.so not mapped in postmaster $pid"
}

pg_stop() { "$PG" stop "$D/$1" "${2:-fast}"; }

# sql NAME 'statement' → prints unaligned, tuples-only result.
sql() { "$PG" psql "$D/$1" -Atq -c "$2"; }

pgbench() {
	local name=$1; shift
	"$PG" run "$D/$name" "$PGBIN/pgbench" "$@"
}

mk_commit_table() {
	sql "$1" 'CREATE TABLE wt_commit (id bigserial PRIMARY KEY, v int, t timestamptz DEFAULT now())'
}

# Number of the WAL segment holding the current insert position.
cur_segno() {
	local f
	f=$(sql "$1" 'SELECT pg_walfile_name(pg_current_wal_insert_lsn())')
	echo $((16#${f:8:8} * 16#100000000 / $(seg_bytes "$1") + 16#${f:16:8}))
}

seg_bytes() { sql "$1" "SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'"; }

# Successful fsync/fdatasync calls on pg_wal/ files in strace -y output $1.
wal_syncs() {
	echo $(($(count_syscalls "$1" fsync '/pg_wal/[^>]*>') +
		$(count_syscalls "$1" fdatasync '/pg_wal/[^>]*>')))
}

# No walthrough errors, no PANIC in NAME's server log.
assert_log_clean() {
	local log=$D/$1/server.log
	if grep -E 'walthrough\[[0-9]+\]: error|PANIC' "$log"; then
		fail "errors in $log"
	fi
}

log_note() { echo "# $*" >&3; }

# ---- tests --------------------------------------------------------------

@test "initdb and start under walthrough, pgbench -i and a short run" {
	pg_init a
	pg_start_wt a
	run pgbench a -i -s 2 -q
	assert_success
	run pgbench a -n -c 2 -j 2 -t 500
	assert_success
	assert_output --partial 'number of failed transactions: 0'
	run sql a 'SELECT count(*) FROM pgbench_history'
	assert_output 1000
	run sql a 'CHECKPOINT'
	assert_success
	assert_log_clean a
}

@test "WAL syncs that reach the kernel: stock about one per commit, walthrough one per segment" {
	local n=400 stock wt segs
	pg_init a
	pg_start a
	mk_commit_table a
	"$PG" trace-start "$D/a" "$D/stock.strace"
	run pgbench a -n -f "$PGT/mnt/insert.sql" -c 1 -t "$n"
	"$PG" trace-stop "$D/a"
	assert_success
	stock=$(wal_syncs "$D/stock.strace")
	pg_stop a

	pg_start_wt a
	local s0 s1
	s0=$(cur_segno a)
	"$PG" trace-start "$D/a" "$D/wt.strace"
	run pgbench a -n -f "$PGT/mnt/insert.sql" -c 1 -t "$n"
	"$PG" trace-stop "$D/a"
	assert_success
	s1=$(cur_segno a)
	wt=$(wal_syncs "$D/wt.strace")
	segs=$((s1 - s0 + 1))
	log_note "$n commits: WAL syncs reaching the kernel: stock $stock, walthrough $wt ($segs segment(s) touched)"
	# Stock: each commit flushes the WAL itself (a few may be shared).
	((stock >= n * 9 / 10)) || fail "stock made $stock WAL syncs for $n commits"
	((wt <= segs + 3)) || {
		grep -E 'pg_wal/' "$D/wt.strace" | head -20
		fail "walthrough let $wt WAL syncs through for $segs segment(s)"
	}
	run sql a 'SELECT count(*) FROM wt_commit'
	assert_output $((2 * n))
	assert_log_clean a
}

@test "WAL segments are created (wal_init_zero) and recycled, and read back" {
	pg_init a --wal-segsize=1
	pg_start_wt a -c wal_init_zero=on -c wal_recycle=on \
		-c min_wal_size=4MB -c max_wal_size=8MB
	sql a 'CREATE TABLE w (id int, pad text)'
	# A segment whose inode was never seen before was created.
	local i
	for i in 0 1 2 3 4; do
		stat -c %i "$D"/a/pg_wal/0* >>"$D/inodes"
		((i < 4)) || break
		# ~2.5 MB of WAL, then a checkpoint to free segments for reuse.
		sql a "INSERT INTO w SELECT g, repeat('x', 200) FROM generate_series(1, 10000) g"
		sql a 'CHECKPOINT'
	done
	local created recycled
	created=$(sort -u "$D/inodes" | wc -l)
	recycled=$(grep -Eo '[0-9]+ recycled' "$D/a/server.log" | awk '{ n += $1 } END { print n + 0 }')
	log_note "WAL segments: $created created, $recycled recycled"
	((created >= 4)) || fail "only $created segments ever existed"
	((recycled >= 1)) || fail "no segment was recycled"
	# This WAL now goes into recycled segments: read it back record by record.
	local start end
	start=$(sql a 'SELECT pg_current_wal_insert_lsn()')
	sql a "INSERT INTO w SELECT g, repeat('y', 200) FROM generate_series(1, 8000) g"
	end=$(sql a 'SELECT pg_current_wal_flush_lsn()')
	run "$PG" run "$D/a" "$PGBIN/pg_waldump" --stats -p "$D/a/pg_wal" -s "$start" -e "$end"
	assert_success
	assert_output --partial 'Total'
	# And recovery reads them too.
	"$PG" crash "$D/a"
	pg_start_wt a
	run sql a "SELECT count(*), count(*) FILTER (WHERE pad LIKE 'y%') FROM w"
	assert_output '48000|8000'
	assert_log_clean a
}

@test "acknowledged single-row commits survive kill -9 of the postmaster" {
	pg_init a
	pg_start_wt a
	sql a 'CREATE TABLE acked (id int PRIMARY KEY)'
	# One INSERT per transaction; a line of output is an acknowledged commit.
	seq 1 1000000 | sed 's/.*/INSERT INTO acked VALUES (&) RETURNING id;/' |
		"$PG" psql "$D/a" -Atq >"$D/acked.out" 2>"$D/client.err" 3>&- &
	local client=$! i n=0
	for ((i = 0; i < 300; i++)); do
		n=$(sql a 'SELECT count(*) FROM acked')
		((n >= 500)) && break
		sleep 0.1
	done
	((n >= 500)) || fail "only $n rows after 30 s"
	"$PG" crash "$D/a"
	local rc=0
	wait "$client" || rc=$?
	((rc != 0)) || fail "client did not notice the crash"
	pg_start_wt a
	n=$(wc -l <"$D/acked.out")
	((n >= 500)) || fail "client saw $n acknowledgements"
	log_note "$n acknowledged commits before kill -9"
	# Every acknowledged id must be there.
	chmod 0644 "$D/acked.out"
	run "$PG" psql "$D/a" -Atq <<-EOF
		CREATE TEMP TABLE seen (id int);
		\copy seen FROM '$D/acked.out'
		SELECT count(*) FROM seen LEFT JOIN acked USING (id) WHERE acked.id IS NULL;
	EOF
	assert_success
	assert_output 0
	grep -q 'database system was interrupted' "$D/a/server.log" ||
		fail "no crash recovery happened"
	assert_log_clean a
}

@test "clean stop and start under walthrough" {
	pg_init a
	pg_start_wt a
	run pgbench a -i -s 1 -q
	assert_success
	run pgbench a -n -c 1 -t 200
	assert_success
	local before
	before=$(sql a 'SELECT sum(delta), count(*) FROM pgbench_history')
	pg_stop a
	grep -q 'database system is shut down' "$D/a/server.log" ||
		fail "no clean shutdown in the log"
	pg_start_wt a
	run sql a 'SELECT sum(delta), count(*) FROM pgbench_history'
	assert_output "$before"
	if grep 'was not properly shut down' "$D/a/server.log"; then
		fail "the stop was not clean"
	fi
	pg_stop a smart
	pg_start_wt a
	run pgbench a -n -c 1 -t 100
	assert_success
	assert_log_clean a
}

@test "a streaming standby under walthrough receives and replays the WAL" {
	pg_init p
	pg_start_wt p
	run pgbench p -i -s 2 -q
	assert_success
	"$PG" basebackup "$D/p" "$D/s"
	pg_start_wt s --stats
	run sql s 'SELECT pg_is_in_recovery()'
	assert_output t
	mk_commit_table p
	run pgbench p -n -c 2 -j 2 -t 300
	assert_success
	run pgbench p -n -f "$PGT/mnt/insert.sql" -c 2 -j 2 -t 300
	assert_success
	wait_replayed p s
	run sql s "SELECT status FROM pg_stat_wal_receiver"
	assert_output streaming
	same_data p s
	# The walreceiver's writes (any length, any offset) went through walthrough.
	local st
	st=$("$PG" stats "$D/s" --prometheus | awk '
		/^walthrough_(direct|dsync|burst)_writes_total/ { w += $NF }
		/^walthrough_syncs_skipped_total/ { s += $NF }
		/^walthrough_syncs_passed_total/ { p += $NF }
		END { print w + 0, s + 0, p + 0 }')
	log_note "standby WAL: writes, syncs skipped, syncs passed: $st"
	((${st%% *} > 0)) || fail "no standby WAL write went through walthrough"

	# A crashed standby catches up again from its own WAL and the primary.
	"$PG" crash "$D/s"
	run pgbench p -n -f "$PGT/mnt/insert.sql" -c 2 -j 2 -t 300
	assert_success
	pg_start_wt s
	wait_replayed p s
	same_data p s
	assert_log_clean p
	assert_log_clean s
}

# Waits until standby $2 has replayed everything primary $1 has written.
wait_replayed() {
	local target i
	target=$(sql "$1" 'SELECT pg_current_wal_flush_lsn()')
	for ((i = 0; i < 600; i++)); do
		[[ $(sql "$2" "SELECT pg_last_wal_replay_lsn() >= '$target'") == t ]] &&
			return 0
		sleep 0.1
	done
	fail "standby did not replay up to $target in 60 s"
}

same_data() {
	local q="SELECT (SELECT md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts),
		(SELECT count(*) || ':' || sum(v) FROM wt_commit)"
	local a b
	a=$(sql "$1" "$q")
	b=$(sql "$2" "$q")
	[[ $a == "$b" ]] || fail "primary $a, standby $b"
}

@test "full_page_writes=off with the atomic config on XFS: pgbench, checkpoint, restart" {
	run "$WT_CLI" probe --json "$PGT/mnt"
	((status == 0)) || skip "mode = atomic not available yet (issue 3): walthrough probe failed"
	[[ $output == *'"atomic_require": "yes"'* ]] ||
		skip "walthrough probe: no atomic writes on this XFS (needs RWF_ATOMIC, Linux 6.11+)"
	pg_init a
	pg_start a --walthrough "$ATOMIC_CONF" --stats -c full_page_writes=off
	run pgbench a -i -s 2 -q
	assert_success
	sql a 'CHECKPOINT'
	# Pages changed after a checkpoint, no full-page images in the WAL to
	# repair them: recovery relies on every page write having been whole.
	run pgbench a -n -c 2 -j 2 -t 500
	assert_success
	local atomic
	atomic=$("$PG" stats "$D/a" --prometheus |
		awk '/^walthrough_atomic_writes_total\{rule=".*base/ { n += $NF } END { print n + 0 }')
	log_note "$atomic atomic page writes to base/"
	((atomic > 0)) || fail "no atomic writes to base/"
	local before
	before=$(sql a 'SELECT sum(delta), count(*) FROM pgbench_history')
	"$PG" crash "$D/a"
	pg_start a --walthrough "$ATOMIC_CONF" -c full_page_writes=off
	run sql a 'SELECT sum(delta), count(*) FROM pgbench_history'
	assert_output "$before"
	run pgbench a -n -c 2 -j 2 -t 200
	assert_success
	sql a 'CHECKPOINT'
	pg_stop a
	pg_start a --walthrough "$ATOMIC_CONF" -c full_page_writes=off
	run sql a 'SELECT count(*) FROM pgbench_history'
	assert_output 1400 # 2 clients × (500 + 200)
	pg_stop a
	run "$PG" run "$D/a" "$PGBIN/pg_checksums" --check -D "$D/a"
	assert_success
	assert_log_clean a
	if grep -E 'walthrough\[[0-9]+\]: warn' "$D/a/server.log"; then
		fail "walthrough warned (above)"
	fi
}
