/* SPDX-License-Identifier: MIT */
/*
 * nosync.so - test only: a preload that throws durability away.
 *
 * fsync, fdatasync, sync_file_range, syncfs and sync do nothing and succeed
 * (EBADF still reported), O_SYNC/O_DSYNC are stripped at open, RWF_SYNC and
 * RWF_DSYNC from pwritev2. A program run under it loses acknowledged data at
 * a power cut: the crash suite's negative control must catch exactly that,
 * or the suite proves nothing. (fcntl F_SETFL, io_uring and msync are left
 * alone: the workloads here do not use them to sync.)
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define SYNC_FLAGS (O_SYNC | O_DSYNC)

#ifndef RWF_DSYNC
#define RWF_DSYNC 0x2
#endif
#ifndef RWF_SYNC
#define RWF_SYNC 0x4
#endif

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static int fd_ok(int fd)
{
	return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

EXPORT int fsync(int fd) { return fd_ok(fd); }
EXPORT int fdatasync(int fd) { return fd_ok(fd); }
EXPORT int syncfs(int fd) { return fd_ok(fd); }
EXPORT void sync(void) { }

EXPORT int sync_file_range(int fd, off_t off, off_t len, unsigned int flags)
{
	(void)off;
	(void)len;
	(void)flags;
	return fd_ok(fd);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
		(mode_t)va_arg(ap, int) : 0;
}

#define OPEN(name)							\
EXPORT int name(const char *path, int flags, ...)			\
{									\
	int (*real)(const char *, int, ...) = next(#name);		\
	va_list ap;							\
	mode_t mode;							\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	return real(path, flags & ~SYNC_FLAGS, mode);			\
}
#define OPENAT(name)							\
EXPORT int name(int dfd, const char *path, int flags, ...)		\
{									\
	int (*real)(int, const char *, int, ...) = next(#name);	\
	va_list ap;							\
	mode_t mode;							\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	return real(dfd, path, flags & ~SYNC_FLAGS, mode);		\
}

OPEN(open)
OPEN(open64)
OPENAT(openat)
OPENAT(openat64)

/* The _FORTIFY_SOURCE entry points take no mode. */
EXPORT int __open_2(const char *path, int flags)
{
	int (*real)(const char *, int) = next("__open_2");
	return real(path, flags & ~SYNC_FLAGS);
}

EXPORT int __open64_2(const char *path, int flags)
{
	int (*real)(const char *, int) = next("__open64_2");
	return real(path, flags & ~SYNC_FLAGS);
}

EXPORT int __openat_2(int dfd, const char *path, int flags)
{
	int (*real)(int, const char *, int) = next("__openat_2");
	return real(dfd, path, flags & ~SYNC_FLAGS);
}

EXPORT int __openat64_2(int dfd, const char *path, int flags)
{
	int (*real)(int, const char *, int) = next("__openat64_2");
	return real(dfd, path, flags & ~SYNC_FLAGS);
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
			int flags)
{
	ssize_t (*real)(int, const struct iovec *, int, off_t, int) = next("pwritev2");
	return real(fd, iov, cnt, off, flags & ~(RWF_DSYNC | RWF_SYNC));
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off,
			   int flags)
{
	ssize_t (*real)(int, const struct iovec *, int, off_t, int) = next("pwritev64v2");
	return real(fd, iov, cnt, off, flags & ~(RWF_DSYNC | RWF_SYNC));
}
