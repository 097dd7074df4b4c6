// SPDX-License-Identifier: GPL-2.0

//! Fence providers: the registration a module owns, and the unload protocol in one place.
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! A module that issues fences may unload while they live on only if nothing it issued, queued
//! or kept can run its code or reach its memory afterwards. Dropping a
//! [`ProviderRegistration`] makes sure of that, whatever safe code did before:
//!
//! 1. The provider closes: from now on a timeline of the provider issues fences that are already
//!    cancelled with `-ENODEV` and detached from its ops, and no new timeline can be created.
//! 2. Every pending fence is cancelled with `-ENODEV`, so the core has detached it from the
//!    module's ops tables. The provider tracks pending fences itself, so even a handle leaked
//!    with `mem::forget` is cancelled.
//! 3. The module's state is dropped.
//! 4. One RCU grace period passes (`synchronize_rcu()`), so a reader that loaded an ops pointer
//!    before the detach has left its read section and no longer runs module code.
//! 5. The timeline frees queued so far have run. Timeline data is freed in process context one
//!    grace period after its last reference is gone, by rust_fence's workqueue, and the free may
//!    queue further frees (data owning timelines): the registration waits until none is in
//!    flight. A timeline whose last reference is dropped later still is freed with a reference
//!    on the module held until the free ran; during the module's own exit, when no reference
//!    can be taken any more, the module notifier waits for its free after the exit, before
//!    the module's memory goes. Before the protocol, frees hold no module reference, so that
//!    `rmmod` right after a timeline was dropped does not fail: the protocol waits for them.
//!
//! The cost is one grace period whatever the number of fences.

use core::ptr::NonNull;

use kernel::bindings;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};
use kernel::sync::{
    rcu,
    Arc,
    SpinLockIrq, //
};
use kernel::time::{
    Delta,
    Instant,
    Monotonic, //
};
use kernel::types::Opaque;
use kernel::ThisModule;

use crate::ffi;
use crate::module_ref::ModuleRef;
use crate::timeline::TimelineHeader;

kernel::sync::global_lock! {
    // SAFETY: Initialised in the module's init, before any provider can be registered.
    unsafe(uninit) static OPEN_PROVIDERS: Mutex<KVec<Arc<ProviderInner>>> = KVec::new();
}

/// Prepares the registry of open providers; called once from rust_fence's init.
///
/// # Safety
///
/// Called once, before any registration.
pub(crate) unsafe fn init_registry() {
    // SAFETY: Guaranteed by the caller.
    unsafe { OPEN_PROVIDERS.init() };
}

/// Frees the registry's memory; rust_fence's exit calls it when no provider is left.
pub(crate) fn free_registry() {
    drop(core::mem::take(&mut *OPEN_PROVIDERS.lock()));
}

/// The state of a provider under its lock.
pub(crate) struct ProviderState {
    /// How many timelines the provider has.
    timeline_count: u64,
    /// Fences issued by the timelines freed already.
    retired_issued: u64,
    /// Timeline frees queued and not finished.
    frees_in_flight: usize,
    /// Set once the unload protocol waited for the frees: a free without a module reference
    /// would no longer be waited for.
    drained: bool,
}

/// The shared state of a provider.
///
/// Pending fences are tracked per timeline, in a list through their own allocation, so issuing
/// and completing a fence touch only its timeline's lock; the provider's lock covers the list of
/// timelines, which changes when one is created or freed.
///
/// # Invariants
///
/// - `module` is the module that owns the registration; the timelines of the provider have their
///   ops and their data's drop code in it.
/// - `timelines` links the `TimelineHeader`s of the provider's timelines until they are freed;
///   it is only used under `state`'s lock.
#[pin_data]
pub struct ProviderInner {
    pub(crate) name: CString,
    module: ModuleRef,
    /// Set to 1 by the unload protocol: no fence may use the provider's ops from then on. Read by
    /// issuers under their timeline's lock, which orders it against the protocol's sweep.
    closed: Atomic<i32>,
    /// Fences of module-pinning tables not released yet.
    pub(crate) pinned: Atomic<u64>,
    /// The `provider_link`s of the provider's timelines that are not freed yet.
    #[pin]
    timelines: Opaque<bindings::list_head>,
    #[pin]
    state: SpinLockIrq<ProviderState>,
}

