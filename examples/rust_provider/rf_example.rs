// SPDX-License-Identifier: GPL-2.0

//! rf_example: a fence provider built outside the rust-fence tree.
//!
//! It is what a Rust driver of another tree looks like: its own directory and Kbuild, built
//! against an installed rust_fence (`make install-dev`), loaded and unloaded while the library
//! stays loaded. At load it registers as a provider, creates a timeline and issues two fences:
//! it signals the first, and leaves the second pending in its state, for the unload protocol to
//! cancel.

use kernel::prelude::*;
use rust_fence::{
    DriverFence,
    FenceOps,
    ProviderRegistration,
    Timeline, //
};

module! {
    type: RfExample,
    name: "rf_example",
    authors: ["rust-fence developers"],
    description: "Example fence provider built outside the rust-fence tree",
    license: "GPL",
}

/// The timeline's data: nothing, the default ops.
struct Ring;

#[vtable]
impl FenceOps for Ring {}

/// What the module keeps until it unloads.
struct State {
    /// Cancelled with -ENODEV by the unload protocol.
    _pending: DriverFence<Ring>,
}

struct RfExample {
    _registration: ProviderRegistration<State>,
}

impl kernel::Module for RfExample {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let registration = ProviderRegistration::new(module, c"rf_example", |provider| {
            let ring = Timeline::new(provider, c"rf_example", c"ring0", Ring)?;
            let done = ring.issue(ring.prealloc()?, ());
            let pending = ring.issue(ring.prealloc()?, ());
            pr_info!(
                "issued fences {}:{} and {}:{}\n",
                done.fence().context(),
                done.fence().seqno(),
                pending.fence().context(),
                pending.fence().seqno()
            );
            let signalled = done.fence_ref();
            done.signal();
            // Calls no module of the rust-fence tree makes: only a library that exports its
            // whole API lets this module load.
            pr_info!(
                "fence {}:{} signalled, status {:?}; {} timeline(s)\n",
                signalled.context(),
                signalled.seqno(),
                signalled.status(),
                provider.timelines()
            );
            Ok(State { _pending: pending })
        })?;
        Ok(RfExample {
            _registration: registration,
        })
    }
}
