#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# probe.bats - `walthrough probe`: every fact it prints is checked against
# statx (read here by python3 through glibc's statx, not through our code),
# sysfs, findmnt, losetup and stat, on XFS and ext4 on loop devices, XFS on
# zram, tmpfs and the root file system; block device nodes given directly;
# directories, empty or not, writable or not; the verdict line; then its
# verdicts under configs; then NVMe,
# which this machine lacks: published Identify data of real drives
# (tests/fixtures/nvme) is replayed by build/tests/nvme-replay.so.

load helpers

setup_file() {
	scratch_fs xfs || return 0
	scratch_fs ext4 || return 0
	scratch_fs tmpfs || return 0
	# zram is needed by few tests: those say so when it is missing.
	if ! _wt_lacks zram >/dev/null; then
		scratch_fs zram || return 0
	fi
}

# What a test set up beyond the scratch file systems, taken down even
# when it failed: mounts (undone in reverse), loop devices, immutable dirs.
teardown() {
	local f=$BATS_TEST_TMPDIR/.undo line
	[[ -r $f ]] || return 0
	tac "$f" | while read -r line; do
		case $line in
		umount\ *) umount "${line#umount }" || umount -l "${line#umount }" ;;
		loop\ *) losetup -d "${line#loop }" ;;
		immutable\ *) chattr -i "${line#immutable }" ;;
		esac
	done
	rm -f "$f"
}
undo() { echo "$*" >>"$BATS_TEST_TMPDIR/.undo"; }

setup() {
	wt_setup || return
	requires root
	command -v python3 >/dev/null || fail "needs python3 (independent statx)"
	[[ -x $WT_CLI ]] || fail "$WT_CLI missing: run make"
	REPLAY=$WT_BIN/nvme-replay.so
	FIX=$BATS_TEST_DIRNAME/fixtures/nvme
	CONF=$BATS_TEST_TMPDIR/wt.conf
	# A sanitized CLI must not refuse the replay library preloaded first.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

# val KEY - the value of "KEY: value" in $output ("" when absent).
val() { printf '%s\n' "$output" | sed -n "s/^$1: //p" | head -n1; }

# expect KEY VALUE - the probe printed KEY: VALUE.
expect() {
	local got
	got=$(val "$1")
	[[ $got == "$2" ]] || fail "$1: probe says '$got', expected '$2'"
}

# expect_queue Q - the probe printed the block sizes, cache, FUA and
# rotational flag of sysfs queue directory Q.
expect_queue() {
	expect logical_block_size "$(cat "$1/logical_block_size")"
	expect physical_block_size "$(cat "$1/physical_block_size")"
	expect write_cache "$(cat "$1/write_cache")"
	expect fua "$(yesno "$(cat "$1/fua")")"
	expect rotational "$(yesno "$(cat "$1/rotational")")"
}

# stx FILE - "dio_mem dio_offset awu_min awu_max awu_max_opt segments" from
# statx(2), each "unknown" when the kernel leaves its mask bit clear.
# stx_new DIR - the same for a new file in DIR: an O_TMPFILE made there, by
# python3, and statx'd through its descriptor.
stx() { stx_py path "$1"; }
stx_new() { stx_py tmpfile "$1"; }

stx_py() {
	python3 - "$1" "$2" <<-'EOF'
	import ctypes, os, struct, sys
	libc = ctypes.CDLL(None, use_errno=True)
	buf = ctypes.create_string_buffer(256)
	DIOALIGN, WRITE_ATOMIC, AT_EMPTY_PATH = 0x2000, 0x10000, 0x1000
	# layout from linux/stat.h
	if sys.argv[1] == "path":
	    r = libc.statx(-100, sys.argv[2].encode(), 0, DIOALIGN | WRITE_ATOMIC, buf)
	else:
	    fd = os.open(sys.argv[2], os.O_TMPFILE | os.O_RDWR, 0o600)
	    r = libc.statx(fd, b"", AT_EMPTY_PATH, DIOALIGN | WRITE_ATOMIC, buf)
	if r:
	    sys.exit("statx: " + os.strerror(ctypes.get_errno()))
	u32 = lambda off: struct.unpack_from("<I", buf.raw, off)[0]
	mask = u32(0)
	d = lambda off: str(u32(off)) if mask & DIOALIGN else "unknown"
	a = lambda off: str(u32(off)) if mask & WRITE_ATOMIC else "unknown"
	print(d(0x98), d(0x9c), a(0xa8), a(0xac), a(0xb8), a(0xb0))
	EOF
}

# sysfs_disk FILE - the kernel name of the disk under FILE ("" if none),
# found from st_dev without the probe: /sys/dev/block/MAJ:MIN, and its
# parent directory for a partition.
sysfs_disk() {
	local mm link
	mm=$(stat -c '%Hd:%Ld' "$1")
	link=$(readlink -f "/sys/dev/block/$mm" 2>/dev/null) || return 0
	[[ -e $link ]] || return 0
	if [[ -e $link/partition ]]; then
		basename "$(dirname "$link")"
	else
		basename "$link"
	fi
}

yesno() {
	case $1 in 0) echo no ;; 1) echo yes ;; *) echo unknown ;; esac
}

