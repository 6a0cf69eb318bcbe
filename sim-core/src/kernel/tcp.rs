//! TCP over the loopback: `AF_INET` stream sockets, named by an address and a port.
//!
//! An `AF_INET` stream socket is a [`Socket`] with an [`Inet`] part: its connection state, the port it
//! holds and the port of its peer. What it sends is queued on the peer's receive queue as a Unix-domain
//! stream's bytes are (a stream: no message boundaries); what differs is how a connection starts and
//! ends, which ports are taken, and what a program sees when the other side is gone. The rules follow
//! `net/ipv4` of Linux 6.18, each cited at the function that has it.
//!
//! On the loopback every segment is handed to the receiving side in the sender's own system call
//! (`loopback_xmit` queues it and the softirq runs it when the sender re-enables bottom halves), so the
//! three-way handshake is over when a blocking `connect` returns, and a FIN or a reset has reached the
//! peer when `close` returns. The model does each exchange at once, in the call that starts it, and
//! each socket shows the state TCP's diagram gives it after that exchange.
//!
//! Not modelled, each ending the run with a located message: a connection holding more than
//! [`TCP_UNREAD_MODELLED`] bytes unread (below that a loopback sender never waits; past it, when it
//! waits depends on windows and buffer autotuning), a `connect` to a listener whose accept queue is
//! full (Linux drops the SYN and the client sends it again after 1 s, 3 s, ...), a socket connecting to
//! its own address and port (a simultaneous open), and addresses off this host. The 60 seconds of
//! `TIME_WAIT` are not counted: a socket in it stays until the run ends.

use super::fd::FileObject;
use super::socket::{Socket, RCV_SHUTDOWN, SEND_SHUTDOWN};
use super::time::TimerKind;
use super::{Exec, Kernel};
use crate::linux::errno::{
    EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EALREADY, ECONNREFUSED, ECONNRESET, EINPROGRESS, EINVAL, EISCONN,
    ENOTCONN, EPIPE, ETIMEDOUT,
};
use crate::linux::socket::{
    is_local_inet, parse_inet, EPHEMERAL_HIGH, EPHEMERAL_LOW, INADDR_LOOPBACK, MSG_NOSIGNAL, SHUT_RD, SHUT_RDWR,
};
use crate::linux::Errno;
use crate::trace::{
    BlockReason, CallResult, Event, EventKind, ObjectKind, ObjectRef, Pid, Trace, WakeCause, SEGMENT_ACK,
    SEGMENT_DROPPED, SEGMENT_FIN, SEGMENT_PSH, SEGMENT_RST, SEGMENT_SYN,
};

/// A TCP connection's state, as RFC 793's diagram names it (`include/net/tcp_states.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// No connection: a new socket, or one whose connection was refused or reset.
    Close,
    Listen,
    Established,
    /// Sent its FIN, and the peer has acknowledged it: waiting for the peer's FIN.
    FinWait2,
    /// Received the peer's FIN: the peer will send nothing more; this side may.
    CloseWait,
    /// Closed first, and the peer closed too: the port stays taken for a while (60 s in Linux).
    TimeWait,
    /// Sent its SYN, which a listener with a full accept queue dropped: waiting to send it again.
    SynSent,
}

impl TcpState {
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Close => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::SynSent => "SYN_SENT",
        }
    }

    fn code(self) -> u64 {
        self as u64
    }
}

/// The `AF_INET` part of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Inet {
    pub state: TcpState,
    /// The local address and port (host order; port 0: none yet), and the peer's port.
    pub address: u32,
    pub port: u16,
    pub peer_port: u16,
    /// `SO_SNDBUF` (1) and `SO_RCVBUF` (2) set by the program (`SOCK_SNDBUF_LOCK`, `SOCK_RCVBUF_LOCK`):
    /// sizes that no longer grow with the connection.
    pub sizes_set: u8,
    /// Its last descriptor is closed, but the connection is not over (`sock_orphan`): it stays for the
    /// peer's FIN (`FIN_WAIT2`) or in `TIME_WAIT`, holding its port.
    pub orphan: bool,
    /// Received the peer's FIN (`SOCK_DONE`): a read past the data is end of file.
    pub fin_received: bool,
    /// A UDP socket's connected peer's address (its port is `peer_port`), and whether its own address
    /// and port were bound by the program (`SOCK_BINDADDR_LOCK`, `SOCK_BINDPORT_LOCK`): a disconnect
    /// keeps those and gives back what the kernel chose.
    pub peer_address: u32,
    pub address_locked: bool,
    pub port_locked: bool,
    /// A non-blocking `connect` returned `EINPROGRESS` (`SS_CONNECTING`): the next `connect` reports how
    /// it went.
    pub connecting: bool,
    /// In `SYN_SENT`: when the first SYN went (virtual time), and how many times it was sent again.
    pub syn_at: u64,
    pub syn_retransmits: u8,
}

impl Inet {
    pub fn new() -> Inet {
        Inet {
            state: TcpState::Close,
            address: 0,
            port: 0,
            peer_port: 0,
            sizes_set: 0,
            orphan: false,
            fin_received: false,
            peer_address: 0,
            address_locked: false,
            port_locked: false,
            connecting: false,
            syn_at: 0,
            syn_retransmits: 0,
        }
    }

    /// Closed again with no peer (`tcp_done`, `__inet_dissociate`, `udp_disconnect`): the address and
    /// port the kernel chose for it are free again; those the program bound stay.
    pub(crate) fn dissociate(&mut self) {
        self.state = TcpState::Close;
        self.peer_port = 0;
        self.peer_address = 0;
        if !self.port_locked {
            self.port = 0;
        }
        if !self.address_locked {
            self.address = 0;
        }
    }

    /// The state, ports and addresses for the state hash.
    pub(crate) fn hash_words(&self) -> [u64; 3] {
        [
            self.state.code()
                | (self.port as u64) << 8
                | (self.peer_port as u64) << 24
                | (self.sizes_set as u64) << 40
                | (self.orphan as u64) << 43
                | (self.fin_received as u64) << 44
                | (self.address_locked as u64) << 45
                | (self.port_locked as u64) << 46
                | (self.connecting as u64) << 47,
            self.address as u64 | (self.peer_address as u64) << 32,
            self.syn_at | (self.syn_retransmits as u64) << 56,
        ]
    }
}

