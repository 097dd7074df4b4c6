// SPDX-License-Identifier: GPL-2.0
/*
 * The `make run` scenario, narrated: userspace holds sync_file fds of
 * fence_ops fences, some signalled and some pending, while fence_ops is
 * unloaded; the fds keep answering afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "sync_file_util.h"
#include "sw_sync_abi.h"
#include "fence_ops_uapi.h"
#include "fence_ops_module.h"

#define POINTS 4

static void show(const char *what, int fd)
{
	struct sync_fence_info fi;
	int status = sync_fence_info_of(fd, &fi);

	printf("    %-8s fd %d: status %2d (%s), driver \"%s\", timeline \"%s\", poll %s\n",
	       what, fd, status,
	       status == 1 ? "signalled" : status == 0 ? "pending" : strerror(-status),
	       fi.driver_name, fi.obj_name, sync_file_wait(fd, 0) ? "ready" : "not ready");
}

int main(void)
{
	struct sw_sync_create_fence_data data;
	__u32 flags = FENCE_OPS_KEEP_ON_CLOSE, inc = 2;
	struct timespec t0, t1;
	int tl, fds[POINTS], i, merged, ret;

	printf("\n### Open a timeline on fence_ops' sw_sync file and create %d points\n", POINTS);
	tl = open(FENCE_OPS_SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (tl < 0 || ioctl(tl, FENCE_OPS_IOC_SET_FLAGS, &flags)) {
		perror(FENCE_OPS_SW_SYNC_PATH);
		return 1;
	}
	for (i = 0; i < POINTS; i++) {
		memset(&data, 0, sizeof(data));
		data.value = i + 1;
		if (ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, &data)) {
			perror("SW_SYNC_IOC_CREATE_FENCE");
			return 1;
		}
		fds[i] = data.fence;
		show("created", fds[i]);
	}

	printf("\n### Advance the timeline by 2: points 1 and 2 signal, and detach from fence_ops\n");
	if (ioctl(tl, SW_SYNC_IOC_INC, &inc)) {
		perror("SW_SYNC_IOC_INC");
		return 1;
	}
	for (i = 0; i < POINTS; i++)
		show("now", fds[i]);

	printf("\n### Close the timeline (kept until unload: points 3 and 4 stay pending)\n");
	close(tl);

	printf("\n### rmmod fence_ops while this process still holds all %d fds\n", POINTS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = fence_ops_unload();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("    delete_module(\"fence_ops\") = %d (%s) in %ld us\n", ret,
	       ret ? strerror(-ret) : "ok",
	       (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
	if (ret)
		return 1;

	printf("\n### The fds still answer: names from the core, pending points cancelled with ENODEV\n");
	for (i = 0; i < POINTS; i++)
		show("after", fds[i]);
	merged = sync_merge_fds("merged", fds[0], fds[3]);
	printf("    SYNC_IOC_MERGE(fd %d, fd %d) = fd %d with %d fences, status %d\n",
	       fds[0], fds[3], merged, sync_num_fences(merged), sync_file_status(merged));
	printf("    SYNC_IOC_SET_DEADLINE on fd %d = %d\n", fds[2], sync_set_deadline(fds[2], 1));
	close(merged);
	for (i = 0; i < POINTS; i++)
		close(fds[i]);

	printf("\n### Load fence_ops again: %s\n", fence_ops_load() ? "failed" : "ok");
	return 0;
}
