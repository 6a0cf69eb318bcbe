//! POSIX message queues: `mq_open`, `mq_send`, `mq_receive` (and their timed forms), `mq_getattr`, `mq_setattr`, `mq_notify`,
//! `mq_close`, `mq_unlink`, and what `read`, `lseek` and friends do on a queue's descriptor.
//!
//! The rules are `ipc/mqueue.c`'s (Linux 6.18) with glibc's wrappers (which want a name starting with
//! `/` and hand the kernel the rest). A queue is a file in the IPC namespace's own mqueue file system:
//! it has a name until `mq_unlink`, and lives until its name is gone and its last descriptor closed
//! (`mqueue_evict_inode`). Descriptors are real descriptors, always close-on-exec. A queue holds at
//! most `mq_maxmsg` messages of at most `mq_msgsize` bytes; an unprivileged process may ask for at most
//! 10 of 8192 (`mq_attr_ok`), and all of a user's queues may pin at most `RLIMIT_MSGQUEUE` bytes
//! (`mqueue_get_inode`, `EMFILE`).
//!
//! `mq_receive` takes the oldest message of the highest priority (`msg_get`) and needs a buffer of at
//! least `mq_msgsize` bytes. Sleepers wait in line (`wq_add`: by nice value, then first come), and are
//! served in place, as System V receivers are: a sender hands its message straight to the first
//! sleeping receiver (`pipelined_send`), and a receiver that takes a message puts the first sleeping
//! sender's message into the queue (`pipelined_receive`), so a woken process's call is already done.
//! `mq_notify` registers one process for one signal, sent when a message arrives in an empty queue
//! that nobody waits on (`__do_notify`), after which the registration is gone; closing any descriptor of
//! the queue cancels the caller's registration (`mqueue_flush_file`). A sleeper stopped by a signal
//! starts its call again once continued (`-ERESTARTSYS`).
//!
//! `mq_timedsend` and `mq_timedreceive` sleep until a time (`now + NS` in the scenario, an absolute
//! `CLOCK_REALTIME` time in C): woken by their timer, they stay in line until they run, and fail with
//! `ETIMEDOUT` unless a partner served them meanwhile; a pending signal comes first (`wq_sleep`), and
//! the call started again after it finds its time passed.

use super::fd::{FileObject, OpenFile};
use super::process::Handed;
use super::time::TimerKind;
use super::{CallContext, Exec, Interruption, Kernel, Mechanism, WokenCall};
use crate::lang::ast::Copier;
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EACCES, EAGAIN, EBADF, EEXIST, EINVAL, EMFILE, EMSGSIZE, ENOENT, ENOSPC, ETIMEDOUT};
use crate::linux::fcntl::{self, O_ACCMODE, O_CREAT, O_EXCL, O_NONBLOCK, UMASK};
use crate::linux::mqueue::{self as linux_mq, MQ_PRIO_MAX};
use crate::linux::{field, Errno, Signal};
use crate::present::snapshot::{MessageView, MqueueView, ObjectView};
use crate::trace::{BlockReason, CallResult, Copied, CopyDirection, ObjectRef, Pid, StateHasher, Trace, WakeCause};

use std::sync::Arc;

/// A POSIX message queue (`struct mqueue_inode_info`).
#[derive(Clone, Debug)]
pub struct Mqueue {
    pub id: u32,
    /// Its name (without the leading `/`) and that name's index in the program's paths, while it has one.
    pub name: Option<Arc<str>>,
    pub name_index: Option<u32>,
    pub mode: i64,
    pub maxmsg: i64,
    pub msgsize: i64,
    /// Messages with their priorities, in the order they will be received: the highest priority first,
    /// each priority first come, first served (Linux keeps a tree of priorities, `msg_tree_root`; a
    /// queue holds at most `fs.mqueue.msg_max` messages, so a list kept in order is as good, and it
    /// saves the playground's WebAssembly a copy of the B-tree's code).
    pub messages: Vec<(i64, Arc<[u8]>)>,
    /// Bytes in the messages (`qsize`).
    pub qsize: u64,
    /// Sleepers in line: receivers, and senders with their message.
    pub receivers: Vec<Pid>,
    pub senders: Vec<(Pid, i64, Arc<[u8]>)>,
    /// Processes asleep in `poll` on it (`wait_q`): a message put in the queue wakes them
    /// (`__do_notify`), and so does one taken out when no sender waits to fill its place
    /// (`pipelined_receive`, "for poll"), not one a waiting sender's message replaces at once.
    pub poll_wait: super::wait::WaitQueue,
    /// The registered process and its signal.
    pub notify: Option<(Pid, Signal)>,
    /// Open file descriptions of it.
    pub opens: u32,
    pub creator: Pid,
    /// Processes that sent to it and received from it, for the deadlock report.
    pub sent_by: Vec<Pid>,
    pub received_by: Vec<Pid>,
}

