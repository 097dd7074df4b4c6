// SPDX-License-Identifier: GPL-2.0

//! Callbacks run when a fence signals.
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! [`Fence::add_callback`] puts a `struct dma_fence_cb` in a pinned allocation and returns a
//! [`CallbackRegistration`] that removes it from the fence when dropped. Registering on a fence
//! that already signalled hands the callback back instead of losing it.
//!
//! The fence keeps a pointer to the callback until it runs or is removed, and safe code may leak
//! the registration (`mem::forget`, a reference cycle). So the callback is `'static` (it cannot
//! borrow a stack frame that is gone when it runs), and while it is registered the module whose
//! code the fence would call stays loaded: `rmmod` of that module answers `EAGAIN` instead of
//! leaving the fence a pointer into freed code. The module reference is dropped when the callback
//! has run or has been removed.
//!
//! Callbacks run in atomic context: the core calls them with the fence lock held (a spinlock
//! taken with interrupts off), possibly from an interrupt handler. They must not sleep, take a
//! mutex or allocate with `GFP_KERNEL`; with `CONFIG_DEBUG_ATOMIC_SLEEP` the kernel reports
//! any that does. [`CompleteOnSignal`] and [`QueueWorkOnSignal`] are the vetted callbacks that
//! hand the real work to a waiter or a work item. Do not signal another fence from a callback:
//! both inline fence locks have one lockdep class, so lockdep reports the nesting; queue a work
//! item that signals instead, as the core's `dma_fence_array` does with an `irq_work`.

use core::marker::PhantomPinned;
use core::pin::Pin;

use kernel::alloc::Flags;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::{
    Arc,
    Completion, //
};
use kernel::types::Opaque;
use kernel::workqueue::{
    Queue,
    RawWorkItem, //
};

use crate::fence::Fence;
use crate::module_ref::ModuleRef;

/// Code run when a fence signals, in atomic context (see the module documentation).
///
/// `'static`: the callback may outlive every stack frame of its registrant (see the module
/// documentation).
pub trait FenceCallbackFn: Send + Sync + 'static {
    /// Called once, when `fence` signals.
    fn signalled(&self, fence: &Fence);
}

impl<F: Fn(&Fence) + Send + Sync + 'static> FenceCallbackFn for F {
    fn signalled(&self, fence: &Fence) {
        self(fence)
    }
}

/// Completes a [`Completion`] (`complete_all`) when the fence signals, waking its waiters.
pub struct CompleteOnSignal(pub Arc<Completion>);

impl FenceCallbackFn for CompleteOnSignal {
    fn signalled(&self, _fence: &Fence) {
        self.0.complete_all();
    }
}

/// Queues a work item on a workqueue when the fence signals; the work runs in process context,
/// where it may sleep or signal other fences.
pub struct QueueWorkOnSignal<W> {
    queue: &'static Queue,
    work: Arc<W>,
}

impl<W> QueueWorkOnSignal<W> {
    /// Queues `work` on `queue` (e.g. [`kernel::workqueue::system()`], or a queue of the driver's that
    /// it drains before unloading) when the fence signals.
    pub fn new(queue: &'static Queue, work: Arc<W>) -> Self {
        Self { queue, work }
    }
}

impl<W> FenceCallbackFn for QueueWorkOnSignal<W>
where
    W: Send + Sync + 'static,
    Arc<W>: RawWorkItem<0> + Send,
{
    fn signalled(&self, _fence: &Fence) {
        // Cloning an `Arc` is an atomic increment, fine in atomic context. If the work is
        // already queued, the clone is handed back and dropped.
        let _ = self.queue.enqueue(self.work.clone());
    }
}

/// What [`Fence::add_callback`] did with a callback.
pub enum Registration<C: FenceCallbackFn> {
    /// The callback will run when the fence signals, unless the registration is dropped first.
    Pending(CallbackRegistration<C>),
    /// The fence had already signalled: the callback did not run and is handed back.
    Signalled(C),
}

/// The memory a registered callback lives in, shared with the fence core.
///
/// # Invariants
///
/// Once `cb` was added to the fence, the fields are only read (by `run` and by the owning
/// [`CallbackRegistration`]), never written or moved, until the registration removed `cb`.
struct FenceCallback<C: FenceCallbackFn> {
    cb: Opaque<bindings::dma_fence_cb>,
    fence: ARef<Fence>,
    /// The module holding the code of `run`, pinned while `cb` is on the fence's callback list.
    module: ModuleRef,
    func: C,
    _pin: PhantomPinned,
}

