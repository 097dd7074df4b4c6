// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of a C driver (rf_c_consumer.ko) issuing fences through the C API
 * of rust_fence, seen from userspace through sync_file fds, including
 * after the driver was unloaded while the fds were still open.
 *
 * Expects rust_fence.ko and rf_c_consumer.ko loaded; the last test
 * unloads rf_c_consumer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sync_file_util.h"
#include "rf_c_consumer.h"

#define FENCES "/sys/kernel/debug/rf_c_consumer/fences"

FIXTURE(consumer) {
	int dev;
};

FIXTURE_SETUP(consumer)
{
	self->dev = open(FENCES, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", FENCES, strerror(errno));
}

FIXTURE_TEARDOWN(consumer)
{
	close(self->dev);
}

/* A fence RF_C_IOC_ISSUE issued: its sequence number and fd, or -errno. */
struct issued {
	__u64 seqno;
	int fd;
};

static struct issued issue(int dev)
{
	struct rf_c_issue arg = {};
	int fd = ioctl(dev, RF_C_IOC_ISSUE, &arg);

	return (struct issued){ .seqno = arg.seqno, .fd = fd < 0 ? -errno : fd };
}

static int signal_fence(int dev, __u64 seqno, int error)
{
	struct rf_c_signal arg = { .seqno = seqno, .error = error };

	return ioctl(dev, RF_C_IOC_SIGNAL, &arg) ? -errno : 0;
}

TEST_F(consumer, issue_and_signal)
{
	struct sync_fence_info fi;
	struct issued f = issue(self->dev);

	ASSERT_LE(0, f.fd);
	EXPECT_EQ(0, sync_fence_info_of(f.fd, &fi));
	EXPECT_STREQ("rf_c_consumer", fi.driver_name);
	EXPECT_STREQ("c-timeline", fi.obj_name);
	EXPECT_EQ(0, sync_file_wait(f.fd, 0));
	ASSERT_EQ(0, signal_fence(self->dev, f.seqno, 0));
	EXPECT_EQ(1, sync_file_wait(f.fd, 1000));
	EXPECT_EQ(1, sync_fence_info_of(f.fd, &fi));
	EXPECT_TRUE(fi.timestamp_ns != 0);
	close(f.fd);
}

TEST_F(consumer, seqnos_increase)
{
	struct issued a = issue(self->dev), b = issue(self->dev);

	ASSERT_LE(0, a.fd);
	ASSERT_LE(0, b.fd);
	EXPECT_EQ(a.seqno + 1, b.seqno);
	EXPECT_EQ(0, signal_fence(self->dev, a.seqno, 0));
	EXPECT_EQ(0, signal_fence(self->dev, b.seqno, 0));
	close(a.fd);
	close(b.fd);
}

TEST_F(consumer, signal_with_error)
{
	struct sync_fence_info fi;
	struct issued f = issue(self->dev);

	ASSERT_LE(0, f.fd);
	ASSERT_EQ(0, signal_fence(self->dev, f.seqno, -EIO));
	EXPECT_EQ(-EIO, sync_file_status(f.fd));
	EXPECT_EQ(-EIO, sync_fence_info_of(f.fd, &fi));
	close(f.fd);
}

TEST_F(consumer, bad_errno_refused)
{
	struct issued f = issue(self->dev);

	ASSERT_LE(0, f.fd);
	EXPECT_EQ(-EINVAL, signal_fence(self->dev, f.seqno, 5));
	EXPECT_EQ(-EINVAL, signal_fence(self->dev, f.seqno, -5000));
	/* Refused without effect: the fence is still pending. */
	EXPECT_EQ(0, sync_file_status(f.fd));
	EXPECT_EQ(0, signal_fence(self->dev, f.seqno, 0));
	close(f.fd);
}

TEST_F(consumer, second_signal_refused)
{
	struct issued f = issue(self->dev);

	ASSERT_LE(0, f.fd);
	ASSERT_EQ(0, signal_fence(self->dev, f.seqno, 0));
	/* The driver forgot it; rust_fence would refuse it too (see the module's init). */
	EXPECT_EQ(-ENOENT, signal_fence(self->dev, f.seqno, 0));
	close(f.fd);
}

/*
 * An argument the driver cannot write back: EFAULT, and no fd left behind
 * for a result the caller never learned of (the fd is installed last); the
 * fence it issued was cancelled, not left pending until the unload.
 */
TEST_F(consumer, unwritable_argument_leaves_no_fd)
{
	struct rf_c_issue *ro = mmap(NULL, getpagesize(), PROT_READ,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int lowest_free = dup(0);
	struct issued next;
	__u64 s;

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_LE(0, lowest_free);
	close(lowest_free);
	EXPECT_EQ(-1, ioctl(self->dev, RF_C_IOC_ISSUE, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, fcntl(lowest_free, F_GETFD)) TH_LOG("fd %d left open", lowest_free);
	/* The failed call took a sequence number below this one's. */
	next = issue(self->dev);
	ASSERT_LE(0, next.fd);
	ASSERT_LT(0ull, next.seqno);
	for (s = 1; s < next.seqno; s++)
		EXPECT_EQ(-ENOENT, signal_fence(self->dev, s, 0)) TH_LOG("fence %llu pending",
									(unsigned long long)s);
	EXPECT_EQ(0, signal_fence(self->dev, next.seqno, 0));
	close(next.fd);
	munmap(ro, getpagesize());
}

/* Last: unloads the driver while userspace still holds its fences. */
TEST_F(consumer, unload_with_fences_held)
{
	struct sync_fence_info fi;
	struct issued done = issue(self->dev), pending = issue(self->dev);

	ASSERT_LE(0, done.fd);
	ASSERT_LE(0, pending.fd);
	ASSERT_EQ(0, signal_fence(self->dev, done.seqno, 0));
	close(self->dev);
	self->dev = -1;

	ASSERT_EQ(0, syscall(SYS_delete_module, "rf_c_consumer", O_NONBLOCK))
		TH_LOG("rmmod rf_c_consumer: %s", strerror(errno));

	/* The signalled fence detached: the core reports generic names. */
	EXPECT_EQ(1, sync_fence_info_of(done.fd, &fi));
	EXPECT_STREQ("detached-driver", fi.driver_name);
	EXPECT_STREQ("signaled-timeline", fi.obj_name);
	/* The pending one was cancelled by the timeline's destruction. */
	EXPECT_EQ(1, sync_file_wait(pending.fd, 1000));
	EXPECT_EQ(-ENODEV, sync_fence_info_of(pending.fd, &fi));
	EXPECT_STREQ("detached-driver", fi.driver_name);
	close(done.fd);
	close(pending.fd);
}

TEST_HARNESS_MAIN
