/* SPDX-License-Identifier: MIT */
/*
 * nofile.so - test-only: getrlimit(RLIMIT_NOFILE) reports the hard limit
 * WT_FAKE_NOFILE_MAX, as on a server where systemd grants 524288, on a
 * machine where the tests may not raise their own. Only reads are faked;
 * setting a limit reaches libc unchanged (prlimit is not faked).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/resource.h>

static void fake(struct rlimit *rl)
{
	const char *v = getenv("WT_FAKE_NOFILE_MAX");
	if (v && *v)
		rl->rlim_max = strtoull(v, NULL, 10);
}

int getrlimit(__rlimit_resource_t res, struct rlimit *rl)
{
	int (*real)(__rlimit_resource_t, struct rlimit *) =
		(int (*)(__rlimit_resource_t, struct rlimit *))dlsym(RTLD_NEXT, "getrlimit");
	int r = real(res, rl);
	if (r == 0 && res == RLIMIT_NOFILE)
		fake(rl);
	return r;
}

int getrlimit64(__rlimit_resource_t res, struct rlimit64 *rl)
{
	int (*real)(__rlimit_resource_t, struct rlimit64 *) =
		(int (*)(__rlimit_resource_t, struct rlimit64 *))dlsym(RTLD_NEXT, "getrlimit64");
	int r = real(res, rl);
	if (r == 0 && res == RLIMIT_NOFILE) {
		struct rlimit l = { rl->rlim_cur, rl->rlim_max };
		fake(&l);
		rl->rlim_max = l.rlim_max;
	}
	return r;
}
