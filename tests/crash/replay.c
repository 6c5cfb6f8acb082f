/* SPDX-License-Identifier: MIT */
/*
 * replay - turn a logdisk log into the disk a power cut would leave.
 *
 *   replay list LOG
 *   replay image LOG BASE OUT POINT [MODE [SEED [TEAR]]]
 *
 * A crash at POINT (a record's sequence number) means every record up to
 * POINT happened and nothing after. Records up to F, the last FLUSH at or
 * before POINT, are on the disk. Records after F up to POINT were answered
 * but not flushed, so they sat in a volatile cache: MODE says what survived.
 *   keep    all of them           drop    none of them
 *   random  each one with probability 1/2, chosen from (SEED, its seq)
 * TEAR (0, 512, 4096 …) splits each surviving write into TEAR-sized,
 * TEAR-aligned units and keeps each unit with probability 1/2: a torn write.
 * The same (LOG, POINT, MODE, SEED, TEAR) always gives the same image.
 *
 * BASE is a working image kept at some flush, with its position in
 * BASE.state; it only moves forward, so crash points taken in ascending
 * order cost one pass over the log. OUT is a clone of BASE (FICLONE on a
 * reflink file system, else a sparse copy) with the window applied.
 * Prints one line: point, flush, window records, kept, torn.
 *
 * `list` prints a record per line: SEQ TYPE OFF LEN [TEXT], TYPE one of
 * W(rite) F(lush) P(unch) Z(ero) M(ark) S(ize); TEXT is a mark's text.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logfmt.h"

enum { M_KEEP, M_DROP, M_RANDOM };

struct log {
	FILE		*f;
	const char	*path;
	struct ld_hdr	hdr;
	char		*buf;		/* payload of the last record read */
	size_t		buf_size;
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "replay: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t mix(uint64_t x)
{
	/* splitmix64: a fixed function, so choices never depend on libc. */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int coin(uint64_t seed, uint64_t seq, uint64_t unit)
{
	return mix(mix(mix(seed) ^ seq) ^ unit) & 1;
}

static void log_open(struct log *lg, const char *path)
{
	lg->path = path;
	lg->f = fopen(path, "r");
	if (!lg->f)
		die("%s: cannot open", path);
	setvbuf(lg->f, NULL, _IOFBF, 1 << 20);
	if (fread(&lg->hdr, sizeof(lg->hdr), 1, lg->f) != 1 ||
	    memcmp(lg->hdr.magic, LD_MAGIC, sizeof(lg->hdr.magic)))
		die("%s: not a logdisk log", path);
}

enum { SKIP_DATA, READ_DATA, READ_MARKS };

/*
 * Reads the next record, its payload into lg->buf as want says (else it is
 * skipped). Returns 1 for a record, 0 at the end of the log.
 */
static int log_next(struct log *lg, struct ld_rec *rec, int want)
{
	size_t n = fread(rec, 1, sizeof(*rec), lg->f);

	if (n == 0 && feof(lg->f))
		return 0;
	/* A record cut short is the end: the daemon never answered it. */
	if (n != sizeof(*rec))
		return 0;
	if (rec->magic != LD_REC_MAGIC)
		die("%s: bad record magic", lg->path);
	if (!ld_has_payload(rec->type))
		return 1;
	if (want == SKIP_DATA || (want == READ_MARKS && rec->type != LD_MARK)) {
		if (fseeko(lg->f, rec->len, SEEK_CUR))
			die("%s: seek failed", lg->path);
		return 1;
	}
	if (rec->len > lg->buf_size) {
		free(lg->buf);
		lg->buf_size = rec->len;
		lg->buf = malloc(lg->buf_size);
		if (!lg->buf)
			die("%s: out of memory", lg->path);
	}
	if (fread(lg->buf, 1, rec->len, lg->f) != rec->len)
		return 0;
	return 1;
}

static void pwrite_all(int fd, const char *buf, size_t len, off_t off,
		       const char *name)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("%s: write failed", name);
		buf += n;
		len -= n;
		off += n;
	}
}

