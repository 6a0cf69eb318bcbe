//! Pipes: `pipe`, `pipe2`, and reading and writing the pipe behind a descriptor (anonymous or a FIFO's).
//!
//! The rules follow `fs/pipe.c` of Linux 6.18: `pipe_write` merges a small write into the last page
//! once, as the call begins, then fills fresh pages and sleeps part-way when the ring is full;
//! `pipe_read` takes what is there; readers and writers sleep as exclusive waiters, so a wake-up wakes
//! one, which passes it on when it leaves data or room behind (`wake_next_reader`, `wake_next_writer`);
//! a write with no reader raises `SIGPIPE` and fails with `EPIPE`; the last reader or writer closing
//! wakes everyone on the other side (`pipe_release`). The buffer itself is [`PipeBuffer`].

use super::pipe_buffer::{round_pipe_size, PipeBuffer, WriteProgress};
use super::wait::{WaitQueue, Wake};
use super::{CallContext, Exec, Interruption, Kernel, Mechanism, Scratch};
use crate::lang::ast::{Copier, Payload};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EAGAIN, EBUSY, EINVAL, EMFILE, EPERM, EPIPE};
use crate::linux::fcntl::{self, PAGE_SIZE, PIPE2_FLAGS, PIPE_DEFAULT_CAPACITY, PIPE_MAX_SIZE};
use crate::present::snapshot::{ObjectView, PipeView};
use crate::trace::{
    BlockReason, CallResult, Copied, CopyDirection, Event, EventKind, LastEnd, ObjectRef, Pid, Trace, WakeCause,
};
use std::sync::Arc;

/// Which of a pipe's wait queues a wake-up is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Readers (`rd_wait`).
    Read,
    /// Writers (`wr_wait`).
    Write,
    /// A FIFO's openers waiting for a partner (Linux's `rd_wait` too, which `wake_up_partner` wakes).
    Open,
}

impl Side {
    pub(crate) fn pick(self) -> fn(&mut Pipe) -> &mut WaitQueue {
        match self {
            Side::Read => |pipe| &mut pipe.read_wait,
            Side::Write => |pipe| &mut pipe.write_wait,
            Side::Open => |pipe| &mut pipe.open_wait,
        }
    }

    /// The queue a poller or an epoll item of this side of pipe `id` waits on.
    pub(crate) fn poll_queue(self, id: u32) -> super::poll::Queue {
        match self {
            Side::Read | Side::Open => super::poll::Queue::PipeRead(id),
            Side::Write => super::poll::Queue::PipeWrite(id),
        }
    }
}

/// The key a pipe's wake-up carries, which an epoll item's events must meet: `pipe_write` wakes readers
/// with `EPOLLIN | EPOLLRDNORM`, `pipe_read` writers with `EPOLLOUT | EPOLLWRNORM`; the last close of a
/// side, a FIFO's open and a resize wake with no key (every item).
pub(crate) fn wake_key(cause: WakeCause) -> i64 {
    use crate::linux::poll::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
    match cause {
        WakeCause::Data { .. } => POLLIN | POLLRDNORM,
        WakeCause::Room { .. } => POLLOUT | POLLWRNORM,
        _ => 0,
    }
}

#[derive(Clone, Debug)]
pub struct Pipe {
    pub id: u32,
    pub buffer: PipeBuffer,
    pub readers: u32,
    pub writers: u32,
    /// FIFO open counters (`r_counter`, `w_counter`): a blocked open waits for its partner's to change.
    pub reader_opens: u32,
    pub writer_opens: u32,
    pub fifo_path: Option<Arc<str>>,
    /// Readers asleep in `read` (`rd_wait`), writers asleep in `write` (`wr_wait`), and FIFO opens
    /// waiting for their partner.
    pub read_wait: WaitQueue,
    pub write_wait: WaitQueue,
    pub open_wait: WaitQueue,
    pub bytes_written: u64,
    pub bytes_read: u64,
}

