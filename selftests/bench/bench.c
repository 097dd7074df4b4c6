// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmarks of fence_ops, printed as TAP comments ("# bench: ..."): they
 * measure, they do not pass or fail.
 *
 * Without arguments (the quick run of `make check`):
 *
 * 1. Unload time of fence_ops with 0, 1000 and 100000 live signalled
 *    fences held by this process: the unload protocol costs one grace
 *    period whatever the number of fences.
 * 2. fence_ops (Rust) against the kernel's C sw_sync doing the same work
 *    in the same boot: create a point and get its sync_file fd, signal
 *    points with INC, close fds. Runs alternate between the two to share
 *    out any drift; the median of the runs is reported.
 *
 * With a command (`make bench`, see scripts/bench.sh), one
 * "# bench: <kind> key=value ..." line per figure, for the host to parse:
 *
 *   abi [RUNS]        fence_ops against C sw_sync per ioctl: CREATE_FENCE
 *                     (on a fresh timeline, and with 10k points pending),
 *                     INC signalling 1 and 64 points, close of a timeline
 *                     with 64 pending points, close of a signalled fence fd;
 *                     the median of RUNS runs (7) with min and max, in ns
 *   abi-scale T [RUNS]  CREATE_FENCE and INC 1 on T threads at once, each on
 *                     its own timeline: ns per ioctl and thread
 *   mem-abi N         slab bytes per point of N points, pending and signalled
 *                     (/proc/slabinfo before and after; caches=name:size:per)
 *   mem-kernel N      slab bytes per in-kernel fence of the rf_bench module
 *                     (C, Rust and C API of rust_fence), pending and signalled
 *   unload            rmmod fence_ops with 0, 1k, 100k and 1M live signalled
 *                     fences, and with 10k pending fences the unload cancels
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "sw_sync_abi.h"
#include "fence_ops_uapi.h"
#include "fence_ops_module.h"

