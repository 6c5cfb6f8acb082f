/* SPDX-License-Identifier: MIT */
/*
 * nofile.so - test-only: getrlimit(RLIMIT_NOFILE) reports the hard limit
 * WT_FAKE_NOFILE_MAX, as on a server where systemd grants 524288, on a
 * machine where the tests may not raise their own. Only getrlimit and
 * getrlimit64 are faked. They read the limit by a raw system call: a
 * sanitizer runtime calls them before dlsym may be used.
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int get(int res, struct rlimit64 *rl)
{
	if (syscall(SYS_prlimit64, 0, res, NULL, rl) < 0)
		return -1;
	const char *v = getenv("WT_FAKE_NOFILE_MAX");
	if (res == RLIMIT_NOFILE && v && *v)
		rl->rlim_max = strtoull(v, NULL, 10);
	return 0;
}

int getrlimit64(__rlimit_resource_t res, struct rlimit64 *rl)
{
	return get((int)res, rl);
}

int getrlimit(__rlimit_resource_t res, struct rlimit *rl)
{
	struct rlimit64 l;
	if (get((int)res, &l) < 0)
		return -1;
	rl->rlim_cur = (rlim_t)l.rlim_cur;
	rl->rlim_max = (rlim_t)l.rlim_max;
	return 0;
}
