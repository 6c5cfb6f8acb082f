/* SPDX-License-Identifier: MIT */
/*
 * compat.h - kernel interfaces newer than Debian 12's headers and glibc.
 * Values are the kernel's UAPI; each is guarded so newer headers win.
 */
#ifndef WT_COMPAT_H
#define WT_COMPAT_H

#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x01
#endif
#ifndef RWF_DSYNC
#define RWF_DSYNC 0x02
#endif
#ifndef RWF_SYNC
#define RWF_SYNC 0x04
#endif
#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x08
#endif
#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif
#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x20               /* 6.9 */
#endif
#ifndef RWF_ATOMIC
#define RWF_ATOMIC 0x40                 /* 6.11 */
#endif
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x80              /* 6.14 */
#endif

#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x2000U          /* 6.1 */
#endif
#ifndef STATX_WRITE_ATOMIC
#define STATX_WRITE_ATOMIC 0x10000U     /* 6.11 */
#endif
#ifndef STATX_ATTR_WRITE_ATOMIC
#define STATX_ATTR_WRITE_ATOMIC 0x400000
#endif

/* struct statx as of 6.16, laid out by the kernel's UAPI (256 bytes). */
struct wt_statx_ts {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};

struct wt_statx {
	uint32_t stx_mask;                  /* 0x00 */
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;                 /* 0x10 */
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t spare0;
	uint64_t stx_ino;                   /* 0x20 */
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct wt_statx_ts stx_atime;       /* 0x40 */
	struct wt_statx_ts stx_btime;
	struct wt_statx_ts stx_ctime;
	struct wt_statx_ts stx_mtime;
	uint32_t stx_rdev_major;            /* 0x80 */
	uint32_t stx_rdev_minor;
	uint32_t stx_dev_major;
	uint32_t stx_dev_minor;
	uint64_t stx_mnt_id;                /* 0x90 */
	uint32_t stx_dio_mem_align;
	uint32_t stx_dio_offset_align;
	uint64_t stx_subvol;                /* 0xa0 */
	uint32_t stx_atomic_write_unit_min; /* 0xa8 */
	uint32_t stx_atomic_write_unit_max; /* 0xac */
	uint32_t stx_atomic_write_segments_max; /* 0xb0 */
	uint32_t stx_dio_read_offset_align;
	uint32_t stx_atomic_write_unit_max_opt; /* 0xb8 */
	uint32_t spare2;
	uint64_t spare3[8];
};

_Static_assert(sizeof(struct wt_statx) == 0x100, "statx layout");
_Static_assert(__builtin_offsetof(struct wt_statx, stx_atomic_write_unit_min) == 0xa8,
	       "statx atomic layout");
_Static_assert(__builtin_offsetof(struct wt_statx, stx_atomic_write_unit_max_opt) == 0xb8,
	       "statx atomic layout");

/* Raw statx: returns 0 or -errno. */
static inline int wt_statx(int dirfd, const char *path, int flags,
			   unsigned mask, struct wt_statx *stx)
{
	long r = syscall(SYS_statx, dirfd, path, flags, mask, stx);
	return r < 0 ? -errno : 0;
}

#endif
