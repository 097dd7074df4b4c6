// SPDX-License-Identifier: GPL-2.0
/*
 * The sw_sync ABI from a 32-bit program: built with -m32, it runs on the
 * 64-bit test kernel through IA32 emulation, so every ioctl goes through
 * the file's compat_ioctl. The C sw_sync has compat_ptr_ioctl there, so
 * 32-bit programs get the same ioctls as 64-bit ones; a provider whose
 * file lacks compat_ioctl answers ENOTTY to all of them.
 *
 * The file under test is $SW_SYNC_PATH (default /sys/kernel/debug/sync/
 * sw_sync), as for sw_sync_abi_test.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sync_file_util.h"
#include "sw_sync_abi.h"

_Static_assert(sizeof(void *) == 4, "build this test with -m32");

FIXTURE(compat) {
	int tl;
};

FIXTURE_SETUP(compat)
{
	self->tl = sw_timeline_open();
	ASSERT_LE(0, self->tl) TH_LOG("open %s: %s", sw_sync_path(), strerror(-self->tl));
}

FIXTURE_TEARDOWN(compat)
{
	if (self->tl >= 0)
		close(self->tl);
}

TEST_F(compat, create_fence)
{
	struct sw_sync_create_fence_data data;

	memset(&data, 0, sizeof(data));
	data.value = 1;
	snprintf(data.name, sizeof(data.name), "compat");
	data.fence = -1;
	ASSERT_EQ(0, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, &data))
		TH_LOG("SW_SYNC_IOC_CREATE_FENCE: %s", strerror(errno));
	ASSERT_LE(0, data.fence);
	EXPECT_EQ(1u, data.value);
	EXPECT_STREQ("compat", data.name);
	EXPECT_EQ(0, sync_file_status(data.fence));
	close(data.fence);
}

TEST_F(compat, inc)
{
	int f1, f2;

	f1 = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, f1) TH_LOG("SW_SYNC_IOC_CREATE_FENCE: %s", strerror(-f1));
	f2 = sw_fence_create(self->tl, 2);
	ASSERT_LE(0, f2);
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(f1));
	EXPECT_EQ(0, sync_file_status(f2));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(f2));
	close(f1);
	close(f2);
}

TEST_F(compat, get_deadline)
{
	__u64 deadline = 0;
	int f;

	f = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, f) TH_LOG("SW_SYNC_IOC_CREATE_FENCE: %s", strerror(-f));
	EXPECT_EQ(-ENOENT, sw_get_deadline(self->tl, f, &deadline));
	ASSERT_EQ(0, sync_set_deadline(f, 123456789ull));
	ASSERT_EQ(0, sw_get_deadline(self->tl, f, &deadline));
	EXPECT_EQ(123456789ull, deadline);
	close(f);
}

/* The fence info array is a __u64 user pointer: a 32-bit address here. */
TEST_F(compat, file_info)
{
	struct sync_fence_info fi;
	int f;

	f = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, f) TH_LOG("SW_SYNC_IOC_CREATE_FENCE: %s", strerror(-f));
	EXPECT_EQ(1, sync_num_fences(f));
	EXPECT_EQ(0, sync_fence_info_of(f, &fi));
	EXPECT_STREQ(sw_sync_driver(), fi.driver_name);
	EXPECT_EQ(0, fi.status);
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_fence_info_of(f, &fi));
	EXPECT_EQ(1, fi.status);
	EXPECT_NE(0ull, fi.timestamp_ns);
	close(f);
}

TEST_F(compat, merge)
{
	int tl2, a, b, m;

	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	a = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, a) TH_LOG("SW_SYNC_IOC_CREATE_FENCE: %s", strerror(-a));
	b = sw_fence_create(tl2, 1);
	ASSERT_LE(0, b);
	m = sync_merge_fds("compat-merge", a, b);
	ASSERT_LE(0, m) TH_LOG("SYNC_IOC_MERGE: %s", strerror(-m));
	EXPECT_EQ(2, sync_num_fences(m));
	EXPECT_EQ(0, sync_file_status(m));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(0, sync_file_status(m));
	ASSERT_EQ(0, sw_inc(tl2, 1));
	EXPECT_EQ(1, sync_file_status(m));
	close(m);
	close(a);
	close(b);
	close(tl2);
}

TEST_HARNESS_MAIN
