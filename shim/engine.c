/* SPDX-License-Identifier: MIT */
/*
 * engine.c - submit one writethrough write: pwritev2, or io_uring.
 *
 * The ring is per process, made on first use and never inherited: it is
 * marked dontfork, and every use checks the pid, because a child made by
 * _Fork or clone runs no atfork handler. Submission and wait run with
 * signals blocked, so no handler re-enters the ring and EINTR cannot lose
 * a completion; nothing is left in flight when a call returns. If the
 * ring is refused (seccomp, io_uring_disabled), pwritev2 is used instead.
 */
#include <errno.h>
#include <liburing.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "wt.h"

#define RING_ENTRIES 64

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct io_uring ring;
static pid_t ring_pid;
static int ring_state;          /* 0: not made, 1: ready, -1: refused */
static uint32_t ring_seq;

static ssize_t by_pwritev2(int fd, const void *buf, size_t len, off_t off,
			   int rwf)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = len };
	ssize_t r = wt_real.pwritev2(fd, &v, 1, off, rwf);
	return r < 0 ? -errno : r;
}

/*
 * Under ring_lock: the kernel took fewer requests than we queued (it may
 * refuse with EAGAIN under memory pressure). What it did not take must
 * never run later with another write's buffer: the ring goes, and with
 * it everything still queued; the next use makes a new one.
 */
static void ring_drop(int err)
{
	wt_log(WT_LOG_WARN, "io_uring submission refused (%s): writing with pwritev2 and making a new ring",
	       strerror(-err));
	if (wt_fd_is_ours(ring.ring_fd))
		io_uring_queue_exit(&ring);
	ring_state = 0;
}

/* Under ring_lock. Returns true when the ring is usable. */
static bool ring_ready(void)
{
	if (ring_state == 1 && ring_pid != getpid()) {
		/* Inherited without its mappings: just drop our fd of it. */
		if (wt_fd_is_ours(ring.ring_fd))
			syscall(SYS_close, ring.ring_fd);
		ring_state = 0;
	}
	if (ring_state == 1 && !wt_fd_is_ours(ring.ring_fd)) {
		/* Closed by the program (closefrom): leave its number alone. */
		wt_log(WT_LOG_INFO, "the io_uring fd was closed by the program; making another ring");
		ring_state = 0;
	}
	if (ring_state == 0) {
		int r = io_uring_queue_init(RING_ENTRIES, &ring, 0);
		if (r < 0) {
			wt_log(WT_LOG_WARN, "io_uring refused (%s): writing with pwritev2",
			       strerror(-r));
			ring_state = -1;
			return false;
		}
		io_uring_ring_dontfork(&ring);
		wt_fd_mark(ring.ring_fd);
		ring_pid = getpid();
		ring_state = 1;
	}
	return ring_state == 1;
}

/*
 * Sequential fallback for a chain: each piece made durable on its own, so
 * a failure still leaves a durable prefix.
 */
static ssize_t chain_pwritev2(int fd, const struct wt_piece *p, int n,
			      bool tail_sync, int *err)
{
	ssize_t done = 0;
	for (int i = 0; i < n; i++) {
		ssize_t r = by_pwritev2(fd, p[i].buf, p[i].len, p[i].off,
					p[i].rwf | (tail_sync ? RWF_DSYNC : 0));
		if (r < 0) {
			*err = (int)r;
			return done ? done : r;
		}
		done += r;
		if ((size_t)r != p[i].len)
			break;
	}
	return done;
}

/*
 * The pieces (and a datasync) as one linked submission on the ring, or
 * piece by piece when the ring cannot be had. Also the path of a single
 * write with engine = io_uring.
 */
