// SPDX-License-Identifier: GPL-2.0
/*
 * The sw_sync ABI: what a timeline file (<debugfs>/sync/sw_sync, the C
 * driver drivers/dma-buf/sw_sync.c) does for each use and misuse, seen from
 * userspace. A provider is ABI-compatible if this passes against it too.
 *
 * The file under test is $SW_SYNC_PATH (default /sys/kernel/debug/sync/
 * sw_sync). Each test opens its own timeline (the fixture), and every fd
 * a test makes through KEEP() (POINT(), TIMELINE(), MERGE()) is checked
 * and closed by the fixture, so that a test states only what it checks.
 * How points of one timeline signal as it advances, across the 32-bit
 * wrap too, is one table (the points fixture).
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

#define NSEC_PER_SEC	1000000000ll

/* The fds a test made, closed at teardown. */
struct kept_fds {
	int fd[16];
	int n;
};

FIXTURE(timeline) {
	int tl;
	char comm[16];
	struct kept_fds kept;
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
	while (self->kept.n > 0)
		close(self->kept.fd[--self->kept.n]);
	if (self->tl >= 0)
		close(self->tl);
}

/* @fd, the result of @what: the test fails unless it is an fd, which is closed at teardown. */
static int fd_keep(struct __test_metadata *_metadata, struct kept_fds *kept, int fd,
		   const char *what)
{
	ASSERT_LE(0, fd) TH_LOG("%s: %s", what, strerror(-fd));
	ASSERT_GT((int)ARRAY_SIZE(kept->fd), kept->n);
	kept->fd[kept->n++] = fd;
	return fd;
}

/* Closes a kept fd before teardown. */
static void fd_close(struct kept_fds *kept, int fd)
{
	int i;

	for (i = 0; i < kept->n; i++) {
		if (kept->fd[i] == fd) {
			kept->fd[i] = kept->fd[--kept->n];
			break;
		}
	}
	close(fd);
}

/* In a TEST_F(timeline, ...): new fds of each kind, checked and kept. */
#define KEEP(fd)		fd_keep(_metadata, &self->kept, fd, #fd)
#define POINT(tl, value)	KEEP_AS(sw_fence_create(tl, value), "point " #value)
#define TIMELINE()		KEEP_AS(sw_timeline_open(), "open timeline")
#define MERGE(name, a, b)	KEEP_AS(sync_merge_fds(name, a, b), "merge " name)
#define KEEP_AS(fd, what)	fd_keep(_metadata, &self->kept, fd, what)

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

/* The fence context of pending point @fd of seqno @seqno, read from its name. */
static unsigned long long pending_context(struct __test_metadata *_metadata,
					  const char *comm, int fd, __u32 seqno)
{
	unsigned long long ctx = 0;
	char name[32];

	ASSERT_EQ(0, sync_file_name(fd, name));
	ASSERT_EQ(0, parse_pending_name(name, comm, seqno, &ctx)) TH_LOG("name '%s'", name);
	return ctx;
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

/* @cmd on @fd with each user pointer to nothing: EFAULT, and no fd left behind. */
static void expect_efault(struct __test_metadata *_metadata, int fd, unsigned long cmd)
{
	void *bad[] = { NULL, (void *)1, unmapped_page() };
	int n = next_fd();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		void *arg = bad[i];

		EXPECT_EQ(-EFAULT, ioctl_err(fd, cmd, arg)) TH_LOG("ioctl %#lx, %p", cmd, arg);
	}
	EXPECT_EQ(n, next_fd());
}

