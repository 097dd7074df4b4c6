/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rf_bench: the interface between the C harness (rf_bench_c.c) and the
 * Rust halves of the benchmark pairs (rf_bench_rust.rs).
 *
 * A Rust state belongs to one benchmark thread: its own timeline, a
 * pending and a signalled fence. The loops return 0 or a negative errno.
 */
#ifndef _RF_BENCH_H
#define _RF_BENCH_H

#include <linux/types.h>

struct dma_fence;

/* Rust: per-thread state. */
void *rf_bench_rs_setup(const void *provider);
void rf_bench_rs_teardown(void *state);

/* Rust: the benchmark loops. */
int rf_bench_rs_alloc_signal(void *state, u64 iters);
int rf_bench_rs_get_put(void *state, u64 iters);
int rf_bench_rs_is_signaled_pending(void *state, u64 iters);
int rf_bench_rs_is_signaled_signalled(void *state, u64 iters);
int rf_bench_rs_callback_signal(void *state, u64 iters);
int rf_bench_rs_callback_add_remove(void *state, u64 iters);
int rf_bench_rs_sync_file(void *state, u64 iters);

/* Rust: the wake-up benchmark, one fence at a time. */
void *rf_bench_rs_wake_issue(void *state);
struct dma_fence *rf_bench_rs_wake_fence(void *handle);
void rf_bench_rs_wake_signal(void *handle);
int rf_bench_rs_wake_wait(struct dma_fence *fence);

/* Rust: fences held for the memory figures. */
void *rf_bench_rs_hold(void *state, u64 n);
void rf_bench_rs_hold_signal(void *hold);
void rf_bench_rs_hold_free(void *hold);

u64 rf_bench_rs_fired(void);

/* C: called by the Rust module's init and exit. */
int rf_bench_c_init(const void *provider);
void rf_bench_c_exit(void);

#endif /* _RF_BENCH_H */
