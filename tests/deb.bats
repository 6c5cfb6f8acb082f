#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# deb.bats - `make deb` builds a Debian package from debian/; dpkg -i
# installs it on this machine (a throw-away CI machine: root); the
# installed walthrough probes, checks configs and finds its library; and
# dpkg --purge removes every file it installed.
#
# It refuses to run where a walthrough package, or files at its paths,
# are already installed: it would replace and then remove them.

load helpers

PKG=walthrough

setup_file() {
	requires root || return 0
	local t
	for t in dpkg-buildpackage dh; do
		command -v $t >/dev/null && continue
		if wt_ci; then
			fail "$t missing (Debian packages dpkg-dev, debhelper): run scripts/setup"
			return 1
		fi
		export WT_SKIP_REASON="$t missing (Debian packages dpkg-dev, debhelper)"
		return 0
	done
	if dpkg-query -W -f='${db:Status-Abbrev}' $PKG 2>/dev/null | grep -q '^.i'; then
		fail "the $PKG package is installed already; remove it (dpkg --purge $PKG) first"
		return 1
	fi
	for t in /usr/bin/walthrough /usr/lib/walthrough /usr/share/walthrough; do
		if [[ -e $t ]]; then
			fail "$t exists already (make install PREFIX=/usr?); remove it first"
			return 1
		fi
	done
	export DEBB=$BATS_FILE_TMPDIR/b
	make -C "$WT_TOP" -s deb B="$DEBB" >"$BATS_FILE_TMPDIR/deb.log" 2>&1 ||
		{ tail -n 30 "$BATS_FILE_TMPDIR/deb.log" >&2; fail "make deb failed"; return 1; }
	local debs=("$DEBB"/deb/${PKG}_*.deb)
	[[ -e ${debs[0]} && ${#debs[@]} == 1 ]] ||
		{ fail "make deb made no single $DEBB/deb/${PKG}_*.deb: ${debs[*]}"; return 1; }
	export DEB=${debs[0]}
}

teardown_file() {
	# Only what this file installed, whatever happened.
	if [[ -e $BATS_FILE_TMPDIR/installed ]] &&
		dpkg-query -W -f='${db:Status-Abbrev}' $PKG 2>/dev/null | grep -q '^.[ic]'; then
		dpkg --purge $PKG >/dev/null
	fi
}

@test "the package holds the library, the CLI, the configs, the man pages" {
	run -0 dpkg-deb -f "$DEB" Package Version Architecture Depends
	assert_line "Package: $PKG"
	assert_line "Version: $("$WT_CLI" --version | awk '{ print $2 }')"
	assert_line --regexp '^Depends: .*\bliburing2\b'
	assert_line --regexp '^Depends: .*\blibnvme1\b'
	run -0 dpkg-deb -c "$DEB"
	local f
	for f in ./usr/bin/walthrough ./usr/lib/walthrough/libwalthrough.so \
		./usr/share/man/man1/walthrough.1.gz ./usr/share/man/man5/walthrough.conf.5.gz \
		./usr/share/doc/$PKG/copyright ./usr/share/doc/$PKG/postgresql.md.gz ./usr/share/doc/$PKG/design.md.gz \
		./usr/share/doc/$PKG/examples/systemd/postgresql@.service.d/walthrough.conf; do
		assert_line --regexp " $f\$"
	done
	for f in "$WT_TOP"/config/*.conf; do
		assert_line --regexp " ./usr/share/walthrough/${f##*/}\$"
	done
	# The build tree of the package stays out of the developer's build/.
	[[ ! -e $WT_TOP/debian/build ]]
}

@test "dpkg -i installs it, and the installed walthrough works" {
	run dpkg -i "$DEB"
	assert_success
	touch "$BATS_FILE_TMPDIR/installed"
	run -0 dpkg-query -W -f='${db:Status-Abbrev}' $PKG
	assert_output --regexp '^ii'

	run -0 /usr/bin/walthrough --version
	assert_output "$("$WT_CLI" --version)"
	# probe, on the file system of the test's own directory.
	run -0 /usr/bin/walthrough probe "$BATS_TEST_TMPDIR"
	assert_line --regexp '^filesystem: [a-z0-9]+'
	assert_line --regexp '^strategy: '
	run -0 /usr/bin/walthrough probe /
	# The shipped configs: generic.conf is valid as shipped; the PostgreSQL
	# ones carry the @PGDATA@ placeholder, which check refuses by name.
	run -0 /usr/bin/walthrough check /usr/share/walthrough/generic.conf
	run -1 /usr/bin/walthrough check /usr/share/walthrough/postgres-wal.conf
	assert_output --partial "placeholder @PGDATA@"
	# run finds /usr/lib/walthrough/libwalthrough.so by itself.
	local C=$BATS_TEST_TMPDIR/wt.conf
	printf '[path %s/*]\n' "$BATS_TEST_TMPDIR" | wt_conf "$C"
	run -0 env -u LD_PRELOAD -u WALTHROUGH_LIBRARY \
		/usr/bin/walthrough run -c "$C" -- grep -F libwalthrough.so /proc/self/maps
	assert_output --partial "/usr/lib/walthrough/libwalthrough.so"
	# man finds the pages.
	if command -v man >/dev/null; then
		run -0 man -w walthrough
		assert_output "/usr/share/man/man1/walthrough.1.gz"
		run -0 man -w 5 walthrough.conf
		assert_output "/usr/share/man/man5/walthrough.conf.5.gz"
	fi
}

@test "dpkg --purge removes every file it installed" {
	[[ -e $BATS_FILE_TMPDIR/installed ]] || skip "not installed by the test before"
	local list=$BATS_TEST_TMPDIR/files f
	dpkg -L $PKG >"$list"
	grep -qx /usr/bin/walthrough "$list"
	grep -qx /usr/lib/walthrough/libwalthrough.so "$list"
	run dpkg --purge $PKG
	assert_success
	run dpkg-query -W -f='${db:Status-Abbrev}' $PKG
	refute_output --regexp '^.[ic]'
	while IFS= read -r f; do
		[[ -d $f ]] && continue
		[[ ! -e $f && ! -L $f ]] || fail "$f is still there after dpkg --purge"
	done <"$list"
	[[ ! -e /usr/lib/walthrough && ! -e /usr/share/walthrough && ! -e /usr/share/doc/$PKG ]] ||
		fail "a walthrough directory is left after dpkg --purge"
}
