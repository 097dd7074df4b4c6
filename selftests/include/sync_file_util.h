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
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sync_file.h>

/*
 * SYNC_IOC_FILE_INFO, the one wrapper of it: fills @info (name, status,
 * number of fences) and, if @max is not 0, up to @max fence infos into
 * @fences, zeroed first. With @max 0 only the number of fences is asked
 * for and @fences may be NULL. Returns 0 or -errno (-EINVAL if the
 * sync_file has more than @max fences, @max not 0).
 *
 * Tests of the ioctl's argument checks call ioctl() themselves.
 */
static inline int sync_file_get_info(int fd, struct sync_file_info *info,
				     struct sync_fence_info *fences, uint32_t max)
{
	memset(info, 0, sizeof(*info));
	if (max) {
		memset(fences, 0, max * sizeof(*fences));
		info->num_fences = max;
		info->sync_fence_info = (uint64_t)(uintptr_t)fences;
	}
	return ioctl(fd, SYNC_IOC_FILE_INFO, info) ? -errno : 0;
}

/* Status of a sync_file: 0 pending, 1 signalled, <0 error (or ioctl errno). */
static inline int sync_file_status(int fd)
{
	struct sync_file_info info;
	int ret = sync_file_get_info(fd, &info, NULL, 0);

	return ret ? ret : info.status;
}

/* Number of fences of a sync_file (1 unless a merge), or -errno. */
static inline int sync_num_fences(int fd)
{
	struct sync_file_info info;
	int ret = sync_file_get_info(fd, &info, NULL, 0);

	return ret ? ret : (int)info.num_fences;
}

/* The name of a sync_file into @name; returns its status as sync_file_status(). */
static inline int sync_file_name(int fd, char name[32])
{
	struct sync_file_info info;
	int ret = sync_file_get_info(fd, &info, NULL, 0);

	memcpy(name, info.name, sizeof(info.name));
	return ret ? ret : info.status;
}

/*
 * Reads the only fence of a sync_file (-EINVAL if it has more): status,
 * names, timestamp. Returns the status of the sync_file or -errno.
 */
static inline int sync_fence_info_of(int fd, struct sync_fence_info *fence)
{
	struct sync_file_info info;
	int ret = sync_file_get_info(fd, &info, fence, 1);

	return ret ? ret : info.status;
}

/* SYNC_IOC_SET_DEADLINE on a sync_file: 0 or -errno. */
static inline int sync_set_deadline(int fd, uint64_t ns)
{
	struct sync_set_deadline arg = { .deadline_ns = ns };

	return ioctl(fd, SYNC_IOC_SET_DEADLINE, &arg) ? -errno : 0;
}

/* SYNC_IOC_MERGE: fd of the merged sync_file or -errno. */
static inline int sync_merge_fds(const char *name, int a, int b)
{
	struct sync_merge_data data;

	memset(&data, 0, sizeof(data));
	snprintf(data.name, sizeof(data.name), "%s", name);
	data.fd2 = b;
	data.fence = -1;
	if (ioctl(a, SYNC_IOC_MERGE, &data))
		return -errno;
	return data.fence;
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