impl Default for Inet {
    fn default() -> Inet {
        Inet::new()
    }
}

/// The footprint object every use of the port table reads or writes: binds, connects (an ephemeral
/// port), listens and the end of a connection all look at which ports are taken.
const PORT_TABLE: ObjectRef = ObjectRef { kind: ObjectKind::Path, id: u32::MAX };

pub(crate) fn touch_ports(kernel: &mut Kernel) {
    if kernel.footprint.enabled {
        kernel.footprint.write(PORT_TABLE);
    }
}

/// Records a segment from socket `from` to socket `to` (0: none, with the port given), in `pid`'s step.
pub(crate) fn segment(
    kernel: &Kernel,
    trace: &mut Trace,
    pid: Pid,
    from: (u32, u16),
    to: (u32, u16),
    flags: u8,
    bytes: u32,
) {
    let kind = EventKind::Segment { pid, from: from.0, from_port: from.1, to: to.0, to_port: to.1, flags, bytes };
    trace.record(Event { step: kernel.step as u32, kind });
}

/// A socket and its port, as a segment names its end.
pub(crate) fn end_of(kernel: &Kernel, id: u32) -> (u32, u16) {
    (id, kernel.socket(id).and_then(|socket| socket.inet).map_or(0, |inet| inet.port))
}

pub(crate) fn inet(kernel: &mut Kernel, id: u32) -> &mut Inet {
    kernel.socket_mut(id).inet.as_mut().expect("an AF_INET socket")
}

/// Whether two local addresses overlap: the same, or either `INADDR_ANY`.
pub(crate) fn overlap(a: u32, b: u32) -> bool {
    a == b || a == 0 || b == 0
}

/// `inet_csk_bind_conflict` (TCP) and `udp_lib_lport_inuse` (UDP) on one address family and no
/// devices: another socket of the same protocol holding `port` on an overlapping address conflicts,
/// unless both have `SO_REUSEADDR` and the other is not listening (sockets in `TIME_WAIT` keep the
/// `sk_reuse` they had). TCP and UDP ports are apart: each protocol has its own table.
pub(crate) fn conflict(kernel: &Kernel, id: u32, address: u32, port: u16, reuse: bool) -> bool {
    let kind = kernel.socket(id).map(|socket| socket.kind);
    kernel.sockets.iter().flatten().filter(|other| other.id != id && Some(other.kind) == kind).any(|other| match &other
        .inet
    {
        Some(held) if held.port == port && overlap(held.address, address) => {
            !(reuse && other.reuse && held.state != TcpState::Listen)
        }
        _ => false,
    })
}

/// `inet_csk_find_open_port`: a port from the ephemeral range that no socket holds. Linux starts at a
/// random offset; the model takes the lowest, so runs stay reproducible (no call shows the number).
pub(crate) fn ephemeral_port(kernel: &Kernel, id: u32, address: u32) -> Option<u16> {
    (EPHEMERAL_LOW..=EPHEMERAL_HIGH).find(|port| !conflict(kernel, id, address, *port, false))
}

/// `__inet_bind`: the address must be `AF_INET` (`EAFNOSUPPORT` for a path) and this host's
/// (`EADDRNOTAVAIL`); a socket that has a port already, or is not closed, is `EINVAL`; a port another
/// socket holds is `EADDRINUSE` ([`conflict`]); port 0 takes one from the ephemeral range. (Ports below
/// 1024 need `CAP_NET_BIND_SERVICE`, which the check's processes have: they run as root.)
pub(crate) fn bind(kernel: &mut Kernel, id: u32, path: &str) -> Exec {
    let Some((address, port)) = parse_inet(path) else { return Kernel::error(EAFNOSUPPORT) };
    if !is_local_inet(address) {
        return Kernel::error(EADDRNOTAVAIL);
    }
    touch_ports(kernel);
    let held = *inet(kernel, id);
    if held.state != TcpState::Close || held.port != 0 {
        return Kernel::error(EINVAL);
    }
    let port = if port == 0 {
        match ephemeral_port(kernel, id, address) {
            Some(port) => port,
            None => return Kernel::error(EADDRINUSE),
        }
    } else if conflict(kernel, id, address, port, kernel.socket(id).expect("live").reuse) {
        return Kernel::error(EADDRINUSE);
    } else {
        port
    };
    let inet = inet(kernel, id);
    inet.address = address;
    inet.port = port;
    inet.address_locked = address != 0;
    inet.port_locked = parse_inet(path).is_some_and(|(_, asked)| asked != 0);
    Exec::Done(CallResult::Value { value: 0 })
}

/// `inet_listen`: only a socket that is closed or already listening (`EINVAL`); the first `listen`
/// takes the port again as a listener (`inet_csk_listen_start`: an unbound socket gets an ephemeral
/// port, and another socket listening on it is `EADDRINUSE`); the backlog is capped at `somaxconn`.
pub(crate) fn listen(kernel: &mut Kernel, pid: Pid, id: u32, backlog: i64) -> Exec {
    let socket = kernel.socket_mut(id);
    let held = *socket.inet.as_ref().expect("an AF_INET socket");
    let reuse = socket.reuse;
    if socket.peer != 0 || socket.peer_dead || !matches!(held.state, TcpState::Close | TcpState::Listen) {
        return Kernel::error(EINVAL);
    }
    let backlog = if (backlog as u64) > 4096 { 4096 } else { backlog as u32 };
    if held.state == TcpState::Close {
        touch_ports(kernel);
        let port = if held.port == 0 {
            match ephemeral_port(kernel, id, held.address) {
                Some(port) => port,
                None => return Kernel::error(EADDRINUSE),
            }
        } else {
            held.port
        };
        let taken = kernel.sockets.iter().flatten().any(|other| {
            other.id != id
                && other.kind == super::socket::SocketKind::Stream
                && other.inet.is_some_and(|inet| {
                    inet.port == port
                        && overlap(inet.address, held.address)
                        && !(reuse && other.reuse && inet.state != TcpState::Listen)
                })
        });
        if taken {
            return Kernel::error(EADDRINUSE);
        }
        let inet = inet(kernel, id);
        inet.port = port;
        inet.state = TcpState::Listen;
    }
    let socket = kernel.socket_mut(id);
    socket.listening = true;
    socket.backlog = backlog;
    // A TCP socket has no peer credentials (`sk_peer_pid` is for Unix-domain sockets).
    let _ = pid;
    Exec::Done(CallResult::Value { value: 0 })
}

