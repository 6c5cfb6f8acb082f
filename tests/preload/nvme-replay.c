/* SPDX-License-Identifier: MIT */
/*
 * nvme-replay.c - test-only LD_PRELOAD: a fake NVMe namespace answering
 * Identify with recorded data, so that the probe's libnvme path runs on a
 * machine without NVMe. Never installed; the library knows nothing of it.
 *
 * Environment:
 *   NVME_REPLAY_DEV      path of the fake namespace node (need not exist);
 *                        opening it gives an fd on /dev/null that answers
 *                        NVME_IOCTL_ID and NVME_IOCTL_ADMIN_CMD (Identify).
 *   NVME_REPLAY_FIXTURE  a tests/fixtures/nvme/ file: the fields as
 *                        `nvme id-ctrl` / `nvme id-ns` print them, from
 *                        which the 4096-byte Identify structures are built.
 *   NVME_REPLAY_FAIL     optional errno number: every admin command fails
 *                        with it (as the kernel's EACCES/EPERM would).
 *   NVME_REPLAY_LOG      optional file: one line per command answered.
 * A fixture that cannot be read or lacks a field the probe needs aborts the
 * process: a test must fail, never pass on made-up data.
 */
#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvme/ioctl.h>
#include <nvme/types.h>

/* Offsets from the NVMe Base / NVM Command Set specifications. */
_Static_assert(offsetof(struct nvme_id_ctrl, mn) == 24, "mn");
_Static_assert(offsetof(struct nvme_id_ctrl, vwc) == 525, "vwc");
_Static_assert(offsetof(struct nvme_id_ctrl, awun) == 526, "awun");
_Static_assert(offsetof(struct nvme_id_ctrl, awupf) == 528, "awupf");
_Static_assert(offsetof(struct nvme_id_ns, nsfeat) == 24, "nsfeat");
_Static_assert(offsetof(struct nvme_id_ns, flbas) == 26, "flbas");
_Static_assert(offsetof(struct nvme_id_ns, nawupf) == 36, "nawupf");
_Static_assert(offsetof(struct nvme_id_ns, nabspf) == 44, "nabspf");
_Static_assert(offsetof(struct nvme_id_ns, lbaf) == 128, "lbaf");
_Static_assert(sizeof(struct nvme_id_ctrl) == 4096, "id ctrl size");
_Static_assert(sizeof(struct nvme_id_ns) == 4096, "id ns size");

#define MAX_FDS 4096

static struct nvme_id_ctrl ctrl;
static struct nvme_id_ns ns;
static unsigned nsid = 1;
static const char *dev_path;
static int fail_errno;
static bool fake_fd[MAX_FDS];

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_close)(int);

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("nvme-replay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void log_line(const char *fmt, ...)
{
	const char *file = getenv("NVME_REPLAY_LOG");
	char buf[256];
	va_list ap;
	int fd, n;

	if (!file)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = real_open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	n = write(fd, buf, n);   /* a lost log line only weakens a test */
	(void)n;
	real_close(fd);
}

/* ---- the fixture ------------------------------------------------------- */

enum { F_VWC, F_AWUN, F_AWUPF, F_NSFEAT, F_NLBAF, F_FLBAS, F_NAWUN,
       F_NAWUPF, F_NABSPF, F_LBAF, F_MN, F_NR };
static const char *const required[F_NR] = {
	"vwc", "awun", "awupf", "nsfeat", "nlbaf", "flbas", "nawun",
	"nawupf", "nabspf", "lbaf", "mn",
};

static unsigned long num(const char *v, const char *key, unsigned lineno)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 0);
	if (errno || end == v || (*end && *end != ' ' && *end != '\t'))
		die("fixture line %u: bad value for %s: '%s'", lineno, key, v);
	return x;
}

