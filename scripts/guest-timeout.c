// SPDX-License-Identifier: GPL-2.0
/*
 * timeout(1) for the busybox test VM: the part of GNU coreutils' timeout
 * that the kernel's kselftest runner (tools/testing/selftests/kselftest/
 * runner.sh) relies on. It runs each suite as
 *
 *	/usr/bin/timeout --foreground SECS /usr/bin/timeout SECS ./suite
 *
 * and reads status 124 as "TIMEOUT". Busybox's timeout knows neither
 * --foreground nor 124, and signals only the process it started, so a
 * hung suite's children would keep the runner's pipe open forever.
 *
 *	timeout [--foreground] [-k SECS] [-s SIGNAL] SECS COMMAND [ARG]...
 *
 * COMMAND runs in a process group of its own, which the signals go to
 * (with --foreground: COMMAND alone). When SECS have passed, SIGNAL
 * (SIGTERM by default) is sent; when timeout itself gets SIGTERM, SIGINT or
 * SIGHUP, that signal is passed on. SIGKILL follows KILL_SECS later if
 * COMMAND is still there (-k; 10 s by default, where GNU sends none). Once
 * COMMAND has exited, whatever is left of its group is killed: nothing a
 * suite started outlives it. Exit status: 124 when the time ran out, 125 on
 * a usage error, 126 if COMMAND cannot be run, 127 if it is not found,
 * otherwise COMMAND's status (128 + N if a signal N ended it).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* SIGCHLD must not be ignored to be waited for: a handler that does nothing. */
static void on_child(int sig)
{
	(void)sig;
}

static int bad_usage(void)
{
	fprintf(stderr,
		"usage: timeout [--foreground] [-k SECS] [-s SIGNAL] SECS COMMAND [ARG]...\n");
	return 125;
}

/* Seconds, with an optional s, m, h or d suffix as GNU accepts. */
static int parse_duration(const char *s, double *out)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || d < 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		d *= 60;
		break;
	case 'h':
		d *= 3600;
		break;
	case 'd':
		d *= 86400;
		break;
	default:
		return -1;
	}
	if (*end && end[1])
		return -1;
	*out = d;
	return 0;
}

static int parse_signal(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
		{ "ALRM", SIGALRM }, { "TERM", SIGTERM },
	};
	char *end;
	long n = strtol(s, &end, 10);
	size_t i;

	if (end != s && !*end)
		return n > 0 && n < NSIG ? (int)n : -1;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	return -1;
}

static void arm(double secs)
{
	struct itimerval it = { 0 };

	it.it_value.tv_sec = (time_t)secs;
	it.it_value.tv_usec = (suseconds_t)((secs - (double)(time_t)secs) * 1e6);
	if (!it.it_value.tv_sec && !it.it_value.tv_usec)
		it.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv)
{
	double secs, kill_after = 10;
	int foreground = 0, sig = SIGTERM, timed_out = 0, state = 0, status, i;
	sigset_t block, orig;
	struct sigaction sa;
	pid_t child, target;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--foreground")) {
			foreground = 1;
		} else if (!strcmp(argv[i], "-k") && i + 1 < argc) {
			if (parse_duration(argv[++i], &kill_after))
				return bad_usage();
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			sig = parse_signal(argv[++i]);
			if (sig < 0)
				return bad_usage();
		} else {
			return bad_usage();
		}
	}
	if (argc - i < 2 || parse_duration(argv[i], &secs))
		return bad_usage();
	i++;

	/*
	 * The signals are blocked and taken with sigwaitinfo(), between two
	 * looks at COMMAND: none can be missed.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);

	child = fork();
	if (child < 0) {
		perror("timeout: fork");
		return 125;
	}
	if (child == 0) {
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		sigprocmask(SIG_SETMASK, &orig, NULL);
		if (!foreground)
			setpgid(0, 0);
		execvp(argv[i], &argv[i]);
		fprintf(stderr, "timeout: %s: %s\n", argv[i], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* Both sides set the group, so that no signal can miss it. */
	if (!foreground)
		setpgid(child, child);
	target = foreground ? child : -child;
	if (secs > 0)
		arm(secs);

	for (;;) {
		pid_t r = waitpid(child, &status, WNOHANG);
		int got;

		if (r == child)
			break;
		if (r < 0) {
			perror("timeout: waitpid");
			return 125;
		}
		got = sigwaitinfo(&block, NULL);
		if (got < 0 || got == SIGCHLD)
			continue;
		if (state == 0) {
			/* The time ran out, or we were told to stop: pass it on. */
			timed_out = got == SIGALRM;
			kill(target, timed_out ? sig : got);
			if (!foreground)
				kill(target, SIGCONT);
			state = 1;
			if (kill_after > 0)
				arm(kill_after);
		} else if (state == 1 && got == SIGALRM) {
			/* Still there KILL_SECS after the signal. */
			kill(target, SIGKILL);
			state = 2;
		}
	}
	/* Nothing that COMMAND started may outlive it. */
	if (!foreground)
		kill(target, SIGKILL);

	if (timed_out)
		return 124;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
