/* SPDX-License-Identifier: MIT */
/*
 * probe.h - what the storage under a file can do: its file system and
 * mount, its block device (a partition's disk, a loop device's backing
 * file, dm/md noted), statx atomic-write and direct-I/O limits, the
 * device's sysfs queue limits and, for an NVMe namespace, Identify
 * Controller and Identify Namespace (libnvme).
 *
 * Shared by the library and the CLI, so it reads sysfs and /proc with raw
 * system calls only (the library interposes open and stdio). Every value
 * that cannot be read is reported as unknown (-1), never guessed.
 *
 * One probe reads /proc/self/mountinfo, a dozen sysfs files and, on NVMe,
 * sends two Identify commands: the library should probe once per device
 * (st_dev) and keep the result, not once per open.
 */
#ifndef WT_PROBE_H
#define WT_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#define WT_PROBE_UNKNOWN (-1)

/* Yes/no facts that may be unknown: WT_PROBE_UNKNOWN, 0 or 1. */
typedef int wt_tri;

enum wt_devkind {
	WT_DEV_UNKNOWN,               /* st_dev not found in sysfs */
	WT_DEV_NONE,                  /* no block device (tmpfs, NFS, FUSE…) */
	WT_DEV_DISK,                  /* sd, vd, mmcblk, …: a plain disk */
	WT_DEV_NVME,                  /* an NVMe namespace, nvmeXnY */
	WT_DEV_LOOP,
	WT_DEV_DM,                    /* device-mapper: LVM, dm-crypt, … */
	WT_DEV_MD,                    /* software RAID */
};

struct wt_probe {
	/* The file system. */
	char fs[64];                  /* "xfs", "ext4", "fuse.sshfs"; "" unknown */
	int64_t fs_magic;             /* statfs f_type */
	int64_t fs_block_size;        /* statfs f_bsize */
	char mnt_point[1024];         /* "" when not found in mountinfo */
	char mnt_source[1024];

	/* The block device. */
	unsigned dev_major, dev_minor;/* st_dev of the file */
	enum wt_devkind kind;
	char device[64];              /* kernel name of the disk: "nvme0n1" */
	char partition[64];           /* "nvme0n1p2" when on a partition */
	char backing_file[1024];      /* loop: the file behind it */
	char dm_name[128];            /* dm: its name ("vg0-root") */
	char md_level[32];            /* md: "raid1", … */
	char slaves[256];             /* dm/md: the devices under it, "a b" */

	/* statx of the file; -1 when statx did not report the field. */
	int64_t dio_mem_align;        /* STATX_DIOALIGN; 0: no direct I/O */
	int64_t dio_offset_align;
	int64_t dio_align;            /* what the shim aligns to (see below) */
	int64_t awu_min;              /* STATX_WRITE_ATOMIC */
	int64_t awu_max;
	int64_t awu_max_opt;          /* 0: no hardware atomics (6.16) */
	int64_t aw_segments_max;

	/* sysfs queue attributes of the disk; -1 unknown. */
	int64_t logical_block_size;
	int64_t physical_block_size;
	wt_tri write_cache;           /* 1 "write back", 0 "write through" */
	wt_tri fua;
	wt_tri rotational;
	int64_t q_awu_min;            /* atomic_write_unit_min_bytes */
	int64_t q_awu_max;            /* atomic_write_unit_max_bytes */
	int64_t q_aw_boundary;        /* atomic_write_boundary_bytes */
	int64_t q_aw_max;             /* atomic_write_max_bytes */

	/* NVMe Identify; all -1 unless nvme_read. */
	bool nvme_read;               /* Identify Controller and Namespace read */
	int nvme_errno;               /* why not, when tried and failed */
	char nvme_model[41];
	char nvme_firmware[9];
	uint32_t nvme_nsid;
	wt_tri nvme_vwc;              /* volatile write cache present */
	int64_t nvme_lba_size;        /* from flbas/lbaf */
	wt_tri nvme_natomic;          /* nsfeat bit 1: NAWUN… are defined */
	int64_t nvme_awun;            /* bytes: (value + 1) * LBA size */
	int64_t nvme_awupf;
	int64_t nvme_nawun;           /* -1 unless nvme_natomic */
	int64_t nvme_nawupf;
	int64_t nvme_nabspf;          /* 0: no boundary */
	int64_t nvme_atomic_pf;       /* power-fail atomic size in force */
};

/*
 * Probes the file open on fd, or at path. Returns 0 (facts that could not
 * be read are unknown), or -errno when the file itself cannot be examined
 * (statx or statfs failed).
 * dio_align is the larger of STATX_DIOALIGN's offset alignment and the file
 * system block size (XFS may report 512 on a 4 KiB-block file system and
 * serialises sub-block direct writes), 0 when the file system does no
 * direct I/O, -1 when it does not say.
 */
int wt_probe_fd(int fd, struct wt_probe *out);
int wt_probe_path(const char *path, struct wt_probe *out);

/*
 * Probes block device maj:min itself (a node such as /dev/vda given by the
 * user): the device fields only, the file-system and statx ones stay
 * unknown. Returns 0, or -ENOENT when sysfs does not know the device.
 */
int wt_probe_bdev(unsigned maj, unsigned min, struct wt_probe *out);

/*
 * The mount points of block device maj:min, each NUL-terminated, one after
 * the other in out (those that do not fit are left out). Returns how many.
 */
int wt_probe_mounts(unsigned maj, unsigned min, char *out, size_t size);

/*
 * Fills the nvme_* fields from Identify Controller and Identify Namespace
 * sent to fd, an open NVMe namespace (nvme_get_nsid must work on it).
 * wt_probe_fd calls it on the namespace it finds; the CLI also calls it on
 * a namespace the user names (a file system on dm/md/loop over NVMe).
 * Returns 0, or -errno (also kept in nvme_errno; -EIO for an NVMe status).
 */
int wt_probe_nvme_fd(int fd, struct wt_probe *out);

/* "nvme", "loop", …, "none", "unknown". */
const char *wt_probe_kind_name(enum wt_devkind k);

/*
 * Whether the device does atomic writes of unit bytes in hardware: block
 * device atomic_write_unit_max_bytes >= unit, or statx unit_max_opt >=
 * unit, and statx offers RWF_ATOMIC for unit at all. No when statx offers
 * no atomic writes of that size; unknown when statx offers it but neither
 * hardware limit can be read.
 */
wt_tri wt_probe_hw_atomic(const struct wt_probe *p, unsigned unit);

/*
 * True when RWF_ATOMIC can be used for writes of unit bytes: unit a power
 * of two within statx [unit_min, unit_max]; with hardware_only (atomic =
 * auto) the device must also do it in hardware (unknown counts as no).
 */
bool wt_probe_atomic_ok(const struct wt_probe *p, unsigned unit,
			bool hardware_only);

/* What a DSYNC write costs the device (the commit path). */
enum wt_commit {
	WT_COMMIT_UNKNOWN,
	WT_COMMIT_NO_DEVICE,          /* memory (tmpfs) or remote: no disk here */
	WT_COMMIT_NO_CACHE,           /* no volatile write cache: one write */
	WT_COMMIT_FUA,                /* volatile cache, FUA: one FUA write */
	WT_COMMIT_FLUSH,              /* volatile cache, no FUA: write + flush */
};
enum wt_commit wt_probe_commit(const struct wt_probe *p);

#endif
