//! Unix-domain sockets: `socketpair`, `socket`, `bind`, `listen`, `accept`, `connect`, `send`, `recv`,
//! `shutdown`, `getsockopt`, `setsockopt`, and `read`, `write` and `close` on a socket's descriptor.
//!
//! The rules follow `net/unix/af_unix.c` of Linux 6.18, each cited at the function that has it. A
//! socket is one end; `socketpair` makes two connected ends (`unix_socketpair`). What one end sends is
//! queued on the other's receive queue, one entry per send (an `sk_buff`): a stream socket's reader
//! takes bytes across entries, so boundaries vanish; a datagram or seqpacket socket's reader takes one
//! entry per call, and what does not fit its buffer is lost.
//!
//! A socket bound to a path has a socket file there (`Kernel::socket_names`), which outlives it until
//! `unlink`. A `connect` to a listening socket makes the server's end at once (`unix_stream_connect`),
//! connected to the client and queued on the listener until `accept` takes it; the queue holds up to
//! the backlog plus one (`unix_recvq_full`), and a `connect` past that sleeps.
//!
//! Buffer accounting: Linux charges each queued `sk_buff` to its *sender's* `sk_wmem_alloc` by its
//! `truesize` until the reader consumes it whole, and a sender may allocate a new buffer only while
//! that charge is below its `sk_sndbuf` (212992, `wmem_default`; `sock_alloc_send_pskb`), so the last
//! buffer may take the charge past it. [`truesize`] computes the charge as x86-64 Linux 6.18 does for a
//! buffer of a given shape: a head from `kmalloc` (at least 512 bytes, else the power of two that holds
//! the bytes plus `struct skb_shared_info`), 256 bytes of `struct sk_buff`, and the pages of the
//! paged part, taken greedily in blocks of up to eight pages (`alloc_skb_with_frags`). A stream's
//! bytes go in buffers of at most 36544 bytes (`unix_stream_sendmsg`: a page's head plus 32 KiB of
//! pages), a datagram in one buffer whose head holds up to 16064 bytes (`unix_dgram_sendmsg`). The
//! counts of sends a full buffer takes were measured against Linux (docs/conformance.md).

use super::poll::Queue;
use super::tcp::{Inet, TcpState};
use super::wait::{WaitQueue, Wake};
use super::{CallContext, Exec, Interruption, Kernel, Mechanism, Scratch};
use crate::lang::ast::{Copier, Payload};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{
    EADDRINUSE, EAFNOSUPPORT, EAGAIN, EBADF, ECONNREFUSED, ECONNRESET, EINVAL, EISCONN, EMFILE, EMSGSIZE, ENOENT,
    ENOPROTOOPT, ENOTCONN, ENOTSOCK, EOPNOTSUPP, EPERM, EPIPE, EPROTOTYPE, ESOCKTNOSUPPORT,
};
use crate::linux::fcntl;
use crate::linux::socket::{
    AF_INET, AF_UNIX, IPPROTO_TCP, IPPROTO_UDP, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK,
    MSG_TRUNC, RMEM_DEFAULT, RMEM_MAX, SCM_MAX_FD, SHUT_RD, SHUT_RDWR, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_MAX,
    SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, SOCK_TYPE_MASK, SOL_SOCKET,
    SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_PASSCRED, SO_PEERCRED, SO_PROTOCOL, SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF,
    SO_SNDLOWAT, SO_TYPE, TCP_RMEM_DEFAULT, TCP_WMEM_DEFAULT, WMEM_DEFAULT, WMEM_MAX,
};
use crate::linux::Errno;
use crate::present::snapshot::{MessageView, ObjectView, PassedFileView, SocketEndView, SocketPairView};
use crate::trace::{
    BlockReason, CallResult, Copied, CopyDirection, Event, EventKind, ObjectRef, Pid, RightsMove, Trace, WakeCause,
};
use std::collections::VecDeque;
use std::sync::Arc;

/// `RCV_SHUTDOWN` and `SEND_SHUTDOWN`, the two bits of `sk_shutdown`.
pub(crate) const RCV_SHUTDOWN: u8 = 1;
pub(crate) const SEND_SHUTDOWN: u8 = 2;

/// A socket's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketKind {
    Stream,
    Dgram,
    Seqpacket,
}

impl SocketKind {
    /// The kind of a type number: `unix_create` makes a `SOCK_RAW` socket as a datagram socket and
    /// refuses the types it does not know.
    fn from_type(value: i64) -> Option<SocketKind> {
        match value {
            SOCK_STREAM => Some(SocketKind::Stream),
            SOCK_DGRAM | SOCK_RAW => Some(SocketKind::Dgram),
            SOCK_SEQPACKET => Some(SocketKind::Seqpacket),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SocketKind::Stream => "SOCK_STREAM",
            SocketKind::Dgram => "SOCK_DGRAM",
            SocketKind::Seqpacket => "SOCK_SEQPACKET",
        }
    }

    /// Whether the type is connection-based: a closing peer or a `shutdown` reaches the other end.
    fn connected_type(self) -> bool {
        self != SocketKind::Dgram
    }
}

/// One entry of a receive queue: the bytes of one buffer, of which `consumed` were read already (only
/// a stream's reader leaves an entry partly read), the socket that sent it (an unconnected datagram
/// socket's queue holds entries of many senders), and what it is charged to that sender.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub data: Vec<u8>,
    pub consumed: u32,
    pub from: u32,
    /// The sender's name as `recvfrom` reports it: its path's number in the program plus one, 0 for
    /// an unnamed socket. Linux reads the sending socket's address when the entry is received
    /// (`unix_copy_addr` of `skb->sk`), so a later `bind` of the sender renames its queued entries.
    pub sender_name: u32,
    pub truesize: u32,
    /// The credentials it carries (`UNIXCB(skb).pid`): the sending process, attached when the sender
    /// or the receiver had `SO_PASSCRED` set at the send, or the receiver was a connection not yet
    /// accepted (`unix_maybe_add_creds`); `None` for none.
    pub creds: Option<Pid>,
    /// The open files of its `SCM_RIGHTS` (`UNIXCB(skb).fp`), each holding a reference while the
    /// message is in flight: released when a receive takes them (installed, or closed if there is no
    /// room), or when the message goes unread (`unix_destruct_scm`).
    pub rights: Vec<u32>,
}

/// `/proc/sys/net/unix/max_dgram_qlen`, its default: a datagram socket's `sk_max_ack_backlog`
/// (`unix_create1`), the datagrams its receive queue may hold past which senders it is not connected
/// back to wait (`unix_recvq_full`: more than this many is full).
const MAX_DGRAM_QLEN: usize = 10;

/// `sizeof(struct skb_shared_info)` and `sizeof(struct sk_buff)`, each cache-aligned (x86-64).
const SHINFO: u32 = 320;
const SKBUFF: u32 = 256;
/// `SKB_MAX_HEAD(0)`: the bytes a one-page head holds.
const STREAM_HEAD_MAX: u32 = 4096 - SHINFO;
/// `UNIX_SKB_FRAGS_SZ`: the most a stream buffer takes in pages.
const STREAM_FRAGS_MAX: u32 = 32768;
/// `SKB_MAX_ALLOC`: the most a datagram buffer's head holds.
const DGRAM_HEAD_MAX: u32 = 4 * 4096 - SHINFO;

/// The `truesize` of a buffer with `linear` bytes in its head and `paged` bytes in pages (see the
/// module's words).
fn truesize(linear: u32, paged: u32) -> u32 {
    let head = (linear.div_ceil(64) * 64 + SHINFO).max(512).next_power_of_two();
    let mut pages = 0;
    let mut left = paged.div_ceil(4096);
    while left > 0 {
        let order = (0..=3).rev().find(|order| left >= 1 << order).expect("order 0 fits");
        pages += 4096 << order;
        left = left.saturating_sub(1 << order);
    }
    head + SKBUFF + pages
}

/// The head and paged bytes of a stream buffer of `size` bytes (`unix_stream_sendmsg`).
fn stream_shape(size: u32) -> (u32, u32) {
    let paged = size.saturating_sub(STREAM_HEAD_MAX).div_ceil(4096) * 4096;
    let paged = paged.min(size);
    (size - paged, paged)
}

/// The head and paged bytes of a datagram of `len` bytes (`unix_dgram_sendmsg`).
fn dgram_shape(len: u32) -> (u32, u32) {
    if len > DGRAM_HEAD_MAX {
        let paged = ((len - DGRAM_HEAD_MAX).min(17 * 4096)).div_ceil(4096) * 4096;
        (len - paged.min(len), paged.min(len))
    } else {
        (len, 0)
    }
}

impl Entry {
    fn left(&self) -> u32 {
        self.data.len() as u32 - self.consumed
    }
}

/// One Unix-domain socket (`struct unix_sock`).
#[derive(Clone, Debug)]
pub struct Socket {
    pub id: u32,
    pub kind: SocketKind,
    /// The connected peer (`unix_peer`), 0 for none.
    pub peer: u32,
    /// Whether the peer was closed (`SOCK_DEAD`) while this socket still named it: a datagram socket
    /// learns it at its next send.
    pub peer_dead: bool,
    /// Open files referring to the socket; the last one's close releases it.
    pub files: u32,
    /// The receive queue, oldest first.
    pub queue: VecDeque<Entry>,
    /// Bytes in the queue not yet read.
    pub queued: u32,
    /// `sk_shutdown`: `RCV_SHUTDOWN` and `SEND_SHUTDOWN`.
    pub shutdown: u8,
    /// `sk_err`: an error the next call reports once (`ECONNRESET` from a peer closed with unread data).
    pub error: Option<Errno>,
    /// `sk_wmem_alloc`: the `truesize` of the entries this socket queued at its peer that the peer has
    /// not consumed whole.
    pub unread_sent: u32,
    /// `sk_sndbuf` and `sk_rcvbuf` (`SO_SNDBUF`, `SO_RCVBUF`). Only the send buffer bounds anything
    /// here: a Unix-domain socket's receive queue is bounded by its senders' buffers.
    pub sndbuf: u32,
    pub rcvbuf: u32,
    /// `sk_peer_pid`, what `SO_PEERCRED` reports: the process that made the pair, connected to this
    /// server end, or listened on the socket this client connected to; 0 for none.
    pub peer_pid: Pid,
    /// Processes asleep receiving on this socket, and sending through it.
    pub read_wait: WaitQueue,
    pub write_wait: WaitQueue,
    /// Bytes queued here, and read from here, in all (for the conservation invariant).
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The path it is bound to, and that path's number in the program plus one (0 for none).
    pub path: Option<Arc<str>>,
    pub name: u32,
    /// Listening (`TCP_LISTEN`), with its backlog (`sk_max_ack_backlog`) and the server ends of the
    /// connections waiting for `accept`, oldest first; and the clients asleep in `connect` because
    /// that queue is full (`peer_wait`).
    pub listening: bool,
    pub backlog: u32,
    pub pending: VecDeque<u32>,
    pub connect_wait: WaitQueue,
    /// `SO_PASSCRED` (`sk_scm_credentials`): its messages carry credentials, a stream read stops where
    /// they change, and it binds itself to a name of the kernel's choosing before it connects or sends
    /// a datagram without a name of its own.
    pub passcred: bool,
    /// Bound to a name the kernel chose (`unix_autobind`: an abstract name of five hex digits), which
    /// no scenario path names: a receiver sees its datagrams come from a name it cannot name either.
    pub autobound: bool,
    /// `SO_REUSEADDR` (`sk_reuse`): kept for every socket, looked at only by `AF_INET` ones.
    pub reuse: bool,
    /// The `AF_INET` part of a TCP socket (`None` for a Unix-domain socket): see [`super::tcp`].
    pub inet: Option<Inet>,
    /// A datagram socket's relay on its full receiver's `peer_wait` (`unix_sock::peer_wake`): the
    /// receiver it waits on (0 for none) and when it was put there (`Kernel::epoll_seq`, which orders
    /// it among others: the latest is woken first). See [`peer_wake_me`].
    pub peer_wake: u32,
    pub peer_wake_seq: u64,
}

/// The sender name ([`Entry::sender_name`]) of a socket bound by `unix_autobind`; `recvfrom` reports it as
/// -1, a name the scenario did not make.
pub const AUTOBOUND_NAME: u32 = u32::MAX;

impl Socket {
    fn new(id: u32, kind: SocketKind, peer: u32) -> Socket {
        Socket {
            id,
            kind,
            peer,
            peer_dead: false,
            files: 1,
            queue: VecDeque::new(),
            queued: 0,
            shutdown: 0,
            error: None,
            unread_sent: 0,
            sndbuf: WMEM_DEFAULT,
            rcvbuf: RMEM_DEFAULT,
            peer_pid: 0,
            read_wait: WaitQueue::default(),
            write_wait: WaitQueue::default(),
            bytes_in: 0,
            bytes_out: 0,
            path: None,
            name: 0,
            listening: false,
            backlog: 0,
            pending: VecDeque::new(),
            connect_wait: WaitQueue::default(),
            passcred: false,
            autobound: false,
            reuse: false,
            inet: None,
            peer_wake: 0,
            peer_wake_seq: 0,
        }
    }

    /// A TCP socket (`inet_create`, `tcp_init_sock`), connected to `peer` if not 0.
    pub(crate) fn new_inet(id: u32, peer: u32) -> Socket {
        let mut socket = Socket::new(id, SocketKind::Stream, peer);
        socket.inet = Some(Inet::new());
        socket.sndbuf = TCP_WMEM_DEFAULT;
        socket.rcvbuf = TCP_RMEM_DEFAULT;
        socket
    }

    /// `unix_writable`: a waiting sender is woken once at most a quarter of the send buffer is used
    /// (`sk_wmem_alloc` counts one more than the charge).
    pub(crate) fn writable(&self) -> bool {
        (self.unread_sent as u64 + 1) << 2 <= self.sndbuf as u64
    }
}

impl Kernel {
    pub fn socket(&self, id: u32) -> Option<&Socket> {
        self.sockets.get((id as usize).wrapping_sub(1)).and_then(Option::as_ref)
    }

    pub(crate) fn socket_mut(&mut self, id: u32) -> &mut Socket {
        self.sockets[id as usize - 1].as_mut().expect("a live file points at a freed socket")
    }

    /// Bytes every socket's receive queue holds.
    pub fn socket_bytes(&self) -> u64 {
        self.sockets.iter().flatten().map(|socket| socket.queued as u64).sum()
    }
}

/// The socket behind descriptor `fd`: `EBADF` for no descriptor, `ENOTSOCK` for another kind of file
/// (`sockfd_lookup_light`).
fn socket_of(kernel: &Kernel, pid: Pid, fd: i64) -> Result<(u32, bool), Errno> {
    let Some(index) = kernel.file_of(pid, fd) else { return Err(EBADF) };
    let file = kernel.file(index);
    match file.object {
        super::fd::FileObject::Socket(id) => Ok((id, file.nonblock)),
        _ => Err(ENOTSOCK),
    }
}

/// Which of a socket's wait queues a wake-up is on (Linux has one, `sk_wq`, and `peer_wait`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SocketQueue {
    Read,
    Write,
    /// `peer_wait`: connecting clients of a full listener, and datagram senders to a full receiver.
    Connect,
}

