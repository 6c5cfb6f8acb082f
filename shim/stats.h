/* SPDX-License-Identifier: MIT */
/*
 * stats.h - layout of the live counters file (`stats = PATH` in [global]),
 * shared by the library, which adds to it, and `walthrough stats`, which
 * reads it. One file per config, mapped MAP_SHARED by every process of a
 * program run under that config; counters are 64-bit atomics updated with
 * relaxed adds, never under a lock. A file that is missing, of another
 * version, foreign or corrupt is ignored with one warning.
 */
#ifndef WT_STATS_H
#define WT_STATS_H

#include <stdint.h>

#define WT_STATS_MAGIC   0x3130737461747477ULL     /* "wtstats01" */
#define WT_STATS_VERSION 1
#define WT_STATS_RULES   64      /* rules beyond this share the last slot */
#define WT_STATS_GLOB    240     /* bytes of each rule's glob kept */
#define WT_STATS_ERRNOS  134     /* errno values counted one by one */
#define WT_STATS_BUCKETS 32      /* log2 µs latency buckets: [2^i, 2^(i+1)) */

/* Why a sync went to the kernel. */
enum wt_pass {
	WT_PASS_UNARMED,         /* no real sync yet since the table began */
	WT_PASS_DIRTY,           /* page-cache writes since the last sync */
	WT_PASS_PENDING,         /* a write in progress (or a writer died) */
	WT_PASS_FSTAT,           /* the fd no longer shows the inode */
	WT_PASS_ERROR,           /* an error was seen: poisoned */
	WT_PASS_UNSAFE,          /* written behind the shim: mmap, stdio */
	WT_PASS_NOTABLE,         /* table unavailable, full or degraded */
	WT_PASS_MODE,            /* mode = atomic: every sync is real */
	WT_PASS_NR
};

enum wt_counter {
	WT_C_WRITES,             /* write calls on tracked files */
	WT_C_BYTES,              /* bytes those calls wrote */
	WT_C_DIRECT,             /* written O_DIRECT from a bounce buffer */
	WT_C_DSYNC,              /* written pwritev2 RWF_DSYNC on the program's fd */
	WT_C_BURST,              /* written through the page cache (burst) */
	WT_C_ATOMIC,             /* writes made with RWF_ATOMIC */
	WT_C_ATOMIC_PIECES,      /* pieces those were split into */
	WT_C_NOT_ATOMIC,         /* writes too unaligned to be atomic */
	WT_C_FALLBACK,           /* engine or O_DIRECT fallbacks */
	WT_C_SYNC_SKIPPED,       /* fsync/fdatasync/sync_file_range skipped */
	WT_C_SYNC_PASSED,        /* … that went to the kernel */
	WT_C_ERRORS,             /* calls that returned an error */
	WT_C_NR
};

struct wt_stats_rule {
	char glob[WT_STATS_GLOB];
	uint64_t c[WT_C_NR];
	uint64_t pass[WT_PASS_NR];
	uint64_t errnos[WT_STATS_ERRNOS];   /* [0]: any errno beyond the table */
	uint64_t lat_us[WT_STATS_BUCKETS];  /* writethrough write latency */
};

struct wt_stats_file {
	uint64_t magic;
	uint32_t version;
	uint32_t nrules;
	uint64_t size;                      /* sizeof(struct wt_stats_file) */
	uint64_t created;                   /* CLOCK_REALTIME seconds */
	char config[256];                   /* the config it belongs to */
	struct wt_stats_rule rule[WT_STATS_RULES];
};

#endif
