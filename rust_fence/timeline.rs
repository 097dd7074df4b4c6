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

use core::mem::{
    ManuallyDrop,
    MaybeUninit, //
};
use core::pin::Pin;
use core::ptr::{
    self,
    NonNull, //
};

use kernel::bindings;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};
use kernel::sync::{
    Refcount,
    SpinLockIrq, //
};
use kernel::types::Opaque;

use crate::fence::Fence;
use crate::ffi;
use crate::module_ref::ModuleRef;
use crate::ops::{
    FenceOps,
    OpsTable, //
};
use crate::provider::{
    Free,
    Provider, //
};

/// The memory of one fence: the only allocation of a fence.
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
    /// On one of the timeline's lists while the fence is pending: `handle_fences` while its
    /// `DriverFence` has not completed it, `owned_fences` once the timeline owns it
    /// ([`DriverFence::into_timeline`]); self-linked otherwise. Under the timeline's lock.
    /// Whether it is on `owned_fences` is the fence's [`OWNED_BIT`].
    link: Opaque<bindings::list_head>,
}

/// The fence flag set while the fence is on its timeline's `owned_fences`, which then holds a
/// reference to it: the first of the bits the core leaves to the issuer. Set and cleared under
/// the timeline's lock, with atomic bit operations since the core changes other bits meanwhile.
const OWNED_BIT: usize = bindings::dma_fence_flag_bits_DMA_FENCE_FLAG_USER_BITS as usize;

/// The fence flag left to the issuer, next to its issuer word: see [`IssuedFence::issuer_flag`].
const ISSUER_BIT: usize = OWNED_BIT + 1;

// 32 bytes on top of the `dma_fence`: kmalloc-96 next to a bare fence's kmalloc-64 where
// spinlocks have no debugging fields.
const _: () = assert!(size_of::<FenceAlloc>() == size_of::<bindings::dma_fence>() + 32);

impl FenceAlloc {
    /// Returns the fence whose `link` is `link`.
    ///
    /// # Safety
    ///
    /// `link` is the `link` of a `FenceAlloc`.
    unsafe fn from_link(link: *mut bindings::list_head) -> *mut bindings::dma_fence {
        // SAFETY: Guaranteed by the caller; `base` is the first field.
        unsafe { kernel::container_of!(Opaque::cast_from(link), FenceAlloc, link) }
            .cast_mut()
            .cast()
    }

    /// Returns the `link` of a fence issued by a timeline.
    ///
    /// # Safety
    ///
    /// `fence` heads a `FenceAlloc`.
    unsafe fn link(fence: *mut bindings::dma_fence) -> *mut bindings::list_head {
        // SAFETY: Guaranteed by the caller.
        unsafe { (*fence.cast::<FenceAlloc>()).link.get() }
    }

    /// Returns whether the fence is on its timeline's `owned_fences`.
    ///
    /// # Safety
    ///
    /// `fence` heads a live `FenceAlloc`, and the caller holds its timeline's lock.
    unsafe fn is_owned(fence: *mut bindings::dma_fence) -> bool {
        // SAFETY: The fence is live. A volatile read of the word is what `test_bit()` does; the
        // bit only changes under the lock the caller holds.
        let flags = unsafe { ptr::read_volatile(ptr::addr_of!((*fence).flags)) };
        flags & (1 << OWNED_BIT) != 0
    }

    /// Records whether the fence is on its timeline's `owned_fences`.
    ///
    /// # Safety
    ///
    /// As for [`FenceAlloc::is_owned`].
    unsafe fn set_owned(fence: *mut bindings::dma_fence, owned: bool) {
        // SAFETY: The fence is live; the atomic bit operations leave the core's bits alone.
        unsafe {
            let flags = ptr::addr_of_mut!((*fence).flags);
            if owned {
                bindings::set_bit(OWNED_BIT, flags);
            } else {
                bindings::clear_bit(OWNED_BIT, flags);
            }
        }
    }
}

/// A fence issued by a [`Timeline`], as the ops of its table see it: a [`Fence`] with access to
/// its issuer word.
///
/// # Invariants
///
/// The fence heads a `FenceAlloc`.
#[repr(transparent)]
pub struct IssuedFence(Fence);

impl IssuedFence {
    /// Borrows a fence issued by a timeline.
    ///
    /// # Safety
    ///
    /// `fence` was issued by a [`Timeline`] and stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(fence: *mut bindings::dma_fence) -> &'a Self {
        // INVARIANT: Guaranteed by the caller.
        // SAFETY: `IssuedFence` is a transparent `Fence`, itself a transparent `dma_fence`; the
        // caller guarantees that it lives for `'a`.
        unsafe { &*fence.cast() }
    }

    /// Returns the issuer word of the fence; see [`DriverFence::issuer_word`].
    pub fn issuer_word(&self) -> &Atomic<u64> {
        // SAFETY: By the type invariants the fence heads a `FenceAlloc`.
        unsafe { issuer_word(&self.0) }
    }

    /// Returns the issuer flag of the fence: one bit of issuer-private state next to the issuer
    /// word, clear at issue, which lives as long as the fence (a fence flag). With the word it
    /// holds 2^64 + 1 states, such as "no value" besides any 64-bit value.
    pub fn issuer_flag(&self) -> bool {
        // SAFETY: The fence is live; a volatile read of the word is what `test_bit()` does.
        let flags = unsafe { ptr::read_volatile(ptr::addr_of!((*self.0.as_raw()).flags)) };
        flags & (1 << ISSUER_BIT) != 0
    }

    /// Sets or clears the issuer flag of the fence; see [`IssuedFence::issuer_flag`].
    pub fn set_issuer_flag(&self, set: bool) {
        // SAFETY: The fence is live; the atomic bit operations leave the other bits alone.
        unsafe {
            let flags = ptr::addr_of_mut!((*self.0.as_raw()).flags);
            if set {
                bindings::set_bit(ISSUER_BIT, flags);
            } else {
                bindings::clear_bit(ISSUER_BIT, flags);
            }
        }
    }
}

