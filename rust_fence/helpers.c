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
#include <linux/dma-fence-array.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-fence-unwrap.h>
#include <linux/export.h>
#include <linux/fcntl.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/file.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/sync_file.h>
#include <linux/workqueue.h>

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

/* Tells whether @fence is a dma_fence_array or a dma_fence_chain. */
bool rust_fence_helper_is_container(struct dma_fence *fence)
{
	return dma_fence_is_container(fence);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_is_container);

/* Tells whether @fence is a dma_fence_chain. */
bool rust_fence_helper_is_chain(struct dma_fence *fence)
{
	return dma_fence_is_chain(fence);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_is_chain);

/*
 * A dma_fence_array of @num_fences fences on a context of its own: owns
 * @fences (kmalloc()ed) and their references on success; NULL (nothing
 * taken) if it cannot be allocated.
 */
struct dma_fence *rust_fence_helper_array_create(struct dma_fence **fences, int num_fences)
{
	struct dma_fence_array *array;

	array = dma_fence_array_create(num_fences, fences, dma_fence_context_alloc(1), 1);
	return array ? &array->base : NULL;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_array_create);

/*
 * A dma_fence_chain link for @fence after @prev (may be NULL): takes both
 * references on success; NULL (nothing taken) if it cannot be allocated.
 */
struct dma_fence *rust_fence_helper_chain_create(struct dma_fence *prev, struct dma_fence *fence,
						 u64 seqno)
{
	struct dma_fence_chain *chain = dma_fence_chain_alloc();

	if (!chain)
		return NULL;
	dma_fence_chain_init(chain, prev, fence, seqno);
	return &chain->base;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_chain_create);

/* The layout container.rs mirrors as `UnwrapCursor`. */
static_assert(sizeof(struct dma_fence_unwrap) == 24);
static_assert(offsetof(struct dma_fence_unwrap, chain) == 0);
static_assert(offsetof(struct dma_fence_unwrap, array) == 8);
static_assert(offsetof(struct dma_fence_unwrap, index) == 16);

/* Tells whether @fence still points to an ops table: false once detached. */
bool rust_fence_helper_has_ops(struct dma_fence *fence)
{
	return rcu_access_pointer(fence->ops) != NULL;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_has_ops);

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
 * dma_fence_begin/end_signalling() and try_module_get()/module_put() are
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

/*
 * The intrusive lists that track pending fences per timeline and timelines
 * per provider, without an allocation per entry.
 */
void rust_fence_helper_list_init(struct list_head *list)
{
	INIT_LIST_HEAD(list);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_list_init);

void rust_fence_helper_list_add_tail(struct list_head *entry, struct list_head *head)
{
	list_add_tail(entry, head);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_list_add_tail);

/* Unlinks @entry if it is on a list; returns whether it was. */
bool rust_fence_helper_list_del_init(struct list_head *entry)
{
	if (list_empty(entry))
		return false;
	list_del_init(entry);
	return true;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_list_del_init);

/*
 * The references rust_fence took on a module while its init ran
 * (MODULE_STATE_COMING): callbacks, fences of pinning tables, timeline
 * frees. They keep a module loaded that rmmod would remove, but a module
 * whose init fails is freed whatever references are held on it
 * (do_init_module()): the module notifier then waits until they are gone.
 * The first such reference gives the module an entry, which goes when the
 * module is LIVE or gone; dropping a reference while the entry exists
 * uncounts it (no other can be taken meanwhile: an init that failed has
 * set the module GOING, which try_module_get() refuses).
 */
struct rf_coming_module {
	struct list_head link;
	struct module *module;
	long pins;
};

static LIST_HEAD(rf_coming_modules);
static DEFINE_SPINLOCK(rf_coming_lock);
static DECLARE_WAIT_QUEUE_HEAD(rf_coming_wq);
static atomic_t rf_coming_count = ATOMIC_INIT(0);

static struct rf_coming_module *rf_coming_find(struct module *module)
{
	struct rf_coming_module *c;

	lockdep_assert_held(&rf_coming_lock);
	list_for_each_entry(c, &rf_coming_modules, link)
		if (c->module == module)
			return c;
	return NULL;
}

/* Counts a reference taken on @module while it is coming: false if out of memory. */
static bool rf_coming_count_get(struct module *module)
{
	struct rf_coming_module *c, *new;
	unsigned long flags;

	if (!module || READ_ONCE(module->state) != MODULE_STATE_COMING)
		return true;
	/* Any context: the caller may hold a spinlock. */
	new = kzalloc_obj(*new, GFP_ATOMIC);
	spin_lock_irqsave(&rf_coming_lock, flags);
	c = rf_coming_find(module);
	if (!c && new) {
		c = new;
		new = NULL;
		c->module = module;
		list_add(&c->link, &rf_coming_modules);
		atomic_inc(&rf_coming_count);
	}
	if (c)
		c->pins++;
	spin_unlock_irqrestore(&rf_coming_lock, flags);
	kfree(new);
	return c;
}

/* Uncounts a reference dropped while @module has an entry. */
static void rf_coming_count_put(struct module *module)
{
	struct rf_coming_module *c;
	unsigned long flags;
	bool wake = false;

	if (!module || !atomic_read(&rf_coming_count))
		return;
	spin_lock_irqsave(&rf_coming_lock, flags);
	c = rf_coming_find(module);
	if (c && c->pins > 0)
		wake = !--c->pins;
	spin_unlock_irqrestore(&rf_coming_lock, flags);
	if (wake)
		wake_up_all(&rf_coming_wq);
}

/*
 * Takes a reference on @module unless it is being removed; a NULL @module
 * (built-in code) needs none.
 */
