//! System V message queues: `msgget`, `msgsnd`, `msgrcv`, `msgctl`.
//!
//! The rules are `ipc/msg.c`'s (Linux 6.18). A queue holds typed messages in the order they were sent,
//! up to `msg_qbytes` bytes *and* `msg_qbytes` messages (`msg_fits_inqueue`: a message of 0 bytes still
//! takes a place). `do_msgsnd` checks the size (`MSGMAX`) and type first, then the queue, and sleeps
//! while the message does not fit; once it fits it hands the message straight to the first sleeping
//! receiver that wants it (`pipelined_send`: a receiver whose buffer is too small is woken with `E2BIG`
//! and the next one is tried) or appends it. `do_msgrcv` takes the first message its type selects
//! (`find_msg`, `testmsg`: 0 the first, > 0 the first of that type or with `MSG_EXCEPT` of another,
//! < 0 the first of the lowest type up to its absolute value), wakes every sleeping sender whose
//! message now fits (`ss_wakeup`, in order, the others keeping their order), or sleeps at the tail of
//! the receivers. A receiver handed a message returns it without retrying; a woken sender retries.
//! `IPC_RMID` wakes every sleeper with `EIDRM` (`freeque`); `IPC_SET` makes the receivers start again
//! (`expunge_all(-EAGAIN)`) and wakes the senders that now fit. A sleeper stopped by a signal starts its
//! call again once continued (`-ERESTARTNOHAND`), and a woken sender that is stopped or killed before it
//! runs does not send (it checks for a signal before it checks for room).

use super::ipc::IpcIds;
use super::process::Handed;
use super::{CallContext, Exec, Interruption, Kernel, Mechanism, Scratch, WokenCall};
use crate::lang::ast::Copier;
use crate::lang::syscalls::CallId;
use crate::linux::errno::{E2BIG, EACCES, EAGAIN, EEXIST, EIDRM, EINVAL, ENOENT, ENOMSG, EPERM};
use crate::linux::ipc::{self, IPC_CREAT, IPC_EXCL, IPC_NOWAIT, IPC_PRIVATE, MODE_BITS, S_IRUGO, S_IWUGO};
use crate::linux::msg::{MSG_COPY, MSG_EXCEPT, MSG_NOERROR};
use crate::linux::{field, Errno};
use crate::present::snapshot::{MessageView, MsgQueueView, ObjectView};
use crate::trace::{BlockReason, CallResult, Copied, CopyDirection, ObjectRef, Pid, StateHasher, Trace, WakeCause};
use std::sync::Arc;

/// One message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub mtype: i64,
    pub text: Arc<[u8]>,
}

/// How a receiver picks a message (`SEARCH_*` in `ipc/msg.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    Any,
    Equal(i64),
    NotEqual(i64),
    /// The lowest type up to this one.
    LessEqual(i64),
    /// `MSG_COPY`: the message at this index, left in place.
    Number(i64),
}

impl Search {
    /// `convert_mode`.
    fn of(msgtyp: i64, flags: i64) -> Search {
        if flags & MSG_COPY != 0 {
            return Search::Number(msgtyp);
        }
        match msgtyp {
            0 => Search::Any,
            // `-LONG_MIN` is undefined: Linux takes `LONG_MAX`.
            msgtyp if msgtyp < 0 => Search::LessEqual(msgtyp.checked_neg().unwrap_or(i64::MAX)),
            msgtyp if flags & MSG_EXCEPT != 0 => Search::NotEqual(msgtyp),
            msgtyp => Search::Equal(msgtyp),
        }
    }

    /// `testmsg`.
    fn accepts(self, mtype: i64) -> bool {
        match self {
            Search::Any | Search::Number(_) => true,
            Search::Equal(wanted) => mtype == wanted,
            Search::NotEqual(unwanted) => mtype != unwanted,
            Search::LessEqual(limit) => mtype <= limit,
        }
    }
}

/// A process asleep in `msgrcv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receiver {
    pub pid: Pid,
    pub search: Search,
    /// The largest message it takes (`INT_MAX` with `MSG_NOERROR`).
    pub max_size: i64,
}

/// A process asleep in `msgsnd`, and the size of its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sender {
    pub pid: Pid,
    pub size: u64,
}

