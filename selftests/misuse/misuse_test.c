// SPDX-License-Identifier: GPL-2.0
/*
 * Misuse of rust_fence in safe Rust code cannot leave code or memory of an
 * unloaded module reachable.
 *
 * Each test loads rf_misuse.ko with one scenario (see rf_misuse.rs) with
 * finit_module(), so that the module's init and exit run in this process
 * and can hand it sync_file fds, unloads it with delete_module(), and
 * checks what the kernel did: refused the unload while its code was still
 * reachable, or cancelled and detached what was left behind. The kernel
 * log is checked for splats by the host after the run.
 *
 * Needs rust_fence.ko loaded, rf_misuse.ko in $RF_MODDIR and the kernel's
 * C sw_sync.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sync_file_util.h"
#include "sw_sync_abi.h"

enum scenario {
	LEAK_CALLBACK = 1,
	OUTLIVE_REGISTRATION = 2,
	PINNED_AFTER_REGISTRATION = 3,
	CHAINED_FREE = 4,
	SLEEPING_DROP = 5,
	LEAK_REGISTRATION = 6,
	DROP_UNDER_LOCK_IN_EXIT = 7,
	FAIL_INIT_AFTER_REGISTRATION = 8,
	LEAK_CALLBACK_THEN_FAIL = 9,
	PINNED_FENCE_THEN_FAIL = 10,
};

/* The fd that the module's init gets when it installs one in this process. */
static int init_fd = -1;

