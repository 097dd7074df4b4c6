// SPDX-License-Identifier: GPL-2.0

//! fence_holder: an in-kernel holder of other modules' fences, for the selftests.
//!
//! It keeps `ARef<Fence>`s and callbacks on fences it is handed as sync_file fds, across the
//! unload of the module that issued them, then waits for them and drops them: what a driver
//! consuming fences does. Each open of the misc device `/dev/fence_holder` is a holder; closing
//! it drops what it still holds. Everything goes through rust_fence and the kernel crate, with
//! no `unsafe` but the byte trait of its report struct.

use kernel::fs::File;
use kernel::ioctl::{
    _IOR,
    _IOW, //
};
use kernel::miscdevice::{
    MiscDevice,
    MiscDeviceOptions,
    MiscDeviceRegistration, //
};
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{
    Atomic,
    Relaxed, //
};
use kernel::sync::{
    Arc,
    Mutex, //
};
use kernel::transmute::AsBytes;
use kernel::uaccess::{
    UserPtr,
    UserSlice, //
};
use rust_fence::{
    CallbackRegistration,
    Fence,
    Interruptible,
    Registration, //
};

module! {
    type: FenceHolderModule,
    name: "fence_holder",
    authors: ["rust-fence developers"],
    description: "Test module holding fences and callbacks across their issuer's unload",
    license: "GPL",
}

/// `FENCE_HOLDER_IOC_HOLD`: hold the fence of the sync_file fd passed.
const FENCE_HOLDER_IOC_HOLD: u32 = _IOW::<i32>(b'H' as u32, 0);
/// `FENCE_HOLDER_IOC_WAIT_DROP`: wait for the held fences, report, drop them.
const FENCE_HOLDER_IOC_WAIT_DROP: u32 = _IOR::<Report>(b'H' as u32, 1);

/// `struct fence_holder_report` of `fence_holder_uapi.h`, which `FENCE_HOLDER_IOC_WAIT_DROP`
/// writes.
#[repr(C)]
struct Report {
    /// Fences held.
    held: u32,
    /// Of which signalled after the wait.
    signalled: u32,
    /// Callbacks that ran, or were handed back on a signalled fence.
    callbacks: u32,
    /// Fences that completed with an error.
    errors: i32,
    /// The last such error (negative errno), or 0.
    last_error: i32,
    /// Zero.
    pad: u32,
}

// SAFETY: `Report` is `repr(C)` with six 4-byte integer fields, so it has no padding (its
// layout is checked below): every byte of a value is initialised.
unsafe impl AsBytes for Report {}

// The layout of the C header's struct and the ioctl numbers the selftests use.
const _: () = {
    use core::mem::offset_of;
    assert!(size_of::<Report>() == 24);
    assert!(offset_of!(Report, held) == 0);
    assert!(offset_of!(Report, signalled) == 4);
    assert!(offset_of!(Report, callbacks) == 8);
    assert!(offset_of!(Report, errors) == 12);
    assert!(offset_of!(Report, last_error) == 16);
    assert!(offset_of!(Report, pad) == 20);
    assert!(FENCE_HOLDER_IOC_HOLD == 0x40044800);
    assert!(FENCE_HOLDER_IOC_WAIT_DROP == 0x80184801);
};

/// How long to wait for each held fence, in jiffies (HZ is at least 100).
const WAIT_JIFFIES: usize = 100;

type Counter = Arc<Atomic<u32>>;

/// A held fence and, if it was pending when handed over, the callback registered on it.
struct Held {
    fence: ARef<Fence>,
    _callback: Option<CallbackRegistration<CountCallback>>,
}

/// Counts its run; runs in atomic context, so it only increments an atomic.
struct CountCallback(Counter);

impl rust_fence::FenceCallbackFn for CountCallback {
    fn signalled(&self, _fence: &Fence) {
        self.0.fetch_add(1, Relaxed);
    }
}

#[pin_data]
struct Holder {
    #[pin]
    held: Mutex<KVec<Held>>,
    callbacks: Counter,
}

impl Holder {
    fn hold(&self, arg: usize) -> Result<isize> {
        let fd = UserSlice::new(UserPtr::from_addr(arg), size_of::<i32>())
            .reader()
            .read::<i32>()?;
        let fence = Fence::import_sync_file(fd)?;
        let callback =
            match fence.add_callback(CountCallback(self.callbacks.clone()), GFP_KERNEL)? {
                Registration::Pending(callback) => Some(callback),
                // Already signalled: count the callback handed back, it will not run.
                Registration::Signalled(_) => {
                    self.callbacks.fetch_add(1, Relaxed);
                    None
                }
            };
        self.held.lock().push(
            Held {
                fence,
                _callback: callback,
            },
            GFP_KERNEL,
        )?;
        Ok(0)
    }

    fn wait_drop(&self, arg: usize) -> Result<isize> {
        let held = core::mem::take(&mut *self.held.lock());
        let (mut signalled, mut errors, mut last_error) = (0u32, 0i32, 0i32);
        for h in held.iter() {
            if h.fence
                .wait_timeout(Interruptible::No, WAIT_JIFFIES)
                .is_ok()
            {
                signalled += 1;
            }
            if let Err(e) = h.fence.error() {
                errors += 1;
                last_error = e.to_errno();
            }
        }
        let count = held.len() as u32;
        // Drops the references and removes the callbacks that did not run.
        drop(held);
        let report = Report {
            held: count,
            signalled,
            callbacks: self.callbacks.xchg(0, Relaxed),
            errors,
            last_error,
            pad: 0,
        };
        UserSlice::new(UserPtr::from_addr(arg), size_of::<Report>())
            .writer()
            .write(&report)?;
        Ok(0)
    }
}

/// `/dev/fence_holder`: each open is a holder, dropped with what it holds at close.
#[vtable]
impl MiscDevice for Holder {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let callbacks = Arc::new(Atomic::new(0), GFP_KERNEL)?;
        KBox::pin_init(
            pin_init!(Holder {
                held <- kernel::new_mutex!(KVec::new()),
                callbacks,
            }),
            GFP_KERNEL,
        )
    }

    fn ioctl(holder: Pin<&Holder>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            FENCE_HOLDER_IOC_HOLD => holder.hold(arg),
            FENCE_HOLDER_IOC_WAIT_DROP => holder.wait_drop(arg),
            _ => Err(ENOTTY),
        }
    }
}

#[pin_data]
struct FenceHolderModule {
    #[pin]
    _misc: MiscDeviceRegistration<Holder>,
}

impl kernel::InPlaceModule for FenceHolderModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(FenceHolderModule {
            _misc <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"fence_holder",
            }),
        })
    }
}