impl core::ops::Deref for IssuedFence {
    type Target = Fence;

    fn deref(&self) -> &Fence {
        &self.0
    }
}

/// The counts of a timeline's fences, under the timeline's `pending` lock.
pub(crate) struct Pending {
    /// Fences on the `handle_fences` list.
    handles: u64,
    /// Fences on the `owned_fences` list.
    owned: u64,
    /// Fences the timeline issued while its provider was open.
    issued: u64,
}

/// The lock of a timeline's pending fences. Not generic, so that the lock class and its name
/// both live in rust_fence (see `provider::register`).
fn new_pending() -> impl PinInit<SpinLockIrq<Pending>> {
    kernel::new_spinlock_irq!(
        Pending {
            handles: 0,
            owned: 0,
            issued: 0,
        },
        "rust_fence_timeline_pending"
    )
}

/// The part of a timeline that rust_fence's own code reaches, whatever the data type.
///
/// # Invariants
///
/// - `context` was returned by `dma_fence_context_alloc(1)`.
/// - `ops` and `detached_ops` are `'static` tables of the timeline's type in the module of
///   `provider`, and `free` drops and frees the whole [`TimelineInner`]; its code is in that
///   module too.
/// - The allocation is freed one RCU grace period after `refcount` dropped to zero, so an ops
///   callback that started before the last fence of the timeline signalled can still read it.
#[repr(C)]
#[pin_data]
pub(crate) struct TimelineHeader {
    refcount: Refcount,
    free_work: Opaque<bindings::rcu_work>,
    free: unsafe fn(*mut TimelineHeader),
    /// How the queued free keeps the provider's module loaded: a [`Free`] as an `i32`.
    free_kind: Atomic<i32>,
    provider: Provider,
    ops: &'static bindings::dma_fence_ops,
    detached_ops: &'static bindings::dma_fence_ops,
    /// Whether `ops` is the pinning table: fences hold the module and the timeline until they
    /// are released.
    pins_module: bool,
    context: u64,
    /// Whether sequence numbers compare as 64-bit values ([`FenceOps::SEQNO_64`]).
    seqno64: bool,
    next_seqno: Atomic<u64>,
    driver_name: CString,
    timeline_name: CString,
    /// On the provider's list of timelines from creation to free.
    provider_link: Opaque<bindings::list_head>,
    /// The `FenceAlloc::link`s of the pending fences whose handle has not completed them yet;
    /// only used under the `pending` lock.
    #[pin]
    handle_fences: Opaque<bindings::list_head>,
    /// The `FenceAlloc::link`s of the pending fences the timeline owns, each with a reference,
    /// in timeline order (earliest first, as `is_later` compares them); only used under the
    /// `pending` lock.
    #[pin]
    owned_fences: Opaque<bindings::list_head>,
    #[pin]
    pending: SpinLockIrq<Pending>,
}

impl TimelineHeader {
    /// Returns the header whose `provider_link` is `link`.
    ///
    /// # Safety
    ///
    /// `link` is the `provider_link` of a live `TimelineHeader`.
    pub(crate) unsafe fn from_provider_link(link: *mut bindings::list_head) -> *const Self {
        // SAFETY: Guaranteed by the caller.
        unsafe { kernel::container_of!(Opaque::cast_from(link), Self, provider_link) }
    }

    pub(crate) fn provider_link(&self) -> *mut bindings::list_head {
        self.provider_link.get()
    }

    /// Fences pending on this timeline.
    pub(crate) fn pending(&self) -> u64 {
        let pending = self.pending.lock();
        pending.handles + pending.owned
    }

    pub(crate) fn has_pending(&self) -> bool {
        self.pending() != 0
    }

    /// Fences issued by this timeline while its provider was open.
    pub(crate) fn issued(&self) -> u64 {
        self.pending.lock().issued
    }

    /// Takes a reference unless the last one is gone already.
    pub(crate) fn try_get(&self) -> bool {
        let count = self.refcount.as_atomic();
        let mut cur = count.load(Relaxed);
        while cur > 0 {
            match count.cmpxchg(cur, cur + 1, Relaxed) {
                Ok(_) => return true,
                Err(old) => cur = old,
            }
        }
        false
    }

    /// Drops a reference; the last one frees the timeline.
    ///
    /// # Safety
    ///
    /// `this` is a live header on which the caller owns a reference.
    pub(crate) unsafe fn put(this: *mut Self) {
        // SAFETY: Guaranteed by the caller.
        if unsafe { (*this).refcount.dec_and_test() } {
            // SAFETY: That was the last reference, so nobody can signal the fences the timeline
            // owns any more: cancel them before the timeline goes.
            let cancelled = unsafe { (*this).cancel(true, ECANCELED) };
            if cancelled > 0 {
                pr_warn!(
                    "timeline {:?} dropped with {} pending fences it owned: cancelled with -ECANCELED\n",
                    // SAFETY: The header is alive until `defer_free`.
                    unsafe { &(*this).timeline_name },
                    cancelled
                );
            }
            // SAFETY: That was the last reference.
            unsafe { defer_free(this) };
        }
    }

    /// Unlinks a fence its handle completes; nothing if the unload protocol took it already.
    ///
    /// # Safety
    ///
    /// `fence` was issued by this timeline.
    unsafe fn untrack(&self, fence: *mut bindings::dma_fence) {
        let mut pending = self.pending.lock();
        // SAFETY: The fence heads a `FenceAlloc` whose link is on `handle_fences` (its handle is
        // alive, so the timeline does not own it) or self-linked, under our lock.
        if unsafe { ffi::rust_fence_helper_list_del_init(FenceAlloc::link(fence)) } {
            pending.handles -= 1;
        }
    }

