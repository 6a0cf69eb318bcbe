//! The control protocol between the lockstep driver and the real processes of a run.
//!
//! A command names a call by its [`CallId`] (its row in sim-core's table of system calls) and carries
//! the operands the simulator resolved, one per operand of that row: a number for every operand (the
//! value the simulated process computed), plus the payload of a `write` (as bytes, or as a pattern and
//! a length, never expanded on the wire) and the real path standing in for a scenario path. Replies are
//! just as generic: a return value, an errno, bytes, a pair of descriptors, a wait result with its raw
//! status, or a value the call stored through a pointer. So a new call in the table needs no change
//! here: only one match arm in its mechanism's module of [`super::real`].
//!
//! On the wire every message is a length-prefixed frame over a `SOCK_SEQPACKET` socket: the first
//! packet holds the total length and the start of the message, further packets (for reads of megabytes
//! and long literal payloads) hold [`CHUNK_BYTES`] each. A descriptor passed with a message
//! (`SCM_RIGHTS`: a new process's control socket) rides on its first packet; with `SO_PASSCRED` on, the
//! receiver also learns the sender's pid in its own pid namespace (the kernel translates it), which is
//! how the driver, outside the run's namespace, learns the outer pid of a process that only knows its
//! inner one.
//!
//! A real process runs the scenario's handlers as the driver's commands too, inside the real signal
//! handler, so its side of the protocol allocates nothing: it reads a command as a [`CommandView`]
//! borrowed from its own buffer, and sends a reply ([`Reply`] over borrowed bytes) with one `sendmsg`
//! per packet, its pieces gathered from where they are. The driver's side decodes into owned values.

use super::real::sys;
use sim_core::lang::ast::Payload;
use sim_core::lang::syscalls::CallId;
use sim_core::trace::MAX_ARGS;
use std::io::IoSliceMut;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The control socket's descriptor in every scenario process: above the scenario's `RLIMIT_NOFILE`
/// (1024), so that every descriptor the scenario sees has the number it has in the simulator.
pub const CONTROL_FD: RawFd = 1030;

/// Bytes of one packet; a message longer than this goes in several.
pub const CHUNK_BYTES: usize = 60_000;

/// The most bytes one message may hold (a read of `max_io_bytes` and change).
const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// One operand of a call, as the simulated process resolved it: its value (what sim-core's `Args`
/// hold: a descriptor's number, a pid, a count, flags, a payload's length, a path's index in the
/// program), and for a payload or a path what the real call needs besides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireOperand {
    pub value: i64,
    pub attachment: Option<Attachment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attachment {
    /// Bytes to write, as the scenario wrote them (a pattern stays a pattern): made into memory only
    /// when the call is made.
    Payload(Payload),
    /// The real path standing in for the scenario's path.
    Path(Vec<u8>),
}

impl WireOperand {
    #[cfg(test)]
    pub fn value(value: i64) -> WireOperand {
        WireOperand { value, attachment: None }
    }
}

/// One system call to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallCommand {
    pub id: CallId,
    /// The operation in the program (for messages).
    pub op: u32,
    /// One per operand of the call's row in the table of system calls.
    pub operands: Vec<WireOperand>,
}

/// What the driver asks a process to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Make one system call.
    Call(CallCommand),
    /// `fork` (operation `op`): the child gets a control socket of its own, passed to the driver.
    Fork { op: u32 },
    /// The implicit `exit(0)` at the end of a block.
    Exit { status: i32 },
    /// The scenario's own code divides by zero (operation `op`): take the CPU's fault for real.
    Fault { op: u32 },
    /// To `init`: start top-level process number `index` as its child, in a scenario with `handlers`
    /// handler blocks (any other action value is an address: see `real::signal`).
    SpawnTop { index: u32, handlers: u32 },
    /// To `init`: collect the zombie `pid` (a pid in the run's namespace).
    Reap { pid: i32 },
    /// To `init`: every top-level process has started; leave their session for one of its own.
    NewSession,
    /// The implicit `rt_sigreturn()` at the end of a handler: the innermost handler running returns.
    Return,
}

