//! `poll`: one process waiting on several descriptors at once, after `fs/select.c` (`do_sys_poll`,
//! `do_poll`, `do_pollfd`) and each file's `poll` operation (`pipe_poll` in `fs/pipe.c`, `unix_poll` and
//! `unix_dgram_poll` in `net/unix/af_unix.c`).
//!
//! Each attempt looks at every entry and asks the entry's file what it is ready for (its *mask*), keeps
//! what the entry asked for plus `POLLERR` and `POLLHUP` (`do_pollfd`'s filter), and counts the entries
//! with anything left. A count above 0, a timeout of 0 or a time already past ends the call. Otherwise
//! the process sleeps on the wait queue of every object it polls, as a *non-exclusive* sleeper
//! (`__pollwait` adds one entry per queue, and every wake-up of the queue wakes it), and looks at every
//! entry again when woken: `do_poll` loops until something is ready, the time is up, or a signal is
//! pending. Which queues: a pipe's read end sleeps on `rd_wait`, a write end on `wr_wait` (`pipe_poll`
//! registers by the file's mode); a socket sleeps on its one queue (`sk_wq`), which the model splits in
//! two, readers and writers, so that a sleeper goes where the wake-ups its events ask for are made
//! (`pollwake` drops a wake-up whose key has none of the sleeper's events); a datagram socket that asks
//! for `POLLOUT` while its peer's queue is full also sleeps on the peer's, where Linux's poller hears of
//! it through the relay its look hangs there (`unix_dgram_peer_wake_me`), which the model hangs too,
//! for the epoll items on the socket ([`Kernel::dgram_poll_relay`]).
//!
//! `select` is the same loop over descriptor sets (`core_sys_select`, `do_select`): every descriptor
//! in a set must be open (`max_select_fd`, else `EBADF` before anything else), each is asked once,
//! lowest first, and it is ready in a set when its mask has one of that set's events (`POLLIN_SET`,
//! `POLLOUT_SET`, `POLLEX_SET`); the count is of (set, descriptor) pairs. A `select` sleeper goes on
//! the queues the sets it is in ask for (`wait_key_set`; Linux always adds `POLLEX_SET` to the key,
//! which only matters on the one queue a socket has there, and the model's split queue would turn it
//! into wake-ups Linux's `pollwake` drops).
//!
//! A signal makes `poll` and `select` fail with `EINTR` if a handler runs, even with `SA_RESTART`, and
//! restarts them with the time they had left after a stop (`-ERESTARTNOHAND`, or
//! `-ERESTART_RESTARTBLOCK` for a `poll` with a timeout: `do_restart_poll`; `select` writes the time
//! left back into its `timeval`, which the restarted call reads).

use super::fd::FileObject;
use super::socket::SocketKind;
use super::time::TimerKind;
use super::{CallContext, Exec, Interruption, Kernel, Mechanism};
use crate::lang::syscalls::CallId;
use crate::linux::poll::{
    self as linux_poll, SetEntry, ALWAYS_REPORTED, DEFAULT_POLLMASK, MAX_POLL_FDS, POLLERR, POLLEX_SET, POLLHUP,
    POLLIN, POLLIN_SET, POLLNVAL, POLLOUT, POLLOUT_SET, POLLPRI, POLLRDBAND, POLLRDHUP, POLLRDNORM, POLLWRBAND,
    POLLWRNORM,
};
use crate::trace::{Args, BlockReason, CallResult, ObjectRef, Pid, Trace};

/// The events that ask about reading, and those that ask about writing.
const READ_EVENTS: i64 = POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND | POLLRDHUP;
const WRITE_EVENTS: i64 = POLLOUT | POLLWRNORM | POLLWRBAND;

