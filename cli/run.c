/* SPDX-License-Identifier: MIT */
/*
 * run.c - `walthrough run [-c CONFIG] -- COMMAND…`: validate the config,
 * find the library, put both in the environment and exec COMMAND.
 *
 * The library itself falls back to plain libc on a bad config; refusing
 * here, before anything starts, is what tells the DBA.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "wt.h"

#define LIBNAME "libwalthrough.so"
#define DEFAULT_CONFIG "/etc/walthrough.conf"

/* 0 if PATH is a readable regular file, else -errno. */
static int usable_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (access(path, R_OK) < 0)
		return -errno;
	return 0;
}

/*
 * The library's absolute path into out, or -1 after saying why not.
 * An explicit WALTHROUGH_LIBRARY is used or refused, never second-guessed.
 */
static int find_library(char *out, size_t outsz)
{
	const char *env = getenv("WALTHROUGH_LIBRARY");
	char exe[PATH_MAX], cand[2][PATH_MAX + 64];
	int r;

	if (env && *env) {
		r = usable_file(env);
		if (r < 0) {
			fprintf(stderr, "walthrough run: WALTHROUGH_LIBRARY=%s: %s\n",
				env, r == -EINVAL ? "not a regular file" : strerror(-r));
			return -1;
		}
		if (!realpath(env, exe) || strlen(exe) >= outsz) {
			fprintf(stderr, "walthrough run: WALTHROUGH_LIBRARY=%s: %s\n",
				env, strerror(errno ? errno : ENAMETOOLONG));
			return -1;
		}
		strcpy(out, exe);
		return 0;
	}

	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "walthrough run: cannot find %s: /proc/self/exe: %s; set WALTHROUGH_LIBRARY\n",
			LIBNAME, n < 0 ? strerror(errno) : "empty");
		return -1;
	}
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash) {
		fprintf(stderr, "walthrough run: cannot find %s (this program's path %s is odd); set WALTHROUGH_LIBRARY\n",
			LIBNAME, exe);
		return -1;
	}
	*slash = 0;
	/* Built tree: next to the program. Installed: PREFIX/lib/walthrough. */
	snprintf(cand[0], sizeof(cand[0]), "%s/" LIBNAME, exe);
	snprintf(cand[1], sizeof(cand[1]), "%s/../lib/walthrough/" LIBNAME, exe);
	wt_path_normalise(cand[1]);
	for (int i = 0; i < 2; i++) {
		if (usable_file(cand[i]) == 0 && strlen(cand[i]) < outsz) {
			strcpy(out, cand[i]);
			return 0;
		}
	}
	fprintf(stderr, "walthrough run: cannot find %s (looked for %s and %s); set WALTHROUGH_LIBRARY to its path\n",
		LIBNAME, cand[0], cand[1]);
	return -1;
}

int cmd_run(int argc, char **argv)
{
	const char *conf = NULL;
	char lib[PATH_MAX], absconf[PATH_MAX];
	struct wt_config cfg;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error("run", "%s needs a config", a);
			conf = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			conf = a + 9;
		} else if (strncmp(a, "-c", 2) == 0) {
			conf = a + 2;
		} else if (cli_is_help(a)) {
			cli_cmd_help("run", stdout);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("run", "unknown option '%s'", a);
		} else {
			break;            /* COMMAND without "--" */
		}
	}
	if (i >= argc)
		return cli_usage_error("run", "no command given");
	if (!conf) {
		conf = getenv("WALTHROUGH_CONFIG");
		if (!conf || !*conf)
			conf = DEFAULT_CONFIG;
	}

	if (cli_load_config(conf, &cfg) < 0) {
		fprintf(stderr, "walthrough run: not running %s: the config %s has problems (above)\n",
			argv[i], conf);
		return 1;
	}
	if (!cfg.nrules)
		fprintf(stderr, "walthrough run: %s has no [path] rules: no files are tracked\n",
			conf);
	wt_config_free(&cfg);
	/* Absolute: the command may chdir before the library reads it. */
	if (!realpath(conf, absconf)) {
		fprintf(stderr, "walthrough run: %s: %s\n", conf, strerror(errno));
		return 1;
	}
	if (find_library(lib, sizeof(lib)) < 0)
		return 1;
	/* ld.so splits LD_PRELOAD at spaces and colons. */
	if (strpbrk(lib, " :\t\n")) {
		fprintf(stderr, "walthrough run: the library path '%s' holds a space or ':', which LD_PRELOAD cannot carry\n",
			lib);
		return 1;
	}

	const char *old = getenv("LD_PRELOAD");
	size_t ln = strlen(lib);
	if (!old || !*old) {
		setenv("LD_PRELOAD", lib, 1);
	} else if (!(strncmp(old, lib, ln) == 0 &&
		     (old[ln] == 0 || old[ln] == ':' || old[ln] == ' '))) {
		/* Not first already (a nested run): prepend, keep the rest. */
		size_t sz = ln + 1 + strlen(old) + 1;
		char *pre = malloc(sz);
		if (!pre) {
			fprintf(stderr, "walthrough run: out of memory\n");
			return 1;
		}
		snprintf(pre, sz, "%s:%s", lib, old);
		setenv("LD_PRELOAD", pre, 1);
		free(pre);
	}
	setenv("WALTHROUGH_CONFIG", absconf, 1);

	fflush(stdout);
	execvp(argv[i], argv + i);
	int err = errno;
	if (err == ENOENT && !strchr(argv[i], '/'))
		fprintf(stderr, "walthrough run: %s: command not found\n", argv[i]);
	else
		fprintf(stderr, "walthrough run: %s: %s\n", argv[i], strerror(err));
	return err == ENOENT || err == ENOTDIR ? 127 : 126;
}
