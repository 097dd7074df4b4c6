// SPDX-License-Identifier: GPL-2.0

//! Fence containers: `dma_fence_array`, `dma_fence_chain`, and the fences they hold.
//!
//! C headers: [`include/linux/dma-fence-array.h`](srctree/include/linux/dma-fence-array.h),
//! [`include/linux/dma-fence-chain.h`](srctree/include/linux/dma-fence-chain.h),
//! [`include/linux/dma-fence-unwrap.h`](srctree/include/linux/dma-fence-unwrap.h)
//!
//! A container is a fence whose ops are the dma_fence core's, never a module's, holding a
//! reference to each fence it contains. Those may be fences of a provider that unloads
//! meanwhile: they detach when they signal, or the unload protocol cancels them, and the
//! container answers from the core. The core does not nest containers in an array (it warns and
//! would recurse), so [`fence_array`] refuses one, and [`fence_chain`] refuses a chain as the
//! fence of a link. Both helpers are C: the core's headers are not in the kernel's bindings.

use core::marker::PhantomData;
use core::ptr::{
    self,
    NonNull, //
};

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::aref::ARef;

use crate::fence::Fence;
use crate::ffi;

impl Fence {
    /// Returns whether the fence is a container: a `dma_fence_array` or a `dma_fence_chain`.
    pub fn is_container(&self) -> bool {
        // SAFETY: The fence is valid by the type invariants.
        unsafe { ffi::rust_fence_helper_is_container(self.as_raw()) }
    }

    /// Returns the fences this one stands for, unwrapping arrays and chains
    /// (`dma_fence_unwrap_for_each()`); a fence that is no container stands for itself.
    pub fn contained_fences(&self) -> ContainedFences<'_> {
        let mut cursor = UnwrapCursor {
            chain: ptr::null_mut(),
            array: ptr::null_mut(),
            index: 0,
        };
        // SAFETY: The fence is valid by the type invariants; the cursor takes a reference to it,
        // which `ContainedFences` drops at the end of the walk or when dropped.
        let next = unsafe { ffi::dma_fence_unwrap_first(self.as_raw(), &mut cursor) };
        // INVARIANT: The cursor was just started on the borrowed fence.
        ContainedFences {
            cursor,
            next,
            _head: PhantomData,
        }
    }
}

/// A fence that signals once all of `fences` did (`dma_fence_array`), on a context of its own,
/// with the first error among them. `EINVAL` for none, or for a container among them.
pub fn fence_array(fences: KVec<ARef<Fence>>) -> Result<ARef<Fence>> {
    if fences.is_empty() || fences.iter().any(|f| f.is_container()) {
        return Err(EINVAL);
    }
    let num_fences = c_int::try_from(fences.len()).map_err(|_| EINVAL)?;
    // The array of fence pointers the container owns and `kfree()`s when released.
    let mut raw = KVec::<*mut bindings::dma_fence>::with_capacity(fences.len(), GFP_KERNEL)?;
    for fence in fences {
        // Cannot fail: the capacity is there.
        let _ = raw.push_within_capacity(ARef::into_raw(fence).as_ptr().cast());
    }
    let (pointers, len, capacity) = raw.into_raw_parts();
    // SAFETY: `pointers` is a `kmalloc()`ed array of `num_fences` fences with a reference each,
    // none a container: the container takes both on success.
    let array = unsafe { ffi::rust_fence_helper_array_create(pointers, num_fences) };
    match NonNull::new(array) {
        // SAFETY: The new container's reference count is one, and that reference is ours.
        Some(array) => Ok(unsafe { Fence::from_raw_owned(array) }),
        None => {
            // SAFETY: Nothing was taken: the vector and its references are ours again.
            let raw = unsafe { KVec::from_raw_parts(pointers, len, capacity) };
            for fence in raw.iter() {
                // SAFETY: The reference `ARef::into_raw` released above.
                unsafe { ffi::rust_fence_helper_put(*fence) };
            }
            Err(ENOMEM)
        }
    }
}