// SAFETY: `timelines` is only used under the lock, from any thread; the rest is `Send`.
unsafe impl Send for ProviderInner {}

// SAFETY: Shared access to `timelines` happens under the lock; the rest is `Sync`.
unsafe impl Sync for ProviderInner {}

/// How a queued timeline free keeps the provider's module loaded until it ran.
///
/// Every free runs one grace period after the timeline's last reference is gone, in process
/// context, on rust_fence's free workqueue: a fence signalled just before, by a thread that held
/// that reference, may still be read by an ops callback that loaded its ops pointer earlier.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub(crate) enum Free {
    /// Before the unload protocol waited for the frees: it waits for this one.
    Unpinned = 0,
    /// Later: a reference on the module is held for it, dropped after the free. Counted in
    /// [`LATE_FREES`] too: a module whose init fails is freed whatever references it has.
    Pinned = 1,
    /// Later still, in the module's exit, when no reference can be taken: counted in
    /// [`LATE_FREES`]. The free runs the module's code (the data's `drop`), so it cannot run
    /// at once instead: the last reference may be dropped in atomic context, and a fence
    /// signalled by its holder just before may still be read.
    InExit = 2,
}

impl Free {
    pub(crate) fn from_i32(kind: i32) -> Self {
        match kind {
            1 => Free::Pinned,
            2 => Free::InExit,
            _ => Free::Unpinned,
        }
    }
}

/// Timeline frees queued after their provider's unload protocol, not run yet: the module
/// notifier waits for them when a module goes, before its memory is freed, whether its exit ran
/// (no reference could be taken on it: [`Free::InExit`]) or its init failed (the kernel then
/// frees it whatever references it has, those of [`Free::Pinned`] frees included).
static LATE_FREES: Atomic<usize> = Atomic::new(0);

impl ProviderInner {
    /// Returns the module that owns the provider.
    pub(crate) fn module(&self) -> ModuleRef {
        self.module
    }

    /// Whether the unload protocol has begun; see `closed`.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Relaxed) != 0
    }

    /// Links a new timeline, unless the provider is closed.
    ///
    /// # Safety
    ///
    /// `header` is a new timeline of this provider, not linked yet, that stays alive until
    /// [`ProviderInner::remove_timeline`].
    pub(crate) unsafe fn add_timeline(&self, header: &TimelineHeader) -> Result {
        let mut state = self.state.lock();
        if self.is_closed() {
            return Err(ENODEV);
        }
        // SAFETY: Both lists heads are valid; the provider's list is protected by its lock.
        unsafe {
            ffi::rust_fence_helper_list_add_tail(header.provider_link(), self.timelines.get())
        };
        state.timeline_count += 1;
        Ok(())
    }

    /// Unlinks a timeline about to be freed.
    ///
    /// # Safety
    ///
    /// `header` was linked by [`ProviderInner::add_timeline`] and has no reference left.
    pub(crate) unsafe fn remove_timeline(&self, header: &TimelineHeader) {
        let mut state = self.state.lock();
        // SAFETY: The link is on our list, protected by our lock.
        unsafe { ffi::rust_fence_helper_list_del_init(header.provider_link()) };
        state.timeline_count -= 1;
        state.retired_issued += header.issued();
    }

    /// Decides how a timeline whose last reference is gone is freed; see [`Free`].
    ///
    /// While the registration has not waited for the frees yet, it will wait for this one.
    /// Later, the provider's module may unload at any time: the free holds a reference on it,
    /// or, if the module is in its exit and none can be taken, the module notifier waits for it.
    pub(crate) fn begin_free(&self) -> Free {
        let mut state = self.state.lock();
        let free = if !state.drained {
            Free::Unpinned
        } else if self.module.try_get() {
            Free::Pinned
        } else {
            Free::InExit
        };
        if free != Free::Unpinned {
            LATE_FREES.fetch_add(1, Relaxed);
        }
        state.frees_in_flight += 1;
        free
    }

    /// A queued timeline free has finished running the provider's code.
    pub(crate) fn end_free(&self, free: Free) {
        self.state.lock().frees_in_flight -= 1;
        if free != Free::Unpinned {
            LATE_FREES.fetch_sub(1, Relaxed);
        }
    }

    fn pending(&self) -> u64 {
        let mut pending = 0;
        self.find_timeline(|t| {
            pending += t.pending();
            false
        });
        pending
    }

    fn issued(&self) -> u64 {
        let mut issued = 0;
        self.find_timeline(|t| {
            issued += t.issued();
            false
        });
        issued + self.state.lock().retired_issued
    }

    /// Calls `f` on each timeline of the provider, under the provider's lock, until it returns
    /// `true`; returns that timeline.
    fn find_timeline(
        &self,
        mut f: impl FnMut(&TimelineHeader) -> bool,
    ) -> Option<NonNull<TimelineHeader>> {
        let _state = self.state.lock();
        let head = self.timelines.get();
        // SAFETY: The list is protected by our lock; its entries are the `provider_link`s of
        // live timeline headers (type invariants).
        unsafe {
            let mut link = (*head).next;
            while link != head {
                let header = TimelineHeader::from_provider_link(link);
                if f(&*header) {
                    return NonNull::new(header.cast_mut());
                }
                link = (*link).next;
            }
        }
        None
    }

    /// Cancels every pending fence with `-ENODEV`; returns how many. Called once the provider is
    /// closed, so no timeline tracks new fences meanwhile.
    fn cancel_pending(&self) -> u64 {
        let mut cancelled = 0;
        // Each timeline's lock is taken at least once after `closed` was set: an issuer holding
        // it either linked its fence before (and it is cancelled here) or sees `closed` after.
        while let Some(header) = self.find_timeline(|t| t.has_pending() && t.try_get()) {
            // SAFETY: `try_get` took a reference on the timeline, dropped here.
            unsafe {
                cancelled += header.as_ref().cancel_pending();
                TimelineHeader::put(header.as_ptr());
            }
        }
        cancelled
    }
}

