// SPDX-License-Identifier: GPL-2.0
/*
 * fence_ops unloaded and loaded again while consumers are mid-operation.
 *
 * A controller process loads and unloads fence_ops (finit_module and
 * delete_module) for RF_UNLOAD_CYCLES cycles (25, or 200 with
 * RF_STRESS=full), while RF_UNLOAD_WORKERS worker processes (4) open
 * timelines, make points, close them (the points signal with -ENOENT) or
 * keep them after close (the unload cancels them with -ENODEV), and then
 * keep operating on the sync_file fds across the unloads: SYNC_IOC_FILE_INFO,
 * poll() with and without a wait, SYNC_IOC_MERGE with each other and with
 * points of the C sw_sync, SYNC_IOC_SET_DEADLINE, dup and close, and the
 * in-kernel holder (/dev/fence_holder) keeping references and callbacks
 * and waiting for them. An open timeline file keeps fence_ops loaded, so
 * workers hold one only while making points (and asking, through
 * SW_SYNC_GET_DEADLINE, about fds held from earlier loads, and reading
 * the info file).
 *
 * Each worker knows what each of its fds must answer: a fence of a
 * timeline closed without FENCE_OPS_KEEP_ON_CLOSE 1 or -ENOENT, a kept
 * point 0 until the unload of the load it was made in, -ENODEV afterwards,
 * a merged sync_file what its pending parts make of it, and a signalled
 * fence_ops fence "detached-driver". Some cycles make a fence of a
 * module-pinning timeline (held in an fd, a merged sync_file and the
 * holder): delete_module must answer EWOULDBLOCK until it is released.
 *
 * An unload is counted as mid-operation when a worker had an operation on
 * its sync_files in flight while delete_module ran and succeeded (counters
 * in shared memory around each operation). The parent process is a
 * watchdog: an operation running longer than RF_UNLOAD_HANG_S seconds
 * (60) fails the test with what every process was doing, its kernel stack
 * and fence_ops' info file (if loaded), then kills them all.
 *
 * Needs rust_fence, fence_holder and fence_ops loaded, fence_ops.ko in
 * $RF_MODDIR and the kernel's C sw_sync. Leaves fence_ops unloaded.
 * RF_SEED (1) seeds the choices of every process: a failure is replayed
 * with the same seed and counts (timing still differs from run to run).
 * Prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sync_file_util.h"
#include "sw_sync_abi.h"
#include "fence_ops_uapi.h"
#include "fence_ops_module.h"
#include "../fence_holder/fence_holder_uapi.h"

#define MAX_WORKERS	8
#define MAX_CYCLES	10000
#define MAX_HELD	24	/* sync_file fds a worker holds */
#define MAX_HOLDER	4	/* fences a worker hands to the in-kernel holder */
#define PIN_EVERY	8	/* a pinning fence every PIN_EVERY cycles */

enum op {
	OP_IDLE, OP_MAKE, OP_INFO, OP_POLL, OP_WAIT, OP_MERGE, OP_DEADLINE,
	OP_DUP, OP_CLOSE, OP_HOLD, OP_WAIT_DROP, OP_C_INC,
	/* The controller's. */
	OP_LOAD, OP_UNLOAD, OP_PIN, OP_SLEEP, OP_FINAL,
	NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"idle", "make points", "file info", "poll", "poll wait", "merge",
	"set deadline", "dup", "close", "holder hold", "holder wait+drop",
	"C sw_sync inc", "finit_module", "delete_module", "pinning fence",
	"sleep", "final checks",
};

struct part {
	int pid;
	int op;			/* what it is doing now */
	uint64_t op_start_ns;	/* since when */
	uint64_t started, done;	/* operations started, done */
	uint64_t count[NR_OPS];
	int held;		/* fds of fence_ops fences held */
	char what[128];		/* the object of the current operation */
	int errors;
	char first_error[256];
	int finished;
};

struct shared {
	int stop;		/* workers: finish */
	int no_open;		/* workers: open no timeline (an unload waits) */
	int no_keep;		/* workers: no FENCE_OPS_KEEP_ON_CLOSE (pin cycle) */
	uint64_t useq;		/* odd while delete_module runs */
	uint64_t lseq;		/* odd while finit_module runs */
	uint64_t gen;		/* successful unloads so far */
	uint64_t gen_ns[MAX_CYCLES + 2];	/* when unload n returned */
	/* Figures of the controller. */
	uint64_t cycles, unloads, midop_unloads, held_unloads, wait_unloads;
	uint64_t ewouldblock, pin_refusals, holder_unloads;
	struct part p[MAX_WORKERS + 1];	/* workers, then the controller */
};

static struct shared *sh;
static int nworkers = 4;
static unsigned int cycles = 25;
static unsigned int seed = 1;
static struct part *me;

static uint64_t now_ns(void)
{
	return monotonic_ns();
}

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)
#define INC(x)		__atomic_add_fetch(&(x), 1, __ATOMIC_SEQ_CST)

static void fail(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (me->errors++ == 0)
		snprintf(me->first_error, sizeof(me->first_error), "%s", buf);
	printf("# %s %d: %s (during %s)\n", me == &sh->p[nworkers] ? "controller" : "worker",
	       (int)(me - sh->p), buf, op_names[me->op]);
	fflush(stdout);
}

