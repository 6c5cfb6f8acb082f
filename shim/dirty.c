/* SPDX-License-Identifier: MIT */
/*
 * dirty.c - the shared dirty table: which inodes are provably clean.
 *
 * A file in /dev/shm (one per uid, mode 0600), mapped MAP_SHARED by every
 * process of that uid under the shim. Every holder keeps a shared flock on
 * it; the process that gets it exclusively is the only holder and starts a
 * new epoch with every entry unknown, so nothing written before (by a run
 * without the shim, or a crashed one) is ever taken for clean.
 *
 * An entry, keyed by (dev, ino, birth), counts page-cache writes: pending
 * is raised before one starts, dirty after it completes and before pending
 * drops. A real sync records clean = dirty + 1, with the dirty value read
 * before the sync began. The inode is clean when clean == dirty + 1,
 * nothing is pending and it is neither poisoned (an error was seen) nor
 * unsafe (written by something the shim cannot see). Absent means unknown.
 *
 * Everything that changes which key an entry holds, or its clean count,
 * runs under one robust process-shared mutex; eviction (only of clean,
 * idle entries) therefore never races with a pending count being raised.
 * Readers deciding a skip are lock-free: a per-entry generation, odd while
 * the entry changes, tells them when what they read is not one state.
 * If the table is full when a write must be recorded, the table is marked
 * degraded for its life and nothing is skipped any more.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"
#include "wt.h"

#define TABLE_MAGIC   0x31306c6274647477ULL  /* "wtdtbl01" */
#define TABLE_VERSION 2
#define TABLE_DEFAULT 16384
#define TABLE_MAXENT  (1u << 20)
#define PROBE         32

#define F_POISONED 1u
#define F_UNSAFE   2u

/* hdr->degraded */
#define D_SKIP  1u                            /* nothing is skipped */
#define D_SPLIT 2u                            /* nor any write deferred */

struct table_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t entries;
	uint64_t size;
	uint32_t uid;
	_Atomic uint32_t degraded;            /* sticky D_* */
	_Atomic uint64_t epoch;
	pthread_mutex_t mutex;                /* robust, process-shared */
	uint64_t config_fp;                   /* how its holders classify files */
	char config[128];                     /* the creator's config file */
	char pad[256 - 40 - sizeof(pthread_mutex_t) - 8 - 128];
};
_Static_assert(sizeof(struct table_hdr) == 256, "table header");

struct table_ent {
	_Atomic uint32_t gen;                 /* odd while changing */
	uint32_t used;
	uint64_t dev, ino, birth;
	_Atomic int64_t pending;
	_Atomic uint64_t dirty;
	_Atomic uint64_t clean;               /* dirty + 1 at last sync; 0 unknown */
	_Atomic uint32_t flags;               /* F_* */
	uint32_t pad;
};
_Static_assert(sizeof(struct table_ent) == 64, "table entry");

static struct table_hdr *hdr;
static struct table_ent *ent;
static uint32_t nent;
static uint64_t my_epoch;
static int lock_fd = -1;                  /* holds our shared flock */
static atomic_bool lock_lost;
static atomic_bool left;                  /* the euid changed: skip nothing */
/*
 * The table's directory, holding an OFD read lock on one byte named after
 * the table: it outlives the table file, so a process that finds the name
 * gone or replaced still meets the holders of the old one (design 1b.14).
 */
static int dir_fd = -1;
static off_t dir_byte;
static char table_path[WT_PATH_MAX];

bool wt_dirty_available(void)
{
	return hdr != NULL;
}