    /// Moves a fence from `handle_fences` to `owned_fences`, with the reference its handle held;
    /// returns `false` (and keeps nothing) if the unload protocol took it already.
    ///
    /// # Safety
    ///
    /// `fence` was issued by this timeline and the caller owns a reference to it, which the
    /// timeline keeps on success.
    unsafe fn adopt(&self, fence: *mut bindings::dma_fence) -> bool {
        let mut pending = self.pending.lock();
        // SAFETY: As in `untrack`; both lists are ours, under our lock, and their entries are
        // links of live fences of this timeline.
        unsafe {
            let link = FenceAlloc::link(fence);
            if !ffi::rust_fence_helper_list_del_init(link) {
                return false;
            }
            // Keep the list in timeline order: walk back from its tail past the fences that
            // come later (none when fences are handed over in the order they were issued).
            let head = self.owned_fences.get();
            let seqno = (*fence).seqno;
            let mut before = (*head).prev;
            while before != head && self.is_later((*FenceAlloc::from_link(before)).seqno, seqno) {
                before = (*before).prev;
            }
            ffi::rust_fence_helper_list_add_tail(link, (*before).next);
            FenceAlloc::set_owned(fence, true);
        }
        pending.handles -= 1;
        pending.owned += 1;
        true
    }

    /// Whether sequence number `a` comes after `b` on this timeline, as `dma_fence_is_later()`
    /// compares them: as 64-bit values, or as 32-bit ones that wrap.
    fn is_later(&self, a: u64, b: u64) -> bool {
        if self.seqno64 {
            a > b
        } else {
            (a as u32).wrapping_sub(b as u32) as i32 > 0
        }
    }

    /// Takes the first fence off `owned_fences` (`owned`) or `handle_fences`, with a reference
    /// for the caller: the list's for an owned fence, a new one otherwise (its handle may be
    /// completing it at the same time, which is harmless: signalling twice is a no-op).
    fn pop(&self, owned: bool) -> Option<*mut bindings::dma_fence> {
        let mut pending = self.pending.lock();
        let head = if owned {
            self.owned_fences.get()
        } else {
            self.handle_fences.get()
        };
        // SAFETY: The list is protected by our lock; its entries are the links of pending fences
        // of this timeline, on which the list or their handle holds a reference.
        unsafe {
            let first = (*head).next;
            if first == head {
                return None;
            }
            ffi::rust_fence_helper_list_del_init(first);
            let fence = FenceAlloc::from_link(first);
            if owned {
                FenceAlloc::set_owned(fence, false);
                pending.owned -= 1;
                Some(fence)
            } else {
                pending.handles -= 1;
                Some(ffi::rust_fence_helper_get(fence))
            }
        }
    }

    /// Signals the fences of one list with `error`; returns how many it signalled.
    fn cancel(&self, owned: bool, error: Error) -> u64 {
        let mut cancelled = 0;
        while let Some(fence) = self.pop(owned) {
            // SAFETY: `pop` gave us a reference to the fence, which we drop.
            unsafe {
                if ffi::rust_fence_helper_signal(fence, error.to_errno()) {
                    cancelled += 1;
                }
                ffi::rust_fence_helper_put(fence);
            }
        }
        cancelled
    }

    /// Cancels the pending fences with `-ENODEV`; returns how many. For the unload protocol.
    pub(crate) fn cancel_pending(&self) -> u64 {
        self.cancel(false, ENODEV) + self.cancel(true, ENODEV)
    }
}

/// The shared state of a timeline: the header, then the issuer's data.
#[repr(C)]
#[pin_data]
pub(crate) struct TimelineInner<T: FenceOps> {
    #[pin]
    header: TimelineHeader,
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
        // SAFETY: `base` is the first field of the `repr(C)` `FenceAlloc` that holds every fence
        // issued by a timeline, whose `timeline` field points to the live `TimelineInner<T>`
        // that issued it (guaranteed by the caller).
        unsafe { &*(*alloc).timeline.cast::<Self>() }
    }

    pub(crate) fn driver_name(&self) -> &CStr {
        &self.header.driver_name
    }

    pub(crate) fn timeline_name(&self) -> &CStr {
        &self.header.timeline_name
    }

    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// Drops and frees a timeline; the `free` of its header.
    ///
    /// # Safety
    ///
    /// `header` is the header of a `TimelineInner<T>` allocated by `Timeline::new` that nobody
    /// can reach any more.
    unsafe fn free(header: *mut TimelineHeader) {
        // SAFETY: The header is the first field of the `repr(C)` `TimelineInner<T>`, which was
        // allocated by `KBox` in `Timeline::new` and is not reachable by anybody else.
        drop(unsafe { KBox::from_raw(header.cast::<Self>()) });
    }
}

