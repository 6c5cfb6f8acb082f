/* SPDX-License-Identifier: MIT */
/*
 * wt-writer - runs a small script of file calls, so that the test suites
 * read as what a program does, and strace shows what reached the kernel.
 *
 *   wt-writer [-E] [-f FD] FILE 'open rw,creat; pwrite 0 8k A; fdatasync'
 *   wt-writer --records FILE SIZE     (checks a file written by `records`)
 *
 * Commands are separated by ';' or newlines; blocks are { ... }. Numbers
 * take k/m suffixes and may be sums of products of numbers, the loop
 * counters i (innermost) and j, the thread number t and $variables. Data is
 * a pattern of TAG (a word; %i %j %t inside it are replaced by the counters),
 * so the same script run without the library writes the expected file.
 * A failed call ends the run (exit 1), unless prefixed by `try` (prints
 * "NAME = RESULT" or "NAME = -1 ERRNO") or `expect ERRNO` (must fail so).
 * -E: every successful call must leave errno as it found it.
 *
 * Files and fds (the "current fd" is what later commands act on):
 *   open FLAGS [PATH]   FLAGS: r w rw creat trunc excl append dsync sync
 *                       direct cloexec dir, comma-separated; PATH: FILE
 *   openat DIR NAME FLAGS, creat [PATH], chdir DIR, close, dup, dup2 N,
 *   closefrom N (glibc's, which closes behind any wrapper's back),
 *   use N, save NAME ($NAME later), fd, pipe ($r, $w; current = $w),
 *   fopen MODE [PATH], fwrite LEN TAG, fflush, fclose, fds [PATH]
 * Writes and syncs:
 *   pwrite OFF LEN TAG, write LEN TAG, writev N LEN TAG,
 *   pwritev N LEN OFF TAG, pwritev2 N LEN OFF TAG FLAGS (0 dsync hipri),
 *   memalign N (later buffers start N bytes past a page boundary),
 *   fsync, fdatasync, sfr OFF LEN (sync_file_range, waiting),
 *   ftruncate LEN, fallocate OFF LEN, mmapwrite OFF LEN TAG (MAP_SHARED),
 *   copyrange SRC SRCOFF DSTOFF LEN, sendfile SRC SRCOFF LEN,
 *   splice OFF LEN TAG, fill OFF LEN TAG (until a write fails),
 *   aiowrite OFF LEN TAG, liowrite OFF LEN TAG (POSIX aio, waited for),
 *   dprintf LEN, stdout LEN (LEN '0's by dprintf, or printf + fflush)
 *   mprotectwrite OFF LEN TAG [pkey], mremapwrite OFF LEN TAG (a read-only
 *   shared mapping made writable), mmapread OFF LEN, rename SRC DST,
 *   link SRC DST, setuid UID [e|re|res]
 * Checks: seek OFF, pos, size, read LEN TAG, verify OFF LEN TAG,
 *   records W N SIZE [EVERY] (whole records by write(), see --records),
 *   scribble N OFF LEN X Y [sync] (a thread rewrites the buffer meanwhile),
 *   dirty (prints "dirty N": the current fd's file's dirty and writeback
 *   pages in the page cache, by cachestat(2))
 * Processes, threads, signals:
 *   repeat N { }, threads N { }, spawn { } + join, child { }, _fork { },
 *   bg { } + wait, exec { } (this program on the block, same current fd;
 *   fork + execv), pspawn { } (the same by posix_spawn), vexec { } (the
 *   same by vfork + execv), vforkwrite OFF LEN TAG, sigalrm USEC OFF LEN
 *   TAG (a timer whose handler pwrites and fdatasyncs) + sigstop,
 *   mallocs N (N malloc/free pairs), hold (sleep until killed)
 * Misc: mark NAME (access("/wt-mark/NAME"), seen in strace), sleep MS,
 *   waitfor PATH (until it exists), touch PATH,
 *   print WORD, exit N, secure (prints "secure N": getauxval(AT_SECURE)),
 *   mapped WORD (prints "mapped N": lines of /proc/self/maps holding WORD).
 *
 * Output goes through write(2) so that forked children cannot duplicate
 * buffered lines; the I/O commands take buffers from mmap, not malloc, so
 * a child made by _Fork from a threaded parent can run them safely.
 */
#include <aio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

#define ERRNO_MAGIC 12345
#define MAXTOK 65536
#define MAXVARS 64
#define MAXSPAWN 64

struct ctx {
	int cur;                /* the current fd */
	long i, j, t;           /* loop counters, thread number */
	FILE *stream;           /* from fopen */
	bool quiet_fail;        /* in `try` / `expect`: report, do not exit */
};

static char *tok[MAXTOK];
static int ntok;
static const char *file_arg;
static bool check_errno;
static unsigned mem_offset;              /* buffer address % 4096 */

static struct { char name[32]; long val; } vars[MAXVARS];
static int nvars;
static pthread_mutex_t vars_lock = PTHREAD_MUTEX_INITIALIZER;

/* What the last call returned, for try/expect. */
static __thread long last_r;
static __thread int last_e;

extern char **environ;

static pthread_t spawned[MAXSPAWN];
static int nspawned;
static pid_t bgkids[MAXSPAWN];
static int nbgkids;

/* ---- output without stdio ------------------------------------------------ */

