/* SPDX-License-Identifier: MIT */
/*
 * fuzz/path.c - libFuzzer target for path normalisation and rule matching.
 *
 * Every open of every program under the library goes through
 * wt_path_normalise and, when a config is loaded, wt_config_match, so
 * both see whatever paths programs use. The input is
 * "PATH" or "GLOB\nPATH". Checked, aborting on a difference:
 *   - wt_path_normalise against a plain reference (split on '/', drop
 *     "" and ".", pop on ".."), never longer than its input, idempotent;
 *   - wt_path_absolute on an absolute path: the normal form, or
 *     -ENAMETOOLONG exactly when it does not fit (the size comes from the
 *     input); on a relative one: the normal form of cwd/PATH;
 *   - a config "[path GLOB]" (behind another rule) that parses gives PATH
 *     the first rule whose glob, as the parser kept it, fnmatch(3) accepts
 *     with FNM_PATHNAME; and nothing hangs in fnmatch
 *     on a hostile glob (libFuzzer's -timeout).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define MAXIN (2 * WT_PATH_MAX)

static char cwd[WT_PATH_MAX];

static void fail(const char *why, const char *a, const char *b)
{
	fprintf(stderr, "fuzz/path: %s\n  got:  '%s'\n  want: '%s'\n", why,
		a ? a : "(null)", b ? b : "(null)");
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Fixed for the whole run: relative paths are checked against it. */
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	return 0;
}

/* The reference: obviously right, slow and allocation-happy. */
static void ref_normalise(const char *in, char *out)
{
	size_t n = strlen(in), depth = 0;
	const char **start = malloc((n + 1) * sizeof(*start));
	size_t *len = malloc((n + 1) * sizeof(*len));
	bool abs = in[0] == '/';

	if (!start || !len)
		abort();
	for (size_t i = 0; i < n;) {
		while (i < n && in[i] == '/')
			i++;
		size_t s = i;
		while (i < n && in[i] != '/')
			i++;
		size_t l = i - s;
		if (l == 0 || (l == 1 && in[s] == '.'))
			continue;
		if (l == 2 && in[s] == '.' && in[s + 1] == '.') {
			if (depth && !(len[depth - 1] == 2 &&
				       !memcmp(start[depth - 1], "..", 2))) {
				depth--;
				continue;
			}
			if (abs)
				continue;
		}
		start[depth] = in + s;
		len[depth++] = l;
	}
	size_t o = 0;
	if (abs)
		out[o++] = '/';
	for (size_t k = 0; k < depth; k++) {
		if (k)
			out[o++] = '/';
		memcpy(out + o, start[k], len[k]);
		o += len[k];
	}
	if (o == 0 && n > 0)
		out[o++] = '.';
	out[o] = 0;
	free(start);
	free(len);
}

static void check_normalise(const char *in)
{
	size_t n = strlen(in);
	char *got = malloc(n + 2), *want = malloc(n + 2), *twice = malloc(n + 2);

	if (!got || !want || !twice)
		abort();
	memcpy(got, in, n + 1);
	wt_path_normalise(got);
	ref_normalise(in, want);
	if (strcmp(got, want) != 0)
		fail("wt_path_normalise differs from the reference", got, want);
	if (strlen(got) > n)
		fail("normal form longer than its input", got, in);
	memcpy(twice, got, strlen(got) + 1);
	wt_path_normalise(twice);
	if (strcmp(twice, got) != 0)
		fail("wt_path_normalise is not idempotent", twice, got);
	free(got);
	free(want);
	free(twice);
}

static void check_absolute(const char *in, size_t outsz)
{
	char out[MAXIN + 2], want[MAXIN + WT_PATH_MAX + 2];
	size_t n = strlen(in);
	int r;

	if (outsz > sizeof(out))
		outsz = sizeof(out);
	r = wt_path_absolute(AT_FDCWD, in, out, outsz);
	if (outsz == 0) {
		if (r != -ENAMETOOLONG)
			fail("no room for the result, not -ENAMETOOLONG", in, NULL);
		return;
	}
	if (n == 0) {
		if (r != -ENOENT)
			fail("empty path not -ENOENT", NULL, NULL);
		return;
	}
	if (in[0] == '/') {
		if (n >= outsz) {
			if (r != -ENAMETOOLONG)
				fail("absolute path too long for out, not -ENAMETOOLONG", in, NULL);
			return;
		}
		if (r != 0)
			fail("absolute path that fits refused", in, NULL);
		ref_normalise(in, want);
		if (strcmp(out, want) != 0)
			fail("wt_path_absolute differs from the reference", out, want);
		return;
	}
	if (!cwd[0])
		return;
	size_t c = strlen(cwd);
	if (c + 1 + n >= outsz) {
		if (r != -ENAMETOOLONG)
			fail("relative path too long for out, not -ENAMETOOLONG", in, NULL);
		return;
	}
	if (r != 0)
		fail("relative path that fits refused", in, NULL);
	snprintf(want, sizeof(want), "%s/%s", cwd, in);
	char *w = strdup(want);
	if (!w)
		abort();
	ref_normalise(w, want);
	free(w);
	if (strcmp(out, want) != 0)
		fail("wt_path_absolute (relative) differs from the reference", out, want);
}

static void check_match(const char *glob, const char *path)
{
	size_t gl = strlen(glob);
	char *text = malloc(gl + 64);
	struct wt_config cfg;

	if (!text)
		abort();
	/* Another rule first, so that order is exercised too. */
	int n = snprintf(text, gl + 64, "[path /\xe2\x80\x8b/*]\n[path %s]\n", glob);
	int r = wt_config_parse("fuzz.conf", text, (size_t)n, &cfg, NULL, NULL);
	free(text);
	if (r != 0)
		return;
	if (cfg.nrules < 1 || cfg.nrules > 2)
		fail("a config of two rules holds neither one nor two", path, glob);
	/* The parser trims white space around the glob: compare with its globs. */
	const struct wt_rule *want = NULL;
	for (unsigned i = 0; i < cfg.nrules && !want; i++)
		if (fnmatch(cfg.rules[i].glob, path, FNM_PATHNAME) == 0)
			want = &cfg.rules[i];
	if (wt_config_match(&cfg, path) != want)
		fail("wt_config_match is not the first rule fnmatch accepts", path,
		     cfg.rules[cfg.nrules - 1].glob);
	wt_config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[MAXIN + 1];

	if (size > MAXIN)
		size = MAXIN;
	memcpy(in, data, size);
	in[size] = 0;           /* an embedded NUL just ends the string */

	char *nl = strchr(in, '\n');
	if (!nl) {
		check_normalise(in);
		/* The buffer size, from the input, probes the boundary. */
		check_absolute(in, size ? (size_t)(unsigned char)data[0] * 17 : 0);
		check_absolute(in, strlen(in) + 1);
		check_absolute(in, strlen(in));
		return 0;
	}
	*nl = 0;
	const char *glob = in, *path = nl + 1;
	check_normalise(path);
	if (path[0] != '/' || strlen(path) >= WT_PATH_MAX)
		return 0;
	char norm[WT_PATH_MAX];
	memcpy(norm, path, strlen(path) + 1);
	wt_path_normalise(norm);
	check_match(glob, norm);
	return 0;
}