/// What a process reports back. `D` holds the bytes of a read: owned where a reply is decoded, borrowed
/// where a real process sends one (it never copies them into a message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply<D = Vec<u8>> {
    /// A new process is ready for commands; `pid` is its pid in the run's namespace.
    Ready {
        pid: i32,
    },
    Value(i64),
    Errno(i32),
    Data(D),
    Pair {
        read_fd: i32,
        write_fd: i32,
    },
    /// The parent's side of a `fork` (or `init`'s side of a top-level start): the child's pid in the
    /// run's namespace; its control socket comes with the message.
    Forked {
        child: i32,
    },
    /// A wait reported `pid` with this raw wait status; `via_info` when it came through `waitid`'s
    /// `siginfo_t` (and the call itself returned 0).
    Waited {
        pid: i32,
        status: i32,
        via_info: bool,
    },
    /// The call returned 0 and stored `value` through its pointer (`ioctl FIONREAD`, `sigprocmask`'s old
    /// mask, `sigpending`'s set).
    Out(i64),
    /// Linux started running a handler for `signal`: what its `siginfo_t` says (when the handler was
    /// installed with `SA_SIGINFO`), and what the code it interrupted was doing.
    Handler {
        signal: i32,
        info: Option<SigInfo>,
        below: Below,
    },
    /// The handler for `signal` returns (`rt_sigreturn`), as the driver asked.
    Sigreturn {
        signal: i32,
    },
    /// The call this process was making when a handler interrupted it is to start again (Linux
    /// rewound it); it is made again when the driver sends it again.
    Restarted,
    /// A message was received: its bytes, and its type (`msgrcv`) or priority (`mq_receive`).
    Message {
        tag: i64,
        bytes: D,
    },
    /// The call returned 0 and stored an array of `unsigned short`s (`semctl GETALL`), carried as their
    /// little-endian bytes.
    Array(D),
    /// `recvmsg` received these bytes and `fds` descriptors, the first numbered `fd` (-1 for none),
    /// with these `msg_flags`, and the pid of its `SCM_CREDENTIALS` (-1 for none).
    Received {
        fd: i32,
        fds: i32,
        flags: i32,
        creds: i32,
        bytes: D,
    },
    /// `poll` returned `ready` and stored these `revents`, one per entry in order.
    Polled {
        ready: i32,
        revents: [u16; sim_core::linux::poll::MAX_POLL_FDS],
    },
    /// `epoll_wait` returned `ready` and stored these events, each with its `data.fd`.
    Epolled {
        ready: i32,
        fds: [i32; sim_core::linux::epoll::MAX_EPOLL_EVENTS],
        events: [u32; sim_core::linux::epoll::MAX_EPOLL_EVENTS],
    },
}

/// What a handler's `siginfo_t` holds: the sender's pid, the value (`sigqueue`), and how it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SigInfo {
    pub pid: i64,
    pub value: i64,
    pub code: i64,
}

/// What the code a handler interrupted was doing, from the registers Linux saved for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Below {
    /// Not a scenario call: waiting for a command, or a handler that had not started yet.
    NotInCall,
    /// A call that Linux rewound to make again once the handler returns (`-ERESTARTSYS` with
    /// `SA_RESTART`).
    Restart,
    /// A call that returned this (the kernel's value: `-errno` for an error, `-EINTR` for an
    /// interrupted call, a count for a partial one).
    Returned { value: i64 },
}

const COMMAND_CALL: u8 = 1;
const COMMAND_FORK: u8 = 2;
const COMMAND_EXIT: u8 = 3;
const COMMAND_FAULT: u8 = 4;
const COMMAND_RETURN: u8 = 5;
const COMMAND_SPAWN_TOP: u8 = 10;
const COMMAND_REAP: u8 = 11;
const COMMAND_NEW_SESSION: u8 = 12;

const ATTACHMENT_NONE: u8 = 0;
const ATTACHMENT_BYTES: u8 = 1;
const ATTACHMENT_FILL: u8 = 2;
const ATTACHMENT_PATH: u8 = 3;

const REPLY_READY: u8 = 1;
const REPLY_VALUE: u8 = 2;
const REPLY_ERRNO: u8 = 3;
const REPLY_DATA: u8 = 4;
const REPLY_PAIR: u8 = 5;
const REPLY_FORKED: u8 = 6;
const REPLY_WAITED: u8 = 7;
const REPLY_OUT: u8 = 8;
const REPLY_HANDLER: u8 = 9;
const REPLY_SIGRETURN: u8 = 10;
const REPLY_RESTARTED: u8 = 11;
const REPLY_MESSAGE: u8 = 12;
const REPLY_ARRAY: u8 = 13;
const REPLY_RECEIVED: u8 = 14;
const REPLY_POLLED: u8 = 15;
const REPLY_EPOLLED: u8 = 16;

const BELOW_NOT_IN_CALL: u8 = 0;
const BELOW_RESTART: u8 = 1;
const BELOW_RETURNED: u8 = 2;

/// Little-endian encoding of the fields of a command (the driver's side, which may allocate).
#[derive(Default)]
struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, value: u8) -> &mut Self {
        self.bytes.push(value);
        self
    }
    fn u16(&mut self, value: u16) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }
    fn u32(&mut self, value: u32) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }
    fn i32(&mut self, value: i32) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }
    fn i64(&mut self, value: i64) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }
    fn blob(&mut self, bytes: &[u8]) -> &mut Self {
        self.u32(bytes.len() as u32);
        self.bytes.extend_from_slice(bytes);
        self
    }
}

/// The fixed part of a reply, encoded in place (a real process allocates nothing).
struct Head {
    bytes: [u8; REPLY_HEAD_BYTES],
    len: usize,
}

/// The longest fixed part of a reply (a handler's: kind, signal, info, below).
const REPLY_HEAD_BYTES: usize = 64;

