//! `<sys/socket.h>`: socket types, `send`/`recv` flags, `shutdown` directions and the default buffer
//! size of Unix-domain sockets (x86-64).

/// `AF_UNIX`: the one address family modelled.
pub const AF_UNIX: i64 = 1;

/// Socket types (`socket(7)`): a byte stream, datagrams, and datagrams in order over a connection.
pub const SOCK_STREAM: i64 = 1;
pub const SOCK_DGRAM: i64 = 2;
pub const SOCK_SEQPACKET: i64 = 5;
/// `SOCK_RAW`: a Unix-domain socket of this type is made as a datagram socket (`unix_create`).
pub const SOCK_RAW: i64 = 3;
/// The bits of a type argument that are the type (`SOCK_TYPE_MASK`), and one past the highest type
/// number `__sock_create` accepts (`SOCK_MAX`).
pub const SOCK_TYPE_MASK: i64 = 0xf;
pub const SOCK_MAX: i64 = 11;
/// Flags or-ed into the type of `socket` and `socketpair`: the new descriptors' open file is
/// non-blocking (`O_NONBLOCK`), and they close on exec (`O_CLOEXEC`).
pub const SOCK_NONBLOCK: i64 = 0o4000;
pub const SOCK_CLOEXEC: i64 = 0o2000000;

/// `recv` flags: look without taking; return a datagram's real length even when it was cut short.
pub const MSG_PEEK: i64 = 0x2;
pub const MSG_TRUNC: i64 = 0x20;
/// `send`/`recv` flag: this call does not block (`EAGAIN` instead).
pub const MSG_DONTWAIT: i64 = 0x40;
/// `send` flag: a write to a peer that is gone fails with `EPIPE` without raising `SIGPIPE`.
pub const MSG_NOSIGNAL: i64 = 0x4000;

/// The flags `send` takes here, and those `recv` takes.
pub const SEND_FLAGS: i64 = MSG_DONTWAIT | MSG_NOSIGNAL;
pub const RECV_FLAGS: i64 = MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT;

/// `shutdown` directions.
pub const SHUT_RD: i64 = 0;
pub const SHUT_WR: i64 = 1;
pub const SHUT_RDWR: i64 = 2;

/// `/proc/sys/net/core/wmem_default`: the send buffer (`sk_sndbuf`) every new socket gets
/// (`sock_init_data`).
pub const WMEM_DEFAULT: u32 = 212_992;

/// `getsockopt`/`setsockopt` levels: the socket layer's own options (`sk_getsockopt`, `sk_setsockopt`).
pub const SOL_SOCKET: i64 = 1;
/// Options of `SOL_SOCKET`: the socket's type, its pending error, its send and receive buffer sizes,
/// the credentials of its peer (`struct ucred`), its send low-water mark, whether it listens, its
/// protocol and its family (x86-64 numbers).
pub const SO_TYPE: i64 = 3;
pub const SO_ERROR: i64 = 4;
pub const SO_SNDBUF: i64 = 7;
pub const SO_RCVBUF: i64 = 8;
/// Whether messages to this socket carry their senders' credentials (`SO_PASSCRED`).
pub const SO_PASSCRED: i64 = 16;
pub const SO_PEERCRED: i64 = 17;
pub const SO_SNDLOWAT: i64 = 19;
pub const SO_ACCEPTCONN: i64 = 30;
pub const SO_PROTOCOL: i64 = 38;
pub const SO_DOMAIN: i64 = 39;

/// `/proc/sys/net/core/rmem_default`: the receive buffer (`sk_rcvbuf`) every new socket gets.
pub const RMEM_DEFAULT: u32 = 212_992;
/// `/proc/sys/net/core/wmem_max` and `rmem_max`, their defaults: the most a process may ask for with
/// `SO_SNDBUF` and `SO_RCVBUF` (the kernel keeps twice that).
pub const WMEM_MAX: u32 = 212_992;
pub const RMEM_MAX: u32 = 212_992;
/// `SOCK_MIN_SNDBUF` and `SOCK_MIN_RCVBUF` (x86-64): the least a buffer is set to, twice and once
/// `TCP_SKB_MIN_TRUESIZE` (2048 bytes plus a cache-aligned `struct sk_buff`).
pub const SOCK_MIN_SNDBUF: u32 = 4608;
pub const SOCK_MIN_RCVBUF: u32 = 2304;