/* Each of @cmds on @fd: ENOTTY, and no fd left behind. */
static void expect_enotty(struct __test_metadata *_metadata, int fd,
			  const unsigned long *cmds, size_t ncmds)
{
	/* Taken as a point of value 1 or an INC of 1, were it read. */
	__u32 arg[16] = { 1 };
	int n = next_fd();
	size_t i;

	for (i = 0; i < ncmds; i++)
		EXPECT_EQ(-ENOTTY, ioctl_err(fd, cmds[i], arg)) TH_LOG("ioctl %#lx", cmds[i]);
	EXPECT_EQ(n, next_fd());
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
	char name[32];

	memset(&data, 0, sizeof(data));
	data.value = 1;
	snprintf(data.name, sizeof(data.name), "abi-fence");
	data.fence = -1;
	ASSERT_EQ(0, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, &data));
	KEEP(data.fence);
	/* The struct is written back with only the fd changed. */
	EXPECT_EQ(1u, data.value);
	EXPECT_STREQ("abi-fence", data.name);
	EXPECT_EQ(FD_CLOEXEC, fcntl(data.fence, F_GETFD) & FD_CLOEXEC);

	EXPECT_EQ(0, sync_file_status(data.fence));
	EXPECT_EQ(1, sync_num_fences(data.fence));
	EXPECT_EQ(0, sync_fence_info_of(data.fence, &fi));
	EXPECT_STREQ(sw_sync_driver(), fi.driver_name);
	/* The timeline is named after the task that opened it. */
	EXPECT_STREQ(self->comm, fi.obj_name);
	EXPECT_EQ(0u, fi.flags);
	EXPECT_EQ(0ull, fi.timestamp_ns);

	/* sw_sync ignores the name passed: the core makes one from the fence. */
	pending_context(_metadata, self->comm, data.fence, 1);
	ASSERT_EQ(0, sync_file_name(data.fence, name));
	EXPECT_EQ(NULL, strstr(name, "abi-fence"));
}

TEST_F(timeline, name_not_nul_terminated)
{
	struct sw_sync_create_fence_data data;
	char expect[32];

	memset(&data, 0, sizeof(data));
	memset(data.name, 'a', sizeof(data.name));
	memset(expect, 'a', sizeof(expect));
	data.value = 1;
	data.fence = -1;
	/* Accepted: the name is not read at all. */
	ASSERT_EQ(0, ioctl(self->tl, SW_SYNC_IOC_CREATE_FENCE, &data));
	KEEP(data.fence);
	/* Written back as it came, not truncated. */
	EXPECT_EQ(0, memcmp(expect, data.name, sizeof(expect)));
	EXPECT_EQ(1u, data.value);
	pending_context(_metadata, self->comm, data.fence, 1);
}

TEST_F(timeline, timeline_named_after_opener)
{
	static const struct {
		const char *task, *timeline;
	} names[] = {
		{ "rf-abi-opener", "rf-abi-opener" },
		/* A task name is at most 15 characters: the timeline gets those. */
		{ "rf-abi-long-task-name", "rf-abi-long-tas" },
	};
	struct sync_fence_info fi;
	int tl[ARRAY_SIZE(names)];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		ASSERT_EQ(0, prctl(PR_SET_NAME, names[i].task));
		tl[i] = TIMELINE();
	}
	ASSERT_EQ(0, prctl(PR_SET_NAME, "rf-abi-creator"));

	/* Named when opened, not when the fence is created. */
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		EXPECT_EQ(0, sync_fence_info_of(POINT(tl[i], 1), &fi));
		EXPECT_STREQ(names[i].timeline, fi.obj_name);
	}
	EXPECT_EQ(0, sync_fence_info_of(POINT(self->tl, 1), &fi));
	EXPECT_STREQ(self->comm, fi.obj_name);
}

TEST_F(timeline, poll_pending_and_signalled)
{
	struct pollfd p = { .fd = POINT(self->tl, 1), .events = POLLIN | POLLOUT | POLLPRI };

	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(0, poll(&p, 1, 50));
	EXPECT_EQ(0, p.revents);

	ASSERT_EQ(0, sw_inc(self->tl, 1));
	/* A signalled sync_file is readable, only that, and stays so. */
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN, p.revents);
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN, p.revents);
}

