/* SPDX-License-Identifier: MIT */
/*
 * fuzz/config.c - libFuzzer target for the config parser, wt_config_parse.
 *
 * A config is the one input a DBA gives us, and a hostile or broken one
 * must never crash a server under the library. Beyond memory errors (the
 * sanitizers) this checks what config.h promises, and aborts when a
 * promise breaks:
 *   - the result is the same with and without a report callback;
 *   - it fails exactly when a problem was reported, and then leaves the
 *     config empty; at most WT_CONFIG_MAX_REPORTS + 1 messages;
 *   - messages are valid UTF-8 without control characters (no terminal
 *     escapes from a config file);
 *   - a valid config holds only values the parser allows: absolute,
 *     normalised, distinct globs, units that are powers of two, ...;
 *   - a valid config written back out as text parses to the same config,
 *     and each glob without wildcards matches its own path.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define NAME "fuzz.conf"

struct seen {
	unsigned n;
};

static void fail(const char *why)
{
	fprintf(stderr, "fuzz/config: %s\n", why);
	abort();
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			need = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i <= need)
			return false;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static void report(void *ctx, const char *msg)
{
	struct seen *s = ctx;
	size_t n = strlen(msg);

	s->n++;
	if (n == 0 || n > WT_PATH_MAX + 1024)
		fail("a message is empty or too long");
	if (strncmp(msg, NAME ":", strlen(NAME ":")) != 0)
		fail("a message does not start with the file name");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = msg[i];
		if (c < 0x20 || c == 0x7f)
			fail("a message holds a control character");
	}
	if (!utf8_ok((const unsigned char *)msg, n))
		fail("a message is not valid UTF-8");
}

static bool has_wildcard(const char *g)
{
	return strpbrk(g, "*?[\\") != NULL;
}

static void check_valid(const struct wt_config *cfg)
{
	char norm[WT_PATH_MAX];

	if (!cfg->file || strcmp(cfg->file, NAME) != 0)
		fail("file name not kept");
	if ((unsigned)cfg->log_level > WT_LOG_DEBUG ||
	    (unsigned)cfg->engine > WT_ENGINE_PWRITEV2)
		fail("global value out of range");
	if (cfg->stats) {
		size_t n = strlen(cfg->stats);
		if (cfg->stats[0] != '/' || n >= WT_PATH_MAX ||
		    cfg->stats[n - 1] == '/')
			fail("bad stats path accepted");
	}
	if (cfg->nrules > WT_CONFIG_MAX_RULES || (cfg->nrules && !cfg->rules))
		fail("bad rule count");
	for (unsigned i = 0; i < cfg->nrules; i++) {
		const struct wt_rule *r = &cfg->rules[i];
		size_t n;

		if (!r->glob || r->glob[0] != '/')
			fail("a glob is not absolute");
		n = strlen(r->glob);
		if (n >= WT_PATH_MAX)
			fail("a glob is too long");
		memcpy(norm, r->glob, n + 1);
		wt_path_normalise(norm);
		if (strcmp(norm, r->glob) != 0)
			fail("a glob is not in normal form");
		if ((unsigned)r->mode > WT_MODE_PASSTHROUGH ||
		    (unsigned)r->atomic > WT_ATOMIC_OFF)
			fail("rule value out of range");
		if (r->mode == WT_MODE_ATOMIC && r->atomic == WT_ATOMIC_OFF)
			fail("mode = atomic with atomic = off accepted");
		if (r->writethrough_writes < 1 || r->writethrough_writes > 1000000)
			fail("writethrough_writes out of range");
		if (r->atomic_unit < 512 || r->atomic_unit > 1048576 ||
		    (r->atomic_unit & (r->atomic_unit - 1)))
			fail("atomic_unit out of range");
		if (r->line < 1 || (i && r->line <= cfg->rules[i - 1].line))
			fail("rule lines not increasing");
		for (unsigned k = 0; k < i; k++)
			if (strcmp(cfg->rules[k].glob, r->glob) == 0)
				fail("duplicate glob accepted");
		/* First match wins: a literal path finds its rule or an earlier one. */
		if (!has_wildcard(r->glob)) {
			const struct wt_rule *m = wt_config_match(cfg, r->glob);
			if (!m || m > r)
				fail("a literal glob does not match its own path");
		}
	}
	if (wt_config_match(cfg, NULL) != NULL)
		fail("NULL path matched");
}

