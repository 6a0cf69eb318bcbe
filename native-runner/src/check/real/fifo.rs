//! FIFO calls on Linux: `mkfifo`, `open` and `unlink`, on the real path (in the run's private
//! directory) that stands in for the path the scenario names.

use super::{not_this_mechanism, value_or_errno};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;

pub fn perform(call: &CallCommand) -> Reply {
    // The driver maps every scenario path to a real one; a call without it breaks the protocol.
    let Some(path) = call.path() else { return not_this_mechanism(call.id) };
    // SAFETY (whole match): one system call each, with a NUL-terminated path.
    unsafe {
        match call.id {
            CallId::Open => {
                value_or_errno(libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), call.arg(1), 0o600))
            }
            CallId::Mkfifo => value_or_errno(libc::syscall(
                libc::SYS_mknodat,
                libc::AT_FDCWD,
                path.as_ptr(),
                libc::S_IFIFO | 0o600,
                0,
            )),
            CallId::Unlink => value_or_errno(libc::syscall(libc::SYS_unlinkat, libc::AT_FDCWD, path.as_ptr(), 0)),
            other => not_this_mechanism(other),
        }
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Open => Some(libc::SYS_openat),
        _ => None,
    }
}