/// The listener a segment to `address:port` reaches (`__inet_lookup_listener`): a socket listening on
/// that port on the same address or on `INADDR_ANY`.
fn listener_at(kernel: &Kernel, address: u32, port: u16) -> Option<u32> {
    let destination = if address == 0 { INADDR_LOOPBACK } else { address };
    kernel
        .sockets
        .iter()
        .flatten()
        .find(|socket| {
            socket.inet.is_some_and(|inet| {
                inet.state == TcpState::Listen && inet.port == port && overlap(inet.address, destination)
            }) && socket.shutdown & RCV_SHUTDOWN == 0
        })
        .map(|socket| socket.id)
}

/// `__inet_stream_connect` and `tcp_v4_connect`: a socket that is connected, or listening, is
/// `EISCONN`; a path is `EAFNOSUPPORT`. The socket takes an ephemeral port if it has none, and sends
/// its SYN: with nobody listening on that port the answer is a reset (`ECONNREFUSED`, and the socket is
/// closed again and may connect again); otherwise the listener makes the server's end
/// (`tcp_conn_request`, `tcp_check_req`), which waits `ESTABLISHED` in the accept queue, and the
/// client is `ESTABLISHED` when the call returns.
pub(crate) fn connect(kernel: &mut Kernel, pid: Pid, id: u32, path: &str, nonblock: bool, trace: &mut Trace) -> Exec {
    // `AF_UNSPEC` comes first in `__inet_stream_connect`, whatever the state: `tcp_disconnect` (a
    // listener stops listening and resets what waits to be accepted, a connection is reset), which the
    // model does not have.
    if path.is_empty() {
        return kernel.halt("not_modelled", "connect with AF_UNSPEC on a TCP socket is not modelled".to_string());
    }
    let socket = kernel.socket_mut(id);
    let held = *socket.inet.as_ref().expect("an AF_INET socket");
    if held.state == TcpState::SynSent {
        // `SS_CONNECTING` while its SYN waits to be sent again (after `EINPROGRESS`, or a call
        // interrupted by a signal, or made again): a blocking call waits on, a non-blocking one is
        // `EALREADY`.
        if nonblock {
            return Kernel::error(EALREADY);
        }
        return Exec::Block(BlockReason::SocketBacklog { socket: syn_listener(kernel, held) });
    }
    if held.connecting {
        // `SS_CONNECTING` after an `EINPROGRESS`, the handshake over: this call reports it, its error
        // once, or 0 and connected from now on.
        inet(kernel, id).connecting = false;
        return match kernel.socket_mut(id).error.take() {
            Some(errno) => Kernel::error(errno),
            None => Exec::Done(CallResult::Value { value: 0 }),
        };
    }
    if held.state != TcpState::Close || socket.peer != 0 {
        return Kernel::error(EISCONN);
    }
    let Some((address, port)) = parse_inet(path) else { return Kernel::error(EAFNOSUPPORT) };
    if !is_local_inet(address) {
        // Only the loopback is modelled; another address would leave this host.
        let detail = format!("a connect to {path} would leave this host: only the loopback (127.0.0.0/8) is modelled");
        return kernel.halt("not_modelled", detail);
    }
    touch_ports(kernel);
    // The source address is the destination's (on the loopback a route to 127.x.y.z leaves from it);
    // a socket bound to `INADDR_ANY` gets it now (`inet_bhash2_update_saddr`).
    let destination = if address == 0 { INADDR_LOOPBACK } else { address };
    if held.port == 0 {
        let Some(ephemeral) = ephemeral_port(kernel, id, destination) else { return Kernel::error(EAGAIN) };
        inet(kernel, id).port = ephemeral;
    }
    if inet(kernel, id).address == 0 {
        inet(kernel, id).address = destination;
    }
    if (inet(kernel, id).address, inet(kernel, id).port) == (destination, port) {
        let detail =
            "a TCP socket connecting to its own address and port (a simultaneous open) is not modelled".to_string();
        return kernel.halt("not_modelled", detail);
    }
    let Some(listener) = listener_at(kernel, address, port) else {
        // The SYN is answered with a reset (`tcp_v4_send_reset`): refused, and the socket is closed
        // again (`tcp_done`, `tcp_disconnect`): the port and address it took for itself are free.
        let client = end_of(kernel, id);
        segment(kernel, trace, pid, client, (0, port), SEGMENT_SYN, 0);
        segment(kernel, trace, pid, (0, port), client, SEGMENT_RST | SEGMENT_ACK, 0);
        let inet = inet(kernel, id);
        if !inet.port_locked {
            inet.port = 0;
        }
        if !inet.address_locked {
            inet.address = 0;
        }
        if nonblock {
            // `EINPROGRESS` now; the next `connect` reports the refusal.
            inet.connecting = true;
            kernel.socket_mut(id).error = Some(ECONNREFUSED);
            return Kernel::error(EINPROGRESS);
        }
        return Kernel::error(ECONNREFUSED);
    };
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(listener));
    }
    let target = kernel.socket(listener).expect("found alive");
    // `sk_acceptq_is_full`: more than the backlog waiting. The listener drops the SYN
    // (`tcp_conn_request`), and the client's timer sends it again (see `syn_timer`).
    if target.pending.len() as u32 > target.backlog {
        let client = end_of(kernel, id);
        segment(kernel, trace, pid, client, end_of(kernel, listener), SEGMENT_SYN | SEGMENT_DROPPED, 0);
        let now = kernel.now_in_step();
        let inet = inet(kernel, id);
        inet.state = TcpState::SynSent;
        inet.peer_address = destination;
        inet.peer_port = port;
        inet.syn_at = now;
        inet.syn_retransmits = 0;
        kernel.set_timer(pid, now + SYN_RETRANSMITS_MS[0] * 1_000_000, TimerKind::SynRetransmit { socket: id });
        if nonblock {
            // `EINPROGRESS`; the timer goes on, and the `connect` after the outcome reports it.
            return Kernel::error(EINPROGRESS);
        }
        return Exec::Block(BlockReason::SocketBacklog { socket: listener });
    }
    establish(kernel, pid, id, listener, destination, trace);
    if nonblock {
        // A non-blocking connect returns while the socket is still `SYN_SENT` (the SYN-ACK waits in the
        // socket's backlog until the call lets go of it): `EINPROGRESS`, and the next `connect` says 0.
        inet(kernel, id).connecting = true;
        return Kernel::error(EINPROGRESS);
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// When a SYN that a full accept queue dropped goes again, in milliseconds after the first one
/// (`tcp_retransmit_timer`): the initial timeout of 1 s (`TCP_TIMEOUT_INIT`) is kept for the first
/// `tcp_syn_linear_timeouts` (4) timeouts and the one after, then doubles (`icsk_rto << 1`).
pub const SYN_RETRANSMITS_MS: [u64; 10] = [1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000, 35000, 67000];
/// When the connect gives up with `ETIMEDOUT`: the timeout after the last of `tcp_syn_retries` (6) plus
/// `tcp_syn_linear_timeouts` (4) retransmissions (`tcp_write_timeout`).
pub const SYN_GIVE_UP_MS: u64 = 131_000;

/// The listener a socket in `SYN_SENT` is trying to reach now (0 for none: its next SYN is refused).
fn syn_listener(kernel: &Kernel, held: Inet) -> u32 {
    listener_at(kernel, held.peer_address, held.peer_port).unwrap_or(0)
}

/// The SYN timer of socket `id` in `SYN_SENT` fires (`tcp_retransmit_timer`, `tcp_write_timeout`): the
/// SYN goes again, to whoever listens on the destination now; room in the accept queue completes the
/// handshake, nobody listening is a reset (`ECONNREFUSED`), a full queue drops it again until the
/// retransmissions are spent (`ETIMEDOUT`). An outcome wakes `pid` if it still sleeps in the `connect`,
/// which reports it (as after `EINPROGRESS`).
pub(crate) fn syn_timer(kernel: &mut Kernel, id: u32, pid: Pid, trace: &mut Trace) {
    let Some(held) = kernel.socket(id).and_then(|socket| socket.inet) else { return };
    if held.state != TcpState::SynSent {
        return;
    }
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    touch_ports(kernel);
    let client = end_of(kernel, id);
    let outcome = if held.syn_retransmits as usize == SYN_RETRANSMITS_MS.len() {
        Some(ETIMEDOUT)
    } else {
        inet(kernel, id).syn_retransmits += 1;
        match listener_at(kernel, held.peer_address, held.peer_port) {
            None => {
                segment(kernel, trace, pid, client, (0, held.peer_port), SEGMENT_SYN, 0);
                segment(kernel, trace, pid, (0, held.peer_port), client, SEGMENT_RST | SEGMENT_ACK, 0);
                Some(ECONNREFUSED)
            }
            Some(listener) => {
                if kernel.footprint.enabled {
                    kernel.footprint.write(ObjectRef::socket(listener));
                }
                let target = kernel.socket(listener).expect("found alive");
                if target.pending.len() as u32 > target.backlog {
                    segment(kernel, trace, pid, client, end_of(kernel, listener), SEGMENT_SYN | SEGMENT_DROPPED, 0);
                    let sent = held.syn_retransmits as usize + 1;
                    let after = SYN_RETRANSMITS_MS.get(sent).copied().unwrap_or(SYN_GIVE_UP_MS);
                    kernel.set_timer(pid, held.syn_at + after * 1_000_000, TimerKind::SynRetransmit { socket: id });
                    return;
                }
                establish(kernel, pid, id, listener, held.peer_address, trace);
                None
            }
        }
    };
    let inet = inet(kernel, id);
    inet.connecting = true;
    inet.syn_at = 0;
    inet.syn_retransmits = 0;
    if let Some(errno) = outcome {
        // Closed again (`tcp_done`): the port and address it took for itself are free.
        inet.dissociate();
        kernel.socket_mut(id).error = Some(errno);
    }
    // `tcp_finish_connect` or `tcp_done`: the socket's state changed (`sk_state_change`), which its
    // pollers and epoll items hear.
    super::socket::state_changed(kernel, id, pid, trace);
    let asleep = matches!(kernel.process(pid).state, super::ProcState::Blocked(BlockReason::SocketBacklog { .. }))
        && kernel
            .process(pid)
            .fds
            .iter()
            .flatten()
            .any(|entry| kernel.file(entry.file).object == FileObject::Socket(id));
    if asleep {
        kernel.wake(pid, pid, WakeCause::Timer, trace);
    }
}

/// The three-way handshake of client `id` with `listener`, which has room: the server's end is made
/// (`tcp_conn_request`, `tcp_check_req`), waits `ESTABLISHED` in the accept queue, and the client is
/// `ESTABLISHED`.
fn establish(kernel: &mut Kernel, pid: Pid, id: u32, listener: u32, destination: u32, trace: &mut Trace) {
    let target = kernel.socket(listener).expect("found alive");
    let listener_inet = target.inet.expect("a listener is AF_INET");
    // The new end is a copy of the listener (`sk_clone_lock`): its `SO_REUSEADDR` and buffer sizes.
    let (reuse, sndbuf, rcvbuf) = (target.reuse, target.sndbuf, target.rcvbuf);
    let client = *inet(kernel, id);
    let server = kernel.sockets.len() as u32 + 1;
    let mut end = Socket::new_inet(server, id);
    end.files = 0;
    end.reuse = reuse;
    end.sndbuf = sndbuf;
    end.rcvbuf = rcvbuf;
    end.inet = Some(Inet {
        state: TcpState::Established,
        // The address the client connected to (`ireq->ir_loc_addr`).
        address: destination,
        port: listener_inet.port,
        peer_port: client.port,
        sizes_set: listener_inet.sizes_set,
        ..Inet::new()
    });
    kernel.sockets.push(Some(end));
    let client_inet = inet(kernel, id);
    client_inet.state = TcpState::Established;
    client_inet.peer_port = listener_inet.port;
    kernel.socket_mut(id).peer = server;
    kernel.socket_mut(listener).pending.push_back(server);
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(server));
    }
    // The three-way handshake: the SYN reaches the listener, which answers for the new end.
    let (client, server_end) = (end_of(kernel, id), end_of(kernel, server));
    segment(kernel, trace, pid, client, end_of(kernel, listener), SEGMENT_SYN, 0);
    segment(kernel, trace, pid, server_end, client, SEGMENT_SYN | SEGMENT_ACK, 0);
    segment(kernel, trace, pid, client, server_end, SEGMENT_ACK, 0);
    super::socket::partner_arrived(kernel, listener, pid, trace);
}