/// A link of a timeline of fences (`dma_fence_chain`): point `seqno`, standing for `fence`,
/// after `prev` (usually the previous link). It signals once `fence` and every earlier link
/// did. `EINVAL` if `fence` is a chain itself.
pub fn fence_chain(
    prev: Option<ARef<Fence>>,
    fence: ARef<Fence>,
    seqno: u64,
) -> Result<ARef<Fence>> {
    // SAFETY: The fence is valid: we hold a reference.
    if unsafe { ffi::rust_fence_helper_is_chain(fence.as_raw()) } {
        return Err(EINVAL);
    }
    let prev_raw = prev.as_ref().map_or(ptr::null_mut(), |p| p.as_raw());
    // SAFETY: Both fences are valid (or `prev_raw` NULL); on success the link takes the
    // references, which we give up below.
    let chain = unsafe { ffi::rust_fence_helper_chain_create(prev_raw, fence.as_raw(), seqno) };
    let chain = NonNull::new(chain).ok_or(ENOMEM)?;
    if let Some(prev) = prev {
        let _ = ARef::into_raw(prev);
    }
    let _ = ARef::into_raw(fence);
    // SAFETY: The new link's reference count is one, and that reference is ours.
    Ok(unsafe { Fence::from_raw_owned(chain) })
}

/// `struct dma_fence_unwrap`, whose layout `rust_fence/helpers.c` asserts.
#[repr(C)]
pub(crate) struct UnwrapCursor {
    chain: *mut bindings::dma_fence,
    array: *mut bindings::dma_fence,
    index: c_uint,
}

/// The fences a fence stands for: see [`Fence::contained_fences`]. Each comes with a reference
/// of its own, since walking a chain drops the links that signalled meanwhile.
///
/// # Invariants
///
/// `cursor` is a `dma_fence_unwrap` cursor started on the borrowed fence; while `cursor.chain`
/// is not NULL, the cursor holds a reference to it. `next` is NULL or the fence the cursor
/// returned last, alive while the cursor stays where it is.
pub struct ContainedFences<'a> {
    cursor: UnwrapCursor,
    next: *mut bindings::dma_fence,
    _head: PhantomData<&'a Fence>,
}

impl Iterator for ContainedFences<'_> {
    type Item = ARef<Fence>;

    fn next(&mut self) -> Option<ARef<Fence>> {
        // SAFETY: By the type invariants, `next` is NULL or a live fence held by the containers
        // the cursor holds; `ARef::from` takes our own reference before the cursor moves on.
        let fence = ARef::from(unsafe { self.next.cast::<Fence>().as_ref()? });
        // SAFETY: The cursor was started by `dma_fence_unwrap_first()` and has not ended.
        self.next = unsafe { ffi::dma_fence_unwrap_next(&mut self.cursor) };
        Some(fence)
    }
}

impl Drop for ContainedFences<'_> {
    fn drop(&mut self) {
        if !self.cursor.chain.is_null() {
            // SAFETY: By the type invariants, the cursor holds this reference; a walk that ran to
            // its end has dropped it and left NULL.
            unsafe { ffi::rust_fence_helper_put(self.cursor.chain) };
        }
    }
}

#[cfg(rust_fence_kunit)]
#[kernel::prelude::kunit_tests(rust_fence_container)]
mod tests {
    use kernel::prelude::*;
    use kernel::sync::aref::ARef;
    use kernel::time::msecs_to_jiffies;

    use super::{
        fence_array,
        fence_chain, //
    };
    use crate::kunit::timeline;
    use crate::{
        Fence,
        FenceOps,
        Interruptible,
        ProviderRegistration,
        Timeline, //
    };

    /// Waits up to a second for `fence`: a container signals from an irq_work once the fences
    /// it waits for did, and only once a waiter enabled signalling.
    fn settle(fence: &Fence) -> bool {
        fence
            .wait_timeout(Interruptible::No, msecs_to_jiffies(1000))
            .is_ok_and(|left| left > 0)
    }

    /// Whether the fences contain exactly `want`, in any order.
    fn contains_exactly(container: &Fence, want: &[&Fence]) -> bool {
        let mut got = KVec::<ARef<Fence>>::new();
        for fence in container.contained_fences() {
            if got.push(fence, GFP_KERNEL).is_err() {
                return false;
            }
        }
        got.len() == want.len()
            && want
                .iter()
                .all(|w| got.iter().any(|g| core::ptr::eq(&**g, *w)))
    }

