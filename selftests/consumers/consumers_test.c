// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel consumers keep fences of a provider that has unloaded.
 *
 * A dma-buf's reservation object (udmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE)
 * and DRM syncobjs, binary and timeline (rf_drm_syncobj.ko), get two fences
 * of a provider, one signalled and one pending; the provider unloads; then
 * the consumers are used: poll the dma-buf and export its fences, wait on
 * the syncobjs and export them. The pending fence must have ended with
 * -ENODEV (the unload protocol cancels it), the signalled one stays
 * signalled, nothing hangs, and the kernel log stays clean. Two providers:
 * fence_ops (its timeline kept after close, FENCE_OPS_KEEP_ON_CLOSE) and
 * the C driver rf_c_consumer, through the C API of rust_fence.
 *
 * Needs rust_fence.ko, fence_ops.ko, rf_c_consumer.ko and rf_drm_syncobj.ko
 * loaded, $RF_MODDIR/fence_ops.ko and $RF_C_CONSUMER_KO to load them again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <drm/drm.h>
#include <linux/dma-buf.h>
#include <linux/udmabuf.h>

#include "kselftest_harness.h"
#include "sync_file_util.h"
#include "sw_sync_abi.h"
#include "fence_ops_uapi.h"
#include "fence_ops_module.h"
#include "../c_consumer/rf_c_consumer.h"

#define RF_C_FENCES "/sys/kernel/debug/rf_c_consumer/fences"
#define RF_DRM_NAME "rf_drm_syncobj"

/* A signalled and a pending fence of a provider, as sync_file fds. */
struct fences {
	int signalled;
	int pending;
};

static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* fence_ops: points 1 and 2 of a timeline kept after close, 1 reached. */
static int fence_ops_fences(struct fences *f)
{
	__u32 flags = FENCE_OPS_KEEP_ON_CLOSE;
	int tl = open(FENCE_OPS_SW_SYNC_PATH, O_RDWR | O_CLOEXEC);

	if (tl < 0)
		return -errno;
	if (ioctl(tl, FENCE_OPS_IOC_SET_FLAGS, &flags)) {
		close(tl);
		return -errno;
	}
	f->signalled = sw_fence_create(tl, 1);
	f->pending = sw_fence_create(tl, 2);
	sw_inc(tl, 1);
	/* The timeline file pins fence_ops: close it, its points stay. */
	close(tl);
	return f->signalled < 0 ? f->signalled : f->pending;
}

/* rf_c_consumer: two fences of its C API timeline, the first signalled. */
static int c_api_fences(struct fences *f)
{
	struct rf_c_issue a = {}, b = {};
	struct rf_c_signal sig = {};
	int dev = open(RF_C_FENCES, O_RDWR | O_CLOEXEC), ret = 0;

	if (dev < 0)
		return -errno;
	f->signalled = ioctl(dev, RF_C_IOC_ISSUE, &a);
	f->pending = f->signalled < 0 ? -1 : ioctl(dev, RF_C_IOC_ISSUE, &b);
	if (f->pending < 0)
		ret = -errno;
	sig.seqno = a.seqno;
	if (!ret && ioctl(dev, RF_C_IOC_SIGNAL, &sig))
		ret = -errno;
	close(dev);
	return ret;
}

FIXTURE(consumers) {
	struct fences f;
};

FIXTURE_VARIANT(consumers) {
	const char *module;
	int (*make)(struct fences *f);
};

FIXTURE_VARIANT_ADD(consumers, fence_ops) {
	.module = "fence_ops",
	.make = fence_ops_fences,
};

FIXTURE_VARIANT_ADD(consumers, c_api) {
	.module = "rf_c_consumer",
	.make = c_api_fences,
};

FIXTURE_SETUP(consumers)
{
	ASSERT_LE(0, variant->make(&self->f)) TH_LOG("%s: %s", variant->module,
						     strerror(errno));
	ASSERT_EQ(1, sync_file_status(self->f.signalled));
	ASSERT_EQ(0, sync_file_status(self->f.pending));
}

/* Unloads the provider: it must go while its fences live in the consumers. */
static int provider_unload(const char *module)
{
	return unload_module(module);
}

FIXTURE_TEARDOWN(consumers)
{
	const char *ko = !strcmp(variant->module, "fence_ops") ?
		NULL : getenv("RF_C_CONSUMER_KO");

	close(self->f.signalled);
	close(self->f.pending);
	/* Load the provider again for the next test. */
	if (ko && access(RF_C_FENCES, F_OK))
		EXPECT_EQ(0, load_module(ko));
	if (!ko && !fence_ops_loaded())
		EXPECT_EQ(0, fence_ops_load());
}

