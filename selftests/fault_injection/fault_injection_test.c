// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection into every path of fence_ops, of the C API of rust_fence
 * and of the modules' init: for each path, make the n-th slab allocation of
 * the call fail (/proc/thread-self/fail-nth, with failslab) for n = 1, 2,
 * ... until the call runs to its end with no failure injected. Each call
 * must succeed or fail with ENOMEM, leave no fd behind when it fails, and
 * leave the state it was given as the path's check says; kmemleak finds
 * what a failed call leaked (checked at the end for this process, and by
 * the VM's final scan). Prints per path the number of injection points
 * tried (allocations made to fail) and of calls that failed.
 *
 *	fault_injection_test RF_C_CONSUMER_KO
 *
 * Expects no module of rust-fence loaded; loads rust_fence.ko and
 * fence_ops.ko from $RF_MODDIR and RF_C_CONSUMER_KO itself, and unloads
 * them at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest.h"
#include "sync_file_util.h"
#include "sw_sync_abi.h"
#include "fence_ops_uapi.h"
#include "fence_ops_module.h"
#include "rf_c_consumer.h"

#define FAILSLAB		"/sys/kernel/debug/failslab"
#define KMEMLEAK		"/sys/kernel/debug/kmemleak"
#define FENCE_OPS_DIR		"/sys/kernel/debug/fence_ops"
#define RF_C_DIR		"/sys/kernel/debug/rf_c_consumer"
#define RF_C_FENCES		RF_C_DIR "/fences"
/* More than any path makes: a path that gets there never succeeds. */
#define MAX_POINTS		2000
#define INFO_SIZE		16384

static int nth_fd = -1;
static const char *moddir;
static const char *c_consumer_ko;

/* Writes @s to the file at @path: 0 or -errno. */
static int write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n != (ssize_t)strlen(s))
		n = n < 0 ? -errno : -EIO;
	close(fd);
	return n < 0 ? n : 0;
}

/* Reads the file at @path into @buf (NUL-terminated): its length or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < (ssize_t)size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	if (n < 0)
		len = -errno;
	close(fd);
	if (len >= 0)
		buf[len] = '\0';
	return len;
}


/* Number of open fds of this process, or -errno. */
static int count_fds(void)
{
	struct dirent *d;
	int n = 0;
	DIR *dir;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return -errno;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	/* Not counting the directory's own fd. */
	return n - 1;
}

/* Number of occurrences of @needle in @hay. */
static int count_str(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static int module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return access(path, F_OK) == 0;
}

static int module_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/*
 * One path: @op is the call under test, made with the n-th allocation
 * failing; it returns >= 0 or -errno, and must not make other syscalls than
 * the one under test (they would take the fault). @prepare, if any, runs
 * before each attempt, without injection; @check after it, with what @op
 * returned: it checks the state the call left (1 if right, 0 with a message
 * if not) and undoes a success (closes the fd it returned...), unless it was
 * the last attempt (no fault injected) for a module load.
 */
struct path {
	const char *name;
	int (*prepare)(void);
	int (*op)(void);
	int (*check)(int ret);
};

/* Makes the @n-th fault of the next syscalls fail: 0 or -errno. */
static int set_fail_nth(int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	return pwrite(nth_fd, buf, len, 0) == len ? 0 : -errno;
}

/* Whether the fault set by set_fail_nth() is still to come, then clears it. */
static int fault_left(void)
{
	char buf[16];
	ssize_t len;

	len = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	if (len <= 0)
		ksft_exit_fail_msg("read fail-nth: %s\n", strerror(errno));
	buf[len] = '\0';
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		ksft_exit_fail_msg("clear fail-nth: %s\n", strerror(errno));
	return atoi(buf) != 0;
}