/// Where a sleeping poller waits for one entry (and where an epoll item's callback sits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queue {
    /// A POSIX queue's `wait_q`, which only pollers sleep on.
    Mqueue(u32),
    PipeRead(u32),
    PipeWrite(u32),
    SocketRead(u32),
    SocketWrite(u32),
    /// A datagram receiver's `peer_wait`, which its reads wake (the model's `connect_wait`).
    SocketPeer(u32),
    /// An epoll instance's `poll_wait`: pollers of its descriptor, and the instances that watch it.
    Epoll(u32),
}

/// The entries written: each `(fd, events)`.
pub(crate) fn entries(args: &Args) -> Vec<(i32, u16)> {
    (1..args.len()).filter_map(|index| linux_poll::unpack_pollfd(args.get(index))).collect()
}

/// The events of each `select` set, in the order of its operands.
const SET_EVENTS: [i64; 3] = [POLLIN_SET, POLLOUT_SET, POLLEX_SET];

/// A `select`'s three sets (read, write, exception), as written.
fn sets(args: &Args) -> [Vec<SetEntry>; 3] {
    [1, 2, 3].map(|index| linux_poll::unpack_fdset(args.get(index)))
}

/// The descriptors a `select` watches, each once, lowest first (`do_select`'s order), with the events
/// of every set it is in.
fn select_watched(sets: &[Vec<SetEntry>; 3]) -> Vec<(i32, u16)> {
    let mut watched: Vec<(i32, u16)> = Vec::new();
    for (set, events) in sets.iter().zip(SET_EVENTS) {
        for entry in set {
            let SetEntry::Fd(fd) = *entry else { continue };
            match watched.binary_search_by_key(&fd, |(watched, _)| *watched) {
                Ok(at) => watched[at].1 |= events as u16,
                Err(at) => watched.insert(at, (fd, events as u16)),
            }
        }
    }
    watched
}

/// What a `poll` or `select` call with these operands watches: each descriptor with the events it asks
/// about (a negative one is skipped later).
pub(crate) fn watched(id: CallId, args: &Args) -> Vec<(i32, u16)> {
    if id == CallId::Select {
        select_watched(&sets(args))
    } else {
        entries(args)
    }
}

impl Kernel {
    /// What `unix_dgram_poll` does besides answering, when asked for writing (`events`): a datagram
    /// socket whose own buffer has room but whose peer, not connected back, is too full puts its relay on
    /// that peer's `peer_wait` ([`super::socket::peer_wake_me`]). Every `poll` of a file does it: `poll`,
    /// `select`, and epoll's look at an item.
    pub(crate) fn dgram_poll_relay(&mut self, index: u32, events: i64) {
        let FileObject::Socket(id) = self.file(index).object else { return };
        if !crate::IPC || events & WRITE_EVENTS == 0 {
            return;
        }
        let Some(socket) = self.socket(id) else { return };
        if socket.kind != SocketKind::Dgram || socket.peer == 0 || socket.peer_dead || !socket.writable() {
            return;
        }
        let other = socket.peer;
        if self.socket(other).is_some_and(|other| other.peer != id && super::socket::receiver_full(other)) {
            super::socket::peer_wake_me(self, id, other);
        }
    }

