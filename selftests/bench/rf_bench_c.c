// SPDX-License-Identifier: GPL-2.0
/*
 * rf_bench: in-kernel microbenchmarks of rust_fence against the dma_fence
 * C API, both sides in the same boot.
 *
 * Each benchmark is a pair (or a triple): the C path calling the dma_fence
 * API directly as a C driver does, the Rust path through the rust_fence
 * crate (rf_bench_rust.rs), and for fence issuing also the C API of
 * rust_fence for C drivers (include/rust_fence.h). Every path runs its loop
 * in its own language; this file times the loops, runs them on kernel
 * threads bound to CPUs, alternates the paths run after run to share out
 * any drift, and reports ns per operation: the median of the runs, with
 * min and max.
 *
 * The fences of the C path use a detachable ops table (only the two name
 * callbacks, so they detach on signal) and the inline lock (NULL lock),
 * like those of rust_fence.
 *
 * Interface, in /sys/kernel/debug/rf_bench/: write a command to "control"
 * (the write returns when it is done), then read its "# bench:" lines
 * from "results".
 *
 *   pairs          every benchmark pair, one thread (two for the wake-up)
 *   scale N        (a)-(d) with N threads, each on its own timeline
 *   hold IMPL N    issue N pending fences with IMPL (c, rust or c_api), keep them
 *   signal         signal the held fences, keeping a reference to each
 *   release        drop the held fences
 *
 * Parameters: runs (timed runs, after one warm-up run) and iter_pct (the
 * iterations of each run, in percent of the defaults).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/sync_file.h>
#include <linux/uaccess.h>

#include "rust_fence.h"
#include "rf_bench.h"

static unsigned int runs = 7;
module_param(runs, uint, 0644);
MODULE_PARM_DESC(runs, "Timed runs of each benchmark, after one warm-up run (default 7)");

static unsigned int iter_pct = 100;
module_param(iter_pct, uint, 0644);
MODULE_PARM_DESC(iter_pct, "Iterations of each run, in percent of the defaults (default 100)");

#define RF_MAX_RUNS	32
#define RF_MAX_THREADS	16
#define RF_RESULTS_SIZE	(64 * 1024)

enum rf_impl { RF_C, RF_RUST, RF_C_API, RF_NR_IMPLS };

static const char * const rf_impl_names[RF_NR_IMPLS] = { "c", "rust", "c_api" };

/* The state of one benchmark thread, for every path. */
struct rf_state {
	u64 context;
	u64 seqno;
	struct dma_fence *pending;
	struct dma_fence *signalled;
	void *rs;
	struct rust_fence_timeline *tl;
};

static const void *rf_provider;
static struct dentry *rf_dir;
static DEFINE_MUTEX(rf_lock);
static char *rf_results;
static size_t rf_results_len;
static atomic64_t rf_c_fired = ATOMIC64_INIT(0);

static __printf(1, 2) void rf_out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rf_results_len += vscnprintf(rf_results + rf_results_len,
				     RF_RESULTS_SIZE - rf_results_len, fmt, ap);
	va_end(ap);
}

static const char *rf_c_driver_name(struct dma_fence *fence)
{
	return "rf_bench";
}

static const char *rf_c_timeline_name(struct dma_fence *fence)
{
	return "c";
}

/* Detachable: neither release nor wait, as rust_fence's tables. */
static const struct dma_fence_ops rf_c_ops = {
	.get_driver_name = rf_c_driver_name,
	.get_timeline_name = rf_c_timeline_name,
};

static struct dma_fence *rf_c_fence(struct rf_state *s)
{
	struct dma_fence *fence = kzalloc_obj(*fence, GFP_KERNEL);

	if (fence)
		dma_fence_init64(fence, &rf_c_ops, NULL, s->context, ++s->seqno);
	return fence;
}

