//! Plain pictures of kernel state for user interfaces: no kernel internals, only data.
//!
//! The playground and the command line read [`Snapshot`]s; they never reach into [`crate::kernel`]. A
//! snapshot lists the processes and then the kernel's objects as [`ObjectView`]s, one variant per kind
//! of object, each made by its own mechanism: a new mechanism adds its variant without touching the
//! others. Every field is a fixed-width integer, a string or a list of those, so a snapshot serializes
//! the same everywhere.

use crate::kernel::{base_name, Kernel, ProcState};
use crate::lang::ast::{Copier, Span, Toward};
use crate::lang::compile::{OpKind, Slot, SlotKind, ERRNO_SLOT};
use crate::linux::signal::signals_in;
use crate::linux::{ChildStatus, Signal};
use crate::present::render::{call_text, reason_text};
use crate::trace::{BlockReason, Pid, RunOutcome};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub step: u64,
    pub processes: Vec<ProcessView>,
    /// Every kernel object that exists now (pipes, FIFOs, ...), each drawn by its own kind.
    pub objects: Vec<ObjectView>,
    /// Processes that may take the next step.
    pub runnable: Vec<Pid>,
    /// The process that took the last step.
    pub last_ran: Option<Pid>,
    pub outcome: Option<RunOutcome>,
    /// Bytes copied from processes into kernel buffers, and back out, so far.
    pub copied_to_kernel: u64,
    pub copied_to_user: u64,
    /// The same bytes by mechanism: one row for each that copied any.
    pub copies: Vec<CopyCount>,
    /// Virtual time, in nanoseconds.
    pub now_ns: u64,
}

/// Bytes copied between processes' memory and one mechanism's objects, each way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyCount {
    /// As a `copied` condition names it: `pipes`, `msg_queues`, `mqueues`, `sockets`.
    pub mechanism: String,
    pub to_kernel: u64,
    pub to_user: u64,
}

impl Snapshot {
    /// The pipes among the objects.
    pub fn pipes(&self) -> impl Iterator<Item = &PipeView> {
        self.objects.iter().filter_map(|object| match object {
            ObjectView::Pipe(pipe) => Some(&**pipe),
            _ => None,
        })
    }

    /// The FIFOs among the objects.
    pub fn fifos(&self) -> impl Iterator<Item = &FifoView> {
        self.objects.iter().filter_map(|object| match object {
            ObjectView::Fifo(fifo) => Some(fifo),
            _ => None,
        })
    }
}

/// One kernel object, as a picture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObjectView {
    Pipe(Box<PipeView>),
    Fifo(FifoView),
    MsgQueue(Box<MsgQueueView>),
    SemSet(Box<SemSetView>),
    Mqueue(Box<MqueueView>),
    NamedSem(NamedSemView),
    ShmSegment(Box<ShmSegmentView>),
    AddressSpace(Box<AddressSpaceView>),
    SocketPair(Box<SocketPairView>),
    ShmObject(Box<ShmObjectView>),
    Epoll(Box<EpollView>),
}

impl ObjectView {
    /// Whether the object lives apart from any process (an IPC object, listed system-wide as `ipcs`
    /// and `/dev/mqueue` list them).
    pub fn is_ipc(&self) -> bool {
        matches!(
            self,
            ObjectView::MsgQueue(_)
                | ObjectView::SemSet(_)
                | ObjectView::Mqueue(_)
                | ObjectView::NamedSem(_)
                | ObjectView::ShmSegment(_)
                | ObjectView::ShmObject(_)
        )
    }
}

/// An epoll instance: what it watches, its ready list, and who waits on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpollView {
    pub id: u32,
    /// Each watched descriptor, in the order they were added.
    pub items: Vec<EpItemView>,
    /// The descriptors on the ready list, head first: the order the next `epoll_wait` looks at them.
    pub ready: Vec<i32>,
    /// Processes asleep in `epoll_wait` on it, the next to wake first.
    pub waiters: Vec<Pid>,
    /// Processes polling its descriptor (`poll`, `select`).
    pub pollers: Vec<Pid>,
    /// Processes with a descriptor on it.
    pub holders: Vec<Pid>,
}