TEST_F(timeline, poll_wakes_on_inc)
{
	struct delayed_op op = { .tl = self->tl, .inc = 1 };
	int f = POINT(self->tl, 1);
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, delayed_op_fn, &op));
	EXPECT_EQ(1, sync_file_wait(f, 5000));
	pthread_join(thread, NULL);
	EXPECT_EQ(1, sync_file_status(f));
}

TEST_F(timeline, signal_timestamp)
{
	int f = POINT(self->tl, 1);
	struct sync_fence_info fi;
	__u64 t0, t1;

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
}

TEST_F(timeline, same_value_twice)
{
	int a = POINT(self->tl, 2);
	int b = POINT(self->tl, 2);
	int m = MERGE("same", a, b);

	EXPECT_NE(a, b);
	EXPECT_EQ(1, sync_num_fences(m));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(0, sync_file_status(a));
	EXPECT_EQ(0, sync_file_status(b));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(a));
	EXPECT_EQ(1, sync_file_status(b));
	EXPECT_EQ(1, sync_file_wait(m, 1000));
}

TEST_F(timeline, timelines_independent)
{
	int tl2 = TIMELINE();
	int a = POINT(self->tl, 1);
	int a2 = POINT(self->tl, 10);
	int b = POINT(tl2, 1);
	int c;

	/* Each timeline is its own fence context. */
	EXPECT_EQ(pending_context(_metadata, self->comm, a, 1),
		  pending_context(_metadata, self->comm, a2, 10));
	EXPECT_NE(pending_context(_metadata, self->comm, a, 1),
		  pending_context(_metadata, self->comm, b, 1));

	/* Each has its own value. */
	ASSERT_EQ(0, sw_inc(self->tl, 5));
	EXPECT_EQ(1, sync_file_status(a));
	EXPECT_EQ(0, sync_file_status(b));
	c = POINT(tl2, 3);
	EXPECT_EQ(0, sync_file_status(c));
	EXPECT_EQ(1, sync_file_status(POINT(self->tl, 3)));
	ASSERT_EQ(0, sw_inc(tl2, 1));
	EXPECT_EQ(1, sync_file_status(b));
	EXPECT_EQ(0, sync_file_status(c));

	/* Closing one leaves the other's points alone. */
	fd_close(&self->kept, tl2);
	EXPECT_EQ(-ENOENT, sync_file_status(c));
	EXPECT_EQ(0, sync_file_status(a2));
	ASSERT_EQ(0, sw_inc(self->tl, 5));
	EXPECT_EQ(1, sync_file_status(a2));
}

TEST_F(timeline, merge_same_timeline)
{
	int a = POINT(self->tl, 1);
	int m = MERGE("abi-merged", a, POINT(self->tl, 2));
	struct sync_fence_info fi;
	char name[32];

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
}

TEST_F(timeline, merge_two_timelines)
{
	int tl2 = TIMELINE();
	int m = MERGE("abi-two", POINT(self->tl, 1), POINT(tl2, 1));
	struct sync_fence_info fi[2];
	struct sync_file_info info;

	EXPECT_EQ(2, sync_num_fences(m));
	EXPECT_EQ(0, sync_file_status(m));
	ASSERT_EQ(0, sync_file_get_info(m, &info, fi, 2));
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
}

TEST_F(timeline, merge_propagates_close_error)
{
	int tl2 = TIMELINE();
	int b = POINT(tl2, 1);
	int m = MERGE("abi-err", POINT(self->tl, 1), b);

	/* Polling enables signalling: the merged fence now follows both. */
	EXPECT_EQ(0, sync_file_wait(m, 0));
	fd_close(&self->kept, tl2);
	EXPECT_EQ(-ENOENT, sync_file_status(b));
	EXPECT_EQ(0, sync_file_wait(m, 50));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_wait(m, 1000));
	EXPECT_EQ(-ENOENT, sync_file_status(m));
}

/*
 * A merge keeps the later of two points of one timeline, and "later" is
 * modulo 2^32 as for sw_sync's own comparisons: across the wrap, point 1
 * comes after 0xffffffff.
 */
