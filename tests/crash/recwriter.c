/* SPDX-License-Identifier: MIT */
/*
 * recwriter - the simplest durable workload, and its checker.
 *
 *   recwriter prepare DIR COUNT          create the files, durably
 *   recwriter write DIR MARKER COUNT [HOW]   write records 1..COUNT
 *   recwriter check DIR ACKED            records 1..ACKED must be intact
 *
 * `prepare` creates DIR/append.dat empty and DIR/overwrite.dat zero-filled,
 * and syncs both and DIR (run it outside any preload under test, so that a
 * control that drops syncs loses records, not the files). `write` appends
 * "start\n" to MARKER, then for each id: pwrite the record, fdatasync,
 * append "acked ID\n" to MARKER. Odd ids are 1000-byte records appended to
 * append.dat (unaligned, the file grows); even ids are 8 KiB records
 * overwriting overwrite.dat (aligned, in place, as PostgreSQL's WAL).
 * HOW changes how the 8 KiB records reach overwrite.dat, as a program may
 * that goes around the library's bookkeeping (design 1b.14): `mmap`, every
 * other one by a store through a shared mapping made read-only and then
 * writable by mprotect; `rename`, every one through an fd opened while the
 * file had a name no rule covers (overwrite.tmp), renamed back before the
 * first record, and synced through an fd opened on the tracked name.
 * `check` prints "records N lost L corrupt C" and exits 1 if L or C is not
 * zero: a lost record reads as zeros or lies past the end of its file, a
 * corrupt one is anything else that is not the record.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define APPEND_SIZE	1000
#define OVERWRITE_SIZE	8192
#define REC_MAGIC	0x52454321u

struct rec_hdr {
	uint32_t	magic;
	uint32_t	id;
	uint32_t	len;
	uint32_t	sum;	/* over the payload */
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint32_t sum(const unsigned char *p, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Record id: where it lives, and its bytes into buf. */
static size_t rec_make(uint32_t id, unsigned char *buf, int *which, off_t *off)
{
	size_t len = (id & 1) ? APPEND_SIZE : OVERWRITE_SIZE, i;
	struct rec_hdr h = { REC_MAGIC, id, len, 0 };

	*which = !(id & 1);
	*off = (off_t)((id - 1) / 2) * len;
	for (i = sizeof(h); i < len; i++)
		buf[i] = mix((uint64_t)id << 32 | i) & 0xff;
	h.sum = sum(buf + sizeof(h), len - sizeof(h));
	memcpy(buf, &h, sizeof(h));
	return len;
}

static const char *names[2] = { "append.dat", "overwrite.dat" };

static int full_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int open_files(const char *dir, int fds[2], int flags)
{
	int dfd, which;

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0) {
		perror(dir);
		return -1;
	}
	for (which = 0; which < 2; which++) {
		fds[which] = openat(dfd, names[which], flags, 0644);
		if (fds[which] < 0 && !(errno == ENOENT && !(flags & O_CREAT))) {
			perror(names[which]);
			return -1;
		}
	}
	return dfd;
}

static int cmd_prepare(const char *dir, uint32_t count)
{
	static unsigned char zeros[OVERWRITE_SIZE];
	int dfd, fds[2];
	uint32_t i;

	dfd = open_files(dir, fds, O_RDWR | O_CREAT | O_TRUNC);
	if (dfd < 0)
		return 1;
	for (i = 0; i < count / 2 + 1; i++)
		if (full_write(fds[1], zeros, OVERWRITE_SIZE)) {
			perror(names[1]);
			return 1;
		}
	if (fsync(fds[0]) || fsync(fds[1]) || fsync(dfd)) {
		perror("fsync");
		return 1;
	}
	return close(fds[0]) || close(fds[1]) || close(dfd);
}

/* A record stored through a read-only shared mapping made writable. */
static int map_store(int fd, const void *buf, size_t len, off_t off)
{
	char *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);

	if (m == MAP_FAILED)
		return -1;
	if (mprotect(m, len, PROT_READ | PROT_WRITE)) {
		munmap(m, len);
		return -1;
	}
	memcpy(m, buf, len);
	return munmap(m, len);
}