/// `sk_stream_error`: an `EPIPE` raises `SIGPIPE` unless `MSG_NOSIGNAL`.
fn stream_error(kernel: &mut Kernel, pid: Pid, errno: Errno, flags: i64) -> Exec {
    if errno == EPIPE && flags & MSG_NOSIGNAL == 0 {
        kernel.defer_signal(super::signal::Sent::no_reader(pid));
    }
    Kernel::error(errno)
}

/// `tcp_sendmsg_locked`: a socket that is neither `ESTABLISHED` nor `CLOSE_WAIT` reports its pending
/// error, else `EPIPE` (`sk_stream_wait_connect`); so does one shut for writing. A send to a peer whose
/// program has closed it (an orphan, waiting in `FIN_WAIT2`) is taken whole, and the orphan answers the
/// data with a reset (`tcp_timewait_state_process`: new data after a half-duplex close), which this
/// socket takes in `CLOSE_WAIT` as `EPIPE` for its next call (`tcp_reset`). Otherwise the bytes go to
/// the peer's receive queue.
pub(crate) fn send(
    kernel: &mut Kernel,
    pid: Pid,
    id: u32,
    payload: &crate::lang::ast::Payload,
    flags: i64,
    trace: &mut Trace,
) -> Exec {
    let socket = kernel.socket_mut(id);
    let held = socket.inet.expect("an AF_INET socket");
    if !matches!(held.state, TcpState::Established | TcpState::CloseWait) {
        let errno = socket.error.take().unwrap_or(EPIPE);
        return stream_error(kernel, pid, errno, flags);
    }
    if let Some(errno) = socket.error.take() {
        return stream_error(kernel, pid, errno, flags);
    }
    if socket.shutdown & SEND_SHUTDOWN != 0 {
        return stream_error(kernel, pid, EPIPE, flags);
    }
    let peer = socket.peer;
    let orphan = kernel.socket(peer).and_then(|peer| peer.inet).is_some_and(|inet| inet.orphan);
    if orphan {
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::socket(peer));
        }
        let total = payload.len();
        if total > 0 {
            let (ours, theirs) = (end_of(kernel, id), end_of(kernel, peer));
            segment(kernel, trace, pid, ours, theirs, SEGMENT_PSH | SEGMENT_ACK, total);
            segment(kernel, trace, pid, theirs, ours, SEGMENT_RST, 0);
            reset(kernel, id, pid, trace);
            destroy(kernel, peer, pid, trace);
        }
        return Exec::Done(CallResult::Value { value: total as i64 });
    }
    // On the loopback, what a connection sends reaches the peer's receive queue within the call, as
    // long as the peer's window takes it: 64 KiB at first (`tcp_rmem[1]`, half of it advertised, and the
    // rest in the sender's queue, whose buffer grows as the connection is made, `tcp_sndbuf_expand`).
    // Below that nothing waits; past it, when a sender would wait depends on windows and autotuning
    // the model does not follow, so the run stops there and says so.
    let total = payload.len();
    let queued = kernel.socket(peer).map_or(0, |peer| peer.queued);
    if queued as u64 + total as u64 > TCP_UNREAD_MODELLED {
        let detail = format!(
            "this send would leave more than {TCP_UNREAD_MODELLED} bytes unread on a TCP connection: when Linux \
             makes the sender wait then depends on its windows and buffer autotuning, which are not modelled"
        );
        return kernel.halt("not_modelled", detail);
    }
    if total > 0 {
        if kernel.bytes_in_flight + kernel.socket_bytes() + total as u64 > kernel.limits.max_bytes_in_flight {
            let detail = format!(
                "this send would hold more than {} bytes in kernel buffers at once",
                kernel.limits.max_bytes_in_flight
            );
            return kernel.halt("max_bytes_in_flight", detail);
        }
        let (ours, theirs) = (end_of(kernel, id), end_of(kernel, peer));
        segment(kernel, trace, pid, ours, theirs, SEGMENT_PSH | SEGMENT_ACK, total);
        super::socket::deliver_stream(kernel, pid, id, peer, payload, trace);
    }
    Exec::Done(CallResult::Value { value: total as i64 })
}