/// A System V message queue (`struct msg_queue`).
#[derive(Clone, Debug)]
pub struct MsgQueue {
    pub id: i32,
    pub key: i32,
    pub mode: i64,
    /// Never reused: tells a sleeper whether its queue is still the one behind the id.
    pub serial: u64,
    pub messages: std::collections::VecDeque<Message>,
    pub cbytes: u64,
    pub qbytes: u64,
    pub lspid: Pid,
    pub lrpid: Pid,
    pub receivers: Vec<Receiver>,
    pub senders: Vec<Sender>,
    pub creator: Pid,
    /// Processes that have sent to it, and received from it (for the deadlock report: who could end a
    /// wait), each once, in the order they first did.
    pub sent_by: Vec<Pid>,
    pub received_by: Vec<Pid>,
}

impl MsgQueue {
    /// `msg_fits_inqueue`: the bytes *and* the count of messages stay within `msg_qbytes`.
    fn fits(&self, size: u64) -> bool {
        size + self.cbytes <= self.qbytes && (self.messages.len() as u64) < self.qbytes
    }

    pub(crate) fn hash_into(&self, hasher: &mut StateHasher) {
        hasher.word(self.id as u64 | (self.key as u32 as u64) << 32);
        hasher.word(self.mode as u64);
        hasher.word(self.qbytes);
        hasher.word(self.lspid as u64 | (self.lrpid as u64) << 32);
        for message in &self.messages {
            hasher.word(message.mtype as u64);
            hasher.bytes(&message.text);
        }
        for receiver in &self.receivers {
            hasher.word(receiver.pid as u64);
            hasher.word(receiver.max_size as u64);
        }
        for sender in &self.senders {
            hasher.word(sender.pid as u64 | sender.size << 32);
        }
    }
}

fn push_once(list: &mut Vec<Pid>, pid: Pid) {
    if !list.contains(&pid) {
        list.push(pid);
    }
}

impl Kernel {
    /// The queue behind an id (`msq_obtain_object_check`): the index must hold a queue whose id is this.
    fn msg_queue_index(&self, id: i32) -> Option<u32> {
        let index = IpcIds::index_of(id);
        self.ipc.msg_queues.get(&index).filter(|queue| queue.id == id).map(|_| index)
    }

    fn msg_queue(&mut self, index: u32) -> &mut MsgQueue {
        self.ipc.msg_queues.get_mut(&index).expect("looked up")
    }
}

/// `msgget(key, msgflg)` (`ipcget`: `ipcget_new` for `IPC_PRIVATE`, else `ipcget_public`).
fn msgget(kernel: &mut Kernel, pid: Pid, key: i32, flags: i32) -> Exec {
    let flags = flags as i64;
    if key as i64 != IPC_PRIVATE {
        if let Some(queue) = kernel.ipc.msg_queues.values().find(|queue| queue.key == key) {
            if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                return Kernel::error(EEXIST);
            }
            if !ipc::owner_may(queue.mode, flags) {
                return Kernel::error(EACCES);
            }
            return Exec::Done(CallResult::Value { value: queue.id as i64 });
        }
        if flags & IPC_CREAT == 0 {
            return Kernel::error(ENOENT);
        }
    }
    if !kernel.ipc_object_fits() {
        return kernel.halt_ipc_objects();
    }
    let queues = &kernel.ipc.msg_queues;
    let (index, id) = match kernel.ipc.msg_ids.alloc(kernel.limits.ipc.msgmni, |index| queues.contains_key(&index)) {
        Ok(allocated) => allocated,
        Err(errno) => return Kernel::error(errno),
    };
    let serial = kernel.ipc.next_serial();
    kernel.ipc.msg_queues.insert(
        index,
        MsgQueue {
            id,
            key,
            mode: flags & MODE_BITS,
            serial,
            messages: Default::default(),
            cbytes: 0,
            qbytes: kernel.limits.ipc.msgmnb_bytes as u64,
            lspid: 0,
            lrpid: 0,
            receivers: Vec::new(),
            senders: Vec::new(),
            creator: pid,
            sent_by: Vec::new(),
            received_by: Vec::new(),
        },
    );
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::msg_queue(id as u32));
    }
    Exec::Done(CallResult::Value { value: id as i64 })
}