static void out(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out(int fd, const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(b) - 1)
		n = sizeof(b) - 1;
	for (int at = 0; at < n;) {
		ssize_t w = syscall(SYS_write, fd, b + at, (size_t)(n - at));
		if (w <= 0)
			return;
		at += (int)w;
	}
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char b[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	out(2, "wt-writer[%d]: %s\n", (int)getpid(), b);
	_exit(1);
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* ---- numbers, tags, patterns -------------------------------------------- */

static bool var_get(const char *name, long *v)
{
	bool ok = false;
	pthread_mutex_lock(&vars_lock);
	for (int k = 0; k < nvars; k++)
		if (!strcmp(vars[k].name, name)) {
			*v = vars[k].val;
			ok = true;
		}
	pthread_mutex_unlock(&vars_lock);
	return ok;
}

static void var_set(const char *name, long v)
{
	pthread_mutex_lock(&vars_lock);
	int k;
	for (k = 0; k < nvars; k++)
		if (!strcmp(vars[k].name, name))
			break;
	if (k == nvars) {
		if (nvars == MAXVARS)
			die("too many variables");
		snprintf(vars[k].name, sizeof(vars[k].name), "%s", name);
		nvars++;
	}
	vars[k].val = v;
	pthread_mutex_unlock(&vars_lock);
}

static long factor(struct ctx *c, const char *s, size_t n)
{
	char b[64];
	if (n == 0 || n >= sizeof(b))
		die("bad number '%.*s'", (int)n, s);
	memcpy(b, s, n);
	b[n] = 0;
	if (!strcmp(b, "i"))
		return c->i;
	if (!strcmp(b, "j"))
		return c->j;
	if (!strcmp(b, "t"))
		return c->t;
	if (b[0] == '$') {
		long v;
		if (!var_get(b + 1, &v))
			die("unknown variable %s", b);
		return v;
	}
	char *end;
	int saved = errno;      /* numbers are read inside CALL's errno check */
	errno = 0;
	long v = strtol(b, &end, 0);
	if (end == b || errno)
		die("bad number '%s'", b);
	errno = saved;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		v <<= 30, end++;
	if (*end)
		die("bad number '%s'", b);
	return v;
}

/* Sum of products: "i*8k+4096", "$n", "-1". */
static long num(struct ctx *c, const char *s)
{
	long sum = 0;
	const char *p = s;
	if (*p == '-' && p[1] && strchr("0123456789", p[1]))
		return -factor(c, p + 1, strlen(p + 1));
	while (*p) {
		long prod = 1;
		for (;;) {
			size_t n = strcspn(p, "*+");
			prod *= factor(c, p, n);
			p += n;
			if (*p != '*')
				break;
			p++;
		}
		sum += prod;
		if (*p == '+')
			p++;
	}
	return sum;
}

static uint32_t tag_hash(struct ctx *c, const char *tag)
{
	char b[256];
	size_t n = 0;
	for (const char *p = tag; *p && n < sizeof(b) - 24; p++) {
		if (p[0] == '%' && (p[1] == 'i' || p[1] == 'j' || p[1] == 't')) {
			long v = p[1] == 'i' ? c->i : p[1] == 'j' ? c->j : c->t;
			n += (size_t)snprintf(b + n, sizeof(b) - n, "%ld", v);
			p++;
		} else {
			b[n++] = *p;
		}
	}
	uint32_t h = 2166136261u;
	for (size_t k = 0; k < n; k++)
		h = (h ^ (unsigned char)b[k]) * 16777619u;
	return h;
}

static inline unsigned char pat(uint32_t h, size_t i)
{
	return (unsigned char)(h + (h >> 8) + i * 7 + (i >> 8) * 13 +
			       (i >> 16) * 5);
}

/*
 * A buffer of len bytes at an address that is mem_offset past a page
 * boundary, filled with TAG's pattern. mmap, not malloc: safe after _Fork.
 */
struct buf {
	void *map;
	size_t maplen;
	unsigned char *p;
	size_t len;
};

static struct buf buf_new(size_t len)
{
	struct buf b;
	b.maplen = (len + mem_offset + 4095) / 4096 * 4096 + 4096;
	b.map = mmap(NULL, b.maplen, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b.map == MAP_FAILED)
		die("mmap %zu: %s", b.maplen, strerror(errno));
	b.p = (unsigned char *)b.map + mem_offset;
	b.len = len;
	return b;
}

static struct buf buf_pat(struct ctx *c, size_t len, const char *tag)
{
	struct buf b = buf_new(len);
	uint32_t h = tag_hash(c, tag);
	for (size_t k = 0; k < len; k++)
		b.p[k] = pat(h, k);
	return b;
}

static void buf_free(struct buf *b)
{
	munmap(b->map, b->maplen);
}

/* ---- calls ---------------------------------------------------------------- */

/*
 * Reports the result of a call named NAME that returned r (errno in e):
 * dies on failure unless in try/expect; checks errno on success with -E.
 */
static long result(struct ctx *c, const char *name, long r, int e)
{
	if (r < 0) {
		if (c->quiet_fail)
			return r;
		die("%s: %s (%s)", name, strerror(e), ename(e));
	}
	if (check_errno && e != ERRNO_MAGIC)
		die("%s succeeded but changed errno from %d to %d (%s)", name,
		    ERRNO_MAGIC, e, ename(e));
	return r;
}

#define CALL(c, name, expr)                                         \
	({                                                          \
		errno = ERRNO_MAGIC;                                \
		long r_ = (long)(expr);                             \
		int e_ = errno;                                     \
		result((c), (name), r_, e_);                        \
		if (r_ < 0)                                         \
			errno = e_;                                 \
		else                                                \
			errno = 0;                                  \
		r_;                                                 \
	})

static int open_flags(const char *s)
{
	int fl = 0, acc = O_RDONLY;
	char b[128];
	snprintf(b, sizeof(b), "%s", s);
	for (char *save, *w = strtok_r(b, ",", &save); w;
	     w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "r"))
			acc = O_RDONLY;
		else if (!strcmp(w, "w"))
			acc = O_WRONLY;
		else if (!strcmp(w, "rw"))
			acc = O_RDWR;
		else if (!strcmp(w, "creat"))
			fl |= O_CREAT;
		else if (!strcmp(w, "trunc"))
			fl |= O_TRUNC;
		else if (!strcmp(w, "excl"))
			fl |= O_EXCL;
		else if (!strcmp(w, "append"))
			fl |= O_APPEND;
		else if (!strcmp(w, "dsync"))
			fl |= O_DSYNC;
		else if (!strcmp(w, "sync"))
			fl |= O_SYNC;
		else if (!strcmp(w, "direct"))
			fl |= O_DIRECT;
		else if (!strcmp(w, "cloexec"))
			fl |= O_CLOEXEC;
		else if (!strcmp(w, "dir"))
			fl |= O_DIRECTORY;
		else
			die("unknown open flag '%s'", w);
	}
	return fl | acc;
}

