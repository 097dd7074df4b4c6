// SPDX-License-Identifier: GPL-2.0
/*
 * Differential fuzzer of the sw_sync ABI: one seeded stream of random
 * operations applied in lockstep to two "worlds", the kernel's C sw_sync
 * (<debugfs>/sync/sw_sync) and fence_ops (<debugfs>/fence_ops/sw_sync),
 * each with its own fds behind the same slots, comparing every return
 * value, errno and what can be observed afterwards: the structs written
 * back, sync_file status, names and fence infos, poll readiness and
 * deadlines.
 *
 *	sw_sync_fuzz [--seed N] [--ops M] [--log]
 *
 * Without --seed it runs the fixed seeds, with a count of operations per
 * seed scaled by RF_STRESS (quick, or full as in make check-full), and
 * prints TAP: one result per seed. On a divergence it prints the seed, the
 * index of the operation, a command line replaying it and the tail of the
 * operation log. --log prints every operation.
 *
 * Differences documented in Documentation/fence_ops.rst are not
 * divergences: the driver name ("sw_sync" or "fence_ops", hence sync_file
 * names and fence contexts), and SW_SYNC_GET_DEADLINE on a point of a
 * closed timeline, which fence_ops answers with EINVAL (counted as "known"
 * in the figures).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kselftest.h"
#include "sync_file_util.h"
#include "sw_sync_abi.h"
#include "fence_ops_uapi.h"

#define NWORLD		2
#define NTL		4	/* timeline slots */
#define NSF		12	/* sync_file slots */
#define MAXOBJ		4	/* timelines remembered per sync_file slot */
#define NINFO		32	/* sync_fence_info entries read */
#define LOG_LINES	24
#define LOG_LEN		240
#define BAD_FD		777	/* never open in this program */

static const char *const world_name[NWORLD] = { "C", "fence_ops" };
static const char *world_path[NWORLD] = { SW_SYNC_DEFAULT_PATH, FENCE_OPS_SW_SYNC_PATH };

/* A timeline: one per open, shared by dup'ed slots. */
struct tl_obj {
	int fds;	/* slots holding it */
	int closed;	/* its last fd was closed */
	uint32_t value;	/* the value both worlds should have */
};

struct tl_slot {
	int used;
	int obj;
	int fd[NWORLD];
};

struct sf_slot {
	int used;
	int nobj;		/* timelines whose fences it may hold */
	int obj[MAXOBJ];
	int many;		/* more than MAXOBJ */
	int point;		/* made by CREATE_FENCE (or a dup of one) */
	int mixed;		/* has fences of both worlds */
	uint32_t value;		/* if point */
	int fd[NWORLD];
};

static struct tl_obj *objs;
static int nobjs;
static struct tl_slot tls[NTL];
static struct sf_slot sfs[NSF];

static uint64_t rng;
static unsigned int cur_seed;
static long cur_op;
static int diverged;
static int log_all;
static long known_diffs;

static char oplog[LOG_LINES][LOG_LEN];
static long oplog_n;

static int devnull = -1;
static char *rw_page, *none_page, *ro_page;

