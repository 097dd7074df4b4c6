// SPDX-License-Identifier: GPL-2.0

//! rf_misuse: safe code that breaks the rules a user of rust_fence might forget.
//!
//! Each scenario (module parameter `scenario`) does in safe code something that used to leave
//! code or memory of this module reachable after `rmmod`: `misuse_test` loads the module with
//! the scenario, unloads it, and checks that the kernel refused the unload, or that the fences
//! left behind are cancelled and detached, and that the kernel log stays clean. The scenarios
//! are safe code; the one `unsafe` block reads the module's own state for a check.

use kernel::prelude::*;
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};
use kernel::sync::{
    new_mutex,
    new_spinlock,
    Mutex,
    SpinLock, //
};
use kernel::time::delay::fsleep;
use kernel::time::Delta;
use rust_fence::{
    DriverFence,
    Fence,
    FenceCallbackFn,
    FenceOps,
    Provider,
    ProviderRegistration,
    Registration,
    Timeline, //
};

module! {
    type: RfMisuse,
    name: "rf_misuse",
    authors: ["rust-fence developers"],
    description: "Test module: misuse of rust_fence in safe code",
    license: "GPL",
    params: {
        scenario: u32 {
            default: 0,
            description: "What to do: see `Scenario`",
        },
        fence_fd: i32 {
            default: -1,
            description: "A sync_file fd of the loading process, for scenario 1",
        },
    },
}

/// What the module does; the numbers are those of `misuse_test.c`.
enum Scenario {
    /// Registers a callback on someone else's pending fence and leaks the registration.
    LeakCallback = 1,
    /// Keeps a timeline and a provider handle in fields dropped after the registration; their
    /// drop issues a fence, exports it to the unloading process and creates a timeline.
    OutliveRegistration = 2,
    /// Drops its registration in `init` while a signalled fence of a module-pinning timeline,
    /// exported to the loading process, lives on.
    PinnedAfterRegistration = 3,
    /// Timeline data that owns another timeline: the free of one queues the other's.
    ChainedFree = 4,
    /// Timeline data whose `Drop` sleeps.
    SleepingDrop = 5,
    /// Leaks its registration (`mem::forget`) with a pending fence exported to the loading
    /// process.
    LeakRegistration = 6,
    /// Drops the last reference to a timeline whose data's `Drop` sleeps while holding a
    /// spinlock, in a field dropped after the registration.
    DropUnderLockInExit = 7,
    /// Drops its registration, then a timeline whose data's `Drop` sleeps, then fails `init`.
    FailInitAfterRegistration = 8,
    /// Leaks a callback registration on someone else's pending fence, then fails `init`.
    LeakCallbackThenFail = 9,
    /// Exports a signalled fence of a module-pinning timeline to the loading process, drops its
    /// registration, then fails `init`.
    PinnedFenceThenFail = 10,
}

impl Scenario {
    fn from_param(value: u32) -> Result<Self> {
        Ok(match value {
            1 => Self::LeakCallback,
            2 => Self::OutliveRegistration,
            3 => Self::PinnedAfterRegistration,
            4 => Self::ChainedFree,
            5 => Self::SleepingDrop,
            6 => Self::LeakRegistration,
            7 => Self::DropUnderLockInExit,
            8 => Self::FailInitAfterRegistration,
            9 => Self::LeakCallbackThenFail,
            10 => Self::PinnedFenceThenFail,
            _ => {
                pr_err!("unknown scenario {}\n", value);
                return Err(EINVAL);
            }
        })
    }
}

/// Set by the module's last field to drop: code that runs afterwards runs after the module's
/// exit.
static EXITED: Atomic<i32> = Atomic::new(0);

/// The last field of the module.
struct ExitMarker;

impl Drop for ExitMarker {
    fn drop(&mut self) {
        EXITED.store(1, Relaxed);
    }
}

/// Reports where a drop of timeline data ran, if not before the module's exit.
///
/// After the exit, rust_fence may still run the drop of a timeline the module dropped in its
/// exit (the module notifier waits for it), but only until the kernel begins to free the
/// module: code of the module running then would run in freed memory a little later
/// (`free_module()` waits for an RCU grace period first, which usually hides such a bug).
fn report_late_drop(what: &str) {
    // SAFETY: `THIS_MODULE` is this module, whose code is running, so its `struct module`,
    // freed with that code, is still allocated. This is a diagnostic read, as `READ_ONCE()`
    // would be in C: `free_module()` may store `state` meanwhile (under `module_mutex`, which we
    // cannot take here), and either value of the `int` is fine for the report.
    let state = unsafe {
        let module = <RfMisuse as kernel::ModuleMetadata>::THIS_MODULE.as_ptr();
        core::ptr::read_volatile(&raw const (*module).state)
    };
    if state == kernel::bindings::module_state_MODULE_STATE_UNFORMED {
        pr_err!("{} dropped while the module was being freed\n", what);
    } else if EXITED.load(Relaxed) != 0 {
        pr_info!(
            "{} dropped after the module's exit, before it was freed\n",
            what
        );
    }
}

