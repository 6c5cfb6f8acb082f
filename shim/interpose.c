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
	R(__vdprintf_chk);
#undef R
}

static void report(void *ctx, const char *msg)
{
	(void)ctx;
	wt_log(WT_LOG_ERROR, "%s", msg);
}

static void after_fork_child(void)
{
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
	if (!lockless())
		wt_fdtable_before_fork();
}

static void after_fork_parent(void)
{
	if (!lockless())
		wt_fdtable_parent_fork();
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

EXPORT int open(const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	on();
	return opened(REAL(open)(path, flags, mode), AT_FDCWD, path, flags);
}

EXPORT int open64(const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	on();
	return opened(REAL(open64)(path, flags, mode), AT_FDCWD, path, flags);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	on();
	return opened(REAL(openat)(dirfd, path, flags, mode), dirfd, path, flags);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	on();
	return opened(REAL(openat64)(dirfd, path, flags, mode), dirfd, path,
		      flags);
}

EXPORT int creat(const char *path, mode_t mode)
{
	on();
	return opened(REAL(creat)(path, mode), AT_FDCWD, path,
		      O_CREAT | O_WRONLY | O_TRUNC);
}

EXPORT int creat64(const char *path, mode_t mode)
{
	on();
	return opened(REAL(creat64)(path, mode), AT_FDCWD, path,
		      O_CREAT | O_WRONLY | O_TRUNC);
}

EXPORT int __open_2(const char *path, int flags)
{
	on();
	return opened(REAL(__open_2)(path, flags), AT_FDCWD, path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	on();
	return opened(REAL(__open64_2)(path, flags), AT_FDCWD, path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	on();
	return opened(REAL(__openat_2)(dirfd, path, flags), dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	on();
	return opened(REAL(__openat64_2)(dirfd, path, flags), dirfd, path,
		      flags);
}

EXPORT int close(int fd)
{
	if (!on() || !wt_slot(fd))
		return REAL(close)(fd);
	/*
	 * Forget first, untracked numbers too: the number may be reused the
	 * moment it is closed, and a write racing the close must see it move.
	 */
	int e = errno;
	wt_fd_change(fd);
	forget(fd);
	errno = e;
	int r = REAL(close)(fd);
	wt_fd_change(fd);
	return r;
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
 * After CALL changed the file behind fd: mark it (unsafe: never skip its
 * syncs again); if the number changed meanwhile, every tracked file it
 * named too (as for writes, design 1b.2), or, unsafe, the whole table.
 */
#define NOTED(fd, unsafe, call)                                         \
	({                                                              \
		struct wt_slot *s_ = on() ? wt_slot(fd) : NULL;         \
		unsigned q_ = s_ ? atomic_load_explicit(&s_->seq,       \
				memory_order_acquire) : 0;              \
		__typeof__(call) r_ = (call);                           \
		if (s_)                                                 \
			noted(fd, s_, q_, unsafe);                      \
		r_;                                                     \
	})
#define NOTE_AFTER(fd, call) NOTED(fd, false, call)

static void noted(int fd, struct wt_slot *s, unsigned seq0, bool unsafe)
{
	int e = errno;
	/* Before the note, whose classifying an unknown fd moves seq too. */
	bool moved = wt_slot_moved(s, seq0);
	if (atomic_load(&s->state) != WT_FD_UNTRACKED)
		unsafe ? wt_note_unsafe(fd) : wt_note_write(fd);
	/* Which file was mapped is not known: nothing is certain any more. */
	if (moved && unsafe)
		wt_dirty_degrade("a file was mapped through an fd number that changed meanwhile");
	else if (moved)
		raced(fd, seq0);
	errno = e;
}

EXPORT int ftruncate(int fd, off_t len)
{
	return NOTE_AFTER(fd, REAL(ftruncate)(fd, len));
}

EXPORT int ftruncate64(int fd, off_t len)
{
	return NOTE_AFTER(fd, REAL(ftruncate64)(fd, len));
}

EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
	return NOTE_AFTER(fd, REAL(fallocate)(fd, mode, off, len));
}

EXPORT int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return NOTE_AFTER(fd, REAL(fallocate64)(fd, mode, off, len));
}

EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
	return NOTE_AFTER(fd, REAL(posix_fallocate)(fd, off, len));
}

EXPORT int posix_fallocate64(int fd, off_t off, off_t len)
{
	return NOTE_AFTER(fd, REAL(posix_fallocate64)(fd, off, len));
}

EXPORT ssize_t copy_file_range(int in, off_t *inoff, int out, off_t *outoff,
			       size_t len, unsigned flags)
{
	return NOTE_AFTER(out, REAL(copy_file_range)(in, inoff, out, outoff,
						     len, flags));
}

EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	return NOTE_AFTER(out, REAL(sendfile)(out, in, off, n));
}

EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	return NOTE_AFTER(out, REAL(sendfile64)(out, in, off, n));
}

