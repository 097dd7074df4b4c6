// SPDX-License-Identifier: GPL-2.0

//! Timelines (fence contexts) and the issuer-only [`DriverFence`].
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! A [`Timeline`] owns one fence context, its names and the issuer's data, and issues fences
//! with 64-bit sequence numbers (`dma_fence_init64()`, or 32-bit ones if the issuer's
//! [`FenceOps::SEQNO_64`] says so) and the inline fence lock. Issuing is
//! split in two so that the step inside a submission path cannot fail: [`Timeline::prealloc`]
//! allocates (and may fail), [`Timeline::issue`] only initialises.

use core::mem::{ManuallyDrop, MaybeUninit};
use core::pin::Pin;
use core::ptr::{self, NonNull};

use kernel::bindings;
use kernel::module::this_module;
use kernel::prelude::*;
use kernel::rbtree::RBTreeNodeReservation;
use kernel::str::CString;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::sync::Refcount;
use kernel::types::Opaque;

use crate::fence::Fence;
use crate::ffi;
use crate::ops::{FenceOps, OpsTable};
use crate::provider::Provider;

/// The memory of one fence.
///
/// `base` comes first: fences of detachable tables are freed by the core with
/// `dma_fence_free()`, which `kfree_rcu()`s the `dma_fence` pointer itself.
#[repr(C)]
struct FenceAlloc {
    base: Opaque<bindings::dma_fence>,
    /// The `TimelineInner<T>` that issued the fence, for the ops callbacks.
    timeline: *const c_void,
    /// Issuer-private state of the fence, zero at issue; see [`DriverFence::issuer_word`].
    issuer_word: Atomic<u64>,
}

/// The shared state of a timeline.
///
/// # Invariants
///
/// - `context` was returned by `dma_fence_context_alloc(1)`.
/// - `provider` tracks the fences of this timeline that are pending.
/// - The allocation is freed through `call_rcu()` one grace period after `refcount` dropped to
///   zero, so an ops callback that started before the last fence of the timeline signalled can
///   still read it.
#[pin_data]
pub(crate) struct TimelineInner<T: FenceOps> {
    refcount: Refcount,
    rcu: Opaque<bindings::callback_head>,
    context: u64,
    next_seqno: Atomic<u64>,
    provider: Provider,
    driver_name: CString,
    timeline_name: CString,
    #[pin]
    data: T,
}

impl<T: FenceOps> TimelineInner<T> {
    /// Returns the timeline of a fence it issued.
    ///
    /// # Safety
    ///
    /// `fence` must have been issued by a `Timeline<T>`, and the timeline must still be
    /// alive: the fence is unsignalled (its `DriverFence` holds a timeline reference), or the
    /// caller is in an RCU read section that began before the fence signalled.
    pub(crate) unsafe fn from_fence<'a>(fence: *mut bindings::dma_fence) -> &'a Self {
        let alloc = fence.cast::<FenceAlloc>();
        // `base` is the first field of the `repr(C)` `FenceAlloc` that holds every fence issued
        // by a timeline.
        // SAFETY: The caller guarantees that the fence is ours and its timeline alive.
        unsafe { &*(*alloc).timeline.cast::<Self>() }
    }

    pub(crate) fn driver_name(&self) -> &CStr {
        &self.driver_name
    }

    pub(crate) fn timeline_name(&self) -> &CStr {
        &self.timeline_name
    }

    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// Frees the timeline once a grace period passed after its last reference was dropped.
    ///
    /// # Safety
    ///
    /// Called by RCU for the `rcu` head queued in `Timeline::drop`.
    unsafe extern "C" fn free_rcu(head: *mut bindings::callback_head) {
        // It was allocated by `KBox` in `Timeline::new`.
        // SAFETY: `head` is the `rcu` field of a `TimelineInner<T>` with no reference left.
        let inner = unsafe { kernel::container_of!(Opaque::cast_from(head), Self, rcu) };
        // SAFETY: See above; nobody else can reach the allocation any more.
        let inner = unsafe { KBox::from_raw(inner.cast_mut()) };
        let provider = inner.provider.clone();
        drop(inner);
        provider.0.stats.timelines.fetch_sub(1, Relaxed);
    }
}

