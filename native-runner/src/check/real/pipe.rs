//! Pipe calls on Linux: `pipe` and `pipe2`, which fill in two descriptors.

use super::{errno, not_this_mechanism};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;

pub fn perform(call: &CallCommand) -> Reply {
    let mut fds = [-1i32; 2];
    // SAFETY: `fds` has room for the two descriptors.
    let result = unsafe {
        match call.id {
            CallId::Pipe => libc::syscall(libc::SYS_pipe, fds.as_mut_ptr()),
            CallId::Pipe2 => libc::syscall(libc::SYS_pipe2, fds.as_mut_ptr(), call.arg(0)),
            other => return not_this_mechanism(other),
        }
    };
    if result < 0 {
        Reply::Errno(errno())
    } else {
        Reply::Pair { read_fd: fds[0], write_fd: fds[1] }
    }
}