    /// What open file `index` is ready for now (its `poll` operation), and the queues a poller asking
    /// for `events` sleeps on.
    pub(crate) fn poll_mask(&self, index: u32, events: i64, queues: &mut Vec<Queue>) -> i64 {
        let file = self.file(index);
        match file.object {
            FileObject::Pipe(id) => {
                let Some(pipe) = self.pipe(id) else { return 0 };
                let mut mask = 0;
                // `pipe_poll`
                if file.readable {
                    queues.push(Queue::PipeRead(id));
                    if !pipe.buffer.is_empty() {
                        mask |= POLLIN | POLLRDNORM;
                    }
                    if pipe.writers == 0 && file.fifo_writers_seen != Some(pipe.writer_opens) {
                        mask |= POLLHUP;
                    }
                }
                if file.writable {
                    queues.push(Queue::PipeWrite(id));
                    if !pipe.buffer.is_full() {
                        mask |= POLLOUT | POLLWRNORM;
                    }
                    if pipe.readers == 0 {
                        mask |= POLLERR;
                    }
                }
                mask
            }
            FileObject::Socket(id) => {
                let Some(socket) = self.socket(id) else { return 0 };
                let asks_read = events & READ_EVENTS != 0 || events & WRITE_EVENTS == 0;
                // `tcp_poll` in `SYN_SENT`: nothing to read or write yet, and no hang-up.
                if socket.inet.is_some_and(|inet| inet.state == super::tcp::TcpState::SynSent) {
                    if asks_read {
                        queues.push(Queue::SocketRead(id));
                    }
                    if events & WRITE_EVENTS != 0 {
                        queues.push(Queue::SocketWrite(id));
                    }
                    return if socket.error.is_some() { POLLERR } else { 0 };
                }
                if asks_read {
                    queues.push(Queue::SocketRead(id));
                }
                if events & WRITE_EVENTS != 0 {
                    queues.push(Queue::SocketWrite(id));
                }
                let both = super::socket::RCV_SHUTDOWN | super::socket::SEND_SHUTDOWN;
                let mut mask = 0;
                if socket.error.is_some() {
                    mask |= POLLERR;
                }
                if socket.shutdown == both {
                    mask |= POLLHUP;
                }
                if socket.shutdown & super::socket::RCV_SHUTDOWN != 0 {
                    mask |= POLLRDHUP | POLLIN | POLLRDNORM;
                }
                let queued = if socket.listening { !socket.pending.is_empty() } else { !socket.queue.is_empty() };
                if queued {
                    mask |= POLLIN | POLLRDNORM;
                }
                // `TCP_CLOSE` of a connection-based socket: never connected (and not listening).
                if socket.kind != SocketKind::Dgram && !socket.listening && socket.peer == 0 {
                    mask |= POLLHUP;
                }
                // `unix_writable`
                let mut writable = !socket.listening && socket.writable();
                if socket.kind == SocketKind::Dgram && events & WRITE_EVENTS != 0 && writable && socket.peer != 0 {
                    // `unix_dgram_poll`: a peer that is not connected back, with more than
                    // `max_dgram_qlen` datagrams queued, takes no more; the poller waits for its reads.
                    if let Some(other) = self.socket(socket.peer).filter(|_| !socket.peer_dead) {
                        if other.peer != id && super::socket::receiver_full(other) {
                            writable = false;
                            queues.push(Queue::SocketPeer(other.id));
                        }
                    }
                }
                // `tcp_poll` reports a writable TCP socket as `EPOLLOUT | EPOLLWRNORM` only; `unix_poll`,
                // `unix_dgram_poll` and `datagram_poll` (UDP) add `EPOLLWRBAND`.
                if writable {
                    let tcp = socket.inet.is_some() && socket.kind != SocketKind::Dgram;
                    mask |= if tcp { POLLOUT | POLLWRNORM } else { POLLOUT | POLLWRNORM | POLLWRBAND };
                }
                mask
            }
            // No `poll` operation of their own (`/dev/null`, a tmpfs file): always ready.
            FileObject::DevNull | FileObject::ShmObject(_) => DEFAULT_POLLMASK,
            // `mqueue_poll_file`
            FileObject::Mqueue(id) => {
                queues.push(Queue::Mqueue(id));
                super::mqueue::poll_mask(self, id)
            }
            // `ep_eventpoll_poll`
            FileObject::Epoll(id) => {
                queues.push(Queue::Epoll(id));
                self.epoll_mask(id, 0)
            }
        }
    }

    /// What `pid`'s `poll` or `select` (its next call) watches, with the operands it started with.
    fn watched_by(&self, pid: Pid) -> Vec<(i32, u16)> {
        let Some(call) = self.next_op(pid).and_then(|op| self.program.call(op)) else { return Vec::new() };
        watched(call.id, &self.process(pid).call.args)
    }

