/* SPDX-License-Identifier: MIT */
/*
 * commit-latency - the latency of one WAL-style commit: an 8 KiB pwrite at a
 * page-aligned offset, each page rewritten 4 times (as PostgreSQL rewrites
 * its partly filled last WAL page), made durable.
 *
 *   commit-latency [-n N] [-m stock|raw] [-b BYTES] FILE
 *
 * stock: pwrite + fdatasync through the program's fd (what walthrough sees
 *        when preloaded). raw: the floor, an O_DIRECT fd and pwritev2 with
 *        RWF_DSYNC of an aligned buffer, no fdatasync.
 * FILE is zero-filled and fsynced before timing, then reopened.
 * Prints one line: mode, n, median, p99, mean, min and max in µs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define REWRITES 4

static void die(const char *what)
{
	fprintf(stderr, "commit-latency: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: commit-latency [-n N] [-m stock|raw] [-b BYTES] FILE\n");
	exit(2);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Writes zeros over [0, size) and makes them durable. */
static void prealloc(const char *path, size_t size, size_t bs)
{
	char *zero = calloc(1, bs);
	size_t off;
	int fd;

	if (!zero)
		die("calloc");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	for (off = 0; off < size; off += bs)
		if (pwrite(fd, zero, bs, off) != (ssize_t)bs)
			die("pwrite (zero-fill)");
	if (fsync(fd))
		die("fsync (zero-fill)");
	close(fd);
	free(zero);
}

int main(int argc, char **argv)
{
	long n = 1000, i;
	size_t bs = 8192;
	const char *mode = "stock";
	long long *lat, sum = 0;
	char *buf;
	int raw, fd, c;

	while ((c = getopt(argc, argv, "n:m:b:")) != -1) {
		switch (c) {
		case 'n': n = atol(optarg); break;
		case 'm': mode = optarg; break;
		case 'b': bs = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || n < 1 || !bs || bs % 4096)
		usage();
	if (strcmp(mode, "stock") && strcmp(mode, "raw"))
		usage();
	raw = !strcmp(mode, "raw");

	prealloc(argv[optind], ((n - 1) / REWRITES + 1) * bs, bs);
	fd = open(argv[optind], (raw ? O_WRONLY | O_DIRECT : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		die(raw ? "open O_DIRECT" : "open");
	/* Like PostgreSQL's WAL buffers: aligned to the page. */
	if (posix_memalign((void **)&buf, bs, bs))
		die("posix_memalign");
	lat = calloc(n, sizeof(*lat));
	if (!lat)
		die("calloc");

	for (i = 0; i < n; i++) {
		off_t off = (off_t)(i / REWRITES) * bs;
		struct iovec iov = { buf, bs };
		long long t0;
		ssize_t ret;

		memset(buf + (i % REWRITES) * (bs / REWRITES), (int)(i & 0xff), bs / REWRITES);
		t0 = now_ns();
		if (raw) {
			ret = pwritev2(fd, &iov, 1, off, RWF_DSYNC);
		} else {
			ret = pwrite(fd, buf, bs, off);
			if (ret == (ssize_t)bs && fdatasync(fd))
				die("fdatasync");
		}
		lat[i] = now_ns() - t0;
		if (ret != (ssize_t)bs)
			die(raw ? "pwritev2" : "pwrite");
		sum += lat[i];
	}
	if (close(fd))
		die("close");

	qsort(lat, n, sizeof(*lat), cmp_ll);
	printf("commit-latency: mode=%s n=%ld bytes=%zu median_us=%.1f p99_us=%.1f "
	       "mean_us=%.1f min_us=%.1f max_us=%.1f\n",
	       mode, n, bs, lat[n / 2] / 1e3, lat[(n * 99) / 100] / 1e3,
	       (double)sum / n / 1e3, lat[0] / 1e3, lat[n - 1] / 1e3);
	free(lat);
	free(buf);
	return 0;
}
