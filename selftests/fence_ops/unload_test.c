// SPDX-License-Identifier: GPL-2.0
/*
 * fence_ops unloads while fences it issued live on.
 *
 * Userspace keeps sync_file fds of fence_ops fences (signalled ones, and
 * pending ones the module cancels at unload), unloads fence_ops, and then
 * uses the fds: SYNC_IOC_FILE_INFO (status and the names the core reports
 * after detach), poll, SYNC_IOC_MERGE with other fences,
 * SYNC_IOC_SET_DEADLINE, close. Fences of a module-pinning timeline keep
 * the module loaded instead. Each test loads fence_ops again at the end,
 * so they also prove the module comes back clean.
 *
 * Needs rust_fence.ko and fence_ops.ko loaded, fence_ops.ko in $RF_MODDIR,
 * and the kernel's C sw_sync for the merges with foreign fences.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sync_file_util.h"
#include "sw_sync_abi.h"
#include "fence_ops_uapi.h"
#include "fence_ops_module.h"
#include "../fence_holder/fence_holder_uapi.h"

static int timeline_open(const char *path)
{
	return open(path, O_RDWR | O_CLOEXEC);
}

static int set_flags(int tl, __u32 flags)
{
	return ioctl(tl, FENCE_OPS_IOC_SET_FLAGS, &flags) ? -errno : 0;
}

/*
 * Writes @s to the file at @path, or at offset 0 of @fd if @path is NULL:
 * 0 or -errno.
 */
static int write_str(const char *path, int fd, const char *s)
{
	ssize_t n;

	if (!path)
		return pwrite(fd, s, strlen(s), 0) == (ssize_t)strlen(s) ? 0 : -errno;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n != (ssize_t)strlen(s))
		n = -errno;
	close(fd);
	return n < 0 ? n : 0;
}

FIXTURE(unload) {
	int tl;
};

FIXTURE_SETUP(unload)
{
	if (!fence_ops_loaded())
		ASSERT_EQ(0, fence_ops_load());
	self->tl = timeline_open(FENCE_OPS_SW_SYNC_PATH);
	ASSERT_LE(0, self->tl) TH_LOG("open: %s", strerror(errno));
}

FIXTURE_TEARDOWN(unload)
{
	if (self->tl >= 0)
		close(self->tl);
	if (!fence_ops_loaded())
		EXPECT_EQ(0, fence_ops_load());
}

/* Signalled fences and fences cancelled by close, used after the unload. */
TEST_F(unload, fds_answer_after_unload)
{
	struct sync_fence_info fi;
	int f1, f2, f3, c_tl, c_fence, merged;

	f1 = sw_fence_create(self->tl, 1);
	f2 = sw_fence_create(self->tl, 2);
	f3 = sw_fence_create(self->tl, 3);
	ASSERT_LE(0, f1);
	ASSERT_LE(0, f2);
	ASSERT_LE(0, f3);
	ASSERT_EQ(0, sync_set_deadline(f3, 123456789));
	ASSERT_EQ(0, sw_inc(self->tl, 2));
	EXPECT_EQ(0, sync_fence_info_of(f3, &fi));
	EXPECT_STREQ("fence_ops", fi.driver_name);
	close(self->tl);
	self->tl = -1;

	/* No open timeline left: the module unloads although its fences live. */
	ASSERT_EQ(0, fence_ops_unload());
	ASSERT_FALSE(fence_ops_loaded());

	EXPECT_EQ(1, sync_fence_info_of(f1, &fi));
	EXPECT_STREQ("detached-driver", fi.driver_name);
	EXPECT_STREQ("signaled-timeline", fi.obj_name);
	EXPECT_TRUE(fi.timestamp_ns != 0);
	EXPECT_EQ(1, sync_fence_info_of(f2, &fi));
	/* Closing the timeline cancelled the pending point, as sw_sync does. */
	EXPECT_EQ(-ENOENT, sync_fence_info_of(f3, &fi));
	EXPECT_STREQ("detached-driver", fi.driver_name);
	EXPECT_EQ(1, sync_file_wait(f1, 0));
	EXPECT_EQ(1, sync_file_wait(f3, 0));
	/* A deadline on a detached fence is accepted and goes nowhere. */
	EXPECT_EQ(0, sync_set_deadline(f1, 1));

	/* Merge with our own fences and with a pending fence of the C sw_sync. */
	merged = sync_merge_fds("ours", f1, f2);
	ASSERT_LE(0, merged);
	EXPECT_EQ(1, sync_file_status(merged));
	close(merged);

	c_tl = timeline_open(SW_SYNC_DEFAULT_PATH);
	ASSERT_LE(0, c_tl);
	c_fence = sw_fence_create(c_tl, 5);
	ASSERT_LE(0, c_fence);
	merged = sync_merge_fds("mixed", f2, c_fence);
	ASSERT_LE(0, merged);
	/* The merge keeps only unsignalled fences: the C one. */
	EXPECT_EQ(1, sync_num_fences(merged));
	EXPECT_EQ(0, sync_file_status(merged));
	EXPECT_EQ(0, sw_inc(c_tl, 5));
	EXPECT_EQ(1, sync_file_wait(merged, 1000));
	EXPECT_EQ(1, sync_file_status(merged));
	close(merged);
	close(c_fence);
	close(c_tl);

	close(f1);
	close(f2);
	close(f3);
}

