// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over `struct dma_fence`, whose `ops` pointer is RCU protected.
//!
//! C header: [`include/linux/dma-fence.h`](srctree/include/linux/dma-fence.h)
//!
//! Since Linux 7.x the core sets `dma_fence.ops` to NULL when a fence whose ops have neither
//! `release` nor `wait` signals, and every access to the ops happens in an RCU read section.
//! That lets the module that issued a fence unload one grace period after it signalled all its
//! fences, while the fences themselves live on in other drivers and in userspace. The types of
//! this crate encode those rules:
//!
//! - [`Fence`]: the reference-counted view anyone may hold; names only through an
//!   [`rcu::Guard`](kernel::sync::rcu::Guard).
//! - [`Timeline`]: a fence context owning its names and the issuer's data.
//! - [`DriverFence`]: the issuer-only handle, consumed by signalling.
//! - [`FenceOps`]: the issuer's operations, turned into a detachable `dma_fence_ops` table.
//!
//! This module is also a symbol provider: other Rust modules use this crate through
//! `--extern rust_fence` (see `Kbuild`), and the symbols they use are exported.

use kernel::prelude::*;

// The crate root sits at the top of the tree (it names the module); its
// submodules live in rust_fence/.
#[path = "rust_fence/ffi.rs"]
mod ffi;

#[path = "rust_fence/c_api.rs"]
mod c_api;
#[path = "rust_fence/callback.rs"]
pub mod callback;
#[path = "rust_fence/fence.rs"]
pub mod fence;
#[path = "rust_fence/ops.rs"]
pub mod ops;
#[path = "rust_fence/signalling.rs"]
pub mod signalling;
#[path = "rust_fence/timeline.rs"]
pub mod timeline;

pub use callback::{
    CompleteOnSignal, FenceCallback, FenceCallbackFn, QueueWorkOnSignal, Registration,
};
pub use fence::{Fence, Interruptible, WaitError};
pub use ops::FenceOps;
pub use signalling::SignallingSection;
pub use timeline::{DriverFence, FenceSlot, Timeline};

#[cfg(rust_fence_kunit)]
#[path = "rust_fence/kunit.rs"]
mod kunit;

module! {
    type: RustFenceModule,
    name: "rust_fence",
    authors: ["rust-fence developers"],
    description: "Safe Rust abstractions over dma_fence with RCU-protected ops",
    license: "GPL",
}

struct RustFenceModule;

impl kernel::Module for RustFenceModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("loaded: dma_fence abstractions for Rust and C drivers\n");
        Ok(RustFenceModule)
    }
}

impl Drop for RustFenceModule {
    fn drop(&mut self) {
        // Timelines of this module (its tests and its C API users) free their data from RCU
        // callbacks whose code lives here: wait for them before the code goes away.
        kernel::sync::rcu::rcu_barrier();
        pr_info!("unloaded\n");
    }
}
