// SPDX-License-Identifier: GPL-2.0

//! Timelines (fence contexts) and the issuer-only [`DriverFence`].
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! A [`Timeline`] owns one fence context, its names and the issuer's data, and issues fences
//! with 64-bit sequence numbers (`dma_fence_init64()`) and the inline fence lock. Issuing is
//! split in two so that the step inside a submission path cannot fail: [`Timeline::prealloc`]
//! allocates (and may fail), [`Timeline::issue`] only initialises.

use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::{self, NonNull};

use kernel::bindings;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::sync::Refcount;
use kernel::types::Opaque;

use crate::fence::Fence;
use crate::ffi;
use crate::ops::{FenceOps, OpsTable};

/// The memory of one fence.
///
/// `base` comes first: fences of detachable tables are freed by the core with
/// `dma_fence_free()`, which `kfree_rcu()`s the `dma_fence` pointer itself.
#[repr(C)]
struct FenceAlloc {
    base: Opaque<bindings::dma_fence>,
    /// The `TimelineInner<T>` that issued the fence, for the ops callbacks.
    timeline: *const c_void,
}

/// The shared state of a timeline.
///
/// # Invariants
///
/// - `context` was returned by `dma_fence_context_alloc(1)`.
/// - The allocation is freed through `call_rcu()` one grace period after `refcount` dropped to
///   zero, so an ops callback that started before the last fence of the timeline signalled can
///   still read it.
pub(crate) struct TimelineInner<T: FenceOps> {
    refcount: Refcount,
    rcu: Opaque<bindings::callback_head>,
    context: u64,
    next_seqno: Atomic<u64>,
    driver_name: CString,
    timeline_name: CString,
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
        // SAFETY: `base` is the first field of the `repr(C)` `FenceAlloc` that holds every fence
        // issued by a timeline, and the caller guarantees the timeline is alive.
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
        // SAFETY: `head` is the `rcu` field of a `TimelineInner<T>` allocated by `KBox` in
        // `Timeline::new`, whose last reference is gone.
        let inner = unsafe { kernel::container_of!(Opaque::cast_from(head), Self, rcu) };
        // SAFETY: See above; nobody else can reach the allocation any more.
        drop(unsafe { KBox::from_raw(inner.cast_mut()) });
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
    /// Allocates a new fence context named `driver_name`/`timeline_name` that issues fences
    /// starting at sequence number 1.
    pub fn new(driver_name: &CStr, timeline_name: &CStr, data: T) -> Result<Self> {
        Self::with_first_seqno(driver_name, timeline_name, data, 1)
    }

    /// As [`Timeline::new`], with the first automatically assigned sequence number given.
    pub fn with_first_seqno(
        driver_name: &CStr,
        timeline_name: &CStr,
        data: T,
        first_seqno: u64,
    ) -> Result<Self> {
        let inner = KBox::new(
            TimelineInner {
                refcount: Refcount::new(1),
                rcu: Opaque::uninit(),
                // SAFETY: Allocating one context has no preconditions.
                context: unsafe { bindings::dma_fence_context_alloc(1) },
                next_seqno: Atomic::new(first_seqno),
                driver_name: CString::try_from(driver_name)?,
                timeline_name: CString::try_from(timeline_name)?,
                data,
            },
            GFP_KERNEL,
        )?;
        // INVARIANT: The new allocation holds the one reference this object owns.
        Ok(Self {
            // SAFETY: `KBox::into_raw` never returns NULL.
            inner: unsafe { NonNull::new_unchecked(KBox::into_raw(inner)) },
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

    /// Allocates the memory of one fence, ahead of the point of no return.
    pub fn prealloc(&self) -> Result<FenceSlot> {
        Ok(FenceSlot {
            alloc: KBox::new_uninit(GFP_KERNEL | __GFP_ZERO)?,
        })
    }

    /// Issues the next fence of the timeline in `slot`; cannot fail.
    pub fn issue<D>(&self, slot: FenceSlot, data: D) -> DriverFence<T, D> {
        let seqno = self.inner().next_seqno.fetch_add(1, Relaxed);
        self.issue_at(slot, seqno, data)
    }

    /// Issues a fence with the given sequence number in `slot`; cannot fail.
    ///
    /// Sequence numbers compare as 64-bit values (`DMA_FENCE_FLAG_SEQNO64_BIT`); later
    /// automatic numbers continue after the largest one given here.
    pub fn issue_at<D>(&self, slot: FenceSlot, seqno: u64, data: D) -> DriverFence<T, D> {
        let next = seqno.saturating_add(1);
        let mut cur = self.inner().next_seqno.load(Relaxed);
        while cur < next {
            match self.inner().next_seqno.cmpxchg(cur, next, Relaxed) {
                Ok(_) => break,
                Err(old) => cur = old,
            }
        }

        let alloc = KBox::into_raw(slot.alloc).cast::<FenceAlloc>();
        // SAFETY: `alloc` is a zeroed, exclusively owned `FenceAlloc` allocation. The ops table
        // is a `'static` constant, a NULL lock selects the inline lock, and the timeline
        // pointer is written before `dma_fence_init64` publishes anything.
        unsafe {
            ptr::addr_of_mut!((*alloc).timeline).write(self.inner.as_ptr().cast::<c_void>());
            bindings::dma_fence_init64(
                Opaque::cast_into(ptr::addr_of!((*alloc).base)),
                &OpsTable::<T>::OPS,
                ptr::null_mut(),
                self.context(),
                seqno,
            );
        }
        // SAFETY: `dma_fence_init64` set the reference count to one; we take that reference.
        let fence = unsafe { Fence::from_raw_owned(NonNull::new_unchecked(alloc.cast())) };
        DriverFence {
            fence,
            timeline: self.clone(),
            data,
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
        // SAFETY: This was the last reference; an ops callback that is still running started
        // in an RCU read section before the last fence signalled, so defer the free by one
        // grace period.
        unsafe {
            bindings::call_rcu(
                Opaque::cast_into(ptr::addr_of!((*self.inner.as_ptr()).rcu)),
                Some(TimelineInner::<T>::free_rcu),
            )
        };
    }
}

/// Memory for one fence, allocated before the submission path that issues it.
pub struct FenceSlot {
    alloc: KBox<MaybeUninit<FenceAlloc>>,
}

/// The issuer's handle of a fence: the only object that can signal it.
///
/// [`signal`](DriverFence::signal) and [`signal_with_error`](DriverFence::signal_with_error)
/// consume the handle, so a fence cannot be signalled twice. Dropping the handle unsignalled
/// cancels the fence with `-ECANCELED` and a warning, so a forgotten handle never leaves a
/// waiter blocked forever. The driver data `D` is not reachable from the ops callbacks; it is
/// handed back (or dropped) when the fence signals.
pub struct DriverFence<T: FenceOps, D = ()> {
    // Field order matters: the timeline reference is dropped after the fence was signalled.
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
        // SAFETY: The fence is valid; the helper sets the error and signals under the fence
        // lock, and does nothing if the core already signalled it.
        unsafe { ffi::rust_fence_helper_signal(fence.as_raw(), errno) };
        drop(timeline);
        drop(fence);
        data
    }
}

impl<T: FenceOps, D> Drop for DriverFence<T, D> {
    fn drop(&mut self) {
        // SAFETY: The fence is valid; see `complete`.
        let cancelled =
            unsafe { ffi::rust_fence_helper_signal(self.fence.as_raw(), ECANCELED.to_errno()) };
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