/* Points kept after close are cancelled by the unload protocol with -ENODEV. */
TEST_F(unload, unload_cancels_kept_points)
{
	struct sync_fence_info fi;
	char info[4096] = "";
	int f5, f6, fd;
	ssize_t n;

	ASSERT_EQ(0, set_flags(self->tl, FENCE_OPS_KEEP_ON_CLOSE));
	f5 = sw_fence_create(self->tl, 5);
	f6 = sw_fence_create(self->tl, 6);
	ASSERT_LE(0, f5);
	ASSERT_LE(0, f6);
	close(self->tl);
	self->tl = -1;

	/* Still pending, and listed in info as a kept timeline. */
	EXPECT_EQ(0, sync_file_status(f5));
	fd = open(FENCE_OPS_INFO_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, info, sizeof(info) - 1);
	close(fd);
	ASSERT_LT(0, n);
	EXPECT_NE(NULL, strstr(info, "kept after close: 2 pending")) TH_LOG("%s", info);
	EXPECT_NE(NULL, strstr(info, "point 6")) TH_LOG("%s", info);

	ASSERT_EQ(0, fence_ops_unload());
	EXPECT_EQ(-ENODEV, sync_fence_info_of(f5, &fi));
	EXPECT_STREQ("detached-driver", fi.driver_name);
	EXPECT_EQ(-ENODEV, sync_fence_info_of(f6, &fi));
	EXPECT_EQ(1, sync_file_wait(f6, 0));
	close(f5);
	close(f6);
}

/* Fences of a pinning timeline keep the module: EWOULDBLOCK, module intact. */
TEST_F(unload, pinned_fences_keep_module)
{
	struct sync_fence_info fi;
	int f1, f2;

	ASSERT_EQ(0, set_flags(self->tl, FENCE_OPS_PIN_MODULE));
	f1 = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, f1);
	EXPECT_EQ(0, sync_fence_info_of(f1, &fi));
	EXPECT_STREQ("fence_ops", fi.driver_name);
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	close(self->tl);
	self->tl = -1;

	/* Signalled, yet its ops (with release) still point into fence_ops. */
	EXPECT_EQ(1, sync_fence_info_of(f1, &fi));
	EXPECT_EQ(-EWOULDBLOCK, fence_ops_unload());
	EXPECT_TRUE(fence_ops_loaded());

	/* The module still works. */
	self->tl = timeline_open(FENCE_OPS_SW_SYNC_PATH);
	ASSERT_LE(0, self->tl);
	f2 = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, f2);
	close(f2);
	close(self->tl);
	self->tl = -1;

	/* Once the last fence is gone, the module unloads. */
	close(f1);
	EXPECT_EQ(0, fence_ops_unload());
}

TEST_F(unload, set_flags_errors)
{
	int f;

	EXPECT_EQ(-EINVAL, set_flags(self->tl, 1U << 7));
	EXPECT_EQ(-EINVAL, set_flags(self->tl, FENCE_OPS_PIN_MODULE | FENCE_OPS_KEEP_ON_CLOSE));
	EXPECT_EQ(-EFAULT, ioctl(self->tl, FENCE_OPS_IOC_SET_FLAGS, (void *)1) ? -errno : 0);
	f = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, f);
	/* The table cannot change once the timeline issued a fence. */
	EXPECT_EQ(-EBUSY, set_flags(self->tl, FENCE_OPS_PIN_MODULE));
	EXPECT_EQ(0, set_flags(self->tl, FENCE_OPS_KEEP_ON_CLOSE));
	EXPECT_EQ(0, set_flags(self->tl, 0));
	close(f);
}

/*
 * A point kept after close signals only at the unload, which a fence of a
 * pinning timeline refuses while it lives. Merged into one sync_file and
 * polled, the fence array holds the pinning fence until the kept point
 * signals: fence_ops stayed loaded for good. The two modes exclude each
 * other across timelines, not only on one.
 */
