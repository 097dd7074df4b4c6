// SPDX-License-Identifier: GPL-2.0

//! Callbacks run when a fence signals.
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! A [`FenceCallback`] wraps a `struct dma_fence_cb` in a pinned allocation that removes itself
//! from the fence when dropped, so the fence never calls into freed memory. Registering on a
//! fence that already signalled hands the callback back instead of losing it.
//!
//! Callbacks run in atomic context: the core calls them with the fence lock held (a spinlock
//! taken with interrupts off), possibly from an interrupt handler. They must not sleep, take a
//! mutex or allocate with `GFP_KERNEL`; with `CONFIG_DEBUG_ATOMIC_SLEEP` the kernel reports
//! any that does. [`CompleteOnSignal`] and [`QueueWorkOnSignal`] are the vetted callbacks that
//! hand the real work to a waiter or a work item.

use core::marker::PhantomPinned;
use core::pin::Pin;

use kernel::alloc::Flags;
use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::{Arc, Completion};
use kernel::types::Opaque;
use kernel::workqueue::{self, RawWorkItem};

use crate::fence::Fence;

/// Code run when a fence signals, in atomic context (see the module documentation).
pub trait FenceCallbackFn: Send + Sync {
    /// Called once, when `fence` signals.
    fn signalled(&self, fence: &Fence);
}

impl<F: Fn(&Fence) + Send + Sync> FenceCallbackFn for F {
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

/// Queues a work item on the system workqueue when the fence signals; the work runs in process
/// context, where it may sleep.
pub struct QueueWorkOnSignal<W>(pub Arc<W>);

impl<W> FenceCallbackFn for QueueWorkOnSignal<W>
where
    W: Send + Sync + 'static,
    Arc<W>: RawWorkItem<0> + Send,
{
    fn signalled(&self, _fence: &Fence) {
        // Cloning an `Arc` is an atomic increment, fine in atomic context. If the work is
        // already queued, the clone is handed back and dropped.
        let _ = workqueue::system().enqueue(self.0.clone());
    }
}

/// What [`Fence::add_callback`] did with a callback.
pub enum Registration<C: FenceCallbackFn> {
    /// The callback will run when the fence signals, unless the registration is dropped first.
    Pending(Pin<KBox<FenceCallback<C>>>),
    /// The fence had already signalled: the callback did not run and is handed back.
    Signalled(C),
}

/// A callback registered on a fence.
///
/// # Invariants
///
/// While `registered` is true, `cb` is on the callback list of `fence` (or was removed from
/// it by the core when the callback ran), and `func` is `Some`.
pub struct FenceCallback<C: FenceCallbackFn> {
    cb: Opaque<bindings::dma_fence_cb>,
    fence: ARef<Fence>,
    func: Option<C>,
    registered: bool,
    _pin: PhantomPinned,
}

// SAFETY: The `dma_fence_cb` is only touched by the core and by `remove`/`drop`, all under the
// fence lock, so the registration may be moved to and dropped on any thread; `C` is `Send`.
unsafe impl<C: FenceCallbackFn> Send for FenceCallback<C> {}

// SAFETY: Shared references only reach the fence (`Sync`) and `C` (`Sync`).
unsafe impl<C: FenceCallbackFn> Sync for FenceCallback<C> {}

impl<C: FenceCallbackFn> FenceCallback<C> {
    /// Returns the fence this callback is registered on.
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    /// Removes the callback; returns `true` if it had not run yet (it never will now).
    pub fn remove(mut self: Pin<KBox<Self>>) -> bool {
        // SAFETY: Only `registered` is changed; nothing is moved out of the pinned allocation.
        let this = unsafe { self.as_mut().get_unchecked_mut() };
        if !this.registered {
            return false;
        }
        this.registered = false;
        // Removal takes the fence lock, so a callback running concurrently has finished when it
        // returns.
        // SAFETY: By the type invariants `cb` is (or was) on the fence's list.
        unsafe { bindings::dma_fence_remove_callback(this.fence.as_raw(), this.cb.get()) }
    }

    /// # Safety
    ///
    /// Called by the dma_fence core with a `cb` embedded in a registered `FenceCallback<C>`.
    unsafe extern "C" fn run(fence: *mut bindings::dma_fence, cb: *mut bindings::dma_fence_cb) {
        // The registration stays alive until it has been removed from the fence (`Drop`), and
        // removal waits for running callbacks.
        // SAFETY: `cb` is the `cb` field of a live `FenceCallback<C>`.
        let this = unsafe { &*kernel::container_of!(Opaque::cast_from(cb), Self, cb) };
        // SAFETY: The core holds a reference to `fence` while it runs the callbacks.
        let fence = unsafe { Fence::from_raw(fence) };
        if let Some(func) = &this.func {
            func.signalled(fence);
        }
    }
}

impl<C: FenceCallbackFn> Drop for FenceCallback<C> {
    fn drop(&mut self) {
        if self.registered {
            // SAFETY: See `remove`.
            unsafe { bindings::dma_fence_remove_callback(self.fence.as_raw(), self.cb.get()) };
        }
    }
}

impl Fence {
    /// Registers `func` to run when the fence signals.
    ///
    /// Returns [`Registration::Signalled`] with `func` if the fence already signalled; the
    /// registration itself only fails when it cannot be allocated.
    pub fn add_callback<C: FenceCallbackFn>(
        &self,
        func: C,
        flags: Flags,
    ) -> Result<Registration<C>> {
        let mut reg = KBox::pin(
            FenceCallback {
                cb: Opaque::uninit(),
                fence: self.into(),
                func: Some(func),
                registered: false,
                _pin: PhantomPinned,
            },
            flags,
        )?;
        // SAFETY: Nothing is moved out of the pinned allocation.
        let this = unsafe { reg.as_mut().get_unchecked_mut() };
        // `cb` lives in a pinned allocation that removes itself from the fence before it is freed,
        // and `run` matches the type of `cb`'s container.
        // SAFETY: The fence is valid and `cb` outlives its registration.
        let ret = unsafe {
            bindings::dma_fence_add_callback(
                self.as_raw(),
                this.cb.get(),
                Some(FenceCallback::<C>::run),
            )
        };
        match ret {
            0 => {
                // INVARIANT: `cb` is now on the fence's callback list.
                this.registered = true;
                Ok(Registration::Pending(reg))
            }
            e if e == ENOENT.to_errno() => match this.func.take() {
                Some(func) => Ok(Registration::Signalled(func)),
                None => Err(EINVAL),
            },
            e => Err(Error::from_errno(e)),
        }
    }
}