static int cmd_write(const char *dir, const char *marker, uint32_t count,
		     const char *how)
{
	static unsigned char buf[OVERWRITE_SIZE];
	int dfd, fds[2], mfd, which, wfd[2], r;
	char line[64];
	off_t off;
	uint32_t id;
	size_t len;
	bool by_map = !strcmp(how, "mmap"), renamed = !strcmp(how, "rename");

	if (!by_map && !renamed && *how) {
		fprintf(stderr, "recwriter: unknown way '%s'\n", how);
		return 2;
	}
	dfd = open_files(dir, fds, O_RDWR);
	if (dfd < 0)
		return 1;
	if (fds[0] < 0 || fds[1] < 0) {
		fprintf(stderr, "%s: run recwriter prepare first\n", dir);
		return 1;
	}
	wfd[0] = fds[0];
	wfd[1] = fds[1];
	if (renamed) {
		/* writes through an fd opened under the other name */
		if (renameat(dfd, names[1], dfd, "overwrite.tmp") ||
		    (wfd[1] = openat(dfd, "overwrite.tmp", O_RDWR)) < 0 ||
		    renameat(dfd, "overwrite.tmp", dfd, names[1])) {
			perror("rename");
			return 1;
		}
	}
	mfd = open(marker, O_WRONLY | O_APPEND);
	if (mfd < 0 || full_write(mfd, "start\n", 6)) {
		perror(marker);
		return 1;
	}
	for (id = 1; id <= count; id++) {
		len = rec_make(id, buf, &which, &off);
		if (by_map && which && id % 4 == 0)
			r = map_store(fds[which], buf, len, off);
		else
			r = pwrite(wfd[which], buf, len, off) == (ssize_t)len ? 0 : -1;
		if (r) {
			perror("write");
			return 1;
		}
		if (fdatasync(fds[which])) {
			perror("fdatasync");
			return 1;
		}
		snprintf(line, sizeof(line), "acked %u\n", id);
		if (full_write(mfd, line, strlen(line))) {
			perror(marker);
			return 1;
		}
	}
	return close(fds[0]) || close(fds[1]) || close(mfd) || close(dfd);
}

static int cmd_check(const char *dir, uint32_t acked)
{
	static unsigned char want[OVERWRITE_SIZE], got[OVERWRITE_SIZE];
	uint32_t id, lost = 0, corrupt = 0;
	int dfd, fds[2], which, shown = 0;
	off_t off;
	size_t len, i;
	ssize_t n;

	dfd = open_files(dir, fds, O_RDONLY);
	if (dfd < 0)
		return 2;
	for (id = 1; id <= acked; id++) {
		const char *what = NULL;

		len = rec_make(id, want, &which, &off);
		n = fds[which] < 0 ? 0 : pread(fds[which], got, len, off);
		if (n < 0) {
			what = "unreadable";
			corrupt++;
		} else if ((size_t)n < len) {
			for (i = 0; i < (size_t)n && !got[i]; i++)
				;
			what = i == (size_t)n ? "lost (past the end)" : "corrupt (short)";
			*(i == (size_t)n ? &lost : &corrupt) += 1;
		} else if (memcmp(got, want, len)) {
			for (i = 0; i < len && !got[i]; i++)
				;
			what = i == len ? "lost (zeros)" : "corrupt";
			*(i == len ? &lost : &corrupt) += 1;
		}
		if (what && shown++ < 10)
			fprintf(stderr, "record %u in %s at %jd: %s\n", id,
				names[which], (intmax_t)off, what);
	}
	printf("records %u lost %u corrupt %u\n", acked, lost, corrupt);
	return lost || corrupt;
}

int main(int argc, char *argv[])
{
	if (argc == 4 && !strcmp(argv[1], "prepare"))
		return cmd_prepare(argv[2], strtoul(argv[3], NULL, 10));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "write"))
		return cmd_write(argv[2], argv[3], strtoul(argv[4], NULL, 10),
				 argc == 6 ? argv[5] : "");
	if (argc == 4 && !strcmp(argv[1], "check"))
		return cmd_check(argv[2], strtoul(argv[3], NULL, 10));
	fprintf(stderr, "usage: recwriter prepare DIR COUNT\n"
		"       recwriter write DIR MARKER COUNT [mmap|rename]\n"
		"       recwriter check DIR ACKED\n");
	return 2;
}