impl Head {
    fn new(kind: u8) -> Head {
        let mut head = Head { bytes: [0; REPLY_HEAD_BYTES], len: 0 };
        head.put(&[kind]);
        head
    }
    fn put(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        self
    }
    fn u8(&mut self, value: u8) -> &mut Self {
        self.put(&[value])
    }
    fn u32(&mut self, value: u32) -> &mut Self {
        self.put(&value.to_le_bytes())
    }
    fn i32(&mut self, value: i32) -> &mut Self {
        self.put(&value.to_le_bytes())
    }
    fn i64(&mut self, value: i64) -> &mut Self {
        self.put(&value.to_le_bytes())
    }
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Why a message does not decode, without allocating (a real process reads commands inside handlers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The message ends before this field.
    Short(&'static str),
    NoCall(u16),
    UnknownAttachment(u8),
    UnknownKind(u8),
    TooManyOperands(u8),
    LeftOver(usize),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Short(what) => write!(formatter, "a message that ends before its {what}"),
            DecodeError::NoCall(number) => write!(formatter, "no call has number {number}"),
            DecodeError::UnknownAttachment(kind) => write!(formatter, "unknown attachment kind {kind}"),
            DecodeError::UnknownKind(kind) => write!(formatter, "unknown command kind {kind}"),
            DecodeError::TooManyOperands(count) => write!(formatter, "a call with {count} operands"),
            DecodeError::LeftOver(count) => write!(formatter, "{count} bytes left over at the end of a message"),
        }
    }
}

/// The reading side of [`Writer`] and [`Head`]; every read says what was missing.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(count).filter(|end| *end <= self.bytes.len());
        let Some(end) = end else { return Err(DecodeError::Short(what)) };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }
    fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }
    fn blob(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(what)? as usize;
        self.take(len, what)
    }
    fn end(&self) -> Result<(), DecodeError> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(DecodeError::LeftOver(self.bytes.len() - self.at))
        }
    }
}

pub fn encode_command(command: &Command) -> Vec<u8> {
    let mut out = Writer::default();
    match command {
        Command::Call(call) => {
            out.u8(COMMAND_CALL).u16(call.id as u16).u32(call.op).u8(call.operands.len() as u8);
            for operand in &call.operands {
                out.i64(operand.value);
                match &operand.attachment {
                    None => out.u8(ATTACHMENT_NONE),
                    Some(Attachment::Payload(Payload::Bytes(bytes))) => out.u8(ATTACHMENT_BYTES).blob(bytes),
                    Some(Attachment::Payload(Payload::Fill { len, pattern })) => {
                        out.u8(ATTACHMENT_FILL).u32(*len).blob(pattern)
                    }
                    Some(Attachment::Path(path)) => out.u8(ATTACHMENT_PATH).blob(path),
                };
            }
        }
        Command::Fork { op } => {
            out.u8(COMMAND_FORK).u32(*op);
        }
        Command::Exit { status } => {
            out.u8(COMMAND_EXIT).i32(*status);
        }
        Command::Fault { op } => {
            out.u8(COMMAND_FAULT).u32(*op);
        }
        Command::SpawnTop { index, handlers } => {
            out.u8(COMMAND_SPAWN_TOP).u32(*index).u32(*handlers);
        }
        Command::Reap { pid } => {
            out.u8(COMMAND_REAP).i32(*pid);
        }
        Command::NewSession => {
            out.u8(COMMAND_NEW_SESSION);
        }
        Command::Return => {
            out.u8(COMMAND_RETURN);
        }
    }
    out.bytes
}

/// An operand's attachment as it lies in a received command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachmentView<'a> {
    None,
    /// Bytes to write, as the scenario wrote them.
    Bytes(&'a [u8]),
    /// `len` bytes of `pattern`, repeated.
    Fill {
        len: u32,
        pattern: &'a [u8],
    },
    /// The real path standing in for the scenario's path.
    Path(&'a [u8]),
}

/// A call command as it lies in a received message: up to six operands, each a number and maybe an
/// attachment, borrowed from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallView<'a> {
    pub id: CallId,
    pub op: u32,
    count: usize,
    values: [i64; MAX_ARGS],
    attachments: [AttachmentView<'a>; MAX_ARGS],
}

impl<'a> CallView<'a> {
    /// How many operands the call has.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Operand `index` as a number (-1 when the call has fewer).
    pub fn arg(&self, index: usize) -> i64 {
        if index < self.count {
            self.values[index]
        } else {
            -1
        }
    }

    /// The payload operand, if the call has one.
    pub fn payload(&self) -> Option<AttachmentView<'a>> {
        self.attachments[..self.count]
            .iter()
            .copied()
            .find(|attachment| matches!(attachment, AttachmentView::Bytes(_) | AttachmentView::Fill { .. }))
    }

    /// The path operand, if the call has one (not NUL-terminated).
    pub fn path(&self) -> Option<&'a [u8]> {
        self.attachments[..self.count].iter().find_map(|attachment| match attachment {
            AttachmentView::Path(path) => Some(*path),
            _ => None,
        })
    }

    /// The owned command this view reads.
    pub fn to_command(self) -> CallCommand {
        let operands = (0..self.count)
            .map(|index| WireOperand {
                value: self.values[index],
                attachment: match self.attachments[index] {
                    AttachmentView::None => None,
                    AttachmentView::Bytes(bytes) => Some(Attachment::Payload(Payload::Bytes(bytes.to_vec()))),
                    AttachmentView::Fill { len, pattern } => {
                        Some(Attachment::Payload(Payload::Fill { len, pattern: pattern.to_vec() }))
                    }
                    AttachmentView::Path(path) => Some(Attachment::Path(path.to_vec())),
                },
            })
            .collect();
        CallCommand { id: self.id, op: self.op, operands }
    }
}

/// A command as it lies in a received message. A call's view is much larger than the other commands,
/// and stays so: a real process reads commands inside signal handlers, where it must not allocate.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandView<'a> {
    Call(CallView<'a>),
    Fork { op: u32 },
    Exit { status: i32 },
    Fault { op: u32 },
    SpawnTop { index: u32, handlers: u32 },
    Reap { pid: i32 },
    NewSession,
    Return,
}

