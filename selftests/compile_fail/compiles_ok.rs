// SPDX-License-Identifier: GPL-2.0

// Positive control of the compile-fail proofs: the API used correctly.
// expect: ok
// proves: the harness builds a correct user of rust_fence, so the failures are real

//! Uses each part of the `rust_fence` API that the compile-fail cases misuse.

use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::rcu;
use rust_fence::{Fence, FenceOps, ProviderRegistration, SignallingSection, Timeline};

module! {
    type: CompilesOk,
    name: "compiles_ok",
    authors: ["rust-fence developers"],
    description: "compile-fail positive control",
    license: "GPL",
}

struct Provider;

#[vtable]
impl FenceOps for Provider {
    fn signaled(_timeline: &Self, _fence: &Fence) -> bool {
        false
    }
}

fn require_send<T: Send>(_: T) {}

struct CompilesOk;

impl kernel::Module for CompilesOk {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registration = ProviderRegistration::new(c"compiles_ok", |_| Ok(()))?;
        let timeline = Timeline::new(
            registration.provider(),
            c"compiles_ok",
            c"compiles_ok",
            Provider,
        )?;
        let driver_fence = timeline.issue(timeline.prealloc()?, ());
        let fence: ARef<Fence> = driver_fence.fence_ref();
        // A shared fence may be sent to another thread, the section guard may not.
        require_send(fence.clone());
        {
            let guard = rcu::read_lock();
            let name = fence.driver_name(&guard);
            pr_info!("{:?}\n", name);
            drop(guard);
        }
        let section = SignallingSection::begin();
        driver_fence.signal();
        drop(section);
        pr_info!("signalled: {}\n", fence.is_signaled());
        Ok(CompilesOk)
    }
}
