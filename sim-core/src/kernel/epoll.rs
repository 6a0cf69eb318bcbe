//! `epoll`: an object in the kernel that watches open files for a process, after `fs/eventpoll.c`.
//!
//! An epoll instance (`struct eventpoll`) is an open file of its own (`epoll_create1`). It holds
//! *items* (`struct epitem`), one per watched (open file, descriptor) pair that `epoll_ctl` added, each
//! with the events it asks for, and a *ready list* (`rdllist`) of items that may have events. An item
//! sits on the wait queues of its file as a callback, not as a process: when the file's queue is woken
//! with a key that has one of the item's events (or with no key), `ep_poll_callback` puts the item at
//! the tail of the ready list, if it is not there already, and wakes one process asleep in
//! `epoll_wait` on the instance (they sleep *exclusive* and at the head of the queue, so one per
//! wake-up, the latest to sleep first) and every process polling
//! the instance's own descriptor (`poll_wait`), which also reaches epoll instances that watch this one.
//!
//! `epoll_wait` (`ep_poll`, `ep_send_events`) walks the ready list from its head, asking each item's
//! file what it is ready for (`ep_item_poll`): an item with nothing the item asks for is dropped from
//! the list; one with events is reported, with the descriptor it was added with, and then, as its mode
//! says, put back at the tail (level-triggered, the default: reported again while it stays ready),
//! left off (`EPOLLET`, edge-triggered: reported again only after another wake-up of its file), or
//! disabled (`EPOLLONESHOT`: its events are cleared until `EPOLL_CTL_MOD`). Items past `maxevents`
//! stay at the head of the list, in their order (`ep_done_scan`), and if the list is not empty after
//! the walk another sleeper of the instance is woken.
//!
//! An item belongs to its open file, not to the descriptor: closing the descriptor while a `dup` of it
//! (or a child's copy) keeps the file open leaves the item watching, and reporting the old number;
//! the item goes away when the file's last descriptor closes (`eventpoll_release_file`), or by
//! `EPOLL_CTL_DEL` while the descriptor still names the same file.
//!
//! Which wake-ups reach an item is each file's business: a pipe's reader side is woken by a write that
//! found it empty, and on every write once the pipe was ever polled (`pipe_write`'s `poll_usage`, which
//! `pipe_poll` sets: here, whenever an epoll instance watches the pipe's read side), a pipe's writer side
//! by a read that frees a slot of a full pipe, each side by the other side's last close; a socket by
//! every message queued (`sk_data_ready`), by room made (`sk_write_space`), by a state change (no key);
//! a POSIX queue by its sends and receives.
//!
//! A signal makes a sleeping `epoll_wait` fail with `EINTR`, a handler or not, even after a stop:
//! `ep_poll` returns `-EINTR` itself, and `epoll_wait` is never restarted.

use super::fd::{FileObject, OpenFile};
use super::poll::Queue;
use super::time::TimerKind;
use super::wait::{WaitQueue, Wake};
use super::{CallContext, Exec, Kernel};
use crate::linux::epoll::{
    ALWAYS_WATCHED, EPOLLET, EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD,
    EP_MAX_EVENTS, EP_MAX_NESTS, EP_PRIVATE_BITS, EXCLUSIVE_OK_BITS, MAX_EPOLL_EVENTS,
};
use crate::linux::errno::{EBADF, EEXIST, EINVAL, ELOOP, EMFILE, ENOENT, EPERM};
use crate::linux::fcntl::O_RDWR;
use crate::linux::poll::{POLLIN, POLLRDNORM};
use crate::trace::{BlockReason, CallResult, ObjectRef, Pid, Trace, WakeCause};

/// One watched (open file, descriptor) pair of an epoll instance (`struct epitem`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpItem {
    /// The descriptor it was added with: what `epoll_wait` reports (`data.fd`).
    pub fd: i32,
    /// The open file it watches.
    pub file: u32,
    /// What it asks for, with `EPOLLERR` and `EPOLLHUP` and the mode bits (`EPOLLET`, `EPOLLONESHOT`).
    pub events: i64,
    /// When it was added, across all instances: its callback went to the head of its file's queues
    /// then (`add_wait_queue`), so the latest added is called first.
    pub seq: u64,
}

impl EpItem {
    /// Whether it watches at all: an `EPOLLONESHOT` item that was reported keeps only its mode bits.
    fn enabled(&self) -> bool {
        self.events & !EP_PRIVATE_BITS != 0
    }
}

/// An epoll instance (`struct eventpoll`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Epoll {
    pub id: u32,
    /// Its own open file (`epoll_create1`'s descriptor): the object a step touching it reads or writes.
    pub file: u32,
    /// The watched pairs, in the order they were added.
    pub items: Vec<EpItem>,
    /// The ready list, head first, by (open file, descriptor).
    pub ready: Vec<(u32, i32)>,
    /// Processes asleep in `epoll_wait` on it (`ep->wq`; exclusive sleepers, the latest first).
    pub wait: WaitQueue,
    /// Processes polling its descriptor with `poll` or `select` (`ep->poll_wait`).
    pub poll_wait: WaitQueue,
}