/// Reads a command without allocating.
pub fn parse_command(bytes: &[u8]) -> Result<CommandView<'_>, DecodeError> {
    let mut input = Reader { bytes, at: 0 };
    let command = match input.u8("kind")? {
        COMMAND_CALL => {
            let number = input.u16("call id")?;
            let id = CallId::from_number(number).ok_or(DecodeError::NoCall(number))?;
            let op = input.u32("operation")?;
            let count = input.u8("operand count")?;
            if count as usize > MAX_ARGS {
                return Err(DecodeError::TooManyOperands(count));
            }
            let mut view = CallView {
                id,
                op,
                count: count as usize,
                values: [0; MAX_ARGS],
                attachments: [AttachmentView::None; MAX_ARGS],
            };
            for index in 0..count as usize {
                view.values[index] = input.i64("operand value")?;
                view.attachments[index] = match input.u8("attachment kind")? {
                    ATTACHMENT_NONE => AttachmentView::None,
                    ATTACHMENT_BYTES => AttachmentView::Bytes(input.blob("payload")?),
                    ATTACHMENT_FILL => {
                        let len = input.u32("payload length")?;
                        AttachmentView::Fill { len, pattern: input.blob("pattern")? }
                    }
                    ATTACHMENT_PATH => AttachmentView::Path(input.blob("path")?),
                    other => return Err(DecodeError::UnknownAttachment(other)),
                };
            }
            CommandView::Call(view)
        }
        COMMAND_FORK => CommandView::Fork { op: input.u32("operation")? },
        COMMAND_EXIT => CommandView::Exit { status: input.i32("status")? },
        COMMAND_FAULT => CommandView::Fault { op: input.u32("operation")? },
        COMMAND_SPAWN_TOP => CommandView::SpawnTop { index: input.u32("index")?, handlers: input.u32("handlers")? },
        COMMAND_REAP => CommandView::Reap { pid: input.i32("pid")? },
        COMMAND_NEW_SESSION => CommandView::NewSession,
        COMMAND_RETURN => CommandView::Return,
        other => return Err(DecodeError::UnknownKind(other)),
    };
    input.end()?;
    Ok(command)
}

pub fn decode_command(bytes: &[u8]) -> Result<Command, String> {
    Ok(match parse_command(bytes).map_err(|error| error.to_string())? {
        CommandView::Call(call) => Command::Call(call.to_command()),
        CommandView::Fork { op } => Command::Fork { op },
        CommandView::Exit { status } => Command::Exit { status },
        CommandView::Fault { op } => Command::Fault { op },
        CommandView::SpawnTop { index, handlers } => Command::SpawnTop { index, handlers },
        CommandView::Reap { pid } => Command::Reap { pid },
        CommandView::NewSession => Command::NewSession,
        CommandView::Return => Command::Return,
    })
}

/// A reply's fixed part; the bytes of a [`Reply::Data`] follow it without being copied.
fn encode_reply_head<D: AsRef<[u8]>>(reply: &Reply<D>) -> Head {
    let mut out;
    match reply {
        Reply::Ready { pid } => {
            out = Head::new(REPLY_READY);
            out.i32(*pid);
        }
        Reply::Value(value) => {
            out = Head::new(REPLY_VALUE);
            out.i64(*value);
        }
        Reply::Errno(errno) => {
            out = Head::new(REPLY_ERRNO);
            out.i32(*errno);
        }
        Reply::Data(bytes) => {
            out = Head::new(REPLY_DATA);
            out.u32(bytes.as_ref().len() as u32);
        }
        Reply::Pair { read_fd, write_fd } => {
            out = Head::new(REPLY_PAIR);
            out.i32(*read_fd).i32(*write_fd);
        }
        Reply::Forked { child } => {
            out = Head::new(REPLY_FORKED);
            out.i32(*child);
        }
        Reply::Waited { pid, status, via_info } => {
            out = Head::new(REPLY_WAITED);
            out.i32(*pid).i32(*status).u8(*via_info as u8);
        }
        Reply::Out(value) => {
            out = Head::new(REPLY_OUT);
            out.i64(*value);
        }
        Reply::Handler { signal, info, below } => {
            out = Head::new(REPLY_HANDLER);
            out.i32(*signal);
            match info {
                None => out.u8(0),
                Some(info) => out.u8(1).i64(info.pid).i64(info.value).i64(info.code),
            };
            match below {
                Below::NotInCall => out.u8(BELOW_NOT_IN_CALL),
                Below::Restart => out.u8(BELOW_RESTART),
                Below::Returned { value } => out.u8(BELOW_RETURNED).i64(*value),
            };
        }
        Reply::Sigreturn { signal } => {
            out = Head::new(REPLY_SIGRETURN);
            out.i32(*signal);
        }
        Reply::Restarted => out = Head::new(REPLY_RESTARTED),
        Reply::Message { tag, bytes } => {
            out = Head::new(REPLY_MESSAGE);
            out.i64(*tag).u32(bytes.as_ref().len() as u32);
        }
        Reply::Array(bytes) => {
            out = Head::new(REPLY_ARRAY);
            out.u32(bytes.as_ref().len() as u32);
        }
        Reply::Received { fd, fds, flags, creds, bytes } => {
            out = Head::new(REPLY_RECEIVED);
            out.i32(*fd).i32(*fds).i32(*flags).i32(*creds).u32(bytes.as_ref().len() as u32);
        }
        Reply::Polled { ready, revents } => {
            out = Head::new(REPLY_POLLED);
            out.i32(*ready);
            for value in revents {
                out.u32(*value as u32);
            }
        }
        Reply::Epolled { ready, fds, events } => {
            out = Head::new(REPLY_EPOLLED);
            out.i32(*ready);
            for (fd, value) in fds.iter().zip(events) {
                out.i32(*fd).u32(*value);
            }
        }
    }
    out
}

