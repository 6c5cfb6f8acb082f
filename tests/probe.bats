#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# probe.bats - `walthrough probe`: every fact it prints is checked against
# statx (read here by python3 through glibc's statx, not through our code),
# sysfs, findmnt, losetup and stat, on XFS and ext4 on loop devices, tmpfs
# and the root file system; then its verdicts under configs; then NVMe,
# which this machine lacks: published Identify data of real drives
# (tests/fixtures/nvme) is replayed by build/tests/nvme-replay.so.

load helpers

setup_file() {
	scratch_fs xfs || return 0
	scratch_fs ext4 || return 0
	scratch_fs tmpfs || return 0
}

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

# stx FILE - "dio_mem dio_offset awu_min awu_max awu_max_opt segments" from
# statx(2), each "unknown" when the kernel leaves its mask bit clear.
stx() {
	python3 - "$1" <<-'EOF'
	import ctypes, os, struct, sys
	libc = ctypes.CDLL(None, use_errno=True)
	buf = ctypes.create_string_buffer(256)
	DIOALIGN, WRITE_ATOMIC = 0x2000, 0x10000
	# statx(AT_FDCWD, path, 0, mask, buf); layout from linux/stat.h
	if libc.statx(-100, sys.argv[1].encode(), 0, DIOALIGN | WRITE_ATOMIC, buf):
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
		expect logical_block_size "$(cat "$q/logical_block_size")"
		expect physical_block_size "$(cat "$q/physical_block_size")"
		expect write_cache "$(cat "$q/write_cache")"
		expect fua "$(yesno "$(cat "$q/fua")")"
		expect rotational "$(yesno "$(cat "$q/rotational")")"
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

	read -r dio_mem dio_off awu_min awu_max opt seg < <(stx "$f")
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
}

@test "the root file system: a directory is probed through a file in it" {
	run -0 --separate-stderr "$WT_CLI" probe /
	local f
	f=$(val probed_file)
	[[ -n $f && -f $f ]] || fail "no probed_file for /"
	[[ $(stat -c %d "$f") == $(stat -c %d /) ]] || skip "first file in / is on another mount"
	check_facts "$f"
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
	EOF

	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/wal/seg"
	expect rule "$CONF:1 [path $WT_SCRATCH_XFS/wal/*]"
	expect atomic require
	assert_line --regexp '^strategy: writethrough, direct I/O, atomic in software, '
	assert_line --regexp '^reason: .*RWF_ATOMIC, which xfs does in software \(copy-on-write\)'

	# A directory matches through the file in it, as the shim sees files.
	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_EXT4/wal"
	expect probed_file "$WT_SCRATCH_EXT4/wal/seg"
	assert_line 'strategy: refused: opening a matching file fails with EOPNOTSUPP'
	assert_line --regexp '^reason: atomic = require cannot be kept: ext4 offers no atomic writes'

	# mode = atomic with atomic = auto needs hardware atomics: refused.
	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/data/seg"
	expect mode atomic
	assert_line 'strategy: refused: opening a matching file fails with EOPNOTSUPP'
	assert_line --regexp '^reason: .*atomic = require would use them\.$'

	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/pt/seg"
	expect strategy passthrough

	run -0 --separate-stderr "$WT_CLI" probe -c "$CONF" "$WT_SCRATCH_XFS/f"
	expect rule "none: not tracked by $CONF"
	expect strategy "not tracked"
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
