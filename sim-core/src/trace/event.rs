//! Events: the single record of what happened in a run.
//!
//! The text trace, the JSON trace, golden files, the playground's timeline and the conformance
//! comparison all read [`Event`]s, and nothing else: an event carries the words it needs (the kind and
//! id of each object, the resolved operands of a call, why a process woke, who reaped a zombie and
//! why), so that rendering needs the program (for names and source text) but never the kernel.

use crate::lang::ast::Span;
use crate::linux::{ChildStatus, Errno, Signal};
use serde::{Deserialize, Serialize};

/// A process id. Never reused within a run; `init` is 1.
pub type Pid = u32;

/// What kind of kernel object an id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// `/dev/null` (the standard descriptors of top-level processes). Its id is 0.
    DevNull,
    /// An anonymous pipe or a FIFO's pipe, by its kernel id (`pipe 1`).
    Pipe,
    /// A process, by pid.
    Process,
    /// An open file description, by its index in the open-file table.
    File,
    /// A name in the file system (a FIFO), by its index in the program's paths.
    Path,
    /// A System V message queue, by its id (`msqid`).
    MsgQueue,
    /// A System V semaphore set, by its id (`semid`).
    SemSet,
    /// A POSIX message queue, by its number in the kernel (from 1, in the order they were made).
    Mqueue,
    /// A POSIX named semaphore, by its number in the kernel (from 1).
    NamedSem,
    /// A System V shared memory segment, by its id (`shmid`).
    ShmSegment,
    /// A page frame of physical memory, by its number.
    Frame,
    /// A Unix-domain socket, by its number in the kernel (from 1, in the order they were made).
    Socket,
    /// A POSIX shared memory object, by its number in the kernel (from 1, in the order they were made).
    ShmObject,
    /// An epoll instance, by its number in the kernel (from 1, the lowest free one).
    Epoll,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 14] = [
        ObjectKind::DevNull,
        ObjectKind::Pipe,
        ObjectKind::Process,
        ObjectKind::File,
        ObjectKind::Path,
        ObjectKind::MsgQueue,
        ObjectKind::SemSet,
        ObjectKind::Mqueue,
        ObjectKind::NamedSem,
        ObjectKind::ShmSegment,
        ObjectKind::Frame,
        ObjectKind::Socket,
        ObjectKind::ShmObject,
        ObjectKind::Epoll,
    ];

    /// The kind's number in the packed form. Numbers 0 to 6 fit the three bits an object's reference
    /// keeps for its kind; 7 there escapes to a second three bits, which hold `code - 7` (see
    /// [`crate::trace::packed`]).
    pub fn code(self) -> u8 {
        match self {
            ObjectKind::DevNull => 0,
            ObjectKind::Pipe => 1,
            ObjectKind::Process => 2,
            ObjectKind::File => 3,
            ObjectKind::Path => 4,
            ObjectKind::MsgQueue => 5,
            ObjectKind::SemSet => 6,
            ObjectKind::Mqueue => 7,
            ObjectKind::NamedSem => 8,
            ObjectKind::ShmSegment => 9,
            ObjectKind::Frame => 10,
            ObjectKind::Socket => 11,
            ObjectKind::ShmObject => 12,
            ObjectKind::Epoll => 13,
        }
    }

    pub fn from_code(code: u8) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// One kernel object: its kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: ObjectKind,
    pub id: u32,
}

impl ObjectRef {
    pub const DEV_NULL: ObjectRef = ObjectRef { kind: ObjectKind::DevNull, id: 0 };

