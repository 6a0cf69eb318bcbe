//! `poll` on Linux, made as `ppoll` with a `timespec` (a NULL one for a negative timeout, no signal
//! mask): the one multiplexing call that takes the scaled timeout (see `time.rs`) without rounding it
//! to whole milliseconds. With no signal mask, `ppoll` is `poll` (`do_sys_poll`, with
//! `-ERESTARTNOHAND` on a signal, and a restart after a stop that keeps the time left, which Linux
//! writes back into the `timespec`).

use super::{call, guard, not_this_mechanism, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::poll::{unpack_pollfd, MAX_POLL_FDS};

pub fn perform<'a>(command: &CallView<'a>) -> Out<'a> {
    if command.id != CallId::Poll {
        not_this_mechanism(command.id);
    }
    let mut fds = [libc::pollfd { fd: -1, events: 0, revents: 0 }; MAX_POLL_FDS];
    let mut count = 0;
    for index in 1..command.count() {
        if let Some((fd, events)) = unpack_pollfd(command.arg(index)) {
            // A descriptor among the control ones is one the scenario cannot have: it becomes a number
            // no process has open, so that Linux says `POLLNVAL` for it, as the simulator does.
            let fd = if fd >= 0 && guard(fd as i64) < 0 { i32::MAX } else { fd };
            fds[count] = libc::pollfd { fd, events: events as i16, revents: 0 };
            count += 1;
        }
    }
    let ms = command.arg(0);
    let timeout = (ms >= 0).then(|| super::time::real_timespec(ms.saturating_mul(1_000_000)));
    let timeout_pointer = timeout.as_ref().map_or(0, |time| time as *const libc::timespec as i64);
    let result = call(libc::SYS_ppoll, &[fds.as_mut_ptr() as i64, count as i64, timeout_pointer, 0, 8]);
    if result < 0 {
        return Reply::Errno(-result as i32);
    }
    let mut revents = [0u16; MAX_POLL_FDS];
    for (at, entry) in fds.iter().take(count).enumerate() {
        revents[at] = entry.revents as u16;
    }
    Reply::Polled { ready: result as i32, revents }
}