/// The most a TCP connection may hold unread in the model (see [`send`]).
pub const TCP_UNREAD_MODELLED: u64 = 65_536;

/// `tcp_recvmsg_locked` with nothing queued: a listening socket is `ENOTCONN`; then, in this order, the
/// peer's FIN (`SOCK_DONE`) is end of file, a pending error is returned once, a socket shut for reading
/// (by `shutdown`, or by a reset) is end of file, and a closed socket is `ENOTCONN`. `None`: the call
/// goes on (it waits, or is `EAGAIN`).
pub(crate) fn recv_nothing_queued(kernel: &mut Kernel, id: u32, trace: &mut Trace) -> Option<Exec> {
    let socket = kernel.socket_mut(id);
    let inet = socket.inet.expect("an AF_INET socket");
    if inet.state == TcpState::Listen {
        return Some(Kernel::error(ENOTCONN));
    }
    if inet.fin_received {
        return Some(Exec::Done(trace.record_data(&[])));
    }
    if let Some(errno) = socket.error.take() {
        return Some(Kernel::error(errno));
    }
    if socket.shutdown & RCV_SHUTDOWN != 0 {
        return Some(Exec::Done(trace.record_data(&[])));
    }
    if inet.state == TcpState::Close {
        return Some(Kernel::error(ENOTCONN));
    }
    None
}

