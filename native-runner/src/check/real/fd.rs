//! Descriptor calls on Linux: `close`, `dup`, `dup2`, `read`, `write`, `lseek`, `pread`, `pwrite`,
//! `ioctl` and `fcntl`, each one real system call on the descriptor the simulated process named.
//!
//! A `write`'s bytes are made here, when the call is made, in memory the level reuses from call to
//! call: a scenario's `16_777_216 bytes of "ab"` travels as its pattern and becomes bytes only now. A
//! literal payload is written straight from the command that carried it.

use super::sys::Region;
use super::{call, exit_code, guard, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{AttachmentView, CallView, Reply};
use sim_core::lang::syscalls::CallId;

/// The bytes of the call's payload: the command's own, or a pattern made whole in `data`.
pub(crate) fn payload_bytes<'a>(call: &CallView<'a>, data: &'a mut Region) -> &'a [u8] {
    match call.payload() {
        Some(AttachmentView::Bytes(bytes)) => bytes,
        Some(AttachmentView::Fill { len, pattern }) => {
            let pattern: &[u8] = if pattern.is_empty() { b"x" } else { pattern };
            let Some(bytes) = data.ensure(len as usize) else { super::sys::exit_now(exit_code::NO_MEMORY) };
            for (at, byte) in bytes.iter_mut().enumerate() {
                *byte = pattern[at % pattern.len()];
            }
            bytes
        }
        _ => &[],
    }
}

/// Reads up to `count` bytes with `read` or, given an offset, `pread64`, into `data`.
fn read_into(fd: i64, count: i64, offset: Option<i64>, data: &mut Region) -> Out<'_> {
    let Some(bytes) = data.ensure(count.max(0) as usize) else { super::sys::exit_now(exit_code::NO_MEMORY) };
    let pointer = bytes.as_mut_ptr() as i64;
    let len = bytes.len() as i64;
    let result = match offset {
        None => call(libc::SYS_read, &[fd, pointer, len]),
        Some(offset) => call(libc::SYS_pread64, &[fd, pointer, len, offset]),
    };
    if result < 0 {
        return Reply::Errno(-result as i32);
    }
    Reply::Data(&bytes[..result as usize])
}

pub fn perform<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    let fd = guard(command.arg(0));
    match command.id {
        CallId::Close => value_or_errno(call(libc::SYS_close, &[fd])),
        CallId::Dup => value_or_errno(call(libc::SYS_dup, &[fd])),
        CallId::Dup2 => value_or_errno(call(libc::SYS_dup2, &[fd, guard(command.arg(1))])),
        CallId::Read => read_into(fd, command.arg(1), None, data),
        CallId::Pread => read_into(fd, command.arg(1), Some(command.arg(2)), data),
        CallId::Write => {
            let bytes = payload_bytes(command, data);
            value_or_errno(call(libc::SYS_write, &[fd, bytes.as_ptr() as i64, bytes.len() as i64]))
        }
        CallId::Pwrite => {
            let offset = command.arg(2);
            let bytes = payload_bytes(command, data);
            value_or_errno(call(libc::SYS_pwrite64, &[fd, bytes.as_ptr() as i64, bytes.len() as i64, offset]))
        }
        CallId::Lseek => value_or_errno(call(libc::SYS_lseek, &[fd, command.arg(1), command.arg(2)])),
        CallId::Ioctl => {
            // Room for whatever a request stores (FIONREAD stores an int); it starts zeroed, and
            // the first int is the value the call stored.
            let mut out = [0u64; 64];
            let result = call(libc::SYS_ioctl, &[fd, command.arg(1), out.as_mut_ptr() as i64]);
            if result < 0 {
                Reply::Errno(-result as i32)
            } else {
                Reply::Out(out[0] as u32 as i32 as i64)
            }
        }
        CallId::Fcntl => value_or_errno(call(libc::SYS_fcntl, &[fd, command.arg(1), command.arg(2)])),
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Read => Some(libc::SYS_read),
        CallId::Write => Some(libc::SYS_write),
        CallId::Pread => Some(libc::SYS_pread64),
        CallId::Pwrite => Some(libc::SYS_pwrite64),
        _ => None,
    }
}
