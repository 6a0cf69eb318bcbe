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

use sim_core::lang::ast::Payload;
use sim_core::lang::syscalls::CallId;
use std::ffi::CString;
use std::io::{IoSlice, IoSliceMut};
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

impl CallCommand {
    /// Operand `index` as a number (-1 when the call has fewer).
    pub fn arg(&self, index: usize) -> i64 {
        self.operands.get(index).map_or(-1, |operand| operand.value)
    }

    /// The payload operand, if the call has one.
    pub fn payload(&self) -> Option<&Payload> {
        self.operands.iter().find_map(|operand| match &operand.attachment {
            Some(Attachment::Payload(payload)) => Some(payload),
            _ => None,
        })
    }

    /// The path operand, if the call has one, ready for a system call.
    pub fn path(&self) -> Option<CString> {
        self.operands.iter().find_map(|operand| match &operand.attachment {
            Some(Attachment::Path(path)) => CString::new(path.clone()).ok(),
            _ => None,
        })
    }
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
    /// To `init`: start top-level process number `index` as its child.
    SpawnTop { index: u32 },
    /// To `init`: collect the zombie `pid` (a pid in the run's namespace).
    Reap { pid: i32 },
    /// To `init`: every top-level process has started; leave their session for one of its own.
    NewSession,
}

/// What a process reports back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A new process is ready for commands; `pid` is its pid in the run's namespace.
    Ready {
        pid: i32,
    },
    Value(i64),
    Errno(i32),
    Data(Vec<u8>),
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
    /// The call returned 0 and stored `value` through its pointer (`ioctl FIONREAD`).
    Out(i64),
    /// A message was received: its bytes, and its type (`msgrcv`) or priority (`mq_receive`).
    Message {
        tag: i64,
        bytes: Vec<u8>,
    },
    /// The call returned 0 and stored an array of `unsigned short`s (`semctl GETALL`).
    Array(Vec<u16>),
}

const COMMAND_CALL: u8 = 1;
const COMMAND_FORK: u8 = 2;
const COMMAND_EXIT: u8 = 3;
const COMMAND_FAULT: u8 = 4;
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
const REPLY_MESSAGE: u8 = 9;
const REPLY_ARRAY: u8 = 10;

/// Little-endian encoding of the fields of a message.
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

/// The reading side of [`Writer`]; every read says what was missing.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(count).filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!("a message of {} bytes ends before its {what}", self.bytes.len()));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().expect("2 bytes")))
    }
    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    fn i32(&mut self, what: &str) -> Result<i32, String> {
        Ok(i32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    fn i64(&mut self, what: &str) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }
    fn blob(&mut self, what: &str) -> Result<Vec<u8>, String> {
        let len = self.u32(what)? as usize;
        Ok(self.take(len, what)?.to_vec())
    }
    fn end(&self) -> Result<(), String> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(format!("{} bytes left over at the end of a message", self.bytes.len() - self.at))
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
        Command::SpawnTop { index } => {
            out.u8(COMMAND_SPAWN_TOP).u32(*index);
        }
        Command::Reap { pid } => {
            out.u8(COMMAND_REAP).i32(*pid);
        }
        Command::NewSession => {
            out.u8(COMMAND_NEW_SESSION);
        }
    }
    out.bytes
}

pub fn decode_command(bytes: &[u8]) -> Result<Command, String> {
    let mut input = Reader { bytes, at: 0 };
    let command = match input.u8("kind")? {
        COMMAND_CALL => {
            let number = input.u16("call id")?;
            let id = CallId::from_number(number).ok_or(format!("no call has number {number}"))?;
            let op = input.u32("operation")?;
            let count = input.u8("operand count")?;
            let mut operands = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let value = input.i64("operand value")?;
                let attachment = match input.u8("attachment kind")? {
                    ATTACHMENT_NONE => None,
                    ATTACHMENT_BYTES => Some(Attachment::Payload(Payload::Bytes(input.blob("payload")?))),
                    ATTACHMENT_FILL => {
                        let len = input.u32("payload length")?;
                        Some(Attachment::Payload(Payload::Fill { len, pattern: input.blob("pattern")? }))
                    }
                    ATTACHMENT_PATH => Some(Attachment::Path(input.blob("path")?)),
                    other => return Err(format!("unknown attachment kind {other}")),
                };
                operands.push(WireOperand { value, attachment });
            }
            Command::Call(CallCommand { id, op, operands })
        }
        COMMAND_FORK => Command::Fork { op: input.u32("operation")? },
        COMMAND_EXIT => Command::Exit { status: input.i32("status")? },
        COMMAND_FAULT => Command::Fault { op: input.u32("operation")? },
        COMMAND_SPAWN_TOP => Command::SpawnTop { index: input.u32("index")? },
        COMMAND_REAP => Command::Reap { pid: input.i32("pid")? },
        COMMAND_NEW_SESSION => Command::NewSession,
        other => return Err(format!("unknown command kind {other}")),
    };
    input.end()?;
    Ok(command)
}