    pub fn pipe(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::Pipe, id }
    }

    pub fn process(pid: Pid) -> ObjectRef {
        ObjectRef { kind: ObjectKind::Process, id: pid }
    }

    pub fn file(index: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::File, id: index }
    }

    pub fn path(index: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::Path, id: index }
    }

    pub fn msg_queue(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::MsgQueue, id }
    }

    pub fn sem_set(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::SemSet, id }
    }

    pub fn mqueue(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::Mqueue, id }
    }

    pub fn named_sem(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::NamedSem, id }
    }

    pub fn shm_segment(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::ShmSegment, id }
    }

    pub fn frame(number: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::Frame, id: number }
    }

    pub fn epoll(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::Epoll, id }
    }

    pub fn socket(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::Socket, id }
    }

    pub fn shm_object(id: u32) -> ObjectRef {
        ObjectRef { kind: ObjectKind::ShmObject, id }
    }

    /// The object in words: `pipe 1`, `/dev/null`.
    pub fn words(&self) -> String {
        match self.kind {
            ObjectKind::DevNull => "/dev/null".to_string(),
            ObjectKind::Pipe => format!("pipe {}", self.id),
            ObjectKind::Process => format!("process {}", self.id),
            ObjectKind::File => format!("open file {}", self.id),
            ObjectKind::Path => format!("path {}", self.id),
            ObjectKind::MsgQueue => format!("message queue {}", self.id),
            ObjectKind::SemSet => format!("semaphore set {}", self.id),
            ObjectKind::Mqueue => format!("POSIX message queue {}", self.id),
            ObjectKind::NamedSem => format!("named semaphore {}", self.id),
            ObjectKind::ShmSegment => format!("shared memory segment {}", self.id),
            ObjectKind::Frame => format!("frame {}", self.id),
            ObjectKind::Socket => format!("socket {}", self.id),
            ObjectKind::ShmObject => format!("shared memory object {}", self.id),
            ObjectKind::Epoll => format!("epoll instance {}", self.id),
        }
    }
}

/// The most operands a call has.
pub const MAX_ARGS: usize = 6;

/// The resolved operands of one call, one value per operand of its row in the table of system calls:
/// the number a descriptor or pid expression had, a payload's length, a path's index in the program.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Args {
    len: u8,
    values: [i64; MAX_ARGS],
}

impl Args {
    pub fn new(values: &[i64]) -> Args {
        let mut args = Args::default();
        for value in values {
            args.push(*value);
        }
        args
    }

    /// Two operands, the shape of most calls.
    #[inline]
    pub fn pair(first: i64, second: i64) -> Args {
        Args { len: 2, values: [first, second, 0, 0, 0, 0] }
    }

    /// Adds an operand; a call has at most [`MAX_ARGS`] (the table of system calls is checked for it).
    #[inline]
    pub fn push(&mut self, value: i64) {
        self.values[self.len as usize % MAX_ARGS] = value;
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_slice(&self) -> &[i64] {
        &self.values[..self.len as usize]
    }

    /// Operand `index`, or -1 when the call has fewer.
    #[inline]
    pub fn get(&self, index: usize) -> i64 {
        if index < self.len as usize {
            self.values[index]
        } else {
            -1
        }
    }
}

impl std::fmt::Debug for Args {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_list().entries(self.as_slice()).finish()
    }
}

impl Serialize for Args {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Args, D::Error> {
        let values = Vec::<i64>::deserialize(deserializer)?;
        if values.len() > MAX_ARGS {
            return Err(serde::de::Error::custom(format!("a call has at most {MAX_ARGS} operands")));
        }
        Ok(Args::new(&values))
    }
}

