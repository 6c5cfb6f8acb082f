#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stats.bats - the live counters (`stats = PATH`) and `walthrough stats`:
# counts match what programs did, across processes, without losing an
# update; --prometheus output is valid exposition format; --watch redraws
# until interrupted; a stats file that is not the library's to use is
# ignored with one warning and never changes which syncs are skipped; and
# `walthrough stats --file` refuses such a file with exit 1 and a reason.

load helpers

W=$WT_BIN/wt-writer

setup_file() {
	# The counting tests run on a real XFS (O_DIRECT, as in production);
	# the others need no file system of their own.
	scratch_fs xfs || return 0
}

setup() {
	S=$BATS_TEST_TMPDIR/wt.stats
	C=$BATS_TEST_TMPDIR/wt.conf
	D=$BATS_TEST_TMPDIR/data
	mkdir -p "$D"
	F=$D/f
	HOLDER=
}

teardown() {
	if [[ -n $HOLDER ]]; then
		kill "$HOLDER" 2>/dev/null || true
		wait "$HOLDER" 2>/dev/null || true
	fi
}

# on_xfs - this test's data directory D (and F in it) on the scratch XFS.
on_xfs() {
	wt_setup
	[[ -n ${WT_SCRATCH_XFS:-} ]] || skip "no scratch XFS"
	D=$WT_SCRATCH_XFS/$BATS_TEST_NUMBER
	rm -rf "$D"
	mkdir -p "$D"
	F=$D/f
}

