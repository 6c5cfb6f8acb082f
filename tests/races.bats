#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# races.bats - an fd number that another thread changes (close + open,
# dup2) while a write or sync through it is in flight; posix_spawn and
# vfork children; a set-user-ID program.
#
# libc is the bar for where data may land: a write that overlaps a change
# of its fd number may reach the old file or the new one, or fail with
# EBADF while the number is closed (never with dup2, which replaces
# atomically); a write that overlaps none reaches the file the number
# names. The page cache is the judge of a skipped sync (design.md 1.1-1.2):
# after an fdatasync returns 0 no dirty page may be left (cachestat).

load shim-helpers

setup_file() {
	scratch_fs xfs || return 0
}

setup() {
	D= SUID_LIB= SUID_DIR=
	requires root loopdev xfs strace
	wt_dirs "$WT_SCRATCH_XFS"
	wt_mkconf "log_level = warn"
}

teardown() {
	[[ -z $SUID_LIB ]] || rm -f "$SUID_LIB"
	[[ -z $SUID_DIR ]] || rm -rf "$SUID_DIR"
	# wt-race's files are large: room for the next test's
	[[ -z ${D:-} ]] || rm -rf "$D" "$D".*
}

# race MODE PATH... - wt-race under the library (see tests/bin/wt-race.c),
# with a tracked decoy no write may reach; passes when it found nothing
# and the race really happened.
race() {
	run timeout -s KILL 300 env LD_PRELOAD="$wt_preload" WALTHROUGH_CONFIG="$C" \
		WALTHROUGH_TABLE="$(wt_table)" "$WT_BIN/wt-race" -i 16000 -d "$D/w" "$@"
	assert_success
	assert_line ok
	# Some calls overlapped a change of N, some syncs were checked.
	assert_line --regexp ' unstable-writes [1-9][0-9]* '
	assert_line --regexp ' checked-syncs [1-9][0-9]* '
}

# ---- 1. close racing writes and syncs --------------------------------------

@test "close + open of an fd number while a thread writes and fdatasyncs through it: each write where libc allows, no needed sync skipped" {
	# tracked, untracked, tracked, untracked: the number is reused by both
	race close "$D/x" "$D.z" "$D/y" "$D.z"
}

# ---- 2. dup2 racing writes and syncs ---------------------------------------

@test "dup2 of an untracked file's fd onto a tracked fd, and back, while a thread writes and fdatasyncs through it: no EBADF, writes where libc allows, no needed sync skipped" {
	race dup2 "$D/x" "$D.z"
}

@test "dup2 between two tracked files while a thread writes and fdatasyncs through the number: the same" {
	race dup2 "$D/x" "$D/y"
}

@test "dup2 of an untracked file's fd onto a tracked fd a thread is writing through: the syncs after are real" {
	local z=$D.z
	prefill 2m "$F" "$z"
	local s="open rw $z; save z; open rw; save x; dup; save n; pwrite 0 4k A; fdatasync; fdatasync
		spawn { repeat 400 { pwrite i*4k+4k 4k W%i } }
		repeat 100 { use \$z; dup2 \$n; use \$x; dup2 \$n }
		use \$z; dup2 \$n; join
		use \$n; mark after; fsync; fdatasync; fsync"
	run wt_trace_timeout 300 "$s"
	assert_success
	assert_equal "$(wt_events "$T" "$z" | sed -n '/^mark after$/,$p' | tr '\n' ' ')" "mark after fsync fdatasync fsync "
}

# ---- 2b. one change of the number, made certain by strace delays -------------
#
# strace holds one call of the library's in the kernel while a thread
# changes the number once; the file written must be left with no dirty
# page by its next fdatasync, and the library must know which file that
# was (no "nothing is skipped" fallback).