/// A fence context and the data of its issuer.
///
/// Cloning a `Timeline` takes a reference. The data `T` is dropped one RCU grace period after
/// the last reference is gone (from an RCU callback, so `T::drop` must not sleep); a module
/// that drops timelines must therefore call `rcu_barrier()` before it unloads.
///
/// # Invariants
///
/// `inner` points to a live `TimelineInner<T>` on which this object owns a reference.
pub struct Timeline<T: FenceOps> {
    inner: NonNull<TimelineInner<T>>,
}

// SAFETY: The timeline data is `Send + Sync` and the reference count is atomic.
unsafe impl<T: FenceOps> Send for Timeline<T> {}

// SAFETY: Shared access only reads immutable fields or uses atomics.
unsafe impl<T: FenceOps> Sync for Timeline<T> {}

impl<T: FenceOps> Timeline<T> {
    /// Allocates a new fence context of `provider` named `driver_name`/`timeline_name` that
    /// issues fences starting at sequence number 1. `data` may be a value or an in-place
    /// initialiser (for data with locks).
    pub fn new<E>(
        provider: &Provider,
        driver_name: &CStr,
        timeline_name: &CStr,
        data: impl PinInit<T, E>,
    ) -> Result<Self>
    where
        Error: From<E>,
    {
        Self::with_first_seqno(provider, driver_name, timeline_name, data, 1)
    }

    /// As [`Timeline::new`], with the first automatically assigned sequence number given.
    pub fn with_first_seqno<E>(
        provider: &Provider,
        driver_name: &CStr,
        timeline_name: &CStr,
        data: impl PinInit<T, E>,
        first_seqno: u64,
    ) -> Result<Self>
    where
        Error: From<E>,
    {
        let driver_name = CString::try_from(driver_name)?;
        let timeline_name = CString::try_from(timeline_name)?;
        let provider = provider.clone();
        // SAFETY: Allocating one context has no preconditions.
        let context = unsafe { bindings::dma_fence_context_alloc(1) };
        let inner = KBox::try_pin_init(
            try_pin_init!(TimelineInner {
                refcount: Refcount::new(1),
                rcu: Opaque::uninit(),
                context,
                next_seqno: Atomic::new(first_seqno),
                provider,
                driver_name,
                timeline_name,
                data <- data,
            }? Error),
            GFP_KERNEL,
        )?;
        inner.provider.0.stats.timelines.fetch_add(1, Relaxed);
        // It is only reached through the pointer until `free_rcu` drops it in place.
        // SAFETY: The timeline is never moved out of its allocation.
        let inner = KBox::into_raw(unsafe { Pin::into_inner_unchecked(inner) });
        // INVARIANT: The new allocation holds the one reference this object owns.
        Ok(Self {
            // SAFETY: `KBox::into_raw` never returns NULL.
            inner: unsafe { NonNull::new_unchecked(inner) },
        })
    }

    fn inner(&self) -> &TimelineInner<T> {
        // SAFETY: By the type invariants, `inner` is alive while `self` exists.
        unsafe { self.inner.as_ref() }
    }

    /// Returns the fence context of this timeline.
    pub fn context(&self) -> u64 {
        self.inner().context
    }

    /// Returns the provider this timeline belongs to.
    pub fn provider(&self) -> &Provider {
        &self.inner().provider
    }

    /// Returns the issuer's data.
    pub fn data(&self) -> &T {
        &self.inner().data
    }

    /// Returns the driver name of the fences of this timeline.
    pub fn driver_name(&self) -> &CStr {
        self.inner().driver_name()
    }

    /// Returns the timeline name of the fences of this timeline.
    pub fn timeline_name(&self) -> &CStr {
        self.inner().timeline_name()
    }