/// Wakes whom a wake-up on one of socket `socket`'s queues wakes: the epoll items on it first, with
/// the key Linux's wake-up carries (`sk_data_ready`: `EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND`;
/// `sk_write_space` and a datagram receiver's read: `EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND`; a state
/// change: none), then the sleepers.
fn wake_socket(
    kernel: &mut Kernel,
    socket: u32,
    queue: SocketQueue,
    how: Wake,
    by: Pid,
    cause: WakeCause,
    trace: &mut Trace,
) {
    use crate::linux::poll::{POLLIN, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM};
    if !kernel.epolls.is_empty() {
        let (polled, key) = match queue {
            SocketQueue::Read => (Queue::SocketRead(socket), POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND),
            SocketQueue::Write => (Queue::SocketWrite(socket), POLLOUT | POLLWRNORM | POLLWRBAND),
            SocketQueue::Connect => (Queue::SocketPeer(socket), POLLOUT | POLLWRNORM | POLLWRBAND),
        };
        let key = if matches!(cause, WakeCause::Hangup { .. }) { 0 } else { key };
        kernel.epoll_callback(polled, key, by, cause, trace);
    }
    if queue == SocketQueue::Connect {
        relay_peer_wake(kernel, socket, by, cause, trace);
    }
    let socket = kernel.socket_mut(socket);
    let waiters = match queue {
        SocketQueue::Read => &mut socket.read_wait,
        SocketQueue::Write => &mut socket.write_wait,
        SocketQueue::Connect => &mut socket.connect_wait,
    };
    let mut woken = Vec::new();
    waiters.wake(how, &mut woken);
    for pid in woken {
        kernel.wake(pid, by, cause, trace);
    }
}

/// `unix_dgram_peer_wake_me` (from `unix_dgram_poll`, and from a non-blocking `unix_dgram_sendmsg`):
/// socket `id` found `other`, its peer, too full to take a datagram from it, so it puts a relay on
/// `other`'s `peer_wait` (unless it has one already), which passes the next wake-up there on to
/// `id`'s own wait queue: its epoll items and pollers hear of room at the receiver, whoever's
/// datagram was read. Returns whether `other` is still full (and the relay stays); a relay put there
/// just now goes again if it is not.
pub(crate) fn peer_wake_me(kernel: &mut Kernel, id: u32, other: u32) -> bool {
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
        kernel.footprint.read(ObjectRef::socket(other));
    }
    let connected = kernel.socket(id).is_some_and(|socket| socket.peer_wake == 0);
    if connected {
        kernel.epoll_seq += 1;
        let seq = kernel.epoll_seq;
        let socket = kernel.socket_mut(id);
        socket.peer_wake = other;
        socket.peer_wake_seq = seq;
    }
    if kernel.socket(other).is_some_and(receiver_full) {
        return true;
    }
    if connected {
        peer_wake_disconnect(kernel, id, other);
    }
    false
}

/// `unix_dgram_peer_wake_disconnect`: socket `id`'s relay leaves `other`'s `peer_wait`, if it is there.
pub(crate) fn peer_wake_disconnect(kernel: &mut Kernel, id: u32, other: u32) {
    if let Some(Some(socket)) = kernel.sockets.get_mut((id as usize).wrapping_sub(1)) {
        if socket.peer_wake == other {
            socket.peer_wake = 0;
            socket.peer_wake_seq = 0;
        }
    }
}

/// `unix_dgram_peer_wake_disconnect_wakeup`: socket `id` leaves peer `old` (it connects elsewhere, or
/// finds `old` closed at a send): its relay goes, and its own wait queue is woken as room would wake
/// it, so that what waits to send through it looks again.
fn peer_wake_disconnect_wakeup(kernel: &mut Kernel, id: u32, old: u32, by: Pid, trace: &mut Trace) {
    peer_wake_disconnect(kernel, id, old);
    let object = ObjectRef::socket(old);
    wake_socket(kernel, id, SocketQueue::Write, Wake::All, by, WakeCause::Room { object }, trace);
}

/// A wake-up of `other`'s `peer_wait` runs the relays there first (`unix_dgram_peer_wake_relay`,
/// non-exclusive entries added at the head: the latest first): each leaves, and wakes its socket's
/// own queue with the same key (room; none for a close).
fn relay_peer_wake(kernel: &mut Kernel, other: u32, by: Pid, cause: WakeCause, trace: &mut Trace) {
    let mut relays: Vec<(u64, u32)> = kernel
        .sockets
        .iter()
        .flatten()
        .filter(|socket| socket.peer_wake == other)
        .map(|socket| (socket.peer_wake_seq, socket.id))
        .collect();
    if relays.is_empty() {
        return;
    }
    relays.sort_unstable_by_key(|relay| std::cmp::Reverse(relay.0));
    for (_, id) in relays {
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::socket(id));
        }
        peer_wake_disconnect(kernel, id, other);
        wake_socket(kernel, id, SocketQueue::Write, Wake::All, by, cause, trace);
    }
}

/// `sk_state_change` (`sock_def_wakeup`): every sleeper on the socket wakes to look again.
fn state_change(kernel: &mut Kernel, socket: u32, by: Pid, trace: &mut Trace) {
    let object = ObjectRef::socket(socket);
    wake_socket(kernel, socket, SocketQueue::Read, Wake::All, by, WakeCause::Hangup { object }, trace);
    wake_socket(kernel, socket, SocketQueue::Write, Wake::All, by, WakeCause::Hangup { object }, trace);
}

/// A type argument of `socket` or `socketpair` split into its flags (`SOCK_NONBLOCK`,
/// `SOCK_CLOEXEC`) and type number: other bits outside `SOCK_TYPE_MASK` are `EINVAL`, as
/// `__sys_socket_create` and `__sys_socketpair` test before anything else.
fn type_flags(value: i64) -> Result<(i64, bool, bool), Errno> {
    let flags = value & !SOCK_TYPE_MASK;
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(EINVAL);
    }
    Ok((value & SOCK_TYPE_MASK, flags & SOCK_NONBLOCK != 0, flags & SOCK_CLOEXEC != 0))
}

/// The kind of a type number: `__sock_create` refuses a number past the last type (`SOCK_MAX`) with
/// `EINVAL`, and `unix_create` a type it does not make with `ESOCKTNOSUPPORT`.
fn kind_of(number: i64) -> Result<SocketKind, Errno> {
    if number >= SOCK_MAX {
        return Err(EINVAL);
    }
    SocketKind::from_type(number).ok_or(ESOCKTNOSUPPORT)
}

/// `unix_socketpair` (with `unix_create1` for each end): two connected sockets of one type, on the two
/// lowest free descriptors. `__sys_socketpair` takes both descriptors before it creates the sockets,
/// so a full table is `EMFILE` before an unknown type is refused.
fn socketpair(kernel: &mut Kernel, pid: Pid, kind: i64) -> Exec {
    let (number, nonblock, cloexec) = match type_flags(kind) {
        Ok(split) => split,
        Err(errno) => return Kernel::error(errno),
    };
    let Some(first_fd) = kernel.lowest_free_fd(pid, 0) else { return Kernel::error(EMFILE) };
    kernel.install_fd(pid, first_fd, u32::MAX, false);
    let Some(second_fd) = kernel.lowest_free_fd(pid, 0) else {
        kernel.proc_mut(pid).fds[first_fd as usize] = None;
        return Kernel::error(EMFILE);
    };
    let kind = match kind_of(number) {
        Ok(kind) => kind,
        Err(errno) => {
            kernel.proc_mut(pid).fds[first_fd as usize] = None;
            return Kernel::error(errno);
        }
    };
    let first = kernel.sockets.len() as u32 + 1;
    let second = first + 1;
    // Both ends carry the caller's credentials (`init_peercred` on each in `unix_socketpair`).
    for (id, peer) in [(first, second), (second, first)] {
        let mut end = Socket::new(id, kind, peer);
        end.peer_pid = pid;
        kernel.sockets.push(Some(end));
    }
    let first_file = kernel.new_file(socket_file(first, nonblock));
    let second_file = kernel.new_file(socket_file(second, nonblock));
    kernel.install_fd(pid, first_fd, first_file, cloexec);
    kernel.install_fd(pid, second_fd, second_file, cloexec);
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(first));
        kernel.footprint.write(ObjectRef::socket(second));
    }
    Exec::Done(CallResult::Pair { read_fd: first_fd as i32, write_fd: second_fd as i32 })
}

/// A new open file on socket `id`: read and write, blocking unless `nonblock` (`sock_alloc_file`
/// gives it `O_RDWR` and the `O_NONBLOCK` of `SOCK_NONBLOCK`).
fn socket_file(id: u32, nonblock: bool) -> super::fd::OpenFile {
    super::fd::OpenFile {
        object: super::fd::FileObject::Socket(id),
        readable: true,
        writable: true,
        nonblock,
        base_flags: fcntl::O_RDWR,
        refs: 1,
        offset: 0,
        fifo_writers_seen: None,
    }
}

/// An open file on socket `id`, on the lowest free descriptor (`EMFILE` when there is none).
fn install_socket(kernel: &mut Kernel, pid: Pid, id: u32, nonblock: bool, cloexec: bool) -> Result<i64, Errno> {
    let Some(fd) = kernel.lowest_free_fd(pid, 0) else { return Err(EMFILE) };
    let file = kernel.new_file(socket_file(id, nonblock));
    kernel.install_fd(pid, fd, file, cloexec);
    Ok(fd)
}

/// `__sys_socket` and `unix_create`: an unconnected socket. The type is looked at first (`EINVAL`,
/// `ESOCKTNOSUPPORT`), the descriptor table after (`sock_map_fd`: `EMFILE`).
fn socket(kernel: &mut Kernel, pid: Pid, kind: i64, domain: i64) -> Exec {
    if domain == AF_INET {
        return inet_socket(kernel, pid, kind);
    }
    if domain != AF_UNIX {
        // `__sock_create`: a family outside `0..NPROTO` (46), or `AF_UNSPEC`, which no protocol family
        // registers, is `EAFNOSUPPORT`; the families Linux has besides these two are not modelled.
        if !(1..46).contains(&domain) {
            return Kernel::error(EAFNOSUPPORT);
        }
        return kernel
            .halt("not_modelled", format!("address family {domain} is not modelled (AF_UNIX and AF_INET are)"));
    }
    let (kind, nonblock, cloexec) = match type_flags(kind)
        .and_then(|(number, nonblock, cloexec)| kind_of(number).map(|kind| (kind, nonblock, cloexec)))
    {
        Ok(split) => split,
        Err(errno) => return Kernel::error(errno),
    };
    if kernel.lowest_free_fd(pid, 0).is_none() {
        return Kernel::error(EMFILE);
    }
    let id = kernel.sockets.len() as u32 + 1;
    kernel.sockets.push(Some(Socket::new(id, kind, 0)));
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    match install_socket(kernel, pid, id, nonblock, cloexec) {
        Ok(fd) => Exec::Done(CallResult::Value { value: fd }),
        Err(errno) => Kernel::error(errno),
    }
}

/// `inet_create`: `SOCK_STREAM` is TCP, `SOCK_DGRAM` UDP; `SOCK_SEQPACKET` has no protocol in
/// `AF_INET` (`ESOCKTNOSUPPORT`); `SOCK_RAW` is not modelled. The type's number and
/// flags are checked as for any family first (`__sys_socket_create`, `__sock_create`).
fn inet_socket(kernel: &mut Kernel, pid: Pid, kind: i64) -> Exec {
    let (number, nonblock, cloexec) = match type_flags(kind) {
        Ok(split) => split,
        Err(errno) => return Kernel::error(errno),
    };
    if number >= SOCK_MAX {
        return Kernel::error(EINVAL);
    }
    match number {
        SOCK_STREAM | SOCK_DGRAM => {}
        SOCK_RAW => {
            let detail = "AF_INET raw sockets (SOCK_RAW) are not modelled; TCP and UDP are".to_string();
            return kernel.halt("not_modelled", detail);
        }
        _ => return Kernel::error(ESOCKTNOSUPPORT),
    }
    if kernel.lowest_free_fd(pid, 0).is_none() {
        return Kernel::error(EMFILE);
    }
    let id = kernel.sockets.len() as u32 + 1;
    let socket = if number == SOCK_DGRAM { super::udp::new_socket(id) } else { Socket::new_inet(id, 0) };
    kernel.sockets.push(Some(socket));
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    match install_socket(kernel, pid, id, nonblock, cloexec) {
        Ok(fd) => Exec::Done(CallResult::Value { value: fd }),
        Err(errno) => Kernel::error(errno),
    }
}

/// Whether a socket address is a name in the abstract namespace (its first byte NUL, `unix(7)`): no file
/// stands for it, and it lives exactly as long as the socket bound to it.
pub fn is_abstract(path: &str) -> bool {
    path.as_bytes().first() == Some(&0)
}

/// The live socket of type `kind` bound to the abstract name `path`. Linux keeps abstract names in a
/// table hashed with the socket's type (`unix_abstract_hash`), and `__unix_find_socket_byname`
/// looks in one bucket: a stream and a datagram socket may hold the same name, and a lookup never
/// finds a socket of another type.
fn abstract_socket(kernel: &Kernel, path: &str, kind: SocketKind) -> Option<u32> {
    kernel
        .sockets
        .iter()
        .flatten()
        .find(|socket| socket.kind == kind && socket.path.as_deref() == Some(path))
        .map(|socket| socket.id)
}

/// `unix_bind_bsd`: the socket file is made first (an existing path is `EADDRINUSE`), then a socket
/// already bound refuses the second name (`EINVAL`) and the file goes again. `unix_bind_abstract`
/// checks in the other order: a bound socket is `EINVAL`, then a name held by a live socket of the
/// same type is `EADDRINUSE`; no file is made.
/// `unix_autobind` where Linux calls it for a socket with `SO_PASSCRED` and no name yet
/// (`unix_stream_connect`, `unix_dgram_connect`, `unix_dgram_sendmsg`, each before it looks for the
/// other socket): the socket takes an abstract name of the kernel's choosing, and what it has sent
/// and is not yet received now comes from that name.
fn autobind_for_creds(kernel: &mut Kernel, id: u32) {
    let socket = kernel.socket_mut(id);
    if !socket.passcred || socket.path.is_some() || socket.autobound {
        return;
    }
    socket.autobound = true;
    socket.name = AUTOBOUND_NAME;
    rename_sent(kernel, id, AUTOBOUND_NAME);
}

/// What `id` has sent and is not yet received now comes from `name` (Linux reads the sender's address
/// at the receive); the queues holding it are written.
fn rename_sent(kernel: &mut Kernel, id: u32, name: u32) {
    for socket in kernel.sockets.iter_mut().flatten() {
        let mut renamed = false;
        for entry in socket.queue.iter_mut().filter(|entry| entry.from == id) {
            entry.sender_name = name;
            renamed = true;
        }
        if renamed && kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::socket(socket.id));
        }
    }
}

fn bind(kernel: &mut Kernel, id: u32, path: Arc<str>, path_index: u32) -> Exec {
    let kind = kernel.socket_mut(id).kind;
    if is_abstract(&path) {
        if kernel.socket_mut(id).path.is_some() || kernel.socket_mut(id).autobound {
            return Kernel::error(EINVAL);
        }
        if abstract_socket(kernel, &path, kind).is_some() {
            return Kernel::error(EADDRINUSE);
        }
    } else if kernel.fifos.contains_key(&path) || kernel.socket_names.contains_key(&path) {
        return Kernel::error(EADDRINUSE);
    }
    let socket = kernel.socket_mut(id);
    if socket.path.is_some() || socket.autobound {
        return Kernel::error(EINVAL);
    }
    socket.path = Some(path.clone());
    socket.name = path_index + 1;
    if !is_abstract(&path) {
        kernel.socket_names.insert(path, id);
    }
    // What it sent and is not yet received now comes from this name.
    rename_sent(kernel, id, path_index + 1);
    Exec::Done(CallResult::Value { value: 0 })
}