# check_facts FILE - the probe's facts for FILE (in $output) agree with
# statx, statfs, findmnt, losetup and sysfs read here.
check_facts() {
	local f=$1 disk q s dio_mem dio_off awu_min awu_max opt seg bsize

	expect st_dev "$(stat -c '%Hd:%Ld' "$f")"
	expect mount_point "$(findmnt -n -o TARGET -T "$f" | tail -n1)"
	expect mount_source "$(findmnt -n -o SOURCE -T "$f" | tail -n1)"
	case $(stat -f -c %T "$f") in
	xfs | tmpfs) expect filesystem "$(stat -f -c %T "$f")" ;;
	ext2/ext3) expect filesystem "$(findmnt -n -o FSTYPE -T "$f" | tail -n1)" ;;
	esac

	disk=$(sysfs_disk "$f")
	if [[ -z $disk ]]; then
		if [[ $(stat -c %Hd "$f") == 0 && $(findmnt -n -o SOURCE -T "$f" | tail -n1) != /dev/* ]]; then
			expect device none
			expect device_type none
		fi
	else
		expect device "$disk"
		q=/sys/block/$disk/queue
		expect_queue "$q"
		for s in unit_min unit_max boundary max; do
			local attr=atomic_write_${s}_bytes
			if [[ -r $q/$attr ]]; then
				expect "device_atomic_write_$s" "$(cat "$q/$attr")"
			else
				expect "device_atomic_write_$s" unknown
			fi
		done
		if [[ $disk == loop* ]]; then
			expect device_type loop
			expect backing_file "$(losetup -n -O BACK-FILE "/dev/$disk" | sed 's/ *$//')"
		fi
	fi

	if [[ -d $f ]]; then
		read -r dio_mem dio_off awu_min awu_max opt seg < <(stx_new "$f")
	else
		read -r dio_mem dio_off awu_min awu_max opt seg < <(stx "$f")
	fi
	expect dio_mem_align "$dio_mem"
	expect dio_offset_align "$dio_off"
	expect atomic_write_unit_min "$awu_min"
	expect atomic_write_unit_max "$awu_max"
	expect atomic_write_unit_max_opt "$opt"
	expect atomic_write_segments_max "$seg"
	# The shim aligns to the larger of the two (design.md 1b.11).
	bsize=$(stat -f -c %s "$f")
	if [[ $dio_off == unknown ]]; then
		expect dio_align unknown
	elif ((dio_off == 0)); then
		expect dio_align 0
	else
		expect dio_align $((dio_off > bsize ? dio_off : bsize))
	fi
	expect fs_block_size "$bsize"
}

@test "XFS on loop: facts match statx/sysfs; atomic in software only (4 KiB up, unit_max_opt 0)" {
	local f=$WT_SCRATCH_XFS/f
	dd if=/dev/zero of="$f" bs=64k count=1 status=none
	run -0 --separate-stderr "$WT_CLI" probe "$f"
	check_facts "$f"
	expect filesystem xfs
	expect device_type loop
	# XFS's copy-on-write atomics: a unit from the block size up, none in
	# hardware (the loop device has no atomic unit).
	expect atomic_write_unit_min 4096
	(($(val atomic_write_unit_max) >= 65536)) || fail "unit_max $(val atomic_write_unit_max)"
	expect atomic_write_unit_max_opt 0
	expect device_atomic_write_unit_max 0
	expect hardware_atomic no
	expect atomic_require yes
	expect atomic_auto none
	expect rule "default (no config given)"
	assert_line --regexp '^strategy: writethrough, direct I/O, not atomic, '
	assert_line --regexp '^reason: .*atomic = auto uses hardware atomics only'
}

@test "ext4 on loop: facts match statx/sysfs; no atomic writes at all" {
	local f=$WT_SCRATCH_EXT4/f
	dd if=/dev/zero of="$f" bs=64k count=1 status=none
	run -0 --separate-stderr "$WT_CLI" probe "$f"
	check_facts "$f"
	expect filesystem ext4
	expect atomic_write_unit_max 0
	expect hardware_atomic no
	expect atomic_require no
	expect atomic_auto none
	assert_line --regexp '^reason: .*No RWF_ATOMIC: ext4 offers no atomic writes here'
}

@test "tmpfs: no device, no reported limits (unknown, not guessed), nothing durable" {
	local f=$WT_SCRATCH_TMPFS/f
	echo x >"$f"
	run -0 --separate-stderr "$WT_CLI" probe "$f"
	check_facts "$f"
	expect filesystem tmpfs
	expect device none
	expect device_type none
	expect write_cache unknown
	expect nvme_vwc unknown
	expect nvme_awupf unknown
	expect nvme_nawupf unknown
	assert_line --regexp '^strategy: .*memory only, nothing is durable$'
	[[ ${lines[0]} == "verdict: expected gain here: none; safe: yes (tmpfs: memory only, nothing is durable, with or without walthrough)" ]] ||
		fail "first line: ${lines[0]}"
}

@test "the root file system: a directory is probed through a scratch file made in it" {
	run -0 --separate-stderr "$WT_CLI" probe /
	expect probed "a scratch file made in / with O_TMPFILE (never linked)"
	check_facts /
	expect mount_point /
}

@test "--json: valid JSON, an object for one path, an array for several, null for unknown" {
	echo x >"$WT_SCRATCH_TMPFS/j"
	echo x >"$WT_SCRATCH_XFS/j"
	run -0 --separate-stderr "$WT_CLI" probe --json "$WT_SCRATCH_TMPFS/j"
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert isinstance(o, dict), o
assert o["filesystem"] == "tmpfs", o["filesystem"]
assert o["write_cache"] is None and o["nvme_vwc"] is None, o
assert isinstance(o["fs_block_size"], int), o
' "$output"
	run -0 --separate-stderr "$WT_CLI" probe --json "$WT_SCRATCH_XFS/j" "$WT_SCRATCH_TMPFS/j"
	printf '%s' "$output" | python3 -m json.tool >/dev/null
	python3 -c '
import json, sys
a = json.loads(sys.argv[1])
assert [o["filesystem"] for o in a] == ["xfs", "tmpfs"], a
assert a[0]["atomic_write_unit_min"] == 4096 and a[0]["hardware_atomic"] == "no"
assert a[0]["strategy"].startswith("writethrough, direct I/O")
' "$output"
}

@test "-c CONFIG: the matching rule decides; require on XFS is software, on ext4 refused" {
	mkdir -p "$WT_SCRATCH_XFS"/{wal,data,pt} "$WT_SCRATCH_EXT4/wal"
	for d in "$WT_SCRATCH_XFS"/{wal,data,pt} "$WT_SCRATCH_EXT4/wal"; do
		echo x >"$d/seg"
	done
	wt_conf "$CONF" <<-EOF
	[path $WT_SCRATCH_XFS/wal/*]
	atomic = require
	[path $WT_SCRATCH_EXT4/wal/*]
	atomic = require
	[path $WT_SCRATCH_XFS/data/*]
	mode = atomic
	atomic = auto
	[path $WT_SCRATCH_XFS/pt/*]
	mode = passthrough
	[path $WT_SCRATCH_XFS/new/*]
	mode = passthrough
	[path $WT_SCRATCH_XFS/lit/only]
	mode = passthrough
	EOF

	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/wal/seg"
	expect rule "$CONF:1 [path $WT_SCRATCH_XFS/wal/*]"
	expect atomic require
	assert_line --regexp '^strategy: writethrough, direct I/O, atomic in software, '
	assert_line --regexp '^reason: .*RWF_ATOMIC, which xfs does in software \(copy-on-write\)'

	# A directory matches through the file in it, as the shim sees files.
	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_EXT4/wal"
	expect rule_matched_with "$WT_SCRATCH_EXT4/wal/seg"
	assert_line 'strategy: refused: opening a matching file fails with EOPNOTSUPP'
	assert_line --regexp '^reason: atomic = require cannot be kept: ext4 offers no atomic writes'
	[[ ${lines[0]} == "verdict: expected gain here: none; safe: yes (atomic = require cannot be kept here: opening a matching file fails with EOPNOTSUPP)" ]] ||
		fail "first line: ${lines[0]}"

	# mode = atomic with atomic = auto needs hardware atomics: refused.
	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/data/seg"
	expect mode atomic
	assert_line 'strategy: refused: opening a matching file fails with EOPNOTSUPP'
	assert_line --regexp '^reason: .*atomic = require would use them\.$'

	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/pt/seg"
	expect strategy passthrough
	[[ ${lines[0]} == "verdict: expected gain here: none; safe: yes (mode = passthrough: libc unchanged)" ]] ||
		fail "first line: ${lines[0]}"

	# A directory with no file in it: the first rule a new file there
	# would match; a rule naming one file is not one.
	mkdir "$WT_SCRATCH_XFS/new" "$WT_SCRATCH_XFS/lit"
	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/new"
	expect rule "$CONF:10 [path $WT_SCRATCH_XFS/new/*]"
	expect rule_matched_with "a new file in $WT_SCRATCH_XFS/new (no regular file in it)"
	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/lit"
	expect rule "none: not tracked by $CONF"

	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/f"
	expect rule "none: not tracked by $CONF"
	expect strategy "not tracked"
	[[ ${lines[0]} == "verdict: expected gain here: none; safe: yes (no rule in $CONF matches: libc unchanged)" ]] ||
		fail "first line: ${lines[0]}"
}

@test "-c with an invalid config: status 1 and the problem, nothing probed" {
	wt_conf "$CONF" <<-EOF
	[path /x/*]
	atomic = sometimes
	EOF
	run -1 --separate-stderr "$WT_CLI" probe -c "$CONF" /
	[[ -z $output ]] || fail "printed: $output"
	[[ $stderr == *"$CONF:2"* ]] || fail "stderr: $stderr"
}

@test "a path that cannot be probed: status 1, reported, the others still probed" {
	run -1 --separate-stderr "$WT_CLI" probe "$BATS_TEST_TMPDIR/nope" "$WT_SCRATCH_TMPFS"
	[[ $stderr == *"$BATS_TEST_TMPDIR/nope: No such file or directory"* ]] || fail "stderr: $stderr"
	assert_line "error: No such file or directory"
	assert_line "filesystem: tmpfs"
	run -2 --separate-stderr "$WT_CLI" probe
}

# ---- block devices given directly ------------------------------------------

# src_of DIR - the block device mounted at DIR.
src_of() { findmnt -n -o SOURCE --mountpoint "$1" | tail -n1; }

# rdev NODE - "MAJ:MIN" of a block device node, in decimal.
rdev() {
	local t
	t=$(stat -L -c '%t %T' "$1")
	printf '%d:%d' "0x${t% *}" "0x${t#* }"
}

# gain_of DISK - the gain a verdict must name for DISK's commit cost, read
# from sysfs here: write through (one write per commit) large, a volatile
# cache with FUA some, a cache flush per commit none.
gain_of() {
	local q=/sys/block/$1/queue
	if [[ $(cat "$q/write_cache") == "write through" ]]; then
		echo large
	elif [[ $(cat "$q/fua") == 1 ]]; then
		echo some
	else
		echo none
	fi
}

# check_bdev NODE DISK - the probe (in $output) examined block device NODE
# itself: its facts are DISK's in sysfs, and no file-system answer is given.
check_bdev() {
	local node=$1 disk=$2 q=/sys/block/$2/queue s k
	[[ ${lines[0]} == "verdict: "* ]] || fail "first line: ${lines[0]}"
	expect path "$node"
	expect probed "the block device $node itself"
	expect st_rdev "$(rdev "$node")"
	expect device "$disk"
	expect_queue "$q"
	for s in unit_min unit_max boundary max; do
		if [[ -r $q/atomic_write_${s}_bytes ]]; then
			expect "device_atomic_write_$s" "$(cat "$q/atomic_write_${s}_bytes")"
		fi
	done
	for k in filesystem mount_point st_dev dio_align atomic_write_unit_max hardware_atomic; do
		[[ -z $(val "$k") ]] || fail "$k printed for a block device: $(val "$k")"
	done
	refute_output --partial "memory only"
	assert_line --regexp "^verdict: expected gain here: $(gain_of "$disk"); safe: yes \\($disk: .*; the file system on it decides the rest\\)$"
}

@test "a loop device given directly: the device itself, where it is mounted, no file-system answers" {
	local dev disk
	dev=$(src_of "$WT_SCRATCH_XFS")
	disk=${dev#/dev/}
	[[ -b $dev ]] || fail "$dev is not a block device node"
	run -0 --separate-stderr "$WT_CLI" probe "$dev"
	check_bdev "$dev" "$disk"
	expect device_type loop
	expect backing_file "$(losetup -n -O BACK-FILE "$dev" | sed 's/ *$//')"
	expect mounted_at "$WT_SCRATCH_XFS"
	expect missing "the file system's answers (direct-I/O alignment, statx atomic write units) need a path on a mounted file system: walthrough probe $WT_SCRATCH_XFS"
	expect rule "not applicable (rules match files; this is a block device)"
	assert_line --regexp "^strategy: depends on the file system on $dev "
}

@test "a block device node made elsewhere (mknod) is probed as the device, as the one in /dev" {
	local dev disk node=$BATS_TEST_TMPDIR/blk t
	dev=$(src_of "$WT_SCRATCH_EXT4")
	disk=${dev#/dev/}
	t=$(rdev "$dev")
	mknod "$node" b "${t%:*}" "${t#*:}"
	run -0 --separate-stderr "$WT_CLI" probe "$node"
	check_bdev "$node" "$disk"
	expect mounted_at "$WT_SCRATCH_EXT4"
	local a=$output
	run -0 --separate-stderr "$WT_CLI" probe "$dev"
	# The same answers, but for the name of the node.
	diff <(grep -vE '^(path|probed|strategy|reason):' <<<"$a") \
		<(grep -vE '^(path|probed|strategy|reason):' <<<"$output") ||
		fail "the two nodes of $dev got different answers"
}

@test "the root file system's disk given directly: probed itself, mounted at /" {
	local src disk
	src=$(findmnt -n -o SOURCE / | tail -n1)
	[[ -b $src ]] || skip "the root file system's source '$src' is not a block device here"
	disk=$(sysfs_disk /)
	run -0 --separate-stderr "$WT_CLI" probe "$src"
	[[ $(val partition) ]] && expect device "$disk"
	check_bdev "$src" "$disk"
	[[ ", $(val mounted_at), " == *", /, "* ]] || fail "mounted_at: $(val mounted_at)"
}

@test "a zram device (write through) given directly: gain large; a directory on it: one write per commit" {
	[[ -n ${WT_SCRATCH_ZRAM:-} ]] || requires zram || return
	local dev disk
	dev=$(src_of "$WT_SCRATCH_ZRAM")
	disk=${dev#/dev/}
	[[ $(cat "/sys/block/$disk/queue/write_cache") == "write through" ]] ||
		fail "$disk is not write through: $(cat "/sys/block/$disk/queue/write_cache")"
	run -0 --separate-stderr "$WT_CLI" probe "$dev"
	check_bdev "$dev" "$disk"
	expect device_type disk
	expect mounted_at "$WT_SCRATCH_ZRAM"
	assert_line "verdict: expected gain here: large; safe: yes ($disk: one write per commit; the file system on it decides the rest)"

	mkdir "$WT_SCRATCH_ZRAM/wal"
	run -0 --separate-stderr "$WT_CLI" probe "$WT_SCRATCH_ZRAM/wal"
	check_facts "$WT_SCRATCH_ZRAM/wal"
	[[ ${lines[0]} == "verdict: expected gain here: large; safe: yes ($disk: one write per commit)" ]] ||
		fail "first line: ${lines[0]}"
	assert_line --regexp '^strategy: writethrough, direct I/O, .*, one write per commit$'
}

# mbr_image FILE MB - a FILE of MB MiB with an MBR holding one Linux
# partition from 1 MiB to the end.
mbr_image() {
	truncate -s "${2}M" "$1"
	python3 - "$1" "$2" <<-'EOF'
	import struct, sys
	sectors = int(sys.argv[2]) * 2048
	entry = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, sectors - 2048)
	with open(sys.argv[1], "r+b") as f:
	    f.seek(446); f.write(entry); f.seek(510); f.write(b"\x55\xaa")
	EOF
}

@test "a loop device not mounted anywhere: says so, and what a probe of the file system needs" {
	requires loopdev || return
	local img=$BATS_TEST_TMPDIR/bare.img dev
	truncate -s 64M "$img"
	dev=$(losetup -f --show "$img")
	undo "loop $dev"
	run -0 --separate-stderr "$WT_CLI" probe "$dev"
	check_bdev "$dev" "${dev#/dev/}"
	expect backing_file "$img"
	expect mounted_at "not mounted"
	[[ -z $(val partitions_mounted) ]] || fail "partitions_mounted: $(val partitions_mounted)"
	expect missing "the file system's answers (direct-I/O alignment, statx atomic write units) need a path on a mounted file system, and $dev is not mounted here"
	run -0 --separate-stderr "$WT_CLI" probe --json "$dev" "$(src_of "$WT_SCRATCH_XFS")"
	python3 -c '
import json, sys
a = json.loads(sys.argv[1])
assert list(a[0])[:3] == ["verdict", "path", "probed"], list(a[0])
assert a[0]["mounted_at"] == [] and a[1]["mounted_at"] == [sys.argv[2]], a
assert "filesystem" not in a[0] and "dio_align" not in a[0], a[0]
assert a[0]["device_type"] == "loop", a[0]
' "$output" "$WT_SCRATCH_XFS"
}

@test "a disk whose partition is mounted: the disk says where; the partition is probed on its disk" {
	requires loopdev ext4 || return
	local img=$BATS_TEST_TMPDIR/disk.img dev mnt=$BATS_TEST_TMPDIR/part-mnt i
	mbr_image "$img" 64
	dev=$(losetup -f --show -P "$img")
	undo "loop $dev"
	for ((i = 0; i < 40; i++)); do [[ -b ${dev}p1 ]] && break; sleep 0.05; done
	[[ -b ${dev}p1 ]] ||
		skip "this kernel reads no partition tables (no MS-DOS partition support built in)"

	mkfs.ext4 -F -q "${dev}p1" >/dev/null
	mkdir "$mnt"
	mount "${dev}p1" "$mnt"
	undo "umount $mnt"
	run -0 --separate-stderr "$WT_CLI" probe "$dev"
	check_bdev "$dev" "${dev#/dev/}"
	expect mounted_at "not mounted"
	expect partitions_mounted "${dev#/dev/}p1 at $mnt"
	expect missing "the file system's answers (direct-I/O alignment, statx atomic write units) need a path on a mounted file system: walthrough probe $mnt"

	# The partition: its disk's queue, and where it is mounted.
	run -0 --separate-stderr "$WT_CLI" probe "${dev}p1"
	check_bdev "${dev}p1" "${dev#/dev/}"
	expect partition "${dev#/dev/}p1"
	expect mounted_at "$mnt"
}

# ---- directories: the file system, not a file in it -------------------------

# fs_answers - $output without the lines that name what was probed.
fs_answers() { grep -vE '^(path|probed|rule_matched_with):' <<<"$output"; }

@test "an empty directory and one with a file get the same answers, from a scratch file (XFS, ext4, zram)" {
	local d empty
	for d in "$WT_SCRATCH_XFS" "$WT_SCRATCH_EXT4" ${WT_SCRATCH_ZRAM:+"$WT_SCRATCH_ZRAM"}; do
		mkdir "$d/empty" "$d/full"
		dd if=/dev/urandom of="$d/full/seg" bs=64k count=1 status=none
		run -0 --separate-stderr "$WT_CLI" probe "$d/empty"
		expect probed "a scratch file made in $d/empty with O_TMPFILE (never linked)"
		check_facts "$d/empty"
		[[ $(val dio_align) =~ ^[0-9]+$ ]] || fail "$d/empty: dio_align $(val dio_align)"
		[[ -z $(val missing) ]] || fail "missing: $(val missing)"
		empty=$(fs_answers)
		run -0 --separate-stderr "$WT_CLI" probe "$d/full"
		expect probed "a scratch file made in $d/full with O_TMPFILE (never linked)"
		diff <(echo "$empty") <(fs_answers) || fail "$d: empty and full directories differ"
		[[ -z $(ls -A "$d/empty") ]] || fail "left in $d/empty: $(ls -A "$d/empty")"
		[[ $(ls -A "$d/full") == seg ]] || fail "left in $d/full: $(ls -A "$d/full")"
	done
}

@test "O_TMPFILE refused: a named scratch file, removed at once, gives the same answers" {
	local d=$WT_SCRATCH_XFS/notmp log=$BATS_TEST_TMPDIR/faults.log want
	mkdir "$d"
	run -0 --separate-stderr "$WT_CLI" probe "$d"
	want=$(fs_answers)
	run -0 --separate-stderr env LD_PRELOAD="$WT_BIN/faults.so" WT_FAULT=open:1:EINVAL \
		WT_FAULT_PATH="$d" WT_FAULT_LOG="$log" "$WT_CLI" probe "$d"
	grep -q "EINVAL injected" "$log" || fail "no open refused: $(cat "$log")"
	[[ $(val probed) =~ ^a\ scratch\ file\ made\ in\ .*/notmp\ as\ \.walthrough-probe\.[A-Za-z0-9]{6}\ and\ removed\ at\ once$ ]] ||
		fail "probed: $(val probed)"
	diff <(echo "$want") <(fs_answers) || fail "the named scratch file answers differently"
	[[ -z $(ls -A "$d") ]] || fail "left in $d: $(ls -A "$d")"
}