static ssize_t ring_chain(int fd, const struct wt_piece *p, int n,
			  bool tail_sync, int *err)
{
	sigset_t all, old;
	int res[RING_ENTRIES];
	bool seen[RING_ENTRIES] = { false };
	int total = n + (tail_sync ? 1 : 0);

	*err = 0;
	if (total > RING_ENTRIES)
		return chain_pwritev2(fd, p, n, tail_sync, err);

	pthread_mutex_lock(&ring_lock);
	if (!ring_ready()) {
		pthread_mutex_unlock(&ring_lock);
		return chain_pwritev2(fd, p, n, tail_sync, err);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);

	uint64_t base = ((uint64_t)(uint32_t)ring_pid << 32) |
			(uint32_t)(ring_seq << 8);
	ring_seq++;
	for (int i = 0; i < total; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		if (i < n) {
			io_uring_prep_write(sqe, fd, p[i].buf, (unsigned)p[i].len,
					    (uint64_t)p[i].off);
			sqe->rw_flags = p[i].rwf;
		} else {
			io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		}
		if (i + 1 < total)
			sqe->flags |= IOSQE_IO_LINK;
		io_uring_sqe_set_data64(sqe, base + (uint64_t)i);
	}
	int r;
	do
		r = io_uring_submit_and_wait(&ring, (unsigned)total);
	while (r == -EINTR);
	ssize_t out;
	/* Every request taken completes (linked ones with -ECANCELED). */
	int taken = r < 0 ? 0 : r;
	for (int got = 0; got < taken;) {
		struct io_uring_cqe *cqe;
		r = io_uring_wait_cqe(&ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			out = r;
			goto unlock;
		}
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		int cres = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (tag < base || tag >= base + (uint64_t)total ||
		    seen[tag - base])
			continue;
		seen[tag - base] = true;
		res[tag - base] = cres;
		got++;
	}
	if (taken < total) {
		/*
		 * Part of the chain never reached the kernel: drop the ring and
		 * write it all again piece by piece (the same bytes at the same
		 * offsets, so what did run is rewritten unchanged).
		 */
		ring_drop(r < 0 ? r : -EAGAIN);
		out = chain_pwritev2(fd, p, n, tail_sync, err);
		goto unlock;
	}

	ssize_t done = 0;
	int i;
	for (i = 0; i < n; i++) {
		if (res[i] < 0)
			break;
		done += res[i];
		if ((size_t)res[i] != p[i].len)
			break;
	}
	/* The first real error (not a cancellation it caused) poisons. */
	for (int k = 0; k < total; k++)
		if (res[k] < 0 && res[k] != -ECANCELED) {
			*err = res[k];
			break;
		}
	if (i == n) {
		out = tail_sync && res[n] < 0 ? res[n] : done;
	} else if (done == 0) {
		out = res[i] < 0 ? res[i] : 0;
	} else {
		/* The chain broke: its fsync was cancelled; the prefix we report
		 * must be durable all the same. */
		int s = tail_sync ? wt_real.fdatasync(fd) : 0;
		if (s < 0)
			*err = -errno;
		out = s < 0 ? -errno : done;
	}
unlock:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_unlock(&ring_lock);
	return out;
}

ssize_t wt_engine_write(int fd, const void *buf, size_t len, off_t off,
			int rwf)
{
	/* auto: a single piece gains nothing from the ring (design 1b.10). */
	if (wt.cfg.engine == WT_ENGINE_IO_URING && len <= 0x7ffff000) {
		struct wt_piece p = { buf, len, off, rwf };
		int err;
		return ring_chain(fd, &p, 1, false, &err);
	}
	return by_pwritev2(fd, buf, len, off, rwf);
}

ssize_t wt_engine_chain(int fd, const struct wt_piece *p, int n,
			bool tail_sync, int *err)
{
	*err = 0;
	if (n == 1 && !tail_sync) {
		ssize_t r = by_pwritev2(fd, p[0].buf, p[0].len, p[0].off, p[0].rwf);
		*err = r < 0 ? (int)r : 0;
		return r;
	}
	if (wt.cfg.engine == WT_ENGINE_PWRITEV2)
		return chain_pwritev2(fd, p, n, tail_sync, err);
	return ring_chain(fd, p, n, tail_sync, err);
}

void wt_engine_after_fork(void)
{
	pthread_mutex_init(&ring_lock, NULL);
	if (ring_state == 1) {
		if (wt_fd_is_ours(ring.ring_fd))
			syscall(SYS_close, ring.ring_fd);
		ring_state = 0;
	}
}