static int total_points;
/* Whether the attempt being checked had its fault injected: a success is not the last one. */
static int injected;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_path(const struct path *p)
{
	int n, ret, left, fds, fds_after, failed = 0, good = 1;
	double start = now_s();

	for (n = 1; n <= MAX_POINTS; n++) {
		if (p->prepare && !p->prepare()) {
			ksft_print_msg("%s: cannot prepare attempt %d: %s\n", p->name, n,
				       strerror(errno));
			good = 0;
			break;
		}
		fds = count_fds();
		if (set_fail_nth(n))
			ksft_exit_fail_msg("write fail-nth: %s\n", strerror(errno));
		ret = p->op();
		left = fault_left();
		fds_after = count_fds();
		if (ret < 0) {
			failed++;
			if (left) {
				ksft_print_msg("%s: fails with %s and no fault injected\n",
					       p->name, strerror(-ret));
				good = 0;
			} else if (ret != -ENOMEM) {
				ksft_print_msg("%s: allocation %d failing: %s, not ENOMEM\n",
					       p->name, n, strerror(-ret));
				good = 0;
			}
			if (fds_after != fds) {
				ksft_print_msg("%s: allocation %d failing: %d fds before, %d after\n",
					       p->name, n, fds, fds_after);
				good = 0;
			}
		}
		injected = !left;
		if (!p->check(ret)) {
			ksft_print_msg("%s: wrong state after attempt %d (%s, %s)\n", p->name, n,
				       left ? "no fault injected" : "a fault injected",
				       ret < 0 ? strerror(-ret) : "call succeeded");
			good = 0;
		}
		if (left || !good)
			break;
	}
	if (n > MAX_POINTS) {
		ksft_print_msg("%s: still injecting after %d faults\n", p->name, MAX_POINTS);
		good = 0;
	}
	/* The last attempt ran with no fault: the points are the attempts before. */
	ksft_print_msg("%s: %d injection points tried, %d calls failed cleanly, %.1f s\n",
		       p->name, n - 1, failed, now_s() - start);
	total_points += n - 1;
	ksft_test_result(good, "%s\n", p->name);
}

/* --- Module init --- */

/*
 * The module under test, read into memory: loaded with init_module(), whose
 * copy of the image does not warn when its allocation fails (that of
 * finit_module() dumps the stack, a splat for the log checks).
 */
static char *mod_buf;
static size_t mod_len;
static const char *mod_name;

static int op_init_module(void)
{
	return syscall(SYS_init_module, mod_buf, mod_len, "") ? -errno : 0;
}

static int read_module(const char *ko)
{
	struct stat st;
	int fd, good;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ksft_print_msg("open %s: %s\n", ko, strerror(errno));
		return 0;
	}
	mod_len = st.st_size;
	mod_buf = malloc(mod_len);
	good = mod_buf && read(fd, mod_buf, mod_len) == (ssize_t)mod_len;
	if (!good)
		ksft_print_msg("read %s: %s\n", ko, strerror(errno));
	close(fd);
	return good;
}

/*
 * A failed allocation of the kernel's own in a module load may be reported
 * with a stack dump: the vmalloc() of the KASAN shadow of the module's
 * memory (kasan_alloc_module_shadow()) does not pass __GFP_NOWARN, and
 * warn_alloc() dumps the stack ("vmalloc error: ... allocation failed",
 * then "Call Trace:"), which the log checks would take for a splat. So the
 * module init paths run with the console quiet (console_loglevel 1), and
 * the kernel log they made is checked here instead, from /dev/kmsg, with
 * the patterns of scripts/check-log.sh: each "vmalloc error" or "page
 * allocation failure" report may be followed by one "Call Trace:"; any
 * other match fails the path and is printed.
 */
static const char * const splats[] = {
	"BUG:", "WARNING:", "KASAN", "Oops", "Kernel panic", "possible recursive locking",
	"possible circular locking", "suspicious RCU usage", "inconsistent lock state",
	"unreferenced object", "blocked for more than", "Call Trace:", "UBSAN",
	"general protection fault",
};
static char printk_saved[64];