impl<C: FenceCallbackFn> FenceCallback<C> {
    /// Called by the dma_fence core when the fence signals.
    ///
    /// # Safety
    ///
    /// `cb` is the `cb` field of a `FenceCallback<C>` that was added to `fence` and not removed.
    unsafe extern "C" fn run(fence: *mut bindings::dma_fence, cb: *mut bindings::dma_fence_cb) {
        // SAFETY: By the caller's guarantee, `cb` is the `cb` field of a `FenceCallback<C>`. It is
        // alive: its `CallbackRegistration` removes it from the fence before freeing it, and
        // removal takes the fence lock, which the core holds while it runs callbacks. It is only
        // read (type invariants), so a shared reference is fine while the registration reads it
        // too.
        let this = unsafe { &*kernel::container_of!(Opaque::cast_from(cb), Self, cb) };
        // SAFETY: `fence` is `this.fence`, a reference of the registration, which cannot drop it
        // while we run (see above): it stays alive for this call. The core's own reference is not
        // what keeps it: `dma_fence_release()` of a fence nobody signalled runs the callbacks at
        // refcount 0.
        let fence = unsafe { Fence::from_raw(fence) };
        this.func.signalled(fence);
        // SAFETY: The core took `cb` off the callback list before calling us, so this drops the
        // reference `add_callback` took, exactly once (the registration's removal now fails).
        // Returning into this module's code after the put is safe: the core runs callbacks with
        // the fence spinlock held and interrupts off, an RCU read-side critical section, and
        // `free_module()` waits for a grace period before freeing module memory.
        unsafe { this.module.put() };
    }
}

/// A callback registered on a fence, removed when dropped.
///
/// # Invariants
///
/// `inner` was added to its fence with [`FenceCallback::run`] and holds a reference on the
/// module of `run` until the callback ran or was removed.
pub struct CallbackRegistration<C: FenceCallbackFn> {
    inner: Pin<KBox<FenceCallback<C>>>,
}

// SAFETY: The `dma_fence_cb` is only touched by the core and by `remove`, under the fence lock,
// so the registration may be moved to and dropped on any thread; `C` is `Send`.
unsafe impl<C: FenceCallbackFn> Send for CallbackRegistration<C> {}

// SAFETY: Shared references only reach the fence (`Sync`) and `C` (`Sync`).
unsafe impl<C: FenceCallbackFn> Sync for CallbackRegistration<C> {}

impl<C: FenceCallbackFn> CallbackRegistration<C> {
    /// Returns the fence this callback is registered on.
    pub fn fence(&self) -> &Fence {
        &self.inner.fence
    }

    /// Returns the callback.
    pub fn callback(&self) -> &C {
        &self.inner.func
    }

    /// Removes the callback; returns `true` if it had not run yet (it never will now).
    pub fn remove(self) -> bool {
        // Dropping `self` removes it once more, which finds the callback gone and does nothing.
        self.take_off()
    }

    /// Takes the callback off the fence's list; `true` if it was still there.
    fn take_off(&self) -> bool {
        let inner = &*self.inner;
        // SAFETY: By the type invariants `cb` was added to `fence` with `run`. Removal takes the
        // fence lock, so a callback running concurrently has finished when it returns; the core
        // re-initialises the list node of a callback it ran, so a second removal returns false.
        let removed =
            unsafe { bindings::dma_fence_remove_callback(inner.fence.as_raw(), inner.cb.get()) };
        if removed {
            // SAFETY: The callback was still registered, so the module reference taken by
            // `add_callback` is still held, and it is ours to drop: `run` never will.
            unsafe { inner.module.put() };
        }
        removed
    }
}

impl<C: FenceCallbackFn> Drop for CallbackRegistration<C> {
    fn drop(&mut self) {
        self.take_off();
    }
}

impl Fence {
    /// Registers `func` to run when the fence signals.
    ///
    /// Returns [`Registration::Signalled`] with `func` if the fence already signalled. Fails with
    /// `ENOMEM`, or with `ENODEV` while the module holding the callback's code is being unloaded.
    pub fn add_callback<C: FenceCallbackFn>(
        &self,
        func: C,
        flags: Flags,
    ) -> Result<Registration<C>> {
        // `run` is compiled into the module instantiating this function.
        let module = ModuleRef::of_instance::<C>();
        if !module.try_get() {
            return Err(ENODEV);
        }
        let boxed = match KBox::new(
            FenceCallback {
                cb: Opaque::uninit(),
                fence: self.into(),
                module,
                func,
                _pin: PhantomPinned,
            },
            flags,
        ) {
            Ok(boxed) => boxed,
            Err(e) => {
                // SAFETY: Drops the reference taken above.
                unsafe { module.put() };
                return Err(e.into());
            }
        };
        // SAFETY: The fence is valid, `cb` is a `dma_fence_cb` in an allocation that stays where
        // it is until the `CallbackRegistration` built below removes it, and `run` matches the
        // type of `cb`'s container.
        let ret = unsafe {
            bindings::dma_fence_add_callback(
                self.as_raw(),
                boxed.cb.get(),
                Some(FenceCallback::<C>::run),
            )
        };
        match ret {
            0 => Ok(Registration::Pending(CallbackRegistration {
                // INVARIANT: `cb` was added with `run` and holds the module reference.
                inner: KBox::into_pin(boxed),
            })),
            e => {
                // SAFETY: Nothing was added to the fence: drop the module reference.
                unsafe { module.put() };
                if e != ENOENT.to_errno() {
                    return Err(Error::from_errno(e));
                }
                // `cb` was never added, so the allocation is ours alone to unpack.
                let FenceCallback { func, .. } = KBox::into_inner(boxed);
                Ok(Registration::Signalled(func))
            }
        }
    }
}