/// Why a process sleeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockReason {
    /// `read` on an empty pipe that still has a writer.
    PipeEmpty { pipe: u32 },
    /// `write` on a full pipe that still has a reader; `written` bytes of this call are already in.
    PipeFull { pipe: u32, written: u32 },
    /// `open(O_RDONLY)` of a FIFO with no writer yet. `path` indexes the program's paths.
    FifoNoWriter { pipe: u32, path: u32 },
    /// `open(O_WRONLY)` of a FIFO with no reader yet. `path` indexes the program's paths.
    FifoNoReader { pipe: u32, path: u32 },
    /// `wait`/`waitpid`/`waitid` with children that have nothing to report yet: one child, or any.
    Child { target: Option<Pid> },
    /// `waitpid(-PGID)`/`waitid(P_PGID)`: any child in a process group.
    ChildInGroup { pgid: Pid },
    /// `pause` or `sigsuspend`: until a signal runs a handler or ends the process.
    Signal,
    /// `msgrcv` found no message it wants in System V queue `queue` (which held `held` messages):
    /// `msgtype` as the call asked (0 any, > 0 that type, or any other with `except`, < 0 the lowest up
    /// to its absolute value).
    MsgEmpty { queue: u32, msgtype: i64, except: bool, held: u32 },
    /// `msgsnd` of `bytes` bytes found no room: the queue holds `used` of its `capacity` bytes (or as
    /// many messages as its capacity in bytes).
    MsgFull { queue: u32, bytes: u32, used: u32, capacity: u32 },
    /// `semop` cannot go on: operation `op` on semaphore `num` of set `set`, whose value is `value`
    /// (an `op` below 0 needs at least `-op`, an `op` of 0 needs 0).
    SemOp { set: u32, num: u16, op: i16, value: i32 },
    /// `mq_receive` on an empty POSIX queue.
    MqEmpty { mq: u32 },
    /// `mq_send` on a full POSIX queue (holding `held` messages).
    MqFull { mq: u32, held: u32 },
    /// `sem_wait` on a named semaphore whose value is 0.
    NamedSem { sem: u32 },
    /// `sigwaitinfo`: until a signal of the set is pending (`sigtimedwait`: or its timeout).
    SignalWait { set: u64 },
    /// `sleep` (`seconds`) or `nanosleep`: until this time (nanoseconds of virtual time).
    Sleep { until: u64, seconds: bool },
    /// `recv` (or `read`) on socket `socket`, whose receive queue is empty and whose peer may still send.
    SocketEmpty { socket: u32 },
    /// `send` (or `write`) on socket `socket`, whose buffers waiting in its peer's receive queue fill its
    /// send buffer; `written` bytes of this call are already queued.
    SocketFull { socket: u32, written: u32 },
    /// `accept` on listening socket `socket`, with no connection waiting.
    SocketAccept { socket: u32 },
    /// `connect` to listening socket `socket`, whose queue of connections waiting for `accept` is full.
    SocketBacklog { socket: u32 },
    /// `send`/`sendto` of a datagram to socket `socket`, whose receive queue holds more than
    /// `max_dgram_qlen` datagrams from senders it is not connected to.
    SocketReceiverFull { socket: u32 },
    /// `futex(FUTEX_WAIT)` on the 32-bit word at `address`, which held `value`.
    Futex { address: u64, value: u32 },
    /// `poll` with none of its `entries` ready, until one is, or until `until` (nanoseconds of virtual
    /// time; `u64::MAX` for no limit). It sleeps on the wait queue of every object its entries name.
    Poll { entries: u8, until: u64 },
    /// `epoll_wait` on epoll instance `epoll` with nothing to report, until an item's file wakes it
    /// (or `until`, as for `Poll`). It sleeps on the instance's own queue, as an exclusive sleeper.
    Epoll { epoll: u32, until: u64 },
}

impl BlockReason {
    /// The object whose wait queue the sleeper is on, if it is one.
    pub fn object(&self) -> Option<ObjectRef> {
        match self {
            BlockReason::PipeEmpty { pipe }
            | BlockReason::PipeFull { pipe, .. }
            | BlockReason::FifoNoWriter { pipe, .. }
            | BlockReason::FifoNoReader { pipe, .. } => Some(ObjectRef::pipe(*pipe)),
            BlockReason::Child { .. }
            | BlockReason::ChildInGroup { .. }
            | BlockReason::Signal
            | BlockReason::SignalWait { .. }
            | BlockReason::Sleep { .. } => None,
            BlockReason::MsgEmpty { queue, .. } | BlockReason::MsgFull { queue, .. } => {
                Some(ObjectRef::msg_queue(*queue))
            }
            BlockReason::SemOp { set, .. } => Some(ObjectRef::sem_set(*set)),
            BlockReason::MqEmpty { mq } | BlockReason::MqFull { mq, .. } => Some(ObjectRef::mqueue(*mq)),
            BlockReason::NamedSem { sem } => Some(ObjectRef::named_sem(*sem)),
            BlockReason::SocketEmpty { socket }
            | BlockReason::SocketFull { socket, .. }
            | BlockReason::SocketAccept { socket }
            | BlockReason::SocketBacklog { socket }
            | BlockReason::SocketReceiverFull { socket } => Some(ObjectRef::socket(*socket)),
            BlockReason::Futex { .. } | BlockReason::Poll { .. } => None,
            BlockReason::Epoll { epoll, .. } => Some(ObjectRef::epoll(*epoll)),
        }
    }
}

