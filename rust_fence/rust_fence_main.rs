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
//! - [`FenceOps`]: the issuer's operations, turned into a `dma_fence_ops` table that detaches
//!   on signal, or, if the type says so, pins the implementing module.
//! - [`ProviderRegistration`]: a module's registration, which runs the unload protocol.
//! - [`fence_array`], [`fence_chain`], [`Fence::contained_fences`]: the core's fence containers.
//! - [`FenceCallback`], [`SignallingSection`], [`SyncFileFd`]: callbacks, lockdep signalling
//!   annotations, sync_file fds.
//!
//! This module is also a symbol provider: other Rust modules use this crate through
//! `--extern rust_fence` (see `Kbuild`), and the symbols they use are exported.

// The module is rust_fence.ko, so its crate root cannot be rust_fence.o: name the crate here.
#![crate_name = "rust_fence"]

use kernel::prelude::*;

mod ffi;

mod c_api;
pub mod callback;
pub mod container;
pub mod fence;
mod module_ref;
pub mod ops;
pub mod provider;
pub mod signalling;
pub mod timeline;

pub use callback::{
    CallbackRegistration,
    CompleteOnSignal,
    FenceCallbackFn,
    QueueWorkOnSignal,
    Registration, //
};
pub use container::{
    fence_array,
    fence_chain,
    ContainedFences, //
};
pub use fence::{
    Fence,
    Interruptible,
    SyncFileFd,
    WaitError, //
};
pub use ops::FenceOps;
pub use provider::{
    Provider,
    ProviderRegistration, //
};
pub use signalling::SignallingSection;
pub use timeline::{
    DriverFence,
    FenceSlot,
    IssuedFence,
    Timeline,
    TimelineOptions, //
};

#[cfg(rust_fence_kunit)]
mod kunit;

module! {
    type: RustFenceModule,
    name: "rust_fence",
    authors: ["rust-fence developers"],
    description: "Safe Rust abstractions over dma_fence with RCU-protected ops",
    license: "GPL",
}

kernel::sync::global_lock! {
    // SAFETY: Initialised in the module's init, before anything can use it.
    unsafe(uninit) static LIBRARY_PROVIDER: Mutex<Option<Provider>> = None;
}

/// Returns the provider of the fences rust_fence issues itself (C API, tests).
pub(crate) fn library_provider() -> Result<Provider> {
    LIBRARY_PROVIDER.lock().clone().ok_or(ENODEV)
}

/// Returns the library's workqueue, which unloading rust_fence drains.
#[cfg_attr(not(rust_fence_kunit), expect(dead_code))]
pub(crate) fn library_queue() -> &'static kernel::workqueue::Queue {
    // SAFETY: The workqueue is created in `init` before anything can use it and destroyed in
    // `drop`, after everything that used it.
    unsafe { kernel::workqueue::Queue::from_raw(ffi::rust_fence_helper_wq()) }
}

struct RustFenceModule {
    registration: Option<ProviderRegistration<()>>,
}

impl kernel::Module for RustFenceModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // SAFETY: Called once, before any other use of the locks.
        unsafe {
            LIBRARY_PROVIDER.init();
            provider::init_registry();
        }
        // SAFETY: Called once, before any timeline can be freed.
        kernel::error::to_result(unsafe { ffi::rust_fence_helper_free_wq_create() })?;
        // SAFETY: Called once; the notifier only reads the registry initialised above.
        if let Err(e) = kernel::error::to_result(unsafe { ffi::rust_fence_helper_watch_modules() })
        {
            // SAFETY: Created above; nothing was queued on it.
            unsafe { ffi::rust_fence_helper_free_wq_destroy() };
            return Err(e);
        }
        let registration = match ProviderRegistration::new(module, c"rust_fence", |_| Ok(())) {
            Ok(registration) => registration,
            Err(e) => {
                // SAFETY: Set up above; no provider was registered, nothing was queued.
                unsafe {
                    ffi::rust_fence_helper_unwatch_modules();
                    ffi::rust_fence_helper_free_wq_destroy();
                }
                return Err(e);
            }
        };
        *LIBRARY_PROVIDER.lock() = Some(registration.provider().clone());
        pr_info!("loaded: dma_fence abstractions for Rust and C drivers\n");
        Ok(RustFenceModule {
            registration: Some(registration),
        })
    }
}

impl Drop for RustFenceModule {
    fn drop(&mut self) {
        // The registration cancels what the C API left pending, waits for a grace period and
        // for the timeline frees whose code lives here.
        LIBRARY_PROVIDER.lock().take();
        drop(self.registration.take());
        // SAFETY: Every module using rust_fence is gone, and so are the frees they queued; the
        // library's own frees were waited for above.
        unsafe {
            ffi::rust_fence_helper_unwatch_modules();
            ffi::rust_fence_helper_free_wq_destroy();
        }
        provider::free_registry();
        pr_info!("unloaded\n");
    }
}
