//! Unix-domain socket calls on Linux: `socketpair`, `socket`, `bind`, `listen`, `accept`, `connect`,
//! `send`, `sendto`, `recv`, `recvfrom`, `sendmsg`, `recvmsg`, `shutdown`, `getsockopt` and `setsockopt`, each one real system call (`send` and `recv` are `sendto` and
//! `recvfrom` without an address, as glibc makes them). `sendmsg` and `recvmsg` build their
//! `struct msghdr` and `SCM_RIGHTS` control message with `libc`'s `CMSG_*` and go through the same
//! one `syscall` instruction as every scenario call (a library's `sendmsg` would not, and the driver
//! tells the scenario's calls apart by that instruction). A socket's path is the real path's last
//! component, relative to the run's directory, which is every scenario process's working directory:
//! `sun_path` holds 108 bytes, less than the run directory's absolute path may need.

use super::sys::Region;
use super::{call, exit_code, guard, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;

/// The address of the call's PATH operand as C would pass it: a `struct sockaddr_in` for an address
/// and port (`127.0.0.1:7000`, which the driver passes on unmapped), else a `struct sockaddr_un` for the
/// real path. A path given to an `AF_INET` socket goes with the whole `sizeof(struct sockaddr_un)`, as
/// a C program passes one, so that Linux looks at its family.
fn address(command: &CallView) -> (libc::sockaddr_storage, i64) {
    let Some(path) = command.path() else { not_this_mechanism(command.id) };
    // SAFETY: an all-zero `sockaddr_storage` is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let inet = std::str::from_utf8(path).ok().and_then(sim_core::linux::socket::parse_inet);
    if let Some((host, port)) = inet {
        let address = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr { s_addr: host.to_be() },
            sin_zero: [0; 8],
        };
        // SAFETY: a `sockaddr_in` fits in a `sockaddr_storage`, which is aligned for it.
        unsafe { std::ptr::write(&mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in, address) };
        return (storage, std::mem::size_of::<libc::sockaddr_in>() as i64);
    }
    let (unix, mut len) = unix_address(command, path);
    if !path.is_empty() && domain_of(command.arg(0)) == Some(libc::AF_INET) {
        len = std::mem::size_of::<libc::sockaddr_un>() as i64;
    }
    // SAFETY: a `sockaddr_un` fits in a `sockaddr_storage`, which is aligned for it.
    unsafe { std::ptr::write(&mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_un, unix) };
    (storage, len)
}

/// An int option of socket `fd` at `SOL_SOCKET`, if it has one.
fn int_option(fd: i64, option: libc::c_int) -> Option<i32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the option is an int, written into `value`.
    let done = unsafe {
        libc::getsockopt(
            guard(fd) as i32,
            libc::SOL_SOCKET,
            option,
            &mut value as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    } == 0;
    done.then_some(value)
}

/// The address family of socket `fd` (`SO_DOMAIN`), if it is one.
fn domain_of(fd: i64) -> Option<i32> {
    int_option(fd, libc::SO_DOMAIN)
}

/// Whether a receive on `fd` with `flags` takes its bytes without copying them: TCP's `MSG_TRUNC`
/// (`tcp_recvmsg_locked`), whose result the simulator gives as a number alone.
fn discards(fd: i64, flags: i64) -> bool {
    flags & libc::MSG_TRUNC as i64 != 0 && int_option(fd, libc::SO_PROTOCOL) == Some(libc::IPPROTO_TCP)
}

