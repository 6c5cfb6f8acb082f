/* SPDX-License-Identifier: MIT */
/*
 * stats.c - `walthrough stats`: the live counters of shim/stats.h as a
 * table per rule, in the Prometheus text exposition format, or redrawn
 * in place every few seconds.
 *
 * The file is read with read(2) into a buffer of its exact size, never
 * mapped: a process laying it out afresh may truncate it while we look,
 * and a mapping would then fault. Each counter is one aligned 64-bit word
 * the library adds to atomically; rows may be a moment apart, which is
 * fine for counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "stats.h"
#include "wt.h"

#define DEFAULT_CONFIG "/etc/walthrough.conf"
#define BAR_MAX 40

/* What the file told us, with its strings NUL-terminated. */
struct snap {
	struct wt_stats_file f;
	unsigned nslots;              /* rule slots in use */
	struct timespec at;           /* CLOCK_MONOTONIC when read */
};

static const char *const pass_label[WT_PASS_NR] = {
	[WT_PASS_UNARMED] = "not armed yet",
	[WT_PASS_DIRTY] = "page-cache writes",
	[WT_PASS_PENDING] = "write in progress",
	[WT_PASS_FSTAT] = "fd changed (fstat)",
	[WT_PASS_ERROR] = "error seen",
	[WT_PASS_UNSAFE] = "written behind shim",
	[WT_PASS_NOTABLE] = "no dirty table",
	[WT_PASS_MODE] = "mode = atomic",
};

static const char *const pass_name[WT_PASS_NR] = {
	[WT_PASS_UNARMED] = "unarmed",
	[WT_PASS_DIRTY] = "dirty",
	[WT_PASS_PENDING] = "pending",
	[WT_PASS_FSTAT] = "fstat",
	[WT_PASS_ERROR] = "error",
	[WT_PASS_UNSAFE] = "unsafe",
	[WT_PASS_NOTABLE] = "notable",
	[WT_PASS_MODE] = "mode",
};

static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "not a regular file";
}

/*
 * Reads the stats file PATH into *s. Returns 0, or -1 with the reason in
 * why (a phrase to follow "PATH: ").
 */
static int load(const char *path, struct snap *s, char *why, size_t whysz)
{
	struct stat st;
	size_t want = sizeof(s->f), have = 0;
	int fd;

	/* O_NONBLOCK: a FIFO must not hang us before fstat says what it is. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(why, whysz, "no such file (no program has run under the config since it was removed, or since boot)");
		else
			snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(why, whysz, "%s", strerror(errno));
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "%s, not a walthrough stats file",
			 file_type(st.st_mode));
		goto err;
	}
	if ((uint64_t)st.st_size != want) {
		if (st.st_size == 0)
			snprintf(why, whysz, "0 bytes: not laid out yet");
		else
			snprintf(why, whysz, "%lld bytes where a stats file has %zu: not a walthrough stats file, or one of another version",
				 (long long)st.st_size, want);
		goto err;
	}
	while (have < want) {
		ssize_t n = read(fd, (char *)&s->f + have, want - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whysz, "%s", strerror(errno));
			goto err;
		}
		if (n == 0) {
			snprintf(why, whysz, "truncated while being read (%zu of %zu bytes): being laid out afresh?",
				 have, want);
			goto err;
		}
		have += (size_t)n;
	}
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &s->at);

	if (s->f.magic != WT_STATS_MAGIC) {
		if (s->f.magic == 0)
			snprintf(why, whysz, "not laid out (being created, or not a walthrough stats file)");
		else
			snprintf(why, whysz, "not a walthrough stats file (magic %#" PRIx64 ")",
				 s->f.magic);
		return -1;
	}
	if (s->f.version != WT_STATS_VERSION) {
		snprintf(why, whysz, "stats file version %" PRIu32 "; this walthrough reads version %d",
			 s->f.version, WT_STATS_VERSION);
		return -1;
	}
	if (s->f.size != want) {
		snprintf(why, whysz, "records a size of %" PRIu64 " bytes where version %d has %zu: corrupt",
			 s->f.size, WT_STATS_VERSION, want);
		return -1;
	}
	s->f.config[sizeof(s->f.config) - 1] = 0;
	s->nslots = s->f.nrules < WT_STATS_RULES ? s->f.nrules : WT_STATS_RULES;
	for (unsigned i = 0; i < WT_STATS_RULES; i++)
		s->f.rule[i].glob[WT_STATS_GLOB - 1] = 0;
	return 0;
err:
	close(fd);
	return -1;
}

/* ---- numbers ------------------------------------------------------------- */

static void fmt_bytes(char *out, size_t sz, uint64_t b)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		snprintf(out, sz, "%" PRIu64 " B", b);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, sz, "%.1f %s", v, unit[u]);
}

