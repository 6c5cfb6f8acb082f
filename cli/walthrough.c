/* SPDX-License-Identifier: MIT */
/*
 * walthrough.c - the walthrough command: its subcommand table, help and
 * the helpers the subcommands share. Add a subcommand by writing
 * cmd_NAME in cli/NAME.c, declaring it in cli.h and adding a line below.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wt.h"

static int cmd_help(int argc, char **argv);
int wt_cmd_stats(int argc, char **argv);     /* stats.c */
int wt_cmd_probe(int argc, char **argv);     /* probe.c */

static const struct cli_cmd cmds[] = {
	{ "check", cmd_check, "CONFIG",
	  "validate CONFIG and show its rules",
	  "Reads CONFIG as the library would. If it is valid, prints the global\n"
	  "settings and one line per [path] rule, in the order they are tried.\n"
	  "Otherwise prints every problem as FILE:LINE: problem on stderr and\n"
	  "exits with status 1.\n" },
	{ "run", cmd_run, "[-c CONFIG] [--] COMMAND [ARG...]",
	  "run COMMAND with walthrough preloaded",
	  "Validates CONFIG exactly like `walthrough check` and refuses to run\n"
	  "anything if it has problems. Then runs COMMAND with WALTHROUGH_CONFIG\n"
	  "set to CONFIG's absolute path and libwalthrough.so first in LD_PRELOAD\n"
	  "(entries already there are kept), so that every process it starts\n"
	  "inherits both.\n"
	  "\n"
	  "  -c, --config CONFIG   the config; default $WALTHROUGH_CONFIG, else\n"
	  "                        /etc/walthrough.conf\n"
	  "\n"
	  "The library is $WALTHROUGH_LIBRARY if set, else libwalthrough.so next\n"
	  "to this program, else ../lib/walthrough/libwalthrough.so from its\n"
	  "directory. Exit status: COMMAND's; 1 when the config or the library is\n"
	  "unusable; 126 when COMMAND cannot be run, 127 when it is not found.\n" },
	{ "match", cmd_match, "CONFIG PATH...",
	  "show which rule, if any, each PATH falls under",
	  "Makes each PATH absolute against the working directory, normalises it\n"
	  "(\"//\", \".\", \"..\", a trailing \"/\") as the library does, and prints the\n"
	  "first rule whose glob matches it. Like the library, when the path\n"
	  "itself matches no rule it tries the path with symbolic links resolved\n"
	  "(a pg_wal that is a link to another disk). Exit status: 0, matched or\n"
	  "not; 1 when CONFIG has problems or a PATH cannot be made absolute.\n" },
	{ "stats", wt_cmd_stats,
	  "[-c CONFIG | --file PATH] [--prometheus] [--watch SECONDS]",
	  "show the live counters of programs run under CONFIG",
	  "Reads the stats file named by `stats = PATH` in CONFIG's [global]\n"
	  "section (or PATH itself with --file) and prints, per rule: writes and\n"
	  "bytes, how they were made (direct, buffered-DSYNC, burst, atomic),\n"
	  "fallbacks, syncs skipped and passed (and why passed), errors by errno,\n"
	  "and writethrough write latency (p50/p99 estimates and a histogram).\n"
	  "\n"
	  "  -c, --config CONFIG   the config; default $WALTHROUGH_CONFIG, else\n"
	  "                        /etc/walthrough.conf\n"
	  "  --file PATH           read this stats file; no config needed\n"
	  "  --prometheus          the Prometheus text exposition format\n"
	  "  --watch SECONDS       redraw every SECONDS (0.1 to 86400) until\n"
	  "                        interrupted\n"
	  "\n"
	  "Exit status: 0; 1 when the config or the stats file is unusable\n"
	  "(missing, truncated, of another version, not a regular file).\n" },
	{ "probe", wt_cmd_probe, "[-c CONFIG] [--json] [--nvme DEV] PATH...",
	  "what the storage under each PATH can do, and what the shim does there",
	  "First a verdict: line (expected gain here: none, some or large; safe:\n"
	  "yes or no, and why), drawn from the same cases as strategy: below.\n"
	  "Then the file system, mount and block device under each PATH (a\n"
	  "partition's disk, a loop device's backing file, dm/md noted), as key:\n"
	  "value lines: what statx, sysfs and NVMe Identify report: direct I/O\n"
	  "alignment, atomic write units, write cache, FUA, NVMe VWC, AWUPF and\n"
	  "NAWUPF. A value that cannot be read is printed as unknown, never\n"
	  "guessed. Then strategy: and reason: say what the shim will do for the\n"
	  "path under CONFIG's matching rule (without -c: a rule with the default\n"
	  "settings): direct or buffered writes, atomic in hardware, in software or\n"
	  "not at all, one device write per commit or a write plus a cache flush.\n"
	  "A directory is probed through a scratch file made in it with O_TMPFILE\n"
	  "(else a named one, removed at once), so that the file system answers\n"
	  "whatever the directory holds; when none can be made, missing: says what\n"
	  "could not be read. A block device (/dev/vda, /dev/loop0) is probed\n"
	  "itself: its queue limits and NVMe Identify, and mounted_at: says where\n"
	  "it is mounted (the file system's answers need a path there).\n"
	  "\n"
	  "  -c, --config CONFIG   decide with CONFIG's rules\n"
	  "  --json                one JSON object per PATH (an array for several);\n"
	  "                        unknown values are null\n"
	  "  --nvme DEV            read NVMe Identify from namespace DEV (e.g.\n"
	  "                        /dev/nvme0n1) instead of the device found under\n"
	  "                        PATH: for file systems on dm, md or loop over NVMe\n"
	  "\n"
	  "Exit status: 0; 1 when a PATH or CONFIG cannot be read.\n" },
	{ "help", cmd_help, "[COMMAND]",
	  "show this help, or COMMAND's",
	  "Shows the list of commands, or the help of one.\n" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct cli_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: walthrough COMMAND [ARG...]\n"
		"       walthrough --help | --version\n"
		"\n"
		"Makes writes to the files a config names durable as they are made\n"
		"(writethrough), so that the fsync calls which follow them can be\n"
		"skipped.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < NCMDS; i++) {
		char syn[80];
		snprintf(syn, sizeof(syn), "%s %s", cmds[i].name, cmds[i].args);
		if (strlen(syn) > 26)
			fprintf(out, "  %s\n  %-26s  %s\n", syn, "", cmds[i].summary);
		else
			fprintf(out, "  %-26s  %s\n", syn, cmds[i].summary);
	}
	fprintf(out,
		"\n"
		"`walthrough help COMMAND` shows more about one of them.\n"
		"\n"
		"Environment:\n"
		"  WALTHROUGH_CONFIG   the config `run` uses without -c\n"
		"                      (default /etc/walthrough.conf)\n"
		"  WALTHROUGH_LIBRARY  the library `run` preloads\n");
}

