#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# config.bats - the config file as a DBA meets it: `walthrough check`
# reports every problem as FILE:LINE with a specific message and exit 1,
# accepts the examples in config/, refuses files it must not read (FIFO,
# directory, huge, group-writable) without hanging, and `walthrough match`
# shows which rule a path falls under after normalisation.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	export WT_BUILD=${WT_BUILD:-$BATS_TEST_DIRNAME/../build}
	export WT=$WT_BUILD/walthrough
	export TOP=$BATS_TEST_DIRNAME/..
	if [[ ! -x $WT ]]; then
		echo "$WT missing: make $(basename "$WT_BUILD")/walthrough" >&2
		return 1
	fi
}

teardown() {
	if [[ -n ${PUBDIR:-} ]]; then
		rm -rf -- "$PUBDIR"
	fi
}

# conf [NAME] <TEXT: writes TEXT to $BATS_TEST_TMPDIR/NAME, mode 0644, as $F.
conf() {
	F=$BATS_TEST_TMPDIR/${1:-walthrough.conf}
	cat >"$F"
	chmod 0644 "$F"
}

# check_fails FILE: `walthrough check FILE` must exit 1 with nothing on
# stdout; its stderr is left in $output and $lines for assert_line.
check_fails() {
	run -1 --separate-stderr "$WT" check "$1"
	assert_equal "$output" ""
	output=$stderr
	lines=("${stderr_lines[@]}")
}

# check_ok FILE: `walthrough check FILE` must succeed, silent on stderr.
check_ok() {
	run -0 --separate-stderr "$WT" check "$1"
	assert_equal "$stderr" ""
	assert_line --index 0 "$1: valid"
}

# One problem, exactly this line.
only_problem() {
	assert_equal "${#lines[@]}" 1
	assert_line --index 0 "$1"
}

# ---- valid configs --------------------------------------------------------

@test "the examples in config/ pass once @PGDATA@ is filled in and mode is 0644" {
	local f n=0
	for f in "$TOP"/config/*.conf; do
		conf "$(basename "$f")" < <(sed 's|@PGDATA@|/var/lib/postgresql/15/main|g' "$f")
		check_ok "$F"
		refute_output --partial "no files are tracked"
		n=$((n + 1))
	done
	((n >= 2)) || fail "only $n example configs in config/"
}

@test "postgres-wal.conf: one writethrough rule for pg_wal/* of the data directory" {
	conf < <(sed 's|@PGDATA@|/var/lib/postgresql/15/main|g' "$TOP/config/postgres-wal.conf")
	check_ok "$F"
	assert_line "global: log_level=warn engine=auto stats=off"
	assert_line --regexp '^rule 1 \(line [0-9]+\): /var/lib/postgresql/15/main/pg_wal/\* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192$'
	assert_equal "${#lines[@]}" 3
}

@test "postgres-wal.conf as shipped: the @PGDATA@ placeholder is named, with what to put there" {
	conf < "$TOP/config/postgres-wal.conf"
	local line
	line=$(grep -n '^\[path @PGDATA@/pg_wal/\*\]' "$F" | cut -d: -f1)
	[[ -n $line ]] || fail "no [path @PGDATA@/pg_wal/*] rule in postgres-wal.conf"
	check_fails "$F"
	only_problem "$F:$line: glob '@PGDATA@/pg_wal/*' contains the placeholder @PGDATA@; replace it with the data directory, e.g. /var/lib/postgresql/15/main"
}

@test "generic.conf passes as shipped" {
	conf < "$TOP/config/generic.conf"
	check_ok "$F"
	assert_line --partial "mode=passthrough (left alone)"
}

@test "a full config: the summary shows global settings and each rule with its line" {
	conf <<-'EOF'
	# a comment
	[global]
	log_level = debug   # trailing comment
	engine = io_uring
	stats = /dev/shm/walthrough.stats

	[path /var/lib/postgresql/15/main/pg_wal/*]
	mode = writethrough
	writethrough_writes = 1
	atomic = auto
	atomic_unit = 8192
	[path /data/base/*/[0-9]*]
	mode = atomic
	atomic = require
	atomic_unit = 16384
	[path /tmp/x]
	mode = passthrough
	EOF
	check_ok "$F"
	assert_line --index 1 "global: log_level=debug engine=io_uring stats=/dev/shm/walthrough.stats"
	assert_line --index 2 "rule 1 (line 7): /var/lib/postgresql/15/main/pg_wal/* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
	assert_line --index 3 "rule 2 (line 12): /data/base/*/[0-9]* mode=atomic writethrough_writes=1 atomic=require atomic_unit=16384"
	assert_line --index 4 "rule 3 (line 16): /tmp/x mode=passthrough (left alone)"
	assert_equal "${#lines[@]}" 5
}