static void fmt_us(char *out, size_t sz, double us)
{
	if (us < 1000)
		snprintf(out, sz, "%.0f us", us);
	else if (us < 1e6)
		snprintf(out, sz, "%.1f ms", us / 1e3);
	else
		snprintf(out, sz, "%.2f s", us / 1e6);
}

/* Bucket i holds latencies in [lo, hi) µs; the first also holds 0. */
static double bucket_lo(int i)
{
	return i ? (double)(1ULL << i) : 0;
}

static double bucket_hi(int i)
{
	return (double)(1ULL << (i + 1));
}

/* a + b, or UINT64_MAX: a corrupt file must not make sums wrap. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t lat_total(const struct wt_stats_rule *r)
{
	uint64_t n = 0;
	for (int i = 0; i < WT_STATS_BUCKETS; i++)
		n = sat_add(n, r->lat_us[i]);
	return n;
}

/*
 * The q-quantile in µs, assuming latencies spread evenly inside their
 * bucket. *open is set when it falls in the last, unbounded bucket (the
 * result is then that bucket's lower bound).
 */
static double quantile(const struct wt_stats_rule *r, double q, bool *open)
{
	uint64_t n = lat_total(r), cum = 0;
	/* The rank of the wanted latency, rounded up (no libm). */
	uint64_t rank = (uint64_t)(q * (double)n);
	if ((double)rank < q * (double)n)
		rank++;

	*open = false;
	if (rank < 1)
		rank = 1;
	for (int i = 0; i < WT_STATS_BUCKETS; i++) {
		uint64_t c = r->lat_us[i];
		if (!c || sat_add(cum, c) < rank) {
			cum = sat_add(cum, c);
			continue;
		}
		if (i == WT_STATS_BUCKETS - 1) {
			*open = true;
			return bucket_lo(i);
		}
		return bucket_lo(i) + (bucket_hi(i) - bucket_lo(i)) *
			((double)(rank - cum) / (double)c);
	}
	return 0;
}