impl Pipe {
    fn new(id: u32, fifo_path: Option<Arc<str>>) -> Pipe {
        Pipe {
            id,
            buffer: PipeBuffer::new(PIPE_DEFAULT_CAPACITY),
            readers: 0,
            writers: 0,
            reader_opens: 0,
            writer_opens: 0,
            fifo_path,
            read_wait: WaitQueue::default(),
            write_wait: WaitQueue::default(),
            open_wait: WaitQueue::default(),
            bytes_written: 0,
            bytes_read: 0,
        }
    }
}

impl Kernel {
    /// A new, empty pipe with no ends open yet.
    pub(crate) fn new_pipe(&mut self, fifo_path: Option<Arc<str>>) -> u32 {
        let id = self.pipes.len() as u32 + 1;
        self.pipes.push(Some(Pipe::new(id, fifo_path)));
        id
    }
}

/// `pipe`/`pipe2`: two descriptors, the lowest free, on the two ends of a new pipe.
fn create(kernel: &mut Kernel, pid: Pid, flags: i64) -> Exec {
    if flags & !PIPE2_FLAGS != 0 {
        return Kernel::error(EINVAL);
    }
    if flags & (fcntl::O_DIRECT | fcntl::O_NOTIFICATION_PIPE) != 0 {
        let kind = if flags & fcntl::O_DIRECT != 0 { "O_DIRECT (a packet-mode pipe)" } else { "O_NOTIFICATION_PIPE" };
        return kernel.halt("not_modelled", format!("pipe2 with {kind} makes a pipe this simulator does not model"));
    }
    let Some(read_fd) = kernel.lowest_free_fd(pid, 0) else { return Kernel::error(EMFILE) };
    kernel.install_fd(pid, read_fd, u32::MAX, false);
    let Some(write_fd) = kernel.lowest_free_fd(pid, 0) else {
        kernel.proc_mut(pid).fds[read_fd as usize] = None;
        return Kernel::error(EMFILE);
    };
    let pipe = kernel.new_pipe(None);
    let nonblock = flags & fcntl::O_NONBLOCK != 0;
    let cloexec = flags & fcntl::O_CLOEXEC != 0;
    let end = |readable: bool| super::fd::OpenFile {
        object: super::fd::FileObject::Pipe(pipe),
        readable,
        writable: !readable,
        nonblock,
        base_flags: if readable { fcntl::O_RDONLY } else { fcntl::O_WRONLY },
        refs: 1,
        offset: 0,
        fifo_writers_seen: None,
    };
    let read_file = kernel.new_file(end(true));
    let write_file = kernel.new_file(end(false));
    let pipe_object = kernel.pipe_mut(pipe);
    pipe_object.readers = 1;
    pipe_object.writers = 1;
    kernel.install_fd(pid, read_fd, read_file, cloexec);
    kernel.install_fd(pid, write_fd, write_file, cloexec);
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::pipe(pipe));
    }
    Exec::Done(CallResult::Pair { read_fd: read_fd as i32, write_fd: write_fd as i32 })
}