impl Mqueue {
    /// Puts a message after every message of its priority or higher (`msg_insert`).
    fn enqueue(&mut self, priority: i64, message: Arc<[u8]>) {
        let at = self.messages.partition_point(|(queued, _)| *queued >= priority);
        self.messages.insert(at, (priority, message));
    }

    pub fn curmsgs(&self) -> usize {
        self.messages.len()
    }

    /// The bytes it pins (`mqueue_get_inode`).
    fn pinned_bytes(&self) -> u64 {
        linux_mq::pinned_bytes(self.maxmsg, self.msgsize)
    }

    pub(crate) fn hash_into(&self, hasher: &mut StateHasher) {
        hasher.word(self.id as u64 | (self.opens as u64) << 32);
        hasher.word(self.name_index.map_or(u64::MAX, |index| index as u64));
        hasher.word(self.mode as u64);
        hasher.word(self.maxmsg as u64);
        hasher.word(self.msgsize as u64);
        for (priority, message) in &self.messages {
            hasher.word(*priority as u64);
            hasher.bytes(message);
        }
        for pid in &self.receivers {
            hasher.word(*pid as u64);
        }
        for (pid, priority, message) in &self.senders {
            hasher.word(*pid as u64 | (*priority as u64) << 32);
            hasher.bytes(message);
        }
        for pid in self.poll_wait.pids() {
            hasher.word(pid as u64 | 1 << 63);
        }
        hasher.word(self.notify.map_or(0, |(pid, signal)| pid as u64 | (signal.0 as u64) << 32));
    }
}

fn push_once(list: &mut Vec<Pid>, pid: Pid) {
    if !list.contains(&pid) {
        list.push(pid);
    }
}

impl Kernel {
    pub(crate) fn mqueue(&self, id: u32) -> Option<&Mqueue> {
        self.ipc.mqueues.get((id as usize).wrapping_sub(1)).and_then(Option::as_ref)
    }

    pub(crate) fn mqueue_mut(&mut self, id: u32) -> &mut Mqueue {
        self.ipc.mqueues[id as usize - 1].as_mut().expect("an open queue exists")
    }
}

/// What a queue holds against what it can hold, in bytes (for copy events).
pub(crate) fn usage(kernel: &Kernel, id: u32) -> (u64, u64) {
    kernel.mqueue(id).map_or((0, 0), |queue| (queue.qsize, (queue.maxmsg * queue.msgsize).max(0) as u64))
}

/// A name as glibc's `mq_open` and `mq_unlink` take it: it must start with `/`, which is not passed on.
fn kernel_name(kernel: &Kernel, name_index: u32) -> Result<Arc<str>, crate::linux::Errno> {
    let name = &kernel.program.paths[name_index as usize];
    let Some(rest) = name.strip_prefix('/') else { return Err(EINVAL) };
    // `lookup_one_common`: an empty name, `.`, `..` or a name with another `/` is refused.
    if rest.is_empty() || rest == "." || rest == ".." || rest.contains('/') {
        return Err(EACCES);
    }
    Ok(Arc::from(rest))
}