@test "keys left out take their defaults; [global] is optional" {
	conf <<-'EOF'
	[path /srv/j/*]
	EOF
	check_ok "$F"
	assert_line --index 1 "global: log_level=warn engine=auto stats=off"
	assert_line --index 2 "rule 1 (line 1): /srv/j/* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
}

@test "an empty config, or one with only [global], is valid and tracks no files" {
	conf </dev/null
	check_ok "$F"
	assert_line "no [path] rules: no files are tracked"
	conf <<-'EOF'
	# nothing but comments

	[global]
	log_level = error
	EOF
	check_ok "$F"
	assert_line "global: log_level=error engine=auto stats=off"
	assert_line "no [path] rules: no files are tracked"
}

@test "every allowed value of every key is accepted" {
	local v
	for v in error warn info debug; do
		conf < <(printf '[global]\nlog_level = %s\n' "$v")
		check_ok "$F"
		assert_line "global: log_level=$v engine=auto stats=off"
	done
	for v in auto io_uring pwritev2; do
		conf < <(printf '[global]\nengine = %s\n' "$v")
		check_ok "$F"
		assert_line "global: log_level=warn engine=$v stats=off"
	done
	for v in writethrough atomic passthrough; do
		conf < <(printf '[path /a]\nmode = %s\n' "$v")
		check_ok "$F"
		assert_line --partial "mode=$v"
	done
	for v in auto require off; do
		conf < <(printf '[path /a]\natomic = %s\n' "$v")
		check_ok "$F"
		assert_line --partial "atomic=$v"
	done
	for v in 1 2 906 1000000; do
		conf < <(printf '[path /a]\nwritethrough_writes = %s\n' "$v")
		check_ok "$F"
		assert_line --partial "writethrough_writes=$v "
	done
	for v in 512 4096 8192 65536 1048576; do
		conf < <(printf '[path /a]\natomic_unit = %s\n' "$v")
		check_ok "$F"
		assert_line --partial "atomic_unit=$v"
	done
}

@test "comments, blank lines, indentation, CRLF line ends and a byte-order mark are fine" {
	conf < <(printf '\xef\xbb\xbf# written on Windows\r\n\r\n  [global]  \r\n\tlog_level\t=\tinfo\t# why\r\n[path /srv/a#b/*]   # \x27#\x27 inside a word is not a comment\r\n  mode=writethrough#not-a-comment-either\r\n')
	# mode's value is "writethrough#not-a-comment-either": a bad value, on
	# purpose, to prove where comments start.
	check_fails "$F"
	only_problem "$F:6: bad value 'writethrough#not-a-comment-either' for mode; allowed: writethrough | atomic | passthrough"
	conf < <(printf '\xef\xbb\xbf# written on Windows\r\n\r\n  [global]  \r\n\tlog_level\t=\tinfo\t# why\r\n[path /srv/a#b/*]   # a comment\r\n  mode=writethrough\r\n')
	check_ok "$F"
	assert_line "global: log_level=info engine=auto stats=off"
	assert_line "rule 1 (line 5): /srv/a#b/* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
}

@test "UTF-8 text in comments and globs is fine" {
	conf <<-'EOF'
	# données — ログ
	[path /srv/données/*]
	EOF
	check_ok "$F"
	assert_line "rule 1 (line 2): /srv/données/* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
}

@test "a symbolic link to a valid config is followed" {
	conf real.conf <<-'EOF'
	[path /srv/a/*]
	EOF
	ln -s real.conf "$BATS_TEST_TMPDIR/link.conf"
	check_ok "$BATS_TEST_TMPDIR/link.conf"
	assert_line "rule 1 (line 1): /srv/a/* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
}

@test "a config of exactly 1 MiB and a line of exactly 4096 bytes are accepted" {
	conf < <(
		printf '#%.0s' {1..4096}
		printf '\n[path /a]\n'
		head -c $((1048576 - 4097 - 10)) /dev/zero | tr '\0' '\n'
	)
	assert_equal "$(stat -c %s "$F")" 1048576
	check_ok "$F"
}

# ---- one test per problem -------------------------------------------------

@test "unknown section" {
	conf <<-'EOF'
	[global]
	[paths /a]
	mode = writethrough
	EOF
	check_fails "$F"
	# The keys under it are not reported too: that would only be noise.
	only_problem "$F:2: unknown section [paths /a]; sections are [global] and [path /ABSOLUTE/GLOB]"
}

@test "a section that is a bare glob: did you mean [path …]" {
	conf <<-'EOF'
	[/srv/a/*]
	[path/srv/b/*]
	EOF
	check_fails "$F"
	assert_line --index 0 "$F:1: unknown section [/srv/a/*]; did you mean [path /srv/a/*]?"
	assert_line --index 1 "$F:2: unknown section [path/srv/b/*]; did you mean [path /srv/b/*]?"
	assert_equal "${#lines[@]}" 2
}

@test "section header without its closing bracket" {
	conf <<-'EOF'
	[global
	EOF
	check_fails "$F"
	only_problem "$F:1: section header '[global' has no closing ']'"
}

@test "unknown key in [global] names the keys [global] allows" {
	conf <<-'EOF'
	[global]
	loglevel = warn
	EOF
	check_fails "$F"
	only_problem "$F:2: unknown key 'loglevel' in [global]; [global] allows log_level, engine, stats"
}

@test "unknown key in [path] names the keys [path] allows" {
	conf <<-'EOF'
	[path /srv/a/*]
	writethrough-writes = 1
	EOF
	check_fails "$F"
	only_problem "$F:2: unknown key 'writethrough-writes' in [path /srv/a/*]; [path ...] allows mode, writethrough_writes, atomic, atomic_unit"
}

@test "a key in the wrong section says where it belongs" {
	conf <<-'EOF'
	[global]
	mode = writethrough
	[path /srv/a/*]
	log_level = debug
	EOF
	check_fails "$F"
	assert_line --index 0 "$F:2: key 'mode' belongs in a [path ...] section, not in [global]; [global] allows log_level, engine, stats"
	assert_line --index 1 "$F:4: key 'log_level' belongs in [global], not in [path /srv/a/*]; [path ...] allows mode, writethrough_writes, atomic, atomic_unit"
	assert_equal "${#lines[@]}" 2
}

@test "a key before any section" {
	conf <<-'EOF'
	# header comment
	log_level = warn
	[global]
	EOF
	check_fails "$F"
	only_problem "$F:2: key 'log_level' before any section; put it under [global]"
}

@test "bad values name the key and what is allowed" {
	# Triples: section, line 2, the problem reported for line 2.
	local -a cases=(
		'[global]' 'log_level = loud' 'bad value '\''loud'\'' for log_level; allowed: error | warn | info | debug'
		'[global]' 'log_level = WARN' 'bad value '\''WARN'\'' for log_level; allowed: error | warn | info | debug'
		'[global]' 'engine = aio' 'bad value '\''aio'\'' for engine; allowed: auto | io_uring | pwritev2'
		'[path /a]' 'mode = direct' 'bad value '\''direct'\'' for mode; allowed: writethrough | atomic | passthrough'
		'[path /a]' 'mode = writethrough atomic' 'bad value '\''writethrough atomic'\'' for mode; allowed: writethrough | atomic | passthrough'
		'[path /a]' 'atomic = yes' 'bad value '\''yes'\'' for atomic; allowed: auto | require | off'
		'[path /a]' 'writethrough_writes = 0' 'bad value '\''0'\'' for writethrough_writes; allowed: a whole number from 1 to 1000000 (writes after each sync that go writethrough)'
		'[path /a]' 'writethrough_writes = 1000001' 'bad value '\''1000001'\'' for writethrough_writes; allowed: a whole number from 1 to 1000000 (writes after each sync that go writethrough)'
		'[path /a]' 'writethrough_writes = -1' 'bad value '\''-1'\'' for writethrough_writes; allowed: a whole number from 1 to 1000000 (writes after each sync that go writethrough)'
		'[path /a]' 'writethrough_writes = +5' 'bad value '\''+5'\'' for writethrough_writes; allowed: a whole number from 1 to 1000000 (writes after each sync that go writethrough)'
		'[path /a]' 'writethrough_writes = 99999999999999999999' 'bad value '\''99999999999999999999'\'' for writethrough_writes; allowed: a whole number from 1 to 1000000 (writes after each sync that go writethrough)'
		'[path /a]' 'writethrough_writes = 0x10' 'bad value '\''0x10'\'' for writethrough_writes; allowed: a whole number from 1 to 1000000 (writes after each sync that go writethrough)'
		'[path /a]' 'writethrough_writes = 1.5' 'bad value '\''1.5'\'' for writethrough_writes; allowed: a whole number from 1 to 1000000 (writes after each sync that go writethrough)'
		'[path /a]' 'atomic_unit = 1000' 'bad value '\''1000'\'' for atomic_unit; allowed: a power of two from 512 to 1048576 (bytes), e.g. 8192'
		'[path /a]' 'atomic_unit = 256' 'bad value '\''256'\'' for atomic_unit; allowed: a power of two from 512 to 1048576 (bytes), e.g. 8192'
		'[path /a]' 'atomic_unit = 0' 'bad value '\''0'\'' for atomic_unit; allowed: a power of two from 512 to 1048576 (bytes), e.g. 8192'
		'[path /a]' 'atomic_unit = 2097152' 'bad value '\''2097152'\'' for atomic_unit; allowed: a power of two from 512 to 1048576 (bytes), e.g. 8192'
		'[path /a]' 'atomic_unit = 8k' 'bad value '\''8k'\'' for atomic_unit; allowed: a power of two from 512 to 1048576 (bytes), e.g. 8192'
		'[path /a]' 'atomic_unit = 8192 bytes' 'bad value '\''8192 bytes'\'' for atomic_unit; allowed: a power of two from 512 to 1048576 (bytes), e.g. 8192'
		'[path /a]' 'mode = "writethrough"' 'bad value '\''"writethrough"'\'' for mode; allowed: writethrough | atomic | passthrough (no quotes needed)'
	)
	local k
	# (bats' run changes a global i; k is ours.)
	for ((k = 0; k < ${#cases[@]}; k += 3)); do
		conf < <(printf '%s\n%s\n' "${cases[k]}" "${cases[k + 1]}")
		check_fails "$F"
		only_problem "$F:2: ${cases[k + 2]}"
	done
}

@test "missing '='" {
	conf <<-'EOF'
	[global]
	log_level warn
	EOF
	check_fails "$F"
	only_problem "$F:2: missing '=' in 'log_level warn'; expected KEY = VALUE"
}

@test "missing key before '='" {
	conf <<-'EOF'
	[global]
	= warn
	EOF
	check_fails "$F"
	only_problem "$F:2: missing key before '=' in '= warn'"
}

@test "empty value says what is allowed" {
	conf <<-'EOF'
	[global]
	engine =
	[path /a]
	atomic_unit =   # nothing
	EOF
	check_fails "$F"
	assert_line --index 0 "$F:2: empty value for engine; allowed: auto | io_uring | pwritev2"
	assert_line --index 1 "$F:4: empty value for atomic_unit; allowed: a power of two from 512 to 1048576"
	assert_equal "${#lines[@]}" 2
}

@test "relative glob" {
	conf <<-'EOF'
	[path pg_wal/*]
	mode = writethrough
	EOF
	check_fails "$F"
	only_problem "$F:1: glob 'pg_wal/*' is relative; it must start with '/' (paths are matched in absolute form)"
}

@test "a placeholder left in a glob" {
	conf <<-'EOF'
	[path /srv/@INSTANCE@/journal/*]
	EOF
	check_fails "$F"
	only_problem "$F:1: glob '/srv/@INSTANCE@/journal/*' contains the placeholder @INSTANCE@; replace it with the path it stands for"
}

@test "a glob that is not in normal form could never match" {
	conf <<-'EOF'
	[path /srv//a/./b/../*/]
	[path /srv/x/]
	EOF
	check_fails "$F"
	assert_line --index 0 "$F:1: glob '/srv//a/./b/../*/' can never match: paths are matched in normal form (no '//', '.', '..' or trailing '/'); write '/srv/a/*'"
	assert_line --index 1 "$F:2: glob '/srv/x/' can never match: paths are matched in normal form (no '//', '.', '..' or trailing '/'); write '/srv/x'"
	assert_equal "${#lines[@]}" 2
}

