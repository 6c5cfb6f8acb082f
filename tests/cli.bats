#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# cli.bats - the walthrough command: help, version, unknown commands, and
# `run`, which must refuse a bad config or a missing library before
# anything starts, and otherwise exec the command with the library first
# in LD_PRELOAD and WALTHROUGH_CONFIG absolute. A stand-in library (built
# here, it only says hello) keeps these tests independent of the shim.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	export WT_BUILD=${WT_BUILD:-$BATS_TEST_DIRNAME/../build}
	export WT=$WT_BUILD/walthrough
	if [[ ! -x $WT ]]; then
		echo "$WT missing: make $(basename "$WT_BUILD")/walthrough" >&2
		return 1
	fi
	# Says hello on stderr when FAKE_WT_SAY is set, so a test can see it
	# was really preloaded.
	cat >"$BATS_FILE_TMPDIR/fake.c" <<-'EOF'
	#include <stdlib.h>
	#include <string.h>
	#include <unistd.h>
	__attribute__((constructor)) static void hello(void)
	{
		const char *who = getenv("FAKE_WT_SAY");
		if (who) {
			write(2, who, strlen(who));
			write(2, " loaded\n", 8);
		}
	}
	EOF
	cc -shared -fPIC -o "$BATS_FILE_TMPDIR/fake.so" "$BATS_FILE_TMPDIR/fake.c"
	unset LD_PRELOAD WALTHROUGH_CONFIG WALTHROUGH_LIBRARY
}

setup() {
	unset LD_PRELOAD WALTHROUGH_CONFIG WALTHROUGH_LIBRARY FAKE_WT_SAY
	# A sanitizer build refuses to start with other libraries preloaded
	# before its runtime; here they are there on purpose.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	D=$(cd "$BATS_TEST_TMPDIR" && pwd -P)
	# A built tree: the program with the library beside it.
	mkdir "$D/bin"
	cp "$WT" "$D/bin/walthrough"
	cp "$BATS_FILE_TMPDIR/fake.so" "$D/bin/libwalthrough.so"
	W=$D/bin/walthrough
	LIB=$D/bin/libwalthrough.so
	CONF=$D/walthrough.conf
	printf '[path /srv/wal/*]\nmode = writethrough\n' >"$CONF"
	chmod 0644 "$CONF"
	SHOW='printf "LD_PRELOAD=%s\nWALTHROUGH_CONFIG=%s\n" "$LD_PRELOAD" "$WALTHROUGH_CONFIG"'
}

# ---- help, version, unknown commands -------------------------------------

@test "--help, -h and help print the usage with every command on stdout" {
	local a
	for a in --help -h help; do
		run -0 --separate-stderr "$W" $a
		assert_equal "$stderr" ""
		assert_line --index 0 "usage: walthrough COMMAND [ARG...]"
		assert_line --regexp '^  check CONFIG +validate CONFIG and show its rules$'
		assert_line --regexp '^  run \[-c CONFIG\] \[--\] COMMAND \[ARG\.\.\.\]$'
		assert_line --regexp '^ +run COMMAND with walthrough preloaded$'
		assert_line --regexp '^  match CONFIG PATH\.\.\. +show which rule'
		assert_line --regexp '^  help \[COMMAND\] +'
	done
}

@test "--version" {
	run -0 "$W" --version
	assert_output "walthrough 0.1.0"
}

@test "no arguments: usage on stderr, exit 2" {
	run -2 --separate-stderr "$W"
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "usage: walthrough COMMAND [ARG...]"
}

@test "an unknown command or option: named, usage on stderr, exit 2" {
	run -2 --separate-stderr "$W" frobnicate
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "walthrough: unknown command 'frobnicate'"
	[[ $stderr == *"usage: walthrough COMMAND [ARG...]"* ]] || fail "no usage: $stderr"
	run -2 --separate-stderr "$W" --frob
	assert_equal "${stderr_lines[0]}" "walthrough: unknown option '--frob'"
	run -2 --separate-stderr "$W" help frobnicate
	assert_equal "${stderr_lines[0]}" "walthrough: unknown command 'frobnicate'"
}