static void op_begin(int op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(me->what, sizeof(me->what), fmt, ap);
	va_end(ap);
	STORE(me->op_start_ns, now_ns());
	STORE(me->op, op);
	INC(me->started);
}

static void op_end(void)
{
	me->count[me->op]++;
	INC(me->done);
	STORE(me->op, OP_IDLE);
}

static unsigned int rnd(unsigned int *state, unsigned int n)
{
	return n ? (unsigned int)rand_r(state) % n : 0;
}

/* ---- What a sync_file must answer ---- */

/*
 * A worker's model of one of its sync_file fds. Its status is 0 while a
 * part is pending: a point kept after close while fence_ops is still in
 * the load it was made in (kept_gen), or a point of the worker's C sw_sync
 * timeline not reached yet (c_point). Then it is -ENODEV if a kept point
 * was cancelled by the unload, else @final (1, or -ENOENT for a point of a
 * timeline closed before reaching it).
 */
struct fdm {
	int fd;
	int64_t kept_gen;	/* -1: no kept pending part */
	int64_t kept_tl_gen;	/* a point of a timeline kept in that load, or -1 */
	uint32_t c_point;	/* 0: no C sw_sync part */
	int final;
	int ours;		/* a fence_ops fence or made from one */
	int single;		/* one fence of fence_ops, not merged */
	int seen_final;		/* 0, or the final status once seen */
};

struct worker {
	unsigned int rs;
	int holder;		/* /dev/fence_holder fd */
	int c_tl;		/* C sw_sync timeline */
	uint32_t c_value;	/* its value */
	struct fdm held[MAX_HELD];
	int nheld;
	struct fdm holder_held[MAX_HOLDER];	/* models of the fences held in the kernel */
	int nholder;
	uint64_t checks;
};

/* Expected status with fence_ops after @gen unloads. */
static int expected(const struct worker *w, const struct fdm *m, uint64_t gen)
{
	if (m->kept_gen >= 0 && gen == (uint64_t)m->kept_gen)
		return 0;
	if (m->c_point && (int32_t)(m->c_point - w->c_value) > 0)
		return 0;
	return m->kept_gen >= 0 ? -ENODEV : m->final;
}

/*
 * The unload counts around a call: whether an unload may have overlapped
 * it, and the generation before and after.
 */
struct window {
	uint64_t seq, gen;
};

static struct window window_open(void)
{
	struct window win;

	win.seq = LOAD(sh->useq);
	win.gen = LOAD(sh->gen);
	return win;
}

/*
 * Whether @m may answer @status (or, if @ready_only, a poll readiness
 * @status) within the window: one answer if no unload ran meanwhile,
 * either side of the unloads if one did.
 */
static int answer_ok(const struct worker *w, const struct fdm *m, struct window win,
		     int status, int ready_only, int *exp)
{
	uint64_t seq = LOAD(sh->useq), gen = LOAD(sh->gen);
	int e[3], i, n = 1;

	e[0] = *exp = expected(w, m, win.gen);
	if (seq != win.seq || (seq & 1)) {
		/* An unload ran (or may have) during the call. */
		e[n++] = expected(w, m, gen);
		e[n++] = expected(w, m, win.gen + 1);
	}
	for (i = 0; i < n; i++)
		if (ready_only ? !!e[i] == !!status : e[i] == status)
			return 1;
	return 0;
}

static int status_ok(const struct worker *w, const struct fdm *m, struct window win,
		     int status, int *exp)
{
	return answer_ok(w, m, win, status, 0, exp);
}

static void check_final_sticks(struct fdm *m, int status)
{
	if (m->seen_final && status != m->seen_final)
		fail("fd %d: status %d after %d", m->fd, status, m->seen_final);
	if (status && !m->seen_final)
		m->seen_final = status;
}

/* SYNC_IOC_FILE_INFO with the fence infos: the status and the names. */
static void check_info(struct worker *w, struct fdm *m)
{
	struct sync_fence_info fi[8];
	struct sync_file_info info;
	struct window win;
	int exp, i, known_final, ret, status;

	known_final = m->seen_final != 0;
	win = window_open();
	ret = sync_file_get_info(m->fd, &info, fi, 8);
	if (ret) {
		fail("FILE_INFO on fd %d: %s", m->fd, strerror(-ret));
		return;
	}
	w->checks++;
	if (!status_ok(w, m, win, info.status, &exp))
		fail("fd %d (kept load %lld, C point %u of %u, final %d): status %d, expected %d",
		     m->fd, (long long)m->kept_gen, m->c_point, w->c_value, m->final,
		     info.status, exp);
	check_final_sticks(m, info.status);
	for (i = 0; i < (int)info.num_fences && i < 8; i++) {
		const char *drv = fi[i].driver_name;

		if (fi[i].status == 0 && strcmp(drv, "fence_ops") && strcmp(drv, "sw_sync"))
			fail("fd %d: pending fence of driver \"%s\"", m->fd, drv);
		if (fi[i].status != 0 && fi[i].status != 1 && fi[i].status != -ENOENT &&
		    fi[i].status != -ENODEV)
			fail("fd %d: fence status %d", m->fd, fi[i].status);
	}
	/*
	 * The status of the sync_file's own fence. A fence array whose parts
	 * all signalled before anything enabled its signalling signals with
	 * no error when asked (dma_fence_array_signaled() clears the pending
	 * error without reading the parts'), while SYNC_IOC_FILE_INFO with
	 * fence infos reports the parts': 1 is allowed for an error there.
	 */
	win = window_open();
	status = sync_file_status(m->fd);
	if (!status_ok(w, m, win, status, &exp) &&
	    !(!m->single && status == 1 && m->seen_final < 0))
		fail("fd %d (kept load %lld, C point %u of %u, final %d): own status %d, expected %d; gen %llu/%llu seq %llu/%llu; %u parts: %s %d, %s %d, %s %d",
		     m->fd, (long long)m->kept_gen, m->c_point, w->c_value, m->final, status, exp,
		     (unsigned long long)win.gen, (unsigned long long)LOAD(sh->gen),
		     (unsigned long long)win.seq, (unsigned long long)LOAD(sh->useq),
		     info.num_fences, fi[0].driver_name, fi[0].status, fi[1].driver_name, fi[1].status,
		     fi[2].driver_name, fi[2].status);
	/* Signalled before the call: the core answers for the detached fence. */
	if (m->single && known_final &&
	    (strcmp(fi[0].driver_name, "detached-driver") ||
	     strcmp(fi[0].obj_name, "signaled-timeline")))
		fail("fd %d: signalled, driver \"%s\" timeline \"%s\"", m->fd,
		     fi[0].driver_name, fi[0].obj_name);
	if (m->single && info.status == 0 && strcmp(fi[0].driver_name, "fence_ops"))
		fail("fd %d: pending, driver \"%s\"", m->fd, fi[0].driver_name);
}

