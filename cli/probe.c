/* SPDX-License-Identifier: MIT */
/*
 * probe.c - `walthrough probe [-c CONFIG] [--json] [--nvme DEV] PATH…`:
 * the facts the device probe finds under each PATH, then what the shim
 * will do there under CONFIG's rule and why, in a DBA's words.
 *
 * The facts come from shim/probe.c, the same code the library runs, and
 * the decisions from the same helpers (wt_probe_atomic_ok, …), so that
 * what this prints is what the library does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cli.h"
#include "probe.h"
#include "wt.h"

/* ---- output: "key: value" lines, or one JSON object per path ----------- */

struct out {
	bool json;
	int keys;                     /* keys printed in the current object */
};

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void key(struct out *o, const char *k)
{
	if (o->json) {
		printf("%s\n  ", o->keys ? "," : "");
		json_str(k);
		fputs(": ", stdout);
	} else {
		printf("%s: ", k);
	}
	o->keys++;
}

/* NULL prints unknown (null in JSON). */
static void put_str(struct out *o, const char *k, const char *v)
{
	key(o, k);
	if (o->json) {
		if (v)
			json_str(v);
		else
			fputs("null", stdout);
	} else {
		fputs(v ? v : "unknown", stdout);
		putchar('\n');
	}
}

static void put_fmt(struct out *o, const char *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void put_fmt(struct out *o, const char *k, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put_str(o, k, buf);
}

/* Negative prints unknown. */
static void put_num(struct out *o, const char *k, int64_t v)
{
	if (v < 0) {
		put_str(o, k, NULL);
		return;
	}
	key(o, k);
	printf("%lld%s", (long long)v, o->json ? "" : "\n");
}

static void put_tri(struct out *o, const char *k, wt_tri v)
{
	put_str(o, k, v < 0 ? NULL : v ? "yes" : "no");
}

/* ---- sentences --------------------------------------------------------- */

/* A growing paragraph: sentences appended with "%s". */
struct para {
	char buf[8192];
	size_t len;
};

static void add(struct para *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct para *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->len >= sizeof(p->buf) - 1)
		return;
	if (p->len)
		p->buf[p->len++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len += (size_t)n;
	if (p->len >= sizeof(p->buf))
		p->len = sizeof(p->buf) - 1;
}

/* "8 KiB" or "512 bytes": sizes as a DBA reads them. */
static const char *size_words(int64_t v, char *buf, size_t n)
{
	if (v >= 1048576 && v % 1048576 == 0)
		snprintf(buf, n, "%lld MiB", (long long)(v / 1048576));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, n, "%lld KiB", (long long)(v / 1024));
	else
		snprintf(buf, n, "%lld bytes", (long long)v);
	return buf;
}

/* ---- the strategy ------------------------------------------------------ */

enum aw_plan { AW_NONE, AW_HARDWARE, AW_SOFTWARE, AW_REFUSED };

struct plan {
	const struct wt_rule *rule;   /* NULL: not tracked */
	struct wt_rule dflt;          /* the rule used when no -c */
	bool have_config;
	bool unread;                  /* no file to read statx limits from */
	enum aw_plan aw;
	char aw_why[512];             /* why atomic writes are not possible */
};

/* Why RWF_ATOMIC cannot be used for unit, into why; "" when it can. */
static void atomic_gap(const struct wt_probe *p, bool unread, unsigned unit,
		       bool hw_only, char *why, size_t n)
{
	char a[32], b[32];

	why[0] = 0;
	if (unread) {
		snprintf(why, n, "the atomic write units could not be read here (see missing)");
	} else if (p->dio_align == 0) {
		snprintf(why, n, "%s does no direct I/O, and RWF_ATOMIC needs it",
			 *p->fs ? p->fs : "the file system");
	} else if (p->awu_max < 0) {
		snprintf(why, n, "%s reports no atomic writes (statx STATX_WRITE_ATOMIC)",
			 *p->fs ? p->fs : "the file system");
	} else if (p->awu_min <= 0 || p->awu_max <= 0) {
		snprintf(why, n, "%s offers no atomic writes here (statx atomic write unit 0)",
			 *p->fs ? p->fs : "the file system");
	} else if (unit & (unit - 1)) {
		snprintf(why, n, "atomic_unit %u is not a power of two", unit);
	} else if (!wt_probe_atomic_ok(p, unit, false)) {
		snprintf(why, n, "%s offers atomic writes of %s to %s only, not %u bytes",
			 *p->fs ? p->fs : "the file system",
			 size_words(p->awu_min, a, sizeof(a)),
			 size_words(p->awu_max, b, sizeof(b)), unit);
	} else if (hw_only && !wt_probe_atomic_ok(p, unit, true)) {
		if (wt_probe_hw_atomic(p, unit) < 0)
			snprintf(why, n, "whether the device does %u-byte atomic writes in hardware cannot be read",
				 unit);
		else
			snprintf(why, n, "the device does not do %u-byte atomic writes in hardware (software only)",
				 unit);
	}
}