    /// Returns the issuer word of `fence` if this timeline issued it; see
    /// [`DriverFence::issuer_word`].
    ///
    /// A fence context belongs to the one issuer that allocated it with
    /// `dma_fence_context_alloc()`, so a fence of this context is one of ours even after it
    /// signalled and detached (and its ops pointer is gone); its memory lives as long as the
    /// caller's reference. A driver that initialised a fence with somebody else's context
    /// would break that rule of the dma_fence API, and this lookup with it.
    pub fn issuer_word<'a>(&self, fence: &'a Fence) -> Option<&'a Atomic<u64>> {
        if fence.context() != self.context() {
            return None;
        }
        // Contexts are unique, so it is the `base` of a `FenceAlloc`, which lives as long as
        // the fence.
        // SAFETY: The fence was issued by this timeline (same context).
        Some(unsafe { issuer_word(fence) })
    }

    /// Allocates the memory of one fence, ahead of the point of no return.
    pub fn prealloc(&self) -> Result<FenceSlot> {
        Ok(FenceSlot {
            alloc: KBox::new_uninit(GFP_KERNEL | __GFP_ZERO)?,
            node: RBTreeNodeReservation::new(GFP_KERNEL)?,
        })
    }

    /// Issues the next fence of the timeline in `slot`; cannot fail.
    pub fn issue<D>(&self, slot: FenceSlot, data: D) -> DriverFence<T, D> {
        let seqno = self.inner().next_seqno.fetch_add(1, Relaxed);
        self.issue_at(slot, seqno, data)
    }

    /// Issues a fence with the given sequence number in `slot`; cannot fail.
    ///
    /// Sequence numbers compare as 64-bit values (`DMA_FENCE_FLAG_SEQNO64_BIT`) unless
    /// [`FenceOps::SEQNO_64`] is false; later automatic numbers continue after the largest one
    /// given here.
    pub fn issue_at<D>(&self, slot: FenceSlot, seqno: u64, data: D) -> DriverFence<T, D> {
        let next = seqno.saturating_add(1);
        let mut cur = self.inner().next_seqno.load(Relaxed);
        while cur < next {
            match self.inner().next_seqno.cmpxchg(cur, next, Relaxed) {
                Ok(_) => break,
                Err(old) => cur = old,
            }
        }

        let FenceSlot { alloc, node } = slot;
        let alloc = KBox::into_raw(alloc).cast::<FenceAlloc>();
        let init = if T::SEQNO_64 {
            bindings::dma_fence_init64
        } else {
            bindings::dma_fence_init
        };
        // The ops table is a `'static` constant, a NULL lock selects the inline lock, and
        // the timeline pointer is written before `init` publishes anything.
        // SAFETY: `alloc` is a zeroed, exclusively owned `FenceAlloc` allocation.
        unsafe {
            ptr::addr_of_mut!((*alloc).timeline).write(self.inner.as_ptr().cast::<c_void>());
            init(
                Opaque::cast_into(ptr::addr_of!((*alloc).base)),
                &OpsTable::<T>::OPS,
                ptr::null_mut(),
                self.context(),
                seqno,
            );
        }
        // SAFETY: `init` set the reference count to one; we take that reference.
        let fence = unsafe { Fence::from_raw_owned(NonNull::new_unchecked(alloc.cast())) };
        if T::PINS_MODULE {
            // The fence points to our ops until its release: it holds the module implementing
            // them and this timeline, both dropped by `OpsTable::release`.
            // SAFETY: The module is live: its code is issuing this fence.
            unsafe {
                ffi::rust_fence_helper_module_get(this_module::<T::OwnerModule>().as_ptr().cast())
            };
            self.inner().refcount.inc();
        }
        self.provider().0.track(fence.as_raw(), node);
        DriverFence {
            fence,
            timeline: self.clone(),
            data,
        }
    }
}

impl<T: FenceOps> Timeline<T> {
    /// Takes over the timeline reference held by a fence of a module-pinning table.
    ///
    /// # Safety
    ///
    /// `fence` was issued by a `Timeline<T>` with `T::PINS_MODULE`, and its timeline reference
    /// was not taken over yet.
    pub(crate) unsafe fn from_fence_reference(fence: *mut bindings::dma_fence) -> Self {
        // SAFETY: The caller guarantees the fence holds a reference to a live timeline.
        let inner = unsafe { TimelineInner::<T>::from_fence(fence) };
        // INVARIANT: The reference held by the fence is now ours.
        Self {
            inner: NonNull::from(inner),
        }
    }
}

impl<T: FenceOps> Clone for Timeline<T> {
    fn clone(&self) -> Self {
        self.inner().refcount.inc();
        // INVARIANT: We took a new reference above.
        Self { inner: self.inner }
    }
}

impl<T: FenceOps> Drop for Timeline<T> {
    fn drop(&mut self) {
        if !self.inner().refcount.dec_and_test() {
            return;
        }
        // An ops callback still running started in an RCU read section before the last fence
        // signalled, so the free is deferred by one grace period.
        // SAFETY: This was the last reference; `rcu` is ours to queue.
        unsafe {
            bindings::call_rcu(
                Opaque::cast_into(ptr::addr_of!((*self.inner.as_ptr()).rcu)),
                Some(TimelineInner::<T>::free_rcu),
            )
        };
    }
}