impl Epoll {
    fn item(&self, file: u32, fd: i32) -> Option<&EpItem> {
        self.items.iter().find(|item| item.file == file && item.fd == fd)
    }

    fn is_ready(&self, file: u32, fd: i32) -> bool {
        self.ready.contains(&(file, fd))
    }
}

impl Kernel {
    pub fn epoll(&self, id: u32) -> Option<&Epoll> {
        self.epolls.get((id as usize).wrapping_sub(1)).and_then(Option::as_ref)
    }

    pub(crate) fn epoll_mut(&mut self, id: u32) -> &mut Epoll {
        if self.footprint.enabled {
            let file = self.epolls[id as usize - 1].as_ref().expect("a live epoll").file;
            self.footprint.write(ObjectRef::file(file));
        }
        self.epolls[id as usize - 1].as_mut().expect("a live file points at a freed epoll instance")
    }

    /// What epoll instance `id`'s own descriptor is ready for (`ep_eventpoll_poll`): readable when an
    /// item of its ready list has events. Read only: [`trim_ready`] drops what this walk passes over.
    pub(crate) fn epoll_mask(&self, id: u32, depth: usize) -> i64 {
        let Some(epoll) = self.epoll(id) else { return 0 };
        let ready = epoll
            .ready
            .iter()
            .any(|(file, fd)| epoll.item(*file, *fd).is_some_and(|item| self.item_poll(item, depth + 1) != 0));
        if ready {
            POLLIN | POLLRDNORM
        } else {
            0
        }
    }

    /// What an item's file has of what the item asks for (`ep_item_poll`).
    fn item_poll(&self, item: &EpItem, depth: usize) -> i64 {
        if self.files.get(item.file as usize).is_none_or(Option::is_none) {
            return 0;
        }
        let mask = match self.file(item.file).object {
            // A nested instance answers for its own ready list, as deep as instances may nest.
            FileObject::Epoll(inner) if depth <= EP_MAX_NESTS => self.epoll_mask(inner, depth),
            FileObject::Epoll(_) => 0,
            _ => self.poll_mask(item.file, item.events, &mut Vec::new()),
        };
        mask & item.events
    }

    /// The wait queues an item's callback sits on: those its file's `poll` registers, whatever the
    /// file is ready for now. A socket's is its one queue (the model's readers and writers); a
    /// datagram socket hears of room at a full receiver through the relay a look at it hung on the
    /// receiver's `peer_wait`, which wakes the socket's own queue (`socket::peer_wake_me`).
    fn item_queues(&self, item: &EpItem) -> Vec<Queue> {
        let file = self.file(item.file);
        match file.object {
            FileObject::Epoll(inner) => vec![Queue::Epoll(inner)],
            FileObject::Socket(id) => vec![Queue::SocketRead(id), Queue::SocketWrite(id)],
            _ => {
                let mut queues = Vec::new();
                self.poll_mask(item.file, item.events, &mut queues);
                queues
            }
        }
    }

    /// A wake-up of `queue` with `key` (0: no key, every event) reaches the epoll items on it
    /// (`ep_poll_callback`): each enabled item whose events meet the key goes to the tail of its
    /// instance's ready list, and each such instance wakes one `epoll_wait` sleeper and every poller of
    /// its descriptor, whose wake-up reaches the instances that watch it in turn.
    pub(crate) fn epoll_callback(&mut self, queue: Queue, key: i64, by: Pid, cause: WakeCause, trace: &mut Trace) {
        if !crate::IPC || self.epolls.is_empty() {
            return;
        }
        // Every item on the queue, latest added first, as `__wake_up_common` meets their entries.
        let mut reached: Vec<(u64, u32, u32, i32)> = Vec::new();
        for epoll in self.epolls.iter().flatten() {
            for item in &epoll.items {
                if item.enabled() && (key == 0 || key & item.events != 0) && self.item_queues(item).contains(&queue) {
                    reached.push((item.seq, epoll.id, item.file, item.fd));
                }
            }
        }
        reached.sort_unstable_by_key(|hit| std::cmp::Reverse(hit.0));
        for (_, id, file, fd) in reached {
            // A callback earlier in this walk may have released nothing: items only go with a close.
            let epoll = self.epoll_mut(id);
            if !epoll.is_ready(file, fd) {
                epoll.ready.push((file, fd));
            }
            self.wake_epoll(id, by, cause, trace);
        }
    }

