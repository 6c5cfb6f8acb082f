#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# shim.bats - the core shim as a program sees it: which writes go
# writethrough, which syncs reach the kernel (strace), and that every file
# ends up byte for byte what the same program writes without walthrough.
# Hazards of design.md 1b are in hazards.bats, fork and exec in fork.bats.

load shim-helpers

setup_file() {
	scratch_fs xfs || return 0
	scratch_fs ext4 || return 0
	scratch_fs tmpfs 256 || return 0
}

setup() {
	requires root loopdev xfs ext4 tmpfs strace
	wt_dirs "$WT_SCRATCH_XFS"
	wt_mkconf
}

teardown() {
	[[ -z ${RAMFS:-} ]] || umount "$RAMFS" || true
}

# The 8 KiB loop of the WAL: each of 8 pages written twice, each write
# followed by fdatasync, on a pre-zeroed file.
WAL_LOOP='open rw; repeat 2 { repeat 8 { pwrite i*8k 8k A%i.%j; fdatasync } }'

# wal_loop FSDIR ENGINE - the loop on FSDIR with ENGINE, checked.
wal_loop() {
	wt_dirs "$1"
	wt_mkconf "engine = $2"
	prefill 64k
	wt_trace "$WAL_LOOP"
	ref "$WAL_LOOP"
	same_as_ref
	# Only the first sync reaches the kernel: the file was unknown until then.
	assert_equal "$(n_events "$T" "$F" '^fdatasync$')" 1
	assert_equal "$(n_events "$T" "$F" '^(write|dsync)')" 0
	if [[ $2 == io_uring ]]; then
		assert_equal "$(wt_events "$T" "$F" | sed -n 1,2p | tr '\n' ' ')" "odirect uring-setup "
		assert_equal "$(n_events "$T" "$F" '^direct')" 0
		(($(n_events "$T" "$F" '^uring$') >= 16)) ||
			fail "fewer io_uring_enter than writes: $(wt_seq "$T" "$F")"
	else
		assert_equal "$(wt_seq "$T" "$F")" "odirect direct fdatasync direct*15"
		assert_equal "$(n_events "$T" "$F" '^uring')" 0
	fi
}

@test "8 KiB pwrite+fdatasync loop on XFS (engine auto): O_DIRECT RWF_DSYNC writes, syncs skipped after the first" {
	wal_loop "$WT_SCRATCH_XFS" auto
}

@test "8 KiB pwrite+fdatasync loop on ext4 (engine auto)" {
	wal_loop "$WT_SCRATCH_EXT4" auto
}

@test "8 KiB pwrite+fdatasync loop on tmpfs (engine auto)" {
	wal_loop "$WT_SCRATCH_TMPFS" auto
}

@test "8 KiB pwrite+fdatasync loop on XFS, engine io_uring" {
	requires io_uring
	wal_loop "$WT_SCRATCH_XFS" io_uring
}

@test "8 KiB pwrite+fdatasync loop on ext4, engine io_uring" {
	requires io_uring
	wal_loop "$WT_SCRATCH_EXT4" io_uring
}

@test "8 KiB pwrite+fdatasync loop on tmpfs, engine io_uring" {
	requires io_uring
	wal_loop "$WT_SCRATCH_TMPFS" io_uring
}

@test "8 KiB pwrite+fdatasync loop on XFS, engine pwritev2" {
	wal_loop "$WT_SCRATCH_XFS" pwritev2
}

@test "8 KiB pwrite+fdatasync loop on ext4, engine pwritev2" {
	wal_loop "$WT_SCRATCH_EXT4" pwritev2
}

@test "8 KiB pwrite+fdatasync loop on tmpfs, engine pwritev2" {
	wal_loop "$WT_SCRATCH_TMPFS" pwritev2
}

@test "unaligned offset or length: RWF_DSYNC on the program's fd, not O_DIRECT" {
	prefill 64k
	local s='open rw; fdatasync; pwrite 100 8k U; fdatasync; pwrite 4k 100 V; fdatasync; pwrite 8k 8k W; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync dsync*2 odirect direct"
}

@test "unaligned memory: an aligned write from an odd address still goes O_DIRECT (bounce buffer), data right" {
	prefill 64k
	local s='open rw; fdatasync; memalign 8; pwrite 0 8k M; fdatasync; memalign 1; pwrite 8k 16k N; fdatasync; memalign 4095; pwritev 3 4k 32k O; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct*3"
}