static int quiet_console(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 || lseek(fd, 0, SEEK_END) < 0 ||
	    read_file("/proc/sys/kernel/printk", printk_saved, sizeof(printk_saved)) <= 0 ||
	    write_file("/proc/sys/kernel/printk", "1")) {
		ksft_exit_fail_msg("cannot read /dev/kmsg or set the console loglevel: %s\n",
				   strerror(errno));
	}
	return fd;
}

/* Restores the console; returns the number of splats in the log since quiet_console(). */
static int loud_console(int fd)
{
	int alloc_reports = 0, dumps = 0, bad = 0;
	char rec[8192], *msg;
	unsigned int i;
	ssize_t n;

	/* Its first field, the console loglevel, is all quiet_console() changed. */
	write_file("/proc/sys/kernel/printk", strtok(printk_saved, " \t"));
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records lost to the ring buffer: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		if (strstr(msg, "vmalloc error:") || strstr(msg, "page allocation failure:")) {
			alloc_reports++;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(splats); i++) {
			if (!strstr(msg, splats[i]))
				continue;
			if (!strcmp(splats[i], "Call Trace:") && dumps < alloc_reports) {
				dumps++;
			} else {
				ksft_print_msg("kernel: %s", msg);
				bad++;
			}
			break;
		}
	}
	close(fd);
	if (alloc_reports)
		ksft_print_msg("%d allocation failure reports of the kernel (warn_alloc) in the log\n",
			       alloc_reports);
	return bad;
}

/* Loads @ko as @name with every fault in turn; leaves it loaded. */
static void run_module_init(const char *test, const char *name, const char *ko,
			    int (*check)(int ret))
{
	struct path p = { .name = test, .op = op_init_module, .check = check };
	int kmsg;

	mod_name = name;
	if (module_loaded(name))
		ksft_test_result_fail("%s: %s is loaded already\n", test, name);
	else if (!read_module(ko))
		ksft_test_result_fail("%s: cannot read %s\n", test, ko);
	else {
		kmsg = quiet_console();
		run_path(&p);
		ksft_test_result(!loud_console(kmsg), "%s: no splat\n", test);
	}
	free(mod_buf);
	mod_buf = NULL;
}

/* A load that failed leaves no module; one that succeeded left a whole one. */
static int check_module_init(int ret)
{
	if (ret < 0 && module_loaded(mod_name)) {
		ksft_print_msg("%s is loaded after its load failed\n", mod_name);
		return 0;
	}
	if (ret == 0 && !module_loaded(mod_name)) {
		ksft_print_msg("%s is not loaded\n", mod_name);
		return 0;
	}
	return 1;
}

/* A load that succeeded although a fault was injected is undone: the next one is tried. */
static int unload_if_injected(int good)
{
	int ret;

	if (!injected || !module_loaded(mod_name))
		return good;
	ret = module_unload(mod_name);
	if (ret) {
		ksft_print_msg("unload %s: %s\n", mod_name, strerror(-ret));
		return 0;
	}
	return good;
}

static int check_rust_fence_init(int ret)
{
	return unload_if_injected(check_module_init(ret));
}

static int check_fence_ops_init(int ret)
{
	int good = check_module_init(ret);

	if (ret < 0) {
		if (access(FENCE_OPS_DIR, F_OK) == 0) {
			ksft_print_msg("%s is left after the load failed\n", FENCE_OPS_DIR);
			good = 0;
		}
	} else if (access(FENCE_OPS_DIR "/sw_sync", R_OK | W_OK) ||
		   access(FENCE_OPS_DIR "/info", R_OK)) {
		ksft_print_msg("fence_ops loaded without its files\n");
		good = 0;
	}
	return unload_if_injected(good);
}