/* "ms:0   lbads:9  rp:0x1 (in use)" after "lbaf  N :". */
static void lbaf_line(unsigned idx, const char *v, unsigned lineno)
{
	unsigned ms, ds, rp;

	if (idx >= 64 || sscanf(v, "ms:%u lbads:%u rp:%x", &ms, &ds, &rp) != 3)
		die("fixture line %u: bad lbaf", lineno);
	ns.lbaf[idx].ms = htole16(ms);
	ns.lbaf[idx].ds = ds;
	ns.lbaf[idx].rp = rp;
}

static void pad(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, len < n ? len : n);
}

static void load_fixture(const char *file)
{
	FILE *f = fopen(file, "r");
	char line[1024];
	unsigned lineno = 0;
	bool seen[F_NR] = { 0 };
	enum { NONE, CTRL, NS } sec = NONE;

	if (!f)
		die("%s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char key[64], *colon, *v;
		unsigned idx;

		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#' || line[0] == ' ' || line[0] == '\t')
			continue;           /* comments, -H bit-field lines */
		if (!strcmp(line, "NVME Identify Controller:")) {
			sec = CTRL;
			continue;
		}
		if (sscanf(line, "NVME Identify Namespace %u:", &nsid) == 1) {
			sec = NS;
			continue;
		}
		colon = strchr(line, ':');
		if (!colon || sec == NONE)
			die("%s:%u: not a field line", file, lineno);
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (sec == NS && sscanf(line, "lbaf %u :", &idx) == 1) {
			lbaf_line(idx, v, lineno);
			seen[F_LBAF] = true;
			continue;
		}
		if (sscanf(line, "%63[a-z0-9_]", key) != 1)
			die("%s:%u: no key", file, lineno);

		if (sec == CTRL && !strcmp(key, "mn")) {
			char *e = v + strlen(v);
			while (e > v && e[-1] == ' ')
				*--e = 0;
			pad(ctrl.mn, sizeof(ctrl.mn), v);
			seen[F_MN] = true;
		} else if (sec == CTRL && !strcmp(key, "fr")) {
			pad(ctrl.fr, sizeof(ctrl.fr), v);
		} else if (sec == CTRL && !strcmp(key, "vid")) {
			ctrl.vid = htole16(num(v, key, lineno));
		} else if (sec == CTRL && !strcmp(key, "vwc")) {
			ctrl.vwc = num(v, key, lineno);
			seen[F_VWC] = true;
		} else if (sec == CTRL && !strcmp(key, "awun")) {
			ctrl.awun = htole16(num(v, key, lineno));
			seen[F_AWUN] = true;
		} else if (sec == CTRL && !strcmp(key, "awupf")) {
			ctrl.awupf = htole16(num(v, key, lineno));
			seen[F_AWUPF] = true;
		} else if (sec == CTRL && !strcmp(key, "nn")) {
			ctrl.nn = htole32(num(v, key, lineno));
		} else if (sec == NS && !strcmp(key, "nsfeat")) {
			ns.nsfeat = num(v, key, lineno);
			seen[F_NSFEAT] = true;
		} else if (sec == NS && !strcmp(key, "nlbaf")) {
			ns.nlbaf = num(v, key, lineno);
			seen[F_NLBAF] = true;
		} else if (sec == NS && !strcmp(key, "flbas")) {
			ns.flbas = num(v, key, lineno);
			seen[F_FLBAS] = true;
		} else if (sec == NS && !strcmp(key, "nawun")) {
			ns.nawun = htole16(num(v, key, lineno));
			seen[F_NAWUN] = true;
		} else if (sec == NS && !strcmp(key, "nawupf")) {
			ns.nawupf = htole16(num(v, key, lineno));
			seen[F_NAWUPF] = true;
		} else if (sec == NS && !strcmp(key, "nabspf")) {
			ns.nabspf = htole16(num(v, key, lineno));
			seen[F_NABSPF] = true;
		} else if (sec == NS && !strcmp(key, "nsze")) {
			ns.nsze = ns.ncap = htole64(num(v, key, lineno));
		}
		/* Other fields are kept in the fixture as published, unused. */
	}
	fclose(f);
	for (int i = 0; i < F_NR; i++)
		if (!seen[i])
			die("%s: no %s", file, required[i]);
}

