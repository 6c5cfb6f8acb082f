/* SPDX-License-Identifier: MIT */
/*
 * wt.h - walthrough's one internal header.
 *
 * The library is split by job: config.c (parser, shared with the CLI),
 * path.c (absolute, lexically normalised paths), log.c (stderr lines),
 * fdtable.c (fd -> tracked file), dirty.c (the shared dirty table),
 * write.c / sync.c (the two paths), engine.c (pwritev2 and io_uring),
 * interpose.c (the exported wrappers). Internal functions return 0 or
 * -errno unless their comment says otherwise; only interpose.c turns that
 * into -1 + errno.
 */
#ifndef WT_H
#define WT_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <pthread.h>

#include "compat.h"

#define WT_PATH_MAX 4096

/* ---- config.c ---------------------------------------------------------- */

enum wt_mode { WT_MODE_WRITETHROUGH, WT_MODE_ATOMIC, WT_MODE_PASSTHROUGH };
enum wt_atomic { WT_ATOMIC_AUTO, WT_ATOMIC_REQUIRE, WT_ATOMIC_OFF };
enum wt_engine { WT_ENGINE_AUTO, WT_ENGINE_IO_URING, WT_ENGINE_PWRITEV2 };
enum wt_level { WT_LOG_ERROR, WT_LOG_WARN, WT_LOG_INFO, WT_LOG_DEBUG };

struct wt_rule {
	char *glob;                   /* absolute fnmatch(3) pattern */
	unsigned line;                /* line of its [path …] header */
	enum wt_mode mode;            /* default writethrough */
	unsigned writethrough_writes; /* default 1 */
	enum wt_atomic atomic;        /* default auto */
	unsigned atomic_unit;         /* default 8192, a power of two */
};

struct wt_config {
	char *file;                   /* the path it was read from */
	enum wt_level log_level;      /* default warn */
	enum wt_engine engine;        /* default auto */
	char *stats;                  /* NULL when unset */
	struct wt_rule *rules;
	unsigned nrules;
};

/* Called once per problem with "FILE:LINE: problem" (or "FILE: problem"). */
typedef void (*wt_report_fn)(void *ctx, const char *msg);

/*
 * Reads and validates FILE into *cfg. Every problem found is passed to
 * report; parsing goes on after an error so that all are reported.
 * Returns 0 when valid, or -1 (cfg is then empty) when not.
 */
int wt_config_load(const char *file, struct wt_config *cfg,
		   wt_report_fn report, void *ctx);
void wt_config_free(struct wt_config *cfg);
/* First rule whose glob matches the absolute path, or NULL. */
const struct wt_rule *wt_config_match(const struct wt_config *cfg,
				      const char *abspath);
const char *wt_mode_name(enum wt_mode m);
const char *wt_atomic_name(enum wt_atomic a);
const char *wt_engine_name(enum wt_engine e);
const char *wt_level_name(enum wt_level l);

/* ---- path.c ------------------------------------------------------------ */

/*
 * Lexically normalises an absolute path in place: collapses "//", removes
 * "." and resolves ".." (never above "/"), drops a trailing "/".
 */
void wt_path_normalise(char *path);
/*
 * Writes the absolute, normalised form of PATH, taken relative to DIRFD
 * (AT_FDCWD: the working directory) when it is relative, into out.
 * Returns 0, or -errno (-ENAMETOOLONG, or the error of getcwd/readlink).
 * Uses only raw system calls, so it is safe inside interposed functions.
 */
int wt_path_absolute(int dirfd, const char *path, char *out, size_t outsz);

/* ---- log.c ------------------------------------------------------------- */