# mkconf [STATS_PATH] [RULE_LINE...] - config C: stats at STATS_PATH
# (default S; "" for none) and one writethrough rule for D/*.
mkconf() {
	local st=${1-$S}
	(($#)) && shift
	{
		echo "[global]"
		[[ -n $st ]] && echo "stats = $st"
		echo "[path $D/*]"
		echo "mode = writethrough"
		printf '%s\n' "$@"
	} | wt_conf "$C"
}

# prefill FILE - 64 KiB written and synced without the library, so that
# the writes under test overwrite (an extending write keeps its sync).
prefill() {
	"$W" "$1" 'open rw,creat; pwrite 0 64k Z; fsync; close'
}

# prom [STATS] - `walthrough stats --prometheus` of STATS (default S) in PROM.
prom() {
	run -0 "$WT_CLI" stats --file "${1:-$S}" --prometheus
	PROM=$output
}

# metric NAME [EXTRA_LABELS] - the value of NAME{rule="$D/*"EXTRA} in PROM.
metric() {
	local key="$1{rule=\"$D/*\"${2:-}} " line
	while IFS= read -r line; do
		if [[ ${line:0:${#key}} == "$key" ]]; then
			echo "${line:${#key}}"
			return 0
		fi
	done <<<"$PROM"
	echo "(no $key)"
}

# expect_metric NAME [EXTRA_LABELS] VALUE
expect_metric() {
	local v
	if (($# == 3)); then
		v=$(metric "$1" "$2")
	else
		v=$(metric "$1")
	fi
	[[ $v == "${!#}" ]] || { fail "$1${3:+{$2\}} is $v, expected ${!#}"; return 1; }
}

# hold_lock FILE - a process of our own holding a shared flock on FILE, as
# a live program under the library does; its PID in HOLDER.
hold_lock() {
	local ready=$BATS_TEST_TMPDIR/held i
	rm -f "$ready"
	perl -MFcntl=:flock -e '
		open(my $f, "<", $ARGV[0]) or die "$ARGV[0]: $!\n";
		flock($f, LOCK_SH) or die "flock: $!\n";
		open(my $r, ">", $ARGV[1]) or die; close($r);
		sleep 3600;' "$1" "$ready" 3>&- &
	HOLDER=$!
	for ((i = 0; i < 600; i++)); do
		[[ -e $ready ]] && return 0
		kill -0 "$HOLDER" 2>/dev/null || break
		sleep 0.1
	done
	fail "could not hold a lock on $1"
}

# prom_check FILE - a strict check of the Prometheus text exposition
# format (version 0.0.4): line grammar, escapes, UTF-8, HELP/TYPE before
# and once per family, families contiguous, no repeated series, counters
# non-negative, histograms with ordered cumulative buckets, +Inf = _count.
prom_check() {
	python3 - "$1" <<'EOF'
import math, re, sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LNAME = r'[a-zA-Z_][a-zA-Z0-9_]*'
LVALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
FLOAT = r'(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf)|NaN)'
SAMPLE = re.compile(r'^(' + NAME + r')(?:\{((?:' + LNAME + r'=' + LVALUE +
                    r')(?:,' + LNAME + r'=' + LVALUE + r')*,?)?\})? (' +
                    FLOAT + r')(?: (-?\d+))?$')
LABEL = re.compile(r'(' + LNAME + r')=(' + LVALUE + r'),?')
HELP = re.compile(r'^# HELP (' + NAME + r') ((?:[^\\\n]|\\[\\n])*)$')
TYPE = re.compile(r'^# TYPE (' + NAME + r') (counter|gauge|histogram|summary|untyped)$')

errors = []
def bad(n, msg):
    errors.append('line %d: %s' % (n, msg))

raw = open(sys.argv[1], 'rb').read()
try:
    text = raw.decode('utf-8')
except UnicodeDecodeError as e:
    print('not UTF-8: %s' % e)
    sys.exit(1)
if not text.endswith('\n'):
    errors.append('does not end with a newline')

def unescape(v):
    return re.sub(r'\\(.)', lambda m: {'n': '\n'}.get(m.group(1), m.group(1)), v[1:-1])

types, helps, done = {}, {}, set()
current = None
series = set()
hist = {}

def family_of(name):
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) in ('histogram', 'summary'):
            return base
    return name

def enter(n, fam):
    global current
    if fam != current:
        if fam in done:
            bad(n, 'family %s is not contiguous' % fam)
        if current is not None:
            done.add(current)
        current = fam

for n, line in enumerate(text.split('\n')[:-1], 1):
    if line == '':
        continue
    if line.startswith('#'):
        m = HELP.match(line)
        if m:
            enter(n, m.group(1))
            if m.group(1) in helps:
                bad(n, 'second HELP for %s' % m.group(1))
            helps[m.group(1)] = m.group(2)
            continue
        m = TYPE.match(line)
        if m:
            enter(n, m.group(1))
            if m.group(1) in types:
                bad(n, 'second TYPE for %s' % m.group(1))
            if (m.group(1), 'sample') in helps:
                bad(n, 'TYPE after samples of %s' % m.group(1))
            types[m.group(1)] = m.group(2)
            continue
        if line.startswith('# HELP') or line.startswith('# TYPE'):
            bad(n, 'malformed HELP/TYPE: %r' % line)
        continue
    m = SAMPLE.match(line)
    if not m:
        bad(n, 'not a sample line: %r' % line)
        continue
    name, labels, value = m.group(1), m.group(2) or '', m.group(3)
    fam = family_of(name)
    enter(n, fam)
    helps[(fam, 'sample')] = True
    if fam not in types:
        bad(n, 'sample of %s before (or without) its TYPE' % fam)
    lab = {}
    for lm in LABEL.finditer(labels):
        k = lm.group(1)
        if k in lab:
            bad(n, 'label %s twice' % k)
        if k.startswith('__'):
            bad(n, 'reserved label name %s' % k)
        lab[k] = unescape(lm.group(2))
    v = float(value.replace('Inf', 'inf'))
    key = (name, tuple(sorted(lab.items())))
    if key in series:
        bad(n, 'repeated series %s %s' % key)
    series.add(key)
    t = types.get(fam)
    if t == 'counter':
        if not name.endswith('_total'):
            bad(n, 'counter %s without _total' % name)
        if not v >= 0:
            bad(n, 'counter %s is %s' % (name, value))
    if t == 'histogram':
        rest = tuple(sorted((k, x) for k, x in lab.items() if k != 'le'))
        h = hist.setdefault((fam, rest), {'le': [], 'sum': None, 'count': None})
        if name == fam + '_bucket':
            if 'le' not in lab:
                bad(n, 'bucket without le')
                continue
            h['le'].append((float(lab['le'].replace('Inf', 'inf')), v, n))
        elif name == fam + '_sum':
            h['sum'] = v
        elif name == fam + '_count':
            h['count'] = v
        else:
            bad(n, 'histogram %s has sample %s' % (fam, name))

for (fam, rest), h in hist.items():
    les = h['le']
    if not les or les[-1][0] != math.inf:
        errors.append('%s %s: no +Inf bucket last' % (fam, rest))
        continue
    for (a, ca, _), (b, cb, ln) in zip(les, les[1:]):
        if not a < b:
            bad(ln, '%s: le not increasing' % fam)
        if not ca <= cb:
            bad(ln, '%s: buckets not cumulative' % fam)
    if h['count'] is None or h['sum'] is None:
        errors.append('%s %s: _sum or _count missing' % (fam, rest))
    elif h['count'] != les[-1][1]:
        errors.append('%s %s: _count != +Inf bucket' % (fam, rest))

for e in errors:
    print(e)
sys.exit(1 if errors else 0)
EOF
}

# ---- counting --------------------------------------------------------------

@test "N writes and M fdatasyncs from two processes: N writes, M-1 syncs skipped" {
	on_xfs
	mkconf
	prefill "$F"
	# 5 write+sync in the first process, 3 in a second one it execs (a
	# process of its own, which maps the stats file itself).
	run -0 wt_run "$C" "$W" "$F" 'open rw; repeat 5 { pwrite i*8k 8k A; fdatasync };
		exec { open rw; repeat 3 { pwrite 40k+i*8k 8k B; fdatasync } }'
	refute_output --partial warn
	[[ $(stat -c %a "$S") == 600 ]]
	prom
	expect_metric walthrough_writes_total 8
	expect_metric walthrough_write_bytes_total $((8 * 8192))
	expect_metric walthrough_direct_writes_total 8
	expect_metric walthrough_dsync_writes_total 0
	expect_metric walthrough_burst_writes_total 0
	expect_metric walthrough_syncs_skipped_total 7
	expect_metric walthrough_syncs_passed_total 1
	expect_metric walthrough_syncs_passed_by_reason_total ',reason="unarmed"' 1
	expect_metric walthrough_errors_total 0
	expect_metric walthrough_write_latency_seconds_count 8

	# The table says the same.
	run -0 "$WT_CLI" stats -c "$C"
	assert_line --index 0 --partial "$S: counters since "
	assert_line "config: $C"
	assert_line "rule 1: $D/*"
	assert_line --regexp '^  writes +8  64\.0 KiB$'
	assert_line --regexp '^    direct +8  '
	assert_line --regexp '^  syncs skipped +7$'
	assert_line --regexp '^  syncs passed +1$'
	assert_line --regexp '^    not armed yet +1$'
	assert_line --regexp '^  write latency +p50 ~.*, p99 ~.* \(estimates, 8 writethrough writes\)$'
}

@test "a burst is counted as such and its sync passes for page-cache writes" {
	on_xfs
	mkconf
	prefill "$F"
	run -0 wt_run "$C" "$W" "$F" 'open rw; pwrite 0 8k A; fdatasync;
		pwrite 0 8k B; pwrite 8k 8k B; pwrite 16k 8k B; fdatasync;
		pwrite 0 8k C; fdatasync'
	prom
	expect_metric walthrough_writes_total 5
	expect_metric walthrough_direct_writes_total 3
	expect_metric walthrough_burst_writes_total 2
	expect_metric walthrough_syncs_skipped_total 1
	expect_metric walthrough_syncs_passed_total 2
	expect_metric walthrough_syncs_passed_by_reason_total ',reason="unarmed"' 1
	expect_metric walthrough_syncs_passed_by_reason_total ',reason="dirty"' 1
	expect_metric walthrough_write_latency_seconds_count 3
}

@test "two programs started together lose no update" {
	on_xfs
	mkconf
	prefill "$D/a"
	prefill "$D/b"
	# Both race to create and lay out the stats file, then count at once.
	wt_run "$C" "$W" "$D/a" 'open rw; repeat 300 { pwrite i*0+8k 8k A; fdatasync }' 3>&- &
	local p1=$!
	wt_run "$C" "$W" "$D/b" 'open rw; threads 2 { repeat 150 { pwrite t*8k 8k B; fdatasync } }' 3>&- &
	local p2=$!
	wait "$p1" || fail "first program failed"
	wait "$p2" || fail "second program failed"
	prom
	expect_metric walthrough_writes_total 600
	local skipped passed
	skipped=$(metric walthrough_syncs_skipped_total)
	passed=$(metric walthrough_syncs_passed_total)
	((skipped + passed == 600)) || fail "skipped $skipped + passed $passed != 600 syncs"
	((passed >= 2)) || fail "only $passed syncs passed; each file's first must"
}

@test "errors are counted by errno name" {
	mkconf
	prefill "$F"
	# offset + length past the largest file offset: EINVAL on every file system.
	run -0 wt_run "$C" "$W" "$F" 'open rw; pwrite 0 8k A; fdatasync;
		expect EINVAL pwrite 0x7fffffffffffe000 8k X; expect EINVAL pwrite 0x7fffffffffffe000 8k X'
	prom
	expect_metric walthrough_errors_total 2
	expect_metric walthrough_errors_by_errno_total ',errno="EINVAL"' 2
	run -0 "$WT_CLI" stats --file "$S"
	assert_line --regexp '^  errors +2$'
	assert_line --regexp '^    EINVAL +2  Invalid argument$'
}

@test "rules beyond 64 share the last slot and say so" {
	{
		echo "[global]"
		echo "stats = $S"
		for i in $(seq 1 69); do
			echo "[path $D/r$i]"
		done
		echo "[path $D/*]"
	} | wt_conf "$C"
	prefill "$F"
	run -0 wt_run "$C" "$W" "$F" 'open rw; pwrite 0 8k A; fdatasync'
	run -0 "$WT_CLI" stats -c "$C"
	assert_line "rule 64: $D/r64  (and rules 65-70, which share its counters)"
	refute_line --partial "rule 65"
	run -0 "$WT_CLI" stats -c "$C" --prometheus
	assert_line "walthrough_writes_total{rule=\"$D/r64 (+6 later rules)\"} 1"
	echo "$output" >"$BATS_TEST_TMPDIR/out.prom"
	prom_check "$BATS_TEST_TMPDIR/out.prom"
}

# ---- formats ---------------------------------------------------------------

@test "--prometheus output passes a strict parser of the exposition format" {
	mkconf
	prefill "$F"
	run -0 wt_run "$C" "$W" "$F" 'open rw; repeat 3 { pwrite i*8k 8k A; fdatasync }; open r; try pwrite 0 8k X'
	"$WT_CLI" stats -c "$C" --prometheus >"$BATS_TEST_TMPDIR/out.prom"
	run prom_check "$BATS_TEST_TMPDIR/out.prom"
	assert_success
	run -0 grep -c '^# TYPE ' "$BATS_TEST_TMPDIR/out.prom"
	((output >= 15))
	run -0 grep -E '^walthrough_write_latency_seconds_bucket\{rule="[^"]*",le="\+Inf"\} 3$' "$BATS_TEST_TMPDIR/out.prom"
	# The checker itself rejects what it must.
	printf 'walthrough_x_total{rule="a\\q"} 1\n' >"$BATS_TEST_TMPDIR/bad.prom"
	run ! prom_check "$BATS_TEST_TMPDIR/bad.prom"
	printf '# TYPE a counter\na_total{rule="x"} 1\n# TYPE b gauge\nb 1\na_total{rule="y"} 1\n' >"$BATS_TEST_TMPDIR/bad.prom"
	run ! prom_check "$BATS_TEST_TMPDIR/bad.prom"
	printf '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n' >"$BATS_TEST_TMPDIR/bad.prom"
	run ! prom_check "$BATS_TEST_TMPDIR/bad.prom"
}

# A stats file laid out by hand, as version 1 of shim/stats.h has it, with
# rule globs that need escaping: backslash, double quote, newline, and a
# glob cut in the middle of a UTF-8 character.
forge_stats() {
	python3 - "$1" <<'EOF'
import struct, sys
RULES, GLOB, NC, NP, NE, NB = 64, 240, 12, 8, 134, 32
# The second is cut in the middle of a two-byte character.
globs = [b'/a\\b"c\nd/*', (b'/xy/' + '\u00e9'.encode() * 200)[:GLOB - 1], b'/plain/*']
head = struct.pack('<QIIQQ256s', 0x3130737461747477, 1, len(globs), 0, 1700000000, b'/etc/w"t\\.conf')
rule_size = GLOB + 8 * (NC + NP + NE + NB)
size = len(head) + RULES * rule_size
head = struct.pack('<QIIQQ256s', 0x3130737461747477, 1, len(globs), size, 1700000000, b'/etc/w"t\\.conf')
out = bytearray(head)
for i in range(RULES):
    g = globs[i] if i < len(globs) else b''
    c = [0] * NC
    if i < len(globs):
        c[0] = 10 + i
        c[9] = 3
    lat = [0] * NB
    if i == 0:
        lat[3], lat[7], lat[31] = 2, 5, 1
    errn = [0] * NE
    if i == 1:
        errn[5], errn[0] = 4, 1
    out += g.ljust(GLOB, b'\0') + struct.pack('<%dQ' % (NC + NP + NE + NB), *(c + [0] * NP + errn + lat))
open(sys.argv[1], 'wb').write(out)
EOF
}

@test "--prometheus escapes label values and keeps them UTF-8" {
	forge_stats "$S"
	"$WT_CLI" stats --file "$S" --prometheus >"$BATS_TEST_TMPDIR/out.prom"
	run prom_check "$BATS_TEST_TMPDIR/out.prom"
	assert_success
	run -0 cat "$BATS_TEST_TMPDIR/out.prom"
	assert_line 'walthrough_writes_total{rule="/a\\b\"c\nd/*"} 10'
	assert_line 'walthrough_stats_info{file="'"$S"'",config="/etc/w\"t\\.conf"} 1'
	assert_line --regexp '^walthrough_errors_by_errno_total\{rule="/xy/(é)+�",errno="EIO"\} 4$'
	assert_line --regexp '^walthrough_errors_by_errno_total\{rule="/xy/[^"]*",errno="other"\} 1$'
	# The open-ended last bucket is only in +Inf.
	assert_line 'walthrough_write_latency_seconds_bucket{rule="/a\\b\"c\nd/*",le="2147.483648"} 7'
	assert_line 'walthrough_write_latency_seconds_bucket{rule="/a\\b\"c\nd/*",le="+Inf"} 8'
	assert_line 'walthrough_write_latency_seconds_count{rule="/a\\b\"c\nd/*"} 8'
	# The table shows control characters as '?' and a glob cut short with "...".
	run -0 "$WT_CLI" stats --file "$S"
	assert_line 'rule 1: /a\b"c?d/*'
	assert_line --regexp '^rule 2: /xy/(é)+\?\.\.\.$'
	assert_line --regexp '^  write latency +p50 ~.*, p99 >= .* \(estimates, 8 writethrough writes\)$'
}

@test "a stats file of random contents behind a valid header is shown, not crashed on" {
	local i
	for i in 1 2 3 4 5; do
		python3 - "$S" <<-'EOF'
			import os, struct, sys
			size = 288 + 64 * (240 + 8 * (12 + 8 + 134 + 32))
			head = struct.pack('<QIIQQ', 0x3130737461747477, 1,
			                   struct.unpack('<I', os.urandom(4))[0], size,
			                   struct.unpack('<Q', os.urandom(8))[0])
			open(sys.argv[1], 'wb').write(head + os.urandom(size - len(head)))
		EOF
		run -0 "$WT_CLI" stats --file "$S"
		refute_output --partial $'\e'
		"$WT_CLI" stats --file "$S" --prometheus >"$BATS_TEST_TMPDIR/out.prom"
		run prom_check "$BATS_TEST_TMPDIR/out.prom"
		assert_success
	done
}

@test "--prometheus keeps series unique when globs differ only in bytes that are not UTF-8" {
	python3 - "$S" <<-'EOF'
		import struct, sys
		RULES, GLOB, N = 64, 240, 12 + 8 + 134 + 32
		# \xff and \xfe both print as U+FFFD; the third repeats the first.
		globs = [b'/d/\xff', b'/d/\xfe', b'/d/\xff', b'/d/\xef\xbf\xbd']
		size = 288 + RULES * (GLOB + 8 * N)
		out = bytearray(struct.pack('<QIIQQ256s', 0x3130737461747477, 1, len(globs), size, 1700000000, b'/etc/w.conf'))
		for i in range(RULES):
		    g = globs[i] if i < len(globs) else b''
		    out += g.ljust(GLOB, b'\0') + struct.pack('<%dQ' % N, *([1] * N))
		open(sys.argv[1], 'wb').write(out)
	EOF
	"$WT_CLI" stats --file "$S" --prometheus >"$BATS_TEST_TMPDIR/out.prom"
	run prom_check "$BATS_TEST_TMPDIR/out.prom"
	assert_success
	run grep -c '^walthrough_writes_total{' "$BATS_TEST_TMPDIR/out.prom"
	assert_output 4
}

@test "promtool check metrics accepts --prometheus output" {
	command -v promtool >/dev/null || skip "promtool missing (Debian package prometheus)"
	mkconf
	prefill "$F"
	run -0 wt_run "$C" "$W" "$F" 'open rw; repeat 3 { pwrite i*8k 8k A; fdatasync }'
	"$WT_CLI" stats -c "$C" --prometheus >"$BATS_TEST_TMPDIR/out.prom"
	run promtool check metrics <"$BATS_TEST_TMPDIR/out.prom"
	assert_success
	assert_output ""
	forge_stats "$S"
	"$WT_CLI" stats --file "$S" --prometheus >"$BATS_TEST_TMPDIR/out.prom"
	run promtool check metrics <"$BATS_TEST_TMPDIR/out.prom"
	assert_success
}

# watch_until [-E] OUT PATTERN [AFTER] - waits (60 s at most) until file
# OUT has a line holding the fixed string (-E: regular expression) PATTERN,
# after the last line holding the fixed string AFTER if given.
watch_until() {
	local re=0 i
	[[ $1 == -E ]] && { re=1; shift; }
	for ((i = 0; i < 600; i++)); do
		RE=$re PAT=$2 AFTER=${3:-} awk '
			ENVIRON["AFTER"] != "" && index($0, ENVIRON["AFTER"]) { hit = 0; next }
			ENVIRON["RE"] == 1 ? $0 ~ ENVIRON["PAT"] : index($0, ENVIRON["PAT"]) { hit = 1 }
			END { exit !hit }' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no '$2'${3:+ after '$3'} in $1 after 60 s: $(cat "$1")"
}

@test "--watch redraws until interrupted, then exits 0" {
	mkconf
	prefill "$F"
	run -0 wt_run "$C" "$W" "$F" 'open rw; pwrite 0 8k A; fdatasync'
	local out=$BATS_TEST_TMPDIR/watch.out pid rc=0
	# Not a terminal: frames one after another, no escape sequences.
	"$WT_CLI" stats -c "$C" --watch 0.2 >"$out" 2>&1 3>&- &
	pid=$!
	watch_until "$out" "rule 1: $D/*"
	# A second frame, with rates, after more writes.
	run -0 wt_run "$C" "$W" "$F" 'open rw; pwrite 0 8k A; fdatasync'
	watch_until -E "$out" '^  writes +2  16\.0 KiB$'
	watch_until "$out" "  now "
	kill -INT "$pid"
	wait "$pid" || rc=$?
	((rc == 0)) || fail "walthrough stats --watch exited $rc after SIGINT"
	run -0 cat "$out"
	assert_line --regexp '^walthrough stats, every 0\.2 s, at [0-9:]+$'
	refute_output --partial $'\e['

	# A terminal: each frame starts by going home and clearing the screen.
	command -v script >/dev/null || skip "script(1) missing"
	script -qec "$WT_CLI stats -c $C --watch 0.2" /dev/null >"$out" 2>&1 3>&- </dev/null &
	pid=$!
	watch_until "$out" "(Ctrl-C to stop)"
	kill "$pid"
	wait "$pid" || true
	run -0 cat "$out"
	assert_output --partial $'\e[H\e[2J'
}

@test "--watch keeps going when the file goes away, and says so" {
	mkconf
	prefill "$F"
	run -0 wt_run "$C" "$W" "$F" 'open rw; pwrite 0 8k A; fdatasync'
	local out=$BATS_TEST_TMPDIR/watch.out pid rc=0
	"$WT_CLI" stats --file "$S" --watch 0.2 >"$out" 2>&1 3>&- &
	pid=$!
	watch_until "$out" "rule 1: $D/*"
	rm -f "$S"
	watch_until "$out" "$S: no such file"
	watch_until "$out" "(tried again every 0.2 s)"
	# Laid out again by the next program: back to the table.
	run -0 wt_run "$C" "$W" "$F" 'open rw; pwrite 0 8k A; fdatasync'
	watch_until "$out" "rule 1: $D/*" "$S: no such file"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	((rc == 0)) || fail "walthrough stats --watch exited $rc after SIGTERM"
}

# ---- files that are not the library's to use -------------------------------

# ignored_by_library WHY - a program under the library with stats = S
# still works, prints exactly one warning "stats file S ignored: WHY", and
# makes exactly the real syncs it makes without stats (2 of 3 here: the
# first, and the one after a burst).
ignored_by_library() {
	requires strace
	prefill "$F"
	cp "$F" "$BATS_TEST_TMPDIR/ref"
	"$W" "$BATS_TEST_TMPDIR/ref" 'open rw; pwrite 0 8k A; pwrite 0 8k B; pwrite 8k 8k B; pwrite 16k 8k B; pwrite 0 8k C'
	local script='open rw; pwrite 0 8k A; fdatasync;
		pwrite 0 8k B; pwrite 8k 8k B; pwrite 16k 8k B; fdatasync;
		pwrite 0 8k C; fdatasync'
	local T=$BATS_TEST_TMPDIR/strace.out
	run -0 --separate-stderr wt_strace "$T" "$C" "$W" "$F" "$script"
	[[ $(grep -c "stats file" <<<"$stderr") == 1 ]] ||
		fail "expected one warning, got: $stderr"
	[[ $stderr == *"warn: stats file $S ignored: $1"* ]] ||
		fail "expected 'stats file $S ignored: $1', got: $stderr"
	cmp "$F" "$BATS_TEST_TMPDIR/ref"
	local with
	with=$(count_syscalls "$T" fdatasync "<$F>")
	# The same without a stats file, on a fresh table.
	mkconf ""
	prefill "$F"
	WT_TABLE=$BATS_TEST_TMPDIR/table2 run -0 wt_strace "$T" "$C" "$W" "$F" "$script"
	local without
	without=$(count_syscalls "$T" fdatasync "<$F>")
	[[ $with == 2 && $without == 2 ]] ||
		fail "real fdatasyncs: $with with the ignored stats file, $without without (expected 2 and 2)"
}

@test "a stats file readable by others is ignored by the library" {
	mkconf
	forge_stats "$S"
	chmod 0644 "$S"
	cp "$S" "$BATS_TEST_TMPDIR/before"
	ignored_by_library "not a private regular file of this user"
	cmp "$S" "$BATS_TEST_TMPDIR/before"
}

@test "a stats file owned by another user is ignored by the library" {
	requires root
	mkconf
	forge_stats "$S"
	chmod 0600 "$S"
	chown nobody "$S"
	ignored_by_library "not a private regular file of this user"
}

@test "a FIFO, a directory or a symbolic link at the stats path is ignored" {
	mkconf
	mkfifo -m 0600 "$S"
	ignored_by_library "not a private regular file of this user"
	run -1 "$WT_CLI" stats --file "$S"
	assert_output "walthrough stats: $S: a FIFO, not a walthrough stats file"

	rm -f "$S"
	mkdir -m 0700 "$S"
	mkconf
	ignored_by_library "Is a directory"
	run -1 "$WT_CLI" stats --file "$S"
	assert_output "walthrough stats: $S: a directory, not a walthrough stats file"

	rmdir "$S"
	forge_stats "$BATS_TEST_TMPDIR/target"
	chmod 0600 "$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$S"
	mkconf
	ignored_by_library "Too many levels of symbolic links"
}

@test "a corrupt stats file in use by another process is ignored, not rewritten" {
	mkconf
	forge_stats "$S"
	head -c "$(stat -c %s "$S")" /dev/urandom >"$S.junk"
	mv "$S.junk" "$S"
	chmod 0600 "$S"
	cp "$S" "$BATS_TEST_TMPDIR/before"
	hold_lock "$S"
	ignored_by_library "of another version or config, and in use"
	cmp "$S" "$BATS_TEST_TMPDIR/before"
	run -1 "$WT_CLI" stats --file "$S"
	assert_output --regexp "^walthrough stats: $S: not a walthrough stats file \(magic 0x[0-9a-f]+\)\$"
}

@test "a truncated stats file in use is ignored; one nobody uses is laid out afresh" {
	mkconf
	forge_stats "$S"
	truncate -s 5000 "$S"
	chmod 0600 "$S"
	hold_lock "$S"
	ignored_by_library "of another size (another version?)"
	[[ $(stat -c %s "$S") == 5000 ]]
	run -1 "$WT_CLI" stats --file "$S"
	assert_output --partial "walthrough stats: $S: 5000 bytes where a stats file has "
	assert_output --partial "not a walthrough stats file, or one of another version"

	# Alone with it, the library lays it out for its own config.
	kill "$HOLDER"
	wait "$HOLDER" || true
	HOLDER=
	mkconf
	prefill "$F"
	run -0 --separate-stderr wt_run "$C" "$W" "$F" 'open rw; pwrite 0 8k A; fdatasync; pwrite 0 8k A; fdatasync'
	assert_equal "$stderr" ""
	prom
	expect_metric walthrough_writes_total 2
	expect_metric walthrough_syncs_skipped_total 1
}

@test "a stats file of another config in use is ignored by a program of this one" {
	# A program of config A holds the file; one of config B must not count
	# into A's slots.
	local A=$BATS_TEST_TMPDIR/a.conf
	printf '[global]\nstats = %s\n[path %s/other/*]\n' "$S" "$BATS_TEST_TMPDIR" | wt_conf "$A"
	# A simple command, so that HOLDER is the program's own PID; a dirty
	# table of its own, as programs whose configs differ skip nothing in
	# a shared one.
	env LD_PRELOAD="$wt_preload" WALTHROUGH_CONFIG="$A" WALTHROUGH_TABLE="$BATS_TEST_TMPDIR/a.table" \
		"$W" "$BATS_TEST_TMPDIR/x" 'print up; hold' >"$BATS_TEST_TMPDIR/held" 3>&- &
	HOLDER=$!
	local i
	for ((i = 0; i < 600; i++)); do
		[[ -s $BATS_TEST_TMPDIR/held ]] && break
		sleep 0.1
	done
	[[ -s $BATS_TEST_TMPDIR/held ]] || fail "the holder did not start"
	mkconf
	ignored_by_library "of another version or config, and in use"
	run -0 "$WT_CLI" stats --file "$S"
	assert_line "rule 1: $BATS_TEST_TMPDIR/other/*"
	# -c with config B reads the file but notes whose rules it counts.
	mkconf
	run -0 --separate-stderr "$WT_CLI" stats -c "$C"
	assert_equal "$stderr" "walthrough stats: note: $S was laid out for the rules of $A, not those of $C now; it shows what the running programs count"
}

@test "walthrough stats --file refuses what is not a stats file, with exit 1" {
	run -1 "$WT_CLI" stats --file "$BATS_TEST_TMPDIR/nothing"
	assert_output "walthrough stats: $BATS_TEST_TMPDIR/nothing: no such file (no program has run under the config since it was removed, or since boot)"

	: >"$S"
	run -1 "$WT_CLI" stats --file "$S"
	assert_output "walthrough stats: $S: 0 bytes: not laid out yet"

	forge_stats "$S"
	# Version 2 of the layout.
	printf '\x02' | dd of="$S" bs=1 seek=8 conv=notrunc status=none
	run -1 "$WT_CLI" stats --file "$S"
	assert_output "walthrough stats: $S: stats file version 2; this walthrough reads version 1"

	forge_stats "$S"
	# The size field disagrees with the file's size.
	printf '\x01' | dd of="$S" bs=1 seek=16 conv=notrunc status=none
	run -1 "$WT_CLI" stats --file "$S"
	assert_output --regexp "^walthrough stats: $S: records a size of [0-9]+ bytes where version 1 has [0-9]+: corrupt\$"

	forge_stats "$S"
	dd if=/dev/zero of="$S" bs=8 count=1 conv=notrunc status=none
	run -1 "$WT_CLI" stats --file "$S"
	assert_output "walthrough stats: $S: not laid out (being created, or not a walthrough stats file)"

	forge_stats "$S"
	head -c 100 "$S" >"$S.short"
	run -1 "$WT_CLI" stats --file "$S.short"
	assert_output --partial "100 bytes where a stats file has"

	run -1 "$WT_CLI" stats --file /dev/null
	assert_output "walthrough stats: /dev/null: a character device, not a walthrough stats file"
}

@test "walthrough stats -c: a config without stats, or with problems, exits 1" {
	mkconf ""
	run -1 "$WT_CLI" stats -c "$C"
	assert_output "walthrough stats: $C has no \`stats = PATH\` in [global]: counters are off"
	printf '[global]\nbogus = 1\n' | wt_conf "$C"
	run -1 "$WT_CLI" stats -c "$C"
	assert_line --index 1 "walthrough stats: the config $C has problems (above)"
	WALTHROUGH_CONFIG=$C run -1 "$WT_CLI" stats
	assert_line --partial "unknown key 'bogus'"
}

@test "walthrough stats: usage errors exit 2" {
	run -2 "$WT_CLI" stats --file
	assert_line --index 0 "walthrough stats: --file needs a value"
	run -2 "$WT_CLI" stats -c a --file b
	assert_line --index 0 "walthrough stats: -c and --file exclude each other"
	run -2 "$WT_CLI" stats --watch 0 --file b
	run -2 "$WT_CLI" stats --watch x --file b
	run -2 "$WT_CLI" stats --watch 1 --prometheus --file b
	run -2 "$WT_CLI" stats --bogus
	run -2 "$WT_CLI" stats extra
	run -0 "$WT_CLI" stats --help
	assert_line --index 0 "usage: walthrough stats [-c CONFIG | --file PATH] [--prometheus] [--watch SECONDS]"
}
