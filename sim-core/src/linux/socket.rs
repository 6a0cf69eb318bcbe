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