/// `pipe_write` for one attempt of `pid`'s write of `payload` into pipe `pipe_id`.
#[cfg_attr(not(feature = "small"), inline(always))]
pub(crate) fn write(
    kernel: &mut Kernel,
    pid: Pid,
    pipe_id: u32,
    payload: &Payload,
    nonblock: bool,
    trace: &mut Trace,
) -> Exec {
    let total = payload.len();
    if total == 0 {
        return Exec::Done(CallResult::Value { value: 0 });
    }
    let process = kernel.process(pid);
    let waited = process.call.waited;
    let mut written = match process.call.scratch {
        Scratch::Written(written) => written,
        _ => 0,
    };
    if kernel.bytes_in_flight + (total - written) as u64 > kernel.limits.max_bytes_in_flight {
        let detail = format!(
            "this write would hold more than {} bytes in kernel buffers at once",
            kernel.limits.max_bytes_in_flight
        );
        return kernel.halt("max_bytes_in_flight", detail);
    }
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::pipe(pipe_id));
    }
    // One borrow of the pipe for the whole attempt; wake-ups and signals follow once it ends.
    let pipe = kernel.pipes[pipe_id as usize - 1].as_mut().expect("a live file points at a freed pipe");
    let was_empty = pipe.buffer.is_empty();
    let mut added = 0u32;
    if written == 0 && pipe.readers == 0 {
        kernel.defer_signal(super::signal::Sent::no_reader(pid));
        return Kernel::error(EPIPE);
    }
    let result = 'attempt: {
        if written == 0 && !was_empty && !waited {
            // `pipe_write` tries to merge into the last page once, as the call begins; a writer that
            // slept and retries only looks for free slots.
            let merged = pipe.buffer.merge_into_last_page(payload);
            written += merged;
            added += merged;
        }
        loop {
            if written == total {
                break 'attempt Exec::Done(CallResult::Value { value: total as i64 });
            }
            if pipe.readers == 0 {
                // `defer_signal`'s two fields, set here while the pipe is borrowed.
                kernel.signals_seen = true;
                kernel.attention_step = 0;
                kernel.deferred.push(super::signal::Sent::no_reader(pid));
                break 'attempt if written > 0 {
                    Exec::Done(CallResult::Value { value: written as i64 })
                } else {
                    Kernel::error(EPIPE)
                };
            }
            let (taken, progress) = pipe.buffer.fill_pages(payload, written);
            written += taken;
            added += taken;
            if progress == WriteProgress::Done {
                continue;
            }
            if nonblock {
                break 'attempt if written > 0 {
                    Exec::Done(CallResult::Value { value: written as i64 })
                } else {
                    Kernel::error(EAGAIN)
                };
            }
            pipe.write_wait.add(pid, true);
            break 'attempt Exec::Block(BlockReason::PipeFull { pipe: pipe_id, written });
        }
    };
    let full_after = pipe.buffer.is_full();
    let object = ObjectRef::pipe(pipe_id);
    if added > 0 {
        pipe.bytes_written += added as u64;
        let used_bytes = pipe.buffer.len_bytes();
        let capacity_bytes = pipe.buffer.capacity_bytes();
        kernel.bytes_in_flight += added as u64;
        kernel.count_copy(Copier::Pipes, CopyDirection::UserToKernel, added as u64);
        let direction = CopyDirection::UserToKernel;
        trace.record_copy(
            kernel.step as u32,
            Copied { pid, direction, bytes: added, object, used_bytes, capacity_bytes },
        );
    }
    // `pipe_write` wakes readers before it sleeps if the pipe was empty; as it returns (done, or
    // `EAGAIN`), also on every write once the pipe was polled (`poll_usage`): here, while an epoll item
    // watches its read side, the one to notice.
    let wake_readers = match result {
        Exec::Block(_) => was_empty,
        _ => was_empty || (crate::IPC && kernel.epoll_watches(super::poll::Queue::PipeRead(pipe_id))),
    };
    if wake_readers {
        kernel.wake_queue(pipe_id, Side::Read, Wake::One, pid, WakeCause::Data { object }, trace);
    }
    if matches!(result, Exec::Done(_)) && waited && !full_after {
        kernel.wake_queue(pipe_id, Side::Write, Wake::One, pid, WakeCause::Room { object }, trace);
    }
    kernel.proc_mut(pid).call.scratch = Scratch::Written(written);
    result
}

