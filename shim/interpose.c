/* SPDX-License-Identifier: MIT */
/*
 * interpose.c - the exported wrappers: the only place that turns -errno
 * into -1 + errno, and that keeps errno untouched on success.
 *
 * Every wrapper resolves its libc function on first use, so it works when
 * another library's constructor calls it before ours ran. Calls on fds
 * that are not tracked cost one load and go to libc.
 */
#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

#define EXPORT __attribute__((visibility("default")))

struct wt_state wt;
struct wt_real wt_real;
__thread int wt_depth __attribute__((tls_model("initial-exec")));

static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_bool ready;
static atomic_bool active;
static __thread int in_init __attribute__((tls_model("initial-exec")));

static void *sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p) {
		const char *m = "walthrough: a libc symbol is missing\n";
		syscall(SYS_write, 2, m, strlen(m));
	}
	return p;
}

#define REAL(name) (wt_real.name ? wt_real.name : \
		    (*(void **)&wt_real.name = sym(#name), wt_real.name))

void wt_resolve(void)
{
#define R(name) (void)REAL(name)
	R(open); R(open64); R(openat); R(openat64); R(creat); R(creat64);
	R(__open_2); R(__open64_2); R(__openat_2); R(__openat64_2);
	R(close); R(close_range); R(dup); R(dup2); R(dup3); R(fcntl);
	R(fcntl64); R(write); R(pwrite); R(pwrite64); R(writev); R(pwritev);
	R(pwritev64); R(pwritev2); R(pwritev64v2); R(fsync); R(fdatasync);
	R(sync_file_range); R(ftruncate); R(ftruncate64); R(truncate);
	R(truncate64); R(fallocate); R(fallocate64); R(posix_fallocate);
	R(posix_fallocate64); R(copy_file_range); R(sendfile);
	R(sendfile64); R(splice); R(ioctl); R(mmap); R(mmap64); R(fopen);
	R(fopen64); R(fdopen); R(freopen); R(freopen64); R(aio_write);
	R(aio_write64); R(lio_listio); R(lio_listio64); R(vdprintf);
	R(__vdprintf_chk); R(mprotect); R(pkey_mprotect); R(munmap);
	R(mremap); R(rename); R(renameat); R(renameat2); R(link); R(linkat);
	R(setuid); R(seteuid); R(setreuid); R(setresuid); R(recvmsg);
	R(recvmmsg); R(fclose);
#undef R
}

static void report(void *ctx, const char *msg)
{
	(void)ctx;
	wt_log(WT_LOG_ERROR, "%s", msg);
}

static pthread_mutex_t maps_lock;

static void after_fork_child(void)
{
	pthread_mutex_init(&maps_lock, NULL);
	wt.pid = getpid();
	wt_fdtable_after_fork();
	wt_engine_after_fork();
}

static void before_fork(void);
static void after_fork_parent(void);

static void init(void)
{
	in_init = 1;
	wt_resolve();
	wt.pid = getpid();
	const char *conf = secure_getenv("WALTHROUGH_CONFIG");
	if (!conf && getenv("WALTHROUGH_CONFIG"))
		wt_log(WT_LOG_WARN, "WALTHROUGH_CONFIG ignored in a set-user-ID or set-group-ID program");
	if (conf && *conf) {
		if (wt_config_load(conf, &wt.cfg, report, NULL) == 0) {
			wt_log_level = wt.cfg.log_level;
			wt_fdtable_init();
			wt_write_init();
			wt_dirty_init();
			wt_stats_init();
			pthread_atfork(before_fork, after_fork_parent,
				       after_fork_child);
			wt_log(WT_LOG_INFO, "%s: %u rule%s, engine %s", conf,
			       wt.cfg.nrules, wt.cfg.nrules == 1 ? "" : "s",
			       wt_engine_name(wt.cfg.engine));
			wt.active = true;
			atomic_store(&active, wt_slot(0) != NULL);
		} else {
			wt_log(WT_LOG_ERROR, "%s is not valid: walthrough passes everything through",
			       conf);
		}
	}
	atomic_store(&ready, true);
	in_init = 0;
}

__attribute__((constructor)) static void wt_constructor(void)
{
	pthread_once(&once, init);
}

static inline bool on(void)
{
	if (__builtin_expect(!atomic_load_explicit(&ready, memory_order_acquire), 0)) {
		if (in_init)
			return false;
		pthread_once(&once, init);
	}
	return atomic_load_explicit(&active, memory_order_relaxed);
}

/* True when fd may be tracked: untracked fds stop at one load. */
static inline bool maybe(int fd)
{
	if (!on())
		return false;
	struct wt_slot *s = wt_slot(fd);
	return s && atomic_load_explicit(&s->state, memory_order_relaxed) !=
		    WT_FD_UNTRACKED;
}

/* No lock may be taken: a signal handler inside the shim, a vfork child. */
static inline bool lockless(void)
{
	return wt_depth > 0 || getpid() != wt.pid;
}

/*
 * For writes: whether fd may be tracked. When not, *sp and *seq0 let
 * untracked_done() see whether the number changed during the write.
 */
static inline bool maybe_w(int fd, struct wt_slot **sp, unsigned *seq0)
{
	*sp = NULL;
	if (!on())
		return false;
	struct wt_slot *s = wt_slot(fd);
	if (!s)
		return false;
	*seq0 = atomic_load_explicit(&s->seq, memory_order_acquire);
	if (atomic_load_explicit(&s->state, memory_order_relaxed) !=
	    WT_FD_UNTRACKED)
		return true;
	*sp = s;
	return false;
}

static void raced(int fd, unsigned seq0)
{
	int e = errno;
	wt_fd_raced(fd, seq0, lockless());
	errno = e;
}

/*
 * A write through an untracked number that a close, dup2 or open changed
 * meanwhile may have reached the tracked file now there (design 1b.2).
 */
static inline void untracked_done(int fd, struct wt_slot *s, unsigned seq0)
{
	if (s && __builtin_expect(wt_slot_moved(s, seq0), 0))
		raced(fd, seq0);
}

/* In a write wrapper: an fd no rule tracks gets CALL, checked as above. */
#define PASS_UNTRACKED(fd, call)                                \
	do {                                                    \
		struct wt_slot *s_;                             \
		unsigned seq_;                                  \
		if (!maybe_w((fd), &s_, &seq_)) {               \
			ssize_t r_ = (call);                    \
			untracked_done((fd), s_, seq_);         \
			return r_;                              \
		}                                               \
	} while (0)

static void before_fork(void)
{
	if (!lockless()) {
		pthread_mutex_lock(&maps_lock);
		wt_fdtable_before_fork();
	}
}

static void after_fork_parent(void)
{
	if (!lockless()) {
		wt_fdtable_parent_fork();
		pthread_mutex_unlock(&maps_lock);
	}
}

static inline ssize_t ret(ssize_t r, int saved)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	errno = saved;
	return r;
}

/* Forget a slot; where no lock may be taken, just make it unknown. */
static void forget(int fd)
{
	if (!lockless()) {
		wt_fd_forget(fd);
		return;
	}
	wt_fd_forget_lockless(fd);
}

static int opened(int fd, int dirfd, const char *path, int flags)
{
	if (fd < 0 || !on())
		return fd;
	int saved = errno;
	if (lockless()) {
		forget(fd);
		return fd;
	}
	char abs[WT_PATH_MAX];
	int r = wt_fd_opened(fd, wt_path_absolute(dirfd, path, abs, sizeof(abs)) == 0 ?
			     abs : NULL, flags);
	if (r < 0) {
		REAL(close)(fd);
		errno = -r;
		return -1;
	}
	errno = saved;
	return fd;
}

static void duped(int oldfd, int newfd)
{
	if (newfd < 0 || !on())
		return;
	int e = errno;
	if (lockless())
		forget(newfd);
	else
		wt_fd_dup(oldfd, newfd);
	errno = e;
}

#define MODE_ARG(flags, mode)                                       \
	mode_t mode = 0;                                            \
	if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) { \
		va_list ap;                                         \
		va_start(ap, flags);                                \
		mode = va_arg(ap, mode_t);                          \
		va_end(ap);                                         \
	}