/* ---- the table ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}


static void row(FILE *o, int indent, const char *label, uint64_t v,
		const char *note)
{
	fprintf(o, "%*s%-*s %12" PRIu64 "%s%s\n", indent, "", 24 - indent,
		label, v, note && *note ? "  " : "", note ? note : "");
}

static void print_bucket_range(FILE *o, int i)
{
	char lo[32], hi[32], r[72];

	if (i == WT_STATS_BUCKETS - 1) {
		fmt_us(lo, sizeof(lo), bucket_lo(i));
		snprintf(r, sizeof(r), ">= %s", lo);
	} else if (i == 0) {
		fmt_us(hi, sizeof(hi), bucket_hi(i));
		snprintf(r, sizeof(r), "< %s", hi);
	} else {
		fmt_us(lo, sizeof(lo), bucket_lo(i));
		fmt_us(hi, sizeof(hi), bucket_hi(i));
		snprintf(r, sizeof(r), "%s - %s", lo, hi);
	}
	fprintf(o, "    %-20s", r);
}

static void print_latency(FILE *o, const struct wt_stats_rule *r)
{
	uint64_t n = lat_total(r), max = 0;
	int first = -1, last = -1;
	char p50[32], p99[32];
	bool open50, open99;

	if (!n) {
		fprintf(o, "  %-22s %12s\n", "write latency", "-");
		return;
	}
	fmt_us(p50, sizeof(p50), quantile(r, 0.50, &open50));
	fmt_us(p99, sizeof(p99), quantile(r, 0.99, &open99));
	fprintf(o, "  %-22s p50 %s%s, p99 %s%s (estimates, %" PRIu64 " writethrough writes)\n",
		"write latency", open50 ? ">= " : "~", p50, open99 ? ">= " : "~",
		p99, n);
	for (int i = 0; i < WT_STATS_BUCKETS; i++) {
		if (!r->lat_us[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (r->lat_us[i] > max)
			max = r->lat_us[i];
	}
	for (int i = first; i <= last; i++) {
		uint64_t c = r->lat_us[i];
		int w = (int)((double)c * BAR_MAX / (double)max + 0.5);
		if (c && !w)
			w = 1;
		print_bucket_range(o, i);
		fprintf(o, " %10" PRIu64 "%s%.*s\n", c, w ? " " : "", w,
			"########################################");
	}
}

/* Counters per second since the previous frame, in watch mode. */
static void print_rates(FILE *o, const struct wt_stats_rule *r,
			const struct wt_stats_rule *prev, double secs)
{
	char b[32];
	static const int k[] = { WT_C_WRITES, WT_C_BYTES, WT_C_SYNC_SKIPPED,
				 WT_C_SYNC_PASSED };

	/* Laid out afresh within the same second: no rate to tell. */
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (r->c[k[i]] < prev->c[k[i]])
			return;
	double bytes = (double)(r->c[WT_C_BYTES] - prev->c[WT_C_BYTES]) / secs;
	fmt_bytes(b, sizeof(b), (uint64_t)bytes);
	fprintf(o, "  %-22s %.1f writes/s (%s/s), %.1f syncs skipped/s, %.1f passed/s\n",
		"now", (double)(r->c[WT_C_WRITES] - prev->c[WT_C_WRITES]) / secs, b,
		(double)(r->c[WT_C_SYNC_SKIPPED] - prev->c[WT_C_SYNC_SKIPPED]) / secs,
		(double)(r->c[WT_C_SYNC_PASSED] - prev->c[WT_C_SYNC_PASSED]) / secs);
}

/*
 * Text from the file as shown on a terminal: control characters (C0, DEL,
 * C1) and bytes that are not UTF-8 become '?', so that a corrupt file
 * cannot send escape sequences.
 */
static void print_text(FILE *o, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text);

	while (n) {
		size_t l = utf8_len(p, n);
		if (!l || *p < 0x20 || *p == 0x7f ||
		    (l == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
			fputc('?', o);
			l = l ? l : 1;
		} else {
			fwrite(p, 1, l, o);
		}
		p += l, n -= l;
	}
}

/* A glob as shown to people: one that fills its field was cut short. */
static void print_glob(FILE *o, const char *glob)
{
	print_text(o, glob);
	if (strlen(glob) == WT_STATS_GLOB - 1)
		fputs("...", o);
}