/// `pipe_read` for one attempt of `pid`'s read of up to `count` bytes from pipe `pipe_id`.
#[cfg_attr(not(feature = "small"), inline(always))]
pub(crate) fn read(kernel: &mut Kernel, pid: Pid, pipe_id: u32, count: u32, nonblock: bool, trace: &mut Trace) -> Exec {
    if count == 0 {
        return Exec::Done(trace.record_data(&[]));
    }
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::pipe(pipe_id));
    }
    let waited = kernel.process(pid).call.waited;
    let pipe = kernel.pipes[pipe_id as usize - 1].as_mut().expect("a live file points at a freed pipe");
    let object = ObjectRef::pipe(pipe_id);
    // `pipe_read` (Linux 6.14 and later) wakes a writer only when the read empties a slot of a pipe that
    // was full: a read that leaves every page in use leaves the writers asleep, in their order.
    let was_full = pipe.buffer.is_full();
    if !pipe.buffer.is_empty() {
        // The bytes go to the kernel's scratch buffer (for the expectation checks) and to the trace's
        // data before anyone wakes: a wake-up records an event, never data.
        let scratch = &mut kernel.read_scratch;
        let freed_slots = pipe.buffer.read_into(count, scratch);
        let got = scratch.len() as u32;
        pipe.bytes_read += got as u64;
        let used_bytes = pipe.buffer.len_bytes();
        let capacity_bytes = pipe.buffer.capacity_bytes();
        let empty_after = pipe.buffer.is_empty();
        kernel.bytes_in_flight -= got as u64;
        // `count_copy`'s two counters, written here where the pipe and the scratch buffer are still borrowed.
        kernel.copied_to_user += got as u64;
        kernel.copies[Copier::Pipes.index()][1] += got as u64;
        kernel.copy_runs += 1;
        let direction = CopyDirection::KernelToUser;
        trace
            .record_copy(kernel.step as u32, Copied { pid, direction, bytes: got, object, used_bytes, capacity_bytes });
        let data = trace.record_data(scratch);
        if was_full && freed_slots > 0 {
            kernel.wake_queue(pipe_id, Side::Write, Wake::One, pid, WakeCause::Room { object }, trace);
        }
        if waited && !empty_after {
            kernel.wake_queue(pipe_id, Side::Read, Wake::One, pid, WakeCause::Data { object }, trace);
        }
        Exec::Done(data)
    } else if pipe.writers == 0 {
        Exec::Done(trace.record_data(&[]))
    } else if nonblock {
        Kernel::error(EAGAIN)
    } else {
        pipe.read_wait.add(pid, true);
        Exec::Block(BlockReason::PipeEmpty { pipe: pipe_id })
    }
}

/// `pipe_release`: one open file on the pipe closed. The last reader or writer wakes the other side
/// (writers must now see `EPIPE`, readers end of file); a pipe with no ends left is freed. When a side
/// loses its last open file, a [`EventKind::LastEnd`] event says what that means before anyone wakes.
pub(crate) fn release_end(
    kernel: &mut Kernel,
    pipe_id: u32,
    readable: bool,
    writable: bool,
    by: Pid,
    trace: &mut Trace,
) {
    let object = ObjectRef::pipe(pipe_id);
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
    let pipe = kernel.pipe_mut(pipe_id);
    pipe.readers -= readable as u32;
    pipe.writers -= writable as u32;
    let no_readers = readable && pipe.readers == 0;
    let no_writers = writable && pipe.writers == 0;
    let end = match (pipe.readers, pipe.writers) {
        (0, 0) => Some(LastEnd::Both { unread: pipe.buffer.len_bytes() }),
        _ if no_readers => Some(LastEnd::Read),
        _ if no_writers => Some(LastEnd::Write),
        _ => None,
    };
    if let Some(end) = end {
        trace.record(Event { step: kernel.step as u32, kind: EventKind::LastEnd { pid: by, object, end } });
    }
    // `pipe_release` wakes both sides, all of them, whenever exactly one side has no open file left:
    // at the last close of a side, and at each close of the other side after it (which only epoll
    // items on the pipe can notice: nobody sleeps on a side the other has left).
    let pipe = kernel.pipe_mut(pipe_id);
    let wake_both = (pipe.readers == 0) != (pipe.writers == 0);
    if no_writers || wake_both {
        kernel.wake_queue(pipe_id, Side::Read, Wake::All, by, WakeCause::Hangup { object }, trace);
    }
    if no_readers || wake_both {
        kernel.wake_queue(pipe_id, Side::Write, Wake::All, by, WakeCause::Hangup { object }, trace);
    }
    let pipe = kernel.pipe_mut(pipe_id);
    if pipe.readers == 0 && pipe.writers == 0 {
        let pipe = kernel.pipes[pipe_id as usize - 1].take().expect("just used");
        kernel.bytes_in_flight -= pipe.buffer.len_bytes() as u64;
        kernel.pages_released_shared += pipe.buffer.shared_pages_at_release();
        if let Some(path) = &pipe.fifo_path {
            // The name in the file system loses its pipe: conservative, a conflict with every step.
            if kernel.footprint.enabled {
                kernel.footprint.everything();
            }
            if let Some(node) = kernel.fifos.get_mut(path) {
                if node.pipe == Some(pipe_id) {
                    node.pipe = None;
                }
            }
        }
    }
}