TEST_F(unload, pin_and_keep_exclude_each_other)
{
	int tl2, kept, pinned;

	tl2 = timeline_open(FENCE_OPS_SW_SYNC_PATH);
	ASSERT_LE(0, tl2);

	/* Another timeline that may keep its points: no pinning. */
	ASSERT_EQ(0, set_flags(tl2, FENCE_OPS_KEEP_ON_CLOSE));
	EXPECT_EQ(-EBUSY, set_flags(self->tl, FENCE_OPS_PIN_MODULE));
	kept = sw_fence_create(tl2, 1);
	ASSERT_LE(0, kept);
	close(tl2);
	/* A point kept after close is pending: still no pinning. */
	EXPECT_EQ(0, sync_file_status(kept));
	EXPECT_EQ(-EBUSY, set_flags(self->tl, FENCE_OPS_PIN_MODULE));

	/* The unload cancels the kept point; a new load starts clean. */
	close(self->tl);
	self->tl = -1;
	ASSERT_EQ(0, fence_ops_unload());
	EXPECT_EQ(-ENODEV, sync_file_status(kept));
	close(kept);
	ASSERT_EQ(0, fence_ops_load());
	self->tl = timeline_open(FENCE_OPS_SW_SYNC_PATH);
	ASSERT_LE(0, self->tl);

	/* The other way round: a pinning timeline, then its fence alone. */
	ASSERT_EQ(0, set_flags(self->tl, FENCE_OPS_PIN_MODULE));
	tl2 = timeline_open(FENCE_OPS_SW_SYNC_PATH);
	ASSERT_LE(0, tl2);
	EXPECT_EQ(-EBUSY, set_flags(tl2, FENCE_OPS_KEEP_ON_CLOSE));
	pinned = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, pinned);
	close(self->tl);
	self->tl = -1;
	EXPECT_EQ(-ENOENT, sync_file_status(pinned));
	EXPECT_EQ(-EBUSY, set_flags(tl2, FENCE_OPS_KEEP_ON_CLOSE));
	/* Once the pinning fence is released, keeping is allowed again. */
	close(pinned);
	EXPECT_EQ(0, set_flags(tl2, FENCE_OPS_KEEP_ON_CLOSE));
	close(tl2);
}

/*
 * A SW_SYNC_IOC_CREATE_FENCE that makes its point and then cannot write the
 * fd back (EFAULT) leaves the point pending on the timeline (the C sw_sync
 * frees such a point: its only reference was the sync_file the failed call
 * dropped). Replacing the timeline's ops table would cancel that point and
 * lose the timeline's value: SET_FLAGS refuses it as it does after a
 * successful CREATE_FENCE.
 */
TEST_F(unload, set_flags_after_failed_create)
{
	struct sw_sync_create_fence_data *ro;
	char info[4096];
	int f;

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0, sizeof(*ro));
	ro->value = 5;
	ro->fence = -1;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, 4096);
	ASSERT_LT(0, fence_ops_read_info(info, sizeof(info)));
	EXPECT_NE(NULL, strstr(info, "detachable, open: 1 pending\n  point 5\n")) TH_LOG("%s", info);

	EXPECT_EQ(-EBUSY, set_flags(self->tl, FENCE_OPS_PIN_MODULE));
	ASSERT_LT(0, fence_ops_read_info(info, sizeof(info)));
	EXPECT_NE(NULL, strstr(info, "detachable, open: 1 pending\n  point 5\n")) TH_LOG("%s", info);
	/* Still the same timeline: the point is handed out and signals at 5. */
	f = sw_fence_create(self->tl, 5);
	ASSERT_LE(0, f);
	EXPECT_EQ(0, sync_file_status(f));
	EXPECT_EQ(0, sw_inc(self->tl, 5));
	EXPECT_EQ(1, sync_file_status(f));
	close(f);
}

/* A timeline replaced before its first point keeps its value. */
TEST_F(unload, set_flags_keeps_value)
{
	int f1, f2;

	ASSERT_EQ(0, sw_inc(self->tl, 3));
	ASSERT_EQ(0, set_flags(self->tl, FENCE_OPS_PIN_MODULE));
	f1 = sw_fence_create(self->tl, 3);
	f2 = sw_fence_create(self->tl, 4);
	ASSERT_LE(0, f1);
	ASSERT_LE(0, f2);
	EXPECT_EQ(1, sync_file_status(f1));
	EXPECT_EQ(0, sync_file_status(f2));
	EXPECT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(f2));
	close(f1);
	close(f2);
}

/*
 * An open of the timeline file that fails leaves nothing behind, whichever
 * allocation failed: with fail-nth (and failslab), make the n-th slab
 * allocation of open() fail, for n = 1, 2, ... until an open succeeds with
 * no failure injected, and check that info is unchanged by each failed open
 * (the timelines it lists, the provider's counts).
 */
