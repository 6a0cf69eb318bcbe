//! The mechanisms `ipclab bench real` measures, and the two ends of each: a client end in the benchmark's
//! process and a server end in the process it forks. Every end sends whole messages and receives them
//! checked against the bytes that were sent, so a transfer that loses, reorders, truncates or mixes up
//! bytes stops the run with an error instead of giving a fast wrong figure.

use super::janitor::{Janitor, Object};
use super::shm::{Region, RingEnd, SlotEnd, SlotWait};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// How messages a mechanism cannot carry whole are split; every piece is still checked.
pub const DATAGRAM_PIECE: usize = 65536;
pub const UDP_PIECE: usize = 32768;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mechanism {
    Pipe,
    Fifo,
    SysvMsg,
    PosixMq,
    ShmSpin,
    ShmFutex,
    ShmSysvSem,
    ShmRing,
    UnixStream,
    UnixStreamBusy,
    Socketpair,
    UnixDgram,
    UnixSeqpacket,
    Tcp,
    TcpBusy,
    Udp,
    Signal,
    Eventfd,
}

impl Mechanism {
    pub const ALL: [Mechanism; 18] = [
        Mechanism::Pipe,
        Mechanism::Fifo,
        Mechanism::SysvMsg,
        Mechanism::PosixMq,
        Mechanism::ShmSpin,
        Mechanism::ShmFutex,
        Mechanism::ShmSysvSem,
        Mechanism::ShmRing,
        Mechanism::UnixStream,
        Mechanism::UnixStreamBusy,
        Mechanism::Socketpair,
        Mechanism::UnixDgram,
        Mechanism::UnixSeqpacket,
        Mechanism::Tcp,
        Mechanism::TcpBusy,
        Mechanism::Udp,
        Mechanism::Signal,
        Mechanism::Eventfd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Pipe => "pipe",
            Mechanism::Fifo => "fifo",
            Mechanism::SysvMsg => "sysv-msg",
            Mechanism::PosixMq => "posix-mq",
            Mechanism::ShmSpin => "shm-spin",
            Mechanism::ShmFutex => "shm-futex",
            Mechanism::ShmSysvSem => "shm-sysv-sem",
            Mechanism::ShmRing => "shm-ring",
            Mechanism::UnixStream => "unix-stream",
            Mechanism::UnixStreamBusy => "unix-stream-busy",
            Mechanism::Socketpair => "socketpair",
            Mechanism::UnixDgram => "unix-dgram",
            Mechanism::UnixSeqpacket => "unix-seqpacket",
            Mechanism::Tcp => "tcp",
            Mechanism::TcpBusy => "tcp-busy",
            Mechanism::Udp => "udp",
            Mechanism::Signal => "signal",
            Mechanism::Eventfd => "eventfd",
        }
    }

    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|mechanism| mechanism.name() == name)
    }

    /// How the two ends talk, in a few words.
    pub fn how(self) -> &'static str {
        match self {
            Mechanism::Pipe => "two pipes, grown to hold a message (F_SETPIPE_SZ, up to pipe-max-size)",
            Mechanism::Fifo => "two FIFOs in a private directory, grown like the pipes",
            Mechanism::SysvMsg => "one System V queue, requests of type 1 and replies of type 2, in pieces of msgmax",
            Mechanism::PosixMq => "two POSIX queues of 10 messages, in pieces of msgsize_max",
            Mechanism::ShmSpin => "a System V segment with a slot each way; the waiting side spins on a flag",
            Mechanism::ShmFutex => "the same slots; the waiting side sleeps in FUTEX_WAIT, the other wakes it",
            Mechanism::ShmSysvSem => "the same slots, guarded by four System V semaphores (full and empty each way)",
            Mechanism::ShmRing => "a 256 KiB ring each way in a System V segment; the reader checks the bytes in place",
            Mechanism::UnixStream => "a Unix stream socket, bound to a path and connected",
            Mechanism::UnixStreamBusy => "the same socket, non-blocking, both ends spinning on EAGAIN",
            Mechanism::Socketpair => "socketpair(AF_UNIX, SOCK_STREAM)",
            Mechanism::UnixDgram => "socketpair(AF_UNIX, SOCK_DGRAM), in datagrams of up to 64 KiB",
            Mechanism::UnixSeqpacket => "socketpair(AF_UNIX, SOCK_SEQPACKET), in records of up to 64 KiB",
            Mechanism::Tcp => "TCP on 127.0.0.1 with TCP_NODELAY",
            Mechanism::TcpBusy => "the same connection, non-blocking, both ends spinning on EAGAIN",
            Mechanism::Udp => "two connected UDP sockets on 127.0.0.1, in datagrams of 32 KiB, with credits",
            Mechanism::Signal => "sigqueue with a value, received by sigwaitinfo (real-time signals, blocked)",
            Mechanism::Eventfd => "two eventfd counters; a message is the value added",
        }
    }

    /// Whether a message is a number rather than bytes (8 bytes, the only size measured).
    pub fn counter(self) -> bool {
        matches!(self, Mechanism::Signal | Mechanism::Eventfd)
    }

    /// Whether the mechanism is one of those kept in shared memory, which copy nothing through the kernel.
    pub fn shared_memory(self) -> bool {
        matches!(self, Mechanism::ShmSpin | Mechanism::ShmFutex | Mechanism::ShmSysvSem | Mechanism::ShmRing)
    }
}

