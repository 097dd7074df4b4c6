// SPDX-License-Identifier: GPL-2.0

//! fence_ops: a dma_fence provider built on rust_fence that serves the sw_sync ABI.
//!
//! `/sys/kernel/debug/fence_ops/sw_sync` behaves like the kernel's `sync/sw_sync`: each open is
//! a timeline, `SW_SYNC_IOC_CREATE_FENCE` returns a sync_file fd for a point on it,
//! `SW_SYNC_IOC_INC` advances it, `SW_SYNC_GET_DEADLINE` reads a deadline, and closing it
//! signals what is left with `-ENOENT`. `FENCE_OPS_IOC_SET_FLAGS`, our own ioctl, selects a
//! module-pinning ops table for the timeline or keeps it alive after close until the module
//! unloads. `/dev/sw_sync` serves the same (`misc.rs`), unless `sw_sync_dev=0`.
//! `/sys/kernel/debug/fence_ops/info` lists timelines and pending points.
//!
//! Fences of the default tables detach when they signal, so the module unloads while they
//! live on: the [`ProviderRegistration`] runs the unload protocol. This file and `sw_sync.rs`
//! have no `unsafe`; it is confined to `debugfs.rs` (debugfs files with ioctls, which the kernel
//! crate does not offer), `misc.rs` (finding the device's shared state from its registration)
//! and `task.rs` (the task name, copied by the C helper in `helpers.c`).

use kernel::prelude::*;
use kernel::seq_file::SeqFile;
use kernel::sync::{
    Arc,
    ArcBorrow,
    Mutex, //
};
use kernel::uaccess::{
    UserPtr,
    UserSlice, //
};
use rust_fence::{
    Fence,
    Provider,
    ProviderRegistration,
    Timeline, //
};

mod debugfs;
mod misc;
mod sw_sync;
mod task;
mod uapi;

use debugfs::{
    Dir,
    File,
    IoctlFile,
    ShowFile, //
};
use misc::MiscIoctl;
use sw_sync::{
    deadline_of,
    show_timeline,
    SwSync,
    SwTimeline, //
};
use task::current_task_name;
use uapi::{
    GetDeadline,
    FENCE_OPS_FLAGS,
    FENCE_OPS_IOC_SET_FLAGS,
    FENCE_OPS_KEEP_ON_CLOSE,
    FENCE_OPS_PIN_MODULE, //
};

module! {
    type: FenceOpsModule,
    name: "fence_ops",
    authors: ["rust-fence developers"],
    description: "dma_fence provider serving the sw_sync ABI, unloadable while its fences live",
    license: "GPL",
    params: {
        sw_sync_dev: bool {
            default: true,
            description: "Serve the sw_sync ABI at /dev/sw_sync too, not only in debugfs",
        },
    },
}

/// Creates a timeline named after the current task, whose value starts at `value`.
fn new_timeline(provider: &Provider, pinned: bool, value: u32) -> Result<SwTimeline> {
    SwTimeline::new(provider, &current_task_name()?, value, pinned)
}

/// State shared by the files of the module.
#[pin_data]
struct Shared {
    provider: Provider,
    /// Timelines kept after their file was closed (`FENCE_OPS_KEEP_ON_CLOSE`).
    #[pin]
    kept: Mutex<Kept>,
    /// The timelines of open files and kept ones: any timeline fd can read the deadline of a
    /// point of any of them, as with sw_sync.
    #[pin]
    timelines: Mutex<KVec<Timeline<SwSync>>>,
    /// The open timelines using each of the two modes that exclude each other.
    #[pin]
    modes: Mutex<Modes>,
}

/// Counts of the open timelines with `FENCE_OPS_PIN_MODULE` and `FENCE_OPS_KEEP_ON_CLOSE`.
///
/// A point kept after close only signals when the module unloads, and a fence of a pinning
/// table refuses the unload while it lives. A fence of either held by something that waits
/// for the other (a merged sync_file being polled holds its fences until all signalled)
/// would keep the module loaded for good, so the two modes are not used at the same time,
/// whatever the timelines: `FENCE_OPS_IOC_SET_FLAGS` answers `EBUSY` for one while the other
/// is in use.
struct Modes {
    pinning: usize,
    keeping: usize,
}

impl Shared {
    /// Whether a timeline kept after close still has a pending point.
    fn has_kept_points(&self) -> bool {
        self.kept
            .lock()
            .timelines
            .iter()
            .any(|t| t.has_pending_points())
    }

    /// `SW_SYNC_GET_DEADLINE`, with sw_sync's checks in sw_sync's order.
    fn get_deadline(&self, arg: usize) -> Result<isize> {
        let (mut reader, mut writer) =
            UserSlice::new(UserPtr::from_addr(arg), size_of::<GetDeadline>()).reader_writer();
        let mut data: GetDeadline = reader.read()?;
        if data.deadline_ns != 0 || data.pad != 0 {
            return Err(EINVAL);
        }
        let fence = Fence::import_sync_file(data.fence_fd)?;
        let deadline = self
            .timelines
            .lock()
            .iter()
            .find(|t| t.context() == fence.context())
            .ok_or(EINVAL)
            .and_then(|t| deadline_of(t, &fence))?;
        data.deadline_ns = deadline as u64;
        writer.write(&data)?;
        Ok(0)
    }
}