static void print_table(FILE *o, const char *path, const struct snap *s,
			const struct snap *prev)
{
	char when[64], b[32];
	time_t t = (time_t)s->f.created;
	struct tm tm;
	double secs = 0;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
	else
		snprintf(when, sizeof(when), "@%" PRIu64, s->f.created);
	fprintf(o, "%s: counters since %s\n", path, when);
	fputs("config: ", o);
	print_text(o, *s->f.config ? s->f.config : "(unknown)");
	fputc('\n', o);
	if (!s->nslots)
		fprintf(o, "\nno [path] rules: nothing is counted\n");
	if (prev && prev->f.created == s->f.created &&
	    prev->nslots == s->nslots)
		secs = (double)(s->at.tv_sec - prev->at.tv_sec) +
		       (double)(s->at.tv_nsec - prev->at.tv_nsec) / 1e9;

	for (unsigned i = 0; i < s->nslots; i++) {
		const struct wt_stats_rule *r = &s->f.rule[i];

		fprintf(o, "\nrule %u: ", i + 1);
		print_glob(o, r->glob);
		if (i == WT_STATS_RULES - 1 && s->f.nrules > WT_STATS_RULES)
			fprintf(o, "  (and rules %u-%" PRIu32 ", which share its counters)",
				WT_STATS_RULES + 1, s->f.nrules);
		fputc('\n', o);
		if (secs > 0.05)
			print_rates(o, r, &prev->f.rule[i], secs);

		fmt_bytes(b, sizeof(b), r->c[WT_C_BYTES]);
		row(o, 2, "writes", r->c[WT_C_WRITES], b);
		row(o, 4, "direct", r->c[WT_C_DIRECT], "O_DIRECT + RWF_DSYNC");
		row(o, 4, "buffered-DSYNC", r->c[WT_C_DSYNC], "pwritev2 RWF_DSYNC");
		row(o, 4, "burst", r->c[WT_C_BURST], "page cache");
		row(o, 4, "atomic", r->c[WT_C_ATOMIC], NULL);
		row(o, 4, "atomic pieces", r->c[WT_C_ATOMIC_PIECES], NULL);
		row(o, 4, "not atomic", r->c[WT_C_NOT_ATOMIC], NULL);
		row(o, 2, "fallbacks", r->c[WT_C_FALLBACK], NULL);
		row(o, 2, "syncs skipped", r->c[WT_C_SYNC_SKIPPED], NULL);
		row(o, 2, "syncs passed", r->c[WT_C_SYNC_PASSED], NULL);
		for (int k = 0; k < WT_PASS_NR; k++)
			if (r->pass[k])
				row(o, 4, pass_label[k], r->pass[k], NULL);
		row(o, 2, "errors", r->c[WT_C_ERRORS], NULL);
		for (int e = 1; e < WT_STATS_ERRNOS; e++) {
			if (!r->errnos[e])
				continue;
			const char *name = strerrorname_np(e);
			char num[24];
			if (!name) {
				snprintf(num, sizeof(num), "errno %d", e);
				name = num;
			}
			row(o, 4, name, r->errnos[e], strerror(e));
		}
		if (r->errnos[0])
			row(o, 4, "other errno", r->errnos[0], NULL);
		print_latency(o, r);
	}
}

/* ---- Prometheus text exposition format ---------------------------------- */

/*
 * A label value: backslash, double quote and newline escaped as the format
 * requires; bytes that are not UTF-8 (a glob cut mid-character) become
 * U+FFFD, since label values must be UTF-8.
 */
static void prom_label(FILE *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n) {
		size_t l = utf8_len(p, n);
		if (!l) {
			fputs("\xef\xbf\xbd", o);
			p++, n--;
			continue;
		}
		if (*p == '\\')
			fputs("\\\\", o);
		else if (*p == '"')
			fputs("\\\"", o);
		else if (*p == '\n')
			fputs("\\n", o);
		else
			fwrite(p, 1, l, o);
		p += l, n -= l;
	}
}

/* The rule label of every slot, made unique (series must not repeat). */
struct labels {
	char v[WT_STATS_RULES][3 * WT_STATS_GLOB + 64];
};

/* src with every byte that is not UTF-8 made U+FFFD, as prom_label does. */
static void utf8_clean(char *dst, size_t size, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), at = 0;

	while (n && at + 4 < size) {
		size_t l = utf8_len(p, n);
		if (!l) {
			memcpy(dst + at, "\xef\xbf\xbd", 3);
			at += 3, p++, n--;
			continue;
		}
		memcpy(dst + at, p, l);
		at += l, p += l, n -= l;
	}
	dst[at] = 0;
}

static bool label_taken(const struct labels *l, unsigned i)
{
	for (unsigned j = 0; j < i; j++)
		if (strcmp(l->v[i], l->v[j]) == 0)
			return true;
	return false;
}

static void make_labels(const struct snap *s, struct labels *l)
{
	char g[sizeof(l->v[0]) - 32];

	for (unsigned i = 0; i < s->nslots; i++) {
		/* Compared as printed: two globs cut mid-character may print alike. */
		utf8_clean(g, sizeof(g), s->f.rule[i].glob);
		if (i == WT_STATS_RULES - 1 && s->f.nrules > WT_STATS_RULES)
			snprintf(l->v[i], sizeof(l->v[i]), "%s (+%" PRIu32 " later rules)",
				 g, s->f.nrules - WT_STATS_RULES);
		else
			snprintf(l->v[i], sizeof(l->v[i]), "%s", g);
		/* Only a corrupt file repeats a glob. */
		for (unsigned k = 1; label_taken(l, i); k++) {
			if (k == 1)
				snprintf(l->v[i], sizeof(l->v[i]), "%s #%u", g, i + 1);
			else
				snprintf(l->v[i], sizeof(l->v[i]), "%s #%u.%u", g, i + 1, k);
		}
	}
}