/// `unix_listen`: a bound, unconnected stream or seqpacket socket; a larger backlog wakes the clients
/// waiting for room. `__sys_listen` caps the backlog at `somaxconn` (4096), a negative one too.
fn listen(kernel: &mut Kernel, pid: Pid, id: u32, backlog: i64, trace: &mut Trace) -> Exec {
    let socket = kernel.socket_mut(id);
    if !socket.kind.connected_type() {
        return Kernel::error(EOPNOTSUPP);
    }
    if socket.path.is_none() || (socket.peer != 0 || socket.peer_dead) {
        return Kernel::error(EINVAL);
    }
    let backlog = if (backlog as u64) > 4096 { 4096 } else { backlog as u32 };
    let grew = backlog > socket.backlog;
    // `unix_listen` records the listener's credentials, for its clients to copy at `connect`.
    socket.peer_pid = pid;
    socket.listening = true;
    socket.backlog = backlog;
    if grew {
        let object = ObjectRef::socket(id);
        wake_socket(kernel, id, SocketQueue::Connect, Wake::All, pid, WakeCause::Room { object }, trace);
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// `unix_find_other` (`unix_find_bsd`): the socket bound at `path`: `ENOENT` for no such file,
/// `ECONNREFUSED` for a file that is not a socket (a FIFO) or a socket file whose socket is gone,
/// `EPROTOTYPE` for a socket of another type.
fn find_other(kernel: &mut Kernel, path: &Arc<str>, kind: SocketKind) -> Result<u32, Errno> {
    if is_abstract(path) {
        // `unix_find_abstract`: no live socket of this type holds the name: `ECONNREFUSED`.
        let Some(id) = abstract_socket(kernel, path, kind) else { return Err(ECONNREFUSED) };
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::socket(id));
        }
        return Ok(id);
    }
    let Some(&id) = kernel.socket_names.get(path) else {
        return Err(if kernel.fifos.contains_key(path) { ECONNREFUSED } else { ENOENT });
    };
    let Some(target) = kernel.socket(id) else { return Err(ECONNREFUSED) };
    if target.kind != kind {
        return Err(EPROTOTYPE);
    }
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    Ok(id)
}

/// `unix_may_send`: a socket connected to another than `from` takes datagrams from nobody else.
fn may_send(kernel: &Kernel, from: u32, target: u32) -> bool {
    let peer = kernel.socket(target).map_or(0, |socket| socket.peer);
    peer == 0 || peer == from
}

/// `unix_dgram_disconnected`: a datagram socket leaving peer `old` drops what it had received (each
/// entry uncharged from its sender); only if there was something, it wakes the senders waiting for
/// room in it and, if `old` is alive and connected back to it, gives `old` the error `ECONNRESET`.
fn dgram_disconnected(kernel: &mut Kernel, pid: Pid, id: u32, old: u32, old_alive: bool, trace: &mut Trace) {
    let socket = kernel.socket_mut(id);
    if socket.queue.is_empty() {
        return;
    }
    let dropped = std::mem::take(&mut socket.queue);
    socket.bytes_out += socket.queued as u64;
    socket.queued = 0;
    for entry in &dropped {
        uncharge(kernel, pid, entry.from, entry.truesize, trace);
    }
    let rights: Vec<u32> = dropped.into_iter().flat_map(|entry| entry.rights).collect();
    drop_unread(kernel, pid, id, rights, trace);
    let object = ObjectRef::socket(id);
    // `wake_up_interruptible_all` of `peer_wait`, with no key: the relays there pass none on.
    relay_peer_wake(kernel, id, pid, WakeCause::Hangup { object }, trace);
    wake_socket(kernel, id, SocketQueue::Connect, Wake::All, pid, WakeCause::Room { object }, trace);
    if old_alive {
        if let Some(Some(old_end)) = kernel.sockets.get_mut(old as usize - 1) {
            if old_end.peer == id && !old_end.peer_dead {
                old_end.error = Some(ECONNRESET);
                // `sk_error_report`: a wake-up of its queue with `EPOLLERR`, which its epoll items hear.
                let object = ObjectRef::socket(old);
                kernel.epoll_callback(
                    Queue::SocketRead(old),
                    crate::linux::poll::POLLERR,
                    pid,
                    WakeCause::Hangup { object },
                    trace,
                );
            }
        }
    }
}

/// `unix_dgram_connect`: a datagram socket's default destination, the socket bound at `path`
/// (`unix_find_other`'s errors), which must take datagrams from it (`unix_may_send`: `EPERM`). It never
/// waits, and the target is not told. Leaving an earlier peer for another is
/// `unix_dgram_disconnected`.
fn dgram_connect(kernel: &mut Kernel, pid: Pid, id: u32, path: Arc<str>, trace: &mut Trace) -> Exec {
    if path.is_empty() {
        // `AF_UNSPEC` ("1003.1g breaking connected state"): no peer from now on; leaving one drops what
        // was received, as leaving it for another does.
        let socket = kernel.socket_mut(id);
        let (old, old_alive) = (socket.peer, !socket.peer_dead);
        socket.peer = 0;
        socket.peer_dead = false;
        if old != 0 {
            if kernel.footprint.enabled {
                kernel.footprint.write(ObjectRef::socket(old));
            }
            peer_wake_disconnect_wakeup(kernel, id, old, pid, trace);
            dgram_disconnected(kernel, pid, id, old, old_alive, trace);
        }
        return Exec::Done(CallResult::Value { value: 0 });
    }
    autobind_for_creds(kernel, id);
    let target = match find_other(kernel, &path, SocketKind::Dgram) {
        Ok(target) => target,
        Err(errno) => return Kernel::error(errno),
    };
    if !may_send(kernel, id, target) {
        return Kernel::error(EPERM);
    }
    let socket = kernel.socket_mut(id);
    let (old, old_alive) = (socket.peer, !socket.peer_dead);
    socket.peer = target;
    socket.peer_dead = false;
    // Leaving a peer (even for the same one) takes the relay off it and wakes this socket's queue.
    if old != 0 {
        peer_wake_disconnect_wakeup(kernel, id, old, pid, trace);
    }
    if old != 0 && old != target {
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::socket(old));
        }
        dgram_disconnected(kernel, pid, id, old, old_alive, trace);
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// `unix_stream_connect`: the path must name a socket (`ENOENT`, `ECONNREFUSED` for another file or a
/// socket gone), of the same type (`EPROTOTYPE`), listening and not shut down (`ECONNREFUSED`); a full
/// queue puts the client to sleep (`unix_wait_for_peer`); then the client must be unconnected. The
/// server's end is made, both are connected, and it waits in the listener's queue.
fn connect(kernel: &mut Kernel, pid: Pid, id: u32, path: Arc<str>, nonblock: bool, trace: &mut Trace) -> Exec {
    let socket = kernel.socket_mut(id);
    let kind = socket.kind;
    if !kind.connected_type() {
        return dgram_connect(kernel, pid, id, path, trace);
    }
    // `unix_validate_addr`: a stream or seqpacket connect takes only an `AF_UNIX` address.
    if path.is_empty() {
        return Kernel::error(EINVAL);
    }
    autobind_for_creds(kernel, id);
    let listener = match find_other(kernel, &path, kind) {
        Ok(listener) => listener,
        Err(errno) => return Kernel::error(errno),
    };
    let target = kernel.socket(listener).expect("found alive");
    if !target.listening || target.shutdown & RCV_SHUTDOWN != 0 {
        return Kernel::error(ECONNREFUSED);
    }
    let full = target.pending.len() as u32 > target.backlog;
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(listener));
    }
    if full {
        if nonblock {
            return Kernel::error(EAGAIN);
        }
        kernel.socket_mut(listener).connect_wait.add(pid, true);
        return Exec::Block(BlockReason::SocketBacklog { socket: listener });
    }
    // The client's own state is looked at last, with the listener in hand: a connected client is
    // `EISCONN`, a listening one `EINVAL` (and either sleeps first while the queue is full).
    let client = kernel.socket_mut(id);
    if client.peer != 0 || client.peer_dead {
        return Kernel::error(EISCONN);
    }
    if client.listening {
        return Kernel::error(EINVAL);
    }
    let server = kernel.sockets.len() as u32 + 1;
    let mut end = Socket::new(server, kind, id);
    end.files = 0;
    // The server's end carries the client's credentials (`init_peercred(newsk)`), the client the
    // listener's (`copy_peercred`).
    end.peer_pid = pid;
    // The server's end takes the listener's `SO_PASSCRED` as it is now, at the connect
    // (`newsk->sk_scm_recv_flags = other->sk_scm_recv_flags`), not at the accept.
    end.passcred = kernel.socket_mut(listener).passcred;
    let listener_pid = kernel.socket_mut(listener).peer_pid;
    kernel.sockets.push(Some(end));
    kernel.socket_mut(id).peer = server;
    kernel.socket_mut(id).peer_pid = listener_pid;
    kernel.socket_mut(listener).pending.push_back(server);
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(server));
    }
    let object = ObjectRef::socket(listener);
    wake_socket(kernel, listener, SocketQueue::Read, Wake::One, pid, WakeCause::Partner { object }, trace);
    Exec::Done(CallResult::Value { value: 0 })
}

/// `unix_accept`: the oldest waiting connection's server end, on a new descriptor; an empty queue is
/// `EAGAIN` or a sleep (`skb_recv_datagram`, exclusive). Taking one makes room: one waiting client
/// wakes (`wake_up_interruptible(&u->peer_wait)`).
fn accept(kernel: &mut Kernel, pid: Pid, id: u32, nonblock: bool, trace: &mut Trace) -> Exec {
    let socket = kernel.socket_mut(id);
    if !socket.kind.connected_type() {
        return Kernel::error(EOPNOTSUPP);
    }
    if !socket.listening {
        return Kernel::error(EINVAL);
    }
    // The connections already waiting are taken even after a `shutdown` (`skb_recv_datagram` looks
    // at the queue first); only one that would sleep on an empty queue finds the shutdown
    // (`__skb_wait_for_more_packets`) and gets `EINVAL`. A non-blocking one never sleeps: `EAGAIN`.
    let Some(server) = socket.pending.pop_front() else {
        if nonblock {
            return Kernel::error(EAGAIN);
        }
        if socket.shutdown & RCV_SHUTDOWN != 0 {
            return Kernel::error(EINVAL);
        }
        socket.read_wait.add(pid, true);
        return Exec::Block(BlockReason::SocketAccept { socket: id });
    };
    // No longer a connection waiting (`!other->sk_socket`): what comes now carries credentials only
    // if asked.
    kernel.socket_mut(server).files = 1;
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(server));
    }
    let fd = install_socket(kernel, pid, server, false, false).expect("a free descriptor was found above");
    let object = ObjectRef::socket(id);
    wake_socket(kernel, id, SocketQueue::Connect, Wake::One, pid, WakeCause::Room { object }, trace);
    Exec::Done(CallResult::Value { value: fd })
}

/// `send` (`flags`) or `write` (no flags) of `payload` on socket `id`, one attempt.
pub(crate) fn send(kernel: &mut Kernel, pid: Pid, id: u32, payload: &Payload, flags: i64, trace: &mut Trace) -> Exec {
    send_to(kernel, pid, id, payload, flags, None, &[], trace)
}

/// `sendto` with the destination `to` (`send` without one). A stream socket refuses an address
/// (`unix_stream_sendmsg`: `EISCONN` when connected, else `EOPNOTSUPP`); a seqpacket socket ignores it
/// (`unix_seqpacket_sendmsg`).
/// `rights` go with the message (`sendmsg`'s `SCM_RIGHTS`).
#[allow(clippy::too_many_arguments)]
fn send_to(
    kernel: &mut Kernel,
    pid: Pid,
    id: u32,
    payload: &Payload,
    flags: i64,
    to: Option<Arc<str>>,
    rights: &[(i64, u32)],
    trace: &mut Trace,
) -> Exec {
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    let control = !rights.is_empty() || kernel.sending_creds.is_some();
    let socket = kernel.socket_mut(id);
    if socket.inet.is_some() {
        // TCP and UDP take no control messages from a program here (`sock_cmsg_send` has no
        // `SCM_RIGHTS`), and a connected TCP socket ignores a `sendto`'s address.
        if control {
            let detail =
                "control messages (SCM_RIGHTS, SCM_CREDENTIALS) on an AF_INET socket are not modelled".to_string();
            return kernel.halt("not_modelled", detail);
        }
        if socket.kind == SocketKind::Dgram {
            return super::udp::send(kernel, pid, id, payload, to, trace);
        }
        return super::tcp::send(kernel, pid, id, payload, flags, trace);
    }
    if let Some(to) = &to {
        if crate::linux::socket::parse_inet(to).is_some() && socket.kind == SocketKind::Dgram {
            // `unix_validate_addr`, before anything else of a datagram send (a seqpacket socket has
            // dropped the address before: `unix_seqpacket_sendmsg` zeroes `msg_namelen`).
            return Kernel::error(EINVAL);
        }
    }
    match socket.kind {
        SocketKind::Stream if to.is_some() => {
            Kernel::error(if socket.peer != 0 || socket.peer_dead { EISCONN } else { EOPNOTSUPP })
        }
        SocketKind::Stream => stream_send(kernel, pid, id, payload, flags, rights, trace),
        SocketKind::Seqpacket => dgram_send(kernel, pid, id, payload, flags, None, rights, trace),
        SocketKind::Dgram => dgram_send(kernel, pid, id, payload, flags, to, rights, trace),
    }
}

/// Puts a UDP datagram from socket `from` (named by `sender_name`, its port) on `target`'s receive
/// queue, charged to nobody (on the loopback the sender's buffer is given back within its send,
/// `skb_orphan` in `loopback_xmit`), and wakes one reader (`__skb_wait_for_more_packets` sleeps
/// exclusively).
pub(crate) fn deliver_datagram(
    kernel: &mut Kernel,
    pid: Pid,
    from: u32,
    target: u32,
    payload: &Payload,
    sender_name: u32,
    trace: &mut Trace,
) {
    let bytes = payload.len();
    let mut data = Vec::with_capacity(bytes as usize);
    payload.copy_to(0, bytes, &mut data);
    let socket = kernel.socket_mut(target);
    socket.queue.push_back(Entry {
        data,
        consumed: 0,
        from,
        sender_name,
        truesize: 0,
        creds: None,
        rights: Vec::new(),
    });
    socket.queued += bytes;
    socket.bytes_in += bytes as u64;
    let (used_bytes, capacity_bytes) = (socket.queued, socket.rcvbuf);
    kernel.count_copy(Copier::Sockets, CopyDirection::UserToKernel, bytes as u64);
    let object = ObjectRef::socket(target);
    trace.record_copy(
        kernel.step as u32,
        Copied { pid, direction: CopyDirection::UserToKernel, bytes, object, used_bytes, capacity_bytes },
    );
    wake_socket(kernel, target, SocketQueue::Read, Wake::One, pid, WakeCause::Data { object }, trace);
}

/// Puts a TCP send's bytes on `target`'s receive queue as one entry, charged to nobody (the model
/// lets a connection hold at most [`super::tcp::TCP_UNREAD_MODELLED`] bytes unread, below which a
/// loopback sender never waits), and wakes the readers.
pub(crate) fn deliver_stream(
    kernel: &mut Kernel,
    pid: Pid,
    from: u32,
    target: u32,
    payload: &Payload,
    trace: &mut Trace,
) {
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(target));
    }
    deliver_datagram(kernel, pid, from, target, payload, 0, trace);
}

/// An error for socket `id` (`sk_error_report`): its epoll items hear `EPOLLERR`, and every sleeper on
/// it wakes to look again.
pub(crate) fn error_reported(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    let object = ObjectRef::socket(id);
    kernel.epoll_callback(Queue::SocketRead(id), crate::linux::poll::POLLERR, by, WakeCause::Hangup { object }, trace);
    let socket = kernel.socket_mut(id);
    let mut woken = Vec::new();
    socket.read_wait.wake(Wake::All, &mut woken);
    socket.write_wait.wake(Wake::All, &mut woken);
    for pid in woken {
        kernel.wake(pid, by, WakeCause::Hangup { object }, trace);
    }
}

