//! POSIX message queue calls on Linux, as glibc makes them: `mq_open` (which wants a name starting with
//! `/`), `mq_send`, `mq_receive`, their timed forms, `mq_getattr`, `mq_setattr`, `mq_notify`, `mq_close`, `mq_unlink`. The
//! queues live in the run's own IPC namespace, whose mqueue file system no other namespace sees.
//!
//! `mq_send` and `mq_receive`, which may block, are glibc's `mq_timedsend` and `mq_timedreceive`
//! without a timeout (and `mq_timedsend` and `mq_timedreceive` with one: an absolute `CLOCK_REALTIME`
//! time, the scaled timeout after now), made here as those system calls through the scenario's own `syscall`
//! instruction (so that a handler sees them below it); the others are glibc's functions.

use super::sys::Region;
use super::{call, errno, exit_code, guard, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{AttachmentView, CallView, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::{field, mqueue};

/// A glibc call's result: its value, or `errno` as the error.
fn libc_result(result: i64) -> Out<'static> {
    if result < 0 {
        Reply::Errno(errno())
    } else {
        Reply::Value(result)
    }
}

/// A timeout's address for the system call, or null for none.
fn timespec_pointer(deadline: &Option<libc::timespec>) -> i64 {
    deadline.as_ref().map_or(0, |time| time as *const libc::timespec as i64)
}

/// The queue's name, NUL-terminated in `path` (`None` if it cannot be).
fn name_in<'p>(command: &CallView, path: &'p mut [u8; 4096]) -> Option<&'p [u8]> {
    let name = command.path()?;
    if name.len() >= path.len() || name.contains(&0) {
        return None;
    }
    path[..name.len()].copy_from_slice(name);
    path[name.len()] = 0;
    Some(&path[..=name.len()])
}

pub fn perform<'a>(command: &CallView<'a>, data: &'a mut Region, path: &mut [u8; 4096]) -> Out<'a> {
    let fd = guard(command.arg(0));
    match command.id {
        CallId::MqOpen => {
            let Some(name) = name_in(command, path) else { not_this_mechanism(command.id) };
            let (flags, mode) = (command.arg(1) as i32, command.arg(2) as u32 as libc::mode_t);
            // SAFETY: glibc's mq_open on a NUL-terminated name and a live attribute structure (or null).
            let result = unsafe {
                match mqueue::unpack_attr(command.arg(3)) {
                    None => libc::mq_open(
                        name.as_ptr() as *const libc::c_char,
                        flags,
                        mode,
                        std::ptr::null_mut::<libc::mq_attr>(),
                    ),
                    Some((maxmsg, msgsize)) => {
                        let mut attr: libc::mq_attr = std::mem::zeroed();
                        attr.mq_maxmsg = maxmsg;
                        attr.mq_msgsize = msgsize;
                        libc::mq_open(
                            name.as_ptr() as *const libc::c_char,
                            flags,
                            mode,
                            &mut attr as *mut libc::mq_attr,
                        )
                    }
                }
            };
            libc_result(result as i64)
        }
        CallId::MqSend | CallId::MqTimedsend => {
            let bytes: &[u8] = match command.payload() {
                Some(AttachmentView::Bytes(bytes)) => bytes,
                Some(AttachmentView::Fill { len, pattern }) => {
                    let pattern: &[u8] = if pattern.is_empty() { b"x" } else { pattern };
                    let Some(bytes) = data.ensure(len as usize) else { super::sys::exit_now(exit_code::NO_MEMORY) };
                    for (at, byte) in bytes.iter_mut().enumerate() {
                        *byte = pattern[at % pattern.len()];
                    }
                    bytes
                }
                _ => &[],
            };
            let deadline = (command.id == CallId::MqTimedsend).then(|| super::time::real_deadline(command.arg(3)));
            value_or_errno(call(
                libc::SYS_mq_timedsend,
                &[fd, bytes.as_ptr() as i64, bytes.len() as i64, command.arg(2), timespec_pointer(&deadline)],
            ))
        }
        CallId::MqReceive | CallId::MqTimedreceive => {
            let count = command.arg(1);
            let deadline = (command.id == CallId::MqTimedreceive).then(|| super::time::real_deadline(command.arg(2)));
            let Some(buffer) = data.ensure(count.clamp(0, 1 << 24) as usize) else {
                super::sys::exit_now(exit_code::NO_MEMORY)
            };
            let mut priority: libc::c_uint = 0;
            let result = call(
                libc::SYS_mq_timedreceive,
                &[
                    fd,
                    buffer.as_mut_ptr() as i64,
                    count,
                    &mut priority as *mut libc::c_uint as i64,
                    timespec_pointer(&deadline),
                ],
            );
            if result < 0 {
                return Reply::Errno(-result as i32);
            }
            Reply::Message { tag: priority as i64, bytes: &buffer[..result as usize] }
        }
        CallId::MqGetattr => {
            // SAFETY: a zeroed mq_attr is valid, and glibc fills it in.
            let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
            // SAFETY: a live mq_attr.
            if unsafe { libc::mq_getattr(fd as libc::mqd_t, &mut attr) } < 0 {
                return Reply::Errno(errno());
            }
            match command.arg(1) {
                field::MQ_FLAGS => Reply::Out(attr.mq_flags),
                field::MQ_MAXMSG => Reply::Out(attr.mq_maxmsg),
                field::MQ_MSGSIZE => Reply::Out(attr.mq_msgsize),
                field::MQ_CURMSGS => Reply::Out(attr.mq_curmsgs),
                _ => Reply::Value(0),
            }
        }
        CallId::MqSetattr => {
            // SAFETY: a zeroed mq_attr is valid.
            let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
            attr.mq_flags = command.arg(1);
            // SAFETY: a live mq_attr, and no old attributes wanted.
            libc_result(unsafe { libc::mq_setattr(fd as libc::mqd_t, &attr, std::ptr::null_mut()) } as i64)
        }
        CallId::MqNotify => {
            let signal = command.arg(1);
            if signal == 0 {
                // SAFETY: a null sigevent cancels the registration.
                return libc_result(unsafe { libc::mq_notify(fd as libc::mqd_t, std::ptr::null()) } as i64);
            }
            // SAFETY: a zeroed sigevent is valid.
            let mut event: libc::sigevent = unsafe { std::mem::zeroed() };
            event.sigev_notify = mqueue::SIGEV_SIGNAL as i32;
            event.sigev_signo = signal as i32;
            // SAFETY: a live sigevent.
            libc_result(unsafe { libc::mq_notify(fd as libc::mqd_t, &event) } as i64)
        }
        // glibc's mq_close is close.
        CallId::MqClose => value_or_errno(call(libc::SYS_close, &[fd])),
        CallId::MqUnlink => {
            let Some(name) = name_in(command, path) else { not_this_mechanism(command.id) };
            // SAFETY: glibc's mq_unlink on a NUL-terminated name.
            libc_result(unsafe { libc::mq_unlink(name.as_ptr() as *const libc::c_char) } as i64)
        }
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in (glibc's `mq_send` and `mq_receive` are
/// the timed calls without a timeout).
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::MqSend | CallId::MqTimedsend => Some(libc::SYS_mq_timedsend),
        CallId::MqReceive | CallId::MqTimedreceive => Some(libc::SYS_mq_timedreceive),
        _ => None,
    }
}
