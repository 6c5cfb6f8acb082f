# SPDX-License-Identifier: MIT
# lib.bash - shared by the benchmark wrappers: where the programs are, an
# optional scratch file system, configs, running under walthrough, medians.
# Benchmarks print; they never assert.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WT_BUILD=${WT_BUILD:-$TOP/build}
WT_LIB=$WT_BUILD/libwalthrough.so
BENCH_BIN=$WT_BUILD/bench

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# Everything made here goes in one directory, removed at exit (with the
# scratch file system, if one was made).
BENCH_TMP=$(mktemp -d /tmp/wt-bench.XXXXXX)
BENCH_TABLE=/dev/shm/walthrough-bench.$$.table
SCRATCH_MNT=
bench_cleanup() {
	if [[ -n $SCRATCH_MNT ]]; then
		"$TOP/scripts/scratchfs" down "$SCRATCH_MNT" || true
	fi
	rm -rf "$BENCH_TMP"
	rm -f "$BENCH_TABLE" /dev/shm/walthrough-bench.$$.*.stats
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

need_prog() {
	[[ -x $BENCH_BIN/$1 ]] || die "$BENCH_BIN/$1 missing: run make"
}

# scratch_up TYPE [SIZE_MB] - a scratch file system; sets SCRATCH_MNT.
scratch_up() {
	[[ $(id -u) == 0 ]] || die "--scratch needs root"
	mkdir "$BENCH_TMP/mnt"
	SCRATCH_MNT=$BENCH_TMP/mnt
	"$TOP/scripts/scratchfs" up "$1" "$SCRATCH_MNT" "${2:-1024}" >/dev/null ||
		die "scratchfs up $1 failed"
}

# True when the library exists and loads. Says why not, once, otherwise.
wt_usable() {
	if [[ -z ${WT_USABLE:-} ]]; then
		WT_USABLE=yes
		local err
		if [[ ! -r $WT_LIB ]]; then
			WT_USABLE="$WT_LIB missing"
		elif err=$(LD_PRELOAD=$WT_LIB true 2>&1) && [[ $err != *preloaded* ]]; then
			:
		else
			WT_USABLE="$WT_LIB does not load: $err"
		fi
		[[ $WT_USABLE == yes ]] ||
			echo "# walthrough variants not run: $WT_USABLE" >&2
	fi
	[[ $WT_USABLE == yes ]]
}

# wt_conf_for NAME ENGINE GLOB [KEY = VALUE…] - writes $BENCH_TMP/NAME.conf
# tracking GLOB, each KEY = VALUE in the rule ("global: KEY = VALUE" in
# [global]); prints its path.
wt_conf_for() {
	local f=$BENCH_TMP/$1.conf engine=$2 glob=$3 kv
	shift 3
	{
		printf '[global]\nlog_level = warn\nengine = %s\n' "$engine"
		for kv; do [[ $kv != global:* ]] || echo "${kv#global:}"; done
		printf '\n[path %s]\nmode = writethrough\n' "$glob"
		for kv; do [[ $kv == global:* ]] || echo "$kv"; done
	} >"$f"
	chmod 0600 "$f"
	echo "$f"
}

# A stats file in /dev/shm for NAME's config, as deployed; removed at exit.
stats_for() { echo "/dev/shm/walthrough-bench.$$.$1.stats"; }

# wt_exec CONF CMD… - CMD under walthrough with CONF and this run's table.
wt_exec() {
	local conf=$1; shift
	LD_PRELOAD=$WT_LIB WALTHROUGH_CONFIG=$conf WALTHROUGH_TABLE=$BENCH_TABLE "$@"
}

# field KEY LINE - the value of KEY=VALUE in LINE.
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }

# median "NUMBER…" - of the blank-separated numbers; prints nothing for none.
median() {
	tr -s ' \t' '\n\n' <<<"$*" | awk 'NF' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.2f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B - A/B to two decimals, or "n/a".
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'
}

# A line saying where a benchmark ran.
where() {
	local fs
	fs=$(findmnt -n -o FSTYPE,SOURCE -T "$1" | awk '{ print $1 " on " $2 }')
	echo "$1 ($fs), kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
}