/// A connection arrived at listener `listener`: one process asleep in `accept` wakes.
pub(crate) fn partner_arrived(kernel: &mut Kernel, listener: u32, by: Pid, trace: &mut Trace) {
    let object = ObjectRef::socket(listener);
    wake_socket(kernel, listener, SocketQueue::Read, Wake::One, by, WakeCause::Partner { object }, trace);
}

/// `sk_state_change` of socket `id`.
pub(crate) fn state_changed(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    state_change(kernel, id, by, trace);
}

/// The `SIGPIPE` of a send to a peer that is gone, unless `MSG_NOSIGNAL` (`unix_stream_sendmsg`).
fn broken_pipe(kernel: &mut Kernel, pid: Pid, flags: i64) -> Exec {
    if flags & MSG_NOSIGNAL == 0 {
        kernel.defer_signal(super::signal::Sent::no_reader(pid));
    }
    Kernel::error(EPIPE)
}

/// Puts `bytes` bytes of `payload` from `from` on `peer`'s receive queue as one entry, charged to the
/// sender, and wakes the peer's readers (`sk_data_ready`: a stream's readers all, as
/// `unix_stream_data_wait` sleeps without `WQ_FLAG_EXCLUSIVE`; of datagram readers the first, as
/// `__skb_wait_for_more_packets` sleeps exclusively).
#[allow(clippy::too_many_arguments)]
fn enqueue(
    kernel: &mut Kernel,
    pid: Pid,
    from: u32,
    peer: u32,
    payload: &Payload,
    offset: u32,
    (linear, paged): (u32, u32),
    rights: &[(i64, u32)],
    trace: &mut Trace,
) {
    let bytes = linear + paged;
    let charge = truesize(linear, paged);
    let mut data = Vec::with_capacity(bytes as usize);
    payload.copy_to(offset, bytes, &mut data);
    kernel.socket_mut(from).unread_sent += charge;
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(peer));
    }
    let sender_name = kernel.socket_mut(from).name;
    let sender_passes = kernel.socket_mut(from).passcred;
    let explicit = kernel.sending_creds;
    let target = kernel.socket_mut(peer);
    // Credentials the sender sent (`SCM_CREDENTIALS`), or else `unix_maybe_add_creds`: either side
    // asked for them, or the receiver is a connection not yet accepted (`!other->sk_socket`), whose
    // acceptor may ask before it reads.
    let creds = explicit.or((sender_passes || target.passcred || target.files == 0).then_some(pid));
    target.queue.push_back(Entry { data, consumed: 0, from, sender_name, truesize: charge, creds, rights: Vec::new() });
    target.queued += bytes;
    target.bytes_in += bytes as u64;
    let used_bytes = target.queued;
    let capacity_bytes = kernel.socket_mut(from).sndbuf;
    kernel.count_copy(Copier::Sockets, CopyDirection::UserToKernel, bytes as u64);
    let object = ObjectRef::socket(peer);
    trace.record_copy(
        kernel.step as u32,
        Copied { pid, direction: CopyDirection::UserToKernel, bytes, object, used_bytes, capacity_bytes },
    );
    attach_rights(kernel, pid, peer, rights, trace);
    wake_socket(kernel, peer, SocketQueue::Read, Wake::One, pid, WakeCause::Data { object }, trace);
}

/// `scm_fp_copy` (`net/core/scm.c`, from `__scm_send`): the descriptors of a `sendmsg`'s
/// `SCM_RIGHTS`, each looked up in the sender's table before anything is sent: more than
/// `SCM_MAX_FD` is `EINVAL`, one that is not open `EBADF`. Returns each descriptor with its open file
/// (references are taken when the message is queued, [`attach_rights`]).
fn rights_of(kernel: &mut Kernel, pid: Pid, packed: i64) -> Result<Vec<(i64, u32)>, Errno> {
    let fds = crate::linux::socket::unpack_rights(packed);
    if fds.len() as i64 > SCM_MAX_FD {
        return Err(EINVAL);
    }
    let mut rights = Vec::with_capacity(fds.len());
    for fd in fds {
        let Some(file) = kernel.file_used(pid, fd) else { return Err(EBADF) };
        rights.push((fd, file));
    }
    Ok(rights)
}

/// An open file's access, as [`EventKind::Rights`] carries it: 1 read, 2 write, 3 both.
fn access_of(kernel: &Kernel, file: u32) -> u8 {
    let file = kernel.file(file);
    file.readable as u8 | (file.writable as u8) << 1
}

pub(super) fn record_rights(
    kernel: &Kernel,
    trace: &mut Trace,
    pid: Pid,
    socket: u32,
    fd: i64,
    file: u32,
    moved: RightsMove,
) {
    let kind = EventKind::Rights {
        pid,
        socket,
        fd: fd as i32,
        object: kernel.file(file).object.object_ref(),
        access: access_of(kernel, file),
        moved,
    };
    trace.record(Event { step: kernel.step as u32, kind });
}

/// `unix_attach_fds` (`net/unix/af_unix.c`, from `unix_scm_to_skb`): the newest entry of `peer`'s
/// queue takes a reference to each open file (`get_file`), held while it is in flight.
fn attach_rights(kernel: &mut Kernel, pid: Pid, peer: u32, rights: &[(i64, u32)], trace: &mut Trace) {
    for &(fd, file) in rights {
        kernel.file_mut(file).refs += 1;
        record_rights(kernel, trace, pid, peer, fd, file, RightsMove::Sent);
    }
    if !rights.is_empty() {
        let entry = kernel.socket_mut(peer).queue.back_mut().expect("just queued");
        entry.rights = rights.iter().map(|&(_, file)| file).collect();
    }
}

/// The open files of messages that will never be received (`skb_queue_purge` of a closed socket's
/// queue, each buffer's destructor `unix_destruct_scm` calling `fput`): each reference is dropped,
/// which closes the file if it was the last.
fn drop_unread(kernel: &mut Kernel, by: Pid, socket: u32, rights: Vec<u32>, trace: &mut Trace) {
    for file in rights {
        record_rights(kernel, trace, by, socket, -1, file, RightsMove::Unread);
        kernel.release_file(file, by, trace);
    }
}

/// `scm_detach_fds` (`net/core/scm.c`, from `scm_recv_unix`): the open files a receive took out of
/// its message become descriptors of `pid`, each the lowest free one (`get_unused_fd_flags`,
/// `O_CLOEXEC` for `MSG_CMSG_CLOEXEC`), at most `room` of them (what the control buffer holds); a full
/// table stops it (`EMFILE` is not reported). The files left over are closed and the message's flags
/// get `MSG_CTRUNC`. Returns the first new descriptor (-1 for none), how many, and whether any was
/// left over. A receive without a control buffer (`read`, `recv`) has room for none.
fn install_rights(
    kernel: &mut Kernel,
    pid: Pid,
    socket: u32,
    room: i64,
    cloexec: bool,
    trace: &mut Trace,
) -> (i64, u16, bool) {
    let files = std::mem::take(&mut kernel.received_rights);
    let mut first = -1;
    let mut installed = 0usize;
    for &file in &files {
        if installed as i64 >= room {
            break;
        }
        let Some(fd) = kernel.lowest_free_fd(pid, 0) else { break };
        kernel.install_fd(pid, fd, file, cloexec);
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::file(file));
        }
        if first < 0 {
            first = fd;
        }
        installed += 1;
        record_rights(kernel, trace, pid, socket, fd, file, RightsMove::Received);
    }
    for &file in &files[installed..] {
        record_rights(kernel, trace, pid, socket, -1, file, RightsMove::Truncated);
        kernel.release_file(file, pid, trace);
    }
    (first, installed as u16, installed < files.len())
}

/// `unix_stream_sendmsg`: the bytes go in entries of at most `sndbuf / 2 - 64` and 36544 bytes; each needs the
/// sender's charge below its send buffer (`sock_alloc_send_pskb`), else the sender sleeps (or stops
/// with what it sent, or `EAGAIN`). Descriptors go with the first entry of the send only (`fds_sent`
/// in `unix_stream_sendmsg`), so a send of no bytes sends none.
fn stream_send(
    kernel: &mut Kernel,
    pid: Pid,
    id: u32,
    payload: &Payload,
    flags: i64,
    rights: &[(i64, u32)],
    trace: &mut Trace,
) -> Exec {
    let total = payload.len();
    let mut sent = match kernel.process(pid).call.scratch {
        Scratch::Written(written) => written,
        _ => 0,
    };
    let socket = kernel.socket_mut(id);
    let peer = socket.peer;
    if peer == 0 {
        return Kernel::error(ENOTCONN);
    }
    // The first check, before any entry is made: a direction shut, or a peer gone, is `EPIPE` and
    // `SIGPIPE`.
    if sent == 0 && socket.shutdown & SEND_SHUTDOWN != 0 {
        return broken_pipe(kernel, pid, flags);
    }
    if total == 0 {
        return Exec::Done(CallResult::Value { value: 0 });
    }
    if kernel.bytes_in_flight + kernel.socket_bytes() + (total - sent) as u64 > kernel.limits.max_bytes_in_flight {
        let detail = format!(
            "this send would hold more than {} bytes in kernel buffers at once",
            kernel.limits.max_bytes_in_flight
        );
        return kernel.halt("max_bytes_in_flight", detail);
    }
    let nonblock = flags & MSG_DONTWAIT != 0;
    let result = loop {
        if sent == total {
            break Exec::Done(CallResult::Value { value: total as i64 });
        }
        let socket = kernel.socket_mut(id);
        let chunk = (total - sent).min((socket.sndbuf >> 1) - 64).min(STREAM_HEAD_MAX + STREAM_FRAGS_MAX);
        // `sock_alloc_send_pskb`: a pending error, then a shut direction, then room.
        if let Some(errno) = socket.error.take() {
            break if sent > 0 { Exec::Done(CallResult::Value { value: sent as i64 }) } else { Kernel::error(errno) };
        }
        if socket.shutdown & SEND_SHUTDOWN != 0 {
            break if sent > 0 { Exec::Done(CallResult::Value { value: sent as i64 }) } else { Kernel::error(EPIPE) };
        }
        if socket.unread_sent >= socket.sndbuf {
            if nonblock {
                break if sent > 0 {
                    Exec::Done(CallResult::Value { value: sent as i64 })
                } else {
                    Kernel::error(EAGAIN)
                };
            }
            socket.write_wait.add(pid, false);
            break Exec::Block(BlockReason::SocketFull { socket: id, written: sent });
        }
        // The peer, checked with the entry in hand: closed or shut for reading is `EPIPE`, with
        // `SIGPIPE` only if nothing was sent yet.
        let target = kernel.socket_mut(peer);
        if target.shutdown & RCV_SHUTDOWN != 0 {
            if sent > 0 {
                break Exec::Done(CallResult::Value { value: sent as i64 });
            }
            break broken_pipe(kernel, pid, flags);
        }
        let carried = if sent == 0 { rights } else { &[] };
        enqueue(kernel, pid, id, peer, payload, sent, stream_shape(chunk), carried, trace);
        sent += chunk;
    };
    kernel.proc_mut(pid).call.scratch = Scratch::Written(sent);
    result
}

/// `unix_dgram_sendmsg` (and `unix_seqpacket_sendmsg`): one message, whole or not at all, to `to` or
/// else to the peer (`ENOTCONN` for none). The size and the sender's own buffer come first
/// (`sock_alloc_send_pskb`), the destination after: looked up by path (`unix_find_other`), willing to
/// take it (`unix_may_send`: `EPERM`), alive (a connected peer that closed: `ECONNREFUSED` and the
/// socket disconnects, `unix_dgram_disconnected`), not shut for reading (`EPIPE`), and with room in its
/// queue unless it is connected back to the sender (`unix_recvq_full`: sleep on its `peer_wait`, or
/// `EAGAIN`).
#[allow(clippy::too_many_arguments)]
fn dgram_send(
    kernel: &mut Kernel,
    pid: Pid,
    id: u32,
    payload: &Payload,
    flags: i64,
    to: Option<Arc<str>>,
    rights: &[(i64, u32)],
    trace: &mut Trace,
) -> Exec {
    let len = payload.len();
    let socket = kernel.socket_mut(id);
    let kind = socket.kind;
    // `unix_seqpacket_sendmsg` refuses an unconnected socket before anything else.
    if kind == SocketKind::Seqpacket && socket.peer == 0 {
        return Kernel::error(ENOTCONN);
    }
    autobind_for_creds(kernel, id);
    let socket = kernel.socket_mut(id);
    if len > socket.sndbuf - 32 {
        return Kernel::error(EMSGSIZE);
    }
    if kernel.bytes_in_flight + kernel.socket_bytes() + len as u64 > kernel.limits.max_bytes_in_flight {
        let detail = format!(
            "this send would hold more than {} bytes in kernel buffers at once",
            kernel.limits.max_bytes_in_flight
        );
        return kernel.halt("max_bytes_in_flight", detail);
    }
    let socket = kernel.socket_mut(id);
    // `sock_alloc_send_pskb`: a pending error, a shut direction, then room in the send buffer.
    if let Some(errno) = socket.error.take() {
        return Kernel::error(errno);
    }
    if socket.shutdown & SEND_SHUTDOWN != 0 {
        return Kernel::error(EPIPE);
    }
    let nonblock = flags & MSG_DONTWAIT != 0;
    if socket.unread_sent >= socket.sndbuf {
        if nonblock {
            return Kernel::error(EAGAIN);
        }
        socket.write_wait.add(pid, false);
        return Exec::Block(BlockReason::SocketFull { socket: id, written: 0 });
    }
    // `unix_dgram_sendmsg` looks for the peer only once the buffer is allocated: a pending error
    // (`ECONNRESET` from a peer that left with datagrams unread) comes before `ENOTCONN`.
    if to.is_none() && socket.peer == 0 {
        return Kernel::error(ENOTCONN);
    }
    let target = match &to {
        Some(path) => match find_other(kernel, path, kind) {
            Ok(target) => target,
            Err(errno) => return Kernel::error(errno),
        },
        None => {
            if socket.peer_dead {
                if kind == SocketKind::Seqpacket {
                    return Kernel::error(EPIPE);
                }
                // A datagram socket whose peer was closed disconnects at this send and loses what it
                // had received (`unix_dgram_disconnected`): `ECONNREFUSED`, then `ENOTCONN` from now on.
                let old = socket.peer;
                socket.peer = 0;
                socket.peer_dead = false;
                peer_wake_disconnect_wakeup(kernel, id, old, pid, trace);
                dgram_disconnected(kernel, pid, id, old, false, trace);
                return Kernel::error(ECONNREFUSED);
            }
            socket.peer
        }
    };
    // The receiver's state decides from here on, whether the datagram goes or not.
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(target));
    }
    if !may_send(kernel, id, target) {
        return Kernel::error(EPERM);
    }
    let receiver = kernel.socket_mut(target);
    if receiver.shutdown & RCV_SHUTDOWN != 0 {
        return Kernel::error(EPIPE);
    }
    if receiver.peer != id && receiver_full(receiver) {
        if nonblock {
            // To its own peer, the relay goes on the receiver's `peer_wait` (`unix_dgram_peer_wake_me`).
            if kernel.socket(id).is_some_and(|socket| socket.peer == target && !socket.peer_dead) {
                peer_wake_me(kernel, id, target);
            }
            return Kernel::error(EAGAIN);
        }
        let receiver = kernel.socket_mut(target);
        receiver.connect_wait.add(pid, true);
        return Exec::Block(BlockReason::SocketReceiverFull { socket: target });
    }
    enqueue(kernel, pid, id, target, payload, 0, dgram_shape(len), rights, trace);
    Exec::Done(CallResult::Value { value: len as i64 })
}

/// Whether a datagram receiver takes no more from senders it is not connected to
/// (`unix_recvq_full_lockless`: more than `max_dgram_qlen` datagrams queued).
pub(crate) fn receiver_full(receiver: &Socket) -> bool {
    receiver.queue.len() > MAX_DGRAM_QLEN
}