/*
 * A change by path (truncate, an open with O_TRUNC, fopen "w"): the
 * inode now at PATH, if a rule matches it, is marked through an fd of our
 * own (so its key is the same as ever) before the call, and the mark is
 * lowered after. Returns whether pc holds something for path_change_end.
 */
struct path_change {
	int fd;
	struct wt_change c;
};

static bool path_change_begin(int dirfd, const char *path, bool unsafe,
			      struct path_change *pc)
{
	char abs[WT_PATH_MAX];
	if (!on() || !path)
		return false;
	int saved = errno;
	pc->fd = -1;
	pc->c = (struct wt_change){ .f = NULL, .tok = -1 };
	if (wt_path_absolute(dirfd, path, abs, sizeof(abs)) < 0) {
		wt_dirty_degrade("a file was changed by a path that could not be resolved");
	} else if (wt_config_match(&wt.cfg, abs)) {
		int fd = lockless() ? -1 :
			 REAL(open)(abs, O_RDONLY | O_NONBLOCK | O_NOCTTY |
					 O_CLOEXEC);
		if (fd >= 0) {
			wt_fd_opened(fd, abs, O_RDONLY);
			wt_change_begin(fd, &pc->c, unsafe);
			pc->fd = fd;
		} else if (lockless() || (errno != ENOENT && errno != ENOTDIR)) {
			wt_dirty_degrade("changed by path where it could not be recorded");
		}
	}
	errno = saved;
	return pc->fd >= 0;
}

