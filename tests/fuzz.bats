#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fuzz.bats - replays the fuzz corpora and every input that once broke a
# fuzz target (tests/fuzz-regress/TARGET/, where `make fuzz` puts what it
# finds) through the targets' own checks, built without libFuzzer but with
# ASan+UBSan ($WT_BUILD/fuzz/TARGET-replay, from `make fuzz-replay`), so
# that a fixed crash, hang or leak stays fixed.

load helpers

setup() {
	wt_setup
	TOP=$WT_TOP
}

# replay TARGET DIR... - every file in each DIR through TARGET's checks;
# leaks count (the targets free everything they make). Sets WANT to the
# number of inputs.
replay() {
	local bin=$WT_BUILD/fuzz/$1-replay d
	shift
	[[ -x $bin ]] || fail "$bin missing: run make fuzz-replay"
	WANT=0
	for d; do
		WANT=$((WANT + $(find "$d" -maxdepth 1 -type f ! -name '.*' | wc -l)))
	done
	# timeout: a hang the fuzzer found must fail here too, not wait forever.
	run -0 --separate-stderr env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		timeout 120 "$bin" "$@"
	assert_output "replayed $WANT inputs"
}

@test "config parser: the seed corpus and config/*.conf replay cleanly" {
	replay config "$TOP/fuzz/corpus/config" "$TOP/config"
	((WANT >= 10)) || fail "only $WANT config seeds"
}

@test "config parser: every input that once broke it (tests/fuzz-regress/config)" {
	replay config "$TOP/tests/fuzz-regress/config"
}

@test "paths: the seed corpus replays cleanly" {
	replay path "$TOP/fuzz/corpus/path"
	((WANT >= 10)) || fail "only $WANT path seeds"
}

@test "paths: every input that once broke normalisation or matching (tests/fuzz-regress/path)" {
	replay path "$TOP/tests/fuzz-regress/path"
}

@test "a replay driver fails on a missing corpus rather than pass it as empty" {
	local bin=$WT_BUILD/fuzz/path-replay
	[[ -x $bin ]] || fail "$bin missing: run make fuzz-replay"
	run -1 --separate-stderr "$bin" "$BATS_TEST_TMPDIR/no-such-corpus"
	assert_output "replayed 0 inputs"
}