/// A handle to a provider, used to create its [`Timeline`](crate::Timeline)s.
#[derive(Clone)]
pub struct Provider(pub(crate) Arc<ProviderInner>);

impl Provider {
    /// Returns the provider's name.
    pub fn name(&self) -> &CStr {
        &self.0.name
    }

    /// Returns the number of fences issued and not completed by their handle yet.
    pub fn pending(&self) -> u64 {
        self.0.pending()
    }

    /// Returns the number of fences of module-pinning tables not released yet: they keep
    /// pointing to the provider's ops after they signal.
    pub fn pinned(&self) -> u64 {
        self.0.pinned.load(Relaxed)
    }

    /// Returns the number of fences issued so far, except those issued after the unload
    /// protocol began (which are cancelled at once).
    pub fn issued(&self) -> u64 {
        self.0.issued()
    }

    /// Returns the number of timelines not freed yet.
    pub fn timelines(&self) -> u64 {
        self.0.state.lock().timeline_count
    }
}

/// A module's registration as a fence provider, owning the module's fence state `S`.
///
/// Dropping it runs the unload protocol (see the module documentation), which also drops `S`.
/// Whatever else the module still holds when it unloads (timelines, handles, a leaked
/// registration's provider) can no longer reach its code.
pub struct ProviderRegistration<S> {
    provider: Provider,
    state: Option<S>,
}

impl<S> ProviderRegistration<S> {
    /// Registers provider `name` of `module` (the module calling this, as given to its `init`)
    /// and builds its state with `init`, which gets the provider to create timelines with.
    pub fn new(
        module: &'static ThisModule,
        name: &CStr,
        init: impl FnOnce(&Provider) -> Result<S>,
    ) -> Result<Self> {
        let inner = register(module, name)?;
        let mut this = Self {
            provider: Provider(inner),
            state: None,
        };
        // On error, dropping `this` runs the unload protocol for what `init` issued.
        this.state = Some(init(&this.provider)?);
        Ok(this)
    }

    /// Returns the provider.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Returns the module's fence state.
    pub fn state(&self) -> &S {
        // The state is only taken out in `drop`.
        self.state.as_ref().unwrap_or_else(|| unreachable!())
    }
}