/* ---- signal-handler writes ------------------------------------------------ */

static struct buf sig_buf;
static int sig_fd = -1;
static char *sig_path;  /* kept: a late handler on another thread reads it */
static off_t sig_off;
static atomic_long sig_count, sig_errors;

static void on_alarm(int sig)
{
	(void)sig;
	int e = errno;
	int fd = sig_path ? open(sig_path, O_WRONLY) : sig_fd;
	if (fd < 0 ||
	    pwrite(fd, sig_buf.p, sig_buf.len, sig_off) != (ssize_t)sig_buf.len ||
	    fdatasync(fd) != 0)
		atomic_fetch_add(&sig_errors, 1);
	if (sig_path && fd >= 0)
		close(fd);
	atomic_fetch_add(&sig_count, 1);
	errno = e;
}

/* ---- scribbling on a buffer during writes ---------------------------------- */

struct scribble {
	unsigned char *p;
	size_t len;
	uint32_t hx, hy;
	atomic_bool stop;
	atomic_long passes;
};

static void *scribbler(void *arg)
{
	struct scribble *s = arg;
	while (!atomic_load(&s->stop)) {
		for (size_t k = 0; k < s->len; k++)
			((volatile unsigned char *)s->p)[k] = pat(s->hx, k);
		for (size_t k = 0; k < s->len; k++)
			((volatile unsigned char *)s->p)[k] = pat(s->hy, k);
		atomic_fetch_add(&s->passes, 1);
	}
	return NULL;
}

/* ---- records: whole writes that must not overlap or get lost ------------- */

static void record_fill(unsigned char *p, size_t size, long w, long seq)
{
	int n = snprintf((char *)p, size, "W%03ld S%07ld|", w, seq);
	uint32_t h = (uint32_t)(w * 1000003 + seq);
	for (size_t k = (size_t)n; k < size - 1; k++)
		p[k] = (unsigned char)('a' + pat(h, k) % 26);
	p[size - 1] = '\n';
}

static int check_records(const char *path, size_t size)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if (size < 32 || st.st_size % (off_t)size)
		die("%s: size %lld is not a multiple of %zu", path,
		    (long long)st.st_size, size);
	unsigned char *rec = malloc(size), *want = malloc(size);
	long next[1000] = { 0 };
	long bad = 0, total = 0;
	for (off_t at = 0; at < st.st_size; at += (off_t)size, total++) {
		if (pread(fd, rec, size, at) != (ssize_t)size)
			die("%s: short read", path);
		long w, seq;
		if (sscanf((char *)rec, "W%03ld S%07ld|", &w, &seq) != 2 ||
		    w < 0 || w >= 1000) {
			if (bad++ < 5)
				out(1, "garbage at %lld\n", (long long)at);
			continue;
		}
		record_fill(want, size, w, seq);
		if (memcmp(rec, want, size)) {
			if (bad++ < 5)
				out(1, "torn record W%03ld S%07ld at %lld\n", w,
				    seq, (long long)at);
			continue;
		}
		if (seq != next[w]) {
			if (bad++ < 5)
				out(1, "W%03ld: S%07ld where S%07ld was due, at %lld\n",
				    w, seq, next[w], (long long)at);
		}
		next[w] = seq + 1;
	}
	for (int w = 0; w < 1000; w++)
		if (next[w])
			out(1, "writer %d: %ld records\n", w, next[w]);
	out(1, "%ld records, %ld bad\n", total, bad);
	return bad ? 1 : 0;
}

/* ---- the interpreter ------------------------------------------------------ */

static int run(struct ctx *c, int from, int to);

/* Index of the '}' matching the '{' at open. */
static int block_end(int open)
{
	if (open >= ntok || strcmp(tok[open], "{"))
		die("'{' expected after '%s'", open > 0 ? tok[open - 1] : "");
	int depth = 0;
	for (int k = open; k < ntok; k++) {
		if (!strcmp(tok[k], "{"))
			depth++;
		else if (!strcmp(tok[k], "}") && --depth == 0)
			return k;
	}
	die("unbalanced '{'");
}

struct thread_arg {
	struct ctx c;
	int from, to;
};

static void *thread_main(void *arg)
{
	struct thread_arg a = *(struct thread_arg *)arg;
	free(arg);
	run(&a.c, a.from, a.to);
	return NULL;
}

static void wait_child(pid_t pid, const char *what)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("%s %d failed (%s %d)", what, (int)pid,
		    WIFEXITED(st) ? "exit" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static int count_fds(const char *path)
{
	char want[PATH_MAX], link[300], got[PATH_MAX];
	if (!realpath(path, want))
		die("realpath %s: %s", path, strerror(errno));
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		die("/proc/self/fd: %s", strerror(errno));
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t l = readlink(link, got, sizeof(got) - 1);
		if (l <= 0)
			continue;
		got[l] = 0;
		if (!strcmp(got, want))
			n++;
	}
	closedir(d);
	return n;
}

/* Argument k of the command at cmd, or die. */
#define ARG(k) (cmd + (k) < end ? tok[cmd + (k)] : (die("%s: argument %d missing", tok[cmd], (k)), ""))
#define NUM(k) num(c, ARG(k))

/*
 * Runs one command starting at token cmd whose arguments end before end.
 * Returns the token after the command (after its block, for block commands).
 */
