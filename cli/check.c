/* SPDX-License-Identifier: MIT */
/*
 * check.c - `walthrough check CONFIG` and `walthrough match CONFIG PATH…`:
 * what the library will make of a config, before it is used.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wt.h"

int cmd_check(int argc, char **argv)
{
	struct wt_config cfg;

	if (argc != 2)
		return cli_usage_error("check", argc < 2 ? "no config given" :
				       "one config at a time");
	if (cli_load_config(argv[1], &cfg) < 0)
		return 1;
	printf("%s: valid\n", argv[1]);
	printf("global: log_level=%s engine=%s stats=%s\n",
	       wt_level_name(cfg.log_level), wt_engine_name(cfg.engine),
	       cfg.stats ? cfg.stats : "off");
	if (!cfg.nrules)
		printf("no [path] rules: no files are tracked\n");
	for (unsigned i = 0; i < cfg.nrules; i++)
		cli_print_rule(stdout, &cfg, &cfg.rules[i]);
	wt_config_free(&cfg);
	return 0;
}

/*
 * The path with symbolic links resolved, as the kernel names an open fd:
 * the file's own, or (not created yet) its directory's plus its name.
 * Returns 0, or -1 when there is none.
 */
static int real_path(const char *abs, char *out, size_t outsz)
{
	char buf[PATH_MAX];
	const char *slash;

	if (realpath(abs, buf)) {
		if (strlen(buf) >= outsz)
			return -1;
		strcpy(out, buf);
		return 0;
	}
	slash = strrchr(abs, '/');
	if (errno != ENOENT || !slash || !slash[1])
		return -1;
	char dir[PATH_MAX];
	size_t dn = slash - abs;
	if (dn >= sizeof(dir))
		return -1;
	memcpy(dir, abs, dn);
	dir[dn] = 0;
	if (!realpath(dn ? dir : "/", buf))
		return -1;
	int n = snprintf(out, outsz, "%s/%s", strcmp(buf, "/") ? buf : "",
			 slash + 1);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int cmd_match(int argc, char **argv)
{
	struct wt_config cfg;
	char abs[WT_PATH_MAX], real[WT_PATH_MAX];
	int status = 0;

	if (argc < 3)
		return cli_usage_error("match", argc < 2 ? "no config given" :
				       "no path given");
	if (cli_load_config(argv[1], &cfg) < 0)
		return 1;
	if (!cfg.nrules)
		fprintf(stderr, "walthrough match: %s has no [path] rules: no files are tracked\n",
			argv[1]);
	for (int i = 2; i < argc; i++) {
		int r = wt_path_absolute(AT_FDCWD, argv[i], abs, sizeof(abs));
		if (r < 0) {
			fprintf(stderr, "walthrough match: %s: %s\n",
				*argv[i] ? argv[i] : "''", strerror(-r));
			status = 1;
			continue;
		}
		const struct wt_rule *rule = wt_config_match(&cfg, abs);
		const char *via = NULL;
		if (!rule && real_path(abs, real, sizeof(real)) == 0 &&
		    strcmp(real, abs) != 0) {
			rule = wt_config_match(&cfg, real);
			if (rule)
				via = real;
		}
		if (!rule) {
			printf("%s: no rule; not tracked\n", abs);
			continue;
		}
		printf("%s: ", abs);
		if (via)
			printf("via %s: ", via);
		cli_print_rule(stdout, &cfg, rule);
	}
	wt_config_free(&cfg);
	return status;
}