/// `recv` (`flags`) or `read` (no flags) of at most `count` bytes from socket `id`, one attempt. A
/// receive without a control buffer has no room for the descriptors of the message it reads: they
/// are closed (`scm_recv_unix`, `MSG_CTRUNC` where nobody sees it).
pub(crate) fn recv(kernel: &mut Kernel, pid: Pid, id: u32, count: u32, flags: i64, trace: &mut Trace) -> Exec {
    let result = receive(kernel, pid, id, count, flags, trace);
    if !kernel.received_rights.is_empty() {
        install_rights(kernel, pid, id, 0, false, trace);
    }
    result
}

/// The references a peek took: each open file a peeked message holds gets one more (`scm_fp_dup`).
fn take_copies(kernel: &mut Kernel) {
    for at in 0..kernel.received_rights.len() {
        let file = kernel.received_rights[at];
        kernel.file_mut(file).refs += 1;
    }
}

/// One attempt at a receive, the descriptors it took left in `Kernel::received_rights`.
fn receive(kernel: &mut Kernel, pid: Pid, id: u32, count: u32, flags: i64, trace: &mut Trace) -> Exec {
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    kernel.read_scratch.clear();
    let socket = kernel.socket_mut(id);
    if socket.inet.is_some() && socket.kind == SocketKind::Stream && socket.queue.is_empty() {
        if let Some(ended) = super::tcp::recv_nothing_queued(kernel, id, trace) {
            return ended;
        }
    }
    let result = match kernel.socket_mut(id).kind {
        SocketKind::Stream => stream_recv(kernel, pid, id, count, flags, trace),
        SocketKind::Dgram | SocketKind::Seqpacket => dgram_recv(kernel, pid, id, count, flags, trace),
    };
    if flags & MSG_PEEK != 0 {
        take_copies(kernel);
    }
    result
}

/// A reader consumed entries socket `sender` sent, charged `bytes` (whole entries only; a stream entry
/// read in part stays charged): the sender's charge drops, and its waiting senders wake once it is writable
/// (`unix_write_space` from the entry's destructor, `sock_wfree`).
pub(super) fn uncharge(kernel: &mut Kernel, pid: Pid, sender: u32, bytes: u32, trace: &mut Trace) {
    // The sender's charge is its own state, which its next send reads: the reader writes it.
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(sender));
    }
    let Some(socket) = kernel.sockets.get_mut(sender as usize - 1).and_then(Option::as_mut) else { return };
    socket.unread_sent -= bytes;
    // `unix_write_space` wakes whoever waits on the socket once it is writable: its sleepers, and the
    // epoll items on it (`skwq_has_sleeper` counts them too).
    let watched = !socket.write_wait.is_empty();
    if socket.writable() && (watched || !kernel.epolls.is_empty()) {
        let object = ObjectRef::socket(sender);
        wake_socket(kernel, sender, SocketQueue::Write, Wake::All, pid, WakeCause::Room { object }, trace);
    }
}

/// Records what a receive moved to user space.
fn record_read(kernel: &mut Kernel, pid: Pid, id: u32, got: u32, trace: &mut Trace) {
    let socket = kernel.socket_mut(id);
    let (used_bytes, capacity_bytes) = (socket.queued, socket.sndbuf);
    kernel.count_copy(Copier::Sockets, CopyDirection::KernelToUser, got as u64);
    let object = ObjectRef::socket(id);
    trace.record_copy(
        kernel.step as u32,
        Copied { pid, direction: CopyDirection::KernelToUser, bytes: got, object, used_bytes, capacity_bytes },
    );
}

/// `unix_stream_read_generic`: bytes across entries up to `count`; an empty queue ends the call once
/// something was read, else it is a pending error, end of file after `RCV_SHUTDOWN`, `EAGAIN`, or sleep.
/// `MSG_PEEK` reads on past the first entry without consuming any.
fn stream_recv(kernel: &mut Kernel, pid: Pid, id: u32, count: u32, flags: i64, trace: &mut Trace) -> Exec {
    let peek = flags & MSG_PEEK != 0;
    let socket = kernel.sockets[id as usize - 1].as_mut().expect("a live file points at a freed socket");
    // Only a connected socket reads (`sk_state != TCP_ESTABLISHED`: `EINVAL`).
    if socket.peer == 0 && !socket.peer_dead {
        return Kernel::error(EINVAL);
    }
    let peer = socket.peer;
    let mut copied = 0u32;
    let mut freed = 0u32;
    let mut index = 0usize;
    let scratch = &mut kernel.read_scratch;
    let passed = &mut kernel.received_rights;
    // A reader with `SO_PASSCRED` never glues bytes of different senders' credentials into one read
    // (`unix_stream_read_generic`: the first buffer's credentials, then `unix_skb_scm_eq`).
    let check_creds = socket.passcred;
    let first_creds = socket.queue.front().map(|entry| entry.creds);
    while let Some(entry) = socket.queue.get(index) {
        if check_creds && copied > 0 && Some(entry.creds) != first_creds {
            break;
        }
        let take = entry.left().min(count - copied);
        scratch.extend_from_slice(&entry.data[entry.consumed as usize..(entry.consumed + take) as usize]);
        copied += take;
        if peek {
            index += 1;
            // A peek at an entry with descriptors gets copies of them (`unix_peek_fds`), and stops there.
            if !entry.rights.is_empty() {
                passed.extend_from_slice(&entry.rights);
                break;
            }
        } else {
            let entry = socket.queue.get_mut(index).expect("just read");
            entry.consumed += take;
            socket.queued -= take;
            socket.bytes_out += take as u64;
            // `unix_detach_fds` as soon as the entry is read from, even in part; a receive that took
            // descriptors stops after their entry (`if (scm.fp) break` in `unix_stream_read_generic`),
            // so two messages' descriptors never arrive together.
            passed.append(&mut entry.rights);
            if entry.left() == 0 {
                freed += entry.truesize;
                socket.queue.pop_front();
                if !passed.is_empty() {
                    break;
                }
            } else {
                break;
            }
        }
        if copied == count {
            break;
        }
    }

    // A `recv` of 0 bytes on a queue holding something returns 0 at once; on an empty queue it waits
    // like any other (the loop of `unix_stream_read_generic` runs once before it looks at the size).
    if copied == 0 && socket.queue.is_empty() {
        if let Some(errno) = socket.error.take() {
            return Kernel::error(errno);
        }
        if socket.shutdown & RCV_SHUTDOWN != 0 {
            return Exec::Done(trace.record_data(&[]));
        }
        if flags & MSG_DONTWAIT != 0 {
            return Kernel::error(EAGAIN);
        }
        socket.read_wait.add(pid, false);
        return Exec::Block(BlockReason::SocketEmpty { socket: id });
    }
    // TCP's `MSG_TRUNC` takes the bytes without copying them (`tcp_recvmsg_locked` skips
    // `skb_copy_datagram_msg`): the result is their count, and the buffer is left as it was.
    let discard = flags & MSG_TRUNC != 0 && kernel.socket(id).is_some_and(|socket| socket.inet.is_some());
    let data = if discard {
        CallResult::Value { value: copied as i64 }
    } else {
        if copied > 0 {
            record_read(kernel, pid, id, copied, trace);
        }
        trace.record_data(&kernel.read_scratch)
    };
    if freed > 0 && peer != 0 {
        uncharge(kernel, pid, peer, freed, trace);
    }
    Exec::Done(data)
}

/// `unix_dgram_recvmsg` over `__skb_recv_datagram`: a pending error first, then one whole entry (cut to
/// `count`; `MSG_TRUNC` returns its real length); an empty queue is end of file after `RCV_SHUTDOWN`
/// when the call would sleep, `EAGAIN` when it may not (a seqpacket socket says end of file then too).
fn dgram_recv(kernel: &mut Kernel, pid: Pid, id: u32, count: u32, flags: i64, trace: &mut Trace) -> Exec {
    let peek = flags & MSG_PEEK != 0;
    let socket = kernel.sockets[id as usize - 1].as_mut().expect("a live file points at a freed socket");
    // `unix_seqpacket_recvmsg`: only a connected seqpacket socket receives.
    if socket.kind == SocketKind::Seqpacket && socket.peer == 0 && !socket.peer_dead {
        return Kernel::error(ENOTCONN);
    }
    if let Some(errno) = socket.error.take() {
        return Kernel::error(errno);
    }
    let Some(entry) = socket.queue.front() else {
        let nonblock = flags & MSG_DONTWAIT != 0;
        let shut = socket.shutdown & RCV_SHUTDOWN != 0;
        if shut && (!nonblock || socket.kind == SocketKind::Seqpacket) {
            return Exec::Done(trace.record_data(&[]));
        }
        if nonblock {
            return Kernel::error(EAGAIN);
        }
        socket.read_wait.add(pid, true);
        return Exec::Block(BlockReason::SocketEmpty { socket: id });
    };
    let len = entry.data.len() as u32;
    let (charge, from) = (entry.truesize, entry.from);
    let take = len.min(count);
    kernel.read_scratch.extend_from_slice(&entry.data[..take as usize]);
    if !peek {
        let mut entry = socket.queue.pop_front().expect("looked at above");
        socket.queued -= len;
        socket.bytes_out += len as u64;
        kernel.received_rights.append(&mut entry.rights);
    } else if !entry.rights.is_empty() {
        // `unix_peek_fds`: a peek gets copies of the descriptors, which stay in the message too.
        kernel.received_rights.extend_from_slice(&entry.rights);
    }
    if take > 0 {
        record_read(kernel, pid, id, take, trace);
    }
    let result = if flags & MSG_TRUNC != 0 && take < len {
        // The real length, which the bytes cannot show: the result is the number alone.
        CallResult::Value { value: len as i64 }
    } else {
        trace.record_data(&kernel.read_scratch)
    };
    if !peek {
        uncharge(kernel, pid, from, charge, trace);
    }
    // A datagram found (taken or only peeked at) wakes one sender waiting for room
    // (`__unix_dgram_recvmsg` wakes `peer_wait`, where `unix_wait_for_peer` sleeps exclusively), after
    // every relay there.
    let object = ObjectRef::socket(id);
    wake_socket(kernel, id, SocketQueue::Connect, Wake::One, pid, WakeCause::Room { object }, trace);
    Exec::Done(result)
}

/// `unix_shutdown`: this end's directions; for a stream or seqpacket socket the peer's opposite ones
/// too (a `SHUT_WR` here is end of file there). Both ends' sleepers wake to look again.
fn shutdown(kernel: &mut Kernel, pid: Pid, id: u32, how: i64, trace: &mut Trace) -> Exec {
    let socket = kernel.socket_mut(id);
    if socket.inet.is_some() {
        if socket.kind == SocketKind::Dgram {
            return super::udp::shutdown(kernel, pid, id, how, trace);
        }
        return super::tcp::shutdown(kernel, pid, id, how, trace);
    }
    if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
        return Kernel::error(EINVAL);
    }
    let mode = (how + 1) as u8;
    let socket = kernel.socket_mut(id);
    socket.shutdown |= mode;
    let (peer, kind, peer_dead) = (socket.peer, socket.kind, socket.peer_dead);
    state_change(kernel, id, pid, trace);
    if peer != 0 && !peer_dead && kind.connected_type() {
        let mut peer_mode = 0;
        if mode & RCV_SHUTDOWN != 0 {
            peer_mode |= SEND_SHUTDOWN;
        }
        if mode & SEND_SHUTDOWN != 0 {
            peer_mode |= RCV_SHUTDOWN;
        }
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::socket(peer));
        }
        kernel.socket_mut(peer).shutdown |= peer_mode;
        state_change(kernel, peer, pid, trace);
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// The last open file on socket `id` closed (`unix_release_sock`): a listener's waiting connections are
/// dropped; a socket's queue is dropped (what each entry charged to its sender is released), a
/// connection-based peer can neither send nor receive any more (`SHUTDOWN_MASK`) and gets
/// `ECONNRESET` if this end left data unread, and every sleeper of the peer wakes. A datagram socket
/// connected to it only learns of it at its next send.
pub(crate) fn release(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    if kernel.socket_mut(id).inet.is_some() {
        kernel.socket_mut(id).files = 0;
        // A UDP socket just goes (`udp_lib_close`, `sk_common_release`): no connection to end.
        let udp = kernel.socket_mut(id).kind == SocketKind::Dgram;
        if udp {
            super::tcp::touch_ports(kernel);
        }
        if udp || !super::tcp::close(kernel, id, by, trace) {
            release_now(kernel, id, by, trace);
        }
        return;
    }
    let socket = kernel.sockets[id as usize - 1].take().expect("a live file points at a freed socket");
    // An abstract name is free again from here (`unix_release_sock` takes the socket out of the table).
    if kernel.footprint.enabled && socket.path.as_deref().is_some_and(is_abstract) && !socket.autobound {
        kernel.footprint.write(ObjectRef::path(socket.name - 1));
    }
    if socket.listening {
        // The connections nobody accepted go with it, each as a server end closed before it was
        // accepted: its client sees `ECONNRESET` (`unix_release_sock` with `embrion`); the clients
        // waiting for room wake to find nobody listening.
        let mut unread = Vec::new();
        for server in &socket.pending {
            let server_end = kernel.sockets[*server as usize - 1].take().expect("a pending end is live");
            unread.push((*server, server_end.queue.iter().flat_map(|entry| entry.rights.clone()).collect::<Vec<_>>()));
            let client = server_end.peer;
            if let Some(Some(client_end)) = kernel.sockets.get_mut(client as usize - 1) {
                client_end.peer_dead = true;
                client_end.shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
                client_end.error = Some(ECONNRESET);
                let charged: u32 = server_end.queue.iter().map(|entry| entry.truesize).sum();
                if charged > 0 {
                    uncharge(kernel, by, client, charged, trace);
                }
                state_change(kernel, client, by, trace);
            }
        }
        let object = ObjectRef::socket(id);
        let mut woken = Vec::new();
        let mut waiting = socket.connect_wait.clone();
        waiting.wake(Wake::All, &mut woken);
        for pid in woken {
            kernel.wake(pid, by, WakeCause::Hangup { object }, trace);
        }
        for (server, rights) in unread {
            drop_unread(kernel, by, server, rights, trace);
        }
        return;
    }
    // Senders waiting for room in its queue wake to find it gone (`wake_up_interruptible_all` of its
    // `peer_wait`), the relays there first, with no key.
    relay_peer_wake(kernel, id, by, WakeCause::Hangup { object: ObjectRef::socket(id) }, trace);
    if !socket.connect_wait.is_empty() {
        let object = ObjectRef::socket(id);
        let mut woken = Vec::new();
        let mut waiting = socket.connect_wait.clone();
        waiting.wake(Wake::All, &mut woken);
        for pid in woken {
            kernel.wake(pid, by, WakeCause::Hangup { object }, trace);
        }
    }
    // Its queue is dropped: each entry was charged to its sender, which may now send again.
    let unread = !socket.queue.is_empty();
    for entry in &socket.queue {
        uncharge(kernel, by, entry.from, entry.truesize, trace);
    }
    // The sockets that name it as their peer: its own peer, and any datagram socket connected to it.
    let named_by: Vec<u32> = kernel
        .sockets
        .iter()
        .flatten()
        .filter(|other| other.peer == id && !other.peer_dead)
        .map(|other| other.id)
        .collect();
    for peer in named_by {
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::socket(peer));
        }
        let survivor = kernel.socket_mut(peer);
        // What this socket sent and the peer has not read stays readable there.
        survivor.peer_dead = true;
        if socket.kind.connected_type() {
            survivor.shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
            if unread {
                survivor.error = Some(ECONNRESET);
            }
            state_change(kernel, peer, by, trace);
        }
    }
    // Last, the descriptors of the messages nobody received: closing them may close other sockets.
    let rights: Vec<u32> = socket.queue.into_iter().flat_map(|entry| entry.rights).collect();
    drop_unread(kernel, by, id, rights, trace);
}

