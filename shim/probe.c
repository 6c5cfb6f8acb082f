/* SPDX-License-Identifier: MIT */
/*
 * probe.c - the device probe: file system, mount, block device, statx
 * atomic-write and direct-I/O limits, sysfs queue limits, NVMe Identify.
 *
 * The chain is followed the way the kernel builds it: st_dev names the
 * block device in /sys/dev/block/MAJ:MIN (a link into the device tree, so
 * a partition's disk is its parent directory there); queue limits live on
 * the disk. Anything unreadable stays -1 ("unknown"). sysfs and /proc are
 * read with raw system calls: inside the library, open and stdio are
 * interposed. errno is left as the caller had it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <nvme/ioctl.h>
#include <nvme/types.h>
#include <nvme/util.h>

#include "compat.h"
#include "probe.h"

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x1000U
#endif

/* ---- raw system calls -------------------------------------------------- */

static int sys_open(const char *path, int flags)
{
	long r = syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0);
	return r < 0 ? -errno : (int)r;
}

static void sys_close(int fd)
{
	syscall(SYS_close, fd);
}

static ssize_t sys_read(int fd, void *buf, size_t n)
{
	long r;

	do
		r = syscall(SYS_read, fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* Reads a small file, NUL-terminated, trailing newlines dropped. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = sys_open(path, O_RDONLY);

	if (fd < 0)
		return fd;
	while ((size_t)len < size - 1) {
		n = sys_read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			sys_close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	sys_close(fd);
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = 0;
	return len;
}

/* A non-negative decimal, or -1. */
static int64_t parse_u64(const char *s)
{
	int64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return *s ? -1 : v;
}

static int64_t read_num(const char *path)
{
	char buf[32];

	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return parse_u64(buf);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* ---- file system and mount --------------------------------------------- */

static const struct {
	int64_t magic;
	const char *name;
} fs_magics[] = {
	{ 0x58465342, "xfs" },
	{ 0xef53, "ext4" },           /* ext2/3/4 share it: mountinfo decides */
	{ 0x01021994, "tmpfs" },
	{ 0x9123683e, "btrfs" },
	{ 0x65735546, "fuse" },
	{ 0x794c7630, "overlay" },
	{ 0x6969, "nfs" },
	{ 0x2fc12fc1, "zfs" },
	{ 0xf2f52010, "f2fs" },
	{ 0xca451a4e, "bcachefs" },
	{ 0x858458f6, "ramfs" },
	{ 0x73717368, "squashfs" },
	{ 0x4d44, "vfat" },
	{ 0x2011bab0, "exfat" },
	{ 0x7366746e, "ntfs3" },
	{ 0xff534d42, "cifs" },
	{ 0xfe534d42, "smb2" },
	{ 0x00c36400, "ceph" },
	{ 0x01161970, "gfs2" },
	{ 0x7461636f, "ocfs2" },
	{ 0x01021997, "9p" },
	{ 0x3153464a, "jfs" },
	{ 0x52654973, "reiserfs" },
	{ 0x3434, "nilfs2" },
};

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

struct mnt_want {
	bool by_id;
	uint64_t id;
	unsigned major, minor;
	bool found;
	char fstype[64];
	/* List mode: every mount point of the device, NUL-separated. */
	char *list;
	size_t list_size, list_len;
	int count;
};

/* Whether a mount source names block device maj:min (btrfs and others
 * show an anonymous st_dev in mountinfo, their source is the device). */
static bool source_is(const char *src, unsigned maj, unsigned min)
{
	struct wt_statx st;

	return !strncmp(src, "/dev/", 5) &&
	       wt_statx(AT_FDCWD, src, 0, STATX_TYPE, &st) == 0 &&
	       S_ISBLK(st.stx_mode) && st.stx_rdev_major == maj &&
	       st.stx_rdev_minor == min;
}

/* Appends a mount point once to w->list (a point may be stacked twice). */
static void list_add(struct mnt_want *w, const char *point)
{
	size_t n = strlen(point) + 1;

	for (size_t off = 0; off < w->list_len; off += strlen(w->list + off) + 1)
		if (!strcmp(w->list + off, point))
			return;
	if (w->list_len + n > w->list_size)
		return;
	memcpy(w->list + w->list_len, point, n);
	w->list_len += n;
	w->count++;
}

/*
 * One mountinfo line: "ID PARENT MAJ:MIN ROOT POINT OPTS [TAG…] - TYPE
 * SOURCE SUPEROPTS". Returns true when it is the mount we want (by mount
 * id; else by device, the last such line wins as later mounts cover
 * earlier ones).
 */
static bool mount_line(char *line, struct mnt_want *w, struct wt_probe *p)
{
	char *f[8] = { 0 }, *save = NULL, *tok;
	int n = 0;
	unsigned maj, min;
	unsigned long long id;

	for (tok = strtok_r(line, " ", &save); tok && n < 6;
	     tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < 6)
		return false;
	while (tok && strcmp(tok, "-") != 0)
		tok = strtok_r(NULL, " ", &save);
	if (!tok)
		return false;
	f[6] = strtok_r(NULL, " ", &save);       /* type */
	f[7] = strtok_r(NULL, " ", &save);       /* source */
	if (!f[6] || !f[7])
		return false;
	if (sscanf(f[0], "%llu", &id) != 1 ||
	    sscanf(f[2], "%u:%u", &maj, &min) != 2)
		return false;
	if (w->list) {
		unescape(f[7]);
		if ((maj == w->major && min == w->minor) ||
		    source_is(f[7], w->major, w->minor)) {
			unescape(f[4]);
			list_add(w, f[4]);
		}
		return false;
	}
	if (w->by_id ? id != w->id : (maj != w->major || min != w->minor))
		return false;
	unescape(f[4]);
	unescape(f[7]);
	copy_str(p->mnt_point, sizeof(p->mnt_point), f[4]);
	copy_str(p->mnt_source, sizeof(p->mnt_source), f[7]);
	copy_str(w->fstype, sizeof(w->fstype), f[6]);
	w->found = true;
	return w->by_id;
}

static void find_mount(struct mnt_want *w, struct wt_probe *p)
{
	char buf[8192];
	size_t have = 0;
	bool skip = false, done = false;
	int fd = sys_open("/proc/self/mountinfo", O_RDONLY);

	if (fd < 0)
		return;
	while (!done) {
		ssize_t n = sys_read(fd, buf + have, sizeof(buf) - 1 - have);
		char *s = buf, *nl;

		if (n < 0)
			break;
		have += n;
		if (n == 0 && have && buf[have - 1] != '\n')
			buf[have++] = '\n';   /* room: have < sizeof(buf) - 1 */
		while (!done && (nl = memchr(s, '\n', buf + have - s))) {
			*nl = 0;
			if (!skip)
				done = mount_line(s, w, p);
			skip = false;
			s = nl + 1;
		}
		have = buf + have - s;
		memmove(buf, s, have);
		if (have == sizeof(buf) - 1) {   /* a line too long to hold */
			skip = true;
			have = 0;
		}
		if (n == 0)
			break;
	}
	sys_close(fd);
}

static void probe_fs(const struct statfs *sfs, const char *mnt_type,
		     struct wt_probe *p)
{
	const char *name = NULL;

	p->fs_magic = (int64_t)(uint32_t)sfs->f_type;
	p->fs_block_size = sfs->f_bsize;
	for (size_t i = 0; i < sizeof(fs_magics) / sizeof(fs_magics[0]); i++)
		if (fs_magics[i].magic == p->fs_magic)
			name = fs_magics[i].name;
	/* mountinfo names the ext version and the FUSE subtype. */
	if (*mnt_type && (!name || p->fs_magic == 0xef53 ||
			  p->fs_magic == 0x65735546))
		name = mnt_type;
	if (!name && p->fs_magic == 0xef53)
		name = "ext2/ext3/ext4";
	copy_str(p->fs, sizeof(p->fs), name ? name : "");
}

/* ---- block device ------------------------------------------------------ */

const char *wt_probe_kind_name(enum wt_devkind k)
{
	switch (k) {
	case WT_DEV_NONE: return "none";
	case WT_DEV_DISK: return "disk";
	case WT_DEV_NVME: return "nvme";
	case WT_DEV_LOOP: return "loop";
	case WT_DEV_DM: return "dm";
	case WT_DEV_MD: return "md";
	default: return "unknown";
	}
}

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* nvmeXnY: a namespace block device (not nvmeXcYnZ, a hidden path). */
static bool nvme_ns_name(const char *s)
{
	if (strncmp(s, "nvme", 4) != 0)
		return false;
	s += 4;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == 'n' && digits(s + 1);
}

/* The names in a sysfs directory, space-separated, into out. */
static void list_dir(const char *path, char *out, size_t size)
{
	char buf[2048];
	size_t used = 0;
	int fd = sys_open(path, O_RDONLY | O_DIRECTORY);

	out[0] = 0;
	if (fd < 0)
		return;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			/* struct linux_dirent64: ino, off, reclen, type, name */
			unsigned short reclen;
			const char *name = buf + off + 19;
			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			off += reclen;
			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			size_t len = strlen(name);
			if (used + len + 2 > size)
				continue;
			if (used)
				out[used++] = ' ';
			memcpy(out + used, name, len);
			used += len;
			out[used] = 0;
		}
	}
	sys_close(fd);
}

static void probe_queue(const char *disk, struct wt_probe *p)
{
	char path[192], buf[64];

#define Q(attr) (snprintf(path, sizeof(path), "/sys/block/%s/queue/%s", disk, attr), path)
	p->logical_block_size = read_num(Q("logical_block_size"));
	p->physical_block_size = read_num(Q("physical_block_size"));
	p->q_awu_min = read_num(Q("atomic_write_unit_min_bytes"));
	p->q_awu_max = read_num(Q("atomic_write_unit_max_bytes"));
	p->q_aw_boundary = read_num(Q("atomic_write_boundary_bytes"));
	p->q_aw_max = read_num(Q("atomic_write_max_bytes"));
	p->fua = (wt_tri)read_num(Q("fua"));
	p->rotational = (wt_tri)read_num(Q("rotational"));
	if (read_file(Q("write_cache"), buf, sizeof(buf)) > 0) {
		if (!strcmp(buf, "write back"))
			p->write_cache = 1;
		else if (!strcmp(buf, "write through"))
			p->write_cache = 0;
	}
#undef Q
	if (p->fua > 1)
		p->fua = WT_PROBE_UNKNOWN;
	if (p->rotational > 1)
		p->rotational = WT_PROBE_UNKNOWN;
}

/* Block device maj:min: 0, or -ENOENT when sysfs does not know it. */
static int probe_bdev(unsigned maj, unsigned min, struct wt_probe *p)
{
	char path[192], link[512], *name, *parent;
	long n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", maj, min);
	n = syscall(SYS_readlinkat, AT_FDCWD, path, link, sizeof(link) - 1);
	if (n <= 0)
		return -ENOENT;
	link[n] = 0;
	name = strrchr(link, '/');
	if (!name)
		return -ENOENT;
	*name++ = 0;
	parent = strrchr(link, '/');
	parent = parent ? parent + 1 : link;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", maj, min);
	if (read_num(path) > 0) {
		copy_str(p->partition, sizeof(p->partition), name);
		copy_str(p->device, sizeof(p->device), parent);
	} else {
		copy_str(p->device, sizeof(p->device), name);
	}
	probe_queue(p->device, p);

	if (nvme_ns_name(p->device)) {
		p->kind = WT_DEV_NVME;
	} else if (!strncmp(p->device, "loop", 4) && digits(p->device + 4)) {
		p->kind = WT_DEV_LOOP;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 p->device);
		read_file(path, p->backing_file, sizeof(p->backing_file));
	} else if (!strncmp(p->device, "dm-", 3)) {
		p->kind = WT_DEV_DM;
		snprintf(path, sizeof(path), "/sys/block/%s/dm/name", p->device);
		read_file(path, p->dm_name, sizeof(p->dm_name));
	} else if (!strncmp(p->device, "md", 2) && digits(p->device + 2)) {
		p->kind = WT_DEV_MD;
		snprintf(path, sizeof(path), "/sys/block/%s/md/level", p->device);
		read_file(path, p->md_level, sizeof(p->md_level));
	} else {
		p->kind = WT_DEV_DISK;
	}
	if (p->kind == WT_DEV_DM || p->kind == WT_DEV_MD) {
		snprintf(path, sizeof(path), "/sys/block/%s/slaves", p->device);
		list_dir(path, p->slaves, sizeof(p->slaves));
	}
	return 0;
}