TEST_F(timeline, merge_across_wrap)
{
	int a, m;

	ASSERT_EQ(0, sw_inc(self->tl, 0x7fffffff));
	ASSERT_EQ(0, sw_inc(self->tl, 0x7fffffff));
	a = POINT(self->tl, 0xffffffff);
	m = MERGE("wrap", a, POINT(self->tl, 1));
	EXPECT_EQ(1, sync_num_fences(m));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(a));
	/* The merge kept point 1, which is still pending. */
	EXPECT_EQ(0, sync_file_status(m));
	ASSERT_EQ(0, sw_inc(self->tl, 2));
	EXPECT_EQ(1, sync_file_status(m));
}

TEST_F(timeline, merge_bad_args)
{
	int a = POINT(self->tl, 1);
	struct sync_merge_data data;
	int n = next_fd();

	EXPECT_EQ(-ENOENT, sync_merge_fds("x", a, -1));
	/* The timeline fd is not a sync_file. */
	EXPECT_EQ(-ENOENT, sync_merge_fds("x", a, self->tl));
	memset(&data, 0, sizeof(data));
	data.fd2 = a;
	data.flags = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(a, SYNC_IOC_MERGE, &data));
	data.flags = 0;
	data.pad = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(a, SYNC_IOC_MERGE, &data));
	expect_efault(_metadata, a, SYNC_IOC_MERGE);
	/* No fd was left behind by the failures. */
	EXPECT_EQ(n, next_fd());
}

TEST_F(timeline, merge_name_truncated)
{
	struct sync_merge_data data;
	char expect[32], name[32];

	memset(&data, 0, sizeof(data));
	memset(data.name, 'b', sizeof(data.name));
	data.fd2 = POINT(self->tl, 1);
	ASSERT_EQ(0, ioctl(data.fd2, SYNC_IOC_MERGE, &data));
	KEEP(data.fence);
	/* The last byte is made a NUL, also in the struct written back. */
	memset(expect, 'b', sizeof(expect));
	expect[31] = '\0';
	EXPECT_EQ(0, memcmp(expect, data.name, sizeof(expect)));
	EXPECT_EQ(0, sync_file_name(data.fence, name));
	EXPECT_STREQ(expect, name);
}

/* The ioctl's handling of num_fences, hence raw ioctl() calls. */
TEST_F(timeline, file_info_num_fences)
{
	int m = MERGE("abi-info", POINT(self->tl, 1), POINT(TIMELINE(), 1));
	struct sync_fence_info fi[4], sentinel;
	struct sync_file_info info;

	/* num_fences 0: only the count; the array is not touched. */
	memset(&info, 0, sizeof(info));
	info.sync_fence_info = (uintptr_t)unmapped_page();
	ASSERT_EQ(0, ioctl(m, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(2u, info.num_fences);

	/* Too small for the fences: EINVAL. */
	memset(&info, 0, sizeof(info));
	info.num_fences = 1;
	info.sync_fence_info = (uintptr_t)fi;
	EXPECT_EQ(-EINVAL, ioctl_err(m, SYNC_IOC_FILE_INFO, &info));

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
}

TEST_F(timeline, file_info_bad_args)
{
	int f = POINT(self->tl, 1);
	struct sync_fence_info fi;
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	info.flags = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(f, SYNC_IOC_FILE_INFO, &info));
	memset(&info, 0, sizeof(info));
	info.pad = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(f, SYNC_IOC_FILE_INFO, &info));
	memset(&info, 0, sizeof(info));
	info.num_fences = 1;
	info.sync_fence_info = (uintptr_t)unmapped_page();
	EXPECT_EQ(-EFAULT, ioctl_err(f, SYNC_IOC_FILE_INFO, &info));
	expect_efault(_metadata, f, SYNC_IOC_FILE_INFO);
	EXPECT_EQ(0, sync_fence_info_of(f, &fi));
}

