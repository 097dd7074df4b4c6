/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the rust-fence selftests for sync_file fds
 * (include/uapi/linux/sync_file.h).
 */
#ifndef _SYNC_FILE_UTIL_H
#define _SYNC_FILE_UTIL_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sync_file.h>

/* Reads the first fence of a sync_file: status, names, timestamp. */
static inline int sync_fence_info_of(int fd, struct sync_fence_info *fence)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	memset(fence, 0, sizeof(*fence));
	info.num_fences = 1;
	info.sync_fence_info = (uint64_t)(uintptr_t)fence;
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	return info.status;
}

/* Status of a sync_file: 0 pending, 1 signalled, <0 error (or ioctl errno). */
static inline int sync_file_status(int fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return -errno;
	return info.status;
}

/* poll() for POLLIN: 1 signalled, 0 timed out, <0 -errno. */
static inline int sync_file_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret = poll(&p, 1, timeout_ms);

	if (ret < 0)
		return -errno;
	return ret > 0 && (p.revents & POLLIN);
}

#endif /* _SYNC_FILE_UTIL_H */