/// `mq_open(name, oflag, mode, attr)` (`do_mq_open`).
fn mq_open(kernel: &mut Kernel, pid: Pid, name_index: u32, flags: i64, mode: i64, attr: i64) -> Exec {
    let flags = flags as i32 as i64;
    let name = match kernel_name(kernel, name_index) {
        Ok(name) => name,
        Err(errno) => return Kernel::error(errno),
    };
    // The descriptor is taken first (`get_unused_fd_flags(O_CLOEXEC)`).
    let Some(fd) = kernel.lowest_free_fd(pid, 0) else { return Kernel::error(EMFILE) };
    let existing = kernel.ipc.mq_names.get(&name).copied();
    let id = match (existing, flags & O_CREAT != 0) {
        (Some(_), true) if flags & O_EXCL != 0 => return Kernel::error(EEXIST),
        (Some(id), _) => {
            // `do_open`: an access mode of 3 is refused, then the owner's permission bits are checked.
            let queue = kernel.mqueue(id).expect("a named queue exists");
            let wanted = match flags & O_ACCMODE {
                fcntl::O_RDONLY => 0o4,
                fcntl::O_WRONLY => 0o2,
                fcntl::O_RDWR => 0o6,
                _ => return Kernel::error(EINVAL),
            };
            if (queue.mode >> 6) & wanted != wanted {
                return Kernel::error(EACCES);
            }
            id
        }
        (None, false) => return Kernel::error(ENOENT),
        (None, true) => match create(kernel, pid, &name, name_index, mode, attr) {
            Ok(id) => id,
            Err(exec) => return exec,
        },
    };
    let file = kernel.new_file(OpenFile {
        object: FileObject::Mqueue(id),
        readable: matches!(flags & O_ACCMODE, fcntl::O_RDONLY | fcntl::O_RDWR),
        writable: matches!(flags & O_ACCMODE, fcntl::O_WRONLY | fcntl::O_RDWR),
        nonblock: flags & O_NONBLOCK != 0,
        // `do_dentry_open` drops the open-time flags; `F_GETFL` shows the rest as given.
        base_flags: flags & !(O_CREAT | O_EXCL | fcntl::O_NOCTTY | fcntl::O_TRUNC | O_NONBLOCK),
        refs: 1,
        offset: 0,
        fifo_writers_seen: None,
    });
    kernel.mqueue_mut(id).opens += 1;
    kernel.install_fd(pid, fd, file, true);
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::mqueue(id));
    }
    Exec::Done(CallResult::Value { value: fd })
}

/// `do_create` and `mqueue_create`: a new queue named `name`.
fn create(kernel: &mut Kernel, pid: Pid, name: &Arc<str>, name_index: u32, mode: i64, attr: i64) -> Result<u32, Exec> {
    let limits = kernel.limits.ipc;
    let (maxmsg, msgsize) =
        linux_mq::unpack_attr(attr).unwrap_or((limits.mq_msg_default as i64, limits.mq_msgsize_default as i64));
    // `mq_attr_ok` for a process without CAP_SYS_RESOURCE.
    if maxmsg <= 0 || msgsize <= 0 || maxmsg > limits.mq_msg_max as i64 || msgsize > limits.mq_msgsize_max as i64 {
        return Err(Kernel::error(EINVAL));
    }
    if kernel.ipc.mq_count >= limits.mq_queues_max {
        return Err(Kernel::error(ENOSPC));
    }
    let pinned = linux_mq::pinned_bytes(maxmsg, msgsize);
    if kernel.ipc.mq_bytes + pinned > limits.mq_bytes_per_user as u64 {
        return Err(Kernel::error(EMFILE));
    }
    if !kernel.ipc_object_fits() {
        return Err(kernel.halt_ipc_objects());
    }
    kernel.ipc.mq_bytes += pinned;
    kernel.ipc.mq_count += 1;
    let id = kernel.ipc.mqueues.len() as u32 + 1;
    kernel.ipc.mqueues.push(Some(Mqueue {
        id,
        name: Some(name.clone()),
        name_index: Some(name_index),
        mode: (mode as u32 as i64) & !UMASK & 0o777,
        maxmsg,
        msgsize,
        messages: Vec::new(),
        qsize: 0,
        receivers: Vec::new(),
        senders: Vec::new(),
        poll_wait: super::wait::WaitQueue::default(),
        notify: None,
        opens: 0,
        creator: pid,
        sent_by: Vec::new(),
        received_by: Vec::new(),
    }));
    kernel.ipc.mq_names.insert(name.clone(), id);
    Ok(id)
}

/// Frees a queue that has neither a name nor an open descriptor (`mqueue_evict_inode`).
fn evict_if_unused(kernel: &mut Kernel, id: u32) {
    let Some(queue) = kernel.mqueue(id) else { return };
    if queue.name.is_some() || queue.opens > 0 {
        return;
    }
    let pinned = queue.pinned_bytes();
    kernel.ipc.mq_bytes -= pinned;
    kernel.ipc.mq_count -= 1;
    kernel.ipc.mqueues[id as usize - 1] = None;
}

/// The last reference to an open file of the queue went away.
pub(crate) fn release(kernel: &mut Kernel, id: u32) {
    kernel.mqueue_mut(id).opens -= 1;
    evict_if_unused(kernel, id);
}