void cli_cmd_help(const char *name, FILE *out)
{
	const struct cli_cmd *c = find_cmd(name);

	if (!c)
		return;
	fprintf(out, "usage: walthrough %s %s\n\n%s", c->name, c->args, c->help);
}

int cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
	const struct cli_cmd *c = find_cmd(name);
	va_list ap;

	fprintf(stderr, "walthrough %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c)
		fprintf(stderr, "\nusage: walthrough %s %s\n", c->name, c->args);
	else
		fputc('\n', stderr);
	return EXIT_USAGE;
}

static void print_problem(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

int cli_load_config(const char *file, struct wt_config *cfg)
{
	int r = wt_config_load(file, cfg, print_problem, NULL);
	fflush(stderr);
	return r;
}

void cli_print_rule(FILE *out, const struct wt_config *cfg,
		    const struct wt_rule *r)
{
	fprintf(out, "rule %u (line %u): %s mode=%s", (unsigned)(r - cfg->rules) + 1,
		r->line, r->glob, wt_mode_name(r->mode));
	if (r->mode == WT_MODE_PASSTHROUGH)
		fprintf(out, " (left alone)\n");
	else
		fprintf(out, " writethrough_writes=%u atomic=%s atomic_unit=%u\n",
			r->writethrough_writes, wt_atomic_name(r->atomic),
			r->atomic_unit);
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (argc > 2)
		return cli_usage_error("help", "one command at a time");
	if (!find_cmd(argv[1])) {
		fprintf(stderr, "walthrough: unknown command '%s'\n\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	cli_cmd_help(argv[1], stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("walthrough %s\n", WT_VERSION);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		if (argv[1][0] == '-')
			fprintf(stderr, "walthrough: unknown option '%s'\n\n", argv[1]);
		else
			fprintf(stderr, "walthrough: unknown command '%s'\n\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argc > 2 && cli_is_help(argv[2])) {
		cli_cmd_help(c->name, stdout);
		return 0;
	}
	return c->fn(argc - 1, argv + 1);
}