@test "[path] without a glob" {
	conf <<-'EOF'
	[path]
	mode = writethrough
	EOF
	check_fails "$F"
	only_problem "$F:1: [path] without a glob; write [path /ABSOLUTE/GLOB]"
}

@test "duplicate rule names the earlier line" {
	conf <<-'EOF'
	[path /srv/a/*]
	mode = writethrough

	[path   /srv/a/*  ]
	mode = passthrough
	EOF
	check_fails "$F"
	only_problem "$F:4: duplicate rule [path /srv/a/*]: the same glob is on line 1, so this one could never match"
}

@test "duplicate key within a section names the earlier line" {
	conf <<-'EOF'
	[global]
	log_level = warn
	[path /srv/a/*]
	mode = writethrough
	atomic = auto
	mode = passthrough
	[path /srv/b/*]
	mode = passthrough
	EOF
	check_fails "$F"
	# The same key in another section is no duplicate.
	only_problem "$F:6: duplicate key 'mode' in [path /srv/a/*]; first set on line 4"
}

@test "duplicate key in a rule whose header was refused is still reported" {
	conf <<-'EOF'
	[path /a]
	[path /a]
	mode = writethrough
	mode = passthrough
	EOF
	check_fails "$F"
	assert_line --index 0 "$F:2: duplicate rule [path /a]: the same glob is on line 1, so this one could never match"
	assert_line --index 1 "$F:4: duplicate key 'mode' in [path /a]; first set on line 3"
	assert_equal "${#lines[@]}" 2
}

@test "[global] twice names the earlier line" {
	conf <<-'EOF'
	[global]
	log_level = warn
	[path /a]
	[global]
	log_level = info
	EOF
	check_fails "$F"
	only_problem "$F:4: [global] appears twice; first on line 1"
}

@test "stats must be an absolute file path" {
	conf <<-'EOF'
	[global]
	stats = walthrough.stats
	EOF
	check_fails "$F"
	only_problem "$F:2: stats path 'walthrough.stats' is relative; it must be absolute"
	conf <<-'EOF'
	[global]
	stats = /dev/shm/
	EOF
	check_fails "$F"
	only_problem "$F:2: stats path '/dev/shm/' names a directory; it must name a file"
}

@test "mode = atomic with atomic = off is a contradiction" {
	conf <<-'EOF'
	[path /a]
	mode = atomic
	atomic = off
	[path /b]
	atomic = off
	mode = atomic
	EOF
	check_fails "$F"
	assert_line --index 0 "$F:3: atomic = off contradicts mode = atomic (line 2) in [path /a]; use atomic = auto or require, or another mode"
	assert_line --index 1 "$F:6: mode = atomic contradicts atomic = off (line 5) in [path /b]; use atomic = auto or require"
	assert_equal "${#lines[@]}" 2
}

@test "line too long" {
	conf < <(
		echo '[global]'
		printf '#%.0s' {1..4097}
		echo
		echo 'log_level = loud'
	)
	check_fails "$F"
	assert_line --index 0 "$F:2: line too long (4097 bytes; at most 4096)"
	# Parsing went on after it.
	assert_line --index 1 "$F:3: bad value 'loud' for log_level; allowed: error | warn | info | debug"
	assert_equal "${#lines[@]}" 2
}

@test "NUL bytes are reported, not a crash and not a truncated line" {
	conf < <(printf '[global]\nlog_level = w\0arn\n[path /a\0b]\n')
	check_fails "$F"
	assert_line --index 0 "$F:2: NUL byte at column 14; a config must be text"
	assert_line --index 1 "$F:3: NUL byte at column 9; a config must be text"
	assert_equal "${#lines[@]}" 2
}

@test "invalid UTF-8 is reported with the byte and column" {
	# Latin-1, an overlong '/', a surrogate, a sequence cut short at the end.
	conf < <(printf '[global]\n# caf\xe9\n[path /a\xc0\xafb]\n[path /\xed\xa0\x80]\n[path /x\xe2\x82]\n')
	check_fails "$F"
	assert_line --index 0 "$F:2: invalid UTF-8 (byte 0xe9 at column 6); a config must be UTF-8 text"
	assert_line --index 1 "$F:3: invalid UTF-8 (byte 0xc0 at column 9); a config must be UTF-8 text"
	assert_line --index 2 "$F:4: invalid UTF-8 (byte 0xed at column 8); a config must be UTF-8 text"
	assert_line --index 3 "$F:5: invalid UTF-8 (byte 0xe2 at column 9); a config must be UTF-8 text"
	assert_equal "${#lines[@]}" 4
}

@test "control characters in a value are shown escaped" {
	conf < <(printf '[global]\nengine = a\x1b[31mb\n')
	check_fails "$F"
	only_problem "$F:2: bad value 'a\\x1b[31mb' for engine; allowed: auto | io_uring | pwritev2"
}

@test "a long value is shortened in the message" {
	local v
	v=$(printf 'x%.0s' {1..300})
	conf < <(printf '[global]\nengine = %s\n' "$v")
	check_fails "$F"
	only_problem "$F:2: bad value '${v:0:120}...' for engine; allowed: auto | io_uring | pwritev2"
}

@test "too many rules" {
	local i
	conf < <(for i in {1..1025}; do echo "[path /r/$i]"; done)
	check_fails "$F"
	only_problem "$F:1025: too many [path] rules (at most 1024)"
	conf < <(for i in {1..1024}; do echo "[path /r/$i]"; done)
	check_ok "$F"
	assert_line "rule 1024 (line 1024): /r/1024 mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
}

@test "every problem is reported, in line order, in one run" {
	conf <<-'EOF'
	[global]
	log_level = loud
	engine = aio
	[path /a]
	mode = fast
	atomic_unit = 3
	EOF
	check_fails "$F"
	assert_line --index 0 --partial "$F:2: bad value 'loud'"
	assert_line --index 1 --partial "$F:3: bad value 'aio'"
	assert_line --index 2 --partial "$F:5: bad value 'fast'"
	assert_line --index 3 --partial "$F:6: bad value '3'"
	assert_equal "${#lines[@]}" 4
}

@test "a flood of problems is cut after 50" {
	local i
	conf < <(for i in {1..80}; do echo "junk $i"; done)
	check_fails "$F"
	assert_line --index 0 "$F:1: missing '=' in 'junk 1'; expected KEY = VALUE"
	assert_line --index 49 "$F:50: missing '=' in 'junk 50'; expected KEY = VALUE"
	assert_line --index 50 "$F: more problems not shown; fix the ones above first"
	assert_equal "${#lines[@]}" 51
}

@test "a missing config: cannot open, with the reason" {
	check_fails "$BATS_TEST_TMPDIR/nope.conf"
	only_problem "$BATS_TEST_TMPDIR/nope.conf: cannot open: No such file or directory"
}

@test "a dangling symbolic link: cannot open" {
	ln -s nope.conf "$BATS_TEST_TMPDIR/link.conf"
	check_fails "$BATS_TEST_TMPDIR/link.conf"
	only_problem "$BATS_TEST_TMPDIR/link.conf: cannot open: No such file or directory"
}

@test "an unreadable config: cannot open: Permission denied" {
	[[ $(id -u) == 0 ]] || skip "needs root to switch to user nobody"
	command -v setpriv >/dev/null || skip "no setpriv"
	# Outside bats' private temporary directory, so that nobody reaches it.
	PUBDIR=$(mktemp -d /tmp/wt-config-bats.XXXXXX)
	chmod 0755 "$PUBDIR"
	local d=$PUBDIR
	cp "$WT" "$d/walthrough"
	chmod 0755 "$d/walthrough"
	printf '[global]\n' >"$d/secret.conf"
	chmod 0600 "$d/secret.conf"
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$d/walthrough" ||
		skip "$d not reachable by nobody"
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$d/walthrough" check "$d/secret.conf"
	assert_output "$d/secret.conf: cannot open: Permission denied"
}

@test "a FIFO is refused at once, without waiting for a writer" {
	mkfifo "$BATS_TEST_TMPDIR/fifo.conf"
	# 124 would be the timeout: a hang fails this test.
	run -1 --separate-stderr timeout 5 "$WT" check "$BATS_TEST_TMPDIR/fifo.conf"
	assert_equal "$stderr" "$BATS_TEST_TMPDIR/fifo.conf: not a regular file (a FIFO)"
}

@test "a directory is refused" {
	mkdir "$BATS_TEST_TMPDIR/conf.d"
	check_fails "$BATS_TEST_TMPDIR/conf.d"
	only_problem "$BATS_TEST_TMPDIR/conf.d: not a regular file (a directory)"
}

@test "a character device is refused" {
	check_fails /dev/null
	only_problem "/dev/null: not a regular file (a character device)"
}

@test "a config larger than 1 MiB is refused" {
	conf < <(head -c 1048577 /dev/zero | tr '\0' '\n')
	check_fails "$F"
	only_problem "$F: too large (1048577 bytes; at most 1048576)"
}

@test "a config writable by group or others is refused, and still checked" {
	conf <<-'EOF'
	[global]
	log_level = loud
	EOF
	chmod 0664 "$F"
	check_fails "$F"
	assert_line --index 0 "$F: writable by group or others (mode 0664); chmod go-w"
	assert_line --index 1 "$F:2: bad value 'loud' for log_level; allowed: error | warn | info | debug"
	assert_equal "${#lines[@]}" 2
	printf '[global]\n' >"$F"
	chmod 0602 "$F"
	check_fails "$F"
	only_problem "$F: writable by group or others (mode 0602); chmod go-w"
	chmod 0600 "$F"
	check_ok "$F"
}

@test "a symbolic link to a group-writable config is refused: the target's mode counts" {
	printf '[global]\n' >"$BATS_TEST_TMPDIR/real.conf"
	chmod 0666 "$BATS_TEST_TMPDIR/real.conf"
	ln -s real.conf "$BATS_TEST_TMPDIR/link.conf"
	check_fails "$BATS_TEST_TMPDIR/link.conf"
	only_problem "$BATS_TEST_TMPDIR/link.conf: writable by group or others (mode 0666); chmod go-w"
}

@test "check: usage errors exit 2" {
	run -2 "$WT" check
	assert_line --index 0 "walthrough check: no config given"
	assert_line "usage: walthrough check CONFIG"
	run -2 "$WT" check a b
	assert_line --index 0 "walthrough check: one config at a time"
	run -1 "$WT" check ""
	assert_output '"": no config file given'
}

@test "garbage never crashes the parser" {
	local -a inputs=(
		'[' ']' '[]' '[[]]' '=' '==' '#' '[path' '[path ]' '[path /]' '[path /[]'
		'[path /a]]' '[global]]' '[ global ]' 'a=b=c' '[path /*]\nmode=='
		'\r' '\r\r\n\r' '\t\v\f' '[path /\\]' '[path /a\\*]' '[path /a/[!/]]'
		'[path /%s%n%p]\nmode = %s%n' '\xff\xfe' '\xc3' '\xf4\x90\x80\x80'
		'[global]\nstats = /' '[global]\nstats = //' '[path /a]\natomic_unit = 0000008192'
	)
	local i
	for i in "${inputs[@]}"; do
		conf < <(printf '%b' "$i")
		run "$WT" check "$F"
		((status == 0 || status == 1)) || fail "status $status for input '$i': $output"
	done
}

@test "the library reports a bad config in its log format, and the program still runs" {
	local lib=$WT_BUILD/libwalthrough.so
	[[ -e $lib ]] || skip "$lib not built"
	conf <<-'EOF'
	[global]
	log_level = loud
	EOF
	# A sanitized library needs its runtime first in the list.
	local pre=$lib
	[[ $WT_BUILD == *build-san ]] && pre="$(gcc -print-file-name=libasan.so):$lib"
	run -0 --separate-stderr env LD_PRELOAD="$pre" ASAN_OPTIONS=detect_leaks=0 \
		WALTHROUGH_CONFIG="$F" /bin/echo ran
	assert_output "ran"
	[[ ${stderr_lines[0]} == "walthrough["+([0-9])"]: error: $F:2: bad value 'loud' for log_level; allowed: error | warn | info | debug" ]] ||
		fail "unexpected log line: ${stderr_lines[0]}"
}

# ---- matching ---------------------------------------------------------------

@test "match: a pg_wal rule covers segments and xlogtemp files, not archive_status" {
	conf < <(sed 's|@PGDATA@|/var/lib/postgresql/15/main|g' "$TOP/config/postgres-wal.conf")
	local w=/var/lib/postgresql/15/main/pg_wal
	run -0 "$WT" match "$F" $w/000000010000000000000001 $w/xlogtemp.123 \
		$w/archive_status/000000010000000000000001.ready $w $w/00000001.history
	assert_line --index 0 --regexp "^$w/000000010000000000000001: rule 1 \(line [0-9]+\): $w/\* mode=writethrough "
	assert_line --index 1 --regexp "^$w/xlogtemp.123: rule 1 "
	assert_line --index 2 "$w/archive_status/000000010000000000000001.ready: no rule; not tracked"
	assert_line --index 3 "$w: no rule; not tracked"
	assert_line --index 4 --regexp "^$w/00000001.history: rule 1 "
	assert_equal "${#lines[@]}" 5
}

@test "match: the first matching rule wins" {
	conf <<-'EOF'
	[path /srv/j/*.tmp]
	mode = passthrough
	[path /srv/j/*]
	[path /srv/j/a]
	EOF
	run -0 "$WT" match "$F" /srv/j/x.tmp /srv/j/a /srv/j/sub/a /srv/k
	assert_line --index 0 "/srv/j/x.tmp: rule 1 (line 1): /srv/j/*.tmp mode=passthrough (left alone)"
	assert_line --index 1 "/srv/j/a: rule 2 (line 3): /srv/j/* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
	assert_line --index 2 "/srv/j/sub/a: no rule; not tracked"
	assert_line --index 3 "/srv/k: no rule; not tracked"
}

@test "match: bracket expressions, as in the atomic example" {
	conf <<-'EOF'
	[path /d/base/*/[0-9]*]
	EOF
	run -0 "$WT" match "$F" /d/base/5/16384 /d/base/5/16384_fsm /d/base/5/pg_filenode.map /d/base/5/sub/1
	assert_line --index 0 --partial "/d/base/5/16384: rule 1 "
	assert_line --index 1 --partial "/d/base/5/16384_fsm: rule 1 "
	assert_line --index 2 "/d/base/5/pg_filenode.map: no rule; not tracked"
	assert_line --index 3 "/d/base/5/sub/1: no rule; not tracked"
}