/// Allocates the shared state of a provider.
///
/// Not generic, so that the lock class and its name both live in rust_fence: lockdep keys a class
/// by the address of its static key and keeps its name, which a generic caller would place in the
/// registering module, gone after it unloads.
fn register(module: &'static ThisModule, name: &CStr) -> Result<Arc<ProviderInner>> {
    let name = CString::try_from(name)?;
    Arc::pin_init(
        pin_init!(ProviderInner {
            name,
            // INVARIANT: The module calling `ProviderRegistration::new` owns the registration.
            module: ModuleRef::from_this_module(module),
            closed: Atomic::new(0),
            pinned: Atomic::new(0),
            // INVARIANT: The list of timelines starts empty.
            // SAFETY: `list` is the list head, in place.
            timelines <- Opaque::ffi_init(|list| unsafe { ffi::rust_fence_helper_list_init(list) }),
            state <- kernel::new_spinlock_irq!(
                ProviderState {
                    timeline_count: 0,
                    retired_issued: 0,
                    frees_in_flight: 0,
                    drained: false,
                },
                "rust_fence_provider"
            ),
        }),
        GFP_KERNEL,
    )
    .and_then(|inner| {
        OPEN_PROVIDERS.lock().push(inner.clone(), GFP_KERNEL)?;
        Ok(inner)
    })
}

impl<S> Drop for ProviderRegistration<S> {
    fn drop(&mut self) {
        let closed = close(&self.provider.0);
        drop(self.state.take());
        finish(&self.provider.0, closed);
    }
}

/// What [`close`] did, for [`finish`] to report.
struct Closed {
    start: Instant<Monotonic>,
    cancelled: u64,
    cancel_time: Delta,
}

/// Steps 1 and 2 of the unload protocol: closes the provider and cancels its pending fences.
fn close(inner: &ProviderInner) -> Closed {
    let start = Instant::<Monotonic>::now();
    {
        let _state = inner.state.lock();
        inner.closed.store(1, Relaxed);
    }
    // Cancel first, with -ENODEV: dropping the state would cancel with -ECANCELED.
    let cancelled = inner.cancel_pending();
    Closed {
        start,
        cancelled,
        cancel_time: start.elapsed(),
    }
}

/// Steps 4 and 5 of the unload protocol, once the state is dropped: the grace period, then the
/// wait for the timeline frees.
fn finish(inner: &ProviderInner, closed: Closed) {
    let Closed {
        start,
        cancelled,
        cancel_time,
    } = closed;
    let state_time = start.elapsed();
    // Readers that loaded one of our ops pointers before the detach are done after this.
    rcu::synchronize_rcu();
    let grace_time = start.elapsed();
    // The frees queued so far, and those they queue, have run after this. Afterwards a free
    // is only queued with a module reference (`begin_free`).
    let mut rounds = 0;
    loop {
        {
            let mut state = inner.state.lock();
            if state.frees_in_flight == 0 {
                state.drained = true;
                break;
            }
        }
        // SAFETY: No preconditions; this function may sleep, as `drop` of a registration may.
        unsafe { ffi::rust_fence_helper_free_wq_flush() };
        rounds += 1;
    }
    OPEN_PROVIDERS
        .lock()
        .retain(|p| !core::ptr::eq::<ProviderInner>(&**p, inner));
    let elapsed = start.elapsed();
    pr_info!(
        "{}: unload protocol done in {} us (cancel {} us, state drop {} us, synchronize_rcu {} us, timeline frees {} us in {} rounds): {} issued, {} cancelled at unload, {} pinned fences alive, {} timelines alive\n",
        inner.name.to_str().unwrap_or("?"),
        elapsed.as_micros_ceil(),
        cancel_time.as_micros_ceil(),
        (state_time - cancel_time).as_micros_ceil(),
        (grace_time - state_time).as_micros_ceil(),
        (elapsed - grace_time).as_micros_ceil(),
        rounds,
        inner.issued(),
        cancelled,
        inner.pinned.load(Relaxed),
        inner.state.lock().timeline_count
    );
}

