/* SPDX-License-Identifier: MIT */
/*
 * faults.so - test-only fault injection, in the manner of SQLite's
 * test_vfs.c: fails the Nth call of a kind with an errno, or cuts a write
 * short. Placed after walthrough in LD_PRELOAD, it sits between the
 * library and libc (walthrough's dlsym(RTLD_NEXT) calls reach it), so
 * every call it sees is one that really goes to the kernel; alone, it
 * sits between the program and libc, which gives what plain libc would
 * have done with the same fault.
 *
 *   WT_FAULT=KIND:N:WHAT[,KIND:N:WHAT]   fail the Nth call of KIND (from 1);
 *                                      "N+" fails that one and every later
 *   WT_FAULT_PATH=GLOB     count only calls on files whose path matches
 *                          (fnmatch; default "*": everything)
 *   WT_FAULT_LOG=FILE      one line per call on a matching file, appended
 *
 * KIND (the calls that count):
 *   write        write, writev, pwrite, pwrite64, pwritev, pwritev64,
 *                pwritev2, pwritev64v2, and io_uring write SQEs
 *   pwritev2     pwritev2, pwritev64v2
 *   sync         fsync, fdatasync, and io_uring fsync SQEs
 *   fsync, fdatasync
 *   open         open, open64, openat, openat64, creat, creat64, __open*_2
 *   openat       openat, openat64, __openat*_2
 *   uring_write  io_uring write SQEs;  uring_sync: io_uring fsync SQEs
 *   uring_enter  io_uring_submit_and_wait / io_uring_submit calls
 *   uring_init   io_uring_queue_init / io_uring_queue_init_params calls
 * WHAT: an errno name (EIO, ENOSPC, EINTR, EAGAIN, EDQUOT, EPERM, EBUSY,
 * ENOMEM, ...), or "short": a write writes the first half (rounded down to
 * 512 bytes when at least that) and returns that count; a sync fails with
 * EIO; an RWF_ATOMIC write or a vectored SQE is never cut (the kernel
 * does not complete atomic writes in part) and does not count; uring_enter submits
 * and returns without waiting.
 *
 * A failed call does nothing: no data written, no sync, no fd. io_uring
 * (liburing 2.3 inlines the CQE helpers; io_uring_submit_and_wait and
 * io_uring_queue_init are exported and interposable): pending SQEs are
 * inspected before the real submit; a failing one gets fd -1, so the
 * kernel fails it (and cancels what is linked after it), and its CQE's
 * result is rewritten to the errno; a short one gets a smaller length.
 * A failed uring_enter publishes the SQEs to the kernel without entering
 * it, as a kernel that consumed none of them (-EAGAIN from io_submit_sqes)
 * would leave them. When a submit brings new SQEs, it also logs CQEs left
 * unreaped and SQEs published and never consumed by earlier calls
 * ("uring_leftover", "uring_stale"). Raw system calls (the library's
 * reopen of an fd through /proc/self/fd) are out of reach.
 *
 * Log lines (raw write(2), O_APPEND, so a program's own output appended
 * to the same file interleaves in order):
 *   @ NAME PATH = RESULT [injected]       RESULT: a count, or -1 ENAME
 *   @ sqe_write|sqe_fsync PATH len L [fail ENAME|short S injected]
 *   @ cqe PATH = -1 ENAME injected        a failed SQE's rewritten CQE
 *   @ uring_enter = R [injected]          @ uring_init = R [injected]
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <liburing.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compat.h"                   /* RWF_ATOMIC */

#define EXPORT __attribute__((visibility("default")))
#define MAXSPEC 4
#define MAXPEND 16
#define LOG_LINE_MAX 8800

enum kind {
	K_WRITE, K_PWRITEV2, K_SYNC, K_FSYNC, K_FDATASYNC, K_OPEN, K_OPENAT,
	K_URING_WRITE, K_URING_SYNC, K_URING_ENTER, K_URING_INIT, K_NR
};