/// The FIN of socket `id` reaches its peer (`tcp_fin`): the peer reads to end of file and moves to
/// `CLOSE_WAIT`, or, if it had sent its own FIN already, to `TIME_WAIT`; this side moves to
/// `FIN_WAIT2` when the peer acknowledges it, or, answering a FIN, is done (`LAST_ACK` then closed).
fn send_fin(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    let peer = kernel.socket_mut(id).peer;
    let state = inet(kernel, id).state;
    let peer_alive = peer != 0 && kernel.socket(peer).is_some();
    if peer_alive {
        let (ours, theirs) = (end_of(kernel, id), end_of(kernel, peer));
        segment(kernel, trace, by, ours, theirs, SEGMENT_FIN | SEGMENT_ACK, 0);
        segment(kernel, trace, by, theirs, ours, SEGMENT_ACK, 0);
    }
    // The peer takes the FIN (`tcp_fin`): end of file for its reader, and its next state.
    let (mine, from, to) = match state {
        TcpState::Established => (TcpState::FinWait2, TcpState::Established, TcpState::CloseWait),
        // `LAST_ACK`, and the peer's ACK ends it: this socket is closed; the peer, in `FIN_WAIT2`, goes
        // to `TIME_WAIT`.
        TcpState::CloseWait => (TcpState::Close, TcpState::FinWait2, TcpState::TimeWait),
        _ => return,
    };
    inet(kernel, id).state = mine;
    if peer_alive {
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::socket(peer));
        }
        let theirs = inet(kernel, peer);
        theirs.fin_received = true;
        if theirs.state == from {
            theirs.state = to;
        }
        kernel.socket_mut(peer).shutdown |= RCV_SHUTDOWN;
        super::socket::state_changed(kernel, peer, by, trace);
    }
}

/// A reset reaches socket `id` (`tcp_reset`): its pending error by state (`ECONNREFUSED` in `SYN_SENT`,
/// `EPIPE` in `CLOSE_WAIT`, `ECONNRESET` otherwise, nothing once closed), and it is done (`tcp_done`:
/// closed, shut both ways, its sleepers woken). What it had received stays readable. An orphan is
/// gone at once, and its port with it.
fn reset(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    if inet(kernel, id).orphan {
        destroy(kernel, id, by, trace);
        return;
    }
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(id));
    }
    let state = inet(kernel, id).state;
    let errno = match state {
        TcpState::Close | TcpState::TimeWait => return,
        TcpState::CloseWait => EPIPE,
        _ => ECONNRESET,
    };
    let socket = kernel.socket_mut(id);
    socket.error = Some(errno);
    socket.shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
    socket.peer_dead = true;
    inet(kernel, id).state = TcpState::Close;
    super::socket::state_changed(kernel, id, by, trace);
}

/// An orphan whose connection is over goes (`inet_csk_destroy_sock`), and its port with it.
fn destroy(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    touch_ports(kernel);
    super::socket::release_now(kernel, id, by, trace);
}

/// `inet_shutdown` and `tcp_shutdown`: `EINVAL` for an unknown direction; a closed socket is `ENOTCONN`
/// (and is marked all the same); `SHUT_WR` (or `SHUT_RDWR`) on a connection sends the FIN; `SHUT_RD`
/// on a listener stops it listening. `SHUT_RD` sends nothing to the peer.
pub(crate) fn shutdown(kernel: &mut Kernel, pid: Pid, id: u32, how: i64, trace: &mut Trace) -> Exec {
    if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
        return Kernel::error(EINVAL);
    }
    let mode = (how + 1) as u8;
    let state = inet(kernel, id).state;
    let result = match state {
        TcpState::Close => {
            kernel.socket_mut(id).shutdown |= mode;
            Kernel::error(ENOTCONN)
        }
        TcpState::Listen => {
            if mode & RCV_SHUTDOWN != 0 {
                stop_listening(kernel, id, pid, trace);
            }
            Exec::Done(CallResult::Value { value: 0 })
        }
        _ => {
            let before = kernel.socket_mut(id).shutdown;
            kernel.socket_mut(id).shutdown |= mode;
            if mode & SEND_SHUTDOWN != 0 && before & SEND_SHUTDOWN == 0 {
                send_fin(kernel, id, pid, trace);
            }
            Exec::Done(CallResult::Value { value: 0 })
        }
    };
    super::socket::state_changed(kernel, id, pid, trace);
    result
}

/// `inet_csk_listen_stop`: the connections nobody accepted are reset (their clients get
/// `ECONNRESET`), and the socket is closed.
fn stop_listening(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) {
    touch_ports(kernel);
    let pending: Vec<u32> = kernel.socket_mut(id).pending.drain(..).collect();
    for child in pending {
        let client = kernel.socket_mut(child).peer;
        if client != 0 && kernel.socket(client).is_some() {
            let (ours, theirs) = (end_of(kernel, child), end_of(kernel, client));
            segment(kernel, trace, by, ours, theirs, SEGMENT_RST | SEGMENT_ACK, 0);
            reset(kernel, client, by, trace);
        }
        super::socket::release_now(kernel, child, by, trace);
    }
    let socket = kernel.socket_mut(id);
    socket.listening = false;
    inet(kernel, id).state = TcpState::Close;
}