static uint64_t key_hash(const struct wt_key *k)
{
	uint64_t h = k->dev * 0x9e3779b97f4a7c15ULL;
	h ^= k->ino + 0xbf58476d1ce4e5b9ULL + (h << 6) + (h >> 2);
	h ^= k->birth * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static bool key_eq(const struct table_ent *e, const struct wt_key *k)
{
	/* Relaxed loads: the generation check around them orders them. */
	return __atomic_load_n(&e->used, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&e->dev, __ATOMIC_RELAXED) == k->dev &&
	       __atomic_load_n(&e->ino, __ATOMIC_RELAXED) == k->ino &&
	       __atomic_load_n(&e->birth, __ATOMIC_RELAXED) == k->birth;
}

static void table_lock(void)
{
	int r = pthread_mutex_lock(&hdr->mutex);

	if (r == EOWNERDEAD) {
		/*
		 * A holder died inside. Entries it was changing have an odd
		 * generation: free them; pending counts stay (safe).
		 */
		for (uint32_t i = 0; i < nent; i++) {
			uint32_t g = atomic_load(&ent[i].gen);
			if (g & 1) {
				__atomic_store_n(&ent[i].used, 0, __ATOMIC_RELAXED);
				atomic_store(&ent[i].gen, g + 1);
			}
		}
		pthread_mutex_consistent(&hdr->mutex);
	}
}

static void table_unlock(void)
{
	pthread_mutex_unlock(&hdr->mutex);
}

static void set_ref(struct wt_dref *ref, int32_t slot, uint32_t gen)
{
	__atomic_store_n(&ref->gen, gen, __ATOMIC_RELAXED);
	__atomic_store_n(&ref->slot, slot, __ATOMIC_RELAXED);
}

/* Lock-free lookup; a hit is cached in ref. Returns the slot or -1. */
static int32_t find(const struct wt_key *k, struct wt_dref *ref)
{
	/*
	 * The cached slot is shared by the process's threads: read and set
	 * without a lock. A torn pair is harmless, as only an entry holding
	 * our key under a stable generation is ever used.
	 */
	int32_t rs = __atomic_load_n(&ref->slot, __ATOMIC_RELAXED);
	uint32_t rg = __atomic_load_n(&ref->gen, __ATOMIC_RELAXED);
	if (rs >= 0 && (uint32_t)rs < nent) {
		struct table_ent *e = &ent[rs];
		uint32_t g = atomic_load(&e->gen);
		if (g == rg && !(g & 1) && key_eq(e, k) &&
		    atomic_load(&e->gen) == g)
			return rs;
	}
	uint64_t h = key_hash(k);
	for (uint32_t i = 0; i < PROBE && i < nent; i++) {
		uint32_t s = (uint32_t)((h + i) % nent);
		struct table_ent *e = &ent[s];
		uint32_t g = atomic_load(&e->gen);
		if ((g & 1) || !key_eq(e, k) || atomic_load(&e->gen) != g)
			continue;
		set_ref(ref, (int32_t)s, g);
		return (int32_t)s;
	}
	set_ref(ref, -1, 0);
	return -1;
}

static bool ent_clean(struct table_ent *e)
{
	uint64_t d = atomic_load(&e->dirty);
	return atomic_load(&e->flags) == 0 && atomic_load(&e->pending) == 0 &&
	       atomic_load(&e->clean) == d + 1;
}

/*
 * Under the table lock: the slot holding k, inserting it (unknown) if
 * absent. Returns -1 when the table is full; the caller then degrades.
 */
static int32_t find_or_insert_locked(const struct wt_key *k,
				     struct wt_dref *ref)
{
	int32_t s = find(k, ref);
	if (s >= 0)
		return s;

	uint64_t h = key_hash(k);
	int32_t victim = -1;
	for (uint32_t i = 0; i < PROBE && i < nent; i++) {
		uint32_t c = (uint32_t)((h + i) % nent);
		if (!__atomic_load_n(&ent[c].used, __ATOMIC_RELAXED)) {
			victim = (int32_t)c;
			break;
		}
		if (victim < 0 && ent_clean(&ent[c]))
			victim = (int32_t)c;
	}
	if (victim < 0)
		return -1;

	struct table_ent *e = &ent[victim];
	uint32_t g = atomic_load(&e->gen);
	atomic_store(&e->gen, g + 1);        /* odd: readers back off */
	if (__atomic_load_n(&e->used, __ATOMIC_RELAXED) &&
	    atomic_load(&e->pending) != 0) {
		atomic_store(&e->gen, g + 2);
		return -1;
	}
	__atomic_store_n(&e->used, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->dev, k->dev, __ATOMIC_RELAXED);
	__atomic_store_n(&e->ino, k->ino, __ATOMIC_RELAXED);
	__atomic_store_n(&e->birth, k->birth, __ATOMIC_RELAXED);
	atomic_store(&e->dirty, 0);
	atomic_store(&e->clean, 0);
	atomic_store(&e->flags, 0);
	atomic_store(&e->gen, g + 2);
	set_ref(ref, victim, g + 2);
	return victim;
}

static void degrade(const char *why)
{
	if (!atomic_exchange(&hdr->degraded, 1))
		wt_log(WT_LOG_WARN, "dirty table %s: no fsync is skipped until every process using it has exited",
		       why);
}

void wt_dirty_degrade(const char *why)
{
	if (hdr)
		degrade(why);
}

bool wt_dirty_can_defer(void)
{
	return hdr && !(atomic_load(&hdr->degraded) & D_SPLIT) &&
	       !atomic_load(&left) && !atomic_load(&lock_lost) &&
	       atomic_load(&hdr->epoch) == my_epoch;
}

void wt_dirty_leave(void)
{
	if (!atomic_exchange(&left, true))
		wt_log(WT_LOG_INFO, "the effective uid changes: from now on every write is durable and no fsync is skipped");
}

int32_t wt_dirty_write_begin(const struct wt_key *key, struct wt_dref *ref)
{
	if (!hdr)
		return -1;
	table_lock();
	int32_t s = find_or_insert_locked(key, ref);
	if (s >= 0)
		atomic_fetch_add(&ent[s].pending, 1);
	else
		degrade("full");
	table_unlock();
	return s;
}

void wt_dirty_write_end(int32_t token, bool failed)
{
	if (!hdr || token < 0)
		return;
	struct table_ent *e = &ent[token];
	if (failed)
		atomic_fetch_or(&e->flags, F_POISONED);
	atomic_fetch_add(&e->dirty, 1);
	atomic_fetch_sub(&e->pending, 1);
}

static void set_flags(const struct wt_key *key, struct wt_dref *ref,
		      uint32_t flags, bool bump)
{
	if (!hdr)
		return;
	table_lock();
	int32_t s = find_or_insert_locked(key, ref);
	if (s >= 0) {
		if (flags)
			atomic_fetch_or(&ent[s].flags, flags);
		if (bump)
			atomic_fetch_add(&ent[s].dirty, 1);
	} else {
		degrade("full");
	}
	table_unlock();
}

void wt_dirty_mark(const struct wt_key *key, struct wt_dref *ref)
{
	set_flags(key, ref, 0, true);
}

void wt_dirty_poison(const struct wt_key *key, struct wt_dref *ref)
{
	set_flags(key, ref, F_POISONED, true);
}

void wt_dirty_unsafe(const struct wt_key *key, struct wt_dref *ref)
{
	set_flags(key, ref, F_UNSAFE, true);
}

int wt_dirty_check(const struct wt_key *key, struct wt_dref *ref)
{
	if (!hdr || atomic_load(&hdr->degraded) || atomic_load(&left) ||
	    atomic_load(&hdr->epoch) != my_epoch || atomic_load(&lock_lost))
		return WT_PASS_NOTABLE;
	/*
	 * Without our flock the table may be started afresh under us: a
	 * program that closed our fd (closefrom) gets no more skips.
	 */
	if (!wt_fd_is_ours(lock_fd)) {
		if (!atomic_exchange(&lock_lost, true))
			wt_log(WT_LOG_WARN, "the dirty table's fd was closed by the program: no fsync is skipped from now on");
		return WT_PASS_NOTABLE;
	}
	if (key->birth == 0)
		return WT_PASS_UNSAFE;
	int32_t s = find(key, ref);
	if (s < 0)
		return WT_PASS_UNARMED;
	struct table_ent *e = &ent[s];
	uint32_t g = atomic_load(&e->gen);
	if (g != __atomic_load_n(&ref->gen, __ATOMIC_RELAXED) || (g & 1))
		return WT_PASS_UNARMED;
	uint32_t fl = atomic_load(&e->flags);
	int64_t pending = atomic_load(&e->pending);
	uint64_t d = atomic_load(&e->dirty);
	uint64_t c = atomic_load(&e->clean);
	int why = fl & F_POISONED ? WT_PASS_ERROR :
		  fl & F_UNSAFE ? WT_PASS_UNSAFE :
		  pending ? WT_PASS_PENDING :
		  c == 0 ? WT_PASS_UNARMED :
		  c != d + 1 ? WT_PASS_DIRTY : WT_PASS_NR;
	if (!key_eq(e, key) || atomic_load(&e->gen) != g)
		return WT_PASS_UNARMED;
	return why;
}

uint64_t wt_dirty_sync_begin(const struct wt_key *key, struct wt_dref *ref,
			     struct wt_dref *at)
{
	at->slot = -1;
	if (!hdr || key->birth == 0)
		return 0;
	table_lock();
	int32_t s = find_or_insert_locked(key, ref);
	uint64_t d = 0;
	if (s >= 0) {
		d = atomic_load(&ent[s].dirty);
		at->slot = s;
		at->gen = atomic_load(&ent[s].gen);
	}
	table_unlock();
	return d;
}

void wt_dirty_synced(const struct wt_key *key, const struct wt_dref *at,
		     uint64_t before)
{
	if (!hdr || key->birth == 0 || at->slot < 0 ||
	    atomic_load(&hdr->epoch) != my_epoch)
		return;
	table_lock();
	/*
	 * Only the entry the sync began on: one evicted and inserted again
	 * meanwhile (a new generation) starts unknown, and its dirty count is
	 * not the one read before the sync.
	 */
	struct table_ent *e = &ent[at->slot];
	if (atomic_load(&e->gen) == at->gen && key_eq(e, key) &&
	    atomic_load(&e->clean) < before + 1)
		atomic_store(&e->clean, before + 1);
	table_unlock();
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* How this process classifies files: every holder of a table must agree. */
static uint64_t config_fp(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (unsigned i = 0; i < wt.cfg.nrules; i++) {
		const struct wt_rule *r = &wt.cfg.rules[i];
		unsigned char m = (unsigned char)r->mode;
		h = fnv(h, r->glob, strlen(r->glob) + 1);
		h = fnv(h, &m, 1);
	}
	return h | 1;
}

static int presence(int cmd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = dir_byte, .l_len = 1 };
	if (syscall(SYS_fcntl, dir_fd, cmd, &fl) < 0)
		return -errno;
	return cmd == F_OFD_GETLK ? fl.l_type != F_UNLCK : 0;
}

/*
 * The holders of a table of this name that was removed or replaced: found
 * through /proc, their table is marked so that they skip nothing more.
 * Returns how many were reached.
 */
static unsigned degrade_old(const char *path, const struct stat *mine)
{
	char deleted[WT_PATH_MAX + 16];
	snprintf(deleted, sizeof(deleted), "%s (deleted)", path);
	unsigned reached = 0;
	int proc = (int)syscall(SYS_openat, AT_FDCWD, "/proc",
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		return 0;
	char buf[4096];
	long n;
	while ((n = syscall(SYS_getdents64, proc, buf, sizeof(buf))) > 0) {
		for (long at = 0; at < n;) {
			struct { uint64_t ino; int64_t off; unsigned short len;
				 unsigned char type; char name[]; } *d =
				(void *)(buf + at);
			at += d->len;
			if (d->name[0] < '0' || d->name[0] > '9')
				continue;
			char fddir[64];
			snprintf(fddir, sizeof(fddir), "/proc/%s/fd", d->name);
			int fds = (int)syscall(SYS_openat, AT_FDCWD, fddir,
					       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fds < 0)
				continue;
			char fbuf[4096];
			long m;
			while ((m = syscall(SYS_getdents64, fds, fbuf, sizeof(fbuf))) > 0) {
				for (long k = 0; k < m;) {
					typeof(d) e = (void *)(fbuf + k);
					k += e->len;
					char link[WT_PATH_MAX + 16];
					long l = syscall(SYS_readlinkat, fds, e->name, link,
							 sizeof(link) - 1);
					if (l <= 0)
						continue;
					link[l] = 0;
					if (strcmp(link, path) && strcmp(link, deleted))
						continue;
					int t = (int)syscall(SYS_openat, fds, e->name,
							     O_RDWR | O_CLOEXEC);
					struct stat st;
					if (t < 0)
						continue;
					if (fstat(t, &st) == 0 && S_ISREG(st.st_mode) &&
					    st.st_uid == geteuid() &&
					    (st.st_ino != mine->st_ino ||
					     st.st_dev != mine->st_dev) &&
					    (size_t)st.st_size >= sizeof(struct table_hdr)) {
						struct table_hdr *h = wt_real.mmap(
							NULL, sizeof(*h), PROT_READ | PROT_WRITE,
							MAP_SHARED, t, 0);
						if (h != MAP_FAILED) {
							if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) ==
							    TABLE_MAGIC) {
								atomic_fetch_or(&h->degraded, D_SKIP);
								reached++;
							}
							syscall(SYS_munmap, h, sizeof(*h));
						}
					}
					syscall(SYS_close, t);
				}
			}
			syscall(SYS_close, fds);
		}
	}
	syscall(SYS_close, proc);
	return reached;
}

