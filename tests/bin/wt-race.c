/* SPDX-License-Identifier: MIT */
/*
 * wt-race - one thread writes and syncs through an fd number N while
 * another keeps changing what N refers to, then checks what libc allows.
 *
 *   wt-race [-i OPS] [-s EVERY] [-q QUIET] [-d DECOY] [-C] close|dup2 PATH...
 *
 * wt-race fills each PATH (and DECOY) with OPS + 1 pages of zeros and
 * syncs it. N starts on the first PATH. The flipper makes N refer to the
 * next PATH of the list (cyclically) by close(N) + open(PATH) (close; the
 * open must return N again) or by dup2(held fd of PATH, N) (dup2), once
 * every 0 to 3 of the writer's calls (0: twice within one call, as
 * N -> other -> N around a sync), after a random spin so that flips hit
 * every phase of a call, until the writer is done. The writer makes
 * OPS pwrites of one 4 KiB page, each with its own pattern at its own
 * offset (page k+1), and an fdatasync after every EVERY writes (default 2:
 * with writethrough_writes = 1 the second write of each pair is a
 * page-cache write).
 *
 * A generation counter, odd while a flip is under way, tells what N
 * referred to during each call. The checks:
 * - a write made while N did not change lands in the file N referred to;
 *   one that overlapped flips lands in one of the files N referred to
 *   meanwhile, or fails with EBADF (close mode: N was closed for a moment;
 *   dup2 replaces atomically, so there it must not fail at all); a page
 *   holds its own pattern or zeros, in no other file (nor DECOY), never
 *   torn or in two files;
 * - an fdatasync that returned 0 while N did not change leaves no dirty
 *   or writeback page in that file (cachestat): it was real, or there was
 *   nothing to sync. Every QUIET writes (default 16) the flipper pauses
 *   and an fdatasync of each file through another fd (held open all
 *   along) must leave no dirty page; after the flipper stops, the same
 *   through a fresh fd. -C leaves these checks out (valgrind does not
 *   know cachestat).
 * Prints counters and "ok"; on a violation, one line each, exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

#define PAGE 4096
#define MAXF 8

struct cachestat_range { uint64_t off, len; };
struct cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted,
		 nr_recently_evicted;
};

struct op {
	long g0, g1;       /* generation before and after the write */
	int r, e;          /* its result and errno */
};

static const char *paths[MAXF];    /* the cycle */
static int npaths;
static const char *files[MAXF];    /* distinct paths, DECOY last */
static int held[MAXF];             /* an fd of each, never closed */
static int nfiles;
static int cyc[MAXF];              /* cycle position -> file index */
static bool dup2_mode, no_cachestat;
static int N;

static atomic_long gen;            /* 2 * flips; odd during a flip */
static atomic_long calls;          /* the writer's calls so far */
static atomic_bool pause_req, paused, done;
static long violations;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(b) - 1)
		n = sizeof(b) - 1;
	if (syscall(SYS_write, 1, b, (size_t)n) < 0)
		return;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char b[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	out("wt-race: %s\n", b);
	_exit(1);
}

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...)
{
	char b[900];
	va_list ap;
	if (violations++ >= 8)
		return;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	out("VIOLATION: %s\n", b);
}

/* The file N referred to at an even generation. */
static int file_at(long g)
{
	return cyc[(g / 2) % npaths];
}

/* Dirty and writeback pages of a file, by a raw system call. */
static long dirty_pages(int fd)
{
	struct cachestat_range r = { 0, 0 };
	struct cachestat cs;
	if (syscall(__NR_cachestat, fd, &r, &cs, 0) < 0)
		die("cachestat: %s", strerror(errno));
	return (long)(cs.nr_dirty + cs.nr_writeback);
}

static void fill(unsigned char *p, long k)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1);
	for (size_t i = 0; i < PAGE; i += 8) {
		uint64_t w = h ^ (i * 0x100000001b3ULL) ^ ((uint64_t)k << 40);
		memcpy(p + i, &w, 8);
	}
}