@test "each command's help: help NAME, NAME --help, NAME -h" {
	run -0 "$W" help run
	assert_line --index 0 "usage: walthrough run [-c CONFIG] [--] COMMAND [ARG...]"
	assert_line --partial "WALTHROUGH_LIBRARY"
	run -0 "$W" run --help
	assert_line --index 0 "usage: walthrough run [-c CONFIG] [--] COMMAND [ARG...]"
	run -0 "$W" run -c "$CONF" -h
	assert_line --index 0 "usage: walthrough run [-c CONFIG] [--] COMMAND [ARG...]"
	run -0 "$W" check -h
	assert_line --index 0 "usage: walthrough check CONFIG"
	run -0 "$W" match --help
	assert_line --index 0 "usage: walthrough match CONFIG PATH..."
	run -0 "$W" help help
	assert_line --index 0 "usage: walthrough help [COMMAND]"
}

# ---- run: the environment it makes -----------------------------------------

@test "run: the library beside the program goes into LD_PRELOAD, the config's absolute path into WALTHROUGH_CONFIG" {
	mkdir "$D/elsewhere"
	cd "$D/elsewhere"
	run -0 --separate-stderr "$W" run -c ../walthrough.conf -- sh -c "$SHOW"
	assert_line --index 0 "LD_PRELOAD=$LIB"
	assert_line --index 1 "WALTHROUGH_CONFIG=$CONF"
	assert_equal "$stderr" ""
}

@test "run: the library is really preloaded into the command" {
	export FAKE_WT_SAY="stand-in walthrough"
	run -0 --separate-stderr "$W" run -c "$CONF" -- true
	assert_equal "$stderr" "stand-in walthrough loaded"
}

@test "run: the command replaces walthrough (exec, no extra process)" {
	run -0 "$W" run -c "$CONF" -- sh -c 'cat /proc/$$/comm; cat /proc/$PPID/comm'
	assert_line --index 0 "sh"
	refute_line --index 1 "walthrough"
}

@test "run: prepends to an existing LD_PRELOAD and keeps its entries" {
	cp "$BATS_FILE_TMPDIR/fake.so" "$D/other1.so"
	cp "$BATS_FILE_TMPDIR/fake.so" "$D/other2.so"
	export LD_PRELOAD="$D/other1.so $D/other2.so"
	run -0 "$W" run -c "$CONF" -- sh -c "$SHOW"
	assert_line --index 0 "LD_PRELOAD=$LIB:$D/other1.so $D/other2.so"
	export LD_PRELOAD=""
	run -0 "$W" run -c "$CONF" -- sh -c "$SHOW"
	assert_line --index 0 "LD_PRELOAD=$LIB"
}

@test "run: run inside run does not preload the library twice" {
	cp "$BATS_FILE_TMPDIR/fake.so" "$D/other.so"
	export LD_PRELOAD=$D/other.so
	run -0 "$W" run -c "$CONF" -- "$W" run -c "$CONF" -- sh -c "$SHOW"
	assert_line --index 0 "LD_PRELOAD=$LIB:$D/other.so"
}

@test "run: the config comes from -c, --config, --config=, else \$WALTHROUGH_CONFIG" {
	local other=$D/other.conf
	printf '[path /srv/other/*]\n' >"$other"
	chmod 0644 "$other"
	export WALTHROUGH_CONFIG=$other
	run -0 "$W" run -- sh -c "$SHOW"
	assert_line --index 1 "WALTHROUGH_CONFIG=$other"
	run -0 "$W" run -c "$CONF" -- sh -c "$SHOW"
	assert_line --index 1 "WALTHROUGH_CONFIG=$CONF"
	run -0 "$W" run --config "$CONF" -- sh -c "$SHOW"
	assert_line --index 1 "WALTHROUGH_CONFIG=$CONF"
	run -0 "$W" run --config="$CONF" -- sh -c "$SHOW"
	assert_line --index 1 "WALTHROUGH_CONFIG=$CONF"
	run -0 "$W" run -c"$CONF" -- sh -c "$SHOW"
	assert_line --index 1 "WALTHROUGH_CONFIG=$CONF"
}

@test "run: a config path through a symbolic link is passed on resolved" {
	ln -s walthrough.conf "$D/link.conf"
	run -0 "$W" run -c "$D/link.conf" -- sh -c "$SHOW"
	assert_line --index 1 "WALTHROUGH_CONFIG=$CONF"
}

