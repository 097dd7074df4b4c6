// SPDX-License-Identifier: GPL-2.0
/*
 * The sw_sync ABI: what a timeline file (<debugfs>/sync/sw_sync, the C
 * driver drivers/dma-buf/sw_sync.c) does for each use and misuse, seen from
 * userspace. A provider is ABI-compatible if this passes against it too.
 *
 * The file under test is $SW_SYNC_PATH (default /sys/kernel/debug/sync/
 * sw_sync). Each test opens its own timeline (the fixture).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sync_file_util.h"
#include "sw_sync_abi.h"

FIXTURE(timeline) {
	int tl;
	char comm[16];
};

FIXTURE_SETUP(timeline)
{
	memset(self->comm, 0, sizeof(self->comm));
	ASSERT_EQ(0, prctl(PR_GET_NAME, self->comm));
	self->tl = sw_timeline_open();
	ASSERT_LE(0, self->tl) TH_LOG("open %s: %s", sw_sync_path(), strerror(-self->tl));
}

FIXTURE_TEARDOWN(timeline)
{
	if (self->tl >= 0)
		close(self->tl);
}

/*
 * The name of a sync_file of a pending point is made by the core from the
 * fence: "<driver>-<timeline><context>-<seqno>", cut to 31 characters.
 * Returns 0 if @name is that, with the fence context in @ctx.
 */
static int parse_pending_name(const char *name, const char *comm, __u32 seqno,
			      unsigned long long *ctx)
{
	char prefix[64], full[96];
	size_t n;

	snprintf(prefix, sizeof(prefix), "%s-%s", sw_sync_driver(), comm);
	n = strlen(prefix);
	if (strncmp(name, prefix, n) || !isdigit((unsigned char)name[n]))
		return -1;
	*ctx = strtoull(name + n, NULL, 10);
	snprintf(full, sizeof(full), "%s%llu-%u", prefix, *ctx, seqno);
	if (strlen(full) > 31)
		full[31] = '\0';
	return strcmp(name, full) ? -1 : 0;
}

/* An address with nothing mapped. */
static void *unmapped_page(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return (void *)1;
	munmap(p, 4096);
	return p;
}

/* A read-only page holding a copy of @len bytes of @src. */
static void *readonly_copy(const void *src, size_t len)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, src, len);
	if (mprotect(p, 4096, PROT_READ)) {
		munmap(p, 4096);
		return NULL;
	}
	return p;
}

/* After a delay, in a thread: INC the timeline, or close it. */
struct delayed_op {
	int tl;
	__u32 inc;
	int close;
};

static void *delayed_op_fn(void *arg)
{
	struct delayed_op *op = arg;

	usleep(100 * 1000);
	if (op->close)
		close(op->tl);
	else
		sw_inc(op->tl, op->inc);
	return NULL;
}

TEST_F(timeline, create_fence)
{
	struct sw_sync_create_fence_data data;
	struct sync_fence_info fi;
	unsigned long long ctx;
	char name[32];
	int fd;

	memset(&data, 0, sizeof(data));
	data.value = 1;
	snprintf(data.name, sizeof(data.name), "abi-fence");
	data.fence = -1;
	ASSERT_EQ(0, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, &data));
	fd = data.fence;
	ASSERT_LE(0, fd);
	/* The struct is written back with only the fd changed. */
	EXPECT_EQ(1u, data.value);
	EXPECT_STREQ("abi-fence", data.name);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	EXPECT_EQ(0, sync_file_status(fd));
	EXPECT_EQ(1, sync_num_fences(fd));
	EXPECT_EQ(0, sync_fence_info_of(fd, &fi));
	EXPECT_STREQ(sw_sync_driver(), fi.driver_name);
	/* The timeline is named after the task that opened it. */
	EXPECT_STREQ(self->comm, fi.obj_name);
	EXPECT_EQ(0u, fi.flags);
	EXPECT_EQ(0ull, fi.timestamp_ns);

	/* sw_sync ignores the name passed: the core makes one from the fence. */
	ASSERT_EQ(0, sync_file_name(fd, name));
	EXPECT_EQ(0, parse_pending_name(name, self->comm, 1, &ctx)) TH_LOG("name '%s'", name);
	EXPECT_EQ(NULL, strstr(name, "abi-fence"));
	close(fd);
}

TEST_F(timeline, name_not_nul_terminated)
{
	struct sw_sync_create_fence_data data;
	char expect[32], name[32];
	unsigned long long ctx;

	memset(&data, 0, sizeof(data));
	memset(data.name, 'a', sizeof(data.name));
	memset(expect, 'a', sizeof(expect));
	data.value = 1;
	data.fence = -1;
	/* Accepted: the name is not read at all. */
	ASSERT_EQ(0, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, &data));
	ASSERT_LE(0, data.fence);
	/* Written back as it came, not truncated. */
	EXPECT_EQ(0, memcmp(expect, data.name, sizeof(expect)));
	EXPECT_EQ(1u, data.value);
	EXPECT_EQ(0, sync_file_name(data.fence, name));
	EXPECT_EQ(0, parse_pending_name(name, self->comm, 1, &ctx)) TH_LOG("name '%s'", name);
	close(data.fence);
}

