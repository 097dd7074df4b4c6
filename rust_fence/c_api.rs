// SPDX-License-Identifier: GPL-2.0

//! The C API of rust_fence, for C drivers: `rust_fence/include/rust_fence.h`.
//!
//! C header: `rust_fence/include/rust_fence.h` (in this repository)
//!
//! Each function is a thin shell over the safe types: a C timeline is a [`Timeline`] whose ops
//! table lives in this module and which owns its pending fences
//! ([`DriverFence::into_timeline`](crate::DriverFence::into_timeline)), so C signals a fence by pointer without a lookup structure
//! or an allocation of its own. Misuse from C (NULL or error pointers,
//! a fence of another timeline, a second signal, a bad errno) returns `-EINVAL` with a message,
//! never a crash.

use kernel::bindings;
use kernel::error::from_result;
use kernel::prelude::*;
use kernel::sync::aref::ARef;

use crate::{
    Fence,
    FenceOps,
    FenceSlot,
    Timeline, //
};

/// The largest errno a fence may complete with (`include/linux/err.h`).
const MAX_ERRNO: c_int = bindings::MAX_ERRNO as c_int;

/// Ops of the fences issued through the C API. They live in rust_fence, never in the C
/// driver, and detach on signal like every table of this crate.
struct CApiOps;

#[vtable]
impl FenceOps for CApiOps {}

/// `struct rust_fence_timeline` of the C API.
pub(crate) struct CTimeline {
    timeline: Timeline<CApiOps>,
}

/// Returns whether `ptr` is NULL or an `ERR_PTR()`.
fn is_err_or_null<T>(ptr: *const T) -> bool {
    ptr.is_null() || (ptr as usize) >= (-(MAX_ERRNO as isize)) as usize
}

/// Borrows a C string argument, or fails for NULL.
///
/// # Safety
///
/// A non-NULL `ptr` must point to a NUL-terminated string valid for `'a`.
unsafe fn c_str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a CStr> {
    if ptr.is_null() {
        pr_err!("rust_fence_timeline_create: {} is NULL\n", what);
        return Err(EINVAL);
    }
    // SAFETY: Guaranteed by the caller.
    Ok(unsafe { CStr::from_char_ptr(ptr) })
}

fn timeline_create(driver_name: &CStr, timeline_name: &CStr) -> Result<*mut CTimeline> {
    let timeline = Timeline::new(
        &crate::library_provider()?,
        driver_name,
        timeline_name,
        CApiOps,
    )?;
    // C only holds the pointer; `rust_fence_timeline_destroy` turns it back into a `KBox`.
    Ok(KBox::into_raw(KBox::new(
        CTimeline { timeline },
        GFP_KERNEL,
    )?))
}

/// Creates a timeline; see `rust_fence_timeline_create()` in the header.
///
/// # Safety
///
/// Non-NULL names must be NUL-terminated strings.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_timeline_create(
    driver_name: *const c_char,
    timeline_name: *const c_char,
) -> *mut CTimeline {
    // SAFETY: Guaranteed by the caller; the names are copied before returning.
    let names = unsafe {
        c_str_arg(driver_name, "driver_name")
            .and_then(|d| Ok((d, c_str_arg(timeline_name, "timeline_name")?)))
    };
    match names.and_then(|(d, t)| timeline_create(d, t)) {
        Ok(tl) => tl,
        Err(e) => e.to_ptr(),
    }
}

/// Destroys a timeline; see `rust_fence_timeline_destroy()` in the header.
///
/// # Safety
///
/// A pointer that is not NULL or an error must come from `rust_fence_timeline_create()` and not
/// have been destroyed; no other call may use it concurrently or afterwards.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_timeline_destroy(tl: *mut CTimeline) {
    if is_err_or_null(tl) {
        return;
    }
    // SAFETY: Guaranteed by the caller: `tl` came from `KBox::into_raw`.
    let tl = unsafe { KBox::from_raw(tl) };
    let cancelled = tl.timeline.signal_owned_where(Err(ENODEV), |_| true);
    if cancelled > 0 {
        pr_warn!(
            "timeline {:?} destroyed with {} pending fences: cancelled with -ENODEV\n",
            tl.timeline.timeline_name(),
            cancelled
        );
    }
}