static uint64_t rnd64(void)
{
	/* splitmix64 */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static int chance(int percent)
{
	return (int)rnd(100) < percent;
}

/* Appends to the log line of the current operation. */
static void logp(const char *fmt, ...) __printf(1, 2);
static void logp(const char *fmt, ...)
{
	char *line = oplog[oplog_n % LOG_LINES];
	size_t len = strlen(line);
	va_list ap;

	if (len >= LOG_LEN - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(line + len, LOG_LEN - len, fmt, ap);
	va_end(ap);
}

static void log_start(void)
{
	snprintf(oplog[oplog_n % LOG_LINES], LOG_LEN, "op %ld:", cur_op);
}

static void log_end(void)
{
	if (log_all)
		printf("# %s\n", oplog[oplog_n % LOG_LINES]);
	oplog_n++;
}

static void diverge(const char *fmt, ...) __printf(1, 2);
static void diverge(const char *fmt, ...)
{
	long i;
	va_list ap;

	if (diverged)
		return;
	diverged = 1;
	printf("# DIVERGENCE seed %u op %ld: ", cur_seed, cur_op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n# replay: sw_sync_fuzz --seed %u --ops %ld --log\n", cur_seed, cur_op + 1);
	printf("# op log tail:\n");
	for (i = oplog_n - LOG_LINES + 1; i <= oplog_n; i++)
		if (i >= 0)
			printf("#   %s\n", oplog[i % LOG_LINES]);
}

/* The result of a call in one world. */
struct res {
	long rc;
	int err;
};

static struct res result(long rc)
{
	struct res r = { rc, rc < 0 ? errno : 0 };

	return r;
}

static const char *res_str(struct res r)
{
	static char buf[2][32];
	static int n;
	char *s = buf[n++ & 1];

	if (r.rc < 0)
		snprintf(s, 32, "%s", strerror(r.err));
	else
		snprintf(s, 32, "%ld", r.rc);
	return s;
}

/* Logs both results; a divergence unless both failed alike or both succeeded. */
static int same_res(const char *what, struct res r[NWORLD])
{
	logp(" -> %s / %s", res_str(r[0]), res_str(r[1]));
	if ((r[0].rc < 0) != (r[1].rc < 0) || r[0].err != r[1].err) {
		diverge("%s: %s returns %s, %s returns %s", what, world_name[0], res_str(r[0]),
			world_name[1], res_str(r[1]));
		return 0;
	}
	return 1;
}

/* Where an ioctl argument is: the ways a user pointer can be bad. */
enum ptr_kind { P_OK, P_NULL, P_NONE, P_RO, P_STRADDLE, P_KERNEL, P_COUNT };
static const char *const ptr_name[P_COUNT] = {
	"ok", "null", "unmapped", "read-only", "straddling", "kernel"
};

static enum ptr_kind pick_ptr(void)
{
	return chance(90) ? P_OK : (enum ptr_kind)(1 + rnd(P_COUNT - 1));
}

/*
 * Places @size bytes of @data as @kind says, for one call; returns the
 * argument to pass. Every world gets a fresh copy.
 */
static void *place(enum ptr_kind kind, const void *data, size_t size)
{
	switch (kind) {
	case P_OK:
		memcpy(rw_page, data, size);
		return rw_page;
	case P_NULL:
		return NULL;
	case P_NONE:
		return none_page;
	case P_RO:
		mprotect(ro_page, getpagesize(), PROT_READ | PROT_WRITE);
		memcpy(ro_page, data, size);
		mprotect(ro_page, getpagesize(), PROT_READ);
		return ro_page;
	case P_STRADDLE:
		memcpy(none_page - size / 2, data, size / 2);
		return none_page - size / 2;
	default:
		return (void *)0xffffffff81000000ul;
	}
}

/* What a call left in the argument, if it can be read back. */
static int read_back(enum ptr_kind kind, void *arg, void *out, size_t size)
{
	if (kind != P_OK && kind != P_RO)
		return 0;
	memcpy(out, arg, size);
	return 1;
}

/*
 * A random slot of @slots (@n of them) whose .used is @want, searched from a
 * random start: its index, or -1 if there is none.
 */
#define PICK_SLOT(slots, n, want) ({						\
	int i_, start_ = rnd(n), found_ = -1;					\
	for (i_ = 0; i_ < (n) && found_ < 0; i_++)				\
		if (!!(slots)[(start_ + i_) % (n)].used == (want))		\
			found_ = (start_ + i_) % (n);				\
	found_;									\
})

static int free_tl(void)
{
	return PICK_SLOT(tls, NTL, 0);
}

static int used_tl(void)
{
	return PICK_SLOT(tls, NTL, 1);
}

static int used_sf(void)
{
	return PICK_SLOT(sfs, NSF, 1);
}

/* Values of points whose slot was closed: made again, C makes a new point. */
static struct {
	int obj;
	uint32_t value;
} gone[8];

static void close_sf(int s)
{
	int w;

	if (sfs[s].point) {
		w = rnd(8);
		gone[w].obj = sfs[s].obj[0];
		gone[w].value = sfs[s].value;
	}

	for (w = 0; w < NWORLD; w++)
		close(sfs[s].fd[w]);
	memset(&sfs[s], 0, sizeof(sfs[s]));
}

static void close_tl(int t)
{
	int w;

	for (w = 0; w < NWORLD; w++)
		close(tls[t].fd[w]);
	if (--objs[tls[t].obj].fds == 0)
		objs[tls[t].obj].closed = 1;
	memset(&tls[t], 0, sizeof(tls[t]));
}

/* A free sync_file slot, closing one if all are used. */
static int free_sf(void)
{
	int start, slot = PICK_SLOT(sfs, NSF, 0);

	if (slot >= 0)
		return slot;
	/* None free: close a random one. */
	start = rnd(NSF);
	logp(" [close sf%d]", start);
	close_sf(start);
	return start;
}

/* Whether the fences of a slot may belong to a closed timeline. */
static int sf_has_closed(const struct sf_slot *sf)
{
	int i;

	if (sf->many)
		return 1;
	for (i = 0; i < sf->nobj; i++)
		if (objs[sf->obj[i]].closed)
			return 1;
	return 0;
}

/*
 * A file descriptor argument for world @w: a sync_file of this world, of
 * the other one, a timeline, /dev/null or no file at all. Returns a
 * description; *@sf is the sync_file slot of this world used, or -1.
 */
enum fd_kind { F_OWN_SF, F_FOREIGN_SF, F_TL, F_DEVNULL, F_BAD, F_MINUS1, F_COUNT };
static const char *const fd_kind_name[F_COUNT] = {
	"sf", "foreign-sf", "tl", "devnull", "closed-fd", "-1"
};

struct fdarg {
	enum fd_kind kind;
	int slot;
};

static struct fdarg pick_fd(int own_percent)
{
	struct fdarg f = { F_OWN_SF, -1 };

	if (chance(own_percent)) {
		f.slot = used_sf();
		if (f.slot >= 0)
			return f;
	}
	f.kind = (enum fd_kind)(1 + rnd(F_COUNT - 1));
	if (f.kind == F_FOREIGN_SF)
		f.slot = used_sf();
	else if (f.kind == F_TL)
		f.slot = used_tl();
	if (f.slot < 0 && (f.kind == F_FOREIGN_SF || f.kind == F_TL))
		f.kind = F_BAD;
	return f;
}

static int fd_of(int w, struct fdarg f)
{
	switch (f.kind) {
	case F_OWN_SF:
		return sfs[f.slot].fd[w];
	case F_FOREIGN_SF:
		return sfs[f.slot].fd[!w];
	case F_TL:
		return tls[f.slot].fd[w];
	case F_DEVNULL:
		return devnull;
	case F_BAD:
		return BAD_FD;
	default:
		return -1;
	}
}

static void log_fd(const char *what, struct fdarg f)
{
	if (f.slot >= 0)
		logp(" %s=%s%d", what, fd_kind_name[f.kind], f.slot);
	else
		logp(" %s=%s", what, fd_kind_name[f.kind]);
}

/* A file descriptor is open and close-on-exec. */
static int fd_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags >= 0 && (flags & FD_CLOEXEC);
}

