// SPDX-License-Identifier: GPL-2.0

//! rf_bench: in-kernel microbenchmarks of rust_fence against the dma_fence C API.
//!
//! This file holds the Rust halves of the benchmark pairs: each function runs one benchmark loop
//! through the public API of rust_fence, as a Rust driver would write it. The C halves, the
//! timing harness (threads, runs, medians) and the debugfs interface are in `rf_bench_c.c`,
//! which calls these functions once per run with the state [`rf_bench_rs_setup`] made for its
//! thread: only the loop itself is in the timed region, in the language it measures.
//!
//! The C side calls in through `rf_bench.h`; the `unsafe` here is that FFI boundary, nothing
//! else.

use core::ffi::c_void;
use core::ptr::{
    self,
    NonNull, //
};

use kernel::bindings;
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};
use rust_fence::{
    DriverFence,
    Fence,
    FenceCallbackFn,
    FenceOps,
    Interruptible,
    Provider,
    ProviderRegistration,
    Registration,
    SyncFileFd,
    Timeline, //
};

module! {
    type: RfBench,
    name: "rf_bench",
    authors: ["rust-fence developers"],
    description: "Microbenchmarks of rust_fence against the dma_fence C API",
    license: "GPL",
}

/// The ops of the benchmark's fences: none of the optional ones, so the table detaches on
/// signal, like the C side's table that has only the two name callbacks.
struct BenchOps;

#[vtable]
impl FenceOps for BenchOps {}

/// Callbacks run by the callback benchmarks, counted so the compiler keeps them.
static FIRED: Atomic<u64> = Atomic::new(0);

/// Counts its run, as the C callback does.
struct Fired;

impl FenceCallbackFn for Fired {
    fn signalled(&self, _fence: &Fence) {
        FIRED.fetch_add(1, Relaxed);
    }
}

/// The state of one benchmark thread: its timeline and two fences of it.
struct State {
    timeline: Timeline<BenchOps>,
    /// A pending fence, for get/put, `is_signaled`, callbacks and sync_file exports.
    pending: Option<DriverFence<BenchOps>>,
    /// A signalled fence, for `is_signaled`.
    signalled: ARef<Fence>,
}

impl State {
    fn new(provider: &Provider) -> Result<Self> {
        let timeline = Timeline::new(provider, c"rf_bench", c"rust", BenchOps)?;
        let pending = timeline.issue(timeline.prealloc()?, ());
        let done = timeline.issue(timeline.prealloc()?, ());
        let signalled = done.fence_ref();
        done.signal();
        Ok(Self {
            timeline,
            pending: Some(pending),
            signalled,
        })
    }

    fn pending(&self) -> &Fence {
        // `pending` is only taken out in `drop`.
        self.pending
            .as_ref()
            .map(|f| f.fence())
            .unwrap_or_else(|| unreachable!())
    }

    /// (a) allocate, initialise, signal and put a fence.
    fn alloc_signal(&self, iters: u64) -> Result {
        for _ in 0..iters {
            let fence = self.timeline.issue(self.timeline.prealloc()?, ());
            fence.signal();
        }
        Ok(())
    }

    /// (b) take and drop a reference.
    fn get_put(&self, iters: u64) -> Result {
        let fence = self.pending();
        for _ in 0..iters {
            drop(core::hint::black_box(ARef::from(fence)));
        }
        Ok(())
    }

    /// (c) `is_signaled` on the pending fence.
    fn is_signaled_pending(&self, iters: u64) -> Result {
        Self::is_signaled(self.pending(), iters, false)
    }

    /// (c) `is_signaled` on the signalled fence.
    fn is_signaled_signalled(&self, iters: u64) -> Result {
        Self::is_signaled(&self.signalled, iters, true)
    }

