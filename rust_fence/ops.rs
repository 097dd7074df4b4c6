// SPDX-License-Identifier: GPL-2.0

//! Fence operations: a Rust trait turned into one `const struct dma_fence_ops` per type.
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! Each type has two tables, and each timeline picks one when it is created
//! ([`TimelineOptions::pins_module`](crate::TimelineOptions::pins_module), by default
//! [`FenceOps::PINS_MODULE`]):
//!
//! - Detachable tables (the default) have neither `release` nor `wait`, so the core detaches a
//!   fence from them (sets `dma_fence.ops` to NULL) when it signals. After that the fence no
//!   longer points into the module that issued it, which may unload one RCU grace period later.
//! - Module-pinning tables have a `release`, so their fences point to the ops for their whole
//!   life. Each such fence holds a reference on the module that implements the table, dropped
//!   in `release`: `rmmod` answers EBUSY while one lives instead of freeing code it points to.
//!
//! `wait` is not offered at all: the core calls it outside of RCU, which would tie the fence to
//! the module for its whole life without any way to know when it is safe to unload.

use core::marker::PhantomData;

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::atomic::Relaxed;

use crate::timeline::{
    IssuedFence,
    Timeline,
    TimelineInner, //
};

/// Operations of a fence issuer, called by the dma_fence core.
///
/// `Self` is the issuer's per-timeline data, shared by all fences of a
/// [`Timeline`](crate::Timeline). Every operation may run in atomic context (with the fence
/// lock held and interrupts off), so implementations must not sleep or allocate with
/// `GFP_KERNEL`. `enable_signaling` and `signaled` may run with the fence lock held: calling
/// back into the fence there (its status, a wait, adding a callback) deadlocks. They are only called while the fence is not signalled yet, or within the
/// RCU grace period that follows its signal; the timeline data stays valid for that long.
#[vtable]
pub trait FenceOps: Send + Sync + Sized + 'static {
    /// Whether fences of timelines of this type keep pointing to the ops (and keep the module
    /// implementing them loaded) after they signal, until their last reference is gone, unless
    /// the timeline says otherwise ([`TimelineOptions`](crate::TimelineOptions)).
    const PINS_MODULE: bool = false;

    /// Whether sequence numbers compare as 64-bit values (`dma_fence_init64()`, the default)
    /// or, for issuers with 32-bit counters that wrap (like sw_sync), modulo 2^32
    /// (`dma_fence_init()`). The core uses the comparison to order fences of one context, for
    /// instance when a sync_file merge keeps the later of two.
    const SEQNO_64: bool = true;

    /// The fence is about to be waited on: start whatever makes it signal by itself (an
    /// interrupt, a timer). Returns `false` if the fence already completed.
    fn enable_signaling(_timeline: &Self, _fence: &IssuedFence) -> bool {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Peeks whether the work behind the fence is done, for waiters polling the fence.
    fn signaled(_timeline: &Self, _fence: &IssuedFence) -> bool {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// A waiter would like the fence to signal by `deadline_ns` (`CLOCK_MONOTONIC`).
    fn set_deadline(_timeline: &Self, _fence: &IssuedFence, _deadline_ns: i64) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// The `dma_fence_ops` tables of the issuer type `T`.
pub(crate) struct OpsTable<T: FenceOps>(PhantomData<T>);

impl<T: FenceOps> OpsTable<T> {
    /// The table of fences that detach on signal: never `wait`, never `release`.
    pub(crate) const DETACHED: bindings::dma_fence_ops = Self::table(false);

    /// The table of fences that stay attached until released, for module-pinning types.
    pub(crate) const PINNING: bindings::dma_fence_ops = Self::table(true);

    /// Returns the table a timeline of `T` issues fences with while its provider is open:
    /// [`OpsTable::PINNING`] for a timeline that pins its module, else [`OpsTable::DETACHED`].
    ///
    /// The table is a constant promoted to a static in the module that instantiates this
    /// function; [`Timeline::new`](crate::Timeline::new) records it once, so every fence of a
    /// timeline uses the table of the provider's module.
    pub(crate) fn attached(pins_module: bool) -> &'static bindings::dma_fence_ops {
        if pins_module {
            &Self::PINNING
        } else {
            &Self::DETACHED
        }
    }

    const fn table(release: bool) -> bindings::dma_fence_ops {
        bindings::dma_fence_ops {
            get_driver_name: Some(Self::get_driver_name),
            get_timeline_name: Some(Self::get_timeline_name),
            enable_signaling: if T::HAS_ENABLE_SIGNALING {
                Some(Self::enable_signaling)
            } else {
                None
            },
            signaled: if T::HAS_SIGNALED {
                Some(Self::signaled)
            } else {
                None
            },
            wait: None,
            release: if release { Some(Self::release) } else { None },
            set_deadline: if T::HAS_SET_DEADLINE {
                Some(Self::set_deadline)
            } else {
                None
            },
        }
    }

    /// Returns the timeline of a fence issued with this table.
    ///
    /// # Safety
    ///
    /// `fence` must have been issued by a [`Timeline<T>`](crate::Timeline) and the caller must
    /// be a dma_fence op of this table: then the fence is unsignalled or within the grace period
    /// after its signal, and the timeline is alive.
    unsafe fn timeline<'a>(fence: *mut bindings::dma_fence) -> &'a TimelineInner<T> {
        // SAFETY: Guaranteed by the caller.
        unsafe { TimelineInner::<T>::from_fence(fence) }
    }

    /// # Safety
    ///
    /// Called by the dma_fence core, only for fences issued with this table.
    unsafe extern "C" fn get_driver_name(fence: *mut bindings::dma_fence) -> *const c_char {
        // SAFETY: The core calls this op only for fences issued with this table.
        unsafe { Self::timeline(fence) }.driver_name().as_char_ptr()
    }

    /// # Safety
    ///
    /// Called by the dma_fence core, only for fences issued with this table.
    unsafe extern "C" fn get_timeline_name(fence: *mut bindings::dma_fence) -> *const c_char {
        // SAFETY: The core calls this op only for fences issued with this table.
        unsafe { Self::timeline(fence) }
            .timeline_name()
            .as_char_ptr()
    }

    /// # Safety
    ///
    /// Called by the dma_fence core, only for fences issued with this table.
    unsafe extern "C" fn enable_signaling(fence: *mut bindings::dma_fence) -> bool {
        // SAFETY: The core calls this op only for fences issued with this table, while the fence
        // is pending or within the grace period after its signal (so the timeline is alive), and
        // holds a reference to the fence meanwhile.
        let (tl, f) = unsafe { (Self::timeline(fence), IssuedFence::from_raw(fence)) };
        T::enable_signaling(tl.data(), f)
    }

    /// # Safety
    ///
    /// Called by the dma_fence core, only for fences issued with this table.
    unsafe extern "C" fn signaled(fence: *mut bindings::dma_fence) -> bool {
        // SAFETY: As in `enable_signaling`.
        let (tl, f) = unsafe { (Self::timeline(fence), IssuedFence::from_raw(fence)) };
        T::signaled(tl.data(), f)
    }

    /// # Safety
    ///
    /// Called by the dma_fence core, only for fences issued with this table.
    unsafe extern "C" fn set_deadline(
        fence: *mut bindings::dma_fence,
        deadline: bindings::ktime_t,
    ) {
        // SAFETY: As in `enable_signaling`.
        let (tl, f) = unsafe { (Self::timeline(fence), IssuedFence::from_raw(fence)) };
        T::set_deadline(tl.data(), f, deadline)
    }

    /// Releases a fence of a module-pinning table: its timeline and module references.
    ///
    /// # Safety
    ///
    /// Called by the core once the last reference to a fence issued with this table is gone.
    unsafe extern "C" fn release(fence: *mut bindings::dma_fence) {
        // SAFETY: Fences of pinning tables own one timeline reference (taken in `issue_at`).
        let timeline = unsafe { Timeline::<T>::from_fence_reference(fence) };
        let provider = timeline.provider().clone();
        provider.0.pinned.fetch_sub(1, Relaxed);
        // Its last reference queues the free of the timeline, which takes its own module
        // reference: the module is pinned by this fence until the end of this function.
        drop(timeline);
        // SAFETY: The last reference is gone and the fence heads its allocation;
        // `dma_fence_free` frees it with `kfree_rcu()`, as the core does for fences without
        // `release`.
        unsafe { bindings::dma_fence_free(fence) };
        // SAFETY: Fences of pinning tables own one reference on the provider's module (taken in
        // `issue_at`), dropped last since the module may unload from here on. Returning into its
        // code is still safe: the core calls `release` inside `rcu_read_lock()`, and unloading
        // waits for a grace period (`free_module()`) before it frees the module's memory.
        unsafe { provider.0.module().put() };
    }
}

#[cfg(rust_fence_kunit)]
#[kernel::prelude::kunit_tests(rust_fence_ops)]
mod tests {
    use kernel::prelude::*;
    use kernel::sync::atomic::Relaxed;

    use crate::kunit::{
        module_refs,
        timeline,
        PinnedOps, //
    };
    use crate::Timeline;

    #[test]
    fn signaled_op() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        assert!(!f.fence().is_signaled());
        tl.data().done.store(true, Relaxed);
        // The core asks the op, then signals the fence itself.
        assert!(f.fence().is_signaled());
        assert!(!f.fence().is_attached());
        // Signalling again through the handle is a no-op, not a warning.
        f.signal();
        Ok(())
    }

    #[test]
    fn deadline_reaches_op() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        f.fence().set_deadline(123_456_789);
        assert_eq!(tl.data().deadline.load(Relaxed), 123_456_789);
        f.signal();
        // Detached: a deadline on a signalled fence does not reach the issuer.
        tl.data().deadline.store(0, Relaxed);
        let g = tl.issue(tl.prealloc()?, ());
        let shared = g.fence_ref();
        g.signal();
        shared.set_deadline(1);
        assert_eq!(tl.data().deadline.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn pinning_table_holds_module() -> Result {
        let provider = crate::library_provider()?;
        let tl = Timeline::new(&provider, c"rust_fence_test", c"pinned", PinnedOps)?;
        let refs = module_refs();
        let pinned = provider.pinned();
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        assert_eq!(module_refs(), refs + 1);
        f.signal();
        // Signalled, but a table with `release` never detaches: module and ops stay pinned.
        assert!(shared.is_signaled());
        assert!(shared.is_attached());
        assert_eq!(module_refs(), refs + 1);
        assert_eq!(provider.pinned(), pinned + 1);
        // The last reference releases the fence: the module reference goes with it.
        drop(shared);
        assert_eq!(module_refs(), refs);
        assert_eq!(provider.pinned(), pinned);
        Ok(())
    }
}