/// One watched descriptor of an epoll instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpItemView {
    /// The descriptor it was added with (which it reports, even once closed).
    pub fd: i32,
    /// What the file is, in words (`pipe 1 (read end)`).
    pub file: String,
    /// What it watches (`EPOLLIN`), `EPOLLERR` and `EPOLLHUP` left out since every item has them.
    pub events: String,
    /// `level`, `edge`, `one-shot`, or `one-shot, reported` (disabled until `EPOLL_CTL_MOD`).
    pub mode: String,
    /// What its file has now of what it watches (empty for nothing).
    pub has: String,
    /// Its place on the ready list, if it is on it.
    pub ready_at: Option<u32>,
}

/// A pair of connected Unix-domain sockets (`socketpair`, or `connect` and `accept`): each end with its
/// receive queue; a socket with no peer (unconnected, listening, or whose peer was closed) alone. A
/// connection not accepted yet is drawn with its client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketPairView {
    /// `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`.
    pub kind: String,
    /// The two ends, the lower-numbered socket first (or the one end); an end whose last descriptor was
    /// closed is gone.
    pub ends: Vec<SocketEndView>,
}

/// One end of a socket pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketEndView {
    pub id: u32,
    /// The descriptors that refer to it, by process.
    pub holders: Vec<(Pid, i32)>,
    /// What it has received and nobody has read: one entry per `send` (a stream's are read as one run
    /// of bytes, a datagram socket's one message at a time), the bytes not yet read of each.
    pub queue: Vec<MessageView>,
    pub queued_bytes: u32,
    /// Bytes it sent that its peer has not read yet, against its send buffer (`sk_sndbuf`).
    pub unread_sent: u32,
    pub sndbuf: u32,
    /// `shutdown` and a closed peer: no more reading, no more writing.
    pub no_more_reads: bool,
    pub no_more_writes: bool,
    pub read_waiters: Vec<Pid>,
    pub write_waiters: Vec<Pid>,
    /// The path it is bound to.
    pub path: Option<String>,
    /// A listening socket: its backlog, the server ends of the connections waiting for `accept`
    /// (oldest first), and the clients asleep in `connect` because that queue is full.
    pub listening: bool,
    pub backlog: u32,
    pub pending: Vec<u32>,
    pub connect_waiters: Vec<Pid>,
    /// `SO_PASSCRED` is set, and the socket was bound by the kernel to a name of its choosing.
    #[serde(default)]
    pub passcred: bool,
    #[serde(default)]
    pub autobound: bool,
    /// A TCP socket: its connection's state (`ESTABLISHED`, `TIME_WAIT`, ...), its local address and
    /// port (`127.0.0.1:7000`, in `path`), the peer's port, and whether its program has closed it while
    /// the connection is not over yet.
    #[serde(default)]
    pub tcp_state: Option<String>,
    #[serde(default)]
    pub peer_port: u16,
    #[serde(default)]
    pub orphan: bool,
}

/// One message in a queue: its type (System V) or priority (POSIX), its size, and its first bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub tag: i64,
    pub len: u32,
    /// At most 32 bytes.
    pub preview: Vec<u8>,
    /// The open files a socket's message carries in flight (`SCM_RIGHTS`).
    pub rights: Vec<PassedFileView>,
    /// The process whose credentials a socket's message carries (`SCM_CREDENTIALS`), if any.
    #[serde(default)]
    pub creds: Option<Pid>,
}

/// An open file held by a message in flight: its index in the table of open files (as
/// [`FdView::file`]) and what it refers to, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassedFileView {
    pub file: u32,
    pub object: String,
}

/// A System V message queue, as `ipcs -q` and `msgctl(IPC_STAT)` see it, with its messages and sleepers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgQueueView {
    pub id: i32,
    pub key: i32,
    pub mode: u32,
    pub creator: Pid,
    /// Oldest first.
    pub messages: Vec<MessageView>,
    pub used_bytes: u64,
    pub capacity_bytes: u64,
    pub last_sender: Pid,
    pub last_receiver: Pid,
    /// Sleeping senders with the size of their message, and receivers with what they want, in order.
    pub send_waiters: Vec<(Pid, u32)>,
    pub receive_waiters: Vec<(Pid, String)>,
}

