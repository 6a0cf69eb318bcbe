//! FIFO calls on Linux: `mkfifo`, `open` and `unlink`, on the real path (in the run's private
//! directory) that stands in for the path the scenario names.

use super::{call, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::CallView;
use sim_core::lang::syscalls::CallId;

pub fn perform(command: &CallView, path_buffer: &mut [u8; 4096]) -> Out<'static> {
    // The driver maps every scenario path to a real one; a call without it breaks the protocol.
    let Some(path) = command.path() else { not_this_mechanism(command.id) };
    if path.len() >= path_buffer.len() || path.contains(&0) {
        not_this_mechanism(command.id);
    }
    path_buffer[..path.len()].copy_from_slice(path);
    path_buffer[path.len()] = 0;
    let path = path_buffer.as_ptr() as i64;
    let here = libc::AT_FDCWD as i64;
    match command.id {
        CallId::Open => value_or_errno(call(libc::SYS_openat, &[here, path, command.arg(1), 0o600])),
        CallId::Mkfifo => value_or_errno(call(libc::SYS_mknodat, &[here, path, (libc::S_IFIFO | 0o600) as i64, 0])),
        CallId::Unlink => value_or_errno(call(libc::SYS_unlinkat, &[here, path, 0])),
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Open => Some(libc::SYS_openat),
        _ => None,
    }
}
