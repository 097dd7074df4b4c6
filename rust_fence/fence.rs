// SPDX-License-Identifier: GPL-2.0

//! The shared, reference-counted view of a `struct dma_fence`.
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! Any module may hold a [`Fence`]: it can wait on it, read its state and
//! names, but never signal it. Only the issuer's
//! [`DriverFence`](crate::DriverFence) can.

use core::ptr::NonNull;

use kernel::bindings;
use kernel::fs::file::{
    File,
    FileDescriptorReservation, //
};
use kernel::prelude::*;
use kernel::sync::aref::{
    ARef,
    AlwaysRefCounted, //
};
use kernel::sync::rcu;
use kernel::task::MAX_SCHEDULE_TIMEOUT;
use kernel::time::Jiffies;
use kernel::types::Opaque;

use crate::ffi;

/// Whether a wait may be interrupted by a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruptible {
    /// A pending signal ends the wait with [`WaitError::Interrupted`].
    Yes,
    /// The wait ignores signals.
    No,
}

/// Why a wait ended before the fence signalled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitError {
    /// The timeout expired.
    TimedOut,
    /// A signal interrupted an interruptible wait (`-ERESTARTSYS`).
    Interrupted,
    /// The fence implementation reported another error.
    Other(Error),
}

impl From<WaitError> for Error {
    fn from(e: WaitError) -> Error {
        match e {
            WaitError::TimedOut => ETIMEDOUT,
            WaitError::Interrupted => ERESTARTSYS,
            WaitError::Other(e) => e,
        }
    }
}

/// A `struct dma_fence` seen by any holder.
///
/// # Invariants
///
/// The wrapped `dma_fence` was initialised with `dma_fence_init()` or
/// `dma_fence_init64()` and its reference count is non-zero for as long as
/// a `&Fence` exists.
#[repr(transparent)]
pub struct Fence(Opaque<bindings::dma_fence>);

// SAFETY: The C fence API may be used from any thread; `dma_fence_put` may be called from any
// context, so ownership of a reference can move between threads.
unsafe impl Send for Fence {}

// SAFETY: All methods taking `&self` go through the C API, which serialises state changes with the
// fence lock or atomic bit operations; immutable fields (context, seqno) are set before publication.
unsafe impl Sync for Fence {}

// SAFETY: By the type invariants a `Fence` is always reference counted through `kref`.
unsafe impl AlwaysRefCounted for Fence {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The existence of `&self` means the reference count is non-zero.
        unsafe { ffi::rust_fence_helper_get(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference; `Fence` is `repr(transparent)` over `dma_fence`.
        unsafe { ffi::rust_fence_helper_put(obj.cast().as_ptr()) };
    }
}

impl Fence {
    /// Borrows a [`Fence`] from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an initialised `dma_fence` whose reference count stays non-zero for
    /// the lifetime `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::dma_fence) -> &'a Fence {
        // SAFETY: `Fence` is `repr(transparent)`; the caller guarantees validity.
        unsafe { &*ptr.cast() }
    }

    /// Takes ownership of one reference held by a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an initialised `dma_fence` and the caller must own one reference to
    /// it, which is transferred to the returned [`ARef`].
    #[inline]
    pub unsafe fn from_raw_owned(ptr: NonNull<bindings::dma_fence>) -> ARef<Fence> {
        // SAFETY: Guaranteed by the caller; `Fence` is `repr(transparent)` over `dma_fence`.
        unsafe { ARef::from_raw(ptr.cast()) }
    }