static int misuse_load(enum scenario scenario, int fence_fd)
{
	const char *dir = getenv("RF_MODDIR");
	char path[PATH_MAX], params[64];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/rf_misuse.ko", dir ? dir : "/lib/modules-rf");
	snprintf(params, sizeof(params), "scenario=%d fence_fd=%d", scenario, fence_fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	init_fd = next_fd();
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int misuse_unload(void)
{
	return syscall(SYS_delete_module, "rf_misuse", O_NONBLOCK) ? -errno : 0;
}

/* Unloads, retrying for up to 5 s while the module is still in use. */
static int misuse_unload_within_5s(void)
{
	int i, ret = -EWOULDBLOCK;

	for (i = 0; i < 50 && ret == -EWOULDBLOCK; i++) {
		ret = misuse_unload();
		if (ret == -EWOULDBLOCK)
			usleep(100 * 1000);
	}
	return ret;
}

/* The records read since the mark, so that every check sees all of them. */
static char kmsg_log[1 << 16];
static size_t kmsg_len;

/* The kernel log from a mark on, through /dev/kmsg. */
static int kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	kmsg_len = 0;
	kmsg_log[0] = '\0';
	return fd;
}

/* Whether the kernel log since the mark has @text. */
static int kmsg_has(int kmsg, const char *text)
{
	char record[2048];
	ssize_t n;

	while ((n = read(kmsg, record, sizeof(record) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0 || kmsg_len + n >= sizeof(kmsg_log))
			continue;
		memcpy(kmsg_log + kmsg_len, record, n);
		kmsg_len += n;
		kmsg_log[kmsg_len] = '\0';
	}
	return strstr(kmsg_log, text) != NULL;
}

FIXTURE(misuse) {
	int kmsg;
};

FIXTURE_SETUP(misuse)
{
	self->kmsg = kmsg_mark();
	ASSERT_LE(0, self->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
}

FIXTURE_TEARDOWN(misuse)
{
	/* Never leave the module loaded for the next test. */
	misuse_unload_within_5s();
	close(self->kmsg);
	/* A late splat shows up in this test's part of the log. */
	sleep(1);
}

/*
 * rf_misuse reports timeline data dropped after its exit (rust_fence's
 * module notifier waits for the frees of timelines dropped in the exit,
 * after the registration), and, as an error, timeline data dropped once
 * the kernel began to free the module: code of the module run where,
 * without the wait for the RCU grace period of free_module(), its memory
 * would already be gone.
 */
#define AFTER_EXIT "dropped after the module's exit"
#define WHILE_FREED "dropped while the module was being freed"

/*
 * A leaked callback registration keeps the module whose code the fence
 * would call loaded until the callback ran.
 */
TEST_F(misuse, leaked_callback_pins_its_module)
{
	int tl = sw_timeline_open();
	int fence;

	ASSERT_LE(0, tl) TH_LOG("%s: %s", sw_sync_path(), strerror(-tl));
	fence = sw_fence_create(tl, 1);
	ASSERT_LE(0, fence);
	ASSERT_EQ(0, misuse_load(LEAK_CALLBACK, fence));
	EXPECT_EQ(-EWOULDBLOCK, misuse_unload())
		TH_LOG("the module unloaded while the fence could still call it");
	ASSERT_EQ(0, sw_inc(tl, 1));
	EXPECT_TRUE(kmsg_has(self->kmsg, "leaked callback ran"));
	EXPECT_EQ(0, misuse_unload());
	close(fence);
	close(tl);
}

/*
 * A timeline kept in a field dropped after the provider registration:
 * issuing from it gives a cancelled, detached fence, a new timeline is
 * refused, and freeing the timeline late runs no code of the gone module.
 */
TEST_F(misuse, timeline_outliving_its_registration)
{
	struct sync_fence_info info;
	int fd;

	ASSERT_EQ(0, misuse_load(OUTLIVE_REGISTRATION, -1));
	fd = next_fd();
	ASSERT_EQ(0, misuse_unload());
	/* The module's exit ran in this process and installed the late fence. */
	ASSERT_EQ(-ENODEV, sync_fence_info_of(fd, &info));
	EXPECT_EQ(-ENODEV, info.status);
	EXPECT_STREQ("detached-driver", info.driver_name);
	EXPECT_STREQ("signaled-timeline", info.obj_name);
	EXPECT_EQ(1, sync_file_wait(fd, 0));
	EXPECT_TRUE(kmsg_has(self->kmsg, "new timeline after the unload protocol: ENODEV"));
	EXPECT_FALSE(kmsg_has(self->kmsg, WHILE_FREED));
	close(fd);
}

/*
 * A registration dropped while the module lives on, with a signalled fence
 * of a module-pinning timeline alive: the fence pins the module until it is
 * released, and the timeline freed by that release is freed before the
 * module can go.
 */
TEST_F(misuse, pinned_fence_after_its_registration)
{
	int fd;

	ASSERT_EQ(0, misuse_load(PINNED_AFTER_REGISTRATION, -1));
	fd = init_fd;
	ASSERT_EQ(1, sync_file_status(fd)) TH_LOG("no signalled fence in fd %d", fd);
	EXPECT_EQ(-EWOULDBLOCK, misuse_unload())
		TH_LOG("the module unloaded while a fence pointed to its ops");
	close(fd);
	EXPECT_EQ(0, misuse_unload_within_5s());
	EXPECT_FALSE(kmsg_has(self->kmsg, AFTER_EXIT));
}

/* Timeline data owning a timeline: both frees run before the module goes. */
TEST_F(misuse, chained_timeline_frees)
{
	ASSERT_EQ(0, misuse_load(CHAINED_FREE, -1));
	EXPECT_EQ(0, misuse_unload());
	EXPECT_FALSE(kmsg_has(self->kmsg, AFTER_EXIT));
}

/* Timeline data whose drop sleeps is dropped in process context. */
TEST_F(misuse, sleeping_drop_of_timeline_data)
{
	ASSERT_EQ(0, misuse_load(SLEEPING_DROP, -1));
	EXPECT_EQ(0, misuse_unload());
	EXPECT_TRUE(kmsg_has(self->kmsg, "sleeping drop of timeline data ran"));
	EXPECT_FALSE(kmsg_has(self->kmsg, AFTER_EXIT));
}

/*
 * The last reference to a timeline dropped in the module's exit, after the
 * registration, while a spinlock is held: the timeline data, whose drop
 * sleeps, is still dropped in process context (the host's log check fails
 * on "sleeping function called from invalid context"), before the module's
 * memory goes, and rmmod waits for it.
 */
TEST_F(misuse, timeline_dropped_under_a_lock_in_exit)
{
	ASSERT_EQ(0, misuse_load(DROP_UNDER_LOCK_IN_EXIT, -1));
	EXPECT_EQ(0, misuse_unload());
	/* Already there when rmmod returns: the drop sleeps 100 ms first. */
	EXPECT_TRUE(kmsg_has(self->kmsg, "sleeping drop of timeline data ran"));
	EXPECT_FALSE(kmsg_has(self->kmsg, "sleeping function called from invalid context"));
	EXPECT_FALSE(kmsg_has(self->kmsg, WHILE_FREED));
}

/*
 * An init that drops its registration, then a timeline, then fails: the
 * kernel frees a module whose init failed whatever references are held on
 * it, so the timeline's free, which holds one, must be waited for before:
 * its drop (100 ms) ran when finit_module() returns.
 */
TEST_F(misuse, timeline_freed_after_a_failed_init)
{
	EXPECT_EQ(-ENOMEDIUM, misuse_load(FAIL_INIT_AFTER_REGISTRATION, -1));
	EXPECT_TRUE(kmsg_has(self->kmsg, "sleeping drop of timeline data ran"));
	EXPECT_FALSE(kmsg_has(self->kmsg, WHILE_FREED));
}

/*
 * A callback registration leaked by an init that then fails: the kernel
 * frees a module whose init failed whatever references are held on it, so
 * the failed load waits until the callback ran (the fence signalled)
 * rather than let the fence call freed code.
 */
TEST_F(misuse, leaked_callback_of_a_failed_init)
{
	int tl = sw_timeline_open(), fence, status;
	pid_t pid;

	ASSERT_LE(0, tl) TH_LOG("%s: %s", sw_sync_path(), strerror(-tl));
	fence = sw_fence_create(tl, 1);
	ASSERT_LE(0, fence);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(misuse_load(LEAK_CALLBACK_THEN_FAIL, fence) == -ENOMEDIUM ? 0 : 1);
	usleep(500 * 1000);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG))
		TH_LOG("the failed load returned while its callback was on a pending fence");
	EXPECT_TRUE(kmsg_has(self->kmsg, "init failed with 1 references"));
	ASSERT_EQ(0, sw_inc(tl, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_TRUE(kmsg_has(self->kmsg, "leaked callback ran"));
	EXPECT_TRUE(kmsg_has(self->kmsg, "the references of the failed init are gone"));
	close(fence);
	close(tl);
}

static void *load_pinned_fence_then_fail(void *ret)
{
	__atomic_store_n((int *)ret, misuse_load(PINNED_FENCE_THEN_FAIL, -1), __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * A fence of a module-pinning timeline exported by an init that then
 * fails: the failed load waits until the fence is released (another
 * thread closes the fd), and the free of the timeline that release
 * queues, code of the module, runs before the module is freed.
 */
TEST_F(misuse, pinned_fence_of_a_failed_init)
{
	int ret = 1, fd = -1, i;
	pthread_t thread;

	init_fd = -1;
	ASSERT_EQ(0, pthread_create(&thread, NULL, load_pinned_fence_then_fail, &ret));
	for (i = 0; i < 100; i++) {
		fd = __atomic_load_n(&init_fd, __ATOMIC_SEQ_CST);
		if (fd >= 0 && kmsg_has(self->kmsg, "init failed with 1 references"))
			break;
		usleep(100 * 1000);
	}
	ASSERT_TRUE(kmsg_has(self->kmsg, "init failed with 1 references"));
	ASSERT_EQ(1, sync_file_status(fd)) TH_LOG("no signalled fence in fd %d", fd);
	usleep(300 * 1000);
	EXPECT_EQ(1, __atomic_load_n(&ret, __ATOMIC_SEQ_CST))
		TH_LOG("the failed load returned while its pinning fence lived");
	close(fd);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(-ENOMEDIUM, ret);
	EXPECT_TRUE(kmsg_has(self->kmsg, "the references of the failed init are gone"));
	EXPECT_FALSE(kmsg_has(self->kmsg, WHILE_FREED));
}

/*
 * A registration leaked with mem::forget() never runs its unload protocol:
 * the library runs it when the module goes (module notifier), so the
 * pending fence is cancelled and detached, not left pointing to freed ops.
 * What the module leaked stays leaked: run.sh declares those objects to
 * the VM's final kmemleak scan.
 */
TEST_F(misuse, leaked_registration)
{
	struct sync_fence_info info;
	int fd;

	ASSERT_EQ(0, misuse_load(LEAK_REGISTRATION, -1));
	fd = init_fd;
	ASSERT_EQ(0, sync_file_status(fd)) TH_LOG("no pending fence in fd %d", fd);
	ASSERT_EQ(0, misuse_unload());
	EXPECT_TRUE(kmsg_has(self->kmsg, "went without dropping its provider registration"));
	ASSERT_EQ(-ENODEV, sync_fence_info_of(fd, &info));
	EXPECT_STREQ("detached-driver", info.driver_name);
	EXPECT_EQ(1, sync_file_wait(fd, 0));
	close(fd);
}

TEST_HARNESS_MAIN