    /// Takes a poller off every queue it may be on.
    pub(crate) fn leave_poll_queues(&mut self, pid: Pid) {
        for pipe in self.pipes.iter_mut().flatten() {
            pipe.read_wait.remove(pid);
            pipe.write_wait.remove(pid);
        }
        for socket in self.sockets.iter_mut().flatten() {
            socket.read_wait.remove(pid);
            socket.write_wait.remove(pid);
            socket.connect_wait.remove(pid);
        }
        for queue in self.ipc.mqueues.iter_mut().flatten() {
            queue.poll_wait.remove(pid);
        }
        super::epoll::leave(self, pid);
    }

    /// Whether `pid` sleeps in `poll` (or was woken from it and has not run since) with an entry on
    /// `object`, or on a socket connected to it: a poller may be on that object's wait queues.
    pub(crate) fn polls(&self, pid: Pid, object: ObjectRef) -> bool {
        let process = self.process(pid);
        let polling = matches!(process.state, super::ProcState::Blocked(BlockReason::Poll { .. }))
            || matches!(process.still_queued, Some(BlockReason::Poll { .. }));
        polling
            && self.watched_by(pid).iter().any(|(fd, _)| {
                let Some(index) = self.file_of(pid, *fd as i64) else { return false };
                let polled = self.file(index).object;
                polled.object_ref() == object
                    || matches!(polled, FileObject::Socket(id) if self.socket(id).is_some_and(|socket| ObjectRef::socket(socket.peer) == object))
            })
    }