TEST_F(timeline, timeline_named_after_opener)
{
	struct sync_fence_info fi;
	int tl2, tl3, a, b, c;

	ASSERT_EQ(0, prctl(PR_SET_NAME, "rf-abi-opener"));
	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	/* A task name is at most 15 characters: the timeline gets those. */
	ASSERT_EQ(0, prctl(PR_SET_NAME, "rf-abi-long-task-name"));
	tl3 = sw_timeline_open();
	ASSERT_LE(0, tl3);
	ASSERT_EQ(0, prctl(PR_SET_NAME, "rf-abi-creator"));

	/* Named when opened, not when the fence is created. */
	a = sw_fence_create(tl2, 1);
	ASSERT_LE(0, a);
	EXPECT_EQ(0, sync_fence_info_of(a, &fi));
	EXPECT_STREQ("rf-abi-opener", fi.obj_name);
	b = sw_fence_create(tl3, 1);
	ASSERT_LE(0, b);
	EXPECT_EQ(0, sync_fence_info_of(b, &fi));
	EXPECT_STREQ("rf-abi-long-tas", fi.obj_name);
	c = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, sync_fence_info_of(c, &fi));
	EXPECT_STREQ(self->comm, fi.obj_name);
	close(a);
	close(b);
	close(c);
	close(tl2);
	close(tl3);
}

TEST_F(timeline, inc_signals_reached_points)
{
	int f1 = sw_fence_create(self->tl, 1);
	int f2 = sw_fence_create(self->tl, 2);
	int f3 = sw_fence_create(self->tl, 3);

	ASSERT_LE(0, f1);
	ASSERT_LE(0, f2);
	ASSERT_LE(0, f3);
	EXPECT_EQ(0, sync_file_status(f1));
	EXPECT_EQ(0, sync_file_status(f2));
	EXPECT_EQ(0, sync_file_status(f3));

	ASSERT_EQ(0, sw_inc(self->tl, 2));
	EXPECT_EQ(1, sync_file_status(f1));
	EXPECT_EQ(1, sync_file_status(f2));
	EXPECT_EQ(0, sync_file_status(f3));

	/* INC 0 is accepted and changes nothing. */
	ASSERT_EQ(0, sw_inc(self->tl, 0));
	EXPECT_EQ(0, sync_file_status(f3));

	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(f3));
	close(f1);
	close(f2);
	close(f3);
}

TEST_F(timeline, poll_pending_and_signalled)
{
	struct pollfd p;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	p.fd = f;
	p.events = POLLIN | POLLOUT | POLLPRI;
	p.revents = 0;
	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(0, poll(&p, 1, 50));
	EXPECT_EQ(0, p.revents);

	ASSERT_EQ(0, sw_inc(self->tl, 1));
	/* A signalled sync_file is readable, only that, and stays so. */
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN, p.revents);
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN, p.revents);
	close(f);
}

TEST_F(timeline, poll_wakes_on_inc)
{
	struct delayed_op op = { .tl = self->tl, .inc = 1 };
	pthread_t thread;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	ASSERT_EQ(0, pthread_create(&thread, NULL, delayed_op_fn, &op));
	EXPECT_EQ(1, sync_file_wait(f, 5000));
	pthread_join(thread, NULL);
	EXPECT_EQ(1, sync_file_status(f));
	close(f);
}

TEST_F(timeline, signal_timestamp)
{
	struct sync_fence_info fi;
	__u64 t0, t1;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	EXPECT_EQ(0, sync_fence_info_of(f, &fi));
	EXPECT_EQ(0ull, fi.timestamp_ns);

	t0 = monotonic_ns();
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	t1 = monotonic_ns();
	EXPECT_EQ(1, sync_fence_info_of(f, &fi));
	/* CLOCK_MONOTONIC, taken when the INC signalled it. */
	EXPECT_LE(t0, fi.timestamp_ns);
	EXPECT_GE(t1, fi.timestamp_ns);
	/* Signalled: the core no longer asks the provider for names. */
	EXPECT_STREQ("detached-driver", fi.driver_name);
	EXPECT_STREQ("signaled-timeline", fi.obj_name);
	close(f);
}

