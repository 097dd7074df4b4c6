/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading and unloading fence_ops from the selftests, with the syscalls
 * (no dependency on a modprobe), from $RF_MODDIR.
 */
#ifndef _FENCE_OPS_MODULE_H
#define _FENCE_OPS_MODULE_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int fence_ops_unload(void)
{
	return syscall(SYS_delete_module, "fence_ops", O_NONBLOCK) ? -errno : 0;
}

static inline int fence_ops_load(void)
{
	const char *dir = getenv("RF_MODDIR");
	char path[PATH_MAX];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/fence_ops.ko", dir ? dir : "/lib/modules-rf");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static inline int fence_ops_loaded(void)
{
	return access(FENCE_OPS_SW_SYNC_PATH, F_OK) == 0;
}

/* Reads fence_ops' info file into @buf (NUL-terminated): its length or -errno. */
static inline ssize_t fence_ops_read_info(char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd;

	fd = open(FENCE_OPS_INFO_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return n < 0 ? -errno : len;
}

#endif /* _FENCE_OPS_MODULE_H */