/// The receive buffer asked for the UDP sockets (SO_RCVBUFFORCE where permitted, else SO_RCVBUF).
const UDP_RCVBUF: usize = 4 << 20;

/// One end of a mechanism.
pub trait End {
    /// Sends one whole message.
    fn send(&mut self, message: &[u8]) -> Result<(), String>;
    /// Receives one whole message and checks that its bytes are `expected`.
    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String>;
    /// Learns the other end's pid, once forked (only signals need it).
    fn set_peer(&mut self, _pid: i32) {}
    /// At the end of a trial, when nothing more is in flight: fails if more arrived than was sent (only
    /// eventfd can tell it no sooner, since writes to its counter add up).
    fn settle(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Both ends of a mechanism, made before the fork, with what must be removed after the case.
pub struct Pair {
    pub client: Box<dyn End>,
    pub server: Box<dyn End>,
    /// Removed (and forgotten by the janitor) when the case ends.
    pub objects: Vec<Object>,
    /// Whether the sender of a one-way stream must wait for credits, and every how many messages the
    /// receiver sends one (0: never): UDP drops what its receive buffer cannot hold, and real-time
    /// signals queue only up to the user's RLIMIT_SIGPENDING.
    pub window: u64,
}

/// The start of the error of a case this host cannot run (its limits are too small for it): such a case
/// is reported as left out, not as a failure.
pub const CANNOT_RUN: &str = "cannot run here: ";

fn int_option(fd: RawFd, option: libc::c_int) -> usize {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt into a live int.
    unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, option, (&mut value as *mut libc::c_int).cast(), &mut len) };
    value.max(0) as usize
}

/// What a UDP message of `size` bytes holds of a receive buffer at once: each datagram's bytes and the
/// kernel's bookkeeping of it (counted generously).
fn udp_cost(size: usize) -> usize {
    let full = size / UDP_PIECE;
    let rest = size % UDP_PIECE;
    full * (UDP_PIECE + 2048) + if rest > 0 { rest + 2048 } else { 0 }
}

fn errno_text(what: &str) -> String {
    let error = std::io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EINTR) && super::timed_out() {
        return format!("{what}: no answer within the time limit (the other end stopped)");
    }
    format!("{what}: {error}")
}