/// The timelines kept after close, with room for those of the open files that will be.
struct Kept {
    timelines: KVec<SwTimeline>,
    /// How many open files have `FENCE_OPS_KEEP_ON_CLOSE`: `timelines` has room for that many
    /// more, reserved by `FENCE_OPS_IOC_SET_FLAGS`, so that the close, which cannot fail, never
    /// allocates to keep its timeline.
    reserved: usize,
}

/// One open of `sw_sync`: a timeline.
#[pin_data(PinnedDrop)]
struct SwSyncFile {
    shared: Arc<Shared>,
    #[pin]
    state: Mutex<OpenTimeline>,
}

struct OpenTimeline {
    timeline: Option<SwTimeline>,
    flags: u32,
}

impl SwSyncFile {
    fn set_flags(&self, arg: usize) -> Result<isize> {
        let flags: u32 = UserSlice::new(UserPtr::from_addr(arg), size_of::<u32>())
            .reader()
            .read()?;
        if flags & !FENCE_OPS_FLAGS != 0 || flags == FENCE_OPS_FLAGS {
            return Err(EINVAL);
        }
        let mut state = self.state.lock();
        let pinned = flags & FENCE_OPS_PIN_MODULE != 0;
        let keeping = flags & FENCE_OPS_KEEP_ON_CLOSE != 0;
        let was_keeping = state.flags & FENCE_OPS_KEEP_ON_CLOSE != 0;
        let Some(timeline) = state.timeline.as_ref() else {
            return Err(EINVAL);
        };
        let was_pinned = timeline.is_pinned();
        let mut modes = self.shared.modes.lock();
        // How many other timelines use each mode (see `Modes`).
        let others_pinning = modes.pinning - usize::from(was_pinned);
        let others_keeping = modes.keeping - usize::from(was_keeping);
        if pinned && !was_pinned && (others_keeping > 0 || self.shared.has_kept_points()) {
            pr_debug!("FENCE_OPS_PIN_MODULE: EBUSY while points are or may be kept after close\n");
            return Err(EBUSY);
        }
        if keeping && !was_keeping && (others_pinning > 0 || self.shared.provider.pinned() > 0) {
            pr_debug!("FENCE_OPS_KEEP_ON_CLOSE: EBUSY while fences of a pinning table may live\n");
            return Err(EBUSY);
        }
        let new = if pinned != was_pinned {
            // Replacing the timeline would cancel its points, even one made by a
            // SW_SYNC_IOC_CREATE_FENCE that failed afterwards (a fault writing the fd back):
            // refuse once there is any. No fence has the old context, so nothing else is lost
            // but its value, which the new timeline takes over.
            if timeline.has_points() {
                return Err(EBUSY);
            }
            Some(new_timeline(
                &self.shared.provider,
                pinned,
                timeline.value(),
            )?)
        } else {
            None
        };
        // Room to keep the timeline at close is made here, where an error can still be
        // returned (dropping `new`, which has no point), so that the close never allocates.
        if keeping && !was_keeping {
            let mut k = self.shared.kept.lock();
            let more = k.reserved + 1;
            k.timelines.reserve(more, GFP_KERNEL)?;
            k.reserved = more;
        } else if was_keeping && !keeping {
            self.shared.kept.lock().reserved -= 1;
        }
        if let Some(new) = new {
            let old = timeline.context();
            let mut timelines = self.shared.timelines.lock();
            if let Some(t) = timelines.iter_mut().find(|t| t.context() == old) {
                *t = new.timeline();
            }
            state.timeline = Some(new);
        }
        modes.pinning = others_pinning + usize::from(pinned);
        modes.keeping = others_keeping + usize::from(keeping);
        state.flags = flags;
        Ok(0)
    }
}

#[vtable]
impl IoctlFile for SwSyncFile {
    type Context = Shared;

    fn open(shared: ArcBorrow<'_, Shared>) -> Result<Pin<KBox<Self>>> {
        let timeline = new_timeline(&shared.provider, false, 0)?;
        let lookup = timeline.timeline();
        let this = KBox::pin_init(
            pin_init!(SwSyncFile {
                shared: shared.into(),
                state <- kernel::new_mutex!(OpenTimeline {
                    timeline: Some(timeline),
                    flags: 0,
                }),
            }),
            GFP_KERNEL,
        )?;
        // Published last, so that a failed open leaves nothing behind: if this push fails,
        // dropping `this` drops the timeline, which has no point yet.
        shared.timelines.lock().push(lookup, GFP_KERNEL)?;
        Ok(this)
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            FENCE_OPS_IOC_SET_FLAGS => self.set_flags(arg),
            uapi::SW_SYNC_GET_DEADLINE => self.shared.get_deadline(arg),
            uapi::SW_SYNC_IOC_CREATE_FENCE | uapi::SW_SYNC_IOC_INC => {
                let state = self.state.lock();
                let timeline = state.timeline.as_ref().ok_or(EINVAL)?;
                if cmd == uapi::SW_SYNC_IOC_INC {
                    timeline.inc(arg)
                } else {
                    timeline.create_fence(arg)
                }
            }
            _ => Err(ENOTTY),
        }
    }
}