static void rf_state_destroy(struct rf_state *s)
{
	if (s->pending) {
		dma_fence_signal(s->pending);
		dma_fence_put(s->pending);
	}
	if (s->signalled)
		dma_fence_put(s->signalled);
	if (s->rs)
		rf_bench_rs_teardown(s->rs);
	rust_fence_timeline_destroy(s->tl);
	memset(s, 0, sizeof(*s));
}

static int rf_state_init(struct rf_state *s)
{
	memset(s, 0, sizeof(*s));
	s->context = dma_fence_context_alloc(1);
	s->pending = rf_c_fence(s);
	s->signalled = rf_c_fence(s);
	s->rs = rf_bench_rs_setup(rf_provider);
	s->tl = rust_fence_timeline_create("rf_bench", "c_api");
	if (!s->pending || !s->signalled || !s->rs || IS_ERR(s->tl)) {
		if (IS_ERR(s->tl))
			s->tl = NULL;
		rf_state_destroy(s);
		return -ENOMEM;
	}
	dma_fence_signal(s->signalled);
	return 0;
}

/* The C paths. */

/* (a) allocate, initialise, signal and put a fence. */
static int c_alloc_signal(struct rf_state *s, u64 n)
{
	while (n--) {
		struct dma_fence *fence = rf_c_fence(s);

		if (!fence)
			return -ENOMEM;
		dma_fence_signal(fence);
		dma_fence_put(fence);
	}
	return 0;
}

/* (b) take and drop a reference. */
static int c_get_put(struct rf_state *s, u64 n)
{
	while (n--) {
		dma_fence_get(s->pending);
		dma_fence_put(s->pending);
	}
	return 0;
}

/* (c) dma_fence_is_signaled() on a pending and on a signalled fence. */
static int c_is_signaled(struct dma_fence *fence, u64 n, bool expect)
{
	u64 i, yes = 0;

	for (i = 0; i < n; i++)
		yes += dma_fence_is_signaled(fence);
	return yes == (expect ? n : 0) ? 0 : -EINVAL;
}

static int c_is_signaled_pending(struct rf_state *s, u64 n)
{
	return c_is_signaled(s->pending, n, false);
}

static int c_is_signaled_signalled(struct rf_state *s, u64 n)
{
	return c_is_signaled(s->signalled, n, true);
}

static void rf_c_fired_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	atomic64_inc(&rf_c_fired);
}

/* (d) a new fence, a callback on it, the signal that runs it, the put. */
static int c_callback_signal(struct rf_state *s, u64 n)
{
	struct dma_fence_cb cb;

	while (n--) {
		struct dma_fence *fence = rf_c_fence(s);

		if (!fence)
			return -ENOMEM;
		if (dma_fence_add_callback(fence, &cb, rf_c_fired_cb)) {
			dma_fence_put(fence);
			return -EINVAL;
		}
		dma_fence_signal(fence);
		dma_fence_put(fence);
	}
	return 0;
}

/* (d') add a callback to a pending fence and remove it. */
static int c_callback_add_remove(struct rf_state *s, u64 n)
{
	struct dma_fence_cb cb;

	while (n--) {
		if (dma_fence_add_callback(s->pending, &cb, rf_c_fired_cb))
			return -EINVAL;
		dma_fence_remove_callback(s->pending, &cb);
	}
	return 0;
}

/*
 * (g) the work of SyncFileFd::reserve() + attach() + drop without
 * installing the fd: reserve an fd, create the sync_file, drop both. The
 * harness flushes the deferred release of the files in the timed region.
 */
static int c_sync_file(struct rf_state *s, u64 n)
{
	while (n--) {
		int fd = get_unused_fd_flags(O_CLOEXEC);
		struct sync_file *sync_file;

		if (fd < 0)
			return fd;
		sync_file = sync_file_create(s->pending);
		if (!sync_file) {
			put_unused_fd(fd);
			return -ENOMEM;
		}
		fput(sync_file->file);
		put_unused_fd(fd);
	}
	return 0;
}