    /// An instance has ready items: one `epoll_wait` sleeper wakes, and every poller of its
    /// descriptor (`ep_poll_safewake`, key `EPOLLIN`), with the instances watching it.
    fn wake_epoll(&mut self, id: u32, by: Pid, cause: WakeCause, trace: &mut Trace) {
        let mut woken = Vec::new();
        self.epoll_mut(id).wait.wake(Wake::One, &mut woken);
        let pollers = !self.epoll_mut(id).poll_wait.is_empty();
        if pollers {
            self.epoll_mut(id).poll_wait.wake(Wake::All, &mut woken);
        }
        for pid in woken {
            self.wake(pid, by, cause, trace);
        }
        self.epoll_callback(Queue::Epoll(id), POLLIN, by, cause, trace);
    }

    /// Whether an epoll item waits on `queue`: a pipe's reader side is then woken on every write
    /// (`pipe_write`'s `poll_usage`).
    pub(crate) fn epoll_watches(&self, queue: Queue) -> bool {
        crate::IPC
            && self
                .epolls
                .iter()
                .flatten()
                .any(|epoll| epoll.items.iter().any(|item| self.item_queues(item).contains(&queue)))
    }

    /// An open file is gone (its last descriptor closed): every item on it leaves its instance
    /// (`eventpoll_release_file`), and an epoll instance's own file takes its items with it (`ep_free`).
    pub(crate) fn epoll_file_released(&mut self, index: u32, object: FileObject) {
        if !crate::IPC || self.epolls.is_empty() {
            return;
        }
        if let FileObject::Epoll(id) = object {
            self.epolls[id as usize - 1] = None;
        }
        for slot in 0..self.epolls.len() {
            let Some(epoll) = &self.epolls[slot] else { continue };
            if epoll.items.iter().any(|item| item.file == index) {
                let id = epoll.id;
                let epoll = self.epoll_mut(id);
                epoll.items.retain(|item| item.file != index);
                epoll.ready.retain(|(file, _)| *file != index);
            }
        }
        while self.epolls.last().is_some_and(Option::is_none) {
            self.epolls.pop();
        }
    }

    /// Before open file `index` is polled: if it is an epoll instance, its walk of the ready list.
    pub(crate) fn trim_if_epoll(&mut self, index: u32, by: Pid, trace: &mut Trace) {
        if let FileObject::Epoll(id) = self.file(index).object {
            self.trim_ready(id, by, trace);
        }
    }

    /// Polling an instance's descriptor drops the items it passes over that have nothing, up to the
    /// first that has (`__ep_eventpoll_poll`'s walk), and ends as any walk does (`ep_done_scan`). Each
    /// item it looks at is polled as its file's `poll` polls (an instance inside walks its own list
    /// first, as deep as instances nest; a datagram socket may hang its relay).
    pub(crate) fn trim_ready(&mut self, id: u32, by: Pid, trace: &mut Trace) {
        self.trim_ready_at(id, 1, by, trace);
    }

    fn trim_ready_at(&mut self, id: u32, depth: usize, by: Pid, trace: &mut Trace) {
        let Some(epoll) = self.epoll(id) else { return };
        let entries = epoll.ready.clone();
        let mut drop = Vec::new();
        for (file, fd) in entries {
            let Some(item) = self.epoll(id).and_then(|epoll| epoll.item(file, fd)).cloned() else {
                drop.push((file, fd));
                continue;
            };
            if let FileObject::Epoll(inner) = self.file(item.file).object {
                if depth < EP_MAX_NESTS {
                    self.trim_ready_at(inner, depth + 1, by, trace);
                }
            }
            let has = self.item_poll(&item, depth);
            self.dgram_poll_relay(item.file, item.events);
            if has != 0 {
                break;
            }
            drop.push((file, fd));
        }
        if !drop.is_empty() {
            self.epoll_mut(id).ready.retain(|entry| !drop.contains(entry));
        }
        done_scan(self, id, by, trace);
    }

    /// The processes that could give an `epoll_wait` sleeper an event: for each item, those that could
    /// make its file ready.
    pub(crate) fn epoll_could_end_wait(&self, id: u32, depth: usize) -> Vec<Pid> {
        let Some(epoll) = self.epoll(id) else { return Vec::new() };
        let mut holders = Vec::new();
        for item in epoll.items.iter().filter(|item| item.enabled()) {
            match self.file(item.file).object {
                FileObject::Epoll(inner) if depth < EP_MAX_NESTS => {
                    holders.extend(self.epoll_could_end_wait(inner, depth + 1))
                }
                _ => holders.extend(self.file_could_become_ready(item.file)),
            }
        }
        holders.sort_unstable();
        holders.dedup();
        holders
    }
}