/// Detachable fences with no ops of their own.
struct Plain;

#[vtable]
impl FenceOps for Plain {}

impl Drop for Plain {
    fn drop(&mut self) {
        report_late_drop("timeline data");
    }
}

/// Fences that keep this module loaded until released.
struct Pinning;

#[vtable]
impl FenceOps for Pinning {
    const PINS_MODULE: bool = true;
}

impl Drop for Pinning {
    fn drop(&mut self) {
        report_late_drop("pinning timeline data");
    }
}

/// Timeline data owning another timeline.
struct Owner {
    _inner: Timeline<Plain>,
}

#[vtable]
impl FenceOps for Owner {}

impl Drop for Owner {
    fn drop(&mut self) {
        report_late_drop("owning timeline data");
    }
}

/// Timeline data whose drop sleeps (takes a mutex).
#[pin_data(PinnedDrop)]
struct Sleepy {
    #[pin]
    lock: Mutex<u32>,
}

#[vtable]
impl FenceOps for Sleepy {}

#[pinned_drop]
impl PinnedDrop for Sleepy {
    fn drop(self: Pin<&mut Self>) {
        report_late_drop("sleepy timeline data");
        *self.lock.lock() += 1;
        // Long enough that a module freed without waiting for this drop is gone before it ends:
        // the log line below is then missing when rmmod returns (or the kernel oopses).
        fsleep(Delta::from_millis(100));
        pr_info!("sleeping drop of timeline data ran\n");
    }
}

/// Registers [`Announce`] on the fence of the `fence_fd` parameter and leaks the registration.
fn leak_callback() -> Result {
    let fence = Fence::import_sync_file(module_parameters::fence_fd.value())?;
    match fence.add_callback(Announce, GFP_KERNEL)? {
        Registration::Pending(registration) => core::mem::forget(registration),
        Registration::Signalled(_) => return Err(EINVAL),
    }
    Ok(())
}

/// Exports a signalled fence of a module-pinning timeline to the loading process, then drops
/// the registration of its provider.
fn export_pinned_fence(module: &'static ThisModule) -> Result {
    let registration = ProviderRegistration::new(module, c"rf_misuse", |p| {
        Timeline::new(p, c"rf_misuse", c"pinned", Pinning)
    })?;
    let timeline = registration.state();
    let fence = timeline.issue(timeline.prealloc()?, ());
    let fd = fence.fence().export_sync_file(0)?;
    fence.signal();
    pr_info!("pinned fence exported as fd {}\n", fd);
    Ok(())
}

/// A timeline with [`Sleepy`] data that issued and signalled one fence.
fn sleepy_timeline(provider: &Provider, name: &CStr) -> Result<Timeline<Sleepy>> {
    let data = pin_init!(Sleepy {
        lock <- new_mutex!(0),
    });
    let timeline = Timeline::new(provider, c"rf_misuse", name, data)?;
    timeline.issue(timeline.prealloc()?, ()).signal();
    Ok(timeline)
}

/// Announces its run, from atomic context.
struct Announce;

impl FenceCallbackFn for Announce {
    fn signalled(&self, fence: &Fence) {
        pr_info!(
            "leaked callback ran on fence {}:{}\n",
            fence.context(),
            fence.seqno()
        );
    }
}

/// Fields dropped after the registration in scenario 2.
struct Late {
    timeline: Timeline<Plain>,
    provider: Provider,
}

impl Drop for Late {
    fn drop(&mut self) {
        // The registration is gone: the provider is closed.
        match Timeline::new(&self.provider, c"rf_misuse", c"late", Plain) {
            Err(e) if e == ENODEV => pr_info!("new timeline after the unload protocol: ENODEV\n"),
            Err(e) => pr_err!("new timeline after the unload protocol: {:?}\n", e),
            Ok(_) => pr_err!("new timeline after the unload protocol: created\n"),
        }
        let Ok(slot) = self.timeline.prealloc() else {
            return;
        };
        let fence: DriverFence<Plain> = self.timeline.issue(slot, ());
        // The unloading process (rmmod) gets the fence, to look at it after the unload.
        match fence.fence().export_sync_file(0) {
            Ok(fd) => pr_info!(
                "fence issued after the unload protocol exported as fd {}\n",
                fd
            ),
            Err(e) => pr_err!("cannot export the late fence: {:?}\n", e),
        }
        // `fence` and then the timeline are dropped here, after the registration.
    }
}