static void decide(const struct wt_probe *p, struct plan *pl)
{
	const struct wt_rule *r = pl->rule;
	bool hw_only;

	pl->aw = AW_NONE;
	pl->aw_why[0] = 0;
	if (!r || r->mode == WT_MODE_PASSTHROUGH)
		return;
	if (r->mode == WT_MODE_WRITETHROUGH && r->atomic == WT_ATOMIC_OFF)
		return;
	hw_only = r->atomic == WT_ATOMIC_AUTO;
	atomic_gap(p, pl->unread, r->atomic_unit, hw_only, pl->aw_why, sizeof(pl->aw_why));
	if (!pl->aw_why[0])
		pl->aw = wt_probe_hw_atomic(p, r->atomic_unit) == 1 ?
			AW_HARDWARE : AW_SOFTWARE;
	else if (r->mode == WT_MODE_ATOMIC || r->atomic == WT_ATOMIC_REQUIRE)
		pl->aw = AW_REFUSED;
}

static const char *commit_phrase(const struct wt_probe *p)
{
	switch (wt_probe_commit(p)) {
	case WT_COMMIT_NO_CACHE: return "one write per commit";
	case WT_COMMIT_FUA: return "one FUA write per commit";
	case WT_COMMIT_FLUSH: return "write + cache flush per commit";
	case WT_COMMIT_NO_DEVICE:
		return !strcmp(p->fs, "tmpfs") || !strcmp(p->fs, "ramfs") ?
			"memory only, nothing is durable" : "no local disk";
	default: return "commit cost unknown";
	}
}

static void commit_reason(const struct wt_probe *p, struct para *why)
{
	const char *dev = *p->device ? p->device : "the device";

	switch (wt_probe_commit(p)) {
	case WT_COMMIT_NO_CACHE:
		if (p->nvme_vwc == 0)
			add(why, "The drive reports no volatile write cache (NVMe VWC = 0), so a write is durable when it completes: one device write per commit%s.",
			    p->write_cache == 1 ? " (the kernel still sends a cache flush, which such a drive completes at once)" : "");
		else
			add(why, "The kernel treats %s as having no volatile write cache (write_cache: write through), so a write is durable when it completes: one device write per commit.",
			    dev);
		break;
	case WT_COMMIT_FUA:
		add(why, "%s has a volatile write cache but supports FUA, so a DSYNC direct overwrite is a single FUA write per commit.",
		    dev);
		break;
	case WT_COMMIT_FLUSH:
		add(why, "%s has a volatile write cache and no FUA, so each commit costs the write plus a cache flush.",
		    dev);
		break;
	case WT_COMMIT_NO_DEVICE:
		if (!strcmp(p->fs, "tmpfs") || !strcmp(p->fs, "ramfs"))
			add(why, "%s keeps files in memory only: nothing on it survives a power loss or a reboot, whatever the shim does.",
			    p->fs);
		else
			add(why, "No local block device: durability is up to %s and what its fsync promises.",
			    *p->fs ? p->fs : "the file system");
		break;
	default:
		add(why, "Whether %s has a volatile write cache cannot be read, so the cost of a commit is unknown.",
		    dev);
	}
	if (p->kind == WT_DEV_LOOP && *p->backing_file)
		add(why, "%s is a loop device over %s: its writes are durable only once the file system holding that file has made them so.",
		    p->device, p->backing_file);
	if ((p->kind == WT_DEV_DM || p->kind == WT_DEV_MD) && *p->slaves)
		add(why, "%s is %s over %s: its limits are those the kernel stacked from them.",
		    p->device, p->kind == WT_DEV_DM ? "device-mapper" : "software RAID",
		    p->slaves);
}

static void atomic_reason(const struct wt_probe *p, const struct plan *pl,
			  struct para *why)
{
	const struct wt_rule *r = pl->rule;
	char a[32], b[32];