static const char *const kind_names[K_NR] = {
	[K_WRITE] = "write", [K_PWRITEV2] = "pwritev2", [K_SYNC] = "sync",
	[K_FSYNC] = "fsync", [K_FDATASYNC] = "fdatasync", [K_OPEN] = "open",
	[K_OPENAT] = "openat", [K_URING_WRITE] = "uring_write",
	[K_URING_SYNC] = "uring_sync", [K_URING_ENTER] = "uring_enter",
	[K_URING_INIT] = "uring_init",
};

/* The calls we wrap, each a set of kinds it counts for. */
#define B(k) (1u << (k))
enum call {
	C_WRITE = B(K_WRITE),
	C_PWRITEV2 = B(K_WRITE) | B(K_PWRITEV2),
	C_FSYNC = B(K_SYNC) | B(K_FSYNC),
	C_FDATASYNC = B(K_SYNC) | B(K_FDATASYNC),
	C_OPEN = B(K_OPEN),
	C_OPENAT = B(K_OPEN) | B(K_OPENAT),
	C_SQE_WRITE = B(K_WRITE) | B(K_URING_WRITE),
	C_SQE_FSYNC = B(K_SYNC) | B(K_URING_SYNC),
	C_URING_ENTER = B(K_URING_ENTER),
	C_URING_INIT = B(K_URING_INIT),
};

struct spec {
	enum kind kind;
	long n;                       /* fail the nth call */
	bool onward;                  /* ... and every later one */
	int err;                      /* 0: short */
	atomic_long count;
};

static struct spec specs[MAXSPEC];
static int nspecs;
static const char *glob = "*";
static int log_fd = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* ---- set-up ------------------------------------------------------------ */

static const struct { const char *name; int err; } errnos[] = {
	{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EINTR", EINTR },
	{ "EAGAIN", EAGAIN }, { "EDQUOT", EDQUOT }, { "EPERM", EPERM },
	{ "EBUSY", EBUSY }, { "ENOMEM", ENOMEM }, { "EBADF", EBADF },
	{ "EINVAL", EINVAL }, { "EROFS", EROFS }, { "EFBIG", EFBIG },
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char b[512];
	va_list ap;
	int n = snprintf(b, sizeof(b), "faults.so: ");
	va_start(ap, fmt);
	n += vsnprintf(b + n, sizeof(b) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(b) - 2)
		n = (int)sizeof(b) - 2;
	b[n++] = '\n';
	syscall(SYS_write, 2, b, (size_t)n);
	_exit(99);
}

static void parse_spec(const char *s)
{
	char b[128], *f[3], *save;
	int nf = 0;

	if (nspecs == MAXSPEC)
		die("more than %d faults in WT_FAULT", MAXSPEC);
	snprintf(b, sizeof(b), "%s", s);
	for (char *t = strtok_r(b, ":", &save); t && nf < 3; t = strtok_r(NULL, ":", &save))
		f[nf++] = t;
	if (nf != 3)
		die("bad fault '%s': want KIND:N:WHAT", s);
	struct spec *p = &specs[nspecs];
	int k;
	for (k = 0; k < K_NR; k++)
		if (!strcmp(f[0], kind_names[k]))
			break;
	if (k == K_NR)
		die("unknown kind '%s'", f[0]);
	p->kind = (enum kind)k;
	char *end;
	p->n = strtol(f[1], &end, 10);
	p->onward = *end == '+';
	if (end == f[1] || (*end && strcmp(end, "+")) || p->n < 1)
		die("bad count '%s'", f[1]);
	if (!strcmp(f[2], "short")) {
		p->err = 0;
	} else {
		size_t i;
		for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
			if (!strcmp(f[2], errnos[i].name))
				break;
		if (i == sizeof(errnos) / sizeof(errnos[0]))
			die("unknown errno '%s'", f[2]);
		p->err = errnos[i].err;
	}
	nspecs++;
}

static void init(void)
{
	const char *s = getenv("WT_FAULT"), *g = getenv("WT_FAULT_PATH");
	const char *l = getenv("WT_FAULT_LOG");

	if (g && *g)
		glob = g;
	if (s && *s) {
		char b[512];
		snprintf(b, sizeof(b), "%s", s);
		char *save;
		for (char *t = strtok_r(b, ",", &save); t; t = strtok_r(NULL, ",", &save))
			parse_spec(t);
	}
	if (l && *l) {
		log_fd = (int)syscall(SYS_openat, AT_FDCWD, l,
				      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (log_fd < 0)
			die("cannot open WT_FAULT_LOG %s: %s", l, strerror(errno));
	}
}

static inline void setup(void)
{
	pthread_once(&once, init);
}

static void *real(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p)
		die("dlsym(RTLD_NEXT, %s): %s", name, dlerror());
	return p;
}

/* Declares real_NAME, of type TYPE (a typedef), resolved on first use. */
#define REAL(type, name)                                                \
	static type real_##name;                                        \
	if (!real_##name)                                               \
		*(void **)&real_##name = real(#name)

typedef int (*fd_fn)(int);
typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*creat_fn)(const char *, mode_t);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);
typedef int (*submit_wait_fn)(struct io_uring *, unsigned);
typedef int (*submit_fn)(struct io_uring *);
typedef int (*init_fn)(unsigned, struct io_uring *, struct io_uring_params *);