static void *flipper(void *arg)
{
	(void)arg;
	unsigned seed = 1;
	for (long flips = 0; !atomic_load(&done);) {
		if (atomic_load(&pause_req)) {
			atomic_store(&paused, true);
			while (atomic_load(&pause_req) && !atomic_load(&done))
				sched_yield();
			atomic_store(&paused, false);
			continue;
		}
		long target = atomic_load(&calls) + rand_r(&seed) % 4;
		while (atomic_load(&calls) < target && !atomic_load(&done) &&
		       !atomic_load(&pause_req))
			sched_yield();
		if (atomic_load(&pause_req))
			continue;
		for (volatile int spin = rand_r(&seed) % 20000; spin > 0; spin--)
			;
		int next = cyc[(flips + 1) % npaths];
		atomic_fetch_add(&gen, 1);
		if (dup2_mode) {
			if (dup2(held[next], N) != N)
				die("dup2: %s", strerror(errno));
		} else {
			if (close(N) < 0)
				die("close %d: %s", N, strerror(errno));
			int fd = open(files[next], O_RDWR);
			if (fd != N) {
				char l[64], t[PATH_MAX] = "?";
				int e = errno;
				snprintf(l, sizeof(l), "/proc/self/fd/%d", N);
				ssize_t n = readlink(l, t, sizeof(t) - 1);
				t[n > 0 ? n : 1] = 0;
				die("open %s gave %d (%s), not the number %d just closed, which is now %s",
				    files[next], fd, strerror(e), N, t);
			}
		}
		atomic_fetch_add(&gen, 1);
		flips++;
	}
	return NULL;
}

static int index_of(const char *p)
{
	for (int i = 0; i < nfiles; i++)
		if (!strcmp(files[i], p))
			return i;
	return -1;
}