TEST_F(timeline, get_deadline_unset)
{
	int f = POINT(self->tl, 1);

	EXPECT_EQ(-ENOENT, sw_deadline(self->tl, f));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(-ENOENT, sw_deadline(self->tl, f));
	/* Created signalled. */
	EXPECT_EQ(-ENOENT, sw_deadline(self->tl, POINT(self->tl, 1)));
}

TEST_F(timeline, get_deadline_nonzero_in)
{
	const __s64 t = monotonic_ns() + NSEC_PER_SEC;
	struct sw_sync_get_deadline arg;
	int f = POINT(self->tl, 1);

	ASSERT_EQ(0, sync_set_deadline(f, t));
	memset(&arg, 0, sizeof(arg));
	arg.fence_fd = f;
	arg.deadline_ns = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(self->tl, SW_SYNC_GET_DEADLINE, &arg));
	arg.deadline_ns = 0;
	arg.pad = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(self->tl, SW_SYNC_GET_DEADLINE, &arg));
	/* Checked before the fd: EINVAL even without a deadline. */
	arg.fence_fd = -1;
	EXPECT_EQ(-EINVAL, ioctl_err(self->tl, SW_SYNC_GET_DEADLINE, &arg));
	arg.fence_fd = f;
	arg.pad = 0;
	ASSERT_EQ(0, ioctl(self->tl, SW_SYNC_GET_DEADLINE, &arg));
	EXPECT_EQ(t, (__s64)arg.deadline_ns);
	EXPECT_EQ(0u, arg.pad);
	EXPECT_EQ(f, arg.fence_fd);
}

TEST_F(timeline, set_deadline_then_get)
{
	const __s64 t = monotonic_ns() + NSEC_PER_SEC;
	int f = POINT(self->tl, 1);
	struct sync_set_deadline sd;

	ASSERT_EQ(0, sync_set_deadline(f, t));
	EXPECT_EQ(t, sw_deadline(self->tl, f));
	/* The earliest deadline wins. */
	ASSERT_EQ(0, sync_set_deadline(f, t + 1000));
	EXPECT_EQ(t, sw_deadline(self->tl, f));
	ASSERT_EQ(0, sync_set_deadline(f, t - 1000));
	EXPECT_EQ(t - 1000, sw_deadline(self->tl, f));
	/* SET_DEADLINE with pad set: EINVAL, nothing set. */
	memset(&sd, 0, sizeof(sd));
	sd.deadline_ns = t - 5000;
	sd.pad = 1;
	EXPECT_EQ(-EINVAL, ioctl_err(f, SYNC_IOC_SET_DEADLINE, &sd));
	EXPECT_EQ(t - 1000, sw_deadline(self->tl, f));
	EXPECT_EQ(0, sync_file_status(f));
}

TEST_F(timeline, deadline_after_signal)
{
	const __s64 t = monotonic_ns() + NSEC_PER_SEC;
	int f1 = POINT(self->tl, 1);
	int f2 = POINT(self->tl, 2);

	ASSERT_EQ(0, sync_set_deadline(f1, t));
	ASSERT_EQ(0, sw_inc(self->tl, 2));
	/* A deadline set before the signal is still reported. */
	EXPECT_EQ(t, sw_deadline(self->tl, f1));
	/* After the signal, SET_DEADLINE succeeds without effect. */
	EXPECT_EQ(0, sync_set_deadline(f2, t));
	EXPECT_EQ(-ENOENT, sw_deadline(self->tl, f2));
	EXPECT_EQ(0, sync_set_deadline(f1, t - 1000));
	EXPECT_EQ(t, sw_deadline(self->tl, f1));
}

TEST_F(timeline, deadline_through_merge)
{
	const __s64 t = monotonic_ns() + NSEC_PER_SEC;
	int tl2 = TIMELINE();
	int a = POINT(self->tl, 1);
	int b = POINT(tl2, 1);

	/* Set on the merged fence, it reaches both points. */
	ASSERT_EQ(0, sync_set_deadline(MERGE("abi-dl", a, b), t));
	EXPECT_EQ(t, sw_deadline(self->tl, a));
	EXPECT_EQ(t, sw_deadline(tl2, b));
}