TEST_F(timeline, point_not_after_value_is_signalled)
{
	struct sync_fence_info fi;
	__u64 t0;
	int f3, f5, f6;

	ASSERT_EQ(0, sw_inc(self->tl, 5));
	t0 = monotonic_ns();
	/* A point at or before the timeline's value is created signalled. */
	f3 = sw_fence_create(self->tl, 3);
	ASSERT_LE(0, f3);
	f5 = sw_fence_create(self->tl, 5);
	ASSERT_LE(0, f5);
	f6 = sw_fence_create(self->tl, 6);
	ASSERT_LE(0, f6);
	EXPECT_EQ(1, sync_fence_info_of(f3, &fi));
	EXPECT_LE(t0, fi.timestamp_ns);
	EXPECT_EQ(1, sync_file_wait(f3, 0));
	EXPECT_EQ(1, sync_file_status(f5));
	EXPECT_EQ(0, sync_file_status(f6));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(f6));
	close(f3);
	close(f5);
	close(f6);
}

TEST_F(timeline, same_value_twice)
{
	int a = sw_fence_create(self->tl, 2);
	int b = sw_fence_create(self->tl, 2);
	int m;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_NE(a, b);
	m = sync_merge_fds("same", a, b);
	ASSERT_LE(0, m);
	EXPECT_EQ(1, sync_num_fences(m));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(0, sync_file_status(a));
	EXPECT_EQ(0, sync_file_status(b));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(a));
	EXPECT_EQ(1, sync_file_status(b));
	EXPECT_EQ(1, sync_file_wait(m, 1000));
	close(a);
	close(b);
	close(m);
}

TEST_F(timeline, timelines_independent)
{
	unsigned long long ctx_a, ctx_a2, ctx_b;
	char name[32];
	int tl2, a, a2, b, c, d;

	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	a = sw_fence_create(self->tl, 1);
	a2 = sw_fence_create(self->tl, 10);
	b = sw_fence_create(tl2, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, a2);
	ASSERT_LE(0, b);

	/* Each timeline is its own fence context. */
	ASSERT_EQ(0, sync_file_name(a, name));
	ASSERT_EQ(0, parse_pending_name(name, self->comm, 1, &ctx_a)) TH_LOG("'%s'", name);
	ASSERT_EQ(0, sync_file_name(a2, name));
	ASSERT_EQ(0, parse_pending_name(name, self->comm, 10, &ctx_a2)) TH_LOG("'%s'", name);
	ASSERT_EQ(0, sync_file_name(b, name));
	ASSERT_EQ(0, parse_pending_name(name, self->comm, 1, &ctx_b)) TH_LOG("'%s'", name);
	EXPECT_EQ(ctx_a, ctx_a2);
	EXPECT_NE(ctx_a, ctx_b);

	/* Each has its own value. */
	ASSERT_EQ(0, sw_inc(self->tl, 5));
	EXPECT_EQ(1, sync_file_status(a));
	EXPECT_EQ(0, sync_file_status(b));
	c = sw_fence_create(tl2, 3);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, sync_file_status(c));
	d = sw_fence_create(self->tl, 3);
	ASSERT_LE(0, d);
	EXPECT_EQ(1, sync_file_status(d));
	ASSERT_EQ(0, sw_inc(tl2, 1));
	EXPECT_EQ(1, sync_file_status(b));
	EXPECT_EQ(0, sync_file_status(c));

	/* Closing one leaves the other's points alone. */
	close(tl2);
	EXPECT_EQ(-ENOENT, sync_file_status(c));
	EXPECT_EQ(0, sync_file_status(a2));
	ASSERT_EQ(0, sw_inc(self->tl, 5));
	EXPECT_EQ(1, sync_file_status(a2));
	close(a);
	close(a2);
	close(b);
	close(c);
	close(d);
}

TEST_F(timeline, merge_same_timeline)
{
	struct sync_fence_info fi;
	char name[32];
	int a = sw_fence_create(self->tl, 1);
	int b = sw_fence_create(self->tl, 2);
	int m;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	m = sync_merge_fds("abi-merged", a, b);
	ASSERT_LE(0, m);
	EXPECT_EQ(FD_CLOEXEC, fcntl(m, F_GETFD) & FD_CLOEXEC);
	/* One context: only the later point is kept. */
	EXPECT_EQ(1, sync_num_fences(m));
	EXPECT_EQ(0, sync_file_name(m, name));
	EXPECT_STREQ("abi-merged", name);
	EXPECT_EQ(0, sync_fence_info_of(m, &fi));
	EXPECT_STREQ(sw_sync_driver(), fi.driver_name);

	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(a));
	EXPECT_EQ(0, sync_file_wait(m, 0));
	EXPECT_EQ(0, sync_file_status(m));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_wait(m, 1000));
	EXPECT_EQ(1, sync_file_status(m));
	close(a);
	close(b);
	close(m);
}

