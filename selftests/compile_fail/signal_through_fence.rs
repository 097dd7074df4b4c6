// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0599
// expect-message: no method named `signal` found
// proves: a shared Fence (ARef<Fence>) cannot signal, only the issuer's DriverFence can

//! Signals a fence through a shared reference to it.

use kernel::prelude::*;
use kernel::sync::aref::ARef;
use rust_fence::{Fence, FenceOps, ProviderRegistration, Timeline};

module! {
    type: SignalThroughFence,
    name: "signal_through_fence",
    authors: ["rust-fence developers"],
    description: "compile-fail: signal a fence through a shared reference",
    license: "GPL",
}

struct Provider;

#[vtable]
impl FenceOps for Provider {}

struct SignalThroughFence;

impl kernel::Module for SignalThroughFence {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registration = ProviderRegistration::new(c"signal_through_fence", |_| Ok(()))?;
        let timeline = Timeline::new(
            registration.provider(),
            c"signal_through_fence",
            c"signal_through_fence",
            Provider,
        )?;
        let driver_fence = timeline.issue(timeline.prealloc()?, ());
        let fence: ARef<Fence> = driver_fence.fence_ref();
        fence.signal();
        driver_fence.signal();
        Ok(SignalThroughFence)
    }
}
