# SPDX-License-Identifier: MIT
# tests/crash - the power-loss harness. Included by the top Makefile, which
# defines B, CC, CFLAGS, WFLAGS, CPPFLAGS and Q.
#
#   make crash        build $(B)/crash/{logdisk,replay,recwriter,reaper,nosync.so}
#   make crash-test   the long run (CRASH_POINTS per variant, default 500)

CRASH_BIN := $(B)/crash/logdisk $(B)/crash/replay $(B)/crash/recwriter \
	     $(B)/crash/reaper \
	     $(B)/crash/nosync.so
FUSE_CFLAGS = $(shell pkg-config --cflags fuse3)
FUSE_LIBS = $(shell pkg-config --libs fuse3)
CRASH_POINTS ?= 500

crash: $(CRASH_BIN)

$(B)/crash/logdisk: tests/crash/logdisk.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) $(FUSE_CFLAGS) -o $@ $< $(FUSE_LIBS)

$(B)/crash/%: tests/crash/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -o $@ $<

# Never sanitized: it is preloaded into PostgreSQL, which has no ASan runtime.
$(B)/crash/nosync.so: tests/crash/nosync.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(filter-out -fsanitize% -fno-sanitize%,$(CFLAGS)) $(WFLAGS) \
		-shared -fPIC -fvisibility=hidden -Wl,-z,defs -o $@ $< -ldl

crash-test: all crash
	WT_BUILD=$(CURDIR)/$(B) tests/crash/run --points $(CRASH_POINTS) all

.PHONY: crash crash-test
-include $(wildcard $(B)/crash/*.d)
