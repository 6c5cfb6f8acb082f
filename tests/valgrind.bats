#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# valgrind.bats - memcheck on the test helper programs (tests/bin) and on
# the walthrough command's subcommands, run without the library: no
# memory error and no definite leak, in forked children too. valgrind
# cannot run a sanitized build, so with one a plain copy of these programs
# is built for this file.

load helpers

setup_file() {
	requires root loopdev xfs || return 0
	if ! command -v valgrind >/dev/null; then
		export WT_SKIP_REASON="requires: valgrind missing: run scripts/setup"
		return 0
	fi
	export VG_BUILD=$WT_BUILD
	if [[ $WT_BUILD == *build-san || $WT_BUILD == *build-tsan ]]; then
		VG_BUILD=$BATS_FILE_TMPDIR/plain
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE make -s -C "$WT_TOP" B="$VG_BUILD" \
			"$VG_BUILD/walthrough" "$VG_BUILD/tests/wt-writer" "$VG_BUILD/tests/wt-race" \
			"$VG_BUILD/tests/wt-noring" >&2 || return 1
	fi
	scratch_fs xfs || return 0
}

setup() {
	wt_setup || return
	VW=$VG_BUILD/tests/wt-writer
	VCLI=$VG_BUILD/walthrough
	D=$WT_SCRATCH_XFS/$BATS_TEST_NUMBER
	rm -rf "$D"
	mkdir -p "$D"
	C=$BATS_TEST_TMPDIR/wt.conf
	printf '[global]\nlog_level = info\nstats = %s\n[path %s/*]\nmode = writethrough\n[path %s/a/*]\nmode = atomic\natomic = require\n' \
		"$BATS_TEST_TMPDIR/wt.stats" "$D" "$D" | wt_conf "$C"
}

# vg STATUS CMD... - CMD under memcheck: it exits STATUS, and valgrind
# reports nothing (an error or a definite leak would also make it exit 99).
vg() {
	local want=$1
	shift
	run "-$want" valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@"
	refute_output --regexp '^(==|--)[0-9]+(==|--) '
}

@test "walthrough check and match: valid and invalid configs" {
	vg 0 "$VCLI" check "$C"
	assert_line --partial "valid"
	printf '[global]\nbogus = 1\nstats = rel\n[path rel/*]\nmode = fast\n[path /x/*]\natomic_unit = 3\n' | wt_conf "$BATS_TEST_TMPDIR/bad.conf"
	vg 1 "$VCLI" check "$BATS_TEST_TMPDIR/bad.conf"
	vg 1 "$VCLI" check "$BATS_TEST_TMPDIR/missing.conf"
	mkdir -p "$D/sub"
	ln -s "$D" "$BATS_TEST_TMPDIR/link"
	vg 0 "$VCLI" match "$C" "$D/f" "$D/a/f" "$D/sub/../g" /elsewhere "$BATS_TEST_TMPDIR/link/h" relative/path
	vg 1 "$VCLI" match "$BATS_TEST_TMPDIR/bad.conf" /x
}

@test "walthrough probe: text, --json and -c, on a file and a directory of a scratch XFS and of the root file system" {
	head -c 64k /dev/zero >"$D/f"
	vg 0 "$VCLI" probe "$D/f"
	assert_line --partial "strategy:"
	vg 0 "$VCLI" probe --json -c "$C" "$D/f" "$D" "$BATS_TEST_TMPDIR"
	vg 1 "$VCLI" probe "$D/missing"
}

@test "walthrough stats: --file, -c, --prometheus, a missing and a foreign stats file" {
	wt_run "$C" "$WT_BIN/wt-writer" "$D/f" 'open rw,creat; pwrite 0 8k A; fdatasync; pwrite 8k 8k B; pwrite 100 100 C; fdatasync; fdatasync'
	vg 0 "$VCLI" stats --file "$BATS_TEST_TMPDIR/wt.stats"
	assert_line --partial "writes"
	vg 0 "$VCLI" stats -c "$C" --prometheus
	vg 1 "$VCLI" stats --file "$BATS_TEST_TMPDIR/missing.stats"
	head -c 100k /dev/urandom >"$BATS_TEST_TMPDIR/foreign.stats"
	chmod 0600 "$BATS_TEST_TMPDIR/foreign.stats"
	vg 1 "$VCLI" stats --file "$BATS_TEST_TMPDIR/foreign.stats"
}

@test "walthrough help, --version, run with a bad config, an unknown command" {
	vg 0 "$VCLI" --help
	vg 0 "$VCLI" help probe
	vg 0 "$VCLI" --version
	vg 1 "$VCLI" run -c "$BATS_TEST_TMPDIR/missing.conf" -- true
	vg 2 "$VCLI" frobnicate
}

@test "wt-writer: files, stdio, pipes, threads, fork, _Fork, exec, posix_spawn, vfork" {
	# (not `dirty`: valgrind does not know cachestat)
	vg 0 "$VW" "$D/f" 'open rw,creat; save f; pwrite 0 64k A; fdatasync; write 100 B; writev 2 4k C; pwritev 2 4k 8k D
		pwrite 32k 8k V; verify 32k 8k V; seek 0; size; pos; fds; mark m; secure; mapped wt-writer
		threads 3 { pwrite t*8k 8k T%t }; spawn { fdatasync }; join
		child { pwrite 0 4k E }; _fork { pwrite 4k 4k F }; bg { pwrite 8k 4k G }; wait
		exec { pwrite 12k 4k H }; pspawn { size }; vexec { size }; vforkwrite 16k 4k I
		fopen r+; fwrite 10 J; fflush; fclose; pipe; write 10 P; use $r; read 10 P
		use $f; mmapwrite 100 4k K; ftruncate 128k; fallocate 128k 64k; copyrange '"$D/f"' 0 64k 4k
		scribble 20 32k 4k X Y; records 1 10 64; use 999; expect EBADF fsync; print ok'
	assert_line ok
	vg 1 "$VW" "$D/f" 'open r; pwrite 0 8k A'
}

@test "wt-race: close and dup2 modes (without cachestat checks)" {
	vg 0 "$VG_BUILD/tests/wt-race" -C -i 200 close "$D/x" "$D/z" "$D/y"
	assert_line ok
	vg 0 "$VG_BUILD/tests/wt-race" -C -i 200 -d "$D/w" dup2 "$D/x" "$D/z"
	assert_line ok
}

@test "wt-noring: installs its filter and runs the command" {
	vg 0 "$VG_BUILD/tests/wt-noring" true
	vg 127 "$VG_BUILD/tests/wt-noring" /nonexistent
}