/// `pipe_fcntl`: `F_GETPIPE_SZ` and `F_SETPIPE_SZ` (`pipe_set_size`, `pipe_resize_ring`).
pub(crate) fn fcntl(kernel: &mut Kernel, pid: Pid, pipe: u32, command: i64, size: i64, trace: &mut Trace) -> Exec {
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::pipe(pipe));
    }
    if command == fcntl::F_GETPIPE_SZ {
        return Exec::Done(CallResult::Value { value: kernel.pipe_mut(pipe).buffer.capacity_bytes() as i64 });
    }
    // `fcntl` passes the size as an unsigned int.
    match round_pipe_size(size as u32 as u64) {
        None => Kernel::error(EINVAL),
        // An unprivileged process may not go past /proc/sys/fs/pipe-max-size.
        Some(rounded) if rounded > PIPE_MAX_SIZE as u64 => Kernel::error(EPERM),
        Some(rounded) => {
            let grew = rounded as u32 > kernel.pipe_mut(pipe).buffer.capacity_bytes();
            if kernel.pipe_mut(pipe).buffer.set_max_slots(rounded as u32 / PAGE_SIZE) {
                if grew {
                    // `pipe_resize_ring` ends with `wake_up_interruptible(&pipe->wr_wait)`: one writer.
                    let object = ObjectRef::pipe(pipe);
                    kernel.wake_queue(pipe, Side::Write, Wake::One, pid, WakeCause::Resize { object }, trace);
                }
                Exec::Done(CallResult::Value { value: rounded as i64 })
            } else {
                Kernel::error(EBUSY)
            }
        }
    }
}

/// The pipe mechanism: creating pipes; reads and writes come through [`super::fd`].
pub struct Pipes;