/// A TCP socket is gone from the table (`inet_csk_destroy_sock`): what it had received goes (uncharged
/// from its sender), and a socket still naming it as its peer knows it is gone.
pub(crate) fn release_now(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    let socket = kernel.sockets[id as usize - 1].take().expect("a socket released twice");
    for entry in &socket.queue {
        uncharge(kernel, by, entry.from, entry.truesize, trace);
    }
    for other in kernel.sockets.iter_mut().flatten() {
        if other.peer == id {
            other.peer_dead = true;
        }
    }
}

/// `sk_getsockopt` at `SOL_SOCKET` (another level is the protocol's, which a Unix-domain socket does
/// not have: `EOPNOTSUPP`). `SO_PEERCRED` fills a `struct ucred`, of which the pid is the value here.
/// `SO_ERROR` takes the pending error (`sock_error`: read and cleared, so the next call does not see
/// it); `SO_ACCEPTCONN` says whether the socket listens (`TCP_LISTEN`); `SO_SNDLOWAT` is always 1.
fn getsockopt(kernel: &mut Kernel, id: u32, level: i64, option: i64) -> Exec {
    if level != SOL_SOCKET {
        return Kernel::error(EOPNOTSUPP);
    }
    let socket = kernel.socket_mut(id);
    let value = match option {
        SO_TYPE => match socket.kind {
            SocketKind::Stream => SOCK_STREAM,
            SocketKind::Dgram => SOCK_DGRAM,
            SocketKind::Seqpacket => SOCK_SEQPACKET,
        },
        SO_SNDBUF | SO_RCVBUF
            if socket.kind == SocketKind::Stream
                && socket.inet.is_some_and(|inet| {
                    !matches!(inet.state, TcpState::Close | TcpState::Listen)
                        && inet.sizes_set & if option == SO_SNDBUF { 1 } else { 2 } == 0
                }) =>
        {
            // `tcp_sndbuf_expand` and `tcp_rcv_space_adjust` grow a connection's buffers as it goes.
            let detail = "a TCP connection's buffer sizes grow as it runs (tcp_sndbuf_expand, tcp_rcv_space_adjust): \
                          not modelled"
                .to_string();
            return kernel.halt("not_modelled", detail);
        }
        SO_SNDBUF => socket.sndbuf as i64,
        SO_RCVBUF => socket.rcvbuf as i64,
        SO_REUSEADDR => socket.reuse as i64,
        SO_PEERCRED => socket.peer_pid as i64,
        // `sk_may_scm_recv`: only AF_UNIX (of the families here) has the option (since Linux 6.16).
        SO_PASSCRED if socket.inet.is_some() => return Kernel::error(EOPNOTSUPP),
        SO_PASSCRED => socket.passcred as i64,
        SO_ERROR => socket.error.take().map_or(0, |errno| errno.0 as i64),
        SO_SNDLOWAT => 1,
        SO_ACCEPTCONN => socket.listening as i64,
        SO_PROTOCOL if socket.inet.is_some() && socket.kind == SocketKind::Dgram => IPPROTO_UDP,
        SO_PROTOCOL if socket.inet.is_some() => IPPROTO_TCP,
        SO_DOMAIN if socket.inet.is_some() => AF_INET,
        SO_PROTOCOL => 0,
        SO_DOMAIN => AF_UNIX,
        other => return not_modelled_option(kernel, other),
    };
    Exec::Done(CallResult::Out { value })
}

/// The options of `SOL_SOCKET` this model leaves out: Linux has dozens, whose values it would answer.
fn not_modelled_option(kernel: &mut Kernel, option: i64) -> Exec {
    let detail = format!(
        "socket option {option} is not modelled (SO_TYPE, SO_ERROR, SO_SNDBUF, SO_RCVBUF, SO_PEERCRED, SO_PASSCRED, \
         SO_SNDLOWAT, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN and SO_REUSEADDR are)"
    );
    kernel.halt("not_modelled", detail)
}

/// The size `sk_setsockopt` keeps for `SO_SNDBUF` or `SO_RCVBUF`: the int value taken as unsigned (a
/// negative one is huge) and capped at `max` (`wmem_max`, `rmem_max`), then at `INT_MAX / 2`, doubled
/// (for the kernel's own overhead) and raised to `min`.
fn buffer_size(value: i64, max: u32, min: u32) -> u32 {
    let asked = (value as i32 as u32).min(max).min(i32::MAX as u32 / 2);
    (asked * 2).max(min)
}