static int step(struct ctx *c, int cmd, int end)
{
	const char *n = tok[cmd];
	const char *path = file_arg;
	char name[64];
	snprintf(name, sizeof(name), "%s", n);

	if (!strcmp(n, "try") || !strcmp(n, "expect")) {
		bool is_try = !strcmp(n, "try");
		int sub = cmd + (is_try ? 1 : 2);
		if (sub >= end)
			die("%s: command missing", n);
		struct ctx q = *c;
		q.quiet_fail = true;
		last_r = 0;
		last_e = 0;
		int next = step(&q, sub, end);
		c->cur = q.cur;
		c->stream = q.stream;
		if (is_try) {
			if (last_r < 0)
				out(1, "%s = -1 %s\n", tok[sub], ename(last_e));
			else
				out(1, "%s = %ld\n", tok[sub], last_r);
		} else if (last_r >= 0) {
			die("%s succeeded (%ld) where %s was expected", tok[sub],
			    last_r, tok[cmd + 1]);
		} else if (strcmp(ename(last_e), tok[cmd + 1])) {
			die("%s failed with %s where %s was expected", tok[sub],
			    ename(last_e), tok[cmd + 1]);
		}
		return next;
	}

	long r = 0;
	int argc = end - cmd - 1;

#define DO(expr) (r = CALL(c, name, expr), last_r = r, last_e = errno)

	if (!strcmp(n, "open")) {
		int fl = open_flags(ARG(1));
		if (argc >= 2)
			path = ARG(2);
		DO(open(path, fl, 0644));
		if (r >= 0)
			c->cur = (int)r;
	} else if (!strcmp(n, "openat")) {
		/* openat DIR NAME FLAGS: through a dirfd of DIR */
		int d = open(ARG(1), O_RDONLY | O_DIRECTORY);
		if (d < 0)
			die("open %s: %s", ARG(1), strerror(errno));
		DO(openat(d, ARG(2), open_flags(ARG(3)), 0644));
		close(d);
		if (r >= 0)
			c->cur = (int)r;
	} else if (!strcmp(n, "creat")) {
		if (argc >= 1)
			path = ARG(1);
		DO(creat(path, 0644));
		if (r >= 0)
			c->cur = (int)r;
	} else if (!strcmp(n, "chdir")) {
		DO(chdir(ARG(1)));
	} else if (!strcmp(n, "use")) {
		c->cur = (int)NUM(1);
	} else if (!strcmp(n, "save")) {
		var_set(ARG(1), c->cur);
	} else if (!strcmp(n, "fd")) {
		out(1, "fd %d\n", c->cur);
	} else if (!strcmp(n, "memalign")) {
		mem_offset = (unsigned)NUM(1) % 4096;
	} else if (!strcmp(n, "pwrite")) {
		struct buf b = buf_pat(c, (size_t)NUM(2), ARG(3));
		DO(pwrite(c->cur, b.p, b.len, NUM(1)));
		if (r >= 0 && r != (long)b.len && !c->quiet_fail)
			die("pwrite: short write %ld of %zu", r, b.len);
		buf_free(&b);
	} else if (!strcmp(n, "write")) {
		struct buf b = buf_pat(c, (size_t)NUM(1), ARG(2));
		DO(write(c->cur, b.p, b.len));
		if (r >= 0 && r != (long)b.len && !c->quiet_fail)
			die("write: short write %ld of %zu", r, b.len);
		buf_free(&b);
	} else if (!strcmp(n, "writev") || !strcmp(n, "pwritev") ||
		   !strcmp(n, "pwritev2")) {
		/* writev N LEN TAG; pwritev N LEN OFF TAG; pwritev2 N LEN OFF TAG FLAGS */
		bool pos = n[0] == 'p';
		int cnt = (int)NUM(1);
		size_t len = (size_t)NUM(2);
		if (cnt < 1 || cnt > 1024)
			die("%s: bad iovec count", n);
		struct buf b = buf_pat(c, (size_t)cnt * len, ARG(pos ? 4 : 3));
		struct iovec iov[1024];
		for (int k = 0; k < cnt; k++) {
			iov[k].iov_base = b.p + (size_t)k * len;
			iov[k].iov_len = len;
		}
		if (!pos) {
			DO(writev(c->cur, iov, cnt));
		} else if (n[7] == 0) {
			DO(pwritev(c->cur, iov, cnt, NUM(3)));
		} else {
			int fl = 0;
			const char *f = ARG(5);
			if (strstr(f, "dsync"))
				fl |= RWF_DSYNC;
			if (strstr(f, "hipri"))
				fl |= RWF_HIPRI;
			if (strstr(f, "append"))
				fl |= RWF_APPEND;
			DO(pwritev2(c->cur, iov, cnt, NUM(3), fl));
		}
		if (r >= 0 && r != (long)(cnt * len) && !c->quiet_fail)
			die("%s: short write %ld of %zu", n, r, cnt * len);
		buf_free(&b);
	} else if (!strcmp(n, "mmapwrite")) {
		/* mmapwrite OFF LEN TAG: through a MAP_SHARED mapping, no msync */
		long off = NUM(1);
		struct buf b = buf_pat(c, (size_t)NUM(2), ARG(3));
		long pg = off / 4096 * 4096;
		size_t mlen = (size_t)(off - pg) + b.len;
		void *m;
		DO((m = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED,
			     c->cur, pg)) == MAP_FAILED ? -1 : 0);
		if (m != MAP_FAILED) {
			memcpy((char *)m + (off - pg), b.p, b.len);
			munmap(m, mlen);
		}
		buf_free(&b);
	} else if (!strcmp(n, "mprotectwrite") || !strcmp(n, "mremapwrite")) {
		/*
		 * mprotectwrite OFF LEN TAG [pkey]: a read-only MAP_SHARED
		 * mapping made writable by mprotect (pkey: pkey_mprotect);
		 * mremapwrite OFF LEN TAG: the same after mremap moved it.
		 */
		long off = NUM(1);
		struct buf b = buf_pat(c, (size_t)NUM(2), ARG(3));
		long pg = off / 4096 * 4096;
		size_t mlen = (size_t)(off - pg) + b.len;
		char *m = mmap(NULL, mlen, PROT_READ, MAP_SHARED, c->cur, pg);
		if (m == MAP_FAILED)
			die("mmap: %s", strerror(errno));
		if (n[1] == 'r') {
			/* a hole after it, so that growing must move it */
			void *hole = mmap(m + ((mlen + 4095) & ~4095UL), 4096,
					  PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
					  MAP_FIXED_NOREPLACE, -1, 0);
			char *nm = mremap(m, mlen, mlen + 4096, MREMAP_MAYMOVE);
			if (nm == MAP_FAILED)
				die("mremap: %s", strerror(errno));
			if (hole != MAP_FAILED)
				munmap(hole, 4096);
			if (nm == m)
				die("mremap did not move the mapping");
			m = nm;
			mlen += 4096;
		}
		if (argc >= 4 && !strcmp(ARG(4), "pkey"))
			DO(pkey_mprotect(m, mlen, PROT_READ | PROT_WRITE, -1));
		else
			DO(mprotect(m, mlen, PROT_READ | PROT_WRITE));
		if (r == 0)
			memcpy(m + (off - pg), b.p, b.len);
		munmap(m, mlen);
		buf_free(&b);
	} else if (!strcmp(n, "mmapread")) {
		/* mmapread OFF LEN: through a read-only MAP_SHARED mapping */
		long off = NUM(1), len = NUM(2);
		long pg = off / 4096 * 4096;
		size_t mlen = (size_t)(off - pg + len);
		void *m;
		DO((m = mmap(NULL, mlen, PROT_READ, MAP_SHARED, c->cur, pg)) ==
		   MAP_FAILED ? -1 : 0);
		if (m != MAP_FAILED) {
			volatile char sum = 0;
			for (size_t k = 0; k < mlen; k += 4096)
				sum += ((char *)m)[k];
			munmap(m, mlen);
		}
	} else if (!strcmp(n, "rename") || !strcmp(n, "link")) {
		/* rename SRC DST, link SRC DST */
		if (n[0] == 'r')
			DO(rename(ARG(1), ARG(2)));
		else
			DO(link(ARG(1), ARG(2)));
	} else if (!strcmp(n, "setuid")) {
		/* setuid UID [e|re|res]: setuid, seteuid, setreuid, setresuid */
		uid_t u = (uid_t)NUM(1);
		const char *how = argc >= 2 ? ARG(2) : "";
		if (!strcmp(how, "e"))
			DO(seteuid(u));
		else if (!strcmp(how, "re"))
			DO(setreuid(u, u));
		else if (!strcmp(how, "res"))
			DO(setresuid(u, u, u));
		else
			DO(setuid(u));
	} else if (!strcmp(n, "waitfor")) {
		/* waitfor PATH: until PATH exists (at most 60 s) */
		struct stat st;
		int k = 0;
		while (stat(ARG(1), &st) < 0) {
			if (++k > 6000)
				die("waitfor %s: timed out", ARG(1));
			usleep(10000);
		}
	} else if (!strcmp(n, "touch")) {
		/* touch PATH: creates it empty, for another process's waitfor */
		int t = open(ARG(1), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (t < 0)
			die("touch %s: %s", ARG(1), strerror(errno));
		close(t);
	} else if (!strcmp(n, "copyrange") || !strcmp(n, "sendfile")) {
		/*
		 * copyrange SRC SRCOFF DSTOFF LEN: glibc's copy_file_range;
		 * sendfile SRC SRCOFF LEN: at the current position.
		 */
		int in = open(ARG(1), O_RDONLY);
		if (in < 0)
			die("open %s: %s", ARG(1), strerror(errno));
		off_t so = NUM(2);
		if (n[0] == 'c') {
			off_t dof = NUM(3);
			DO(copy_file_range(in, &so, c->cur, &dof, (size_t)NUM(4), 0));
		} else {
			DO(sendfile(c->cur, in, &so, (size_t)NUM(3)));
		}
		close(in);
	} else if (!strcmp(n, "aiowrite") || !strcmp(n, "liowrite")) {
		/* glibc's aio threads write by an internal call */
		struct buf b = buf_pat(c, (size_t)NUM(2), ARG(3));
		struct aiocb cb = {
			.aio_fildes = c->cur, .aio_offset = NUM(1),
			.aio_buf = b.p, .aio_nbytes = b.len,
			.aio_lio_opcode = LIO_WRITE,
		};
		struct aiocb *list[1] = { &cb };
		ssize_t q = n[0] == 'a' ? aio_write(&cb) :
			    lio_listio(LIO_WAIT, list, 1, NULL);
		if (q == 0) {
			const struct aiocb *w[1] = { &cb };
			while (aio_error(&cb) == EINPROGRESS)
				aio_suspend(w, 1, NULL);
			errno = aio_error(&cb);
			q = aio_return(&cb);
		}
		DO(q);
		buf_free(&b);
	} else if (!strcmp(n, "splice")) {
		/* splice OFF LEN TAG: LEN bytes of TAG through a pipe to OFF */
		struct buf b = buf_pat(c, (size_t)NUM(2), ARG(3));
		int p[2];
		if (b.len > 65536 || pipe(p) < 0 ||
		    write(p[1], b.p, b.len) != (ssize_t)b.len)
			die("splice: cannot fill a pipe");
		off_t off = NUM(1);
		DO(splice(p[0], NULL, c->cur, &off, b.len, 0));
		close(p[0]);
		close(p[1]);
		buf_free(&b);
	} else if (!strcmp(n, "fill")) {
		/* fill OFF LEN TAG: positioned writes until one fails */
		struct buf b = buf_pat(c, (size_t)NUM(2), ARG(3));
		long off = NUM(1), total = 0;
		for (;;) {
			ssize_t w = pwrite(c->cur, b.p, b.len, off);
			if (w <= 0)
				break;
			off += w;
			total += w;
		}
		int e = errno;
		buf_free(&b);
		out(1, "fill: %ld bytes, then %s\n", total, ename(e));
		r = total;
		last_r = r;
	} else if (!strcmp(n, "fsync")) {
		DO(fsync(c->cur));
	} else if (!strcmp(n, "fdatasync")) {
		DO(fdatasync(c->cur));
	} else if (!strcmp(n, "sfr")) {
		DO(sync_file_range(c->cur, NUM(1), NUM(2),
				   SYNC_FILE_RANGE_WAIT_BEFORE |
				   SYNC_FILE_RANGE_WRITE |
				   SYNC_FILE_RANGE_WAIT_AFTER));
	} else if (!strcmp(n, "close")) {
		DO(close(c->cur));
	} else if (!strcmp(n, "dup")) {
		DO(dup(c->cur));
		if (r >= 0)
			c->cur = (int)r;
	} else if (!strcmp(n, "dup2")) {
		DO(dup2(c->cur, (int)NUM(1)));
	} else if (!strcmp(n, "closefrom")) {
		/* glibc's closefrom: close_range inside libc, not ours */
		closefrom((int)NUM(1));
	} else if (!strcmp(n, "seek")) {
		DO(lseek(c->cur, NUM(1), SEEK_SET));
	} else if (!strcmp(n, "pos")) {
		DO(lseek(c->cur, 0, SEEK_CUR));
		out(1, "pos %ld\n", r);
	} else if (!strcmp(n, "size")) {
		struct stat st;
		DO(fstat(c->cur, &st));
		out(1, "size %lld\n", (long long)st.st_size);
	} else if (!strcmp(n, "ftruncate")) {
		DO(ftruncate(c->cur, NUM(1)));
	} else if (!strcmp(n, "fallocate")) {
		DO(fallocate(c->cur, 0, NUM(1), NUM(2)));
	} else if (!strcmp(n, "fopen")) {
		if (argc >= 2)
			path = ARG(2);
		FILE *f;
		DO((f = fopen(path, ARG(1))) ? fileno(f) : -1);
		c->stream = f;
		if (f)
			c->cur = fileno(f);
	} else if (!strcmp(n, "fwrite")) {
		struct buf b = buf_pat(c, (size_t)NUM(1), ARG(2));
		if (!c->stream)
			die("fwrite: no stream");
		if (fwrite(b.p, 1, b.len, c->stream) != b.len)
			die("fwrite: %s", strerror(errno));
		buf_free(&b);
	} else if (!strcmp(n, "dprintf") || !strcmp(n, "stdout")) {
		/* dprintf LEN, stdout LEN: LEN '0' characters by glibc's
		 * internal write (stdout: through the stream, flushed) */
		int len = (int)NUM(1);
		if (n[0] == 'd') {
			DO(dprintf(c->cur, "%0*d", len, 0));
		} else {
			DO(printf("%0*d", len, 0));
			if (fflush(stdout))
				die("fflush(stdout): %s", strerror(errno));
		}
	} else if (!strcmp(n, "fflush")) {
		DO(fflush(c->stream) == 0 ? 0 : -1);
	} else if (!strcmp(n, "fclose")) {
		DO(fclose(c->stream) == 0 ? 0 : -1);
		c->stream = NULL;
	} else if (!strcmp(n, "pipe")) {
		int p[2];
		DO(pipe(p));
		var_set("r", p[0]);
		var_set("w", p[1]);
		c->cur = p[1];
	} else if (!strcmp(n, "read") || !strcmp(n, "verify")) {
		/* read LEN TAG (at the position); verify OFF LEN TAG (pread) */
		bool at = n[0] == 'v';
		size_t len = (size_t)NUM(at ? 2 : 1);
		struct buf want = buf_pat(c, len, ARG(at ? 3 : 2));
		struct buf got = buf_new(len);
		size_t have = 0;
		while (have < len) {
			ssize_t g = at ? pread(c->cur, got.p + have, len - have,
					       NUM(1) + (off_t)have)
				       : read(c->cur, got.p + have, len - have);
			if (g < 0)
				die("%s: %s", n, strerror(errno));
			if (g == 0)
				break;
			have += (size_t)g;
		}
		if (have != len || memcmp(got.p, want.p, len))
			die("%s: the data differs from %s (%zu of %zu bytes read)",
			    n, ARG(at ? 3 : 2), have, len);
		buf_free(&want);
		buf_free(&got);
	} else if (!strcmp(n, "fds")) {
		out(1, "fds %d\n", count_fds(argc >= 1 ? ARG(1) : path));
	} else if (!strcmp(n, "dirty")) {
		/* dirty: the page cache's count, by a call no wrapper sees */
		struct { uint64_t off, len; } range = { 0, 0 };
		struct { uint64_t cache, dirty, writeback, evicted, recent; } cs;
		DO(syscall(__NR_cachestat, c->cur, &range, &cs, 0));
		if (r >= 0)
			out(1, "dirty %llu\n",
			    (unsigned long long)(cs.dirty + cs.writeback));
	} else if (!strcmp(n, "secure")) {
		out(1, "secure %lu\n", getauxval(AT_SECURE));
	} else if (!strcmp(n, "mapped")) {
		char line[PATH_MAX + 128];
		int cnt = 0;
		FILE *m = fopen("/proc/self/maps", "r");
		if (!m)
			die("/proc/self/maps: %s", strerror(errno));
		while (fgets(line, sizeof(line), m))
			cnt += strstr(line, ARG(1)) != NULL;
		fclose(m);
		out(1, "mapped %d\n", cnt);
	} else if (!strcmp(n, "mark")) {
		/* Visible in strace as access("/wt-mark/NAME"). */
		char m[128];
		snprintf(m, sizeof(m), "/wt-mark/%s", ARG(1));
		syscall(SYS_access, m, F_OK);
	} else if (!strcmp(n, "sleep")) {
		struct timespec ts = { NUM(1) / 1000, NUM(1) % 1000 * 1000000 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	} else if (!strcmp(n, "print")) {
		out(1, "%s\n", ARG(1));
	} else if (!strcmp(n, "hold")) {
		for (;;)
			pause();
	} else if (!strcmp(n, "exit")) {
		_exit((int)NUM(1));
	} else if (!strcmp(n, "records")) {
		/*
		 * records W N SIZE [EVERY]: N whole records by writer W, by
		 * write(), with an fdatasync after every EVERY records.
		 */
		long w = NUM(1), cnt = NUM(2), every = argc >= 4 ? NUM(4) : 0;
		size_t size = (size_t)NUM(3);
		struct buf b = buf_new(size);
		for (long s = 0; s < cnt; s++) {
			record_fill(b.p, size, w, s);
			DO(write(c->cur, b.p, size));
			if (r != (long)size)
				die("records: short write %ld", r);
			if (every && (s + 1) % every == 0)
				DO(fdatasync(c->cur));
		}
		buf_free(&b);
	} else if (!strcmp(n, "sigalrm")) {
		/*
		 * sigalrm USEC OFF LEN TAG [PATH]: a timer whose handler writes
		 * and syncs the current fd, or opens PATH, writes, syncs and
		 * closes it
		 */
		sig_buf = buf_pat(c, (size_t)NUM(3), ARG(4));
		sig_fd = c->cur;
		sig_path = argc >= 5 ? strdup(ARG(5)) : NULL;
		sig_off = NUM(2);
		struct sigaction sa = { .sa_handler = on_alarm };
		sa.sa_flags = SA_RESTART;
		sigaction(SIGALRM, &sa, NULL);
		struct itimerval it = { { 0, NUM(1) }, { 0, NUM(1) } };
		setitimer(ITIMER_REAL, &it, NULL);
	} else if (!strcmp(n, "mallocs")) {
		/* mallocs N: N malloc/free pairs of varied sizes (a signal
		 * handler then mostly interrupts the allocator) */
		long cnt = NUM(1);
		for (long k = 0; k < cnt; k++) {
			void *volatile p = malloc((size_t)(k % 29 + 1) * 2048);
			free(p);
		}
	} else if (!strcmp(n, "sigstop")) {
		struct itimerval it = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_REAL, &it, NULL);
		/* One more, so that at least one handler ran. */
		raise(SIGALRM);
		if (atomic_load(&sig_errors))
			die("%ld signal-handler writes failed",
			    atomic_load(&sig_errors));
		out(1, "signals %s\n", atomic_load(&sig_count) > 1 ? "many" : "one");
	} else if (!strcmp(n, "scribble")) {
		/*
		 * scribble N OFF LEN X Y [sync]: N pwrites (each followed by an
		 * fdatasync with `sync`) of a buffer that another thread keeps
		 * rewriting with the patterns X and Y; then every byte of the
		 * file must be X's or Y's.
		 */
		long cnt = NUM(1), off = NUM(2);
		bool sync = argc >= 6 && !strcmp(ARG(6), "sync");
		size_t len = (size_t)NUM(3);
		struct scribble s = { .len = len };
		s.hx = tag_hash(c, ARG(4));
		s.hy = tag_hash(c, ARG(5));
		if (((s.hx + (s.hx >> 8)) & 0xff) == ((s.hy + (s.hy >> 8)) & 0xff))
			die("scribble: tags %s and %s share bytes", ARG(4), ARG(5));
		struct buf b = buf_pat(c, len, ARG(4));
		s.p = b.p;
		pthread_t th;
		pthread_create(&th, NULL, scribbler, &s);
		for (long k = 0; k < cnt; k++) {
			DO(pwrite(c->cur, b.p, len, off));
			if (r != (long)len)
				die("scribble: short write %ld", r);
			if (sync)
				DO(fdatasync(c->cur));
		}
		atomic_store(&s.stop, true);
		pthread_join(th, NULL);
		struct buf got = buf_new(len);
		if (pread(c->cur, got.p, len, off) != (ssize_t)len)
			die("scribble: short read");
		for (size_t k = 0; k < len; k++)
			if (got.p[k] != pat(s.hx, k) && got.p[k] != pat(s.hy, k))
				die("scribble: byte %zu is %u, neither %u nor %u", k,
				    got.p[k], pat(s.hx, k), pat(s.hy, k));
		out(1, "scribble: every byte old or new\n");
		buf_free(&b);
		buf_free(&got);
	} else if (!strcmp(n, "vforkwrite")) {
		/* vforkwrite OFF LEN TAG: pwrite in a vfork child */
		struct buf b = buf_pat(c, (size_t)NUM(2), ARG(3));
		off_t off = NUM(1);
		int fd = c->cur;
		pid_t pid = vfork();
		if (pid == 0)
			_exit(pwrite(fd, b.p, b.len, off) == (ssize_t)b.len ? 0 : 1);
		if (pid < 0)
			die("vfork: %s", strerror(errno));
		wait_child(pid, "vfork child");
		buf_free(&b);
	} else if (!strcmp(n, "repeat")) {
		long cnt = NUM(1);
		int e = block_end(cmd + 2);
		struct ctx in = *c;
		in.j = c->i;
		for (long k = 0; k < cnt; k++) {
			in.i = k;
			run(&in, cmd + 3, e);
		}
		c->cur = in.cur;
		c->stream = in.stream;
		return e + 1;
	} else if (!strcmp(n, "threads") || !strcmp(n, "spawn")) {
		/* threads N { }: run and join; spawn { }: one, joined by join */
		bool bg = n[0] == 's';
		long cnt = bg ? 1 : NUM(1);
		int open = cmd + (bg ? 1 : 2);
		int e = block_end(open);
		if (cnt < 1 || cnt > MAXSPAWN)
			die("%s: bad count", n);
		pthread_t th[MAXSPAWN];
		for (long k = 0; k < cnt; k++) {
			struct thread_arg *a = malloc(sizeof(*a));
			a->c = *c;
			a->c.t = bg ? nspawned : k;
			a->from = open + 1;
			a->to = e;
			if (pthread_create(bg ? &spawned[nspawned++] : &th[k], NULL,
					   thread_main, a))
				die("pthread_create failed");
		}
		for (long k = 0; !bg && k < cnt; k++)
			pthread_join(th[k], NULL);
		return e + 1;
	} else if (!strcmp(n, "join")) {
		for (int k = 0; k < nspawned; k++)
			pthread_join(spawned[k], NULL);
		nspawned = 0;
	} else if (!strcmp(n, "child") || !strcmp(n, "_fork") ||
		   !strcmp(n, "bg")) {
		/* child/_fork { }: fork (or _Fork) and wait; bg { }: wait later */
		int e = block_end(cmd + 1);
		pid_t pid = n[0] == '_' ? _Fork() : fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			struct ctx in = *c;
			run(&in, cmd + 2, e);
			_exit(0);
		}
		if (n[0] == 'b') {
			if (nbgkids == MAXSPAWN)
				die("too many bg children");
			bgkids[nbgkids++] = pid;
		} else {
			wait_child(pid, "child");
		}
		return e + 1;
	} else if (!strcmp(n, "wait")) {
		for (int k = 0; k < nbgkids; k++)
			wait_child(bgkids[k], "bg child");
		nbgkids = 0;
	} else if (!strcmp(n, "exec") || !strcmp(n, "pspawn") ||
		   !strcmp(n, "vexec")) {
		/*
		 * exec { }: fork, and exec this program on the block, same fd;
		 * pspawn { }: the same by posix_spawn; vexec { }: by vfork
		 */
		int e = block_end(cmd + 1);
		char script[8192] = "", fdarg[16];
		size_t at = 0;
		for (int k = cmd + 2; k < e && at < sizeof(script); k++)
			at += (size_t)snprintf(script + at, sizeof(script) - at,
					       "%s ", tok[k]);
		snprintf(fdarg, sizeof(fdarg), "%d", c->cur);
		char *av[8];
		int ac = 0;
		av[ac++] = "wt-writer";
		if (check_errno)
			av[ac++] = "-E";
		av[ac++] = "-f";
		av[ac++] = fdarg;
		av[ac++] = (char *)file_arg;
		av[ac++] = script;
		av[ac] = NULL;
		/*
		 * This program by its path: execing /proc/self/exe under
		 * valgrind runs valgrind's tool. A binary replaced since it
		 * started ("… (deleted)") is still there as /proc/self/exe.
		 */
		char self[PATH_MAX];
		ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[sl > 0 ? sl : 0] = 0;
		if (sl <= 0 || strstr(self, " (deleted)"))
			strcpy(self, "/proc/self/exe");
		pid_t pid;
		if (n[0] == 'p') {
			int err = posix_spawn(&pid, self, NULL, NULL, av, environ);
			if (err)
				die("posix_spawn: %s", strerror(err));
		} else if (n[0] == 'v') {
			pid = vfork();
			if (pid == 0) {
				execv(self, av);
				_exit(127);
			}
		} else {
			pid = fork();
			if (pid == 0) {
				execv(self, av);
				die("exec: %s", strerror(errno));
			}
		}
		if (pid < 0)
			die("%s: %s", n, strerror(errno));
		wait_child(pid, "exec'd child");
		return e + 1;
	} else {
		die("unknown command '%s'", n);
	}
	return end;
}