    #[test]
    fn array_signals_with_the_first_error() -> Result {
        let tl = timeline()?;
        let a = tl.issue(tl.prealloc()?, ());
        let b = tl.issue(tl.prealloc()?, ());
        let mut fences = KVec::new();
        fences.push(a.fence_ref(), GFP_KERNEL)?;
        fences.push(b.fence_ref(), GFP_KERNEL)?;
        let array = fence_array(fences)?;
        assert!(array.is_container());
        assert!(contains_exactly(&array, &[a.fence(), b.fence()]));
        assert!(array.status().is_none());
        a.signal();
        assert!(array.status().is_none());
        b.signal_with_error(EIO);
        assert!(settle(&array));
        assert_eq!(array.status(), Some(Err(EIO)));
        // A fence that is no container stands for itself.
        let c = tl.issue(tl.prealloc()?, ());
        assert!(!c.fence().is_container());
        assert!(contains_exactly(c.fence(), &[c.fence()]));
        c.signal();
        Ok(())
    }

    #[test]
    fn array_refuses_none_and_containers() -> Result {
        assert_eq!(fence_array(KVec::new()).err(), Some(EINVAL));
        let tl = timeline()?;
        let a = tl.issue(tl.prealloc()?, ());
        let mut fences = KVec::new();
        fences.push(a.fence_ref(), GFP_KERNEL)?;
        let array = fence_array(fences)?;
        let mut nested = KVec::new();
        nested.push(array.clone(), GFP_KERNEL)?;
        assert_eq!(fence_array(nested).err(), Some(EINVAL));
        let chain = fence_chain(None, a.fence_ref(), 1)?;
        let mut nested = KVec::new();
        nested.push(chain.clone(), GFP_KERNEL)?;
        assert_eq!(fence_array(nested).err(), Some(EINVAL));
        // Nor is a chain the fence of a link.
        assert_eq!(fence_chain(None, chain, 2).err(), Some(EINVAL));
        a.signal();
        Ok(())
    }

    #[test]
    fn chain_signals_when_all_links_did() -> Result {
        let tl = timeline()?;
        let a = tl.issue(tl.prealloc()?, ());
        let b = tl.issue(tl.prealloc()?, ());
        let one = fence_chain(None, a.fence_ref(), 1)?;
        let two = fence_chain(Some(one), b.fence_ref(), 2)?;
        assert!(contains_exactly(&two, &[a.fence(), b.fence()]));
        b.signal();
        assert!(!two.is_signaled());
        a.signal();
        assert!(settle(&two));
        assert!(two.is_signaled());
        Ok(())
    }

    /// Test issuer with the default ops.
    struct Plain;

    #[vtable]
    impl FenceOps for Plain {}

    /// Containers keep fences of a provider whose unload protocol ran: the pending one is
    /// cancelled with -ENODEV, and every fence they hold is detached from its ops.
    #[test]
    fn containers_outlive_their_fences_provider() -> Result {
        let module = kernel::module::this_module::<crate::RustFenceModule>();
        let registration = ProviderRegistration::new(module, c"kunit_containers", |_| Ok(()))?;
        let tl = Timeline::new(registration.provider(), c"rust_fence_test", c"gone", Plain)?;
        let pending = tl.issue(tl.prealloc()?, ());
        let done = tl.issue(tl.prealloc()?, ());
        let mut fences = KVec::new();
        fences.push(pending.fence_ref(), GFP_KERNEL)?;
        fences.push(done.fence_ref(), GFP_KERNEL)?;
        let array = fence_array(fences)?;
        let chain = fence_chain(None, pending.fence_ref(), 1)?;
        done.signal();
        drop(registration);
        assert!(settle(&array));
        assert_eq!(array.status(), Some(Err(ENODEV)));
        assert!(settle(&chain));
        for fence in array.contained_fences() {
            assert!(fence.is_signaled());
            assert!(!fence.is_attached());
        }
        // The unload protocol signalled it already: nothing left to do.
        pending.signal();
        Ok(())
    }
}