/// A `struct sockaddr_un` for the real path `path`, and its length.
fn unix_address(command: &CallView, path: &[u8]) -> (libc::sockaddr_un, i64) {
    // SAFETY: an all-zero `sockaddr_un` is valid.
    let mut address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    if path.is_empty() {
        // `connect FD AF_UNSPEC`: a `struct sockaddr` of family `AF_UNSPEC`, as C passes it.
        address.sun_family = libc::AF_UNSPEC as libc::sa_family_t;
        return (address, std::mem::size_of::<libc::sockaddr>() as i64);
    }
    // An abstract name (`RunDir::map`: a NUL, the run's name, `/N-base`) is all of its bytes and no
    // terminating NUL: its length is the address's length (`unix(7)`).
    let abstract_name = path.first() == Some(&0);
    let name = if abstract_name { path } else { path.rsplit(|byte| *byte == b'/').next().unwrap_or(path) };
    address.sun_family = libc::AF_UNIX as libc::sa_family_t;
    if name.len() >= address.sun_path.len() || name[usize::from(abstract_name)..].contains(&0) {
        not_this_mechanism(command.id);
    }
    for (at, byte) in name.iter().enumerate() {
        address.sun_path[at] = *byte as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + name.len() + usize::from(!abstract_name);
    (address, len as i64)
}

/// The sender's name as the simulator gives it (`recvfrom`'s tag): the number of the scenario path its
/// socket is bound to, plus one, read back from the real name the driver made for that path
/// (`N-base`, see `host::RunDir::path`); 0 for an unnamed sender (an address of the family alone), -1
/// for a name the run did not make.
fn sender_name(address: &libc::sockaddr_un, len: libc::socklen_t) -> i64 {
    // An `AF_INET` sender: its port, as the simulator tags it (a TCP socket's `recvfrom` names
    // nobody: Linux fills in no address for a connected stream).
    if address.sun_family == libc::AF_INET as libc::sa_family_t {
        // SAFETY: the kernel wrote a `sockaddr_in` (16 bytes) into the larger `sockaddr_un`.
        let inet = unsafe { std::ptr::read_unaligned(address as *const libc::sockaddr_un as *const libc::sockaddr_in) };
        return sim_core::linux::socket::inet_sender_tag(u16::from_be(inet.sin_port));
    }
    let family = std::mem::size_of::<libc::sa_family_t>();
    if (len as usize) <= family {
        return 0;
    }
    let path: Vec<u8> = address.sun_path.iter().take(len as usize - family).map(|byte| *byte as u8).collect();
    // An abstract name: the number comes after the run's name and its `/`.
    let path = match path.split_first() {
        Some((0, name)) => name.rsplit(|byte| *byte == b'/').next().unwrap_or(&[]),
        _ => path.split(|byte| *byte == 0).next().unwrap_or(&[]),
    };
    let digits = path.iter().take_while(|byte| byte.is_ascii_digit()).count();
    match (std::str::from_utf8(&path[..digits]).ok().and_then(|text| text.parse::<i64>().ok()), path.get(digits)) {
        (Some(index), Some(b'-')) => index + 1,
        _ => -1,
    }
}

/// `sizeof(struct ucred)`, and room for one `SCM_CREDENTIALS` control message (`CMSG_SPACE`) in words.
const UCRED_LEN: u32 = std::mem::size_of::<libc::ucred>() as u32;
const CREDS_WORDS: usize = (16 + 16) / 8;

/// The most descriptors a `sendmsg` operand can name: five, repeated up to 511 times.
const MOST_RIGHTS: usize = 5 * 511;
/// Room for an `SCM_RIGHTS` control message of [`MOST_RIGHTS`] descriptors (`CMSG_SPACE`), in words
/// so that it is aligned as a `struct cmsghdr`.
const CONTROL_WORDS: usize = (16 + 4 * MOST_RIGHTS).div_ceil(8) + 1;

/// The descriptors of a packed `sendmsg` operand (`sim_core::linux::socket::pack_rights`), in `fds`,
/// without allocating; returns how many. A descriptor the simulator cannot name is -1 (`EBADF`), and
/// one of the runner's own is refused the same way ([`guard`]).
fn rights_into(packed: i64, fds: &mut [i32; MOST_RIGHTS]) -> usize {
    let packed = packed as u64;
    let times = (packed & 0x1ff) as usize;
    let mut written = [0i32; 5];
    let mut count = 0;
    while count < 5 {
        match (packed >> (9 + 11 * count)) & 0x7ff {
            0 => break,
            2047 => written[count] = -1,
            field => written[count] = guard(field as i64 - 1) as i32,
        }
        count += 1;
    }
    let mut at = 0;
    for _ in 0..times {
        for fd in &written[..count] {
            fds[at] = *fd;
            at += 1;
        }
    }
    at
}

/// `sendmsg` of the payload, with the CREDS operand's pid (and the process's own uid and gid) as an
/// `SCM_CREDENTIALS` control message first, and the descriptors of the RIGHTS operand as one
/// `SCM_RIGHTS` control message (none when it is left out, or names no descriptor).
fn send_with_rights<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    let fd = guard(command.arg(0));
    let mut fds = [0i32; MOST_RIGHTS];
    let count = rights_into(command.arg(2), &mut fds);
    let creds = (command.count() > 4).then(|| command.arg(4));
    let bytes = super::fd::payload_bytes(command, data);
    let mut iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    let mut control = [0u64; CONTROL_WORDS + CREDS_WORDS];
    // SAFETY: an all-zero `msghdr` is valid (no name, no control).
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &mut iov;
    message.msg_iovlen = 1;
    let data_len = (4 * count) as u32;
    // SAFETY: `CMSG_SPACE` only computes a size.
    let length = unsafe {
        creds.map_or(0, |_| libc::CMSG_SPACE(UCRED_LEN)) + if count > 0 { libc::CMSG_SPACE(data_len) } else { 0 }
    };
    if length > 0 {
        message.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        message.msg_controllen = length as usize;
        // SAFETY: the control buffer holds `CMSG_SPACE` of the credentials and of the descriptors
        // (`CREDS_WORDS` and `CONTROL_WORDS`), so each header and its data lie inside it.
        unsafe {
            let mut header = libc::CMSG_FIRSTHDR(&message);
            if let Some(pid) = creds {
                (*header).cmsg_level = libc::SOL_SOCKET;
                (*header).cmsg_type = libc::SCM_CREDENTIALS;
                (*header).cmsg_len = libc::CMSG_LEN(UCRED_LEN) as usize;
                let ucred = libc::ucred { pid: pid as i32, uid: libc::getuid(), gid: libc::getgid() };
                std::ptr::write_unaligned(libc::CMSG_DATA(header) as *mut libc::ucred, ucred);
                header = libc::CMSG_NXTHDR(&message, header);
            }
            if count > 0 {
                (*header).cmsg_level = libc::SOL_SOCKET;
                (*header).cmsg_type = libc::SCM_RIGHTS;
                (*header).cmsg_len = libc::CMSG_LEN(data_len) as usize;
                std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(header) as *mut i32, count);
            }
        }
    }
    value_or_errno(call(libc::SYS_sendmsg, &[fd, &message as *const libc::msghdr as i64, command.arg(3)]))
}