/// A System V semaphore set: each semaphore with its sleepers, and the processes' undo adjustments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SemSetView {
    pub id: i32,
    pub key: i32,
    pub mode: u32,
    pub creator: Pid,
    pub sems: Vec<SemView>,
    /// Processes with a non-zero `SEM_UNDO` adjustment, and their adjustment of each semaphore.
    pub undo: Vec<(Pid, Vec<i32>)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SemView {
    pub value: i32,
    /// The last process that changed it (`GETPID`; 0 for none).
    pub last_pid: Pid,
    /// Sleepers waiting for it to grow (`GETNCNT`) and to be 0 (`GETZCNT`), in order.
    pub decrease_waiters: Vec<Pid>,
    pub zero_waiters: Vec<Pid>,
}

/// A System V shared memory segment, as `ipcs -m` shows it, with the frames that hold it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShmSegmentView {
    pub id: i32,
    pub key: i32,
    pub mode: u32,
    /// `shm_segsz`: the size asked for.
    pub size: u64,
    /// The frames of its pages, in order.
    pub frames: Vec<u32>,
    /// `shm_nattch`.
    pub attached: u32,
    pub creator: Pid,
    /// `shm_lpid`: the last process that attached or detached it (0 for none).
    pub last_pid: Pid,
    /// Removed with `IPC_RMID` while attached: it goes at its last detach.
    pub removed: bool,
}

/// A process's address space: its mappings in address order, each page with its frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressSpaceView {
    pub pid: Pid,
    pub mappings: Vec<MappingView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingView {
    pub start: u64,
    /// `PROT_READ`, `PROT_WRITE` bits.
    pub prot: i64,
    /// Whether its writes are seen by the other processes that map its frames (a segment,
    /// `MAP_SHARED`), rather than private to the process (`MAP_PRIVATE`).
    pub shared: bool,
    /// The segment it attaches, if it is one.
    pub segment: Option<i32>,
    /// The POSIX shared memory object it maps, if it is one.
    pub object: Option<u32>,
    /// A page past the end of its object has the frame `u32::MAX` (`kernel::mm::NO_FRAME`): touching
    /// it is `SIGBUS`.
    pub pages: Vec<PageView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageView {
    pub frame: u32,
    /// Shared with another process since a `fork`: a write copies it first.
    pub copy_on_write: bool,
    /// The frame's reference count: page-table entries and segments that hold it.
    pub sharers: u32,
    /// The 64-bit integers of the page that are not 0, by offset (the first few).
    pub words: Vec<(u32, i64)>,
}

/// A POSIX shared memory object, as `/dev/shm` lists it (a removed name: still open or mapped).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShmObjectView {
    pub id: u32,
    /// `/NAME`, or `None` once `shm_unlink` removed it.
    pub name: Option<String>,
    pub mode: u32,
    /// Its size in bytes (`ftruncate`).
    pub size: u64,
    /// The frames of its pages, in order.
    pub frames: Vec<u32>,
    /// Open file descriptions of it.
    pub opens: u32,
    /// Mappings of it in all processes.
    pub mappings: u32,
    pub creator: Pid,
}

/// A POSIX message queue, as `/dev/mqueue` shows it, with its messages (highest priority first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqueueView {
    pub id: u32,
    /// `/NAME`, or `None` once unlinked (it lives on while a descriptor is open).
    pub name: Option<String>,
    pub mode: u32,
    pub creator: Pid,
    pub maxmsg: i64,
    pub msgsize: i64,
    pub messages: Vec<MessageView>,
    pub used_bytes: u64,
    pub send_waiters: Vec<Pid>,
    pub receive_waiters: Vec<Pid>,
    /// The process registered with `mq_notify`, and its signal.
    pub notify: Option<(Pid, String)>,
    pub opens: u32,
}

