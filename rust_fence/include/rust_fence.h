/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rust_fence: C API of the rust_fence module, for C drivers.
 *
 * A timeline created here issues dma_fences whose ops live in rust_fence,
 * never in the calling module: the fences detach from those ops when they
 * signal, and the calling module may unload while fences it issued are
 * still held by other drivers or by userspace. The caller signals a fence
 * only through rust_fence_signal(); destroying the timeline cancels every
 * fence still pending with -ENODEV, so no waiter is left blocked.
 *
 * Build against Module.symvers of rust_fence (KBUILD_EXTRA_SYMBOLS).
 */
#ifndef _RUST_FENCE_H
#define _RUST_FENCE_H

#include <linux/types.h>

struct dma_fence;
struct rust_fence_slot;
struct rust_fence_timeline;

/**
 * rust_fence_timeline_create - create a fence timeline
 * @driver_name: name reported as the fences' driver, NUL-terminated, copied
 * @timeline_name: name reported as the fences' timeline, NUL-terminated, copied
 *
 * Allocates a new fence context. Sleeps (GFP_KERNEL).
 *
 * Return: the timeline, or an ERR_PTR(): -EINVAL for a NULL name, -ENOMEM.
 */
struct rust_fence_timeline *rust_fence_timeline_create(const char *driver_name,
						       const char *timeline_name);

/**
 * rust_fence_timeline_destroy - destroy a timeline created by rust_fence_timeline_create()
 * @tl: the timeline; NULL and error pointers are ignored
 *
 * Signals every fence of @tl that is still pending with -ENODEV and frees
 * the timeline. Fences issued by @tl stay valid for as long as somebody
 * holds a reference to them. Sleeps.
 */
void rust_fence_timeline_destroy(struct rust_fence_timeline *tl);

/**
 * rust_fence_issue - issue the next fence of a timeline
 * @tl: the timeline
 *
 * The fence gets the next 64-bit sequence number of @tl. Sleeps (GFP_KERNEL).
 *
 * Return: a new reference to the fence, to be dropped with dma_fence_put(),
 * or an ERR_PTR(): -EINVAL for a NULL @tl, -ENOMEM.
 */
struct dma_fence *rust_fence_issue(struct rust_fence_timeline *tl);

/**
 * rust_fence_prealloc - allocate the memory of one fence ahead of issuing it
 * @tl: the timeline the fence will be issued by
 *
 * The dma_fence signalling rules forbid allocating in the path that must
 * end in a signal (a DRM driver's run_job, a fence callback): allocate
 * there with this, then issue with rust_fence_issue_slot(), which cannot
 * fail. Sleeps (GFP_KERNEL).
 *
 * Return: the memory of one fence, for rust_fence_issue_slot() or
 * rust_fence_slot_free(), or an ERR_PTR(): -EINVAL for a NULL @tl, -ENOMEM.
 */
struct rust_fence_slot *rust_fence_prealloc(struct rust_fence_timeline *tl);

/**
 * rust_fence_issue_slot - issue the next fence of a timeline in preallocated memory
 * @tl: the timeline
 * @slot: memory from rust_fence_prealloc(), consumed
 *
 * As rust_fence_issue(), but with no allocation: it neither sleeps nor
 * fails for valid arguments, and may be called in any context, interrupt
 * handlers included.
 *
 * Return: a new reference to the fence, to be dropped with dma_fence_put(),
 * or ERR_PTR(-EINVAL) for a NULL or error @tl or @slot (then @slot, if
 * valid, is still the caller's).
 */
struct dma_fence *rust_fence_issue_slot(struct rust_fence_timeline *tl,
					struct rust_fence_slot *slot);

/**
 * rust_fence_slot_free - free memory from rust_fence_prealloc() that was not used
 * @slot: the slot; NULL and error pointers are ignored
 */
void rust_fence_slot_free(struct rust_fence_slot *slot);

/**
 * rust_fence_set_private - set the driver-private pointer of a fence
 * @tl: the timeline that issued @fence
 * @fence: the fence
 * @priv: the pointer; NULL at issue
 *
 * The pointer is kept with the fence for as long as it lives, also after it
 * signalled, and only @tl's owner reads it back (rust_fence_private()).
 * Any context.
 *
 * Return: 0, or -EINVAL if @fence was not issued by @tl.
 */
int rust_fence_set_private(struct rust_fence_timeline *tl, struct dma_fence *fence, void *priv);

/**
 * rust_fence_private - read the driver-private pointer of a fence
 * @tl: the timeline that issued @fence
 * @fence: the fence
 *
 * Any context.
 *
 * Return: what rust_fence_set_private() set last, or NULL if nothing was
 * set or @fence was not issued by @tl.
 */
void *rust_fence_private(struct rust_fence_timeline *tl, struct dma_fence *fence);

/**
 * rust_fence_signal - signal a fence issued by rust_fence_issue() or rust_fence_issue_slot()
 * @tl: the timeline that issued @fence
 * @fence: the fence
 * @error: 0, or a negative errno the fence completes with
 *
 * May be called from any context, including interrupt handlers.
 *
 * Return: 0 on success; -EINVAL if @fence is not a pending fence of @tl
 * (already signalled, or issued by someone else) or @error is not 0 or a
 * negative errno. Nothing is changed on error.
 */
int rust_fence_signal(struct rust_fence_timeline *tl, struct dma_fence *fence, int error);

/**
 * rust_fence_sync_file_fd - install a sync_file for a fence in a new fd
 * @fence: any fence
 * @flags: flags of the new file descriptor: 0 or O_CLOEXEC
 *
 * The fd belongs to the current process and holds its own reference.
 *
 * Return: the fd, or a negative errno: -EINVAL for a NULL @fence or bad
 * @flags, -EMFILE, -ENOMEM.
 */
int rust_fence_sync_file_fd(struct dma_fence *fence, unsigned int flags);

#endif /* _RUST_FENCE_H */