/// `recvmsg` of up to COUNT bytes with room for NFDS descriptors: a control buffer of exactly
/// `CMSG_LEN(NFDS * sizeof(int))` bytes, so that Linux's `scm_detach_fds` installs at most NFDS (a
/// `CMSG_SPACE` would round up to room for one more); none at all for NFDS 0 or less. NFDS is capped
/// at `SCM_MAX_FD`, the most one message carries. On a socket with `SO_PASSCRED` the buffer also has
/// room for the `SCM_CREDENTIALS` that Linux puts first (`CMSG_SPACE(sizeof(struct ucred))` more), as
/// a program that set the option sizes it. The reply says how many descriptors came, the first one's
/// number, `msg_flags`' `MSG_CTRUNC` and `MSG_TRUNC`, and the credentials' pid.
fn receive_with_rights<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    let fd = guard(command.arg(0));
    let count = command.arg(1);
    let room = command.arg(2).clamp(0, sim_core::linux::socket::SCM_MAX_FD) as u32;
    let asked = int_option(fd, libc::SO_PASSCRED).is_some_and(|passcred| passcred != 0);
    let Some(bytes) = data.ensure(count.max(0) as usize) else { super::sys::exit_now(exit_code::NO_MEMORY) };
    let mut iov = libc::iovec { iov_base: bytes.as_mut_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    let mut control = [0u64; CONTROL_WORDS + CREDS_WORDS];
    // SAFETY: an all-zero `msghdr` is valid (no name, no control).
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &mut iov;
    message.msg_iovlen = 1;
    // SAFETY: `CMSG_LEN` and `CMSG_SPACE` only compute sizes, which the buffer holds.
    let length = unsafe {
        (if asked { libc::CMSG_SPACE(UCRED_LEN) } else { 0 }) + if room > 0 { libc::CMSG_LEN(4 * room) } else { 0 }
    };
    if length > 0 {
        message.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        message.msg_controllen = length as usize;
    }
    let result = call(libc::SYS_recvmsg, &[fd, &mut message as *mut libc::msghdr as i64, command.arg(3)]);
    if result < 0 {
        return Reply::Errno(-result as i32);
    }
    let (mut first, mut fds, mut creds) = (-1, 0, -1);
    if length > 0 && message.msg_controllen > 0 {
        // SAFETY: Linux wrote at most `msg_controllen` bytes of control messages into the buffer, and
        // `CMSG_NXTHDR` stops inside it.
        unsafe {
            let mut header = libc::CMSG_FIRSTHDR(&message);
            while !header.is_null() {
                if (*header).cmsg_level == libc::SOL_SOCKET && (*header).cmsg_type == libc::SCM_RIGHTS {
                    fds = (((*header).cmsg_len - libc::CMSG_LEN(0) as usize) / 4) as i32;
                    if fds > 0 {
                        first = std::ptr::read_unaligned(libc::CMSG_DATA(header) as *const i32);
                    }
                }
                if (*header).cmsg_level == libc::SOL_SOCKET && (*header).cmsg_type == libc::SCM_CREDENTIALS {
                    creds = std::ptr::read_unaligned(libc::CMSG_DATA(header) as *const libc::ucred).pid;
                }
                header = libc::CMSG_NXTHDR(&message, header);
            }
        }
    }
    let flags = message.msg_flags & (libc::MSG_CTRUNC | libc::MSG_TRUNC);
    if result > bytes.len() as i64 || discards(fd, command.arg(3)) {
        // `MSG_TRUNC` asked for a datagram's real length, which the simulator gives as a number alone.
        return Reply::Value(result);
    }
    Reply::Received { fd: first, fds, flags, creds, bytes: &bytes[..result as usize] }
}