TEST_F(timeline, merge_two_timelines)
{
	struct sync_fence_info fi[2];
	struct sync_file_info info;
	int tl2, a, b, m;

	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	a = sw_fence_create(self->tl, 1);
	b = sw_fence_create(tl2, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	m = sync_merge_fds("abi-two", a, b);
	ASSERT_LE(0, m);
	EXPECT_EQ(2, sync_num_fences(m));
	EXPECT_EQ(0, sync_file_status(m));

	memset(&info, 0, sizeof(info));
	memset(fi, 0, sizeof(fi));
	info.num_fences = 2;
	info.sync_fence_info = (uintptr_t)fi;
	ASSERT_EQ(0, ioctl(m, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(2u, info.num_fences);
	EXPECT_EQ(0, info.status);
	EXPECT_STREQ("abi-two", info.name);
	EXPECT_STREQ(sw_sync_driver(), fi[0].driver_name);
	EXPECT_STREQ(sw_sync_driver(), fi[1].driver_name);
	EXPECT_EQ(0, fi[0].status);
	EXPECT_EQ(0, fi[1].status);

	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(0, sync_file_wait(m, 50));
	EXPECT_EQ(0, sync_file_status(m));
	ASSERT_EQ(0, sw_inc(tl2, 1));
	EXPECT_EQ(1, sync_file_wait(m, 1000));
	EXPECT_EQ(1, sync_file_status(m));
	close(a);
	close(b);
	close(m);
	close(tl2);
}

TEST_F(timeline, merge_propagates_close_error)
{
	int tl2, a, b, m;

	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	a = sw_fence_create(self->tl, 1);
	b = sw_fence_create(tl2, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	m = sync_merge_fds("abi-err", a, b);
	ASSERT_LE(0, m);
	/* Polling enables signalling: the merged fence now follows both. */
	EXPECT_EQ(0, sync_file_wait(m, 0));
	close(tl2);
	EXPECT_EQ(-ENOENT, sync_file_status(b));
	EXPECT_EQ(0, sync_file_wait(m, 50));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_wait(m, 1000));
	EXPECT_EQ(-ENOENT, sync_file_status(m));
	close(a);
	close(b);
	close(m);
}

TEST_F(timeline, merge_bad_args)
{
	struct sync_merge_data data;
	int n, a = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, a);
	n = next_fd();
	EXPECT_EQ(-ENOENT, sync_merge_fds("x", a, -1));
	/* The timeline fd is not a sync_file. */
	EXPECT_EQ(-ENOENT, sync_merge_fds("x", a, self->tl));
	memset(&data, 0, sizeof(data));
	data.fd2 = a;
	data.flags = 1;
	EXPECT_EQ(-1, ioctl(a, SYNC_IOC_MERGE, &data));
	EXPECT_EQ(EINVAL, errno);
	data.flags = 0;
	data.pad = 1;
	EXPECT_EQ(-1, ioctl(a, SYNC_IOC_MERGE, &data));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(a, SYNC_IOC_MERGE, unmapped_page()));
	EXPECT_EQ(EFAULT, errno);
	/* No fd was left behind by the failures. */
	EXPECT_EQ(n, next_fd());
	close(a);
}

TEST_F(timeline, merge_name_truncated)
{
	struct sync_merge_data data;
	char expect[32], name[32];
	int a = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, a);
	memset(&data, 0, sizeof(data));
	memset(data.name, 'b', sizeof(data.name));
	data.fd2 = a;
	ASSERT_EQ(0, ioctl(a, SYNC_IOC_MERGE, &data));
	ASSERT_LE(0, data.fence);
	/* The last byte is made a NUL, also in the struct written back. */
	memset(expect, 'b', sizeof(expect));
	expect[31] = '\0';
	EXPECT_EQ(0, memcmp(expect, data.name, sizeof(expect)));
	EXPECT_EQ(0, sync_file_name(data.fence, name));
	EXPECT_STREQ(expect, name);
	close(data.fence);
	close(a);
}