/// The last descriptor of TCP socket `id` closed (`tcp_close`): a listener stops listening; a socket
/// with unread data resets its peer and is gone at once (`tcp_send_active_reset`); a connection sends
/// its FIN and waits, orphaned, in `FIN_WAIT2` (or, answering the peer's FIN, is done); a socket with
/// no connection is gone. Returns whether the socket stays (as an orphan).
pub(crate) fn close(kernel: &mut Kernel, id: u32, by: Pid, trace: &mut Trace) -> bool {
    let state = inet(kernel, id).state;
    let peer = kernel.socket_mut(id).peer;
    let peer_alive = peer != 0 && kernel.socket(peer).is_some();
    touch_ports(kernel);
    match state {
        TcpState::Listen => {
            stop_listening(kernel, id, by, trace);
            false
        }
        TcpState::Established | TcpState::CloseWait | TcpState::FinWait2 if !kernel.socket_mut(id).queue.is_empty() => {
            if peer_alive {
                let (ours, theirs) = (end_of(kernel, id), end_of(kernel, peer));
                segment(kernel, trace, by, ours, theirs, SEGMENT_RST | SEGMENT_ACK, 0);
                reset(kernel, peer, by, trace);
            }
            false
        }
        TcpState::Established | TcpState::CloseWait => {
            if kernel.socket_mut(id).shutdown & SEND_SHUTDOWN == 0 {
                send_fin(kernel, id, by, trace);
            }
            kernel.socket_mut(id).shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
            let after = inet(kernel, id).state;
            // Answering the peer's FIN, the connection is over here; the peer, an orphan in
            // `FIN_WAIT2`, moved to `TIME_WAIT` and stays.
            if after == TcpState::FinWait2 {
                inet(kernel, id).orphan = true;
                true
            } else {
                false
            }
        }
        TcpState::FinWait2 => {
            // Shut for writing earlier, the FIN already sent: it waits for the peer's.
            inet(kernel, id).orphan = true;
            kernel.socket_mut(id).shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
            true
        }
        TcpState::TimeWait => {
            inet(kernel, id).orphan = true;
            true
        }
        TcpState::SynSent => {
            // Nothing is sent (`tcp_close_state`: `SYN_SENT` goes to `CLOSE`); the SYN timer stops.
            kernel.cancel_syn_timer(id);
            false
        }
        TcpState::Close => false,
    }
}