/* ---- NVMe -------------------------------------------------------------- */

static int64_t lbas_to_bytes(unsigned zero_based, int64_t lba)
{
	return lba > 0 ? ((int64_t)zero_based + 1) * lba : WT_PROBE_UNKNOWN;
}

/* Identify strings are space-padded, not NUL-terminated. */
static void id_str(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = 0;
	while (n && (dst[n - 1] == ' ' || dst[n - 1] == 0))
		dst[--n] = 0;
}

static void nvme_clear(struct wt_probe *p)
{
	p->nvme_read = false;
	p->nvme_model[0] = p->nvme_firmware[0] = 0;
	p->nvme_nsid = 0;
	p->nvme_vwc = p->nvme_natomic = WT_PROBE_UNKNOWN;
	p->nvme_lba_size = p->nvme_awun = p->nvme_awupf = WT_PROBE_UNKNOWN;
	p->nvme_nawun = p->nvme_nawupf = p->nvme_nabspf = WT_PROBE_UNKNOWN;
	p->nvme_atomic_pf = WT_PROBE_UNKNOWN;
}

int wt_probe_nvme_fd(int fd, struct wt_probe *p)
{
	struct nvme_id_ctrl ctrl;
	struct nvme_id_ns ns;
	__u32 nsid;
	__u8 fmt;
	int saved = errno, r;

	nvme_clear(p);
	if (nvme_get_nsid(fd, &nsid) < 0) {
		r = -(errno ? errno : ENOTTY);
		goto out;
	}
	r = nvme_identify_ctrl(fd, &ctrl);
	if (r == 0)
		r = nvme_identify_ns(fd, nsid, &ns);
	if (r != 0) {
		/* -1 + errno from the ioctl, or a positive NVMe status. */
		r = r < 0 ? -(errno ? errno : EIO) : -EIO;
		goto out;
	}

	p->nvme_read = true;
	p->nvme_nsid = nsid;
	id_str(p->nvme_model, ctrl.mn, sizeof(ctrl.mn));
	id_str(p->nvme_firmware, ctrl.fr, sizeof(ctrl.fr));
	p->nvme_vwc = ctrl.vwc & NVME_CTRL_VWC_PRESENT;
	p->nvme_natomic = (ns.nsfeat & NVME_NS_FEAT_NATOMIC) ? 1 : 0;
	nvme_id_ns_flbas_to_lbaf_inuse(ns.flbas, &fmt);
	if (fmt <= ns.nlbaf && ns.lbaf[fmt].ds >= 9 && ns.lbaf[fmt].ds < 32)
		p->nvme_lba_size = (int64_t)1 << ns.lbaf[fmt].ds;

	int64_t lba = p->nvme_lba_size;
	unsigned awupf = le16toh(ctrl.awupf), nawupf = le16toh(ns.nawupf);
	p->nvme_awun = lbas_to_bytes(le16toh(ctrl.awun), lba);
	p->nvme_awupf = lbas_to_bytes(awupf, lba);
	if (p->nvme_natomic == 1) {
		p->nvme_nawun = lbas_to_bytes(le16toh(ns.nawun), lba);
		p->nvme_nawupf = lbas_to_bytes(nawupf, lba);
		/* NABSPF 0 means no boundary, unlike the zero-based counts. */
		p->nvme_nabspf = ns.nabspf ?
			lbas_to_bytes(le16toh(ns.nabspf), lba) : (lba > 0 ? 0 : -1);
	}
	/* The kernel's choice: NAWUPF when the namespace defines it. */
	p->nvme_atomic_pf = p->nvme_natomic == 1 && nawupf ?
		p->nvme_nawupf : p->nvme_awupf;
	r = 0;
out:
	p->nvme_errno = -r;
	errno = saved;
	return r;
}