TEST_F(timeline, file_info_num_fences)
{
	struct sync_fence_info fi[4], sentinel;
	struct sync_file_info info;
	int tl2, a, b, m;

	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	a = sw_fence_create(self->tl, 1);
	b = sw_fence_create(tl2, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	m = sync_merge_fds("abi-info", a, b);
	ASSERT_LE(0, m);

	/* num_fences 0: only the count; the array is not touched. */
	memset(&info, 0, sizeof(info));
	info.sync_fence_info = (uintptr_t)unmapped_page();
	ASSERT_EQ(0, ioctl(m, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(2u, info.num_fences);

	/* Too small for the fences: EINVAL. */
	memset(&info, 0, sizeof(info));
	info.num_fences = 1;
	info.sync_fence_info = (uintptr_t)fi;
	EXPECT_EQ(-1, ioctl(m, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	/* Larger: filled up to the count, which is returned. */
	memset(fi, 0x5a, sizeof(fi));
	memset(&sentinel, 0x5a, sizeof(sentinel));
	memset(&info, 0, sizeof(info));
	info.num_fences = 4;
	info.sync_fence_info = (uintptr_t)fi;
	ASSERT_EQ(0, ioctl(m, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(2u, info.num_fences);
	EXPECT_EQ(0, info.status);
	EXPECT_STREQ(sw_sync_driver(), fi[0].driver_name);
	EXPECT_STREQ(sw_sync_driver(), fi[1].driver_name);
	EXPECT_EQ(0, memcmp(&sentinel, &fi[2], sizeof(sentinel)));
	EXPECT_EQ(0, memcmp(&sentinel, &fi[3], sizeof(sentinel)));
	close(a);
	close(b);
	close(m);
	close(tl2);
}

TEST_F(timeline, file_info_bad_args)
{
	struct sync_fence_info fi;
	struct sync_file_info info;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	memset(&info, 0, sizeof(info));
	info.flags = 1;
	EXPECT_EQ(-1, ioctl(f, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	memset(&info, 0, sizeof(info));
	info.pad = 1;
	EXPECT_EQ(-1, ioctl(f, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	memset(&info, 0, sizeof(info));
	info.num_fences = 1;
	info.sync_fence_info = (uintptr_t)unmapped_page();
	EXPECT_EQ(-1, ioctl(f, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(f, SYNC_IOC_FILE_INFO, unmapped_page()));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, sync_fence_info_of(f, &fi));
	close(f);
}

TEST_F(timeline, get_deadline_unset)
{
	__u64 ns = 0;
	int f = sw_fence_create(self->tl, 1);
	int g;

	ASSERT_LE(0, f);
	EXPECT_EQ(-ENOENT, sw_get_deadline(self->tl, f, &ns));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(-ENOENT, sw_get_deadline(self->tl, f, &ns));
	/* Created signalled. */
	g = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, g);
	EXPECT_EQ(-ENOENT, sw_get_deadline(self->tl, g, &ns));
	close(f);
	close(g);
}

TEST_F(timeline, get_deadline_nonzero_in)
{
	struct sw_sync_get_deadline arg;
	__u64 t = monotonic_ns() + 1000000000ull;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	ASSERT_EQ(0, sync_set_deadline(f, t));
	memset(&arg, 0, sizeof(arg));
	arg.fence_fd = f;
	arg.deadline_ns = 1;
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_GET_DEADLINE, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.deadline_ns = 0;
	arg.pad = 1;
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_GET_DEADLINE, &arg));
	EXPECT_EQ(EINVAL, errno);
	/* Checked before the fd: EINVAL even without a deadline. */
	arg.fence_fd = -1;
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_GET_DEADLINE, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.fence_fd = f;
	arg.pad = 0;
	ASSERT_EQ(0, ioctl(self->tl, SW_SYNC_GET_DEADLINE, &arg));
	EXPECT_EQ(t, arg.deadline_ns);
	EXPECT_EQ(0u, arg.pad);
	EXPECT_EQ(f, arg.fence_fd);
	close(f);
}

TEST_F(timeline, set_deadline_then_get)
{
	struct sync_set_deadline sd;
	__u64 t = monotonic_ns() + 1000000000ull, ns = 0;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	ASSERT_EQ(0, sync_set_deadline(f, t));
	ASSERT_EQ(0, sw_get_deadline(self->tl, f, &ns));
	EXPECT_EQ(t, ns);
	/* The earliest deadline wins. */
	ASSERT_EQ(0, sync_set_deadline(f, t + 1000));
	ASSERT_EQ(0, sw_get_deadline(self->tl, f, &ns));
	EXPECT_EQ(t, ns);
	ASSERT_EQ(0, sync_set_deadline(f, t - 1000));
	ASSERT_EQ(0, sw_get_deadline(self->tl, f, &ns));
	EXPECT_EQ(t - 1000, ns);
	/* SET_DEADLINE with pad set: EINVAL, nothing set. */
	memset(&sd, 0, sizeof(sd));
	sd.deadline_ns = t - 5000;
	sd.pad = 1;
	EXPECT_EQ(-1, ioctl(f, SYNC_IOC_SET_DEADLINE, &sd));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, sw_get_deadline(self->tl, f, &ns));
	EXPECT_EQ(t - 1000, ns);
	EXPECT_EQ(0, sync_file_status(f));
	close(f);
}

TEST_F(timeline, deadline_after_signal)
{
	__u64 t = monotonic_ns() + 1000000000ull, ns = 0;
	int f1 = sw_fence_create(self->tl, 1);
	int f2 = sw_fence_create(self->tl, 2);

	ASSERT_LE(0, f1);
	ASSERT_LE(0, f2);
	ASSERT_EQ(0, sync_set_deadline(f1, t));
	ASSERT_EQ(0, sw_inc(self->tl, 2));
	/* A deadline set before the signal is still reported. */
	ASSERT_EQ(0, sw_get_deadline(self->tl, f1, &ns));
	EXPECT_EQ(t, ns);
	/* After the signal, SET_DEADLINE succeeds without effect. */
	EXPECT_EQ(0, sync_set_deadline(f2, t));
	EXPECT_EQ(-ENOENT, sw_get_deadline(self->tl, f2, &ns));
	EXPECT_EQ(0, sync_set_deadline(f1, t - 1000));
	ASSERT_EQ(0, sw_get_deadline(self->tl, f1, &ns));
	EXPECT_EQ(t, ns);
	close(f1);
	close(f2);
}

TEST_F(timeline, deadline_through_merge)
{
	__u64 t = monotonic_ns() + 1000000000ull, ns = 0;
	int tl2, a, b, m;

	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	a = sw_fence_create(self->tl, 1);
	b = sw_fence_create(tl2, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	m = sync_merge_fds("abi-dl", a, b);
	ASSERT_LE(0, m);
	/* Set on the merged fence, it reaches both points. */
	ASSERT_EQ(0, sync_set_deadline(m, t));
	ASSERT_EQ(0, sw_get_deadline(self->tl, a, &ns));
	EXPECT_EQ(t, ns);
	ns = 0;
	ASSERT_EQ(0, sw_get_deadline(tl2, b, &ns));
	EXPECT_EQ(t, ns);
	close(a);
	close(b);
	close(m);
	close(tl2);
}

TEST_F(timeline, get_deadline_not_sw_sync_fence)
{
	__u64 ns = 0;
	int tl2, a, b, m, s, s1, s2, null;

	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	a = sw_fence_create(self->tl, 1);
	b = sw_fence_create(tl2, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	m = sync_merge_fds("abi-array", a, b);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, sync_set_deadline(m, monotonic_ns() + 1000000000ull));
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, null);

	EXPECT_EQ(-EINVAL, sw_get_deadline(self->tl, -1, &ns));
	EXPECT_EQ(-EINVAL, sw_get_deadline(self->tl, 1000, &ns));
	EXPECT_EQ(-EINVAL, sw_get_deadline(self->tl, self->tl, &ns));
	EXPECT_EQ(-EINVAL, sw_get_deadline(self->tl, null, &ns));
	/* A sync_file whose fence is not a sw_sync point: an array. */
	EXPECT_EQ(-EINVAL, sw_get_deadline(self->tl, m, &ns));
	/* And the core's stub, which merging signalled fences gives. */
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	s1 = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, s1);
	s2 = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, s2);
	s = sync_merge_fds("abi-stub", s1, s2);
	ASSERT_LE(0, s);
	EXPECT_EQ(1, sync_file_status(s));
	EXPECT_EQ(-EINVAL, sw_get_deadline(self->tl, s, &ns));
	close(null);
	close(s);
	close(s1);
	close(s2);
	close(a);
	close(b);
	close(m);
	close(tl2);
}

TEST_F(timeline, get_deadline_fence_of_other_timeline)
{
	__u64 t = monotonic_ns() + 1000000000ull, ns = 0;
	int tl2, b;

	tl2 = sw_timeline_open();
	ASSERT_LE(0, tl2);
	b = sw_fence_create(tl2, 1);
	ASSERT_LE(0, b);
	EXPECT_EQ(-ENOENT, sw_get_deadline(self->tl, b, &ns));
	ASSERT_EQ(0, sync_set_deadline(b, t));
	/* Any timeline fd reads the deadline of any sw_sync point. */
	ASSERT_EQ(0, sw_get_deadline(self->tl, b, &ns));
	EXPECT_EQ(t, ns);
	close(b);
	close(tl2);
}

TEST_F(timeline, close_signals_pending_with_enoent)
{
	struct sync_fence_info fi;
	__u64 t0;
	int f1 = sw_fence_create(self->tl, 1);
	int f2 = sw_fence_create(self->tl, 2);
	int f3 = sw_fence_create(self->tl, 3);

	ASSERT_LE(0, f1);
	ASSERT_LE(0, f2);
	ASSERT_LE(0, f3);
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	t0 = monotonic_ns();
	close(self->tl);
	self->tl = -1;

	/* Already signalled: unchanged. */
	EXPECT_EQ(1, sync_file_status(f1));
	/* Pending: signalled with -ENOENT. */
	EXPECT_EQ(1, sync_file_wait(f2, 0));
	EXPECT_EQ(1, sync_file_wait(f3, 0));
	EXPECT_EQ(-ENOENT, sync_file_status(f2));
	EXPECT_EQ(-ENOENT, sync_file_status(f3));
	EXPECT_EQ(-ENOENT, sync_fence_info_of(f3, &fi));
	EXPECT_LE(t0, fi.timestamp_ns);
	EXPECT_STREQ("detached-driver", fi.driver_name);
	close(f1);
	close(f2);
	close(f3);
}

TEST_F(timeline, close_wakes_poller)
{
	struct delayed_op op = { .tl = self->tl, .close = 1 };
	pthread_t thread;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	self->tl = -1;
	ASSERT_EQ(0, pthread_create(&thread, NULL, delayed_op_fn, &op));
	EXPECT_EQ(1, sync_file_wait(f, 5000));
	pthread_join(thread, NULL);
	EXPECT_EQ(-ENOENT, sync_file_status(f));
	close(f);
}

/*
 * A merge keeps the later of two points of one timeline, and "later" is
 * modulo 2^32 as for sw_sync's own comparisons: across the wrap, point 1
 * comes after 0xffffffff.
 */
TEST_F(timeline, merge_across_wrap)
{
	int a, b, merged;

	ASSERT_EQ(0, sw_inc(self->tl, 0x7fffffff));
	ASSERT_EQ(0, sw_inc(self->tl, 0x7fffffff));
	a = sw_fence_create(self->tl, 0xffffffff);
	b = sw_fence_create(self->tl, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	merged = sync_merge_fds("wrap", a, b);
	ASSERT_LE(0, merged);
	EXPECT_EQ(1, sync_num_fences(merged));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(a));
	/* The merge kept point 1, which is still pending. */
	EXPECT_EQ(0, sync_file_status(merged));
	ASSERT_EQ(0, sw_inc(self->tl, 2));
	EXPECT_EQ(1, sync_file_status(merged));
	close(merged);
	close(a);
	close(b);
}

TEST_F(timeline, wrap_32bit)
{
	int a, b, c, d, e;

	/* Value 0xfffffffe, in two steps of INT_MAX. */
	ASSERT_EQ(0, sw_inc(self->tl, 0x7fffffff));
	ASSERT_EQ(0, sw_inc(self->tl, 0x7fffffff));
	a = sw_fence_create(self->tl, 0xffffffff);
	b = sw_fence_create(self->tl, 0);
	c = sw_fence_create(self->tl, 1);
	d = sw_fence_create(self->tl, 0xfffffffe);
	/* Compared modulo 2^32: 0x7fffffff is behind 0xfffffffe. */
	e = sw_fence_create(self->tl, 0x7fffffff);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_LE(0, d);
	ASSERT_LE(0, e);
	EXPECT_EQ(0, sync_file_status(a));
	EXPECT_EQ(0, sync_file_status(b));
	EXPECT_EQ(0, sync_file_status(c));
	EXPECT_EQ(1, sync_file_status(d));
	EXPECT_EQ(1, sync_file_status(e));

	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(a));
	EXPECT_EQ(0, sync_file_status(b));
	/* Across the wrap, in order. */
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(b));
	EXPECT_EQ(0, sync_file_status(c));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(c));
	close(a);
	close(b);
	close(c);
	close(d);
	close(e);
}

TEST_F(timeline, point_half_range_ahead)
{
	int far = sw_fence_create(self->tl, 0x80000000);
	int near = sw_fence_create(self->tl, 0x7fffffff);
	int zero = sw_fence_create(self->tl, 0);

	ASSERT_LE(0, far);
	ASSERT_LE(0, near);
	ASSERT_LE(0, zero);
	/* 2^31 ahead of the value counts as behind it: signalled. */
	EXPECT_EQ(1, sync_file_status(far));
	EXPECT_EQ(0, sync_file_status(near));
	EXPECT_EQ(1, sync_file_status(zero));
	ASSERT_EQ(0, sw_inc(self->tl, 0x7fffffff));
	EXPECT_EQ(1, sync_file_status(near));
	close(far);
	close(near);
	close(zero);
}

TEST_F(timeline, inc_huge_value)
{
	int a = sw_fence_create(self->tl, 1);
	int b = sw_fence_create(self->tl, 0x7fffffff);
	int c, d, e;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	/*
	 * An INC above INT_MAX is done in steps of at most INT_MAX: the first
	 * step signals both points, although 0xffffffff is -1 modulo 2^32.
	 */
	ASSERT_EQ(0, sw_inc(self->tl, 0xffffffff));
	EXPECT_EQ(1, sync_file_status(a));
	EXPECT_EQ(1, sync_file_status(b));
	/* The value is now 0xffffffff. */
	c = sw_fence_create(self->tl, 0xffffffff);
	d = sw_fence_create(self->tl, 0);
	e = sw_fence_create(self->tl, 0x7ffffffe);
	ASSERT_LE(0, c);
	ASSERT_LE(0, d);
	ASSERT_LE(0, e);
	EXPECT_EQ(1, sync_file_status(c));
	EXPECT_EQ(0, sync_file_status(d));
	EXPECT_EQ(0, sync_file_status(e));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(d));
	EXPECT_EQ(0, sync_file_status(e));
	/* INT_MAX + 1: two steps; the value is then 0x80000000. */
	ASSERT_EQ(0, sw_inc(self->tl, 0x80000000));
	EXPECT_EQ(1, sync_file_status(e));
	close(c);
	c = sw_fence_create(self->tl, 0x80000000);
	ASSERT_LE(0, c);
	EXPECT_EQ(1, sync_file_status(c));
	close(d);
	d = sw_fence_create(self->tl, 0x80000001);
	ASSERT_LE(0, d);
	EXPECT_EQ(0, sync_file_status(d));
	close(a);
	close(b);
	close(c);
	close(d);
	close(e);
}

TEST_F(timeline, create_fence_efault)
{
	int f, n = next_fd();

	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, (void *)1));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, unmapped_page()));
	EXPECT_EQ(EFAULT, errno);
	/* The fd reserved for the fence was given back. */
	EXPECT_EQ(n, next_fd());
	f = sw_fence_create(self->tl, 1);
	EXPECT_EQ(n, f);
	EXPECT_EQ(0, sync_file_status(f));
	close(f);
}

