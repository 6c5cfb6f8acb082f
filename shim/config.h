/* SPDX-License-Identifier: MIT */
/*
 * config.h - the config parser's pure entry points, for the CLI and for
 * fuzzing. wt.h declares what the library needs (wt_config_load etc.).
 */
#ifndef WT_CONFIG_H
#define WT_CONFIG_H

#include "wt.h"

#define WT_CONFIG_MAX_SIZE  (1024 * 1024)  /* bytes in a config file */
#define WT_CONFIG_MAX_LINE  4096           /* bytes in one line, sans '\n' */
#define WT_CONFIG_MAX_RULES 1024           /* [path] sections */
#define WT_CONFIG_MAX_REPORTS 50           /* problems reported per file */

/*
 * Parses LEN bytes at BUF (need not be NUL-terminated; any bytes at all)
 * as the config file NAME into *cfg, passing every problem to report
 * (which may be NULL). Touches no file and no global state.
 * Returns 0 when valid, or -1 (cfg is then empty) when not.
 */
int wt_config_parse(const char *name, const char *buf, size_t len,
		    struct wt_config *cfg, wt_report_fn report, void *ctx);

#endif