static void prom_head(FILE *o, const char *name, const char *type,
		      const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_rule(FILE *o, const char *name, const struct labels *l,
		      unsigned i)
{
	fprintf(o, "%s{rule=\"", name);
	prom_label(o, l->v[i]);
	fputc('"', o);
}

static const struct {
	const char *name;
	int c;
	const char *help;
} prom_counters[] = {
	{ "walthrough_writes_total", WT_C_WRITES,
	  "Write calls on files tracked by the rule." },
	{ "walthrough_write_bytes_total", WT_C_BYTES,
	  "Bytes written by those calls." },
	{ "walthrough_direct_writes_total", WT_C_DIRECT,
	  "Writes made O_DIRECT + RWF_DSYNC from a bounce buffer." },
	{ "walthrough_dsync_writes_total", WT_C_DSYNC,
	  "Writes made pwritev2 RWF_DSYNC on the program's own fd (buffered DSYNC)." },
	{ "walthrough_burst_writes_total", WT_C_BURST,
	  "Writes of a burst, left in the page cache for the next real sync." },
	{ "walthrough_atomic_writes_total", WT_C_ATOMIC,
	  "Writes made with RWF_ATOMIC." },
	{ "walthrough_atomic_pieces_total", WT_C_ATOMIC_PIECES,
	  "Naturally aligned pieces the atomic writes were split into." },
	{ "walthrough_not_atomic_writes_total", WT_C_NOT_ATOMIC,
	  "Writes too unaligned to be made atomic." },
	{ "walthrough_fallbacks_total", WT_C_FALLBACK,
	  "Engine or O_DIRECT fallbacks." },
	{ "walthrough_syncs_skipped_total", WT_C_SYNC_SKIPPED,
	  "fsync, fdatasync and sync_file_range calls skipped as redundant." },
	{ "walthrough_syncs_passed_total", WT_C_SYNC_PASSED,
	  "fsync, fdatasync and sync_file_range calls passed to the kernel." },
	{ "walthrough_errors_total", WT_C_ERRORS,
	  "Calls on tracked files that returned an error." },
};

static void print_prometheus(FILE *o, const char *path, const struct snap *s)
{
	struct labels *l = malloc(sizeof(*l));
	size_t nc = sizeof(prom_counters) / sizeof(prom_counters[0]);

	if (!l) {
		fprintf(o, "# out of memory\n");
		return;
	}
	make_labels(s, l);

	prom_head(o, "walthrough_stats_info", "gauge",
		  "The stats file read and the config it was laid out for (always 1).");
	fputs("walthrough_stats_info{file=\"", o);
	prom_label(o, path);
	fputs("\",config=\"", o);
	prom_label(o, s->f.config);
	fputs("\"} 1\n", o);
	prom_head(o, "walthrough_stats_start_time_seconds", "gauge",
		  "When the stats file was laid out (the counters count from then), in seconds since the epoch.");
	fprintf(o, "walthrough_stats_start_time_seconds %" PRIu64 "\n",
		s->f.created);
	if (!s->nslots)
		goto out;

	for (size_t k = 0; k < nc; k++) {
		prom_head(o, prom_counters[k].name, "counter", prom_counters[k].help);
		for (unsigned i = 0; i < s->nslots; i++) {
			prom_rule(o, prom_counters[k].name, l, i);
			fprintf(o, "} %" PRIu64 "\n", s->f.rule[i].c[prom_counters[k].c]);
		}
	}

	prom_head(o, "walthrough_syncs_passed_by_reason_total", "counter",
		  "Syncs passed to the kernel, by why they could not be skipped.");
	for (unsigned i = 0; i < s->nslots; i++)
		for (int k = 0; k < WT_PASS_NR; k++) {
			prom_rule(o, "walthrough_syncs_passed_by_reason_total", l, i);
			fprintf(o, ",reason=\"%s\"} %" PRIu64 "\n", pass_name[k],
				s->f.rule[i].pass[k]);
		}

	prom_head(o, "walthrough_errors_by_errno_total", "counter",
		  "Errors by errno name (only those seen; \"other\": beyond the table).");
	for (unsigned i = 0; i < s->nslots; i++)
		for (int e = 0; e < WT_STATS_ERRNOS; e++) {
			uint64_t v = s->f.rule[i].errnos[e];
			const char *name = e ? strerrorname_np(e) : "other";
			if (!v)
				continue;
			prom_rule(o, "walthrough_errors_by_errno_total", l, i);
			if (name)
				fprintf(o, ",errno=\"%s\"} %" PRIu64 "\n", name, v);
			else
				fprintf(o, ",errno=\"%d\"} %" PRIu64 "\n", e, v);
		}

	/*
	 * Bucket i counts latencies in [2^i, 2^(i+1)) µs, so le = 2^(i+1) µs
	 * holds buckets 0..i; the last bucket is open and only in +Inf. The
	 * library keeps no sum: _sum adds each bucket's midpoint (the open
	 * bucket's 1.5 x its lower bound), an estimate, as HELP says.
	 */
	prom_head(o, "walthrough_write_latency_seconds", "histogram",
		  "Latency of writethrough writes (log2 buckets); _sum is estimated from bucket midpoints.");
	for (unsigned i = 0; i < s->nslots; i++) {
		const struct wt_stats_rule *r = &s->f.rule[i];
		uint64_t cum = 0;
		double sum = 0;
		for (int b = 0; b < WT_STATS_BUCKETS; b++) {
			cum = sat_add(cum, r->lat_us[b]);
			sum += (double)r->lat_us[b] *
			       (b ? 1.5 * bucket_lo(b) : 1.0) / 1e6;
			if (b == WT_STATS_BUCKETS - 1)
				break;
			prom_rule(o, "walthrough_write_latency_seconds_bucket", l, i);
			fprintf(o, ",le=\"%.10g\"} %" PRIu64 "\n",
				bucket_hi(b) / 1e6, cum);
		}
		prom_rule(o, "walthrough_write_latency_seconds_bucket", l, i);
		fprintf(o, ",le=\"+Inf\"} %" PRIu64 "\n", cum);
		prom_rule(o, "walthrough_write_latency_seconds_sum", l, i);
		fprintf(o, "} %.9g\n", sum);
		prom_rule(o, "walthrough_write_latency_seconds_count", l, i);
		fprintf(o, "} %" PRIu64 "\n", cum);
	}
out:
	free(l);
}

/* ---- the command ------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Seconds for --watch: a positive decimal, at most a day. */
static int parse_secs(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.1 && v <= 86400))
		return -1;
	*out = v;
	return 0;
}