TEST_F(timeline, get_deadline_not_sw_sync_fence)
{
	int m = MERGE("abi-array", POINT(self->tl, 1), POINT(TIMELINE(), 1));
	int null = KEEP(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int s;

	ASSERT_EQ(0, sync_set_deadline(m, monotonic_ns() + NSEC_PER_SEC));
	EXPECT_EQ(-EINVAL, sw_deadline(self->tl, -1));
	EXPECT_EQ(-EINVAL, sw_deadline(self->tl, 1000));
	EXPECT_EQ(-EINVAL, sw_deadline(self->tl, self->tl));
	EXPECT_EQ(-EINVAL, sw_deadline(self->tl, null));
	/* A sync_file whose fence is not a sw_sync point: an array. */
	EXPECT_EQ(-EINVAL, sw_deadline(self->tl, m));
	/* And the core's stub, which merging signalled fences gives. */
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	s = MERGE("abi-stub", POINT(self->tl, 1), POINT(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(s));
	EXPECT_EQ(-EINVAL, sw_deadline(self->tl, s));
}

TEST_F(timeline, get_deadline_fence_of_other_timeline)
{
	const __s64 t = monotonic_ns() + NSEC_PER_SEC;
	int b = POINT(TIMELINE(), 1);

	EXPECT_EQ(-ENOENT, sw_deadline(self->tl, b));
	ASSERT_EQ(0, sync_set_deadline(b, t));
	/* Any timeline fd reads the deadline of any sw_sync point. */
	EXPECT_EQ(t, sw_deadline(self->tl, b));
}

TEST_F(timeline, close_signals_pending_with_enoent)
{
	int f1 = POINT(self->tl, 1);
	int f2 = POINT(self->tl, 2);
	int f3 = POINT(self->tl, 3);
	struct sync_fence_info fi;
	__u64 t0;

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
}

TEST_F(timeline, close_wakes_poller)
{
	struct delayed_op op = { .tl = self->tl, .close = 1 };
	int f = POINT(self->tl, 1);
	pthread_t thread;

	self->tl = -1;
	ASSERT_EQ(0, pthread_create(&thread, NULL, delayed_op_fn, &op));
	EXPECT_EQ(1, sync_file_wait(f, 5000));
	pthread_join(thread, NULL);
	EXPECT_EQ(-ENOENT, sync_file_status(f));
}

TEST_F(timeline, create_fence_efault)
{
	int n = next_fd();

	expect_efault(_metadata, self->tl, SW_SYNC_IOC_CREATE_FENCE);
	/* The fd reserved for the fence was given back. */
	EXPECT_EQ(n, POINT(self->tl, 1));
	EXPECT_EQ(0, sync_file_status(n));
}

TEST_F(timeline, create_fence_readonly_arg)
{
	struct sw_sync_create_fence_data data, *ro;
	int n;

	memset(&data, 0, sizeof(data));
	data.value = 1;
	data.fence = -1;
	ro = readonly_copy(&data, sizeof(data));
	ASSERT_NE(NULL, ro);
	n = next_fd();
	/* Read, the point made, but the fd cannot be written back: EFAULT. */
	EXPECT_EQ(-EFAULT, ioctl_err(self->tl, SW_SYNC_IOC_CREATE_FENCE, ro));
	EXPECT_EQ(-1, ro->fence);
	EXPECT_EQ(n, next_fd());
	munmap(ro, 4096);
	/* The timeline still works, with the same value. */
	ASSERT_EQ(n, POINT(self->tl, 1));
	EXPECT_EQ(0, sync_file_status(n));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(n));
}

TEST_F(timeline, inc_efault)
{
	int f = POINT(self->tl, 1);

	expect_efault(_metadata, self->tl, SW_SYNC_IOC_INC);
	/* No increment happened. */
	EXPECT_EQ(0, sync_file_status(f));
	ASSERT_EQ(0, sw_inc(self->tl, 1));
	EXPECT_EQ(1, sync_file_status(f));
}

TEST_F(timeline, get_deadline_efault)
{
	struct sw_sync_get_deadline arg, *ro;
	int f = POINT(self->tl, 1);

	expect_efault(_metadata, self->tl, SW_SYNC_GET_DEADLINE);

	/* Read-only: without a deadline nothing is written, ENOENT. */
	memset(&arg, 0, sizeof(arg));
	arg.fence_fd = f;
	ro = readonly_copy(&arg, sizeof(arg));
	ASSERT_NE(NULL, ro);
	EXPECT_EQ(-ENOENT, ioctl_err(self->tl, SW_SYNC_GET_DEADLINE, ro));
	/* With one, writing it back fails: EFAULT. */
	ASSERT_EQ(0, sync_set_deadline(f, monotonic_ns() + NSEC_PER_SEC));
	EXPECT_EQ(-EFAULT, ioctl_err(self->tl, SW_SYNC_GET_DEADLINE, ro));
	EXPECT_EQ(0ull, ro->deadline_ns);
	munmap(ro, 4096);
}

TEST_F(timeline, unknown_ioctl_enotty)
{
	static const unsigned long cmds[] = {
		_IO(SW_SYNC_IOC_MAGIC, 3),
		_IOWR(SW_SYNC_IOC_MAGIC, 3, struct sw_sync_create_fence_data),
		/* A known number with another size or direction is unknown too. */
		_IOW(SW_SYNC_IOC_MAGIC, 1, __u64),
		_IOR(SW_SYNC_IOC_MAGIC, 1, __u32),
		_IOW(SW_SYNC_IOC_MAGIC, 0, struct sw_sync_create_fence_data),
		_IOWR(SW_SYNC_IOC_MAGIC, 0, char[36]),
		/* The sync_file ioctls are not the timeline's. */
		SYNC_IOC_FILE_INFO,
		SYNC_IOC_MERGE,
	};
	int f = POINT(self->tl, 1);

	expect_enotty(_metadata, self->tl, cmds, ARRAY_SIZE(cmds));
	/* Nothing happened: the point is still pending. */
	EXPECT_EQ(0, sync_file_status(f));
}

TEST_F(timeline, sw_sync_ioctls_on_sync_file)
{
	static const unsigned long cmds[] = {
		SW_SYNC_IOC_INC, SW_SYNC_IOC_CREATE_FENCE, SW_SYNC_GET_DEADLINE,
	};
	int f = POINT(self->tl, 1);

	expect_enotty(_metadata, f, cmds, ARRAY_SIZE(cmds));
	EXPECT_EQ(0, sync_file_status(f));
}

/*
 * How the points of one timeline signal as it advances, from a table: the
 * INCs done in turn, and for each point its seqno, how many INCs are done
 * when it is created and after how many it is signalled (as many: created
 * signalled). Each point is checked after each step: its status, the
 * timestamp (0 while pending, else CLOCK_MONOTONIC during the step that
 * signalled it) and poll() for a signalled one. Values are compared modulo
 * 2^32, and an INC above INT_MAX is done in steps of at most INT_MAX.
 */
#define END	(1ull << 32)	/* ends a list of INCs or points */
#define NEVER	99		/* not signalled in the test */

struct point {
	__u64 seqno;	/* END ends the list */
	int made;	/* INCs done when it is created */
	int signals;	/* INCs done when it is signalled (made: at creation), or NEVER */
};

FIXTURE(points) {
	int tl;
	int fd[8];
};

FIXTURE_VARIANT(points) {
	__u64 incs[8];
	struct point points[8];
};

FIXTURE_SETUP(points)
{
	memset(self->fd, -1, sizeof(self->fd));
	self->tl = sw_timeline_open();
	ASSERT_LE(0, self->tl) TH_LOG("open %s: %s", sw_sync_path(), strerror(-self->tl));
}

FIXTURE_TEARDOWN(points)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(self->fd); i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	if (self->tl >= 0)
		close(self->tl);
}

