/* SPDX-License-Identifier: MIT */
/*
 * path.c - absolute, lexically normalised paths for matching rules.
 *
 * Programs open files relative to their working directory (PostgreSQL
 * chdirs to its data directory) or to a directory fd, so the path is
 * made absolute first. Lexical only: no symlink is resolved here, which
 * is why the fd table also tries the kernel's canonical name of an fd.
 * Raw system calls only: this runs inside interposed open calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wt.h"

/*
 * Works on relative paths too (leading ".." are kept, "" stays "", a path
 * that cancels out becomes "."); the result is never longer than the input.
 */
void wt_path_normalise(char *path)
{
	bool abs = path[0] == '/';
	char *r = path, *w = path;
	char *base = path + abs;      /* where components start in the output */

	if (!*path)
		return;
	if (abs)
		w++;
	while (*r) {
		while (*r == '/')
			r++;
		if (!*r)
			break;
		char *c = r;
		while (*r && *r != '/')
			r++;
		size_t n = r - c;

		if (n == 1 && c[0] == '.')
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			/* The last output component, unless it is ".." itself. */
			char *last = w;
			while (last > base && last[-1] != '/')
				last--;
			if (w > base && !(w - last == 2 && last[0] == '.' && last[1] == '.')) {
				w = last > base ? last - 1 : base;
				continue;
			}
			if (abs)
				continue;     /* "/.." is "/" */
		}
		if (w > base)
			*w++ = '/';
		memmove(w, c, n);
		w += n;
	}
	if (w == base && !abs)
		*w++ = '.';
	*w = 0;
}

/* The directory behind DIRFD, absolute, into out. Returns length or -errno. */
static long dir_of(int dirfd, char *out, size_t outsz)
{
	long n;

	if (dirfd == AT_FDCWD) {
		/* The raw syscall returns the length with its NUL. */
		n = syscall(SYS_getcwd, out, outsz);
		if (n < 0)
			return errno == ERANGE ? -ENAMETOOLONG : -errno;
		if (n == 0 || out[0] != '/')
			return -ENOENT;  /* "(unreachable)…": outside our root */
		return n - 1;
	}
	if (dirfd < 0)
		return -EBADF;

	struct wt_statx stx;
	int r = wt_statx(dirfd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_NLINK, &stx);
	if (r < 0 && r != -ENOSYS && r != -EPERM)
		return r;
	/* Without statx (old seccomp profiles), the link alone. */
	if (r == 0 && (stx.stx_mode & S_IFMT) != S_IFDIR)
		return -ENOTDIR;
	if (r == 0 && stx.stx_nlink == 0)
		return -ENOENT;          /* removed: openat under it fails too */

	char link[32];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = syscall(SYS_readlinkat, AT_FDCWD, link, out, outsz);
	if (n < 0)
		return -errno;
	if ((size_t)n >= outsz)
		return -ENAMETOOLONG;
	out[n] = 0;
	if (out[0] != '/')
		return -ENOENT;          /* not reachable from our root */
	return n;
}

int wt_path_absolute(int dirfd, const char *path, char *out, size_t outsz)
{
	size_t plen;
	long n;

	if (!path)
		return -EFAULT;
	if (!out || outsz == 0)
		return -ENAMETOOLONG;
	if (!*path)
		return -ENOENT;          /* what open("") says */
	plen = strlen(path);
	if (path[0] == '/') {
		if (plen >= outsz)
			return -ENAMETOOLONG;
		memcpy(out, path, plen + 1);
		wt_path_normalise(out);
		return 0;
	}
	n = dir_of(dirfd, out, outsz);
	if (n < 0)
		return n;
	/* base + '/' + path + NUL */
	if ((size_t)n + 1 + plen >= outsz)
		return -ENAMETOOLONG;
	out[n] = '/';
	memcpy(out + n + 1, path, plen + 1);
	wt_path_normalise(out);
	return 0;
}
