/* SPDX-License-Identifier: MIT */
/*
 * write.c - the write path of a tracked file (design.md 1.1, 1b).
 *
 * The first writethrough_writes writes a process makes to a file after
 * opening it or after its own last sync go writethrough: positioned writes
 * with aligned offset and length are copied into an aligned bounce buffer
 * (the program's buffer may change under an O_DIRECT write) and written
 * through a private O_DIRECT fd with RWF_DSYNC; every other write goes
 * pwritev2(RWF_DSYNC) on the program's own fd, so the kernel keeps file
 * positions and O_APPEND. Later writes before the next sync are a burst:
 * page cache as usual, recorded in the shared dirty table so that the next
 * sync, in any process, is real.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stats.h"
#include "wt.h"

#define BOUNCE_MAX (8u << 20)
#define BOUNCE_ALIGN 4096

/*
 * Per-thread bounce buffers come from mmap, not malloc: a signal handler's
 * write may interrupt its thread inside the allocator. The mapping's size
 * sits in its first page; the buffer starts at the second.
 */
static pthread_key_t bounce_key;
static __thread char *bounce __attribute__((tls_model("initial-exec")));
static __thread size_t bounce_len __attribute__((tls_model("initial-exec")));

static void bounce_unmap(void *p)
{
	char *m = (char *)p - BOUNCE_ALIGN;
	munmap(m, *(size_t *)m);
}

void wt_write_init(void)
{
	pthread_key_create(&bounce_key, bounce_unmap);
}

static void *bounce_get(size_t len)
{
	if (bounce_len < len) {
		size_t want = len < 65536 ? 65536 : len;
		size_t size = want + BOUNCE_ALIGN;
		char *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		*(size_t *)m = size;
		if (bounce)
			bounce_unmap(bounce);
		bounce = m + BOUNCE_ALIGN;
		bounce_len = want;
		pthread_setspecific(bounce_key, bounce);
	}
	return bounce;
}

/* Page-cache writes of tracked files in flight (wt_uid_leave). */
static atomic_int bursts;

void wt_uid_leave(void)
{
	wt_dirty_leave();
	/* A burst that began before deferring ended is waited for... */
	for (unsigned i = 0; atomic_load(&bursts) > 0; i++) {
		if (i > 200000) {
			wt_dirty_degrade("a page-cache write did not end while the uid changed");
			break;
		}
		sched_yield();
	}
	/* ...and everything written to the page cache is made durable. */
	int hi = wt_fd_high();
	wt_depth++;
	for (int fd = 0; fd < hi; fd++) {
		struct wt_slot *s = wt_slot(fd);
		if (!s || atomic_load(&s->state) != WT_FD_TRACKED)
			continue;
		struct wt_file *f = wt_fd_get(fd, NULL);
		if (f && atomic_exchange(&f->writes_since_sync, 0) > 0 &&
		    wt_real.fdatasync(fd) < 0 && errno != EBADF) {
			wt_log(WT_LOG_ERROR, "%s: fdatasync before the uid change failed: %s",
			       f->path, strerror(errno));
			wt_dirty_poison(&f->key, &f->dref);
		}
		wt_file_put(f);
	}
	wt_depth--;
}

/* Errors that mean no byte reached the file: the inode is not at risk. */
static bool caller_error(int err)
{
	return err == EAGAIN || err == EINTR || err == EBADF ||
	       err == EFAULT || err == EINVAL || err == EOPNOTSUPP;
}

static ssize_t plain(int fd, const struct iovec *iov, int iovcnt, off_t off,
		     int rwf, bool positioned)
{
	ssize_t r;

	if (!positioned && rwf == 0)
		r = wt_real.writev(fd, iov, iovcnt);
	else if (rwf == 0)
		r = wt_real.pwritev(fd, iov, iovcnt, off);
	else
		r = wt_real.pwritev2(fd, iov, iovcnt, positioned ? off : -1, rwf);
	return r < 0 ? -errno : r;
}

/*
 * Inside a signal handler that interrupted the shim, or in a child made
 * without atfork handlers (vfork, _Fork): touch no lock, just make the
 * write durable before it returns.
 */