/// Runs the queued free of a timeline, in process context on rust_fence's free workqueue.
///
/// Not generic: the workqueue always calls rust_fence's code, and the provider's code (the data's
/// drop) is kept loaded by the module reference or by the registration waiting for this free.
///
/// # Safety
///
/// `work` is the work of the `free_work` of a `TimelineHeader` queued by [`defer_free`].
unsafe extern "C" fn run_free(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the `work` field of the `rcu_work` in the `free_work` field of a
    // header, queued by `defer_free` after the last reference was dropped: nobody else uses it.
    let header = unsafe {
        let rwork = kernel::container_of!(work, bindings::rcu_work, work);
        kernel::container_of!(Opaque::cast_from(rwork), TimelineHeader, free_work).cast_mut()
    };
    // SAFETY: The header is alive until `free` below.
    let (provider, kind) = unsafe {
        (
            (*header).provider.clone(),
            Free::from_i32((*header).free_kind.load(Relaxed)),
        )
    };
    // SAFETY: The header was queued once, by `defer_free`, with no reference left. Its `free`
    // is code of the provider's module, which is loaded until `end_free` below: the
    // registration (`Free::Unpinned`) or the module notifier (the others, see `LATE_FREES`)
    // waits for it before the module can go, and `Free::Pinned` holds a module reference too.
    unsafe {
        provider.0.remove_timeline(&*header);
        ((*header).free)(header)
    };
    if kind == Free::Pinned {
        // SAFETY: Drops the module reference `begin_free` took, before `end_free`: a module
        // whose init failed is freed once the notifier saw the end of its frees. We return into
        // rust_fence's code, which outlives the provider module (it uses rust_fence).
        unsafe { provider.0.module().put() };
    }
    provider.0.end_free(kind);
}

/// Frees a timeline whose last reference is gone, one RCU grace period later in process context.
///
/// # Safety
///
/// `header` heads a live `TimelineInner` whose reference count just dropped to zero.
unsafe fn defer_free(header: *mut TimelineHeader) {
    // SAFETY: The header is alive (see above); nobody else can reach it any more, except ops
    // callbacks in RCU read sections that began before the last fence signalled, which only
    // read the names and the data.
    let this = unsafe { &*header };
    let provider = &this.provider.0;
    let kind = provider.begin_free();
    if kind == Free::InExit {
        pr_warn!(
            "{}: timeline {:?} dropped in the module's exit (or a failed init) after the provider registration: freed before the module goes; drop timelines before the registration\n",
            provider.name.to_str().unwrap_or("?"),
            this.timeline_name
        );
    }
    this.free_kind.store(kind as i32, Relaxed);
    // SAFETY: `free_work` is unused until now and stays valid until `run_free` frees the
    // timeline.
    unsafe { ffi::rust_fence_helper_free_wq_queue(this.free_work.get(), run_free) };
}

/// How a [`Timeline`] issues its fences; [`Timeline::with_options`].
#[derive(Clone, Copy, Debug)]
pub struct TimelineOptions {
    first_seqno: u64,
    pins_module: bool,
}

impl TimelineOptions {
    /// The defaults for timelines of `T`: the first automatic sequence number is 1, and the
    /// fences pin the module if [`FenceOps::PINS_MODULE`] says so.
    pub fn new<T: FenceOps>() -> Self {
        Self {
            first_seqno: 1,
            pins_module: T::PINS_MODULE,
        }
    }

    /// Sets the first automatically assigned sequence number.
    pub fn first_seqno(self, first_seqno: u64) -> Self {
        Self {
            first_seqno,
            ..self
        }
    }

    /// Chooses the ops table: `true` for the one with a `release` op, whose fences keep the
    /// provider's module loaded until their last reference is gone, `false` for the one whose
    /// fences detach when they signal.
    pub fn pins_module(self, pins_module: bool) -> Self {
        Self {
            pins_module,
            ..self
        }
    }
}

