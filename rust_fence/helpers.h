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
struct file;
struct module;

struct dma_fence *rust_fence_helper_get(struct dma_fence *fence);
void rust_fence_helper_put(struct dma_fence *fence);
bool rust_fence_helper_is_signaled(struct dma_fence *fence);
bool rust_fence_helper_test_signaled_flag(struct dma_fence *fence);
bool rust_fence_helper_is_later(struct dma_fence *f1, struct dma_fence *f2);
ktime_t rust_fence_helper_timestamp(struct dma_fence *fence);
bool rust_fence_helper_signal(struct dma_fence *fence, int error);
bool rust_fence_helper_has_ops(struct dma_fence *fence);
int rust_fence_helper_sync_file_fd(struct dma_fence *fence, unsigned int flags);
struct file *rust_fence_helper_sync_file_create(struct dma_fence *fence);
bool rust_fence_helper_begin_signalling(void);
void rust_fence_helper_end_signalling(bool cookie);
void rust_fence_helper_module_get(struct module *module);
void rust_fence_helper_module_put(struct module *module);
struct dma_fence *rust_fence_helper_sync_file_get_fence(int fd);

#endif /* _RUST_FENCE_HELPERS_H */