fn check_bytes(got: &[u8], expected: &[u8]) -> Result<(), String> {
    if got.len() != expected.len() {
        return Err(format!("received {} bytes where {} were sent", got.len(), expected.len()));
    }
    if got != expected {
        let at = got.iter().zip(expected).position(|(a, b)| a != b).unwrap_or(0);
        return Err(format!("received bytes differ from those sent, first at byte {at} of {}", expected.len()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Byte streams: pipes, FIFOs, stream sockets.

struct StreamEnd {
    rx: OwnedFd,
    /// `None`: writes go to `rx` (a socket).
    tx: Option<OwnedFd>,
    /// Non-blocking, spinning on EAGAIN.
    busy: bool,
    scratch: Vec<u8>,
}

impl StreamEnd {
    fn new(rx: OwnedFd, tx: Option<OwnedFd>, busy: bool, size: usize) -> Result<StreamEnd, String> {
        if busy {
            for fd in [Some(&rx), tx.as_ref()].into_iter().flatten() {
                set_nonblocking(fd.as_raw_fd())?;
            }
        }
        Ok(StreamEnd { rx, tx, busy, scratch: vec![0; size.max(8)] })
    }
}

fn set_nonblocking(fd: RawFd) -> Result<(), String> {
    // SAFETY: fcntl on a descriptor this process owns.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(errno_text("fcntl O_NONBLOCK"));
    }
    Ok(())
}

/// Spins while a non-blocking call says EAGAIN, yielding the CPU every 64 tries as the shared-memory
/// spinners do (so that two ends pinned to one CPU make progress); gives up only when the time limit has
/// passed.
fn spin_again(what: &str, tries: &mut u32) -> Result<(), String> {
    if super::timed_out() {
        return Err(format!("{what}: no answer within the time limit (the other end stopped)"));
    }
    *tries = tries.wrapping_add(1);
    if tries.is_multiple_of(64) {
        // SAFETY: yields the CPU.
        unsafe { libc::sched_yield() };
    } else {
        std::hint::spin_loop();
    }
    Ok(())
}

impl End for StreamEnd {
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        let fd = self.tx.as_ref().unwrap_or(&self.rx).as_raw_fd();
        let (mut done, mut tries) = (0, 0);
        while done < message.len() {
            // SAFETY: writes from a live slice.
            let count = unsafe { libc::write(fd, message[done..].as_ptr().cast(), message.len() - done) };
            if count < 0 {
                if self.busy && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
                    spin_again("write", &mut tries)?;
                    continue;
                }
                return Err(errno_text("write"));
            }
            done += count as usize;
        }
        Ok(())
    }

    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String> {
        let fd = self.rx.as_raw_fd();
        let want = expected.len();
        let (mut done, mut tries) = (0, 0);
        while done < want {
            // SAFETY: reads into the scratch buffer, which holds `want` bytes.
            let count = unsafe { libc::read(fd, self.scratch[done..want].as_mut_ptr().cast(), want - done) };
            if count < 0 {
                if self.busy && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
                    spin_again("read", &mut tries)?;
                    continue;
                }
                return Err(errno_text("read"));
            }
            if count == 0 {
                return Err(format!("end of file after {done} of {want} bytes (the other end closed)"));
            }
            done += count as usize;
        }
        check_bytes(&self.scratch[..want], expected)
    }
}

/// Grows a pipe to hold `size` bytes, as far as pipe-max-size lets an unprivileged process (the default
/// 64 KiB otherwise). Returns the size it has.
fn grow_pipe(fd: RawFd, size: usize) -> usize {
    let limit = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .unwrap_or(1 << 20);
    let wanted = size.next_power_of_two().clamp(65536, limit.max(65536));
    // SAFETY: fcntl on a pipe this process owns.
    let got = unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, wanted as libc::c_int) };
    if got > 0 {
        got as usize
    } else {
        65536
    }
}

fn pipe_pair(size: usize) -> Result<(OwnedFd, OwnedFd), String> {
    let (read_end, write_end) = nix::unistd::pipe().map_err(|error| format!("pipe: {error}"))?;
    grow_pipe(write_end.as_raw_fd(), size);
    Ok((read_end, write_end))
}

fn fifo_pair(dir: &Path, name: &str, size: usize, janitor: &mut Janitor) -> Result<(OwnedFd, OwnedFd), String> {
    let path = dir.join(name);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .map_err(|error| format!("mkfifo {}: {error}", path.display()))?;
    let object = Object::Path(path.clone());
    janitor.keep(&object);
    let opened = (|| {
        use nix::fcntl::{open, OFlag};
        use nix::sys::stat::Mode;
        // The read end without waiting for a writer, then the write end, then the read end blocking again.
        let read_end = open(&path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|error| format!("open {} for reading: {error}", path.display()))?;
        // SAFETY: `open` returned a new descriptor that nothing else owns.
        let read_end = unsafe { OwnedFd::from_raw_fd(read_end) };
        let write_end = open(&path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|error| format!("open {} for writing: {error}", path.display()))?;
        // SAFETY: as above.
        let write_end = unsafe { OwnedFd::from_raw_fd(write_end) };
        // SAFETY: fcntl on a descriptor this process owns.
        unsafe { libc::fcntl(read_end.as_raw_fd(), libc::F_SETFL, libc::O_RDONLY) };
        grow_pipe(write_end.as_raw_fd(), size);
        Ok((read_end, write_end))
    })();
    // Both ends are open: the name is no longer needed, and a killed run cannot leave it behind.
    janitor.remove(&object);
    opened
}

// ---------------------------------------------------------------------------------------------------------
// Datagrams and records: Unix datagram and seqpacket sockets, UDP.

struct DatagramEnd {
    fd: OwnedFd,
    piece: usize,
    scratch: Vec<u8>,
}

