//! Scheduling calls on Linux: `sched_yield`.

use super::{not_this_mechanism, value_or_errno};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;

pub fn perform(call: &CallCommand) -> Reply {
    match call.id {
        // SAFETY: a system call without operands.
        CallId::SchedYield => value_or_errno(unsafe { libc::syscall(libc::SYS_sched_yield) }),
        other => not_this_mechanism(other),
    }
}