static int check_c_consumer_init(int ret)
{
	int good = check_module_init(ret);

	if (ret < 0) {
		if (access(RF_C_DIR, F_OK) == 0) {
			ksft_print_msg("%s is left after the load failed\n", RF_C_DIR);
			good = 0;
		}
	} else if (access(RF_C_FENCES, R_OK | W_OK)) {
		ksft_print_msg("rf_c_consumer loaded without its file\n");
		good = 0;
	}
	return unload_if_injected(good);
}

/* --- fence_ops --- */

static char info_ref[INFO_SIZE], info_buf[INFO_SIZE];
/* A timeline at value 20, with pending points 30 and 31 (fds), 31 with a deadline. */
static int tl, f30, f31;
/* A second timeline at 0 with pending point 10 (fd), for merges and reuse. */
static int tl2, f10;
/* The fd under test of the current path, its state. */
static int cur_fd = -1, cur_fence = -1;
static __u32 cur_value;
static int kept_before;

#define DEADLINE_NS	123456789ull

static int close_ret(int ret)
{
	if (ret >= 0)
		close(ret);
	return 1;
}

static int info_unchanged(void)
{
	if (fence_ops_read_info(info_buf, INFO_SIZE) < 0 || strcmp(info_ref, info_buf)) {
		ksft_print_msg("info was:\n%s\ninfo is:\n%s\n", info_ref, info_buf);
		return 0;
	}
	return 1;
}

static int prepare_info_ref(void)
{
	return fence_ops_read_info(info_ref, INFO_SIZE) > 0;
}