/// A reply's fixed part; the bytes of a [`Reply::Data`] follow it without being copied.
fn encode_reply_head(reply: &Reply) -> Vec<u8> {
    let mut out = Writer::default();
    match reply {
        Reply::Ready { pid } => out.u8(REPLY_READY).i32(*pid),
        Reply::Value(value) => out.u8(REPLY_VALUE).i64(*value),
        Reply::Errno(errno) => out.u8(REPLY_ERRNO).i32(*errno),
        Reply::Data(bytes) => out.u8(REPLY_DATA).u32(bytes.len() as u32),
        Reply::Pair { read_fd, write_fd } => out.u8(REPLY_PAIR).i32(*read_fd).i32(*write_fd),
        Reply::Forked { child } => out.u8(REPLY_FORKED).i32(*child),
        Reply::Waited { pid, status, via_info } => out.u8(REPLY_WAITED).i32(*pid).i32(*status).u8(*via_info as u8),
        Reply::Out(value) => out.u8(REPLY_OUT).i64(*value),
        Reply::Message { tag, bytes } => out.u8(REPLY_MESSAGE).i64(*tag).blob(bytes),
        Reply::Array(values) => {
            out.u8(REPLY_ARRAY).u32(values.len() as u32);
            for value in values {
                out.u16(*value);
            }
            &mut out
        }
    };
    out.bytes
}

pub fn decode_reply(bytes: &[u8]) -> Result<Reply, String> {
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
        REPLY_MESSAGE => {
            let tag = input.i64("tag")?;
            let len = input.u32("length")? as usize;
            Reply::Message { tag, bytes: input.take(len, "message")?.to_vec() }
        }
        REPLY_ARRAY => {
            let count = input.u32("count")? as usize;
            let bytes = input.take(count.saturating_mul(2), "values")?;
            Reply::Array(bytes.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]])).collect())
        }
        other => return Err(format!("unknown reply kind {other}")),
    };
    input.end()?;
    Ok(reply)
}

/// Sends one message made of `head` followed by `tail` (so that megabytes of read data are never
/// copied into a message buffer), with `pass_fd` attached to its first packet.
fn send_message(fd: RawFd, head: &[u8], tail: &[u8], pass_fd: Option<RawFd>) -> nix::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let total = head.len() + tail.len();
    let prefix = (total as u32).to_le_bytes();
    let mut sent = 0;
    let mut first = true;
    while first || sent < total {
        let room = if first { CHUNK_BYTES - prefix.len() } else { CHUNK_BYTES };
        let end = (sent + room).min(total);
        // The part of `head` and the part of `tail` that fall in `sent..end`.
        let head_part = &head[sent.min(head.len())..end.min(head.len())];
        let tail_part = &tail[sent.saturating_sub(head.len())..end.saturating_sub(head.len())];
        let mut iov = Vec::with_capacity(3);
        if first {
            iov.push(IoSlice::new(&prefix));
        }
        iov.push(IoSlice::new(head_part));
        iov.push(IoSlice::new(tail_part));
        let fds;
        let cmsgs: Vec<ControlMessage> = match pass_fd {
            Some(pass) if first => {
                fds = [pass];
                vec![ControlMessage::ScmRights(&fds)]
            }
            _ => Vec::new(),
        };
        loop {
            match sendmsg::<()>(fd, &iov, &cmsgs, MsgFlags::empty(), None) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(error) => return Err(error),
                Ok(_) => break,
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

/// Receives one message; `Ok(None)` when the other side has closed its end.
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

pub fn send_command(fd: RawFd, command: &Command) -> nix::Result<()> {
    send_message(fd, &encode_command(command), &[], None)
}

/// Sends a reply, with `pass_fd` attached (the control socket of a new process).
pub fn send_reply(fd: RawFd, reply: &Reply, pass_fd: Option<RawFd>) -> nix::Result<()> {
    let head = encode_reply_head(reply);
    let tail: &[u8] = match reply {
        Reply::Data(bytes) => bytes,
        _ => &[],
    };
    send_message(fd, &head, tail, pass_fd)
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
            Command::SpawnTop { index: 3 },
            Command::Reap { pid: 5 },
            Command::NewSession,
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
            Reply::Message { tag: -4, bytes: b"typed".to_vec() },
            Reply::Array(vec![1, 0, 32_767]),
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
        send_reply(left.as_raw_fd(), &Reply::Forked { child: 4 }, Some(spare.as_raw_fd())).expect("sent");
        let received = recv_message(right.as_raw_fd(), &mut buffer).expect("received").expect("a message");
        assert_eq!(decode_reply(&received.bytes), Ok(Reply::Forked { child: 4 }));
        assert!(received.passed.is_some(), "the control socket came along");
        // The other side closes: end of file.
        drop(left);
        assert!(recv_message(right.as_raw_fd(), &mut buffer).expect("no error").is_none());
    }
}
