// SPDX-License-Identifier: GPL-2.0

//! An [`IoctlFile`] served on a misc device as well: `/dev/sw_sync`.
//!
//! Programs written for sw_sync (Android's libsync, IGT's sw_sync library) look for
//! `/dev/sw_sync` before the debugfs file, and production kernels often do not mount debugfs or
//! lock it down. The device serves the same opens, ioctls and closes as the debugfs file, on the
//! same shared context. The kernel crate gives the device's file operations this module as
//! `owner`, so an open device keeps the module loaded, as an open debugfs file does, and
//! `misc_open()` calls `open` under the lock that `misc_deregister()` takes, so no open runs
//! once the registration is dropped.

use core::marker::PhantomData;

use kernel::fs::File;
use kernel::miscdevice::{
    MiscDevice,
    MiscDeviceOptions,
    MiscDeviceRegistration, //
};
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::debugfs::IoctlFile;

/// A misc device whose opens are `F`s, sharing `ctx`.
///
/// # Invariants
///
/// `misc` is registered while `ctx` is initialised: the only way to create a
/// `MiscDeviceRegistration<Opened<F>>` is [`MiscIoctl::register`], which makes it the `misc` of
/// a `MiscIoctl<F>`.
#[pin_data]
pub(crate) struct MiscIoctl<F: IoctlFile> {
    // Dropped first: deregistered before the context goes.
    #[pin]
    misc: MiscDeviceRegistration<Opened<F>>,
    ctx: Arc<F::Context>,
}

impl<F: IoctlFile> MiscIoctl<F> {
    /// Registers misc device `name`, whose opens are `F`s with context `ctx`.
    pub(crate) fn register(name: &'static CStr, ctx: Arc<F::Context>) -> impl PinInit<Self, Error> {
        // `ctx` first: an open may come as soon as the device is registered.
        try_pin_init!(Self {
            ctx,
            misc <- MiscDeviceRegistration::register(MiscDeviceOptions { name }),
        })
    }
}

/// The opens of a [`MiscIoctl<F>`]: the misc device type, never built itself.
pub(crate) struct Opened<F>(PhantomData<F>);

#[vtable]
impl<F: IoctlFile> MiscDevice for Opened<F> {
    type Ptr = Pin<KBox<F>>;

    fn open(_file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<F>>> {
        // SAFETY: By the type invariants of `MiscIoctl`, `misc` is the `misc` field of a
        // `MiscIoctl<F>`, which is alive while its device can be opened: it is deregistered when
        // the `MiscIoctl` is dropped, under the lock `misc_open()` holds while it calls us.
        let device =
            unsafe { &*kernel::container_of!(core::ptr::from_ref(misc), MiscIoctl<F>, misc) };
        F::open(device.ctx.as_arc_borrow())
    }

    fn ioctl(opened: Pin<&F>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        // The debugfs file's 32-bit callers come through `compat_ptr_ioctl()` too: the kernel
        // crate's default for a device without a `compat_ioctl` of its own.
        opened.get_ref().ioctl(cmd, arg)
    }
}