# delayed "INJECT..." SCRIPT DIRTY [fallback] - wt-writer on $D/x (tracked;
# $D/y tracked, $D.z not), all three 64 KiB and synced first, with calls
# delayed; its "dirty" lines must be DIRTY, and the library must (with
# fallback) or must not have stopped skipping syncs.
delayed() {
	local w i inj=()
	for w in "$D/x" "$D/y" "$D.z"; do
		"$WT_BIN/wt-writer" "$w" 'open w,creat,trunc; pwrite 0 64k Z; fsync' ||
			fail "prefill $w"
	done
	for i in $1; do inj+=(-e "inject=$i"); done
	run --separate-stderr timeout -s KILL 120 strace -f -qq -o /dev/null "${inj[@]}" \
		-E LD_PRELOAD="$wt_preload" -E WALTHROUGH_CONFIG="$C" \
		-E WALTHROUGH_TABLE="$(wt_table)" "$WT_BIN/wt-writer" "$D/x" "$2"
	assert_success
	# Dirty before the sync, clean after it: the sync was real.
	assert_equal "$(grep '^dirty' <<<"$output" | tr '\n' ' ')" "$3"
	if [[ ${4:-} == fallback ]]; then
		[[ $stderr == *"no fsync is skipped"* ]] || fail "did not fall back to skipping nothing: $stderr"
	else
		[[ $stderr != *"no fsync is skipped"* ]] || fail "fell back to skipping nothing: $stderr"
	fi
}

@test "fdatasync through a number changed x, z, x around it: x is not marked clean by a sync of z" {
	delayed fdatasync:delay_enter=200000:delay_exit=200000:when=2 "
		open rw; save x; open rw $D.z; save z; use \$x; dup; save n
		fdatasync; pwrite 0 4k A; pwrite 4k 4k B
		spawn { sleep 100; use \$z; dup2 \$n; sleep 200; use \$x; dup2 \$n }
		use \$n; fdatasync; join; use \$x; dirty; fdatasync; dirty" "dirty 1 dirty 0 "
}

@test "a burst write through a number dup2'd from tracked x to tracked y meanwhile: y's next sync is real" {
	delayed pwritev:delay_enter=200000:when=1 "
		open rw; save x; open rw $D/y; save y; fdatasync
		use \$x; dup; save n; fdatasync; pwrite 0 4k A
		spawn { sleep 100; use \$y; dup2 \$n }
		use \$n; pwrite 4k 4k B; join; use \$y; dirty; fdatasync; dirty" "dirty 16 dirty 0 "
}

@test "a write through an untracked number dup2'd to tracked x meanwhile: x's next sync is real" {
	delayed pwrite64:delay_enter=200000:when=1 "
		open rw; save x; fdatasync; open rw $D.z; save z; dup; save n
		spawn { sleep 100; use \$x; dup2 \$n }
		use \$n; pwrite 4k 4k B; join; use \$x; dirty; fdatasync; dirty" "dirty 16 dirty 0 "
}

@test "a write through a number whose close is in the kernel reaches the closing file x: durable by itself, nothing left dirty" {
	# The close has forgotten the number but not yet closed it: what the
	# number names is unknown, so the write goes RWF_DSYNC.
	delayed "close:delay_enter=300000:when=1" "
		open rw; save x; fdatasync; fdatasync; dup; save n
		spawn { sleep 100; use \$n; close }
		sleep 200; use \$n; pwrite 4k 4k B; join; use \$x; dirty; fdatasync; dirty" "dirty 0 dirty 0 "
}

@test "a burst write through a number closed, reopened untracked, closed and reopened as y meanwhile: x's next sync is real, nothing falls back" {
	delayed pwritev:delay_exit=400000:when=1 "
		open rw; save x; open rw $D/y; save y; fdatasync
		use \$x; dup; save n; fdatasync; pwrite 0 4k A
		spawn { sleep 100; use \$n; close; open rw $D.z; close; open rw $D/y }
		use \$n; pwrite 4k 4k B; join; use \$x; dirty; fdatasync; dirty" "dirty 1 dirty 0 "
}

@test "a write through an inherited number never classified, whose close is in the kernel, reaches tracked x: the write is durable by itself, nothing falls back" {
	# After exec the number is unknown: its close records no file leaving.
	delayed "close:delay_enter=300000:when=1" "
		open rw; exec {
			save n; open rw; save x; fdatasync; fdatasync
			spawn { sleep 100; use \$n; close }
			sleep 200; use \$n; pwrite 4k 4k B; join; use \$x; fdatasync; dirty }" "dirty 0 "
}

