// SPDX-License-Identifier: GPL-2.0

//! Module references: what keeps the code a fence can reach loaded.
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)
//!
//! The dma_fence core stores pointers to code (callbacks, ops tables) and calls them later, from
//! any module's context. The module holding that code must stay loaded while the core can reach
//! it. Generic code of this crate is compiled into the module that instantiates it, so the module
//! to pin is found by [`ModuleRef::of_instance`]: the module the instantiation is linked into.

use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

use crate::ffi;

// Only its address is used, so the layout of `struct module` does not matter here.
#[expect(improper_ctypes)]
unsafe extern "C" {
    /// The `struct module` of the module being linked; each module defines its own.
    static __this_module: Opaque<bindings::module>;
}

/// A module, identified by its `struct module`.
///
/// # Invariants
///
/// `0` is the `struct module` of a loaded module, or NULL for code built into the kernel.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModuleRef(*mut c_void);

// SAFETY: A `struct module` pointer may be passed to the reference counting functions from any
// thread.
unsafe impl Send for ModuleRef {}

// SAFETY: See `Send`; the pointer is never written through.
unsafe impl Sync for ModuleRef {}

impl ModuleRef {
    /// Returns the module that this instantiation of the generic `C` is compiled into.
    ///
    /// Called from a generic function instantiated with `C`, it names the module holding that
    /// instantiation's code and the constants it promotes (ops tables): each module is linked
    /// with its own `__this_module`.
    // `C` is what makes this function instantiated (and its `__this_module` resolved) in the
    // module instantiating the caller, not in rust_fence.
    #[expect(clippy::extra_unused_type_parameters)]
    #[inline(always)]
    pub(crate) fn of_instance<C: ?Sized>() -> Self {
        // INVARIANT: The module running this code is loaded.
        // SAFETY: Only the address of `__this_module` is taken.
        Self(unsafe { __this_module.get() }.cast())
    }

    /// Returns the module of a [`kernel::ThisModule`].
    pub(crate) fn from_this_module(module: &'static kernel::ThisModule) -> Self {
        // INVARIANT: A `ThisModule` is the `THIS_MODULE` of a loaded module.
        Self(module.as_ptr().cast())
    }

    /// Returns the module of a `struct module` pointer the kernel handed over.
    pub(crate) fn from_raw(module: *mut c_void) -> Self {
        // INVARIANT: Only used to compare with other modules, never to take references.
        Self(module)
    }

    /// Takes a reference on the module unless it is being removed: `false` then.
    #[must_use]
    pub(crate) fn try_get(self) -> bool {
        // SAFETY: By the type invariants the module is loaded (or NULL, which always succeeds).
        unsafe { ffi::rust_fence_helper_try_module_get(self.0) }
    }

    /// Drops a reference taken with [`ModuleRef::try_get`].
    ///
    /// # Safety
    ///
    /// The caller owns a reference on the module, which this consumes.
    pub(crate) unsafe fn put(self) {
        // SAFETY: Guaranteed by the caller.
        unsafe { ffi::rust_fence_helper_module_put(self.0) };
    }
}