/// A fence context and the data of its issuer.
///
/// Cloning a `Timeline` takes a reference. The data `T` is dropped in process context, one RCU
/// grace period after the last reference is gone; the provider's unload protocol waits for it.
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
    ///
    /// Fails with `ENODEV` once the provider's unload protocol has begun, and with `EINVAL` when
    /// called from another module than the provider's: the timeline's ops and the drop of its
    /// data are code of the module calling this, which the provider's unload protocol covers
    /// only if it is the provider's module.
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
        let options = TimelineOptions::new::<T>().first_seqno(first_seqno);
        Self::with_options(provider, driver_name, timeline_name, data, options)
    }

    /// As [`Timeline::new`], with the options given.
    pub fn with_options<E>(
        provider: &Provider,
        driver_name: &CStr,
        timeline_name: &CStr,
        data: impl PinInit<T, E>,
        options: TimelineOptions,
    ) -> Result<Self>
    where
        Error: From<E>,
    {
        let TimelineOptions {
            first_seqno,
            pins_module,
        } = options;
        // The tables and `free` are compiled into the module instantiating this function.
        let ops: &'static bindings::dma_fence_ops = OpsTable::<T>::attached(pins_module);
        let detached_ops: &'static bindings::dma_fence_ops = &OpsTable::<T>::DETACHED;
        let free: unsafe fn(*mut TimelineHeader) = TimelineInner::<T>::free;
        if ModuleRef::of_instance::<T>() != provider.0.module() {
            pr_err!(
                "timeline {:?}: created from another module than its provider {:?}\n",
                timeline_name,
                provider.name()
            );
            return Err(EINVAL);
        }
        let driver_name = CString::try_from(driver_name)?;
        let timeline_name = CString::try_from(timeline_name)?;
        // SAFETY: Allocating one context has no preconditions.
        let context = unsafe { bindings::dma_fence_context_alloc(1) };
        let inner = KBox::try_pin_init(
            try_pin_init!(TimelineInner {
                header <- pin_init!(TimelineHeader {
                    refcount: Refcount::new(1),
                    free_work: Opaque::uninit(),
                    free,
                    free_kind: Atomic::new(0),
                    provider: provider.clone(),
                    ops,
                    detached_ops,
                    pins_module,
                    context,
                    seqno64: T::SEQNO_64,
                    next_seqno: Atomic::new(first_seqno),
                    driver_name,
                    timeline_name,
                    provider_link: Opaque::uninit(),
                    // SAFETY: `list` is the list head, in place.
                    handle_fences <- Opaque::ffi_init(|list| unsafe {
                        ffi::rust_fence_helper_list_init(list)
                    }),
                    // SAFETY: `list` is the list head, in place.
                    owned_fences <- Opaque::ffi_init(|list| unsafe {
                        ffi::rust_fence_helper_list_init(list)
                    }),
                    pending <- new_pending(),
                }),
                data <- data,
            }? Error),
            GFP_KERNEL,
        )?;
        // SAFETY: The timeline is new and stays where it is until its free unlinks it. On error,
        // dropping `inner` drops the data here, in process context.
        unsafe { provider.0.add_timeline(&inner.header)? };
        // SAFETY: The timeline is never moved out of its allocation: it is only reached through
        // the pointer until `free` drops it in place.
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

    fn header(&self) -> &TimelineHeader {
        &self.inner().header
    }

    /// Returns the fence context of this timeline.
    pub fn context(&self) -> u64 {
        self.header().context
    }

    /// Returns whether the fences of this timeline pin the provider's module until released.
    pub fn pins_module(&self) -> bool {
        self.header().pins_module
    }

    /// Returns the provider this timeline belongs to.
    pub fn provider(&self) -> &Provider {
        &self.header().provider
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
        self.issued(fence).map(IssuedFence::issuer_word)
    }

    /// Returns `fence` as an [`IssuedFence`] if this timeline issued it, for its issuer word and
    /// flag, also after it signalled and detached (see [`Timeline::issuer_word`]).
    pub fn issued<'a>(&self, fence: &'a Fence) -> Option<&'a IssuedFence> {
        if fence.context() != self.context() {
            return None;
        }
        // SAFETY: The fence was issued by this timeline (same context, see `issuer_word`), and
        // the caller's borrow keeps it alive for `'a`.
        Some(unsafe { IssuedFence::from_raw(fence.as_raw()) })
    }

    /// Signals with `result` the pending fences the timeline owns (see
    /// [`DriverFence::into_timeline`]) for which `select` returns true; returns how many it
    /// signalled.
    ///
    /// `select` runs with the timeline's lock held and interrupts off: it must not sleep, use
    /// this timeline, or signal a fence, which [`Fence::is_signaled`] may do (the fence lock
    /// would then nest in the timeline's, the reverse of a callback that signals on this
    /// timeline: a deadlock lockdep reports). The fences are signalled after the lock is
    /// dropped, in timeline order.
    pub fn signal_owned_where(&self, result: Result, select: impl FnMut(&Fence) -> bool) -> usize {
        self.signal_owned_chosen(result, false, select)
    }

    /// Signals with `result` the earliest pending fences the timeline owns, in timeline order
    /// (by sequence number, as [`Fence::is_later`] compares them), up to the first one for which
    /// `reached` returns false; returns how many it signalled.
    ///
    /// The timeline keeps the fences it owns in that order, so this only looks at the fences it
    /// signals and one more, as a timeline that signals its points up to a value does. `reached`
    /// runs as `select` of [`Timeline::signal_owned_where`] does.
    pub fn signal_owned_while(&self, result: Result, reached: impl FnMut(&Fence) -> bool) -> usize {
        self.signal_owned_chosen(result, true, reached)
    }

    /// Takes the owned fences `select` chooses off the list (the leading ones only if
    /// `prefix`), then signals them with `result`, outside the lock.
    fn signal_owned_chosen(
        &self,
        result: Result,
        prefix: bool,
        mut select: impl FnMut(&Fence) -> bool,
    ) -> usize {
        let header = self.header();
        // The fences chosen, on a list of our own until they are signalled.
        let chosen = Opaque::<bindings::list_head>::uninit();
        // SAFETY: `chosen` stays where it is (it is never moved) until it is empty again below.
        unsafe { ffi::rust_fence_helper_list_init(chosen.get()) };
        {
            let mut pending = header.pending.lock();
            let head = header.owned_fences.get();
            // SAFETY: The list is protected by the lock we hold; its entries are links of
            // pending fences of this timeline, each with a reference owned by the list, which
            // moves with the link to `chosen`. Taken in list order, `chosen` keeps it.
            unsafe {
                let mut link = (*head).next;
                while link != head {
                    let next = (*link).next;
                    let fence = FenceAlloc::from_link(link);
                    if select(Fence::from_raw(fence)) {
                        FenceAlloc::set_owned(fence, false);
                        ffi::rust_fence_helper_list_del_init(link);
                        ffi::rust_fence_helper_list_add_tail(link, chosen.get());
                        pending.owned -= 1;
                    } else if prefix {
                        break;
                    }
                    link = next;
                }
            }
        }
        let errno = result.err().map_or(0, |e| e.to_errno());
        let mut signalled = 0;
        // SAFETY: Only this function reaches `chosen` and the links on it; each fence comes with
        // the reference the timeline owned, dropped after the signal.
        unsafe {
            let head = chosen.get();
            loop {
                let link = (*head).next;
                if link == head {
                    break;
                }
                ffi::rust_fence_helper_list_del_init(link);
                let fence = FenceAlloc::from_link(link);
                if ffi::rust_fence_helper_signal(fence, errno) {
                    signalled += 1;
                }
                ffi::rust_fence_helper_put(fence);
            }
        }
        signalled
    }

    /// Signals `fence` with `result` if it is a pending fence this timeline owns; `EINVAL`
    /// otherwise (another timeline's fence, one signalled already, one whose handle is alive).
    pub fn signal_owned(&self, fence: &Fence, result: Result) -> Result {
        let header = self.header();
        if fence.context() != header.context {
            return Err(EINVAL);
        }
        {
            let mut pending = header.pending.lock();
            // SAFETY: A fence of this context was issued by this timeline (see `issuer_word`),
            // so it heads a `FenceAlloc`; its link and owned bit are under the lock we hold.
            unsafe {
                let raw = fence.as_raw();
                if !FenceAlloc::is_owned(raw) {
                    return Err(EINVAL);
                }
                FenceAlloc::set_owned(raw, false);
                ffi::rust_fence_helper_list_del_init(FenceAlloc::link(raw));
            }
            pending.owned -= 1;
        }
        let errno = result.err().map_or(0, |e| e.to_errno());
        // SAFETY: The timeline's reference, taken off its list above, is ours to drop after the
        // signal; the caller's borrow keeps the fence alive meanwhile anyway.
        unsafe {
            ffi::rust_fence_helper_signal(fence.as_raw(), errno);
            ffi::rust_fence_helper_put(fence.as_raw());
        }
        Ok(())
    }

    /// Calls `f` on each pending fence the timeline owns, in timeline order, under the
    /// timeline's lock, as `select` of [`Timeline::signal_owned_where`] runs.
    pub fn for_each_owned(&self, mut f: impl FnMut(&IssuedFence)) {
        self.find_owned(|fence| {
            // SAFETY: The timeline owns the fence, so it issued it; it lives while on the list.
            f(unsafe { IssuedFence::from_raw(fence.as_raw()) });
            false
        });
    }

    /// Returns a pending fence the timeline owns for which `pred` is true, if any. `pred` runs
    /// under the timeline's lock, as `select` of [`Timeline::signal_owned_where`] does.
    pub fn find_owned(&self, mut pred: impl FnMut(&Fence) -> bool) -> Option<ARef<Fence>> {
        let header = self.header();
        let _pending = header.pending.lock();
        let head = header.owned_fences.get();
        // SAFETY: As in `signal_owned_where`; the list's reference keeps each fence alive while
        // we look at it, and `ARef::from` takes a new one for the caller.
        unsafe {
            let mut link = (*head).next;
            while link != head {
                let fence = Fence::from_raw(FenceAlloc::from_link(link));
                if pred(fence) {
                    return Some(ARef::from(fence));
                }
                link = (*link).next;
            }
        }
        None
    }

    /// Returns the pending fence the timeline owns with sequence number `seqno`, if any.
    ///
    /// The timeline keeps the fences it owns in timeline order, and searches from the latest:
    /// finding one of the latest fences, or that a number beyond them has none, is quick.
    pub fn find_owned_seqno(&self, seqno: u64) -> Option<ARef<Fence>> {
        self.find_owned_seqno_shared(seqno).map(|(fence, _)| fence)
    }

    /// As [`Timeline::find_owned_seqno`], and also returns whether anyone but the timeline held a
    /// reference to the fence when it was found.
    ///
    /// A fence that only its timeline holds is one nobody can reach any more but through the
    /// timeline: an issuer whose fences die with their last user's reference (as sw_sync's
    /// points do) treats it as gone.
    pub fn find_owned_seqno_shared(&self, seqno: u64) -> Option<(ARef<Fence>, bool)> {
        let header = self.header();
        let _pending = header.pending.lock();
        let head = header.owned_fences.get();
        // SAFETY: As in `find_owned`; the list's reference keeps each fence alive while we read
        // its reference count too.
        unsafe {
            let mut link = (*head).prev;
            while link != head {
                let fence = FenceAlloc::from_link(link);
                if (*fence).seqno == seqno {
                    // The list holds one reference. Under its lock no other one can appear
                    // but from a holder, and a volatile read is what `kref_read()` does.
                    let refs =
                        ptr::read_volatile(ptr::addr_of!((*fence).refcount.refcount.refs.counter));
                    return Some((ARef::from(Fence::from_raw(fence)), refs > 1));
                }
                if !header.is_later((*fence).seqno, seqno) {
                    return None;
                }
                link = (*link).prev;
            }
        }
        None
    }

    /// Allocates the memory of one fence, ahead of the point of no return.
    pub fn prealloc(&self) -> Result<FenceSlot> {
        Ok(FenceSlot {
            alloc: KBox::new_uninit(GFP_KERNEL | __GFP_ZERO)?,
        })
    }

    /// Issues the next fence of the timeline in `slot`; cannot fail.
    pub fn issue<D>(&self, slot: FenceSlot, data: D) -> DriverFence<T, D> {
        let seqno = self.header().next_seqno.fetch_add(1, Relaxed);
        self.issue_numbered(slot, seqno, data)
    }

    /// Issues a fence with the given sequence number in `slot`; cannot fail.
    ///
    /// Sequence numbers compare as 64-bit values (`DMA_FENCE_FLAG_SEQNO64_BIT`) unless
    /// [`FenceOps::SEQNO_64`] is false; later automatic numbers continue after the largest one
    /// given here.
    ///
    /// Once the provider's unload protocol has begun (or, for a module-pinning table, while its
    /// module is being removed), the fence is issued already cancelled with `-ENODEV` and
    /// detached from the ops: it never reaches code of the provider.
    pub fn issue_at<D>(&self, slot: FenceSlot, seqno: u64, data: D) -> DriverFence<T, D> {
        let header = self.header();
        let next = seqno.saturating_add(1);
        let mut cur = header.next_seqno.load(Relaxed);
        while cur < next {
            match header.next_seqno.cmpxchg(cur, next, Relaxed) {
                Ok(_) => break,
                Err(old) => cur = old,
            }
        }
        self.issue_numbered(slot, seqno, data)
    }

    /// Issues a fence with sequence number `seqno`, which `next_seqno` already accounts for.
    fn issue_numbered<D>(&self, slot: FenceSlot, seqno: u64, data: D) -> DriverFence<T, D> {
        let header = self.header();

        let provider = &header.provider.0;
        let module = provider.module();
        // A fence of a pinning table holds the provider's module until it is released.
        let pins_module = header.pins_module;
        let pinned = pins_module && module.try_get();
        let alloc = KBox::into_raw(slot.alloc).cast::<FenceAlloc>();
        let init = |ops: &'static bindings::dma_fence_ops| {
            let init = if T::SEQNO_64 {
                bindings::dma_fence_init64
            } else {
                bindings::dma_fence_init
            };
            // SAFETY: `alloc` is a zeroed, exclusively owned `FenceAlloc` allocation. The ops
            // table is `'static`, a NULL lock selects the inline lock, and the timeline pointer
            // is written before `init` publishes anything.
            unsafe {
                ptr::addr_of_mut!((*alloc).timeline).write(self.inner.as_ptr().cast::<c_void>());
                init(
                    Opaque::cast_into(ptr::addr_of!((*alloc).base)),
                    ops,
                    ptr::null_mut(),
                    header.context,
                    seqno,
                );
            }
        };
        // SAFETY: `alloc` is ours; its link is not on any list yet.
        let link = unsafe { (*alloc).link.get() };
        // Initialise and link the fence in one critical section with the `closed` check, so that
        // the unload protocol either finds it pending or makes it issue detached.
        let tracked = {
            let mut pending = header.pending.lock();
            if (pinned || !pins_module) && !provider.is_closed() {
                init(header.ops);
                // SAFETY: The list is ours, under its lock; the link is unused.
                unsafe { ffi::rust_fence_helper_list_add_tail(link, header.handle_fences.get()) };
                pending.handles += 1;
                pending.issued += 1;
                true
            } else {
                false
            }
        };
        if !tracked {
            // SAFETY: The link is unused; self-linked, it reads as not pending.
            unsafe { ffi::rust_fence_helper_list_init(link) };
            init(header.detached_ops);
        }
        // SAFETY: `init` set the reference count to one; we take that reference.
        let fence = unsafe { Fence::from_raw_owned(NonNull::new_unchecked(alloc.cast())) };
        if !tracked {
            if pinned {
                // SAFETY: Drops the reference taken above: the fence does not pin.
                unsafe { module.put() };
            }
            // SAFETY: We hold a reference to the fence, which nobody else has seen.
            unsafe { ffi::rust_fence_helper_signal(fence.as_raw(), ENODEV.to_errno()) };
        } else if pins_module {
            // The fence points to our ops until its release: it holds the module (taken
            // above) and this timeline, both dropped by `OpsTable::release`.
            header.refcount.inc();
            provider.pinned.fetch_add(1, Relaxed);
        }
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
    /// `fence` was issued by a `Timeline<T>` with its pinning table, and its timeline reference
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
        self.header().refcount.inc();
        // INVARIANT: We took a new reference above.
        Self { inner: self.inner }
    }
}