/* Points 1, 2, 3; INC 0 is accepted and changes nothing. */
FIXTURE_VARIANT_ADD(points, inc_signals_reached_points) {
	.incs = { 2, 0, 1, END },
	.points = { { 1, 0, 1 }, { 2, 0, 1 }, { 3, 0, 3 }, { END } },
};

/* A point at or before the timeline's value is created signalled. */
FIXTURE_VARIANT_ADD(points, point_not_after_value_is_signalled) {
	.incs = { 5, 1, END },
	.points = { { 3, 1, 1 }, { 5, 1, 1 }, { 6, 1, 2 }, { END } },
};

/* From 0xfffffffe, in order across the wrap; 0x7fffffff is behind. */
FIXTURE_VARIANT_ADD(points, wrap_32bit) {
	.incs = { 0x7fffffff, 0x7fffffff, 1, 1, 1, END },
	.points = {
		{ 0xffffffff, 2, 3 }, { 0, 2, 4 }, { 1, 2, 5 },
		{ 0xfffffffe, 2, 2 }, { 0x7fffffff, 2, 2 }, { END },
	},
};

/* 2^31 ahead of the value counts as behind it: signalled. */
FIXTURE_VARIANT_ADD(points, point_half_range_ahead) {
	.incs = { 0x7fffffff, END },
	.points = { { 0x80000000, 0, 0 }, { 0x7fffffff, 0, 1 }, { 0, 0, 0 }, { END } },
};

