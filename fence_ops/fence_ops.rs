// SPDX-License-Identifier: GPL-2.0

//! fence_ops: a dma_fence provider built on rust_fence that serves the sw_sync ABI.
//!
//! `/sys/kernel/debug/fence_ops/sw_sync` behaves like the kernel's `sync/sw_sync`: each open is
//! a timeline, `SW_SYNC_IOC_CREATE_FENCE` returns a sync_file fd for a point on it,
//! `SW_SYNC_IOC_INC` advances it, `SW_SYNC_GET_DEADLINE` reads a deadline, and closing it
//! signals what is left with `-ENOENT`. `FENCE_OPS_IOC_SET_FLAGS`, our own ioctl, selects a
//! module-pinning ops table for the timeline or keeps it alive after close until the module
//! unloads. `/sys/kernel/debug/fence_ops/info` lists timelines and pending points.
//!
//! Fences of the default tables detach when they signal, so the module unloads while they
//! live on: the [`ProviderRegistration`] runs the unload protocol. This file and `sw_sync.rs`
//! have no `unsafe`; it is confined to `debugfs.rs` (debugfs files with ioctls, which the kernel
//! crate does not offer) and `task.rs` (the task name, copied by the C helper in `helpers.c`).

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
mod sw_sync;
mod task;
mod uapi;

use debugfs::{
    Dir,
    File,
    IoctlFile,
    ShowFile, //
};
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
}

impl Shared {
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
        let Some(timeline) = state.timeline.as_ref() else {
            return Err(EINVAL);
        };
        let new = if pinned != timeline.is_pinned() {
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
        let keep = flags & FENCE_OPS_KEEP_ON_CLOSE != 0;
        let kept = state.flags & FENCE_OPS_KEEP_ON_CLOSE != 0;
        if keep && !kept {
            let mut k = self.shared.kept.lock();
            let more = k.reserved + 1;
            k.timelines.reserve(more, GFP_KERNEL)?;
            k.reserved = more;
        } else if kept && !keep {
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
    // Dropped in declaration order: the files first, then their directory, then what they
    // shared.
    _sw_sync: File<Shared>,
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
                }),
                GFP_KERNEL,
            )?;
            let dir = Dir::new(c"fence_ops")?;
            Ok(State {
                // The modes of sync/sw_sync and sync/info (drivers/dma-buf/sync_debug.c).
                _sw_sync: File::ioctl::<SwSyncFile>(&dir, c"sw_sync", 0o644, shared.clone())?,
                _info: File::show::<InfoFile>(&dir, c"info", 0o444, shared.clone())?,
                _shared: shared,
            })
        })?;
        pr_info!("loaded: sw_sync ABI at /sys/kernel/debug/fence_ops/sw_sync\n");
        Ok(FenceOpsModule {
            _registration: registration,
        })
    }
}