# expect_unread - the file limits are unknown, never 0, and the verdict
# says they could not be read.
expect_unread() {
	local k
	for k in dio_mem_align dio_offset_align dio_align atomic_write_unit_min \
		atomic_write_unit_max atomic_write_unit_max_opt atomic_write_segments_max \
		hardware_atomic atomic_require atomic_auto; do
		expect "$k" unknown
	done
	[[ ${lines[0]} == "verdict: "*"; the file system's own limits could not be read)" ]] ||
		fail "first line: ${lines[0]}"
	assert_line --regexp '^reason: .*The direct-I/O alignment could not be read here \(see missing\)'
}

@test "a read-only mount: missing says what could not be read; a file already there is named as the source" {
	local src=$WT_SCRATCH_XFS/ro-src ro=$BATS_TEST_TMPDIR/ro m
	mkdir -p "$src" "$ro"
	mount --bind "$src" "$ro"
	undo "umount $ro"
	mount -o remount,bind,ro "$ro"
	run -0 --separate-stderr "$WT_CLI" probe "$ro"
	expect probed "the directory $ro itself"
	m=$(val missing)
	[[ $m == "direct-I/O alignment and atomic write units: no scratch file could be made in $ro (Read-only file system) and no regular file is in it"* ]] ||
		fail "missing: $m"
	expect filesystem xfs
	expect mount_point "$ro"
	expect device "$(sysfs_disk "$WT_SCRATCH_XFS")"
	expect_unread

	# A file put there through the writable path: read, and named.
	dd if=/dev/zero of="$src/seg" bs=64k count=1 status=none
	run -0 --separate-stderr "$WT_CLI" probe "$ro"
	expect probed "$ro/seg, a file already there: no scratch file could be made in $ro (Read-only file system)"
	[[ -z $(val missing) ]] || fail "missing: $(val missing)"
	local dio_mem dio_off awu_min awu_max opt seg
	read -r dio_mem dio_off awu_min awu_max opt seg < <(stx "$ro/seg")
	expect dio_offset_align "$dio_off"
	expect atomic_write_unit_min "$awu_min"
	expect atomic_write_unit_max "$awu_max"
}

