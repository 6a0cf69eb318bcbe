//! Unix-domain socket calls on Linux: `socketpair`, `send`, `recv` and `shutdown`, each one real system
//! call (`send` and `recv` are `sendto` and `recvfrom` without an address, as glibc makes them).

use super::sys::Region;
use super::{call, exit_code, guard, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;

pub fn perform<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    match command.id {
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
        CallId::Recv => {
            let fd = guard(command.arg(0));
            let count = command.arg(1);
            let Some(bytes) = data.ensure(count.max(0) as usize) else { super::sys::exit_now(exit_code::NO_MEMORY) };
            let pointer = bytes.as_mut_ptr() as i64;
            let len = bytes.len() as i64;
            let result = call(libc::SYS_recvfrom, &[fd, pointer, len, command.arg(2), 0, 0]);
            if result < 0 {
                Reply::Errno(-result as i32)
            } else if result > len {
                // `MSG_TRUNC` on a message longer than the buffer: its real length, as the simulator
                // gives it, a number without the bytes.
                Reply::Value(result)
            } else {
                Reply::Data(&bytes[..result as usize])
            }
        }
        CallId::Shutdown => value_or_errno(call(libc::SYS_shutdown, &[guard(command.arg(0)), command.arg(1)])),
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Send => Some(libc::SYS_sendto),
        CallId::Recv => Some(libc::SYS_recvfrom),
        _ => None,
    }
}