static void path_change_end(struct path_change *pc)
{
	int saved = errno;
	wt_change_end(&pc->c);
	wt_fd_forget(pc->fd);
	REAL(close)(pc->fd);
	errno = saved;
}

/* CALL, an open of PATH with FLAGS: O_TRUNC changes the file it finds. */
#define OPENING(dirfd, path, flags, call)                                \
	({                                                               \
		struct path_change pc_;                                  \
		bool t_ = ((flags) & O_TRUNC) &&                         \
			  path_change_begin(dirfd, path, false, &pc_);   \
		int fd_ = (call);                                        \
		if (t_)                                                  \
			path_change_end(&pc_);                           \
		fd_;                                                     \
	})

EXPORT int open(const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	on();
	return opened(OPENING(AT_FDCWD, path, flags, REAL(open)(path, flags, mode)),
		      AT_FDCWD, path, flags);
}

EXPORT int open64(const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	on();
	return opened(OPENING(AT_FDCWD, path, flags, REAL(open64)(path, flags, mode)),
		      AT_FDCWD, path, flags);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	on();
	return opened(OPENING(dirfd, path, flags,
			      REAL(openat)(dirfd, path, flags, mode)),
		      dirfd, path, flags);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	on();
	return opened(OPENING(dirfd, path, flags,
			      REAL(openat64)(dirfd, path, flags, mode)),
		      dirfd, path, flags);
}

EXPORT int creat(const char *path, mode_t mode)
{
	on();
	return opened(OPENING(AT_FDCWD, path, O_TRUNC, REAL(creat)(path, mode)),
		      AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC);
}

EXPORT int creat64(const char *path, mode_t mode)
{
	on();
	return opened(OPENING(AT_FDCWD, path, O_TRUNC, REAL(creat64)(path, mode)),
		      AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC);
}