/* The statuses every unwrapped fence of a sync_file reports: count or -errno. */
static int fence_statuses(int fd, int *statuses, int max)
{
	struct sync_fence_info infos[8];
	struct sync_file_info info;
	int i, ret;

	ret = sync_file_get_info(fd, &info, infos, max < 8 ? max : 8);
	if (ret)
		return ret;
	for (i = 0; i < (int)info.num_fences; i++)
		statuses[i] = infos[i].status;
	return info.num_fences;
}

/* A udmabuf of one page: dma-buf fd or -errno. */
static int udmabuf_new(void)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = 4096 };
	int memfd, dev, buf;

	memfd = memfd_create("rf-consumers", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, 4096) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		close(memfd);
		return -errno;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		close(memfd);
		return -errno;
	}
	create.memfd = memfd;
	buf = ioctl(dev, UDMABUF_CREATE, &create);
	if (buf < 0)
		buf = -errno;
	close(dev);
	close(memfd);
	return buf;
}

static int dmabuf_import(int buf, int fence)
{
	struct dma_buf_import_sync_file arg = { .flags = DMA_BUF_SYNC_WRITE, .fd = fence };

	return ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg) ? -errno : 0;
}

/* The fences a reader waits for (the writers'), as a sync_file: fd or -errno. */
static int dmabuf_export(int buf)
{
	struct dma_buf_export_sync_file arg = { .flags = DMA_BUF_SYNC_READ, .fd = -1 };

	return ioctl(buf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg) ? -errno : arg.fd;
}

static int poll_in(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret = poll(&p, 1, timeout_ms);

	return ret < 0 ? -errno : ret > 0 && (p.revents & POLLIN);
}

/* A dma-buf reservation object holding the fences across the unload. */
TEST_F(consumers, dma_buf)
{
	int pending_buf, signalled_buf, out, status;

	pending_buf = udmabuf_new();
	ASSERT_LE(0, pending_buf) TH_LOG("udmabuf: %s", strerror(-pending_buf));
	signalled_buf = udmabuf_new();
	ASSERT_LE(0, signalled_buf);
	ASSERT_EQ(0, dmabuf_import(pending_buf, self->f.pending));
	ASSERT_EQ(0, dmabuf_import(signalled_buf, self->f.signalled));
	EXPECT_EQ(0, poll_in(pending_buf, 0));
	EXPECT_EQ(1, poll_in(signalled_buf, 0));

	/* Before the unload, the reservation object hands out the pending fence. */
	out = dmabuf_export(pending_buf);
	ASSERT_LE(0, out);
	EXPECT_EQ(1, fence_statuses(out, &status, 1));
	EXPECT_EQ(0, status);
	close(out);

	ASSERT_EQ(0, provider_unload(variant->module));

	/* The unload cancelled it: the buffer is idle, our fd says why. */
	EXPECT_EQ(1, poll_in(pending_buf, 5000));
	EXPECT_EQ(-ENODEV, sync_file_status(self->f.pending));
	/*
	 * A reservation object only hands out the fences still pending, so
	 * both exports are signalled ones now (the core's stub when none is
	 * left): nothing that waits on the buffer can block.
	 */
	out = dmabuf_export(pending_buf);
	ASSERT_LE(0, out);
	EXPECT_EQ(1, sync_file_wait(out, 0));
	close(out);
	out = dmabuf_export(signalled_buf);
	ASSERT_LE(0, out);
	EXPECT_EQ(1, sync_file_status(out));
	close(out);
	close(pending_buf);
	close(signalled_buf);
}

static int syncobj_create(int drm, __u32 *handle)
{
	struct drm_syncobj_create arg = {};

	if (ioctl(drm, DRM_IOCTL_SYNCOBJ_CREATE, &arg))
		return -errno;
	*handle = arg.handle;
	return 0;
}

/* Imports a sync_file into a syncobj, at @point of a timeline one if not 0. */
static int syncobj_import(int drm, __u32 handle, int fence, __u64 point)
{
	struct drm_syncobj_handle arg = {
		.handle = handle,
		.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE |
			 (point ? DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE : 0),
		.fd = fence,
		.point = point,
	};

	return ioctl(drm, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &arg) ? -errno : 0;
}