@test "run: without -c or \$WALTHROUGH_CONFIG the config is /etc/walthrough.conf" {
	[[ ! -e /etc/walthrough.conf ]] || skip "/etc/walthrough.conf exists on this machine"
	run -1 --separate-stderr "$W" run -- true
	assert_equal "${stderr_lines[0]}" "/etc/walthrough.conf: cannot open: No such file or directory"
	assert_equal "${stderr_lines[1]}" "walthrough run: not running true: the config /etc/walthrough.conf has problems (above)"
}

@test "run: the command and its arguments are passed as they are, its status returned" {
	run -0 "$W" run -c "$CONF" -- printf '<%s>\n' "a b" "" -- -c "--config=x"
	assert_equal "$output" $'<a b>\n<>\n<-->\n<-c>\n<--config=x>'
	run -7 "$W" run -c "$CONF" -- sh -c 'exit 7'
	# Without "--" the first word that is not an option is the command.
	run -0 "$W" run -c "$CONF" printf '<%s>\n' -c
	assert_output "<-c>"
}

@test "run: a config without rules runs, with a note that nothing is tracked" {
	: >"$D/empty.conf"
	chmod 0644 "$D/empty.conf"
	run -0 --separate-stderr "$W" run -c "$D/empty.conf" -- echo ran
	assert_equal "$output" "ran"
	assert_equal "$stderr" "walthrough run: $D/empty.conf has no [path] rules: no files are tracked"
}

# ---- run: refusals ------------------------------------------------------------

@test "run: an invalid config is refused with its problems, exit 1, and nothing runs" {
	printf '[path /srv/wal/*]\nmode = fast\n[bogus]\n' >"$CONF"
	run -1 --separate-stderr "$W" run -c "$CONF" -- touch "$D/ran"
	assert_equal "$output" ""
	assert_equal "${stderr_lines[0]}" "$CONF:2: bad value 'fast' for mode; allowed: writethrough | atomic | passthrough"
	assert_equal "${stderr_lines[1]}" "$CONF:3: unknown section [bogus]; sections are [global] and [path /ABSOLUTE/GLOB]"
	assert_equal "${stderr_lines[2]}" "walthrough run: not running touch: the config $CONF has problems (above)"
	assert_equal "${#stderr_lines[@]}" 3
	[[ ! -e $D/ran ]] || fail "the command ran with an invalid config"
}

@test "run: a missing config is refused, exit 1" {
	run -1 --separate-stderr "$W" run -c "$D/nope.conf" -- touch "$D/ran"
	assert_equal "${stderr_lines[0]}" "$D/nope.conf: cannot open: No such file or directory"
	[[ ! -e $D/ran ]] || fail "the command ran without a config"
	export WALTHROUGH_CONFIG=$D/nope2.conf
	run -1 --separate-stderr "$W" run -- touch "$D/ran"
	assert_equal "${stderr_lines[0]}" "$D/nope2.conf: cannot open: No such file or directory"
	[[ ! -e $D/ran ]] || fail "the command ran without a config"
}

@test "run: a group-writable config is refused, exit 1" {
	chmod 0664 "$CONF"
	run -1 --separate-stderr "$W" run -c "$CONF" -- touch "$D/ran"
	assert_equal "${stderr_lines[0]}" "$CONF: writable by group or others (mode 0664); chmod go-w"
	[[ ! -e $D/ran ]] || fail "the command ran with a group-writable config"
}

@test "run: a missing library is refused, naming where it was looked for" {
	rm "$LIB"
	run -1 --separate-stderr "$W" run -c "$CONF" -- touch "$D/ran"
	assert_equal "$stderr" "walthrough run: cannot find libwalthrough.so (looked for $D/bin/libwalthrough.so and $D/lib/walthrough/libwalthrough.so); set WALTHROUGH_LIBRARY to its path"
	[[ ! -e $D/ran ]] || fail "the command ran without the library"
}

@test "run: an installed layout, PREFIX/bin and PREFIX/lib/walthrough" {
	mkdir -p "$D/usr/bin" "$D/usr/lib/walthrough"
	mv "$W" "$D/usr/bin/walthrough"
	mv "$LIB" "$D/usr/lib/walthrough/libwalthrough.so"
	run -0 "$D/usr/bin/walthrough" run -c "$CONF" -- sh -c "$SHOW"
	assert_line --index 0 "LD_PRELOAD=$D/usr/lib/walthrough/libwalthrough.so"
}