/// Pictures of the epoll instances.
pub(crate) fn views(kernel: &Kernel, out: &mut Vec<crate::present::snapshot::ObjectView>) {
    use crate::linux::{value_text, Family};
    use crate::present::snapshot::{file_words, EpItemView, EpollView, ObjectView};
    for epoll in kernel.epolls.iter().flatten() {
        let items = epoll
            .items
            .iter()
            .map(|item| {
                let mode = match (item.events & EPOLLONESHOT != 0, item.enabled(), item.events & EPOLLET != 0) {
                    (true, false, _) => "one-shot, reported",
                    (true, true, _) => "one-shot",
                    (false, _, true) => "edge",
                    (false, _, false) => "level",
                };
                let shown = |value: i64| match value & !EP_PRIVATE_BITS {
                    0 => String::new(),
                    value => value_text(Family::EpollEvent, value),
                };
                EpItemView {
                    fd: item.fd,
                    file: file_words(kernel, kernel.file(item.file)),
                    events: match shown(item.events & !ALWAYS_WATCHED) {
                        text if text.is_empty() => "nothing but errors and hang-ups".to_string(),
                        text => text,
                    },
                    mode: mode.to_string(),
                    has: shown(kernel.item_poll(item, 1)),
                    ready_at: epoll.ready.iter().position(|entry| *entry == (item.file, item.fd)).map(|at| at as u32),
                }
            })
            .collect();
        let holders = kernel
            .alive
            .iter()
            .copied()
            .filter(|pid| kernel.process(*pid).fds.iter().flatten().any(|entry| entry.file == epoll.file))
            .collect();
        out.push(ObjectView::Epoll(Box::new(EpollView {
            id: epoll.id,
            items,
            ready: epoll.ready.iter().map(|(_, fd)| *fd).collect(),
            waiters: epoll.wait.pids().collect(),
            pollers: epoll.poll_wait.pids().collect(),
            holders,
        })));
    }
}

/// The instance behind `fd` of `pid`: `EBADF` for no descriptor, `EINVAL` for one that is not an epoll
/// instance.
fn instance(kernel: &Kernel, pid: Pid, fd: i64) -> Result<(u32, u32), crate::linux::errno::Errno> {
    let index = kernel.file_of(pid, fd).ok_or(EBADF)?;
    match kernel.file(index).object {
        FileObject::Epoll(id) => Ok((index, id)),
        _ => Err(EINVAL),
    }
}

/// `epoll_create1`: a new instance on the lowest free descriptor.
pub(crate) fn create(kernel: &mut Kernel, call: &CallContext) -> Exec {
    let (pid, flags) = (call.pid, call.arg(0));
    if flags & !EPOLL_CLOEXEC != 0 {
        return Kernel::error(EINVAL);
    }
    let Some(fd) = kernel.lowest_free_fd(pid, 0) else { return Kernel::error(EMFILE) };
    let id = match kernel.epolls.iter().position(Option::is_none) {
        Some(free) => free as u32 + 1,
        None => {
            kernel.epolls.push(None);
            kernel.epolls.len() as u32
        }
    };
    let file = kernel.new_file(OpenFile {
        object: FileObject::Epoll(id),
        readable: true,
        writable: true,
        nonblock: false,
        base_flags: O_RDWR,
        refs: 1,
        offset: 0,
        fifo_writers_seen: None,
    });
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::file(file));
    }
    kernel.epolls[id as usize - 1] = Some(Epoll {
        id,
        file,
        items: Vec::new(),
        ready: Vec::new(),
        wait: WaitQueue::default(),
        poll_wait: WaitQueue::default(),
    });
    kernel.install_fd(pid, fd, file, flags & EPOLL_CLOEXEC != 0);
    Exec::Done(CallResult::Value { value: fd })
}

/// How deep instance `from` watches instances below it (0 for none), or `None` if it reaches
/// instance `into` (a loop) or goes deeper than `EP_MAX_NESTS` (`ep_loop_check_proc`).
fn depth_below(kernel: &Kernel, from: u32, into: u32, depth: usize) -> Option<usize> {
    let epoll = kernel.epoll(from)?;
    let mut deepest = 0;
    for item in &epoll.items {
        if let FileObject::Epoll(inner) = kernel.file(item.file).object {
            if inner == into || depth > EP_MAX_NESTS {
                return None;
            }
            deepest = deepest.max(depth_below(kernel, inner, into, depth + 1)? + 1);
            if deepest > EP_MAX_NESTS {
                return None;
            }
        }
    }
    Some(deepest)
}

/// How many instances are stacked above instance `id` (0 when none watches it):
/// `ep_get_upwards_depth_proc`.
fn depth_above(kernel: &Kernel, id: u32) -> usize {
    let Some(file) = kernel.epoll(id).map(|epoll| epoll.file) else { return 0 };
    kernel
        .epolls
        .iter()
        .flatten()
        .filter(|parent| parent.items.iter().any(|item| item.file == file))
        .map(|parent| depth_above(kernel, parent.id) + 1)
        .max()
        .unwrap_or(0)
}