/// `mqueue_flush_file`: a process closes a descriptor of the queue, which cancels its registration.
pub(crate) fn flush(kernel: &mut Kernel, id: u32, pid: Pid) {
    let queue = kernel.mqueue_mut(id);
    if queue.notify.is_some_and(|(owner, _)| owner == pid) {
        queue.notify = None;
    }
}

/// The open queue behind a descriptor, with its open file (`EBADF` for anything else).
fn queue_of(kernel: &Kernel, pid: Pid, fd: i64) -> Result<(u32, u32), crate::linux::Errno> {
    let file = kernel.file_of(pid, fd).ok_or(EBADF)?;
    match kernel.file(file).object {
        FileObject::Mqueue(id) => Ok((id, file)),
        _ => Err(EBADF),
    }
}

/// A timed call's timeout (its last operand), or `None` for the untimed one.
fn timeout_of(call: &CallContext) -> Option<i64> {
    match call.id() {
        CallId::MqTimedsend => Some(call.arg(3)),
        CallId::MqTimedreceive => Some(call.arg(2)),
        _ => None,
    }
}

/// The end of a send or receive: a timed one's timer (if it slept) goes with it.
fn finish(kernel: &mut Kernel, call: &CallContext, exec: Exec) -> Exec {
    if timeout_of(call).is_some() && !matches!(exec, Exec::Block(_)) {
        kernel.cancel_timer(call.pid, TimerKind::Wake);
    }
    exec
}

/// Whether a call that must sleep does: `Ok(())` once its timer is set (or for an untimed call), the
/// error it fails with when its time has passed already (`wq_sleep` with an expired timeout).
fn may_sleep(kernel: &mut Kernel, call: &CallContext) -> Result<(), Errno> {
    match timeout_of(call) {
        Some(ns) => {
            let until = super::time::ipc_deadline(kernel, call.pid, ns);
            if kernel.arm_wake(call.pid, until) {
                Ok(())
            } else {
                Err(ETIMEDOUT)
            }
        }
        None => Ok(()),
    }
}

/// `do_mq_timedsend`, for one call (or the end of one a receiver finished); `mq_timedsend`'s time is
/// absolute in C (`now + NS`), checked before anything else (`prepare_timeout`: `EINVAL` if negative).
fn mq_send(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let exec = mq_send_once(kernel, call, trace);
    finish(kernel, call, exec)
}