#[cfg(rust_fence_kunit)]
#[kernel::prelude::kunit_tests(rust_fence_callback)]
mod tests {
    use kernel::prelude::*;
    use kernel::sync::atomic::Relaxed;
    use kernel::sync::{
        new_mutex,
        Arc,
        Completion, //
    };
    use kernel::workqueue::new_work;

    use crate::kunit::{
        count_into,
        counter,
        timeline,
        Job,
        SignalJob, //
    };
    use crate::{
        CompleteOnSignal,
        Interruptible,
        QueueWorkOnSignal,
        Registration, //
    };

    #[test]
    fn add_callback() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let runs = counter()?;
        let reg = match f.fence().add_callback(count_into(&runs), GFP_KERNEL)? {
            Registration::Pending(reg) => reg,
            Registration::Signalled(_) => return Err(EINVAL),
        };
        assert_eq!(runs.load(Relaxed), 0);
        f.signal();
        assert_eq!(runs.load(Relaxed), 1);
        // It ran, so there is nothing left to remove.
        assert!(!reg.remove());
        Ok(())
    }

    #[test]
    fn late_add_hands_callback_back() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        f.signal();
        let runs = counter()?;
        let handed_back = matches!(
            shared.add_callback(count_into(&runs), GFP_KERNEL)?,
            Registration::Signalled(_)
        );
        assert!(handed_back);
        assert_eq!(runs.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn remove_callback() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let runs = counter()?;
        let removed = match f.fence().add_callback(count_into(&runs), GFP_KERNEL)? {
            Registration::Pending(reg) => reg.remove(),
            Registration::Signalled(_) => false,
        };
        assert!(removed);
        f.signal();
        assert_eq!(runs.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn dropped_registration_never_runs() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let runs = counter()?;
        drop(f.fence().add_callback(count_into(&runs), GFP_KERNEL)?);
        f.signal();
        assert_eq!(runs.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn complete_on_signal() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let _reg = f
            .fence()
            .add_callback(CompleteOnSignal(done.clone()), GFP_KERNEL)?;
        crate::library_queue().try_spawn(GFP_KERNEL, move || {
            f.signal();
        })?;
        // Returns only once the other thread signalled.
        done.wait_for_completion();
        Ok(())
    }

    #[test]
    fn queue_work_on_signal() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let job = Arc::pin_init(
            pin_init!(Job {
                work <- new_work!("rust_fence_kunit::Job"),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )?;
        let _reg = f.fence().add_callback(
            QueueWorkOnSignal::new(crate::library_queue(), job.clone()),
            GFP_KERNEL,
        )?;
        f.signal();
        job.done.wait_for_completion();
        Ok(())
    }

    /// A fence signalled because another one did, the way the callbacks' documentation says: not
    /// from the callback, which would nest two inline fence locks of one lockdep class, but from
    /// a work item the callback queues.
    #[test]
    fn signal_from_callback_through_work() -> Result {
        let tl = timeline()?;
        let first = tl.issue(tl.prealloc()?, ());
        let second = tl.issue(tl.prealloc()?, ());
        let shared = second.fence_ref();
        let job = Arc::pin_init(
            pin_init!(SignalJob {
                work <- new_work!("rust_fence_kunit::SignalJob"),
                fence <- new_mutex!(Some(second)),
            }),
            GFP_KERNEL,
        )?;
        let _reg = first.fence().add_callback(
            QueueWorkOnSignal::new(crate::library_queue(), job),
            GFP_KERNEL,
        )?;
        assert!(!shared.is_signaled());
        first.signal();
        // The work runs soon on another worker: 100 jiffies are at least a second.
        assert!(shared.wait_timeout(Interruptible::No, 100).is_ok());
        assert_eq!(shared.error(), Ok(()));
        Ok(())
    }

    /// One thread signals while this one registers callbacks: each callback either runs exactly
    /// once or is handed back, never both, never neither.
    #[test]
    fn signal_callback_race() -> Result {
        const CALLBACKS: i32 = 200;
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        let signalled = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let signalled2 = signalled.clone();
        let runs = counter()?;
        let mut regs = KVec::new();
        let mut handed_back = 0;
        crate::library_queue().try_spawn(GFP_KERNEL, move || {
            f.signal();
            signalled2.complete_all();
        })?;
        for _ in 0..CALLBACKS {
            match shared.add_callback(count_into(&runs), GFP_KERNEL)? {
                Registration::Pending(reg) => regs.push(reg, GFP_KERNEL)?,
                Registration::Signalled(_) => handed_back += 1,
            }
        }
        signalled.wait_for_completion();
        pr_info!(
            "signal_callback_race: {} callbacks ran, {} were handed back\n",
            runs.load(Relaxed),
            handed_back
        );
        assert_eq!(runs.load(Relaxed) + handed_back, CALLBACKS);
        assert_eq!(runs.load(Relaxed), regs.len() as i32);
        Ok(())
    }
}