EXPORT ssize_t splice(int in, off_t *inoff, int out, off_t *outoff, size_t n,
		      unsigned flags)
{
	return NOTE_AFTER(out, REAL(splice)(in, inoff, out, outoff, n, flags));
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (req == FICLONE || req == FICLONERANGE || req == FIDEDUPERANGE)
		return NOTE_AFTER(fd, REAL(ioctl)(fd, req, arg));
	return REAL(ioctl)(fd, req, arg);
}

static int path_note(const char *path, bool unsafe)
{
	char abs[WT_PATH_MAX];
	if (!on() || lockless() || wt_path_absolute(AT_FDCWD, path, abs,
						      sizeof(abs)) < 0)
		return 0;
	int saved = errno;
	if (wt_config_match(&wt.cfg, abs)) {
		/* Through an fd of our own, so the key is the same as ever. */
		int fd = REAL(open)(abs, O_RDONLY | O_NONBLOCK | O_NOCTTY |
					 O_CLOEXEC);
		if (fd >= 0) {
			wt_fd_opened(fd, abs, O_RDONLY);
			unsafe ? wt_note_unsafe(fd) : wt_note_write(fd);
			wt_fd_forget(fd);
			REAL(close)(fd);
		} else {
			wt_dirty_degrade("changed by path where it could not be recorded");
		}
	}
	errno = saved;
	return 0;
}

EXPORT int truncate(const char *path, off_t len)
{
	int r = REAL(truncate)(path, len);
	/* A failed truncate changed nothing (PostgreSQL truncates segments
	 * that may not exist). */
	if (r == 0)
		path_note(path, false);
	return r;
}

EXPORT int truncate64(const char *path, off_t len)
{
	int r = REAL(truncate64)(path, len);
	/* A failed truncate changed nothing (PostgreSQL truncates segments
	 * that may not exist). */
	if (r == 0)
		path_note(path, false);
	return r;
}

/* A shared writable mapping writes behind our back: never skip. */
static bool shared_writable(int fd, int prot, int flags)
{
	return fd >= 0 && (prot & PROT_WRITE) && (flags & MAP_SHARED);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	if (!shared_writable(fd, prot, flags))
		return REAL(mmap)(addr, len, prot, flags, fd, off);
	return NOTED(fd, true, REAL(mmap)(addr, len, prot, flags, fd, off));
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	if (!shared_writable(fd, prot, flags))
		return REAL(mmap64)(addr, len, prot, flags, fd, off);
	return NOTED(fd, true, REAL(mmap64)(addr, len, prot, flags, fd, off));
}

/* dprintf writes through glibc's internal write, which we never see. */
EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	return NOTE_AFTER(fd, REAL(vdprintf)(fd, fmt, ap));
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
	return NOTE_AFTER(fd, REAL(__vdprintf_chk)(fd, flag, fmt, ap));
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

EXPORT FILE *fopen(const char *path, const char *mode)
{
	on();
	return stream(REAL(fopen)(path, mode), path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	on();
	return stream(REAL(fopen64)(path, mode), path, mode);
}

EXPORT FILE *fdopen(int fd, const char *mode)
{
	on();
	return stream(REAL(fdopen)(fd, mode), NULL, mode);
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *f)
{
	on();
	return stream(REAL(freopen)(path, mode, f), path, mode);
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *f)
{
	on();
	return stream(REAL(freopen64)(path, mode, f), path, mode);
}