EXPORT int __open_2(const char *path, int flags)
{
	on();
	return opened(OPENING(AT_FDCWD, path, flags, REAL(__open_2)(path, flags)),
		      AT_FDCWD, path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	on();
	return opened(OPENING(AT_FDCWD, path, flags, REAL(__open64_2)(path, flags)),
		      AT_FDCWD, path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	on();
	return opened(OPENING(dirfd, path, flags, REAL(__openat_2)(dirfd, path, flags)),
		      dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	on();
	return opened(OPENING(dirfd, path, flags,
			      REAL(__openat64_2)(dirfd, path, flags)),
		      dirfd, path, flags);
}

/*
 * Before fd is closed, forget it, untracked numbers too: the number may be
 * reused the moment it is closed, and a write racing the close must see it
 * move (its seq is odd until closed() after the call).
 */
static void closing(int fd)
{
	int e = errno;
	wt_fd_change(fd);
	forget(fd);
	errno = e;
}

static int closed(int fd, int r)
{
	wt_fd_change(fd);
	return r;
}

EXPORT int close(int fd)
{
	if (!on() || !wt_slot(fd))
		return REAL(close)(fd);
	closing(fd);
	return closed(fd, REAL(close)(fd));
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	if (on() && !(flags & CLOSE_RANGE_CLOEXEC)) {
		unsigned hi = (unsigned)wt_fd_high();
		for (unsigned fd = first; fd <= last && fd < hi; fd++)
			forget((int)fd);
	}
	return REAL(close_range)(first, last, flags);
}

EXPORT int dup(int fd)
{
	on();
	int r = REAL(dup)(fd);
	duped(fd, r);
	return r;
}

EXPORT int dup2(int oldfd, int newfd)
{
	bool track = on() && oldfd != newfd;
	if (track)
		wt_fd_change(newfd);
	int r = REAL(dup2)(oldfd, newfd);
	if (r >= 0 && oldfd != newfd)
		duped(oldfd, r);
	if (track)
		wt_fd_change(newfd);
	return r;
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	bool track = on();
	if (track)
		wt_fd_change(newfd);
	int r = REAL(dup3)(oldfd, newfd, flags);
	duped(oldfd, r);
	if (track)
		wt_fd_change(newfd);
	return r;
}

static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	int r = real(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		duped(fd, r);
	/* F_SETFL needs nothing: each write reads the flags afresh. */
	return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	on();
	return do_fcntl(REAL(fcntl), fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	on();
	return do_fcntl(REAL(fcntl64), fd, cmd, arg);
}

/* ---- writes ------------------------------------------------------------ */

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	PASS_UNTRACKED(fd, REAL(write)(fd, buf, n));
	int saved = errno;
	struct iovec v = { .iov_base = (void *)buf, .iov_len = n };
	return ret(wt_write(fd, &v, 1, -1, 0, false), saved);
}

static ssize_t pwrite_common(ssize_t (*real)(int, const void *, size_t, off_t),
			     int fd, const void *buf, size_t n, off_t off)
{
	if (off < 0)
		return real(fd, buf, n, off);
	PASS_UNTRACKED(fd, real(fd, buf, n, off));
	int saved = errno;
	struct iovec v = { .iov_base = (void *)buf, .iov_len = n };
	return ret(wt_write(fd, &v, 1, off, 0, true), saved);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite_common(REAL(pwrite), fd, buf, n, off);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite_common(REAL(pwrite64), fd, buf, n, off);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	PASS_UNTRACKED(fd, REAL(writev)(fd, iov, iovcnt));
	int saved = errno;
	return ret(wt_write(fd, iov, iovcnt, -1, 0, false), saved);
}

static ssize_t pwritev_common(ssize_t (*real)(int, const struct iovec *, int,
					      off_t),
			      int fd, const struct iovec *iov, int iovcnt,
			      off_t off)
{
	if (off < 0)
		return real(fd, iov, iovcnt, off);
	PASS_UNTRACKED(fd, real(fd, iov, iovcnt, off));
	int saved = errno;
	return ret(wt_write(fd, iov, iovcnt, off, 0, true), saved);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	return pwritev_common(REAL(pwritev), fd, iov, iovcnt, off);
}

EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt,
			 off_t off)
{
	return pwritev_common(REAL(pwritev64), fd, iov, iovcnt, off);
}

#define RWF_KNOWN (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND | \
		   RWF_NOAPPEND | RWF_ATOMIC | RWF_DONTCACHE)

static ssize_t pwritev2_common(ssize_t (*real)(int, const struct iovec *, int,
					       off_t, int),
			       int fd, const struct iovec *iov, int iovcnt,
			       off_t off, int flags)
{
	/* Flags we do not know and bad offsets get the kernel's answer. */
	if (off < -1 || (flags & ~RWF_KNOWN))
		return real(fd, iov, iovcnt, off, flags);
	PASS_UNTRACKED(fd, real(fd, iov, iovcnt, off, flags));
	int saved = errno;
	return ret(wt_write(fd, iov, iovcnt, off, flags, off != -1), saved);
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt,
			off_t off, int flags)
{
	return pwritev2_common(REAL(pwritev2), fd, iov, iovcnt, off, flags);
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt,
			   off_t off, int flags)
{
	return pwritev2_common(REAL(pwritev64v2), fd, iov, iovcnt, off, flags);
}

/* ---- syncs ------------------------------------------------------------- */

EXPORT int fsync(int fd)
{
	if (!maybe(fd))
		return REAL(fsync)(fd);
	int saved = errno;
	return (int)ret(wt_sync(fd, false), saved);
}

EXPORT int fdatasync(int fd)
{
	if (!maybe(fd))
		return REAL(fdatasync)(fd);
	int saved = errno;
	return (int)ret(wt_sync(fd, true), saved);
}

EXPORT int sync_file_range(int fd, off_t off, off_t n, unsigned flags)
{
	if (!maybe(fd))
		return REAL(sync_file_range)(fd, off, n, flags);
	int saved = errno;
	return (int)ret(wt_sync_range(fd, off, n, flags), saved);
}

/* ---- other writers: the next sync must be real (design 1b.1) ---------- */

/*
 * Around CALL, which changes the file behind fd: the mark is raised before
 * it and lowered after (unsafe: never skip its syncs again), so that a
 * process killed in between leaves it up. If the number changed meanwhile,
 * every tracked file it named is marked too (as for writes, design 1b.2),
 * or, unsafe, the whole table.
 */
#define NOTED(fd, unsafe, call)                                         \
	({                                                              \
		struct wt_change c_ = { .f = NULL, .tok = -1 };         \
		struct wt_slot *s_ = on() ? wt_slot(fd) : NULL;         \
		unsigned q_ = s_ ? change_begin(fd, s_, unsafe, &c_) : 0; \
		__typeof__(call) r_ = (call);                           \
		if (s_)                                                 \
			change_end(fd, s_, q_, unsafe, &c_);            \
		r_;                                                     \
	})
#define CHANGING(fd, call) NOTED(fd, false, call)

/* Returns the slot's seq to check after the call. */
static unsigned change_begin(int fd, struct wt_slot *s, bool unsafe,
			     struct wt_change *c)
{
	int e = errno;
	/* Classifying an unknown fd moves seq: read it after. */
	if (atomic_load(&s->state) != WT_FD_UNTRACKED)
		wt_change_begin(fd, c, unsafe);
	unsigned q = atomic_load_explicit(&s->seq, memory_order_acquire);
	errno = e;
	return q;
}

static void change_end(int fd, struct wt_slot *s, unsigned seq0, bool unsafe,
		       struct wt_change *c)
{
	int e = errno;
	bool moved = wt_slot_moved(s, seq0);
	wt_change_end(c);
	/* Which file was mapped is not known: nothing is certain any more. */
	if (moved && unsafe)
		wt_dirty_degrade("a file was mapped through an fd number that changed meanwhile");
	else if (moved)
		raced(fd, seq0);
	errno = e;
}

EXPORT int ftruncate(int fd, off_t len)
{
	return CHANGING(fd, REAL(ftruncate)(fd, len));
}

EXPORT int ftruncate64(int fd, off_t len)
{
	return CHANGING(fd, REAL(ftruncate64)(fd, len));
}

EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
	return CHANGING(fd, REAL(fallocate)(fd, mode, off, len));
}