/* ---- Worker operations ---- */


static int add_held(struct worker *w, struct fdm m)
{
	if (w->nheld == MAX_HELD) {
		close(m.fd);
		return -1;
	}
	w->held[w->nheld++] = m;
	if (m.ours)
		INC(me->held);
	return 0;
}

static void drop_held(struct worker *w, int i)
{
	if (close(w->held[i].fd))
		fail("close fd %d: %s", w->held[i].fd, strerror(errno));
	if (w->held[i].ours)
		__atomic_sub_fetch(&me->held, 1, __ATOMIC_SEQ_CST);
	w->held[i] = w->held[--w->nheld];
}

/* A deadline set on a pending point of the open timeline @tl reads back. */
static void check_deadline(struct worker *w, int tl, int fd)
{
	__u64 ns = now_ns() + 1000000 + rnd(&w->rs, 1000000), got = 0;
	int ret;

	if (sync_set_deadline(fd, ns))
		fail("SET_DEADLINE: %s", strerror(errno));
	ret = sw_get_deadline(tl, fd, &got);
	if (ret || got != ns)
		fail("GET_DEADLINE of a new point: %d, %llu ns instead of %llu", ret,
		     (unsigned long long)got, (unsigned long long)ns);
}

/*
 * SW_SYNC_GET_DEADLINE on a fd held from before: only a point of a
 * timeline kept in this load (@gen unloads) is found (its deadline, or
 * ENOENT if none was set); any other fence is EINVAL, those of an earlier
 * load of fence_ops included.
 */
static void check_old_deadline(int tl, uint64_t gen, struct fdm *m)
{
	__u64 ns;
	int ret;

	ret = sw_get_deadline(tl, m->fd, &ns);
	if (m->kept_tl_gen == (int64_t)gen || (!m->single && m->kept_gen == (int64_t)gen)) {
		/* A point of a timeline kept in this load, or a merge that may be one. */
		if (ret && ret != -ENOENT && (m->single || ret != -EINVAL))
			fail("GET_DEADLINE of fd %d, a point of a kept timeline: %s", m->fd,
			     strerror(-ret));
	} else if (ret != -EINVAL) {
		fail("GET_DEADLINE of fd %d (kept load %lld, this load %llu, merged %d): %d, expected EINVAL",
		     m->fd, (long long)m->kept_tl_gen, (unsigned long long)gen, !m->single, ret);
	}
}

/*
 * The info file, read while a timeline is open. The module creates it
 * after the sw_sync file: while its init runs, it may not be there yet.
 */
static void check_info_file(void)
{
	uint64_t lseq = LOAD(sh->lseq);
	char buf[8192];
	ssize_t ret = fence_ops_read_info(buf, sizeof(buf));

	if (ret == -ENOENT && (lseq & 1))
		return;
	if (ret < 0 || strncmp(buf, "provider \"fence_ops\": ", 22))
		fail("info: %s", ret < 0 ? strerror(-ret) : buf);
}

/*
 * Opens a timeline, makes points 1..n, advances it by 0..n, and closes it,
 * keeping its pending points or not. The fds of the points are kept.
 */
