//! Scheduling calls on Linux: `sched_yield`.

use super::{call, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::CallView;
use sim_core::lang::syscalls::CallId;

pub fn perform(command: &CallView) -> Out<'static> {
    match command.id {
        CallId::SchedYield => value_or_errno(call(libc::SYS_sched_yield, &[])),
        other => not_this_mechanism(other),
    }
}
