// SPDX-License-Identifier: GPL-2.0

//! KUnit suite of rust_fence, run when the module loads (KUnit built in).
//!
//! It covers, through the Rust types, what the kernel's own `dma-buf-fence` suite
//! (drivers/dma-buf/st-dma-fence.c) covers for C fences, plus what only this crate promises:
//! detaching on signal, names through an RCU guard, 64-bit seqnos, cancel on drop.

use kernel::prelude::*;

#[kunit_tests(rust_fence)]
mod tests {
    use kernel::prelude::*;
    use kernel::sync::atomic::{Atomic, Relaxed};
    use kernel::sync::{new_mutex, Mutex};
    use kernel::sync::{rcu, Arc, Completion};
    use kernel::workqueue::{impl_has_work, new_work, Work, WorkItem};

    use crate::{
        CompleteOnSignal, DriverFence, Fence, FenceOps, Interruptible, ProviderRegistration,
        QueueWorkOnSignal, Registration, SignallingSection, Timeline, WaitError,
    };

    /// A callback counting its runs.
    fn counter() -> Result<Arc<Atomic<i32>>> {
        Ok(Arc::new(Atomic::new(0), GFP_KERNEL)?)
    }

    fn count_into(runs: &Arc<Atomic<i32>>) -> impl Fn(&Fence) + Send + Sync {
        let runs = runs.clone();
        move |_fence: &Fence| {
            runs.fetch_add(1, Relaxed);
        }
    }

    /// A work item for `QueueWorkOnSignal`.
    #[pin_data]
    struct Job {
        #[pin]
        work: Work<Job>,
        #[pin]
        done: Completion,
    }

    impl_has_work! {
        impl HasWork<Self> for Job { self.work }
    }

    impl WorkItem for Job {
        type Pointer = Arc<Job>;

        fn run(this: Arc<Job>) {
            this.done.complete_all();
        }
    }

    /// A work item that signals a fence, queued by a callback of another fence.
    #[pin_data]
    struct SignalJob {
        #[pin]
        work: Work<SignalJob>,
        #[pin]
        fence: Mutex<Option<DriverFence<TestOps>>>,
    }

    impl_has_work! {
        impl HasWork<Self> for SignalJob { self.work }
    }

    impl WorkItem for SignalJob {
        type Pointer = Arc<SignalJob>;

        fn run(this: Arc<SignalJob>) {
            let fence = this.fence.lock().take();
            if let Some(fence) = fence {
                fence.signal();
            }
        }
    }

    /// Test issuer: records deadlines and answers `signaled` from a flag.
    struct TestOps {
        deadline: Atomic<i64>,
        done: Atomic<bool>,
    }

    #[vtable]
    impl FenceOps for TestOps {
        fn signaled(timeline: &Self, _fence: &crate::Fence) -> bool {
            timeline.done.load(Relaxed)
        }

        fn set_deadline(timeline: &Self, _fence: &crate::Fence, deadline_ns: i64) {
            timeline.deadline.store(deadline_ns, Relaxed);
        }
    }

    /// Test issuer with a module-pinning table.
    struct PinnedOps;

    #[vtable]
    impl FenceOps for PinnedOps {
        const PINS_MODULE: bool = true;
    }

    /// References held on this module (rust_fence) once the timeline frees in flight are done.
    fn module_refs() -> i32 {
        // SAFETY: No preconditions; the tests run in process context.
        unsafe { crate::ffi::rust_fence_helper_free_wq_flush() };
        let module = kernel::module::this_module::<crate::RustFenceModule>().as_ptr();
        // SAFETY: `module` is this module, which is loaded while its tests run.
        unsafe { kernel::bindings::module_refcount(module) }
    }

    fn timeline() -> Result<Timeline<TestOps>> {
        Timeline::new(
            &crate::library_provider()?,
            c"rust_fence_test",
            c"kunit",
            TestOps {
                deadline: Atomic::new(0),
                done: Atomic::new(false),
            },
        )
    }

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

    /// Test issuer with a 32-bit counter, like sw_sync.
    struct Seqno32Ops;

    #[vtable]
    impl FenceOps for Seqno32Ops {
        const SEQNO_64: bool = false;
    }

    #[test]
    fn seqno32_wraps() -> Result {
        let tl = Timeline::new(
            &crate::library_provider()?,
            c"rust_fence_test",
            c"seqno32",
            Seqno32Ops,
        )?;
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
    fn add_callback() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let runs = counter()?;
        let reg = match f.fence().add_callback(count_into(&runs), GFP_KERNEL)? {
            Registration::Pending(reg) => reg,
            Registration::Signalled(_) => return Err(EINVAL),
        };
        assert_eq!(runs.load(Relaxed), 0);
        f.signal();
        assert_eq!(runs.load(Relaxed), 1);
        // It ran, so there is nothing left to remove.
        assert!(!reg.remove());
        Ok(())
    }