impl End for DatagramEnd {
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        for piece in message.chunks(self.piece) {
            // SAFETY: sends from a live slice.
            let count = unsafe { libc::send(self.fd.as_raw_fd(), piece.as_ptr().cast(), piece.len(), 0) };
            if count < 0 {
                return Err(errno_text("send"));
            }
            if count as usize != piece.len() {
                return Err(format!("send took {count} of {} bytes", piece.len()));
            }
        }
        Ok(())
    }

    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String> {
        for piece in expected.chunks(self.piece) {
            // One byte more than expected, to see a datagram that is too long.
            // SAFETY: receives into the scratch buffer, which holds piece + 1 bytes.
            let count = unsafe {
                libc::recv(self.fd.as_raw_fd(), self.scratch.as_mut_ptr().cast(), piece.len() + 1, libc::MSG_TRUNC)
            };
            if count < 0 {
                return Err(errno_text("recv"));
            }
            if count as usize != piece.len() {
                return Err(format!("received a datagram of {count} bytes where one of {} was sent", piece.len()));
            }
            check_bytes(&self.scratch[..piece.len()], piece)?;
        }
        Ok(())
    }
}

fn datagram_end(fd: OwnedFd, piece: usize, size: usize) -> Box<dyn End> {
    Box::new(DatagramEnd { fd, piece, scratch: vec![0; piece.min(size.max(8)) + 1] })
}

fn set_buffer(fd: RawFd, option: libc::c_int, forced: libc::c_int, bytes: usize) {
    let value = bytes as libc::c_int;
    let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: setsockopt with a pointer to a live int.
    unsafe {
        if libc::setsockopt(fd, libc::SOL_SOCKET, forced, (&value as *const libc::c_int).cast(), size) != 0 {
            libc::setsockopt(fd, libc::SOL_SOCKET, option, (&value as *const libc::c_int).cast(), size);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// System V and POSIX message queues.

struct SysvMsgEnd {
    id: i32,
    send_type: libc::c_long,
    recv_type: libc::c_long,
    piece: usize,
    /// `mtype` then the text, as msgsnd and msgrcv want them.
    buffer: Vec<u8>,
}

const MTYPE: usize = std::mem::size_of::<libc::c_long>();

impl End for SysvMsgEnd {
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        for piece in message.chunks(self.piece) {
            self.buffer[..MTYPE].copy_from_slice(&self.send_type.to_ne_bytes());
            self.buffer[MTYPE..MTYPE + piece.len()].copy_from_slice(piece);
            // SAFETY: the buffer holds the type and `piece.len()` bytes of text.
            if unsafe { libc::msgsnd(self.id, self.buffer.as_ptr().cast(), piece.len(), 0) } != 0 {
                return Err(errno_text("msgsnd"));
            }
        }
        Ok(())
    }

    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String> {
        for piece in expected.chunks(self.piece) {
            // SAFETY: the buffer holds the type and `self.piece` bytes of text.
            let count =
                unsafe { libc::msgrcv(self.id, self.buffer.as_mut_ptr().cast(), self.piece, self.recv_type, 0) };
            if count < 0 {
                return Err(errno_text("msgrcv"));
            }
            check_bytes(&self.buffer[MTYPE..MTYPE + count as usize], piece)?;
        }
        Ok(())
    }
}

fn read_limit(path: &str, fallback: usize) -> usize {
    std::fs::read_to_string(path).ok().and_then(|text| text.trim().parse().ok()).unwrap_or(fallback)
}

struct MqEnd {
    tx: libc::mqd_t,
    rx: libc::mqd_t,
    piece: usize,
    scratch: Vec<u8>,
}

impl Drop for MqEnd {
    fn drop(&mut self) {
        // SAFETY: closes this end's own descriptors (duplicates for the server's end).
        unsafe {
            libc::mq_close(self.tx);
            libc::mq_close(self.rx);
        }
    }
}

impl End for MqEnd {
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        for piece in message.chunks(self.piece) {
            // SAFETY: sends from a live slice.
            if unsafe { libc::mq_send(self.tx, piece.as_ptr().cast(), piece.len(), 0) } != 0 {
                return Err(errno_text("mq_send"));
            }
        }
        Ok(())
    }

    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String> {
        for piece in expected.chunks(self.piece) {
            // SAFETY: the scratch buffer holds a whole message of the queue.
            let count = unsafe {
                libc::mq_receive(self.rx, self.scratch.as_mut_ptr().cast(), self.scratch.len(), std::ptr::null_mut())
            };
            if count < 0 {
                return Err(errno_text("mq_receive"));
            }
            check_bytes(&self.scratch[..count as usize], piece)?;
        }
        Ok(())
    }
}

fn mq_open(name: &str, piece: usize) -> Result<libc::mqd_t, String> {
    let c_name = std::ffi::CString::new(name).expect("no NUL in the name");
    // SAFETY: mq_attr is plain data.
    let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
    attr.mq_maxmsg = 10;
    attr.mq_msgsize = piece as libc::c_long;
    // SAFETY: a NUL-terminated name and a live attribute structure.
    let mqd = unsafe {
        libc::mq_open(
            c_name.as_ptr(),
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
            0o600 as libc::mode_t,
            &attr as *const libc::mq_attr,
        )
    };
    if mqd < 0 {
        if std::io::Error::last_os_error().raw_os_error() == Some(libc::EMFILE) {
            return Err(format!(
                "{CANNOT_RUN}mq_open {name}: EMFILE: two queues of 10 messages of {piece} bytes are more than the \
                 user's allowance of bytes in POSIX queues (RLIMIT_MSGQUEUE), or the limit on open files is reached"
            ));
        }
        return Err(errno_text(&format!("mq_open {name}")));
    }
    Ok(mqd)
}

// ---------------------------------------------------------------------------------------------------------
// Counters: real-time signals and eventfd.

struct SignalEnd {
    send_signal: i32,
    recv_signal: i32,
    peer: i32,
}

impl End for SignalEnd {
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        let value = u64::from_le_bytes(message[..8].try_into().expect("8 bytes"));
        let sival = libc::sigval { sival_ptr: value as usize as *mut libc::c_void };
        let mut tries = 0;
        loop {
            // SAFETY: queues a signal with a value to the peer.
            if unsafe { libc::sigqueue(self.peer, self.send_signal, sival) } == 0 {
                return Ok(());
            }
            // The user's queue of pending signals is full: wait for the peer to take some.
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
                spin_again("sigqueue", &mut tries)?;
                continue;
            }
            return Err(errno_text("sigqueue"));
        }
    }

    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String> {
        let want = u64::from_le_bytes(expected[..8].try_into().expect("8 bytes"));
        // SAFETY: a signal set built by sigemptyset and sigaddset, and a siginfo to fill.
        let got = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, self.recv_signal);
            let mut info: libc::siginfo_t = std::mem::zeroed();
            if libc::sigwaitinfo(&set, &mut info) < 0 {
                return Err(errno_text("sigwaitinfo"));
            }
            info.si_value().sival_ptr as usize as u64
        };
        if got != want {
            return Err(format!("received the value {got} where {want} was sent"));
        }
        Ok(())
    }

    fn set_peer(&mut self, pid: i32) {
        self.peer = pid;
    }
}