EXPORT int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return CHANGING(fd, REAL(fallocate64)(fd, mode, off, len));
}

EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
	return CHANGING(fd, REAL(posix_fallocate)(fd, off, len));
}

EXPORT int posix_fallocate64(int fd, off_t off, off_t len)
{
	return CHANGING(fd, REAL(posix_fallocate64)(fd, off, len));
}

EXPORT ssize_t copy_file_range(int in, off_t *inoff, int out, off_t *outoff,
			       size_t len, unsigned flags)
{
	return CHANGING(out, REAL(copy_file_range)(in, inoff, out, outoff,
						     len, flags));
}

EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	return CHANGING(out, REAL(sendfile)(out, in, off, n));
}

EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	return CHANGING(out, REAL(sendfile64)(out, in, off, n));
}

EXPORT ssize_t splice(int in, off_t *inoff, int out, off_t *outoff, size_t n,
		      unsigned flags)
{
	return CHANGING(out, REAL(splice)(in, inoff, out, outoff, n, flags));
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (req == FICLONE || req == FICLONERANGE || req == FIDEDUPERANGE)
		return CHANGING(fd, REAL(ioctl)(fd, req, arg));
	return REAL(ioctl)(fd, req, arg);
}

EXPORT int truncate(const char *path, off_t len)
{
	struct path_change pc;
	bool t = path_change_begin(AT_FDCWD, path, false, &pc);
	int r = REAL(truncate)(path, len);
	if (t)
		path_change_end(&pc);
	return r;
}

EXPORT int truncate64(const char *path, off_t len)
{
	struct path_change pc;
	bool t = path_change_begin(AT_FDCWD, path, false, &pc);
	int r = REAL(truncate64)(path, len);
	if (t)
		path_change_end(&pc);
	return r;
}

/*
 * Shared mappings of tracked files (design 1b.14). One made writable writes
 * behind our back: its file is never skipped again. One made without write
 * access is recorded, so that the calls that can grant it later (mprotect,
 * pkey_mprotect; mremap only moves or copies what is there, with the same
 * access) find it. An unmap forgets only a record it covers whole; what
 * cannot be recorded is treated as writable.
 */
#define MAPS_MAX 128

static struct {
	uintptr_t start, end;                /* end 0: free */
	struct wt_key key;
} maps[MAPS_MAX];
static atomic_int nmaps;
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;

/* Under maps_lock: records [start, end) for key; false when full. */
static bool map_add(uintptr_t start, uintptr_t end, const struct wt_key *key)
{
	for (int i = 0; i < MAPS_MAX; i++) {
		if (maps[i].end)
			continue;
		maps[i].start = start;
		maps[i].end = end;
		maps[i].key = *key;
		atomic_fetch_add(&nmaps, 1);
		return true;
	}
	return false;
}

static uintptr_t range_end(const void *addr, size_t len)
{
	uintptr_t e;
	return __builtin_add_overflow((uintptr_t)addr, len, &e) ? UINTPTR_MAX : e;
}

static void map_record(int fd, void *addr, size_t len)
{
	struct wt_slot *s = on() ? wt_slot(fd) : NULL;
	if (!s || atomic_load(&s->state) == WT_FD_UNTRACKED)
		return;
	int e = errno;
	if (lockless()) {
		wt_dirty_degrade("a shared mapping was made where it could not be recorded");
		errno = e;
		return;
	}
	struct wt_file *f = wt_fd_get(fd, NULL);
	if (f) {
		pthread_mutex_lock(&maps_lock);
		bool ok = map_add((uintptr_t)addr, range_end(addr, len), &f->key);
		pthread_mutex_unlock(&maps_lock);
		if (!ok)
			wt_dirty_unsafe(&f->key, &f->dref);
		wt_file_put(f);
	}
	errno = e;
}

