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
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	enum aw_plan aw;
	char aw_why[512];             /* why atomic writes are not possible */
};

/* Why RWF_ATOMIC cannot be used for unit, into why; "" when it can. */
static void atomic_gap(const struct wt_probe *p, unsigned unit, bool hw_only,
		       char *why, size_t n)
{
	char a[32], b[32];

	why[0] = 0;
	if (p->dio_align == 0) {
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
	atomic_gap(p, r->atomic_unit, hw_only, pl->aw_why, sizeof(pl->aw_why));
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

/* The strategy and reason lines for one path. */
static void strategy(struct out *o, const char *path, const struct wt_probe *p,
		     struct plan *pl, const char *config)
{
	struct para why = { .len = 0 };
	const struct wt_rule *r = pl->rule;
	char s[512], a[32];
	const char *io, *aw;

	if (!r) {
		put_str(o, "strategy", "not tracked");
		add(&why, "No [path] rule in %s matches %s: the shim passes every call on it to libc unchanged.",
		    config, path);
		put_str(o, "reason", why.buf);
		return;
	}
	if (r->mode == WT_MODE_PASSTHROUGH) {
		put_str(o, "strategy", "passthrough");
		add(&why, "The rule at %s:%u says mode = passthrough: every call goes to libc unchanged and every fsync is kept.",
		    config, r->line);
		put_str(o, "reason", why.buf);
		return;
	}

	if (!pl->have_config)
		add(&why, "No config given: this is what a [path] rule with the default settings (mode = writethrough, atomic = auto, atomic_unit = 8192) would do.");

	if (pl->aw == AW_REFUSED) {
		put_str(o, "strategy", "refused: opening a matching file fails with EOPNOTSUPP");
		atomic_reason(p, pl, &why);
		put_str(o, "reason", why.buf);
		return;
	}
	aw = pl->aw == AW_HARDWARE ? "atomic in hardware" :
	     pl->aw == AW_SOFTWARE ? "atomic in software" : "not atomic";

	if (r->mode == WT_MODE_ATOMIC) {
		snprintf(s, sizeof(s), "atomic data writes (O_DIRECT + RWF_ATOMIC, every fsync kept), %s",
			 aw);
		put_str(o, "strategy", s);
		add(&why, "mode = atomic: aligned writes go O_DIRECT with RWF_ATOMIC and without DSYNC, so each %s page is written whole or not at all; fsync is never skipped. A write that cannot be atomic returns an error and is never written through the page cache.",
		    size_words(r->atomic_unit, a, sizeof(a)));
		atomic_reason(p, pl, &why);
		put_str(o, "reason", why.buf);
		return;
	}

	if (p->dio_align > 0) {
		io = "direct I/O";
		add(&why, "Aligned positioned writes (PostgreSQL's WAL pages) go O_DIRECT + RWF_DSYNC through a private descriptor, aligned to %lld bytes; other writes use pwritev2(RWF_DSYNC) on the program's own descriptor.",
		    (long long)p->dio_align);
	} else if (p->dio_align == 0) {
		io = "buffered RWF_DSYNC";
		add(&why, "%s does no direct I/O, so each writethrough write is pwritev2(RWF_DSYNC) through the page cache.",
		    *p->fs ? p->fs : "The file system");
	} else {
		io = "direct I/O if accepted, else buffered RWF_DSYNC";
		add(&why, "%s does not report its direct-I/O alignment: the shim tries O_DIRECT + RWF_DSYNC and falls back to pwritev2(RWF_DSYNC) if it is refused.",
		    *p->fs ? p->fs : "The file system");
	}
	snprintf(s, sizeof(s), "writethrough, %s, %s, %s", io, aw, commit_phrase(p));
	put_str(o, "strategy", s);

	if (r->writethrough_writes == 1)
		add(&why, "The first write after an open or a sync goes writethrough and makes the following fsync/fdatasync skippable; later writes before a sync (a bulk load) go through the page cache and that sync stays real.");
	else
		add(&why, "The first %u writes after an open or a sync go writethrough and make the following fsync/fdatasync skippable; later writes before a sync (a bulk load) go through the page cache and that sync stays real.",
		    r->writethrough_writes);
	atomic_reason(p, pl, &why);
	commit_reason(p, &why);
	put_str(o, "reason", why.buf);
}

/* ---- one path ---------------------------------------------------------- */

/*
 * For a directory, the first regular file in it by name (the shim acts on
 * files; XFS and ext4 report atomic and direct-I/O limits for files only).
 */
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

static void facts(struct out *o, const struct wt_probe *p, const char *nvme_dev)
{
	char buf[64];

	put_str(o, "filesystem", *p->fs ? p->fs : NULL);
	put_str(o, "mount_point", *p->mnt_point ? p->mnt_point : NULL);
	put_str(o, "mount_source", *p->mnt_source ? p->mnt_source : NULL);
	put_str(o, "device", p->kind == WT_DEV_NONE ? "none" :
		*p->device ? p->device : NULL);
	put_str(o, "device_type", p->kind == WT_DEV_UNKNOWN ? NULL :
		wt_probe_kind_name(p->kind));
	snprintf(buf, sizeof(buf), "%u:%u", p->dev_major, p->dev_minor);
	put_str(o, "st_dev", buf);
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
	put_num(o, "fs_block_size", p->fs_block_size);
	put_num(o, "dio_mem_align", p->dio_mem_align);
	put_num(o, "dio_offset_align", p->dio_offset_align);
	put_num(o, "dio_align", p->dio_align);
	put_str(o, "write_cache", p->write_cache < 0 ? NULL :
		p->write_cache ? "write back" : "write through");
	put_tri(o, "fua", p->fua);
	put_tri(o, "rotational", p->rotational);
	put_num(o, "atomic_write_unit_min", p->awu_min);
	put_num(o, "atomic_write_unit_max", p->awu_max);
	put_num(o, "atomic_write_unit_max_opt", p->awu_max_opt);
	put_num(o, "atomic_write_segments_max", p->aw_segments_max);
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

	if (p->nvme_vwc == 1 && p->write_cache == 0)
		add(&w, "The drive reports a volatile write cache (NVMe VWC = 1) but the kernel treats %s as write through: DSYNC writes are not flushed and can be lost on power failure (see /sys/block/%s/queue/write_cache).",
		    p->device, p->device);
	if (w.len)
		put_str(o, "warning", w.buf);
}

static void settings(struct out *o, const struct plan *pl, const char *config)
{
	const struct wt_rule *r = pl->rule;

	if (!pl->have_config)
		put_str(o, "rule", "default (no config given)");
	else if (!r)
		put_fmt(o, "rule", "none: not tracked by %s", config);
	else
		put_fmt(o, "rule", "%s:%u [path %s]", config, r->line, r->glob);
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
	struct wt_probe p;
	struct plan pl;
	struct stat st;
	char file[WT_PATH_MAX];
	const char *target = path;
	int r;

	o->keys = 0;
	if (o->json)
		putchar('{');
	put_str(o, "path", path);

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    pick_file(path, file, sizeof(file))) {
		target = file;
		put_str(o, "probed_file", file);
	}
	r = wt_probe_path(target, &p);
	if (r < 0) {
		fprintf(stderr, "walthrough probe: %s: %s\n", target, strerror(-r));
		put_str(o, "error", strerror(-r));
		goto done;
	}
	if (nvme_fd >= 0)
		wt_probe_nvme_fd(nvme_fd, &p);
	else if (nvme_dev)
		p.nvme_errno = -nvme_fd;

	memset(&pl, 0, sizeof(pl));
	pl.have_config = cfg != NULL;
	if (cfg) {
		pl.rule = match(cfg, target);
	} else {
		pl.dflt.mode = WT_MODE_WRITETHROUGH;
		pl.dflt.writethrough_writes = 1;
		pl.dflt.atomic = WT_ATOMIC_AUTO;
		pl.dflt.atomic_unit = 8192;
		pl.rule = &pl.dflt;
	}
	decide(&p, &pl);

	facts(o, &p, nvme_dev);
	settings(o, &pl, config);
	if (pl.rule && pl.rule->mode != WT_MODE_PASSTHROUGH) {
		unsigned unit = pl.rule->atomic_unit;
		char why[512];

		put_tri(o, "hardware_atomic", wt_probe_hw_atomic(&p, unit));
		atomic_gap(&p, unit, false, why, sizeof(why));
		put_str(o, "atomic_require", why[0] ? "no" : "yes");
		atomic_gap(&p, unit, true, why, sizeof(why));
		put_str(o, "atomic_auto", why[0] ? "none" : "hardware");
	}
	warnings(o, &p);
	strategy(o, path, &p, &pl, config);
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