static ssize_t degraded(int fd, const struct iovec *iov, int iovcnt,
			off_t off, int rwf, bool positioned)
{
	struct wt_slot *s = wt_slot(fd);
	struct stat st;

	/* Unknown (never classified) may be tracked: as in unknown() below. */
	if (!s || atomic_load(&s->state) == WT_FD_UNTRACKED ||
	    wt_fd_ident(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return plain(fd, iov, iovcnt, off, rwf, positioned);
	return plain(fd, iov, iovcnt, off, rwf | RWF_DSYNC, positioned);
}

/*
 * A number not classified (unknown) while a close or dup2 onto it is in
 * flight: what it names may be a tracked file whose leaving nothing
 * recorded, so a regular file is written RWF_DSYNC (design 1b.2).
 */
static ssize_t unknown(int fd, struct wt_slot *s, const struct iovec *iov,
		       int iovcnt, off_t off, int rwf, bool positioned,
		       bool *cached)
{
	struct stat st;
	if (!s || atomic_load(&s->state) != WT_FD_UNKNOWN ||
	    (rwf & (RWF_DSYNC | RWF_SYNC)) || wt_fd_ident(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return plain(fd, iov, iovcnt, off, rwf, positioned);
	ssize_t r = plain(fd, iov, iovcnt, off, rwf | RWF_DSYNC, positioned);
	/* Now a pipe or socket that refuses the flag: as libc would. */
	if (r == -EOPNOTSUPP || r == -EINVAL)
		return plain(fd, iov, iovcnt, off, rwf, positioned);
	*cached = false;  /* durable wherever it landed */
	return r;
}

static size_t iov_total(const struct iovec *iov, int iovcnt, bool *overflow)
{
	size_t t = 0;
	*overflow = false;
	for (int i = 0; i < iovcnt; i++) {
		if (__builtin_add_overflow(t, iov[i].iov_len, &t))
			*overflow = true;
	}
	return t;
}

/*
 * Splits [off, off+len) into naturally aligned power-of-two pieces no
 * larger than max (off and len are multiples of the atomic unit, itself
 * within the file system's range, so no piece is smaller than it).
 */
static int split(char *b, size_t len, off_t off, unsigned max, int rwf,
		 struct wt_piece *p, int np)
{
	int n = 0;
	for (size_t at = 0; at < len && n < np; n++) {
		size_t left = len - at;
		size_t sz = (size_t)1 << (63 - __builtin_clzll(left));
		while (sz > max || (uint64_t)(off + (off_t)at) % sz)
			sz >>= 1;
		p[n] = (struct wt_piece){ b + at, sz, off + (off_t)at, rwf };
		at += sz;
	}
	return n;
}

/*
 * Copies the program's buffer and writes it through the private O_DIRECT
 * fd: atomically in pieces when the file uses RWF_ATOMIC and the range is
 * whole units (atomic: all must be), plain otherwise. sync is RWF_DSYNC or
 * RWF_SYNC for writethrough, 0 for mode = atomic. Returns bytes, -errno, or
 * -EOPNOTSUPP when the buffered path must take it.
 */
static ssize_t direct(struct wt_file *f, int fd, const struct iovec *iov,
		      int iovcnt, size_t total, off_t off, int sync,
		      bool atomic)
{
	int dfd = wt_file_direct_fd(f, fd);
	if (dfd < 0)
		return atomic ? -EIO : -EOPNOTSUPP;
	char *b = bounce_get(total);
	if (!b)
		return atomic ? -ENOMEM : -EOPNOTSUPP;
	/*
	 * Copied by the kernel, so a bad pointer gives the write's own EFAULT
	 * (through the plain path) rather than a crash here.
	 */
	struct iovec to = { .iov_base = b, .iov_len = total };
	ssize_t got = process_vm_readv(wt.pid, &to, 1, iov,
				       (unsigned long)iovcnt, 0);
	if (got < 0 && (errno == ENOSYS || errno == EPERM)) {
		size_t at = 0;
		for (int i = 0; i < iovcnt; i++) {
			memcpy(b + at, iov[i].iov_base, iov[i].iov_len);
			at += iov[i].iov_len;
		}
		got = (ssize_t)total;
	}
	if (got != (ssize_t)total)
		return atomic ? -EFAULT : -EOPNOTSUPP;

	unsigned u = f->atomic_unit;
	ssize_t r;
	if (u && off % u == 0 && total % u == 0) {
		struct wt_piece p[64];
		int n = split(b, total, off, f->aw_max, RWF_ATOMIC, p, 64);
		size_t covered = 0;
		for (int i = 0; i < n; i++)
			covered += p[i].len;
		if (covered != total)
			return atomic ? -EINVAL : -EOPNOTSUPP;
		wt_stats_add(f->rule, WT_C_ATOMIC, 1);
		wt_stats_add(f->rule, WT_C_ATOMIC_PIECES, (uint64_t)n);
		int err = 0;
		if (n == 1)
			r = wt_engine_write(dfd, b, total, off, RWF_ATOMIC | sync);
		else
			r = wt_engine_chain(dfd, p, n, sync != 0, &err);
		/* A prefix hides the error of the piece after it. */
		if (err && !caller_error(-err))
			wt_dirty_poison(&f->key, &f->dref);
	} else if (atomic) {
		return -EINVAL;
	} else {
		if (u)
			wt_stats_add(f->rule, WT_C_NOT_ATOMIC, 1);
		if (u && !atomic_exchange(&f->warned, true))
			wt_log(WT_LOG_WARN, "%s: a write of %zu bytes at %lld is not whole atomic units of %u: written without RWF_ATOMIC (logged once per file)",
			       f->path, total, (long long)off, u);
		r = wt_engine_write(dfd, b, total, off, sync);
	}
	if ((r == -EINVAL || r == -EOPNOTSUPP) && u && !atomic &&
	    f->rule->atomic == WT_ATOMIC_REQUIRE) {
		wt_log(WT_LOG_ERROR, "%s: atomic write of %zu bytes at %lld refused by the kernel (%s); not writing it without RWF_ATOMIC",
		       f->path, total, (long long)off, strerror((int)-r));
		return r == -EOPNOTSUPP ? -EIO : r;
	}
	if (r == -EINVAL && !atomic) {
		/* The file system's rules differ from what statx said. */
		wt_stats_add(f->rule, WT_C_FALLBACK, 1);
		wt_file_no_direct(f, EINVAL);
		return -EOPNOTSUPP;
	}
	if (r >= 0)
		wt_stats_add(f->rule, WT_C_DIRECT, 1);
	return r;
}

/*
 * mode = atomic fails closed (design 1b.9): a write that cannot be made
 * atomic is refused, never written buffered.
 */
static ssize_t atomic_only(struct wt_file *f, int fd, const struct iovec *iov,
			   int iovcnt, off_t off, int rwf, bool positioned,
			   int fl)
{
	bool overflow;
	size_t total = iov_total(iov, iovcnt, &overflow);
	unsigned u = f->atomic_unit;
	const char *why = NULL;

	if (!positioned)
		why = "not positioned (write/writev)";
	else if (fl & O_APPEND || rwf & RWF_APPEND)
		why = "O_APPEND";
	else if (overflow || iovcnt <= 0 || iovcnt > IOV_MAX ||
		 total > BOUNCE_MAX)
		why = "too large";
	else if (u == 0 || off % u || total % u)
		why = "not whole aligned atomic units";
	if (total == 0 && !why)
		return 0;
	if (why) {
		wt_log(WT_LOG_ERROR, "%s: refused a write of %zu bytes at %lld that cannot be atomic: %s",
		       f->path, total, (long long)off, why);
		return -EINVAL;
	}
	ssize_t r = direct(f, fd, iov, iovcnt, total, off,
			   (fl & O_SYNC) == O_SYNC ? RWF_SYNC :
			   (fl & O_DSYNC) || (rwf & RWF_DSYNC) ? RWF_DSYNC : 0,
			   true);
	if (r < 0)
		wt_log(WT_LOG_ERROR, "%s: atomic write of %zu bytes at %lld failed: %s",
		       f->path, total, (long long)off, strerror((int)-r));
	return r;
}

ssize_t wt_write(int fd, const struct iovec *iov, int iovcnt, off_t off,
		 int rwf, bool positioned)
{
	if (wt_depth > 0 || getpid() != wt.pid)
		return degraded(fd, iov, iovcnt, off, rwf, positioned);

	wt_depth++;
	ssize_t r;
	int of = 0;
	/*
	 * A page-cache write through the program's fd while another thread
	 * closes or dup2s the number may land in whatever file comes there:
	 * seq shows it (design 1b.2), and that file's next sync is made real.
	 */
	struct wt_slot *sl = wt_slot(fd);
	unsigned seq0 = sl ? atomic_load(&sl->seq) : 0;
	bool cached = true;
	struct wt_file *f = wt_fd_get(fd, &of);
	struct stat st;

	if (!f) {
		r = unknown(fd, sl, iov, iovcnt, off, rwf, positioned, &cached);
		goto out;
	}
	if (wt_fd_ident(fd, &st) < 0) {
		r = plain(fd, iov, iovcnt, off, rwf, positioned);
		goto out;
	}
	if (st.st_dev != f->key.dev || st.st_ino != f->key.ino) {
		/* A stale number, reused behind our back (design 1b.2). */
		wt_fd_forget_stale(fd, f);
		r = plain(fd, iov, iovcnt, off, rwf, positioned);
		goto out;
	}
	/*
	 * The access mode and O_SYNC/O_DSYNC are fixed at open (F_SETFL
	 * ignores them), so the slot's flags decide the burst path without a
	 * system call; a slot saying read-only is checked, as a write to it
	 * would otherwise go unrecorded.
	 */
	int fl = -1;
	if ((of & O_ACCMODE) == O_RDONLY) {
		fl = wt_real.fcntl(fd, F_GETFL);
		if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
			r = plain(fd, iov, iovcnt, off, rwf, positioned);
			goto out;
		}
		of = fl;
	}
	if (f->atomic_err < 0) {
		r = -EOPNOTSUPP;
		goto out;
	}
	if (f->rule->mode == WT_MODE_PASSTHROUGH) {
		/* Page cache as without the library, recorded (design 1b.14). */
		int32_t tok = wt_dirty_write_begin(&f->key, &f->dref);
		r = plain(fd, iov, iovcnt, off, rwf, positioned);
		wt_dirty_write_end(tok, r < 0 && !caller_error((int)-r));
		goto out;
	}
	if (f->rule->mode == WT_MODE_ATOMIC) {
		fl = fl < 0 ? wt_real.fcntl(fd, F_GETFL) : fl;
		r = fl < 0 ? -errno : atomic_only(f, fd, iov, iovcnt, off, rwf,
						  positioned, fl);
		goto done;
	}
	bool osync = (of & O_SYNC) == O_SYNC;
	bool odsync = (of & O_DSYNC) || (rwf & (RWF_DSYNC | RWF_SYNC));
	unsigned n = atomic_fetch_add(&f->writes_since_sync, 1) + 1;

	if (!odsync && n > f->rule->writethrough_writes) {
		/*
		 * A burst: page cache, recorded before we return (1.1). Counted
		 * in flight first, so that wt_uid_leave() either sees it or it
		 * sees that deferring ended.
		 */
		atomic_fetch_add(&bursts, 1);
		if (wt_dirty_can_defer()) {
			int32_t tok = wt_dirty_write_begin(&f->key, &f->dref);
			r = plain(fd, iov, iovcnt, off, rwf, positioned);
			wt_dirty_write_end(tok, r < 0 && !caller_error((int)-r));
			atomic_fetch_sub(&bursts, 1);
			wt_stats_add(f->rule, WT_C_BURST, 1);
			goto done;
		}
		atomic_fetch_sub(&bursts, 1);
	}
	cached = false; /* from here on every write is DSYNC or direct */
	uint64_t t0 = wt_stats_clock();
	/* O_APPEND and O_DIRECT can change (F_SETFL, also in another process
	 * sharing the open file): read them now. */
	fl = fl < 0 ? wt_real.fcntl(fd, F_GETFL) : fl;
	if (fl < 0) {
		cached = true;
		r = plain(fd, iov, iovcnt, off, rwf, positioned);
		goto out;
	}

	int sync = osync || (rwf & RWF_SYNC) ? RWF_SYNC : RWF_DSYNC;
	bool overflow;
	size_t total = iov_total(iov, iovcnt, &overflow);
	unsigned a = f->dio_align;
	r = -EOPNOTSUPP;
	if (positioned && off >= 0 && !overflow && total > 0 &&
	    (uint64_t)off + total <= (uint64_t)INT64_MAX &&
	    iovcnt > 0 && iovcnt <= IOV_MAX &&
	    total <= BOUNCE_MAX && a && off % a == 0 && total % a == 0 &&
	    !(fl & (O_APPEND | O_DIRECT)) &&
	    !(rwf & ~(RWF_HIPRI | RWF_DSYNC | RWF_SYNC)))
		r = direct(f, fd, iov, iovcnt, total, off,
			   sync | (rwf & RWF_HIPRI), false);
	if (r == -EOPNOTSUPP) {
		r = plain(fd, iov, iovcnt, off, rwf | sync, positioned);
		if (r >= 0)
			wt_stats_add(f->rule, WT_C_DSYNC, 1);
	}
	wt_stats_latency(f->rule, t0);
done:
	wt_stats_add(f->rule, WT_C_WRITES, 1);
	if (r < 0) {
		wt_stats_error(f->rule, (int)-r);
		if (!caller_error((int)-r))
			wt_dirty_poison(&f->key, &f->dref);
	} else {
		wt_stats_add(f->rule, WT_C_BYTES, (uint64_t)r);
		/* Size may not be durable with a DSYNC direct write (1b.6). */
		if (positioned && off + r > st.st_size)
			wt_dirty_mark(&f->key, &f->dref);
	}
out:
	wt_file_put(f);
	if (cached && sl && wt_slot_moved(sl, seq0))
		wt_fd_raced(fd, seq0, false);
	wt_depth--;
	return r;
}