static void probe_nvme(struct wt_probe *p)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", p->device);
	fd = sys_open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		p->nvme_errno = -fd;
		return;
	}
	wt_probe_nvme_fd(fd, p);
	sys_close(fd);
}

/* ---- the probe --------------------------------------------------------- */

static void probe_init(struct wt_probe *p)
{
	memset(p, 0, sizeof(*p));
	p->fs_magic = p->fs_block_size = WT_PROBE_UNKNOWN;
	p->kind = WT_DEV_UNKNOWN;
	p->dio_mem_align = p->dio_offset_align = p->dio_align = WT_PROBE_UNKNOWN;
	p->awu_min = p->awu_max = WT_PROBE_UNKNOWN;
	p->awu_max_opt = p->aw_segments_max = WT_PROBE_UNKNOWN;
	p->logical_block_size = p->physical_block_size = WT_PROBE_UNKNOWN;
	p->write_cache = p->fua = p->rotational = WT_PROBE_UNKNOWN;
	p->q_awu_min = p->q_awu_max = WT_PROBE_UNKNOWN;
	p->q_aw_boundary = p->q_aw_max = WT_PROBE_UNKNOWN;
	nvme_clear(p);
}

/* The file is dirfd/path (AT_EMPTY_PATH with path ""). */
static int probe_at(int dirfd, const char *path, int flags, struct wt_probe *p)
{
	struct wt_statx stx;
	struct statfs sfs;
	struct mnt_want want = { 0 };
	int r;

	probe_init(p);
	r = wt_statx(dirfd, path, flags, STATX_TYPE | STATX_MODE | STATX_INO |
		     STATX_DIOALIGN | STATX_WRITE_ATOMIC | STATX_MNT_ID, &stx);
	if (r < 0)
		return r;
	if (*path)
		r = syscall(SYS_statfs, path, &sfs);
	else
		r = syscall(SYS_fstatfs, dirfd, &sfs);
	if (r < 0)
		return -errno;

	p->dev_major = stx.stx_dev_major;
	p->dev_minor = stx.stx_dev_minor;
	if (stx.stx_mask & STATX_DIOALIGN) {
		p->dio_mem_align = stx.stx_dio_mem_align;
		p->dio_offset_align = stx.stx_dio_offset_align;
		p->dio_align = p->dio_offset_align;
		if (p->dio_align > 0 && sfs.f_bsize > p->dio_align)
			p->dio_align = sfs.f_bsize;
	}
	if (stx.stx_mask & STATX_WRITE_ATOMIC) {
		p->awu_min = stx.stx_atomic_write_unit_min;
		p->awu_max = stx.stx_atomic_write_unit_max;
		p->aw_segments_max = stx.stx_atomic_write_segments_max;
		p->awu_max_opt = stx.stx_atomic_write_unit_max_opt;
	}

	want.by_id = (stx.stx_mask & STATX_MNT_ID) != 0;
	want.id = stx.stx_mnt_id;
	want.major = p->dev_major;
	want.minor = p->dev_minor;
	find_mount(&want, p);
	probe_fs(&sfs, want.fstype, p);

	if (probe_bdev(p->dev_major, p->dev_minor, p) < 0) {
		/*
		 * An anonymous st_dev (tmpfs, overlay, NFS, but also btrfs):
		 * a block device named as the mount's source is the device.
		 */
		struct wt_statx src;
		if (!strncmp(p->mnt_source, "/dev/", 5) &&
		    wt_statx(AT_FDCWD, p->mnt_source, 0, STATX_TYPE, &src) == 0 &&
		    S_ISBLK(src.stx_mode) &&
		    probe_bdev(src.stx_rdev_major, src.stx_rdev_minor, p) == 0)
			;
		else if (p->dev_major == 0)
			p->kind = WT_DEV_NONE;
	}
	if (p->kind == WT_DEV_NVME)
		probe_nvme(p);
	return 0;
}