    /// `is_signaled` on `fence`, which must answer `expect`.
    fn is_signaled(fence: &Fence, iters: u64, expect: bool) -> Result {
        let mut yes = 0u64;
        for _ in 0..iters {
            yes += u64::from(core::hint::black_box(fence).is_signaled());
        }
        if yes != if expect { iters } else { 0 } {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// (d) a new fence, a callback on it, the signal that runs the callback, the put.
    fn callback_signal(&self, iters: u64) -> Result {
        for _ in 0..iters {
            let fence = self.timeline.issue(self.timeline.prealloc()?, ());
            let Registration::Pending(registration) =
                fence.fence().add_callback(Fired, GFP_KERNEL)?
            else {
                return Err(EINVAL);
            };
            fence.signal();
            drop(registration);
        }
        Ok(())
    }

    /// (d') add a callback to a pending fence and remove it.
    fn callback_add_remove(&self, iters: u64) -> Result {
        let fence = self.pending();
        for _ in 0..iters {
            let Registration::Pending(registration) = fence.add_callback(Fired, GFP_KERNEL)? else {
                return Err(EINVAL);
            };
            drop(registration);
        }
        Ok(())
    }

    /// (g) export to a sync_file without installing an fd: reserve an fd, create the file,
    /// drop both (the C harness flushes the deferred file release inside the timed region).
    fn sync_file(&self, iters: u64) -> Result {
        let fence = self.pending();
        for _ in 0..iters {
            let mut fd = SyncFileFd::reserve(bindings::O_CLOEXEC)?;
            fd.attach(fence)?;
            drop(fd);
        }
        Ok(())
    }
}

impl Drop for State {
    fn drop(&mut self) {
        if let Some(fence) = self.pending.take() {
            fence.signal();
        }
    }
}

/// Fences held for the memory figures: pending ones, or the references kept after the signal.
struct Hold {
    pending: KVec<DriverFence<BenchOps>>,
    signalled: KVec<ARef<Fence>>,
}

/// Turns a `Result` into 0 or a negative errno for C.
fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Borrows the state of a thread.
///
/// # Safety
///
/// `state` comes from [`rf_bench_rs_setup`] and was not torn down; only its thread uses it.
unsafe fn state<'a>(state: *mut c_void) -> &'a State {
    // SAFETY: Guaranteed by the caller.
    unsafe { &*state.cast::<State>() }
}

/// Makes the state of one benchmark thread; NULL on error.
///
/// # Safety
///
/// `provider` is the provider [`RfBench`] handed to `rf_bench_c_init`.
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_setup(provider: *const c_void) -> *mut c_void {
    // SAFETY: The module keeps the provider alive until after `rf_bench_c_exit`.
    let provider = unsafe { &*provider.cast::<Provider>() };
    match State::new(provider).and_then(|s| Ok(KBox::new(s, GFP_KERNEL)?)) {
        Ok(state) => KBox::into_raw(state).cast(),
        Err(_) => ptr::null_mut(),
    }
}

/// Frees the state of a thread.
///
/// # Safety
///
/// `state` comes from [`rf_bench_rs_setup`] and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_teardown(state: *mut c_void) {
    // SAFETY: Guaranteed by the caller: the box is ours again.
    drop(unsafe { KBox::from_raw(state.cast::<State>()) });
}

/// Declares each `extern "C" fn $name(state, iters) -> errno` calling [`State`]'s `$method`.
macro_rules! bench_fn {
    ($($name:ident => $method:ident,)*) => {
        $(
            /// A benchmark loop: see the method of [`State`] it calls.
            ///
            /// # Safety
            ///
            /// `state` comes from [`rf_bench_rs_setup`] and is only used by the calling thread.
            #[no_mangle]
            pub unsafe extern "C" fn $name(state: *mut c_void, iters: u64) -> c_int {
                // SAFETY: Guaranteed by the caller.
                errno(unsafe { self::state(state) }.$method(iters))
            }
        )*
    };
}

bench_fn! {
    rf_bench_rs_alloc_signal => alloc_signal,
    rf_bench_rs_get_put => get_put,
    rf_bench_rs_is_signaled_pending => is_signaled_pending,
    rf_bench_rs_is_signaled_signalled => is_signaled_signalled,
    rf_bench_rs_callback_signal => callback_signal,
    rf_bench_rs_callback_add_remove => callback_add_remove,
    rf_bench_rs_sync_file => sync_file,
}

/// (e) Issues a fence for the wake-up benchmark; NULL on error.
///
/// # Safety
///
/// As for [`rf_bench_rs_alloc_signal`].
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_wake_issue(state: *mut c_void) -> *mut c_void {
    // SAFETY: Guaranteed by the caller.
    let s = unsafe { self::state(state) };
    let issue = || -> Result<KBox<DriverFence<BenchOps>>> {
        let fence = s.timeline.issue(s.timeline.prealloc()?, ());
        Ok(KBox::new(fence, GFP_KERNEL)?)
    };
    match issue() {
        Ok(fence) => KBox::into_raw(fence).cast(),
        Err(_) => ptr::null_mut(),
    }
}

/// Returns a new reference to the fence of a handle of [`rf_bench_rs_wake_issue`], for the
/// waiter.
///
/// # Safety
///
/// `handle` comes from [`rf_bench_rs_wake_issue`] and was not signalled yet.
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_wake_fence(handle: *mut c_void) -> *mut bindings::dma_fence {
    // SAFETY: Guaranteed by the caller.
    let fence = unsafe { &*handle.cast::<DriverFence<BenchOps>>() };
    ARef::into_raw(fence.fence_ref()).as_ptr().cast()
}

/// Signals the fence of a handle of [`rf_bench_rs_wake_issue`] and frees the handle.
///
/// # Safety
///
/// `handle` comes from [`rf_bench_rs_wake_issue`] and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_wake_signal(handle: *mut c_void) {
    // SAFETY: Guaranteed by the caller: the box is ours again.
    let fence = unsafe { KBox::from_raw(handle.cast::<DriverFence<BenchOps>>()) };
    KBox::into_inner(fence).signal();
}