/// `SCM_MAX_FD` (`include/net/scm.h`): the most descriptors one `SCM_RIGHTS` message may carry; more
/// is `EINVAL` (`scm_fp_copy`).
pub const SCM_MAX_FD: i64 = 253;
/// `recvmsg`'s `msg_flags` out: the control buffer was too small for what came (descriptors that
/// did not fit were closed, `scm_detach_fds`).
pub const MSG_CTRUNC: i64 = 0x8;
/// `recvmsg` flag: the descriptors received are close-on-exec (`O_CLOEXEC` for
/// `get_unused_fd_flags`).
pub const MSG_CMSG_CLOEXEC: i64 = 0x4000_0000;

/// The most descriptors a scenario writes in one `{FD, ...}` of `sendmsg`, and the most times
/// `* N` repeats them: the list travels packed in one operand ([`pack_rights`]).
pub const MAX_RIGHTS_WRITTEN: usize = 5;
pub const MAX_RIGHTS_TIMES: u32 = 511;

/// A descriptor outside the table (negative, or past `RLIMIT_NOFILE`): `EBADF` whatever its number.
const BAD_RIGHT: u64 = 2047;

/// Packs `sendmsg`'s descriptors into one operand: the repeat count in the low 9 bits (0: no
/// `SCM_RIGHTS` at all), then five 11-bit fields, each a descriptor plus one (0 for no descriptor,
/// 2047 for one that cannot be open).
pub fn pack_rights(fds: &[i64], times: u32) -> i64 {
    let mut packed = times.min(MAX_RIGHTS_TIMES) as u64;
    for (at, fd) in fds.iter().take(MAX_RIGHTS_WRITTEN).enumerate() {
        // An `int` of the control message's array: the low 32 bits of what was written.
        let fd = *fd as i32 as i64;
        let field = if (0..super::RLIMIT_NOFILE as i64).contains(&fd) { fd as u64 + 1 } else { BAD_RIGHT };
        packed |= field << (9 + 11 * at);
    }
    packed as i64
}

/// The descriptors written in a packed operand, each once (-1 for one that cannot be open), and
/// the repeat count.
pub fn rights_written(packed: i64) -> (Vec<i64>, u32) {
    let packed = packed as u64;
    let mut written = Vec::new();
    for at in 0..MAX_RIGHTS_WRITTEN {
        match (packed >> (9 + 11 * at)) & 0x7ff {
            0 => break,
            BAD_RIGHT => written.push(-1),
            field => written.push(field as i64 - 1),
        }
    }
    (written, (packed & 0x1ff) as u32)
}

/// The descriptors of a packed operand, in order, the written ones repeated as often as asked (-1
/// for one that cannot be open); empty for none.
pub fn unpack_rights(packed: i64) -> Vec<i64> {
    let (written, times) = rights_written(packed);
    let mut fds = Vec::with_capacity(written.len() * times as usize);
    for _ in 0..times {
        fds.extend_from_slice(&written);
    }
    fds
}

/// `AF_INET`: IPv4, here the loopback only (`127.0.0.0/8`).
pub const AF_INET: i64 = 2;
/// `IPPROTO_TCP` and `IPPROTO_UDP`: what `SO_PROTOCOL` reports for an `AF_INET` stream and datagram
/// socket (`inet_create` fills in the protocol a type's default is).
pub const IPPROTO_TCP: i64 = 6;
pub const IPPROTO_UDP: i64 = 17;
/// `SO_REUSEADDR` (`sk_reuse`): a `bind` may take a port that a connection which is not listening
/// still holds, such as one in `TIME_WAIT` (`inet_csk_bind_conflict`).
pub const SO_REUSEADDR: i64 = 2;
/// `INADDR_ANY` and `INADDR_LOOPBACK`, in host order.
pub const INADDR_ANY: u32 = 0;
pub const INADDR_LOOPBACK: u32 = 0x7f00_0001;
/// `/proc/sys/net/ipv4/ip_local_port_range`, its default: the ports the kernel chooses from for a socket
/// that connects or listens without a `bind` of its own.
pub const EPHEMERAL_LOW: u16 = 32768;
pub const EPHEMERAL_HIGH: u16 = 60999;
/// `/proc/sys/net/ipv4/tcp_wmem` and `tcp_rmem`, their middle (default) values: the send and receive
/// buffers a new TCP socket starts with (`tcp_init_sock`).
pub const TCP_WMEM_DEFAULT: u32 = 16_384;
pub const TCP_RMEM_DEFAULT: u32 = 131_072;