/* (f) (a) through the C API of rust_fence. */
static int c_api_alloc_signal(struct rf_state *s, u64 n)
{
	while (n--) {
		struct dma_fence *fence = rust_fence_issue(s->tl);
		int ret;

		if (IS_ERR(fence))
			return PTR_ERR(fence);
		ret = rust_fence_signal(s->tl, fence, 0);
		dma_fence_put(fence);
		if (ret)
			return ret;
	}
	return 0;
}

/* The Rust paths: one call into Rust per run. */
#define RF_RUST_PATH(name)						\
static int rs_##name(struct rf_state *s, u64 n)				\
{									\
	return rf_bench_rs_##name(s->rs, n);				\
}

RF_RUST_PATH(alloc_signal)
RF_RUST_PATH(get_put)
RF_RUST_PATH(is_signaled_pending)
RF_RUST_PATH(is_signaled_signalled)
RF_RUST_PATH(callback_signal)
RF_RUST_PATH(callback_add_remove)
RF_RUST_PATH(sync_file)

typedef int (*rf_run_fn)(struct rf_state *s, u64 n);

struct rf_op {
	const char *name;
	u64 iters;		/* of a run, per thread, at iter_pct=100 */
	bool scale;		/* also run with several threads */
	bool fput;		/* flush the deferred file releases in the timing */
	rf_run_fn path[RF_NR_IMPLS];
};

static const struct rf_op rf_ops[] = {
	{ "alloc_signal", 20000, true, false,
	  { c_alloc_signal, rs_alloc_signal, c_api_alloc_signal } },
	{ "get_put", 2000000, true, false, { c_get_put, rs_get_put } },
	{ "is_signaled_pending", 2000000, true, false,
	  { c_is_signaled_pending, rs_is_signaled_pending } },
	{ "is_signaled_signalled", 2000000, true, false,
	  { c_is_signaled_signalled, rs_is_signaled_signalled } },
	{ "callback_signal", 20000, true, false,
	  { c_callback_signal, rs_callback_signal } },
	{ "callback_add_remove", 100000, false, false,
	  { c_callback_add_remove, rs_callback_add_remove } },
	{ "sync_file", 5000, false, true, { c_sync_file, rs_sync_file } },
};

static u64 rf_iters(u64 base)
{
	return max_t(u64, 1, div_u64(base * iter_pct, 100));
}

static int rf_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Splits picoseconds into nanoseconds and tenths, rounded. */
static void rf_ns(u64 ps, u64 *ns, u64 *tenths)
{
	u32 rem;

	*ns = div_u64_rem(div_u64(ps + 50, 100), 10, &rem);
	*tenths = rem;
}

/* Prints one result: the median, min and max of @samples (ps per op). */
static void rf_report(const char *op, enum rf_impl impl, unsigned int threads,
		      u64 iters, u64 *samples, unsigned int n)
{
	u64 v[3][2];

	sort(samples, n, sizeof(*samples), rf_cmp_u64, NULL);
	rf_ns(samples[n / 2], &v[0][0], &v[0][1]);
	rf_ns(samples[0], &v[1][0], &v[1][1]);
	rf_ns(samples[n - 1], &v[2][0], &v[2][1]);
	rf_out("# bench: kernel op=%s impl=%s cpus=%u threads=%u iters=%llu runs=%u median=%llu.%llu min=%llu.%llu max=%llu.%llu\n",
	       op, rf_impl_names[impl], num_online_cpus(), threads, iters, n,
	       v[0][0], v[0][1], v[1][0], v[1][1], v[2][0], v[2][1]);
}

/* A benchmark thread: set up its state, then run when told, until told to stop. */
struct rf_worker {
	struct rf_state state;
	int setup_err;
	rf_run_fn fn;
	u64 iters;
	bool fput;
	bool stop;
	u64 t_end;
	int err;
	struct completion go;
	struct completion done;
};