    /// `pid`'s `poll` set, if its next call is a `poll`, for pictures: each entry with what it asks and
    /// what it would get now.
    pub fn poll_set(&self, pid: Pid) -> Vec<crate::present::snapshot::PollEntryView> {
        use crate::linux::{value_text, Family};
        let Some(op) = self.next_op(pid) else { return Vec::new() };
        let Some(id) =
            self.program.call(op).map(|call| call.id).filter(|id| matches!(id, CallId::Poll | CallId::Select))
        else {
            return Vec::new();
        };
        let Some(args) = self.next_args(pid) else { return Vec::new() };
        watched(id, &args)
            .into_iter()
            .map(|(fd, events)| {
                let events = events as i64;
                let mask = if fd < 0 {
                    0
                } else {
                    match self.file_of(pid, fd as i64) {
                        None => POLLNVAL,
                        Some(index) => self.poll_mask(index, events, &mut Vec::new()),
                    }
                };
                if id == CallId::Select {
                    // Which sets it is in (by membership: the sets' events overlap), and in which it
                    // is ready.
                    let sets = sets(&args);
                    let member: Vec<bool> = sets.iter().map(|set| set.contains(&SetEntry::Fd(fd))).collect();
                    let words = |ready_only: bool| {
                        ["read", "write", "except"]
                            .iter()
                            .zip(SET_EVENTS)
                            .zip(&member)
                            .filter(|((_, set), member)| **member && (!ready_only || mask & set != 0))
                            .map(|((word, _), _)| *word)
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return crate::present::snapshot::PollEntryView {
                        fd,
                        events: words(false),
                        ready: words(true),
                        select: true,
                    };
                }
                let ready = mask & (events | ALWAYS_REPORTED);
                crate::present::snapshot::PollEntryView {
                    fd,
                    events: value_text(Family::PollEvent, events),
                    ready: if ready == 0 { String::new() } else { value_text(Family::PollEvent, ready) },
                    select: false,
                }
            })
            .collect()
    }

    /// The processes that could end a poller's wait: for each entry, those that could make it ready.
    pub(crate) fn poll_could_end_wait(&self, pid: Pid) -> Vec<Pid> {
        let mut holders = Vec::new();
        for (fd, _) in self.watched_by(pid) {
            let Some(index) = self.file_of(pid, fd as i64) else { continue };
            holders.extend(self.file_could_become_ready(index));
        }
        holders.sort_unstable();
        holders.dedup();
        holders
    }

    /// The processes that could make open file `index` ready: those holding the other side of it.
    pub(crate) fn file_could_become_ready(&self, index: u32) -> Vec<Pid> {
        let file = self.file(index);
        match file.object {
            FileObject::Pipe(id) => self.holders(id, file.writable, file.readable),
            FileObject::Socket(id) => {
                let mut holders = self.socket_peer_holders(id);
                holders.extend(self.socket_charge_holders(id));
                holders
            }
            FileObject::Mqueue(id) => super::mqueue::users(self, id),
            FileObject::Epoll(id) => self.epoll_could_end_wait(id, 1),
            FileObject::DevNull | FileObject::ShmObject(_) => Vec::new(),
        }
    }
}

/// `do_sys_poll`, one attempt: ready entries end the call; none sleep on every entry's queue.
fn poll(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    // A poller woken by its timer (or by a signal) that a partner did not take off the queues stays
    // on them until it runs: it leaves them all now, and looks again.
    kernel.proc_mut(pid).still_queued = None;
    kernel.proc_mut(pid).call.timed_out = false;
    kernel.leave_poll_queues(pid);
    let timeout_ms = call.arg(0);
    let entries = entries(call.args);
    let mut revents = [0u16; MAX_POLL_FDS];
    let mut ready = 0u16;
    let mut queues = Vec::new();
    for (at, (fd, events)) in entries.iter().enumerate() {
        if *fd < 0 {
            continue;
        }
        let mask = match kernel.file_of(pid, *fd as i64) {
            None => POLLNVAL,
            Some(index) => {
                let object = kernel.file(index).object.object_ref();
                if kernel.footprint.enabled && object != ObjectRef::DEV_NULL {
                    kernel.footprint.write(object);
                }
                let events = *events as i64;
                kernel.trim_if_epoll(index, pid, trace);
                kernel.dgram_poll_relay(index, events);
                kernel.poll_mask(index, events, &mut queues) & (events | ALWAYS_REPORTED)
            }
        };
        revents[at] = mask as u16;
        if mask != 0 {
            ready += 1;
        }
    }
    return_or_sleep(kernel, pid, timeout_ms, CallResult::Polled { ready, revents }, queues, entries.len())
}

/// `core_sys_select` and `do_select`, one attempt: descriptors ready in their sets end the call; none
/// sleep on every descriptor's queues.
fn select(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    kernel.proc_mut(pid).still_queued = None;
    kernel.proc_mut(pid).call.timed_out = false;
    kernel.leave_poll_queues(pid);
    let timeout_ms = call.arg(0);
    let sets = sets(call.args);
    // `max_select_fd`: a descriptor in a set that is not open fails the whole call.
    for entry in sets.iter().flatten() {
        let open = match *entry {
            SetEntry::Fd(fd) => kernel.file_of(pid, fd as i64).is_some(),
            SetEntry::Skipped => true,
            SetEntry::TooHigh => false,
        };
        if !open {
            kernel.cancel_timer(pid, TimerKind::Wake);
            return Exec::Done(CallResult::Error { errno: crate::linux::errno::EBADF });
        }
    }
    let watched = select_watched(&sets);
    let mut masks = Vec::with_capacity(watched.len());
    let mut queues = Vec::new();
    for (fd, events) in &watched {
        let index = kernel.file_of(pid, *fd as i64).expect("every descriptor in a set is open");
        let object = kernel.file(index).object.object_ref();
        if kernel.footprint.enabled && object != ObjectRef::DEV_NULL {
            kernel.footprint.write(object);
        }
        kernel.trim_if_epoll(index, pid, trace);
        kernel.dgram_poll_relay(index, *events as i64);
        masks.push((*fd, kernel.poll_mask(index, *events as i64, &mut queues)));
    }
    let mask_of = |fd: i32| masks.iter().find(|(watched, _)| *watched == fd).map_or(0, |(_, mask)| *mask);
    // Which written descriptors are ready, by place in their set; each (set, descriptor) counted once.
    let mut revents = [0u16; MAX_POLL_FDS];
    let mut ready = 0u16;
    for (at, (set, events)) in sets.iter().zip(SET_EVENTS).enumerate() {
        let mut counted: Vec<i32> = Vec::new();
        for (place, entry) in set.iter().enumerate() {
            let SetEntry::Fd(fd) = *entry else { continue };
            if mask_of(fd) & events != 0 {
                revents[at] |= 1 << place;
                if !counted.contains(&fd) {
                    counted.push(fd);
                    ready += 1;
                }
            }
        }
    }
    return_or_sleep(kernel, pid, timeout_ms, CallResult::Polled { ready, revents }, queues, watched.len())
}

/// The end of an attempt of `poll` or `select`: `result` if something is ready, the timeout is 0 or
/// its time is past; otherwise asleep on `queues` until woken or the time is up (`do_poll`'s and
/// `do_select`'s loop).
fn return_or_sleep(
    kernel: &mut Kernel,
    pid: Pid,
    timeout_ms: i64,
    result: CallResult,
    queues: Vec<Queue>,
    watched: usize,
) -> Exec {
    let CallResult::Polled { ready, .. } = result else { unreachable!("poll and select give a Polled result") };
    let Some(until) = sleep_until(kernel, pid, ready > 0, timeout_ms) else { return Exec::Done(result) };
    for queue in queues {
        match queue {
            Queue::PipeRead(id) => kernel.pipe_mut(id).read_wait.add(pid, false),
            Queue::PipeWrite(id) => kernel.pipe_mut(id).write_wait.add(pid, false),
            Queue::SocketRead(id) => kernel.socket_mut(id).read_wait.add(pid, false),
            Queue::SocketWrite(id) => kernel.socket_mut(id).write_wait.add(pid, false),
            Queue::SocketPeer(id) => kernel.socket_mut(id).connect_wait.add(pid, false),
            Queue::Mqueue(id) => kernel.mqueue_mut(id).poll_wait.add(pid, false),
            Queue::Epoll(id) => kernel.epoll_mut(id).poll_wait.add(pid, false),
        }
    }
    Exec::Block(BlockReason::Poll { entries: watched as u8, until })
}

/// The end of an attempt of `poll`, `select` or `epoll_wait` that found nothing (`ready` false):
/// the time it sleeps until (`u64::MAX` for no limit, its wake-up timer set), or `None` when it
/// returns now instead, as it does with something ready, a timeout of 0 or its time past.
pub(crate) fn sleep_until(kernel: &mut Kernel, pid: Pid, ready: bool, timeout_ms: i64) -> Option<u64> {
    if ready || timeout_ms == 0 {
        kernel.cancel_timer(pid, TimerKind::Wake);
        return None;
    }
    if timeout_ms < 0 {
        return Some(u64::MAX);
    }
    let until = super::time::ipc_deadline(kernel, pid, timeout_ms.saturating_mul(1_000_000));
    kernel.cancel_timer(pid, TimerKind::Wake);
    kernel.arm_wake(pid, until).then_some(until)
}

/// The multiplexing mechanism.
pub struct Polls;

impl Mechanism for Polls {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        match call.id() {
            CallId::Poll => poll(kernel, call, trace),
            CallId::Select => select(kernel, call, trace),
            CallId::EpollCreate1 => super::epoll::create(kernel, call),
            CallId::EpollCtl => super::epoll::ctl(kernel, call, trace),
            CallId::EpollWait => super::epoll::wait(kernel, call, trace),
            other => unreachable!("{} is not a poll call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, _reason: &BlockReason) {
        kernel.leave_poll_queues(pid);
    }