fn issue(tl: &CTimeline, slot: FenceSlot) -> ARef<Fence> {
    let fence = tl.timeline.issue(slot, ());
    let shared = fence.fence_ref();
    fence.into_timeline();
    shared
}

/// Issues a fence; see `rust_fence_issue()` in the header.
///
/// # Safety
///
/// A pointer that is not NULL or an error must be a live timeline of this API.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_issue(tl: *mut CTimeline) -> *mut bindings::dma_fence {
    if is_err_or_null(tl) {
        pr_err!("rust_fence_issue: invalid timeline pointer {:p}\n", tl);
        return EINVAL.to_ptr();
    }
    // SAFETY: Guaranteed by the caller.
    let tl = unsafe { &*tl };
    match tl.timeline.prealloc() {
        Ok(slot) => ARef::into_raw(issue(tl, slot)).as_ptr().cast(),
        Err(e) => e.to_ptr(),
    }
}

/// `struct rust_fence_slot` of the C API: the memory of a [`FenceSlot`].
pub(crate) struct CSlot;

/// Allocates a fence; see `rust_fence_prealloc()` in the header.
///
/// # Safety
///
/// A pointer that is not NULL or an error must be a live timeline of this API.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_prealloc(tl: *mut CTimeline) -> *mut CSlot {
    if is_err_or_null(tl) {
        pr_err!("rust_fence_prealloc: invalid timeline pointer {:p}\n", tl);
        return EINVAL.to_ptr();
    }
    // SAFETY: Guaranteed by the caller.
    match unsafe { &*tl }.timeline.prealloc() {
        Ok(slot) => slot.into_raw().cast(),
        Err(e) => e.to_ptr(),
    }
}

/// Issues a fence in a slot; see `rust_fence_issue_slot()` in the header.
///
/// # Safety
///
/// A pointer that is not NULL or an error must be a live timeline of this API, and `slot` one
/// from `rust_fence_prealloc()` that was neither issued nor freed.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_issue_slot(
    tl: *mut CTimeline,
    slot: *mut CSlot,
) -> *mut bindings::dma_fence {
    if is_err_or_null(tl) || is_err_or_null(slot) {
        pr_err!(
            "rust_fence_issue_slot: invalid timeline {:p} or slot {:p}\n",
            tl,
            slot
        );
        return EINVAL.to_ptr();
    }
    // SAFETY: Guaranteed by the caller; the slot is consumed here.
    let (tl, slot) = unsafe { (&*tl, FenceSlot::from_raw(slot.cast())) };
    ARef::into_raw(issue(tl, slot)).as_ptr().cast()
}

/// Frees an unused slot; see `rust_fence_slot_free()` in the header.
///
/// # Safety
///
/// A pointer that is not NULL or an error must come from `rust_fence_prealloc()` and be neither
/// issued nor freed.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_slot_free(slot: *mut CSlot) {
    if !is_err_or_null(slot) {
        // SAFETY: Guaranteed by the caller.
        drop(unsafe { FenceSlot::from_raw(slot.cast()) });
    }
}

/// Returns the issuer word of `fence` if `tl` issued it, with a message otherwise.
///
/// # Safety
///
/// `tl` and `fence` are NULL, errors, or live objects (a timeline of this API and a fence the
/// caller holds a reference to) for `'a`.
unsafe fn private_word<'a>(
    what: &str,
    tl: *mut CTimeline,
    fence: *mut bindings::dma_fence,
) -> Option<&'a kernel::sync::atomic::Atomic<u64>> {
    if is_err_or_null(tl) || is_err_or_null(fence) {
        pr_err!("{}: invalid timeline {:p} or fence {:p}\n", what, tl, fence);
        return None;
    }
    // SAFETY: Guaranteed by the caller.
    let (tl, fence) = unsafe { (&*tl, Fence::from_raw(fence)) };
    let word = tl.timeline.issuer_word(fence);
    if word.is_none() {
        pr_err!(
            "{}: fence {}:{} was not issued by timeline {:?}\n",
            what,
            fence.context(),
            fence.seqno(),
            tl.timeline.timeline_name()
        );
    }
    word
}