impl Mechanism for Pipes {
    fn call(kernel: &mut Kernel, call: &CallContext, _trace: &mut Trace) -> Exec {
        match call.id() {
            CallId::Pipe => create(kernel, call.pid, 0),
            CallId::Pipe2 => create(kernel, call.pid, call.arg(0)),
            other => unreachable!("{} is not a pipe call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        match reason {
            BlockReason::PipeEmpty { pipe } => kernel.pipe_mut(*pipe).read_wait.remove(pid),
            BlockReason::PipeFull { pipe, .. } => kernel.pipe_mut(*pipe).write_wait.remove(pid),
            _ => {}
        }
    }

    /// A stop signal cuts a write that already moved bytes short: it returns that count. Anything else
    /// starts again after `SIGCONT`.
    fn interruption(reason: &BlockReason) -> Interruption {
        match reason {
            BlockReason::PipeFull { written, .. } if *written > 0 => Interruption::Partial(*written),
            _ => Interruption::Restart,
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        let mut readers = vec![0u32; kernel.pipes.len()];
        let mut writers = vec![0u32; kernel.pipes.len()];
        for file in kernel.files.iter().flatten() {
            if let Some(pipe) = file.object.pipe() {
                if kernel.pipe(pipe).is_none() {
                    return Err(format!("an open file points at freed pipe {pipe}"));
                }
                readers[pipe as usize - 1] += file.readable as u32;
                writers[pipe as usize - 1] += file.writable as u32;
            }
        }
        let mut in_flight = 0u64;
        for (index, pipe) in kernel.pipes.iter().enumerate() {
            let Some(pipe) = pipe else { continue };
            pipe.buffer.check()?;
            if pipe.readers != readers[index] || pipe.writers != writers[index] {
                return Err(format!(
                    "pipe {} counts {} readers and {} writers; files say {} and {}",
                    pipe.id, pipe.readers, pipe.writers, readers[index], writers[index]
                ));
            }
            if pipe.readers == 0 && pipe.writers == 0 {
                return Err(format!("pipe {} has no ends but was not freed", pipe.id));
            }
            // Byte conservation: what went in and has not come out is exactly what the buffer holds.
            if pipe.bytes_written - pipe.bytes_read != pipe.buffer.len_bytes() as u64 {
                return Err(format!(
                    "pipe {}: {} bytes written, {} read, but {} held",
                    pipe.id,
                    pipe.bytes_written,
                    pipe.bytes_read,
                    pipe.buffer.len_bytes()
                ));
            }
            in_flight += pipe.buffer.len_bytes() as u64;
            for waiter in pipe.read_wait.pids().chain(pipe.write_wait.pids()).chain(pipe.open_wait.pids()) {
                let sleeping = matches!(
                    kernel.process(waiter).state,
                    super::ProcState::Blocked(ref reason) if reason.object() == Some(ObjectRef::pipe(pipe.id))
                );
                if !sleeping && !kernel.polls(waiter, ObjectRef::pipe(pipe.id)) {
                    return Err(format!("pid {waiter} is on pipe {}'s wait queue but not asleep on it", pipe.id));
                }
            }
        }
        if in_flight != kernel.bytes_in_flight {
            return Err(format!("pipes hold {in_flight} bytes but the kernel counts {}", kernel.bytes_in_flight));
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for pipe in kernel.pipes.iter().flatten() {
            let holders = |readable: bool| -> Vec<(Pid, i32)> {
                let mut found = Vec::new();
                for pid in &kernel.alive {
                    for (number, entry) in kernel.process(*pid).fds.iter().enumerate() {
                        let Some(entry) = entry else { continue };
                        let Some(file) = kernel.files[entry.file as usize].as_ref() else { continue };
                        if file.object.pipe() == Some(pipe.id) && if readable { file.readable } else { file.writable } {
                            found.push((*pid, number as i32));
                        }
                    }
                }
                found
            };
            out.push(ObjectView::Pipe(Box::new(PipeView {
                id: pipe.id,
                fifo_path: pipe.fifo_path.as_ref().map(|path| path.to_string()),
                used_bytes: pipe.buffer.len_bytes(),
                capacity_bytes: pipe.buffer.capacity_bytes(),
                slots_used: pipe.buffer.slots_used(),
                max_slots: pipe.buffer.max_slots(),
                slot_bytes: pipe.buffer.slot_lengths(),
                preview: pipe.buffer.contents().take(64).collect(),
                readers: pipe.readers,
                writers: pipe.writers,
                read_holders: holders(true),
                write_holders: holders(false),
                read_waiters: pipe.read_wait.pids().collect(),
                write_waiters: pipe.write_wait.pids().collect(),
                open_waiters: pipe.open_wait.pids().collect(),
                bytes_written: pipe.bytes_written,
                bytes_read: pipe.bytes_read,
            })));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::kernel::run_round_robin as simulation;

    #[test]
    fn pipe2_refuses_unknown_flags_and_stops_at_the_pipes_it_does_not_model() {
        // Linux makes a packet-mode pipe for O_DIRECT (`__do_pipe_flags` accepts it): the run stops at
        // the `not_modelled` limit rather than answer EINVAL, which Linux never does for it.
        for (flags, kind) in
            [("O_DIRECT", "O_DIRECT"), ("O_NONBLOCK|O_DIRECT", "O_DIRECT"), ("128", "O_NOTIFICATION_PIPE")]
        {
            let simulation = simulation(&format!("process p {{\n  q = pipe2 {flags}\n}}\n"));
            match simulation.outcome() {
                Some(crate::RunOutcome::LimitReached { limit, detail }) => {
                    assert_eq!(limit, "not_modelled");
                    assert!(detail.contains(kind), "{detail}");
                }
                other => panic!("pipe2 {flags}: {other:?}"),
            }
        }
        // A flag outside the four (O_APPEND) is EINVAL, as on Linux.
        let simulation = simulation("process p expect exited 0 {\n  q = pipe2 1024 -> EINVAL\n}\n");
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
    }
}
