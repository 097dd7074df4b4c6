// SPDX-License-Identifier: GPL-2.0
/*
 * rf_c_consumer: a C driver built on the C API of rust_fence.
 *
 * It proves that C drivers can issue fences through rust_fence and unload
 * while those fences are still held elsewhere: the fences' ops live in
 * rust_fence, and destroying the timeline cancels what is still pending.
 * At load it checks that misuse of the API is refused with -EINVAL;
 * debugfs file rf_c_consumer/fences then issues fences (as sync_file fds)
 * and signals them on request of the selftest.
 */

#include <linux/debugfs.h>
#include <linux/dma-fence.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <rust_fence.h>

#include "rf_c_consumer.h"

static struct rust_fence_timeline *timeline;
static struct dentry *dir;
/* Fences issued and not signalled yet, by sequence number; one reference each. */
static DEFINE_XARRAY(pending);
static DEFINE_MUTEX(pending_lock);

static long rf_c_issue(struct rf_c_issue __user *uarg)
{
	struct rf_c_issue arg = {};
	struct rust_fence_slot *slot;
	struct dma_fence *fence;
	int ret;

	/* Allocate first: issuing in the slot cannot fail. */
	slot = rust_fence_prealloc(timeline);
	if (IS_ERR(slot))
		return PTR_ERR(slot);
	fence = rust_fence_issue_slot(timeline, slot);
	if (IS_ERR(fence)) {
		rust_fence_slot_free(slot);
		return PTR_ERR(fence);
	}

	/* The pending list gets the issued reference; this one is ours. */
	dma_fence_get(fence);
	arg.seqno = fence->seqno;
	mutex_lock(&pending_lock);
	ret = xa_insert(&pending, arg.seqno, fence, GFP_KERNEL);
	mutex_unlock(&pending_lock);
	if (ret) {
		rust_fence_signal(timeline, fence, -ECANCELED);
		dma_fence_put(fence);
		dma_fence_put(fence);
		return ret;
	}

	/* The fd last: once installed, it is the caller's and cannot be undone. */
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
	else
		ret = rust_fence_sync_file_fd(fence, O_CLOEXEC);
	if (ret < 0) {
		/*
		 * Nobody got the fence: cancel it rather than leave it pending
		 * until the unload (unless RF_C_IOC_SIGNAL got it meanwhile).
		 */
		mutex_lock(&pending_lock);
		if (xa_erase(&pending, arg.seqno) == fence) {
			rust_fence_signal(timeline, fence, -ECANCELED);
			dma_fence_put(fence);
		}
		mutex_unlock(&pending_lock);
	}
	dma_fence_put(fence);
	return ret;
}

static long rf_c_signal(struct rf_c_signal __user *uarg)
{
	struct rf_c_signal arg;
	struct dma_fence *fence;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.pad)
		return -EINVAL;

	mutex_lock(&pending_lock);
	fence = xa_load(&pending, arg.seqno);
	if (!fence) {
		mutex_unlock(&pending_lock);
		return -ENOENT;
	}
	/* rust_fence refuses a bad errno: the fence then stays pending. */
	ret = rust_fence_signal(timeline, fence, arg.error);
	if (!ret) {
		xa_erase(&pending, arg.seqno);
		dma_fence_put(fence);
	}
	mutex_unlock(&pending_lock);
	return ret;
}

