#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# install.bats - `make install` into a DESTDIR puts exactly the library,
# the CLI, the example configs and the man pages where PREFIX says; the
# installed CLI runs and its `run` finds the installed library at
# ../lib/walthrough/ from itself; `make uninstall` removes exactly that.

load helpers

# wt_make TARGET… - the project's make, on the build under test.
wt_make() {
	local san=()
	[[ $WT_BUILD == *build-san ]] && san=(SANITIZE=1)
	[[ $WT_BUILD == *build-tsan ]] && san=(SANITIZE=thread)
	make -s -C "$WT_TOP" B="$WT_BUILD" "${san[@]}" "$@"
}

# The environment the installed CLI runs in: nothing that points at a
# library. A sanitized build needs its runtime (first in wt_preload)
# preloaded already, before the library `run` puts in front of it.
clean_env() {
	local e=(env -u WALTHROUGH_LIBRARY -u WALTHROUGH_CONFIG)
	if [[ $wt_preload == *:* ]]; then
		e+=(LD_PRELOAD="${wt_preload%%:*}"
			ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0)
	else
		e+=(-u LD_PRELOAD)
	fi
	"${e[@]}" "$@"
}

# What an install with PREFIX $1 must hold, one path a line, sorted.
expected_files() {
	local p=${1#/} f
	{
		echo "$p/bin/walthrough"
		echo "$p/lib/walthrough/libwalthrough.so"
		for f in "$WT_TOP"/config/*.conf; do
			echo "$p/share/walthrough/${f##*/}"
		done
		echo "$p/share/man/man1/walthrough.1"
		echo "$p/share/man/man5/walthrough.conf.5"
	} | sort
}

# The files and links under DESTDIR $1, relative, sorted.
files_in() {
	(cd "$1" && find . \( -type f -o -type l \) -printf '%P\n' | sort)
}

setup() {
	wt_setup
	DEST=$BATS_TEST_TMPDIR/root
	mkdir -p "$DEST"
}

@test "make install into a DESTDIR: exactly these files, these modes" {
	run -0 wt_make install PREFIX=/usr/local DESTDIR="$DEST"
	run -0 files_in "$DEST"
	assert_output "$(expected_files /usr/local)"
	local u=$DEST/usr/local
	[[ $(stat -c %a "$u/bin/walthrough") == 755 ]]
	[[ $(stat -c %a "$u/lib/walthrough/libwalthrough.so") == 755 ]]
	[[ $(stat -c %a "$u/share/man/man1/walthrough.1") == 644 ]]
	[[ $(stat -c %a "$u/share/man/man5/walthrough.conf.5") == 644 ]]
	[[ $(stat -c %a "$u/share/walthrough/postgres-wal.conf") == 644 ]]
	cmp "$u/bin/walthrough" "$WT_CLI"
	cmp "$u/lib/walthrough/libwalthrough.so" "$WT_LIB"
	cmp "$u/share/man/man1/walthrough.1" "$WT_TOP/man/walthrough.1"
	cmp "$u/share/man/man5/walthrough.conf.5" "$WT_TOP/man/walthrough.conf.5"
}

# run_installed PREFIX - install there, then use the installed copy: its
# version, `run` with the library it finds by itself, `stats` of that run.
run_installed() {
	local prefix=$1 u
	u=$DEST$prefix
	wt_make install PREFIX="$prefix" DESTDIR="$DEST"
	run -0 "$u/bin/walthrough" --version
	assert_output --regexp '^walthrough [0-9]+\.[0-9]+\.[0-9]+'

	local C=$BATS_TEST_TMPDIR/wt.conf D=$BATS_TEST_TMPDIR/data
	mkdir -p "$D"
	printf '[global]\nstats = %s\n[path %s/*]\nmode = writethrough\n' \
		"$BATS_TEST_TMPDIR/wt.stats" "$D" | wt_conf "$C"
	# Nothing in the environment points at a library: run must find it.
	run -0 clean_env "$u/bin/walthrough" run -c "$C" -- grep -F libwalthrough.so /proc/self/maps
	assert_output --partial "$u/lib/walthrough/libwalthrough.so"
	refute_output --partial "$WT_LIB"
	run -0 clean_env WALTHROUGH_TABLE="$BATS_TEST_TMPDIR/table" \
		"$u/bin/walthrough" run -c "$C" -- \
		"$WT_BIN/wt-writer" "$D/f" 'open rw,creat; pwrite 0 8k A; pwrite 0 8k B; fdatasync; close'
	run -0 "$u/bin/walthrough" stats -c "$C" --prometheus
	assert_line "walthrough_writes_total{rule=\"$D/*\"} 2"
	# The installed man pages are the ones mandoc checks.
	run -0 mandoc -T lint -W warning "$u/share/man/man1/walthrough.1" "$u/share/man/man5/walthrough.conf.5"
}

@test "the installed CLI runs, and its run finds the installed library" {
	command -v mandoc >/dev/null || skip "mandoc missing"
	run_installed /usr/local
}

@test "the same under another PREFIX" {
	command -v mandoc >/dev/null || skip "mandoc missing"
	run_installed /opt/wt
	run -0 files_in "$DEST"
	assert_output "$(expected_files /opt/wt)"
}

@test "make uninstall removes exactly what make install put there" {
	# Someone else's files in the same directories stay.
	mkdir -p "$DEST/usr/local/bin" "$DEST/usr/local/share/man/man1" "$DEST/usr/local/lib"
	echo other >"$DEST/usr/local/bin/other"
	echo other >"$DEST/usr/local/share/man/man1/other.1"
	echo other >"$DEST/usr/local/lib/libother.so"
	wt_make install PREFIX=/usr/local DESTDIR="$DEST"
	run -0 wt_make uninstall PREFIX=/usr/local DESTDIR="$DEST"
	run -0 files_in "$DEST"
	assert_output "$(printf '%s\n' usr/local/bin/other usr/local/lib/libother.so usr/local/share/man/man1/other.1)"
	# walthrough's own directories are gone too.
	[[ ! -e $DEST/usr/local/lib/walthrough ]]
	[[ ! -e $DEST/usr/local/share/walthrough ]]

	# From nothing installed, uninstall is harmless.
	rm -rf "$DEST"
	mkdir -p "$DEST"
	wt_make install PREFIX=/usr/local DESTDIR="$DEST"
	run -0 wt_make uninstall PREFIX=/usr/local DESTDIR="$DEST"
	run -0 files_in "$DEST"
	assert_output ""
	run -0 wt_make uninstall PREFIX=/usr/local DESTDIR="$DEST"
}
