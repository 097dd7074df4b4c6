// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0382
// expect-message: use of moved value: `driver_fence`
// proves: DriverFence::signal() consumes the handle, a fence cannot be signalled twice

//! Signals the same `DriverFence` twice.

use kernel::prelude::*;
use rust_fence::{FenceOps, ProviderRegistration, Timeline};

module! {
    type: SignalTwice,
    name: "signal_twice",
    authors: ["rust-fence developers"],
    description: "compile-fail: signal a fence twice",
    license: "GPL",
}

struct Provider;

#[vtable]
impl FenceOps for Provider {}

struct SignalTwice;

impl kernel::Module for SignalTwice {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registration = ProviderRegistration::new(c"signal_twice", |_| Ok(()))?;
        let timeline = Timeline::new(
            registration.provider(),
            c"signal_twice",
            c"signal_twice",
            Provider,
        )?;
        let driver_fence = timeline.issue(timeline.prealloc()?, ());
        driver_fence.signal();
        driver_fence.signal();
        Ok(SignalTwice)
    }
}