static long rf_c_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case RF_C_IOC_ISSUE:
		return rf_c_issue((struct rf_c_issue __user *)arg);
	case RF_C_IOC_SIGNAL:
		return rf_c_signal((struct rf_c_signal __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations rf_c_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = rf_c_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* A fence issued and signalled in hard interrupt context. */
struct rf_c_irq_issue {
	struct irq_work work;
	struct rust_fence_slot *slot;
	struct dma_fence *fence;
	bool in_hardirq;
	int signal_ret;
};

static void rf_c_irq_issue_fn(struct irq_work *work)
{
	struct rf_c_irq_issue *t = container_of(work, struct rf_c_irq_issue, work);

	t->in_hardirq = in_hardirq();
	t->fence = rust_fence_issue_slot(timeline, t->slot);
	if (!IS_ERR(t->fence))
		t->signal_ret = rust_fence_signal(timeline, t->fence, 0);
}

/*
 * rust_fence_issue_slot() and rust_fence_signal() from an interrupt
 * handler, as a driver's completion interrupt calls them: a sleep in them
 * is a splat (CONFIG_DEBUG_ATOMIC_SLEEP) that fails the test run. Not a
 * "hard" irq_work: like a driver's interrupt handler, which PREEMPT_RT
 * runs in a thread, it may take the fences' spinlock_t locks (lockdep
 * checks that too).
 */
static int rf_c_check_irq_issue(void)
{
	struct rf_c_irq_issue t = { .work = IRQ_WORK_INIT(rf_c_irq_issue_fn) };
	int ret = 0;

	t.slot = rust_fence_prealloc(timeline);
	if (IS_ERR(t.slot))
		return PTR_ERR(t.slot);
	irq_work_queue(&t.work);
	irq_work_sync(&t.work);
	if (IS_ERR(t.fence)) {
		rust_fence_slot_free(t.slot);
		return PTR_ERR(t.fence);
	}
	if (!t.in_hardirq || t.signal_ret || !dma_fence_is_signaled(t.fence))
		ret = -EINVAL;
	dma_fence_put(t.fence);
	return ret;
}

/*
 * Misuse of the C API must be refused with -EINVAL, never crash: -EINVAL if
 * it was not, another error if the checks could not run (-ENOMEM).
 */
static int rf_c_check_misuse(void)
{
	struct rust_fence_timeline *other;
	struct rust_fence_slot *slot;
	struct dma_fence *fence, *stub;
	int failed = 0;

	if (PTR_ERR(rust_fence_timeline_create(NULL, "x")) != -EINVAL)
		failed++;
	if (PTR_ERR(rust_fence_issue(NULL)) != -EINVAL)
		failed++;
	if (PTR_ERR(rust_fence_prealloc(NULL)) != -EINVAL)
		failed++;
	if (rust_fence_sync_file_fd(NULL, 0) != -EINVAL)
		failed++;

	/* A refused issue leaves the slot to the caller, who frees it. */
	slot = rust_fence_prealloc(timeline);
	if (IS_ERR(slot))
		return PTR_ERR(slot);
	if (PTR_ERR(rust_fence_issue_slot(NULL, slot)) != -EINVAL)
		failed++;
	if (PTR_ERR(rust_fence_issue_slot(timeline, NULL)) != -EINVAL)
		failed++;
	rust_fence_slot_free(slot);
	rust_fence_slot_free(NULL);

	fence = rust_fence_issue(timeline);
	if (IS_ERR(fence))
		return PTR_ERR(fence);

	/* A driver-private pointer per fence, NULL at issue. */
	if (rust_fence_private(timeline, fence))
		failed++;
	if (rust_fence_set_private(timeline, fence, &timeline) ||
	    rust_fence_private(timeline, fence) != &timeline)
		failed++;
	if (rust_fence_set_private(NULL, fence, NULL) != -EINVAL)
		failed++;
	if (rust_fence_signal(NULL, fence, 0) != -EINVAL)
		failed++;
	if (rust_fence_signal(timeline, fence, 1) != -EINVAL)
		failed++;
	if (rust_fence_signal(timeline, fence, -100000) != -EINVAL)
		failed++;

	/* A fence of another issuer is not ours to signal. */
	stub = dma_fence_get_stub();
	if (rust_fence_signal(timeline, stub, 0) != -EINVAL)
		failed++;
	if (rust_fence_set_private(timeline, stub, NULL) != -EINVAL ||
	    rust_fence_private(timeline, stub))
		failed++;
	dma_fence_put(stub);

	/* Nor is a fence of another timeline. */
	other = rust_fence_timeline_create("rf_c_consumer", "other");
	if (IS_ERR(other)) {
		/* Out of memory is no misuse: the load fails with it. */
		rust_fence_signal(timeline, fence, 0);
		dma_fence_put(fence);
		return PTR_ERR(other);
	}
	if (rust_fence_signal(other, fence, 0) != -EINVAL)
		failed++;
	if (rust_fence_set_private(other, fence, NULL) != -EINVAL ||
	    rust_fence_private(other, fence))
		failed++;
	rust_fence_timeline_destroy(other);

	/* The first signal works, a second one is refused. */
	if (rust_fence_signal(timeline, fence, 0) || !dma_fence_is_signaled(fence))
		failed++;
	if (rust_fence_signal(timeline, fence, 0) != -EINVAL)
		failed++;
	/* The private pointer outlives the signal, as the fence does. */
	if (rust_fence_private(timeline, fence) != &timeline)
		failed++;
	dma_fence_put(fence);

	return failed ? -EINVAL : 0;
}

static int __init rf_c_consumer_init(void)
{
	struct dentry *file;
	int ret;

	timeline = rust_fence_timeline_create("rf_c_consumer", "c-timeline");
	if (IS_ERR(timeline))
		return PTR_ERR(timeline);

	ret = rf_c_check_misuse();
	if (ret) {
		if (ret == -EINVAL)
			pr_err("rf_c_consumer: misuse of the C API was not refused\n");
		goto err;
	}
	pr_info("rf_c_consumer: misuse of the C API refused with -EINVAL\n");
	ret = rf_c_check_irq_issue();
	if (ret) {
		if (ret == -EINVAL)
			pr_err("rf_c_consumer: issue and signal in hard interrupt context failed\n");
		goto err;
	}
	pr_info("rf_c_consumer: fence issued and signalled in hard interrupt context\n");

	/* The file is all the driver serves: fail the load without it. */
	dir = debugfs_create_dir("rf_c_consumer", NULL);
	if (IS_ERR(dir)) {
		ret = PTR_ERR(dir);
		goto err;
	}
	file = debugfs_create_file("fences", 0600, dir, NULL, &rf_c_fops);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		debugfs_remove(dir);
		goto err;
	}
	return 0;

err:
	rust_fence_timeline_destroy(timeline);
	return ret;
}

static void __exit rf_c_consumer_exit(void)
{
	struct dma_fence *fence;
	unsigned long seqno;

	debugfs_remove(dir);
	/* Destroying the timeline cancels what is pending; drop our references. */
	rust_fence_timeline_destroy(timeline);
	xa_for_each(&pending, seqno, fence)
		dma_fence_put(fence);
	xa_destroy(&pending);
	pr_info("rf_c_consumer: unloaded\n");
}

module_init(rf_c_consumer_init);
module_exit(rf_c_consumer_exit);
MODULE_DESCRIPTION("C driver using the C API of rust_fence (test)");
MODULE_LICENSE("GPL");
