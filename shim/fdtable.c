/* SPDX-License-Identifier: MIT */
/*
 * fdtable.c - which fds are tracked, and the per-process file objects.
 *
 * A flat array indexed by fd (reserved with mmap, so untouched parts cost
 * no memory) says for each fd: unknown, untracked or tracked. Untracked is
 * one load on the hot path. Unknown fds (never seen opened: inherited
 * across exec, made by a raw system call or by glibc internally) are
 * classified on first use through /proc/self/fd.
 *
 * A tracked slot points to a wt_file, one per (process, inode), which holds
 * the rule, the dirty-table key, the private O_DIRECT fd and this process's
 * count of writes since its last sync. Slots are changed under one of a
 * few striped locks; wt_file reference counts change under files_lock, so
 * a close racing a write in another thread never frees what the write uses.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "wt.h"

#define STRIPES  16
#define NBUCKETS 256
#define MAXFDS   (1 << 20)
#define CHUNK_SHIFT 10
#define CHUNK    (1 << CHUNK_SHIFT)

/*
 * Slots come in chunks of CHUNK fds, mapped on first use: the memory (and,
 * under vm.overcommit_memory = 2, the commit charge every fork copies)
 * follows the fds a program uses, not the RLIMIT_NOFILE it may raise to.
 */
static _Atomic(struct wt_slot *) chunks[MAXFDS / CHUNK];
static bool ready;
static atomic_int high;                  /* highest fd recorded + 1 */
static pthread_mutex_t stripe[STRIPES];
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wt_file *buckets[NBUCKETS];

void wt_fdtable_init(void)
{
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&stripe[i], NULL);
	ready = true;
}

/* Maps chunk i; mmap, so a signal handler or a vfork child may do it. */
static struct wt_slot *chunk_make(unsigned i)
{
	struct wt_slot *c = mmap(NULL, CHUNK * sizeof(struct wt_slot),
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return NULL;   /* as beyond the table: never skipped */
	struct wt_slot *none = NULL;
	if (!atomic_compare_exchange_strong(&chunks[i], &none, c)) {
		munmap(c, CHUNK * sizeof(struct wt_slot));
		c = none;  /* another thread's */
	}
	return c;
}

struct wt_slot *wt_slot(int fd)
{
	if (fd < 0 || fd >= MAXFDS || !ready)
		return NULL;
	unsigned i = (unsigned)fd >> CHUNK_SHIFT;
	struct wt_slot *c = atomic_load_explicit(&chunks[i],
						 memory_order_acquire);
	if (__builtin_expect(!c, 0) && !(c = chunk_make(i)))
		return NULL;
	return &c[fd & (CHUNK - 1)];
}

int wt_fd_high(void)
{
	return atomic_load(&high);
}

static void note_high(int fd)
{
	int h = atomic_load(&high);
	while (fd + 1 > h && !atomic_compare_exchange_weak(&high, &h, fd + 1))
		;
}

static unsigned bucket(uint64_t dev, uint64_t ino)
{
	return (unsigned)((dev * 31 + ino) % NBUCKETS);
}

/*
 * File objects come from mmap, not malloc: a signal handler may open a
 * tracked file (or first write through an fd never seen) while its thread
 * is inside the allocator.
 */
static struct wt_file *file_alloc(size_t pathlen)
{
	void *p = mmap(NULL, sizeof(struct wt_file) + pathlen + 1,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void file_free(struct wt_file *f)
{
	munmap(f, sizeof(*f) + strlen(f->path) + 1);
}

static void file_ref(struct wt_file *f)
{
	pthread_mutex_lock(&files_lock);
	atomic_fetch_add(&f->refs, 1);
	pthread_mutex_unlock(&files_lock);
}

void wt_file_put(struct wt_file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&files_lock);
	if (atomic_fetch_sub(&f->refs, 1) != 1) {
		pthread_mutex_unlock(&files_lock);
		return;
	}
	struct wt_file **pp = &buckets[bucket(f->key.dev, f->key.ino)];
	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	pthread_mutex_unlock(&files_lock);
	/* The program's last fd on the inode is gone: do not pin it. */
	if (f->direct_fd >= 0 && wt_fd_is_ours(f->direct_fd))
		syscall(SYS_close, f->direct_fd);
	pthread_mutex_destroy(&f->lock);
	file_free(f);
}

/*
 * What tells this inode from a later one that reuses its number: the birth
 * time (coarse: two files made within one tick can share it) mixed with
 * the inode generation (random on XFS and ext4) where the file system has
 * one. Computed the same way from every fd that may be tracked (never an
 * O_PATH fd, on which the ioctl fails).
 */
static uint64_t birth_of(int fd, const struct wt_statx *stx)
{
	uint64_t b = 0;
	unsigned gen = 0;

	if (stx->stx_mask & STATX_BTIME)
		b = (uint64_t)stx->stx_btime.tv_sec << 30 | stx->stx_btime.tv_nsec;
	if (ioctl(fd, FS_IOC_GETVERSION, &gen) == 0 && gen)
		b = (b ^ ((uint64_t)gen << 32) ^ gen) * 0x9e3779b97f4a7c15ULL;
	else if (!b)
		return 0;    /* no identity across time: never skip its syncs */
	return b | 1;
}

/*
 * The block device's atomic_write_unit_max_bytes (0: none or unknown),
 * from the device probe, remembered per device: one probe reads
 * mountinfo, sysfs and, on NVMe, Identify.
 */
static unsigned blockdev_atomic_max(int fd, dev_t dev)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct { dev_t dev; unsigned max; } cache[8];
	static unsigned n;
	unsigned max = 0;

	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < n; i++)
		if (cache[i].dev == dev) {
			max = cache[i].max;
			pthread_mutex_unlock(&lock);
			return max;
		}
	pthread_mutex_unlock(&lock);