static void op_make(struct worker *w)
{
	int tl, i, n = 1 + rnd(&w->rs, 4), keep = rnd(&w->rs, 2), inc = rnd(&w->rs, n + 1);
	uint32_t flags = FENCE_OPS_KEEP_ON_CLOSE;
	uint64_t gen;
	int fds[5];

	if (w->nheld + n > MAX_HELD || LOAD(sh->no_open))
		return;
	op_begin(OP_MAKE, "%d points, inc %d, keep %d", n, inc, keep);
	tl = open(FENCE_OPS_SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (tl < 0) {
		/* Unloaded, or going: the file is removed or its module refused. */
		if (errno != ENOENT && errno != ENODEV && errno != ENXIO)
			fail("open timeline: %s", strerror(errno));
		op_end();
		return;
	}
	/* The open file keeps the module: no unload meanwhile. */
	gen = LOAD(sh->gen);
	if (keep && LOAD(sh->no_keep))
		keep = 0;
	if (keep && ioctl(tl, FENCE_OPS_IOC_SET_FLAGS, &flags))
		fail("SET_FLAGS KEEP_ON_CLOSE: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		fds[i] = sw_fence_create(tl, i + 1);
		if (fds[i] < 0)
			fail("CREATE_FENCE %d: %s", i + 1, strerror(-fds[i]));
	}
	if (rnd(&w->rs, 2) && fds[0] >= 0)
		check_deadline(w, tl, fds[0]);
	if (w->nheld && rnd(&w->rs, 2))
		check_old_deadline(tl, gen, &w->held[rnd(&w->rs, w->nheld)]);
	if (sw_inc(tl, inc))
		fail("INC: %s", strerror(errno));
	if (rnd(&w->rs, 8) == 0)
		check_info_file();
	close(tl);
	for (i = 0; i < n; i++) {
		struct fdm m = { .fd = fds[i], .kept_gen = -1, .ours = 1, .single = 1,
				 .kept_tl_gen = keep ? (int64_t)gen : -1 };

		if (fds[i] < 0)
			continue;
		if (i + 1 <= inc)
			m.final = 1;
		else if (keep)
			m.kept_gen = gen;
		else
			m.final = -ENOENT;
		add_held(w, m);
	}
	op_end();
}

static void op_info(struct worker *w)
{
	struct fdm *m = &w->held[rnd(&w->rs, w->nheld)];

	op_begin(OP_INFO, "fd %d", m->fd);
	check_info(w, m);
	op_end();
}

/*
 * poll() for POLLIN, at once or waiting up to 3 s for a fd that only the
 * unload signals (a kept point) or that is signalled already.
 */
static void op_poll(struct worker *w, int wait)
{
	struct fdm *m = &w->held[rnd(&w->rs, w->nheld)];
	struct window win;
	uint64_t t1;
	int ret, exp;

	if (wait && m->c_point && (int32_t)(m->c_point - w->c_value) > 0)
		return;
	op_begin(wait ? OP_WAIT : OP_POLL, "fd %d (kept load %lld, final %d)", m->fd,
		 (long long)m->kept_gen, m->final);
	win = window_open();
	ret = sync_file_wait(m->fd, wait ? 3000 : 0);
	t1 = now_ns();
	if (ret < 0) {
		fail("poll fd %d: %s", m->fd, strerror(-ret));
	} else if (!answer_ok(w, m, win, ret, 1, &exp)) {
		fail("poll fd %d: %s, expected status %d", m->fd, ret ? "ready" : "not ready", exp);
	} else if (wait && !ret && m->kept_gen >= 0) {
		uint64_t gen = LOAD(sh->gen);

		/* The kept point was cancelled well before the wait ended. */
		if (gen > (uint64_t)m->kept_gen &&
		    LOAD(sh->gen_ns[m->kept_gen + 1]) + 1000000000ull < t1)
			fail("poll fd %d: lost wake-up: the unload cancelled its point %llu ms before the wait timed out",
			     m->fd, (unsigned long long)(t1 - sh->gen_ns[m->kept_gen + 1]) / 1000000);
	}
	op_end();
}

/* The parts of @m that may still be pending when merged (none if final). */
static int pending_parts(const struct worker *w, const struct fdm *m, struct window win,
			 struct fdm *parts)
{
	*parts = *m;
	if (m->kept_gen >= 0 && win.gen != (uint64_t)m->kept_gen)
		parts->kept_gen = -1;
	if (m->c_point && (int32_t)(m->c_point - w->c_value) <= 0)
		parts->c_point = 0;
	return parts->kept_gen >= 0 || parts->c_point;
}

/* Merges two of the fds, or one with a new point of the C sw_sync. */
static void op_merge(struct worker *w)
{
	struct fdm *a = &w->held[rnd(&w->rs, w->nheld)], b, pa, pb;
	struct fdm m = { .kept_gen = -1, .kept_tl_gen = -1 };
	int with_c = rnd(&w->rs, 3) == 0, c_fd = -1;
	struct window win;

	if (with_c) {
		uint32_t v = w->c_value + 1 + rnd(&w->rs, 3);

		c_fd = sw_fence_create(w->c_tl, v);
		if (c_fd < 0) {
			fail("C sw_sync CREATE_FENCE: %s", strerror(-c_fd));
			return;
		}
		b = (struct fdm){ .fd = c_fd, .kept_gen = -1, .kept_tl_gen = -1, .c_point = v,
				  .final = 1 };
	} else {
		b = w->held[rnd(&w->rs, w->nheld)];
	}
	op_begin(OP_MERGE, "fd %d with fd %d", a->fd, b.fd);
	win = window_open();
	m.fd = sync_merge_fds("unload_race", a->fd, b.fd);
	if (m.fd < 0) {
		fail("MERGE fds %d and %d: %s", a->fd, b.fd, strerror(-m.fd));
		goto out;
	}
	if (LOAD(sh->useq) != win.seq || (win.seq & 1)) {
		/* An unload ran meanwhile: which parts it kept is unknown. */
		close(m.fd);
		goto out;
	}
	/* Signalled parts are dropped: a stub if none is left. */
	m.final = 1;
	m.ours = a->ours || b.ours;
	if (pending_parts(w, a, win, &pa) && pa.kept_gen >= 0)
		m.kept_gen = pa.kept_gen;
	if (pending_parts(w, &b, win, &pb) && pb.kept_gen >= 0)
		m.kept_gen = pb.kept_gen;
	/* Both C points are of one timeline: the merge keeps the later. */
	m.c_point = pa.c_point;
	if (pb.c_point && (!m.c_point || (int32_t)(pb.c_point - m.c_point) > 0))
		m.c_point = pb.c_point;
	/* Pending single fence_ops fence or not, it is checked as a merge. */
	if (add_held(w, m) == 0)
		check_info(w, &w->held[w->nheld - 1]);
out:
	if (c_fd >= 0)
		close(c_fd);
	op_end();
}

static void op_deadline(struct worker *w)
{
	struct fdm *m = &w->held[rnd(&w->rs, w->nheld)];

	op_begin(OP_DEADLINE, "fd %d", m->fd);
	if (sync_set_deadline(m->fd, now_ns() + rnd(&w->rs, 1000000000)))
		fail("SET_DEADLINE fd %d: %s", m->fd, strerror(errno));
	op_end();
}

static void op_dup(struct worker *w)
{
	struct fdm m = w->held[rnd(&w->rs, w->nheld)];

	op_begin(OP_DUP, "fd %d", m.fd);
	m.fd = fcntl(m.fd, F_DUPFD_CLOEXEC, 0);
	if (m.fd < 0)
		fail("dup: %s", strerror(errno));
	else
		add_held(w, m);
	op_end();
}

static void op_close(struct worker *w)
{
	int i = rnd(&w->rs, w->nheld);

	op_begin(OP_CLOSE, "fd %d", w->held[i].fd);
	drop_held(w, i);
	op_end();
}

static void op_hold(struct worker *w)
{
	struct fdm *m = &w->held[rnd(&w->rs, w->nheld)];

	if (w->nholder == MAX_HOLDER)
		return;
	op_begin(OP_HOLD, "fd %d", m->fd);
	if (ioctl(w->holder, FENCE_HOLDER_IOC_HOLD, &m->fd))
		fail("HOLD fd %d: %s", m->fd, strerror(errno));
	else
		w->holder_held[w->nholder++] = *m;
	op_end();
}

/*
 * The holder waits up to 1 s for each fence, then drops them: those final
 * before the call must be counted signalled, each with its callback.
 */
static void op_wait_drop(struct worker *w)
{
	struct fence_holder_report r;
	unsigned int final = 0, errors = 0;
	struct window win = window_open();
	int i, exp;

	op_begin(OP_WAIT_DROP, "%d fences", w->nholder);
	for (i = 0; i < w->nholder; i++) {
		exp = expected(w, &w->holder_held[i], win.gen);
		final += exp != 0;
		/* A fence array may lose its parts' errors (see check_info()). */
		errors += exp < 0 && w->holder_held[i].single;
	}
	memset(&r, 0, sizeof(r));
	if (ioctl(w->holder, FENCE_HOLDER_IOC_WAIT_DROP, &r)) {
		fail("WAIT_DROP: %s", strerror(errno));
	} else if (r.held != (unsigned int)w->nholder || r.signalled < final ||
		   r.callbacks < r.signalled || r.callbacks > r.held || r.errors < (int)errors ||
		   r.errors > (int)r.held ||
		   (r.last_error && r.last_error != -ENOENT && r.last_error != -ENODEV) ||
		   (r.errors && !r.last_error)) {
		fail("holder report: held %u signalled %u callbacks %u errors %d last %d; expected held %d, at least %u signalled and %u errors",
		     r.held, r.signalled, r.callbacks, r.errors, r.last_error, w->nholder, final,
		     errors);
	}
	w->nholder = 0;
	op_end();
}

static void op_c_inc(struct worker *w, uint32_t by)
{
	op_begin(OP_C_INC, "by %u", by);
	if (sw_inc(w->c_tl, by))
		fail("C sw_sync INC: %s", strerror(errno));
	w->c_value += by;
	op_end();
}

static void run_worker(int id)
{
	struct worker w = { .rs = seed * 1000 + id };
	int i;

	me = &sh->p[id];
	w.holder = open(FENCE_HOLDER_PATH, O_RDWR | O_CLOEXEC);
	w.c_tl = open(SW_SYNC_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
	if (w.holder < 0 || w.c_tl < 0) {
		fail("open %s: %s", w.holder < 0 ? FENCE_HOLDER_PATH : SW_SYNC_DEFAULT_PATH,
		     strerror(errno));
		exit(1);
	}
	while (!LOAD(sh->stop)) {
		unsigned int r = rnd(&w.rs, 100);

		if (w.nheld < 4 || r < 8) {
			op_make(&w);
			if (!w.nheld)
				usleep(1000);
			continue;
		}
		if (r < 35)
			op_info(&w);
		else if (r < 50)
			op_poll(&w, 0);
		else if (r < 54)
			op_poll(&w, 1);
		else if (r < 64)
			op_merge(&w);
		else if (r < 70)
			op_deadline(&w);
		else if (r < 75)
			op_dup(&w);
		else if (r < 85)
			op_close(&w);
		else if (r < 90)
			op_hold(&w);
		else if (r < 92)
			op_wait_drop(&w);
		else
			op_c_inc(&w, 1 + rnd(&w.rs, 2));
	}

	/* fence_ops is unloaded for good: every fd is final now. */
	op_c_inc(&w, 8);
	op_begin(OP_FINAL, "%d fds", w.nheld);
	for (i = 0; i < w.nheld; i++) {
		int exp = expected(&w, &w.held[i], LOAD(sh->gen));

		if (exp == 0)
			fail("fd %d still pending at the end", w.held[i].fd);
		check_info(&w, &w.held[i]);
		if (sync_file_wait(w.held[i].fd, 0) != 1)
			fail("fd %d not ready at the end", w.held[i].fd);
	}
	op_end();
	if (w.nholder)
		op_wait_drop(&w);
	while (w.nheld)
		drop_held(&w, w.nheld - 1);
	close(w.holder);
	close(w.c_tl);
	printf("# worker %d: %llu ops, %llu status checks:", id,
	       (unsigned long long)me->done, (unsigned long long)w.checks);
	for (i = OP_MAKE; i <= OP_C_INC; i++)
		printf(" %s %llu%s", op_names[i], (unsigned long long)me->count[i],
		       i < OP_C_INC ? "," : "\n");
	fflush(stdout);
	STORE(me->finished, 1);
	exit(me->errors ? 1 : 0);
}

/* ---- Controller ---- */

/* delete_module until it succeeds; counts the unloads that ran mid-operation. */
static int do_unload(unsigned int *rs)
{
	uint64_t done0[MAX_WORKERS], started1, waiting;
	int i, ret, tries, midop, held;

	for (tries = 0; tries < 20000; tries++) {
		if (tries == 20)
			STORE(sh->no_open, 1);
		for (i = 0; i < nworkers; i++)
			done0[i] = LOAD(sh->p[i].done);
		waiting = 0;
		for (i = 0; i < nworkers; i++) {
			int op = LOAD(sh->p[i].op);

			waiting |= op == OP_WAIT || op == OP_WAIT_DROP;
		}
		INC(sh->useq);
		ret = fence_ops_unload();
		if (!ret) {
			/* Before useq is even again: no window sees the old count. */
			STORE(sh->gen_ns[sh->gen + 1], now_ns());
			INC(sh->gen);
		}
		INC(sh->useq);
		if (ret == -EWOULDBLOCK) {
			sh->ewouldblock++;
			usleep(rnd(rs, 2000));
			continue;
		}
		if (ret) {
			fail("delete_module: %s", strerror(-ret));
			return ret;
		}
		midop = 0;
		held = 0;
		for (i = 0; i < nworkers; i++) {
			/* An operation started before the unload ended, done after it began. */
			started1 = LOAD(sh->p[i].started);
			midop |= started1 > done0[i];
			held |= LOAD(sh->p[i].held) > 0;
		}
		for (i = 0; i < nworkers; i++) {
			int op = LOAD(sh->p[i].op);

			waiting |= op == OP_WAIT || op == OP_WAIT_DROP;
		}
		sh->unloads++;
		sh->midop_unloads += midop;
		sh->held_unloads += held;
		sh->wait_unloads += midop && waiting;
		STORE(sh->no_open, 0);
		if (fence_ops_loaded())
			fail("fence_ops files still there after the unload");
		return 0;
	}
	fail("delete_module: EWOULDBLOCK %d times", tries);
	return -EWOULDBLOCK;
}

/*
 * A fence of a module-pinning timeline, in an fd, a merged sync_file and
 * the holder, refuses the unload until the last of them is gone.
 */
static void pin_cycle(int holder)
{
	__u32 flags = FENCE_OPS_PIN_MODULE;
	struct fence_holder_report r;
	int tl, c_tl, pinned, c_fence, merged, ret;
	char info[4096];

	op_begin(OP_PIN, "pinning timeline");
	tl = open(FENCE_OPS_SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	if (tl < 0) {
		fail("open timeline: %s", strerror(errno));
		goto out;
	}
	/* No worker keeps points in this load. */
	if (ioctl(tl, FENCE_OPS_IOC_SET_FLAGS, &flags))
		fail("SET_FLAGS PIN_MODULE: %s", strerror(errno));
	pinned = sw_fence_create(tl, 1);
	c_tl = open(SW_SYNC_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
	c_fence = sw_fence_create(c_tl, 1);
	if (pinned < 0 || c_tl < 0 || c_fence < 0) {
		fail("pinning fence %d, C timeline %d, C fence %d", pinned, c_tl, c_fence);
		close(tl);
		goto out;
	}
	/* Both pending: the merge and the holder's callback keep the pinning fence. */
	merged = sync_merge_fds("pinned", pinned, c_fence);
	if (merged < 0 || ioctl(holder, FENCE_HOLDER_IOC_HOLD, &pinned))
		fail("merge or hold the pinning fence: %s", strerror(errno));
	close(tl);
	if (sync_file_status(pinned) != -ENOENT)
		fail("pinning fence status %d, expected -ENOENT", sync_file_status(pinned));
	ret = fence_ops_read_info(info, sizeof(info));
	if (ret < 0 || !strstr(info, "pending, ") || strstr(info, " 0 pinned\n"))
		fail("info shows no pinned fence: %s", ret < 0 ? strerror(-ret) : info);

	/* In an fd, a merge and the holder: refused. */
	ret = fence_ops_unload();
	if (ret != -EWOULDBLOCK || !fence_ops_loaded())
		fail("delete_module with a pinning fence: %d, expected -EWOULDBLOCK", ret);
	sh->pin_refusals += ret == -EWOULDBLOCK;
	close(pinned);
	ret = fence_ops_unload();
	if (ret != -EWOULDBLOCK)
		fail("delete_module with a merged pinning fence: %d", ret);
	sh->pin_refusals += ret == -EWOULDBLOCK;
	close(merged);
	ret = fence_ops_unload();
	if (ret != -EWOULDBLOCK)
		fail("delete_module with a held pinning fence: %d", ret);
	sh->pin_refusals += ret == -EWOULDBLOCK;
	memset(&r, 0, sizeof(r));
	if (ioctl(holder, FENCE_HOLDER_IOC_WAIT_DROP, &r) || r.held != 1 || r.signalled != 1 ||
	    r.last_error != -ENOENT)
		fail("holder: held %u signalled %u last error %d", r.held, r.signalled,
		     r.last_error);
	sw_inc(c_tl, 1);
	close(c_fence);
	close(c_tl);
out:
	/* Released: the workers may keep points again, and the unload may succeed. */
	STORE(sh->no_keep, 0);
	op_end();
}

static void run_controller(void)
{
	unsigned int rs = seed * 1000 + 999, c;
	int holder, ret;

	me = &sh->p[nworkers];
	holder = open(FENCE_HOLDER_PATH, O_RDWR | O_CLOEXEC);
	if (holder < 0) {
		fail("open %s: %s", FENCE_HOLDER_PATH, strerror(errno));
		exit(1);
	}
	for (c = 0; c < cycles && !me->errors; c++) {
		int pin = c % PIN_EVERY == PIN_EVERY - 1;

		if (!fence_ops_loaded()) {
			if (pin)
				STORE(sh->no_keep, 1);
			op_begin(OP_LOAD, "cycle %u", c);
			INC(sh->lseq);
			ret = fence_ops_load();
			INC(sh->lseq);
			if (ret)
				fail("finit_module: %s", strerror(-ret));
			op_end();
		}
		op_begin(OP_SLEEP, "cycle %u, loaded", c);
		usleep(20000 + rnd(&rs, 200000));
		op_end();
		if (pin)
			pin_cycle(holder);
		op_begin(OP_UNLOAD, "cycle %u", c);
		ret = do_unload(&rs);
		op_end();
		if (ret)
			break;
		op_begin(OP_SLEEP, "cycle %u, unloaded", c);
		usleep(rnd(&rs, 100000));
		op_end();
		sh->cycles++;
	}
	close(holder);
	STORE(me->finished, 1);
	exit(me->errors ? 1 : 0);
}

/* ---- Watchdog and report (the parent) ---- */

static void print_file(const char *label, const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		printf("#   %s%s\n", label, line);
}

/* How long @p has been in its current operation. */
static int64_t op_age_ns(struct part *p)
{
	int64_t start = LOAD(p->op_start_ns);
	int64_t age = now_ns() - start;

	return age > 0 ? age : 0;
}

/* What each process was doing, its kernel stack, and fence_ops' state. */
static void print_state(void)
{
	char path[64];
	int i;

	printf("# state: %llu unloads, delete_module %s, fence_ops %s, no_open %d, no_keep %d\n",
	       (unsigned long long)LOAD(sh->gen), LOAD(sh->useq) & 1 ? "running" : "not running",
	       fence_ops_loaded() ? "loaded" : "not loaded", LOAD(sh->no_open), LOAD(sh->no_keep));
	for (i = 0; i <= nworkers; i++) {
		struct part *p = &sh->p[i];
		int op = LOAD(p->op);

		printf("# %s %d (pid %d): %s (%s) for %lld ms, %llu ops done, %d fds held%s\n",
		       i == nworkers ? "controller" : "worker", i, p->pid, op_names[op], p->what,
		       op == OP_IDLE ? 0LL : (long long)op_age_ns(p) / 1000000,
		       (unsigned long long)p->done, p->held, p->finished ? ", finished" : "");
		snprintf(path, sizeof(path), "/proc/%d/wchan", p->pid);
		print_file("wchan: ", path);
		snprintf(path, sizeof(path), "/proc/%d/stack", p->pid);
		print_file("", path);
	}
	if (fence_ops_loaded()) {
		/* Read by a child: a hung read must not hang the report. */
		pid_t pid = fork();

		if (pid == 0) {
			alarm(5);
			if (access(FENCE_OPS_INFO_PATH, R_OK))
				printf("# info: %s\n", strerror(errno));
			print_file("info: ", FENCE_OPS_INFO_PATH);
			fflush(stdout);
			_exit(0);
		}
		if (pid > 0) {
			for (i = 0; i < 60 && waitpid(pid, NULL, WNOHANG) == 0; i++)
				usleep(100000);
		}
	}
	fflush(stdout);
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

int main(void)
{
	const char *stress = getenv("RF_STRESS");
	int full = stress && !strcmp(stress, "full");
	unsigned int hang_s = env_ul("RF_UNLOAD_HANG_S", 60);
	int i, status, alive, failed = 0, hung = 0, errors = 0;
	uint64_t start = now_ns(), ops = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	cycles = env_ul("RF_UNLOAD_CYCLES", full ? 200 : 25);
	nworkers = env_ul("RF_UNLOAD_WORKERS", 4);
	seed = env_ul("RF_SEED", 1);
	printf("TAP version 13\n");
	if (nworkers < 1 || nworkers > MAX_WORKERS || cycles > MAX_CYCLES) {
		printf("1..0 # SKIP bad RF_UNLOAD_WORKERS or RF_UNLOAD_CYCLES\n");
		return 4;
	}
	if (!fence_ops_loaded() || access(FENCE_HOLDER_PATH, F_OK) ||
	    access(SW_SYNC_DEFAULT_PATH, F_OK)) {
		printf("1..0 # SKIP needs fence_ops, fence_holder and the C sw_sync\n");
		return 4;
	}
	printf("# seed %u, %u cycles, %d workers (replay: RF_SEED=%u RF_UNLOAD_CYCLES=%u RF_UNLOAD_WORKERS=%d)\n",
	       seed, cycles, nworkers, seed, cycles, nworkers);
	printf("1..5\n");

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	me = &sh->p[nworkers];
	for (i = 0; i <= nworkers; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			printf("Bail out! fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			if (i < nworkers)
				run_worker(i);
			run_controller();
		}
		sh->p[i].pid = pid;
	}

	/* Watch: every operation ends within hang_s seconds. */
	alive = nworkers + 1;
	while (alive > 0 && !hung) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid > 0) {
			alive--;
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				failed++;
			if (pid == sh->p[nworkers].pid)
				STORE(sh->stop, 1);
			continue;
		}
		for (i = 0; i <= nworkers; i++) {
			struct part *p = &sh->p[i];

			if (LOAD(p->op) != OP_IDLE && !p->finished &&
			    op_age_ns(p) > hang_s * 1000000000ll) {
				printf("# %s %d: no progress for %u s\n",
				       i == nworkers ? "controller" : "worker", i, hang_s);
				hung = 1;
			}
		}
		usleep(100000);
	}
	if (hung) {
		/*
		 * Stopped, so that what is printed is one state (a task in
		 * the kernel stops on its way out).
		 */
		for (i = 0; i <= nworkers; i++)
			kill(sh->p[i].pid, SIGSTOP);
		usleep(200000);
		print_state();
		for (i = 0; i <= nworkers; i++)
			kill(sh->p[i].pid, SIGKILL);
		/* Reap them (10 s at most): their fds must be closed before the modules go. */
		for (i = 0; i < 100 && alive > 0; i++) {
			while (alive > 0 && waitpid(-1, NULL, WNOHANG) > 0)
				alive--;
			if (alive > 0)
				usleep(100000);
		}
	}

	for (i = 0; i <= nworkers; i++) {
		errors += sh->p[i].errors;
		if (i < nworkers)
			ops += sh->p[i].done;
	}
	printf("# figures: unload_race: cycles: %llu, successful unloads: %llu, unloads mid-operation: %llu (with a wait in flight: %llu), unloads with fds held: %llu\n",
	       (unsigned long long)sh->cycles, (unsigned long long)sh->unloads,
	       (unsigned long long)sh->midop_unloads, (unsigned long long)sh->wait_unloads,
	       (unsigned long long)sh->held_unloads);
	printf("# figures: unload_race: EWOULDBLOCK answers: %llu (%llu for pinning fences), worker ops: %llu, %.1f s\n",
	       (unsigned long long)sh->ewouldblock, (unsigned long long)sh->pin_refusals,
	       (unsigned long long)ops, (now_ns() - start) / 1e9);
	for (i = 0; i <= nworkers; i++)
		if (sh->p[i].errors)
			printf("# %s %d: %d errors, first: %s\n",
			       i == nworkers ? "controller" : "worker", i, sh->p[i].errors,
			       sh->p[i].first_error);

	printf("%sok 1 no process hung\n", hung ? "not " : "");
	printf("%sok 2 %llu of %u cycles, each unload succeeding or answering EWOULDBLOCK\n",
	       sh->cycles == cycles && !sh->p[nworkers].errors ? "" : "not ",
	       (unsigned long long)sh->cycles, cycles);
	printf("%sok 3 every fd answered its documented status across the unloads\n",
	       !hung && !failed && !errors ? "" : "not ");
	/* At least half of the unloads raced an operation on a fence_ops fd. */
	printf("%sok 4 %llu of %llu unloads mid-operation\n",
	       sh->unloads && sh->midop_unloads * 2 >= sh->unloads ? "" : "not ",
	       (unsigned long long)sh->midop_unloads, (unsigned long long)sh->unloads);
	printf("%sok 5 pinning fences refused the unload %llu times, released it after\n",
	       sh->pin_refusals == 3 * (cycles / PIN_EVERY) ? "" : "not ",
	       (unsigned long long)sh->pin_refusals);
	if (fence_ops_loaded())
		fence_ops_unload();
	return hung || failed || errors || sh->cycles != cycles ||
	       sh->midop_unloads * 2 < sh->unloads || sh->pin_refusals != 3 * (cycles / PIN_EVERY);
}
