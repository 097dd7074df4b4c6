// SPDX-License-Identifier: GPL-2.0

// Compile-fail proof: must not build.
// expect-error: E0407 E0438
// (E0438 comes with it: `#[vtable]` also emits `const HAS_WAIT` for the extra method.)
// expect-message: method `wait` is not a member of trait `FenceOps`
// proves: FenceOps offers no wait op, so an issuer cannot pin its fences to its module

//! Implements a `wait` fence op, which `FenceOps` does not offer.

use kernel::prelude::*;
use rust_fence::{Fence, FenceOps, Interruptible, ProviderRegistration, Timeline};

module! {
    type: WaitOpNotOffered,
    name: "wait_op_not_offered",
    authors: ["rust-fence developers"],
    description: "compile-fail: implement the wait fence op",
    license: "GPL",
}

struct Provider;

#[vtable]
impl FenceOps for Provider {
    fn wait(_timeline: &Self, _fence: &Fence, _intr: Interruptible, timeout: i64) -> i64 {
        timeout
    }
}

struct WaitOpNotOffered;

impl kernel::Module for WaitOpNotOffered {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registration = ProviderRegistration::new(c"wait_op_not_offered", |_| Ok(()))?;
        let timeline = Timeline::new(
            registration.provider(),
            c"wait_op_not_offered",
            c"wait_op_not_offered",
            Provider,
        )?;
        let driver_fence = timeline.issue(timeline.prealloc()?, ());
        driver_fence.signal();
        Ok(WaitOpNotOffered)
    }
}