@test "write/writev: file positions and contents equal libc's" {
	local s='open rw,creat; write 100 A; pos; writev 3 1000 B; pos; pwrite 0 10 C; pos; seek 5000; write 8k D; pos; writev 2 4k E; pos; fdatasync; write 10 F; pos; seek 4096; write 4096 G; pos; fdatasync; writev 1 8k H; pos; size'
	run ref "$s"
	assert_success
	local want=$output
	wt_trace "$s" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "$want"
	same_as_ref
	# The first write after open and after each sync is writethrough.
	assert_equal "$(wt_seq "$T" "$F")" "dsync write*4 fdatasync dsync write fdatasync dsync"
}

@test "pwritev of 32 x 8 KiB iovecs from an 8-byte-aligned buffer (PostgreSQL 15's zero-fill)" {
	local s='open rw,creat,excl; memalign 8; repeat 64 { pwritev 32 8k i*256k Z%i }; fsync; close'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	# One writethrough write, the rest of the segment is a burst, the fsync is real.
	assert_equal "$(wt_seq "$T" "$F")" "odirect direct write*63 fsync"
}

@test "O_APPEND: writethrough with RWF_DSYNC on the program's fd, appending like libc" {
	local s='open w,creat,append; write 100 A; pos; fdatasync; pwrite 0 8k B; pos; fdatasync; writev 2 4k C; pos; write 5 D; fdatasync; pwritev 2 4k 0 E; pos; size'
	run ref "$s"
	assert_success
	local want=$output
	run wt_trace "$s"
	assert_success
	assert_equal "$(grep -E '^(pos|size)' <<<"$output")" "$want"
	same_as_ref
	assert_equal "$(n_events "$T" "$F" '^direct|odirect')" 0
	assert_equal "$(wt_seq "$T" "$F")" "dsync fdatasync dsync fdatasync dsync write fdatasync dsync"
}

@test "dup, dup2 and close: a reused fd number for an untracked file is untracked, its fsync is real" {
	local u=$D.untracked
	prefill 64k
	local s="open rw; save a; pwrite 0 8k A; fdatasync; dup; save b; fdatasync; mark dup
		use \$a; close; open rw,creat $u; save u; fd; use \$a; fd; pwrite 0 8k X; fsync; fsync; mark reuse
		use \$b; dup2 \$u; use \$u; fdatasync; mark dup2
		open rw $u; save v; dup2 \$b; use \$b; pwrite 8k 8k Y; fsync; fsync"
	run wt_trace "$s"
	assert_success
	# open reused the number of the closed tracked fd
	assert_equal "$(grep '^fd ' <<<"$output" | uniq | wc -l)" 1
	assert_equal "$(wt_seq "$T" "$F")" "odirect direct fdatasync mark dup mark reuse mark dup2"
	assert_equal "$(wt_seq "$T" "$u")" "mark dup write fsync*2 mark reuse mark dup2 write fsync*2"
}

@test "fd numbers far apart (3000, and the highest the hard limit allows) are followed like low ones: writethrough, the sync after it skipped" {
	prefill 64k
	local top=$(($(ulimit -Hn) - 1))
	local s="open rw; fdatasync; dup2 3000; use 3000; pwrite 0 8k A; fdatasync; mark a
		dup2 $top; use $top; pwrite 8k 8k B; fdatasync; pwrite 16k 8k C; pwrite 24k 8k D; fdatasync"
	many() { ulimit -n "$(ulimit -Hn)" && "$@"; }
	run many wt_trace "$s"
	assert_success
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct mark a direct*2 write fdatasync"
	many ref "$s"
	same_as_ref
}