@test "sendfile through a number whose close is in the kernel reaches the closing file x: x's next sync is real" {
	# ftruncate, fallocate, copy_file_range, splice and FICLONE take the
	# same path as sendfile.
	delayed "close:delay_enter=300000:when=1 sendfile:delay_exit=250000:when=1" "
		open rw; save x; fdatasync; fdatasync; dup; save n
		spawn { sleep 100; use \$n; close }
		sleep 200; use \$n; seek 4k; sendfile $D.z 0 4k; join; use \$x; dirty; fdatasync; dirty" "dirty 16 dirty 0 "
}

@test "a burst write through a number that names four tracked files in turn meanwhile: all are recorded, x's next sync is real, nothing falls back" {
	delayed pwritev:delay_exit=400000:when=1 "
		open rw; save x; open rw $D/y; save y; fdatasync
		use \$x; dup; save n; fdatasync; pwrite 0 4k A
		spawn { sleep 100; repeat 3 { use \$n; close; open rw $D/y } }
		use \$n; pwrite 4k 4k B; join; use \$x; dirty; fdatasync; dirty" "dirty 1 dirty 0 "
}

@test "a burst write through a number that names five tracked files in turn meanwhile: more than is recorded, so nothing is skipped any more" {
	delayed pwritev:delay_exit=400000:when=1 "
		open rw; save x; open rw $D/y; save y; fdatasync
		use \$x; dup; save n; fdatasync; pwrite 0 4k A
		spawn { sleep 100; repeat 5 { use \$n; close; open rw $D/y } }
		use \$n; pwrite 4k 4k B; join; use \$x; dirty; fdatasync; dirty" "dirty 1 dirty 0 " fallback
}

@test "classifying an inherited number races its close and reopen as tracked x: later writes through it are recorded" {
	"$WT_BIN/wt-writer" "$D.z" 'open w,creat,trunc; pwrite 0 64k Z; fsync'
	delayed readlinkat:delay_exit=200000 "
		open rw $D.z; exec {
			save n; open rw $D/x; save x; fdatasync
			spawn { sleep 100; use \$n; close; open rw $D/x }
			use \$n; pwrite 4k 4k B; join
			pwrite 8k 4k C; use \$x; dirty; fdatasync; dirty }" "dirty 1 dirty 0 "
}

# ---- 3. posix_spawn and vfork children ---------------------------------------

# The child inherits the library through LD_PRELOAD and the fd: unknown
# to it, so its first sync is real; its last write is a burst, so the
# parent's next sync must be real, and then nothing is left dirty.
spawned() {
	prefill 64k
	local s="open rw; fdatasync; fdatasync; $1 { pwrite 0 8k A; fdatasync; pwrite 8k 8k B; pwrite 16k 8k C }; mark back; fdatasync; dirty; fdatasync"
	run wt_trace "$s"
	assert_success
	assert_line "dirty 0"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F" who)" "fdatasync child odirect child direct child fdatasync child direct child write mark back fdatasync"
}

@test "posix_spawn of a program that writes and fdatasyncs the inherited fd: data right, the parent's next sync is real" {
	spawned pspawn
}

@test "vfork + exec of a program that writes and fdatasyncs the inherited fd: data right, the parent's next sync is real" {
	spawned vexec
}

@test "posix_spawn of a program that opens the tracked file itself: data right, the parent's next sync after its burst is real" {
	prefill 64k
	local s='open rw; fdatasync; fdatasync; pspawn { open rw; pwrite 0 8k A; pwrite 8k 8k B; fdatasync; pwrite 16k 8k C; pwrite 24k 8k D }; mark back; fdatasync; dirty; fdatasync'
	run wt_trace "$s"
	assert_success
	assert_line "dirty 0"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F" who)" "fdatasync child odirect child direct child write child fdatasync child direct child write mark back fdatasync"
}

@test "vfork children write through the parent's tracked fd (no exec): durable when vfork returns, data right" {
	prefill 64k
	# In a vfork child the library takes no lock: each write is RWF_DSYNC.
	local s='open rw; fdatasync; fdatasync; vforkwrite 0 8k A; vforkwrite 8k 8k B; mark back; dirty; fdatasync; dirty'
	run wt_trace "$s"
	assert_success
	assert_equal "$(grep '^dirty' <<<"$output" | tr '\n' ' ')" "dirty 0 dirty 0 "
	ref "$s"
	same_as_ref
	assert_equal "$(wt_events "$T" "$F" who | sed -n '1,/^mark back$/p' | tr '\n' ' ')" "fdatasync child dsync child dsync mark back "
}