/// A POSIX named semaphore (the file `/dev/shm/sem.NAME`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedSemView {
    pub id: u32,
    /// `/NAME`, or `None` once unlinked.
    pub name: Option<String>,
    pub mode: u32,
    pub creator: Pid,
    pub value: i64,
    pub waiters: Vec<Pid>,
    /// Processes' mappings of it (`sem_open` without its `sem_close`).
    pub mappings: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProcessStateView {
    Runnable,
    Blocked { reason: BlockReason, text: String },
    Stopped,
    Zombie { status: ChildStatus },
    Reaped { status: ChildStatus },
}

impl ProcessStateView {
    /// One word for the state, as lanes show it.
    pub fn word(&self) -> &'static str {
        match self {
            ProcessStateView::Runnable => "runnable",
            ProcessStateView::Blocked { .. } => "blocked",
            ProcessStateView::Stopped => "stopped",
            ProcessStateView::Zombie { .. } => "zombie",
            ProcessStateView::Reaped { .. } => "reaped",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessView {
    pub pid: Pid,
    pub ppid: Pid,
    pub pgid: Pid,
    pub name: String,
    /// The name as written in the scenario (without `#2` for a second child of the same `fork`).
    pub base_name: String,
    pub state: ProcessStateView,
    pub fds: Vec<FdView>,
    /// The operation it runs next (index into the program), where it is written, and how it reads.
    pub next_op: Option<u32>,
    pub next_span: Option<Span>,
    pub next_call: Option<String>,
    /// The plain-value variables (not descriptors or pids) that the process's own code names, and
    /// `errno` once a call has set it, with their values, in the order the scenario first names them.
    pub variables: Vec<(String, i64)>,
    /// Its signals: the ones it blocks, the ones pending (a real-time one as often as it is queued),
    /// what each signal that is not left at its default does, and the handlers running (innermost last).
    pub blocked_signals: Vec<Signal>,
    pub pending_signals: Vec<Signal>,
    pub ignored_signals: Vec<Signal>,
    pub handlers: Vec<HandlerView>,
    pub running_handlers: Vec<RunningHandler>,
    /// When its `alarm` goes off (nanoseconds of virtual time), if one is set.
    pub alarm_at: Option<u64>,
    pub children: Vec<Pid>,
    /// Its `poll` set, while its next call (or the call it sleeps in) is a `poll`: each entry, and
    /// what the entry's file is ready for now of what it asks; for a `select`, each descriptor of its
    /// sets once.
    #[serde(default)]
    pub poll_set: Vec<PollEntryView>,
}

/// One entry of a `poll` set, or one descriptor of a `select`'s sets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollEntryView {
    pub fd: i32,
    /// `POLLIN|POLLOUT`, or `0`; for a `select`, the sets it is in (`read, write`).
    pub events: String,
    /// What `poll` would report for it now (`POLLIN`, `POLLHUP`, `POLLNVAL`), empty for nothing; for a
    /// `select`, the sets it is ready in.
    pub ready: String,
    /// The entry is a `select`'s.
    #[serde(default)]
    pub select: bool,
}

/// A signal with a handler installed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerView {
    pub signal: Signal,
    pub handler: String,
    /// `SA_RESTART|SA_SIGINFO`, or `0`.
    pub flags: String,
    /// Signals blocked while it runs, besides the signal itself (unless `SA_NODEFER`).
    pub mask: Vec<Signal>,
}

/// A handler a process is running, on top of what the signal interrupted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningHandler {
    pub signal: Signal,
    pub handler: String,
    /// The line it goes back to when the handler returns.
    pub return_line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdView {
    pub fd: i32,
    /// The open file description it refers to (its index in the kernel's table of open files), which
    /// `dup`, `fork` and a descriptor passed over a socket share.
    pub file: u32,
    /// Scenario names currently holding this number in this process (`p.r`, `stdin`, ...).
    pub names: Vec<String>,
    /// What it refers to, in words: `pipe 1 (read end)`, `/dev/null`, `FIFO /tmp/f (pipe 2, write end)`.
    pub object: String,
    pub pipe: Option<u32>,
    pub readable: bool,
    pub writable: bool,
    pub nonblock: bool,
    pub cloexec: bool,
}