@test "a directory no file may be made in (immutable): missing names the error, limits unknown" {
	local d=$WT_SCRATCH_EXT4/locked
	mkdir "$d"
	chattr +i "$d" || skip "chattr +i refused on ext4 here"
	undo "immutable $d"
	run -0 --separate-stderr "$WT_CLI" probe "$d"
	expect probed "the directory $d itself"
	[[ $(val missing) == "direct-I/O alignment and atomic write units: no scratch file could be made in $d (Operation not permitted)"* ]] ||
		fail "missing: $(val missing)"
	expect filesystem ext4
	expect_unread
	run -0 --separate-stderr "$WT_CLI" probe --json "$d"
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["missing"].startswith("direct-I/O alignment"), o
assert o["dio_align"] is None and o["atomic_write_unit_max"] is None, o
' "$output"
}

# ---- the verdict -----------------------------------------------------------

# gain_of_strategy - the gain the verdict must name for the strategy line
# in $output, by the commit cost it ends with.
gain_of_strategy() {
	case $(val strategy) in
	*"one write per commit") echo large ;;
	*"one FUA write per commit") echo some ;;
	*"write + cache flush per commit" | *"nothing is durable" | *"no local disk") echo none ;;
	*) echo unknown ;;
	esac
}

@test "the verdict leads each path's lines (text and JSON) and agrees with the strategy" {
	local paths=("$WT_SCRATCH_TMPFS/v" "$WT_SCRATCH_XFS/v" "$WT_SCRATCH_EXT4") p
	echo x >"$WT_SCRATCH_TMPFS/v"
	mkdir -p "$WT_SCRATCH_XFS/v"
	[[ -n ${WT_SCRATCH_ZRAM:-} ]] && paths+=("$WT_SCRATCH_ZRAM")
	for p in "${paths[@]}"; do
		run -0 --separate-stderr "$WT_CLI" probe "$p"
		[[ ${lines[0]} =~ ^verdict:\ expected\ gain\ here:\ (none|some|large|unknown)\;\ safe:\ (yes|no)\ \(.+\)$ ]] ||
			fail "$p: first line: ${lines[0]}"
		[[ ${BASH_REMATCH[1]} == "$(gain_of_strategy)" ]] ||
			fail "$p: verdict says ${BASH_REMATCH[1]}, strategy '$(val strategy)'"
		[[ ${lines[1]} == "path: $p" ]] || fail "second line: ${lines[1]}"
	done
	# Several paths: each block starts with its verdict.
	run -0 --separate-stderr "$WT_CLI" probe "${paths[@]}"
	run -0 awk 'prev == "" && $0 != "" && !/^verdict: / { print NR ": " $0 } { prev = $0 }' <<<"$output"
	assert_output ""
	run -0 --separate-stderr "$WT_CLI" probe "${paths[@]}"
	[[ $(grep -c '^verdict: ' <<<"$output") == "${#paths[@]}" ]] || fail "not one verdict per path"
	local text=$output
	run -0 --separate-stderr "$WT_CLI" probe --json "${paths[@]}"
	python3 -c '
import json, sys
a = json.loads(sys.argv[1])
want = [l[len("verdict: "):] for l in sys.argv[2].splitlines() if l.startswith("verdict: ")]
assert [next(iter(o)) for o in a] == ["verdict"] * len(a), [list(o)[:2] for o in a]
assert [o["verdict"] for o in a] == want, ([o["verdict"] for o in a], want)
' "$output" "$text"
}