/* --- Names: the driver name and the fence contexts legitimately differ. --- */

static void canon(const char *in, char *out, size_t size)
{
	static const char *const drivers[] = { "sw_sync", "fence_ops" };
	size_t o = 0, i;

	for (i = 0; i < 2; i++) {
		size_t n = strlen(drivers[i]);

		if (!strncmp(in, drivers[i], n) && (in[n] == '-' || in[n] == '\0')) {
			o = snprintf(out, size, "DRV");
			in += n;
			break;
		}
	}
	for (; *in && o + 1 < size; in++) {
		if (*in >= '0' && *in <= '9') {
			out[o++] = '#';
			while (in[1] >= '0' && in[1] <= '9')
				in++;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

/* The digits after the last '-' of a generated name. */
static const char *last_number(const char *name)
{
	const char *dash = strrchr(name, '-');

	return dash ? dash + 1 : "";
}

static void compare_names(const char *what, const char *a, const char *b)
{
	char ca[64], cb[64];
	size_t la, lb, n;
	const char *na, *nb;

	if (!strcmp(a, b))
		return;
	canon(a, ca, sizeof(ca));
	canon(b, cb, sizeof(cb));
	la = strlen(a);
	lb = strlen(b);
	if (la < 31 && lb < 31) {
		na = last_number(a);
		nb = last_number(b);
		if (strcmp(ca, cb) || strcmp(na, nb))
			diverge("%s: \"%s\" / \"%s\"", what, a, b);
		return;
	}
	/* Cut to 31 characters at different places: compare what both have. */
	n = strlen(ca) < strlen(cb) ? strlen(ca) : strlen(cb);
	if (n && strncmp(ca, cb, n - 1))
		diverge("%s: \"%s\" / \"%s\"", what, a, b);
	na = last_number(a);
	nb = last_number(b);
	n = strlen(na) < strlen(nb) ? strlen(na) : strlen(nb);
	if (strncmp(na, nb, n))
		diverge("%s: \"%s\" / \"%s\"", what, a, b);
}

static void compare_fence_info(int i, const struct sync_fence_info *a,
			       const struct sync_fence_info *b)
{
	char what[64], da[64], db[64];

	snprintf(what, sizeof(what), "fence %d driver", i);
	canon(a->driver_name, da, sizeof(da));
	canon(b->driver_name, db, sizeof(db));
	if (strcmp(da, db))
		diverge("%s: \"%s\" / \"%s\"", what, a->driver_name, b->driver_name);
	if (strcmp(a->obj_name, b->obj_name))
		diverge("fence %d timeline: \"%s\" / \"%s\"", i, a->obj_name, b->obj_name);
	if (a->status != b->status)
		diverge("fence %d status: %d / %d", i, a->status, b->status);
	if (a->flags != b->flags)
		diverge("fence %d flags: %u / %u", i, a->flags, b->flags);
	if (!a->timestamp_ns != !b->timestamp_ns)
		diverge("fence %d timestamp: %llu / %llu", i, (unsigned long long)a->timestamp_ns,
			(unsigned long long)b->timestamp_ns);
}

/* --- Operations --- */

static void op_open(void)
{
	struct res r[NWORLD];
	int t = free_tl(), w;

	if (t < 0)
		return;
	logp(" open tl%d", t);
	for (w = 0; w < NWORLD; w++) {
		tls[t].fd[w] = open(world_path[w], O_RDWR | O_CLOEXEC);
		r[w] = result(tls[t].fd[w]);
	}
	if (!same_res("open", r) || r[0].rc < 0) {
		for (w = 0; w < NWORLD; w++)
			if (tls[t].fd[w] >= 0)
				close(tls[t].fd[w]);
		return;
	}
	tls[t].used = 1;
	tls[t].obj = nobjs++;
	objs[tls[t].obj].fds = 1;
	logp(" (timeline %d)", tls[t].obj);
}

static void op_close(void)
{
	int s;

	if (chance(30)) {
		s = used_tl();
		if (s < 0)
			return;
		logp(" close tl%d (timeline %d)", s, tls[s].obj);
		close_tl(s);
		return;
	}
	s = used_sf();
	if (s < 0)
		return;
	logp(" close sf%d", s);
	close_sf(s);
}

static void op_dup(void)
{
	struct res r[NWORLD];
	int from, to, w, fd[NWORLD];

	if (chance(30)) {
		from = used_tl();
		to = free_tl();
		if (from < 0 || to < 0)
			return;
		logp(" dup tl%d -> tl%d", from, to);
		for (w = 0; w < NWORLD; w++) {
			fd[w] = fcntl(tls[from].fd[w], F_DUPFD_CLOEXEC, 0);
			r[w] = result(fd[w]);
		}
		if (!same_res("dup", r) || r[0].rc < 0)
			goto undo;
		tls[to] = tls[from];
		for (w = 0; w < NWORLD; w++)
			tls[to].fd[w] = fd[w];
		objs[tls[to].obj].fds++;
		return;
	}
	from = used_sf();
	if (from < 0)
		return;
	to = free_sf();
	if (!sfs[from].used)	/* closed to make room */
		return;
	logp(" dup sf%d -> sf%d", from, to);
	for (w = 0; w < NWORLD; w++) {
		fd[w] = fcntl(sfs[from].fd[w], F_DUPFD_CLOEXEC, 0);
		r[w] = result(fd[w]);
	}
	if (!same_res("dup", r) || r[0].rc < 0)
		goto undo;
	sfs[to] = sfs[from];
	for (w = 0; w < NWORLD; w++)
		sfs[to].fd[w] = fd[w];
	return;
undo:
	for (w = 0; w < NWORLD; w++)
		if (fd[w] >= 0)
			close(fd[w]);
}

static uint32_t pick_value(int t)
{
	uint32_t v = objs[tls[t].obj].value;
	int s;

	switch (rnd(13)) {
	case 0:
		return v - rnd(4);
	case 7:
		s = rnd(8);
		if (gone[s].obj == tls[t].obj)
			return gone[s].value;
		return v + 1 + rnd(8);
	case 1:
		return v + 0x7fffffffu - rnd(2);
	case 2:
		return v + 0x80000000u + rnd(2);
	case 3:
		return (uint32_t)rnd64();
	case 4:
		return rnd(2) ? 0 : 0xffffffffu;
	case 5:
	case 6:
		/* The value of a point we hold: the same fence, if pending. */
		s = used_sf();
		if (s >= 0 && sfs[s].point)
			return sfs[s].value;
		/* fall through */
	default:
		return v + 1 + rnd(8);
	}
}

static void op_create(void)
{
	struct sw_sync_create_fence_data data, out[NWORLD];
	enum ptr_kind pk = pick_ptr();
	struct res r[NWORLD];
	int t = used_tl(), s, w, readable = 0, target_tl = 1, fd[NWORLD] = { -1, -1 };
	struct fdarg f = { F_TL, t };

	if (t < 0)
		return;
	if (chance(3)) {
		/* Not a timeline: a sync_file, /dev/null, no file. */
		f = pick_fd(50);
		target_tl = f.kind == F_TL;
		if (target_tl)
			t = f.slot;
	}
	memset(&data, 0, sizeof(data));
	data.value = pick_value(t);
	switch (rnd(3)) {
	case 0:
		break;
	case 1:
		/* Full and not terminated: the name is ignored. */
		memset(data.name, 'n', sizeof(data.name));
		break;
	default:
		snprintf(data.name, sizeof(data.name), "pt%u", rnd(1000));
	}
	data.fence = (int)rnd64();
	s = free_sf();
	if ((f.kind == F_OWN_SF || f.kind == F_FOREIGN_SF) && !sfs[f.slot].used)
		return;
	logp(" create on %s%d value %u name \"%.32s\" ptr %s",
	     target_tl ? "tl" : fd_kind_name[f.kind], target_tl ? t : f.slot, data.value,
	     data.name, ptr_name[pk]);
	for (w = 0; w < NWORLD; w++) {
		int before = next_fd();
		void *arg = place(pk, &data, sizeof(data));

		r[w] = result(ioctl(fd_of(w, f), SW_SYNC_IOC_CREATE_FENCE, arg));
		readable = read_back(pk, arg, &out[w], sizeof(out[w]));
		if (r[w].rc < 0 && next_fd() != before)
			diverge("create: %s failed (%s) and left fd %d open", world_name[w],
				strerror(r[w].err), before);
		if (r[w].rc == 0 && readable) {
			fd[w] = out[w].fence;
			if (!fd_cloexec(fd[w]))
				diverge("create: %s fd %d not open or not O_CLOEXEC",
					world_name[w], fd[w]);
		}
		out[w].fence = 0;
	}
	if (!same_res("create", r))
		goto undo;
	if (readable && memcmp(&out[0], &out[1], sizeof(out[0])))
		diverge("create: the struct written back differs (value %u / %u)",
			out[0].value, out[1].value);
	if (r[0].rc < 0 || !readable)
		return;
	if (!target_tl) {
		diverge("create on a %s succeeded", fd_kind_name[f.kind]);
		goto undo;
	}
	if (fd[0] < 0 || fd[1] < 0)
		goto undo;
	sfs[s].used = 1;
	sfs[s].nobj = 1;
	sfs[s].obj[0] = tls[t].obj;
	sfs[s].point = 1;
	sfs[s].value = data.value;
	sfs[s].fd[0] = fd[0];
	sfs[s].fd[1] = fd[1];
	logp(" (sf%d)", s);
	return;
undo:
	for (w = 0; w < NWORLD; w++)
		if (fd[w] >= 0)
			close(fd[w]);
}

static void op_inc(void)
{
	static const uint32_t steps[] = { 0, 1, 2, 0x7fffffff, 0x80000000u, 0x80000001u,
					  0xffffffffu, 0xfffffffeu };
	enum ptr_kind pk = chance(95) ? P_OK : (chance(50) ? P_NULL : P_NONE);
	struct res r[NWORLD];
	int t = used_tl(), w, s;
	uint32_t step;

	if (t < 0)
		return;
	switch (rnd(6)) {
	case 0:
		step = steps[rnd(ARRAY_SIZE(steps))];
		break;
	case 1:
		step = (uint32_t)rnd64();
		break;
	case 2:
		/* Exactly to a point we hold. */
		s = used_sf();
		step = s >= 0 && sfs[s].point ? sfs[s].value - objs[tls[t].obj].value : 1;
		break;
	default:
		step = rnd(5);
	}
	logp(" inc tl%d by %u ptr %s", t, step, ptr_name[pk]);
	for (w = 0; w < NWORLD; w++)
		r[w] = result(ioctl(tls[t].fd[w], SW_SYNC_IOC_INC, place(pk, &step, sizeof(step))));
	if (same_res("inc", r) && r[0].rc == 0)
		objs[tls[t].obj].value += step;
}

/* SW_SYNC_GET_DEADLINE; @sweep: on slot @slot through any timeline, ptr ok. */
static void check_deadline(int sweep, int slot)
{
	struct sw_sync_get_deadline data, out[NWORLD];
	enum ptr_kind pk = sweep ? P_OK : pick_ptr();
	struct fdarg f = { F_OWN_SF, slot };
	struct res r[NWORLD];
	int t = used_tl(), w, readable = 0, known;

	if (t < 0)
		return;
	if (!sweep)
		f = pick_fd(85);
	memset(&data, 0, sizeof(data));
	if (!sweep && chance(4))
		data.deadline_ns = rnd(2) ? 1 : rnd64();
	if (!sweep && chance(4))
		data.pad = rnd(2) ? 1 : (uint32_t)rnd64();
	if (sweep)
		logp(" sweep");
	logp(" get_deadline tl%d", t);
	log_fd("fence", f);
	logp(" in %llu pad %u ptr %s", (unsigned long long)data.deadline_ns, data.pad,
	     ptr_name[pk]);
	for (w = 0; w < NWORLD; w++) {
		void *arg;

		data.fence_fd = fd_of(w, f);
		arg = place(pk, &data, sizeof(data));
		r[w] = result(ioctl(tls[t].fd[w], SW_SYNC_GET_DEADLINE, arg));
		readable = read_back(pk, arg, &out[w], sizeof(out[w]));
		out[w].fence_fd = 0;
	}
	/*
	 * Documented: fence_ops finds points of open (or kept) timelines only,
	 * C any sw_sync fence. A sync_file of the other world counts too: a
	 * merge of both worlds' fences can keep only a fence_ops point of a
	 * closed timeline in the C world's file (the other fences signalled),
	 * which is what fence_ops is then asked about.
	 */
	known = (f.kind == F_OWN_SF || f.kind == F_FOREIGN_SF) &&
		sf_has_closed(&sfs[f.slot]) &&
		r[1].rc < 0 && r[1].err == EINVAL &&
		(r[0].rc == 0 || r[0].err == ENOENT || (r[0].err == EFAULT && pk == P_RO));
	if (known) {
		logp(" -> %s / %s (documented: closed timeline)", res_str(r[0]), res_str(r[1]));
		known_diffs++;
		return;
	}
	if (!same_res("get_deadline", r))
		return;
	if (readable && memcmp(&out[0], &out[1], sizeof(out[0])))
		diverge("get_deadline: deadline %llu / %llu",
			(unsigned long long)out[0].deadline_ns,
			(unsigned long long)out[1].deadline_ns);
	else if (readable && r[0].rc == 0)
		logp(" = %llu", (unsigned long long)out[0].deadline_ns);
}

static void op_get_deadline(void)
{
	check_deadline(0, -1);
}

static uint64_t deadline_base = 1000000000ull;

static void op_set_deadline(void)
{
	struct sync_set_deadline data;
	enum ptr_kind pk = pick_ptr();
	struct fdarg f = pick_fd(90);
	struct res r[NWORLD];
	int w;

	memset(&data, 0, sizeof(data));
	switch (rnd(10)) {
	case 0:
		data.deadline_ns = 0;
		break;
	case 1:
		data.deadline_ns = rnd(2) ? 1 : ~0ull;
		break;
	case 2:
		data.deadline_ns = 1ull << 63;
		break;
	case 3:
		data.deadline_ns = (1ull << 63) + rnd(3) - 1;
		break;
	case 4:
		data.deadline_ns = rnd64();
		break;
	default:
		data.deadline_ns = deadline_base + rnd(1000);
	}
	if (chance(4))
		data.pad = rnd(2) ? 1 : rnd64();
	logp(" set_deadline %llu pad %llu ptr %s", (unsigned long long)data.deadline_ns,
	     (unsigned long long)data.pad, ptr_name[pk]);
	log_fd("on", f);
	for (w = 0; w < NWORLD; w++)
		r[w] = result(ioctl(fd_of(w, f), SYNC_IOC_SET_DEADLINE,
				    place(pk, &data, sizeof(data))));
	same_res("set_deadline", r);
}

static void op_merge(void)
{
	struct sync_merge_data data, out[NWORLD];
	enum ptr_kind pk = pick_ptr();
	struct fdarg a = pick_fd(95), b;
	struct res r[NWORLD];
	int s, w, readable = 0, fd[NWORLD] = { -1, -1 }, i;

	if (chance(10)) {
		b = a;
	} else {
		b = pick_fd(85);
		if (b.kind == F_MINUS1 && chance(50))
			b.kind = F_BAD;
	}
	memset(&data, 0, sizeof(data));
	switch (rnd(3)) {
	case 0:
		break;
	case 1:
		memset(data.name, 'm', sizeof(data.name));
		break;
	default:
		snprintf(data.name, sizeof(data.name), "merge%u", rnd(100));
	}
	if (chance(3))
		data.flags = rnd(2) ? 1 : (uint32_t)rnd64();
	if (chance(3))
		data.pad = rnd(2) ? 1 : (uint32_t)rnd64();
	s = free_sf();
	if ((a.kind == F_OWN_SF || a.kind == F_FOREIGN_SF) && !sfs[a.slot].used)
		return;
	if ((b.kind == F_OWN_SF || b.kind == F_FOREIGN_SF) && !sfs[b.slot].used)
		return;
	logp(" merge");
	log_fd("a", a);
	log_fd("b", b);
	logp(" name \"%.32s\" flags %u pad %u ptr %s", data.name, data.flags, data.pad,
	     ptr_name[pk]);
	for (w = 0; w < NWORLD; w++) {
		void *arg;

		data.fd2 = fd_of(w, b);
		data.fence = -1;
		arg = place(pk, &data, sizeof(data));
		r[w] = result(ioctl(fd_of(w, a), SYNC_IOC_MERGE, arg));
		readable = read_back(pk, arg, &out[w], sizeof(out[w]));
		if (readable && r[w].rc == 0)
			fd[w] = out[w].fence;
		out[w].fd2 = 0;
		out[w].fence = r[w].rc == 0 && out[w].fence >= 0 && fd_cloexec(out[w].fence);
	}
	if (!same_res("merge", r))
		goto undo;
	if (readable && memcmp(&out[0], &out[1], sizeof(out[0])))
		diverge("merge: the struct written back differs");
	if (r[0].rc < 0 || !readable)
		return;
	if (fd[0] < 0 || fd[1] < 0) {
		diverge("merge: no fd (%d / %d)", fd[0], fd[1]);
		goto undo;
	}
	memset(&sfs[s], 0, sizeof(sfs[s]));
	sfs[s].used = 1;
	sfs[s].fd[0] = fd[0];
	sfs[s].fd[1] = fd[1];
	for (i = 0; i < 2; i++) {
		struct fdarg x = i ? b : a;
		struct sf_slot *from;
		int j;

		if (x.kind != F_OWN_SF && x.kind != F_FOREIGN_SF)
			continue;
		from = &sfs[x.slot];
		sfs[s].many |= from->many;
		sfs[s].mixed |= from->mixed || x.kind == F_FOREIGN_SF;
		for (j = 0; j < from->nobj; j++) {
			if (sfs[s].nobj == MAXOBJ) {
				sfs[s].many = 1;
				break;
			}
			sfs[s].obj[sfs[s].nobj++] = from->obj[j];
		}
	}
	logp(" (sf%d)", s);
	return;
undo:
	for (w = 0; w < NWORLD; w++)
		if (fd[w] >= 0)
			close(fd[w]);
}

static const char *const fptr_name[] = { "ok", "null", "unmapped", "kernel" };

/* Fence infos in an order that does not depend on fence contexts. */
static int info_order(const void *x, const void *y)
{
	const struct sync_fence_info *a = x, *b = y;
	char da[64], db[64];
	int c;

	canon(a->driver_name, da, sizeof(da));
	canon(b->driver_name, db, sizeof(db));
	c = strcmp(da, db);
	if (!c)
		c = strcmp(a->obj_name, b->obj_name);
	if (!c)
		c = a->status - b->status;
	if (!c)
		c = !a->timestamp_ns - !b->timestamp_ns;
	return c;
}

/* SYNC_IOC_FILE_INFO; @sweep: on slot @slot, well-formed. */
static void check_info(int sweep, int slot)
{
	static struct sync_fence_info fences[NWORLD][NINFO];
	struct sync_file_info data, out[NWORLD];
	enum ptr_kind pk = sweep ? P_OK : pick_ptr();
	struct fdarg f = { F_OWN_SF, slot };
	struct res r[NWORLD];
	int w, readable = 0, fptr = 0, i, n;

	if (!sweep)
		f = pick_fd(90);
	memset(&data, 0, sizeof(data));
	switch (sweep ? 2 : rnd(6)) {
	case 0:
		data.num_fences = 0;
		break;
	case 1:
		data.num_fences = 1;
		break;
	case 2:
		data.num_fences = NINFO;
		break;
	case 3:
		data.num_fences = rnd(2) ? 0xffffffffu : 1000000;
		break;
	default:
		data.num_fences = rnd(4);
	}
	if (!sweep && chance(4))
		data.flags = rnd(2) ? 1 : (uint32_t)rnd64();
	if (!sweep && chance(4))
		data.pad = rnd(2) ? 1 : (uint32_t)rnd64();
	if (!sweep && chance(5))
		fptr = 1 + rnd(3);
	if (sweep)
		logp(" sweep");
	logp(" file_info");
	log_fd("on", f);
	logp(" num %u flags %u pad %u fences %s ptr %s", data.num_fences, data.flags, data.pad,
	     fptr_name[fptr], ptr_name[pk]);
	for (w = 0; w < NWORLD; w++) {
		void *arg;

		memset(fences[w], 0, sizeof(fences[w]));
		data.sync_fence_info = fptr == 0 ? (uintptr_t)fences[w] :
				       fptr == 1 ? 0 :
				       fptr == 2 ? (uintptr_t)none_page : 0xffffffff81000000ull;
		arg = place(pk, &data, sizeof(data));
		r[w] = result(ioctl(fd_of(w, f), SYNC_IOC_FILE_INFO, arg));
		readable = read_back(pk, arg, &out[w], sizeof(out[w]));
		out[w].sync_fence_info = 0;
	}
	if (!same_res("file_info", r) || !readable || r[0].rc < 0)
		return;
	logp(" = status %d num %u", out[0].status, out[0].num_fences);
	if (out[0].status != out[1].status)
		diverge("file_info: status %d / %d", out[0].status, out[1].status);
	if (out[0].num_fences != out[1].num_fences)
		diverge("file_info: num_fences %u / %u", out[0].num_fences, out[1].num_fences);
	if (out[0].flags != out[1].flags || out[0].pad != out[1].pad)
		diverge("file_info: flags or pad written back differ");
	compare_names("file_info: name", out[0].name, out[1].name);
	if (data.num_fences == 0 || fptr)
		return;
	n = out[0].num_fences < NINFO ? out[0].num_fences : NINFO;
	/*
	 * A merge keeps its fences in context order: that of both worlds'
	 * fences differs between them.
	 */
	if ((f.kind == F_OWN_SF || f.kind == F_FOREIGN_SF) && sfs[f.slot].mixed) {
		qsort(fences[0], n, sizeof(fences[0][0]), info_order);
		qsort(fences[1], n, sizeof(fences[1][0]), info_order);
	}
	for (i = 0; i < n && !diverged; i++)
		compare_fence_info(i, &fences[0][i], &fences[1][i]);
}

static void op_file_info(void)
{
	check_info(0, -1);
}

static void poll_one(int sweep, struct fdarg f)
{
	struct pollfd p[NWORLD];
	struct res r[NWORLD];
	int w;

	if (sweep)
		logp(" sweep");
	logp(" poll");
	log_fd("on", f);
	for (w = 0; w < NWORLD; w++) {
		p[w].fd = fd_of(w, f);
		p[w].events = POLLIN | POLLOUT | POLLPRI;
		p[w].revents = 0;
		r[w] = result(poll(&p[w], 1, 0));
	}
	if (!same_res("poll", r))
		return;
	logp(" revents 0x%x / 0x%x", p[0].revents, p[1].revents);
	if (r[0].rc != r[1].rc || p[0].revents != p[1].revents)
		diverge("poll: %ld revents 0x%x / %ld revents 0x%x", r[0].rc, p[0].revents, r[1].rc,
			p[1].revents);
}

static void op_poll(void)
{
	poll_one(0, pick_fd(80));
}

/* The ioctl numbers either file knows: not unknown. */
static int known_cmd(unsigned int cmd)
{
	return cmd == SW_SYNC_IOC_CREATE_FENCE || cmd == SW_SYNC_IOC_INC ||
	       cmd == SW_SYNC_GET_DEADLINE || cmd == SYNC_IOC_MERGE ||
	       cmd == SYNC_IOC_FILE_INFO || cmd == SYNC_IOC_SET_DEADLINE ||
	       cmd == FENCE_OPS_IOC_SET_FLAGS;
}

static void op_unknown(void)
{
	static const unsigned int sync_cmds[] = { SYNC_IOC_MERGE, SYNC_IOC_FILE_INFO,
						  SYNC_IOC_SET_DEADLINE };
	static const unsigned int sw_cmds[] = { SW_SYNC_IOC_CREATE_FENCE, SW_SYNC_IOC_INC,
						SW_SYNC_GET_DEADLINE };
	static const char magics[] = { 'W', 'F', '>' };
	static const unsigned int sizes[] = { 0, 4, 8, 16, 40, 48, 56 };
	struct fdarg f;
	struct res r[NWORLD];
	unsigned int cmd;
	char buf[256];
	int w;

	if (chance(30)) {
		/* A known number on the other kind of file. */
		f.slot = used_tl();
		if (f.slot >= 0 && chance(50)) {
			f.kind = F_TL;
			cmd = sync_cmds[rnd(3)];
		} else {
			f.kind = F_OWN_SF;
			f.slot = used_sf();
			cmd = sw_cmds[rnd(3)];
			if (f.slot < 0)
				return;
		}
	} else {
		f.kind = chance(50) ? F_TL : F_OWN_SF;
		f.slot = f.kind == F_TL ? used_tl() : used_sf();
		if (f.slot < 0)
			return;
		do {
			cmd = _IOC(rnd(4), magics[rnd(3)], rnd(8),
				   chance(70) ? sizes[rnd(7)] : rnd(256));
		} while (known_cmd(cmd));
	}
	logp(" ioctl 0x%08x", cmd);
	log_fd("on", f);
	for (w = 0; w < NWORLD; w++) {
		memset(buf, 0, sizeof(buf));
		r[w] = result(ioctl(fd_of(w, f), cmd, buf));
	}
	same_res("unknown ioctl", r);
}

/*
 * An operation that makes an fd, with no fd to make: RLIMIT_NOFILE at the
 * lowest free fd. The slot it would fill is freed first, so that nothing
 * frees an fd meanwhile.
 */
static void op_emfile(void)
{
	struct rlimit old, lim;
	int t, used = 0, i;

	if (getrlimit(RLIMIT_NOFILE, &old))
		return;
	free_sf();
	t = free_tl();
	for (i = 0; i < NSF; i++)
		used += sfs[i].used;
	lim = old;
	lim.rlim_cur = next_fd();
	logp(" [RLIMIT_NOFILE %lu]", (unsigned long)lim.rlim_cur);
	if (setrlimit(RLIMIT_NOFILE, &lim))
		return;
	switch (rnd(4)) {
	case 0:
		op_create();
		break;
	case 1:
		op_merge();
		break;
	case 2:
		if (t >= 0)
			op_open();
		break;
	default:
		op_dup();
	}
	setrlimit(RLIMIT_NOFILE, &old);
	for (i = 0; i < NSF; i++)
		used -= sfs[i].used;
	if (used < 0)
		diverge("a new sync_file with no free fd");
}

/* Every slot: status, names, fence infos, poll, deadline. */
static void sweep(void)
{
	int s, t;

	for (s = 0; s < NSF && !diverged; s++) {
		if (!sfs[s].used)
			continue;
		log_start();
		check_info(1, s);
		log_end();
		log_start();
		poll_one(1, (struct fdarg){ F_OWN_SF, s });
		log_end();
		log_start();
		check_deadline(1, s);
		log_end();
	}
	for (t = 0; t < NTL && !diverged; t++) {
		if (!tls[t].used)
			continue;
		log_start();
		poll_one(1, (struct fdarg){ F_TL, t });
		log_end();
	}
}

static const struct {
	void (*fn)(void);
	int weight;
} ops[] = {
	{ op_open, 5 },
	{ op_close, 9 },
	{ op_dup, 3 },
	{ op_create, 20 },
	{ op_inc, 12 },
	{ op_get_deadline, 10 },
	{ op_set_deadline, 12 },
	{ op_merge, 10 },
	{ op_file_info, 8 },
	{ op_poll, 5 },
	{ op_unknown, 4 },
	{ op_emfile, 2 },
};

static void run_op(void)
{
	int total = 0, i, x;

	for (i = 0; i < (int)ARRAY_SIZE(ops); i++)
		total += ops[i].weight;
	x = rnd(total);
	for (i = 0; x >= ops[i].weight; i++)
		x -= ops[i].weight;
	if (used_tl() < 0)
		i = 0;
	ops[i].fn();
}

static void cleanup(void)
{
	int i;

	for (i = 0; i < NSF; i++)
		if (sfs[i].used)
			close_sf(i);
	for (i = 0; i < NTL; i++)
		if (tls[i].used)
			close_tl(i);
}

/* Runs @nops operations of @seed; returns whether the worlds agreed. */
static int run_seed(unsigned int seed, long nops)
{
	cur_seed = seed;
	rng = seed * 0x2545f4914f6cdd1dull + 1;
	diverged = 0;
	nobjs = 0;
	oplog_n = 0;
	memset(oplog, 0, sizeof(oplog));
	memset(gone, 0, sizeof(gone));
	free(objs);
	objs = calloc(nops + 1, sizeof(*objs));
	if (!objs)
		return 0;
	for (cur_op = 0; cur_op < nops && !diverged; cur_op++) {
		log_start();
		run_op();
		log_end();
		if (cur_op % 64 == 63 && !diverged)
			sweep();
	}
	cur_op--;
	if (!diverged)
		sweep();
	cleanup();
	return !diverged;
}

static int setup(void)
{
	long page = getpagesize();
	char *p;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (devnull < 0 || p == MAP_FAILED)
		return -1;
	rw_page = p;
	none_page = p + page;
	ro_page = p + 2 * page;
	/* rw_page is followed by an unmapped page: a struct can straddle them. */
	if (mprotect(none_page, page, PROT_NONE) || mprotect(ro_page, page, PROT_READ))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int seeds[] = { 1, 2, 3, 5, 8, 13, 21, 34, 55, 89 };
	int full = getenv("RF_STRESS") && !strcmp(getenv("RF_STRESS"), "full");
	int nseeds = full ? 10 : 4, one = 0, i, failed = 0;
	long nops = full ? 12000 : 4000, total = 0;
	__u64 start;
	unsigned int seed = 0;
	const char *env;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoul(argv[++i], NULL, 0);
			one = 1;
		} else if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			nops = strtol(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--log")) {
			log_all = 1;
		} else {
			fprintf(stderr, "usage: %s [--seed N] [--ops M] [--log]\n", argv[0]);
			return 2;
		}
	}
	env = getenv("SW_SYNC_FUZZ_C_PATH");
	if (env && *env)
		world_path[0] = env;
	env = getenv("SW_SYNC_FUZZ_FENCE_OPS_PATH");
	if (env && *env)
		world_path[1] = env;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	for (i = 0; i < NWORLD; i++) {
		if (access(world_path[i], R_OK | W_OK)) {
			printf("1..0 # SKIP %s: %s\n", world_path[i], strerror(errno));
			return 4;
		}
	}
	if (setup()) {
		printf("1..0 # SKIP setup: %s\n", strerror(errno));
		return 4;
	}
	if (one)
		nseeds = 1;
	printf("1..%d\n", nseeds);
	printf("# %s (%s) against %s (%s), %ld operations per seed\n", world_name[0],
	       world_path[0], world_name[1], world_path[1], nops);
	start = monotonic_ns();
	for (i = 0; i < nseeds; i++) {
		unsigned int s = one ? seed : seeds[i];
		int ok = run_seed(s, nops);

		total += cur_op + 1;
		printf("%s %d seed %u: %ld operations\n", ok ? "ok" : "not ok", i + 1, s,
		       cur_op + 1);
		failed += !ok;
	}
	printf("# figures: sw_sync_fuzz: %d seeds, %ld operations, %d divergences, %ld known differences, %.1f s\n",
	       nseeds, total, failed, known_diffs, (monotonic_ns() - start) / 1e9);
	return failed ? 1 : 0;
}