struct EventfdEnd {
    tx: OwnedFd,
    rx: OwnedFd,
    /// Read from the counter but not yet matched to a message: writes that arrive before a read add up.
    pending: u64,
}

impl End for EventfdEnd {
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        // SAFETY: writes 8 bytes from a live slice.
        if unsafe { libc::write(self.tx.as_raw_fd(), message.as_ptr().cast(), 8) } != 8 {
            return Err(errno_text("write eventfd"));
        }
        Ok(())
    }

    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String> {
        let want = u64::from_le_bytes(expected[..8].try_into().expect("8 bytes"));
        while self.pending < want {
            let mut value = [0u8; 8];
            // SAFETY: reads 8 bytes into a live array.
            if unsafe { libc::read(self.rx.as_raw_fd(), value.as_mut_ptr().cast(), 8) } != 8 {
                return Err(errno_text("read eventfd"));
            }
            self.pending += u64::from_ne_bytes(value);
        }
        // Values are consumed in the order they were added, so the sum read must cover each in turn.
        self.pending -= want;
        Ok(())
    }

    fn settle(&mut self) -> Result<(), String> {
        match std::mem::take(&mut self.pending) {
            0 => Ok(()),
            extra => Err(format!("the counter held {extra} more than was added")),
        }
    }
}

fn eventfd() -> Result<OwnedFd, String> {
    // SAFETY: creates a new descriptor.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(errno_text("eventfd"));
    }
    // SAFETY: eventfd returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Blocks the two real-time signals the signal mechanism uses, in the benchmark (and so in the server it