# replay FIXTURE [PATH] - probe PATH (default a file on the XFS scratch,
# whose loop device has a volatile cache and no FUA) with NVMe Identify
# answered from tests/fixtures/nvme/FIXTURE.txt.
replay() {
	local path=${2:-$WT_SCRATCH_XFS/f}
	[[ -r $REPLAY ]] || { fail "$REPLAY missing: run make"; return 1; }
	[[ -e $path ]] || echo x >"$path"
	LOG=$BATS_TEST_TMPDIR/replay.log
	rm -f "$LOG"
	run -0 --separate-stderr env LD_PRELOAD="$REPLAY" \
		NVME_REPLAY_DEV=/dev/nvme-replay0n1 NVME_REPLAY_LOG="$LOG" \
		NVME_REPLAY_FIXTURE="$FIX/$1.txt" \
		"$WT_CLI" probe --nvme /dev/nvme-replay0n1 "$path"
}

# fixture_field FIXTURE KEY - a field as published in the fixture.
fixture_field() {
	awk -v k="$2" '!/^#/ && $1 == k && $2 == ":" { print $3; exit }' "$FIX/$1.txt"
}

# check_nvme FIXTURE - the probe's NVMe facts equal the fixture's fields,
# converted here: zero-based counts of logical blocks, (n + 1) * LBA size.
check_nvme() {
	local vwc awupf nawupf nsfeat flbas lbads lba
	vwc=$(($(fixture_field "$1" vwc) & 1))
	awupf=$(fixture_field "$1" awupf)
	nawupf=$(fixture_field "$1" nawupf)
	nsfeat=$(fixture_field "$1" nsfeat)
	flbas=$(fixture_field "$1" flbas)
	lbads=$(awk -v i=$((flbas & 15)) '!/^#/ && $1 == "lbaf" && $2 == i {
		for (n = 1; n <= NF; n++) if ($n ~ /^lbads:/) { sub("lbads:", "", $n); print $n } }' \
		"$FIX/$1.txt")
	lba=$((1 << lbads))

	expect nvme_identify_from /dev/nvme-replay0n1
	expect nvme_vwc "$(yesno "$vwc")"
	expect nvme_lba_size "$lba"
	expect nvme_awupf $(((awupf + 1) * lba))
	if ((nsfeat & 2)); then
		expect nvme_natomic yes
		expect nvme_nawupf $(((nawupf + 1) * lba))
	else
		expect nvme_natomic no
		expect nvme_nawupf "not defined"
	fi
	# libnvme really asked: namespace id, Identify Controller, Namespace.
	grep -qx nsid "$LOG" || fail "no NVME_IOCTL_ID: $(cat "$LOG")"
	grep -qx 'identify cns=1 nsid=0' "$LOG" || fail "no Identify Controller"
	grep -qx 'identify cns=0 nsid=1' "$LOG" || fail "no Identify Namespace"
}

