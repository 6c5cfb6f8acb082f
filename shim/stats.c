/* SPDX-License-Identifier: MIT */
/*
 * stats.c - the library's side of the live counters (stats.h).
 *
 * Every process holds a shared flock on the file; one that gets it
 * exclusively is alone and may lay the file out afresh when it is new or
 * belongs to another version or config. Counting is a relaxed atomic add:
 * no lock, no system call on the write path.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"
#include "wt.h"

static struct wt_stats_file *sf;

static struct wt_stats_rule *slot_of(const struct wt_rule *r)
{
	if (!sf || !r)
		return NULL;
	long i = r - wt.cfg.rules;
	if (i < 0 || (unsigned long)i >= wt.cfg.nrules)
		return NULL;
	return &sf->rule[i < WT_STATS_RULES ? i : WT_STATS_RULES - 1];
}

void wt_stats_add(const struct wt_rule *r, int counter, uint64_t n)
{
	struct wt_stats_rule *s = slot_of(r);
	if (s)
		__atomic_fetch_add(&s->c[counter], n, __ATOMIC_RELAXED);
}

void wt_stats_pass(const struct wt_rule *r, int reason)
{
	struct wt_stats_rule *s = slot_of(r);
	if (!s)
		return;
	__atomic_fetch_add(&s->c[WT_C_SYNC_PASSED], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->pass[reason], 1, __ATOMIC_RELAXED);
}

void wt_stats_error(const struct wt_rule *r, int err)
{
	struct wt_stats_rule *s = slot_of(r);
	if (!s)
		return;
	__atomic_fetch_add(&s->c[WT_C_ERRORS], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->errnos[err > 0 && err < WT_STATS_ERRNOS ? err : 0],
			   1, __ATOMIC_RELAXED);
}

uint64_t wt_stats_clock(void)
{
	struct timespec ts;
	if (!sf)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void wt_stats_latency(const struct wt_rule *r, uint64_t start)
{
	struct wt_stats_rule *s = slot_of(r);
	if (!s || !start)
		return;
	uint64_t us = wt_stats_clock() - start;
	int b = us ? 63 - __builtin_clzll(us) : 0;
	if (b >= WT_STATS_BUCKETS)
		b = WT_STATS_BUCKETS - 1;
	__atomic_fetch_add(&s->lat_us[b], 1, __ATOMIC_RELAXED);
}

/* Does the file describe this config's rules? */
static bool same_layout(const struct wt_stats_file *f)
{
	if (f->magic != WT_STATS_MAGIC || f->version != WT_STATS_VERSION ||
	    f->size != sizeof(*f) || f->nrules != wt.cfg.nrules)
		return false;
	for (unsigned i = 0; i < wt.cfg.nrules && i < WT_STATS_RULES; i++)
		if (strncmp(f->rule[i].glob, wt.cfg.rules[i].glob,
			    WT_STATS_GLOB - 1))
			return false;
	return true;
}

static void lay_out(struct wt_stats_file *f)
{
	memset(f, 0, sizeof(*f));
	f->version = WT_STATS_VERSION;
	f->nrules = wt.cfg.nrules;
	f->size = sizeof(*f);
	f->created = (uint64_t)time(NULL);
	strncpy(f->config, wt.cfg.file ? wt.cfg.file : "", sizeof(f->config) - 1);
	for (unsigned i = 0; i < wt.cfg.nrules && i < WT_STATS_RULES; i++)
		strncpy(f->rule[i].glob, wt.cfg.rules[i].glob, WT_STATS_GLOB - 1);
	__atomic_store_n(&f->magic, WT_STATS_MAGIC, __ATOMIC_RELEASE);
}

void wt_stats_init(void)
{
	const char *path = wt.cfg.stats;
	const char *why = NULL;
	struct stat st;
	void *map = MAP_FAILED;

	if (!path)
		return;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
			      O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		why = strerror(errno);
		goto fail;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		why = "not a private regular file of this user";
		goto fail;
	}
	bool alone = flock(fd, LOCK_EX | LOCK_NB) == 0;
	if (!alone && flock(fd, LOCK_SH) < 0) {
		why = strerror(errno);
		goto fail;
	}
	if (alone && (size_t)st.st_size != sizeof(struct wt_stats_file) &&
	    ftruncate(fd, sizeof(struct wt_stats_file)) < 0) {
		why = strerror(errno);
		goto fail;
	}
	if (fstat(fd, &st) < 0 ||
	    (size_t)st.st_size != sizeof(struct wt_stats_file)) {
		why = "of another size (another version?)";
		goto fail;
	}
	map = mmap(NULL, sizeof(struct wt_stats_file), PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		why = strerror(errno);
		goto fail;
	}
	if (!same_layout(map)) {
		if (!alone) {
			why = "of another version or config, and in use";
			goto fail;
		}
		lay_out(map);
	}
	if (alone && flock(fd, LOCK_SH) < 0) {
		why = strerror(errno);
		goto fail;
	}
	sf = map;
	return;           /* fd stays open: it holds our shared lock */
fail:
	if (map != MAP_FAILED)
		munmap(map, sizeof(struct wt_stats_file));
	if (fd >= 0)
		syscall(SYS_close, fd);
	wt_log(WT_LOG_WARN, "stats file %s ignored: %s", path, why);
}