/* The rules of cfg and of the file differ: counters are another config's. */
static void compare_rules(const char *conf, const struct wt_config *cfg,
			  const char *path, const struct snap *s)
{
	bool same = s->f.nrules == cfg->nrules;
	for (unsigned i = 0; same && i < s->nslots; i++)
		same = strncmp(s->f.rule[i].glob, cfg->rules[i].glob,
			       WT_STATS_GLOB - 1) == 0;
	if (!same)
		fprintf(stderr, "walthrough stats: note: %s was laid out for the rules of %s, not those of %s now; it shows what the running programs count\n",
			path, *s->f.config ? s->f.config : "another config", conf);
}

/* Writes a frame to stdout in one go. Returns 0, or -1 on a write error. */
static int emit(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR) {
			if (stop)
				return 0;
			continue;
		}
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int watch(const char *path, double every, struct snap *cur,
		 struct snap *prev)
{
	bool tty = isatty(STDOUT_FILENO);
	bool have_prev = false;
	char why[256];
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!stop) {
		char *buf = NULL, when[32];
		size_t len = 0;
		FILE *o = open_memstream(&buf, &len);
		time_t now = time(NULL);
		struct tm tm;
		if (!o) {
			fprintf(stderr, "walthrough stats: out of memory\n");
			return 1;
		}
		if (tty)
			fputs("\033[H\033[2J", o);
		strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&now, &tm));
		fprintf(o, "walthrough stats, every %g s, at %s%s\n\n", every,
			when, tty ? " (Ctrl-C to stop)" : "");
		if (load(path, cur, why, sizeof(why)) == 0) {
			print_table(o, path, cur, have_prev ? prev : NULL);
			struct snap *t = prev;
			prev = cur;
			cur = t;
			have_prev = true;
		} else {
			fprintf(o, "%s: %s\n(tried again every %g s)\n", path, why,
				every);
			have_prev = false;
		}
		if (!tty)
			fputc('\n', o);
		if (fclose(o) != 0 || emit(buf, len) < 0) {
			free(buf);
			if (stop)
				break;
			fprintf(stderr, "walthrough stats: writing to stdout: %s\n",
				strerror(errno));
			return 1;
		}
		free(buf);
		struct timespec ts = { (time_t)every,
				       (long)((every - (double)(time_t)every) * 1e9) };
		while (!stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return 0;
}

