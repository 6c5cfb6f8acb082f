/* SPDX-License-Identifier: MIT */
/*
 * logdisk - a FUSE file system with one disk image that logs every write.
 *
 *   logdisk --backing=FILE --log=FILE --size=BYTES [FUSE-OPTION…] MOUNTPOINT
 *
 * MOUNTPOINT/disk.img is FILE (created all zero, BYTES long); attach it with
 * losetup. Every write, fsync and fallocate on it is appended to the log
 * (logfmt.h) before the request is answered, so the log holds each write the
 * block layer saw complete, in order, and every cache flush (the loop driver
 * turns REQ_PREFLUSH into fsync of its backing file). MOUNTPOINT/marker takes
 * the workload's acknowledgements ("acked N\n"); each write to it becomes a
 * MARK record, which orders acknowledgements among writes and flushes.
 *
 * Requests are served one at a time (-s is forced): the log order is the
 * order in which answers were given. The kernel must not cache anything
 * (direct_io on every open, no writeback cache), and fsync must never answer
 * ENOSYS, or the kernel stops sending them and flushes vanish from the log.
 */
#define FUSE_USE_VERSION 35
#include <fuse.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "logfmt.h"

#define DISK_PATH	"/disk.img"
#define MARK_PATH	"/marker"

enum { F_DISK = 1, F_MARK = 2 };

static struct {
	char		*backing;
	char		*log;
	char		*size_str;
	int		bfd;		/* backing file */
	int		lfd;		/* log */
	int		broken;		/* the log missed something: fail all I/O */
	uint64_t	seq;
	char		*mark;		/* marker contents, for reading back */
	size_t		mark_len;
	uint64_t	n_write, n_flush, n_falloc, n_mark, bytes;
} ld;

static const struct fuse_opt ld_opts[] = {
	{ "--backing=%s", offsetof(__typeof__(ld), backing), 0 },
	{ "--log=%s", offsetof(__typeof__(ld), log), 0 },
	{ "--size=%s", offsetof(__typeof__(ld), size_str), 0 },
	FUSE_OPT_END
};

static int which(const char *path)
{
	if (!strcmp(path, DISK_PATH))
		return F_DISK;
	if (!strcmp(path, MARK_PATH))
		return F_MARK;
	return 0;
}

static int write_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt) {
		ssize_t ret = writev(fd, iov, cnt);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (cnt && (size_t)ret >= iov->iov_len) {
			ret -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (char *)iov->iov_base + ret;
			iov->iov_len -= ret;
		}
	}
	return 0;
}

/*
 * Appends one record. Returns -errno on error, or zero on success. After an
 * error the log no longer describes the disk: every later request fails, so
 * that the run fails loudly instead of checking a wrong history.
 */
static int log_rec(uint32_t type, uint64_t off, uint64_t len, const void *data)
{
	struct ld_rec rec = {
		.magic = LD_REC_MAGIC, .type = type, .seq = ld.seq + 1,
		.off = off, .len = len,
	};
	struct iovec iov[2] = {
		{ &rec, sizeof(rec) },
		{ (void *)data, ld_has_payload(type) ? len : 0 },
	};
	int ret;

	if (ld.broken)
		return -EIO;
	ret = write_all(ld.lfd, iov, iov[1].iov_len ? 2 : 1);
	if (ret) {
		fprintf(stderr, "logdisk: log write failed: %s\n", strerror(-ret));
		ld.broken = 1;
		return -EIO;
	}
	ld.seq++;
	return 0;
}

static void *ld_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* Cached writes would reach us late and unordered with fsync. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	return NULL;
}

static void ld_destroy(void *priv)
{
	(void)priv;
	fprintf(stderr, "logdisk: %" PRIu64 " records: %" PRIu64 " writes (%"
		PRIu64 " bytes), %" PRIu64 " flushes, %" PRIu64 " fallocates, %"
		PRIu64 " marks%s\n", ld.seq, ld.n_write, ld.bytes, ld.n_flush,
		ld.n_falloc, ld.n_mark, ld.broken ? ", LOG BROKEN" : "");
}

static int ld_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct stat bst;

	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	switch (which(path)) {
	case F_DISK:
		if (fstat(ld.bfd, &bst))
			return -errno;
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_size = bst.st_size;
		st->st_blocks = bst.st_blocks;
		st->st_mtim = bst.st_mtim;
		return 0;
	case F_MARK:
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_size = ld.mark_len;
		return 0;
	}
	return -ENOENT;
}

static int ld_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOTDIR;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, DISK_PATH + 1, NULL, 0, 0);
	fill(buf, MARK_PATH + 1, NULL, 0, 0);
	return 0;
}