/* Before [addr, addr+len) gains write access: its files never skip again. */
static void maps_writable(void *addr, size_t len)
{
	if (!atomic_load_explicit(&nmaps, memory_order_acquire) || !on())
		return;
	int e = errno;
	if (lockless()) {
		wt_dirty_degrade("a shared mapping was made writable where it could not be recorded");
		errno = e;
		return;
	}
	uintptr_t a = (uintptr_t)addr, b = range_end(addr, len);
	struct wt_key keys[MAPS_MAX];
	int n = 0;
	pthread_mutex_lock(&maps_lock);
	for (int i = 0; i < MAPS_MAX; i++)
		if (maps[i].end && maps[i].start < b && a < maps[i].end)
			keys[n++] = maps[i].key;
	pthread_mutex_unlock(&maps_lock);
	for (int i = 0; i < n; i++) {
		struct wt_dref ref = { .slot = -1 };
		wt_dirty_unsafe(&keys[i], &ref);
	}
	errno = e;
}

static void *mapped(void *(*real)(void *, size_t, int, int, int, off_t),
		    void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	if (fd < 0 || !(flags & MAP_SHARED))
		return real(addr, len, prot, flags, fd, off);
	if (prot & PROT_WRITE)
		return NOTED(fd, true, real(addr, len, prot, flags, fd, off));
	void *m = real(addr, len, prot, flags, fd, off);
	if (m != MAP_FAILED)
		map_record(fd, m, len);
	return m;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	return mapped(REAL(mmap), addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	return mapped(REAL(mmap64), addr, len, prot, flags, fd, off);
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
	if (prot & PROT_WRITE)
		maps_writable(addr, len);
	return REAL(mprotect)(addr, len, prot);
}

EXPORT int pkey_mprotect(void *addr, size_t len, int prot, int pkey)
{
	if (prot & PROT_WRITE)
		maps_writable(addr, len);
	return REAL(pkey_mprotect)(addr, len, prot, pkey);
}

EXPORT int munmap(void *addr, size_t len)
{
	int r = REAL(munmap)(addr, len);
	if (r == 0 && atomic_load_explicit(&nmaps, memory_order_acquire) &&
	    !lockless()) {
		uintptr_t a = (uintptr_t)addr, b = range_end(addr, len);
		pthread_mutex_lock(&maps_lock);
		for (int i = 0; i < MAPS_MAX; i++)
			if (maps[i].end && a <= maps[i].start && maps[i].end <= b) {
				maps[i].end = 0;
				atomic_fetch_sub(&nmaps, 1);
			}
		pthread_mutex_unlock(&maps_lock);
	}
	return r;
}

/* The records of what was at old now also cover where it went. */
EXPORT void *mremap(void *old, size_t oldlen, size_t len, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	void *want = flags & MREMAP_FIXED ? va_arg(ap, void *) : NULL;
	va_end(ap);
	void *m = REAL(mremap)(old, oldlen, len, flags, want);
	if (m == MAP_FAILED || !atomic_load_explicit(&nmaps, memory_order_acquire))
		return m;
	int e = errno;
	if (lockless()) {
		wt_dirty_degrade("a shared mapping was moved where it could not be recorded");
		errno = e;
		return m;
	}
	uintptr_t a = (uintptr_t)old, b = range_end(old, oldlen ? oldlen : len);
	struct wt_key lost[MAPS_MAX];
	int nlost = 0;
	pthread_mutex_lock(&maps_lock);
	for (int i = 0; i < MAPS_MAX; i++) {
		if (!maps[i].end || maps[i].end <= a || b <= maps[i].start)
			continue;
		struct wt_key k = maps[i].key;
		bool dup = false;
		for (int j = 0; j < MAPS_MAX; j++)
			dup |= maps[j].end && maps[j].start == (uintptr_t)m &&
			       !memcmp(&maps[j].key, &k, sizeof(k));
		if (!dup && !map_add((uintptr_t)m, range_end(m, len), &k))
			lost[nlost++] = k;
	}
	pthread_mutex_unlock(&maps_lock);
	for (int i = 0; i < nlost; i++) {
		struct wt_dref ref = { .slot = -1 };
		wt_dirty_unsafe(&lost[i], &ref);
	}
	errno = e;
	return m;
}

/* dprintf writes through glibc's internal write, which we never see. */
EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	return CHANGING(fd, REAL(vdprintf)(fd, fmt, ap));
}

EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

/* The same, as _FORTIFY_SOURCE builds call them. */
EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	return CHANGING(fd, REAL(__vdprintf_chk)(fd, flag, fmt, ap));
}

EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * POSIX aio: glibc's threads write later, by an internal call we never
 * see, and nothing tells us when: no sync of the file is skipped again.
 * A NULL aiocb crashes here as it would in libc.
 */
static void aio_noted(int fd, int op)
{
	if (op == LIO_WRITE && maybe(fd)) {
		int e = errno;
		wt_note_unsafe(fd);
		errno = e;
	}
}

EXPORT int aio_write(struct aiocb *cb)
{
	aio_noted(cb->aio_fildes, LIO_WRITE);
	return REAL(aio_write)(cb);
}

EXPORT int aio_write64(struct aiocb64 *cb)
{
	aio_noted(cb->aio_fildes, LIO_WRITE);
	return REAL(aio_write64)(cb);
}

EXPORT int lio_listio(int mode, struct aiocb *const list[], int n,
		      struct sigevent *sev)
{
	for (int i = 0; i < n; i++)  /* NULL entries are ignored */
		if (list[i])
			aio_noted(list[i]->aio_fildes, list[i]->aio_lio_opcode);
	return REAL(lio_listio)(mode, (void *const *)list, n, sev);
}

EXPORT int lio_listio64(int mode, struct aiocb64 *const list[], int n,
			struct sigevent *sev)
{
	for (int i = 0; i < n; i++)  /* NULL entries are ignored */
		if (list[i])
			aio_noted(list[i]->aio_fildes, list[i]->aio_lio_opcode);
	return REAL(lio_listio64)(mode, (void *const *)list, n, sev);
}

/* stdio writes through glibc's internal write, which we never see. */
static void *stream(FILE *f, const char *path, const char *mode)
{
	if (!f || !on() || lockless())
		return f;
	int saved = errno;
	int fd = fileno(f);
	bool writes = strpbrk(mode, "wa+") != NULL;
	char abs[WT_PATH_MAX];
	if (path)
		wt_fd_opened(fd, wt_path_absolute(AT_FDCWD, path, abs,
						  sizeof(abs)) == 0 ? abs : NULL,
			     writes ? O_WRONLY : O_RDONLY);
	if (writes && maybe(fd))
		wt_note_unsafe(fd);
	errno = saved;
	return f;
}

/* CALL, an fopen of PATH: mode "w" truncates what it finds (unsafe, as stdio). */
#define STREAM_OPENING(path, mode, call)                                 \
	({                                                               \
		struct path_change pc_;                                  \
		bool t_ = (mode) && strchr((mode), 'w') &&               \
			  path_change_begin(AT_FDCWD, path, true, &pc_); \
		FILE *f_ = stream((call), path, mode);                   \
		if (t_)                                                  \
			path_change_end(&pc_);                           \
		f_;                                                      \
	})

EXPORT FILE *fopen(const char *path, const char *mode)
{
	on();
	return STREAM_OPENING(path, mode, REAL(fopen)(path, mode));
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	on();
	return STREAM_OPENING(path, mode, REAL(fopen64)(path, mode));
}

EXPORT FILE *fdopen(int fd, const char *mode)
{
	on();
	return stream(REAL(fdopen)(fd, mode), NULL, mode);
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *f)
{
	on();
	return STREAM_OPENING(path, mode, REAL(freopen)(path, mode, f));
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *f)
{
	on();
	return STREAM_OPENING(path, mode, REAL(freopen64)(path, mode, f));
}

/* ---- names and hand-overs: what a number or a path names changes -------- */

/*
 * A rename or link that gives a file a name a tracking rule covers, from a
 * name no rule covered (design 1b.14): other processes may hold fds to it
 * that the library does not track, and this one untracked numbers for it.
 * Its syncs are never skipped again, and this process's untracked numbers
 * are looked at afresh. A file that had a rule was recorded by every
 * process sharing the table (their configs classify alike, dirty.c).
 */
struct named {
	bool ok;
	char from[WT_PATH_MAX], to[WT_PATH_MAX];
};

static void naming(struct named *n, int fromdir, const char *from, int todir,
		   const char *to)
{
	n->ok = on() && from && to && *from &&
		wt_path_absolute(fromdir, from, n->from, sizeof(n->from)) == 0 &&
		wt_path_absolute(todir, to, n->to, sizeof(n->to)) == 0;
}

static bool tracks(const struct wt_rule *r)
{
	return r && r->mode != WT_MODE_PASSTHROUGH;
}

