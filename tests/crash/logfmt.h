/* SPDX-License-Identifier: MIT */
/*
 * logfmt.h - the on-disk format of a logdisk write log.
 *
 * A log is a header followed by records in the order the disk saw them.
 * It describes the disk from an all-zero image of hdr.size bytes: replaying
 * every record in order gives the disk as the workload last saw it, and a
 * prefix ending at a FLUSH gives what a power cut at that point must keep.
 */
#ifndef LOGFMT_H
#define LOGFMT_H

#include <stdint.h>

#define LD_MAGIC	"LOGDISK1"
#define LD_REC_MAGIC	0x52444c4cu	/* "LLDR" */

struct ld_hdr {
	char		magic[8];	/* LD_MAGIC */
	uint64_t	size;		/* image size at the start, bytes */
	uint64_t	reserved[6];
};

enum ld_type {
	LD_WRITE = 1,	/* data of len bytes at off follows */
	LD_FLUSH = 2,	/* fsync: every earlier record is durable */
	LD_PUNCH = 3,	/* fallocate PUNCH_HOLE (discard): reads zero */
	LD_ZERO	 = 4,	/* fallocate ZERO_RANGE (write zeroes): reads zero */
	LD_MARK	 = 5,	/* len bytes the workload wrote to the marker */
	LD_SIZE	 = 6,	/* image truncated or extended to off bytes */
};

struct ld_rec {
	uint32_t	magic;	/* LD_REC_MAGIC */
	uint32_t	type;	/* enum ld_type */
	uint64_t	seq;	/* 1, 2, 3, … with no gaps */
	uint64_t	off;
	uint64_t	len;	/* payload bytes follow only for WRITE and MARK */
};

static inline int ld_has_payload(uint32_t type)
{
	return type == LD_WRITE || type == LD_MARK;
}

#endif
