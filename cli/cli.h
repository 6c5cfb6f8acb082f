/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the walthrough command's subcommands share.
 *
 * A subcommand is a function in its own file plus one line in the table
 * in walthrough.c. It gets argv from its own name on, returns the exit
 * status: 0 success, 1 a problem (reported on stderr), 2 a usage error.
 */
#ifndef WT_CLI_H
#define WT_CLI_H

#include <stdio.h>

#include "wt.h"

#ifndef WT_VERSION
#define WT_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;             /* synopsis after the name */
	const char *summary;          /* one line for the command list */
	const char *help;             /* paragraphs for `walthrough help NAME` */
};

int cmd_check(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* "walthrough NAME: message" and NAME's synopsis on stderr; returns 2. */
int cli_usage_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* True for -h and --help. */
int cli_is_help(const char *arg);
/* Prints NAME's help on out. */
void cli_cmd_help(const char *name, FILE *out);

/*
 * Loads and validates FILE, printing each problem on stderr.
 * Returns 0 when valid, -1 when not.
 */
int cli_load_config(const char *file, struct wt_config *cfg);
/* "rule N (line L): GLOB mode=… …" on out. */
void cli_print_rule(FILE *out, const struct wt_config *cfg,
		    const struct wt_rule *r);

#endif
