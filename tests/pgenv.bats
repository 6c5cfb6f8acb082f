#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# pgenv.bats - docs/postgresql.md's recipe, followed on a throw-away
# cluster "15 wttest" made with Debian's pg_createcluster on a scratch XFS:
# its environment file preloads the library (checked in the postmaster's
# /proc/PID/maps), SQL works, WAL syncs are skipped, and the systemd
# drop-in's check does what it says. The default cluster 15/main is never
# named by any command here, and is checked to be untouched.

load helpers

VER=15
CL=wttest
PORT=5499
ETC=/etc/postgresql/$VER/$CL
DROPIN=$WT_TOP/config/systemd/postgresql@.service.d/walthrough.conf
DOC=$WT_TOP/docs/postgresql.md

# What 15/main looks like: status line, config files' checksums.
main_state() {
	pg_lsclusters --no-header 2>/dev/null | awk '$1 == "15" && $2 == "main" { $1 = $1; print }'
	if [[ -d /etc/postgresql/15/main ]]; then
		(cd /etc/postgresql/15/main && find . -type f -print0 | sort -z | xargs -0 md5sum)
	fi
}

setup_file() {
	requires root loopdev xfs postgres || return 0
	command -v pg_createcluster >/dev/null ||
		{ fail "pg_createcluster missing (Debian package postgresql-common)"; return 1; }
	[[ -r $WT_LIB ]] || { fail "$WT_LIB missing: run make"; return 1; }
	setpriv --reuid=postgres --regid=postgres --init-groups test -r "$WT_LIB" ||
		{ fail "user postgres cannot read $WT_LIB (a parent directory mode 0700?)"; return 1; }
	# Never take over a cluster or port that is someone else's.
	if [[ -e $ETC ]]; then
		fail "$ETC exists: a cluster $VER/$CL is already there; drop it first"
		return 1
	fi
	if pg_lsclusters --no-header | awk -v p=$PORT '$3 == p { f = 1 } END { exit !f }'; then
		fail "port $PORT is taken by another cluster"
		return 1
	fi
	main_state >"$BATS_FILE_TMPDIR/main.before"
	# Not under BATS_FILE_TMPDIR: its mode 0700 parents keep user postgres out.
	PGT=$(mktemp -d /tmp/wt-pgenv.XXXXXX)
	chmod 0755 "$PGT"
	export PGT
	mkdir "$PGT/mnt"
	"$WT_SCRATCHFS" up xfs "$PGT/mnt" 1024 >/dev/null
	chmod 0755 "$PGT/mnt"
	export DATA=$PGT/mnt/data
	export STATS=/dev/shm/walthrough-pgenv-$$.stats
	pg_createcluster $VER $CL -p $PORT -d "$DATA" --start-conf=manual \
		-- --auth=trust -E UTF8 --locale=C >"$BATS_FILE_TMPDIR/create.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/create.log" >&2; fail "pg_createcluster failed"; return 1; }
	export CREATED=1
}

# Kills what is left of this cluster's processes (a start that hung): each
# named by PID, found by the data directory, which is unique to this run.
kill_leftovers() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "$DATA" && kill -KILL "$pid" 2>/dev/null
	done
	return 0
}

teardown_file() {
	[[ -n ${PGT:-} ]] || return 0
	if [[ -n ${CREATED:-} ]]; then
		timeout 300 pg_dropcluster --stop $VER $CL || true
		kill_leftovers
		# Ours, not pg_createcluster's: it would keep the directory.
		rm -f "$ETC/walthrough.conf"
		rmdir "$ETC" 2>/dev/null || true
	fi
	rm -f "$STATS"
	"$WT_SCRATCHFS" down "$PGT/mnt"
	rmdir "$PGT/mnt" "$PGT"
}

setup() {
	wt_setup
}

# pg_ctlcluster ACTION, bounded, without bats' fd 3 (a server holding it
# keeps bats waiting).
pgctl() {
	timeout 300 pg_ctlcluster $VER $CL "$@" 3>&-
}

psql_wt() {
	setpriv --reuid=postgres --regid=postgres --init-groups -- \
		env HOME=/var/lib/postgresql psql -X -q -At -h /var/run/postgresql -p $PORT -U postgres "$@"
}

pm_pid() {
	head -n1 "$DATA/postmaster.pid"
}

# PID runs (a zombie does not: nothing here may reap an orphaned postmaster).
alive() {
	local st
	st=$(ps -o stat= -p "$1") || return 1
	[[ $st != Z* ]]
}