/// What made a sleeping process runnable again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum WakeCause {
    /// Data arrived in the object it waits to read.
    Data { object: ObjectRef },
    /// Room was made in the object it waits to write.
    Room { object: ObjectRef },
    /// The other side went away: the last writer (end of file) or the last reader (`EPIPE`).
    Hangup { object: ObjectRef },
    /// The other side of a FIFO opened it.
    Partner { object: ObjectRef },
    /// A signal it does not block arrived: it takes it (or it interrupts the call) when it runs.
    Signal { signal: Signal },
    /// Its sleep's (or timed wait's) time came.
    Timer,
    /// A child changed state.
    Child { child: Pid },
    /// The object's capacity grew (`F_SETPIPE_SZ`).
    Resize { object: ObjectRef },
    /// Another process finished the sleeper's call on it: a `semop` done, a message handed over, a
    /// waiting message put in the queue. The call returns when the sleeper runs, and does not retry.
    Completed { object: ObjectRef },
    /// The object was removed (`IPC_RMID`): the call fails with `EIDRM`.
    Removed { object: ObjectRef },
    /// The object's settings changed (`IPC_SET`): the call starts again and checks them anew.
    Changed { object: ObjectRef },
}

/// Which side of a pipe has no open file left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "side", rename_all = "snake_case")]
pub enum LastEnd {
    /// No write end: once the pipe is empty, a read returns 0 (end of file).
    Write,
    /// No read end: a write fails with `EPIPE` and raises `SIGPIPE`.
    Read,
    /// No end at all: the pipe is freed, with the bytes nobody read.
    Both { unread: u32 },
}

/// Who took a zombie away, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReapCause {
    /// Its parent's `wait`, `waitpid` or `waitid` collected it.
    Wait,
    /// `init` collected it (it was orphaned, or a child of init).
    Init,
    /// Its parent ignores `SIGCHLD`, so the kernel let it go at once and no zombie was left.
    Ignored,
}

/// What a completed system call gave back to the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallResult {
    /// A plain return value (`write` returns a count, `close` returns 0, ...).
    Value { value: i64 },
    /// The call failed: it returned -1 with this errno.
    Error { errno: Errno },
    /// `read` returned `len` bytes, kept in the trace's data arena at `offset`.
    Data { offset: u32, len: u32 },
    /// `pipe`/`pipe2` filled in these two descriptors.
    Pair { read_fd: i32, write_fd: i32 },
    /// `fork` returned the child's pid in the parent.
    Fork { child: Pid },
    /// `wait`/`waitpid` returned a child's pid and its status.
    Waited { child: Pid, status: ChildStatus },
    /// `waitid` returned 0 and stored a child's pid and status in its `siginfo_t`.
    WaitedInfo { child: Pid, status: ChildStatus },
    /// The call returned 0 and stored `value` through its pointer (`ioctl FIONREAD`).
    Out { value: i64 },
    /// A message was received: `len` bytes in the trace's data arena at `offset`, with its type
    /// (`msgrcv`) or priority (`mq_receive`) as `tag`, after passing over `skipped` messages that did
    /// not match (`msgrcv`).
    Message { offset: u32, len: u32, tag: i64, skipped: u32 },
    /// The call returned 0 and stored an array of `unsigned short` values (`semctl GETALL`), kept as
    /// their little-endian bytes in the trace's data arena.
    Array { offset: u32, len: u32 },
    /// `recvmsg` received `len` bytes (in the data arena at `offset`) and `fds` descriptors, the first
    /// of them `fd` (-1 for none), with `flags` in its `msg_flags` (`MSG_CTRUNC`, `MSG_TRUNC`), and
    /// `creds`, the pid of an `SCM_CREDENTIALS` control message (0 for a message that carried none, to
    /// a socket with `SO_PASSCRED`; -1 for no such control message).
    Received { offset: u32, len: u32, fd: i32, fds: u16, flags: u16, creds: i32 },
    /// `poll` returned `ready`, the number of entries with events, and stored each entry's `revents`
    /// (in the order written; 0 past the last entry).
    Polled { ready: u16, revents: [u16; crate::linux::poll::MAX_POLL_FDS] },
    /// `epoll_wait` returned `ready` events: for each, the descriptor its item was added with and the
    /// events it has (0 past the last).
    Epolled {
        ready: u16,
        fds: [i16; crate::linux::epoll::MAX_EPOLL_EVENTS],
        events: [u16; crate::linux::epoll::MAX_EPOLL_EVENTS],
    },
}

impl CallResult {
    /// The number the call returned, as C sees it (-1 on error).
    pub fn return_value(&self) -> i64 {
        match *self {
            CallResult::Value { value } => value,
            CallResult::Error { .. } => -1,
            CallResult::Data { len, .. } => len as i64,
            CallResult::Pair { .. } | CallResult::WaitedInfo { .. } | CallResult::Out { .. } => 0,
            CallResult::Array { .. } => 0,
            CallResult::Message { len, .. } | CallResult::Received { len, .. } => len as i64,
            CallResult::Fork { child } => child as i64,
            CallResult::Waited { child, .. } => child as i64,
            CallResult::Polled { ready, .. } | CallResult::Epolled { ready, .. } => ready as i64,
        }
    }

