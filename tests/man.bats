#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# man.bats - the manual pages: mandoc finds nothing to warn about, and
# they keep up with the code: every key and value the config parser
# accepts is in walthrough.conf(5), every subcommand and option of the CLI
# is in walthrough(1).

load helpers

setup() {
	MAN1=$WT_TOP/man/walthrough.1
	MAN5=$WT_TOP/man/walthrough.conf.5
	command -v mandoc >/dev/null || skip "mandoc missing (Debian package mandoc)"
}

@test "mandoc -T lint -W warning finds nothing in either page" {
	run mandoc -T lint -W warning "$MAN1" "$MAN5"
	assert_success
	assert_output ""
}

# render PAGE - plain text, bold and underline overstrikes removed.
render() {
	mandoc -T ascii "$1" | sed 's/.\x08//g'
}

@test "both pages render, with their sections" {
	run -0 render "$MAN1"
	assert_output --partial "WALTHROUGH(1)"
	for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		assert_line "$s"
	done
	run -0 render "$MAN5"
	assert_output --partial "WALTHROUGH.CONF(5)"
	for s in NAME SYNOPSIS DESCRIPTION "WHEN EACH MODE IS SAFE" FILES EXAMPLES "SEE ALSO"; do
		assert_line "$s"
	done
}

# The key table of shim/config.c: [K_NAME] = { "name", SEC_... }.
config_keys() {
	sed -n 's/^[[:space:]]*\[K_[A-Z_]*\] = { "\([a-z_]*\)", SEC_.*/\1/p' "$WT_TOP/shim/config.c"
}

@test "every config key the parser accepts is documented, with its default" {
	local keys k
	keys=$(config_keys)
	[[ $(wc -w <<<"$keys") -ge 7 ]] || fail "found only these keys in shim/config.c: $keys"
	for k in $keys; do
		grep -q "^\.It Ic $k No = " "$MAN5" ||
			fail "walthrough.conf(5) has no '.It Ic $k No = ...' entry for key $k"
	done
	# Each entry says its default (or that there is none).
	run -0 awk '
		/^\.It Ic [a-z_]+ No = / { if (key != "" && !seen) print key; key = $3; seen = 0; next }
		/^\.Sh / { if (key != "" && !seen) print key; key = "" }
		/^Default/ { seen = 1 }
	' "$MAN5"
	assert_output ""
}

@test "every value the parser accepts is documented" {
	local v n=0
	# The name tables of shim/config.c: [WT_MODE_X] = "x", etc.
	for v in $(sed -n 's/^[[:space:]]*\[WT_\(MODE\|ATOMIC\|ENGINE\|LOG\)_[A-Z_0-9]*\] = "\([a-z_0-9]*\)",.*/\2/p' "$WT_TOP/shim/config.c"); do
		n=$((n + 1))
		grep -qE "(Cm|\|) $v( |\$)" "$MAN5" ||
			fail "walthrough.conf(5) does not mention the value $v"
	done
	((n >= 13)) || fail "found only $n values in shim/config.c"
	grep -q "power of two from 512 to 1048576" "$MAN5"
	grep -q "from 1 to 1000000" "$MAN5"
}

@test "every subcommand and option of the CLI is in walthrough(1)" {
	[[ -x $WT_CLI ]] || fail "$WT_CLI missing: make"
	local cmds c opts o
	# The command list of `walthrough --help`.
	cmds=$("$WT_CLI" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
	[[ $(wc -w <<<"$cmds") -ge 5 ]] || fail "found only these commands: $cmds"
	for c in $cmds; do
		grep -q "^\.Cm $c\$" "$MAN1" || fail "walthrough(1): no '.Cm $c' in the synopsis"
		grep -q "^\.It Cm $c\( \|\$\)" "$MAN1" || fail "walthrough(1): no '.It Cm $c' entry"
		# Options in the command's help: "  -c, --config CONFIG", "  --json".
		opts=$("$WT_CLI" help "$c" | grep -oE '^  (-[a-z], )?--?[a-z][a-z-]*' | tr ',' ' ')
		for o in $opts; do
			if [[ $o == --* ]]; then
				grep -q "Fl \\\\-${o#--}\\b" "$MAN1" || fail "walthrough(1): option $o of $c missing"
			else
				grep -q "Fl ${o#-}\\b" "$MAN1" || fail "walthrough(1): option $o of $c missing"
			fi
		done
	done
	for c in probe stats check run match; do
		[[ " $(echo $cmds) " == *" $c "* ]] || fail "the CLI has no $c command"
	done
}

@test "walthrough(1) names the exit statuses and the environment the code uses" {
	local v
	for v in 0 1 2 126 127; do
		grep -qE "^(\.It $v\$|.* $v )" "$MAN1" || fail "exit status $v not described"
	done
	for v in $(grep -ohE '"WALTHROUGH_[A-Z_]+"' "$WT_TOP"/shim/*.c "$WT_TOP"/cli/*.c | tr -d '"' | sort -u); do
		grep -q "^\.It Ev $v\$" "$MAN1" || fail "walthrough(1): environment variable $v not described"
	done
}