static int rf_worker_fn(void *data)
{
	struct rf_worker *w = data;

	w->setup_err = rf_state_init(&w->state);
	complete(&w->done);
	while (!w->setup_err) {
		wait_for_completion(&w->go);
		if (w->stop)
			break;
		w->err = w->fn(&w->state, w->iters);
		if (w->fput)
			flush_delayed_fput();
		w->t_end = ktime_get_ns();
		complete(&w->done);
	}
	if (!w->setup_err)
		rf_state_destroy(&w->state);
	kthread_complete_and_exit(&w->done, 0);
}

/* Stops the first @n workers of @w, which have finished their setup. */
static void rf_workers_stop(struct rf_worker *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (w[i].setup_err)
			continue;
		w[i].stop = true;
		complete(&w[i].go);
		wait_for_completion(&w[i].done);
	}
}

static int rf_workers_start(struct rf_worker *w, unsigned int n)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		struct task_struct *task;

		init_completion(&w[i].go);
		init_completion(&w[i].done);
		task = kthread_create(rf_worker_fn, &w[i], "rf_bench/%u", i);
		if (IS_ERR(task)) {
			err = PTR_ERR(task);
			break;
		}
		/*
		 * One CPU each, round robin: no migrations in the timed
		 * region, and work a thread defers to a per-CPU worker (the
		 * release of files) runs on its CPU, inside its time.
		 */
		kthread_bind(task, cpumask_nth(i % num_online_cpus(), cpu_online_mask));
		wake_up_process(task);
		wait_for_completion(&w[i].done);
		if (w[i].setup_err) {
			/* The thread exits after the second complete(). */
			wait_for_completion(&w[i].done);
			err = w[i].setup_err;
			i++;
			break;
		}
	}
	if (err)
		rf_workers_stop(w, i);
	return err;
}

/* One run of @fn on every worker at once: wall ns from start to the last end. */
static int rf_workers_run(struct rf_worker *w, unsigned int n, rf_run_fn fn,
			  u64 iters, bool fput, u64 *wall)
{
	u64 start, end = 0;
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		w[i].fn = fn;
		w[i].iters = iters;
		w[i].fput = fput;
	}
	start = ktime_get_ns();
	for (i = 0; i < n; i++)
		complete(&w[i].go);
	for (i = 0; i < n; i++) {
		wait_for_completion(&w[i].done);
		end = max(end, w[i].t_end);
		err = err ?: w[i].err;
	}
	*wall = end - start;
	return err;
}