	switch (pl->aw) {
	case AW_HARDWARE:
		add(why, "Each aligned %s unit is written with RWF_ATOMIC, which the device does itself (atomic write limit %s): after a crash each unit holds the old or the new data, never a torn mix.",
		    size_words(r->atomic_unit, a, sizeof(a)),
		    size_words(p->q_awu_max >= p->awu_max_opt ? p->q_awu_max : p->awu_max_opt,
			       b, sizeof(b)));
		break;
	case AW_SOFTWARE:
		add(why, "Each aligned %s unit is written with RWF_ATOMIC, which %s does in software%s because the device has no atomic write unit: torn writes are prevented, but each write costs several times more (3.6x in one measurement on XFS over a loop device) and can fail with ENOSPC on a full file system.",
		    size_words(r->atomic_unit, a, sizeof(a)),
		    *p->fs ? p->fs : "the file system",
		    !strcmp(p->fs, "xfs") ? " (copy-on-write)" : "");
		break;
	case AW_REFUSED:
		add(why, "%s = %s cannot be kept: %s. Opening a matching file fails with EOPNOTSUPP and one error line naming the path, so that a promise of atomicity is never dropped silently.",
		    r->mode == WT_MODE_ATOMIC ? "mode = atomic with atomic" : "atomic",
		    wt_atomic_name(r->atomic), pl->aw_why);
		if (r->mode == WT_MODE_ATOMIC && r->atomic == WT_ATOMIC_AUTO &&
		    wt_probe_atomic_ok(p, r->atomic_unit, false))
			add(why, "The file system does offer software atomic writes of this size: atomic = require would use them.");
		break;
	case AW_NONE:
		if (r->atomic == WT_ATOMIC_OFF)
			add(why, "atomic = off: RWF_ATOMIC is never set.");
		else if (wt_probe_atomic_ok(p, r->atomic_unit, false))
			add(why, "No RWF_ATOMIC: %s; atomic = auto uses hardware atomics only (atomic = require would use these).",
			    pl->aw_why);
		else
			add(why, "No RWF_ATOMIC: %s. Torn-page protection stays with PostgreSQL's full_page_writes: keep it on.",
			    pl->aw_why);
		break;
	}
	if (p->nvme_read && p->nvme_atomic_pf > 0 && pl->aw != AW_HARDWARE) {
		const char *field = p->nvme_natomic == 1 &&
			p->nvme_nawupf == p->nvme_atomic_pf ? "NAWUPF" : "AWUPF";
		size_words(p->nvme_atomic_pf, a, sizeof(a));
		if (p->nvme_atomic_pf < (int64_t)r->atomic_unit)
			add(why, "The drive itself keeps writes of up to %s whole across a power failure (%s), less than the %u-byte unit.",
			    a, field, r->atomic_unit);
		else
			add(why, "The drive itself keeps writes of up to %s whole across a power failure (%s), but the kernel offers no RWF_ATOMIC of %u bytes here, so nothing relies on it.",
			    a, field, r->atomic_unit);
	}
}

/* ---- the verdict ------------------------------------------------------- */

enum gain { GAIN_UNKNOWN, GAIN_NONE, GAIN_SOME, GAIN_LARGE };

static const char *gain_name(enum gain g)
{
	switch (g) {
	case GAIN_NONE: return "none";
	case GAIN_SOME: return "some";
	case GAIN_LARGE: return "large";
	default: return "unknown";
	}
}

/*
 * What skipping the sync saves, by what a DSYNC write costs the device: with
 * no volatile cache a commit is one device write and no sync call; with FUA
 * one FUA write replaces write + flush (dear on some drives); with a flush
 * per commit the cost is what fdatasync costs anyway.
 */
static enum gain commit_gain(const struct wt_probe *p)
{
	switch (wt_probe_commit(p)) {
	case WT_COMMIT_NO_CACHE: return GAIN_LARGE;
	case WT_COMMIT_FUA: return GAIN_SOME;
	case WT_COMMIT_FLUSH:
	case WT_COMMIT_NO_DEVICE: return GAIN_NONE;
	default: return GAIN_UNKNOWN;
	}
}

/* A volatile cache the kernel never flushes: syncs promise nothing there. */
static bool cache_unflushed(const struct wt_probe *p)
{
	return p->nvme_vwc == 1 && p->write_cache == 0;
}

/*
 * What one path comes to: the strategy and reason lines, and the verdict
 * drawn from the same cases, so that the two cannot disagree.
 */
struct summary {
	char strategy[512];
	struct para why;
	enum gain gain;
	char verdict_why[1024];
};

/* "vda: one write per commit": the commit cost, named by its device. */
static void commit_words(const struct wt_probe *p, char *buf, size_t n)
{
	const char *what = *p->device ? p->device : *p->fs ? p->fs : "here";

	if (wt_probe_commit(p) == WT_COMMIT_NO_DEVICE && *p->fs)
		what = p->fs;
	snprintf(buf, n, "%s: %s%s", what, commit_phrase(p),
		 wt_probe_commit(p) == WT_COMMIT_NO_DEVICE ?
		 ", with or without walthrough" : "");
}

static void summarize(const char *path, const struct wt_probe *p,
		      const struct plan *pl, const char *config, bool bdev,
		      struct summary *s)
{
	const struct wt_rule *r = pl->rule;
	char a[32], cw[256];
	const char *io, *aw;

	memset(s, 0, sizeof(*s));
	commit_words(p, cw, sizeof(cw));

	if (bdev) {
		snprintf(s->strategy, sizeof(s->strategy),
			 "depends on the file system on %s (direct I/O, atomic writes); %s",
			 path, commit_phrase(p));
		add(&s->why, "%s is a block device: the library acts on files, so what it does also depends on the file system on it (its direct-I/O alignment and atomic write units, which statx reports for a file on a mounted file system). Probe a path on that file system for the whole answer.",
		    path);
		commit_reason(p, &s->why);
		s->gain = commit_gain(p);
		snprintf(s->verdict_why, sizeof(s->verdict_why),
			 "%s; the file system on it decides the rest", cw);
		return;
	}
	if (!r) {
		snprintf(s->strategy, sizeof(s->strategy), "not tracked");
		add(&s->why, "No [path] rule in %s matches %s: the shim passes every call on it to libc unchanged.",
		    config, path);
		s->gain = GAIN_NONE;
		snprintf(s->verdict_why, sizeof(s->verdict_why),
			 "no rule in %s matches: libc unchanged", config);
		return;
	}
	if (r->mode == WT_MODE_PASSTHROUGH) {
		snprintf(s->strategy, sizeof(s->strategy), "passthrough");
		add(&s->why, "The rule at %s:%u says mode = passthrough: every call goes to libc unchanged and every fsync is kept.",
		    config, r->line);
		s->gain = GAIN_NONE;
		snprintf(s->verdict_why, sizeof(s->verdict_why),
			 "mode = passthrough: libc unchanged");
		return;
	}