    /// The value `NAME = CALL` binds: the return value, or what the call stored through its pointer.
    pub fn bound_value(&self) -> i64 {
        match *self {
            CallResult::Out { value } => value,
            CallResult::WaitedInfo { child, .. } => child as i64,
            other => other.return_value(),
        }
    }
}

/// The fields of a `Copy` event, so that the hot path can record one without laying out an [`Event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copied {
    pub pid: Pid,
    pub direction: CopyDirection,
    pub bytes: u32,
    pub object: ObjectRef,
    pub used_bytes: u32,
    pub capacity_bytes: u32,
}

impl Copied {
    pub fn kind(self) -> EventKind {
        let Copied { pid, direction, bytes, object, used_bytes, capacity_bytes } = self;
        EventKind::Copy { pid, direction, bytes, object, used_bytes, capacity_bytes }
    }
}

/// The direction of a copy between a process and the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyDirection {
    UserToKernel,
    KernelToUser,
}

/// Why a signal was sent: a process's call, or the kernel for one of its own reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalOrigin {
    /// The sending process's `kill`, `killpg`, `raise` or `sigqueue`.
    Call,
    /// `SIGCHLD` to the parent of `from`, which exited, was killed, stopped or continued
    /// (`do_notify_parent`, `do_notify_parent_cldstop`).
    ChildChanged,
    /// `SIGPIPE` to `from`, which wrote to a pipe or FIFO no process can read (`pipe_write`).
    NoReader,
    /// `SIGALRM` to `from`, whose alarm went off (`it_real_fn`).
    Alarm,
    /// `SIGHUP` and `SIGCONT` to a process group that became orphaned with a stopped member
    /// (`kill_orphaned_pgrp`), on account of `from`, whose exit orphaned it.
    OrphanedGroup,
    /// The notification a POSIX message queue sends when a message arrives on it empty (`mq_notify`,
    /// `__do_notify`), on account of `from`, who sent the message.
    MessageArrived,
}

impl SignalOrigin {
    pub const ALL: [SignalOrigin; 6] = [
        SignalOrigin::Call,
        SignalOrigin::ChildChanged,
        SignalOrigin::NoReader,
        SignalOrigin::Alarm,
        SignalOrigin::OrphanedGroup,
        SignalOrigin::MessageArrived,
    ];
}

/// What became of a signal as it was sent (`send_signal_locked`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalEffect {
    /// Ignored (explicitly, or by default as `SIGCHLD` is) and discarded.
    Ignored,
    /// Pending: the target takes it when it next runs (a sleeping target is woken for it).
    Pending,
    /// Pending, but blocked: the target takes it once it unblocks it.
    Blocked,
    /// Pending while the target is stopped: it takes it once `SIGCONT` lets it run.
    WhileStopped,
    /// A standard signal that was already pending: standard signals do not queue, so this one is lost.
    Coalesced,
    /// `SIGCONT` to a stopped process: it continues at once.
    Continued,
    /// Nothing to do: the target is already dead, or dying of a signal sent before (Linux drops what is
    /// sent to a process whose group exit has begun).
    NoEffect,
}

impl SignalEffect {
    pub const ALL: [SignalEffect; 7] = [
        SignalEffect::Ignored,
        SignalEffect::Pending,
        SignalEffect::Blocked,
        SignalEffect::WhileStopped,
        SignalEffect::Coalesced,
        SignalEffect::Continued,
        SignalEffect::NoEffect,
    ];
}

/// What an interrupted call does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallInterrupted {
    /// It starts again from the beginning (`-ERESTARTSYS` with `SA_RESTART`, or after a stop).
    Restart,
    /// It fails with `EINTR`.
    Eintr,
    /// It returns what it did before the signal (a pipe write that moved some bytes).
    Partial,
}