    /// Returns the raw `struct dma_fence` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::dma_fence {
        self.0.get()
    }

    /// Returns the fence context (timeline) this fence belongs to.
    #[inline]
    pub fn context(&self) -> u64 {
        // SAFETY: `context` is set by `dma_fence_init*()` and never changes afterwards.
        unsafe { (*self.as_raw()).context }
    }

    /// Returns the sequence number of this fence on its timeline.
    #[inline]
    pub fn seqno(&self) -> u64 {
        // SAFETY: `seqno` is set by `dma_fence_init*()` and never changes afterwards.
        unsafe { (*self.as_raw()).seqno }
    }

    /// Returns whether the fence has signalled, asking the issuer's `signaled` op if needed.
    #[inline]
    pub fn is_signaled(&self) -> bool {
        // SAFETY: The fence is valid by the type invariants; the helper (`dma_fence_is_signaled`)
        // reads `ops` under RCU and checks it for NULL, as a detached fence has none.
        unsafe { ffi::rust_fence_helper_is_signaled(self.as_raw()) }
    }

    /// Returns the completion status: `None` while pending, `Some(Ok(()))` when signalled
    /// without error, `Some(Err(e))` when signalled with error `e`.
    pub fn status(&self) -> Option<Result> {
        // SAFETY: The fence is valid by the type invariants.
        let status = unsafe { bindings::dma_fence_get_status(self.as_raw()) };
        match status {
            0 => None,
            s if s > 0 => Some(Ok(())),
            e => Some(Err(Error::from_errno(e))),
        }
    }

    /// Returns the error the fence signalled with: `Ok(())` while pending or on success.
    pub fn error(&self) -> Result {
        self.status().unwrap_or(Ok(()))
    }

    /// Returns the signal time in nanoseconds of `CLOCK_MONOTONIC`, or `None` while pending.
    pub fn timestamp(&self) -> Option<i64> {
        // SAFETY: The fence is valid by the type invariants.
        if !unsafe { ffi::rust_fence_helper_test_signaled_flag(self.as_raw()) } {
            return None;
        }
        // SAFETY: The fence is valid and signalled, so the timestamp is (or is about to be) set.
        Some(unsafe { ffi::rust_fence_helper_timestamp(self.as_raw()) })
    }

    /// Returns whether this fence signals after `other` on their shared timeline.
    ///
    /// Fences of different contexts are not ordered: `Err(EINVAL)`.
    pub fn is_later(&self, other: &Fence) -> Result<bool> {
        if self.context() != other.context() {
            return Err(EINVAL);
        }
        // SAFETY: Both fences are valid and of the same context, so the helper does not WARN.
        Ok(unsafe { ffi::rust_fence_helper_is_later(self.as_raw(), other.as_raw()) })
    }

    /// Returns whether the fence still points to its issuer's ops table. It stops doing so
    /// ("detaches") when a fence whose ops have neither `release` nor `wait` signals.
    pub fn is_attached(&self) -> bool {
        // SAFETY: The fence is valid; the helper only compares the RCU pointer with NULL.
        unsafe { ffi::rust_fence_helper_has_ops(self.as_raw()) }
    }

    /// Waits until the fence signals, then returns its error status.
    pub fn wait(&self, intr: Interruptible) -> core::result::Result<Result, WaitError> {
        self.wait_timeout(intr, MAX_SCHEDULE_TIMEOUT as Jiffies)
            .map(|_| self.error())
    }

    /// Waits at most `timeout` jiffies; returns the jiffies left when the fence signalled.
    pub fn wait_timeout(
        &self,
        intr: Interruptible,
        timeout: Jiffies,
    ) -> core::result::Result<Jiffies, WaitError> {
        let timeout = timeout.min(MAX_SCHEDULE_TIMEOUT as Jiffies);
        // SAFETY: The fence is valid by the type invariants; `timeout` is within `0..=LONG_MAX`.
        let ret = unsafe {
            bindings::dma_fence_wait_timeout(
                self.as_raw(),
                intr == Interruptible::Yes,
                timeout as c_long,
            )
        };
        wait_result(ret)
    }

    /// Waits at most `timeout` jiffies until one of `fences` signals; returns its index and the
    /// jiffies left. An empty slice is `EINVAL`, like a timeout of zero with none signalled is
    /// [`WaitError::TimedOut`].
    pub fn wait_any(
        fences: &[&Fence],
        intr: Interruptible,
        timeout: Jiffies,
    ) -> core::result::Result<(usize, Jiffies), WaitError> {
        if fences.is_empty() {
            return Err(WaitError::Other(EINVAL));
        }
        let count = u32::try_from(fences.len()).map_err(|_| WaitError::Other(EINVAL))?;
        let mut raw =
            KVec::with_capacity(fences.len(), GFP_KERNEL).map_err(|_| WaitError::Other(ENOMEM))?;
        for f in fences {
            raw.push(f.as_raw(), GFP_KERNEL)
                .map_err(|_| WaitError::Other(ENOMEM))?;
        }
        let timeout = timeout.min(MAX_SCHEDULE_TIMEOUT as Jiffies);
        let mut idx = 0u32;
        // SAFETY: `raw` holds `count` valid fences, borrowed for the call, and `idx` is a valid
        // place for the index.
        let ret = unsafe {
            bindings::dma_fence_wait_any_timeout(
                raw.as_mut_ptr(),
                count,
                intr == Interruptible::Yes,
                timeout as c_long,
                &mut idx,
            )
        };
        wait_result(ret).map(|left| (idx as usize, left))
    }

    /// Tells the issuer that the fence should signal by `deadline_ns` (`CLOCK_MONOTONIC`).
    pub fn set_deadline(&self, deadline_ns: i64) {
        // SAFETY: The fence is valid by the type invariants; `dma_fence_set_deadline` reads `ops`
        // under RCU and checks it for NULL.
        unsafe { bindings::dma_fence_set_deadline(self.as_raw(), deadline_ns) };
    }

    /// Returns the issuer's driver name.
    ///
    /// The name borrows both this fence reference and the RCU read section `guard`: the issuer
    /// may free its names one grace period after the fence signalled, or, if its ops have a
    /// `release`, as soon as the last reference is gone (the C sw_sync `kfree`s them there).
    /// After the fence signalled the core answers `"detached-driver"`, since the issuer may be
    /// gone.
    pub fn driver_name<'a>(&'a self, _guard: &'a rcu::Guard) -> &'a CStr {
        // SAFETY: The fence is valid by the type invariants and the RCU read lock is held (the
        // guard exists), which is what `dma_fence_driver_name()` requires.
        let name = unsafe { bindings::dma_fence_driver_name(self.as_raw()) };
        // SAFETY: The core returns a NUL-terminated string that stays valid while the read
        // section lasts and the fence is not released. `'a` is bounded by both the guard and
        // the borrow of `self`, which holds a reference to the fence for that long.
        unsafe { CStr::from_char_ptr(name) }
    }

    /// Returns the timeline name; borrows the fence and `guard` as [`Fence::driver_name`] does.
    ///
    /// After the fence signalled the core answers `"signaled-timeline"`.
    pub fn timeline_name<'a>(&'a self, _guard: &'a rcu::Guard) -> &'a CStr {
        // SAFETY: The fence is valid and the RCU read lock is held (the guard exists).
        let name = unsafe { bindings::dma_fence_timeline_name(self.as_raw()) };
        // SAFETY: As in `driver_name`: valid while both the guard and the borrow of `self` last.
        unsafe { CStr::from_char_ptr(name) }
    }

    /// Installs a new sync_file holding this fence in a new fd of the current process, at once;
    /// [`SyncFileFd`] splits that in steps for ioctls that copy the fd number out first.
    ///
    /// `flags` are the `open(2)` flags of the new fd, e.g. `O_CLOEXEC`.
    pub fn export_sync_file(&self, flags: u32) -> Result<u32> {
        let mut fd = SyncFileFd::reserve(flags)?;
        fd.attach(self)?;
        fd.install()
    }

    /// Returns the fence behind a sync_file fd of the current process, or `EINVAL` if `fd` is
    /// not an open sync_file.
    pub fn import_sync_file(fd: i32) -> Result<ARef<Fence>> {
        // SAFETY: Any fd value is accepted; the helper returns NULL for a bad one.
        let ptr = unsafe { ffi::rust_fence_helper_sync_file_get_fence(fd) };
        let ptr = NonNull::new(ptr).ok_or(EINVAL)?;
        // SAFETY: `sync_file_get_fence` returned a new reference that we now own.
        Ok(unsafe { Fence::from_raw_owned(ptr) })
    }
}