	if (!pl->have_config)
		add(&s->why, "No config given: this is what a [path] rule with the default settings (mode = writethrough, atomic = auto, atomic_unit = 8192) would do.");

	if (pl->aw == AW_REFUSED) {
		snprintf(s->strategy, sizeof(s->strategy),
			 "refused: opening a matching file fails with EOPNOTSUPP");
		atomic_reason(p, pl, &s->why);
		s->gain = GAIN_NONE;
		snprintf(s->verdict_why, sizeof(s->verdict_why),
			 "atomic = %s cannot be kept here: opening a matching file fails with EOPNOTSUPP",
			 wt_atomic_name(r->atomic));
		return;
	}
	aw = pl->aw == AW_HARDWARE ? "atomic in hardware" :
	     pl->aw == AW_SOFTWARE ? "atomic in software" : "not atomic";

	if (r->mode == WT_MODE_ATOMIC) {
		snprintf(s->strategy, sizeof(s->strategy),
			 "atomic data writes (O_DIRECT + RWF_ATOMIC, every fsync kept), %s",
			 aw);
		add(&s->why, "mode = atomic: aligned writes go O_DIRECT with RWF_ATOMIC and without DSYNC, so each %s page is written whole or not at all; fsync is never skipped. A write that cannot be atomic returns an error and is never written through the page cache.",
		    size_words(r->atomic_unit, a, sizeof(a)));
		atomic_reason(p, pl, &s->why);
		/* Only hardware atomics spare PostgreSQL its full-page images. */
		s->gain = pl->aw == AW_HARDWARE ? GAIN_SOME : GAIN_NONE;
		snprintf(s->verdict_why, sizeof(s->verdict_why),
			 "mode = atomic keeps every fsync; writes %s", aw);
		return;
	}

	if (p->dio_align > 0) {
		io = "direct I/O";
		add(&s->why, "Aligned positioned writes (PostgreSQL's WAL pages) go O_DIRECT + RWF_DSYNC through a private descriptor, aligned to %lld bytes; other writes use pwritev2(RWF_DSYNC) on the program's own descriptor.",
		    (long long)p->dio_align);
	} else if (p->dio_align == 0) {
		io = "buffered RWF_DSYNC";
		add(&s->why, "%s does no direct I/O, so each writethrough write is pwritev2(RWF_DSYNC) through the page cache.",
		    *p->fs ? p->fs : "The file system");
	} else if (pl->unread) {
		io = "direct I/O if accepted, else buffered RWF_DSYNC";
		add(&s->why, "The direct-I/O alignment could not be read here (see missing): the shim reads it from each file it opens, and if a file reports none it tries O_DIRECT + RWF_DSYNC and falls back to pwritev2(RWF_DSYNC) if it is refused.");
	} else {
		io = "direct I/O if accepted, else buffered RWF_DSYNC";
		add(&s->why, "%s does not report its direct-I/O alignment: the shim tries O_DIRECT + RWF_DSYNC and falls back to pwritev2(RWF_DSYNC) if it is refused.",
		    *p->fs ? p->fs : "The file system");
	}
	snprintf(s->strategy, sizeof(s->strategy), "writethrough, %s, %s, %s",
		 io, aw, commit_phrase(p));

	if (r->writethrough_writes == 1)
		add(&s->why, "The first write after an open or a sync goes writethrough and makes the following fsync/fdatasync skippable; later writes before a sync (a bulk load) go through the page cache and that sync stays real.");
	else
		add(&s->why, "The first %u writes after an open or a sync go writethrough and make the following fsync/fdatasync skippable; later writes before a sync (a bulk load) go through the page cache and that sync stays real.",
		    r->writethrough_writes);
	atomic_reason(p, pl, &s->why);
	commit_reason(p, &s->why);
	s->gain = commit_gain(p);
	snprintf(s->verdict_why, sizeof(s->verdict_why), "%s%s", cw,
		 pl->unread ? "; the file system's own limits could not be read" : "");
	/* Software atomics cost several times a plain write. */
	if (pl->aw == AW_SOFTWARE && s->gain == GAIN_LARGE) {
		s->gain = GAIN_SOME;
		snprintf(s->verdict_why, sizeof(s->verdict_why),
			 "%s, but atomic writes in software cost more", cw);
	}
}