static void named_one(const char *from, const char *to, bool unknown_from)
{
	const struct wt_rule *rf = unknown_from ? NULL :
				   wt_config_match(&wt.cfg, from);
	const struct wt_rule *rt = wt_config_match(&wt.cfg, to);
	struct stat st;
	bool dir = syscall(SYS_newfstatat, AT_FDCWD, to, &st,
			   AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	if (dir || (tracks(rt) && !rf))
		wt_fd_reclassify_untracked();
	if (!tracks(rt) || rf)
		return;
	struct path_change pc;
	if (path_change_begin(AT_FDCWD, to, true, &pc))
		path_change_end(&pc);
}

static void named_done(struct named *n, int r, bool exchange)
{
	if (r < 0 || !on())
		return;
	int e = errno;
	if (!n->ok) {
		/* Not known where it went: nothing is certain any more. */
		wt_dirty_degrade("a file was renamed or linked by a path that could not be resolved");
	} else if (lockless()) {
		if (tracks(wt_config_match(&wt.cfg, n->to)) ||
		    (exchange && tracks(wt_config_match(&wt.cfg, n->from))))
			wt_dirty_degrade("a file was renamed where it could not be recorded");
	} else {
		named_one(n->from, n->to, false);
		if (exchange)
			named_one(n->to, n->from, false);
	}
	errno = e;
}

/* CALL renames or links FROM to TO (exchange: both ways). */
#define NAMING(fromdir, from, todir, to, exchange, call)         \
	({                                                       \
		struct named n_;                                 \
		naming(&n_, fromdir, from, todir, to);           \
		int r_ = (call);                                 \
		named_done(&n_, r_, exchange);                   \
		r_;                                              \
	})

EXPORT int rename(const char *from, const char *to)
{
	return NAMING(AT_FDCWD, from, AT_FDCWD, to, false, REAL(rename)(from, to));
}

EXPORT int renameat(int fromdir, const char *from, int todir, const char *to)
{
	return NAMING(fromdir, from, todir, to, false, REAL(renameat)(fromdir, from, todir, to));
}

EXPORT int renameat2(int fromdir, const char *from, int todir, const char *to,
		     unsigned flags)
{
	return NAMING(fromdir, from, todir, to, flags & RENAME_EXCHANGE,
		      REAL(renameat2)(fromdir, from, todir, to, flags));
}

EXPORT int link(const char *from, const char *to)
{
	return NAMING(AT_FDCWD, from, AT_FDCWD, to, false, REAL(link)(from, to));
}

EXPORT int linkat(int fromdir, const char *from, int todir, const char *to,
		  int flags)
{
	struct named n;
	/* AT_EMPTY_PATH links an fd: where it came from is not known. */
	bool byfd = !*from;
	naming(&n, fromdir, byfd ? "/" : from, todir, to);
	int r = REAL(linkat)(fromdir, from, todir, to, flags);
	if (r == 0 && on() && n.ok && !lockless() && byfd) {
		int e = errno;
		named_one(n.from, n.to, true);
		errno = e;
		return r;
	}
	named_done(&n, r, false);
	return r;
}

/* fds received over a UNIX socket: numbers the library never saw opened. */
static void received(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[n ? n : 1];
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++)
			forget(fds[i]);
	}
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	ssize_t r = REAL(recvmsg)(fd, m, flags);
	if (r >= 0 && on() && m && m->msg_controllen) {
		int e = errno;
		received(m);
		errno = e;
	}
	return r;
}

EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags,
		    struct timespec *timeout)
{
	int r = REAL(recvmmsg)(fd, v, n, flags, timeout);
	if (r > 0 && on()) {
		int e = errno;
		for (int i = 0; i < r; i++)
			if (v[i].msg_hdr.msg_controllen)
				received(&v[i].msg_hdr);
		errno = e;
	}
	return r;
}

/* glibc closes the stream's fd by an internal call we never see. */
EXPORT int fclose(FILE *f)
{
	int fd = f && on() ? fileno(f) : -1;
	if (fd < 0 || !wt_slot(fd))
		return REAL(fclose)(f);
	closing(fd);
	return closed(fd, REAL(fclose)(f));
}

/* ---- uid changes: the table belongs to the euid the process began with --- */

/*
 * Before the euid changes (design 1b.14): the process leaves its table's
 * group. From then on its writes are durable and none of its syncs is
 * skipped, and what it wrote to the page cache before is synced now, as the
 * new uid's programs could not see it recorded. A vfork child needs
 * nothing: none of its writes is deferred and none of its syncs skipped.
 */
static void euid_to(uid_t e)
{
	if (e == (uid_t)-1 || !on() || lockless() || e == geteuid())
		return;
	int saved = errno;
	wt_uid_leave();
	errno = saved;
}

EXPORT int setuid(uid_t u)
{
	euid_to(u);
	return REAL(setuid)(u);
}

EXPORT int seteuid(uid_t e)
{
	euid_to(e);
	return REAL(seteuid)(e);
}

EXPORT int setreuid(uid_t r, uid_t e)
{
	euid_to(e);
	return REAL(setreuid)(r, e);
}

EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	euid_to(e);
	return REAL(setresuid)(r, e, s);
}