pub fn decode_reply(bytes: &[u8]) -> Result<Reply, String> {
    decode_reply_fields(bytes).map_err(|error| error.to_string())
}

fn decode_reply_fields(bytes: &[u8]) -> Result<Reply, DecodeError> {
    let mut input = Reader { bytes, at: 0 };
    let reply = match input.u8("kind")? {
        REPLY_READY => Reply::Ready { pid: input.i32("pid")? },
        REPLY_VALUE => Reply::Value(input.i64("value")?),
        REPLY_ERRNO => Reply::Errno(input.i32("errno")?),
        REPLY_DATA => {
            let len = input.u32("length")? as usize;
            Reply::Data(input.take(len, "data")?.to_vec())
        }
        REPLY_PAIR => Reply::Pair { read_fd: input.i32("read end")?, write_fd: input.i32("write end")? },
        REPLY_FORKED => Reply::Forked { child: input.i32("child")? },
        REPLY_WAITED => Reply::Waited {
            pid: input.i32("pid")?,
            status: input.i32("status")?,
            via_info: input.u8("siginfo flag")? != 0,
        },
        REPLY_OUT => Reply::Out(input.i64("value")?),
        REPLY_HANDLER => {
            let signal = input.i32("signal")?;
            let info = match input.u8("siginfo flag")? {
                0 => None,
                _ => Some(SigInfo {
                    pid: input.i64("si_pid")?,
                    value: input.i64("si_value")?,
                    code: input.i64("si_code")?,
                }),
            };
            let below = match input.u8("interrupted call")? {
                BELOW_NOT_IN_CALL => Below::NotInCall,
                BELOW_RESTART => Below::Restart,
                BELOW_RETURNED => Below::Returned { value: input.i64("interrupted call's value")? },
                other => return Err(DecodeError::UnknownKind(other)),
            };
            Reply::Handler { signal, info, below }
        }
        REPLY_SIGRETURN => Reply::Sigreturn { signal: input.i32("signal")? },
        REPLY_RESTARTED => Reply::Restarted,
        REPLY_MESSAGE => {
            let tag = input.i64("tag")?;
            let len = input.u32("length")? as usize;
            Reply::Message { tag, bytes: input.take(len, "message")?.to_vec() }
        }
        REPLY_ARRAY => {
            let len = input.u32("length")? as usize;
            Reply::Array(input.take(len, "values")?.to_vec())
        }
        REPLY_RECEIVED => {
            let (fd, fds, flags) = (input.i32("first descriptor")?, input.i32("descriptors")?, input.i32("flags")?);
            let creds = input.i32("credentials")?;
            let len = input.u32("length")? as usize;
            Reply::Received { fd, fds, flags, creds, bytes: input.take(len, "message")?.to_vec() }
        }
        REPLY_POLLED => {
            let ready = input.i32("ready")?;
            let mut revents = [0u16; sim_core::linux::poll::MAX_POLL_FDS];
            for value in &mut revents {
                *value = input.u32("revents")? as u16;
            }
            Reply::Polled { ready, revents }
        }
        REPLY_EPOLLED => {
            let ready = input.i32("ready")?;
            let mut fds = [0i32; sim_core::linux::epoll::MAX_EPOLL_EVENTS];
            let mut events = [0u32; sim_core::linux::epoll::MAX_EPOLL_EVENTS];
            for (fd, value) in fds.iter_mut().zip(&mut events) {
                *fd = input.i32("event descriptor")?;
                *value = input.u32("events")?;
            }
            Reply::Epolled { ready, fds, events }
        }
        other => return Err(DecodeError::UnknownKind(other)),
    };
    input.end()?;
    Ok(reply)
}