/* Returns 0, -EAGAIN (the path changed meanwhile: try again) or -errno. */
static int table_open(const char *path, uint32_t want)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
			      O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;

	int err = 0;
	void *map = MAP_FAILED;
	size_t size = 0;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		err = -EPERM;
		goto out;
	}

	bool creator = flock(fd, LOCK_EX | LOCK_NB) == 0;
	size = sizeof(struct table_hdr) + (size_t)want * sizeof(struct table_ent);
	if (creator) {
		if ((size_t)st.st_size < size && ftruncate(fd, (off_t)size) < 0) {
			err = -errno;
			goto out;
		}
	} else {
		if (flock(fd, LOCK_SH) < 0 || fstat(fd, &st) < 0) {
			err = -errno;
			goto out;
		}
		size = (size_t)st.st_size;
	}
	if (size < sizeof(struct table_hdr)) {
		err = -EINVAL;
		goto out;
	}

	map = wt_real.mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	struct table_hdr *h = map;

	/* Holders of a table of this name that is not this file? */
	int others = creator ? presence(F_OFD_GETLK, F_WRLCK) : 0;
	if (others < 0) {
		err = others;
		goto out;
	}
	if (creator) {
		/* Only holder: a new epoch, every entry unknown. */
		memset(map, 0, size);
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutex_init(&h->mutex, &a);
		pthread_mutexattr_destroy(&a);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		h->version = TABLE_VERSION;
		h->entries = want;
		h->size = size;
		h->uid = geteuid();
		h->config_fp = config_fp();
		snprintf(h->config, sizeof(h->config), "%s", wt.cfg.file);
		if (others) {
			/*
			 * The old table's holders cannot see this one, nor it
			 * theirs: neither group skips a sync, and this one
			 * defers no write (design 1b.14).
			 */
			atomic_store(&h->degraded, D_SKIP | D_SPLIT);
			unsigned n = degrade_old(path, &st);
			wt_log(WT_LOG_WARN, "dirty table %s was removed or replaced while processes still use the old one (%u reached): no fsync is skipped, and every write is made durable, until all of them and all processes starting now have exited",
			       path, n);
		}
		atomic_store(&h->epoch, ((uint64_t)ts.tv_sec << 30) ^
					(uint64_t)ts.tv_nsec ^
					((uint64_t)getpid() << 48));
		__atomic_store_n(&h->magic, TABLE_MAGIC, __ATOMIC_RELEASE);
		if (flock(fd, LOCK_SH) < 0) {
			err = -errno;
			goto out;
		}
	} else if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != TABLE_MAGIC ||
		   h->version != TABLE_VERSION || h->size != size ||
		   h->uid != geteuid() || h->entries == 0 ||
		   h->entries > TABLE_MAXENT ||
		   sizeof(struct table_hdr) +
		   (size_t)h->entries * sizeof(struct table_ent) > size) {
		err = -EPROTO;
		goto out;
	}

	/* Present, then still the file at PATH: else a newer one is there. */
	struct stat now;
	if (presence(F_OFD_SETLK, F_RDLCK) < 0 ||
	    syscall(SYS_newfstatat, AT_FDCWD, path, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
		presence(F_OFD_SETLK, F_UNLCK);
		err = -EAGAIN;
		goto out;
	}

	if (!creator && h->config_fp != config_fp()) {
		atomic_fetch_or(&h->degraded, D_SKIP);
		wt_log(WT_LOG_WARN, "dirty table %s is shared by programs whose configs classify files differently (%.128s and %s): no fsync is skipped until every process using it has exited",
		       path, h->config, wt.cfg.file);
	}

	hdr = h;
	ent = (struct table_ent *)(h + 1);
	nent = h->entries;
	my_epoch = atomic_load(&h->epoch);
	lock_fd = fd;
	wt_fd_mark(fd);
	return 0;          /* fd stays open: it holds our shared lock */
out:
	if (map != MAP_FAILED)
		syscall(SYS_munmap, map, size);
	syscall(SYS_close, fd);
	return err;
}