@test "match: paths are normalised first (//, ., .., trailing /)" {
	conf <<-'EOF'
	[path /srv/w/pg_wal/*]
	EOF
	run -0 "$WT" match "$F" //srv//w/pg_wal//seg /srv/./w/pg_wal/./seg \
		/srv/w/other/../pg_wal/seg /srv/w/pg_wal/seg/ /../../srv/w/pg_wal/seg \
		/srv/w/pg_wal/archive_status/.. /srv/w/pg_wal/sub/../../pg_wal/x/y
	assert_line --index 0 --partial "/srv/w/pg_wal/seg: rule 1 "
	assert_line --index 1 --partial "/srv/w/pg_wal/seg: rule 1 "
	assert_line --index 2 --partial "/srv/w/pg_wal/seg: rule 1 "
	assert_line --index 3 --partial "/srv/w/pg_wal/seg: rule 1 "
	assert_line --index 4 --partial "/srv/w/pg_wal/seg: rule 1 "
	assert_line --index 5 "/srv/w/pg_wal: no rule; not tracked"
	assert_line --index 6 "/srv/w/pg_wal/x/y: no rule; not tracked"
}

@test "match: relative paths are taken from the working directory, as after PostgreSQL's chdir" {
	local d
	d=$(cd "$BATS_TEST_TMPDIR" && pwd -P)
	mkdir -p "$d/data/pg_wal"
	conf < <(printf '[path %s/data/pg_wal/*]\n' "$d")
	cd "$d/data"
	run -0 "$WT" match "$F" pg_wal/000000010000000000000001 ./pg_wal//xlogtemp.7 \
		../data/pg_wal/x base/1/2 pg_wal/../pg_wal/y . ..
	assert_line --index 0 --partial "$d/data/pg_wal/000000010000000000000001: rule 1 "
	assert_line --index 1 --partial "$d/data/pg_wal/xlogtemp.7: rule 1 "
	assert_line --index 2 --partial "$d/data/pg_wal/x: rule 1 "
	assert_line --index 3 "$d/data/base/1/2: no rule; not tracked"
	assert_line --index 4 --partial "$d/data/pg_wal/y: rule 1 "
	assert_line --index 5 "$d/data: no rule; not tracked"
	assert_line --index 6 "$d: no rule; not tracked"
}

@test "match: a path through a symbolic link also tries its real path, as the library does" {
	local d
	d=$(cd "$BATS_TEST_TMPDIR" && pwd -P)
	mkdir -p "$d/disk2/wal"
	ln -s "$d/disk2/wal" "$d/pg_wal"
	conf < <(printf '[path %s/disk2/wal/*]\n' "$d")
	# "new" does not exist yet: its directory's real path is used.
	run -0 "$WT" match "$F" "$d/pg_wal/seg" "$d/pg_wal/new" "$d/disk2/wal/seg"
	assert_line --index 0 --partial "$d/pg_wal/seg: via $d/disk2/wal/seg: rule 1 "
	assert_line --index 1 --partial "$d/pg_wal/new: via $d/disk2/wal/new: rule 1 "
	assert_line --index 2 --partial "$d/disk2/wal/seg: rule 1 "
}

@test "match: an empty or overlong path is an error, the others are still shown" {
	conf <<-'EOF'
	[path /a/*]
	EOF
	local long
	long=/a/$(printf 'x%.0s' {1..5000})
	run -1 --separate-stderr "$WT" match "$F" "" /a/b "$long"
	assert_equal "$output" "/a/b: rule 1 (line 1): /a/* mode=writethrough writethrough_writes=1 atomic=auto atomic_unit=8192"
	assert_equal "${stderr_lines[0]}" "walthrough match: '': No such file or directory"
	assert_equal "${stderr_lines[1]}" "walthrough match: $long: File name too long"
}

@test "match: an invalid config is reported and nothing matched" {
	conf <<-'EOF'
	[path /a/*]
	mode = fast
	EOF
	run -1 --separate-stderr "$WT" match "$F" /a/b
	assert_equal "$output" ""
	assert_equal "$stderr" "$F:2: bad value 'fast' for mode; allowed: writethrough | atomic | passthrough"
}

@test "match: usage errors exit 2" {
	run -2 "$WT" match
	assert_line --index 0 "walthrough match: no config given"
	conf </dev/null
	run -2 "$WT" match "$F"
	assert_line --index 0 "walthrough match: no path given"
	assert_line "usage: walthrough match CONFIG PATH..."
}