/// What a process did with a signal it took (`get_signal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Delivery {
    /// Its action is to ignore it (set while it was blocked, or a default of ignoring).
    Ignored,
    /// A job-control stop to a process whose group is orphaned: dropped.
    Discarded,
    /// It stops.
    Stopped,
    /// It dies without a core file (`core`: the default action asks for a core dump, and none is
    /// written because its `RLIMIT_CORE` is under a page).
    Terminated { core: bool },
    /// It dies of a core-dumping signal and writes a core file (its `RLIMIT_CORE` allows one); its
    /// wait status has the core flag.
    Dumped,
    /// It runs a handler (by its index among the scenario's handlers).
    Handler { handler: u32 },
    /// Its action is an address where the scenario has no handler (`sigaction` takes any address):
    /// the kernel sets up the frame and sends the process there, and fetching the first instruction
    /// faults. What the fault's `SIGSEGV` does follows as its own delivery.
    Stray { address: i64 },
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every process has exited (zombies included).
    AllExited,
    /// Every living process is blocked or stopped; nobody can make progress.
    Deadlock { waiting: Vec<WaitEdge> },
    /// The run reached its step limit.
    StepLimit { steps: u64 },
    /// A resource limit of the simulator was reached (see [`crate::Limits`]).
    LimitReached { limit: String, detail: String },
}

impl RunOutcome {
    pub fn name(&self) -> &'static str {
        match self {
            RunOutcome::AllExited => "all-exited",
            RunOutcome::Deadlock { .. } => "deadlock",
            RunOutcome::StepLimit { .. } => "step-limit",
            RunOutcome::LimitReached { .. } => "limit-reached",
        }
    }
}

/// One edge of a deadlock: who waits, on what, and for whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitEdge {
    pub pid: Pid,
    /// `None` when the process is stopped rather than blocked.
    pub reason: Option<BlockReason>,
    /// The processes that could end the wait (for example, those holding a pipe's write end, or those
    /// that have raised the semaphore before).
    pub waits_for: Vec<Pid>,
    /// What the object the process waits on holds now, where that says why it waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<WaitDetail>,
}

/// The state of the object a deadlocked process waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WaitDetail {
    /// A semaphore's value, and the process that changed it last (0 for none).
    Semaphore { value: i64, last_pid: Pid },
    /// A queue's messages and bytes.
    Queue { messages: u64, bytes: u64 },
}

/// What an expectation asked for and what the run gave instead, and where the expectation is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    pub expected: String,
    pub got: String,
    pub span: Span,
}