TEST_F(unload, failed_open_leaves_nothing)
{
	static char before[8192], after[8192];
	int n, fd, nth, failed = 0;
	char buf[16];
	ssize_t len;

	if (access("/sys/kernel/debug/failslab", F_OK))
		SKIP(return, "no failslab (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)");
	nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth < 0)
		SKIP(return, "no /proc/thread-self/fail-nth");
	/* Fail GFP_KERNEL allocations too, quietly (no stack dump). */
	ASSERT_EQ(0, write_str("/sys/kernel/debug/failslab/ignore-gfp-wait", -1, "N"));
	ASSERT_EQ(0, write_str("/sys/kernel/debug/failslab/verbose", -1, "0"));
	ASSERT_LT(0, fence_ops_read_info(before, sizeof(before)));

	for (n = 1; n < 500; n++) {
		snprintf(buf, sizeof(buf), "%d", n);
		ASSERT_EQ(0, write_str(NULL, nth, buf));
		fd = open(FENCE_OPS_SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
		/* What is left of the count: 0 if the failure was injected. */
		len = pread(nth, buf, sizeof(buf) - 1, 0);
		ASSERT_LT(0, len);
		buf[len] = '\0';
		ASSERT_EQ(0, write_str(NULL, nth, "0"));
		if (fd >= 0) {
			close(fd);
			if (atoi(buf) != 0)
				break;
			continue;
		}
		EXPECT_EQ(ENOMEM, errno);
		failed++;
		ASSERT_LT(0, fence_ops_read_info(after, sizeof(after)));
		EXPECT_STREQ(before, after) TH_LOG("open with allocation %d failing", n);
	}
	write_str("/sys/kernel/debug/failslab/ignore-gfp-wait", -1, "Y");
	write_str("/sys/kernel/debug/failslab/verbose", -1, "2");
	close(nth);
	EXPECT_LT(0, failed);
	EXPECT_GT(500, n);
	ksft_print_msg("%d of %d opens failed\n", failed, n - 1);
}

/* info lists the open timeline, its pending points and their deadlines. */
TEST_F(unload, info_lists_points)
{
	char info[4096] = "";
	int f, fd;
	ssize_t n;

	f = sw_fence_create(self->tl, 7);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, sync_set_deadline(f, 987654321));
	fd = open(FENCE_OPS_INFO_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, info, sizeof(info) - 1);
	close(fd);
	ASSERT_LT(0, n);
	EXPECT_NE(NULL, strstr(info, "detachable, open: 1 pending")) TH_LOG("%s", info);
	EXPECT_NE(NULL, strstr(info, "point 7 deadline 987654321 ns")) TH_LOG("%s", info);
	close(f);
}

/* An open timeline file keeps the module loaded: no unload under its feet. */
TEST_F(unload, open_timeline_keeps_module)
{
	EXPECT_EQ(-EWOULDBLOCK, fence_ops_unload());
	EXPECT_TRUE(fence_ops_loaded());
}

/* So does an open info file, whose close runs module code too. */
TEST_F(unload, open_info_keeps_module)
{
	char c;
	int fd;

	close(self->tl);
	self->tl = -1;
	fd = open(FENCE_OPS_INFO_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EWOULDBLOCK, fence_ops_unload());
	EXPECT_EQ(1, read(fd, &c, 1));
	close(fd);
	EXPECT_EQ(0, fence_ops_unload());
}

/*
 * An in-kernel holder (fence_holder.ko) keeps references and callbacks on
 * fence_ops fences across the unload, then waits for them and drops them.
 */
TEST_F(unload, in_kernel_holder_across_unload)
{
	struct fence_holder_report report = {};
	int holder, f1, f2;

	holder = open(FENCE_HOLDER_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, holder) TH_LOG("%s: %s (fence_holder.ko loaded?)", FENCE_HOLDER_PATH,
				    strerror(errno));
	ASSERT_EQ(0, set_flags(self->tl, FENCE_OPS_KEEP_ON_CLOSE));
	f1 = sw_fence_create(self->tl, 1);
	f2 = sw_fence_create(self->tl, 2);
	ASSERT_LE(0, f1);
	ASSERT_LE(0, f2);
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	ASSERT_EQ(0, ioctl(holder, FENCE_HOLDER_IOC_HOLD, &f1));
	ASSERT_EQ(0, ioctl(holder, FENCE_HOLDER_IOC_HOLD, &f2));
	/* Only the kernel holds them now. */
	close(f1);
	close(f2);
	close(self->tl);
	self->tl = -1;

	ASSERT_EQ(0, fence_ops_unload());
	ASSERT_EQ(0, ioctl(holder, FENCE_HOLDER_IOC_WAIT_DROP, &report));
	EXPECT_EQ(2U, report.held);
	EXPECT_EQ(2U, report.signalled);
	/* f1 was signalled when handed over (handed back), f2's ran at unload. */
	EXPECT_EQ(2U, report.callbacks);
	EXPECT_EQ(1, report.errors);
	EXPECT_EQ(-ENODEV, report.last_error);
	close(holder);
}

TEST_HARNESS_MAIN
