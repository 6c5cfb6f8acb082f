/* SPDX-License-Identifier: MIT */
/*
 * burst - the cost of many writes before one sync, the case walthrough must
 * leave to the page cache (a bulk load, a new WAL segment).
 *
 *   burst -m writes [-n N] FILE     N (2000) × 8 KiB pwrite at consecutive
 *                                   offsets of a preallocated file, then one
 *                                   fdatasync
 *   burst -m zerofill FILE          a new 16 MiB file zero-filled as
 *                                   PostgreSQL 15 does it: 64 × pwritev of
 *                                   32 × 8 KiB iovecs from a buffer that is
 *                                   8-byte but not 4 KiB aligned, then fsync
 *
 * Prints one line: mode, total, write phase and sync phase in ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BS 8192
#define SEG_IOVS 32
#define SEG_CALLS 64

static void die(const char *what)
{
	fprintf(stderr, "burst: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: burst -m writes|zerofill [-n N] FILE\n");
	exit(2);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* N × 8 KiB pwrite, one fdatasync. Returns the write phase's end time. */
static double run_writes(const char *path, long n, double *t0)
{
	char *buf, *zero = calloc(1, BS);
	double t1;
	long i;
	int fd;

	if (!zero || posix_memalign((void **)&buf, BS, BS))
		die("alloc");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	for (i = 0; i < n; i++)
		if (pwrite(fd, zero, BS, (off_t)i * BS) != BS)
			die("pwrite (zero-fill)");
	if (fsync(fd) || close(fd))
		die("fsync (zero-fill)");

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(path);
	*t0 = now_ms();
	for (i = 0; i < n; i++) {
		memset(buf, (int)(i & 0xff), BS);
		if (pwrite(fd, buf, BS, (off_t)i * BS) != BS)
			die("pwrite");
	}
	t1 = now_ms();
	if (fdatasync(fd))
		die("fdatasync");
	close(fd);
	free(buf);
	free(zero);
	return t1;
}

/* 64 × pwritev(32 × 8 KiB) of zeros into a new file, one fsync. */
static double run_zerofill(const char *path, double *t0)
{
	struct iovec iov[SEG_IOVS];
	char *mem, *zbuf;
	double t1;
	int fd, i;

	/* 8-byte aligned, deliberately not 4 KiB aligned. */
	if (posix_memalign((void **)&mem, 4096, BS + 4096))
		die("alloc");
	zbuf = mem + 8;
	memset(zbuf, 0, BS);
	for (i = 0; i < SEG_IOVS; i++) {
		iov[i].iov_base = zbuf;
		iov[i].iov_len = BS;
	}
	if (unlink(path) && errno != ENOENT)
		die("unlink");

	*t0 = now_ms();
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	for (i = 0; i < SEG_CALLS; i++) {
		ssize_t want = (ssize_t)SEG_IOVS * BS;

		if (pwritev(fd, iov, SEG_IOVS, (off_t)i * want) != want)
			die("pwritev");
	}
	t1 = now_ms();
	if (fsync(fd))
		die("fsync");
	close(fd);
	free(mem);
	return t1;
}

int main(int argc, char **argv)
{
	const char *mode = NULL;
	double t0, t1, t2;
	long n = 2000;
	int c;

	while ((c = getopt(argc, argv, "m:n:")) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'n': n = atol(optarg); break;
		default: usage();
		}
	}
	if (!mode || optind != argc - 1 || n < 1)
		usage();
	if (!strcmp(mode, "writes"))
		t1 = run_writes(argv[optind], n, &t0);
	else if (!strcmp(mode, "zerofill"))
		t1 = run_zerofill(argv[optind], &t0);
	else
		usage();
	t2 = now_ms();
	printf("burst: mode=%s total_ms=%.2f write_ms=%.2f sync_ms=%.2f\n",
	       mode, t2 - t0, t1 - t0, t2 - t1);
	return 0;
}