static void verdict(struct out *o, const struct wt_probe *p,
		    const struct summary *s)
{
	if (cache_unflushed(p))
		put_fmt(o, "verdict", "expected gain here: %s; safe: no (%s has a volatile write cache the kernel treats as write through: a power loss can lose what a sync returned, with or without walthrough)",
			gain_name(s->gain), p->device);
	else
		put_fmt(o, "verdict", "expected gain here: %s; safe: yes (%s)",
			gain_name(s->gain), s->verdict_why);
}

/* ---- one path ---------------------------------------------------------- */

/* The first regular file in dir by name, into out. */
static bool pick_file(const char *dir, char *out, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char best[NAME_MAX + 1] = "";
	struct stat st;

	if (!d)
		return false;
	while ((e = readdir(d))) {
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (!*best || strcmp(e->d_name, best) < 0)
			snprintf(best, sizeof(best), "%s", e->d_name);
	}
	closedir(d);
	if (!*best)
		return false;
	return snprintf(out, n, "%s%s%s", dir,
			dir[strlen(dir) - 1] == '/' ? "" : "/", best) < (int)n;
}

/* The rule for path, trying its resolved name too (as the library does). */
static const struct wt_rule *match(const struct wt_config *cfg, const char *path)
{
	char abs[WT_PATH_MAX], real[PATH_MAX];
	const struct wt_rule *r = NULL;

	if (wt_path_absolute(AT_FDCWD, path, abs, sizeof(abs)) == 0)
		r = wt_config_match(cfg, abs);
	if (!r && realpath(path, real))
		r = wt_config_match(cfg, real);
	return r;
}

/*
 * Whether glob can match a new file directly in dir: its last component
 * has a wildcard and the part before it matches dir.
 */
static bool glob_covers(const char *glob, const char *dir)
{
	const char *slash = strrchr(glob, '/');
	char head[WT_PATH_MAX];
	size_t len;

	if (!slash || !strpbrk(slash + 1, "*?["))
		return false;
	len = slash > glob ? (size_t)(slash - glob) : 1;
	if (len >= sizeof(head))
		return false;
	memcpy(head, glob, len);
	head[len] = 0;
	return fnmatch(head, dir, FNM_PATHNAME) == 0;
}

/*
 * The rule for the files of a directory: that of the first regular file in
 * it, as the shim sees files; with none, the first rule that would match a
 * new file there. with says which.
 */
static const struct wt_rule *match_dir(const struct wt_config *cfg,
				       const char *dir, char *with, size_t n)
{
	char file[WT_PATH_MAX], abs[WT_PATH_MAX], real[PATH_MAX];
	bool have_abs, have_real;

	if (pick_file(dir, file, sizeof(file))) {
		snprintf(with, n, "%s", file);
		return match(cfg, file);
	}
	snprintf(with, n, "a new file in %s (no regular file in it)", dir);
	have_abs = wt_path_absolute(AT_FDCWD, dir, abs, sizeof(abs)) == 0;
	have_real = realpath(dir, real) != NULL;
	for (unsigned i = 0; i < cfg->nrules; i++)
		if ((have_abs && glob_covers(cfg->rules[i].glob, abs)) ||
		    (have_real && glob_covers(cfg->rules[i].glob, real)))
			return &cfg->rules[i];
	return NULL;
}

/* What was examined for a path, and what could not be read. */
struct target {
	bool bdev;
	char probed[WT_PATH_MAX + 256];
	char missing[WT_PATH_MAX + 512];
	char mounts[4096];            /* a block device's mount points */
	int nmounts;
	char part_mounts[4096];       /* "vda1 at /", … */
	int npart_mounts;
};

/*
 * A directory: the file system answers through a scratch file made in it
 * and gone at once, so that an empty directory and a full one get the same
 * answer (statx reports direct-I/O and atomic limits for regular files
 * only). When no file can be made, a file already there is the next best
 * source; failing that, what is missing is said, never printed as 0.
 */
static int probe_dir(const char *dir, struct wt_probe *p, struct target *t)
{
	char tmpl[WT_PATH_MAX], file[WT_PATH_MAX];
	int fd, err, r;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		snprintf(t->probed, sizeof(t->probed),
			 "a scratch file made in %s with O_TMPFILE (never linked)", dir);
	} else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
		/* No O_TMPFILE here: a named file, unlinked at once. */
		if (snprintf(tmpl, sizeof(tmpl), "%s/.walthrough-probe.XXXXXX",
			     dir) >= (int)sizeof(tmpl)) {
			errno = ENAMETOOLONG;
		} else if ((fd = mkostemp(tmpl, O_CLOEXEC)) >= 0) {
			unlink(tmpl);
			snprintf(t->probed, sizeof(t->probed),
				 "a scratch file made in %s as %s and removed at once",
				 dir, strrchr(tmpl, '/') + 1);
		}
	}
	if (fd >= 0) {
		r = wt_probe_fd(fd, p);
		close(fd);
		return r;
	}
	err = errno;
	if (pick_file(dir, file, sizeof(file)) && wt_probe_path(file, p) == 0) {
		snprintf(t->probed, sizeof(t->probed),
			 "%s, a file already there: no scratch file could be made in %s (%s)",
			 file, dir, strerror(err));
		return 0;
	}
	r = wt_probe_path(dir, p);
	if (r < 0)
		return r;
	/* A directory's statx says nothing of its files' limits. */
	p->dio_mem_align = p->dio_offset_align = p->dio_align = WT_PROBE_UNKNOWN;
	p->awu_min = p->awu_max = WT_PROBE_UNKNOWN;
	p->awu_max_opt = p->aw_segments_max = WT_PROBE_UNKNOWN;
	snprintf(t->probed, sizeof(t->probed), "the directory %s itself", dir);
	snprintf(t->missing, sizeof(t->missing),
		 "direct-I/O alignment and atomic write units: no scratch file could be made in %s (%s) and no regular file is in it to read them from; run as a user who may write there, or probe a file on this file system",
		 dir, strerror(err));
	return 0;
}

