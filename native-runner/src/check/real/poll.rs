//! `poll` on Linux, made as `ppoll` with a `timespec` (a NULL one for a negative timeout, no signal
//! mask): the one multiplexing call that takes the scaled timeout (see `time.rs`) without rounding it
//! to whole milliseconds. With no signal mask, `ppoll` is `poll` (`do_sys_poll`, with
//! `-ERESTARTNOHAND` on a signal, and a restart after a stop that keeps the time left, which Linux
//! writes back into the `timespec`).
//!
//! `select` is made as `pselect6` with no signal mask, for the same reason: with a NULL mask it is
//! `select` with a `timespec` (`core_sys_select` for both).

use super::{call, guard, not_this_mechanism, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::epoll::{EP_MAX_EVENTS, MAX_EPOLL_EVENTS};
use sim_core::linux::poll::{unpack_fdset, unpack_pollfd, SetEntry, MAX_POLL_FDS};

pub fn perform<'a>(command: &CallView<'a>) -> Out<'a> {
    match command.id {
        CallId::Poll => poll(command),
        CallId::Select => select(command),
        CallId::EpollCreate1 => value(call(libc::SYS_epoll_create1, &[command.arg(0)])),
        CallId::EpollCtl => epoll_ctl(command),
        CallId::EpollWait => epoll_wait(command),
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked `poll`, `select` or `epoll_wait` sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Poll => Some(libc::SYS_ppoll),
        CallId::Select => Some(libc::SYS_pselect6),
        CallId::EpollWait => Some(libc::SYS_epoll_pwait2),
        _ => None,
    }
}

fn value<'a>(result: i64) -> Out<'a> {
    if result < 0 {
        Reply::Errno(-result as i32)
    } else {
        Reply::Value(result)
    }
}

/// `epoll_ctl` with the event's `data.fd` set to the descriptor, as the simulator reports it.
fn epoll_ctl<'a>(command: &CallView<'a>) -> Out<'a> {
    let (epfd, op, fd) = (guard(command.arg(0)), command.arg(1), guard(command.arg(2)));
    let mut event = libc::epoll_event { events: command.arg(3) as u32, u64: fd as u64 };
    value(call(libc::SYS_epoll_ctl, &[epfd, op, fd, &mut event as *mut libc::epoll_event as i64]))
}

/// Room for the events of one `epoll_wait`: more than a scenario's call reports (the simulator ends a
/// run that would report more than `MAX_EPOLL_EVENTS`).
const EVENT_ROOM: usize = 64;

/// `epoll_wait` made as `epoll_pwait2` with no signal mask, for its `timespec` (the scaled timeout
/// without rounding to milliseconds); with no mask it is `epoll_wait` (`do_epoll_wait`, `ep_poll`).
fn epoll_wait<'a>(command: &CallView<'a>) -> Out<'a> {
    let (epfd, maxevents) = (guard(command.arg(0)), command.arg(1));
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; EVENT_ROOM];
    // A count Linux refuses goes as written (it fails before it looks at the buffer); any other at most
    // the room there is.
    let asked = if (1..=EP_MAX_EVENTS).contains(&maxevents) { maxevents.min(EVENT_ROOM as i64) } else { maxevents };
    // `epoll_wait`'s timeout is a C int.
    let timeout = timeout(command.arg(2) as i32 as i64);
    let timeout_pointer = timeout.as_ref().map_or(0, |time| time as *const libc::timespec as i64);
    let result = call(libc::SYS_epoll_pwait2, &[epfd, events.as_mut_ptr() as i64, asked, timeout_pointer, 0, 8]);
    if result < 0 {
        return Reply::Errno(-result as i32);
    }
    let mut fds = [0i32; MAX_EPOLL_EVENTS];
    let mut got = [0u32; MAX_EPOLL_EVENTS];
    for (at, event) in events.iter().take((result as usize).min(MAX_EPOLL_EVENTS)).enumerate() {
        let event = *event;
        fds[at] = event.u64 as i32;
        got[at] = event.events;
    }
    Reply::Epolled { ready: result as i32, fds, events: got }
}

/// The timeout of a multiplexing call, scaled, or none for no limit.
fn timeout(ms: i64) -> Option<libc::timespec> {
    (ms >= 0).then(|| super::time::real_timespec(ms.saturating_mul(1_000_000)))
}

fn select<'a>(command: &CallView<'a>) -> Out<'a> {
    // SAFETY: an `fd_set` is plain bits; all zeros is the empty set (`FD_ZERO`).
    let mut sets: [libc::fd_set; 3] = unsafe { std::mem::zeroed() };
    let mut written: [Vec<SetEntry>; 3] = Default::default();
    let mut nfds = 0;
    for (at, set) in sets.iter_mut().enumerate() {
        written[at] = unpack_fdset(command.arg(at + 1));
        for entry in &written[at] {
            match *entry {
                // As the program would: `if (fd >= 0) FD_SET(fd, &set)`.
                SetEntry::Skipped => {}
                // No `fd_set` holds it (and every descriptor of the runner's own is 1024 or more):
                // the simulator says `EBADF`, as no descriptor that high can be open in a scenario.
                SetEntry::TooHigh => return Reply::Errno(libc::EBADF),
                SetEntry::Fd(fd) => {
                    // SAFETY: `fd` is from 0 to 1023, inside the set.
                    unsafe { libc::FD_SET(fd, set) };
                    nfds = nfds.max(fd + 1);
                }
            }
        }
    }
    let timeout = timeout(command.arg(0));
    let timeout_pointer = timeout.as_ref().map_or(0, |time| time as *const libc::timespec as i64);
    let [read, write, except] = &mut sets;
    let result = call(
        libc::SYS_pselect6,
        &[
            nfds as i64,
            read as *mut libc::fd_set as i64,
            write as *mut libc::fd_set as i64,
            except as *mut libc::fd_set as i64,
            timeout_pointer,
            0,
        ],
    );
    if result < 0 {
        return Reply::Errno(-result as i32);
    }
    // `FD_ISSET` for each descriptor as written, by its place in its set.
    let mut revents = [0u16; MAX_POLL_FDS];
    for (at, set) in sets.iter().enumerate() {
        for (place, entry) in written[at].iter().enumerate() {
            // SAFETY: as above.
            if let SetEntry::Fd(fd) = *entry {
                if unsafe { libc::FD_ISSET(fd, set) } {
                    revents[at] |= 1 << place;
                }
            }
        }
    }
    Reply::Polled { ready: result as i32, revents }
}

fn poll<'a>(command: &CallView<'a>) -> Out<'a> {
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
    // `poll`'s timeout is a C int.
    let timeout = timeout(command.arg(0) as i32 as i64);
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
