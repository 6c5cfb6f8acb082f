/* SPDX-License-Identifier: MIT */
/*
 * log.c - one line on stderr per event: "walthrough[PID]: level: message".
 *
 * Formatted on the stack and written by one raw write(2), so that lines
 * from processes sharing a log (PostgreSQL's server log) do not
 * interleave, the interposed write is not re-entered, and errno is what
 * the caller left.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wt.h"

#define LOG_LINE_MAX 2048

enum wt_level wt_log_level = WT_LOG_WARN;

void wt_vlog(enum wt_level level, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	int saved = errno;
	int n, m;

	if (level > wt_log_level)
		return;
	n = snprintf(buf, sizeof(buf), "walthrough[%ld]: %s: ",
		     (long)syscall(SYS_getpid), wt_level_name(level));
	if (n < 0 || (size_t)n >= sizeof(buf) - 8)
		n = 0;
	/* Leave room for "...\n". */
	m = vsnprintf(buf + n, sizeof(buf) - n - 4, fmt, ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(buf) - n - 4) {
		m = sizeof(buf) - n - 5;
		memcpy(buf + n + m, "...", 3);
		m += 3;
	}
	/* One event, one line: a path holding "\n" must not forge another. */
	for (int i = n; i < n + m; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\t')
			buf[i] = '?';
	buf[n + m] = '\n';
	syscall(SYS_write, 2, buf, (size_t)(n + m + 1));
	errno = saved;
}

void wt_log(enum wt_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wt_vlog(level, fmt, ap);
	va_end(ap);
}