@test "the fd table's memory follows the fds used, not RLIMIT_NOFILE (PostgreSQL gets a hard limit of 524288 from systemd)" {
	prefill 64k
	# Under vm.overcommit_memory = 2 every fork is charged for all of a
	# private mapping. nofile.so makes getrlimit report a hard limit this
	# machine may not grant.
	vmsize() {
		env LD_PRELOAD="$wt_preload:$WT_BIN/nofile.so" WT_FAKE_NOFILE_MAX="$1" \
			WALTHROUGH_CONFIG="$C" WALTHROUGH_TABLE="$(wt_table)" \
			"$W" "$F" "open rw; pwrite 0 8k A; fdatasync; print ready; sleep 3000" >"$D.out$1" &
		local pid=$! kb
		for _ in $(seq 200); do
			grep -q ready "$D.out$1" && break
			sleep 0.05
		done
		kb=$(awk '/^VmSize/ { print $2 }' "/proc/$pid/status")
		wait "$pid"
		echo "$kb"
	}
	local low high
	low=$(vmsize 1024)
	high=$(vmsize 1048576)
	[[ -n $low && -n $high ]] || fail "no VmSize read"
	echo "# VmSize: $low kB with a hard limit of 1024 fds, $high kB with 1048576" >&3
	(( high - low < 1024 )) || fail "VmSize grew by $((high - low)) kB with the fd limit"
}

@test "a burst: 100 writes then one fdatasync: the sync is real, the data right" {
	prefill 1m
	local s='open rw; fdatasync; repeat 100 { pwrite i*8k 8k B%i }; fdatasync; fdatasync; seek 0; repeat 100 { write 100 C%i }; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct write*99 fdatasync dsync write*99 fdatasync"
}

@test "writethrough_writes = 3: three writes per sync go writethrough, the fourth is a burst" {
	wt_mkconf -- "writethrough_writes = 3"
	prefill 64k
	local s='open rw; fdatasync; repeat 3 { pwrite i*8k 8k A%i }; fdatasync; repeat 4 { pwrite i*8k 8k B%i }; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct*6 write fdatasync"
}

@test "the dirty table full (1 entry, 2 files): every sync after a burst is real" {
	local g=$D/g
	prefill 64k "$F" "$g"
	cp "$REF" "$REF.g"
	# two_files F G - the script on files F and G
	two_files() {
		echo "open rw $1; save f; open rw $2; save g
			repeat 3 { use \$f; pwrite 0 8k A%i; pwrite 8k 8k B%i; fdatasync
				use \$g; pwrite 0 8k C%i; pwrite 8k 8k D%i; fdatasync }"
	}
	WALTHROUGH_TABLE_ENTRIES=1 wt_trace "$(two_files "$F" "$g")"
	assert_equal "$(n_events "$T" "$F" '^fdatasync$')" 3
	assert_equal "$(n_events "$T" "$g" '^fdatasync$')" 3
	ref "$(two_files "$REF" "$REF.g")"
	same_as_ref
	cmp "$g" "$REF.g"
}

@test "a run without the library between two runs with it: the third run's first sync is real" {
	prefill 64k
	wt_trace 'open rw; pwrite 0 8k A; fdatasync; pwrite 0 8k B; fdatasync'
	# The second sync was skipped: the table worked for this file.
	assert_equal "$(n_events "$T" "$F" '^fdatasync$')" 1
	"$W" "$F" 'open rw; pwrite 8k 8k C'
	wt_trace 'open rw; fdatasync; fdatasync'
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync"
}

@test "4 threads writing and syncing one file: contents right" {
	prefill 256k
	local s='open rw; threads 4 { repeat 3 { repeat 8 { pwrite t*64k+i*8k 8k T%t.%i.%j; fdatasync } } }'
	run wt_timeout 120 "$s"
	assert_success
	ref "$s"
	same_as_ref
}

@test "4 threads writing and syncing one file, engine io_uring: contents right" {
	requires io_uring
	wt_mkconf "engine = io_uring"
	prefill 256k
	local s='open rw; threads 4 { repeat 3 { repeat 8 { pwrite t*64k+i*8k 8k T%t.%i.%j; fdatasync } } }'
	run wt_timeout 120 "$s"
	assert_success
	ref "$s"
	same_as_ref
}