/* Runs every path of @op on @threads threads, alternating them run after run. */
static int rf_bench_op(const struct rf_op *op, unsigned int threads)
{
	/* The same work in all whatever the threads: the ns per op and thread compare. */
	u64 samples[RF_NR_IMPLS][RF_MAX_RUNS], iters = rf_iters(div_u64(op->iters, threads));
	unsigned int nruns = clamp(runs, 1U, RF_MAX_RUNS);
	struct rf_worker *w;
	int r, k, err;

	w = kzalloc_objs(*w, threads, GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	err = rf_workers_start(w, threads);
	if (err)
		goto out;
	/* Run -1 warms the caches up and is not counted. */
	for (r = -1; r < (int)nruns && !err; r++) {
		for (k = 0; k < RF_NR_IMPLS && !err; k++) {
			int impl = (r & 1) ? RF_NR_IMPLS - 1 - k : k;
			u64 wall;

			if (!op->path[impl])
				continue;
			err = rf_workers_run(w, threads, op->path[impl], iters,
					     op->fput, &wall);
			if (err)
				rf_out("# bench: kernel op=%s impl=%s error=%d\n",
				       op->name, rf_impl_names[impl], err);
			else if (r >= 0)
				samples[impl][r] = div64_u64(wall * 1000, iters);
			cond_resched();
		}
	}
	rf_workers_stop(w, threads);
	for (k = 0; k < RF_NR_IMPLS && !err; k++)
		if (op->path[k])
			rf_report(op->name, k, threads, iters, samples[k], nruns);
out:
	kfree(w);
	return err;
}

/*
 * (e) Wake-up latency: a waiter thread blocks in a fence wait, a signaller
 * thread signals the fence once the waiter sleeps; the latency runs from
 * just before the signal call to the waiter running again after its wait.
 * With two CPUs or more the two threads are on different CPUs.
 */
struct rf_wake {
	enum rf_impl impl;
	u64 iters;
	u64 *lat;
	struct rf_state state;
	struct task_struct *waiter;
	struct dma_fence *fence;	/* the waiter's reference */
	u64 waiting;			/* the iteration the waiter waits for */
	u64 t_woken;
	int err;
	struct completion published;
	struct completion woken;
	struct completion exited[2];
};

static int rf_wake_waiter(void *data)
{
	struct rf_wake *w = data;
	u64 i;

	for (i = 1; i <= w->iters; i++) {
		struct dma_fence *fence;

		wait_for_completion(&w->published);
		fence = w->fence;
		if (!fence) {
			/* The signaller failed and stops. */
			complete(&w->woken);
			break;
		}
		WRITE_ONCE(w->waiting, i);
		if (w->impl == RF_C) {
			dma_fence_wait(fence, false);
			dma_fence_put(fence);
		} else {
			rf_bench_rs_wake_wait(fence);
		}
		w->t_woken = ktime_get_ns();
		complete(&w->woken);
	}
	kthread_complete_and_exit(&w->exited[0], 0);
}

/* Is the waiter asleep in its wait for iteration @i? */
static bool rf_wake_asleep(struct rf_wake *w, u64 i)
{
	return READ_ONCE(w->waiting) == i && !task_is_running(w->waiter) &&
	       !READ_ONCE(w->waiter->on_cpu);
}

static int rf_wake_signaller(void *data)
{
	struct rf_wake *w = data;
	u64 i;

	for (i = 1; i <= w->iters; i++) {
		struct dma_fence *fence = NULL;
		void *handle = NULL;
		u64 t0;

		if (w->impl == RF_C) {
			fence = rf_c_fence(&w->state);
			if (fence)
				w->fence = dma_fence_get(fence);
		} else {
			handle = rf_bench_rs_wake_issue(w->state.rs);
			if (handle)
				w->fence = rf_bench_rs_wake_fence(handle);
		}
		if (!fence && !handle) {
			/* The waiter stops at a NULL fence. */
			w->err = -ENOMEM;
			w->fence = NULL;
			complete(&w->published);
			wait_for_completion(&w->woken);
			break;
		}
		complete(&w->published);
		while (!rf_wake_asleep(w, i)) {
			if (num_online_cpus() > 1)
				cpu_relax();
			else
				usleep_range(5, 10);
		}
		t0 = ktime_get_ns();
		if (fence) {
			dma_fence_signal(fence);
			dma_fence_put(fence);
		} else {
			rf_bench_rs_wake_signal(handle);
		}
		wait_for_completion(&w->woken);
		w->lat[i - 1] = w->t_woken - t0;
	}
	kthread_complete_and_exit(&w->exited[1], 0);
}

/* One run of the wake-up benchmark of @impl: the median latency, in ps. */
static int rf_wake_run(struct rf_wake *w, enum rf_impl impl, u64 *median)
{
	struct task_struct *waiter, *signaller;

	w->impl = impl;
	w->waiting = 0;
	w->err = 0;
	init_completion(&w->published);
	init_completion(&w->woken);
	init_completion(&w->exited[0]);
	init_completion(&w->exited[1]);
	waiter = kthread_create(rf_wake_waiter, w, "rf_bench/waiter");
	if (IS_ERR(waiter))
		return PTR_ERR(waiter);
	signaller = kthread_create(rf_wake_signaller, w, "rf_bench/signal");
	if (IS_ERR(signaller)) {
		kthread_stop(waiter);
		return PTR_ERR(signaller);
	}
	if (num_online_cpus() > 1) {
		kthread_bind(waiter, cpumask_nth(1, cpu_online_mask));
		kthread_bind(signaller, cpumask_first(cpu_online_mask));
	}
	get_task_struct(waiter);
	w->waiter = waiter;
	wake_up_process(waiter);
	wake_up_process(signaller);
	wait_for_completion(&w->exited[1]);
	wait_for_completion(&w->exited[0]);
	put_task_struct(waiter);
	if (w->err)
		return w->err;
	sort(w->lat, w->iters, sizeof(*w->lat), rf_cmp_u64, NULL);
	*median = w->lat[w->iters / 2] * 1000;
	return 0;
}

static int rf_bench_wake(void)
{
	u64 samples[RF_NR_IMPLS][RF_MAX_RUNS];
	unsigned int nruns = clamp(runs, 1U, RF_MAX_RUNS);
	struct rf_wake *w;
	int r, k, err;

	w = kzalloc_obj(*w, GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->iters = rf_iters(1000);
	w->lat = kvcalloc(w->iters, sizeof(*w->lat), GFP_KERNEL);
	err = w->lat ? rf_state_init(&w->state) : -ENOMEM;
	if (err)
		goto out;
	for (r = -1; r < (int)nruns && !err; r++) {
		for (k = 0; k < 2 && !err; k++) {
			int impl = (r & 1) ? 1 - k : k;
			u64 median;

			err = rf_wake_run(w, impl, &median);
			if (err)
				rf_out("# bench: kernel op=wake_latency impl=%s error=%d\n",
				       rf_impl_names[impl], err);
			else if (r >= 0)
				samples[impl][r] = median;
		}
	}
	rf_state_destroy(&w->state);
	for (k = 0; k < 2 && !err; k++)
		rf_report("wake_latency", k, 1, w->iters, samples[k], nruns);
out:
	kvfree(w->lat);
	kfree(w);
	return err;
}

static int rf_cmd_pairs(void)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(rf_ops); i++)
		err = rf_bench_op(&rf_ops[i], 1) ?: err;
	err = rf_bench_wake() ?: err;
	if (rf_bench_rs_fired() == 0 || atomic64_read(&rf_c_fired) == 0)
		rf_out("# bench: kernel error: callbacks did not run\n");
	return err;
}