TEST_F(timeline, create_fence_readonly_arg)
{
	struct sw_sync_create_fence_data data, *ro;
	int f, n;

	memset(&data, 0, sizeof(data));
	data.value = 1;
	data.fence = -1;
	ro = readonly_copy(&data, sizeof(data));
	ASSERT_NE(NULL, ro);
	n = next_fd();
	/* Read, the point made, but the fd cannot be written back: EFAULT. */
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ro->fence);
	EXPECT_EQ(n, next_fd());
	/* The timeline still works, with the same value. */
	f = sw_fence_create(self->tl, 1);
	ASSERT_EQ(n, f);
	EXPECT_EQ(0, sync_file_status(f));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(f));
	close(f);
	munmap(ro, 4096);
}

TEST_F(timeline, inc_efault)
{
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_IOC_INC, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_IOC_INC, (void *)1));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_IOC_INC, unmapped_page()));
	EXPECT_EQ(EFAULT, errno);
	/* No increment happened. */
	EXPECT_EQ(0, sync_file_status(f));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(f));
	close(f);
}

TEST_F(timeline, get_deadline_efault)
{
	struct sw_sync_get_deadline arg, *ro;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_GET_DEADLINE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_GET_DEADLINE, (void *)1));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_GET_DEADLINE, unmapped_page()));
	EXPECT_EQ(EFAULT, errno);

	/* Read-only: without a deadline nothing is written, ENOENT. */
	memset(&arg, 0, sizeof(arg));
	arg.fence_fd = f;
	ro = readonly_copy(&arg, sizeof(arg));
	ASSERT_NE(NULL, ro);
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_GET_DEADLINE, ro));
	EXPECT_EQ(ENOENT, errno);
	/* With one, writing it back fails: EFAULT. */
	ASSERT_EQ(0, sync_set_deadline(f, monotonic_ns() + 1000000000ull));
	EXPECT_EQ(-1, ioctl(self->tl, SW_SYNC_GET_DEADLINE, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0ull, ro->deadline_ns);
	munmap(ro, 4096);
	close(f);
}

