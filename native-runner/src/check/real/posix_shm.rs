//! POSIX shared memory on Linux: glibc's `shm_open` and `shm_unlink` on the run's private `/dev/shm`
//! (a tmpfs of the run's mount namespace, so nothing reaches the host's), and the real `ftruncate`.
//! A mapping of the descriptor is `mmap`'s, in [`super::mm`].

use super::{call, errno, guard, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;

/// The call's name operand, NUL-terminated in `path`.
fn name_in(command: &CallView, path: &mut [u8; 4096]) -> *const libc::c_char {
    let Some(name) = command.path() else { not_this_mechanism(command.id) };
    if name.len() >= path.len() || name.contains(&0) {
        not_this_mechanism(command.id)
    }
    path[..name.len()].copy_from_slice(name);
    path[name.len()] = 0;
    path.as_ptr() as *const libc::c_char
}

/// A glibc call's result: its value, or `errno` as the error.
fn libc_result(result: i64) -> Out<'static> {
    if result < 0 {
        Reply::Errno(errno())
    } else {
        Reply::Value(result)
    }
}

pub fn perform(command: &CallView, path: &mut [u8; 4096]) -> Out<'static> {
    match command.id {
        CallId::ShmOpen => {
            let name = name_in(command, path);
            // SAFETY: glibc's shm_open on a NUL-terminated name.
            let fd = unsafe { libc::shm_open(name, command.arg(1) as i32, command.arg(2) as u32 as libc::mode_t) };
            libc_result(fd as i64)
        }
        CallId::ShmUnlink => {
            let name = name_in(command, path);
            // SAFETY: glibc's shm_unlink on a NUL-terminated name.
            libc_result(unsafe { libc::shm_unlink(name) } as i64)
        }
        CallId::Ftruncate => value_or_errno(call(libc::SYS_ftruncate, &[guard(command.arg(0)), command.arg(1)])),
        other => not_this_mechanism(other),
    }
}