/// Sets the private pointer of a fence; see `rust_fence_set_private()` in the header.
///
/// # Safety
///
/// As for `rust_fence_signal()`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_set_private(
    tl: *mut CTimeline,
    fence: *mut bindings::dma_fence,
    private: *mut c_void,
) -> c_int {
    // SAFETY: Guaranteed by the caller.
    match unsafe { private_word("rust_fence_set_private", tl, fence) } {
        Some(word) => {
            // The word is plain data: the pointer is stored, never followed.
            word.store(private as usize as u64, kernel::sync::atomic::Relaxed);
            0
        }
        None => EINVAL.to_errno(),
    }
}

/// Reads the private pointer of a fence; see `rust_fence_private()` in the header.
///
/// # Safety
///
/// As for `rust_fence_signal()`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_private(
    tl: *mut CTimeline,
    fence: *mut bindings::dma_fence,
) -> *mut c_void {
    // SAFETY: Guaranteed by the caller.
    match unsafe { private_word("rust_fence_private", tl, fence) } {
        Some(word) => word.load(kernel::sync::atomic::Relaxed) as usize as *mut c_void,
        None => core::ptr::null_mut(),
    }
}

fn signal(tl: &CTimeline, fence: &Fence, error: c_int) -> Result {
    let error = match error {
        0 => None,
        e if (-MAX_ERRNO..0).contains(&e) => Some(Error::from_errno(e)),
        e => {
            pr_err!("rust_fence_signal: {} is not 0 or a negative errno\n", e);
            return Err(EINVAL);
        }
    };
    let result = error.map_or(Ok(()), Err);
    tl.timeline.signal_owned(fence, result).inspect_err(|_| {
        pr_err!(
            "rust_fence_signal: fence {}:{} is not a pending fence of timeline {:?}\n",
            fence.context(),
            fence.seqno(),
            tl.timeline.timeline_name()
        )
    })
}

/// Signals a fence; see `rust_fence_signal()` in the header.
///
/// # Safety
///
/// `tl` must be NULL, an error, or a live timeline of this API; `fence` must be NULL, an error,
/// or a fence the caller holds a reference to.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_signal(
    tl: *mut CTimeline,
    fence: *mut bindings::dma_fence,
    error: c_int,
) -> c_int {
    if is_err_or_null(tl) || is_err_or_null(fence) {
        pr_err!(
            "rust_fence_signal: invalid timeline {:p} or fence {:p}\n",
            tl,
            fence
        );
        return EINVAL.to_errno();
    }
    // SAFETY: Guaranteed by the caller.
    let (tl, fence) = unsafe { (&*tl, Fence::from_raw(fence)) };
    from_result(|| signal(tl, fence, error).map(|()| 0))
}

/// Installs a sync_file fd; see `rust_fence_sync_file_fd()` in the header.
///
/// # Safety
///
/// `fence` must be NULL, an error, or a fence the caller holds a reference to.
#[no_mangle]
pub(crate) unsafe extern "C" fn rust_fence_sync_file_fd(
    fence: *mut bindings::dma_fence,
    flags: c_uint,
) -> c_int {
    if is_err_or_null(fence) || flags & !bindings::O_CLOEXEC != 0 {
        pr_err!(
            "rust_fence_sync_file_fd: invalid fence {:p} or flags {:#x}\n",
            fence,
            flags
        );
        return EINVAL.to_errno();
    }
    // SAFETY: Guaranteed by the caller.
    let fence = unsafe { Fence::from_raw(fence) };
    from_result(|| Ok(fence.export_sync_file(flags)? as c_int))
}
