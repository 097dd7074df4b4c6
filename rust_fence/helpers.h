/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers of rust_fence (helpers.c): wrappers of the static inline
 * dma_fence and sync_file API for the Rust side, declared in ffi.rs.
 */
#ifndef _RUST_FENCE_HELPERS_H
#define _RUST_FENCE_HELPERS_H

#include <linux/ktime.h>
#include <linux/types.h>

struct dma_fence;
struct list_head;
struct file;
struct module;
struct rcu_work;
struct work_struct;
struct workqueue_struct;

struct dma_fence *rust_fence_helper_get(struct dma_fence *fence);
void rust_fence_helper_put(struct dma_fence *fence);
bool rust_fence_helper_is_signaled(struct dma_fence *fence);
bool rust_fence_helper_test_signaled_flag(struct dma_fence *fence);
bool rust_fence_helper_is_later(struct dma_fence *f1, struct dma_fence *f2);
ktime_t rust_fence_helper_timestamp(struct dma_fence *fence);
bool rust_fence_helper_signal(struct dma_fence *fence, int error);
bool rust_fence_helper_has_ops(struct dma_fence *fence);
bool rust_fence_helper_is_container(struct dma_fence *fence);
bool rust_fence_helper_is_chain(struct dma_fence *fence);
struct dma_fence *rust_fence_helper_array_create(struct dma_fence **fences, int num_fences);
struct dma_fence *rust_fence_helper_chain_create(struct dma_fence *prev, struct dma_fence *fence,
						 u64 seqno);
struct file *rust_fence_helper_sync_file_create(struct dma_fence *fence);
bool rust_fence_helper_begin_signalling(void);
void rust_fence_helper_end_signalling(bool cookie);
void rust_fence_helper_module_put(struct module *module);
void rust_fence_helper_list_init(struct list_head *list);
void rust_fence_helper_list_add_tail(struct list_head *entry, struct list_head *head);
bool rust_fence_helper_list_del_init(struct list_head *entry);
bool rust_fence_helper_try_module_get(struct module *module);
struct workqueue_struct *rust_fence_helper_wq(void);
int rust_fence_helper_free_wq_create(void);
int rust_fence_helper_watch_modules(void);
void rust_fence_helper_unwatch_modules(void);
void rust_fence_helper_free_wq_destroy(void);
void rust_fence_helper_free_wq_flush(void);
void rust_fence_helper_free_wq_queue(struct rcu_work *rwork,
				     void (*func)(struct work_struct *work));
struct dma_fence *rust_fence_helper_sync_file_get_fence(int fd);

/* In provider.rs: runs the unload protocol of providers @module left open. */
void rust_fence_module_going(struct module *module);
void rust_fence_wait_late_frees(void);

#endif /* _RUST_FENCE_HELPERS_H */