static int rf_cmd_scale(unsigned int threads)
{
	unsigned int i;
	int err = 0;

	if (!threads || threads > RF_MAX_THREADS)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(rf_ops); i++)
		if (rf_ops[i].scale)
			err = rf_bench_op(&rf_ops[i], threads) ?: err;
	return err;
}

/* Fences held for the memory figures, which userspace reads in /proc/slabinfo. */
static struct {
	bool active;
	bool signalled;
	enum rf_impl impl;
	u64 n;
	struct rf_state state;
	struct dma_fence **fences;
	void *rs_hold;
} rf_hold;

static void rf_hold_release(void)
{
	u64 i;

	if (!rf_hold.active)
		return;
	if (rf_hold.rs_hold)
		rf_bench_rs_hold_free(rf_hold.rs_hold);
	for (i = 0; rf_hold.fences && i < rf_hold.n; i++) {
		if (!rf_hold.fences[i])
			break;
		if (rf_hold.impl == RF_C)
			dma_fence_signal(rf_hold.fences[i]);
		else if (!rf_hold.signalled)
			rust_fence_signal(rf_hold.state.tl, rf_hold.fences[i], 0);
		dma_fence_put(rf_hold.fences[i]);
	}
	kvfree(rf_hold.fences);
	rf_state_destroy(&rf_hold.state);
	memset(&rf_hold, 0, sizeof(rf_hold));
}