/* ---- which file, and whether to fail ------------------------------------ */

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static void flog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void flog(const char *fmt, ...)
{
	char b[LOG_LINE_MAX];
	va_list ap;
	int n;

	if (log_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(b) - 2)
		n = (int)sizeof(b) - 2;
	b[n++] = '\n';
	syscall(SYS_write, log_fd, b, (size_t)n);
}

/* The path of fd, as the kernel names it, into b; false if none. */
static bool fd_path(int fd, char *b, size_t n)
{
	char link[40];
	if (fd < 0)
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	long r = syscall(SYS_readlinkat, AT_FDCWD, link, b, n - 1);
	if (r <= 0)
		return false;
	b[r] = 0;
	return true;
}

/* The absolute path an open of (dirfd, path) names, as well as we can. */
static void open_path(int dirfd, const char *path, char *b, size_t n)
{
	if (!path) {
		snprintf(b, n, "(null)");
		return;
	}
	if (!strncmp(path, "/proc/self/fd/", 14)) {
		char t[4096];
		long r = syscall(SYS_readlinkat, AT_FDCWD, path, t, sizeof(t) - 1);
		if (r > 0) {
			t[r] = 0;
			snprintf(b, n, "%s -> %s", path, t);
			return;
		}
	}
	if (path[0] == '/') {
		snprintf(b, n, "%s", path);
		return;
	}
	char dir[4096];
	if (dirfd == AT_FDCWD) {
		if (syscall(SYS_getcwd, dir, sizeof(dir)) <= 0)
			dir[0] = 0;
	} else if (!fd_path(dirfd, dir, sizeof(dir))) {
		dir[0] = 0;
	}
	snprintf(b, n, "%s/%s", dir, path);
}

/* The target of "LINK -> TARGET", else the whole string. */
static const char *match_part(const char *p)
{
	const char *a = strstr(p, " -> ");
	return a ? a + 4 : p;
}

static bool wanted(const char *path)
{
	return fnmatch(glob, match_part(path), 0) == 0;
}

/*
 * Counts a call of the kinds in mask; returns the spec that fails it, or
 * NULL to let it run. A call that cannot be cut short (an RWF_ATOMIC or
 * vectored SQE: the kernel never completes an atomic write in part) does
 * not count for "short" faults.
 */
static struct spec *decide_call(unsigned mask, bool can_short)
{
	struct spec *hit = NULL;
	for (int i = 0; i < nspecs; i++) {
		struct spec *p = &specs[i];
		if (!(mask & B(p->kind)) || (!p->err && !can_short))
			continue;
		long c = atomic_fetch_add(&p->count, 1) + 1;
		if (!hit && (c == p->n || (p->onward && c > p->n)))
			hit = p;
	}
	return hit;
}