int wt_probe_fd(int fd, struct wt_probe *out)
{
	int saved = errno, r;

	r = probe_at(fd, "", AT_EMPTY_PATH, out);
	errno = saved;
	return r;
}

int wt_probe_path(const char *path, struct wt_probe *out)
{
	int saved = errno, r;

	r = *path ? probe_at(AT_FDCWD, path, 0, out) : -ENOENT;
	errno = saved;
	return r;
}

int wt_probe_bdev(unsigned maj, unsigned min, struct wt_probe *out)
{
	int saved = errno, r;

	probe_init(out);
	out->dev_major = maj;
	out->dev_minor = min;
	r = probe_bdev(maj, min, out);
	if (r == 0 && out->kind == WT_DEV_NVME)
		probe_nvme(out);
	errno = saved;
	return r;
}

int wt_probe_mounts(unsigned maj, unsigned min, char *out, size_t size)
{
	struct wt_probe scratch;      /* find_mount's line parser fills it */
	struct mnt_want want = { .major = maj, .minor = min, .list = out,
				 .list_size = size };
	int saved = errno;

	if (size)
		out[0] = 0;
	find_mount(&want, &scratch);
	errno = saved;
	return want.count;
}

/* ---- what the facts allow ---------------------------------------------- */

static bool unit_offered(const struct wt_probe *p, unsigned unit)
{
	return unit && !(unit & (unit - 1)) && p->awu_min > 0 &&
	       p->awu_min <= unit && unit <= p->awu_max;
}

wt_tri wt_probe_hw_atomic(const struct wt_probe *p, unsigned unit)
{
	if (!unit_offered(p, unit))
		return 0;
	if (p->q_awu_max >= (int64_t)unit || p->awu_max_opt >= (int64_t)unit)
		return 1;
	/* The device's own limit, when readable, settles it. */
	return p->q_awu_max >= 0 ? 0 : WT_PROBE_UNKNOWN;
}

bool wt_probe_atomic_ok(const struct wt_probe *p, unsigned unit,
			bool hardware_only)
{
	if (!unit_offered(p, unit))
		return false;
	return !hardware_only || wt_probe_hw_atomic(p, unit) == 1;
}

enum wt_commit wt_probe_commit(const struct wt_probe *p)
{
	if (p->kind == WT_DEV_NONE)
		return WT_COMMIT_NO_DEVICE;
	if (p->write_cache == 0 || p->nvme_vwc == 0)
		return WT_COMMIT_NO_CACHE;
	if (p->fua == 1)
		return WT_COMMIT_FUA;
	if ((p->write_cache == 1 || p->nvme_vwc == 1) && p->fua == 0)
		return WT_COMMIT_FLUSH;
	return WT_COMMIT_UNKNOWN;
}