/// `ep_loop_check`: adding instance `to` to instance `into` makes a loop, or a stack of instances
/// deeper than `EP_MAX_NESTS` (those below `to`, `to` itself, and those above `into`).
fn loops(kernel: &Kernel, into: u32, to: u32) -> bool {
    match depth_below(kernel, to, into, 0) {
        None => true,
        Some(below) => below + 1 + depth_above(kernel, into) > EP_MAX_NESTS,
    }
}

/// `epoll_ctl` (`do_epoll_ctl`), its checks in Linux's order: both descriptors open (`EBADF`), a
/// target with a `poll` operation (`EPERM`: `/dev/null`, a shared memory object), an epoll instance
/// that is not the target itself (`EINVAL`), `EPOLLEXCLUSIVE`'s rules (`EINVAL`), no loop of
/// instances (`ELOOP`), then the operation: `EEXIST` for an `ADD` of a pair already there, `ENOENT`
/// for a `MOD` or `DEL` of one that is not, `EINVAL` for an unknown operation.
pub(crate) fn ctl(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let (pid, epfd, op, fd, asked) = (call.pid, call.arg(0), call.arg(1), call.arg(2), call.arg(3));
    let Some(epoll_file) = kernel.file_of(pid, epfd) else { return Kernel::error(EBADF) };
    let Some(target) = kernel.file_of(pid, fd) else { return Kernel::error(EBADF) };
    if kernel.footprint.enabled {
        kernel.footprint.read(ObjectRef::file(target));
        let object = kernel.file(target).object.object_ref();
        if object != ObjectRef::DEV_NULL {
            kernel.footprint.read(object);
        }
    }
    // `file_can_poll`: /dev/null and a tmpfs file have no `poll` of their own.
    if matches!(kernel.file(target).object, FileObject::DevNull | FileObject::ShmObject(_)) {
        return Kernel::error(EPERM);
    }
    let FileObject::Epoll(id) = kernel.file(epoll_file).object else { return Kernel::error(EINVAL) };
    if epoll_file == target {
        return Kernel::error(EINVAL);
    }
    let has_event = op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD;
    let target_epoll = match kernel.file(target).object {
        FileObject::Epoll(inner) => Some(inner),
        _ => None,
    };
    let exclusive_refused = op == EPOLL_CTL_MOD || target_epoll.is_some() || asked & !EXCLUSIVE_OK_BITS != 0;
    if has_event && asked & EPOLLEXCLUSIVE != 0 && exclusive_refused {
        return Kernel::error(EINVAL);
    }
    if op == EPOLL_CTL_ADD {
        if let Some(inner) = target_epoll {
            if inner == id || loops(kernel, id, inner) {
                return Kernel::error(ELOOP);
            }
        }
    }
    let fd = fd as i32;
    let exists = kernel.epoll_mut(id).item(target, fd).is_some();
    match op {
        EPOLL_CTL_ADD if exists => Kernel::error(EEXIST),
        EPOLL_CTL_ADD => {
            kernel.epoll_seq += 1;
            let item = EpItem { fd, file: target, events: asked | ALWAYS_WATCHED, seq: kernel.epoll_seq };
            kernel.epoll_mut(id).items.push(item);
            arm(kernel, id, target, fd, pid, trace);
            Exec::Done(CallResult::Value { value: 0 })
        }
        EPOLL_CTL_MOD if !exists => Kernel::error(ENOENT),
        EPOLL_CTL_MOD => {
            let epoll = kernel.epoll_mut(id);
            let item = epoll.items.iter_mut().find(|item| item.file == target && item.fd == fd).expect("exists");
            if item.events & EPOLLEXCLUSIVE != 0 {
                return Kernel::error(EINVAL);
            }
            item.events = asked | ALWAYS_WATCHED;
            arm(kernel, id, target, fd, pid, trace);
            Exec::Done(CallResult::Value { value: 0 })
        }
        EPOLL_CTL_DEL if !exists => Kernel::error(ENOENT),
        EPOLL_CTL_DEL => {
            let epoll = kernel.epoll_mut(id);
            epoll.items.retain(|item| !(item.file == target && item.fd == fd));
            epoll.ready.retain(|entry| *entry != (target, fd));
            Exec::Done(CallResult::Value { value: 0 })
        }
        _ => Kernel::error(EINVAL),
    }
}