static struct spec *decide(unsigned mask)
{
	return decide_call(mask, true);
}

/* The length of a short write of len bytes. */
static size_t short_len(size_t len)
{
	size_t h = len / 2;
	return h >= 512 ? h & ~(size_t)511 : h;
}

/* Copies the first len bytes' worth of iov into out; returns the count. */
static int iov_cut(const struct iovec *iov, int cnt, size_t len,
		   struct iovec *out, int max)
{
	int n = 0;
	for (int i = 0; i < cnt && len > 0 && n < max; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;
		out[n].iov_base = iov[i].iov_base;
		out[n++].iov_len = l;
		len -= l;
	}
	return n;
}

static size_t iov_len(const struct iovec *iov, int cnt)
{
	size_t t = 0;
	for (int i = 0; i < cnt && iov; i++)
		t += iov[i].iov_len;
	return t;
}

static long logged(const char *name, const char *path, long r, int e,
		   bool injected)
{
	if (r < 0)
		flog("@ %s %s = -1 %s%s", name, path, ename(e),
		     injected ? " injected" : "");
	else
		flog("@ %s %s = %ld%s", name, path, r,
		     injected ? " injected" : "");
	errno = e;
	return r;
}

/* ---- writes ------------------------------------------------------------- */

enum wshape { W_WRITE, W_PWRITE, W_WRITEV, W_PWRITEV, W_PWRITEV2 };

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, off_t, int);

struct wcall {
	enum wshape shape;
	void *fn;
	int fd;
	const void *buf;
	size_t len;
	const struct iovec *iov;
	int cnt;
	off_t off;
	int flags;
};

static ssize_t wrun(const struct wcall *w, const void *buf, size_t len,
		    const struct iovec *iov, int cnt)
{
	switch (w->shape) {
	case W_WRITE:
		return ((write_fn)w->fn)(w->fd, buf, len);
	case W_PWRITE:
		return ((pwrite_fn)w->fn)(w->fd, buf, len, w->off);
	case W_WRITEV:
		return ((writev_fn)w->fn)(w->fd, iov, cnt);
	case W_PWRITEV:
		return ((pwritev_fn)w->fn)(w->fd, iov, cnt, w->off);
	case W_PWRITEV2:
		return ((pwritev2_fn)w->fn)(w->fd, iov, cnt, w->off, w->flags);
	}
	return -1;
}

static ssize_t do_write(const char *name, unsigned mask, struct wcall *w)
{
	char path[4096];
	setup();
	if (!fd_path(w->fd, path, sizeof(path)) || !wanted(path))
		return wrun(w, w->buf, w->len, w->iov, w->cnt);

	/* The kernel never completes an RWF_ATOMIC write in part. */
	bool atomic = w->shape == W_PWRITEV2 && (w->flags & RWF_ATOMIC);
	struct spec *p = decide_call(mask, !atomic);
	bool vec = w->shape >= W_WRITEV;
	size_t len = vec ? iov_len(w->iov, w->cnt) : w->len;
	ssize_t r;
	if (p && p->err)
		return logged(name, path, -1, p->err, true);
	if (p) {
		size_t s = short_len(len);
		struct iovec cut[1024];
		int n = vec ? iov_cut(w->iov, w->cnt, s, cut, 1024) : 0;
		r = wrun(w, w->buf, s, cut, n);
	} else {
		r = wrun(w, w->buf, w->len, w->iov, w->cnt);
	}
	return logged(name, path, r, errno, p != NULL);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write_fn, write);
	struct wcall w = { W_WRITE, (void *)real_write, fd, buf, n, NULL, 0, 0, 0 };
	return do_write("write", C_WRITE, &w);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite_fn, pwrite);
	struct wcall w = { W_PWRITE, (void *)real_pwrite, fd, buf, n, NULL, 0, off, 0 };
	return do_write("pwrite", C_WRITE, &w);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite_fn, pwrite64);
	struct wcall w = { W_PWRITE, (void *)real_pwrite64, fd, buf, n, NULL, 0, off, 0 };
	return do_write("pwrite64", C_WRITE, &w);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev_fn, writev);
	struct wcall w = { W_WRITEV, (void *)real_writev, fd, NULL, 0, iov, cnt, 0, 0 };
	return do_write("writev", C_WRITE, &w);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	REAL(pwritev_fn, pwritev);
	struct wcall w = { W_PWRITEV, (void *)real_pwritev, fd, NULL, 0, iov, cnt, off, 0 };
	return do_write("pwritev", C_WRITE, &w);
}

EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	REAL(pwritev_fn, pwritev64);
	struct wcall w = { W_PWRITEV, (void *)real_pwritev64, fd, NULL, 0, iov, cnt, off, 0 };
	return do_write("pwritev64", C_WRITE, &w);
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
			int flags)
{
	REAL(pwritev2_fn, pwritev2);
	struct wcall w = { W_PWRITEV2, (void *)real_pwritev2, fd, NULL, 0, iov, cnt, off, flags };
	return do_write("pwritev2", C_PWRITEV2, &w);
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt,
			   off_t off, int flags)
{
	REAL(pwritev2_fn, pwritev64v2);
	struct wcall w = { W_PWRITEV2, (void *)real_pwritev64v2, fd, NULL, 0, iov, cnt, off, flags };
	return do_write("pwritev64v2", C_PWRITEV2, &w);
}

/* ---- syncs -------------------------------------------------------------- */

static int do_sync(const char *name, unsigned mask, int (*fn)(int), int fd)
{
	char path[4096];
	setup();
	if (!fd_path(fd, path, sizeof(path)) || !wanted(path))
		return fn(fd);
	struct spec *p = decide(mask);
	if (p)
		return (int)logged(name, path, -1, p->err ? p->err : EIO, true);
	int r = fn(fd);
	return (int)logged(name, path, r, errno, false);
}

EXPORT int fsync(int fd)
{
	REAL(fd_fn, fsync);
	return do_sync("fsync", C_FSYNC, real_fsync, fd);
}

EXPORT int fdatasync(int fd)
{
	REAL(fd_fn, fdatasync);
	return do_sync("fdatasync", C_FDATASYNC, real_fdatasync, fd);
}

/* ---- opens -------------------------------------------------------------- */

static bool has_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

#define MODE(flags)                                                     \
	mode_t mode = 0;                                                \
	if (has_mode(flags)) {                                          \
		va_list ap;                                             \
		va_start(ap, flags);                                    \
		mode = va_arg(ap, mode_t);                              \
		va_end(ap);                                             \
	}

/* Decides an open of (dirfd, path); returns -1 with errno when it fails. */
static bool open_fails(const char *name, unsigned mask, int dirfd,
		       const char *path, char *abs, size_t n)
{
	setup();
	open_path(dirfd, path, abs, n);
	if (!wanted(abs))
		return false;
	struct spec *p = decide(mask);
	if (!p)
		return false;
	logged(name, abs, -1, p->err ? p->err : EIO, true);
	return true;
}

static int opened(const char *name, const char *abs, int r)
{
	if (wanted(abs))
		logged(name, abs, r, errno, false);
	return r;
}

