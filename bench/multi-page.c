/* SPDX-License-Identifier: MIT */
/*
 * multi-page - what a durable write of several 8 KiB pages costs, by
 * strategy, without the library (the strategies the library chooses from):
 *
 *   stock     pwrite + fdatasync
 *   whole     one O_DIRECT pwritev2 RWF_DSYNC of all pages
 *   pieces    naturally aligned power-of-two pieces, each O_DIRECT RWF_DSYNC
 *   chain     the same pieces without DSYNC, linked in one io_uring
 *             submission with one trailing linked datasync
 *   -a        adds RWF_ATOMIC to every piece (pieces, chain, whole)
 *
 *   multi-page [-n N] [-p PAGES] [-m MODE] [-a] FILE
 * Prints "median_us=… p99_us=…" for N writes at page offsets cycling over
 * a 4 MiB preallocated file.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

#define PAGE 8192
#define SPAN (4 << 20)

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "multi-page: %s: %s\n", what, strerror(errno));
	exit(1);
}

struct piece { size_t off, len; };

static int split(size_t off, size_t len, struct piece *p)
{
	int n = 0;
	while (len) {
		size_t sz = (size_t)1 << (63 - __builtin_clzll(len));
		while (off % sz)
			sz >>= 1;
		p[n++] = (struct piece){ off, sz };
		off += sz;
		len -= sz;
	}
	return n;
}

int main(int argc, char **argv)
{
	int n = 500, pages = 3, atomic = 0, opt;
	const char *mode = "stock";
	while ((opt = getopt(argc, argv, "n:p:m:a")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'p': pages = atoi(optarg); break;
		case 'm': mode = optarg; break;
		case 'a': atomic = RWF_ATOMIC; break;
		default: return 2;
		}
	}
	if (optind >= argc || n < 1 || pages < 1 || pages * PAGE > SPAN) {
		fprintf(stderr, "usage: multi-page [-n N] [-p PAGES] [-m stock|whole|pieces|chain] [-a] FILE\n");
		return 2;
	}
	const char *path = argv[optind];
	size_t len = (size_t)pages * PAGE;
	char *buf;
	if (posix_memalign((void **)&buf, 4096, SPAN))
		die("memory");
	memset(buf, 'w', SPAN);

	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pwrite(fd, buf, SPAN, 0) != SPAN || fsync(fd))
		die("preallocate");
	int dfd = strcmp(mode, "stock") ? open(path, O_WRONLY | O_DIRECT) : fd;
	if (dfd < 0)
		die("O_DIRECT");
	struct io_uring ring;
	if (!strcmp(mode, "chain") && io_uring_queue_init(64, &ring, 0) < 0)
		die("io_uring");

	double *lat = malloc(sizeof(double) * (size_t)n);
	struct piece p[64];
	for (int i = 0; i < n; i++) {
		/* Offsets step by one page so that pieces vary as in WAL. */
		size_t off = ((size_t)i * PAGE) % (SPAN - len + PAGE);
		off -= off % PAGE;
		buf[off % SPAN] = (char)i;
		double t0 = now_us();
		if (!strcmp(mode, "stock")) {
			if (pwrite(fd, buf + off, len, (off_t)off) != (ssize_t)len ||
			    fdatasync(fd))
				die("stock");
		} else if (!strcmp(mode, "whole")) {
			struct iovec v = { buf + off, len };
			if (pwritev2(dfd, &v, 1, (off_t)off, RWF_DSYNC | atomic) != (ssize_t)len)
				die("whole");
		} else if (!strcmp(mode, "pieces")) {
			int k = split(off, len, p);
			for (int j = 0; j < k; j++) {
				struct iovec v = { buf + p[j].off, p[j].len };
				if (pwritev2(dfd, &v, 1, (off_t)p[j].off,
					     RWF_DSYNC | atomic) != (ssize_t)p[j].len)
					die("pieces");
			}
		} else if (!strcmp(mode, "chain")) {
			int k = split(off, len, p);
			for (int j = 0; j <= k; j++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
				if (j < k) {
					io_uring_prep_write(sqe, dfd, buf + p[j].off,
							    (unsigned)p[j].len, p[j].off);
					sqe->rw_flags = atomic;
					sqe->flags |= IOSQE_IO_LINK;
				} else {
					io_uring_prep_fsync(sqe, dfd, IORING_FSYNC_DATASYNC);
				}
			}
			if (io_uring_submit_and_wait(&ring, (unsigned)k + 1) < 0)
				die("submit");
			for (int j = 0; j <= k; j++) {
				struct io_uring_cqe *cqe;
				if (io_uring_wait_cqe(&ring, &cqe))
					die("wait");
				if (cqe->res < 0) {
					errno = -cqe->res;
					die("chain");
				}
				io_uring_cqe_seen(&ring, cqe);
			}
		} else {
			fprintf(stderr, "multi-page: unknown mode %s\n", mode);
			return 2;
		}
		lat[i] = now_us() - t0;
	}
	qsort(lat, (size_t)n, sizeof(double), cmp);
	printf("mode=%s pages=%d atomic=%d n=%d median_us=%.1f p99_us=%.1f\n",
	       mode, pages, !!atomic, n, lat[n / 2], lat[(n * 99) / 100]);
	return 0;
}