/// Sends one message made of `head` followed by `tail` (so that megabytes of read data are never
/// copied into a message buffer), with `pass_fd` attached to its first packet. Allocates nothing and
/// touches no `errno`: a real process sends its replies from inside handlers too. `MSG_NOSIGNAL`: a
/// driver that went away must not raise `SIGPIPE` in the scenario's process.
fn send_message(fd: RawFd, head: &[u8], tail: &[u8], pass_fd: Option<RawFd>) -> Result<(), i32> {
    let total = head.len() + tail.len();
    let prefix = (total as u32).to_le_bytes();
    let mut sent = 0;
    let mut first = true;
    // `struct cmsghdr` and one descriptor (CMSG_SPACE(4) on x86-64), aligned for the kernel.
    #[repr(C, align(8))]
    struct Control {
        len: usize,
        level: i32,
        kind: i32,
        fd: i32,
        pad: i32,
    }
    while first || sent < total {
        let room = if first { CHUNK_BYTES - prefix.len() } else { CHUNK_BYTES };
        let end = (sent + room).min(total);
        // The part of `head` and the part of `tail` that fall in `sent..end`.
        let head_part = &head[sent.min(head.len())..end.min(head.len())];
        let tail_part = &tail[sent.saturating_sub(head.len())..end.saturating_sub(head.len())];
        let pieces: [&[u8]; 3] = [if first { &prefix } else { &[] }, head_part, tail_part];
        let iov =
            pieces.map(|piece| libc::iovec { iov_base: piece.as_ptr() as *mut libc::c_void, iov_len: piece.len() });
        let mut control = Control { len: 20, level: libc::SOL_SOCKET, kind: libc::SCM_RIGHTS, fd: -1, pad: 0 };
        // SAFETY: a zeroed msghdr is valid; its pointers are set below to live buffers.
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_iov = iov.as_ptr() as *mut libc::iovec;
        message.msg_iovlen = iov.len();
        if let (Some(pass), true) = (pass_fd, first) {
            control.fd = pass;
            message.msg_control = &mut control as *mut Control as *mut libc::c_void;
            message.msg_controllen = std::mem::size_of::<Control>();
        }
        loop {
            let result = sys::syscall6(
                libc::SYS_sendmsg,
                fd as i64,
                &message as *const libc::msghdr as i64,
                libc::MSG_NOSIGNAL as i64,
                0,
                0,
                0,
            );
            match result {
                result if result == -(libc::EINTR as i64) => continue,
                result if result < 0 => return Err(-result as i32),
                _ => break,
            }
        }
        sent = end;
        first = false;
    }
    Ok(())
}

/// One packet as it arrived: its length, a descriptor passed with it, the sender's pid.
struct Packet {
    length: usize,
    passed: Option<OwnedFd>,
    sender: Option<i32>,
}

/// Receives one packet; `None` at end of file.
fn recv_packet(fd: RawFd, buffer: &mut [u8]) -> nix::Result<Option<Packet>> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    loop {
        let mut iov = [IoSliceMut::new(buffer)];
        let mut space = nix::cmsg_space!([RawFd; 2], libc::ucred);
        match recvmsg::<()>(fd, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(error) => return Err(error),
            Ok(message) => {
                let mut passed = None;
                let mut sender = None;
                for cmsg in message.cmsgs()? {
                    match cmsg {
                        ControlMessageOwned::ScmRights(fds) => {
                            for (index, raw) in fds.into_iter().enumerate() {
                                // SAFETY: the descriptor was just received and nobody else owns it.
                                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                                if index == 0 {
                                    passed = Some(owned);
                                }
                            }
                        }
                        ControlMessageOwned::ScmCredentials(credentials) => sender = Some(credentials.pid()),
                        _ => {}
                    }
                }
                if message.bytes == 0 && passed.is_none() {
                    return Ok(None);
                }
                return Ok(Some(Packet { length: message.bytes, passed, sender }));
            }
        }
    }
}

/// A whole message as it arrived.
pub struct Received {
    pub bytes: Vec<u8>,
    /// A descriptor that came with it.
    pub passed: Option<OwnedFd>,
    /// The sender's pid in the receiver's pid namespace (with `SO_PASSCRED` on).
    pub sender: Option<i32>,
}

/// Receives one message; `Ok(None)` when the other side has closed its end. The driver's side.
pub fn recv_message(fd: RawFd, buffer: &mut Vec<u8>) -> Result<Option<Received>, String> {
    buffer.resize(CHUNK_BYTES, 0);
    let Some(Packet { length, passed, sender }) = recv_packet(fd, buffer).map_err(|error| error.to_string())? else {
        return Ok(None);
    };
    if length < 4 {
        return Err(format!("a packet of {length} bytes on the control socket"));
    }
    let total = u32::from_le_bytes(buffer[..4].try_into().expect("4 bytes")) as usize;
    if total > MAX_MESSAGE_BYTES {
        return Err(format!("a message of {total} bytes on the control socket"));
    }
    let mut bytes = Vec::with_capacity(total);
    bytes.extend_from_slice(&buffer[4..length]);
    while bytes.len() < total {
        let Some(Packet { length, .. }) = recv_packet(fd, buffer).map_err(|error| error.to_string())? else {
            return Err("the process went away in the middle of a message".to_string());
        };
        bytes.extend_from_slice(&buffer[..length]);
    }
    if bytes.len() != total {
        return Err(format!("a message of {} bytes where its frame says {total}", bytes.len()));
    }
    Ok(Some(Received { bytes, passed, sender }))
}

/// Why a real process could not read a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvEnd {
    /// The driver closed its end: the run is over.
    Closed,
    /// Anything else: a broken frame, a message too long, a failed call.
    Broken,
}

/// Receives one message into `buffer` without allocating (a real process, maybe inside a handler);
/// returns its length. Packets never arrive with descriptors on this side.
pub fn recv_into(fd: RawFd, buffer: &mut [u8]) -> Result<usize, RecvEnd> {
    let first = recv_packet_into(fd, buffer, 0)?;
    if first < 4 {
        return Err(RecvEnd::Broken);
    }
    let total = u32::from_le_bytes([buffer[0], buffer[1], buffer[2], buffer[3]]) as usize;
    if total + 4 > buffer.len() {
        return Err(RecvEnd::Broken);
    }
    let mut have = first;
    while have < total + 4 {
        have += recv_packet_into(fd, buffer, have)?;
    }
    if have != total + 4 {
        return Err(RecvEnd::Broken);
    }
    buffer.copy_within(4..have, 0);
    Ok(total)
}