/// The queue a call finds, or why not: `EINVAL` for an id that names no queue, `EIDRM` for a call that
/// slept on a queue removed since (`ipc_valid_object` after `schedule()`).
fn find(kernel: &Kernel, pid: Pid, id: i32) -> Result<u32, Errno> {
    let slept_on = match kernel.process(pid).call.scratch {
        Scratch::Ipc { serial } if kernel.process(pid).call.waited => Some(serial),
        _ => None,
    };
    let found = kernel.msg_queue_index(id);
    match (found, slept_on) {
        (Some(index), Some(serial)) if kernel.ipc.msg_queues[&index].serial != serial => Err(EIDRM),
        (Some(index), _) => Ok(index),
        (None, Some(_)) => Err(EIDRM),
        (None, None) => Err(EINVAL),
    }
}

/// `do_msgsnd` for one attempt.
fn msgsnd(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    // C's types: `int msqid`, `long mtype`, `size_t msgsz`, `int msgflg`.
    let (id, mtype, flags) = (call.arg(0) as i32, call.arg(1), call.arg(3) as i32 as i64);
    let payload = call.call.payload().expect("msgsnd has a payload operand").clone();
    let size = payload.len() as u64;
    if size > kernel.limits.ipc.msgmax_bytes as u64 || id < 0 {
        return Kernel::error(EINVAL);
    }
    if mtype < 1 {
        return Kernel::error(EINVAL);
    }
    let index = match find(kernel, pid, id) {
        Ok(index) => index,
        Err(errno) => return Kernel::error(errno),
    };
    let object = ObjectRef::msg_queue(kernel.msg_queue(index).id as u32);
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
    let queue = kernel.msg_queue(index);
    if !ipc::owner_may(queue.mode, S_IWUGO) {
        return Kernel::error(EACCES);
    }
    if !queue.fits(size) {
        if flags & IPC_NOWAIT != 0 {
            return Kernel::error(EAGAIN);
        }
        queue.senders.push(Sender { pid, size });
        let reason = BlockReason::MsgFull {
            queue: queue.id as u32,
            bytes: size as u32,
            used: queue.cbytes as u32,
            capacity: queue.qbytes.min(u32::MAX as u64) as u32,
        };
        let serial = queue.serial;
        kernel.proc_mut(pid).call.scratch = Scratch::Ipc { serial };
        return Exec::Block(reason);
    }
    let mut text = Vec::with_capacity(size as usize);
    payload.copy_to(0, size as u32, &mut text);
    let message = Message { mtype, text: Arc::from(text) };
    let queue = kernel.msg_queue(index);
    queue.lspid = pid;
    push_once(&mut queue.sent_by, pid);
    // `pipelined_send`: the first sleeping receiver that wants the message gets it, unless it is too
    // large for it (that receiver fails with E2BIG and the next is tried).
    let mut handed_to = None;
    let mut too_small = Vec::new();
    let mut at = 0;
    while at < queue.receivers.len() {
        let receiver = &queue.receivers[at];
        if !receiver.search.accepts(message.mtype) {
            at += 1;
            continue;
        }
        let receiver = queue.receivers.remove(at);
        if receiver.max_size < size as i64 {
            too_small.push(receiver.pid);
            continue;
        }
        queue.lrpid = receiver.pid;
        push_once(&mut queue.received_by, receiver.pid);
        handed_to = Some(receiver);
        break;
    }
    let (used, capacity) = (queue.cbytes, queue.qbytes);
    let copy = |used: u64| Copied {
        pid,
        direction: CopyDirection::UserToKernel,
        bytes: size as u32,
        object,
        used_bytes: used.min(u32::MAX as u64) as u32,
        capacity_bytes: capacity.min(u32::MAX as u64) as u32,
    };
    match handed_to {
        Some(receiver) => {
            // The message goes straight from one process to the other: it never enters the queue.
            trace.record_copy(kernel.step as u32, copy(used));
            kernel.count_copy(Copier::MsgQueues, CopyDirection::UserToKernel, size);
            for sleeper in too_small {
                hand(kernel, sleeper, pid, object, Handed::Result(CallResult::Error { errno: E2BIG }), trace);
            }
            let handed = Handed::Message { object, tag: message.mtype, bytes: message.text, skipped: 0 };
            hand(kernel, receiver.pid, pid, object, handed, trace);
        }
        None => {
            let queue = kernel.msg_queue(index);
            queue.cbytes += size;
            queue.messages.push_back(message);
            let used = queue.cbytes;
            kernel.count_copy(Copier::MsgQueues, CopyDirection::UserToKernel, size);
            trace.record_copy(kernel.step as u32, copy(used));
            for sleeper in too_small {
                hand(kernel, sleeper, pid, object, Handed::Result(CallResult::Error { errno: E2BIG }), trace);
            }
        }
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// Finishes a sleeper's call on its behalf and wakes it: it returns `handed` when it next runs.
fn hand(kernel: &mut Kernel, sleeper: Pid, by: Pid, object: ObjectRef, handed: Handed, trace: &mut Trace) {
    kernel.proc_mut(sleeper).handed = Some(handed);
    let cause = match kernel.process(sleeper).handed {
        Some(Handed::Result(CallResult::Error { errno })) if errno == EIDRM => WakeCause::Removed { object },
        _ => WakeCause::Completed { object },
    };
    kernel.wake(sleeper, by, cause, trace);
}

/// `ss_wakeup`: every sleeping sender whose message fits now is woken (to retry), the others keep
/// their order.
fn wake_senders(kernel: &mut Kernel, index: u32, by: Pid, cause: WakeCause, trace: &mut Trace) {
    let queue = kernel.msg_queue(index);
    let mut woken = Vec::new();
    let mut kept = Vec::new();
    for sender in std::mem::take(&mut queue.senders) {
        if queue.fits(sender.size) {
            woken.push(sender.pid);
        } else {
            kept.push(sender);
        }
    }
    queue.senders = kept;
    for pid in woken {
        kernel.wake(pid, by, cause, trace);
    }
}

/// `do_msgrcv` for one attempt (or the end of a call another process finished).
fn msgrcv(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    // C's types: `int msqid`, `size_t msgsz` (refused when negative as a `long`), `long msgtyp`, `int`.
    let (id, count, msgtyp, flags) = (call.arg(0) as i32, call.arg(1), call.arg(2), call.arg(3) as i32 as i64);
    if let Some(handed) = kernel.proc_mut(pid).handed.take() {
        return finish_handed(kernel, pid, handed, count, trace);
    }
    if id < 0 || count < 0 {
        return Kernel::error(EINVAL);
    }
    if flags & MSG_COPY != 0 && (flags & MSG_EXCEPT != 0 || flags & IPC_NOWAIT == 0) {
        return Kernel::error(EINVAL);
    }
    let search = Search::of(msgtyp, flags);
    let index = match find(kernel, pid, id) {
        Ok(index) => index,
        Err(errno) => return Kernel::error(errno),
    };
    let object = ObjectRef::msg_queue(kernel.msg_queue(index).id as u32);
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
    let msgmax = kernel.limits.ipc.msgmax_bytes as i64;
    let queue = kernel.msg_queue(index);
    if !ipc::owner_may(queue.mode, S_IRUGO) {
        return Kernel::error(EACCES);
    }
    // `find_msg`: the first message the search accepts; for the lowest type, the first of the lowest.
    let mut found = None;
    match search {
        Search::LessEqual(mut limit) => {
            for (at, message) in queue.messages.iter().enumerate() {
                if message.mtype <= limit {
                    found = Some(at);
                    if message.mtype == 1 {
                        break;
                    }
                    limit = message.mtype - 1;
                }
            }
        }
        Search::Number(number) => {
            found = usize::try_from(number).ok().filter(|at| *at < queue.messages.len());
        }
        search => found = queue.messages.iter().position(|message| search.accepts(message.mtype)),
    }
    let Some(at) = found else {
        if flags & IPC_NOWAIT != 0 {
            return Kernel::error(ENOMSG);
        }
        let max_size = if flags & MSG_NOERROR != 0 { i32::MAX as i64 } else { count };
        let held = queue.messages.len() as u32;
        queue.receivers.push(Receiver { pid, search, max_size });
        let serial = queue.serial;
        let (msgtype, except) = (msgtyp, flags & MSG_EXCEPT != 0 && msgtyp > 0);
        kernel.proc_mut(pid).call.scratch = Scratch::Ipc { serial };
        return Exec::Block(BlockReason::MsgEmpty { queue: object.id, msgtype, except, held });
    };
    let size = queue.messages[at].text.len() as i64;
    if count < size && flags & MSG_NOERROR == 0 {
        return Kernel::error(E2BIG);
    }
    if let Search::Number(_) = search {
        // `copy_msg` into a buffer of `min(count, MSGMAX)` bytes: a larger message does not fit.
        if size > count.min(msgmax) {
            return Kernel::error(EINVAL);
        }
        let message = queue.messages[at].clone();
        return deliver(kernel, pid, object, message.mtype, &message.text, count, at as u32, trace);
    }
    let message = queue.messages.remove(at).expect("found above");
    queue.cbytes -= message.text.len() as u64;
    queue.lrpid = pid;
    push_once(&mut queue.received_by, pid);
    let result = deliver(kernel, pid, object, message.mtype, &message.text, count, at as u32, trace);
    wake_senders(kernel, index, pid, WakeCause::Room { object }, trace);
    result
}

/// Copies a message out to the receiver: at most `count` bytes (`do_msg_fill`; a POSIX queue's receiver
/// always has room for the whole message).
#[allow(clippy::too_many_arguments)]
pub(crate) fn deliver(
    kernel: &mut Kernel,
    pid: Pid,
    object: ObjectRef,
    mtype: i64,
    text: &[u8],
    count: i64,
    skipped: u32,
    trace: &mut Trace,
) -> Exec {
    let len = (text.len() as i64).min(count) as usize;
    if trace.data_len() + len as u64 > kernel.limits.max_trace_data_bytes {
        let detail = format!("reads in this run would return more than {} bytes", kernel.limits.max_trace_data_bytes);
        return kernel.halt("max_trace_data_bytes", detail);
    }
    // The copy's event shows how full the queue is now.
    if kernel.footprint.enabled {
        kernel.footprint.read(object);
    }
    let (used, capacity) = match object.kind {
        crate::trace::ObjectKind::MsgQueue => kernel
            .msg_queue_index(object.id as i32)
            .map(|index| (kernel.ipc.msg_queues[&index].cbytes, kernel.ipc.msg_queues[&index].qbytes))
            .unwrap_or((0, 0)),
        _ => super::mqueue::usage(kernel, object.id),
    };
    trace.record_copy(
        kernel.step as u32,
        Copied {
            pid,
            direction: CopyDirection::KernelToUser,
            bytes: len as u32,
            object,
            used_bytes: used.min(u32::MAX as u64) as u32,
            capacity_bytes: capacity.min(u32::MAX as u64) as u32,
        },
    );
    let mechanism = if object.kind == crate::trace::ObjectKind::MsgQueue { Copier::MsgQueues } else { Copier::Mqueues };
    kernel.count_copy(mechanism, CopyDirection::KernelToUser, len as u64);
    kernel.read_scratch.clear();
    kernel.read_scratch.extend_from_slice(&text[..len]);
    let CallResult::Data { offset, len } = trace.record_data(&text[..len]) else {
        unreachable!("record_data gives data")
    };
    Exec::Done(CallResult::Message { offset, len, tag: mtype, skipped })
}

/// The end of a call another process finished for the sleeper: a message handed over (copied out now,
/// in the receiver's own step, and cut to its buffer when `MSG_NOERROR` let it through), or an error.
pub(crate) fn finish_handed(kernel: &mut Kernel, pid: Pid, handed: Handed, count: i64, trace: &mut Trace) -> Exec {
    match handed {
        Handed::Result(result) => Exec::Done(result),
        Handed::Message { object, tag, bytes, skipped } => {
            deliver(kernel, pid, object, tag, &bytes, count.max(0), skipped, trace)
        }
    }
}

/// `msgctl(msqid, cmd, buf)`; `field` and `value` stand for the part of `struct msqid_ds` read or set.
fn msgctl(
    kernel: &mut Kernel,
    pid: Pid,
    id: i64,
    command: i64,
    field_code: i64,
    value: i64,
    trace: &mut Trace,
) -> Exec {
    let (id, command) = (id as i32, command as i32 as i64);
    if id < 0 || command < 0 {
        return Kernel::error(EINVAL);
    }
    match command {
        ipc::IPC_INFO | crate::linux::msg::MSG_INFO => {
            // `msgctl_info`: the highest index in use (0 when none).
            let max_index = kernel.ipc.msg_queues.last_index().unwrap_or(0);
            Exec::Done(CallResult::Value { value: max_index as i64 })
        }
        crate::linux::msg::MSG_STAT | crate::linux::msg::MSG_STAT_ANY => {
            // `msgctl_stat` with an index instead of an id; returns the id.
            let Some(queue) = kernel.ipc.msg_queues.get(&(id as u32)) else { return Kernel::error(EINVAL) };
            if command == crate::linux::msg::MSG_STAT && !ipc::owner_may(queue.mode, S_IRUGO) {
                return Kernel::error(EACCES);
            }
            Exec::Done(CallResult::Value { value: queue.id as i64 })
        }
        ipc::IPC_STAT => {
            let Some(index) = kernel.msg_queue_index(id) else { return Kernel::error(EINVAL) };
            let queue = &kernel.ipc.msg_queues[&index];
            if !ipc::owner_may(queue.mode, S_IRUGO) {
                return Kernel::error(EACCES);
            }
            Exec::Done(stat_field(queue, field_code))
        }
        ipc::IPC_SET => {
            // The scenario's `IPC_SET FIELD VALUE` is C's `IPC_STAT` into a buffer, one field changed,
            // then `IPC_SET` of it: the `IPC_STAT` needs read permission first.
            let Some(index) = kernel.msg_queue_index(id) else { return Kernel::error(EINVAL) };
            let queue = &kernel.ipc.msg_queues[&index];
            if !ipc::owner_may(queue.mode, S_IRUGO) {
                return Kernel::error(EACCES);
            }
            let (mut qbytes, mut mode) = (queue.qbytes as i64, queue.mode);
            match field_code {
                field::MSG_QBYTES => qbytes = value,
                field::PERM_MODE => mode = value,
                // Any other field is not one IPC_SET looks at: the call sets what it read.
                _ => {}
            }
            // `msgctl_down`: the owner (every scenario process) may; above MSGMNB only with
            // CAP_SYS_RESOURCE, which scenario processes lack.
            let qbytes = qbytes as u64;
            if qbytes > kernel.limits.ipc.msgmnb_bytes as u64 {
                return Kernel::error(EPERM);
            }
            let object = ObjectRef::msg_queue(id as u32);
            if kernel.footprint.enabled {
                kernel.footprint.write(object);
            }
            let queue = kernel.msg_queue(index);
            queue.qbytes = qbytes;
            queue.mode = (queue.mode & !MODE_BITS) | (mode & MODE_BITS);
            // `expunge_all(-EAGAIN)`: sleeping receivers start again (the permissions may have changed).
            let receivers: Vec<Pid> = queue.receivers.drain(..).map(|receiver| receiver.pid).collect();
            for receiver in receivers {
                kernel.wake(receiver, pid, WakeCause::Changed { object }, trace);
            }
            wake_senders(kernel, index, pid, WakeCause::Room { object }, trace);
            Exec::Done(CallResult::Value { value: 0 })
        }
        ipc::IPC_RMID => {
            let Some(index) = kernel.msg_queue_index(id) else { return Kernel::error(EINVAL) };
            remove(kernel, index, pid, trace);
            Exec::Done(CallResult::Value { value: 0 })
        }
        _ => Kernel::error(EINVAL),
    }
}

/// The field of `struct msqid_ds` a scenario reads, as `IPC_STAT` fills it in.
fn stat_field(queue: &MsgQueue, field_code: i64) -> CallResult {
    let value = match field_code {
        field::MSG_QNUM => queue.messages.len() as i64,
        field::MSG_CBYTES => queue.cbytes as i64,
        field::MSG_QBYTES => queue.qbytes as i64,
        field::MSG_LSPID => queue.lspid as i64,
        field::MSG_LRPID => queue.lrpid as i64,
        field::PERM_MODE => queue.mode,
        // No field named: the call returns 0 and the scenario reads nothing.
        _ => return CallResult::Value { value: 0 },
    };
    CallResult::Out { value }
}

/// `freeque`: every sleeping receiver fails with `EIDRM`, every sleeping sender is woken (and finds its
/// queue gone), the messages are freed.
fn remove(kernel: &mut Kernel, index: u32, by: Pid, trace: &mut Trace) {
    let queue = kernel.ipc.msg_queues.remove(&index).expect("looked up");
    kernel.ipc.msg_ids.in_use -= 1;
    let object = ObjectRef::msg_queue(queue.id as u32);
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
    for receiver in &queue.receivers {
        hand(kernel, receiver.pid, by, object, Handed::Result(CallResult::Error { errno: EIDRM }), trace);
    }
    for sender in &queue.senders {
        kernel.wake(sender.pid, by, WakeCause::Removed { object }, trace);
    }
}

/// The System V message queue mechanism.
pub struct MsgQueues;

impl Mechanism for MsgQueues {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        match call.id() {
            CallId::Msgget => msgget(kernel, call.pid, call.arg(0) as i32, call.arg(1) as i32),
            CallId::Msgsnd => msgsnd(kernel, call, trace),
            CallId::Msgrcv => msgrcv(kernel, call, trace),
            CallId::Msgctl => msgctl(kernel, call.pid, call.arg(0), call.arg(1), call.arg(2), call.arg(3), trace),
            other => unreachable!("{} is not a message queue call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        if let BlockReason::MsgEmpty { queue, .. } | BlockReason::MsgFull { queue, .. } = reason {
            if let Some(index) = kernel.msg_queue_index(*queue as i32) {
                let queue = kernel.msg_queue(index);
                queue.receivers.retain(|receiver| receiver.pid != pid);
                queue.senders.retain(|sender| sender.pid != pid);
            }
        }
    }

    fn interruption(_reason: &BlockReason) -> Interruption {
        // `do_msgsnd` and `do_msgrcv` return -ERESTARTNOHAND: without a handler (after a stop) the call
        // starts again; a handler makes it fail with EINTR, even with SA_RESTART (signal(7)).
        Interruption::RestartWithoutHandler
    }

    fn woken_call(kernel: &Kernel, pid: Pid, _by_signal: bool) -> WokenCall {
        // Only a receiver handed a message (or an error) returns it; a woken sender, or a receiver told
        // to start again, looks for a signal before it tries again (`signal_pending` after `schedule()`).
        if kernel.process(pid).handed.is_some() {
            WokenCall::TriesAgain
        } else {
            WokenCall::SeesSignal(Interruption::RestartWithoutHandler)
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        for (index, queue) in kernel.ipc.msg_queues.iter() {
            if IpcIds::index_of(queue.id) != index {
                return Err(format!("message queue {} is kept at index {index}", queue.id));
            }
            let held: u64 = queue.messages.iter().map(|message| message.text.len() as u64).sum();
            if held != queue.cbytes {
                return Err(format!("message queue {} counts {} bytes but holds {held}", queue.id, queue.cbytes));
            }
            if queue.messages.iter().any(|message| message.mtype < 1) {
                return Err(format!("message queue {} holds a message of a type below 1", queue.id));
            }
            for receiver in &queue.receivers {
                let blocked = matches!(kernel.process(receiver.pid).sleeps_on(),
                    Some(BlockReason::MsgEmpty { queue: id, .. }) if *id == queue.id as u32);
                if !blocked {
                    return Err(format!(
                        "pid {} is listed as a receiver of queue {} but does not sleep there",
                        receiver.pid, queue.id
                    ));
                }
            }
            for sender in &queue.senders {
                let blocked = matches!(kernel.process(sender.pid).sleeps_on(),
                    Some(BlockReason::MsgFull { queue: id, .. }) if *id == queue.id as u32);
                if !blocked {
                    return Err(format!(
                        "pid {} is listed as a sender of queue {} but does not sleep there",
                        sender.pid, queue.id
                    ));
                }
            }
        }
        if kernel.ipc.msg_ids.in_use as usize != kernel.ipc.msg_queues.len() {
            return Err("the count of message queues in use is wrong".to_string());
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for queue in kernel.ipc.msg_queues.values() {
            let messages = queue
                .messages
                .iter()
                .map(|message| MessageView {
                    tag: message.mtype,
                    len: message.text.len() as u32,
                    preview: message.text[..message.text.len().min(32)].to_vec(),
                    rights: Vec::new(),
                    creds: None,
                })
                .collect();
            out.push(ObjectView::MsgQueue(Box::new(MsgQueueView {
                id: queue.id,
                key: queue.key,
                mode: queue.mode as u32,
                creator: queue.creator,
                messages,
                used_bytes: queue.cbytes,
                capacity_bytes: queue.qbytes,
                last_sender: queue.lspid,
                last_receiver: queue.lrpid,
                send_waiters: queue.senders.iter().map(|sender| (sender.pid, sender.size as u32)).collect(),
                receive_waiters: queue
                    .receivers
                    .iter()
                    .map(|receiver| (receiver.pid, wanted_words(receiver.search)))
                    .collect(),
            })));
        }
    }
}

/// What a sleeping receiver waits for, in words.
fn wanted_words(search: Search) -> String {
    match search {
        Search::Any | Search::Number(_) => "any message".to_string(),
        Search::Equal(mtype) => format!("type {mtype}"),
        Search::NotEqual(mtype) => format!("a type other than {mtype}"),
        Search::LessEqual(limit) => format!("the lowest type up to {limit}"),
    }
}

/// Processes asleep on a queue that could be woken by someone: those that ever did the opposite.
pub(crate) fn could_end_wait(kernel: &Kernel, reason: &BlockReason) -> Vec<Pid> {
    let (BlockReason::MsgEmpty { queue, .. } | BlockReason::MsgFull { queue, .. }) = reason else { return Vec::new() };
    let Some(index) = kernel.msg_queue_index(*queue as i32) else { return Vec::new() };
    let queue_state = &kernel.ipc.msg_queues[&index];
    let history =
        if matches!(reason, BlockReason::MsgEmpty { .. }) { &queue_state.sent_by } else { &queue_state.received_by };
    history.iter().copied().filter(|pid| kernel.process(*pid).is_alive()).collect()
}

/// What a queue holds, for the deadlock report.
pub(crate) fn held(kernel: &Kernel, queue: u32) -> Option<(u64, u64)> {
    let index = kernel.msg_queue_index(queue as i32)?;
    let queue = &kernel.ipc.msg_queues[&index];
    Some((queue.messages.len() as u64, queue.cbytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_type_takes_the_first_message_of_the_lowest_type() {
        // find_msg with SEARCH_LESSEQUAL: of types 3, 2, 5, 2 with limit 4, the first 2.
        let search = Search::of(-4, 0);
        assert_eq!(search, Search::LessEqual(4));
        assert!(search.accepts(2) && !search.accepts(5));
        assert_eq!(Search::of(i64::MIN, 0), Search::LessEqual(i64::MAX));
        assert_eq!(Search::of(3, MSG_EXCEPT), Search::NotEqual(3));
        assert_eq!(Search::of(0, MSG_EXCEPT), Search::Any);
    }

    #[test]
    fn the_message_limits_are_read_from_limits() {
        let source = "process main {\n  q = msgget IPC_PRIVATE IPC_CREAT|0600\n  msgsnd q 1 \"12345\"\n  \
                      msgsnd q 1 \"1234\" IPC_NOWAIT\n  msgsnd q 1 \"1234\" IPC_NOWAIT\n}\n";
        let linux = super::super::ipc::call_results(crate::Limits::DEFAULT, source);
        assert_eq!(linux[1..4], [CallResult::Value { value: 0 }; 3]);
        let mut limits = crate::Limits::DEFAULT;
        limits.ipc.msgmax_bytes = 4;
        limits.ipc.msgmnb_bytes = 6;
        let small = super::super::ipc::call_results(limits, source);
        // MSGMAX 4: five bytes are refused; MSGMNB 6: a second message of four bytes does not fit.
        assert_eq!(small[1], CallResult::Error { errno: EINVAL });
        assert_eq!(small[2], CallResult::Value { value: 0 });
        assert_eq!(small[3], CallResult::Error { errno: EAGAIN });
    }

    #[test]
    fn a_queue_counts_messages_as_well_as_bytes_against_its_capacity() {
        let mut queue = MsgQueue {
            id: 0,
            key: 0,
            mode: 0o600,
            serial: 1,
            messages: Default::default(),
            cbytes: 0,
            qbytes: 2,
            lspid: 0,
            lrpid: 0,
            receivers: Vec::new(),
            senders: Vec::new(),
            creator: 2,
            sent_by: Vec::new(),
            received_by: Vec::new(),
        };
        assert!(queue.fits(0));
        for _ in 0..2 {
            queue.messages.push_back(Message { mtype: 1, text: Arc::from(Vec::new()) });
        }
        assert!(!queue.fits(0), "two empty messages fill a queue of 2 bytes");
    }
}