pub fn perform<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    match command.id {
        CallId::Socket => {
            let domain = if command.count() > 1 { command.arg(1) } else { libc::AF_UNIX as i64 };
            value_or_errno(call(libc::SYS_socket, &[domain, command.arg(0), 0]))
        }
        CallId::Bind | CallId::Connect => {
            let (address, len) = address(command);
            let nr = if command.id == CallId::Bind { libc::SYS_bind } else { libc::SYS_connect };
            value_or_errno(call(nr, &[guard(command.arg(0)), &address as *const libc::sockaddr_storage as i64, len]))
        }
        CallId::Listen => value_or_errno(call(libc::SYS_listen, &[guard(command.arg(0)), command.arg(1)])),
        CallId::Accept => value_or_errno(call(libc::SYS_accept, &[guard(command.arg(0)), 0, 0])),
        CallId::Socketpair => {
            let mut fds = [-1i32; 2];
            let result =
                call(libc::SYS_socketpair, &[libc::AF_UNIX as i64, command.arg(0), 0, fds.as_mut_ptr() as i64]);
            if result < 0 {
                Reply::Errno(-result as i32)
            } else {
                Reply::Pair { read_fd: fds[0], write_fd: fds[1] }
            }
        }
        CallId::Send => {
            let fd = guard(command.arg(0));
            let flags = command.arg(2);
            let bytes = super::fd::payload_bytes(command, data);
            value_or_errno(call(libc::SYS_sendto, &[fd, bytes.as_ptr() as i64, bytes.len() as i64, flags, 0, 0]))
        }
        CallId::Sendto => {
            let fd = guard(command.arg(0));
            let flags = command.arg(3);
            let (address, address_len) = address(command);
            let bytes = super::fd::payload_bytes(command, data);
            let to = &address as *const libc::sockaddr_storage as i64;
            value_or_errno(call(
                libc::SYS_sendto,
                &[fd, bytes.as_ptr() as i64, bytes.len() as i64, flags, to, address_len],
            ))
        }
        CallId::Recv | CallId::Recvfrom => {
            let fd = guard(command.arg(0));
            let count = command.arg(1);
            let Some(bytes) = data.ensure(count.max(0) as usize) else { super::sys::exit_now(exit_code::NO_MEMORY) };
            let pointer = bytes.as_mut_ptr() as i64;
            let len = bytes.len() as i64;
            // `recvfrom` asks for the sender's address too, as C does.
            // SAFETY: an all-zero `sockaddr_un` is valid.
            let mut address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
            let mut address_len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            let (from, from_len) = if command.id == CallId::Recvfrom {
                (&mut address as *mut libc::sockaddr_un as i64, &mut address_len as *mut libc::socklen_t as i64)
            } else {
                (0, 0)
            };
            let result = call(libc::SYS_recvfrom, &[fd, pointer, len, command.arg(2), from, from_len]);
            if result < 0 {
                Reply::Errno(-result as i32)
            } else if result > len || discards(fd, command.arg(2)) {
                // `MSG_TRUNC` on a message longer than the buffer: its real length, as the simulator
                // gives it, a number without the bytes; on TCP, bytes taken and not copied.
                Reply::Value(result)
            } else if command.id == CallId::Recvfrom {
                Reply::Message { tag: sender_name(&address, address_len), bytes: &bytes[..result as usize] }
            } else {
                Reply::Data(&bytes[..result as usize])
            }
        }
        CallId::Sendmsg => send_with_rights(command, data),
        CallId::Recvmsg => receive_with_rights(command, data),
        CallId::Shutdown => value_or_errno(call(libc::SYS_shutdown, &[guard(command.arg(0)), command.arg(1)])),
        CallId::Getsockopt => {
            // Room for a `struct ucred` (`SO_PEERCRED`), of which the pid comes first; an int option
            // is asked for with the length of an int, as C asks for it.
            let mut out = [0i32; 3];
            let mut len: libc::socklen_t =
                if command.arg(2) == libc::SO_PEERCRED as i64 { std::mem::size_of_val(&out) } else { 4 } as _;
            let pointers = [out.as_mut_ptr() as i64, &mut len as *mut libc::socklen_t as i64];
            let result = call(
                libc::SYS_getsockopt,
                &[guard(command.arg(0)), command.arg(1), command.arg(2), pointers[0], pointers[1]],
            );
            if result < 0 {
                Reply::Errno(-result as i32)
            } else {
                Reply::Out(out[0] as i64)
            }
        }
        CallId::Setsockopt => {
            let value = command.arg(3) as i32;
            let pointer = &value as *const i32 as i64;
            let len = std::mem::size_of::<i32>() as i64;
            value_or_errno(call(
                libc::SYS_setsockopt,
                &[guard(command.arg(0)), command.arg(1), command.arg(2), pointer, len],
            ))
        }
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Send | CallId::Sendto => Some(libc::SYS_sendto),
        CallId::Recv | CallId::Recvfrom => Some(libc::SYS_recvfrom),
        CallId::Accept => Some(libc::SYS_accept),
        CallId::Sendmsg => Some(libc::SYS_sendmsg),
        CallId::Recvmsg => Some(libc::SYS_recvmsg),
        CallId::Connect => Some(libc::SYS_connect),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address_of(name: &[u8]) -> (libc::sockaddr_un, libc::socklen_t) {
        // SAFETY: an all-zero `sockaddr_un` is valid.
        let mut address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        for (at, byte) in name.iter().enumerate() {
            address.sun_path[at] = *byte as libc::c_char;
        }
        (address, (std::mem::size_of::<libc::sa_family_t>() + name.len() + 1) as libc::socklen_t)
    }

    #[test]
    fn a_sender_s_real_name_is_read_back_as_its_scenario_path() {
        let (address, len) = address_of(b"3-alice");
        assert_eq!(sender_name(&address, len), 4);
        let (address, len) = address_of(b"0-log");
        assert_eq!(sender_name(&address, len), 1);
        // Unnamed: the family alone.
        assert_eq!(sender_name(&address, std::mem::size_of::<libc::sa_family_t>() as libc::socklen_t), 0);
        let (address, len) = address_of(b"elsewhere");
        assert_eq!(sender_name(&address, len), -1);
        let (address, len) = address_of(b"12");
        assert_eq!(sender_name(&address, len), -1, "no dash: not a name the run made");
    }
}
