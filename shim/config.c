/* SPDX-License-Identifier: MIT */
/*
 * config.c - reads and validates walthrough.conf (design.md §4).
 *
 * Runs inside the library's constructor and in the CLI, so it reads the
 * file with raw system calls (the library interposes open and fopen) and
 * keeps no state of its own. wt_config_parse works on a memory buffer
 * only, for fuzzing. Every problem is reported as "FILE:LINE: problem";
 * parsing goes on after one so that a DBA sees them all at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "wt.h"

#define QUOTE_MAX 120                 /* bytes of user text in a message */

enum sec { SEC_NONE, SEC_GLOBAL, SEC_PATH, SEC_SKIP };

enum key {
	K_LOG_LEVEL, K_ENGINE, K_STATS,                     /* [global] */
	K_MODE, K_WRITETHROUGH_WRITES, K_ATOMIC, K_ATOMIC_UNIT, /* [path] */
	K_NR
};

static const struct {
	const char *name;
	enum sec sec;
} keys[K_NR] = {
	[K_LOG_LEVEL] = { "log_level", SEC_GLOBAL },
	[K_ENGINE] = { "engine", SEC_GLOBAL },
	[K_STATS] = { "stats", SEC_GLOBAL },
	[K_MODE] = { "mode", SEC_PATH },
	[K_WRITETHROUGH_WRITES] = { "writethrough_writes", SEC_PATH },
	[K_ATOMIC] = { "atomic", SEC_PATH },
	[K_ATOMIC_UNIT] = { "atomic_unit", SEC_PATH },
};

#define GLOBAL_KEYS "log_level, engine, stats"
#define PATH_KEYS "mode, writethrough_writes, atomic, atomic_unit"

static const char *const mode_names[] = {
	[WT_MODE_WRITETHROUGH] = "writethrough",
	[WT_MODE_ATOMIC] = "atomic",
	[WT_MODE_PASSTHROUGH] = "passthrough",
};
static const char *const atomic_names[] = {
	[WT_ATOMIC_AUTO] = "auto",
	[WT_ATOMIC_REQUIRE] = "require",
	[WT_ATOMIC_OFF] = "off",
};
static const char *const engine_names[] = {
	[WT_ENGINE_AUTO] = "auto",
	[WT_ENGINE_IO_URING] = "io_uring",
	[WT_ENGINE_PWRITEV2] = "pwritev2",
};
static const char *const level_names[] = {
	[WT_LOG_ERROR] = "error",
	[WT_LOG_WARN] = "warn",
	[WT_LOG_INFO] = "info",
	[WT_LOG_DEBUG] = "debug",
};

#define NAME_OF(tab, v) \
	((unsigned)(v) < sizeof(tab) / sizeof(tab[0]) ? tab[v] : "?")

const char *wt_mode_name(enum wt_mode m) { return NAME_OF(mode_names, m); }
const char *wt_atomic_name(enum wt_atomic a) { return NAME_OF(atomic_names, a); }
const char *wt_engine_name(enum wt_engine e) { return NAME_OF(engine_names, e); }
const char *wt_level_name(enum wt_level l) { return NAME_OF(level_names, l); }

struct parser {
	const char *name;
	wt_report_fn report;
	void *ctx;
	unsigned problems;
	struct wt_config *cfg;

	enum sec sec;                 /* the section being read */
	bool real;                    /* false: a bad header, values only checked */
	unsigned rule;                /* its index in cfg->rules when real */
	struct wt_rule scratch;       /* its values when not */
	char label[QUOTE_MAX + 16];   /* "[global]" or "[path GLOB]" */
	unsigned key_line[K_NR];      /* where each key was set in it; 0: not */
	unsigned global_line;         /* line of [global]; 0: none yet */
	bool too_many_rules;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Copies N bytes of S into DST for a message: control characters become
 * \xNN (no terminal escapes from a config file), long text ends in "...",
 * never cutting a UTF-8 sequence in two.
 */
static void quote(char *dst, size_t dsz, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		size_t need = (c < 0x20 || c == 0x7f) ? 4 : 1;
		/* Room for this byte and a possible "..." plus NUL. */
		if (o + need + 4 > dsz || o >= QUOTE_MAX) {
			/* Mid-character: drop its first bytes too. */
			if ((c & 0xc0) == 0x80) {
				while (o > 0 && ((unsigned char)dst[o - 1] & 0xc0) == 0x80)
					o--;
				if (o > 0 && (unsigned char)dst[o - 1] >= 0xc0)
					o--;
			}
			break;
		}
		if (need == 4) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		} else {
			dst[o++] = c;
		}
	}
	if (i < n) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = 0;
}