/// What an open file refers to, in words: `pipe 1 (read end)`, `/dev/null`, `socket 2`.
pub fn file_words(kernel: &Kernel, file: &crate::kernel::fd::OpenFile) -> String {
    let end = match (file.readable, file.writable) {
        (true, true) => "read and write end",
        (true, false) => "read end",
        _ => "write end",
    };
    match (file.object, file.object.pipe().and_then(|id| kernel.pipe(id))) {
        (_, Some(pipe)) => match &pipe.fifo_path {
            Some(path) => format!("FIFO {path} (pipe {}, {end})", pipe.id),
            None => format!("pipe {} ({end})", pipe.id),
        },
        (crate::kernel::fd::FileObject::Mqueue(id), _) => {
            let name = kernel.mqueue(id).and_then(|queue| queue.name.as_ref());
            let access = match (file.readable, file.writable) {
                (true, true) => "to send and receive",
                (true, false) => "to receive",
                (false, true) => "to send",
                (false, false) => "for neither",
            };
            match name {
                Some(name) => format!("POSIX message queue /{name} ({access})"),
                None => format!("POSIX message queue {id}, unlinked ({access})"),
            }
        }
        (crate::kernel::fd::FileObject::ShmObject(id), _) => {
            match kernel.shm_object(id).and_then(|object| object.name.as_ref()) {
                Some(name) => format!("shared memory object /{name} ({end})"),
                None => format!("shared memory object {id}, unlinked ({end})"),
            }
        }
        (crate::kernel::fd::FileObject::Socket(id), _) => format!("socket {id}"),
        (crate::kernel::fd::FileObject::Epoll(id), _) => {
            let watched = kernel.epoll(id).map_or(0, |epoll| epoll.items.len());
            format!("epoll instance {id} (watching {watched})")
        }
        _ => "/dev/null".to_string(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipeView {
    pub id: u32,
    pub fifo_path: Option<String>,
    pub used_bytes: u32,
    pub capacity_bytes: u32,
    pub slots_used: u32,
    pub max_slots: u32,
    /// Unread bytes in each slot in use, oldest first.
    pub slot_bytes: Vec<u32>,
    /// The first unread bytes (at most 64).
    pub preview: Vec<u8>,
    /// Open read and write ends (open file descriptions), and who holds them as `(pid, fd)`.
    pub readers: u32,
    pub writers: u32,
    pub read_holders: Vec<(Pid, i32)>,
    pub write_holders: Vec<(Pid, i32)>,
    pub read_waiters: Vec<Pid>,
    pub write_waiters: Vec<Pid>,
    pub open_waiters: Vec<Pid>,
    pub bytes_written: u64,
    pub bytes_read: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FifoView {
    pub path: String,
    /// The pipe behind it while somebody has it open.
    pub pipe: Option<u32>,
}

impl Snapshot {
    pub fn of(kernel: &Kernel, runnable: &[Pid], last_ran: Option<Pid>, outcome: Option<&RunOutcome>) -> Snapshot {
        let program = &kernel.program;
        let mut processes = Vec::new();
        for process in kernel.procs.iter().skip(1) {
            let state = match (&process.state, process.status) {
                (ProcState::Runnable, _) => ProcessStateView::Runnable,
                (ProcState::Blocked(reason), _) => {
                    ProcessStateView::Blocked { reason: reason.clone(), text: reason_text(program, reason) }
                }
                (ProcState::Stopped, _) => ProcessStateView::Stopped,
                (ProcState::Zombie, Some(status)) => ProcessStateView::Zombie { status },
                (ProcState::Reaped, Some(status)) => ProcessStateView::Reaped { status },
                (ProcState::Zombie | ProcState::Reaped, None) => ProcessStateView::Runnable,
            };
            let alive = process.is_alive();
            let next_op = if alive { kernel.next_op(process.pid) } else { None };
            let next_call = alive.then(|| match next_op {
                Some(op) => match &program.ops[op as usize].kind {
                    OpKind::Fork { name, .. } => format!("fork() -> {name}"),
                    OpKind::Call(_) => match kernel.next_args(process.pid) {
                        Some(args) => call_text(program, op, &args),
                        None => format!(
                            "{}(...) (a division in an operand traps)",
                            program.call(op).map_or("call", |call| call.name())
                        ),
                    },
                    _ => String::new(),
                },
                None if !process.sig.frames.is_empty() => "rt_sigreturn() (end of its handler)".to_string(),
                None => "exit(0) (end of its code)".to_string(),
            });
            let mut fds = Vec::new();
            for (number, entry) in process.fds.iter().enumerate() {
                let Some(entry) = entry else { continue };
                let file = kernel.file(entry.file);
                let mut fd_names: Vec<String> = program
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(slot, _)| {
                        program.slot_kinds[*slot] == SlotKind::Descriptor && process.vars[*slot] == number as i64
                    })
                    .map(|(_, name)| name.to_string())
                    .collect();
                match number {
                    0 => fd_names.push("stdin".to_string()),
                    1 => fd_names.push("stdout".to_string()),
                    2 => fd_names.push("stderr".to_string()),
                    _ => {}
                }
                let object = file_words(kernel, file);
                fds.push(FdView {
                    fd: number as i32,
                    file: entry.file,
                    names: fd_names,
                    object,
                    pipe: file.object.pipe(),
                    readable: file.readable,
                    writable: file.writable,
                    nonblock: file.nonblock,
                    cloexec: entry.cloexec,
                });
            }
            // The variables its own code names, and errno once a call has set it.
            let named = program.variables_of_block(process.start_pc);
            let errno = process.vars.get(ERRNO_SLOT as usize).copied().unwrap_or(0);
            // `named` is in slot order; errno goes in at its place (no sort: see `named_in_block`).
            let mut slots: Vec<Slot> = named.to_vec();
            if errno != 0 {
                if let Err(place) = slots.binary_search(&ERRNO_SLOT) {
                    slots.insert(place, ERRNO_SLOT);
                }
            }
            let variables = slots
                .into_iter()
                .filter_map(|slot| {
                    let value = process.vars.get(slot as usize)?;
                    Some((program.slots[slot as usize].to_string(), *value))
                })
                .collect();
            let poll_set = if crate::IPC { kernel.poll_set(process.pid) } else { Vec::new() };
            processes.push(ProcessView {
                pid: process.pid,
                ppid: process.ppid,
                pgid: process.pgid,
                name: process.name.to_string(),
                base_name: base_name(&process.name).to_string(),
                state,
                fds,
                next_op,
                next_span: next_op.map(|op| program.ops[op as usize].span),
                next_call,
                variables,
                blocked_signals: signals_in(process.sig.blocked),
                pending_signals: process.sig.queue.iter().map(|queued| queued.signal).collect(),
                ignored_signals: signals_in(process.sig.ignored),
                handlers: process
                    .sig
                    .handlers
                    .iter()
                    .filter_map(|(signal, action)| match action {
                        crate::kernel::signal::Action::Handler { handler, flags, mask } => Some(HandlerView {
                            signal: *signal,
                            handler: program.handlers[*handler as usize].name.to_string(),
                            flags: crate::linux::value_text(crate::linux::Family::SigactionFlag, *flags),
                            mask: signals_in(*mask),
                        }),
                        crate::kernel::signal::Action::Stray { address, flags, mask } => Some(HandlerView {
                            signal: *signal,
                            handler: format!("address {address}"),
                            flags: crate::linux::value_text(crate::linux::Family::SigactionFlag, *flags),
                            mask: signals_in(*mask),
                        }),
                        _ => None,
                    })
                    .collect(),
                poll_set,
                alarm_at: kernel
                    .timers
                    .iter()
                    .find(|timer| timer.pid == process.pid && timer.kind == crate::kernel::time::TimerKind::Alarm)
                    .map(|timer| timer.at),
                running_handlers: process
                    .sig
                    .frames
                    .iter()
                    .map(|frame| RunningHandler {
                        signal: frame.signal,
                        handler: program.handlers[frame.handler as usize].name.to_string(),
                        return_line: program.ops.get(frame.return_pc as usize).map_or(0, |op| op.span.line),
                    })
                    .collect(),
                children: process.children.clone(),
            });
        }
        Snapshot {
            step: kernel.step,
            processes,
            objects: kernel.object_views(),
            runnable: runnable.to_vec(),
            last_ran,
            outcome: outcome.cloned(),
            copied_to_kernel: kernel.copied_to_kernel,
            copied_to_user: kernel.copied_to_user,
            copies: Copier::EACH
                .iter()
                .map(|&mechanism| CopyCount {
                    mechanism: mechanism.word().to_string(),
                    to_kernel: kernel.copied(mechanism, Toward::Kernel),
                    to_user: kernel.copied(mechanism, Toward::User),
                })
                .filter(|count| count.to_kernel + count.to_user > 0)
                .collect(),
            now_ns: kernel.now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Policy, RunConfig, Simulation};

    #[test]
    fn the_next_call_shows_the_values_its_operands_hold() {
        let scenario = crate::parse("process a {\n fork c {\n  pause\n }\n kill c SIGKILL\n waitpid c\n}\n").unwrap();
        let config = RunConfig { policy: Policy::RoundRobin, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        simulation.step().unwrap();
        let snapshot = simulation.snapshot();
        assert_eq!(snapshot.processes[0].next_call.as_deref(), Some("kill(c=3, SIGKILL)"));
        simulation.step().unwrap();
        simulation.step().unwrap();
        let snapshot = simulation.snapshot();
        assert_eq!(snapshot.processes[0].next_call.as_deref(), Some("waitpid(c=3, &status, 0)"));
        // SIGKILL woke the child from pause; it takes the signal when it next runs.
        assert_eq!(snapshot.processes[1].state.word(), "runnable");
        assert_eq!(snapshot.processes[1].pending_signals, [crate::linux::signal::SIGKILL]);
        // Round-robin runs the child next: it dies, and the parent's wait (woken) reaps it.
        simulation.step().unwrap();
        assert_eq!(simulation.snapshot().processes[1].state.word(), "zombie");
    }

    #[test]
    fn objects_are_listed_by_kind_and_variables_by_name() {
        let scenario =
            crate::parse("process a {\n n = 41\n n = n + 1\n mkfifo \"/f\"\n p = pipe\n pause\n}\n").unwrap();
        let mut simulation = Simulation::new(&scenario, RunConfig::default()).unwrap();
        for _ in 0..2 {
            simulation.step().unwrap();
        }
        let snapshot = simulation.snapshot();
        assert_eq!(snapshot.pipes().count(), 1);
        assert_eq!(snapshot.fifos().map(|fifo| fifo.path.as_str()).collect::<Vec<_>>(), ["/f"]);
        assert!(snapshot.processes[0].variables.contains(&("n".to_string(), 42)));
    }

    #[test]
    fn a_process_shows_the_variables_its_own_code_names() {
        let scenario = crate::parse(
            "process reader {\n  p = pipe\n  fork writer {\n    close p.r\n    write p.w \"hi\"\n  }\n  close p.w\n  \
             total = 0\n  n = read p.r 10\n  while n > 0 {\n    total = total + n\n    n = read p.r 10\n  }\n  \
             close 99\n}\n",
        )
        .unwrap();
        let mut simulation = crate::Simulation::new(&scenario, crate::RunConfig::default()).unwrap();
        simulation.run().unwrap();
        let snapshot = simulation.snapshot();
        let of = |name: &str| {
            let process = snapshot.processes.iter().find(|process| process.name == name).unwrap();
            process.variables.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>()
        };
        // The reader names total and n; its close of fd 99 failed, so errno shows too.
        assert_eq!(of("reader"), ["errno", "total", "n"]);
        // The writer holds copies of every variable, but its own block names none of them.
        assert!(of("writer").is_empty(), "{:?}", of("writer"));
    }
}