static void check_empty(const struct wt_config *cfg)
{
	if (cfg->file || cfg->stats || cfg->rules || cfg->nrules)
		fail("a failed parse left something in the config");
}

/* Writes cfg back as text; the caller frees it. */
static char *unparse(const struct wt_config *cfg, size_t *lenp)
{
	size_t cap = 256 + (cfg->stats ? strlen(cfg->stats) : 0);
	for (unsigned i = 0; i < cfg->nrules; i++)
		cap += strlen(cfg->rules[i].glob) + 160;
	char *b = malloc(cap);
	size_t n = 0;

	if (!b)
		fail("out of memory");
	/* "stats=" and "[path GLOB]" are no longer than the lines they came from. */
	n += (size_t)snprintf(b + n, cap - n, "[global]\nlog_level = %s\nengine = %s\n",
			      wt_level_name(cfg->log_level),
			      wt_engine_name(cfg->engine));
	if (cfg->stats)
		n += (size_t)snprintf(b + n, cap - n, "stats=%s\n", cfg->stats);
	for (unsigned i = 0; i < cfg->nrules; i++) {
		const struct wt_rule *r = &cfg->rules[i];
		n += (size_t)snprintf(b + n, cap - n,
				      "[path %s]\nmode = %s\nwritethrough_writes = %u\natomic = %s\natomic_unit = %u\n",
				      r->glob, wt_mode_name(r->mode),
				      r->writethrough_writes,
				      wt_atomic_name(r->atomic), r->atomic_unit);
	}
	if (n >= cap)
		fail("unparse buffer too small");
	*lenp = n;
	return b;
}

static void check_same(const struct wt_config *a, const struct wt_config *b)
{
	if (a->log_level != b->log_level || a->engine != b->engine ||
	    !a->stats != !b->stats || (a->stats && strcmp(a->stats, b->stats)) ||
	    a->nrules != b->nrules)
		fail("round trip changed the global values or the rule count");
	for (unsigned i = 0; i < a->nrules; i++) {
		const struct wt_rule *x = &a->rules[i], *y = &b->rules[i];
		if (strcmp(x->glob, y->glob) || x->mode != y->mode ||
		    x->writethrough_writes != y->writethrough_writes ||
		    x->atomic != y->atomic || x->atomic_unit != y->atomic_unit)
			fail("round trip changed a rule");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wt_config cfg, quiet, again;
	struct seen seen = { 0 }, seen2 = { 0 };
	int r, rq;

	r = wt_config_parse(NAME, (const char *)data, size, &cfg, report, &seen);
	rq = wt_config_parse(NAME, (const char *)data, size, &quiet, NULL, NULL);
	if (r != 0 && r != -1)
		fail("result is neither 0 nor -1");
	if (r != rq)
		fail("the result depends on the report callback");
	if ((r == -1) != (seen.n > 0))
		fail("failed without a report, or reported and succeeded");
	if (seen.n > WT_CONFIG_MAX_REPORTS + 1)
		fail("too many reports");
	if (r < 0) {
		check_empty(&cfg);
		check_empty(&quiet);
		return 0;
	}
	check_valid(&cfg);
	check_same(&cfg, &quiet);

	size_t len;
	char *text = unparse(&cfg, &len);
	if (wt_config_parse(NAME, text, len, &again, report, &seen2) != 0)
		fail("a valid config written back out does not parse");
	check_same(&cfg, &again);
	free(text);

	wt_config_free(&again);
	wt_config_free(&quiet);
	wt_config_free(&cfg);
	check_empty(&cfg);
	wt_config_free(&cfg);     /* twice is allowed */
	return 0;
}