	struct wt_probe *p = malloc(sizeof(*p));
	if (p && wt_probe_fd(fd, p) == 0 && p->q_awu_max > 0)
		max = (unsigned)p->q_awu_max;
	free(p);

	pthread_mutex_lock(&lock);
	if (n < 8)
		cache[n++] = (typeof(cache[0])){ dev, max };
	pthread_mutex_unlock(&lock);
	return max;
}

/*
 * Whether writes of the rule's atomic_unit use RWF_ATOMIC (design 3):
 * auto only where the device does it (not XFS's copy-on-write emulation),
 * require wherever the file system offers it. A promise the file cannot
 * keep makes the open fail rather than write without it. Returns 0 or
 * -EOPNOTSUPP.
 */
static int atomic_decide(struct wt_file *f, int fd, const struct wt_rule *rule)
{
	unsigned u = rule->atomic_unit;
	if (rule->mode == WT_MODE_PASSTHROUGH)
		return 0;            /* never written by the library */
	if (rule->atomic != WT_ATOMIC_OFF && f->aw_max)
		f->hw_atomic_max = blockdev_atomic_max(fd, (dev_t)f->key.dev);
	bool fs = f->dio_align && f->aw_max && f->aw_min <= u &&
		  u <= f->aw_max;
	bool hw = fs && (f->aw_max_opt >= u || f->hw_atomic_max >= u);
	bool use = rule->atomic == WT_ATOMIC_REQUIRE ? fs :
		   rule->atomic == WT_ATOMIC_AUTO ? hw : false;
	bool must = rule->atomic == WT_ATOMIC_REQUIRE ||
		    rule->mode == WT_MODE_ATOMIC;

	if (must && !use) {
		if (rule->atomic == WT_ATOMIC_OFF)
			wt_log(WT_LOG_ERROR, "%s: mode = atomic with atomic = off cannot protect anything; refusing to open it",
			       f->path);
		else if (fs)
			wt_log(WT_LOG_ERROR, "%s: mode = atomic with atomic = auto needs the device to write %u bytes atomically, and it only does in software (atomic = require accepts that); refusing to open it",
			       f->path, u);
		else
			wt_log(WT_LOG_ERROR, "%s: atomic writes of %u bytes are not offered here (statx atomic unit %u..%u, direct I/O alignment %u); refusing to open it rather than write without torn-write protection",
			       f->path, u, f->aw_min, f->aw_max, f->dio_align);
		return -EOPNOTSUPP;
	}
	f->atomic_unit = use ? u : 0;
	return 0;
}