@test "run: the program found through a symbolic link still finds its library" {
	ln -s "$W" "$D/walthrough-link"
	run -0 "$D/walthrough-link" run -c "$CONF" -- sh -c "$SHOW"
	assert_line --index 0 "LD_PRELOAD=$LIB"
}

@test "run: \$WALTHROUGH_LIBRARY wins, made absolute" {
	cp "$BATS_FILE_TMPDIR/fake.so" "$D/mine.so"
	cd "$D"
	export WALTHROUGH_LIBRARY=mine.so
	run -0 "$W" run -c "$CONF" -- sh -c "$SHOW"
	assert_line --index 0 "LD_PRELOAD=$D/mine.so"
}

@test "run: a \$WALTHROUGH_LIBRARY that is not there is refused, not second-guessed" {
	export WALTHROUGH_LIBRARY=$D/nope.so
	run -1 --separate-stderr "$W" run -c "$CONF" -- touch "$D/ran"
	assert_equal "$stderr" "walthrough run: WALTHROUGH_LIBRARY=$D/nope.so: No such file or directory"
	export WALTHROUGH_LIBRARY=$D
	run -1 --separate-stderr "$W" run -c "$CONF" -- touch "$D/ran"
	assert_equal "$stderr" "walthrough run: WALTHROUGH_LIBRARY=$D: Is a directory"
	[[ ! -e $D/ran ]] || fail "the command ran without the library"
}

@test "run: a library path LD_PRELOAD cannot carry (space, colon) is refused" {
	mkdir "$D/with space"
	cp "$BATS_FILE_TMPDIR/fake.so" "$D/with space/lib.so"
	export WALTHROUGH_LIBRARY="$D/with space/lib.so"
	run -1 --separate-stderr "$W" run -c "$CONF" -- touch "$D/ran"
	assert_equal "$stderr" "walthrough run: the library path '$D/with space/lib.so' holds a space or ':', which LD_PRELOAD cannot carry"
	[[ ! -e $D/ran ]] || fail "the command ran"
}

@test "run: a command that is not found exits 127, one that cannot run 126" {
	run -127 --separate-stderr "$W" run -c "$CONF" -- no-such-command-here
	assert_equal "$stderr" "walthrough run: no-such-command-here: command not found"
	run -127 --separate-stderr "$W" run -c "$CONF" -- "$D/no/such/file"
	assert_equal "$stderr" "walthrough run: $D/no/such/file: No such file or directory"
	printf '#!/bin/sh\n' >"$D/noexec"
	chmod 0644 "$D/noexec"
	run -126 --separate-stderr "$W" run -c "$CONF" -- "$D/noexec"
	assert_equal "$stderr" "walthrough run: $D/noexec: Permission denied"
}

@test "run: usage errors exit 2 and run nothing" {
	run -2 --separate-stderr "$W" run -c "$CONF"
	assert_equal "${stderr_lines[0]}" "walthrough run: no command given"
	assert_equal "${stderr_lines[1]}" "usage: walthrough run [-c CONFIG] [--] COMMAND [ARG...]"
	run -2 --separate-stderr "$W" run -c "$CONF" --
	assert_equal "${stderr_lines[0]}" "walthrough run: no command given"
	run -2 --separate-stderr "$W" run -c
	assert_equal "${stderr_lines[0]}" "walthrough run: -c needs a config"
	run -2 --separate-stderr "$W" run -x -- touch "$D/ran"
	assert_equal "${stderr_lines[0]}" "walthrough run: unknown option '-x'"
	[[ ! -e $D/ran ]] || fail "the command ran"
}

@test "run: the built library beside the built program" {
	[[ -e $WT_BUILD/libwalthrough.so ]] || skip "$WT_BUILD/libwalthrough.so not built"
	: >"$D/empty.conf"
	chmod 0644 "$D/empty.conf"
	run -0 --separate-stderr "$WT" run -c "$D/empty.conf" -- sh -c "$SHOW"
	assert_line --index 0 "LD_PRELOAD=$(realpath "$WT_BUILD/libwalthrough.so")"
}