/// Returns the issuer word of a fence issued by a timeline.
///
/// # Safety
///
/// `fence` must have been issued by a [`Timeline`].
unsafe fn issuer_word(fence: &Fence) -> &Atomic<u64> {
    let alloc = fence.as_raw().cast::<FenceAlloc>();
    // It lives as long as the borrowed fence.
    // SAFETY: Guaranteed by the caller: `fence` is the first field of a `FenceAlloc`.
    unsafe { &(*alloc).issuer_word }
}

/// Memory for one fence, allocated before the submission path that issues it.
pub struct FenceSlot {
    alloc: KBox<MaybeUninit<FenceAlloc>>,
    /// The provider's record of the fence while it is pending.
    node: RBTreeNodeReservation<usize, ()>,
}

/// The issuer's handle of a fence: the only object that can signal it.
///
/// [`signal`](DriverFence::signal) and [`signal_with_error`](DriverFence::signal_with_error)
/// consume the handle, so a fence cannot be signalled twice. Dropping the handle unsignalled
/// cancels the fence with `-ECANCELED` and a warning, so a forgotten handle never leaves a
/// waiter blocked forever. The driver data `D` is not reachable from the ops callbacks; it is
/// handed back (or dropped) when the fence signals.
pub struct DriverFence<T: FenceOps, D = ()> {
    fence: ARef<Fence>,
    timeline: Timeline<T>,
    data: D,
}

impl<T: FenceOps, D> DriverFence<T, D> {
    /// Returns the fence, to share it with [`ARef::from`] or wait on it.
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    /// Returns a new reference to the fence.
    pub fn fence_ref(&self) -> ARef<Fence> {
        self.fence.clone()
    }

    /// Returns the timeline that issued the fence.
    pub fn timeline(&self) -> &Timeline<T> {
        &self.timeline
    }

    /// Returns the issuer word of the fence: 64 bits of issuer-private state, zero at issue,
    /// that live as long as the fence itself, also after it signalled and detached (unlike the
    /// timeline data, which may be gone by then). It is plain data, never dropped. Read it back
    /// from a `&Fence` with [`Timeline::issuer_word`].
    pub fn issuer_word(&self) -> &Atomic<u64> {
        // SAFETY: The fence was issued by a timeline: it is the `base` of a `FenceAlloc`.
        unsafe { issuer_word(&self.fence) }
    }

    /// Returns the driver data.
    pub fn data(&self) -> &D {
        &self.data
    }

    /// Signals the fence successfully and returns the driver data.
    pub fn signal(self) -> D {
        self.complete(0)
    }

    /// Signals the fence with `error` and returns the driver data.
    pub fn signal_with_error(self, error: Error) -> D {
        self.complete(error.to_errno())
    }

    fn complete(self, errno: c_int) -> D {
        let this = ManuallyDrop::new(self);
        // SAFETY: Each field is read exactly once and `this` is never used or dropped again.
        let (fence, timeline, data) = unsafe {
            (
                ptr::read(&this.fence),
                ptr::read(&this.timeline),
                ptr::read(&this.data),
            )
        };
        // The helper sets the error and signals under the fence lock, and does nothing if the
        // core already signalled it.
        // SAFETY: The fence is valid: we hold a reference.
        unsafe { ffi::rust_fence_helper_signal(fence.as_raw(), errno) };
        timeline
            .provider()
            .0
            .untrack(fence.as_raw(), !T::PINS_MODULE);
        drop(timeline);
        drop(fence);
        data
    }
}

impl<T: FenceOps, D> Drop for DriverFence<T, D> {
    fn drop(&mut self) {
        let (fence, errno) = (self.fence.as_raw(), ECANCELED.to_errno());
        // SAFETY: The fence is valid: we hold a reference (see `complete`).
        let cancelled = unsafe { ffi::rust_fence_helper_signal(fence, errno) };
        self.timeline
            .provider()
            .0
            .untrack(self.fence.as_raw(), !T::PINS_MODULE);
        if cancelled {
            pr_warn!(
                "fence {}:{} of {:?} dropped unsignalled, cancelled with -ECANCELED\n",
                self.fence.context(),
                self.fence.seqno(),
                self.timeline.timeline_name()
            );
        }
    }
}