impl<T: FenceOps> Drop for Timeline<T> {
    fn drop(&mut self) {
        // SAFETY: We own a reference (type invariants); the header heads the `repr(C)`
        // allocation.
        unsafe { TimelineHeader::put(self.inner.as_ptr().cast::<TimelineHeader>()) };
    }
}

/// Returns the issuer word of a fence issued by a timeline.
///
/// # Safety
///
/// `fence` must have been issued by a [`Timeline`].
unsafe fn issuer_word(fence: &Fence) -> &Atomic<u64> {
    let alloc = fence.as_raw().cast::<FenceAlloc>();
    // SAFETY: Guaranteed by the caller: `fence` is the first field of a `FenceAlloc`, which lives
    // as long as the borrowed fence.
    unsafe { &(*alloc).issuer_word }
}

/// Memory for one fence, allocated before the submission path that issues it.
pub struct FenceSlot {
    alloc: KBox<MaybeUninit<FenceAlloc>>,
}

// SAFETY: A slot is memory that nobody else can reach and that holds no value yet (the raw
// pointers of a `FenceAlloc`, which make it `!Send`, are only written when a fence is issued in
// it), so it may be moved to another thread and issued or freed there. A driver allocates in
// its submit ioctl and issues in the job that runs the work, often on another thread.
unsafe impl Send for FenceSlot {}