extern enum wt_level wt_log_level;
/* "walthrough[PID]: level: message\n" on stderr, by a raw write(2). */
void wt_log(enum wt_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void wt_vlog(enum wt_level level, const char *fmt, va_list ap);

/* ---- dirty.c: the shared dirty table ----------------------------------- */

struct wt_key {
	uint64_t dev, ino;
	uint64_t birth;               /* btime (s<<30|ns) or generation; 0: none */
};

struct wt_dref {                      /* a process's handle on one entry */
	int32_t slot;                 /* -1: none */
	uint32_t gen;
};

/* Maps the table; on any failure the table is off and nothing is skipped. */
void wt_dirty_init(void);
bool wt_dirty_available(void);
/*
 * Marks a page-cache write of KEY as started; returns a token for
 * wt_dirty_write_end. Never fails: when the table cannot record it, the
 * inode is left unknown (absent) so its syncs stay real.
 */
int32_t wt_dirty_write_begin(const struct wt_key *key, struct wt_dref *ref);
void wt_dirty_write_end(int32_t token, bool failed);
/* Bumps dirty: the next sync of KEY must be real. */
void wt_dirty_mark(const struct wt_key *key, struct wt_dref *ref);
/* Sets poisoned for good: every later sync of KEY is real. */
void wt_dirty_poison(const struct wt_key *key, struct wt_dref *ref);
/* Marks KEY as written by something the shim cannot see: never skip. */
void wt_dirty_unsafe(const struct wt_key *key, struct wt_dref *ref);
/* Lock-free: stop skipping anything for the table's life. */
void wt_dirty_degrade(const char *why);
/*
 * Whether a write may be left in the page cache, recorded: false without a
 * table, with one split from its group, or after the process left it.
 */
bool wt_dirty_can_defer(void);
/* The process leaves its table's group (its euid changes): skip nothing. */
void wt_dirty_leave(void);
/*
 * WT_PASS_NR when KEY is provably clean (invariant 2), else why not
 * (enum wt_pass in stats.h).
 */
int wt_dirty_check(const struct wt_key *key, struct wt_dref *ref);
/*
 * Before a real sync: the dirty count to pass to wt_dirty_synced, and in
 * *at the entry it was read from.
 */
uint64_t wt_dirty_sync_begin(const struct wt_key *key, struct wt_dref *ref,
			     struct wt_dref *at);
/* After a real, successful sync whose fstat before and after agreed. */
void wt_dirty_synced(const struct wt_key *key, const struct wt_dref *at,
		     uint64_t before);

/* ---- fdtable.c --------------------------------------------------------- */

/* One per (process, inode) of a tracked file. */
struct wt_file {
	struct wt_file *next;         /* in the per-process hash chain */
	atomic_int refs;              /* fd slots + in-flight calls */
	struct wt_key key;
	const struct wt_rule *rule;
	struct wt_dref dref;
	pthread_mutex_t lock;         /* guards direct_fd */
	int direct_fd;                /* private O_DIRECT fd; -1 none, -2 failed */
	unsigned dio_align;           /* 0: no direct I/O */
	atomic_uint writes_since_sync;/* this process's writes since its sync */
	atomic_bool warned;           /* "cannot be atomic" logged once */
	unsigned aw_min, aw_max;      /* statx atomic write units; 0: none */
	unsigned aw_max_opt;          /* > 0: done by the device, not in software */
	unsigned hw_atomic_max;       /* block device atomic_write_unit_max_bytes */
	unsigned atomic_unit;         /* > 0: writes of it use RWF_ATOMIC */
	bool atomic_decided;          /* under lock */
	int atomic_err;               /* -EOPNOTSUPP: the promise cannot be kept */
	char path[];                  /* the absolute path it was matched by */
};

enum { WT_FD_UNKNOWN = 0, WT_FD_UNTRACKED = 1, WT_FD_TRACKED = 2 };

#define WT_SLOT_LEFT 4

struct wt_slot {
	atomic_int state;             /* WT_FD_* */
	/*
	 * Bumped by every change of what the number names (open, dup*, close,
	 * forget); odd while a close or dup2 onto it is in the kernel. A
	 * write or sync that sees it move did not know which file it reached.
	 */
	atomic_uint seq;
	int oflags;                   /* open flags seen at open/classify */
	struct wt_file *file;         /* guarded by the slot's stripe lock */
	/*
	 * The last tracked files the number stopped naming, with seq after
	 * the change: a write that overlapped changes may have reached any
	 * of them (design 1b.2). Guarded by the stripe lock; left records
	 * the seq of a change made where no lock may be taken.
	 */
	unsigned left_next, left_used;  /* ring position, entries kept */
	atomic_uint left_unrecorded;
	struct { unsigned seq; struct wt_key key; } left[WT_SLOT_LEFT];
};

/* Whether what s names changed since seq0 was read from it, or was changing. */
static inline bool wt_slot_moved(struct wt_slot *s, unsigned seq0)
{
	return (seq0 & 1) ||
	       atomic_load_explicit(&s->seq, memory_order_acquire) != seq0;
}

void wt_fdtable_init(void);
/* The slot of fd, or NULL if fd is out of range. */
struct wt_slot *wt_slot(int fd);
/*
 * The tracked file behind fd with a reference taken, classifying an unknown
 * fd through /proc/self/fd first; NULL when fd is untracked. *oflags gets
 * the slot's open flags.
 */
struct wt_file *wt_fd_get(int fd, int *oflags);
void wt_file_put(struct wt_file *f);
/*
 * After an open that returned fd for PATH (already absolute): classify.
 * Returns 0, or -errno when the open must fail: a promise of atomicity
 * that the file system or device cannot keep (-EOPNOTSUPP).
 */
int wt_fd_opened(int fd, const char *abspath, int oflags);
/* After a successful close/dup2 target/close_range: forget the slot. */
void wt_fd_forget(int fd);
/*
 * fd no longer shows f's inode: forget the slot if it still holds f (a
 * newer open or dup2 by another thread is left alone).
 */
void wt_fd_forget_stale(int fd, struct wt_file *f);
/*
 * fstat without the times: st_dev, st_ino, st_mode (type) and st_size. A
 * stat that reads ctime makes the next write of the file take a fine-
 * grained timestamp (multigrain timestamps, Linux 6.13): on XFS a
 * transaction per write, measured at about 60 us per commit.
 */
int wt_fd_ident(int fd, struct stat *st);
/* Untracked numbers are classified again on their next use. */
void wt_fd_reclassify_untracked(void);
/* After dup: newfd mirrors oldfd. */
void wt_fd_dup(int oldfd, int newfd);
/* Around a close or dup2 onto fd: its seq is odd meanwhile. */
void wt_fd_change(int fd);
/* Where no lock may be taken: fd names something unknown from now on. */
void wt_fd_forget_lockless(int fd);
/*
 * A write through fd overlapped a change of what fd names (seq moved from
 * seq0): every tracked file fd named since may hold unrecorded page-cache
 * data, so their next syncs are made real; when that cannot be known, or
 * no lock may be taken (lockless), nothing is skipped any more.
 */
void wt_fd_raced(int fd, unsigned seq0, bool lockless);
/* Marks an fd as the shim's own; whether fd is still one of ours. */
void wt_fd_mark(int fd);
bool wt_fd_is_ours(int fd);
/* Private O_DIRECT fd of f opened through fd, or <0. */
int wt_file_direct_fd(struct wt_file *f, int fd);
/* The file system refused a direct write (err): use buffered DSYNC. */
void wt_file_no_direct(struct wt_file *f, int err);
void wt_fdtable_before_fork(void);
void wt_fdtable_parent_fork(void);
void wt_fdtable_after_fork(void);
int wt_fd_high(void);                 /* highest fd ever recorded + 1 */

/* ---- engine.c ---------------------------------------------------------- */

/*
 * Writes the whole buffer at off through fd with rwf flags, by the
 * configured engine. Returns bytes written (maybe short) or -errno.
 */
ssize_t wt_engine_write(int fd, const void *buf, size_t len, off_t off,
			int rwf);
struct wt_piece {
	const void *buf;
	size_t len;
	off_t off;
	int rwf;
};
/*
 * Writes pieces in offset order as one linked chain (io_uring), followed
 * by one linked datasync when tail_sync. Returns the bytes of the prefix
 * that completed (durable when tail_sync), or -errno when none did or the
 * trailing sync failed. *err gets the first error any request met (a
 * short prefix can hide one), or 0.
 */
ssize_t wt_engine_chain(int fd, const struct wt_piece *p, int n,
			bool tail_sync, int *err);
void wt_engine_after_fork(void);

/* ---- stats.c: live counters (stats.h), no-ops without `stats =` -------- */

void wt_stats_init(void);
void wt_stats_add(const struct wt_rule *r, int counter, uint64_t n);
void wt_stats_pass(const struct wt_rule *r, int reason);
void wt_stats_error(const struct wt_rule *r, int err);
uint64_t wt_stats_clock(void);      /* µs, or 0 when stats are off */
void wt_stats_latency(const struct wt_rule *r, uint64_t start);

/* ---- the core (interpose.c, write.c, sync.c) --------------------------- */

struct wt_state {
	bool active;                  /* a valid config is loaded */
	struct wt_config cfg;
	pid_t pid;                    /* the process the state belongs to */
};
extern struct wt_state wt;

/* Real libc entry points, resolved with dlsym(RTLD_NEXT). */
struct wt_real {
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*creat)(const char *, mode_t);
	int (*creat64)(const char *, mode_t);
	int (*__open_2)(const char *, int);
	int (*__open64_2)(const char *, int);
	int (*__openat_2)(int, const char *, int);
	int (*__openat64_2)(int, const char *, int);
	int (*close)(int);
	int (*close_range)(unsigned, unsigned, int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*pwrite64)(int, const void *, size_t, off_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
	ssize_t (*pwritev64)(int, const struct iovec *, int, off_t);
	ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
	ssize_t (*pwritev64v2)(int, const struct iovec *, int, off_t, int);
	int (*fsync)(int);
	int (*fdatasync)(int);
	int (*sync_file_range)(int, off_t, off_t, unsigned);
	int (*ftruncate)(int, off_t);
	int (*ftruncate64)(int, off_t);
	int (*truncate)(const char *, off_t);
	int (*truncate64)(const char *, off_t);
	int (*fallocate)(int, int, off_t, off_t);
	int (*fallocate64)(int, int, off_t, off_t);
	int (*posix_fallocate)(int, off_t, off_t);
	int (*posix_fallocate64)(int, off_t, off_t);
	ssize_t (*copy_file_range)(int, off_t *, int, off_t *, size_t, unsigned);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	ssize_t (*sendfile64)(int, int, off_t *, size_t);
	ssize_t (*splice)(int, off_t *, int, off_t *, size_t, unsigned);
	int (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	void *(*mmap64)(void *, size_t, int, int, int, off_t);
	int (*mprotect)(void *, size_t, int);
	int (*pkey_mprotect)(void *, size_t, int, int);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int (*rename)(const char *, const char *);
	int (*renameat)(int, const char *, int, const char *);
	int (*renameat2)(int, const char *, int, const char *, unsigned);
	int (*link)(const char *, const char *);
	int (*linkat)(int, const char *, int, const char *, int);
	int (*setuid)(uid_t);
	int (*seteuid)(uid_t);
	int (*setreuid)(uid_t, uid_t);
	int (*setresuid)(uid_t, uid_t, uid_t);
	ssize_t (*recvmsg)(int, void *, int);
	int (*recvmmsg)(int, void *, unsigned, int, void *);
	int (*fclose)(void *);
	void *(*fopen)(const char *, const char *);
	void *(*fopen64)(const char *, const char *);
	void *(*fdopen)(int, const char *);
	void *(*freopen)(const char *, const char *, void *);
	void *(*freopen64)(const char *, const char *, void *);
	int (*aio_write)(void *);
	int (*aio_write64)(void *);
	int (*lio_listio)(int, void *const *, int, void *);
	int (*lio_listio64)(int, void *const *, int, void *);
	int (*vdprintf)(int, const char *, va_list);
	int (*__vdprintf_chk)(int, int, const char *, va_list);
};
extern struct wt_real wt_real;
void wt_resolve(void);
void wt_write_init(void);

/* Thread-local re-entry depth: >0 inside the shim (signal handlers). */
extern __thread int wt_depth __attribute__((tls_model("initial-exec")));

/* write.c: the write path. Returns bytes or -errno. off < 0: position. */
ssize_t wt_write(int fd, const struct iovec *iov, int iovcnt, off_t off,
		 int rwf, bool positioned);
/* sync.c: 0 or -errno. datasync: fdatasync semantics. */
int wt_sync(int fd, bool datasync);
int wt_sync_range(int fd, off_t off, off_t n, unsigned flags);
/* Any other write the shim sees (truncate, fallocate, …): mark dirty. */
void wt_note_write(int fd);
void wt_note_unsafe(int fd);
/* Before the euid changes: see interpose.c. */
void wt_uid_leave(void);
struct wt_change {
	struct wt_file *f;
	int32_t tok;
};
/* Around a call that changes the file behind fd (see sync.c). */
void wt_change_begin(int fd, struct wt_change *c, bool unsafe);
void wt_change_end(struct wt_change *c);

#endif
