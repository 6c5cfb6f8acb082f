# SPDX-License-Identifier: MIT
# fuzz/fuzz.mk - libFuzzer targets for the config parser and for paths.
# Included by the top Makefile, which defines B, CC, WFLAGS and Q.
#
#   make fuzz            build each target with clang into build/fuzz/NAME
#                        and run it FUZZ_SECONDS (default 60); fails on any
#                        crash, hang (-timeout) or leak, and ends with
#                        "N passed, N failed, 0 skipped" (one per target).
#                        What it finds is written to tests/fuzz-regress/NAME/,
#                        where tests/fuzz.bats replays it: keep it there as
#                        a regression test once fixed. The grown corpus stays
#                        in build/fuzz/corpus-NAME for the next run.
#   make fuzz-NAME       one target (NAME: config, path)
#   make fuzz-replay     $(B)/fuzz/NAME-replay: the same checks without
#                        libFuzzer, ASan+UBSan by $(CC), for make test
#   make fuzz-merge      minimise build/fuzz/corpus-NAME into fuzz/corpus/NAME

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := config path
FUZZ_OUT     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer $(FUZZ_SAN) -D_GNU_SOURCE -Ishim \
		-Wall -Wextra -Werror
FUZZ_LIB_SRC := shim/config.c shim/path.c
FUZZ_DEPS    := $(FUZZ_LIB_SRC) shim/config.h shim/wt.h shim/compat.h
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/%)
# The seeds of each target, read-only; the grown corpus comes first.
FUZZ_SEEDS_config := fuzz/corpus/config config
FUZZ_SEEDS_path   := fuzz/corpus/path
FUZZ_ARGS_config  := -max_len=16384 -dict=fuzz/config.dict
FUZZ_ARGS_path    := -max_len=8300 -dict=fuzz/path.dict
FUZZ_OPTS := -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
	     -print_final_stats=1

# Saved so that including this file first does not change the default goal.
_fuzz_goal := $(.DEFAULT_GOAL)

$(FUZZ_BIN): $(FUZZ_OUT)/%: fuzz/%.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC)

# $(call fuzz_run,NAME): runs target NAME; a shell command whose status
# says whether it found nothing. The log's last lines say how far it got.
fuzz_run = { mkdir -p $(FUZZ_OUT)/corpus-$(1) tests/fuzz-regress/$(1); \
	echo "  FUZZ    $(1) for $(FUZZ_SECONDS) s (log: $(FUZZ_OUT)/$(1).log)"; \
	if ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
	   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	   $(FUZZ_OUT)/$(1) $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=tests/fuzz-regress/$(1)/ $(FUZZ_ARGS_$(1)) \
		$(FUZZ_OUT)/corpus-$(1) $(FUZZ_SEEDS_$(1)) >$(FUZZ_OUT)/$(1).log 2>&1; then \
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' \
			$(FUZZ_OUT)/$(1).log | sed 's/^/  $(1): /'; \
	else \
		tail -n 60 $(FUZZ_OUT)/$(1).log; \
		echo "fuzz $(1): FAILED; the input is in tests/fuzz-regress/$(1)/"; \
		false; \
	fi; }

fuzz: $(FUZZ_BIN)
	@pass=0 fail=0; \
	$(foreach t,$(FUZZ_TARGETS),if $(call fuzz_run,$(t)); \
		then pass=$$((pass + 1)); else fail=$$((fail + 1)); fi;) \
	echo "$$pass passed, $$fail failed, 0 skipped"; \
	test $$fail -eq 0

$(FUZZ_TARGETS:%=fuzz-%): fuzz-%: $(FUZZ_OUT)/%
	@$(call fuzz_run,$*)

fuzz-merge: $(FUZZ_TARGETS:%=fuzz-merge-%)

$(FUZZ_TARGETS:%=fuzz-merge-%): fuzz-merge-%: $(FUZZ_OUT)/%
	@mkdir -p $(FUZZ_OUT)/corpus-$* fuzz/corpus/$*
	$(FUZZ_OUT)/$* -merge=1 $(FUZZ_ARGS_$*) fuzz/corpus/$* $(FUZZ_OUT)/corpus-$*

# Replay drivers: the target's checks behind a main(), ASan+UBSan.
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(B)/fuzz/%-replay)

fuzz-replay: $(FUZZ_REPLAY)
# tests/fuzz.bats needs them.
test: fuzz-replay

$(FUZZ_REPLAY): $(B)/fuzz/%-replay: fuzz/%.c fuzz/replay.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -g -O1 $(FUZZ_SAN) -fno-omit-frame-pointer -D_GNU_SOURCE -Ishim \
		$(WFLAGS) -o $@ $< fuzz/replay.c $(FUZZ_LIB_SRC)

.PHONY: fuzz fuzz-replay fuzz-merge $(FUZZ_TARGETS:%=fuzz-%) \
	$(FUZZ_TARGETS:%=fuzz-merge-%)
.DEFAULT_GOAL := $(_fuzz_goal)
