//! UDP over the loopback: `AF_INET` datagram sockets.
//!
//! A UDP socket is a [`Socket`] of kind `Dgram` with an [`Inet`] part; its port is taken in the UDP
//! table, apart from TCP's ([`super::tcp::conflict`] compares sockets of one kind). The rules follow
//! `net/ipv4/udp.c`, `net/ipv4/datagram.c` and `net/ipv4/af_inet.c` of Linux 6.18, each cited at the
//! function that has it.
//!
//! A datagram goes to the socket bound to its destination port (a connected one only if the datagram
//! comes from its peer, `compute_score`), whole or not at all; a sender never waits for a receiver
//! (on the loopback its buffer is given back within the send, `skb_orphan` in `loopback_xmit`). With
//! nobody on the port, the receiving side answers with an ICMP port unreachable, which a *connected*
//! sender takes as `ECONNREFUSED` for its next call (`__udp4_lib_err`); an unconnected one never hears
//! of it. Both happen within the sending call, as on the loopback the softirq runs before the call
//! returns.
//!
//! Not modelled, each ending the run with a located message: a receive queue near its limit (Linux
//! drops datagrams once the memory they take passes `SO_RCVBUF`, a size that depends on the buffers'
//! shapes), two sockets sharing a port through `SO_REUSEADDR` that could both take a datagram, and
//! addresses off this host.

use super::socket::{Socket, SocketKind, SEND_SHUTDOWN};
use super::tcp::{end_of, inet, overlap, segment, touch_ports, Inet, TcpState};
use super::{Exec, Kernel};
use crate::lang::ast::Payload;
use crate::linux::errno::{EAFNOSUPPORT, EAGAIN, EDESTADDRREQ, EINVAL, EMSGSIZE, ENOTCONN, EPIPE};
use crate::linux::socket::{is_local_inet, parse_inet, INADDR_LOOPBACK, SHUT_RD, SHUT_RDWR, UDP_MAX_PAYLOAD};
use crate::trace::{CallResult, ObjectRef, Pid, Trace, SEGMENT_ICMP_UNREACHABLE, SEGMENT_UDP};
use std::sync::Arc;

/// A UDP socket (`inet_create` with `udp_prot`): the default buffers of any socket
/// (`sock_init_data`: `wmem_default`, `rmem_default`).
pub(crate) fn new_socket(id: u32) -> Socket {
    let mut socket = Socket::new_inet(id, 0);
    socket.kind = SocketKind::Dgram;
    socket.sndbuf = crate::linux::socket::WMEM_DEFAULT;
    socket.rcvbuf = crate::linux::socket::RMEM_DEFAULT;
    socket
}

/// `inet_autobind`: a socket with no port takes one from the ephemeral range (`EAGAIN` if none is
/// free); its address stays `INADDR_ANY`.
fn autobind(kernel: &mut Kernel, id: u32) -> Result<(), Exec> {
    if inet(kernel, id).port != 0 {
        return Ok(());
    }
    touch_ports(kernel);
    let address = inet(kernel, id).address;
    match super::tcp::ephemeral_port(kernel, id, address) {
        Some(port) => {
            inet(kernel, id).port = port;
            Ok(())
        }
        None => Err(Kernel::error(EAGAIN)),
    }
}

/// `inet_dgram_connect` and `__ip4_datagram_connect`: `AF_UNSPEC` disconnects (`udp_disconnect`: the
/// address and port the kernel chose are given back, those the program bound are kept); otherwise the
/// socket takes a port if it has none, then the address must be `AF_INET` (`EAFNOSUPPORT`), and the
/// socket's default destination becomes it (no `EISCONN`: a UDP socket may connect again), its local
/// address filled in. Nothing is sent: the other side is not told.
pub(crate) fn connect(kernel: &mut Kernel, id: u32, path: &str) -> Exec {
    // Which datagrams reach which socket depends on every socket's destination.
    touch_ports(kernel);
    if path.is_empty() {
        let held = inet(kernel, id);
        let port_freed = !held.port_locked;
        held.dissociate();
        if port_freed {
            touch_ports(kernel);
        }
        return Exec::Done(CallResult::Value { value: 0 });
    }
    if let Err(failed) = autobind(kernel, id) {
        return failed;
    }
    let Some((address, port)) = parse_inet(path) else { return Kernel::error(EAFNOSUPPORT) };
    if !is_local_inet(address) {
        let detail = format!("a connect to {path} would leave this host: only the loopback (127.0.0.0/8) is modelled");
        return kernel.halt("not_modelled", detail);
    }
    let destination = if address == 0 { INADDR_LOOPBACK } else { address };
    let held = inet(kernel, id);
    if held.address == 0 {
        held.address = INADDR_LOOPBACK;
    }
    held.state = TcpState::Established;
    held.peer_address = destination;
    held.peer_port = port;
    Exec::Done(CallResult::Value { value: 0 })
}

