/* SPDX-License-Identifier: MIT */
/*
 * wt-noring - runs a command under a seccomp filter that refuses io_uring
 * the way Docker's default profile does: io_uring_setup, io_uring_enter
 * and io_uring_register fail with EPERM. Everything else is allowed.
 *
 *   wt-noring CMD [ARG...]
 *
 * Exit 77 when the filter cannot be installed (skip), 127 if exec fails.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define WT_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define WT_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "add this architecture's AUDIT_ARCH"
#endif

#define DENY(nr)                                                  \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),          \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

int main(int argc, char **argv)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		/* Another ABI: allow (this filter is about io_uring only). */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, WT_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		DENY(__NR_io_uring_setup),
		DENY(__NR_io_uring_enter),
		DENY(__NR_io_uring_register),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (argc < 2) {
		fprintf(stderr, "usage: wt-noring CMD [ARG...]\n");
		return 2;
	}
	/* prctl, not seccomp(2): the same filter, and valgrind knows it */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
		fprintf(stderr, "wt-noring: cannot install the filter: %s\n",
			strerror(errno));
		return 77;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "wt-noring: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