int wt_fd_ident(int fd, struct stat *st)
{
	struct wt_statx stx;
	if (wt_statx(fd, "", AT_EMPTY_PATH,
		     STATX_TYPE | STATX_INO | STATX_SIZE, &stx) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	st->st_ino = stx.stx_ino;
	st->st_mode = stx.stx_mode & S_IFMT;
	st->st_size = (off_t)stx.stx_size;
	return 0;
}

/* A referenced wt_file for the inode behind fd, or NULL if not a file. */
static struct wt_file *file_get(int fd, const char *abspath,
				const struct wt_rule *rule)
{
	struct wt_statx stx;
	if (wt_statx(fd, "", AT_EMPTY_PATH,
		     STATX_TYPE | STATX_INO | STATX_BTIME | STATX_DIOALIGN |
		     STATX_WRITE_ATOMIC,
		     &stx) < 0)
		return NULL;
	if (!S_ISREG(stx.stx_mode))
		return NULL;
	struct stat st = {
		.st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor),
		.st_ino = stx.stx_ino,
	};

	pthread_mutex_lock(&files_lock);
	for (struct wt_file *f = buckets[bucket(st.st_dev, st.st_ino)]; f;
	     f = f->next) {
		if (f->key.dev == st.st_dev && f->key.ino == st.st_ino) {
			atomic_fetch_add(&f->refs, 1);
			pthread_mutex_unlock(&files_lock);
			return f;
		}
	}
	size_t len = strlen(abspath);
	struct wt_file *f = file_alloc(len);
	if (!f) {
		pthread_mutex_unlock(&files_lock);
		return NULL;
	}
	atomic_init(&f->refs, 1);
	f->key.dev = st.st_dev;
	f->key.ino = st.st_ino;
	f->key.birth = birth_of(fd, &stx);
	f->rule = rule;
	f->dref.slot = -1;
	pthread_mutex_init(&f->lock, NULL);
	f->direct_fd = -1;
	/* The larger of the DIO offset alignment and the block size. */
	if (stx.stx_mask & STATX_DIOALIGN)
		f->dio_align = stx.stx_dio_offset_align ?
			       (stx.stx_dio_offset_align > stx.stx_blksize ?
				stx.stx_dio_offset_align : stx.stx_blksize) : 0;
	else
		f->dio_align = stx.stx_blksize;   /* try; EINVAL falls back */
	if (stx.stx_mask & STATX_WRITE_ATOMIC) {
		f->aw_min = stx.stx_atomic_write_unit_min;
		f->aw_max = stx.stx_atomic_write_unit_max;
		f->aw_max_opt = stx.stx_atomic_write_unit_max_opt;
	}
	memcpy(f->path, abspath, len + 1);
	unsigned b = bucket(st.st_dev, st.st_ino);
	f->next = buckets[b];
	buckets[b] = f;
	pthread_mutex_unlock(&files_lock);
	if (!f->key.birth)
		wt_log(WT_LOG_INFO, "%s: no birth time or generation; its syncs are never skipped",
		       abspath);
	return f;
}

/*
 * Sets a slot, unless (expect != SEQ_ANY) its seq moved from expect: then a
 * newer change (another thread's open or dup2) wins. Returns whether set.
 */
#define SEQ_ANY UINT32_MAX

static bool slot_set_if(int fd, int state, int oflags, struct wt_file *f,
			unsigned expect)
{
	struct wt_slot *s = wt_slot(fd);
	pthread_mutex_t *l = &stripe[fd % STRIPES];

	if (!s) {
		wt_file_put(f);
		return false;
	}
	/* stdout and stderr: stdio writes them by glibc's internal write. */
	if (f && state == WT_FD_TRACKED && (fd == 1 || fd == 2)) {
		wt_log(WT_LOG_INFO, "%s: at fd %d, where stdio writes unseen; its syncs are never skipped",
		       f->path, fd);
		wt_dirty_unsafe(&f->key, &f->dref);
	}
	pthread_mutex_lock(l);
	if (expect != SEQ_ANY && atomic_load(&s->seq) != expect) {
		pthread_mutex_unlock(l);
		wt_file_put(f);
		return false;
	}
	unsigned seq = atomic_fetch_add(&s->seq, 2) + 2;
	struct wt_file *old = s->file;
	if (old) {
		unsigned i = s->left_next;
		s->left[i].seq = seq;
		s->left[i].key = old->key;
		s->left_next = (i + 1) % WT_SLOT_LEFT;
		if (s->left_used < WT_SLOT_LEFT)
			s->left_used++;
	}
	s->file = f;
	s->oflags = oflags;
	atomic_store(&s->state, state);
	pthread_mutex_unlock(l);
	if (f || state != WT_FD_UNKNOWN)
		note_high(fd);
	wt_file_put(old);
	return true;
}