@test "a vfork child writes through an fd its parent never classified (inherited across exec): durable when vfork returns, so the parent's skipped sync loses nothing" {
	prefill 64k
	# The parent syncs through another fd of the same file, already clean.
	local s="open rw; exec { save n; open rw; save x; fdatasync; fdatasync; use \$n; vforkwrite 0 8k A; use \$x; fdatasync; dirty }"
	run wt_trace "$s"
	assert_success
	assert_line "dirty 0"
	ref "$s"
	same_as_ref
}

# ---- 4. a set-user-ID program -------------------------------------------------

@test "a set-user-ID program (AT_SECURE) that loads the library ignores WALTHROUGH_CONFIG and WALTHROUGH_TABLE*; the same program without AT_SECURE uses them" {
	id nobody >/dev/null || fail "needs the user nobody"
	prefill 64k
	wt_mkconf "log_level = warn" "stats = $D.stats"
	local table=$D.table libdir name prog
	# glibc preloads into a set-user-ID program only a name without a
	# slash, found in a standard directory, and set-user-ID itself.
	libdir=$(dirname "$(readlink -f "$(ldd /bin/true | awk '/libc\.so/ { print $3 }')")")
	name=libwalthrough-races-$$.so
	SUID_LIB=$libdir/$name
	install -m 4755 "$WT_LIB" "$SUID_LIB"
	# wt-writer, set-user-ID root, where nobody can run it
	SUID_DIR=$(mktemp -d /var/tmp/wt-races.XXXXXX)
	chmod 0755 "$SUID_DIR"
	prog=$SUID_DIR/wt-writer
	install -m 4755 "$W" "$prog"
	local e=(LD_PRELOAD="$name" WALTHROUGH_CONFIG="$C" WALTHROUGH_TABLE="$table" WALTHROUGH_TABLE_ENTRIES=0)
	# A sanitized library: its runtime cannot be preloaded by path here.
	((${#wt_san_env[@]} == 0)) || e+=(ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0")
	local s="secure; mapped $name; open rw; pwrite 0 8k A; fdatasync; pwrite 0 8k B; fdatasync"
	ref "$s"

	# As nobody: AT_SECURE. env sets the variables for the program alone.
	run setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- env "${e[@]}" "$prog" "$F" "$s"
	assert_success
	assert_line "secure 1"
	assert_line --regexp '^mapped [1-9]'
	assert_line --partial "WALTHROUGH_CONFIG ignored in a set-user-ID or set-group-ID program"
	refute_output --partial WALTHROUGH_TABLE_ENTRIES
	[[ ! -e $table && ! -e $D.stats ]] || fail "the library used WALTHROUGH_TABLE or the config's stats file"
	same_as_ref
	# The same under strace: no O_DIRECT, every sync real.
	local se=() v
	for v in "${e[@]}"; do se+=(-E "$v"); done
	run strace -f -qq -y -o "$T" -e trace="$WT_STRACE_SET" -u nobody "${se[@]}" "$prog" "$F" "$s"
	assert_success
	assert_line "secure 1"
	assert_equal "$(wt_seq "$T" "$F")" "write fdatasync write fdatasync"
	[[ ! -e $table && ! -e $D.stats ]] || fail "the library used WALTHROUGH_TABLE or the config's stats file"

	# As root: no AT_SECURE, and the same program and library act.
	run strace -f -qq -y -o "$T" -e trace="$WT_STRACE_SET" "${se[@]}" "$prog" "$F" "$s"
	assert_success
	assert_line "secure 0"
	assert_line --regexp '^mapped [1-9]'
	assert_line --partial "WALTHROUGH_TABLE_ENTRIES=0 is not"
	assert_equal "$(wt_seq "$T" "$F")" "odirect direct fdatasync direct"
	[[ -e $table && -e $D.stats ]] || fail "the library did not use WALTHROUGH_TABLE or the config's stats file"
	same_as_ref
}