/// forks), so that they queue until sigwaitinfo takes them. Returns the previous mask.
pub fn block_signals(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: signal sets built by sigemptyset and sigaddset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in signals {
            libc::sigaddset(&mut set, *signal);
        }
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
        old
    }
}

pub fn signal_numbers() -> (i32, i32) {
    (libc::SIGRTMIN() + 2, libc::SIGRTMIN() + 3)
}

// ---------------------------------------------------------------------------------------------------------

fn dup(fd: &OwnedFd) -> Result<OwnedFd, String> {
    fd.try_clone().map_err(|error| format!("dup: {error}"))
}

/// Makes both ends of `mechanism` for messages of `size` bytes.
pub fn open(mechanism: Mechanism, size: usize, dir: &Path, janitor: &mut Janitor) -> Result<Pair, String> {
    let stream =
        |client: (OwnedFd, Option<OwnedFd>), server: (OwnedFd, Option<OwnedFd>), busy: bool| -> Result<Pair, String> {
            Ok(Pair {
                client: Box::new(StreamEnd::new(client.0, client.1, busy, size)?),
                server: Box::new(StreamEnd::new(server.0, server.1, busy, size)?),
                objects: Vec::new(),
                window: 0,
            })
        };
    match mechanism {
        Mechanism::Pipe => {
            let (request_read, request_write) = pipe_pair(size)?;
            let (reply_read, reply_write) = pipe_pair(size)?;
            stream((reply_read, Some(request_write)), (request_read, Some(reply_write)), false)
        }
        Mechanism::Fifo => {
            let (request_read, request_write) = fifo_pair(dir, "requests", size, janitor)?;
            let (reply_read, reply_write) = fifo_pair(dir, "replies", size, janitor)?;
            stream((reply_read, Some(request_write)), (request_read, Some(reply_write)), false)
        }
        Mechanism::UnixStream | Mechanism::UnixStreamBusy => {
            let path = dir.join("socket");
            let object = Object::Path(path.clone());
            janitor.keep(&object);
            let connected = (|| {
                let listener = std::os::unix::net::UnixListener::bind(&path)
                    .map_err(|error| format!("bind {}: {error}", path.display()))?;
                let client = std::os::unix::net::UnixStream::connect(&path)
                    .map_err(|error| format!("connect {}: {error}", path.display()))?;
                let (server, _) = listener.accept().map_err(|error| format!("accept: {error}"))?;
                Ok::<_, String>((OwnedFd::from(client), OwnedFd::from(server)))
            })();
            janitor.remove(&object);
            let (client, server) = connected?;
            stream((client, None), (server, None), mechanism == Mechanism::UnixStreamBusy)
        }
        Mechanism::Socketpair => {
            let (client, server) =
                std::os::unix::net::UnixStream::pair().map_err(|error| format!("socketpair: {error}"))?;
            stream((client.into(), None), (server.into(), None), false)
        }
        Mechanism::UnixDgram | Mechanism::UnixSeqpacket => {
            use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
            let kind = if mechanism == Mechanism::UnixDgram { SockType::Datagram } else { SockType::SeqPacket };
            let (client, server) = socketpair(AddressFamily::Unix, kind, None, SockFlag::SOCK_CLOEXEC)
                .map_err(|error| format!("socketpair: {error}"))?;
            // Room for a few whole pieces in flight each way.
            for fd in [&client, &server] {
                set_buffer(fd.as_raw_fd(), libc::SO_SNDBUF, libc::SO_SNDBUFFORCE, 4 * (DATAGRAM_PIECE + 1024));
            }
            Ok(Pair {
                client: datagram_end(client, DATAGRAM_PIECE, size),
                server: datagram_end(server, DATAGRAM_PIECE, size),
                objects: Vec::new(),
                window: 0,
            })
        }
        Mechanism::Tcp | Mechanism::TcpBusy => {
            let listener =
                std::net::TcpListener::bind("127.0.0.1:0").map_err(|error| format!("bind 127.0.0.1:0: {error}"))?;
            let address = listener.local_addr().map_err(|error| format!("getsockname: {error}"))?;
            let client =
                std::net::TcpStream::connect(address).map_err(|error| format!("connect {address}: {error}"))?;
            let (server, _) = listener.accept().map_err(|error| format!("accept: {error}"))?;
            for socket in [&client, &server] {
                socket.set_nodelay(true).map_err(|error| format!("TCP_NODELAY: {error}"))?;
            }
            stream((client.into(), None), (server.into(), None), mechanism == Mechanism::TcpBusy)
        }
        Mechanism::Udp => {
            let bind =
                || std::net::UdpSocket::bind("127.0.0.1:0").map_err(|error| format!("bind 127.0.0.1:0: {error}"));
            let (client, server) = (bind()?, bind()?);
            let address =
                |socket: &std::net::UdpSocket| socket.local_addr().map_err(|error| format!("getsockname: {error}"));
            client.connect(address(&server)?).map_err(|error| format!("connect: {error}"))?;
            server.connect(address(&client)?).map_err(|error| format!("connect: {error}"))?;
            let (client, server): (OwnedFd, OwnedFd) = (client.into(), server.into());
            for fd in [&client, &server] {
                set_buffer(fd.as_raw_fd(), libc::SO_RCVBUF, libc::SO_RCVBUFFORCE, UDP_RCVBUF);
                set_buffer(fd.as_raw_fd(), libc::SO_SNDBUF, libc::SO_SNDBUFFORCE, UDP_RCVBUF);
            }
            // What the kernel gave, which without privilege is at most twice net.core.rmem_max.
            let buffer =
                int_option(client.as_raw_fd(), libc::SO_RCVBUF).min(int_option(server.as_raw_fd(), libc::SO_RCVBUF));
            let cost = udp_cost(size);
            if cost > buffer / 4 {
                return Err(format!(
                    "{CANNOT_RUN}a message of {size} bytes holds about {cost} bytes of a UDP receive buffer at once, more \
                     than a quarter of the {buffer} bytes the kernel gave, so datagrams would be dropped (raise \
                     net.core.rmem_max, or run as root)"
                ));
            }
            Ok(Pair {
                client: datagram_end(client, UDP_PIECE, size),
                server: datagram_end(server, UDP_PIECE, size),
                objects: Vec::new(),
                // At most two windows in flight: half the buffer.
                window: (buffer / 4 / cost).clamp(1, 256) as u64,
            })
        }
        Mechanism::SysvMsg => {
            // SAFETY: creates a new private queue.
            let id = unsafe { libc::msgget(libc::IPC_PRIVATE, libc::IPC_CREAT | 0o600) };
            if id < 0 {
                return Err(errno_text("msgget"));
            }
            let object = Object::Msg(id);
            janitor.keep(&object);
            // A piece must fit the queue twice over (msg_qbytes), or a send could wait forever.
            // SAFETY: msqid_ds is plain data, filled by IPC_STAT.
            let mut stat: libc::msqid_ds = unsafe { std::mem::zeroed() };
            // SAFETY: IPC_STAT of the queue just made, into a live structure.
            let qbytes = if unsafe { libc::msgctl(id, libc::IPC_STAT, &mut stat) } == 0 {
                stat.msg_qbytes as usize
            } else {
                16384
            };
            let piece = read_limit("/proc/sys/kernel/msgmax", 8192).min(qbytes / 2).min(size.max(8)).max(1);
            let end = |send_type, recv_type| -> Box<dyn End> {
                Box::new(SysvMsgEnd { id, send_type, recv_type, piece, buffer: vec![0; MTYPE + piece] })
            };
            Ok(Pair { client: end(1, 2), server: end(2, 1), objects: vec![object], window: 0 })
        }
        Mechanism::PosixMq => {
            let piece = read_limit("/proc/sys/fs/mqueue/msgsize_max", 8192).min(size.max(8));
            let base = format!("/ipclab-bench-{}", std::process::id());
            let mut opened = Vec::new();
            for suffix in ["requests", "replies"] {
                let name = format!("{base}-{suffix}");
                let object = Object::Mq(name.clone());
                janitor.keep(&object);
                let mqd = mq_open(&name, piece);
                // Both processes reach the queue through descriptors inherited across fork: the name can go.
                janitor.remove(&object);
                // Owned at once, so that a failure of the second closes the first.
                // SAFETY: mq_open returned a new descriptor (a file descriptor on Linux) that nothing else owns.
                opened.push(unsafe { OwnedFd::from_raw_fd(mqd?) });
            }
            let replies = opened.pop().expect("two queues");
            let requests = opened.pop().expect("two queues");
            let (server_requests, server_replies) = (dup(&requests)?, dup(&replies)?);
            let end = |tx: OwnedFd, rx: OwnedFd| -> Box<dyn End> {
                Box::new(MqEnd { tx: into_raw(tx), rx: into_raw(rx), piece, scratch: vec![0; piece] })
            };
            Ok(Pair {
                client: end(requests, replies),
                server: end(server_replies, server_requests),
                objects: Vec::new(),
                window: 0,
            })
        }
        Mechanism::ShmSpin | Mechanism::ShmFutex | Mechanism::ShmSysvSem => {
            let wait = match mechanism {
                Mechanism::ShmSpin => SlotWait::Spin,
                Mechanism::ShmFutex => SlotWait::Futex,
                _ => {
                    // SAFETY: creates a new private set of four semaphores.
                    let id = unsafe { libc::semget(libc::IPC_PRIVATE, 4, libc::IPC_CREAT | 0o600) };
                    if id < 0 {
                        return Err(errno_text("semget"));
                    }
                    SlotWait::SysvSem(id)
                }
            };
            let mut objects = Vec::new();
            if let SlotWait::SysvSem(id) = wait {
                let object = Object::Sem(id);
                janitor.keep(&object);
                objects.push(object);
            }
            let slot = super::shm::slot_bytes(size);
            let made = match wait {
                SlotWait::SysvSem(id) => super::shm::init_semaphores(id),
                _ => Ok(()),
            }
            .and_then(|()| Region::new(2 * slot, janitor));
            let region = match made {
                Ok(region) => region,
                Err(error) => {
                    for object in &objects {
                        janitor.remove(object);
                    }
                    return Err(error);
                }
            };
            Ok(Pair {
                client: Box::new(SlotEnd::new(region.clone(), 0, slot, wait, 0)),
                server: Box::new(SlotEnd::new(region, slot, 0, wait, 1)),
                objects,
                window: 0,
            })
        }
        Mechanism::ShmRing => {
            let ring = super::shm::ring_bytes();
            let region = Region::new(2 * ring, janitor)?;
            Ok(Pair {
                client: Box::new(RingEnd::new(region.clone(), 0, ring)),
                server: Box::new(RingEnd::new(region, ring, 0)),
                objects: Vec::new(),
                window: 0,
            })
        }
        Mechanism::Signal => {
            let (request, reply) = signal_numbers();
            Ok(Pair {
                client: Box::new(SignalEnd { send_signal: request, recv_signal: reply, peer: 0 }),
                server: Box::new(SignalEnd { send_signal: reply, recv_signal: request, peer: 0 }),
                objects: Vec::new(),
                window: 256,
            })
        }
        Mechanism::Eventfd => {
            let (requests, replies) = (eventfd()?, eventfd()?);
            let (server_requests, server_replies) = (dup(&requests)?, dup(&replies)?);
            Ok(Pair {
                client: Box::new(EventfdEnd { tx: requests, rx: replies, pending: 0 }),
                server: Box::new(EventfdEnd { tx: server_replies, rx: server_requests, pending: 0 }),
                objects: Vec::new(),
                window: 0,
            })
        }
    }
}