/// One packet into `buffer` at `at`; its length.
fn recv_packet_into(fd: RawFd, buffer: &mut [u8], at: usize) -> Result<usize, RecvEnd> {
    let room = (buffer.len() - at).min(CHUNK_BYTES);
    loop {
        let result =
            sys::syscall6(libc::SYS_recvfrom, fd as i64, buffer[at..].as_mut_ptr() as i64, room as i64, 0, 0, 0);
        match result {
            result if result == -(libc::EINTR as i64) => continue,
            0 => return Err(RecvEnd::Closed),
            result if result < 0 => return Err(RecvEnd::Broken),
            count => return Ok(count as usize),
        }
    }
}

/// The most bytes a command holds (a literal payload is at most a whole scenario).
pub const MAX_COMMAND_BYTES: usize = (2 << 20) + CHUNK_BYTES;

pub fn send_command(fd: RawFd, command: &Command) -> Result<(), i32> {
    send_message(fd, &encode_command(command), &[], None)
}

/// Sends a reply, with `pass_fd` attached (the control socket of a new process). Allocates nothing.
pub fn send_reply<D: AsRef<[u8]>>(fd: RawFd, reply: &Reply<D>, pass_fd: Option<RawFd>) -> Result<(), i32> {
    let head = encode_reply_head(reply);
    let tail: &[u8] = match reply {
        Reply::Data(bytes) | Reply::Message { bytes, .. } | Reply::Array(bytes) | Reply::Received { bytes, .. } => {
            bytes.as_ref()
        }
        _ => &[],
    };
    send_message(fd, head.as_slice(), tail, pass_fd)
}

