// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of rust_fence.
 *
 * The dma_fence API is largely static inline (dma_fence_get/put,
 * dma_fence_is_signaled, dma_fence_set_error, ...), so bindgen cannot
 * generate calls to it and the kernel crate carries no helpers for it.
 * This file wraps what the Rust side needs, one function each. They are
 * exported because generic and inline Rust functions of rust_fence are
 * compiled into the modules that use them.
 */

#include <linux/dma-fence.h>
#include <linux/export.h>
#include <linux/fcntl.h>
#include <linux/module.h>
#include <linux/file.h>
#include <linux/sched.h>
#include <linux/sync_file.h>

#include "helpers.h"

struct dma_fence *rust_fence_helper_get(struct dma_fence *fence)
{
	return dma_fence_get(fence);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_get);

void rust_fence_helper_put(struct dma_fence *fence)
{
	dma_fence_put(fence);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_put);

bool rust_fence_helper_is_signaled(struct dma_fence *fence)
{
	return dma_fence_is_signaled(fence);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_is_signaled);

bool rust_fence_helper_test_signaled_flag(struct dma_fence *fence)
{
	return dma_fence_test_signaled_flag(fence);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_test_signaled_flag);

bool rust_fence_helper_is_later(struct dma_fence *f1, struct dma_fence *f2)
{
	return dma_fence_is_later(f1, f2);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_is_later);

/*
 * Returns the signal timestamp, or 0 (with no warning, unlike
 * dma_fence_timestamp()) when the fence is not signalled yet.
 */
ktime_t rust_fence_helper_timestamp(struct dma_fence *fence)
{
	if (!dma_fence_test_signaled_flag(fence))
		return 0;
	return dma_fence_timestamp(fence);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_timestamp);

/*
 * Signals @fence, with @error (negative errno) when non-zero. The error
 * must be set before the signal and only on a fence nobody signalled yet
 * (dma_fence_set_error() WARNs otherwise), so check and set under the
 * fence lock. Returns false when the fence was already signalled, for
 * instance by the core through the ->signaled() op.
 */
bool rust_fence_helper_signal(struct dma_fence *fence, int error)
{
	unsigned long flags;
	bool signalled = false;

	dma_fence_lock_irqsave(fence, flags);
	if (!dma_fence_test_signaled_flag(fence)) {
		if (error)
			dma_fence_set_error(fence, error);
		dma_fence_signal_locked(fence);
		signalled = true;
	}
	dma_fence_unlock_irqrestore(fence, flags);
	return signalled;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_signal);

/* Tells whether @fence still points to an ops table: false once detached. */
bool rust_fence_helper_has_ops(struct dma_fence *fence)
{
	return rcu_access_pointer(fence->ops) != NULL;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_has_ops);

/*
 * Installs a new sync_file for @fence in a new file descriptor of the
 * current process. Returns the fd or a negative errno.
 */
int rust_fence_helper_sync_file_fd(struct dma_fence *fence, unsigned int flags)
{
	struct sync_file *sync_file;
	int fd;

	fd = get_unused_fd_flags(flags);
	if (fd < 0)
		return fd;
	sync_file = sync_file_create(fence);
	if (!sync_file) {
		put_unused_fd(fd);
		return -ENOMEM;
	}
	fd_install(fd, sync_file->file);
	return fd;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_sync_file_fd);

/*
 * Creates a sync_file for @fence and returns its file (one reference), or
 * NULL; the caller installs it in a reserved fd or drops it with fput().
 */
struct file *rust_fence_helper_sync_file_create(struct dma_fence *fence)
{
	struct sync_file *sync_file = sync_file_create(fence);

	return sync_file ? sync_file->file : NULL;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_sync_file_create);

/*
 * dma_fence_begin/end_signalling() and __module_get()/module_put() are
 * static inline without CONFIG_LOCKDEP and CONFIG_MODULE_UNLOAD: wrap them
 * so that rust_fence builds against any configuration.
 */
bool rust_fence_helper_begin_signalling(void)
{
	return dma_fence_begin_signalling();
}
EXPORT_SYMBOL_GPL(rust_fence_helper_begin_signalling);

void rust_fence_helper_end_signalling(bool cookie)
{
	dma_fence_end_signalling(cookie);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_end_signalling);

void rust_fence_helper_module_get(struct module *module)
{
	__module_get(module);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_module_get);

void rust_fence_helper_module_put(struct module *module)
{
	module_put(module);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_module_put);

/* Returns a reference to the fence behind sync_file @fd, or NULL. */
struct dma_fence *rust_fence_helper_sync_file_get_fence(int fd)
{
	return sync_file_get_fence(fd);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_sync_file_get_fence);