/* Appends "name at point" for each mounted partition of disk. */
static void partition_mounts(const char *disk, struct target *t)
{
	char path[512], buf[32], pts[4096];
	size_t used = 0;
	struct dirent *e;
	unsigned maj, min;
	int fd, n;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/block/%s", disk);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/block/%s/%s/partition", disk,
			 e->d_name);
		if (e->d_name[0] == '.' || access(path, F_OK) < 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/%s/dev", disk, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (sscanf(buf, "%u:%u", &maj, &min) != 2)
			continue;
		n = wt_probe_mounts(maj, min, pts, sizeof(pts));
		for (const char *m = pts; n-- > 0; m += strlen(m) + 1) {
			int w = snprintf(t->part_mounts + used,
					 sizeof(t->part_mounts) - used, "%s at %s",
					 e->d_name, m);
			if (w < 0 || (size_t)w + 1 >= sizeof(t->part_mounts) - used)
				break;
			used += (size_t)w + 1;
			t->npart_mounts++;
		}
	}
	closedir(d);
}

static int probe_blockdev(const char *path, const struct stat *st,
			  struct wt_probe *p, struct target *t)
{
	const char *first;
	int r;

	t->bdev = true;
	r = wt_probe_bdev(major(st->st_rdev), minor(st->st_rdev), p);
	if (r < 0)
		return r;
	snprintf(t->probed, sizeof(t->probed), "the block device %s itself", path);
	t->nmounts = wt_probe_mounts(p->dev_major, p->dev_minor, t->mounts,
				     sizeof(t->mounts));
	if (!*p->partition)
		partition_mounts(p->device, t);
	first = t->nmounts ? t->mounts :
		t->npart_mounts ? strstr(t->part_mounts, " at ") + 4 : NULL;
	if (first)
		snprintf(t->missing, sizeof(t->missing),
			 "the file system's answers (direct-I/O alignment, statx atomic write units) need a path on a mounted file system: walthrough probe %s",
			 first);
	else
		snprintf(t->missing, sizeof(t->missing),
			 "the file system's answers (direct-I/O alignment, statx atomic write units) need a path on a mounted file system, and %s is not mounted here",
			 path);
	return 0;
}

/* A NUL-separated list: a JSON array, else items joined by ", ". */
static void put_list(struct out *o, const char *k, const char *items, int n)
{
	key(o, k);
	if (o->json)
		putchar('[');
	for (int i = 0; i < n; i++, items += strlen(items) + 1) {
		if (o->json) {
			fputs(i ? ", " : "", stdout);
			json_str(items);
		} else {
			printf("%s%s", i ? ", " : "", items);
		}
	}
	fputs(o->json ? "]" : "\n", stdout);
}