# The recipe: the config next to the cluster's settings, made from the
# shipped example for the data directory as realpath prints it, with
# counters on; two lines in the environment file pointing at the built
# library and that config.
@test "the environment file recipe starts the cluster with the library loaded" {
	local real
	real=$(realpath "$DATA")
	sed -e "s|@PGDATA@|$real|" -e "s|^#stats = .*|stats = $STATS|" \
		"$WT_TOP/config/postgres-wal.conf" >"$ETC/walthrough.conf"
	chmod 0644 "$ETC/walthrough.conf"
	run -0 "$WT_CLI" check "$ETC/walthrough.conf"
	assert_line "rule 1 (line $(grep -n '^\[path ' "$ETC/walthrough.conf" | cut -d: -f1)): $real/pg_wal/* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
	# The lines of the recipe, with the built library for the installed one.
	grep -qxF "LD_PRELOAD = '/usr/lib/walthrough/libwalthrough.so'" "$DOC"
	grep -qxF "WALTHROUGH_CONFIG = '/etc/postgresql/15/main/walthrough.conf'" "$DOC"
	# (A sanitized build: its runtime first, and its options.)
	cat >>"$ETC/environment" <<-EOF
		LD_PRELOAD = '$wt_pg_preload'
		WALTHROUGH_CONFIG = '$ETC/walthrough.conf'
	EOF
	local kv
	for kv in "${wt_san_env[@]}"; do
		echo "${kv%%=*} = '${kv#*=}'" >>"$ETC/environment"
	done

	run pgctl start
	assert_success
	local pid
	pid=$(pm_pid)
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid"
	run -0 grep -F "$(realpath "$WT_LIB")" "/proc/$pid/maps"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qxF "WALTHROUGH_CONFIG=$ETC/walthrough.conf"

	# A few statements, each its own transaction: one WAL write and one
	# fdatasync per commit.
	run -0 psql_wt -c "create table t (i int primary key, s text)"
	local i
	for i in $(seq 1 20); do
		psql_wt -c "insert into t values ($i, repeat('x', 100))"
	done
	run -0 psql_wt -c "update t set s = 'y' where i % 2 = 0"
	run -0 psql_wt -c "select count(*), sum(i), count(*) filter (where s = 'y') from t"
	assert_output "20|210|10"
	run -0 psql_wt -c "checkpoint"

	# The library counts what it did: WAL writes, syncs it skipped.
	run -0 "$WT_CLI" stats -c "$ETC/walthrough.conf" --prometheus
	local writes skipped
	writes=$(awk -v k="walthrough_writes_total{rule=\"$real/pg_wal/*\"}" '$1 == k { print $2 }' <<<"$output")
	skipped=$(awk -v k="walthrough_syncs_skipped_total{rule=\"$real/pg_wal/*\"}" '$1 == k { print $2 }' <<<"$output")
	((writes >= 22)) || fail "only '$writes' WAL writes counted"
	# 22 commits, each one WAL write and one fdatasync: all but the first skipped.
	((skipped >= 20)) || fail "only '$skipped' WAL syncs skipped of 22 commits"

	run pgctl stop
	assert_success
	! alive "$pid" || fail "postmaster $pid still running after stop"
	# Nothing from the library in the server log but what it was told to say.
	run grep -E 'walthrough\[[0-9]+\]: (error|warn)' "/var/log/postgresql/postgresql-$VER-$CL.log"
	assert_failure
	# Nor a sanitizer's report (a sanitized build).
	run grep -E '(Address|Thread|UndefinedBehavior)Sanitizer|runtime error:' "/var/log/postgresql/postgresql-$VER-$CL.log"
	assert_failure
	# Started again, the data is there.
	run -0 pgctl start
	run -0 psql_wt -c "select count(*) from t"
	assert_output "20"
	run -0 pgctl stop
}

# How systemd would run the drop-in's ExecStartPre for instance INSTANCE
# (e.g. 15-wttest): %I is the instance with '-' as '/', $$ is $.
dropin_check() {
	local line cmd inst=${1//-//}
	line=$(grep '^ExecStartPre=/bin/sh -c ' "$DROPIN")
	cmd=${line#ExecStartPre=/bin/sh -c \'}
	cmd=${cmd%\'}
	cmd=${cmd//%I/$inst}
	cmd=${cmd//\$\$/\$}
	/bin/sh -c "$cmd"
}

@test "the systemd drop-in is valid and refuses a cluster with a broken config" {
	grep -qF "$(grep '^ExecStartPre=' "$DROPIN")" "$DOC" ||
		fail "docs/postgresql.md does not show the drop-in's ExecStartPre line"
	if command -v systemd-analyze >/dev/null; then
		local u=$BATS_TEST_TMPDIR/units
		mkdir -p "$u/postgresql@.service.d"
		cp /lib/systemd/system/postgresql@.service "$u/"
		cp "$DROPIN" "$u/postgresql@.service.d/"
		run -0 --separate-stderr env SYSTEMD_UNIT_PATH="$u:" systemd-analyze verify "postgresql@$VER-$CL.service"
		assert_equal "$stderr" ""
	fi
	# The check itself, as systemd would run it for this cluster. With
	# the Debian package the CLI is /usr/bin/walthrough; here, the built one.
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	sed "s|/usr/bin/walthrough|$WT_CLI|" "$DROPIN" >"$bin/dropin.conf"
	DROPIN=$bin/dropin.conf

	rm -f "$ETC/walthrough.conf"
	run -0 dropin_check "$VER-$CL"                # no config: starts as usual
	printf '[global]\nlog_level = loud\n' >"$ETC/walthrough.conf"
	chmod 0644 "$ETC/walthrough.conf"
	run -1 dropin_check "$VER-$CL"                # a broken one: refused
	assert_output --partial "bad value 'loud' for log_level"
	sed "s|@PGDATA@|$(realpath "$DATA")|" "$WT_TOP/config/postgres-wal.conf" >"$ETC/walthrough.conf"
	run -0 dropin_check "$VER-$CL"                # a good one
	assert_line --index 0 "$ETC/walthrough.conf: valid"
}

@test "the default cluster 15/main was not touched" {
	main_state >"$BATS_TEST_TMPDIR/main.after"
	run diff "$BATS_FILE_TMPDIR/main.before" "$BATS_TEST_TMPDIR/main.after"
	assert_success
}
