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

/* Under ring_lock. Returns true when the ring is usable. */
static bool ring_ready(void)
{
	if (ring_state == 1 && ring_pid != getpid()) {
		/* Inherited without its mappings: just drop our fd of it. */
		syscall(SYS_close, ring.ring_fd);
		ring_state = 0;
	}
	if (ring_state == 0) {
		int r = io_uring_queue_init(8, &ring, 0);
		if (r < 0) {
			wt_log(WT_LOG_WARN, "io_uring refused (%s): writing with pwritev2",
			       strerror(-r));
			ring_state = -1;
			return false;
		}
		io_uring_ring_dontfork(&ring);
		ring_pid = getpid();
		ring_state = 1;
	}
	return ring_state == 1;
}

static ssize_t by_ring(int fd, const void *buf, size_t len, off_t off,
		       int rwf)
{
	sigset_t all, old;
	ssize_t res;

	pthread_mutex_lock(&ring_lock);
	if (!ring_ready()) {
		pthread_mutex_unlock(&ring_lock);
		return by_pwritev2(fd, buf, len, off, rwf);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);

	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	uint64_t tag = ((uint64_t)(uint32_t)ring_pid << 32) | ++ring_seq;
	io_uring_prep_write(sqe, fd, buf, (unsigned)len, (uint64_t)off);
	sqe->rw_flags = rwf;
	io_uring_sqe_set_data64(sqe, tag);

	int r;
	do
		r = io_uring_submit(&ring);
	while (r == -EINTR);
	if (r < 0) {
		res = r;
		goto out;
	}
	for (;;) {
		struct io_uring_cqe *cqe;
		r = io_uring_wait_cqe(&ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			/* Cannot happen with the SQE submitted; never guess. */
			res = r;
			goto out;
		}
		uint64_t got = io_uring_cqe_get_data64(cqe);
		int cres = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (got == tag) {
			res = cres;
			break;
		}
	}
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_unlock(&ring_lock);
	return res;
}

ssize_t wt_engine_write(int fd, const void *buf, size_t len, off_t off,
			int rwf)
{
	/* auto: a single piece gains nothing from the ring (design 1b.10). */
	if (wt.cfg.engine == WT_ENGINE_IO_URING && len <= 0x7ffff000)
		return by_ring(fd, buf, len, off, rwf);
	return by_pwritev2(fd, buf, len, off, rwf);
}

void wt_engine_after_fork(void)
{
	pthread_mutex_init(&ring_lock, NULL);
	if (ring_state == 1) {
		syscall(SYS_close, ring.ring_fd);
		ring_state = 0;
	}
}