static void slot_set(int fd, int state, int oflags, struct wt_file *f)
{
	slot_set_if(fd, state, oflags, f, SEQ_ANY);
}

/* The rule for an fd's path: its lexical path, else its canonical one. */
static const struct wt_rule *rule_for(int fd, const char *abspath)
{
	const struct wt_rule *r = abspath ?
				  wt_config_match(&wt.cfg, abspath) : NULL;
	if (r)
		return r;
	char link[32], real[WT_PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	long n = syscall(SYS_readlinkat, AT_FDCWD, link, real, sizeof(real) - 1);
	if (n <= 0 || real[0] != '/')
		return NULL;
	real[n] = 0;
	if (abspath && strcmp(real, abspath) == 0)
		return NULL;
	return wt_config_match(&wt.cfg, real);
}

static int classify(int fd, const char *abspath, int oflags, bool seen,
		    unsigned expect)
{
	struct wt_slot *s = wt_slot(fd);
	const struct wt_rule *rule = (oflags & O_PATH) ? NULL :
				     rule_for(fd, abspath);

	/*
	 * Passthrough files are tracked too, their writes recorded: renamed
	 * under a tracking rule, they are that rule's files (design 1b.14).
	 */
	if (!rule) {
		if (s)
			slot_set_if(fd, WT_FD_UNTRACKED, oflags, NULL, expect);
		return 0;
	}
	char pathbuf[WT_PATH_MAX];
	if (!abspath) {
		char link[32];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		long n = syscall(SYS_readlinkat, AT_FDCWD, link, pathbuf,
				 sizeof(pathbuf) - 1);
		pathbuf[n > 0 ? n : 0] = 0;
		abspath = pathbuf;
	}
	struct wt_file *f = file_get(fd, abspath, rule);
	if (!f) {
		if (s)
			slot_set_if(fd, WT_FD_UNTRACKED, oflags, NULL, expect);
		return 0;
	}
	pthread_mutex_lock(&f->lock);
	int r = f->atomic_decided ? f->atomic_err : atomic_decide(f, fd, rule);
	f->atomic_decided = true;
	f->atomic_err = r;
	pthread_mutex_unlock(&f->lock);
	if (r < 0) {
		/*
		 * Never seen opened (inherited): the fd exists already, so keep
		 * it tracked; every write to it then fails closed.
		 */
		if (seen || !s) {
			if (s)
				slot_set_if(fd, WT_FD_UNKNOWN, 0, NULL, expect);
			wt_file_put(f);
			return r;
		}
	}
	/*
	 * Writes the shim did not see may be in the page cache (an fd made
	 * before we could look, O_TRUNC): the next sync must be real.
	 */
	if (!seen || (oflags & O_TRUNC))
		wt_dirty_mark(&f->key, &f->dref);
	if (!s) {
		/* Beyond the table: cannot follow its writes, so never skip. */
		wt_dirty_unsafe(&f->key, &f->dref);
		wt_file_put(f);
		return 0;
	}
	wt_log(WT_LOG_DEBUG, "fd %d: %s tracked (rule at line %u)", fd, abspath,
	       rule->line);
	slot_set_if(fd, WT_FD_TRACKED, oflags, f, expect);
	return 0;
}

int wt_fd_opened(int fd, const char *abspath, int oflags)
{
	if (!ready)
		return 0;
	return classify(fd, abspath, oflags, true, SEQ_ANY);
}

struct wt_file *wt_fd_get(int fd, int *oflags)
{
	struct wt_slot *s = wt_slot(fd);
	if (!s)
		return NULL;
	int st = atomic_load(&s->state);
	if (st == WT_FD_UNTRACKED)
		return NULL;
	if (st == WT_FD_UNKNOWN) {
		/* Another thread's open or dup2 meanwhile knows better. */
		unsigned seq0 = atomic_load(&s->seq);
		if (seq0 & 1)
			return NULL;  /* closing or being replaced: the caller checks */
		int fl = wt_real.fcntl(fd, F_GETFL);
		if (fl < 0)
			return NULL;  /* closed: the caller's libc call says EBADF */
		classify(fd, NULL, fl & ~O_TRUNC, false, seq0);
	}
	pthread_mutex_t *l = &stripe[fd % STRIPES];
	pthread_mutex_lock(l);
	struct wt_file *f = s->file;
	if (f)
		file_ref(f);
	if (oflags)
		*oflags = s->oflags;
	pthread_mutex_unlock(l);
	return f;
}

void wt_fd_forget(int fd)
{
	struct wt_slot *s = wt_slot(fd);
	if (!s)
		return;
	if (atomic_load(&s->state) != WT_FD_UNKNOWN || s->file)
		slot_set(fd, WT_FD_UNKNOWN, 0, NULL);
	else  /* never classified: what it named leaves unrecorded */
		atomic_store(&s->left_unrecorded, atomic_fetch_add(&s->seq, 2) + 2);
}

void wt_fd_forget_stale(int fd, struct wt_file *f)
{
	struct wt_slot *s = wt_slot(fd);
	if (!s)
		return;
	pthread_mutex_t *l = &stripe[fd % STRIPES];
	pthread_mutex_lock(l);
	unsigned seq = atomic_load(&s->seq);
	bool still = s->file == f;
	pthread_mutex_unlock(l);
	if (still)
		slot_set_if(fd, WT_FD_UNKNOWN, 0, NULL, seq);
}

void wt_fd_change(int fd)
{
	struct wt_slot *s = wt_slot(fd);
	if (s)
		atomic_fetch_add(&s->seq, 1);
}

void wt_fd_forget_lockless(int fd)
{
	struct wt_slot *s = wt_slot(fd);
	if (s) {
		unsigned seq = atomic_fetch_add(&s->seq, 2) + 2;
		atomic_store(&s->left_unrecorded, seq);
		atomic_store(&s->state, WT_FD_UNKNOWN);
	}
}

/* Whether seq a came after b (wrapping). */
static bool seq_after(unsigned a, unsigned b)
{
	return (int)(a - b) > 0;
}

static void raced_degrade(void)
{
	wt_dirty_degrade("an fd number changed during a write through it more often than is recorded");
}

/*
 * The write reached a file the number named at some moment after seq0 was
 * read: the one named then (which has left since, or names it still),
 * one that came and left, or one named now (being classified, if unknown).
 * Marks all of them, until the number holds still over one pass.
 */
void wt_fd_raced(int fd, unsigned seq0, bool lockless)
{
	struct wt_slot *s = wt_slot(fd);
	if (!s)
		return;
	if (lockless) {
		raced_degrade();
		return;
	}
	pthread_mutex_t *l = &stripe[fd % STRIPES];
	/*
	 * Read mid-change (odd), the change's own departure may be recorded
	 * already, at seq0 at most and after the even value it began at.
	 */
	unsigned from = seq0 & 1 ? seq0 - 3 : seq0;
	unsigned waits = 0;
	for (int pass = 0; pass < 1000;) {
		unsigned now = atomic_load(&s->seq);
		if (now & 1) {
			/* A close or dup2 onto it is in the kernel: up to ~5 s. */
			if (++waits > 100 + 5000)
				break;
			if (waits <= 100)
				sched_yield();
			else
				nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
			continue;
		}
		pass++;
		struct wt_key keys[WT_SLOT_LEFT];
		int nkeys = 0;
		unsigned lu = atomic_load(&s->left_unrecorded);  /* 0: never */
		bool complete = !lu || !seq_after(lu, from);
		pthread_mutex_lock(l);
		for (unsigned i = 0; i < s->left_used; i++)
			if (seq_after(s->left[i].seq, from))
				keys[nkeys++] = s->left[i].key;
		/* Full, and even the oldest kept left after: older ones were lost. */
		if (s->left_used == WT_SLOT_LEFT &&
		    seq_after(s->left[s->left_next].seq, from))
			complete = false;
		pthread_mutex_unlock(l);
		if (!complete) {
			raced_degrade();
			return;
		}
		for (int i = 0; i < nkeys; i++) {
			struct wt_dref ref = { .slot = -1 };
			wt_dirty_mark(&keys[i], &ref);
		}
		/* Named now, or classified now (then marked as never seen). */
		struct wt_file *f = wt_fd_get(fd, NULL);
		if (f) {
			wt_dirty_mark(&f->key, &f->dref);
			wt_file_put(f);
		}
		if (atomic_load(&s->seq) == now)
			return;
		from = now;
	}
	raced_degrade();
}

void wt_fd_reclassify_untracked(void)
{
	int hi = wt_fd_high();
	for (int fd = 0; fd < hi; fd++) {
		struct wt_slot *s = wt_slot(fd);
		if (s && atomic_load(&s->state) == WT_FD_UNTRACKED)
			slot_set_if(fd, WT_FD_UNKNOWN, 0, NULL,
				    atomic_load(&s->seq) & ~1u);
	}
}

void wt_fd_dup(int oldfd, int newfd)
{
	struct wt_slot *o = wt_slot(oldfd), *n = wt_slot(newfd);
	if (!n)
		return;
	if (!o) {
		wt_fd_forget(newfd);
		return;
	}
	pthread_mutex_t *l = &stripe[oldfd % STRIPES];
	pthread_mutex_lock(l);
	struct wt_file *f = o->file;
	int state = atomic_load(&o->state), oflags = o->oflags;
	if (f)
		file_ref(f);
	pthread_mutex_unlock(l);
	slot_set(newfd, state, oflags, f);
}

/*
 * The shim's own fds carry a mark no program sets (F_SETSIG to SIGRTMAX on
 * an fd without O_ASYNC has no effect): a program may close them behind
 * our back (closefrom, a loop of close) and reuse the number, and then the
 * number must be neither written to nor closed by us.
 */
#define OUR_SIG 64

void wt_fd_mark(int fd)
{
	syscall(SYS_fcntl, fd, F_SETSIG, OUR_SIG);
}

bool wt_fd_is_ours(int fd)
{
	return syscall(SYS_fcntl, fd, F_GETSIG) == OUR_SIG;
}

int wt_file_direct_fd(struct wt_file *f, int fd)
{
	pthread_mutex_lock(&f->lock);
	if (f->direct_fd >= 0 && !wt_fd_is_ours(f->direct_fd)) {
		wt_log(WT_LOG_INFO, "%s: the private O_DIRECT fd %d was closed by the program; opening another",
		       f->path, f->direct_fd);
		f->direct_fd = -1;
	}
	if (f->direct_fd == -1) {
		char link[32];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		int d = (int)syscall(SYS_openat, AT_FDCWD, link,
				     O_WRONLY | O_DIRECT | O_CLOEXEC);
		struct stat st;
		if (d >= 0 && (wt_fd_ident(d, &st) < 0 || st.st_dev != f->key.dev ||
			       st.st_ino != f->key.ino)) {
			syscall(SYS_close, d);
			d = -1;
			errno = ESTALE;
		}
		if (d < 0) {
			wt_log(WT_LOG_INFO, "%s: no private O_DIRECT fd (%s); using buffered RWF_DSYNC",
			       f->path, strerror(errno));
			d = -2;
		} else {
			wt_fd_mark(d);
		}
		f->direct_fd = d;
	}
	int d = f->direct_fd;
	pthread_mutex_unlock(&f->lock);
	return d;
}

void wt_file_no_direct(struct wt_file *f, int err)
{
	pthread_mutex_lock(&f->lock);
	if (f->direct_fd >= 0) {
		if (wt_fd_is_ours(f->direct_fd))
			syscall(SYS_close, f->direct_fd);
		wt_log(WT_LOG_INFO, "%s: O_DIRECT write refused (%s); using buffered RWF_DSYNC",
		       f->path, strerror(err));
	}
	f->direct_fd = -2;
	pthread_mutex_unlock(&f->lock);
}

/*
 * Around fork: hold every lock so that no other thread is half-way through
 * changing the table or the file list when the child's copy is taken.
 * Order as everywhere: a stripe, then files_lock.
 */
void wt_fdtable_before_fork(void)
{
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_lock(&stripe[i]);
	pthread_mutex_lock(&files_lock);
}

void wt_fdtable_parent_fork(void)
{
	pthread_mutex_unlock(&files_lock);
	for (int i = STRIPES - 1; i >= 0; i--)
		pthread_mutex_unlock(&stripe[i]);
}

void wt_fdtable_after_fork(void)
{
	/* Only this thread survives: every lock may be held by a lost one. */
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&stripe[i], NULL);
	pthread_mutex_init(&files_lock, NULL);
	for (int b = 0; b < NBUCKETS; b++)
		for (struct wt_file *f = buckets[b]; f; f = f->next)
			pthread_mutex_init(&f->lock, NULL);
}