static void facts(struct out *o, const struct wt_probe *p, const char *nvme_dev,
		  bool bdev)
{
	char buf[64];

	if (!bdev) {
		put_str(o, "filesystem", *p->fs ? p->fs : NULL);
		put_str(o, "mount_point", *p->mnt_point ? p->mnt_point : NULL);
		put_str(o, "mount_source", *p->mnt_source ? p->mnt_source : NULL);
	}
	put_str(o, "device", p->kind == WT_DEV_NONE ? "none" :
		*p->device ? p->device : NULL);
	put_str(o, "device_type", p->kind == WT_DEV_UNKNOWN ? NULL :
		wt_probe_kind_name(p->kind));
	snprintf(buf, sizeof(buf), "%u:%u", p->dev_major, p->dev_minor);
	put_str(o, bdev ? "st_rdev" : "st_dev", buf);
	if (*p->partition)
		put_str(o, "partition", p->partition);
	if (p->kind == WT_DEV_LOOP)
		put_str(o, "backing_file", *p->backing_file ? p->backing_file : NULL);
	if (p->kind == WT_DEV_DM)
		put_str(o, "dm_name", *p->dm_name ? p->dm_name : NULL);
	if (p->kind == WT_DEV_MD)
		put_str(o, "md_level", *p->md_level ? p->md_level : NULL);
	if (p->kind == WT_DEV_DM || p->kind == WT_DEV_MD)
		put_str(o, "slaves", *p->slaves ? p->slaves : NULL);
	put_num(o, "logical_block_size", p->logical_block_size);
	put_num(o, "physical_block_size", p->physical_block_size);
	if (!bdev) {
		put_num(o, "fs_block_size", p->fs_block_size);
		put_num(o, "dio_mem_align", p->dio_mem_align);
		put_num(o, "dio_offset_align", p->dio_offset_align);
		put_num(o, "dio_align", p->dio_align);
	}
	put_str(o, "write_cache", p->write_cache < 0 ? NULL :
		p->write_cache ? "write back" : "write through");
	put_tri(o, "fua", p->fua);
	put_tri(o, "rotational", p->rotational);
	if (!bdev) {
		put_num(o, "atomic_write_unit_min", p->awu_min);
		put_num(o, "atomic_write_unit_max", p->awu_max);
		put_num(o, "atomic_write_unit_max_opt", p->awu_max_opt);
		put_num(o, "atomic_write_segments_max", p->aw_segments_max);
	}
	put_num(o, "device_atomic_write_unit_min", p->q_awu_min);
	put_num(o, "device_atomic_write_unit_max", p->q_awu_max);
	put_num(o, "device_atomic_write_boundary", p->q_aw_boundary);
	put_num(o, "device_atomic_write_max", p->q_aw_max);

	if (nvme_dev)
		put_str(o, "nvme_identify_from", nvme_dev);
	else if (p->kind == WT_DEV_NVME)
		put_fmt(o, "nvme_identify_from", "/dev/%s", p->device);
	if (p->nvme_errno)
		put_str(o, "nvme_error", strerror(p->nvme_errno));
	put_str(o, "nvme_model", p->nvme_read ? p->nvme_model : NULL);
	put_tri(o, "nvme_vwc", p->nvme_vwc);
	put_num(o, "nvme_lba_size", p->nvme_lba_size);
	put_num(o, "nvme_awun", p->nvme_awun);
	put_num(o, "nvme_awupf", p->nvme_awupf);
	put_tri(o, "nvme_natomic", p->nvme_natomic);
	if (p->nvme_read && p->nvme_natomic == 0) {
		/* The namespace uses the controller's AWUN/AWUPF instead. */
		put_str(o, "nvme_nawun", "not defined");
		put_str(o, "nvme_nawupf", "not defined");
		put_str(o, "nvme_nabspf", "not defined");
	} else {
		put_num(o, "nvme_nawun", p->nvme_nawun);
		put_num(o, "nvme_nawupf", p->nvme_nawupf);
		put_num(o, "nvme_nabspf", p->nvme_nabspf);
	}
	put_num(o, "nvme_atomic_write_power_fail", p->nvme_atomic_pf);
}

static void warnings(struct out *o, const struct wt_probe *p)
{
	struct para w = { .len = 0 };

	if (cache_unflushed(p))
		add(&w, "The drive reports a volatile write cache (NVMe VWC = 1) but the kernel treats %s as write through: DSYNC writes are not flushed and can be lost on power failure (see /sys/block/%s/queue/write_cache).",
		    p->device, p->device);
	if (w.len)
		put_str(o, "warning", w.buf);
}

static void settings(struct out *o, const struct plan *pl, const char *config,
		     const char *matched_with)
{
	const struct wt_rule *r = pl->rule;

	if (!pl->have_config)
		put_str(o, "rule", "default (no config given)");
	else if (!r)
		put_fmt(o, "rule", "none: not tracked by %s", config);
	else
		put_fmt(o, "rule", "%s:%u [path %s]", config, r->line, r->glob);
	if (pl->have_config && matched_with)
		put_str(o, "rule_matched_with", matched_with);
	if (!r)
		return;
	put_str(o, "mode", wt_mode_name(r->mode));
	if (r->mode == WT_MODE_PASSTHROUGH)
		return;
	if (r->mode == WT_MODE_WRITETHROUGH) {
		key(o, "writethrough_writes");
		printf("%u%s", r->writethrough_writes, o->json ? "" : "\n");
	}
	put_str(o, "atomic", wt_atomic_name(r->atomic));
	key(o, "atomic_unit");
	printf("%u%s", r->atomic_unit, o->json ? "" : "\n");
}

/*
 * Returns 0, or 1 when the path could not be probed (reported on stderr
 * and, in JSON, as an "error" key so that the array keeps its order).
 */