impl FenceSlot {
    /// Hands the memory to C as an opaque pointer (`struct rust_fence_slot` of the C API).
    pub(crate) fn into_raw(self) -> *mut c_void {
        KBox::into_raw(self.alloc).cast()
    }

    /// Takes back memory handed out by [`FenceSlot::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` came from [`FenceSlot::into_raw`] and is not used again.
    pub(crate) unsafe fn from_raw(ptr: *mut c_void) -> Self {
        Self {
            // SAFETY: Guaranteed by the caller: the pointer of a `KBox` of this type.
            alloc: unsafe { KBox::from_raw(ptr.cast()) },
        }
    }
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

    /// Leaves the fence pending and hands it to its timeline, which owns it from now on: signal
    /// it with [`Timeline::signal_owned`] or [`Timeline::signal_owned_where`]. Returns the
    /// driver data. If the timeline's last reference goes first, the fence is cancelled with
    /// `-ECANCELED` and a warning.
    ///
    /// For issuers that find their pending fences by value (sw_sync's points, a C driver's
    /// fences by pointer): the timeline keeps them in the fence's own allocation.
    pub fn into_timeline(self) -> D {
        let this = ManuallyDrop::new(self);
        // SAFETY: Each field is read exactly once and `this` is never used or dropped again.
        let (fence, timeline, data) = unsafe {
            (
                ptr::read(&this.fence),
                ptr::read(&this.timeline),
                ptr::read(&this.data),
            )
        };
        let raw = ARef::into_raw(fence).as_ptr().cast::<bindings::dma_fence>();
        // SAFETY: The timeline issued the fence and we own the reference `into_raw` released.
        if !unsafe { timeline.header().adopt(raw) } {
            // The unload protocol cancelled it already: drop our reference.
            // SAFETY: The reference released by `into_raw` above.
            unsafe { ffi::rust_fence_helper_put(raw) };
        }
        drop(timeline);
        data
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
        // SAFETY: The fence is valid: we hold a reference. The helper sets the error and signals
        // under the fence lock, and does nothing if the core already signalled it. The timeline
        // issued the fence.
        unsafe {
            ffi::rust_fence_helper_signal(fence.as_raw(), errno);
            timeline.header().untrack(fence.as_raw());
        }
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
        // SAFETY: The timeline issued the fence.
        unsafe { self.timeline.header().untrack(self.fence.as_raw()) };
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

#[cfg(rust_fence_kunit)]
#[kernel::prelude::kunit_tests(rust_fence_timeline)]
mod tests {
    use kernel::prelude::*;
    use kernel::sync::atomic::Relaxed;

    use crate::kunit::{
        timeline,
        timeline32, //
    };
    use crate::Fence;

    #[test]
    fn signaling_detaches() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, 7u32);
        let shared = f.fence_ref();
        assert_eq!(f.signal(), 7u32);
        assert!(shared.is_signaled());
        assert!(matches!(shared.status(), Some(Ok(()))));
        assert!(shared.timestamp().is_some());
        // No release and no wait in the table: the core dropped the ops pointer.
        assert!(!shared.is_attached());
        Ok(())
    }

