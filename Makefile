# SPDX-License-Identifier: MIT
# walthrough - build, test, install.   make V=1 for full command lines.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(PREFIX)/bin
LIBDIR  := $(PREFIX)/lib/walthrough
DATADIR := $(PREFIX)/share/walthrough
MANDIR  := $(PREFIX)/share/man

CC      ?= cc
CFLAGS  ?= -O2 -g
WFLAGS  := -Wall -Wextra -Werror
CPPFLAGS += -D_GNU_SOURCE -Ishim -MMD -MP
B       := build

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
B       := build-san
endif
ifeq ($(SANITIZE),thread)
CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer
B       := build-tsan
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC := $(wildcard shim/*.c)
LIB_OBJ := $(LIB_SRC:shim/%.c=$(B)/shim/%.o)
CLI_SRC := $(wildcard cli/*.c) shim/config.c shim/path.c shim/log.c $(wildcard shim/probe.c)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/cli-obj/%.o)
TEST_SRC := $(wildcard tests/bin/*.c)
TEST_BIN := $(TEST_SRC:tests/bin/%.c=$(B)/tests/%)
TEST_SO_SRC := $(wildcard tests/preload/*.c)
TEST_SO := $(TEST_SO_SRC:tests/preload/%.c=$(B)/tests/%.so)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

all: $(B)/libwalthrough.so $(B)/walthrough $(TEST_BIN) $(TEST_SO) $(BENCH_BIN)

$(B)/shim/%.o: shim/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(B)/libwalthrough.so: $(LIB_OBJ) shim/libwalthrough.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-z,defs -Wl,--version-script=shim/libwalthrough.map \
		-o $@ $(LIB_OBJ) -luring -lnvme -ldl -lpthread

$(B)/cli-obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -c -o $@ $<

$(B)/walthrough: $(CLI_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) -lnvme

$(B)/tests/%: tests/bin/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -o $@ $< -luring -lpthread -ldl

# Test-only preloads (fault injection, ioctl replay): never installed.
$(B)/tests/%.so: tests/preload/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

# Run before the sanitizer runtime is ready: never instrumented.
$(B)/tests/san-init.so $(B)/tests/nofile.so: $(B)/tests/%.so: tests/preload/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(filter-out -fsanitize=%,$(CFLAGS)) $(WFLAGS) -fPIC -shared -o $@ $< -ldl

$(B)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -o $@ $< -luring -lpthread

# The test suites. WT_BUILD tells them which tree to use.
BATS_FILES ?= $(sort $(wildcard tests/*.bats))
test: all crash
	WT_BUILD=$(CURDIR)/$(B) tests/run $(BATS_FILES)

install: $(B)/libwalthrough.so $(B)/walthrough
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(B)/walthrough $(DESTDIR)$(BINDIR)/walthrough
	install -m 0755 $(B)/libwalthrough.so $(DESTDIR)$(LIBDIR)/libwalthrough.so
	install -m 0644 $(wildcard config/*.conf) $(DESTDIR)$(DATADIR)/
	install -m 0644 man/walthrough.1 $(DESTDIR)$(MANDIR)/man1/walthrough.1
	install -m 0644 man/walthrough.conf.5 $(DESTDIR)$(MANDIR)/man5/walthrough.conf.5

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/walthrough $(DESTDIR)$(LIBDIR)/libwalthrough.so
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/,$(notdir $(wildcard config/*.conf)))
	rm -f $(DESTDIR)$(MANDIR)/man1/walthrough.1 $(DESTDIR)$(MANDIR)/man5/walthrough.conf.5
	-rmdir $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DATADIR) 2>/dev/null

# A Debian package, built from a copy of the tree so that its clean step
# cannot touch build/: $(B)/deb/walthrough_VERSION_ARCH.deb.
deb:
	rm -rf $(B)/deb
	mkdir -p $(B)/deb/src
	tar -c --exclude=./.git --exclude='./build*' --exclude=./debian/build . | \
		tar -x -C $(B)/deb/src
	cd $(B)/deb/src && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE \
		dpkg-buildpackage -b -us -uc

clean:
	rm -rf build build-san build-tsan

# PostgreSQL under the ASan + UBSan build, under load, then kill -9
# (scripts/soak; SOAK_SECONDS, default 600).
soak:
	$(MAKE) SANITIZE=1 all
	WT_BUILD=$(CURDIR)/build-san scripts/soak

# PostgreSQL stock and under walthrough on a scratch XFS, with figures.
demo: $(B)/libwalthrough.so $(B)/walthrough
	scripts/demo

.PHONY: all test install uninstall deb clean demo soak
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
include tests/crash/crash.mk fuzz/fuzz.mk