/// The socket a datagram from `from` (address, port) to `address:port` reaches (`__udp4_lib_lookup`,
/// `compute_score`): one bound to that port on that address or `INADDR_ANY`, which, if connected, is
/// connected to the sender. `Err` when two could take it (a port shared through `SO_REUSEADDR`).
fn receiver_at(kernel: &Kernel, from: (u32, u16), address: u32, port: u16) -> Result<Option<u32>, ()> {
    let mut found = kernel.sockets.iter().flatten().filter(|socket| {
        socket.kind == SocketKind::Dgram
            && socket.inet.is_some_and(|inet| {
                inet.port == port
                    && overlap(inet.address, address)
                    && (inet.state != TcpState::Established || (inet.peer_address, inet.peer_port) == from)
            })
    });
    let first = found.next().map(|socket| socket.id);
    match found.next() {
        Some(_) => Err(()),
        None => Ok(first),
    }
}

/// The memory a queued datagram of `len` bytes takes at most in a receive queue (its `truesize`: the
/// buffer, a power-of-two `kmalloc` bucket holding the headers, the bytes and `struct
/// skb_shared_info`, plus `struct sk_buff`).
fn most_truesize(len: u32) -> u64 {
    2 * (len as u64 + 512) + 256
}

/// `inet_sendmsg` and `udp_sendmsg`: the socket takes a port if it has none (`inet_send_prepare`);
/// more than 65535 bytes is `EMSGSIZE`; the destination is `to`, or the connected peer
/// (`EDESTADDRREQ` for neither), an `AF_INET` address (`EAFNOSUPPORT`) with a port (`EINVAL` for 0);
/// more than 65507 bytes is `EMSGSIZE` (`__ip_append_data`); then a pending error is returned once and
/// nothing is sent, and a socket shut for writing is `EPIPE` (without `SIGPIPE`; `sock_alloc_send_pskb`).
/// The datagram then reaches its socket, or, with nobody there, the ICMP port unreachable that answers
/// it gives a connected sender `ECONNREFUSED` for later. Either way the send returns its length.
pub(crate) fn send(
    kernel: &mut Kernel,
    pid: Pid,
    id: u32,
    payload: &Payload,
    to: Option<Arc<str>>,
    trace: &mut Trace,
) -> Exec {
    if let Err(failed) = autobind(kernel, id) {
        return failed;
    }
    let len = payload.len();
    if len > u16::MAX as u32 {
        return Kernel::error(EMSGSIZE);
    }
    let held = *inet(kernel, id);
    let (address, port) = match &to {
        Some(path) => match parse_inet(path) {
            Some((_, 0)) => return Kernel::error(EINVAL),
            Some(destination) => destination,
            None => return Kernel::error(EAFNOSUPPORT),
        },
        None if held.state == TcpState::Established => (held.peer_address, held.peer_port),
        None => return Kernel::error(EDESTADDRREQ),
    };
    if !is_local_inet(address) {
        let detail = format!(
            "a datagram to {}:{port} would leave this host: only the loopback (127.0.0.0/8) is modelled",
            crate::linux::socket::inet_text(address)
        );
        return kernel.halt("not_modelled", detail);
    }
    if len > UDP_MAX_PAYLOAD {
        return Kernel::error(EMSGSIZE);
    }
    let socket = kernel.socket_mut(id);
    if let Some(errno) = socket.error.take() {
        return Kernel::error(errno);
    }
    if socket.shutdown & SEND_SHUTDOWN != 0 {
        return Kernel::error(EPIPE);
    }
    let destination = if address == 0 { INADDR_LOOPBACK } else { address };
    let source = if held.address == 0 { INADDR_LOOPBACK } else { held.address };
    touch_ports(kernel);
    let receiver = match receiver_at(kernel, (source, held.port), destination, port) {
        Ok(receiver) => receiver,
        Err(()) => {
            let detail = format!(
                "two UDP sockets share port {port} (SO_REUSEADDR) and could both take this datagram: which one Linux \
                 picks is not modelled"
            );
            return kernel.halt("not_modelled", detail);
        }
    };
    let Some(receiver) = receiver else {
        // `__udp4_lib_rcv` finds nobody and answers with an ICMP port unreachable, which `udp_err`
        // gives the sender if it is connected to that destination.
        segment(kernel, trace, pid, end_of(kernel, id), (0, port), SEGMENT_UDP, len);
        segment(kernel, trace, pid, (0, port), end_of(kernel, id), SEGMENT_ICMP_UNREACHABLE, 0);
        if held.state == TcpState::Established && (held.peer_address, held.peer_port) == (destination, port) {
            kernel.socket_mut(id).error = Some(crate::linux::errno::ECONNREFUSED);
            super::socket::error_reported(kernel, id, pid, trace);
        }
        return Exec::Done(CallResult::Value { value: len as i64 });
    };
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::socket(receiver));
    }
    // `__udp_enqueue_schedule_skb` takes a datagram while the memory queued is at most the receive
    // buffer. The model knows the sizes only within bounds: when it cannot tell, it stops.
    let target = kernel.socket(receiver).expect("found alive");
    let queued: u64 = target.queue.iter().map(|entry| most_truesize(entry.data.len() as u32)).sum();
    if queued > target.rcvbuf as u64 {
        let detail = format!(
            "socket {receiver}'s receive queue is near its limit of {} bytes, where Linux starts dropping datagrams \
             at a point set by buffer sizes that are not modelled",
            target.rcvbuf
        );
        return kernel.halt("not_modelled", detail);
    }
    segment(kernel, trace, pid, end_of(kernel, id), end_of(kernel, receiver), SEGMENT_UDP, len);
    let tag = held.port as u32;
    super::socket::deliver_datagram(kernel, pid, id, receiver, payload, tag, trace);
    Exec::Done(CallResult::Value { value: len as i64 })
}