fn mq_send_once(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    if timeout_of(call).is_some_and(|ns| ns < 0) {
        return Kernel::error(EINVAL);
    }
    if let Some(Handed::Result(result)) = kernel.proc_mut(pid).handed.take() {
        return Exec::Done(result);
    }
    // Its timer woke it and no receiver made room for it meanwhile (`wq_sleep`: a pending signal would
    // have come first, as `-ERESTARTSYS`).
    if kernel.ipc_timed_out(pid) {
        return Kernel::error(ETIMEDOUT);
    }
    let priority = call.arg(2) as u32 as i64;
    if priority >= MQ_PRIO_MAX {
        return Kernel::error(EINVAL);
    }
    let (id, file) = match queue_of(kernel, pid, call.arg(0)) {
        Ok(found) => found,
        Err(errno) => return Kernel::error(errno),
    };
    let (writable, nonblock) = (kernel.file(file).writable, kernel.file(file).nonblock);
    if !writable {
        return Kernel::error(EBADF);
    }
    let payload = call.call.payload().expect("mq_send has a payload operand").clone();
    let size = payload.len() as i64;
    let object = ObjectRef::mqueue(id);
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
    let step = kernel.step as u32;
    let queue = kernel.mqueue_mut(id);
    if size > queue.msgsize {
        return Kernel::error(EMSGSIZE);
    }
    let mut text = Vec::with_capacity(size as usize);
    payload.copy_to(0, size as u32, &mut text);
    let message: Arc<[u8]> = Arc::from(text);
    push_once(&mut queue.sent_by, pid);
    if queue.curmsgs() as i64 == queue.maxmsg {
        if nonblock {
            return Kernel::error(EAGAIN);
        }
        let held = queue.curmsgs() as u32;
        if let Err(errno) = may_sleep(kernel, call) {
            return Kernel::error(errno);
        }
        kernel.mqueue_mut(id).senders.push((pid, priority, message));
        return Exec::Block(BlockReason::MqFull { mq: id, held });
    }
    let copy = |queue: &Mqueue| Copied {
        pid,
        direction: CopyDirection::UserToKernel,
        bytes: size as u32,
        object,
        used_bytes: queue.qsize.min(u32::MAX as u64) as u32,
        capacity_bytes: ((queue.maxmsg * queue.msgsize) as u64).min(u32::MAX as u64) as u32,
    };
    if !queue.receivers.is_empty() {
        // `pipelined_send`: straight to the first receiver in line.
        let receiver = queue.receivers.remove(0);
        push_once(&mut queue.received_by, receiver);
        trace.record_copy(step, copy(queue));
        kernel.count_copy(Copier::Mqueues, CopyDirection::UserToKernel, size as u64);
        kernel.proc_mut(receiver).handed = Some(Handed::Message { object, tag: priority, bytes: message, skipped: 0 });
        kernel.wake(receiver, pid, WakeCause::Completed { object }, trace);
        return Exec::Done(CallResult::Value { value: 0 });
    }
    queue.enqueue(priority, message);
    queue.qsize += size as u64;
    trace.record_copy(step, copy(queue));
    let notify = if queue.curmsgs() == 1 { queue.notify.take() } else { None };
    kernel.count_copy(Copier::Mqueues, CopyDirection::UserToKernel, size as u64);
    // `__do_notify` ends with `wake_up(&info->wait_q)`: pollers look again.
    wake_pollers(kernel, id, pid, WakeCause::Data { object }, trace);
    // `__do_notify`: the queue was empty and nobody waits on it.
    if let Some((owner, signal)) = notify {
        // `__do_notify` fills in `SI_MESGQ`, the sender's pid and the `sigev_value` (none here).
        kernel.defer_signal(super::signal::Sent::message_arrived(pid, owner, signal));
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// `do_mq_timedreceive`, for one call (or the end of one a sender finished), with `mq_timedreceive`'s
/// time as `mq_send` takes it.
fn mq_receive(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let exec = mq_receive_once(kernel, call, trace);
    finish(kernel, call, exec)
}

fn mq_receive_once(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    let count = call.arg(1);
    if timeout_of(call).is_some_and(|ns| ns < 0) {
        return Kernel::error(EINVAL);
    }
    if let Some(handed) = kernel.proc_mut(pid).handed.take() {
        return super::msg::finish_handed(kernel, pid, handed, i64::MAX, trace);
    }
    if kernel.ipc_timed_out(pid) {
        return Kernel::error(ETIMEDOUT);
    }
    let (id, file) = match queue_of(kernel, pid, call.arg(0)) {
        Ok(found) => found,
        Err(errno) => return Kernel::error(errno),
    };
    let (readable, nonblock) = (kernel.file(file).readable, kernel.file(file).nonblock);
    if !readable {
        return Kernel::error(EBADF);
    }
    let object = ObjectRef::mqueue(id);
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
    let queue = kernel.mqueue_mut(id);
    // `msg_len` is a `size_t`: a negative count is a huge buffer.
    if (count as u64) < queue.msgsize as u64 {
        return Kernel::error(EMSGSIZE);
    }
    push_once(&mut queue.received_by, pid);
    if queue.messages.is_empty() {
        if nonblock {
            return Kernel::error(EAGAIN);
        }
        if let Err(errno) = may_sleep(kernel, call) {
            return Kernel::error(errno);
        }
        kernel.mqueue_mut(id).receivers.push(pid);
        return Exec::Block(BlockReason::MqEmpty { mq: id });
    }
    // `msg_get`: the oldest message of the highest priority.
    let (priority, message) = queue.messages.remove(0);
    queue.qsize -= message.len() as u64;
    // `pipelined_receive`: the first sender in line puts its message in the place just freed.
    let mut woken = None;
    if !queue.senders.is_empty() {
        let (sender, sender_priority, sender_message) = queue.senders.remove(0);
        queue.qsize += sender_message.len() as u64;
        queue.enqueue(sender_priority, sender_message);
        woken = Some(sender);
    }
    let result = super::msg::deliver(kernel, pid, object, priority, &message, i64::MAX, 0, trace);
    if woken.is_none() {
        // `pipelined_receive` with no sender waiting: `wake_up_interruptible(&info->wait_q)`, "for poll".
        wake_pollers(kernel, id, pid, WakeCause::Room { object }, trace);
    }
    if let Some(sender) = woken {
        kernel.proc_mut(sender).handed = Some(Handed::Result(CallResult::Value { value: 0 }));
        kernel.wake(sender, pid, WakeCause::Completed { object }, trace);
    }
    result
}

/// The Mqueue mechanism's calls that take a descriptor or a name.
fn mq_getattr(kernel: &mut Kernel, pid: Pid, fd: i64, field_code: i64) -> Exec {
    let (id, file) = match queue_of(kernel, pid, fd) {
        Ok(found) => found,
        Err(errno) => return Kernel::error(errno),
    };
    let nonblock = kernel.file(file).nonblock;
    let queue = kernel.mqueue(id).expect("open");
    let value = match field_code {
        field::MQ_FLAGS => {
            if nonblock {
                O_NONBLOCK
            } else {
                0
            }
        }
        field::MQ_MAXMSG => queue.maxmsg,
        field::MQ_MSGSIZE => queue.msgsize,
        field::MQ_CURMSGS => queue.curmsgs() as i64,
        _ => return Exec::Done(CallResult::Value { value: 0 }),
    };
    Exec::Done(CallResult::Out { value })
}

/// `mq_setattr(mqdes, &{.mq_flags = flags}, NULL)` (`do_mq_getsetattr`).
fn mq_setattr(kernel: &mut Kernel, pid: Pid, fd: i64, flags: i64) -> Exec {
    if flags & !O_NONBLOCK != 0 {
        return Kernel::error(EINVAL);
    }
    let file = match queue_of(kernel, pid, fd) {
        Ok((_, file)) => file,
        Err(errno) => return Kernel::error(errno),
    };
    kernel.file_mut(file).nonblock = flags & O_NONBLOCK != 0;
    Exec::Done(CallResult::Value { value: 0 })
}

/// `mq_notify(mqdes, signal ? &{SIGEV_SIGNAL, signal} : NULL)` (`do_mq_notify`).
fn mq_notify(kernel: &mut Kernel, pid: Pid, fd: i64, signal: i64) -> Exec {
    // `valid_signal`: 1 to 64, checked before the descriptor.
    if signal != 0 && !(1..=64).contains(&signal) {
        return Kernel::error(EINVAL);
    }
    let id = match queue_of(kernel, pid, fd) {
        Ok((id, _)) => id,
        Err(errno) => return Kernel::error(errno),
    };
    let queue = kernel.mqueue_mut(id);
    match (signal, queue.notify) {
        // Cancelling is silently nothing for a process that is not registered.
        (0, Some((owner, _))) if owner == pid => queue.notify = None,
        (0, _) => {}
        (_, Some(_)) => return Kernel::error(crate::linux::errno::EBUSY),
        (signal, None) => queue.notify = Some((pid, Signal(signal as u8))),
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// `mq_unlink(name)`: the name goes; the queue goes once no descriptor is open.
fn mq_unlink(kernel: &mut Kernel, name_index: u32) -> Exec {
    let name = match kernel_name(kernel, name_index) {
        Ok(name) => name,
        Err(errno) => return Kernel::error(errno),
    };
    let Some(id) = kernel.ipc.mq_names.remove(&name) else { return Kernel::error(ENOENT) };
    let queue = kernel.mqueue_mut(id);
    queue.name = None;
    queue.name_index = None;
    evict_if_unused(kernel, id);
    Exec::Done(CallResult::Value { value: 0 })
}

/// What `read` on a queue's descriptor shows (`mqueue_read_file`).
pub(crate) fn status_text(kernel: &Kernel, id: u32) -> Vec<u8> {
    let queue = kernel.mqueue(id).expect("an open queue exists");
    let (signo, owner) = queue.notify.map_or((0, 0), |(owner, signal)| (signal.0 as u32, owner));
    let text = format!("QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n", queue.qsize, 0, signo, owner);
    text.into_bytes()
}

/// The POSIX message queue mechanism.
pub struct Mqueues;

impl Mechanism for Mqueues {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::MqOpen => mq_open(kernel, pid, call.arg(0) as u32, call.arg(1), call.arg(2), call.arg(3)),
            CallId::MqSend | CallId::MqTimedsend => mq_send(kernel, call, trace),
            CallId::MqReceive | CallId::MqTimedreceive => mq_receive(kernel, call, trace),
            CallId::MqGetattr => mq_getattr(kernel, pid, call.arg(0), call.arg(1)),
            CallId::MqSetattr => mq_setattr(kernel, pid, call.arg(0), call.arg(1)),
            CallId::MqNotify => mq_notify(kernel, pid, call.arg(0), call.arg(1)),
            // glibc's `mq_close` is `close`.
            CallId::MqClose => {
                if kernel.close_fd(pid, call.arg(0), trace) {
                    Exec::Done(CallResult::Value { value: 0 })
                } else {
                    Kernel::error(EBADF)
                }
            }
            CallId::MqUnlink => mq_unlink(kernel, call.arg(0) as u32),
            other => unreachable!("{} is not a POSIX message queue call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        if let BlockReason::MqEmpty { mq } | BlockReason::MqFull { mq, .. } = reason {
            if let Some(Some(queue)) = kernel.ipc.mqueues.get_mut(*mq as usize - 1) {
                queue.receivers.retain(|receiver| *receiver != pid);
                queue.senders.retain(|(sender, _, _)| *sender != pid);
            }
        }
    }

    fn interruption(_reason: &BlockReason) -> Interruption {
        // `wq_sleep` returns -ERESTARTSYS: the call starts again after a stop, or after a handler with
        // SA_RESTART; a handler without it makes the call fail with EINTR.
        Interruption::Restart
    }

    fn woken_call(kernel: &Kernel, pid: Pid, _by_signal: bool) -> WokenCall {
        // `wq_sleep` returns what a partner handed over (`STATE_READY`) before it looks for a signal.
        if kernel.process(pid).handed.is_some() {
            WokenCall::TriesAgain
        } else {
            WokenCall::SeesSignal(Interruption::Restart)
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        let mut pinned = 0;
        let mut count = 0;
        for queue in kernel.ipc.mqueues.iter().flatten() {
            pinned += queue.pinned_bytes();
            count += 1;
            let held: u64 = queue.messages.iter().map(|(_, message)| message.len() as u64).sum();
            if held != queue.qsize {
                return Err(format!("POSIX queue {} counts {} bytes but holds {held}", queue.id, queue.qsize));
            }
            if queue.curmsgs() as i64 > queue.maxmsg {
                return Err(format!("POSIX queue {} holds more messages than it may", queue.id));
            }
            if queue.messages.windows(2).any(|pair| pair[0].0 < pair[1].0) {
                return Err(format!("POSIX queue {} keeps a lower priority before a higher one", queue.id));
            }
            if queue.name.is_none() && queue.opens == 0 {
                return Err(format!("POSIX queue {} has neither a name nor a descriptor but still exists", queue.id));
            }
            let opens =
                kernel.files.iter().flatten().filter(|file| file.object == FileObject::Mqueue(queue.id)).count();
            if opens != queue.opens as usize {
                return Err(format!("POSIX queue {} counts {} open files but {opens} exist", queue.id, queue.opens));
            }
        }
        if pinned != kernel.ipc.mq_bytes || count != kernel.ipc.mq_count {
            return Err("the bytes or the count of POSIX queues are counted wrong".to_string());
        }
        for (name, id) in &kernel.ipc.mq_names {
            if kernel.mqueue(*id).and_then(|queue| queue.name.as_ref()) != Some(name) {
                return Err(format!("the name /{name} leads to a queue that does not have it"));
            }
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for queue in kernel.ipc.mqueues.iter().flatten() {
            let messages = queue
                .messages
                .iter()
                .map(|(priority, message)| MessageView {
                    tag: *priority,
                    len: message.len() as u32,
                    preview: message[..message.len().min(32)].to_vec(),
                    rights: Vec::new(),
                    creds: None,
                })
                .collect();
            out.push(ObjectView::Mqueue(Box::new(MqueueView {
                id: queue.id,
                name: queue.name.as_ref().map(|name| format!("/{name}")),
                mode: queue.mode as u32,
                creator: queue.creator,
                maxmsg: queue.maxmsg,
                msgsize: queue.msgsize,
                messages,
                used_bytes: queue.qsize,
                send_waiters: queue.senders.iter().map(|(pid, _, _)| *pid).collect(),
                receive_waiters: queue.receivers.clone(),
                notify: queue.notify.map(|(pid, signal)| (pid, signal.name().to_string())),
                opens: queue.opens,
            })));
        }
    }
}

/// Who could end a wait on a POSIX queue: those that ever did the opposite and still live.
pub(crate) fn could_end_wait(kernel: &Kernel, reason: &BlockReason) -> Vec<Pid> {
    let (BlockReason::MqEmpty { mq } | BlockReason::MqFull { mq, .. }) = reason else { return Vec::new() };
    let Some(queue) = kernel.mqueue(*mq) else { return Vec::new() };
    let history = if matches!(reason, BlockReason::MqEmpty { .. }) { &queue.sent_by } else { &queue.received_by };
    history.iter().copied().filter(|pid| kernel.process(*pid).is_alive()).collect()
}

/// Wakes every process asleep in `poll` on queue `id`.
fn wake_pollers(kernel: &mut Kernel, id: u32, by: Pid, cause: WakeCause, trace: &mut Trace) {
    // `wake_up(&info->wait_q)`: no key, so every epoll item on the queue.
    kernel.epoll_callback(super::poll::Queue::Mqueue(id), 0, by, cause, trace);
    if kernel.mqueue(id).is_none_or(|queue| queue.poll_wait.is_empty()) {
        return;
    }
    let mut woken = Vec::new();
    kernel.mqueue_mut(id).poll_wait.wake(super::wait::Wake::All, &mut woken);
    for poller in woken {
        kernel.wake(poller, by, cause, trace);
    }
}

/// What a descriptor of POSIX queue `id` is ready for (`mqueue_poll_file`): reading while it holds a
/// message, writing while it has room for one.
pub(crate) fn poll_mask(kernel: &Kernel, id: u32) -> i64 {
    use crate::linux::poll::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
    let Some(queue) = kernel.mqueue(id) else { return 0 };
    let mut mask = 0;
    if queue.curmsgs() > 0 {
        mask |= POLLIN | POLLRDNORM;
    }
    if (queue.curmsgs() as i64) < queue.maxmsg {
        mask |= POLLOUT | POLLWRNORM;
    }
    mask
}

/// The living processes that sent to or received from queue `id`, for the deadlock report of a poller.
pub(crate) fn users(kernel: &Kernel, id: u32) -> Vec<Pid> {
    let Some(queue) = kernel.mqueue(id) else { return Vec::new() };
    queue.sent_by.iter().chain(&queue.received_by).copied().filter(|pid| kernel.process(*pid).is_alive()).collect()
}

/// What a POSIX queue holds, for the deadlock report.
pub(crate) fn held(kernel: &Kernel, id: u32) -> Option<(u64, u64)> {
    let queue = kernel.mqueue(id)?;
    Some((queue.curmsgs() as u64, queue.qsize))
}

#[cfg(test)]
mod tests {
    use super::super::ipc::call_results;
    use crate::linux::errno::{EAGAIN, EINVAL};
    use crate::trace::CallResult;

    fn tags(results: &[CallResult]) -> Vec<i64> {
        results
            .iter()
            .filter_map(|result| if let CallResult::Message { tag, .. } = result { Some(*tag) } else { None })
            .collect()
    }

    #[test]
    fn the_highest_priority_goes_first_and_each_priority_in_order() {
        let source = "process main {\n  q = mq_open \"/q\" O_CREAT|O_RDWR|O_NONBLOCK 0600 {8, 16}\n  \
                      mq_send q \"a\" 1\n  mq_send q \"b\" 5\n  mq_send q \"c\" 5\n  mq_send q \"d\" 3\n  \
                      repeat 5 { mq_receive q 16 }\n  mq_unlink \"/q\"\n}\n";
        let results = call_results(crate::Limits::DEFAULT, source);
        assert_eq!(tags(&results), [5, 5, 3, 1]);
        let texts: Vec<u32> = results
            .iter()
            .filter_map(|result| if let CallResult::Message { offset, .. } = result { Some(*offset) } else { None })
            .collect();
        // The two messages of priority 5 leave in the order they came: "b" was recorded first.
        assert!(texts[0] < texts[1]);
        assert_eq!(results[9], CallResult::Error { errno: EAGAIN }, "the fifth receive finds the queue empty");
    }

    #[test]
    fn attributes_are_bounded_by_the_namespace_limits() {
        let source = "process main {\n  q = mq_open \"/q\" O_CREAT|O_RDWR 0600 {11, 16}\n}\n";
        assert_eq!(call_results(crate::Limits::DEFAULT, source)[0], CallResult::Error { errno: EINVAL });
        let mut limits = crate::Limits::DEFAULT;
        limits.ipc.mq_msg_max = 11;
        assert!(matches!(call_results(limits, source)[0], CallResult::Value { value } if value >= 3));
    }
}