/// A timeline kept under a spinlock, and dropped under it (scenario 7).
#[pin_data(PinnedDrop)]
struct Locked {
    #[pin]
    timeline: SpinLock<Option<Timeline<Sleepy>>>,
}

#[pinned_drop]
impl PinnedDrop for Locked {
    fn drop(self: Pin<&mut Self>) {
        let mut guard = self.timeline.lock();
        // The last reference goes in atomic context: the data must still be dropped where it
        // may sleep.
        drop(guard.take());
        drop(guard);
    }
}

struct RfMisuse {
    // Dropped in declaration order: the registration first, then `late` (scenario 2) and
    // `locked` (scenario 7).
    _registration: Option<ProviderRegistration<()>>,
    _late: Option<Late>,
    _locked: Option<Pin<KBox<Locked>>>,
    _chain: Option<ProviderRegistration<Timeline<Owner>>>,
    _sleepy: Option<ProviderRegistration<Timeline<Sleepy>>>,
    _exit_marker: ExitMarker,
}

impl RfMisuse {
    fn empty() -> Self {
        Self {
            _registration: None,
            _late: None,
            _locked: None,
            _chain: None,
            _sleepy: None,
            _exit_marker: ExitMarker,
        }
    }
}

impl kernel::Module for RfMisuse {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let mut this = Self::empty();
        match Scenario::from_param(module_parameters::scenario.value())? {
            Scenario::LeakCallback => leak_callback()?,
            Scenario::PinnedFenceThenFail => {
                // The fence holds the timeline, whose free is queued when the fd is closed.
                export_pinned_fence(module)?;
                return Err(ENOMEDIUM);
            }
            Scenario::LeakCallbackThenFail => {
                leak_callback()?;
                return Err(ENOMEDIUM);
            }
            Scenario::OutliveRegistration => {
                let registration = ProviderRegistration::new(module, c"rf_misuse", |_| Ok(()))?;
                let provider = registration.provider().clone();
                this._late = Some(Late {
                    timeline: Timeline::new(&provider, c"rf_misuse", c"late", Plain)?,
                    provider,
                });
                this._registration = Some(registration);
            }
            Scenario::PinnedAfterRegistration => export_pinned_fence(module)?,
            Scenario::ChainedFree => {
                this._chain = Some(ProviderRegistration::new(module, c"rf_misuse", |p| {
                    let inner = Timeline::new(p, c"rf_misuse", c"inner", Plain)?;
                    inner.issue(inner.prealloc()?, ()).signal();
                    let outer = Timeline::new(p, c"rf_misuse", c"outer", Owner { _inner: inner })?;
                    outer.issue(outer.prealloc()?, ()).signal();
                    Ok(outer)
                })?);
            }
            Scenario::SleepingDrop => {
                this._sleepy = Some(ProviderRegistration::new(module, c"rf_misuse", |p| {
                    sleepy_timeline(p, c"sleepy")
                })?);
            }
            Scenario::DropUnderLockInExit => {
                let registration = ProviderRegistration::new(module, c"rf_misuse", |_| Ok(()))?;
                let timeline = sleepy_timeline(registration.provider(), c"locked")?;
                this._locked = Some(KBox::pin_init(
                    pin_init!(Locked {
                        timeline <- new_spinlock!(Some(timeline)),
                    }),
                    GFP_KERNEL,
                )?);
                this._registration = Some(registration);
            }
            Scenario::FailInitAfterRegistration => {
                let registration = ProviderRegistration::new(module, c"rf_misuse", |_| Ok(()))?;
                let timeline = sleepy_timeline(registration.provider(), c"failing")?;
                drop(registration);
                // Freed after the protocol, holding a reference on this module, which a failed
                // init does not wait for.
                drop(timeline);
                return Err(ENOMEDIUM);
            }
            Scenario::LeakRegistration => {
                let registration = ProviderRegistration::new(module, c"rf_misuse", |p| {
                    Timeline::new(p, c"rf_misuse", c"leaked", Plain)
                })?;
                let timeline = registration.state();
                let fence = timeline.issue(timeline.prealloc()?, ());
                let fd = fence.fence().export_sync_file(0)?;
                pr_info!(
                    "pending fence of a leaked registration exported as fd {}\n",
                    fd
                );
                core::mem::forget(fence);
                core::mem::forget(registration);
            }
        }
        Ok(this)
    }
}
