/* SPDX-License-Identifier: MIT */
/*
 * reaper - run a command as a child subreaper.
 *
 *   reaper CMD [ARG…]
 *
 * Scripts start daemons (logdisk, postgres) that outlive the shell that
 * started them; orphans go to the nearest subreaper, else to PID 1, which on
 * some machines reaps only every second or so. Until then the exited daemon
 * is a zombie that `kill -0` still finds, and every stop waits for it. Under
 * this process they are reaped at once. Exits with CMD's status (128 + the
 * signal if it was killed); SIGTERM and SIGHUP are passed on to CMD, SIGINT
 * is ignored (the terminal sends it to CMD too).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = pass_on };
	int status, ret = 1;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: reaper CMD [ARG…]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		perror("reaper: PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("reaper: fork");
		return 1;
	}
	if (!pid) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	child = pid;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	for (;;) {
		pid_t w = waitpid(-1, &status, 0);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (w != pid)
			continue;
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		break;
	}
	/* Whatever CMD left running goes on under PID 1. */
	while (waitpid(-1, &status, WNOHANG) > 0)
		;
	return ret;
}