/* Runs the commands in tokens [from, to). */
static int run(struct ctx *c, int from, int to)
{
	int k = from;
	while (k < to) {
		if (!strcmp(tok[k], ";")) {
			k++;
			continue;
		}
		/* A command runs to the next ';' at its level, or its block. */
		int end = k;
		while (end < to && strcmp(tok[end], ";") && strcmp(tok[end], "{"))
			end++;
		k = step(c, k, end);
	}
	return 0;
}

/* Splits the script in place; ';', '{', '}' and newlines are tokens. */
static void tokenise(char *s)
{
	static char *sep[] = { ";", "{", "}" };

	for (char *p = s; *p;) {
		if (ntok == MAXTOK)
			die("script too long");
		if (*p == ' ' || *p == '\t' || *p == '\r') {
			*p++ = 0;
		} else if (strchr(";\n{}", *p)) {
			tok[ntok++] = sep[*p == '{' ? 1 : *p == '}' ? 2 : 0];
			*p++ = 0;
		} else {
			tok[ntok++] = p;
			while (*p && !strchr(" \t\r\n;{}", *p))
				p++;
		}
	}
}

int main(int argc, char **argv)
{
	struct ctx c = { .cur = -1 };
	int k = 1;

	if (argc == 4 && !strcmp(argv[1], "--records"))
		return check_records(argv[2], (size_t)atol(argv[3]));
	for (; k < argc && argv[k][0] == '-'; k++) {
		if (!strcmp(argv[k], "-E"))
			check_errno = true;
		else if (!strcmp(argv[k], "-f") && k + 1 < argc)
			c.cur = atoi(argv[++k]);
		else
			break;
	}
	if (argc - k != 2) {
		out(2, "usage: wt-writer [-E] [-f FD] FILE SCRIPT\n"
		       "       wt-writer --records FILE SIZE\n");
		return 2;
	}
	file_arg = argv[k];
	tokenise(strdup(argv[k + 1]));
	run(&c, 0, ntok);
	for (int s = 0; s < nspawned; s++)
		pthread_join(spawned[s], NULL);
	for (int b = 0; b < nbgkids; b++)
		wait_child(bgkids[b], "bg child");
	return 0;
}