#[pinned_drop]
impl PinnedDrop for SwSyncFile {
    fn drop(self: Pin<&mut Self>) {
        let mut state = self.state.lock();
        let Some(timeline) = state.timeline.take() else {
            return;
        };
        {
            let mut modes = self.shared.modes.lock();
            modes.pinning -= usize::from(timeline.is_pinned());
            modes.keeping -= usize::from(state.flags & FENCE_OPS_KEEP_ON_CLOSE != 0);
        }
        let context = timeline.context();
        if state.flags & FENCE_OPS_KEEP_ON_CLOSE != 0 {
            let mut kept = self.shared.kept.lock();
            kept.reserved -= 1;
            // Room was reserved when the flag was set.
            match kept.timelines.push_within_capacity(timeline) {
                Ok(()) => return,
                // Cannot happen; the timeline was dropped, which signalled its points.
                Err(_) => pr_err!("no room reserved to keep a closed timeline\n"),
            }
        } else {
            // Signals the pending points with -ENOENT.
            drop(timeline);
        }
        self.shared
            .timelines
            .lock()
            .retain(|t| t.context() != context);
    }
}

/// `info`: the provider's counts, then each timeline and its pending points, like `sync/info`.
struct InfoFile;

#[vtable]
impl ShowFile for InfoFile {
    type Context = Shared;

    fn show(shared: &Shared, m: &SeqFile) -> Result {
        kernel::seq_print!(
            m,
            "provider {:?}: {} issued, {} pending, {} pinned\n",
            shared.provider.name(),
            shared.provider.issued(),
            shared.provider.pending(),
            shared.provider.pinned()
        );
        let kept = shared.kept.lock();
        for timeline in shared.timelines.lock().iter() {
            let is_kept = kept
                .timelines
                .iter()
                .any(|k| k.context() == timeline.context());
            show_timeline(
                timeline,
                m,
                if is_kept { "kept after close" } else { "open" },
            )?;
        }
        Ok(())
    }
}

/// The module's fence state, dropped by the registration before the unload protocol.
///
/// The files hold the module while they are open, so none is open any more when this is
/// dropped, at module exit.
struct State {
    // Dropped in declaration order: the files first, then what they shared.
    _sw_sync: File<Shared>,
    _sw_sync_dev: Option<Pin<KBox<MiscIoctl<SwSyncFile>>>>,
    _info: File<Shared>,
    _shared: Arc<Shared>,
}

struct FenceOpsModule {
    _registration: ProviderRegistration<State>,
}

impl kernel::Module for FenceOpsModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let registration = ProviderRegistration::new(module, c"fence_ops", |provider| {
            let shared = Arc::pin_init(
                pin_init!(Shared {
                    provider: provider.clone(),
                    kept <- kernel::new_mutex!(Kept {
                        timelines: KVec::new(),
                        reserved: 0,
                    }),
                    timelines <- kernel::new_mutex!(KVec::new()),
                    modes <- kernel::new_mutex!(Modes {
                        pinning: 0,
                        keeping: 0,
                    }),
                }),
                GFP_KERNEL,
            )?;
            let dir = Dir::new(c"fence_ops")?;
            let sw_sync_dev = if module_parameters::sw_sync_dev.value() {
                let dev = KBox::pin_init(
                    MiscIoctl::register(c"sw_sync", shared.clone()),
                    GFP_KERNEL,
                )
                .inspect_err(|e| {
                    pr_err!("cannot register /dev/sw_sync: {e:?} (sw_sync_dev=0 does without)\n")
                })?;
                Some(dev)
            } else {
                None
            };
            Ok(State {
                // The modes of sync/sw_sync and sync/info (drivers/dma-buf/sync_debug.c).
                _sw_sync: File::ioctl::<SwSyncFile>(&dir, c"sw_sync", 0o644, shared.clone())?,
                _sw_sync_dev: sw_sync_dev,
                _info: File::show::<InfoFile>(&dir, c"info", 0o444, shared.clone())?,
                _shared: shared,
            })
        })?;
        if module_parameters::sw_sync_dev.value() {
            pr_info!(
                "loaded: sw_sync ABI at /sys/kernel/debug/fence_ops/sw_sync and /dev/sw_sync\n"
            );
        } else {
            pr_info!("loaded: sw_sync ABI at /sys/kernel/debug/fence_ops/sw_sync\n");
        }
        Ok(FenceOpsModule {
            _registration: registration,
        })
    }
}