/*
 * INC 0xffffffff signals points 1 and 0x7fffffff although it is -1 modulo
 * 2^32; INC 0x80000000 (INT_MAX + 1) takes the value to 0x80000000.
 */
FIXTURE_VARIANT_ADD(points, inc_huge_value) {
	.incs = { 0xffffffff, 1, 0x80000000, END },
	.points = {
		{ 1, 0, 1 }, { 0x7fffffff, 0, 1 },
		{ 0xffffffff, 1, 1 }, { 0, 1, 2 }, { 0x7ffffffe, 1, 3 },
		{ 0x80000000, 3, 3 }, { 0x80000001, 3, NEVER }, { END },
	},
};

/* Point @pt after @step INCs: @status, and if signalled, when and poll(). */
static void expect_point(struct __test_metadata *_metadata, const struct point *pt, int step,
			 int fd, int status, __u64 since)
{
	struct sync_fence_info fi;

	EXPECT_EQ(status, sync_fence_info_of(fd, &fi))
		TH_LOG("point %#llx after %d INCs", pt->seqno, step);
	if (!status) {
		EXPECT_EQ(0ull, fi.timestamp_ns);
		return;
	}
	EXPECT_LE(since, fi.timestamp_ns);
	EXPECT_GE(monotonic_ns(), fi.timestamp_ns);
	EXPECT_EQ(1, sync_file_wait(fd, 0));
}

TEST_F(points, signalled_when_reached)
{
	const struct point *pts = variant->points;
	__u64 since[ARRAY_SIZE(variant->points)], t;
	int step, i;

	for (step = 0; ; step++) {
		t = monotonic_ns();
		for (i = 0; pts[i].seqno != END; i++) {
			if (pts[i].made != step)
				continue;
			since[i] = t;
			self->fd[i] = sw_fence_create(self->tl, pts[i].seqno);
			ASSERT_LE(0, self->fd[i]) TH_LOG("point %#llx", pts[i].seqno);
		}
		for (i = 0; pts[i].seqno != END; i++)
			if (pts[i].made <= step)
				expect_point(_metadata, &pts[i], step, self->fd[i],
					     pts[i].signals <= step, since[i]);
		if (variant->incs[step] == END)
			break;
		/* The time before the step that signals a point. */
		t = monotonic_ns();
		for (i = 0; pts[i].seqno != END; i++)
			if (pts[i].made <= step && pts[i].signals > step)
				since[i] = t;
		ASSERT_EQ(0, sw_inc(self->tl, variant->incs[step]));
	}
}

TEST_HARNESS_MAIN
