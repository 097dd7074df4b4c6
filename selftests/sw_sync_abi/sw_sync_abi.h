/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The sw_sync ABI: the ioctls of <debugfs>/sync/sw_sync, which the kernel
 * defines privately in drivers/dma-buf/sw_sync.c, with the same layout and
 * numbers, and helpers of the sw_sync ABI test.
 */
#ifndef _SW_SYNC_ABI_H
#define _SW_SYNC_ABI_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * SW_SYNC_IOC_CREATE_FENCE: create a point of the timeline, get a sync_file
 * fd (O_CLOEXEC) for it. The whole struct is written back.
 */
struct sw_sync_create_fence_data {
	__u32 value;	/* in: seqno of the point */
	char name[32];	/* in: ignored by sw_sync */
	__s32 fence;	/* out: fd of the new sync_file */
};

/* SW_SYNC_GET_DEADLINE: earliest deadline set on a sw_sync fence. */
struct sw_sync_get_deadline {
	__u64 deadline_ns;	/* out, must be 0 in: CLOCK_MONOTONIC */
	__u32 pad;		/* in: must be 0 */
	__s32 fence_fd;		/* in: sync_file fd of a sw_sync fence */
};

#define SW_SYNC_IOC_MAGIC		'W'
#define SW_SYNC_IOC_CREATE_FENCE	_IOWR(SW_SYNC_IOC_MAGIC, 0, \
					      struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC			_IOW(SW_SYNC_IOC_MAGIC, 1, __u32)
#define SW_SYNC_GET_DEADLINE		_IOWR(SW_SYNC_IOC_MAGIC, 2, \
					      struct sw_sync_get_deadline)

/* The ABI, spelled out: a provider must use these exact numbers. */
_Static_assert(sizeof(struct sw_sync_create_fence_data) == 40, "layout");
_Static_assert(offsetof(struct sw_sync_create_fence_data, fence) == 36, "layout");
_Static_assert(sizeof(struct sw_sync_get_deadline) == 16, "layout");
_Static_assert(offsetof(struct sw_sync_get_deadline, fence_fd) == 12, "layout");
_Static_assert(SW_SYNC_IOC_CREATE_FENCE == 0xc0285700, "ioctl number");
_Static_assert(SW_SYNC_IOC_INC == 0x40045701, "ioctl number");
_Static_assert(SW_SYNC_GET_DEADLINE == 0xc0105702, "ioctl number");

#define SW_SYNC_DEFAULT_PATH	"/sys/kernel/debug/sync/sw_sync"

/* The sw_sync file under test: $SW_SYNC_PATH or the kernel's. */
static inline const char *sw_sync_path(void)
{
	const char *path = getenv("SW_SYNC_PATH");

	return path && *path ? path : SW_SYNC_DEFAULT_PATH;
}

/*
 * The driver name a pending fence reports: $SW_SYNC_DRIVER or sw_sync's.
 * An ABI-compatible provider reports "sw_sync" too; the variable only
 * lets a provider under development see the other differences.
 */
static inline const char *sw_sync_driver(void)
{
	const char *name = getenv("SW_SYNC_DRIVER");

	return name && *name ? name : "sw_sync";
}

/* Opens a new timeline: fd or -errno. */
static inline int sw_timeline_open(void)
{
	int fd = open(sw_sync_path(), O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Creates a point of value @value: sync_file fd or -errno. */
static inline int sw_fence_create(int tl, __u32 value)
{
	struct sw_sync_create_fence_data data;

	memset(&data, 0, sizeof(data));
	data.value = value;
	snprintf(data.name, sizeof(data.name), "rf-abi");
	data.fence = -1;
	if (ioctl(tl, SW_SYNC_IOC_CREATE_FENCE, &data))
		return -errno;
	return data.fence;
}

/* Advances the timeline by @inc: 0 or -errno. */
static inline int sw_inc(int tl, __u32 inc)
{
	return ioctl(tl, SW_SYNC_IOC_INC, &inc) ? -errno : 0;
}

/* Reads the deadline of @fence through @tl: 0 or -errno. */
static inline int sw_get_deadline(int tl, int fence, __u64 *ns)
{
	struct sw_sync_get_deadline arg = { .fence_fd = fence };

	if (ioctl(tl, SW_SYNC_GET_DEADLINE, &arg))
		return -errno;
	*ns = arg.deadline_ns;
	return 0;
}

/* The deadline of @fence read through @tl, or -errno. */
static inline __s64 sw_deadline(int tl, int fence)
{
	__u64 ns = 0;
	int ret = sw_get_deadline(tl, fence, &ns);

	return ret ? ret : (__s64)ns;
}

/* ioctl() with its failure as -errno: for the tests of argument checks. */
static inline int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* The lowest free fd number, which the next new fd gets. */
static inline int next_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd < 0) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	close(fd);
	return fd;
}

static inline __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif /* _SW_SYNC_ABI_H */