#define OPEN_BODY(name, mask, dirfd, call)                              \
	char abs[8300];                                                 \
	if (open_fails(#name, mask, dirfd, path, abs, sizeof(abs)))     \
		return -1;                                              \
	return opened(#name, abs, call)

EXPORT int open(const char *path, int flags, ...)
{
	MODE(flags);
	REAL(open_fn, open);
	OPEN_BODY(open, C_OPEN, AT_FDCWD, real_open(path, flags, mode));
}

EXPORT int open64(const char *path, int flags, ...)
{
	MODE(flags);
	REAL(open_fn, open64);
	OPEN_BODY(open64, C_OPEN, AT_FDCWD, real_open64(path, flags, mode));
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	MODE(flags);
	REAL(openat_fn, openat);
	OPEN_BODY(openat, C_OPENAT, dirfd, real_openat(dirfd, path, flags, mode));
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	MODE(flags);
	REAL(openat_fn, openat64);
	OPEN_BODY(openat64, C_OPENAT, dirfd, real_openat64(dirfd, path, flags, mode));
}

EXPORT int creat(const char *path, mode_t mode)
{
	REAL(creat_fn, creat);
	OPEN_BODY(creat, C_OPEN, AT_FDCWD, real_creat(path, mode));
}

EXPORT int creat64(const char *path, mode_t mode)
{
	REAL(creat_fn, creat64);
	OPEN_BODY(creat64, C_OPEN, AT_FDCWD, real_creat64(path, mode));
}

EXPORT int __open_2(const char *path, int flags)
{
	REAL(open2_fn, __open_2);
	OPEN_BODY(__open_2, C_OPEN, AT_FDCWD, real___open_2(path, flags));
}

EXPORT int __open64_2(const char *path, int flags)
{
	REAL(open2_fn, __open64_2);
	OPEN_BODY(__open64_2, C_OPEN, AT_FDCWD, real___open64_2(path, flags));
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	REAL(openat2_fn, __openat_2);
	OPEN_BODY(__openat_2, C_OPENAT, dirfd, real___openat_2(dirfd, path, flags));
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	REAL(openat2_fn, __openat64_2);
	OPEN_BODY(__openat64_2, C_OPENAT, dirfd, real___openat64_2(dirfd, path, flags));
}

/* ---- io_uring ----------------------------------------------------------- */

/* CQE results to rewrite once the kernel has failed these SQEs (fd -1). */
static struct {
	uint64_t data;
	int err;
	char path[4096];
} pend[MAXPEND];
static int npend;
static pthread_mutex_t uring_lock = PTHREAD_MUTEX_INITIALIZER;

static bool is_write_op(unsigned op)
{
	return op == IORING_OP_WRITE || op == IORING_OP_WRITEV ||
	       op == IORING_OP_WRITE_FIXED;
}

/* Before a submit: log and fault the SQEs not yet published. */
static void sqes_before(struct io_uring *ring)
{
	struct io_uring_sq *sq = &ring->sq;
	unsigned published = *sq->ktail - __atomic_load_n(sq->khead, __ATOMIC_ACQUIRE);
	unsigned cq = __atomic_load_n(ring->cq.ktail, __ATOMIC_ACQUIRE) - *ring->cq.khead;

	/*
	 * With new SQEs, a new operation begins: whatever is still published
	 * or unreaped belongs to one that returned. (Without, it is a retry
	 * of the same one, e.g. after EINTR.)
	 */
	if (sq->sqe_head != sq->sqe_tail && published)
		flog("@ uring_stale %u SQE(s) published by an earlier call, never consumed",
		     published);
	if (sq->sqe_head != sq->sqe_tail && cq)
		flog("@ uring_leftover %u CQE(s) left unreaped by an earlier call", cq);
	for (unsigned i = sq->sqe_head; i != sq->sqe_tail; i++) {
		struct io_uring_sqe *sqe = &sq->sqes[i & sq->ring_mask];
		unsigned mask;
		const char *name;
		if (is_write_op(sqe->opcode))
			mask = C_SQE_WRITE, name = "sqe_write";
		else if (sqe->opcode == IORING_OP_FSYNC)
			mask = C_SQE_FSYNC, name = "sqe_fsync";
		else
			continue;
		char path[4096];
		if ((sqe->flags & IOSQE_FIXED_FILE) ||
		    !fd_path(sqe->fd, path, sizeof(path)) || !wanted(path))
			continue;
		bool can_short = mask == C_SQE_WRITE &&
				 sqe->opcode != IORING_OP_WRITEV &&
				 !(sqe->rw_flags & RWF_ATOMIC);
		struct spec *p = decide_call(mask, can_short);
		if (p && p->err && npend < MAXPEND) {
			pend[npend].data = sqe->user_data;
			pend[npend].err = p->err;
			snprintf(pend[npend].path, sizeof(pend[npend].path), "%s", path);
			npend++;
			sqe->fd = -1;
			flog("@ %s %s len %u fail %s injected", name, path, sqe->len,
			     ename(p->err));
		} else if (p && can_short) {
			unsigned l = (unsigned)short_len(sqe->len);
			flog("@ %s %s len %u short %u injected", name, path, sqe->len, l);
			sqe->len = l;
		} else {
			flog("@ %s %s len %u", name, path,
			     mask == C_SQE_WRITE ? sqe->len : 0);
		}
	}
}

/* After a submit: rewrite the CQEs of the SQEs we failed. */
static void cqes_after(struct io_uring *ring)
{
	struct io_uring_cq *cq = &ring->cq;
	for (int tries = 0; npend && tries < 1000; tries++) {
		unsigned head = *cq->khead;
		unsigned tail = __atomic_load_n(cq->ktail, __ATOMIC_ACQUIRE);
		for (unsigned i = head; i != tail; i++) {
			struct io_uring_cqe *cqe = &cq->cqes[i & cq->ring_mask];
			for (int k = 0; k < npend; k++) {
				if (cqe->user_data != pend[k].data || cqe->res != -EBADF)
					continue;
				cqe->res = -pend[k].err;
				flog("@ cqe %s = -1 %s injected", pend[k].path,
				     ename(pend[k].err));
				pend[k] = pend[--npend];
				break;
			}
		}
		if (!npend)
			break;
		/* Not completed yet: wait for one more CQE without reaping. */
		syscall(__NR_io_uring_enter, ring->ring_fd, 0, tail - head + 1,
			IORING_ENTER_GETEVENTS, NULL, 0);
	}
	if (npend)
		flog("@ uring_lost %d failed SQE(s) never completed", npend);
	npend = 0;
}

/* Publishes pending SQEs to the kernel without entering it. */
static void publish(struct io_uring *ring)
{
	struct io_uring_sq *sq = &ring->sq;
	if (sq->sqe_head != sq->sqe_tail) {
		sq->sqe_head = sq->sqe_tail;
		__atomic_store_n(sq->ktail, sq->sqe_tail, __ATOMIC_RELEASE);
	}
}

static int uring_submit(struct io_uring *ring, unsigned wait_nr, bool wait,
			const char *name)
{
	REAL(submit_wait_fn, io_uring_submit_and_wait);
	REAL(submit_fn, io_uring_submit);
	setup();
	pthread_mutex_lock(&uring_lock);
	sqes_before(ring);
	struct spec *p = decide(C_URING_ENTER);
	int r;
	if (p && p->err) {
		publish(ring);
		r = -p->err;
	} else if (p || !wait) {
		r = real_io_uring_submit(ring);
	} else {
		r = real_io_uring_submit_and_wait(ring, wait_nr);
	}
	if (r >= 0)
		cqes_after(ring);
	npend = 0;
	pthread_mutex_unlock(&uring_lock);
	if (r < 0)
		flog("@ %s = -1 %s%s", name, ename(-r), p ? " injected" : "");
	else
		flog("@ %s = %d%s", name, r, p ? " injected" : "");
	return r;
}

EXPORT int io_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr)
{
	return uring_submit(ring, wait_nr, true, "uring_enter");
}

EXPORT int io_uring_submit(struct io_uring *ring)
{
	return uring_submit(ring, 0, false, "uring_enter");
}

EXPORT int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
				      struct io_uring_params *params)
{
	REAL(init_fn, io_uring_queue_init_params);
	setup();
	struct spec *p = decide(C_URING_INIT);
	if (p) {
		int e = p->err ? p->err : EPERM;
		flog("@ uring_init = -1 %s injected", ename(e));
		return -e;
	}
	int r = real_io_uring_queue_init_params(entries, ring, params);
	flog("@ uring_init = %d", r);
	return r;
}

EXPORT int io_uring_queue_init(unsigned entries, struct io_uring *ring,
			       unsigned flags)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	return io_uring_queue_init_params(entries, ring, &p);
}