static int syncobj_export(int drm, __u32 handle, __u64 point)
{
	struct drm_syncobj_handle arg = {
		.handle = handle,
		.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE |
			 (point ? DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE : 0),
		.fd = -1,
		.point = point,
	};

	return ioctl(drm, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &arg) ? -errno : arg.fd;
}

/* The absolute CLOCK_MONOTONIC time @ms from now, for the wait ioctls. */
static __s64 deadline_ms(int ms)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (__s64)now.tv_sec * 1000000000 + now.tv_nsec + (__s64)ms * 1000000;
}

static int syncobj_wait(int drm, __u32 handle, int ms)
{
	struct drm_syncobj_wait arg = {
		.handles = (__u64)(uintptr_t)&handle,
		.timeout_nsec = ms ? deadline_ms(ms) : 0,
		.count_handles = 1,
	};

	return ioctl(drm, DRM_IOCTL_SYNCOBJ_WAIT, &arg) ? -errno : 0;
}

static int syncobj_timeline_wait(int drm, __u32 handle, __u64 point, int ms)
{
	struct drm_syncobj_timeline_wait arg = {
		.handles = (__u64)(uintptr_t)&handle,
		.points = (__u64)(uintptr_t)&point,
		.timeout_nsec = ms ? deadline_ms(ms) : 0,
		.count_handles = 1,
	};

	return ioctl(drm, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &arg) ? -errno : 0;
}

/* Opens the DRM device of rf_drm_syncobj.ko: fd or -errno. */
static int rf_drm_open(void)
{
	char path[32], name[32];
	int i, fd;

	for (i = 0; i < 8; i++) {
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, RF_DRM_NAME))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* Binary and timeline DRM syncobjs holding the fences across the unload. */
TEST_F(consumers, drm_syncobj)
{
	__u32 pending = 0, signalled = 0, timeline = 0;
	int drm, out, n, i, statuses[8], cancelled = 0, waiting = 0;

	drm = rf_drm_open();
	ASSERT_LE(0, drm) TH_LOG("no DRM device of %s", RF_DRM_NAME);
	ASSERT_EQ(0, syncobj_create(drm, &pending));
	ASSERT_EQ(0, syncobj_create(drm, &signalled));
	ASSERT_EQ(0, syncobj_create(drm, &timeline));
	ASSERT_EQ(0, syncobj_import(drm, pending, self->f.pending, 0));
	ASSERT_EQ(0, syncobj_import(drm, signalled, self->f.signalled, 0));
	/* Timeline points 1 (signalled) and 2 (pending). */
	ASSERT_EQ(0, syncobj_import(drm, timeline, self->f.signalled, 1));
	ASSERT_EQ(0, syncobj_import(drm, timeline, self->f.pending, 2));
	EXPECT_EQ(-ETIME, syncobj_wait(drm, pending, 0));
	EXPECT_EQ(0, syncobj_wait(drm, signalled, 0));
	EXPECT_EQ(0, syncobj_timeline_wait(drm, timeline, 1, 0));
	EXPECT_EQ(-ETIME, syncobj_timeline_wait(drm, timeline, 2, 0));

	ASSERT_EQ(0, provider_unload(variant->module));

	EXPECT_EQ(0, syncobj_wait(drm, pending, 5000));
	EXPECT_EQ(0, syncobj_timeline_wait(drm, timeline, 2, 5000));
	out = syncobj_export(drm, pending, 0);
	ASSERT_LE(0, out);
	EXPECT_EQ(1, fence_statuses(out, statuses, 1));
	EXPECT_EQ(-ENODEV, statuses[0]);
	close(out);
	out = syncobj_export(drm, signalled, 0);
	ASSERT_LE(0, out);
	EXPECT_EQ(1, sync_file_status(out));
	close(out);
	/*
	 * Point 2 is a dma_fence_chain link, which carries no error of its
	 * own: the fences it unwraps to are all signalled, ours with -ENODEV.
	 */
	out = syncobj_export(drm, timeline, 2);
	ASSERT_LE(0, out);
	EXPECT_EQ(1, sync_file_wait(out, 0));
	n = fence_statuses(out, statuses, 8);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		cancelled += statuses[i] == -ENODEV;
		waiting += statuses[i] == 0;
	}
	EXPECT_EQ(1, cancelled);
	EXPECT_EQ(0, waiting);
	close(out);
	close(drm);
}

TEST_HARNESS_MAIN