/// One thing that happened. `step` is the step it happened in (0 before the first step).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub step: u32,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// Top-level process number `index` of the program starts (a child of `init`).
    Spawn { pid: Pid, index: u32 },
    /// The CPU moves from one process to another.
    Switch { from: Option<Pid>, to: Pid },
    /// A system call completed. `op` indexes the program ([`IMPLICIT_EXIT_OP`] for the `exit(0)` at
    /// the end of a block); `args` are its operands as the process resolved them.
    Call { pid: Pid, op: u32, args: Args, result: CallResult },
    /// A system call could not finish and the process went to sleep.
    Block { pid: Pid, op: u32, args: Args, reason: BlockReason },
    /// A sleeping process became runnable again; it retries its call when next scheduled.
    Wake { pid: Pid, by: Pid, cause: WakeCause },
    /// Bytes copied between a process's memory and a kernel buffer.
    Copy { pid: Pid, direction: CopyDirection, bytes: u32, object: ObjectRef, used_bytes: u32, capacity_bytes: u32 },
    /// `fork` (the operation `op`) created a child.
    Fork { parent: Pid, child: Pid, op: u32 },
    /// A signal was generated for a process: by `from`'s own call, or by the kernel on `from`'s account
    /// (`origin` says which, and why).
    Signal { from: Pid, to: Pid, signal: Signal, effect: SignalEffect, origin: SignalOrigin },
    /// A process ended and is now a zombie until it is reaped.
    Exit { pid: Pid, status: ChildStatus },
    /// A zombie was collected.
    Reap { pid: Pid, by: Pid, cause: ReapCause },
    /// A process's parent died and `init` adopted it.
    Reparent { pid: Pid, new_parent: Pid },
    /// The last open file on one side of a pipe closed (by a `close`, a `dup2` over it, or an exit):
    /// what the other side will now see.
    LastEnd { pid: Pid, object: ObjectRef, end: LastEnd },
    /// `pid`'s exit left process group `pgid` orphaned with a stopped member: the kernel sends the group
    /// `SIGHUP`, then `SIGCONT` (the `Signal` events that follow).
    Orphaned { pid: Pid, pgid: Pid },
    /// A call that would have slept again was interrupted by a signal: it will start again once the
    /// handler returns (or the process is continued), fails with `EINTR` (a `semop`, which Linux never
    /// restarts), or returns what it did so far (a `write` returns the bytes it wrote). `gone`: the
    /// signal that woke it is gone by the time it runs (a `SIGCONT` discarded the stop), and the call
    /// ends all the same, because a signal still counts as pending for it (`TIF_SIGPENDING`).
    Interrupted { pid: Pid, op: u32, signal: Signal, outcome: CallInterrupted, gone: bool },
    /// Nobody could run: virtual time jumped to the first timer (nanoseconds).
    Clock { now: u64 },
    /// A process's `alarm` went off: `SIGALRM` follows.
    Alarm { pid: Pid },
    /// A process took a signal (its next step came, or its own call raised or unblocked it).
    Delivered { pid: Pid, signal: Signal, delivery: Delivery },
    /// The process did something its own code cannot survive (a division by zero) and the CPU raised
    /// a signal for it.
    Fault { pid: Pid, op: u32, signal: Signal },
    /// An expectation written in the scenario did not hold. `op` is the operation, or [`NO_OP`].
    ExpectFailed { pid: Pid, op: u32, mismatch: Box<Mismatch> },
    /// A process's `SEM_UNDO` adjustment for semaphore `num` of set `object` was applied as it exited:
    /// `adjust` added, the value now `value` (held between 0 and `SEMVMX`).
    Undo { pid: Pid, object: ObjectRef, num: u16, adjust: i32, value: i32 },
    /// A write to a copy-on-write page whose frame another page-table entry still maps: the writer's
    /// page at `address` now maps a copy, frame `to`, of frame `from`.
    PageCopied { pid: Pid, address: u64, from: u32, to: u32 },
    /// The run ended with this IPC object still in the system, as a real program would leave it: a
    /// System V object with its key as `label`, a POSIX one with its name's index in the program's paths;
    /// `count` messages it holds, or semaphores in the set, or the named semaphore's value, or a
    /// shared memory segment's size in bytes.
    Leftover { object: ObjectRef, label: i64, count: u64 },
    /// A descriptor passed over a Unix-domain socket (`SCM_RIGHTS`) moved: `Sent`, `pid`'s descriptor
    /// `fd` went in a message queued on `socket`, whose open file on `object` (`access`: 1 read, 2
    /// write, 3 both) it now holds in flight; `Received`, `fd` is the new descriptor of `pid` on that
    /// open file; `Closed` (`fd` -1), the message's open file was released unread (the socket closed,
    /// or a receive without room for it: `MSG_CTRUNC`).
    Rights { pid: Pid, socket: u32, fd: i32, object: ObjectRef, access: u8, moved: RightsMove },
    /// A TCP segment went through the loopback device in `pid`'s call, from socket `from` (port
    /// `from_port`) to socket `to` (port `to_port`): `flags` are [`SEGMENT_SYN`], [`SEGMENT_ACK`],
    /// [`SEGMENT_FIN`], [`SEGMENT_RST`] and [`SEGMENT_PSH`], and it carried `bytes` bytes of data. A
    /// socket of 0 is none: a SYN to a port nobody listens on, and the reset the kernel answers it with.
    Segment { pid: Pid, from: u32, from_port: u16, to: u32, to_port: u16, flags: u8, bytes: u32 },
    /// The run ended.
    End { outcome: Box<RunOutcome> },
}

/// The control bits of a TCP segment ([`EventKind::Segment`]), as TCP's header numbers them.
pub const SEGMENT_FIN: u8 = 0x01;
pub const SEGMENT_SYN: u8 = 0x02;
pub const SEGMENT_RST: u8 = 0x04;
pub const SEGMENT_PSH: u8 = 0x08;
pub const SEGMENT_ACK: u8 = 0x10;
/// Not TCP's bits: a SYN the listener dropped because its accept queue is full (`tcp_conn_request`),
/// a UDP datagram, and the ICMP port unreachable that answers one sent to a port nobody is bound to.
pub const SEGMENT_DROPPED: u8 = 0x20;
pub const SEGMENT_UDP: u8 = 0x40;
pub const SEGMENT_ICMP_UNREACHABLE: u8 = 0x80;

