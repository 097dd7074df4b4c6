// SPDX-License-Identifier: GPL-2.0

//! Fence providers: the registration a module owns, and the unload protocol in one place.
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! A module that issues fences may unload while they live on only if, in this order:
//!
//! 1. every fence it issued is signalled (or cancelled with an error), so the core has detached
//!    it from the module's ops tables;
//! 2. one RCU grace period passes (`synchronize_rcu()`), so a reader that loaded an ops pointer
//!    before the detach has left its read section and no longer runs module code;
//! 3. the RCU callbacks the module queued (timeline data freed with `call_rcu()`) have run
//!    (`rcu_barrier()`), since their code lives in the module.
//!
//! [`ProviderRegistration`] does exactly that when it is dropped, after dropping the module's
//! state (its timelines and handles). It tracks the fences still pending by itself, so even a
//! handle leaked with `mem::forget` is cancelled. The cost is one grace period whatever the
//! number of fences.

use kernel::bindings;
use kernel::prelude::*;
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::str::CString;
use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::sync::{rcu, Arc, SpinLockIrq};
use kernel::time::{Delta, Instant, Monotonic};

use crate::ffi;

kernel::sync::global_lock! {
    // SAFETY: Initialised in the module's init, before any provider can be registered.
    pub(crate) unsafe(uninit) static PROVIDERS: Mutex<KVec<Arc<ProviderInner>>> = KVec::new();
}

/// What a provider has issued.
pub(crate) struct Stats {
    /// Fences issued.
    pub(crate) issued: Atomic<u64>,
    /// Fences whose issuer handle signalled or cancelled them.
    pub(crate) completed: Atomic<u64>,
    /// Fences still pointing to the provider's ops: pending ones, and signalled fences of
    /// module-pinning tables not released yet.
    pub(crate) attached: Atomic<u64>,
    /// Fences cancelled by the unload protocol.
    pub(crate) cancelled_at_unload: Atomic<u64>,
    /// Timelines not freed yet.
    pub(crate) timelines: Atomic<u64>,
}

/// The shared state of a provider.
#[pin_data]
pub struct ProviderInner {
    name: CString,
    pub(crate) stats: Stats,
    /// The fences not completed yet, by address, so unloading can cancel them. An entry exists
    /// only while the issuer handle holds a reference to the fence.
    #[pin]
    pub(crate) pending: SpinLockIrq<RBTree<usize, ()>>,
}

impl ProviderInner {
    /// Records a new pending fence; `node` was allocated ahead, so this cannot fail.
    pub(crate) fn track(
        &self,
        fence: *mut bindings::dma_fence,
        node: RBTreeNodeReservation<usize, ()>,
    ) {
        self.stats.issued.fetch_add(1, Relaxed);
        self.stats.attached.fetch_add(1, Relaxed);
        self.pending
            .lock()
            .insert(node.into_node(fence as usize, ()));
    }

    /// Forgets a fence that its handle completed; `detached` if it no longer points to our ops.
    pub(crate) fn untrack(&self, fence: *mut bindings::dma_fence, detached: bool) {
        let node = self.pending.lock().remove_node(&(fence as usize));
        drop(node);
        self.stats.completed.fetch_add(1, Relaxed);
        if detached {
            self.stats.attached.fetch_sub(1, Relaxed);
        }
    }

    /// Cancels every pending fence with `-ENODEV`; returns how many.
    fn cancel_pending(&self) -> u64 {
        let mut cancelled = 0;
        loop {
            // Take one fence out under the lock, with a reference: its handle may be completing
            // it at the same time, which is harmless (signalling twice is a no-op).
            let fence = {
                let mut pending = self.pending.lock();
                let Some(addr) = pending.iter().next().map(|(addr, ())| *addr) else {
                    break;
                };
                pending.remove(&addr);
                let fence = addr as *mut bindings::dma_fence;
                // SAFETY: The entry existed, so the issuer handle still held its reference.
                unsafe { ffi::rust_fence_helper_get(fence) }
            };
            // SAFETY: We hold a reference to the fence.
            if unsafe { ffi::rust_fence_helper_signal(fence, ENODEV.to_errno()) } {
                cancelled += 1;
            }
            // SAFETY: Drops the reference taken above.
            unsafe { ffi::rust_fence_helper_put(fence) };
        }
        self.stats.cancelled_at_unload.fetch_add(cancelled, Relaxed);
        cancelled
    }

