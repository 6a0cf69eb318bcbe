//! Descriptor calls on Linux: `close`, `dup`, `dup2`, `read`, `write`, `lseek`, `pread`, `pwrite`,
//! `ioctl` and `fcntl`, each one real system call on the descriptor the simulated process named.
//!
//! A `write`'s bytes are made here, when the call is made, in memory the process reuses from call to
//! call: a scenario's `16_777_216 bytes of "ab"` travels as its pattern and becomes bytes only now.

use super::{guard, not_this_mechanism, value_or_errno, Scratch};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;

/// The bytes of the call's payload, in `scratch` (made whole: one `write` takes one buffer).
fn payload_bytes<'a>(call: &CallCommand, scratch: &'a mut Scratch) -> &'a [u8] {
    scratch.bytes.clear();
    if let Some(payload) = call.payload() {
        payload.copy_to(0, payload.len(), &mut scratch.bytes);
    }
    &scratch.bytes
}

/// Reads up to `count` bytes with `read` or, given an offset, `pread64`.
fn read_into(fd: i32, count: i64, offset: Option<i64>, scratch: &mut Scratch) -> Reply {
    let mut bytes = std::mem::take(&mut scratch.bytes);
    bytes.clear();
    bytes.resize(count.max(0) as usize, 0);
    let pointer = bytes.as_mut_ptr() as *mut libc::c_void;
    // SAFETY: `bytes` holds `count` writable bytes.
    let result = unsafe {
        match offset {
            None => libc::syscall(libc::SYS_read, fd, pointer, bytes.len()),
            Some(offset) => libc::syscall(libc::SYS_pread64, fd, pointer, bytes.len(), offset),
        }
    };
    if result < 0 {
        let reply = Reply::Errno(super::errno());
        scratch.bytes = bytes;
        return reply;
    }
    bytes.truncate(result as usize);
    Reply::Data(bytes)
}

pub fn perform(call: &CallCommand, scratch: &mut Scratch) -> Reply {
    let fd = guard(call.arg(0));
    // SAFETY (whole match): each arm is one system call with valid pointers into live buffers.
    unsafe {
        match call.id {
            CallId::Close => value_or_errno(libc::close(fd) as i64),
            CallId::Dup => value_or_errno(libc::dup(fd) as i64),
            CallId::Dup2 => value_or_errno(libc::dup2(fd, guard(call.arg(1))) as i64),
            CallId::Read => read_into(fd, call.arg(1), None, scratch),
            CallId::Pread => read_into(fd, call.arg(1), Some(call.arg(2)), scratch),
            CallId::Write => {
                let bytes = payload_bytes(call, scratch);
                value_or_errno(libc::syscall(libc::SYS_write, fd, bytes.as_ptr(), bytes.len()))
            }
            CallId::Pwrite => {
                let offset = call.arg(2);
                let bytes = payload_bytes(call, scratch);
                value_or_errno(libc::syscall(libc::SYS_pwrite64, fd, bytes.as_ptr(), bytes.len(), offset))
            }
            CallId::Lseek => value_or_errno(libc::syscall(libc::SYS_lseek, fd, call.arg(1), call.arg(2))),
            CallId::Ioctl => {
                // Room for whatever a request stores (FIONREAD stores an int); it starts zeroed, and
                // the first int is the value the call stored.
                let mut out = [0u64; 64];
                let result = libc::syscall(libc::SYS_ioctl, fd, call.arg(1), out.as_mut_ptr());
                if result < 0 {
                    Reply::Errno(super::errno())
                } else {
                    Reply::Out(out[0] as u32 as i32 as i64)
                }
            }
            CallId::Fcntl => value_or_errno(libc::syscall(libc::SYS_fcntl, fd, call.arg(1), call.arg(2))),
            other => not_this_mechanism(other),
        }
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