/// An IPv4 address and port as a scenario writes one: `"127.0.0.1:7000"` (dotted quad, a colon, the
/// port in decimal). A string of any other form is a Unix-domain path. Returns the address in host
/// order and the port.
pub fn parse_inet(text: &str) -> Option<(u32, u16)> {
    let (address, port) = text.split_once(':')?;
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let port: u32 = port.parse().ok()?;
    let port = u16::try_from(port).ok()?;
    let mut value = 0u32;
    let mut parts = 0;
    for part in address.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let byte: u32 = part.parse().ok()?;
        if byte > 255 {
            return None;
        }
        value = value << 8 | byte;
        parts += 1;
    }
    (parts == 4).then_some((value, port))
}

/// An address in host order as a dotted quad.
pub fn inet_text(address: u32) -> String {
    let bytes = address.to_be_bytes();
    format!("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3])
}

/// Whether an address is one of this host's: the loopback network (`127.0.0.0/8`, which `lo` answers
/// for whole) or `INADDR_ANY`. Any other is `EADDRNOTAVAIL` for `bind` (`inet_addr_valid_or_nonlocal`).
pub fn is_local_inet(address: u32) -> bool {
    address == INADDR_ANY || address >> 24 == 127
}

/// `recvfrom`'s tag for a datagram from an `AF_INET` sender (a Unix-domain sender's tag is its path's
/// number plus one, or 0 or -1): -2 for a port in the ephemeral range, which Linux picks at random and
/// the model picks the lowest of, so that the two agree; else -3 minus the port.
pub fn inet_sender_tag(port: u16) -> i64 {
    if (EPHEMERAL_LOW..=EPHEMERAL_HIGH).contains(&port) {
        -2
    } else {
        -3 - port as i64
    }
}

/// The port an `AF_INET` sender's tag names ([`inet_sender_tag`]): `Some(None)` for a port of the
/// kernel's choosing, `None` for a tag that is not an `AF_INET` one.
pub fn inet_sender_port(tag: i64) -> Option<Option<u16>> {
    match tag {
        -2 => Some(None),
        tag if tag <= -3 && tag >= -3 - u16::MAX as i64 => Some(Some((-3 - tag) as u16)),
        _ => None,
    }
}

/// The largest UDP payload over IPv4: 65535 less the IP and UDP headers.
pub const UDP_MAX_PAYLOAD: u32 = 65_507;

#[cfg(test)]
mod inet_tests {
    use super::*;

    #[test]
    fn an_address_and_port_is_a_dotted_quad_a_colon_and_a_decimal_port() {
        assert_eq!(parse_inet("127.0.0.1:7000"), Some((INADDR_LOOPBACK, 7000)));
        assert_eq!(parse_inet("0.0.0.0:0"), Some((INADDR_ANY, 0)));
        assert_eq!(parse_inet("10.1.2.3:65535"), Some((0x0a01_0203, 65535)));
        for path in [
            "/tmp/echo.sock",
            "127.0.0.1",
            "127.0.0.1:",
            "127.0.0.1:65536",
            "127.0.0:80",
            "1.2.3.256:1",
            "a.b.c.d:1",
            "127.0.0.1:+80",
            "\0name",
        ] {
            assert_eq!(parse_inet(path), None, "{path:?} is a path");
        }
        assert_eq!(inet_text(INADDR_LOOPBACK), "127.0.0.1");
        assert!(is_local_inet(INADDR_LOOPBACK) && is_local_inet(0x7f01_0203) && is_local_inet(INADDR_ANY));
        assert!(!is_local_inet(0x0a01_0203));
    }

    #[test]
    fn a_datagram_s_sender_is_tagged_by_its_port_unless_the_kernel_chose_it() {
        assert_eq!(inet_sender_tag(9001), -9004);
        assert_eq!(inet_sender_port(-9004), Some(Some(9001)));
        assert_eq!(inet_sender_tag(EPHEMERAL_LOW), -2);
        assert_eq!(inet_sender_port(-2), Some(None));
        assert_eq!(inet_sender_port(inet_sender_tag(0)), Some(Some(0)));
        assert_eq!(inet_sender_port(inet_sender_tag(65535)), Some(Some(65535)));
        // Unix-domain tags: a path's number, 0 for unnamed, -1 for a name the kernel chose.
        for tag in [-1, 0, 1, 7] {
            assert_eq!(inet_sender_port(tag), None);
        }
    }
}