/// Asks the kernel to say who sent each message received on `fd` (`SO_PASSCRED`). It must be on before
/// the message is sent (Linux attaches the sender's credentials to a message only when the receiving
/// socket asks for them at that moment: `unix_maybe_add_creds`, earlier `maybe_add_creds`, in
/// `net/unix/af_unix.c`), so the process that
/// makes a control socket turns it on for the driver's end before the new process can say anything.
pub fn want_sender(fd: RawFd) -> Result<(), String> {
    let on: libc::c_int = 1;
    // SAFETY: setsockopt with a pointer to a live int of the right size.
    let result = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PASSCRED,
            &on as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(format!("SO_PASSCRED: {}", std::io::Error::last_os_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn call(id: CallId, operands: Vec<WireOperand>) -> Command {
        Command::Call(CallCommand { id, op: 7, operands })
    }

    fn with(value: i64, attachment: Attachment) -> WireOperand {
        WireOperand { value, attachment: Some(attachment) }
    }

    #[test]
    fn commands_round_trip() {
        let commands = [
            call(CallId::Read, vec![WireOperand::value(3), WireOperand::value(100)]),
            call(
                CallId::Write,
                vec![WireOperand::value(4), with(5, Attachment::Payload(Payload::Bytes(b"hello".to_vec())))],
            ),
            call(
                CallId::Write,
                vec![
                    WireOperand::value(4),
                    with(16 << 20, Attachment::Payload(Payload::Fill { len: 16 << 20, pattern: b"ab".to_vec() })),
                ],
            ),
            call(
                CallId::Open,
                vec![with(0, Attachment::Path(b"/tmp/ipclab-check-x/0-f".to_vec())), WireOperand::value(2)],
            ),
            call(CallId::Kill, vec![WireOperand::value(-1), WireOperand::value(15)]),
            call(CallId::Getpid, vec![]),
            Command::Fork { op: 2 },
            Command::Exit { status: 0 },
            Command::Fault { op: 9 },
            Command::SpawnTop { index: 3, handlers: 2 },
            Command::Reap { pid: 5 },
            Command::NewSession,
            Command::Return,
        ];
        for command in commands {
            let bytes = encode_command(&command);
            assert!(bytes.len() < 200, "a pattern travels as itself, not as its bytes");
            assert_eq!(decode_command(&bytes), Ok(command));
        }
        assert!(decode_command(&[COMMAND_CALL, 0xff, 0xff]).unwrap_err().contains("no call has number 65535"));
        assert!(decode_command(&[COMMAND_FORK, 1]).unwrap_err().contains("ends before its operation"));
        assert!(decode_command(&[99]).unwrap_err().contains("unknown command kind 99"));
        let mut long = encode_command(&Command::NewSession);
        long.push(0);
        assert!(decode_command(&long).unwrap_err().contains("left over"));
        // A real process reads a call in place: its payload and path borrow the message.
        let bytes = encode_command(&call(
            CallId::Write,
            vec![
                WireOperand::value(4),
                with(2, Attachment::Payload(Payload::Fill { len: 9, pattern: b"ab".to_vec() })),
            ],
        ));
        let Ok(CommandView::Call(view)) = parse_command(&bytes) else { panic!("a call") };
        assert_eq!((view.id, view.op, view.arg(0), view.arg(1), view.arg(2)), (CallId::Write, 7, 4, 2, -1));
        assert_eq!(view.payload(), Some(AttachmentView::Fill { len: 9, pattern: b"ab" }));
        assert_eq!(view.path(), None);
        assert_eq!(parse_command(&[COMMAND_RETURN]), Ok(CommandView::Return));
        assert_eq!(parse_command(&[COMMAND_CALL, 0, 0, 0, 0, 0, 0, 7]), Err(DecodeError::TooManyOperands(7)));
    }

    #[test]
    fn a_real_process_receives_a_command_of_many_packets_into_its_own_buffer() {
        use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
        let (left, right) =
            socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC).expect("a socket pair");
        let text: Vec<u8> = (0..2 * CHUNK_BYTES + 5).map(|at| b'a' + (at % 26) as u8).collect();
        let command =
            call(CallId::Write, vec![WireOperand::value(4), with(0, Attachment::Payload(Payload::Bytes(text)))]);
        send_command(left.as_raw_fd(), &command).expect("sent");
        let mut buffer = vec![0u8; MAX_COMMAND_BYTES];
        let len = recv_into(right.as_raw_fd(), &mut buffer).expect("received");
        assert_eq!(decode_command(&buffer[..len]), Ok(command));
        // Too long for the buffer: refused, not overrun.
        let mut small = vec![0u8; 100];
        send_command(left.as_raw_fd(), &call(CallId::Write, vec![with(0, Attachment::Path(vec![b'x'; 500]))]))
            .expect("sent");
        assert_eq!(recv_into(right.as_raw_fd(), &mut small), Err(RecvEnd::Broken));
        drop(left);
        // What was left of the refused message, then the end.
        let mut outcome = recv_into(right.as_raw_fd(), &mut buffer);
        while outcome.is_ok() || outcome == Err(RecvEnd::Broken) {
            outcome = recv_into(right.as_raw_fd(), &mut buffer);
        }
        assert_eq!(outcome, Err(RecvEnd::Closed));
    }

    #[test]
    fn replies_round_trip_over_a_socket_including_megabytes_and_a_descriptor() {
        use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
        let (left, right) =
            socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC).expect("a socket pair");
        want_sender(right.as_raw_fd()).expect("SO_PASSCRED");
        let big: Vec<u8> = (0..3 * CHUNK_BYTES + 17).map(|at| (at % 251) as u8).collect();
        let replies = [
            Reply::Ready { pid: 2 },
            Reply::Value(-5),
            Reply::Errno(11),
            Reply::Data(Vec::new()),
            Reply::Data(b"hello".to_vec()),
            Reply::Pair { read_fd: 3, write_fd: 4 },
            Reply::Waited { pid: 3, status: 0x137f, via_info: true },
            Reply::Out(13),
            Reply::Handler { signal: 34, info: Some(SigInfo { pid: 3, value: -9, code: -1 }), below: Below::Restart },
            Reply::Handler { signal: 10, info: None, below: Below::Returned { value: -4 } },
            Reply::Handler { signal: 17, info: None, below: Below::NotInCall },
            Reply::Sigreturn { signal: 10 },
            Reply::Restarted,
            Reply::Message { tag: -4, bytes: b"typed".to_vec() },
            Reply::Array(vec![1, 0, 0, 0, 0xff, 0x7f]),
            Reply::Received { fd: 5, fds: 2, flags: 8, creds: 7, bytes: b"with rights".to_vec() },
            Reply::Received { fd: -1, fds: 0, flags: 0, creds: -1, bytes: Vec::new() },
            Reply::Polled { ready: 2, revents: [1, 0x11, 0, 0x20, 0] },
            Reply::Epolled { ready: 2, fds: [4, 7, 0, 0, 0], events: [1, 0x10, 0, 0, 0] },
        ];
        let mut buffer = Vec::new();
        for reply in replies {
            send_reply(left.as_raw_fd(), &reply, None).expect("sent");
            let received = recv_message(right.as_raw_fd(), &mut buffer).expect("received").expect("a message");
            assert_eq!(decode_reply(&received.bytes), Ok(reply));
            assert_eq!(received.sender, Some(std::process::id() as i32), "the kernel names the sender");
        }
        // A read of several chunks arrives whole, and a writer thread is not needed: the socket buffer
        // holds it.
        let sender = std::thread::spawn({
            let big = big.clone();
            let fd = left.as_raw_fd();
            move || send_reply(fd, &Reply::Data(big), None).expect("sent")
        });
        let received = recv_message(right.as_raw_fd(), &mut buffer).expect("received").expect("a message");
        sender.join().expect("the sender ends");
        assert_eq!(decode_reply(&received.bytes), Ok(Reply::Data(big)));
        // A descriptor passed with a reply.
        let (spare, _other) =
            socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC).expect("a socket pair");
        send_reply(left.as_raw_fd(), &Reply::<Vec<u8>>::Forked { child: 4 }, Some(spare.as_raw_fd())).expect("sent");
        let received = recv_message(right.as_raw_fd(), &mut buffer).expect("received").expect("a message");
        assert_eq!(decode_reply(&received.bytes), Ok(Reply::Forked { child: 4 }));
        assert!(received.passed.is_some(), "the control socket came along");
        // The other side closes: end of file.
        drop(left);
        assert!(recv_message(right.as_raw_fd(), &mut buffer).expect("no error").is_none());
    }
}
