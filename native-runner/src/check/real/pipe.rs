//! Pipe calls on Linux: `pipe` and `pipe2`, which fill in two descriptors.

use super::{call, not_this_mechanism, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;

pub fn perform(command: &CallView) -> Out<'static> {
    let mut fds = [-1i32; 2];
    let pointer = fds.as_mut_ptr() as i64;
    let result = match command.id {
        CallId::Pipe => call(libc::SYS_pipe, &[pointer]),
        CallId::Pipe2 => call(libc::SYS_pipe2, &[pointer, command.arg(0)]),
        other => not_this_mechanism(other),
    };
    if result < 0 {
        Reply::Errno(-result as i32)
    } else {
        Reply::Pair { read_fd: fds[0], write_fd: fds[1] }
    }
}