@test "NVMe replay, consumer drive (Crucial P3, volatile cache): write + flush per commit" {
	[[ $(cat "/sys/block/$(sysfs_disk "$WT_SCRATCH_XFS")/queue/fua") == 0 ]] ||
		skip "the loop device does FUA here"
	replay crucial-p3-4tb
	check_nvme crucial-p3-4tb
	expect nvme_model CT4000P3PSSD8
	expect nvme_vwc yes
	expect nvme_awupf 512
	assert_line --regexp '^strategy: .*, write \+ cache flush per commit$'
	assert_line --regexp '^reason: .*has a volatile write cache and no FUA'
}

@test "NVMe replay, datacenter drive without volatile cache (SK hynix): one write per commit" {
	replay skhynix-hfs960gd0mee
	check_nvme skhynix-hfs960gd0mee
	expect nvme_model HFS960GD0MEE-5410A
	expect nvme_vwc no
	expect nvme_nawupf "not defined"
	assert_line --regexp '^strategy: .*, one write per commit$'
	assert_line --regexp '^reason: .*no volatile write cache \(NVMe VWC = 0\)'
}

@test "NVMe replay, datacenter drive with NAWUPF (Samsung PM9A3): 4 KiB power-fail atomic" {
	replay samsung-pm9a3
	check_nvme samsung-pm9a3
	expect nvme_natomic yes
	expect nvme_nawupf 4096
	expect nvme_atomic_write_power_fail 4096
	expect nvme_nabspf 0
	assert_line --regexp '^strategy: .*, one write per commit$'
	# RWF_ATOMIC still comes from the kernel (statx), not from Identify.
	expect hardware_atomic no
	assert_line --regexp '^reason: .*up to 4 KiB whole across a power failure \(NAWUPF\), less than the 8192-byte unit'
}