/// Waits for a fence and drops the reference the caller passed in.
///
/// # Safety
///
/// `fence` is a fence reference owned by the caller (from [`rf_bench_rs_wake_fence`]), which
/// passes it on.
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_wake_wait(fence: *mut bindings::dma_fence) -> c_int {
    let Some(fence) = NonNull::new(fence) else {
        return EINVAL.to_errno();
    };
    // SAFETY: Guaranteed by the caller: the reference is ours.
    let fence = unsafe { Fence::from_raw_owned(fence) };
    match fence.wait(Interruptible::No) {
        Ok(r) => errno(r),
        Err(e) => Error::from(e).to_errno(),
    }
}

/// Issues `n` pending fences and holds them, for the memory figures; NULL on error.
///
/// # Safety
///
/// As for [`rf_bench_rs_alloc_signal`].
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_hold(state: *mut c_void, n: u64) -> *mut c_void {
    // SAFETY: Guaranteed by the caller.
    let s = unsafe { self::state(state) };
    let hold = || -> Result<KBox<Hold>> {
        let n = usize::try_from(n)?;
        let mut hold = KBox::new(
            Hold {
                pending: KVec::with_capacity(n, GFP_KERNEL)?,
                signalled: KVec::with_capacity(n, GFP_KERNEL)?,
            },
            GFP_KERNEL,
        )?;
        for _ in 0..n {
            let fence = s.timeline.issue(s.timeline.prealloc()?, ());
            hold.pending.push(fence, GFP_KERNEL)?;
        }
        Ok(hold)
    };
    match hold() {
        Ok(hold) => KBox::into_raw(hold).cast(),
        Err(_) => ptr::null_mut(),
    }
}

/// Signals the fences of a [`rf_bench_rs_hold`] and keeps only their references.
///
/// # Safety
///
/// `hold` comes from [`rf_bench_rs_hold`] and was not freed.
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_hold_signal(hold: *mut c_void) {
    // SAFETY: Guaranteed by the caller.
    let hold = unsafe { &mut *hold.cast::<Hold>() };
    while let Some(fence) = hold.pending.pop() {
        // Room for every fence was reserved: this cannot fail.
        let _ = hold.signalled.push(fence.fence_ref(), GFP_KERNEL);
        fence.signal();
    }
}

/// Frees a [`rf_bench_rs_hold`], signalling what is still pending.
///
/// # Safety
///
/// `hold` comes from [`rf_bench_rs_hold`] and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rf_bench_rs_hold_free(hold: *mut c_void) {
    // SAFETY: Guaranteed by the caller: the box is ours again.
    let mut hold = unsafe { KBox::from_raw(hold.cast::<Hold>()) };
    while let Some(fence) = hold.pending.pop() {
        fence.signal();
    }
}

/// Returns how many callbacks ran, for the C side to check.
#[no_mangle]
pub extern "C" fn rf_bench_rs_fired() -> u64 {
    FIRED.load(Relaxed)
}

extern "C" {
    fn rf_bench_c_init(provider: *const c_void) -> c_int;
    fn rf_bench_c_exit();
}

struct RfBench {
    /// Boxed, so that the C side can keep its address.
    provider: KBox<Provider>,
    _registration: ProviderRegistration<()>,
}

impl kernel::Module for RfBench {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let registration = ProviderRegistration::new(module, c"rf_bench", |_| Ok(()))?;
        let provider = KBox::new(registration.provider().clone(), GFP_KERNEL)?;
        let ctx: *const Provider = &*provider;
        // SAFETY: The provider lives in its box until `drop`, which calls `rf_bench_c_exit`
        // first.
        kernel::error::to_result(unsafe { rf_bench_c_init(ctx.cast()) })?;
        Ok(Self {
            provider,
            _registration: registration,
        })
    }
}

impl Drop for RfBench {
    fn drop(&mut self) {
        // SAFETY: `init` succeeded, so the C side was initialised; after this it no longer uses
        // the provider, whose box and registration are dropped next.
        unsafe { rf_bench_c_exit() };
        let _ = &self.provider;
    }
}