    fn views(kernel: &Kernel, out: &mut Vec<crate::present::snapshot::ObjectView>) {
        super::epoll::views(kernel, out);
    }

    fn interruption(reason: &BlockReason) -> Interruption {
        match reason {
            // `ep_poll` returns `-EINTR` itself: never restarted, not even after a stop.
            BlockReason::Epoll { .. } => Interruption::Eintr,
            _ => Interruption::RestartWithoutHandler,
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        // A poller asleep is on the wait queue of every pipe and socket its entries name, as its
        // events ask (a full datagram peer's queue aside: that peer's reads wake it, and take it off).
        for pid in &kernel.alive {
            let process = kernel.process(*pid);
            let super::ProcState::Blocked(BlockReason::Poll { .. }) = process.state else { continue };
            for (fd, events) in kernel.watched_by(*pid) {
                let Some(index) = kernel.file_of(*pid, fd as i64).filter(|_| fd >= 0) else { continue };
                let mut queues = Vec::new();
                kernel.poll_mask(index, events as i64, &mut queues);
                for queue in queues {
                    let on_it = match queue {
                        Queue::PipeRead(id) => kernel.pipe(id).is_some_and(|pipe| pipe.read_wait.contains(*pid)),
                        Queue::PipeWrite(id) => kernel.pipe(id).is_some_and(|pipe| pipe.write_wait.contains(*pid)),
                        Queue::SocketRead(id) => {
                            kernel.socket(id).is_some_and(|socket| socket.read_wait.contains(*pid))
                        }
                        Queue::SocketWrite(id) => {
                            kernel.socket(id).is_some_and(|socket| socket.write_wait.contains(*pid))
                        }
                        Queue::Mqueue(id) => kernel.mqueue(id).is_some_and(|queue| queue.poll_wait.contains(*pid)),
                        Queue::Epoll(id) => kernel.epoll(id).is_some_and(|epoll| epoll.poll_wait.contains(*pid)),
                        Queue::SocketPeer(_) => true,
                    };
                    if !on_it {
                        return Err(format!(
                            "{} sleeps in poll but not on the wait queue of its fd {fd}",
                            process.name
                        ));
                    }
                }
            }
        }
        super::epoll::check(kernel)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::kernel::run_round_robin as stuck;

    #[test]
    fn a_sleeping_select_lists_each_descriptor_once_with_the_sets_it_is_in() {
        // A pipe end in the read and the exception set, a full pipe's write end in the write set: the
        // read end is in two sets but watched once, and nothing is ready.
        let simulation = stuck(
            "process p {\n  a = pipe\n  b = pipe\n  write b.w 65536 bytes -> 65536\n  select -1 {a.r} {b.w} {a.r, a.r}\n}\n",
        );
        let set = simulation.kernel().poll_set(2);
        let shown: Vec<(i32, &str, &str, bool)> =
            set.iter().map(|entry| (entry.fd, entry.events.as_str(), entry.ready.as_str(), entry.select)).collect();
        assert_eq!(shown, vec![(3, "read, except", "", true), (6, "write", "", true)]);
        // Asleep on the read end's queue and the write end's queue (the invariant checks the rest).
        let kernel = simulation.kernel();
        let pipes: Vec<_> = kernel.pipes.iter().flatten().collect();
        assert!(pipes[0].read_wait.contains(2) && !pipes[0].write_wait.contains(2));
        assert!(pipes[1].write_wait.contains(2) && !pipes[1].read_wait.contains(2));
    }

    #[test]
    fn select_counts_set_and_descriptor_pairs_and_fails_whole_on_a_closed_descriptor() {
        let simulation = stuck(
            "process p expect exited 0 {\n  a = pipe\n  write a.w \"x\" -> 1\n  n = select 0 {a.r, a.r} {a.w, a.r} -> 2\n  \
             if n.read != 3 || n.write != 1 || n.except != 0 {\n    exit 1\n  }\n  \
             m = select 0 {a.r} {9} -> EBADF\n  if m != -1 || n.read != 3 {\n    exit 2\n  }\n}\n",
        );
        // Every expectation holds, and `p` did not take an `exit 1` or `exit 2` (its `expect`
        // defaults to exited 0).
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
    }
}