/// The invariants of a TCP socket: an orphan has no open file and waits in `FIN_WAIT2` or `TIME_WAIT`;
/// a socket listens exactly when it is in `LISTEN`; a socket in a connection holds a port; and the two
/// ends of a connection are in states TCP's diagram puts together (both `ESTABLISHED`; `FIN_WAIT2`
/// against `CLOSE_WAIT`; `TIME_WAIT` against a closed end or none).
pub(crate) fn check(kernel: &Kernel, socket: &Socket, inet: Inet) -> Result<(), String> {
    let id = socket.id;
    if inet.orphan && (socket.files != 0 || !matches!(inet.state, TcpState::FinWait2 | TcpState::TimeWait)) {
        return Err(format!("TCP socket {id} is an orphan in {} with {} files", inet.state.name(), socket.files));
    }
    if (inet.state == TcpState::Listen) != socket.listening {
        return Err(format!("TCP socket {id} is in {} but listening is {}", inet.state.name(), socket.listening));
    }
    if inet.state != TcpState::Close && inet.port == 0 {
        return Err(format!("TCP socket {id} is in {} without a port", inet.state.name()));
    }
    // A SYN waiting to go again has its timer, and only then.
    let timed = kernel.timers.iter().any(|timer| timer.kind == super::time::TimerKind::SynRetransmit { socket: id });
    if (inet.state == TcpState::SynSent) != timed {
        return Err(format!("TCP socket {id} is in {} and has a SYN timer: {timed}", inet.state.name()));
    }
    let peer = if socket.peer_dead { None } else { kernel.socket(socket.peer).and_then(|peer| peer.inet) };
    let together = match (inet.state, peer.map(|peer| peer.state)) {
        (TcpState::Established, Some(TcpState::Established))
        | (TcpState::FinWait2, Some(TcpState::CloseWait))
        | (TcpState::CloseWait, Some(TcpState::FinWait2))
        | (TcpState::TimeWait | TcpState::Close, None | Some(TcpState::Close))
        | (TcpState::Close, Some(TcpState::TimeWait))
        | (TcpState::Listen | TcpState::SynSent, None) => true,
        // A connection whose other end is gone (reset, or closed after it answered the FIN).
        (TcpState::Established | TcpState::CloseWait | TcpState::FinWait2, None) => socket.peer_dead,
        _ => false,
    };
    if !together {
        let other = peer.map_or("none", |peer| peer.state.name());
        return Err(format!("TCP socket {id} is in {} while its peer is in {other}", inet.state.name()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::run_round_robin as simulation;

    /// The TCP states and ports of every socket in the table, by id.
    fn states(simulation: &crate::Simulation) -> Vec<(u32, &'static str, u16, bool)> {
        let kernel = simulation.kernel();
        kernel
            .sockets
            .iter()
            .flatten()
            .filter_map(|socket| socket.inet.map(|inet| (socket.id, inet.state.name(), inet.port, inet.orphan)))
            .collect()
    }

    #[test]
    fn the_side_that_closes_first_waits_in_time_wait_holding_its_port_and_the_other_side_goes() {
        // One process plays both sides, so the order is exactly this.
        let simulation = simulation(
            "expect deadlock\nprocess p {\n  l = socket AF_INET SOCK_STREAM\n  bind l \"127.0.0.1:7000\" -> 0\n  \
             listen l 0 -> 0\n  c = socket AF_INET SOCK_STREAM\n  connect c \"127.0.0.1:7000\" -> 0\n  \
             s = accept l -> 5\n  close s -> 0\n  recv c 10 -> 0\n  close l -> 0\n  \
             n = socket AF_INET SOCK_STREAM\n  bind n \"127.0.0.1:7000\" -> EADDRINUSE\n  close c -> 0\n  \
             bind n \"127.0.0.1:7000\" -> EADDRINUSE\n  bind n \"127.0.0.1:7001\" -> 0\n  \
             hold = pipe\n  read hold.r 1\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        // The server's end (socket 3) closed first: FIN_WAIT2, then TIME_WAIT once the client closed,
        // an orphan on port 7000; the client's socket is gone; the new socket holds 7001.
        assert_eq!(states(&simulation), [(3, "TIME_WAIT", 7000, true), (4, "CLOSED", 7001, false)]);
    }

    #[test]
    fn a_connect_takes_the_lowest_free_ephemeral_port_and_gives_it_back_when_refused() {
        let simulation = simulation(
            "expect deadlock\nprocess p {\n  c = socket AF_INET SOCK_STREAM\n  \
             connect c \"127.0.0.1:9\" -> ECONNREFUSED\n  l = socket AF_INET SOCK_STREAM\n  \
             bind l \"0.0.0.0:9\" -> 0\n  listen l 1 -> 0\n  connect c \"127.0.0.1:9\" -> 0\n  \
             connect c \"127.0.0.1:9\" -> EISCONN\n  hold = pipe\n  read hold.r 1\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        let kernel = simulation.kernel();
        let client = kernel.socket(1).and_then(|socket| socket.inet).expect("the client");
        assert_eq!((client.state, client.port, client.peer_port), (TcpState::Established, EPHEMERAL_LOW, 9));
        let server = kernel.socket(3).and_then(|socket| socket.inet).expect("the server's end");
        assert_eq!((server.state, server.port, server.peer_port), (TcpState::Established, 9, EPHEMERAL_LOW));
        assert_eq!(kernel.socket(2).expect("the listener").pending.iter().copied().collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn what_is_not_modelled_ends_the_run_and_says_so() {
        for (call, words) in [
            ("socket AF_INET 3", "raw sockets"),
            ("connect s \"10.0.0.1:80\"", "leave this host"),
            ("connect s AF_UNSPEC", "AF_UNSPEC"),
            // `__inet_stream_connect` looks at `AF_UNSPEC` before the state: a listener is no `EISCONN`.
            ("bind s \"127.0.0.1:7000\"\n  listen s 1\n  connect s AF_UNSPEC", "AF_UNSPEC"),
        ] {
            let text = format!("process p {{\n  s = socket AF_INET SOCK_STREAM\n  {call}\n}}\n");
            let simulation = simulation(&text);
            match simulation.outcome() {
                Some(crate::RunOutcome::LimitReached { limit, detail }) => {
                    assert_eq!(limit, "not_modelled");
                    assert!(detail.contains(words), "{detail}");
                }
                other => panic!("{call}: {other:?}"),
            }
        }
    }

    #[test]
    fn states_print_as_tcp_s_diagram_names_them() {
        assert_eq!(TcpState::TimeWait.name(), "TIME_WAIT");
        assert_eq!(TcpState::CloseWait.name(), "CLOSE_WAIT");
        let words = [
            Inet::new(),
            Inet { orphan: true, ..Inet::new() },
            Inet { sizes_set: 2, ..Inet::new() },
            Inet { address: 0x7f01_0001, ..Inet::new() },
            Inet { address: 0x7f00_0001, ..Inet::new() },
            Inet { syn_retransmits: 1, ..Inet::new() },
            Inet { syn_at: 5, ..Inet::new() },
        ]
        .map(|inet| inet.hash_words());
        for (at, one) in words.iter().enumerate() {
            assert!(words[at + 1..].iter().all(|other| other != one), "{words:?}");
        }
    }

    /// The run's text, for the sentences a test looks for.
    fn text_of(simulation: &crate::Simulation) -> String {
        crate::present::render::trace_text(simulation.program(), simulation.trace())
    }

    const FULL_LISTENER: &str =
        "  l = socket AF_INET SOCK_STREAM\n  bind l \"127.0.0.1:7000\" -> 0\n  listen l 0 -> 0\n  \
                                 a = socket AF_INET SOCK_STREAM\n  connect a \"127.0.0.1:7000\" -> 0\n";

    #[test]
    fn a_syn_to_a_full_accept_queue_is_dropped_and_the_next_one_after_a_second_finds_room() {
        // The client's SYN is dropped; main makes room and sleeps in accept; nothing wakes the client
        // but its timer, 1 s after its first SYN.
        let simulation = simulation(&format!(
            "process main expect exited 0 {{\n{FULL_LISTENER}  p = pipe\n  fork c expect exited 0 {{\n    \
             b = socket AF_INET SOCK_STREAM\n    write p.w \"x\" -> 1\n    connect b \"127.0.0.1:7000\" -> 0\n  }}\n  \
             read p.r 1 -> \"x\"\n  sched_yield\n  sched_yield\n  x = accept l\n  y = accept l\n  wait\n}}\n"
        ));
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        let text = text_of(&simulation);
        assert_eq!(text.matches("so the SYN is dropped").count(), 1, "{text}");
        assert!(text.contains("time jumps to 1.0"), "{text}");
        assert!(simulation.kernel().timers.is_empty());
    }

    #[test]
    fn a_syn_dropped_again_waits_for_the_next_retransmission_and_the_last_gives_etimedout() {
        // Nobody accepts: the SYN goes at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35 and 67 s, and the connect
        // gives up at 131 s.
        let simulation = simulation(&format!(
            "process main expect exited 0 {{\n{FULL_LISTENER}  b = socket AF_INET SOCK_STREAM\n  \
             fork c expect exited 0 {{\n    connect b \"127.0.0.1:7000\" -> ETIMEDOUT\n    \
             send b \"x\" MSG_NOSIGNAL -> EPIPE\n  }}\n  wait\n}}\n"
        ));
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        let text = text_of(&simulation);
        assert_eq!(text.matches("so the SYN is dropped").count(), 11, "{text}");
        for at in [1, 2, 3, 4, 5, 7, 11, 19, 35, 67, 131] {
            assert!(text.contains(&format!("time jumps to {at}.0")), "{at}: {text}");
        }
    }

    #[test]
    fn a_listener_gone_before_the_syn_goes_again_refuses_it_and_a_close_in_syn_sent_stops_the_timer() {
        let simulation = simulation(&format!(
            "process main expect exited 0 {{\n{FULL_LISTENER}  p = pipe\n  fork c expect exited 0 {{\n    close l\n    \
             b = socket AF_INET SOCK_STREAM\n    write p.w \"x\" -> 1\n    connect b \"127.0.0.1:7000\" -> ECONNREFUSED\n  }}\n  \
             read p.r 1 -> \"x\"\n  sched_yield\n  sched_yield\n  close l -> 0\n  wait\n}}\n"
        ));
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        assert!(simulation.kernel().timers.is_empty());
    }
}