    #[test]
    fn drop_unsignalled_cancels() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        drop(f);
        assert!(shared.is_signaled());
        assert_eq!(shared.error(), Err(ECANCELED));
        Ok(())
    }

    #[test]
    fn issuer_word_outlives_detach() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        assert_eq!(f.issuer_word().load(Relaxed), 0);
        f.issuer_word().store(42, Relaxed);
        f.signal();
        assert!(!shared.is_attached());
        assert_eq!(tl.issuer_word(&shared).map(|w| w.load(Relaxed)), Some(42));
        // A fence of another timeline has no word of ours.
        let other = timeline()?;
        assert!(other.issuer_word(&shared).is_none());
        Ok(())
    }

    /// A timeline that owns its pending fences signals them by value or by pointer, and cancels
    /// those left when its last reference goes.
    #[test]
    fn owned_fences() -> Result {
        let tl = timeline()?;
        let before = tl.provider().pending();
        let mut fences = KVec::new();
        for _ in 0..4 {
            let f = tl.issue(tl.prealloc()?, ());
            fences.push(f.fence_ref(), GFP_KERNEL)?;
            f.into_timeline();
        }
        assert_eq!(tl.provider().pending(), before + 4);
        let second = tl.find_owned(|f| f.seqno() == 2);
        assert!(second.is_some_and(|f| core::ptr::eq(&*f, &*fences[1])));
        assert_eq!(tl.signal_owned_where(Ok(()), |f| f.seqno() <= 2), 2);
        assert_eq!(fences[0].status(), Some(Ok(())));
        assert_eq!(fences[1].status(), Some(Ok(())));
        assert!(fences[2].status().is_none());
        assert_eq!(tl.signal_owned(&fences[2], Err(EIO)), Ok(()));
        assert_eq!(fences[2].status(), Some(Err(EIO)));
        // Signalled already, or not owned: refused.
        assert_eq!(tl.signal_owned(&fences[2], Ok(())), Err(EINVAL));
        let other = timeline()?;
        assert_eq!(other.signal_owned(&fences[3], Ok(())), Err(EINVAL));
        assert!(tl.find_owned(|f| f.seqno() == 2).is_none());
        // The last reference cancels the fence the timeline still owns.
        drop(tl);
        assert_eq!(fences[3].status(), Some(Err(ECANCELED)));
        Ok(())
    }

    /// Fences handed over out of order are kept in timeline order, also across a wrap of a
    /// 32-bit counter: found by number, and signalled as a prefix up to the first not reached.
    #[test]
    fn owned_fences_in_timeline_order() -> Result {
        let tl = timeline32()?;
        // u32::MAX - 1, u32::MAX, 0, 1, 2 in timeline order.
        let seqnos = [1u64, u64::from(u32::MAX), 2, u64::from(u32::MAX - 1), 0];
        let mut fences = KVec::new();
        for seqno in seqnos {
            let f = tl.issue_at(tl.prealloc()?, seqno, ());
            fences.push(f.fence_ref(), GFP_KERNEL)?;
            f.into_timeline();
        }
        let mut order = KVec::with_capacity(seqnos.len(), GFP_KERNEL)?;
        tl.for_each_owned(|f| {
            let _ = order.push_within_capacity(f.seqno());
        });
        assert_eq!(
            &order[..],
            &[u64::from(u32::MAX - 1), u64::from(u32::MAX), 0, 1, 2]
        );
        for (i, seqno) in seqnos.iter().enumerate() {
            let found = tl.find_owned_seqno(*seqno);
            assert!(found.is_some_and(|f| core::ptr::eq(&*f, &*fences[i])));
        }
        assert!(tl.find_owned_seqno(3).is_none());
        assert!(tl.find_owned_seqno(u64::from(u32::MAX - 2)).is_none());
        // Up to 0: the wrap does not stop the prefix; 1 is not reached, so 2 is left too even
        // though the predicate would take it.
        let reached = |f: &Fence| f.seqno() != 1;
        assert_eq!(tl.signal_owned_while(Ok(()), reached), 3);
        assert_eq!(fences[1].status(), Some(Ok(())));
        assert_eq!(fences[3].status(), Some(Ok(())));
        assert_eq!(fences[4].status(), Some(Ok(())));
        assert!(fences[0].status().is_none());
        assert!(fences[2].status().is_none());
        assert_eq!(tl.signal_owned_where(Err(ENOENT), |_| true), 2);
        assert_eq!(fences[2].status(), Some(Err(ENOENT)));
        Ok(())
    }
}