static int probe_one(struct out *o, const char *path, const struct wt_config *cfg,
		     const char *config, const char *nvme_dev, int nvme_fd)
{
	static struct target t;       /* large; one path at a time */
	struct wt_probe p;
	struct plan pl;
	struct summary sum;
	struct stat st;
	char with[WT_PATH_MAX + 64];
	bool dir = false;
	int r;

	memset(&t, 0, sizeof(t));
	o->keys = 0;
	if (o->json)
		putchar('{');

	if (stat(path, &st) < 0)
		r = -errno;
	else if (S_ISBLK(st.st_mode))
		r = probe_blockdev(path, &st, &p, &t);
	else if (S_ISDIR(st.st_mode))
		r = (dir = true, probe_dir(path, &p, &t));
	else {
		r = wt_probe_path(path, &p);
		snprintf(t.probed, sizeof(t.probed), "the file itself");
	}
	if (r < 0) {
		const char *e = strerror(-r);
		char msg[128];

		if (t.bdev) {
			snprintf(msg, sizeof(msg), "block device %u:%u not found in /sys/dev/block",
				 major(st.st_rdev), minor(st.st_rdev));
			e = msg;
		}
		fprintf(stderr, "walthrough probe: %s: %s\n", path, e);
		put_fmt(o, "verdict", "expected gain here: unknown; safe: unknown (%s cannot be probed: %s)",
			path, e);
		put_str(o, "path", path);
		put_str(o, "error", e);
		goto done;
	}
	if (nvme_fd >= 0)
		wt_probe_nvme_fd(nvme_fd, &p);
	else if (nvme_dev)
		p.nvme_errno = -nvme_fd;

	memset(&pl, 0, sizeof(pl));
	pl.have_config = cfg != NULL;
	with[0] = 0;
	if (cfg && !t.bdev) {
		pl.rule = dir ? match_dir(cfg, path, with, sizeof(with)) :
			match(cfg, path);
	} else {
		pl.dflt.mode = WT_MODE_WRITETHROUGH;
		pl.dflt.writethrough_writes = 1;
		pl.dflt.atomic = WT_ATOMIC_AUTO;
		pl.dflt.atomic_unit = 8192;
		pl.rule = &pl.dflt;
	}
	pl.unread = *t.missing && !t.bdev;
	if (!t.bdev)
		decide(&p, &pl);
	summarize(path, &p, &pl, config, t.bdev, &sum);

	verdict(o, &p, &sum);
	put_str(o, "path", path);
	put_str(o, "probed", t.probed);
	if (*t.missing)
		put_str(o, "missing", t.missing);
	if (t.bdev) {
		/* An empty array in JSON, so that the key keeps one type. */
		if (t.nmounts || o->json)
			put_list(o, "mounted_at", t.mounts, t.nmounts);
		else
			put_str(o, "mounted_at", "not mounted");
		if (t.npart_mounts)
			put_list(o, "partitions_mounted", t.part_mounts,
				 t.npart_mounts);
	}
	facts(o, &p, nvme_dev, t.bdev);
	if (t.bdev)
		put_str(o, "rule", "not applicable (rules match files; this is a block device)");
	else
		settings(o, &pl, config, *with ? with : NULL);
	if (!t.bdev && pl.rule && pl.rule->mode != WT_MODE_PASSTHROUGH) {
		unsigned unit = pl.rule->atomic_unit;
		char why[512];

		/* Without a file's statx limits, these are not known. */
		put_tri(o, "hardware_atomic", pl.unread ? WT_PROBE_UNKNOWN :
			wt_probe_hw_atomic(&p, unit));
		atomic_gap(&p, pl.unread, unit, false, why, sizeof(why));
		put_str(o, "atomic_require", pl.unread ? NULL : why[0] ? "no" : "yes");
		atomic_gap(&p, pl.unread, unit, true, why, sizeof(why));
		put_str(o, "atomic_auto", pl.unread ? NULL : why[0] ? "none" : "hardware");
	}
	warnings(o, &p);
	put_str(o, "strategy", sum.strategy);
	put_str(o, "reason", sum.why.buf);
done:
	if (o->json)
		fputs("\n}", stdout);
	return r < 0;
}

int wt_cmd_probe(int argc, char **argv)
{
	struct out o = { .json = false };
	struct wt_config cfg;
	const char *config = NULL, *nvme_dev = NULL;
	int i, status = 0, npaths, nvme_fd = -1;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--json")) {
			o.json = true;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config") ||
			   !strcmp(a, "--nvme")) {
			if (i + 1 >= argc)
				return cli_usage_error("probe", "%s needs an argument", a);
			if (a[2] == 'n')
				nvme_dev = argv[++i];
			else
				config = argv[++i];
		} else if (cli_is_help(a)) {
			cli_cmd_help("probe", stdout);
			return 0;
		} else {
			return cli_usage_error("probe", "unknown option '%s'", a);
		}
	}
	npaths = argc - i;
	if (npaths < 1)
		return cli_usage_error("probe", "no path given");
	if (config && cli_load_config(config, &cfg) < 0)
		return 1;
	if (nvme_dev) {
		nvme_fd = open(nvme_dev, O_RDONLY | O_CLOEXEC);
		if (nvme_fd < 0) {
			nvme_fd = -errno;
			fprintf(stderr, "walthrough probe: %s: %s\n", nvme_dev,
				strerror(errno));
		}
	}

	if (o.json && npaths > 1)
		fputs("[\n", stdout);
	for (int k = 0; i < argc; i++, k++) {
		if (k)
			fputs(o.json ? ",\n" : "\n", stdout);
		status |= probe_one(&o, argv[i], config ? &cfg : NULL, config,
				    nvme_dev, nvme_fd);
	}
	if (o.json)
		fputs(npaths > 1 ? "\n]\n" : "\n", stdout);
	if (nvme_fd >= 0)
		close(nvme_fd);
	if (config)
		wt_config_free(&cfg);
	return status;
}