/// Runs the unload protocol of the providers that `module` left open: it exited (or failed to
/// initialise) without dropping their registrations, which safe code may leak (`mem::forget`, a
/// reference cycle, a static). Their state is leaked with them, but no fence stays attached to
/// the module's ops, and the notifier then waits for the timeline frees that run its code
/// ([`rust_fence_wait_late_frees`]).
///
/// # Safety
///
/// Called by the module notifier for `MODULE_STATE_GOING`, after the module's exit and before
/// its memory is freed.
#[no_mangle]
unsafe extern "C" fn rust_fence_module_going(module: *mut bindings::module) {
    let going = ModuleRef::from_raw(module.cast());
    loop {
        let provider = OPEN_PROVIDERS
            .lock()
            .iter()
            .find(|p| p.module == going)
            .cloned();
        let Some(provider) = provider else {
            break;
        };
        pr_err!(
            "{}: the module went without dropping its provider registration: running the unload protocol, its state is leaked\n",
            provider.name.to_str().unwrap_or("?")
        );
        let closed = close(&provider);
        finish(&provider, closed);
    }
}

/// Waits until no timeline free begun after its provider's protocol is in flight.
///
/// Timelines dropped after the registration, in the exit or in an init that then failed, are
/// freed by the workqueue with the module's code: the module notifier calls this when a module
/// goes, last, while that code is still there.
#[no_mangle]
extern "C" fn rust_fence_wait_late_frees() {
    while LATE_FREES.load(Relaxed) != 0 {
        // SAFETY: No preconditions; the module notifier runs in process context.
        unsafe { ffi::rust_fence_helper_free_wq_flush() };
    }
}

#[cfg(rust_fence_kunit)]
#[kernel::prelude::kunit_tests(rust_fence_provider)]
mod tests {
    use kernel::prelude::*;
    use kernel::ThisModule;

    use crate::kunit::{
        module_refs,
        timeline,
        PinnedOps, //
    };
    use crate::{
        ProviderRegistration,
        Timeline, //
    };

    /// Stands for another module: the `THIS_MODULE` of built-in code.
    // SAFETY: NULL is the `THIS_MODULE` of code built into the kernel.
    static OTHER_MODULE: ThisModule = unsafe { ThisModule::from_ptr(core::ptr::null_mut()) };

    /// After the unload protocol, a timeline still held issues fences that are already cancelled
    /// and detached, and no new timeline can be made.
    #[test]
    fn closed_provider_issues_cancelled_fences() -> Result {
        let module = kernel::module::this_module::<crate::RustFenceModule>();
        let registration = ProviderRegistration::new(module, c"kunit_closed", |_| Ok(()))?;
        let provider = registration.provider().clone();
        let tl = Timeline::new(&provider, c"rust_fence_test", c"closed", PinnedOps)?;
        let refs = module_refs();
        drop(registration);
        let f = tl.issue(tl.prealloc()?, ());
        assert_eq!(f.fence().status(), Some(Err(ENODEV)));
        assert!(!f.fence().is_attached());
        // Not even a pinning table pins the module for a fence issued closed.
        assert_eq!(module_refs(), refs);
        f.signal();
        assert_eq!(provider.pending(), 0);
        assert_eq!(
            Timeline::new(&provider, c"rust_fence_test", c"late", PinnedOps).err(),
            Some(ENODEV)
        );
        Ok(())
    }

    /// A timeline's ops and data drop are compiled into the module creating it, so only the
    /// provider's own module may create its timelines.
    #[test]
    fn timeline_of_another_module_refused() -> Result {
        let registration = ProviderRegistration::new(&OTHER_MODULE, c"kunit_other", |_| Ok(()))?;
        let refused = Timeline::new(registration.provider(), c"rust_fence_test", c"x", PinnedOps);
        assert_eq!(refused.err(), Some(EINVAL));
        Ok(())
    }

    #[test]
    fn provider_counts() -> Result {
        let tl = timeline()?;
        let provider = tl.provider().clone();
        let (issued, pending) = (provider.issued(), provider.pending());
        let f = tl.issue(tl.prealloc()?, ());
        assert_eq!(provider.issued(), issued + 1);
        assert_eq!(provider.pending(), pending + 1);
        f.signal();
        assert_eq!(provider.pending(), pending);
        Ok(())
    }
}