static void zero_range(int fd, uint64_t off, uint64_t len, int punch,
		       const char *name)
{
	static char zeros[1 << 16];
	int mode = FALLOC_FL_KEEP_SIZE |
		   (punch ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);

	if (!fallocate(fd, mode, off, len))
		return;
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		pwrite_all(fd, zeros, n, off, name);
		off += n;
		len -= n;
	}
}

/*
 * Applies one record to fd; a write only in the TEAR-sized units that
 * (seed, seq) keeps when tear is set. Returns 1 if a write came out torn.
 */
static int apply(int fd, const struct log *lg, const struct ld_rec *rec,
		 uint64_t tear, uint64_t seed, const char *name)
{
	uint64_t u, first, last, end = rec->off + rec->len;
	int torn = 0;

	switch (rec->type) {
	case LD_WRITE:
		if (!tear || !rec->len) {
			pwrite_all(fd, lg->buf, rec->len, rec->off, name);
			return 0;
		}
		first = rec->off / tear;
		last = (end - 1) / tear;
		for (u = first; u <= last; u++) {
			uint64_t s = u * tear, e = s + tear;

			if (s < rec->off)
				s = rec->off;
			if (e > end)
				e = end;
			if (first != last && !coin(seed, rec->seq, u + 1)) {
				torn = 1;
				continue;
			}
			pwrite_all(fd, lg->buf + (s - rec->off), e - s, s, name);
		}
		return torn;
	case LD_PUNCH:
	case LD_ZERO:
		zero_range(fd, rec->off, rec->len, rec->type == LD_PUNCH, name);
		return 0;
	case LD_SIZE:
		if (ftruncate(fd, rec->off))
			die("%s: truncate failed", name);
		return 0;
	}
	return 0;
}

static const char type_char[] = "?WFPZMS";

static int cmd_list(const char *path)
{
	struct log lg = { 0 };
	struct ld_rec rec;

	log_open(&lg, path);
	printf("# size %" PRIu64 "\n", lg.hdr.size);
	while (log_next(&lg, &rec, READ_MARKS)) {
		char t = rec.type < sizeof(type_char) - 1 ? type_char[rec.type] : '?';

		printf("%" PRIu64 " %c %" PRIu64 " %" PRIu64, rec.seq, t,
		       rec.off, rec.len);
		if (rec.type == LD_MARK) {
			size_t i;

			putchar(' ');
			for (i = 0; i < rec.len; i++) {
				char c = lg.buf[i];

				putchar(c == '\n' ? ' ' : (c < 32 || c > 126 ? '.' : c));
			}
		}
		putchar('\n');
	}
	return 0;
}

/* Clones src into a new dst; a sparse copy where cloning is refused. */
static void clone_file(int src, const char *dst_name, uint64_t size)
{
	int dst = open(dst_name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	off_t data, hole = 0;

	if (dst < 0)
		die("%s: cannot create", dst_name);
	if (!ioctl(dst, FICLONE, src))
		goto out;
	if (ftruncate(dst, size))
		die("%s: truncate failed", dst_name);
	for (;;) {
		data = lseek(src, hole, SEEK_DATA);
		if (data < 0)
			break;
		hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			die("%s: SEEK_HOLE failed", dst_name);
		off_t in = data, out = data;
		while (in < hole) {
			ssize_t n = copy_file_range(src, &in, dst, &out, hole - in, 0);

			if (n <= 0)
				die("%s: copy failed", dst_name);
		}
	}
out:
	if (close(dst))
		die("%s: close failed", dst_name);
}

static uint64_t num(const char *s, const char *what)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		die("bad %s", what);
	return v;
}