__attribute__((constructor)) static void init(void)
{
	const char *fixture = getenv("NVME_REPLAY_FIXTURE");
	const char *fail = getenv("NVME_REPLAY_FAIL");

	real_open = dlsym(RTLD_NEXT, "open");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_ioctl = dlsym(RTLD_NEXT, "ioctl");
	real_close = dlsym(RTLD_NEXT, "close");
	if (!real_open || !real_openat || !real_ioctl || !real_close)
		die("dlsym: %s", dlerror());
	dev_path = getenv("NVME_REPLAY_DEV");
	if (fail)
		fail_errno = atoi(fail);
	if (dev_path && fixture)
		load_fixture(fixture);
	else
		dev_path = NULL;
}

/* ---- interposed calls -------------------------------------------------- */

static int open_fake(void)
{
	int fd = real_open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fd < MAX_FDS)
		fake_fd[fd] = true;
	log_line("open\n");
	return fd;
}

static bool is_dev(const char *path)
{
	return dev_path && path && !strcmp(path, dev_path);
}

#define OPEN_MODE(flags) ({ \
	mode_t m_ = 0; \
	if ((flags) & (O_CREAT | __O_TMPFILE)) { \
		va_list ap_; \
		va_start(ap_, flags); \
		m_ = va_arg(ap_, mode_t); \
		va_end(ap_); \
	} \
	m_; })

int open(const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	return is_dev(path) ? open_fake() : real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	return is_dev(path) ? open_fake() : real_open(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	return is_dev(path) ? open_fake() : real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = OPEN_MODE(flags);
	return is_dev(path) ? open_fake() : real_openat(dirfd, path, flags, mode);
}

int __open_2(const char *path, int flags)
{
	return is_dev(path) ? open_fake() : real_open(path, flags);
}

int __open64_2(const char *path, int flags)
{
	return is_dev(path) ? open_fake() : real_open(path, flags);
}

int close(int fd)
{
	if (fd >= 0 && fd < MAX_FDS)
		fake_fd[fd] = false;
	return real_close(fd);
}

/* Returns the NVMe status (0 success) as the kernel's ioctl does. */
static int admin(struct nvme_passthru_cmd *cmd)
{
	unsigned cns = cmd->cdw10 & 0xff;
	void *data = (void *)(uintptr_t)cmd->addr;

	if (fail_errno) {
		log_line("admin opcode=%#x refused errno=%d\n", cmd->opcode,
			 fail_errno);
		errno = fail_errno;
		return -1;
	}
	if (cmd->opcode != nvme_admin_identify) {
		log_line("admin opcode=%#x unsupported\n", cmd->opcode);
		return NVME_SC_INVALID_OPCODE;
	}
	if (cmd->data_len < NVME_IDENTIFY_DATA_SIZE || !data) {
		errno = EINVAL;
		return -1;
	}
	log_line("identify cns=%u nsid=%u\n", cns, cmd->nsid);
	if (cns == NVME_IDENTIFY_CNS_CTRL) {
		memcpy(data, &ctrl, sizeof(ctrl));
		return 0;
	}
	if (cns == NVME_IDENTIFY_CNS_NS) {
		if (cmd->nsid != nsid)
			return NVME_SC_INVALID_NS;
		memcpy(data, &ns, sizeof(ns));
		return 0;
	}
	return NVME_SC_INVALID_FIELD;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < 0 || fd >= MAX_FDS || !fake_fd[fd])
		return real_ioctl(fd, req, arg);
	if (req == NVME_IOCTL_ID) {
		log_line("nsid\n");
		return (int)nsid;
	}
	if (req == NVME_IOCTL_ADMIN_CMD)
		return admin(arg);
	log_line("ioctl %#lx unsupported\n", req);
	errno = ENOTTY;
	return -1;
}