/// Maps the return value of `dma_fence_wait_timeout()`.
fn wait_result(ret: c_long) -> core::result::Result<Jiffies, WaitError> {
    match ret {
        r if r > 0 => Ok(r as Jiffies),
        // With a zero timeout the core returns 1 for a signalled fence and 0 otherwise, so 0
        // always means "not signalled in time".
        0 => Err(WaitError::TimedOut),
        r if r == -(bindings::ERESTARTSYS as c_long) => Err(WaitError::Interrupted),
        r => Err(WaitError::Other(Error::from_errno(r as c_int))),
    }
}

/// A file descriptor reserved for a sync_file, installed only once everything else worked.
///
/// The usual ioctl order is: reserve the fd (may fail with `EMFILE`), create the sync_file
/// ([`SyncFileFd::attach`], may fail with `ENOMEM`), copy the fd number to userspace (may fail
/// with `EFAULT`), and only then [`SyncFileFd::install`] it: once installed, an fd cannot be
/// taken back. Dropping it before installing frees the fd and the sync_file.
pub struct SyncFileFd {
    reservation: FileDescriptorReservation,
    file: Option<ARef<File>>,
}

impl SyncFileFd {
    /// Reserves a file descriptor with the `open(2)` flags `flags` (e.g. `O_CLOEXEC`).
    pub fn reserve(flags: u32) -> Result<Self> {
        Ok(Self {
            reservation: FileDescriptorReservation::get_unused_fd_flags(flags)?,
            file: None,
        })
    }

    /// Returns the reserved file descriptor number.
    pub fn fd(&self) -> u32 {
        self.reservation.reserved_fd()
    }

    /// Creates the sync_file holding (a new reference to) `fence`.
    pub fn attach(&mut self, fence: &Fence) -> Result {
        // SAFETY: The fence is valid; `sync_file_create` takes its own reference.
        let file = unsafe { ffi::rust_fence_helper_sync_file_create(fence.as_raw()) };
        let file = NonNull::new(file).ok_or(ENOMEM)?;
        // SAFETY: `sync_file_create` returned a new file whose one reference we now own, and
        // `File` is a transparent wrapper of `struct file`.
        self.file = Some(unsafe { ARef::from_raw(file.cast()) });
        Ok(())
    }