int wt_cmd_stats(int argc, char **argv)
{
	const char *conf = NULL, *file = NULL, *path;
	bool prometheus = false;
	double every = 0;
	struct wt_config cfg;
	bool have_cfg = false;
	struct snap *s = NULL, *s2 = NULL;
	char why[256];
	int status = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strcmp(a, "--file") == 0 || strcmp(a, "--watch") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error("stats", "%s needs a value", a);
			v = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			a = "--config", v = argv[i] + 9;
		} else if (strncmp(a, "--file=", 7) == 0) {
			a = "--file", v = argv[i] + 7;
		} else if (strncmp(a, "--watch=", 8) == 0) {
			a = "--watch", v = argv[i] + 8;
		} else if (strncmp(a, "-c", 2) == 0) {
			a = "-c", v = argv[i] + 2;
		} else if (strcmp(a, "--prometheus") == 0) {
			prometheus = true;
			continue;
		} else if (cli_is_help(a)) {
			cli_cmd_help("stats", stdout);
			return 0;
		} else if (a[0] == '-') {
			return cli_usage_error("stats", "unknown option '%s'", a);
		} else {
			return cli_usage_error("stats", "unexpected argument '%s'", a);
		}
		if (!*v)
			return cli_usage_error("stats", "%s needs a value", a);
		if (strcmp(a, "--file") == 0)
			file = v;
		else if (strcmp(a, "--watch") == 0) {
			if (parse_secs(v, &every) < 0)
				return cli_usage_error("stats", "--watch takes seconds from 0.1 to 86400, not '%s'", v);
		} else
			conf = v;
	}
	if (conf && file)
		return cli_usage_error("stats", "-c and --file exclude each other");
	if (prometheus && every > 0)
		return cli_usage_error("stats", "--prometheus and --watch exclude each other (a collector scrapes; run it from cron or a timer)");

	if (!file) {
		if (!conf) {
			conf = getenv("WALTHROUGH_CONFIG");
			if (!conf || !*conf)
				conf = DEFAULT_CONFIG;
		}
		if (cli_load_config(conf, &cfg) < 0) {
			fprintf(stderr, "walthrough stats: the config %s has problems (above)\n",
				conf);
			return 1;
		}
		have_cfg = true;
		if (!cfg.stats) {
			fprintf(stderr, "walthrough stats: %s has no `stats = PATH` in [global]: counters are off\n",
				conf);
			goto out;
		}
		path = cfg.stats;
	} else {
		path = file;
	}

	s = malloc(sizeof(*s));
	s2 = malloc(sizeof(*s2));
	if (!s || !s2) {
		fprintf(stderr, "walthrough stats: out of memory\n");
		goto out;
	}
	if (load(path, s, why, sizeof(why)) < 0) {
		fprintf(stderr, "walthrough stats: %s: %s\n", path, why);
		goto out;
	}
	if (have_cfg)
		compare_rules(conf, &cfg, path, s);

	if (every > 0) {
		status = watch(path, every, s, s2);
		goto out;
	}
	if (prometheus)
		print_prometheus(stdout, path, s);
	else
		print_table(stdout, path, s, NULL);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "walthrough stats: writing to stdout: %s\n",
			strerror(errno));
		goto out;
	}
	status = 0;
out:
	free(s);
	free(s2);
	if (have_cfg)
		wt_config_free(&cfg);
	return status;
}