static void problem(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[WT_PATH_MAX + 1024];
	va_list ap;
	int n;

	p->problems++;
	if (!p->report || p->problems > WT_CONFIG_MAX_REPORTS + 1)
		return;
	if (p->problems == WT_CONFIG_MAX_REPORTS + 1) {
		snprintf(msg, sizeof(msg), "%s: more problems not shown; fix the ones above first",
			 p->name);
		p->report(p->ctx, msg);
		return;
	}
	if (line)
		n = snprintf(msg, sizeof(msg), "%s:%u: ", p->name, line);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", p->name);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	p->report(p->ctx, msg);
}

/* Offset of the first byte of S that is not valid UTF-8, or N. */
static size_t utf8_invalid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t need, k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return i;
		}
		if (n - i <= need)
			return i;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += need + 1;
	}
	return n;
}

static int lookup(const char *const *names, size_t nnames, const char *v)
{
	for (size_t i = 0; i < nnames; i++)
		if (strcmp(names[i], v) == 0)
			return (int)i;
	return -1;
}

/* A decimal number of at most 10 digits, nothing else; -1 otherwise. */
static long long parse_uint(const char *v)
{
	long long x = 0;
	size_t i;

	for (i = 0; v[i]; i++) {
		if (v[i] < '0' || v[i] > '9' || i >= 10)
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return i ? x : -1;
}

static struct wt_rule *cur_rule(struct parser *p)
{
	return p->real ? &p->cfg->rules[p->rule] : &p->scratch;
}

/* A placeholder such as @PGDATA@ left in a glob: its start, or NULL. */
static const char *placeholder(const char *s, size_t *lenp)
{
	for (const char *a = strchr(s, '@'); a; a = strchr(a + 1, '@')) {
		const char *b = a + 1;
		if (*b < 'A' || *b > 'Z')
			continue;
		while ((*b >= 'A' && *b <= 'Z') || (*b >= '0' && *b <= '9') || *b == '_')
			b++;
		if (*b == '@') {
			*lenp = b + 1 - a;
			return a;
		}
	}
	return NULL;
}

static void end_section(struct parser *p)
{
	p->sec = SEC_NONE;
	p->real = false;
	memset(p->key_line, 0, sizeof(p->key_line));
}

static void rule_defaults(struct wt_rule *r, unsigned line)
{
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->mode = WT_MODE_WRITETHROUGH;
	r->writethrough_writes = 1;
	r->atomic = WT_ATOMIC_AUTO;
	r->atomic_unit = 8192;
}

static void path_header(struct parser *p, unsigned line, char *glob)
{
	struct wt_config *cfg = p->cfg;
	char q[QUOTE_MAX + 8], norm[WT_PATH_MAX];
	size_t glen = strlen(glob), plen;
	const char *ph;
	bool ok = false;

	quote(q, sizeof(q), glob, glen);
	snprintf(p->label, sizeof(p->label), "[path %s]", q);
	p->sec = SEC_PATH;
	rule_defaults(&p->scratch, line);

	if (!glen) {
		snprintf(p->label, sizeof(p->label), "[path]");
		problem(p, line, "[path] without a glob; write [path /ABSOLUTE/GLOB]");
	} else if ((ph = placeholder(glob, &plen))) {
		char qph[QUOTE_MAX + 8];
		quote(qph, sizeof(qph), ph, plen);
		if (strcmp(qph, "@PGDATA@") == 0)
			problem(p, line, "glob '%s' contains the placeholder @PGDATA@; replace it with the data directory, e.g. /var/lib/postgresql/15/main",
				q);
		else
			problem(p, line, "glob '%s' contains the placeholder %s; replace it with the path it stands for",
				q, qph);
	} else if (glob[0] != '/') {
		problem(p, line, "glob '%s' is relative; it must start with '/' (paths are matched in absolute form)",
			q);
	} else if (glen >= sizeof(norm)) {
		problem(p, line, "glob '%s' is too long (at most %d bytes)", q,
			WT_PATH_MAX - 1);
	} else {
		memcpy(norm, glob, glen + 1);
		wt_path_normalise(norm);
		if (strcmp(norm, glob) != 0) {
			char qn[QUOTE_MAX + 8];
			quote(qn, sizeof(qn), norm, strlen(norm));
			problem(p, line, "glob '%s' can never match: paths are matched in normal form (no '//', '.', '..' or trailing '/'); write '%s'",
				q, qn);
		} else {
			ok = true;
		}
	}
	if (!ok || p->too_many_rules)
		return;           /* past the limit: already reported, and slow */
	for (unsigned i = 0; i < cfg->nrules; i++) {
		if (strcmp(cfg->rules[i].glob, glob) == 0) {
			problem(p, line, "duplicate rule [path %s]: the same glob is on line %u, so this one could never match",
				q, cfg->rules[i].line);
			return;
		}
	}
	if (cfg->nrules >= WT_CONFIG_MAX_RULES) {
		if (!p->too_many_rules)
			problem(p, line, "too many [path] rules (at most %d)",
				WT_CONFIG_MAX_RULES);
		p->too_many_rules = true;
		return;
	}
	/* Grows by doubling: nrules is a power of two when full. */
	if ((cfg->nrules & (cfg->nrules - 1)) == 0) {
		size_t n = cfg->nrules ? cfg->nrules * 2 : 4;
		struct wt_rule *nr = realloc(cfg->rules, n * sizeof(*nr));
		if (!nr) {
			problem(p, line, "out of memory");
			return;
		}
		cfg->rules = nr;
	}
	struct wt_rule *r = &cfg->rules[cfg->nrules];
	rule_defaults(r, line);
	r->glob = strdup(glob);
	if (!r->glob) {
		problem(p, line, "out of memory");
		return;
	}
	p->rule = cfg->nrules++;
	p->real = true;
}

static void header(struct parser *p, unsigned line, char *s, size_t n)
{
	char q[QUOTE_MAX + 8];

	end_section(p);
	if (s[n - 1] != ']') {
		quote(q, sizeof(q), s, n);
		problem(p, line, "section header '%s' has no closing ']'", q);
		p->sec = SEC_SKIP;
		return;
	}
	/* The last ']' closes it: globs may hold brackets ("[0-9]*"). */
	s[n - 1] = 0;
	s++;
	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = 0;

	if (strcmp(s, "global") == 0) {
		p->sec = SEC_GLOBAL;
		snprintf(p->label, sizeof(p->label), "[global]");
		if (p->global_line) {
			problem(p, line, "[global] appears twice; first on line %u",
				p->global_line);
			return;
		}
		p->global_line = line;
		p->real = true;
		return;
	}
	if (strncmp(s, "path", 4) == 0 && (!s[4] || is_space(s[4]))) {
		char *glob = s + 4;
		while (is_space(*glob))
			glob++;
		path_header(p, line, glob);
		return;
	}
	quote(q, sizeof(q), s, n);
	if (s[0] == '/')
		problem(p, line, "unknown section [%s]; did you mean [path %s]?", q, q);
	else if (strncmp(s, "path/", 5) == 0)
		problem(p, line, "unknown section [%s]; did you mean [path %s]?", q, q + 4);
	else
		problem(p, line, "unknown section [%s]; sections are [global] and [path /ABSOLUTE/GLOB]",
			q);
	p->sec = SEC_SKIP;
}

/* Sets key K of the current section from V (trimmed, not empty). */
static void set_value(struct parser *p, unsigned line, enum key k, const char *v)
{
	struct wt_config *cfg = p->cfg;
	struct wt_rule *r = p->sec == SEC_PATH ? cur_rule(p) : NULL;
	const char *allowed = NULL;
	char q[QUOTE_MAX + 8];
	long long x;
	int i;

	switch (k) {
	case K_LOG_LEVEL:
		i = lookup(level_names, 4, v);
		if (i < 0)
			allowed = "error | warn | info | debug";
		else if (p->real)
			cfg->log_level = i;
		break;
	case K_ENGINE:
		i = lookup(engine_names, 3, v);
		if (i < 0)
			allowed = "auto | io_uring | pwritev2";
		else if (p->real)
			cfg->engine = i;
		break;
	case K_STATS:
		quote(q, sizeof(q), v, strlen(v));
		if (v[0] != '/') {
			problem(p, line, "stats path '%s' is relative; it must be absolute%s",
				q, (v[0] == '"' || v[0] == '\'') ? " (no quotes needed)" : "");
		} else if (strlen(v) >= WT_PATH_MAX) {
			problem(p, line, "stats path '%s' is too long (at most %d bytes)",
				q, WT_PATH_MAX - 1);
		} else if (v[strlen(v) - 1] == '/') {
			problem(p, line, "stats path '%s' names a directory; it must name a file",
				q);
		} else if (p->real) {
			free(cfg->stats);
			cfg->stats = strdup(v);
			if (!cfg->stats)
				problem(p, line, "out of memory");
		}
		return;
	case K_MODE:
		i = lookup(mode_names, 3, v);
		if (i < 0) {
			allowed = "writethrough | atomic | passthrough";
			break;
		}
		r->mode = i;
		if (r->mode == WT_MODE_ATOMIC && r->atomic == WT_ATOMIC_OFF)
			problem(p, line, "mode = atomic contradicts atomic = off (line %u) in %s; use atomic = auto or require",
				p->key_line[K_ATOMIC], p->label);
		break;
	case K_ATOMIC:
		i = lookup(atomic_names, 3, v);
		if (i < 0) {
			allowed = "auto | require | off";
			break;
		}
		r->atomic = i;
		if (r->mode == WT_MODE_ATOMIC && r->atomic == WT_ATOMIC_OFF)
			problem(p, line, "atomic = off contradicts mode = atomic (line %u) in %s; use atomic = auto or require, or another mode",
				p->key_line[K_MODE], p->label);
		break;
	case K_WRITETHROUGH_WRITES:
		x = parse_uint(v);
		if (x < 1 || x > 1000000)
			allowed = "a whole number from 1 to 1000000 (writes after each sync that go writethrough)";
		else
			r->writethrough_writes = x;
		break;
	case K_ATOMIC_UNIT:
		x = parse_uint(v);
		if (x < 512 || x > 1048576 || (x & (x - 1)))
			allowed = "a power of two from 512 to 1048576 (bytes), e.g. 8192";
		else
			r->atomic_unit = x;
		break;
	case K_NR:
		break;
	}
	if (allowed) {
		quote(q, sizeof(q), v, strlen(v));
		problem(p, line, "bad value '%s' for %s; allowed: %s%s", q,
			keys[k].name, allowed,
			(v[0] == '"' || v[0] == '\'') ? " (no quotes needed)" : "");
	}
}

static void key_value(struct parser *p, unsigned line, char *s)
{
	char q[QUOTE_MAX + 8], qk[QUOTE_MAX + 8];
	char *eq = strchr(s, '='), *key = s, *v;
	size_t kn;
	int k;

	if (!eq) {
		quote(q, sizeof(q), s, strlen(s));
		problem(p, line, "missing '=' in '%s'; expected KEY = VALUE", q);
		return;
	}
	kn = eq - s;
	while (kn && is_space(key[kn - 1]))
		kn--;
	key[kn] = 0;
	v = eq + 1;
	while (is_space(*v))
		v++;
	quote(qk, sizeof(qk), key, kn);
	if (!kn) {
		quote(q, sizeof(q), v, strlen(v));
		problem(p, line, "missing key before '=' in '= %s'", q);
		return;
	}
	for (k = 0; k < K_NR; k++)
		if (strcmp(keys[k].name, key) == 0)
			break;

	if (p->sec == SEC_NONE) {
		problem(p, line, "key '%s' before any section; put it under %s",
			qk, k == K_NR ? "[global] or [path /ABSOLUTE/GLOB]" :
			keys[k].sec == SEC_GLOBAL ? "[global]" : "[path /ABSOLUTE/GLOB]");
		return;
	}
	if (p->sec == SEC_SKIP)
		return;           /* its header was reported; more is noise */
	if (k == K_NR) {
		if (p->sec == SEC_GLOBAL)
			problem(p, line, "unknown key '%s' in [global]; [global] allows " GLOBAL_KEYS,
				qk);
		else
			problem(p, line, "unknown key '%s' in %s; [path ...] allows " PATH_KEYS,
				qk, p->label);
		return;
	}
	if (keys[k].sec != p->sec) {
		if (p->sec == SEC_GLOBAL)
			problem(p, line, "key '%s' belongs in a [path ...] section, not in [global]; [global] allows " GLOBAL_KEYS,
				qk);
		else
			problem(p, line, "key '%s' belongs in [global], not in %s; [path ...] allows " PATH_KEYS,
				qk, p->label);
		return;
	}
	if (p->key_line[k]) {
		problem(p, line, "duplicate key '%s' in %s; first set on line %u",
			qk, p->label, p->key_line[k]);
		return;
	}
	p->key_line[k] = line;
	if (!*v) {
		static const char *const what[K_NR] = {
			[K_LOG_LEVEL] = "error | warn | info | debug",
			[K_ENGINE] = "auto | io_uring | pwritev2",
			[K_STATS] = "an absolute file path",
			[K_MODE] = "writethrough | atomic | passthrough",
			[K_WRITETHROUGH_WRITES] = "a whole number from 1 to 1000000",
			[K_ATOMIC] = "auto | require | off",
			[K_ATOMIC_UNIT] = "a power of two from 512 to 1048576",
		};
		problem(p, line, "empty value for %s; allowed: %s", qk, what[k]);
		return;
	}
	set_value(p, line, k, v);
}

static void parse_line(struct parser *p, unsigned line, const char *ls, size_t n)
{
	char buf[WT_CONFIG_MAX_LINE + 1];
	const char *z;
	size_t bad, i;
	char *s;

	if (n > WT_CONFIG_MAX_LINE) {
		problem(p, line, "line too long (%zu bytes; at most %d)", n,
			WT_CONFIG_MAX_LINE);
		return;
	}
	if ((z = memchr(ls, 0, n))) {
		problem(p, line, "NUL byte at column %zu; a config must be text",
			(size_t)(z - ls) + 1);
		return;
	}
	/* An editor's byte-order mark is harmless. */
	if (line == 1 && n >= 3 && memcmp(ls, "\xef\xbb\xbf", 3) == 0)
		ls += 3, n -= 3;
	bad = utf8_invalid((const unsigned char *)ls, n);
	if (bad < n) {
		problem(p, line, "invalid UTF-8 (byte 0x%02x at column %zu); a config must be UTF-8 text",
			(unsigned char)ls[bad], bad + 1);
		return;
	}
	memcpy(buf, ls, n);
	buf[n] = 0;
	/* '#' at the start or after white space begins a comment. */
	for (i = 0; i < n; i++) {
		if (buf[i] == '#' && (i == 0 || is_space(buf[i - 1]))) {
			buf[i] = 0;
			n = i;
			break;
		}
	}
	s = buf;
	while (is_space(*s))
		s++, n--;
	while (n && is_space(s[n - 1]))
		s[--n] = 0;
	if (!n)
		return;
	if (s[0] == '[')
		header(p, line, s, n);
	else
		key_value(p, line, s);
}

int wt_config_parse(const char *name, const char *buf, size_t len,
		    struct wt_config *cfg, wt_report_fn report, void *ctx)
{
	struct parser p;
	size_t pos = 0;
	unsigned line = 0;

	memset(&p, 0, sizeof(p));
	p.name = name ? name : "(config)";
	p.report = report;
	p.ctx = ctx;
	p.cfg = cfg;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = WT_LOG_WARN;
	cfg->engine = WT_ENGINE_AUTO;
	cfg->file = strdup(p.name);
	if (!cfg->file)
		problem(&p, 0, "out of memory");

	while (buf && pos < len) {
		const char *ls = buf + pos;
		const char *nl = memchr(ls, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - ls) : len - pos;

		pos += n + (nl != NULL);
		if (line < UINT32_MAX)
			line++;
		parse_line(&p, line, ls, n);
	}
	end_section(&p);
	if (p.problems) {
		wt_config_free(cfg);
		return -1;
	}
	return 0;
}

void wt_config_free(struct wt_config *cfg)
{
	if (!cfg)
		return;
	for (unsigned i = 0; i < cfg->nrules; i++)
		free(cfg->rules[i].glob);
	free(cfg->rules);
	free(cfg->stats);
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * FNM_PATHNAME: "*" and "?" never match "/", so a rule for the files in pg_wal
 * covers segments and xlogtemp.<pid>, not pg_wal/archive_status/….
 */
const struct wt_rule *wt_config_match(const struct wt_config *cfg,
				      const char *abspath)
{
	if (!cfg || !abspath)
		return NULL;
	for (unsigned i = 0; i < cfg->nrules; i++)
		if (fnmatch(cfg->rules[i].glob, abspath, FNM_PATHNAME) == 0)
			return &cfg->rules[i];
	return NULL;
}

/* ---- reading the file -------------------------------------------------- */

static void load_problem(const char *file, wt_report_fn report, void *ctx,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void load_problem(const char *file, wt_report_fn report, void *ctx,
			 const char *fmt, ...)
{
	char msg[WT_PATH_MAX + 256];
	va_list ap;
	int n;

	if (!report)
		return;
	n = snprintf(msg, sizeof(msg), "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	report(ctx, msg);
}

static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

/*
 * Reads FILE into a malloc'd buffer (*lenp bytes). Returns NULL after
 * reporting why it cannot; *bad counts problems reported even though the
 * bytes were read (group/other-writable), so that they are parsed too.
 */
static char *read_config(const char *file, size_t *lenp, wt_report_fn report,
			 void *ctx, unsigned *bad)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd, err;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = syscall(SYS_openat, AT_FDCWD, file,
		     O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		load_problem(file, report, ctx, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		load_problem(file, report, ctx, "cannot stat: %s", strerror(errno));
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		load_problem(file, report, ctx, "not a regular file (%s)",
			     file_type(st.st_mode));
		goto err;
	}
	if (st.st_size > WT_CONFIG_MAX_SIZE) {
		load_problem(file, report, ctx, "too large (%lld bytes; at most %d)",
			     (long long)st.st_size, WT_CONFIG_MAX_SIZE);
		goto err;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		load_problem(file, report, ctx, "writable by group or others (mode %04o); chmod go-w",
			     (unsigned)(st.st_mode & 07777));
		(*bad)++;
	}
	/* One byte more than the limit tells a file that grew since fstat. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		load_problem(file, report, ctx, "out of memory");
		goto err;
	}
	for (;;) {
		if (len == cap) {
			if (cap > WT_CONFIG_MAX_SIZE) {
				load_problem(file, report, ctx, "too large (more than %d bytes)",
					     WT_CONFIG_MAX_SIZE);
				goto err;
			}
			size_t ncap = cap * 2 > WT_CONFIG_MAX_SIZE + 1 ?
				      WT_CONFIG_MAX_SIZE + 1 : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				load_problem(file, report, ctx, "out of memory");
				goto err;
			}
			buf = nb;
			cap = ncap;
		}
		long r = syscall(SYS_read, fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			load_problem(file, report, ctx, "cannot read: %s", strerror(errno));
			goto err;
		}
		if (r == 0)
			break;
		len += r;
	}
	buf[len] = 0;
	syscall(SYS_close, fd);
	*lenp = len;
	return buf;
err:
	err = errno;
	free(buf);
	syscall(SYS_close, fd);
	errno = err;
	return NULL;
}

int wt_config_load(const char *file, struct wt_config *cfg,
		   wt_report_fn report, void *ctx)
{
	unsigned bad = 0;
	size_t len = 0;
	char *buf;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if (!file || !*file) {
		load_problem(file ? "\"\"" : "(null)", report, ctx,
			     "no config file given");
		return -1;
	}
	buf = read_config(file, &len, report, ctx, &bad);
	if (!buf)
		return -1;
	r = wt_config_parse(file, buf, len, cfg, report, ctx);
	free(buf);
	if (bad && r == 0) {
		wt_config_free(cfg);
		r = -1;
	}
	return r;
}