#define RF_BENCH_CONTROL	"/sys/kernel/debug/rf_bench/control"
#define MAX_RUNS		32
#define MAX_THREADS		16

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int online_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* Raises the fd limits for @n fds: fs.nr_open first, then RLIMIT_NOFILE. */
static int raise_nofile(long n)
{
	struct rlimit nofile = { n, n };
	FILE *f = fopen("/proc/sys/fs/nr_open", "r+");
	long cur = 0;

	if (f) {
		if (fscanf(f, "%ld", &cur) == 1 && cur < n) {
			rewind(f);
			fprintf(f, "%ld\n", n);
		}
		fclose(f);
	}
	if (setrlimit(RLIMIT_NOFILE, &nofile)) {
		printf("# bench: setrlimit(RLIMIT_NOFILE, %ld): %s\n", n, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The last line of the kernel log that contains @what, without its newline. */
static int last_kernel_line(const char *what, char *line, size_t size)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *p, *found = NULL;

	if (len <= 0)
		return -1;
	buf = malloc(len + 1);
	if (!buf)
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	for (p = strstr(buf, what); p; p = strstr(p + 1, what))
		found = p;
	if (found) {
		size_t n = strcspn(found, "\n");

		snprintf(line, size, "%.*s", (int)n, found);
	}
	free(buf);
	return found ? 0 : -1;
}

static int unload_with_live_fences(int n, unsigned int settle)
{
	int tl, i, ret, *fds = calloc(n ? n : 1, sizeof(int));
	__u32 inc = n;
	long long t0, t1;

	if (!fds)
		return -ENOMEM;
	if (!fence_ops_loaded() && fence_ops_load())
		return -ENOENT;
	tl = open(FENCE_OPS_SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (tl < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		fds[i] = sw_fence_create(tl, i + 1);
		if (fds[i] < 0) {
			printf("# bench: creating fence %d failed: %s\n", i, strerror(-fds[i]));
			return fds[i];
		}
	}
	if (ioctl(tl, SW_SYNC_IOC_INC, &inc))
		return -errno;
	close(tl);
	/*
	 * Creating the fences queued RCU callbacks that are not fence_ops'
	 * (kmemleak frees its metadata through call_rcu() on every kfree()):
	 * let them run first, or rcu_barrier() in the unload protocol waits
	 * for that backlog and the figure measures kmemleak, not the protocol.
	 */
	sleep(settle);

	t0 = now_ns();
	ret = fence_ops_unload();
	t1 = now_ns();
	printf("# bench: rmmod fence_ops with %6d live signalled fences: %8.1f ms (%s, %u s after creating them)\n",
	       n, (t1 - t0) / 1e6, ret ? strerror(-ret) : "ok", settle);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return fence_ops_load();
}

/* One round: create n points with fds, signal them in steps of 16, close. */
static double round_ns_per_fence(const char *path, int n)
{
	int tl, i, *fds = calloc(n, sizeof(int));
	long long t0, t1;
	__u32 step = 16;

	tl = open(path, O_RDWR | O_CLOEXEC);
	if (tl < 0 || !fds)
		return -1;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		fds[i] = sw_fence_create(tl, i + 1);
	for (i = 0; i < n; i += step)
		ioctl(tl, SW_SYNC_IOC_INC, &step);
	for (i = 0; i < n; i++)
		close(fds[i]);
	t1 = now_ns();
	close(tl);
	free(fds);
	return (double)(t1 - t0) / n;
}

/* The quick run of `make check`. */
static int check_run(void)
{
	const int sizes[] = { 0, 1000, 100000 };
	enum { ROUNDS = 5, FENCES = 2000 };
	double c[ROUNDS], rust[ROUNDS];
	unsigned int i;

	raise_nofile(200000);

	printf("# bench: unload time of fence_ops (one grace period, whatever the fences)\n");
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if (unload_with_live_fences(sizes[i], sizes[i] > 1000 ? 20 : 2))
			printf("# bench: unload with %d fences failed\n", sizes[i]);

	for (i = 0; i < ROUNDS; i++) {
		c[i] = round_ns_per_fence(SW_SYNC_DEFAULT_PATH, FENCES);
		rust[i] = round_ns_per_fence(FENCE_OPS_SW_SYNC_PATH, FENCES);
	}
	qsort(c, ROUNDS, sizeof(double), cmp_double);
	qsort(rust, ROUNDS, sizeof(double), cmp_double);
	printf("# bench: create+signal+close per fence, median of %d rounds of %d fences\n",
	       ROUNDS, FENCES);
	printf("# bench:   C sw_sync           %8.1f us\n", c[ROUNDS / 2] / 1000);
	printf("# bench:   fence_ops (Rust)    %8.1f us\n", rust[ROUNDS / 2] / 1000);
	printf("# bench:   ratio Rust / C      %8.2f\n", rust[ROUNDS / 2] / c[ROUNDS / 2]);
	return 0;
}

/*
 * Per-ioctl figures. Each measurement runs on a fresh timeline of one
 * provider and returns ns per operation, or a negative errno.
 */

/* The two providers: the kernel's C sw_sync ("c") and fence_ops ("rust"). */
static const char *const providers[2] = { SW_SYNC_DEFAULT_PATH, FENCE_OPS_SW_SYNC_PATH };
static const char *const impl_names[2] = { "c", "rust" };

static int open_timeline(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Creates points first..first + n - 1 on @tl into @fds. */
static int create_points_from(int tl, int *fds, int first, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = sw_fence_create(tl, first + i);
		if (fds[i] < 0)
			return fds[i];
	}
	return 0;
}

/* Creates points 1..n on @tl into @fds. */
static int create_points(int tl, int *fds, int n)
{
	return create_points_from(tl, fds, 1, n);
}

static void close_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

enum abi_op {
	CREATE_FENCE, CREATE_FENCE_DEEP, INC_1, INC_64, CLOSE_TIMELINE, CLOSE_FENCE, NR_ABI_OPS
};

/* Points pending on the timeline before the timed CREATE_FENCEs of CREATE_FENCE_DEEP. */
#define DEEP 10000

static const struct {
	const char *name;
	int n;		/* operations timed per run */
} abi_ops[NR_ABI_OPS] = {
	[CREATE_FENCE] = { "create_fence", 2000 },
	[CREATE_FENCE_DEEP] = { "create_fence_10k_pending", 1000 },
	[INC_1] = { "inc_1", 2000 },
	[INC_64] = { "inc_64", 100 },
	[CLOSE_TIMELINE] = { "close_timeline_64_pending", 50 },
	[CLOSE_FENCE] = { "close_signalled_fence_fd", 2000 },
};

/* One run of @op on @path: ns per operation. */
static double abi_run(enum abi_op op, const char *path)
{
	int n = abi_ops[op].n;
	int points = op == INC_64 ? 64 * n : op == CREATE_FENCE_DEEP ? DEEP + n : n;
	int i, tl, ret = 0, *fds, tls[64];
	long long t0 = 0, t1 = 0;

	if (op == CLOSE_TIMELINE) {
		/* n timelines with 64 pending points each. */
		fds = calloc(64 * n, sizeof(int));
		if (!fds || n > 64)
			return -ENOMEM;
		memset(fds, 0xff, 64 * n * sizeof(int));
		for (i = 0; i < n && !ret; i++) {
			tls[i] = open_timeline(path);
			ret = tls[i] < 0 ? tls[i] : create_points(tls[i], fds + 64 * i, 64);
		}
		if (!ret) {
			t0 = now_ns();
			for (i = 0; i < n; i++)
				close(tls[i]);
			t1 = now_ns();
		} else {
			close_fds(tls, tls[i - 1] < 0 ? i - 1 : i);
		}
		close_fds(fds, 64 * n);
		free(fds);
		return ret ? ret : (double)(t1 - t0) / n;
	}

	fds = calloc(points, sizeof(int));
	tl = open_timeline(path);
	if (!fds || tl < 0) {
		free(fds);
		return tl < 0 ? tl : -ENOMEM;
	}
	memset(fds, 0xff, points * sizeof(int));
	switch (op) {
	case CREATE_FENCE:
		t0 = now_ns();
		ret = create_points(tl, fds, n);
		t1 = now_ns();
		break;
	case CREATE_FENCE_DEEP:
		/* The lookup of an existing point must not grow with the pending ones. */
		ret = create_points(tl, fds, DEEP);
		t0 = now_ns();
		ret = ret ?: create_points_from(tl, fds + DEEP, DEEP + 1, n);
		t1 = now_ns();
		break;
	case INC_1:
	case INC_64:
		ret = create_points(tl, fds, points);
		t0 = now_ns();
		for (i = 0; i < n && !ret; i++)
			ret = sw_inc(tl, op == INC_1 ? 1 : 64);
		t1 = now_ns();
		break;
	case CLOSE_FENCE:
		ret = create_points(tl, fds, n) ?: sw_inc(tl, n);
		if (!ret) {
			t0 = now_ns();
			close_fds(fds, n);
			t1 = now_ns();
			memset(fds, 0xff, n * sizeof(int));
		}
		break;
	default:
		ret = -EINVAL;
	}
	close(tl);
	close_fds(fds, points);
	free(fds);
	return ret ? ret : (double)(t1 - t0) / n;
}

static void report(const char *kind, const char *op, const char *impl, int threads,
		   int iters, double *samples, int runs)
{
	qsort(samples, runs, sizeof(double), cmp_double);
	printf("# bench: %s op=%s impl=%s cpus=%d threads=%d iters=%d runs=%d median=%.1f min=%.1f max=%.1f\n",
	       kind, op, impl, online_cpus(), threads, iters, runs, samples[runs / 2],
	       samples[0], samples[runs - 1]);
}

static int abi_bench(int runs)
{
	double samples[2][MAX_RUNS];
	int op, r, k, err = 0;

	raise_nofile(100000);
	for (op = 0; op < NR_ABI_OPS; op++) {
		int failed = 0;

		/* Run -1 warms up and is not counted; the order alternates. */
		for (r = -1; r < runs && !failed; r++) {
			for (k = 0; k < 2 && !failed; k++) {
				int impl = (r & 1) ? 1 - k : k;
				double ns = abi_run(op, providers[impl]);

				if (ns < 0) {
					printf("# bench: abi op=%s impl=%s error=%s\n", abi_ops[op].name,
					       impl_names[impl], strerror((int)-ns));
					failed = 1;
				} else if (r >= 0) {
					samples[impl][r] = ns;
				}
			}
		}
		if (failed) {
			err = -1;
			continue;
		}
		for (k = 0; k < 2; k++)
			report("abi", abi_ops[op].name, impl_names[k], 1, abi_ops[op].n,
			       samples[k], runs);
	}
	return err;
}

/* Several threads at once, each on its own timeline: CREATE_FENCE then INC 1. */
struct scale_thread {
	pthread_t thread;
	pthread_barrier_t *barrier;
	const char *path;
	int n;
	long long start[2], end[2];
	int err;
};

static void *scale_thread_fn(void *arg)
{
	struct scale_thread *t = arg;
	int i, tl, *fds = calloc(t->n, sizeof(int));

	tl = open_timeline(t->path);
	if (!fds || tl < 0)
		t->err = -ENOMEM;
	pthread_barrier_wait(t->barrier);
	t->start[0] = now_ns();
	if (!t->err)
		t->err = create_points(tl, fds, t->n);
	t->end[0] = now_ns();
	pthread_barrier_wait(t->barrier);
	t->start[1] = now_ns();
	for (i = 0; i < t->n && !t->err; i++)
		t->err = sw_inc(tl, 1);
	t->end[1] = now_ns();
	if (tl >= 0)
		close(tl);
	if (fds)
		close_fds(fds, t->n);
	free(fds);
	return NULL;
}

/* One run on @threads threads: ns per ioctl and thread of each phase. */
static int scale_run(const char *path, int threads, int n, double ns[2])
{
	struct scale_thread t[MAX_THREADS];
	pthread_barrier_t barrier;
	int i, p, err = 0;

	pthread_barrier_init(&barrier, NULL, threads);
	for (i = 0; i < threads; i++) {
		t[i] = (struct scale_thread){ .barrier = &barrier, .path = path, .n = n };
		pthread_create(&t[i].thread, NULL, scale_thread_fn, &t[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(t[i].thread, NULL);
		err = err ?: t[i].err;
	}
	pthread_barrier_destroy(&barrier);
	for (p = 0; p < 2; p++) {
		long long start = t[0].start[p], end = t[0].end[p];

		for (i = 1; i < threads; i++) {
			start = t[i].start[p] < start ? t[i].start[p] : start;
			end = t[i].end[p] > end ? t[i].end[p] : end;
		}
		ns[p] = (double)(end - start) / n;
	}
	return err;
}

static int abi_scale(int threads, int runs)
{
	double samples[2][2][MAX_RUNS];
	enum { N = 2000 };
	int r, k, p;

	if (threads < 1 || threads > MAX_THREADS)
		return -EINVAL;
	raise_nofile(threads * N + 1000);
	for (r = -1; r < runs; r++) {
		for (k = 0; k < 2; k++) {
			int impl = (r & 1) ? 1 - k : k, err;
			double ns[2];

			err = scale_run(providers[impl], threads, N, ns);
			if (err) {
				printf("# bench: abi op=scale impl=%s threads=%d error=%s\n",
				       impl_names[impl], threads, strerror(-err));
				return err;
			}
			for (p = 0; p < 2 && r >= 0; p++)
				samples[impl][p][r] = ns[p];
		}
	}
	for (p = 0; p < 2; p++)
		for (k = 0; k < 2; k++)
			report("abi", p ? "inc_1" : "create_fence", impl_names[k], threads, N,
			       samples[k][p], runs);
	return 0;
}

/* /proc/slabinfo: objects in use and object size of each cache. */
struct slab {
	char name[64];
	long active;
	long size;
};

#define MAX_SLABS 512

static int read_slabinfo(struct slab *slabs)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < MAX_SLABS) {
		struct slab *s = &slabs[n];

		if (sscanf(line, "%63s %ld %*d %ld", s->name, &s->active, &s->size) == 3)
			n++;
	}
	fclose(f);
	return n;
}

/* Prints the slab bytes per object of @n objects between two snapshots. */
static void report_mem(const char *kind, const char *impl, const char *state, long n,
		       struct slab *before, int nb, struct slab *after, int na)
{
	char caches[512] = "";
	double bytes = 0;
	int i, j;
	size_t len = 0;

	for (i = 0; i < na; i++) {
		long delta = after[i].active;
		double per;

		for (j = 0; j < nb; j++) {
			if (!strcmp(before[j].name, after[i].name)) {
				delta -= before[j].active;
				break;
			}
		}
		per = (double)delta / n;
		bytes += per * after[i].size;
		/* Caches with at least one object per 20 fences. */
		if (per >= 0.05 && len < sizeof(caches) - 80)
			len += snprintf(caches + len, sizeof(caches) - len, "%s%s:%ld:%.2f",
					len ? "," : "", after[i].name, after[i].size, per);
	}
	printf("# bench: mem kind=%s impl=%s state=%s fences=%ld bytes=%.1f caches=%s\n",
	       kind, impl, state, n, bytes, len ? caches : "none");
}

static struct slab snap[3][MAX_SLABS];

/* Slab bytes per point of @n points of each provider, pending and signalled. */
static int mem_abi(int n)
{
	int k, ns[3], tl, *fds = calloc(n, sizeof(int));

	if (!fds)
		return -ENOMEM;
	raise_nofile(n + 1000);
	for (k = 0; k < 2; k++) {
		memset(fds, 0xff, n * sizeof(int));
		tl = open_timeline(providers[k]);
		if (tl < 0)
			return tl;
		sleep(1);
		ns[0] = read_slabinfo(snap[0]);
		if (create_points(tl, fds, n))
			return -EIO;
		ns[1] = read_slabinfo(snap[1]);
		sw_inc(tl, n);
		ns[2] = read_slabinfo(snap[2]);
		if (ns[0] < 0 || ns[1] < 0 || ns[2] < 0)
			return -EIO;
		report_mem("abi", impl_names[k], "pending", n, snap[0], ns[0], snap[1], ns[1]);
		report_mem("abi", impl_names[k], "signalled", n, snap[0], ns[0], snap[2], ns[2]);
		close(tl);
		close_fds(fds, n);
	}
	free(fds);
	return 0;
}

static int rf_bench_command(const char *cmd)
{
	int fd = open(RF_BENCH_CONTROL, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, cmd, strlen(cmd)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Slab bytes per in-kernel fence of rf_bench: C, Rust, C API. */
static int mem_kernel(int n)
{
	const char *const impls[] = { "c", "rust", "c_api" };
	char cmd[64];
	int k, ns[3], err;

	for (k = 0; k < 3; k++) {
		snprintf(cmd, sizeof(cmd), "hold %s %d", impls[k], n);
		sleep(1);
		ns[0] = read_slabinfo(snap[0]);
		err = rf_bench_command(cmd);
		ns[1] = read_slabinfo(snap[1]);
		err = err ?: rf_bench_command("signal");
		ns[2] = read_slabinfo(snap[2]);
		rf_bench_command("release");
		if (err || ns[0] < 0 || ns[1] < 0 || ns[2] < 0) {
			printf("# bench: mem kind=kernel impl=%s error=%s\n", impls[k],
			       strerror(err ? -err : EIO));
			return -1;
		}
		report_mem("kernel", impls[k], "pending", n, snap[0], ns[0], snap[1], ns[1]);
		report_mem("kernel", impls[k], "signalled", n, snap[0], ns[0], snap[2], ns[2]);
	}
	return 0;
}

/*
 * rmmod fence_ops with @n live fences held as sync_file fds: signalled
 * ones, or pending ones on a timeline kept after close, which the unload
 * cancels. Prints the time of the delete_module() call and the kernel's
 * own breakdown of the unload protocol.
 */
static int unload_run(int n, int pending, int run)
{
	char line[512];
	int i, tl, ret = 0, chunk = pending ? n : 256, *fds = calloc(n ? n : 1, sizeof(int));
	__u32 flags = FENCE_OPS_KEEP_ON_CLOSE;
	long long t0, t1;

	if (!fds)
		return -ENOMEM;
	if (!fence_ops_loaded() && fence_ops_load())
		return -ENOENT;
	tl = open_timeline(FENCE_OPS_SW_SYNC_PATH);
	if (tl < 0)
		return tl;
	if (pending && ioctl(tl, FENCE_OPS_IOC_SET_FLAGS, &flags))
		return -errno;
	/*
	 * Signalled fences are made in chunks, each signalled before the
	 * next, as a driver keeps a bounded number in flight: what is timed
	 * is the unload, not how the provider copes with a million pending.
	 */
	for (i = 0; i < n && !ret; i += chunk) {
		int k = n - i < chunk ? n - i : chunk;

		ret = create_points_from(tl, fds + i, i + 1, k);
		if (!ret && !pending)
			ret = sw_inc(tl, k);
	}
	if (ret) {
		printf("# bench: unload creating %d fences failed: %s\n", n, strerror(-ret));
		return ret;
	}
	close(tl);
	/* Let the RCU callbacks and frees of the creation run first. */
	sleep(1);

	t0 = now_ns();
	ret = fence_ops_unload();
	t1 = now_ns();
	printf("# bench: unload fences=%d state=%s run=%d ms=%.2f status=%s\n", n,
	       pending ? "pending" : "signalled", run, (t1 - t0) / 1e6,
	       ret ? strerror(-ret) : "ok");
	if (!last_kernel_line("unload protocol done", line, sizeof(line)))
		printf("# bench: unload-kernel fences=%d state=%s run=%d %s\n", n,
		       pending ? "pending" : "signalled", run, line);
	close_fds(fds, n);
	free(fds);
	return fence_ops_load();
}

static int unload_bench(int runs)
{
	const struct {
		int n, pending, runs;
	} cases[] = {
		{ 0, 0, runs }, { 1000, 0, runs }, { 100000, 0, 3 }, { 1000000, 0, 3 },
		{ 10000, 1, runs },
	};
	unsigned int i;
	int r, err = 0;

	raise_nofile(1000000 + 1000);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		for (r = 0; r < cases[i].runs; r++)
			err = unload_run(cases[i].n, cases[i].pending, r) ?: err;
	return err;
}

int main(int argc, char **argv)
{
	int runs = 7, arg;

	if (argc < 2)
		return check_run();
	arg = argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(argv[1], "abi")) {
		runs = arg > 0 ? arg : runs;
		return abi_bench(runs < MAX_RUNS ? runs : MAX_RUNS) ? 1 : 0;
	}
	if (!strcmp(argv[1], "abi-scale") && arg > 0) {
		runs = argc > 3 && atoi(argv[3]) > 0 ? atoi(argv[3]) : runs;
		return abi_scale(arg, runs < MAX_RUNS ? runs : MAX_RUNS) ? 1 : 0;
	}
	if (!strcmp(argv[1], "mem-abi") && arg > 0)
		return mem_abi(arg) ? 1 : 0;
	if (!strcmp(argv[1], "mem-kernel") && arg > 0)
		return mem_kernel(arg) ? 1 : 0;
	if (!strcmp(argv[1], "unload"))
		return unload_bench(arg > 0 ? arg : 5) ? 1 : 0;
	fprintf(stderr, "usage: %s [abi [RUNS] | abi-scale THREADS [RUNS] | mem-abi N | mem-kernel N | unload [RUNS]]\n",
		argv[0]);
	return 2;
}