    /// Issued and not completed; `completed` is read first, so a fence issued and completed
    /// between the two reads cannot make it negative.
    fn pending(&self) -> u64 {
        let completed = self.stats.completed.load(Relaxed);
        self.stats.issued.load(Relaxed).saturating_sub(completed)
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

    /// Returns the number of fences still pointing to the provider's ops tables.
    pub fn attached(&self) -> u64 {
        self.0.stats.attached.load(Relaxed)
    }

    /// Returns the number of fences issued so far.
    pub fn issued(&self) -> u64 {
        self.0.stats.issued.load(Relaxed)
    }
}

/// A module's registration as a fence provider, owning the module's fence state `S`.
///
/// Dropping it drops `S`, then runs the unload protocol (see the module documentation).
/// Declare it as the last field of the module struct if the module has other fields: fields
/// are dropped in declaration order.
pub struct ProviderRegistration<S> {
    provider: Provider,
    state: Option<S>,
}

impl<S> ProviderRegistration<S> {
    /// Registers provider `name` and builds its state with `init`, which gets the provider to
    /// create timelines with.
    pub fn new(name: &CStr, init: impl FnOnce(&Provider) -> Result<S>) -> Result<Self> {
        let provider = Provider(register(name)?);
        match init(&provider) {
            Ok(state) => Ok(Self {
                provider,
                state: Some(state),
            }),
            Err(e) => {
                let start = Instant::<Monotonic>::now();
                provider.0.cancel_pending();
                unload(&provider, start, start.elapsed());
                Err(e)
            }
        }
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

impl<S> Drop for ProviderRegistration<S> {
    fn drop(&mut self) {
        let start = Instant::<Monotonic>::now();
        // Cancel first, with -ENODEV: dropping the state would cancel with -ECANCELED.
        self.provider.0.cancel_pending();
        let cancelled = start.elapsed();
        drop(self.state.take());
        unload(&self.provider, start, cancelled);
    }
}

fn register(name: &CStr) -> Result<Arc<ProviderInner>> {
    let name = CString::try_from(name)?;
    let inner = Arc::pin_init(
        pin_init!(ProviderInner {
            name,
            stats: Stats {
                issued: Atomic::new(0),
                completed: Atomic::new(0),
                attached: Atomic::new(0),
                cancelled_at_unload: Atomic::new(0),
                timelines: Atomic::new(0),
            },
            pending <- kernel::new_spinlock_irq!(RBTree::new(), "rust_fence_provider"),
        }),
        GFP_KERNEL,
    )?;
    PROVIDERS.lock().push(inner.clone(), GFP_KERNEL)?;
    Ok(inner)
}

/// The rest of the unload protocol, after the cancel at `start` that took `cancelled` and the
/// drop of the module's state: a last cancel for fences issued meanwhile, one grace period,
/// wait for RCU callbacks, unregister.
fn unload(provider: &Provider, start: Instant<Monotonic>, cancelled: Delta) {
    let inner = &provider.0;
    inner.cancel_pending();
    let state_dropped = start.elapsed();
    // Readers that loaded one of our ops pointers before the detach are done after this.
    rcu::synchronize_rcu();
    let grace_period = start.elapsed();
    // Our `call_rcu` callbacks (freeing timeline data, code in our module) have run after this.
    rcu::rcu_barrier();
    let elapsed = start.elapsed();
    PROVIDERS.lock().retain(|p| !core::ptr::eq(&**p, &**inner));
    let timelines = inner.stats.timelines.load(Relaxed);
    if timelines != 0 {
        // Their data will be freed by RCU callbacks whose code may be gone by then.
        pr_err!(
            "{}: {} timelines still alive after the unload protocol: drop them before the registration\n",
            inner.name.to_str().unwrap_or("?"),
            timelines
        );
    }
    pr_info!(
        "{}: unload protocol done in {} us (cancel {} us, state drop {} us, synchronize_rcu {} us, rcu_barrier {} us): {} issued, {} cancelled at unload, {} still attached\n",
        inner.name.to_str().unwrap_or("?"),
        elapsed.as_micros_ceil(),
        cancelled.as_micros_ceil(),
        (state_dropped - cancelled).as_micros_ceil(),
        (grace_period - state_dropped).as_micros_ceil(),
        (elapsed - grace_period).as_micros_ceil(),
        inner.stats.issued.load(Relaxed),
        inner.stats.cancelled_at_unload.load(Relaxed),
        inner.stats.attached.load(Relaxed)
    );
}