static int open_held(const char *p)
{
	int fd = open(p, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		die("open %s: %s", p, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	long ops = 4000, every = 2, quiet = 16;
	const char *decoy = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "i:s:q:d:C")) != -1) {
		if (opt == 'i')
			ops = atol(optarg);
		else if (opt == 's')
			every = atol(optarg);
		else if (opt == 'q')
			quiet = atol(optarg);
		else if (opt == 'd')
			decoy = optarg;
		else if (opt == 'C')
			no_cachestat = true;
		else
			return 2;
	}
	if (argc - optind < 3 || argc - optind - 1 > MAXF - 1 || ops < 1 ||
	    every < 1 || quiet < 1) {
		out("usage: wt-race [-i OPS] [-s EVERY] [-q QUIET] [-d DECOY] [-C] close|dup2 PATH...\n");
		return 2;
	}
	if (!strcmp(argv[optind], "dup2"))
		dup2_mode = true;
	else if (strcmp(argv[optind], "close"))
		die("mode must be close or dup2");
	for (int a = optind + 1; a < argc; a++) {
		int i = index_of(argv[a]);
		if (i < 0) {
			i = nfiles++;
			files[i] = argv[a];
		}
		cyc[npaths] = i;
		paths[npaths++] = argv[a];
	}
	if (decoy)
		files[nfiles++] = decoy;

	/*
	 * Held fds keep each file's state in the library alive, so that the
	 * flips open nothing else (N stays the lowest free number); one
	 * written page and a sync each make the library open what it needs.
	 */
	unsigned char *page = aligned_alloc(PAGE, PAGE);
	unsigned char *got = aligned_alloc(PAGE, PAGE);
	unsigned char *zero = calloc(1, PAGE);
	struct op *rec = calloc((size_t)ops, sizeof(*rec));
	if (!page || !got || !zero || !rec)
		die("out of memory");
	size_t size = (size_t)(ops + 1) * PAGE;
	unsigned char *zeros = aligned_alloc(PAGE, size);
	if (!zeros)
		die("out of memory");
	memset(zeros, 0, size);
	for (int i = 0; i < nfiles; i++) {
		held[i] = open_held(files[i]);
		if (ftruncate(held[i], 0) ||
		    pwrite(held[i], zeros, size, 0) != (ssize_t)size ||
		    fdatasync(held[i]) ||
		    pwrite(held[i], zeros, PAGE, 0) != PAGE || fdatasync(held[i]))
			die("filling %s: %s", files[i], strerror(errno));
	}
	free(zeros);
	N = open_held(paths[0]);

	pthread_t th;
	if (pthread_create(&th, NULL, flipper, NULL))
		die("pthread_create failed");

	long unstable_w = 0, ebadf = 0, syncs = 0, checked = 0, unstable_s = 0;
	long quiet_checks = 0;
	for (long k = 0; k < ops; k++) {
		struct op *o = &rec[k];
		if (k && k % quiet == 0 && !no_cachestat) {
			/* The flipper paused: a sync through another fd. */
			atomic_store(&pause_req, true);
			while (!atomic_load(&paused))
				sched_yield();
			for (int i = 0; i < nfiles; i++) {
				if (fdatasync(held[i]))
					bad("fdatasync of %s: %s", files[i],
					    strerror(errno));
				long d = dirty_pages(held[i]);
				if (d)
					bad("before write %ld: fdatasync of %s through another fd returned 0, but %ld dirty pages are left: a sync was skipped",
					    k, files[i], d);
			}
			quiet_checks++;
			atomic_store(&pause_req, false);
		}
		fill(page, k);
		o->g0 = atomic_load(&gen);
		ssize_t r = pwrite(N, page, PAGE, (off_t)(k + 1) * PAGE);
		o->e = errno;
		o->g1 = atomic_load(&gen);
		o->r = (int)r;
		atomic_fetch_add(&calls, 1);
		unstable_w += o->g0 != o->g1 || o->g0 % 2;
		if (r < 0)
			sched_yield();  /* closed: let the flipper reopen it */
		if ((k + 1) % every)
			continue;
		long s0 = atomic_load(&gen);
		int s = fdatasync(N);
		int se = errno;
		long s1 = atomic_load(&gen);
		atomic_fetch_add(&calls, 1);
		syncs++;
		if (s < 0 && (dup2_mode || se != EBADF))
			bad("fdatasync after write %ld: %s", k, strerror(se));
		if (s0 != s1 || s0 % 2) {
			unstable_s++;
			continue;
		}
		if (s == 0 && !no_cachestat) {
			/* No other thread writes: nothing may be left dirty. */
			int f = file_at(s0);
			long d = dirty_pages(held[f]);
			checked++;
			if (d)
				bad("fdatasync after write %ld returned 0 on %s (N unchanged), but %ld dirty pages are left: a sync was skipped",
				    k, files[f], d);
		}
	}
	atomic_store(&done, true);
	pthread_join(th, NULL);
	long flips = atomic_load(&gen) / 2;

	/* Every later sync, through a fresh fd, leaves nothing dirty. */
	for (int i = 0; i < nfiles; i++) {
		int fd = open_held(files[i]);
		if (fdatasync(fd))
			bad("fdatasync of %s after the race: %s", files[i],
			    strerror(errno));
		long d = no_cachestat ? 0 : dirty_pages(held[i]);
		if (d)
			bad("fdatasync of %s after the race returned 0, but %ld dirty pages are left: a sync was skipped",
			    files[i], d);
		close(fd);
	}

	/* Where each write landed. */
	for (long k = 0; k < ops; k++) {
		struct op *o = &rec[k];
		int in = -1, count = 0;
		fill(page, k);
		for (int i = 0; i < nfiles; i++) {
			off_t off = (off_t)(k + 1) * PAGE;
			if (pread(held[i], got, PAGE, off) != PAGE)
				die("pread %s: %s", files[i], strerror(errno));
			if (!memcmp(got, page, PAGE)) {
				in = i;
				count++;
			} else if (memcmp(got, zero, PAGE)) {
				bad("write %ld: page %ld of %s is torn or foreign",
				    k, k + 1, files[i]);
			}
		}
		if (o->r < 0) {
			if (dup2_mode || o->e != EBADF)
				bad("write %ld failed: %s", k, strerror(o->e));
			else
				ebadf++;
			if (count)
				bad("write %ld failed (%s) but its data is in %s",
				    k, strerror(o->e), files[in]);
			continue;
		}
		if (o->r != PAGE) {
			bad("write %ld: short, %d bytes", k, o->r);
			continue;
		}
		if (count != 1) {
			bad("write %ld succeeded but its data is in %d files",
			    k, count);
			continue;
		}
		/* The files N referred to from g0 to g1. */
		bool allowed = false;
		for (long g = o->g0 & ~1L; g <= o->g1 + 1 && !allowed; g += 2)
			allowed = file_at(g) == in;
		if (!allowed)
			bad("write %ld (generations %ld..%ld) landed in %s, which N never referred to meanwhile",
			    k, o->g0, o->g1, files[in]);
	}
	out("ops %ld flips %ld unstable-writes %ld ebadf %ld syncs %ld checked-syncs %ld unstable-syncs %ld quiet-checks %ld\n",
	    ops, flips, unstable_w, ebadf, syncs, checked, unstable_s,
	    quiet_checks);
	free(page);
	free(got);
	free(zero);
	free(rec);
	if (violations) {
		out("%ld violations\n", violations);
		return 1;
	}
	out("ok\n");
	return 0;
}