TEST_F(timeline, unknown_ioctl_enotty)
{
	struct sw_sync_create_fence_data data;
	__u64 wide = 1;
	int f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	memset(&data, 0, sizeof(data));
	EXPECT_EQ(-1, ioctl(self->tl, _IO(SW_SYNC_IOC_MAGIC, 3)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->tl, _IOWR(SW_SYNC_IOC_MAGIC, 3, data), &data));
	EXPECT_EQ(ENOTTY, errno);
	/* A known number with another size or direction is unknown too. */
	EXPECT_EQ(-1, ioctl(self->tl, _IOW(SW_SYNC_IOC_MAGIC, 1, __u64), &wide));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->tl, _IOR(SW_SYNC_IOC_MAGIC, 1, __u32), &wide));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->tl, _IOW(SW_SYNC_IOC_MAGIC, 0, data), &data));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->tl, _IOWR(SW_SYNC_IOC_MAGIC, 0, char[36]), &data));
	EXPECT_EQ(ENOTTY, errno);
	/* The sync_file ioctls are not the timeline's. */
	EXPECT_EQ(-1, ioctl(self->tl, SYNC_IOC_FILE_INFO, &data));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->tl, SYNC_IOC_MERGE, &data));
	EXPECT_EQ(ENOTTY, errno);
	/* Nothing happened: the point is still pending. */
	EXPECT_EQ(0, sync_file_status(f));
	close(f);
}

TEST_F(timeline, sw_sync_ioctls_on_sync_file)
{
	struct sw_sync_create_fence_data data;
	struct sw_sync_get_deadline dl;
	__u32 inc = 1;
	int n, f = sw_fence_create(self->tl, 1);

	ASSERT_LE(0, f);
	n = next_fd();
	memset(&data, 0, sizeof(data));
	memset(&dl, 0, sizeof(dl));
	dl.fence_fd = f;
	EXPECT_EQ(-1, ioctl(f, SW_SYNC_IOC_INC, &inc));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(f, SW_SYNC_IOC_CREATE_FENCE, &data));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(f, SW_SYNC_GET_DEADLINE, &dl));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(n, next_fd());
	EXPECT_EQ(0, sync_file_status(f));
	close(f);
}

TEST_HARNESS_MAIN