static int cmd_image(int argc, char *argv[])
{
	const char *log_path = argv[0], *base = argv[1], *out = argv[2];
	uint64_t point = num(argv[3], "point"), seed = 0, tear = 0;
	uint64_t base_seq = 0, seq, flush, window = 0, kept = 0, torn = 0;
	off_t base_off = sizeof(struct ld_hdr), flush_off;
	char state[4096], id[64];
	struct log lg = { 0 };
	struct ld_rec rec;
	struct stat st;
	int mode = M_KEEP, bfd, ofd;
	FILE *sf;

	if (argc > 4) {
		if (!strcmp(argv[4], "keep"))
			mode = M_KEEP;
		else if (!strcmp(argv[4], "drop"))
			mode = M_DROP;
		else if (!strcmp(argv[4], "random"))
			mode = M_RANDOM;
		else
			die("unknown mode %s", argv[4]);
	}
	if (argc > 5)
		seed = num(argv[5], "seed");
	if (argc > 6)
		tear = num(argv[6], "tear");
	if (tear & (tear - 1))
		die("tear %s is not a power of two", argv[6]);

	log_open(&lg, log_path);
	if (fstat(fileno(lg.f), &st))
		die("%s: stat failed", log_path);
	snprintf(id, sizeof(id), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	snprintf(state, sizeof(state), "%s.state", base);

	/* Where BASE stands; a new BASE is the all-zero image. */
	sf = fopen(state, "r");
	if (sf) {
		char sid[64];

		if (fscanf(sf, "%63s %" SCNu64 " %jd", sid, &base_seq,
			   (intmax_t *)&base_off) != 3 || strcmp(sid, id))
			die("%s: not a state of this log", state);
		fclose(sf);
		bfd = open(base, O_RDWR | O_CLOEXEC);
	} else {
		bfd = open(base, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (bfd >= 0 && ftruncate(bfd, lg.hdr.size))
			die("%s: truncate failed", base);
	}
	if (bfd < 0)
		die("%s: cannot open", base);
	if (point < base_seq)
		die("point before BASE's state (%s): take points in ascending order",
		    state);

	/* Pass 1: find F, the last flush at or before the point. */
	if (fseeko(lg.f, base_off, SEEK_SET))
		die("%s: seek failed", log_path);
	seq = flush = base_seq;
	flush_off = base_off;
	while (seq < point) {
		if (!log_next(&lg, &rec, SKIP_DATA))
			die("point %s is past the end of the log", argv[3]);
		if (rec.seq != ++seq)
			die("%s: sequence gap", log_path);
		if (rec.type == LD_FLUSH) {
			flush = rec.seq;
			flush_off = ftello(lg.f);
		}
	}

	/* Pass 2: BASE forward to F. */
	if (fseeko(lg.f, base_off, SEEK_SET))
		die("%s: seek failed", log_path);
	while (ftello(lg.f) < flush_off) {
		if (!log_next(&lg, &rec, READ_DATA))
			die("%s: short read", log_path);
		apply(bfd, &lg, &rec, 0, 0, base);
	}
	sf = fopen(state, "w");
	if (!sf || fprintf(sf, "%s %" PRIu64 " %jd\n", id, flush,
			   (intmax_t)flush_off) < 0 || fclose(sf))
		die("%s: cannot write", state);

	/* Pass 3: OUT = BASE + what survived of the window (F, point]. */
	if (fstat(bfd, &st))
		die("%s: stat failed", base);
	clone_file(bfd, out, st.st_size);
	ofd = open(out, O_RDWR | O_CLOEXEC);
	if (ofd < 0)
		die("%s: cannot open", out);
	for (seq = flush; seq < point; ) {
		if (!log_next(&lg, &rec, READ_DATA))
			die("%s: short read", log_path);
		seq = rec.seq;
		if (rec.type == LD_MARK || rec.type == LD_FLUSH)
			continue;
		window++;
		if (mode == M_DROP || (mode == M_RANDOM && !coin(seed, rec.seq, 0)))
			continue;
		kept++;
		torn += apply(ofd, &lg, &rec, tear, seed, out);
	}
	if (close(ofd) || close(bfd))
		die("%s: close failed", out);
	printf("point %s flush %" PRIu64 " window %" PRIu64 " kept %" PRIu64
	       " torn %" PRIu64 "\n", argv[3], flush, window, kept, torn);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 3 && !strcmp(argv[1], "list"))
		return cmd_list(argv[2]);
	if (argc >= 6 && argc <= 9 && !strcmp(argv[1], "image"))
		return cmd_image(argc - 2, argv + 2);
	fprintf(stderr, "usage: replay list LOG\n"
		"       replay image LOG BASE OUT POINT [keep|drop|random [SEED [TEAR]]]\n");
	return 2;
}