fn into_raw(fd: OwnedFd) -> RawFd {
    std::os::fd::IntoRawFd::into_raw_fd(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mechanism, both ends in this process: a message arrives checked, and one whose bytes differ
    /// from those expected fails its check. (Signals are left out: a test's other threads do not block
    /// them, and one would end the test process.)
    #[test]
    fn every_end_checks_what_arrives() {
        let dir = std::env::temp_dir().join(format!("ipclab-bench-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Removed even if an assertion fails.
        struct Gone(std::path::PathBuf);
        impl Drop for Gone {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
        let _gone = Gone(dir.clone());
        let mut janitor = Janitor::none();
        for mechanism in Mechanism::ALL.into_iter().filter(|mechanism| *mechanism != Mechanism::Signal) {
            let size = if mechanism.counter() { 8 } else { 64 };
            let sent: Vec<u8> = if mechanism.counter() { 5u64.to_le_bytes().to_vec() } else { (0..64).collect() };
            let mut other = sent.clone();
            // A counter's low byte (5 becomes 4), a message's last byte.
            other[if mechanism.counter() { 0 } else { size - 1 }] ^= 1;
            for (expected, good) in [(&sent, true), (&other, false)] {
                let mut pair = open(mechanism, size, &dir, &mut janitor).unwrap();
                pair.client.send(&sent).unwrap();
                // A counter takes 5 where 4 was expected and keeps 1 over, which the end of the trial finds.
                let checked = pair.server.recv_check(expected).and_then(|()| pair.server.settle());
                assert_eq!(checked.is_ok(), good, "{}: {checked:?}", mechanism.name());
                for object in &pair.objects {
                    janitor.remove(object);
                }
            }
        }
    }
}
