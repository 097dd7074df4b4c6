// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0505
// expect-message: cannot move out of `guard` because it is borrowed
// proves: a fence's driver name cannot outlive the RCU read section it was read in

//! Uses the name returned by `Fence::driver_name` after ending the RCU read section.

use kernel::prelude::*;
use kernel::sync::rcu;
use rust_fence::{FenceOps, ProviderRegistration, Timeline};

module! {
    type: NameOutlivesGuard,
    name: "name_outlives_guard",
    authors: ["rust-fence developers"],
    description: "compile-fail: use a fence name after the RCU guard",
    license: "GPL",
}

struct Provider;

#[vtable]
impl FenceOps for Provider {}

struct NameOutlivesGuard;

impl kernel::Module for NameOutlivesGuard {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registration = ProviderRegistration::new(c"name_outlives_guard", |_| Ok(()))?;
        let timeline = Timeline::new(
            registration.provider(),
            c"name_outlives_guard",
            c"name_outlives_guard",
            Provider,
        )?;
        let driver_fence = timeline.issue(timeline.prealloc()?, ());
        let fence = driver_fence.fence_ref();
        driver_fence.signal();
        let guard = rcu::read_lock();
        let name = fence.driver_name(&guard);
        drop(guard);
        pr_info!("{:?}\n", name);
        Ok(NameOutlivesGuard)
    }
}
