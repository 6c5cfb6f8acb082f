/* SPDX-License-Identifier: MIT */
/*
 * overhead - what an intercepted call costs on an fd that matches no rule:
 * N (10 M) × write(fd, 64 bytes) to FILE (e.g. /dev/null, or a file no
 * rule tracks). A regular file is rewound every 1 MiB so that it stays
 * small: one lseek per 16384 writes.
 *
 *   overhead [-n N] FILE
 *
 * Prints one line: file, n, total seconds, ns per call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WSIZE 64
#define REWIND (1 << 20)

static void die(const char *what)
{
	fprintf(stderr, "overhead: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	char buf[WSIZE];
	long n = 10000000, i, per_rewind;
	struct timespec a, b;
	struct stat st;
	double s;
	int fd, c;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		switch (c) {
		case 'n': n = atol(optarg); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || n < 1)
		goto usage;

	fd = open(argv[optind], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st))
		die(argv[optind]);
	per_rewind = S_ISREG(st.st_mode) ? REWIND / WSIZE : 0;
	memset(buf, 'x', sizeof(buf));

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		if (per_rewind && i % per_rewind == 0 && lseek(fd, 0, SEEK_SET) < 0)
			die("lseek");
		if (write(fd, buf, WSIZE) != WSIZE)
			die("write");
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	close(fd);

	s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	printf("overhead: file=%s n=%ld total_s=%.3f ns_per_call=%.1f\n",
	       argv[optind], n, s, s * 1e9 / n);
	return 0;
usage:
	fprintf(stderr, "usage: overhead [-n N] FILE\n");
	return 2;
}