/// `inet_shutdown` on a UDP socket: `EINVAL` for an unknown direction; the directions are recorded
/// either way, and an unconnected socket says `ENOTCONN`. Sleepers wake to look again (a receive
/// after `SHUT_RD` that would sleep returns 0).
pub(crate) fn shutdown(kernel: &mut Kernel, pid: Pid, id: u32, how: i64, trace: &mut Trace) -> Exec {
    if !(SHUT_RD..=SHUT_RDWR).contains(&how) {
        return Kernel::error(EINVAL);
    }
    let connected = inet(kernel, id).state == TcpState::Established;
    kernel.socket_mut(id).shutdown |= (how + 1) as u8;
    super::socket::state_changed(kernel, id, pid, trace);
    if connected {
        Exec::Done(CallResult::Value { value: 0 })
    } else {
        Kernel::error(ENOTCONN)
    }
}

/// Whether socket `id` is a UDP socket.
pub(crate) fn is_udp(socket: &Socket) -> bool {
    socket.inet.is_some() && socket.kind == SocketKind::Dgram
}

/// The invariants of a UDP socket: it is unconnected or connected (no other state), holds a port once
/// connected, and never names a peer socket (its peer is an address).
pub(crate) fn check(socket: &Socket, inet: Inet) -> Result<(), String> {
    let id = socket.id;
    match inet.state {
        TcpState::Close => {}
        TcpState::Established if inet.port != 0 => {}
        other => return Err(format!("UDP socket {id} is in {} with port {}", other.name(), inet.port)),
    }
    if socket.peer != 0 || socket.listening || inet.orphan {
        return Err(format!("UDP socket {id} names a peer socket, listens or is an orphan"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::run_round_robin as simulation;

    #[test]
    fn a_disconnect_gives_back_the_port_the_kernel_chose_and_keeps_the_one_bound() {
        let simulation = simulation(
            "expect deadlock\nprocess p {\n  a = socket AF_INET SOCK_DGRAM\n  connect a \"127.0.0.1:9\" -> 0\n  \
             b = socket AF_INET SOCK_DGRAM\n  bind b \"127.0.0.1:9100\" -> 0\n  connect b \"127.0.0.1:9\" -> 0\n  \
             connect a AF_UNSPEC -> 0\n  connect b AF_UNSPEC -> 0\n  hold = pipe\n  read hold.r 1\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        let kernel = simulation.kernel();
        let a = kernel.socket(1).and_then(|socket| socket.inet).expect("a");
        let b = kernel.socket(2).and_then(|socket| socket.inet).expect("b");
        assert_eq!((a.state, a.port, a.address, a.peer_port), (TcpState::Close, 0, 0, 0));
        assert_eq!((b.state, b.port, b.address, b.peer_port), (TcpState::Close, 9100, INADDR_LOOPBACK, 0));
    }

    #[test]
    fn datagrams_are_charged_to_nobody_and_a_sender_never_waits() {
        // A thousand datagrams to a socket that reads each at once: the sender's charge stays 0.
        let simulation = simulation(
            "process p expect exited 0 {\n  a = socket AF_INET SOCK_DGRAM\n  bind a \"127.0.0.1:9100\" -> 0\n  \
             b = socket AF_INET SOCK_DGRAM\n  repeat 1000 {\n    sendto b \"x\" \"127.0.0.1:9100\" -> 1\n    \
             recv a 10 -> \"x\"\n  }\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        assert!(matches!(simulation.outcome(), Some(crate::RunOutcome::AllExited)));
    }

    #[test]
    fn a_queue_near_its_limit_ends_the_run_instead_of_guessing_what_linux_drops() {
        let simulation = simulation(
            "process p {\n  a = socket AF_INET SOCK_DGRAM\n  setsockopt a SOL_SOCKET SO_RCVBUF 1 -> 0\n  \
             bind a \"127.0.0.1:9100\" -> 0\n  b = socket AF_INET SOCK_DGRAM\n  repeat 10 {\n    \
             sendto b \"x\" \"127.0.0.1:9100\"\n  }\n}\n",
        );
        match simulation.outcome() {
            Some(crate::RunOutcome::LimitReached { limit, detail }) => {
                assert_eq!(limit, "not_modelled");
                assert!(detail.contains("near its limit"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        // The first datagrams were taken: 2304 bytes of buffer hold at least one.
        assert!(!simulation.kernel().socket(1).expect("a").queue.is_empty());
    }
}