    #[test]
    fn late_add_hands_callback_back() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        f.signal();
        let runs = counter()?;
        let handed_back = matches!(
            shared.add_callback(count_into(&runs), GFP_KERNEL)?,
            Registration::Signalled(_)
        );
        assert!(handed_back);
        assert_eq!(runs.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn remove_callback() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let runs = counter()?;
        let removed = match f.fence().add_callback(count_into(&runs), GFP_KERNEL)? {
            Registration::Pending(reg) => reg.remove(),
            Registration::Signalled(_) => false,
        };
        assert!(removed);
        f.signal();
        assert_eq!(runs.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn dropped_registration_never_runs() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let runs = counter()?;
        drop(f.fence().add_callback(count_into(&runs), GFP_KERNEL)?);
        f.signal();
        assert_eq!(runs.load(Relaxed), 0);
        Ok(())
    }

    #[test]
    fn complete_on_signal() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let _reg = f
            .fence()
            .add_callback(CompleteOnSignal(done.clone()), GFP_KERNEL)?;
        crate::library_queue().try_spawn(GFP_KERNEL, move || {
            f.signal();
        })?;
        // Returns only once the other thread signalled.
        done.wait_for_completion();
        Ok(())
    }

    #[test]
    fn queue_work_on_signal() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let job = Arc::pin_init(
            pin_init!(Job {
                work <- new_work!("rust_fence_kunit::Job"),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )?;
        let _reg = f.fence().add_callback(
            QueueWorkOnSignal::new(crate::library_queue(), job.clone()),
            GFP_KERNEL,
        )?;
        f.signal();
        job.done.wait_for_completion();
        Ok(())
    }

    /// A fence signalled because another one did, the way the callbacks' documentation says: not
    /// from the callback, which would nest two inline fence locks of one lockdep class, but from
    /// a work item the callback queues.
    #[test]
    fn signal_from_callback_through_work() -> Result {
        let tl = timeline()?;
        let first = tl.issue(tl.prealloc()?, ());
        let second = tl.issue(tl.prealloc()?, ());
        let shared = second.fence_ref();
        let job = Arc::pin_init(
            pin_init!(SignalJob {
                work <- new_work!("rust_fence_kunit::SignalJob"),
                fence <- new_mutex!(Some(second)),
            }),
            GFP_KERNEL,
        )?;
        let _reg = first.fence().add_callback(
            QueueWorkOnSignal::new(crate::library_queue(), job),
            GFP_KERNEL,
        )?;
        assert!(!shared.is_signaled());
        first.signal();
        // The work runs soon on another worker: 100 jiffies are at least a second.
        assert!(shared.wait_timeout(Interruptible::No, 100).is_ok());
        assert_eq!(shared.error(), Ok(()));
        Ok(())
    }

    /// One thread signals while this one registers callbacks: each callback either runs exactly
    /// once or is handed back, never both, never neither.
    #[test]
    fn signal_callback_race() -> Result {
        const CALLBACKS: i32 = 200;
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        let signalled = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let signalled2 = signalled.clone();
        let runs = counter()?;
        let mut regs = KVec::new();
        let mut handed_back = 0;
        crate::library_queue().try_spawn(GFP_KERNEL, move || {
            f.signal();
            signalled2.complete_all();
        })?;
        for _ in 0..CALLBACKS {
            match shared.add_callback(count_into(&runs), GFP_KERNEL)? {
                Registration::Pending(reg) => regs.push(reg, GFP_KERNEL)?,
                Registration::Signalled(_) => handed_back += 1,
            }
        }
        signalled.wait_for_completion();
        pr_info!(
            "signal_callback_race: {} callbacks ran, {} were handed back\n",
            runs.load(Relaxed),
            handed_back
        );
        assert_eq!(runs.load(Relaxed) + handed_back, CALLBACKS);
        assert_eq!(runs.load(Relaxed), regs.len() as i32);
        Ok(())
    }

    #[test]
    fn signalling_section() -> Result {
        let tl = timeline()?;
        let f = tl.issue(tl.prealloc()?, ());
        let shared = f.fence_ref();
        {
            let _section = SignallingSection::begin();
            f.signal();
        }
        assert!(shared.is_signaled());
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

    /// Stands for another module: the `THIS_MODULE` of built-in code.
    // SAFETY: NULL is the `THIS_MODULE` of code built into the kernel.
    static OTHER_MODULE: ThisModule = unsafe { ThisModule::from_ptr(core::ptr::null_mut()) };

    /// A timeline's ops and data drop are compiled into the module creating it, so only the
    /// provider's own module may create its timelines.
    #[test]
    fn timeline_of_another_module_refused() -> Result {
        let registration = ProviderRegistration::new(&OTHER_MODULE, c"kunit_other", |_| Ok(()))?;
        let refused = Timeline::new(registration.provider(), c"rust_fence_test", c"x", PinnedOps);
        assert_eq!(refused.err(), Some(EINVAL));
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
        assert_eq!(
            tl.signal_owned_where(|f| (f.seqno() <= 2).then_some(Ok(()))),
            2
        );
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