static int ld_open(const char *path, struct fuse_file_info *fi)
{
	int f = which(path);

	if (!f)
		return -ENOENT;
	fi->fh = f;
	/* No page cache: each write reaches us before it completes. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (f == F_MARK && (fi->flags & O_TRUNC))
		ld.mark_len = 0;
	return 0;
}

static int ld_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	ssize_t ret;

	(void)path;
	if (fi->fh == F_MARK) {
		if ((size_t)off >= ld.mark_len)
			return 0;
		if (size > ld.mark_len - off)
			size = ld.mark_len - off;
		memcpy(buf, ld.mark + off, size);
		return size;
	}
	ret = pread(ld.bfd, buf, size, off);
	return ret < 0 ? -errno : ret;
}

static int mark_append(const char *buf, size_t size)
{
	char *p = realloc(ld.mark, ld.mark_len + size);

	if (!p)
		return -ENOMEM;
	ld.mark = p;
	memcpy(ld.mark + ld.mark_len, buf, size);
	ld.mark_len += size;
	return 0;
}

static int ld_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	size_t done = 0;
	int ret;

	(void)path;
	if (ld.broken)
		return -EIO;
	if (fi->fh == F_MARK) {
		/* Appended whatever the offset: only the order matters. */
		ret = log_rec(LD_MARK, ld.mark_len, size, buf);
		if (!ret)
			ret = mark_append(buf, size);
		ld.n_mark++;
		return ret ? ret : (int)size;
	}
	while (done < size) {
		ssize_t n = pwrite(ld.bfd, buf + done, size - done, off + done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			/* Part of it may be on the backing file: say so. */
			if (done && log_rec(LD_WRITE, off, done, buf))
				return -EIO;
			return ret;
		}
		done += n;
	}
	ret = log_rec(LD_WRITE, off, size, buf);
	ld.n_write++;
	ld.bytes += size;
	return ret ? ret : (int)size;
}

static int ld_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	if (fi->fh != F_DISK)
		return ld.broken ? -EIO : 0;
	/*
	 * The backing file is not synced: the simulated power cut is of the
	 * disk, the host keeps running. Only the order is recorded.
	 */
	ld.n_flush++;
	return log_rec(LD_FLUSH, 0, 0, NULL);
}

static int ld_fallocate(const char *path, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	uint32_t type = 0;
	struct stat st;
	off_t old;
	int ret;

	(void)path;
	if (fi->fh != F_DISK)
		return -EOPNOTSUPP;
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		type = LD_PUNCH;
	else if (mode & FALLOC_FL_ZERO_RANGE)
		type = LD_ZERO;
	if (ld.broken)
		return -EIO;
	if (fstat(ld.bfd, &st))
		return -errno;
	old = st.st_size;
	if (fallocate(ld.bfd, mode, off, len))
		return -errno;
	ld.n_falloc++;
	/* Plain preallocation changes no byte a reader sees, only the size. */
	ret = type ? log_rec(type, off, len, NULL) : 0;
	if (!ret && !(mode & FALLOC_FL_KEEP_SIZE) && off + len > old)
		ret = log_rec(LD_SIZE, off + len, 0, NULL);
	return ret;
}

static int ld_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	int f = fi ? (int)fi->fh : which(path);

	if (f == F_MARK) {
		if ((size_t)size < ld.mark_len)
			ld.mark_len = size;
		return 0;
	}
	if (f != F_DISK)
		return -ENOENT;
	if (ld.broken)
		return -EIO;
	if (ftruncate(ld.bfd, size))
		return -errno;
	return log_rec(LD_SIZE, size, 0, NULL);
}

/* losetup and shells touch these; nothing to keep. */
static int ld_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	(void)tv;
	(void)fi;
	return which(path) || !strcmp(path, "/") ? 0 : -ENOENT;
}

static const struct fuse_operations ld_ops = {
	.init		= ld_init,
	.destroy	= ld_destroy,
	.getattr	= ld_getattr,
	.readdir	= ld_readdir,
	.open		= ld_open,
	.read		= ld_read,
	.write		= ld_write,
	.fsync		= ld_fsync,
	.fallocate	= ld_fallocate,
	.truncate	= ld_truncate,
	.utimens	= ld_utimens,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct ld_hdr hdr = { .magic = LD_MAGIC };
	char *end;
	int ret;

	if (fuse_opt_parse(&args, &ld, ld_opts, NULL))
		return 1;
	if (!ld.backing || !ld.log || !ld.size_str) {
		fprintf(stderr, "usage: logdisk --backing=FILE --log=FILE "
			"--size=BYTES [FUSE-OPTION…] MOUNTPOINT\n");
		return 2;
	}
	hdr.size = strtoull(ld.size_str, &end, 0);
	if (*end || !hdr.size) {
		fprintf(stderr, "logdisk: bad --size %s\n", ld.size_str);
		return 2;
	}
	/* The log describes the disk from all zeros: start from all zeros. */
	ld.bfd = open(ld.backing, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (ld.bfd < 0 || ftruncate(ld.bfd, hdr.size)) {
		perror(ld.backing);
		return 1;
	}
	ld.lfd = open(ld.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (ld.lfd < 0) {
		perror(ld.log);
		return 1;
	}
	struct iovec iov = { &hdr, sizeof(hdr) };
	if (write_all(ld.lfd, &iov, 1)) {
		perror(ld.log);
		return 1;
	}
	/* One request at a time: the log order is the answer order. */
	if (fuse_opt_add_arg(&args, "-s") ||
	    fuse_opt_add_arg(&args, "-ofsname=logdisk,subtype=logdisk"))
		return 1;
	ret = fuse_main(args.argc, args.argv, &ld_ops, NULL);
	fuse_opt_free_args(&args);
	if (close(ld.lfd) && !ret) {
		perror(ld.log);
		ret = 1;
	}
	return ret || ld.broken;
}