    /// Installs the sync_file in the reserved fd and returns the fd; `EINVAL` if nothing was
    /// attached.
    pub fn install(self) -> Result<u32> {
        let file = self.file.ok_or(EINVAL)?;
        let fd = self.reservation.reserved_fd();
        self.reservation.fd_install(file);
        Ok(fd)
    }
}

#[cfg(rust_fence_kunit)]
#[kernel::prelude::kunit_tests(rust_fence_fence)]
mod tests {
    use kernel::prelude::*;
    use kernel::sync::rcu;

    use crate::kunit::{
        timeline,
        timeline32, //
    };
    use crate::{
        Fence,
        Interruptible,
        WaitError, //
    };

    #[test]
    fn sanity() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        assert_eq!(f.fence().context(), tl.context());
        assert_eq!(f.fence().seqno(), 1);
        assert!(!f.fence().is_signaled());
        assert!(f.fence().status().is_none());
        assert!(f.fence().timestamp().is_none());
        assert!(f.fence().is_attached());
        f.signal();
        Ok(())
    }

    #[test]
    fn error_status() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        f.signal_with_error(EIO);
        assert!(shared.is_signaled());
        assert_eq!(shared.error(), Err(EIO));
        Ok(())
    }

    #[test]
    fn names_before_and_after_signal() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        {
            let guard = rcu::read_lock();
            assert_eq!(shared.driver_name(&guard), c"rust_fence_test");
            assert_eq!(shared.timeline_name(&guard), c"kunit");
        }
        f.signal();
        let guard = rcu::read_lock();
        assert_eq!(shared.driver_name(&guard), c"detached-driver");
        assert_eq!(shared.timeline_name(&guard), c"signaled-timeline");
        Ok(())
    }

    #[test]
    fn wait_timeout() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        assert_eq!(
            shared.wait_timeout(Interruptible::No, 1),
            Err(WaitError::TimedOut)
        );
        assert_eq!(
            shared.wait_timeout(Interruptible::Yes, 0),
            Err(WaitError::TimedOut)
        );
        f.signal();
        assert!(shared.wait_timeout(Interruptible::No, 10).is_ok());
        assert_eq!(shared.wait(Interruptible::Yes), Ok(Ok(())));
        Ok(())
    }

    #[test]
    fn seqno64_ordering() -> Result {
        let tl = timeline()?;
        // 2^31 + 1 apart: modulo 2^32, b would come *before* a.
        let a = tl.issue_at(tl.prealloc()?, 1, ());
        let b = tl.issue_at(tl.prealloc()?, (1 << 31) + 2, ());
        assert_eq!(b.fence().is_later(a.fence()), Ok(true));
        assert_eq!(a.fence().is_later(b.fence()), Ok(false));
        // Automatic numbers continue after the largest given.
        let c = tl.issue(tl.prealloc()?, ());
        assert_eq!(c.fence().seqno(), (1 << 31) + 3);
        let other = timeline()?;
        let d = other.issue(other.prealloc()?, ());
        assert_eq!(d.fence().is_later(a.fence()), Err(EINVAL));
        a.signal();
        b.signal();
        c.signal();
        d.signal();
        Ok(())
    }

    #[test]
    fn seqno32_wraps() -> Result {
        let tl = timeline32()?;
        let a = tl.issue_at(tl.prealloc()?, u64::from(u32::MAX), ());
        let b = tl.issue_at(tl.prealloc()?, 1, ());
        // Modulo 2^32, 1 comes after 0xffffffff.
        assert_eq!(b.fence().is_later(a.fence()), Ok(true));
        assert_eq!(a.fence().is_later(b.fence()), Ok(false));
        a.signal();
        b.signal();
        Ok(())
    }

    #[test]
    fn wait_any() -> Result {
        let tl = timeline()?;
        let a = tl.issue(tl.prealloc()?, ());
        let b = tl.issue(tl.prealloc()?, ());
        let (fa, fb) = (a.fence_ref(), b.fence_ref());
        assert_eq!(
            Fence::wait_any(&[&fa, &fb], Interruptible::No, 1),
            Err(WaitError::TimedOut)
        );
        b.signal();
        assert_eq!(
            Fence::wait_any(&[&fa, &fb], Interruptible::No, 10).map(|(i, _)| i),
            Ok(1)
        );
        assert_eq!(
            Fence::wait_any(&[], Interruptible::No, 10),
            Err(WaitError::Other(EINVAL))
        );
        a.signal();
        Ok(())
    }
}