static int rf_cmd_hold(const char *impl, u64 n)
{
	u64 i;
	int err;

	if (rf_hold.active || !n)
		return -EBUSY;
	for (i = 0; i < RF_NR_IMPLS; i++)
		if (!strcmp(impl, rf_impl_names[i]))
			break;
	if (i == RF_NR_IMPLS)
		return -EINVAL;
	err = rf_state_init(&rf_hold.state);
	if (err)
		return err;
	rf_hold.active = true;
	rf_hold.impl = i;
	rf_hold.n = n;
	if (rf_hold.impl == RF_RUST) {
		rf_hold.rs_hold = rf_bench_rs_hold(rf_hold.state.rs, n);
		err = rf_hold.rs_hold ? 0 : -ENOMEM;
		goto out;
	}
	rf_hold.fences = kvcalloc(n, sizeof(*rf_hold.fences), GFP_KERNEL);
	if (!rf_hold.fences) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !err; i++) {
		struct dma_fence *fence;

		if (rf_hold.impl == RF_C)
			fence = rf_c_fence(&rf_hold.state) ?: ERR_PTR(-ENOMEM);
		else
			fence = rust_fence_issue(rf_hold.state.tl);
		if (IS_ERR(fence))
			err = PTR_ERR(fence);
		else
			rf_hold.fences[i] = fence;
	}
out:
	if (err)
		rf_hold_release();
	return err;
}

static int rf_cmd_signal(void)
{
	u64 i;

	if (!rf_hold.active || rf_hold.signalled)
		return -EINVAL;
	rf_hold.signalled = true;
	if (rf_hold.rs_hold) {
		rf_bench_rs_hold_signal(rf_hold.rs_hold);
		return 0;
	}
	for (i = 0; i < rf_hold.n; i++) {
		if (rf_hold.impl == RF_C)
			dma_fence_signal(rf_hold.fences[i]);
		else
			rust_fence_signal(rf_hold.state.tl, rf_hold.fences[i], 0);
	}
	return 0;
}

static ssize_t rf_control_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	char cmd[64], impl[8];
	unsigned int threads;
	u64 n;
	int err;

	if (len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	strim(cmd);

	mutex_lock(&rf_lock);
	rf_results_len = 0;
	rf_results[0] = '\0';
	if (!strcmp(cmd, "pairs"))
		err = rf_cmd_pairs();
	else if (sscanf(cmd, "scale %u", &threads) == 1)
		err = rf_cmd_scale(threads);
	else if (sscanf(cmd, "hold %7s %llu", impl, &n) == 2)
		err = rf_cmd_hold(impl, n);
	else if (!strcmp(cmd, "signal"))
		err = rf_cmd_signal();
	else if (!strcmp(cmd, "release"))
		err = rf_hold.active ? (rf_hold_release(), 0) : -EINVAL;
	else
		err = -EINVAL;
	mutex_unlock(&rf_lock);
	return err ?: len;
}

static ssize_t rf_results_read(struct file *file, char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&rf_lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, rf_results, rf_results_len);
	mutex_unlock(&rf_lock);
	return ret;
}

static const struct file_operations rf_control_fops = {
	.owner = THIS_MODULE,
	.write = rf_control_write,
};

static const struct file_operations rf_results_fops = {
	.owner = THIS_MODULE,
	.read = rf_results_read,
};

int rf_bench_c_init(const void *provider)
{
	rf_provider = provider;
	rf_results = kvzalloc(RF_RESULTS_SIZE, GFP_KERNEL);
	if (!rf_results)
		return -ENOMEM;
	rf_dir = debugfs_create_dir("rf_bench", NULL);
	debugfs_create_file("control", 0200, rf_dir, NULL, &rf_control_fops);
	debugfs_create_file("results", 0444, rf_dir, NULL, &rf_results_fops);
	return 0;
}

void rf_bench_c_exit(void)
{
	debugfs_remove(rf_dir);
	rf_hold_release();
	/* Readers that loaded rf_c_ops before the fences detached are done after this. */
	synchronize_rcu();
	kvfree(rf_results);
}