@test "relative open after chdir is matched on the absolute path" {
	prefill 64k "$F" "$D.out"
	local s="chdir $D; open rw ./sub/../f; pwrite 0 8k A; fdatasync; pwrite 8k 8k B; fdatasync
		chdir ..; open rw ${D##*/}/f; pwrite 16k 8k C; fdatasync
		open rw ${D##*/}.out; pwrite 0 8k D; fdatasync; pwrite 0 8k E; fdatasync"
	mkdir -p "$D/sub"
	wt_trace "$s"
	assert_equal "$(wt_seq "$T" "$F")" "odirect direct fdatasync direct*2"
	# A file beside the directory is not tracked.
	assert_equal "$(wt_seq "$T" "$D.out")" "write fdatasync write fdatasync"
}

@test "openat with a directory fd is matched on the absolute path" {
	prefill 64k "$F" "$D.out"
	local s="openat $D f rw; pwrite 0 8k A; fdatasync; pwrite 8k 8k B; fdatasync
		openat ${D%/*} ${D##*/}/./f rw; pwrite 16k 8k C; fdatasync
		openat $D ../${D##*/}.out rw; pwrite 0 8k D; fdatasync; fdatasync"
	wt_trace "$s"
	assert_equal "$(wt_seq "$T" "$F")" "odirect direct fdatasync direct*2"
	assert_equal "$(wt_seq "$T" "$D.out")" "write fdatasync*2"
}

@test "io_uring refused by seccomp (EPERM): engine io_uring falls back to pwritev2, logged once" {
	wt_mkconf "engine = io_uring"
	prefill 64k
	local s="$WAL_LOOP"
	run wt_strace "$T" "$C" "$WT_BIN/wt-noring" "$W" "$F" "$s"
	[[ $status != 77 ]] || skip "seccomp filters unavailable: $output"
	assert_success
	assert_equal "$(grep -c 'io_uring refused' <<<"$output")" 1
	assert_equal "$(wt_seq "$T" "$F")" "odirect uring-setup -1 EPERM direct fdatasync direct*15"
	ref "$s"
	same_as_ref
}

@test "O_DIRECT refused (ramfs): buffered RWF_DSYNC writes, data right" {
	RAMFS=$BATS_TEST_TMPDIR/ram
	mkdir -p "$RAMFS"
	mount -t ramfs ramfs "$RAMFS"
	wt_dirs "$RAMFS"
	wt_mkconf
	prefill 64k
	# -E: errno as the program left it, though the library's open failed
	wt_strace "$T" "$C" "$W" -E "$F" "$WAL_LOOP"
	ref "$WAL_LOOP"
	same_as_ref
	assert_equal "$(wt_events "$T" "$F" | head -2 | tr '\n' ' ')" "odirect -1 EINVAL dsync "
	assert_equal "$(n_events "$T" "$F" '^dsync$')" 16
	assert_equal "$(n_events "$T" "$F" '^(direct|write)')" 0
	# ramfs has no birth time or generation: a new inode there cannot be
	# told from an old one, so its syncs are never skipped.
	assert_equal "$(n_events "$T" "$F" '^fdatasync$')" 16
}

@test "EBADF from fsync and fdatasync of a closed fd, also one closed behind the library's back" {
	prefill 64k
	run wt "open rw; save a; pwrite 0 8k A; fdatasync; fdatasync; close
		use \$a; expect EBADF fsync; expect EBADF fdatasync; expect EBADF pwrite 0 8k A; expect EBADF sfr 0 8k
		open rw; save b; pwrite 0 8k B; fdatasync; fdatasync; closefrom \$b
		use \$b; expect EBADF fsync; expect EBADF fdatasync
		use 999; expect EBADF fsync; expect EBADF fdatasync; print done"
	assert_success
	assert_line done
}

@test "ENOSPC on a small full file system reaches the caller, and the next fsync is real" {
	# tmpfs: a full one refuses every new page, where ext4 and XFS keep
	# reserves that make "full" depend on the write.
	scratch_fs tmpfs 1
	wt_dirs "$WT_SCRATCH"
	wt_mkconf
	prefill 64k
	dd if=/dev/zero of="$WT_SCRATCH/filler" bs=4k 2>/dev/null || true
	wt_trace 'open rw; fdatasync; fdatasync; mark a; expect ENOSPC pwrite 1m 8k X; fdatasync
		mark b; pwrite 0 8k Y; expect ENOSPC pwrite 2m 8k Z; fsync
		mark c; seek 3m; expect ENOSPC write 8k W; fdatasync; fdatasync'
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync mark a odirect direct -1 ENOSPC fdatasync mark b direct write -1 ENOSPC fsync mark c dsync -1 ENOSPC fdatasync*2"
}

@test "errno is untouched by every call that succeeds" {
	prefill 64k
	run wt_run "$C" "$W" -E "$F" "open rw; fdatasync; pwrite 0 8k A; fdatasync; pwrite 8k 8k B; pwrite 16k 8k C; fdatasync
		write 100 D; writev 2 4k E; fdatasync; pwritev 2 4k 32k F; pwritev2 1 8k 40k G 0; pwritev2 1 8k 48k H dsync
		pwrite 100 100 I; sfr 0 64k; fsync; fsync; dup; dup2 20; close; use 20; fdatasync
		ftruncate 128k; fallocate 128k 64k; fsync; open rw,creat $D.untracked; pwrite 0 8k J; fsync; close
		open w,creat,append; write 10 K; fdatasync; close; creat $D/new; pwrite 0 8k L; close; print done"
	assert_success
	assert_line done
}

@test "untracked files: the kernel sees exactly the program's calls" {
	local u=$D.untracked s
	s="open rw,creat $u; pwrite 0 8k A; fdatasync; write 100 B; writev 2 4k C; pwritev 2 4k 64k D; fsync; sfr 0 8k; fdatasync; close"
	wt_trace "$s"
	local with
	with=$(grep -F "<$u>" "$T" | sed -E 's/^[0-9]+ +//; s/[0-9]+<\//N<\//g')
	strace -f -qq -y -o "$T.plain" -e trace="$WT_STRACE_SET" "$W" "$F" "$s"
	local without
	without=$(grep -F "<$u>" "$T.plain" | sed -E 's/^[0-9]+ +//; s/[0-9]+<\//N<\//g')
	assert_equal "$with" "$without"
	assert_equal "$(wt_seq "$T" "$u")" "write fdatasync write*3 fsync sfr fdatasync"
}

@test "an invalid config: one message, and everything passes through" {
	printf '[global]\nbogus = 1\n[path %s/*]\n' "$D" | wt_conf "$C"
	prefill 64k
	run wt_trace 'open rw; pwrite 0 8k A; fdatasync; pwrite 0 8k B; fdatasync'
	assert_success
	assert_equal "$(grep -c 'walthrough\[' <<<"$output")" "$(grep -c "walthrough\[.*$C" <<<"$output")"
	assert_output --partial "$C:2:"
	assert_equal "$(wt_seq "$T" "$F")" "write fdatasync write fdatasync"
}

@test "directories are never skipped" {
	mkdir -p "$D/sub"
	wt_trace "open r,dir $D/sub; fsync; fsync; fdatasync; fdatasync"
	assert_equal "$(wt_seq "$T" "$D/sub")" "fsync*2 fdatasync*2"
}

@test "a dirty table that is not private to the user: one warning, no sync skipped" {
	prefill 64k
	local table
	table=$(wt_table)
	: >"$table"
	chmod 0644 "$table"
	run wt_trace "$WAL_LOOP"
	assert_success
	assert_equal "$(grep -c "dirty table $table unusable" <<<"$output")" 1
	assert_equal "$(n_events "$T" "$F" '^fdatasync$')" 16
	ref "$WAL_LOOP"
	same_as_ref
}

@test "a corrupt dirty table that another process holds: one warning, no sync skipped" {
	prefill 64k
	local table
	table=$(wt_table)
	head -c 1M /dev/urandom >"$table"
	chmod 0600 "$table"
	# a shared lock, as a live user of the table holds
	exec 9<"$table"
	flock -s 9
	run wt_trace "$WAL_LOOP"
	exec 9<&-
	assert_success
	assert_equal "$(grep -c "dirty table $table unusable" <<<"$output")" 1
	assert_equal "$(n_events "$T" "$F" '^fdatasync$')" 16
	ref "$WAL_LOOP"
	same_as_ref
}

@test "sync_file_range with WAIT_AFTER is skipped only when the file is clean" {
	prefill 64k
	local s='open rw; fdatasync; pwrite 0 8k A; sfr 0 8k; pwrite 8k 8k B; sfr 0 16k; fdatasync; fdatasync'
	wt_trace "$s"
	ref "$s"
	same_as_ref
	assert_equal "$(wt_seq "$T" "$F")" "fdatasync odirect direct write sfr fdatasync"
}