/// `sk_setsockopt` at `SOL_SOCKET`: `SO_SNDBUF` sets the send buffer and calls `sk_write_space`
/// (`unix_write_space`), which wakes the socket's waiting senders if it is now writable; `SO_RCVBUF`
/// the receive buffer. The options that only report (`SO_TYPE`, `SO_ERROR`, `SO_PEERCRED`,
/// `SO_SNDLOWAT`, `SO_ACCEPTCONN`, `SO_PROTOCOL`, `SO_DOMAIN`) cannot be set (`ENOPROTOOPT`).
fn setsockopt(kernel: &mut Kernel, pid: Pid, id: u32, level: i64, option: i64, value: i64, trace: &mut Trace) -> Exec {
    if level != SOL_SOCKET {
        return Kernel::error(EOPNOTSUPP);
    }
    let socket = kernel.socket_mut(id);
    match option {
        SO_SNDBUF => {
            socket.sndbuf = buffer_size(value, WMEM_MAX, SOCK_MIN_SNDBUF);
            if let Some(inet) = socket.inet.as_mut() {
                inet.sizes_set |= 1;
            }
            let watched = !socket.write_wait.is_empty();
            if socket.writable() && (watched || !kernel.epolls.is_empty()) {
                let object = ObjectRef::socket(id);
                wake_socket(kernel, id, SocketQueue::Write, Wake::All, pid, WakeCause::Room { object }, trace);
            }
        }
        SO_RCVBUF => {
            socket.rcvbuf = buffer_size(value, RMEM_MAX, SOCK_MIN_RCVBUF);
            if let Some(inet) = socket.inet.as_mut() {
                inet.sizes_set |= 2;
            }
        }
        SO_REUSEADDR => {
            socket.reuse = value as i32 != 0;
            // Every bind and listen reads it, of every socket on the port.
            super::tcp::touch_ports(kernel);
        }
        // `sk_setsockopt`: any non-zero `int` turns it on, on an AF_UNIX socket only (`sk_may_scm_recv`,
        // since Linux 6.16).
        SO_PASSCRED if socket.inet.is_some() => return Kernel::error(EOPNOTSUPP),
        SO_PASSCRED => socket.passcred = value as i32 != 0,
        SO_TYPE | SO_ERROR | SO_PEERCRED | SO_SNDLOWAT | SO_ACCEPTCONN | SO_PROTOCOL | SO_DOMAIN => {
            return Kernel::error(ENOPROTOOPT)
        }
        other => return not_modelled_option(kernel, other),
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// `ioctl(FIONREAD)` on a socket (`unix_inq_len`): a stream or seqpacket socket's unread bytes, a
/// datagram socket's first message's length.
pub(crate) fn bytes_readable(kernel: &Kernel, id: u32) -> i64 {
    let socket = kernel.socket(id).expect("an open file keeps its socket");
    match socket.kind {
        SocketKind::Stream | SocketKind::Seqpacket => socket.queued as i64,
        SocketKind::Dgram => socket.queue.front().map_or(0, |entry| entry.data.len() as i64),
    }
}

/// The Unix-domain socket mechanism.
pub struct Sockets;

impl Mechanism for Sockets {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::Socketpair => socketpair(kernel, pid, call.arg(0)),
            CallId::Send => {
                let (id, nonblock) = match socket_of(kernel, pid, call.arg(0)) {
                    Ok(found) => found,
                    Err(errno) => return Kernel::error(errno),
                };
                let flags = call.arg(2) | if nonblock { MSG_DONTWAIT } else { 0 };
                let payload = call.call.payload().expect("send has a payload operand");
                send(kernel, pid, id, payload, flags, trace)
            }
            CallId::Sendto => {
                let (id, nonblock) = match socket_of(kernel, pid, call.arg(0)) {
                    Ok(found) => found,
                    Err(errno) => return Kernel::error(errno),
                };
                let flags = call.arg(3) | if nonblock { MSG_DONTWAIT } else { 0 };
                let payload = call.call.payload().expect("sendto has a payload operand");
                // The path's socket is looked up: a `bind` or `unlink` of it does not commute with this.
                if kernel.footprint.enabled {
                    kernel.footprint.write(ObjectRef::path(call.arg(2) as u32));
                }
                let path = kernel.program.paths[call.arg(2) as usize].clone();
                send_to(kernel, pid, id, payload, flags, Some(path), &[], trace)
            }
            CallId::Recv | CallId::Recvfrom => {
                let count = call.arg(1);
                if let Some(ended) = super::fd::read_count_limits(kernel, trace, "recv", count) {
                    return ended;
                }
                let (id, nonblock) = match socket_of(kernel, pid, call.arg(0)) {
                    Ok(found) => found,
                    Err(errno) => return Kernel::error(errno),
                };
                let flags = call.arg(2) | if nonblock { MSG_DONTWAIT } else { 0 };
                // `recvfrom` also gives the sender's name: that of the first entry read, none at end of
                // file (the result is then a message whose tag is the name; see [`Entry::sender_name`]).
                let socket = kernel.socket_mut(id);
                let sender = socket.queue.front().map_or(0, |entry| entry.sender_name);
                let tag = match socket.queue.front() {
                    // A UDP datagram names its sender's port (`udp_recvmsg`); a TCP peer, nothing.
                    Some(_) if super::udp::is_udp(socket) => crate::linux::socket::inet_sender_tag(sender as u16),
                    _ if socket.inet.is_some() => 0,
                    _ if sender == AUTOBOUND_NAME => -1,
                    _ => sender as i64,
                };
                match recv(kernel, pid, id, count as u32, flags, trace) {
                    Exec::Done(CallResult::Data { offset, len }) if call.id() == CallId::Recvfrom => {
                        Exec::Done(CallResult::Message { offset, len, tag, skipped: 0 })
                    }
                    other => other,
                }
            }
            CallId::Sendmsg => {
                let (id, nonblock) = match socket_of(kernel, pid, call.arg(0)) {
                    Ok(found) => found,
                    Err(errno) => return Kernel::error(errno),
                };
                // `__scm_send` runs first, before the socket's own checks (`unix_stream_sendmsg`,
                // `unix_dgram_sendmsg`), but for a seqpacket socket's.
                // Its control messages in the order a C program lays them out here: `SCM_CREDENTIALS`
                // first (`scm_check_creds`: an unprivileged process may only send its own pid), then
                // `SCM_RIGHTS`.
                // A TCP or UDP socket reads neither: `__sock_cmsg_send`, which `tcp_sendmsg_locked`
                // and `ip_cmsg_send` hand `SOL_SOCKET` messages to, passes over both (a TCP socket
                // that is not connected fails with `EPIPE` before it even looks).
                let inet = kernel.socket(id).is_some_and(|socket| socket.inet.is_some());
                // A seqpacket socket refuses to send unconnected before `unix_dgram_sendmsg` calls
                // `__scm_send` (`unix_seqpacket_sendmsg`).
                if kernel.socket(id).is_some_and(|socket| socket.kind == SocketKind::Seqpacket && socket.peer == 0) {
                    return Kernel::error(ENOTCONN);
                }
                let creds = (call.args.len() > 4 && !inet).then(|| call.arg(4));
                if creds.is_some_and(|claimed| claimed != pid as i64) {
                    return Kernel::error(EPERM);
                }
                let rights = if inet {
                    Vec::new()
                } else {
                    match rights_of(kernel, pid, call.arg(2)) {
                        Ok(rights) => rights,
                        Err(errno) => return Kernel::error(errno),
                    }
                };
                let flags = call.arg(3) | if nonblock { MSG_DONTWAIT } else { 0 };
                let payload = call.call.payload().expect("sendmsg has a payload operand");
                kernel.sending_creds = creds.map(|_| pid);
                let sent = send_to(kernel, pid, id, payload, flags, None, &rights, trace);
                kernel.sending_creds = None;
                sent
            }
            CallId::Recvmsg => {
                let count = call.arg(1);
                if let Some(ended) = super::fd::read_count_limits(kernel, trace, "recvmsg", count) {
                    return ended;
                }
                let (id, nonblock) = match socket_of(kernel, pid, call.arg(0)) {
                    Ok(found) => found,
                    Err(errno) => return Kernel::error(errno),
                };
                let flags = call.arg(3) | if nonblock { MSG_DONTWAIT } else { 0 };
                // A datagram longer than the buffer is cut, and says so in `msg_flags`
                // (`unix_dgram_recvmsg`).
                let socket = kernel.socket_mut(id);
                let whole = match socket.kind {
                    SocketKind::Stream => None,
                    _ => socket.queue.front().map(|entry| entry.data.len() as i64),
                };
                // `scm_recv_unix`: a socket with `SO_PASSCRED` gets the credentials of the first message
                // read (a stream read stops where they change), pid 0 for one that carried none. At
                // end of file a stream receive still gets them, zeroed; a datagram receive returns
                // before it gets there (`unix_dgram_recvmsg` with no message).
                let creds = match socket.queue.front() {
                    _ if !socket.passcred => -1,
                    Some(entry) => entry.creds.map_or(0, |pid| pid as i32),
                    None if socket.kind == SocketKind::Stream => 0,
                    None => -1,
                };
                let result = receive(kernel, pid, id, count as u32, flags, trace);
                let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
                let (fd, fds, cut) = install_rights(kernel, pid, id, call.arg(2), cloexec, trace);
                match result {
                    Exec::Done(CallResult::Data { offset, len }) => {
                        let mut msg_flags = if cut { MSG_CTRUNC } else { 0 };
                        if whole.is_some_and(|whole| whole > count) {
                            msg_flags |= MSG_TRUNC;
                        }
                        Exec::Done(CallResult::Received {
                            offset,
                            len,
                            fd: fd as i32,
                            fds,
                            flags: msg_flags as u16,
                            creds,
                        })
                    }
                    other => other,
                }
            }
            CallId::Shutdown => match socket_of(kernel, pid, call.arg(0)) {
                Ok((id, _)) => shutdown(kernel, pid, id, call.arg(1), trace),
                Err(errno) => Kernel::error(errno),
            },
            CallId::Socket => socket(kernel, pid, call.arg(0), call.arg_or_default(1)),
            CallId::Getsockopt | CallId::Setsockopt => {
                let (id, _) = match socket_of(kernel, pid, call.arg(0)) {
                    Ok(found) => found,
                    Err(errno) => return Kernel::error(errno),
                };
                if call.id() == CallId::Getsockopt {
                    if kernel.footprint.enabled {
                        kernel.footprint.read(ObjectRef::socket(id));
                    }
                    getsockopt(kernel, id, call.arg(1), call.arg(2))
                } else {
                    if kernel.footprint.enabled {
                        kernel.footprint.write(ObjectRef::socket(id));
                    }
                    setsockopt(kernel, pid, id, call.arg(1), call.arg(2), call.arg(3), trace)
                }
            }
            CallId::Bind | CallId::Connect | CallId::Listen | CallId::Accept => {
                // `__sys_accept4_file` takes the new descriptor's number before `do_accept` looks at
                // the file: a full table is `EMFILE` even for a descriptor that is no socket.
                if call.id() == CallId::Accept
                    && kernel.file_of(pid, call.arg(0)).is_some()
                    && kernel.lowest_free_fd(pid, 0).is_none()
                {
                    return Kernel::error(EMFILE);
                }
                let (id, nonblock) = match socket_of(kernel, pid, call.arg(0)) {
                    Ok(found) => found,
                    Err(errno) => return Kernel::error(errno),
                };
                if kernel.footprint.enabled {
                    kernel.footprint.write(ObjectRef::socket(id));
                }
                if kernel.footprint.enabled && matches!(call.id(), CallId::Bind | CallId::Connect) {
                    kernel.footprint.write(ObjectRef::path(call.arg(1) as u32));
                }
                let inet = kernel.socket_mut(id).inet.is_some();
                let udp = inet && kernel.socket_mut(id).kind == SocketKind::Dgram;
                let path = || kernel.program.paths[call.arg(1) as usize].clone();
                match call.id() {
                    // `inet_dgram_ops`: `sock_no_listen`.
                    CallId::Listen if udp => Kernel::error(EOPNOTSUPP),
                    CallId::Listen if inet => super::tcp::listen(kernel, pid, id, call.arg(1)),
                    CallId::Bind if inet => {
                        let path = path();
                        super::tcp::bind(kernel, id, &path)
                    }
                    CallId::Connect if inet => {
                        let path = path();
                        if udp {
                            super::udp::connect(kernel, id, &path)
                        } else {
                            super::tcp::connect(kernel, pid, id, &path, nonblock, trace)
                        }
                    }
                    // `unix_validate_addr`: an `AF_INET` address is not a Unix-domain one.
                    CallId::Bind | CallId::Connect if crate::linux::socket::parse_inet(&path()).is_some() => {
                        Kernel::error(EINVAL)
                    }
                    CallId::Bind => {
                        let path = path();
                        bind(kernel, id, path, call.arg(1) as u32)
                    }
                    CallId::Connect => {
                        let path = path();
                        connect(kernel, pid, id, path, nonblock, trace)
                    }
                    CallId::Listen => listen(kernel, pid, id, call.arg(1), trace),
                    _ => accept(kernel, pid, id, nonblock, trace),
                }
            }
            other => unreachable!("{} is not a socket call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        match reason {
            BlockReason::SocketEmpty { socket } => {
                if let Some(Some(socket)) = kernel.sockets.get_mut(*socket as usize - 1) {
                    socket.read_wait.remove(pid);
                }
            }
            BlockReason::SocketFull { socket, .. } => {
                if let Some(Some(socket)) = kernel.sockets.get_mut(*socket as usize - 1) {
                    socket.write_wait.remove(pid);
                }
            }
            BlockReason::SocketAccept { socket } => {
                if let Some(Some(socket)) = kernel.sockets.get_mut(*socket as usize - 1) {
                    socket.read_wait.remove(pid);
                }
            }
            BlockReason::SocketBacklog { socket } | BlockReason::SocketReceiverFull { socket } => {
                if let Some(Some(socket)) = kernel.sockets.get_mut(*socket as usize - 1) {
                    socket.connect_wait.remove(pid);
                }
            }
            _ => {}
        }
    }

    /// A stream send interrupted after some bytes went returns that count (`unix_stream_sendmsg`
    /// returns `sent` before an error); anything else starts again (`-ERESTARTSYS`).
    fn interruption(reason: &BlockReason) -> Interruption {
        match reason {
            BlockReason::SocketFull { written, .. } if *written > 0 => Interruption::Partial(*written),
            _ => Interruption::Restart,
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        let mut files = vec![0u32; kernel.sockets.len()];
        for file in kernel.files.iter().flatten() {
            if let super::fd::FileObject::Socket(id) = file.object {
                if kernel.socket(id).is_none() {
                    return Err(format!("an open file points at freed socket {id}"));
                }
                files[id as usize - 1] += 1;
            }
        }
        let mut charges = vec![0u32; kernel.sockets.len()];
        for entry in kernel.sockets.iter().flatten().flat_map(|socket| socket.queue.iter()) {
            charges[entry.from as usize - 1] += entry.truesize;
        }
        for (index, socket) in kernel.sockets.iter().enumerate() {
            let Some(socket) = socket else { continue };
            if socket.files != files[index] {
                return Err(format!(
                    "socket {} counts {} files; {} refer to it",
                    socket.id, socket.files, files[index]
                ));
            }
            // A relay sits only on the live peer of a datagram socket, which takes no datagrams from it
            // unless connected back.
            if socket.peer_wake != 0
                && (socket.peer != socket.peer_wake
                    || socket.peer_dead
                    || kernel.socket(socket.peer_wake).is_none()
                    || socket.kind != SocketKind::Dgram)
            {
                return Err(format!(
                    "socket {} has a relay on socket {}, not its live peer",
                    socket.id, socket.peer_wake
                ));
            }
            let held: u32 = socket.queue.iter().map(Entry::left).sum();
            if held != socket.queued {
                return Err(format!("socket {} counts {} queued bytes but holds {held}", socket.id, socket.queued));
            }
            // Byte conservation: what came in and was not read or dropped is exactly what is queued.
            if socket.bytes_in - socket.bytes_out != socket.queued as u64 {
                return Err(format!(
                    "socket {}: {} bytes in, {} out, but {} queued",
                    socket.id, socket.bytes_in, socket.bytes_out, socket.queued
                ));
            }
            // Its charge is the whole entries it has queued at live sockets.
            let charged = charges[index];
            if socket.unread_sent != charged {
                return Err(format!(
                    "socket {} is charged {} bytes, but {charged} of its bytes wait to be received",
                    socket.id, socket.unread_sent
                ));
            }
            // A connection is mutual; a datagram socket's peer is only its default destination.
            if socket.peer != 0
                && socket.kind.connected_type()
                && !socket.peer_dead
                && kernel.socket(socket.peer).is_none_or(|peer| peer.peer != socket.id)
            {
                return Err(format!("socket {}'s peer {} does not name it back", socket.id, socket.peer));
            }
            for server in &socket.pending {
                match kernel.socket(*server) {
                    Some(end) if end.files == 0 && end.peer != 0 => {}
                    _ => {
                        return Err(format!("socket {} holds {server} for accept, which is not a fresh end", socket.id))
                    }
                }
            }
            let reading = if socket.listening {
                BlockReason::SocketAccept { socket: socket.id }
            } else {
                BlockReason::SocketEmpty { socket: socket.id }
            };
            let queues = [
                (&socket.read_wait, reading),
                (&socket.write_wait, BlockReason::SocketFull { socket: socket.id, written: 0 }),
                (&socket.connect_wait, BlockReason::SocketBacklog { socket: socket.id }),
            ];
            for (waiter, expected) in
                queues.iter().flat_map(|(queue, expected)| queue.pids().map(move |pid| (pid, expected.clone())))
            {
                let state = &kernel.process(waiter).state;
                let queued_for = kernel.process(waiter).still_queued.as_ref();
                let asleep = |reason: &BlockReason| {
                    let same = std::mem::discriminant(reason) == std::mem::discriminant(&expected)
                        || matches!(
                            (reason, &expected),
                            (BlockReason::SocketReceiverFull { .. }, BlockReason::SocketBacklog { .. })
                        );
                    same && reason.object() == Some(ObjectRef::socket(socket.id))
                };
                let on_it = match state {
                    super::ProcState::Blocked(reason) => asleep(reason),
                    _ => queued_for.is_some_and(asleep),
                };
                if !on_it && !kernel.polls(waiter, ObjectRef::socket(socket.id)) {
                    return Err(format!("pid {waiter} is on socket {}'s wait queue but not asleep on it", socket.id));
                }
            }
            match socket.inet {
                Some(inet) if socket.kind == SocketKind::Dgram => super::udp::check(socket, inet)?,
                Some(inet) => super::tcp::check(kernel, socket, inet)?,
                None => {}
            }
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for socket in kernel.sockets.iter().flatten() {
            // One view per connected pair, drawn at its lower-numbered live end; a datagram socket whose
            // destination is not connected back to it is drawn alone.
            let mutual = |socket: &Socket| {
                !socket.peer_dead && kernel.socket(socket.peer).is_some_and(|peer| peer.peer == socket.id)
            };
            if socket.peer != 0 && socket.peer < socket.id && mutual(socket) {
                continue;
            }
            // A connection waiting for `accept` is drawn in its listener; a TCP socket whose program
            // closed it while the connection goes on (an orphan, holding its port) is drawn on its own.
            if socket.files == 0 && !socket.inet.is_some_and(|inet| inet.orphan) {
                continue;
            }
            let mut ends = vec![end_view(kernel, socket)];
            if let Some(peer) = kernel.socket(socket.peer).filter(|_| mutual(socket)) {
                ends.push(end_view(kernel, peer));
            }
            out.push(ObjectView::SocketPair(Box::new(SocketPairView { kind: socket.kind.name().to_string(), ends })));
        }
    }
}

fn end_view(kernel: &Kernel, socket: &Socket) -> SocketEndView {
    let mut holders = Vec::new();
    for pid in &kernel.alive {
        for (number, entry) in kernel.process(*pid).fds.iter().enumerate() {
            let Some(entry) = entry else { continue };
            let Some(file) = kernel.files[entry.file as usize].as_ref() else { continue };
            if file.object == super::fd::FileObject::Socket(socket.id) {
                holders.push((*pid, number as i32));
            }
        }
    }
    SocketEndView {
        id: socket.id,
        holders,
        queue: socket
            .queue
            .iter()
            .map(|entry| MessageView {
                tag: 0,
                len: entry.left(),
                preview: entry.data[entry.consumed as usize..].iter().copied().take(32).collect(),
                rights: entry
                    .rights
                    .iter()
                    .map(|&file| PassedFileView {
                        file,
                        object: crate::present::snapshot::file_words(kernel, kernel.file(file)),
                    })
                    .collect(),
                creds: entry.creds,
            })
            .collect(),
        queued_bytes: socket.queued,
        unread_sent: socket.unread_sent,
        sndbuf: socket.sndbuf,
        no_more_reads: socket.shutdown & RCV_SHUTDOWN != 0,
        no_more_writes: socket.shutdown & SEND_SHUTDOWN != 0,
        read_waiters: socket.read_wait.pids().collect(),
        write_waiters: socket.write_wait.pids().collect(),
        path: match socket.inet {
            Some(inet) if inet.port != 0 => {
                Some(format!("{}:{}", crate::linux::socket::inet_text(inet.address), inet.port))
            }
            _ => socket.path.as_ref().map(|path| path.to_string()),
        },
        listening: socket.listening,
        backlog: socket.backlog,
        pending: socket.pending.iter().copied().collect(),
        connect_waiters: socket.connect_wait.pids().collect(),
        passcred: socket.passcred,
        autobound: socket.autobound,
        tcp_state: socket.inet.filter(|_| socket.kind == SocketKind::Stream).map(|inet| inet.state.name().to_string()),
        peer_port: socket.inet.map_or(0, |inet| inet.peer_port),
        orphan: socket.inet.is_some_and(|inet| inet.orphan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::run_round_robin as simulation;
    use crate::{Policy, RunConfig, Simulation};

    #[test]
    fn a_reader_with_passcred_reads_each_senders_bytes_apart_and_a_sender_with_it_is_bound_by_the_kernel() {
        let simulation = simulation(
            "process p expect exited 0 {\n  t = socketpair SOCK_STREAM\n  send t.1 \"a\" -> 1\n  \
             setsockopt t.0 SOL_SOCKET SO_PASSCRED 1 -> 0\n  send t.1 \"b\" -> 1\n  send t.1 \"c\" -> 1\n  \
             recv t.0 10 -> \"a\"\n  recv t.0 10 -> \"bc\"\n  d = socket SOCK_DGRAM\n  \
             setsockopt d SOL_SOCKET SO_PASSCRED 1 -> 0\n  connect d \"/nowhere\" -> ENOENT\n  \
             bind d \"/tmp/d\" -> EINVAL\n}\n",
        );
        // Every expectation holds: "a" apart from "bc", and the failed connect bound `d`, so `bind` is
        // refused.
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        assert!(matches!(simulation.outcome(), Some(crate::RunOutcome::AllExited)), "{:?}", simulation.outcome());
    }

    #[test]
    fn recvmsg_reports_who_sent_a_message_and_sendmsg_may_claim_only_its_own_pid() {
        let simulation = simulation(
            "process p expect exited 0 {\n  t = socketpair SOCK_DGRAM\n  send t.1 \"a\" -> 1\n  \
             setsockopt t.0 SOL_SOCKET SO_PASSCRED 1 -> 0\n  send t.1 \"b\" -> 1\n  \
             sendmsg t.1 \"c\" {} 0 1 -> EPERM\n  r = recvmsg t.0 10 -> \"a\"\n  \
             if r.pid != 0 {\n    exit 1\n  }\n  r = recvmsg t.0 10 -> \"b\"\n  if r.pid != self {\n    exit 2\n  }\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        assert!(matches!(simulation.outcome(), Some(crate::RunOutcome::AllExited)), "{:?}", simulation.outcome());
    }

    #[test]
    fn buffers_are_charged_their_true_size() {
        // One-byte and 100-byte buffers take a 512-byte head; 1000 bytes a 2048-byte one.
        assert_eq!(truesize(1, 0), 768);
        assert_eq!(truesize(100, 0), 768);
        assert_eq!(truesize(1000, 0), 2304);
        // A stream buffer of 36544 bytes: a one-page head and eight pages in one block.
        assert_eq!(stream_shape(36544), (3776, 32768));
        assert_eq!(truesize(3776, 32768), 37120);
        // 10000 bytes: 8192 in pages (one block of two), the rest in a 4096-byte head.
        assert_eq!(stream_shape(10000), (1808, 8192));
        assert_eq!(truesize(1808, 8192), 12544);
        // A datagram of 10000 bytes is all head: 16384 of it.
        assert_eq!(dgram_shape(10000), (10000, 0));
        assert_eq!(truesize(10000, 0), 16640);
    }

    #[test]
    fn buffer_sizes_are_doubled_capped_and_raised_to_the_minimum() {
        assert_eq!(buffer_size(1000, WMEM_MAX, SOCK_MIN_SNDBUF), 4608);
        assert_eq!(buffer_size(3000, WMEM_MAX, SOCK_MIN_SNDBUF), 6000);
        assert_eq!(buffer_size(2305, RMEM_MAX, SOCK_MIN_RCVBUF), 4610);
        assert_eq!(buffer_size(0, RMEM_MAX, SOCK_MIN_RCVBUF), 2304);
        // Past `wmem_max` (Linux's default here), and a negative value taken as unsigned.
        assert_eq!(buffer_size(300_000, WMEM_MAX, SOCK_MIN_SNDBUF), 425_984);
        assert_eq!(buffer_size(-1, WMEM_MAX, SOCK_MIN_SNDBUF), 425_984);
        assert_eq!(buffer_size(i32::MAX as i64, u32::MAX, SOCK_MIN_SNDBUF), (i32::MAX as u32 / 2) * 2);
    }

    #[test]
    fn a_child_inherits_its_end_and_its_exit_closes_it() {
        // The kid exits without closing its end: its exit closes it, and main reads to end of file.
        let simulation = simulation(
            "process main expect exited 0 {\n  s = socketpair SOCK_STREAM\n  fork kid expect exited 0 {\n    \
             close s.0 -> 0\n    send s.1 \"hi\" -> 2\n  }\n  close s.1 -> 0\n  recv s.0 10 -> \"hi\"\n  \
             recv s.0 10 -> 0\n  wait -> kid exited 0\n}\n",
        );
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(report.outcome, crate::RunOutcome::AllExited);
        let trace = crate::present::render::trace_text(simulation.program(), simulation.trace());
        assert!(trace.contains("recv(s.0=3, buf, 10) = 0 (end of file)"), "{trace}");
    }

    #[test]
    fn readers_of_sockets_whose_peers_are_held_open_deadlock_and_say_who_they_wait_for() {
        let simulation = simulation(
            "process main {\n  s = socketpair SOCK_STREAM\n  fork kid {\n    close s.0\n    recv s.1 10\n  }\n  \
             close s.1\n  recv s.0 10\n}\n",
        );
        let report = simulation.report().unwrap();
        let crate::RunOutcome::Deadlock { waiting } = &report.outcome else { panic!("{:?}", report.outcome) };
        let main = waiting.iter().find(|edge| edge.pid == 2).expect("main waits");
        let kid = waiting.iter().find(|edge| edge.pid == 3).expect("kid waits");
        assert_eq!(main.reason, Some(BlockReason::SocketEmpty { socket: 1 }));
        assert_eq!(main.waits_for, vec![3], "only the kid holds socket 2, main's peer");
        assert_eq!(kid.reason, Some(BlockReason::SocketEmpty { socket: 2 }));
        assert_eq!(kid.waits_for, vec![2]);
    }

    #[test]
    fn a_snapshot_shows_each_pair_with_its_queues_and_the_state_hash_sees_them() {
        let sent = simulation(
            "process main {\n  s = socketpair SOCK_DGRAM\n  send s.0 \"ab\"\n  send s.0 \"cde\"\n  pause\n}\n",
        );
        let views = sent.kernel().object_views();
        let pairs: Vec<&SocketPairView> = views
            .iter()
            .filter_map(|view| match view {
                ObjectView::SocketPair(pair) => Some(&**pair),
                _ => None,
            })
            .collect();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].kind, "SOCK_DGRAM");
        let [first, second] = &pairs[0].ends[..] else { panic!("two ends: {:?}", pairs[0]) };
        assert_eq!(first.holders, vec![(2, 3)]);
        assert!(first.queue.is_empty());
        assert_eq!(first.unread_sent, 2 * 768);
        let lengths: Vec<u32> = second.queue.iter().map(|message| message.len).collect();
        assert_eq!(lengths, vec![2, 3], "two datagrams, kept apart");
        assert_eq!(second.queue[1].preview, b"cde");
        assert_eq!(second.queued_bytes, 5);
        // The same run hashes alike; one byte more in a queue does not.
        let again = simulation(
            "process main {\n  s = socketpair SOCK_DGRAM\n  send s.0 \"ab\"\n  send s.0 \"cde\"\n  pause\n}\n",
        );
        let other = simulation(
            "process main {\n  s = socketpair SOCK_DGRAM\n  send s.0 \"ab\"\n  send s.0 \"cdf\"\n  pause\n}\n",
        );
        assert_eq!(sent.kernel().state_hash(), again.kernel().state_hash());
        assert_ne!(sent.kernel().state_hash(), other.kernel().state_hash());
    }

    #[test]
    fn a_datagram_socket_connected_one_way_is_drawn_alone_and_charged_for_what_waits_at_the_server() {
        let simulation = simulation(
            "process main {\n  s = socket SOCK_DGRAM\n  bind s \"/log\"\n  c = socket SOCK_DGRAM\n  \
             connect c \"/log\"\n  send c \"ab\"\n  sendto s \"cd\" \"/log\"\n  pause\n}\n",
        );
        let views = simulation.kernel().object_views();
        let ends: Vec<&SocketEndView> = views
            .iter()
            .filter_map(|view| match view {
                ObjectView::SocketPair(pair) => Some(&pair.ends[..]),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(ends.len(), 2, "two sockets, each drawn once: {ends:?}");
        let server = ends.iter().find(|end| end.path.as_deref() == Some("/log")).expect("the server is drawn");
        let previews: Vec<&[u8]> = server.queue.iter().map(|message| &message.preview[..]).collect();
        assert_eq!(previews, vec![&b"ab"[..], &b"cd"[..]], "one queue, two senders");
        assert_eq!(server.unread_sent, 768, "its own datagram to itself");
        let client = ends.iter().find(|end| end.path.is_none()).expect("the client is drawn");
        assert_eq!(client.unread_sent, 768);
        let socket = simulation.kernel().socket(2).expect("the client is alive");
        assert_eq!((socket.peer, simulation.kernel().socket(1).map(|server| server.peer)), (1, Some(0)));
    }

    #[test]
    fn an_unconnected_sender_with_a_full_buffer_waits_for_whoever_holds_its_receivers() {
        // Six one-byte datagrams fill a send buffer of 4608 bytes; the seventh waits for "/a" to be
        // read, which only main, the sender itself, could do.
        let simulation = simulation(
            "process main {\n  s = socket SOCK_DGRAM\n  bind s \"/a\"\n  c = socket SOCK_DGRAM\n  \
             setsockopt c SOL_SOCKET SO_SNDBUF 1000\n  fork kid {\n    pause\n  }\n  close s\n  \
             repeat 7 {\n    sendto c \"x\" \"/a\"\n  }\n}\n",
        );
        let report = simulation.report().unwrap();
        let crate::RunOutcome::Deadlock { waiting } = &report.outcome else { panic!("{:?}", report.outcome) };
        let main = waiting.iter().find(|edge| edge.pid == 2).expect("main waits");
        assert_eq!(main.reason, Some(BlockReason::SocketFull { socket: 2, written: 0 }));
        assert_eq!(main.waits_for, vec![3], "only the kid still holds the receiver");
    }

    #[test]
    fn a_listener_queues_backlog_plus_one_and_a_client_waits_for_whoever_holds_it() {
        // Backlog 0: the first connect waits in the queue, the second sleeps; nobody accepts.
        let simulation = simulation(
            "process main {\n  l = socket SOCK_STREAM\n  bind l \"/s\"\n  listen l 0\n  fork kid {\n    \
             c = socket SOCK_STREAM\n    connect c \"/s\"\n    d = socket SOCK_STREAM\n    connect d \"/s\"\n  }\n  \
             pause\n}\n",
        );
        let views = simulation.kernel().object_views();
        let listener = views
            .iter()
            .find_map(|view| match view {
                ObjectView::SocketPair(pair) if pair.ends[0].listening => Some(pair.ends[0].clone()),
                _ => None,
            })
            .expect("the listener is drawn");
        assert_eq!(listener.path.as_deref(), Some("/s"));
        assert_eq!(listener.pending.len(), 1, "one connection waits for accept");
        assert_eq!(listener.connect_waiters, vec![3]);
        let report = simulation.report().unwrap();
        let crate::RunOutcome::Deadlock { waiting } = &report.outcome else { panic!("{:?}", report.outcome) };
        let kid = waiting.iter().find(|edge| edge.pid == 3).expect("the kid waits");
        assert_eq!(kid.reason, Some(BlockReason::SocketBacklog { socket: 1 }));
        assert_eq!(kid.waits_for, vec![2, 3], "whoever holds the listener could accept");
        assert!(simulation.kernel().socket_names.contains_key("/s"));
    }

    #[test]
    fn an_abstract_name_makes_no_file_and_is_free_again_when_its_socket_closes() {
        let simulation = simulation(
            "process main {\n  a = socket SOCK_STREAM\n  bind a \"\\0n\" -> 0\n  b = socket SOCK_STREAM\n  \
             bind b \"\\0n\" -> EADDRINUSE\n  close a\n  bind b \"\\0n\" -> 0\n  pause\n}\n",
        );
        // The `pause` ends the run as a deadlock; every call returned what it expects.
        let failures = simulation.report().unwrap().failures;
        assert!(failures.iter().all(|failure| failure.process == "the run"), "{failures:?}");
        assert!(simulation.kernel().socket_names.is_empty(), "no socket file: {:?}", simulation.kernel().socket_names);
        let holder = simulation.kernel().sockets.iter().flatten().find(|socket| socket.path.is_some());
        assert_eq!(holder.map(|socket| (socket.id, socket.path.as_deref())), Some((2, Some("\0n"))));
    }

    #[test]
    fn closing_the_holder_of_an_abstract_name_touches_the_name() {
        // The explorer must not swap a `bind` of the name with the close that frees it.
        let scenario = crate::parse("process main {\n  a = socket SOCK_DGRAM\n  bind a \"\\0n\"\n  close a\n}\n")
            .unwrap_or_else(|errors| panic!("{:?}", errors[0]));
        let config = RunConfig { policy: Policy::RoundRobin, track_footprints: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        let mut footprints = Vec::new();
        while let crate::sim::StepStatus::Ran(_) = simulation.step().unwrap() {
            footprints.push(simulation.footprint().clone());
        }
        let close = &footprints[2];
        assert!(close.writes.contains(&ObjectRef::path(0)), "{close:?}");
    }

    #[test]
    fn every_call_that_hands_bytes_back_ends_the_run_past_max_io_bytes() {
        for (call, what) in [
            ("read p.r -1", "a read of -1 bytes; one read may"),
            ("recv s.0 -1", "a recv of -1 bytes; one recv may"),
            ("recvmsg s.0 -1", "a recvmsg of -1 bytes; one recvmsg may"),
        ] {
            let scenario =
                crate::parse(&format!("process main {{\n  p = pipe\n  s = socketpair SOCK_DGRAM\n  {call}\n}}\n"))
                    .unwrap_or_else(|errors| panic!("{:?}", errors[0]));
            let mut simulation = Simulation::new(&scenario, RunConfig::default()).unwrap();
            let outcome = simulation.run().unwrap().clone();
            let crate::RunOutcome::LimitReached { limit, detail } = outcome else { panic!("{call}: {outcome:?}") };
            assert_eq!(limit, "max_io_bytes", "{call}");
            assert!(detail.starts_with(what), "{call}: {detail}");
        }
    }

    fn trace_of(simulation: &Simulation) -> String {
        crate::present::render::trace_text(simulation.program(), simulation.trace())
    }

    #[test]
    fn a_senders_epoll_item_hears_of_room_made_by_reading_another_senders_datagram() {
        // s has sent nothing; the receiver is full of the filler's datagrams. The item's look hangs a
        // relay on the receiver, and one read passes the wake-up on. Without the relay, nothing would
        // tell the edge-triggered item.
        let simulation = simulation(
            "process main expect exited 0 {\n  r = socket SOCK_DGRAM\n  bind r \"/r\" -> 0\n  f = socket SOCK_DGRAM\n  \
             repeat 11 { sendto f \"x\" \"/r\" -> 1 }\n  s = socket SOCK_DGRAM\n  connect s \"/r\" -> 0\n  \
             ep = epoll_create1\n  epoll_ctl ep EPOLL_CTL_ADD s EPOLLOUT|EPOLLET -> 0\n  epoll_wait ep 4 0 -> 0\n  \
             recv r 10 -> \"x\"\n  epoll_wait ep 4 0 -> 1\n  epoll_wait ep 4 0 -> 0\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        // The relay fired once and is gone.
        assert!(simulation.kernel().sockets.iter().flatten().all(|socket| socket.peer_wake == 0));
    }

    #[test]
    fn a_passed_pipe_end_arrives_as_a_new_descriptor_on_the_same_open_file() {
        // main passes the pipe's read end to kid, which never had it, and closes its own: kid reads
        // what main wrote through the descriptor it received.
        let simulation = simulation(
            "process main expect exited 0 {\n  s = socketpair SOCK_STREAM\n  fork kid expect exited 0 {\n    \
             close s.0\n    r = recvmsg s.1 10 -> \"p\"\n    if r.fds != 1 { exit 1 }\n    read r.fd 10 -> \"hello\"\n  }\n  \
             close s.1\n  p = pipe\n  write p.w \"hello\" -> 5\n  sendmsg s.0 \"p\" {p.r} -> 1\n  close p.r -> 0\n  \
             wait -> kid exited 0\n}\n",
        );
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        let trace = trace_of(&simulation);
        assert!(trace.contains("SCM_RIGHTS {4}"), "{trace}");
        assert!(trace.contains("is held in flight"), "{trace}");
        assert!(trace.contains("installs fd 3 on the same open file, pipe 1 (read end)"), "{trace}");
        assert!(trace.contains("= 1 \"p\", SCM_RIGHTS fd 3"), "{trace}");
    }

    #[test]
    fn a_message_closed_unread_releases_the_open_file_it_held() {
        // The only reference left to the pipe's read end is in flight; closing the socket that holds
        // the message drops it, so the pipe has no reader and the write fails with EPIPE.
        let simulation = simulation(
            "process main expect exited 0 {\n  signal SIGPIPE SIG_IGN\n  s = socketpair SOCK_DGRAM\n  p = pipe\n  \
             sendmsg s.0 \"x\" {p.r} -> 1\n  close p.r\n  write p.w \"a\" -> 1\n  close s.1\n  \
             write p.w \"b\" -> EPIPE\n}\n",
        );
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        let trace = trace_of(&simulation);
        assert!(trace.contains("goes with a message nobody received"), "{trace}");
    }

    #[test]
    fn a_receiver_with_room_for_fewer_gets_msg_ctrunc_and_the_rest_are_closed() {
        let simulation = simulation(
            "process main expect exited 0 {\n  s = socketpair SOCK_SEQPACKET\n  p = pipe\n  \
             sendmsg s.0 \"x\" {p.r, p.w} -> 1\n  close p.w\n  r = recvmsg s.1 10 1\n  \
             if r.fds != 1 || r.flags != MSG_CTRUNC { exit 1 }\n  close p.r\n  read r.fd 10 -> 0\n}\n",
        );
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(report.outcome, crate::RunOutcome::AllExited);
        assert!(trace_of(&simulation).contains("(MSG_CTRUNC)"));
    }

    #[test]
    fn a_bad_descriptor_or_too_many_fail_before_anything_is_sent() {
        let simulation = simulation(
            "process main expect exited 0 {\n  s = socketpair SOCK_STREAM\n  p = pipe\n  \
             sendmsg s.0 \"x\" {p.r, 99} -> EBADF\n  sendmsg s.0 \"x\" {p.r} * 253 -> 1\n  \
             sendmsg s.0 \"x\" {p.r} * 254 -> EINVAL\n  n = ioctl s.1 FIONREAD\n  if n != 1 { exit 1 }\n}\n",
        );
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(report.outcome, crate::RunOutcome::AllExited);
    }

    #[test]
    fn a_stream_receive_stops_after_the_bytes_that_carried_descriptors() {
        // "ab" then "cd" with a descriptor then "ef": the first receive takes "abcd" and the
        // descriptor, not "ef"; a plain recv of a message with descriptors closes them.
        let simulation = simulation(
            "process main expect exited 0 {\n  s = socketpair SOCK_STREAM\n  p = pipe\n  send s.0 \"ab\"\n  \
             sendmsg s.0 \"cd\" {p.r}\n  send s.0 \"ef\"\n  r = recvmsg s.1 10 -> \"abcd\"\n  \
             if r.fds != 1 { exit 1 }\n  recv s.1 10 -> \"ef\"\n  sendmsg s.0 \"gh\" {p.w}\n  close p.w\n  \
             recv s.1 10 -> \"gh\"\n  read p.r 10 -> 0\n}\n",
        );
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(report.outcome, crate::RunOutcome::AllExited);
    }

    #[test]
    fn the_snapshot_shows_the_open_file_a_message_carries() {
        let simulation = simulation(
            "process main {\n  s = socketpair SOCK_DGRAM\n  p = pipe\n  sendmsg s.0 \"x\" {p.w}\n  pause\n}\n",
        );
        let views = simulation.kernel().object_views();
        let message = views
            .iter()
            .find_map(|view| match view {
                ObjectView::SocketPair(pair) => pair.ends.iter().find_map(|end| end.queue.first().cloned()),
                _ => None,
            })
            .expect("a message is queued");
        assert_eq!(message.rights.len(), 1);
        assert_eq!(message.rights[0].object, "pipe 1 (write end)");
        let file = simulation.kernel().file_of(2, 6).expect("p.w is open");
        assert_eq!(message.rights[0].file, file);
        assert_eq!(simulation.kernel().file(file).refs, 2, "one descriptor and one message");
    }
}