/// A segment's control bits in words: `SYN`, `SYN-ACK`, `FIN-ACK`, `PSH-ACK`, `RST`.
pub fn segment_flags_text(flags: u8) -> String {
    if flags & SEGMENT_UDP != 0 {
        return "UDP".to_string();
    }
    if flags & SEGMENT_ICMP_UNREACHABLE != 0 {
        return "ICMP port unreachable".to_string();
    }
    let names =
        [(SEGMENT_SYN, "SYN"), (SEGMENT_FIN, "FIN"), (SEGMENT_RST, "RST"), (SEGMENT_PSH, "PSH"), (SEGMENT_ACK, "ACK")];
    let parts: Vec<&str> = names.iter().filter(|(bit, _)| flags & bit != 0).map(|(_, name)| *name).collect();
    let dropped = if flags & SEGMENT_DROPPED != 0 { " (dropped)" } else { "" };
    if parts.is_empty() {
        format!("no flags{dropped}")
    } else {
        format!("{}{dropped}", parts.join("-"))
    }
}

/// What happened to a descriptor passed over a socket (see [`EventKind::Rights`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RightsMove {
    /// Put in a message: its open file is held in flight.
    Sent,
    /// Installed as a new descriptor of the receiver.
    Received,
    /// Released because the receiver had no room for it (`MSG_CTRUNC`, `scm_detach_fds`).
    Truncated,
    /// Released unread with its message: the receiving socket closed (`unix_release_sock` purging
    /// the queue, the buffer's destructor `unix_destruct_scm`).
    Unread,
    /// Released with its message by the garbage collector of Unix-domain sockets: the message sat on
    /// a socket that only messages nobody can receive held (`unix_gc`, `unix_collect_skb`).
    Collected,
}

/// The `op` of a `Call` event for the implicit `exit(0)` at the end of a block.
pub const IMPLICIT_EXIT_OP: u32 = u32::MAX;

/// The `op` of a `Call` event for the implicit `rt_sigreturn()` at the end of a handler.
pub const IMPLICIT_SIGRETURN_OP: u32 = u32::MAX - 1;

/// The `op` of an event about no operation (the run's end, a process's final state).
pub const NO_OP: u32 = u32::MAX;

impl EventKind {
    /// Whether the event holds memory of its own (a boxed text), which dropping it frees.
    pub fn owns_memory(&self) -> bool {
        match self {
            EventKind::ExpectFailed { .. } | EventKind::End { .. } => true,
            EventKind::Spawn { .. }
            | EventKind::Switch { .. }
            | EventKind::Call { .. }
            | EventKind::Block { .. }
            | EventKind::Wake { .. }
            | EventKind::Copy { .. }
            | EventKind::Fork { .. }
            | EventKind::Signal { .. }
            | EventKind::Exit { .. }
            | EventKind::Reap { .. }
            | EventKind::Reparent { .. }
            | EventKind::Interrupted { .. }
            | EventKind::Delivered { .. }
            | EventKind::Clock { .. }
            | EventKind::Alarm { .. }
            | EventKind::LastEnd { .. }
            | EventKind::Orphaned { .. }
            | EventKind::Undo { .. }
            | EventKind::PageCopied { .. }
            | EventKind::Rights { .. }
            | EventKind::Segment { .. }
            | EventKind::Leftover { .. }
            | EventKind::Fault { .. } => false,
        }
    }

    /// The process an event is about (the one whose line it is in a trace), if any.
    pub fn actor(&self) -> Option<Pid> {
        match *self {
            EventKind::Spawn { pid, .. }
            | EventKind::Call { pid, .. }
            | EventKind::Block { pid, .. }
            | EventKind::Wake { pid, .. }
            | EventKind::Copy { pid, .. }
            | EventKind::Exit { pid, .. }
            | EventKind::Interrupted { pid, .. }
            | EventKind::Delivered { pid, .. }
            | EventKind::Alarm { pid, .. }
            | EventKind::LastEnd { pid, .. }
            | EventKind::Orphaned { pid, .. }
            | EventKind::Fault { pid, .. }
            | EventKind::Undo { pid, .. }
            | EventKind::PageCopied { pid, .. }
            | EventKind::Rights { pid, .. }
            | EventKind::Segment { pid, .. }
            | EventKind::ExpectFailed { pid, .. }
            | EventKind::Reparent { pid, .. } => Some(pid),
            EventKind::Fork { parent, .. } => Some(parent),
            EventKind::Signal { from, .. } => Some(from),
            EventKind::Reap { by, .. } => Some(by),
            EventKind::Switch { .. } | EventKind::End { .. } | EventKind::Leftover { .. } | EventKind::Clock { .. } => {
                None
            }
        }
    }
}