/// After `ep_insert` or `ep_modify`: an item already ready goes on the ready list (if it is not on it)
/// and wakes the instance's sleepers and pollers.
fn arm(kernel: &mut Kernel, id: u32, file: u32, fd: i32, by: Pid, trace: &mut Trace) {
    kernel.trim_if_epoll(file, by, trace);
    let epoll = kernel.epoll(id).expect("live");
    let item = epoll.item(file, fd).expect("just added or changed");
    let (has, events) = (kernel.item_poll(item, 1), item.events);
    kernel.dgram_poll_relay(file, events);
    let epoll = kernel.epoll(id).expect("live");
    if has == 0 || epoll.is_ready(file, fd) {
        return;
    }
    kernel.epoll_mut(id).ready.push((file, fd));
    let object = kernel.file(file).object.object_ref();
    kernel.wake_epoll(id, by, WakeCause::Data { object }, trace);
}

/// `epoll_wait` (`do_epoll_wait`, `ep_check_params`, `ep_poll`), one attempt: `EBADF`, then `EINVAL`
/// for MAXEVENTS out of range, then `EINVAL` for a descriptor that is no epoll instance; then the
/// ready list's events, or 0 at once for a timeout of 0 or a time past, or asleep on the instance.
pub(crate) fn wait(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let (pid, epfd, maxevents, timeout_ms) = (call.pid, call.arg(0), call.arg(1), call.arg(2));
    kernel.proc_mut(pid).still_queued = None;
    kernel.proc_mut(pid).call.timed_out = false;
    leave(kernel, pid);
    // The descriptor first, then `ep_check_params`: MAXEVENTS, then whether it is an instance.
    let checked = match kernel.file_of(pid, epfd) {
        None => Err(EBADF),
        Some(_) if maxevents <= 0 || maxevents > EP_MAX_EVENTS => Err(EINVAL),
        Some(_) => instance(kernel, pid, epfd).map(|(_, id)| id),
    };
    let id = match checked {
        Ok(id) => id,
        Err(errno) => {
            kernel.cancel_timer(pid, TimerKind::Wake);
            return Kernel::error(errno);
        }
    };
    let Some(result) = send_events(kernel, id, maxevents, pid, trace) else {
        kernel.cancel_timer(pid, TimerKind::Wake);
        let detail = format!(
            "an epoll_wait would report more than {MAX_EPOLL_EVENTS} events, the most the simulator's \
             epoll_wait holds: ask for at most {MAX_EPOLL_EVENTS} (its MAXEVENTS)"
        );
        return kernel.halt("epoll_wait events", detail);
    };
    let CallResult::Epolled { ready, .. } = result else { unreachable!("send_events gives events") };
    let Some(until) = super::poll::sleep_until(kernel, pid, ready > 0, timeout_ms) else { return Exec::Done(result) };
    // `__add_wait_queue_exclusive`: at the head, so the latest sleeper wakes first.
    kernel.epoll_mut(id).wait.add_first_exclusive(pid);
    Exec::Block(BlockReason::Epoll { epoll: id, until })
}

/// `ep_send_events` and `ep_done_scan`: up to `maxevents` events from the head of the ready list, each
/// item then put back at the tail, left off or disabled as its mode says; `None` when more events
/// than a scenario's result holds would be reported. A ready list left with items wakes another
/// sleeper of the instance.
fn send_events(kernel: &mut Kernel, id: u32, maxevents: i64, by: Pid, trace: &mut Trace) -> Option<CallResult> {
    let mut fds = [0i16; MAX_EPOLL_EVENTS];
    let mut events = [0u16; MAX_EPOLL_EVENTS];
    let mut reported = 0usize;
    let taken = std::mem::take(&mut kernel.epoll_mut(id).ready);
    let mut left = Vec::new();
    let mut again = Vec::new();
    for (at, (file, fd)) in taken.iter().copied().enumerate() {
        if reported as i64 >= maxevents {
            left.extend_from_slice(&taken[at..]);
            break;
        }
        // An instance watched by this one walks its own ready list as it is asked
        // (`ep_item_poll` of an epoll file is `__ep_eventpoll_poll`).
        kernel.trim_if_epoll(file, by, trace);
        let epoll = kernel.epoll(id).expect("live");
        let Some(item) = epoll.item(file, fd) else { continue };
        let revents = kernel.item_poll(item, 1);
        let (watched, mode) = (item.file, item.events);
        kernel.dgram_poll_relay(watched, mode);
        let epoll = kernel.epoll(id).expect("live");
        let Some(item) = epoll.item(file, fd) else { continue };
        if revents == 0 {
            continue;
        }
        if reported == MAX_EPOLL_EVENTS {
            kernel.epoll_mut(id).ready = taken;
            return None;
        }
        fds[reported] = fd as i16;
        events[reported] = revents as u16;
        reported += 1;
        let mode = item.events;
        if mode & EPOLLONESHOT != 0 {
            let item = kernel.epoll_mut(id).items.iter_mut().find(|item| item.file == file && item.fd == fd);
            let item = item.expect("reported");
            item.events &= EP_PRIVATE_BITS;
        } else if mode & EPOLLET == 0 {
            again.push((file, fd));
        }
    }
    left.extend(again);
    kernel.epoll_mut(id).ready = left;
    done_scan(kernel, id, by, trace);
    Some(CallResult::Epolled { ready: reported as u16, fds, events })
}