bool rust_fence_helper_try_module_get(struct module *module)
{
	if (!try_module_get(module))
		return false;
	if (!rf_coming_count_get(module)) {
		module_put(module);
		return false;
	}
	return true;
}
EXPORT_SYMBOL_GPL(rust_fence_helper_try_module_get);

void rust_fence_helper_module_put(struct module *module)
{
	/* The put first: the count reaching 0 lets a failed init free @module. */
	module_put(module);
	rf_coming_count_put(module);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_module_put);

static long rf_coming_pins(struct module *module)
{
	struct rf_coming_module *c;
	unsigned long flags;
	long pins;

	spin_lock_irqsave(&rf_coming_lock, flags);
	c = rf_coming_find(module);
	pins = c ? c->pins : 0;
	spin_unlock_irqrestore(&rf_coming_lock, flags);
	return pins;
}

static void rf_coming_remove(struct module *module)
{
	struct rf_coming_module *c;
	unsigned long flags;

	spin_lock_irqsave(&rf_coming_lock, flags);
	c = rf_coming_find(module);
	if (c) {
		list_del(&c->link);
		atomic_dec(&rf_coming_count);
	}
	spin_unlock_irqrestore(&rf_coming_lock, flags);
	kfree(c);
}

/*
 * A module going without having been LIVE (its init failed): waits until
 * the references rust_fence took on it while it was coming are gone, as
 * the kernel is about to free it regardless. Only misuse gets here with
 * references left (an init that leaked a callback registration or a fence
 * of a pinning table, then failed): it waits as long as they live, saying
 * so every 10 s, rather than let them run freed code.
 */
static void rf_coming_wait(struct module *module)
{
	long pins = rf_coming_pins(module);

	if (pins) {
		pr_warn("%s: init failed with %ld references rust_fence took on the module (callbacks, fences, timeline frees): waiting for them before it is freed\n",
			module->name, pins);
		while (!wait_event_idle_timeout(rf_coming_wq, !rf_coming_pins(module), 10 * HZ))
			pr_warn("%s: still waiting for %ld references before the module is freed\n",
				module->name, rf_coming_pins(module));
		pr_info("%s: the references of the failed init are gone\n", module->name);
	}
	rf_coming_remove(module);
}

/* Returns a reference to the fence behind sync_file @fd, or NULL. */
struct dma_fence *rust_fence_helper_sync_file_get_fence(int fd)
{
	return sync_file_get_fence(fd);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_sync_file_get_fence);

/*
 * The library's workqueue. It frees timelines one RCU grace period after
 * their last reference is gone (queue_rcu_work()), in process context; the
 * work function that runs is always rust_fence's, and the code of the
 * provider it calls is kept loaded by the provider's registration or by a
 * module reference. The KUnit cases of rust_fence queue their work here
 * too, so that unloading rust_fence (destroy_workqueue()) waits for it.
 */
static struct workqueue_struct *rust_fence_free_wq;

struct workqueue_struct *rust_fence_helper_wq(void)
{
	return rust_fence_free_wq;
}

int rust_fence_helper_free_wq_create(void)
{
	rust_fence_free_wq = alloc_workqueue("rust_fence_free", WQ_UNBOUND, 0);
	return rust_fence_free_wq ? 0 : -ENOMEM;
}

void rust_fence_helper_free_wq_destroy(void)
{
	/* rcu_work items first wait for a grace period, then get queued. */
	rcu_barrier();
	destroy_workqueue(rust_fence_free_wq);
}

/* Waits for every rcu_work queued on the free workqueue before the call. */
void rust_fence_helper_free_wq_flush(void)
{
	rcu_barrier();
	flush_workqueue(rust_fence_free_wq);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_free_wq_flush);

/* Runs @func in process context on the free workqueue after a grace period. */
void rust_fence_helper_free_wq_queue(struct rcu_work *rwork, work_func_t func)
{
	INIT_RCU_WORK(rwork, func);
	queue_rcu_work(rust_fence_free_wq, rwork);
}
EXPORT_SYMBOL_GPL(rust_fence_helper_free_wq_queue);

/*
 * The module notifier calls MODULE_STATE_GOING after the module's exit
 * (or failed init) and before free_module(): its code is still there.
 */
static int rust_fence_module_notify(struct notifier_block *nb,
				    unsigned long action, void *data)
{
	switch (action) {
	case MODULE_STATE_LIVE:
		rf_coming_remove(data);
		break;
	case MODULE_STATE_GOING:
		rust_fence_module_going(data);
		/* No entry left for a module that was LIVE. */
		rf_coming_wait(data);
		/*
		 * Last: dropping those references (a fence of a pinning
		 * table released) may have queued frees of the module's
		 * timelines, and no reference can be taken any more.
		 */
		rust_fence_wait_late_frees();
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block rust_fence_module_nb = {
	.notifier_call = rust_fence_module_notify,
};

int rust_fence_helper_watch_modules(void)
{
	return register_module_notifier(&rust_fence_module_nb);
}

void rust_fence_helper_unwatch_modules(void)
{
	struct rf_coming_module *c, *next;
	unsigned long flags;
	LIST_HEAD(gone);

	unregister_module_notifier(&rust_fence_module_nb);
	/* Modules still coming: their LIVE or GOING will not reach us. */
	spin_lock_irqsave(&rf_coming_lock, flags);
	list_splice_init(&rf_coming_modules, &gone);
	atomic_set(&rf_coming_count, 0);
	spin_unlock_irqrestore(&rf_coming_lock, flags);
	list_for_each_entry_safe(c, next, &gone, link)
		kfree(c);
}
