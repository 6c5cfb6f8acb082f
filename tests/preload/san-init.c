/* SPDX-License-Identifier: MIT */
/*
 * san-init.so - lets PostgreSQL start with a sanitizer runtime (libasan,
 * libtsan) preloaded: the soak and the sanitized PostgreSQL suites. Place
 * it right after the runtime in LD_PRELOAD.
 *
 * Preloaded objects are initialised after the program's own libraries,
 * so the runtime initialises lazily, on the first malloc. In postgres and
 * initdb that happens in a library's constructor, inside bindtextdomain or
 * newlocale, which hold one of glibc's locale locks for writing. The
 * runtime's start-up calls dlerror, which takes the same lock for
 * reading: the lock's reader count goes negative and a later bindtextdomain
 * or freelocale waits forever. Forcing that first malloc before the lock
 * is taken avoids it.
 */
#include <dlfcn.h>
#include <locale.h>
#include <stdlib.h>

static void runtime_init(void)
{
	void *volatile p = malloc(1); /* volatile: not optimised away */

	free(p);
}

#define NEXT(name) \
	static __typeof__(name) *real; \
	runtime_init(); \
	if (!real) \
		*(void **)&real = dlsym(RTLD_NEXT, #name)

char *bindtextdomain(const char *domain, const char *dir)
{
	NEXT(bindtextdomain);
	return real ? real(domain, dir) : NULL;
}

locale_t newlocale(int mask, const char *locale, locale_t base)
{
	NEXT(newlocale);
	return real ? real(mask, locale, base) : (locale_t)0;
}

char *setlocale(int category, const char *locale)
{
	NEXT(setlocale);
	return real ? real(category, locale) : NULL;
}