/* The table's directory and the byte named after it; 0 or -errno. */
static int dir_open(const char *path)
{
	char dir[WT_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	const char *base = path;
	if (!slash) {
		strcpy(dir, ".");
	} else {
		base = path + (slash - dir) + 1;
		slash[slash == dir] = 0;
	}
	dir_fd = (int)syscall(SYS_openat, AT_FDCWD, dir,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return -errno;
	wt_fd_mark(dir_fd);
	dir_byte = (off_t)(fnv(0xcbf29ce484222325ULL, base, strlen(base)) >> 2);
	return 0;
}

void wt_dirty_init(void)
{
	char def[64];
	const char *path = secure_getenv("WALTHROUGH_TABLE");
	if (!path || !*path) {
		snprintf(def, sizeof(def), "/dev/shm/walthrough-dirty.%u",
			 (unsigned)geteuid());
		path = def;
	}
	uint32_t want = TABLE_DEFAULT;
	const char *n = secure_getenv("WALTHROUGH_TABLE_ENTRIES");
	if (n && *n) {
		char *end;
		unsigned long v = strtoul(n, &end, 10);
		if (*end || v < 1 || v > TABLE_MAXENT)
			wt_log(WT_LOG_WARN, "WALTHROUGH_TABLE_ENTRIES=%s is not 1..%u; using %u",
			       n, TABLE_MAXENT, TABLE_DEFAULT);
		else
			want = (uint32_t)v;
	}
	snprintf(table_path, sizeof(table_path), "%s", path);
	int r = dir_open(path);
	for (int tries = 0; r == 0 && tries < 5; tries++)
		if ((r = table_open(path, want)) != -EAGAIN)
			break;
	if (r < 0 && dir_fd >= 0) {
		syscall(SYS_close, dir_fd);
		dir_fd = -1;
	}
	if (r < 0)
		wt_log(WT_LOG_WARN, "dirty table %s unusable (%s): no fsync will be skipped",
		       path, r == -EPROTO ? "of another version or corrupt" :
		       r == -EPERM ? "not a private file of this user" :
		       r == -EAGAIN ? "replaced again and again while opening it" :
		       strerror(-r));
	else
		wt_log(WT_LOG_DEBUG, "dirty table %s: %u entries", path, nent);
}