/// The end of a walk of the ready list (`ep_done_scan`): if items are left on it, one sleeper of the
/// instance wakes to take them.
fn done_scan(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    let epoll = kernel.epoll(id).expect("live");
    if epoll.ready.is_empty() || epoll.wait.is_empty() {
        return;
    }
    let object = ObjectRef::file(epoll.file);
    let mut woken = Vec::new();
    kernel.epoll_mut(id).wait.wake(Wake::One, &mut woken);
    for pid in woken {
        kernel.wake(pid, by, WakeCause::Data { object }, trace);
    }
}

/// Takes an `epoll_wait` sleeper off its instance's queue.
pub(crate) fn leave(kernel: &mut Kernel, pid: Pid) {
    for epoll in kernel.epolls.iter_mut().flatten() {
        epoll.wait.remove(pid);
        epoll.poll_wait.remove(pid);
    }
}

/// The instances' invariants: each is its file's, its items watch open files, its ready list names
/// items, once each, and each `epoll_wait` sleeper is on its instance's queue.
pub(crate) fn check(kernel: &Kernel) -> Result<(), String> {
    for epoll in kernel.epolls.iter().flatten() {
        let own = kernel.files.get(epoll.file as usize).and_then(Option::as_ref).map(|file| file.object);
        if own != Some(FileObject::Epoll(epoll.id)) {
            return Err(format!("epoll instance {} is not its open file {}'s", epoll.id, epoll.file));
        }
        for item in &epoll.items {
            if kernel.files.get(item.file as usize).is_none_or(Option::is_none) {
                return Err(format!("epoll instance {} watches fd {} of a closed file", epoll.id, item.fd));
            }
        }
        for (at, (file, fd)) in epoll.ready.iter().enumerate() {
            if epoll.item(*file, *fd).is_none() || epoll.ready[..at].contains(&(*file, *fd)) {
                return Err(format!("epoll instance {}'s ready list names fd {fd} wrongly", epoll.id));
            }
        }
    }
    for pid in &kernel.alive {
        if let super::ProcState::Blocked(BlockReason::Epoll { epoll, .. }) = kernel.process(*pid).state {
            if !kernel.epoll(epoll).is_some_and(|instance| instance.wait.contains(*pid)) {
                return Err(format!(
                    "{} sleeps in epoll_wait but not on its instance's queue",
                    kernel.process(*pid).name
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::kernel::run_round_robin as run;
    use crate::trace::RunOutcome;

    fn holds(text: &str) {
        let simulation = run(text);
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        assert_eq!(simulation.outcome().map(RunOutcome::name), Some("all-exited"));
    }

    #[test]
    fn level_triggered_items_repeat_edge_triggered_ones_wait_for_a_wake_up_and_one_shot_ones_for_a_mod() {
        holds(
            "process p expect exited 0 {\n  ep = epoll_create1\n  a = pipe\n  write a.w \"x\" -> 1\n  \
             epoll_ctl ep EPOLL_CTL_ADD a.r EPOLLIN -> 0\n  epoll_wait ep 5 0 -> 1\n  epoll_wait ep 5 0 -> 1\n  \
             epoll_ctl ep EPOLL_CTL_MOD a.r EPOLLIN|EPOLLET -> 0\n  epoll_wait ep 5 0 -> 1\n  epoll_wait ep 5 0 -> 0\n  \
             write a.w \"y\" -> 1\n  epoll_wait ep 5 0 -> 1\n  epoll_wait ep 5 0 -> 0\n  \
             epoll_ctl ep EPOLL_CTL_MOD a.r EPOLLIN|EPOLLONESHOT -> 0\n  epoll_wait ep 5 0 -> 1\n  \
             write a.w \"z\" -> 1\n  epoll_wait ep 5 0 -> 0\n}\n",
        );
    }

    #[test]
    fn events_past_maxevents_stay_at_the_head_and_reported_items_go_to_the_back() {
        holds(
            "process p expect exited 0 {\n  ep = epoll_create1\n  a = pipe\n  b = pipe\n  c = pipe\n  \
             write a.w \"1\" -> 1\n  write b.w \"2\" -> 1\n  write c.w \"3\" -> 1\n  \
             epoll_ctl ep EPOLL_CTL_ADD c.r EPOLLIN -> 0\n  epoll_ctl ep EPOLL_CTL_ADD a.r EPOLLIN -> 0\n  \
             epoll_ctl ep EPOLL_CTL_ADD b.r EPOLLIN -> 0\n  n = epoll_wait ep 2 0 -> 2\n  \
             if n.fd0 != c.r || n.fd1 != a.r || n.fd2 != -1 {\n    exit 1\n  }\n  \
             n = epoll_wait ep 2 0 -> 2\n  if n.fd0 != b.r || n.fd1 != c.r {\n    exit 2\n  }\n}\n",
        );
    }

    #[test]
    fn an_item_outlives_its_descriptor_in_a_duplicate_and_goes_with_the_last_close() {
        holds(
            "process p expect exited 0 {\n  ep = epoll_create1\n  a = pipe\n  d = dup a.r\n  \
             epoll_ctl ep EPOLL_CTL_ADD a.r EPOLLIN -> 0\n  close a.r -> 0\n  write a.w \"x\" -> 1\n  \
             n = epoll_wait ep 1 0 -> 1\n  if n.fd0 != 4 {\n    exit 1\n  }\n  \
             epoll_ctl ep EPOLL_CTL_DEL 4 -> EBADF\n  close d -> 0\n  epoll_wait ep 1 0 -> 0\n}\n",
        );
    }

    #[test]
    fn a_wake_up_wakes_one_sleeper_and_the_items_left_wake_the_next() {
        // Two workers asleep in epoll_wait on one instance (exclusive sleepers): one write wakes one,
        // and since the level-triggered item is back on the ready list after its report, that one's
        // report wakes the other (`ep_done_scan`). Both see the event.
        holds(
            "process main expect exited 0 {\n  ep = epoll_create1\n  a = pipe\n  \
             epoll_ctl ep EPOLL_CTL_ADD a.r EPOLLIN -> 0\n  \
             fork w1 expect exited 0 {\n    epoll_wait ep 1 -1 -> 1\n  }\n  \
             fork w2 expect exited 0 {\n    epoll_wait ep 1 -1 -> 1\n  }\n  \
             sched_yield\n  sched_yield\n  sched_yield\n  write a.w \"x\" -> 1\n  \
             waitpid w1 -> w1 exited 0\n  waitpid w2 -> w2 exited 0\n}\n",
        );
    }

    #[test]
    fn instances_may_watch_instances_but_not_in_a_loop() {
        holds(
            "process p expect exited 0 {\n  a = epoll_create1\n  b = epoll_create1\n  c = pipe\n  \
             epoll_ctl a EPOLL_CTL_ADD b EPOLLIN -> 0\n  epoll_ctl b EPOLL_CTL_ADD a EPOLLIN -> ELOOP\n  \
             epoll_ctl b EPOLL_CTL_ADD c.r EPOLLIN -> 0\n  epoll_wait a 1 0 -> 0\n  write c.w \"x\" -> 1\n  \
             n = epoll_wait a 1 0 -> 1\n  if n.fd0 != b {\n    exit 1\n  }\n}\n",
        );
    }

    #[test]
    fn more_events_than_a_scenario_holds_end_the_run_at_a_limit() {
        let simulation = run(
            "process p {\n  ep = epoll_create1\n  a = pipe\n  b = pipe\n  c = pipe\n  \
             epoll_ctl ep EPOLL_CTL_ADD a.w EPOLLOUT -> 0\n  epoll_ctl ep EPOLL_CTL_ADD a.r EPOLLIN -> 0\n  \
             epoll_ctl ep EPOLL_CTL_ADD b.w EPOLLOUT -> 0\n  epoll_ctl ep EPOLL_CTL_ADD b.r EPOLLIN -> 0\n  \
             epoll_ctl ep EPOLL_CTL_ADD c.w EPOLLOUT -> 0\n  epoll_ctl ep EPOLL_CTL_ADD c.r EPOLLIN -> 0\n  \
             close a.w -> 0\n  close b.w -> 0\n  close c.w -> 0\n  epoll_wait ep 5 0 -> 3\n  \
             ep2 = epoll_create1\n  d = pipe\n  epoll_ctl ep2 EPOLL_CTL_ADD d.w EPOLLOUT -> 0\n  \
             epoll_ctl ep2 EPOLL_CTL_ADD a.r EPOLLIN -> 0\n  epoll_ctl ep2 EPOLL_CTL_ADD b.r EPOLLIN -> 0\n  \
             epoll_ctl ep2 EPOLL_CTL_ADD c.r EPOLLIN -> 0\n  epoll_ctl ep2 EPOLL_CTL_ADD 0 EPOLLIN -> EPERM\n  \
             epoll_ctl ep2 EPOLL_CTL_ADD ep EPOLLIN -> 0\n  e = pipe\n  epoll_ctl ep2 EPOLL_CTL_ADD e.w EPOLLOUT -> 0\n  \
             epoll_wait ep2 64 0\n}\n",
        );
        match simulation.outcome() {
            Some(RunOutcome::LimitReached { limit, .. }) => assert_eq!(limit, "epoll_wait events"),
            other => panic!("{other:?}"),
        }
    }
}