static int op_open_timeline(void)
{
	int fd = open(FENCE_OPS_DIR "/sw_sync", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* A failed open leaves no timeline; a closed one leaves none either. */
static int check_open_timeline(int ret)
{
	close_ret(ret);
	return info_unchanged();
}

static int op_read_info(void)
{
	ssize_t n = fence_ops_read_info(info_buf, INFO_SIZE);

	return n < 0 ? n : 0;
}

/* A read that succeeds shows everything. */
static int check_read_info(int ret)
{
	if (ret == 0 && strcmp(info_ref, info_buf)) {
		ksft_print_msg("info should be:\n%s\nread:\n%s\n", info_ref, info_buf);
		return 0;
	}
	return 1;
}

static int prepare_new_point(void)
{
	cur_value = cur_value ? cur_value + 1 : 1000;
	return 1;
}

static int op_create_fence(void)
{
	return sw_fence_create(cur_fd, cur_value);
}

/* The fd of a point made is pending, or signalled if reached. */
static int check_create_fence(int ret)
{
	int status, want = cur_value <= 20 ? 1 : 0;

	if (ret < 0)
		return 1;
	status = sync_file_status(ret);
	close(ret);
	if (status != want) {
		ksft_print_msg("point %u has status %d, not %d\n", cur_value, status, want);
		return 0;
	}
	return 1;
}

static int prepare_inc(void)
{
	cur_fence = sw_fence_create(tl2, ++cur_value);
	if (cur_fence < 0)
		ksft_print_msg("create point %u: %s\n", cur_value, strerror(-cur_fence));
	return cur_fence >= 0;
}

static int op_inc(void)
{
	return sw_inc(tl2, 1);
}

/* An increment signals the point reached; a failed one changes nothing. */
static int check_inc(int ret)
{
	int status = sync_file_status(cur_fence), want = ret == 0;

	close(cur_fence);
	if (ret < 0)
		cur_value--;
	if (status != want) {
		ksft_print_msg("point %u has status %d, not %d\n", cur_value, status, want);
		return 0;
	}
	return 1;
}

static __u64 deadline;

static int op_get_deadline(void)
{
	deadline = 0;
	return sw_get_deadline(tl, f31, &deadline);
}

static int check_get_deadline(int ret)
{
	if (ret == 0 && deadline != DEADLINE_NS) {
		ksft_print_msg("deadline %llu, not %llu\n", deadline, DEADLINE_NS);
		return 0;
	}
	return 1;
}

static int set_flags(int fd, __u32 flags)
{
	return ioctl(fd, FENCE_OPS_IOC_SET_FLAGS, &flags) ? -errno : 0;
}

/* A new timeline at value 3, in info_ref. */
static int prepare_set_flags(void)
{
	cur_fd = op_open_timeline();
	if (cur_fd < 0 || sw_inc(cur_fd, 3)) {
		ksft_print_msg("open a timeline: %s\n", strerror(errno));
		return 0;
	}
	return prepare_info_ref();
}

static int op_pin(void)
{
	return set_flags(cur_fd, FENCE_OPS_PIN_MODULE);
}

/* A failed SET_FLAGS leaves the timeline as it was; one that worked kept its value. */
static int check_pin(int ret)
{
	int good = 1;

	if (ret < 0) {
		good = info_unchanged();
	} else if (fence_ops_read_info(info_buf, INFO_SIZE) < 0 || !strstr(info_buf, "value 3 pinned, open: 0 pending")) {
		ksft_print_msg("no pinned timeline at value 3 in info:\n%s\n", info_buf);
		good = 0;
	}
	close(cur_fd);
	return good;
}

static int op_keep(void)
{
	return set_flags(tl, FENCE_OPS_KEEP_ON_CLOSE);
}

static int check_keep(int ret)
{
	return ret < 0 || set_flags(tl, 0) == 0;
}

/* A timeline with pending point 7 (cur_fence), kept after close if @keep. */
static int prepare_close(int keep)
{
	cur_fd = op_open_timeline();
	if (cur_fd < 0 || (keep && set_flags(cur_fd, FENCE_OPS_KEEP_ON_CLOSE)))
		return 0;
	cur_fence = sw_fence_create(cur_fd, 7);
	if (cur_fence < 0 || fence_ops_read_info(info_buf, INFO_SIZE) < 0)
		return 0;
	kept_before = count_str(info_buf, "kept after close: 1 pending");
	return 1;
}

static int prepare_close_kept(void)
{
	return prepare_close(1);
}

static int prepare_close_signal(void)
{
	return prepare_close(0);
}

static int op_close(void)
{
	return close(cur_fd) ? -errno : 0;
}

/* Closing a kept timeline keeps it and its pending point, whatever fails. */
static int check_close_kept(int ret)
{
	int status = sync_file_status(cur_fence), kept;

	close(cur_fence);
	if (fence_ops_read_info(info_buf, INFO_SIZE) < 0)
		return 0;
	kept = count_str(info_buf, "kept after close: 1 pending");
	if (ret < 0 || status != 0 || kept != kept_before + 1) {
		ksft_print_msg("close: %d, point 7 status %d, %d kept timelines, %d before\n",
			       ret, status, kept, kept_before);
		return 0;
	}
	return 1;
}

/* Closing a timeline signals its pending point with ENOENT, whatever fails. */
static int check_close_signal(int ret)
{
	int status = sync_file_status(cur_fence);

	close(cur_fence);
	if (ret < 0 || status != -ENOENT) {
		ksft_print_msg("close: %d, point 7 status %d\n", ret, status);
		return 0;
	}
	return 1;
}

static int op_merge(void)
{
	return sync_merge_fds("rf-fault", f30, f10);
}

static int check_merge(int ret)
{
	int n;

	if (ret < 0)
		return 1;
	n = sync_num_fences(ret);
	close(ret);
	if (n != 2) {
		ksft_print_msg("merged sync_file has %d fences, not 2\n", n);
		return 0;
	}
	return 1;
}

static struct sync_fence_info fence_infos[2];

static int op_file_info(void)
{
	struct sync_file_info info;
	int ret = sync_file_get_info(cur_fd, &info, fence_infos, 2);

	return ret ? ret : info.status;
}

static int check_file_info(int ret)
{
	if (ret >= 0 && (ret != 0 || strcmp(fence_infos[0].driver_name, "fence_ops") ||
			 strcmp(fence_infos[1].driver_name, "fence_ops"))) {
		ksft_print_msg("FILE_INFO: status %d, drivers \"%s\" \"%s\"\n", ret,
			       fence_infos[0].driver_name, fence_infos[1].driver_name);
		return 0;
	}
	return 1;
}

static int op_set_deadline(void)
{
	return sync_set_deadline(f30, DEADLINE_NS);
}

static int check_set_deadline(int ret)
{
	__u64 ns = 0;

	if (ret == 0 && (sw_get_deadline(tl, f30, &ns) || ns != DEADLINE_NS)) {
		ksft_print_msg("deadline of point 30: %llu\n", ns);
		return 0;
	}
	return 1;
}

static void run_fence_ops(void)
{
	struct path p;

	p = (struct path){ "fence_ops: open sw_sync", prepare_info_ref, op_open_timeline,
			   check_open_timeline };
	run_path(&p);

	/* The timelines and points the ioctl paths use. */
	tl = op_open_timeline();
	tl2 = op_open_timeline();
	if (tl < 0 || tl2 < 0 || sw_inc(tl, 20))
		ksft_exit_fail_msg("open timelines: %s\n", strerror(errno));
	f30 = sw_fence_create(tl, 30);
	f31 = sw_fence_create(tl, 31);
	f10 = sw_fence_create(tl2, 10);
	if (f30 < 0 || f31 < 0 || f10 < 0 || sync_set_deadline(f31, DEADLINE_NS))
		ksft_exit_fail_msg("create points: %s\n", strerror(errno));

	p = (struct path){ "fence_ops: open and read info", prepare_info_ref, op_read_info,
			   check_read_info };
	run_path(&p);

	cur_fd = tl;
	cur_value = 0;
	p = (struct path){ "fence_ops: SW_SYNC_IOC_CREATE_FENCE, new point", prepare_new_point,
			   op_create_fence, check_create_fence };
	run_path(&p);
	cur_value = 30;
	p = (struct path){ "fence_ops: SW_SYNC_IOC_CREATE_FENCE, pending point", NULL,
			   op_create_fence, check_create_fence };
	run_path(&p);
	cur_value = 5;
	p = (struct path){ "fence_ops: SW_SYNC_IOC_CREATE_FENCE, signalled point", NULL,
			   op_create_fence, check_create_fence };
	run_path(&p);

	cur_value = 0;
	p = (struct path){ "fence_ops: SW_SYNC_IOC_INC", prepare_inc, op_inc, check_inc };
	run_path(&p);
	/* tl2 is at cur_value now: put point 10 ahead again. */
	close(f10);
	f10 = sw_fence_create(tl2, cur_value + 10);
	if (f10 < 0)
		ksft_exit_fail_msg("create a point: %s\n", strerror(-f10));

	p = (struct path){ "fence_ops: SW_SYNC_GET_DEADLINE", NULL, op_get_deadline,
			   check_get_deadline };
	run_path(&p);
	p = (struct path){ "fence_ops: FENCE_OPS_IOC_SET_FLAGS, pin module", prepare_set_flags,
			   op_pin, check_pin };
	run_path(&p);
	p = (struct path){ "fence_ops: FENCE_OPS_IOC_SET_FLAGS, keep on close", NULL, op_keep,
			   check_keep };
	run_path(&p);
	p = (struct path){ "fence_ops: close, timeline kept", prepare_close_kept, op_close,
			   check_close_kept };
	run_path(&p);
	p = (struct path){ "fence_ops: close, points signalled", prepare_close_signal, op_close,
			   check_close_signal };
	run_path(&p);

	p = (struct path){ "sync_file of fence_ops: SYNC_IOC_MERGE", NULL, op_merge, check_merge };
	run_path(&p);
	cur_fd = sync_merge_fds("rf-fault", f30, f10);
	if (cur_fd < 0)
		ksft_exit_fail_msg("merge: %s\n", strerror(-cur_fd));
	p = (struct path){ "sync_file of fence_ops: SYNC_IOC_FILE_INFO", NULL, op_file_info,
			   check_file_info };
	run_path(&p);
	close(cur_fd);
	p = (struct path){ "sync_file of fence_ops: SYNC_IOC_SET_DEADLINE", NULL, op_set_deadline,
			   check_set_deadline };
	run_path(&p);

	close(f30);
	close(f31);
	close(f10);
	close(tl);
	close(tl2);
}

/* --- The C API, through rf_c_consumer --- */

static int dev = -1;
static struct rf_c_issue issued;
static int issued_fd = -1;
static __u64 last_seqno;

static int signal_fence(__u64 seqno, int error)
{
	struct rf_c_signal arg = { .seqno = seqno, .error = error };

	return ioctl(dev, RF_C_IOC_SIGNAL, &arg) ? -errno : 0;
}

static int op_c_open(void)
{
	int fd = open(RF_C_FENCES, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int op_c_issue(void)
{
	memset(&issued, 0, sizeof(issued));
	issued_fd = ioctl(dev, RF_C_IOC_ISSUE, &issued);
	return issued_fd < 0 ? -errno : issued_fd;
}

/*
 * An issue that worked gives a pending fence; one that failed left no
 * fence pending in the driver: the sequence numbers it took are unknown
 * to RF_C_IOC_SIGNAL.
 */
static int check_c_issue(int ret)
{
	int status, good = 1;
	__u64 s;

	if (ret < 0)
		return 1;
	status = sync_file_status(ret);
	if (status != 0 || signal_fence(issued.seqno, 0) || sync_file_status(ret) != 1) {
		ksft_print_msg("fence %llu: status %d, could not signal it\n",
			       (unsigned long long)issued.seqno, status);
		good = 0;
	}
	close(ret);
	for (s = last_seqno + 1; s < issued.seqno; s++) {
		if (signal_fence(s, 0) != -ENOENT) {
			ksft_print_msg("fence %llu of a failed RF_C_IOC_ISSUE is left pending\n",
				       (unsigned long long)s);
			good = 0;
		}
	}
	last_seqno = issued.seqno;
	return good;
}

static int prepare_c_signal(void)
{
	return op_c_issue() >= 0;
}

static int op_c_signal(void)
{
	return signal_fence(issued.seqno, 0);
}

static int check_c_signal(int ret)
{
	int status = sync_file_status(issued_fd);

	if (ret < 0)
		signal_fence(issued.seqno, 0);
	close(issued_fd);
	if (status != (ret == 0)) {
		ksft_print_msg("fence %llu: status %d after RF_C_IOC_SIGNAL returned %d\n",
			       (unsigned long long)issued.seqno, status, ret);
		return 0;
	}
	return 1;
}

static void run_c_api(void)
{
	struct path p;

	p = (struct path){ "C API (rf_c_consumer): open", NULL, op_c_open, close_ret };
	run_path(&p);

	dev = op_c_open();
	if (dev < 0 || op_c_issue() < 0)
		ksft_exit_fail_msg("rf_c_consumer: %s\n", strerror(errno));
	close(issued_fd);
	signal_fence(issued.seqno, 0);
	last_seqno = issued.seqno;
	p = (struct path){ "C API (rf_c_consumer): rust_fence_issue, rust_fence_sync_file_fd",
			   NULL, op_c_issue, check_c_issue };
	run_path(&p);
	p = (struct path){ "C API (rf_c_consumer): rust_fence_signal", prepare_c_signal,
			   op_c_signal, check_c_signal };
	run_path(&p);
	close(dev);
}

/* --- kmemleak --- */

/* Fails for every object kmemleak finds unreferenced that this process allocated. */
static void check_kmemleak(void)
{
	static char buf[1 << 20];
	char comm[32], needle[64];
	ssize_t len;
	int fd, n;

	if (access(KMEMLEAK, F_OK)) {
		ksft_test_result_skip("kmemleak: no leak (no kmemleak)\n");
		return;
	}
	/* Objects are reported once older than 5 s and unreferenced in a scan. */
	sleep(1);
	write_file(KMEMLEAK, "scan");
	sleep(6);
	if (write_file(KMEMLEAK, "scan")) {
		ksft_test_result_skip("kmemleak: no leak (kmemleak is off)\n");
		return;
	}
	len = read_file(KMEMLEAK, buf, sizeof(buf));
	fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, comm, sizeof(comm) - 1);
	if (fd >= 0)
		close(fd);
	if (len < 0 || n <= 0) {
		ksft_test_result_fail("kmemleak: no leak (cannot read kmemleak or comm)\n");
		return;
	}
	comm[n - 1] = '\0';
	snprintf(needle, sizeof(needle), "comm \"%s\"", comm);
	n = count_str(buf, needle);
	if (n)
		ksft_print_msg("kmemleak:\n%s\n", buf);
	ksft_test_result(n == 0, "kmemleak: no leak by this process (%d found)\n", n);
}

#define NUM_TESTS 25

int main(int argc, char **argv)
{
	char gfp_wait[8] = "Y", verbose[8] = "2", path[PATH_MAX];
	const char *dir = getenv("RF_MODDIR");

	ksft_print_header();
	if (argc != 2)
		ksft_exit_fail_msg("usage: %s RF_C_CONSUMER_KO\n", argv[0]);
	c_consumer_ko = argv[1];
	moddir = dir && *dir ? dir : "/lib/modules-rf";
	if (access(FAILSLAB, F_OK))
		ksft_exit_skip("no failslab (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)\n");
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0)
		ksft_exit_skip("no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION_DEBUG_FS)\n");
	if (module_loaded("rust_fence"))
		ksft_exit_fail_msg("rust_fence is loaded: the suite loads it itself\n");
	ksft_set_plan(NUM_TESTS);

	/* GFP_KERNEL allocations fail too, quietly: no stack dump per fault. */
	read_file(FAILSLAB "/ignore-gfp-wait", gfp_wait, sizeof(gfp_wait));
	read_file(FAILSLAB "/verbose", verbose, sizeof(verbose));
	if (write_file(FAILSLAB "/ignore-gfp-wait", "N") || write_file(FAILSLAB "/verbose", "0"))
		ksft_exit_fail_msg("cannot set up failslab\n");

	snprintf(path, sizeof(path), "%s/rust_fence.ko", moddir);
	run_module_init("module init: rust_fence", "rust_fence", path, check_rust_fence_init);
	snprintf(path, sizeof(path), "%s/fence_ops.ko", moddir);
	run_module_init("module init: fence_ops", "fence_ops", path, check_fence_ops_init);
	if (!module_loaded("fence_ops"))
		ksft_exit_fail_msg("fence_ops is not loaded\n");

	run_fence_ops();

	run_module_init("module init: rf_c_consumer (C API)", "rf_c_consumer", c_consumer_ko,
			check_c_consumer_init);
	if (!module_loaded("rf_c_consumer"))
		ksft_exit_fail_msg("rf_c_consumer is not loaded\n");
	run_c_api();

	write_file(FAILSLAB "/ignore-gfp-wait", gfp_wait);
	write_file(FAILSLAB "/verbose", verbose);
	close(nth_fd);

	ksft_test_result(!module_unload("rf_c_consumer") && !module_unload("fence_ops") &&
			 !module_unload("rust_fence"), "the modules unload\n");
	check_kmemleak();
	ksft_print_msg("figures: fault_injection: %d injection points tried in all\n",
		       total_points);
	ksft_finished();
}
