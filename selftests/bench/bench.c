// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmarks of fence_ops, printed as TAP comments ("# bench: ..."): they
 * measure, they do not pass or fail.
 *
 * 1. Unload time of fence_ops with 0, 1000 and 100000 live signalled
 *    fences held by this process: the unload protocol costs one grace
 *    period whatever the number of fences.
 * 2. fence_ops (Rust) against the kernel's C sw_sync doing the same work
 *    in the same boot: create a point and get its sync_file fd, signal
 *    points with INC, close fds. Runs alternate between the two to share
 *    out any drift; the median of the runs is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "sw_sync_abi.h"
#include "fence_ops_uapi.h"
#include "fence_ops_module.h"

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int unload_with_live_fences(int n, unsigned int settle)
{
	int tl, i, ret, *fds = calloc(n ? n : 1, sizeof(int));
	__u32 inc = n;
	long long t0, t1;

	if (!fds)
		return -ENOMEM;
	if (!fence_ops_loaded() && fence_ops_load())
		return -ENOENT;
	tl = open(FENCE_OPS_SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (tl < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		fds[i] = sw_fence_create(tl, i + 1);
		if (fds[i] < 0) {
			printf("# bench: creating fence %d failed: %s\n", i, strerror(-fds[i]));
			return fds[i];
		}
	}
	if (ioctl(tl, SW_SYNC_IOC_INC, &inc))
		return -errno;
	close(tl);
	/*
	 * Creating the fences queued RCU callbacks that are not fence_ops'
	 * (kmemleak frees its metadata through call_rcu() on every kfree()):
	 * let them run first, or rcu_barrier() in the unload protocol waits
	 * for that backlog and the figure measures kmemleak, not the protocol.
	 */
	sleep(settle);

	t0 = now_ns();
	ret = fence_ops_unload();
	t1 = now_ns();
	printf("# bench: rmmod fence_ops with %6d live signalled fences: %8.1f ms (%s, %u s after creating them)\n",
	       n, (t1 - t0) / 1e6, ret ? strerror(-ret) : "ok", settle);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return fence_ops_load();
}

/* One round: create n points with fds, signal them in steps of 16, close. */
static double round_ns_per_fence(const char *path, int n)
{
	int tl, i, *fds = calloc(n, sizeof(int));
	long long t0, t1;
	__u32 step = 16;

	tl = open(path, O_RDWR | O_CLOEXEC);
	if (tl < 0 || !fds)
		return -1;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		fds[i] = sw_fence_create(tl, i + 1);
	for (i = 0; i < n; i += step)
		ioctl(tl, SW_SYNC_IOC_INC, &step);
	for (i = 0; i < n; i++)
		close(fds[i]);
	t1 = now_ns();
	close(tl);
	free(fds);
	return (double)(t1 - t0) / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	struct rlimit nofile = { 200000, 200000 };
	const int sizes[] = { 0, 1000, 100000 };
	enum { ROUNDS = 5, FENCES = 2000 };
	double c[ROUNDS], rust[ROUNDS];
	unsigned int i;

	if (setrlimit(RLIMIT_NOFILE, &nofile))
		printf("# bench: setrlimit: %s\n", strerror(errno));

	printf("# bench: unload time of fence_ops (one grace period, whatever the fences)\n");
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if (unload_with_live_fences(sizes[i], sizes[i] > 1000 ? 20 : 2))
			printf("# bench: unload with %d fences failed\n", sizes[i]);

	for (i = 0; i < ROUNDS; i++) {
		c[i] = round_ns_per_fence(SW_SYNC_DEFAULT_PATH, FENCES);
		rust[i] = round_ns_per_fence(FENCE_OPS_SW_SYNC_PATH, FENCES);
	}
	qsort(c, ROUNDS, sizeof(double), cmp_double);
	qsort(rust, ROUNDS, sizeof(double), cmp_double);
	printf("# bench: create+signal+close per fence, median of %d rounds of %d fences\n",
	       ROUNDS, FENCES);
	printf("# bench:   C sw_sync           %8.1f us\n", c[ROUNDS / 2] / 1000);
	printf("# bench:   fence_ops (Rust)    %8.1f us\n", rust[ROUNDS / 2] / 1000);
	printf("# bench:   ratio Rust / C      %8.2f\n", rust[ROUNDS / 2] / c[ROUNDS / 2]);
	return 0;
}