@test "NVMe replay: --json carries the same NVMe facts" {
	[[ -r $REPLAY ]] || fail "$REPLAY missing: run make"
	echo x >"$WT_SCRATCH_XFS/f"
	run -0 --separate-stderr env LD_PRELOAD="$REPLAY" \
		NVME_REPLAY_DEV=/dev/nvme-replay0n1 \
		NVME_REPLAY_FIXTURE="$FIX/samsung-pm9a3.txt" \
		"$WT_CLI" probe --json --nvme /dev/nvme-replay0n1 "$WT_SCRATCH_XFS/f"
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["nvme_vwc"] == "no" and o["nvme_nawupf"] == 4096, o
assert o["nvme_lba_size"] == 512 and o["nvme_awupf"] == 4096, o
' "$output"
}

@test "NVMe Identify refused (EACCES): NVMe facts unknown, never guessed" {
	echo x >"$WT_SCRATCH_XFS/f"
	NVME_REPLAY_FAIL=13 replay samsung-pm9a3
	expect nvme_error "Permission denied"
	expect nvme_vwc unknown
	expect nvme_awupf unknown
	expect nvme_nawupf unknown
	# The commit cost then rests on sysfs alone (the loop device).
	expect write_cache "write back"
	assert_line --regexp '^strategy: .*write \+ cache flush per commit$'
}

@test "--nvme on a node that does not exist: reported, unknown, status 0" {
	run -0 --separate-stderr "$WT_CLI" probe --nvme "$BATS_TEST_TMPDIR/nvme9n1" "$WT_SCRATCH_TMPFS"
	[[ $stderr == *"nvme9n1: No such file or directory"* ]] || fail "stderr: $stderr"
	expect nvme_error "No such file or directory"
	expect nvme_vwc unknown
}

@test "safe: no where the drive has a volatile cache the kernel treats as write through" {
	[[ -n ${WT_SCRATCH_ZRAM:-} ]] || requires zram || return
	# zram is write through; the replayed drive reports VWC = 1.
	replay crucial-p3-4tb "$WT_SCRATCH_ZRAM/f"
	expect nvme_vwc yes
	expect write_cache "write through"
	[[ ${lines[0]} == "verdict: expected gain here: large; safe: no ("*"volatile write cache the kernel treats as write through"* ]] ||
		fail "first line: ${lines[0]}"
	assert_line --regexp '^warning: The drive reports a volatile write cache'
}
