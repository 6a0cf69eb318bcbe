//! POSIX message queue calls on Linux, through glibc as a C program makes them: `mq_open` (which wants
//! a name starting with `/`), `mq_send`, `mq_receive`, `mq_getattr`, `mq_setattr`, `mq_notify`,
//! `mq_close`, `mq_unlink`. The queues live in the run's own IPC namespace, whose mqueue file system no
//! other namespace sees.

use super::{errno, guard, not_this_mechanism, value_or_errno, Scratch};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::{field, mqueue};

pub fn perform(call: &CallCommand, scratch: &mut Scratch) -> Reply {
    let fd = guard(call.arg(0));
    // SAFETY (whole match): each arm is one glibc call with valid pointers into live buffers.
    unsafe {
        match call.id {
            CallId::MqOpen => {
                let Some(name) = call.path() else { return not_this_mechanism(call.id) };
                let (flags, mode) = (call.arg(1) as i32, call.arg(2) as u32 as libc::mode_t);
                match mqueue::unpack_attr(call.arg(3)) {
                    None => {
                        value_or_errno(
                            libc::mq_open(name.as_ptr(), flags, mode, std::ptr::null_mut::<libc::mq_attr>()) as i64
                        )
                    }
                    Some((maxmsg, msgsize)) => {
                        let mut attr: libc::mq_attr = std::mem::zeroed();
                        attr.mq_maxmsg = maxmsg;
                        attr.mq_msgsize = msgsize;
                        value_or_errno(libc::mq_open(name.as_ptr(), flags, mode, &mut attr as *mut libc::mq_attr) as i64)
                    }
                }
            }
            CallId::MqSend => {
                scratch.bytes.clear();
                let payload = call.payload().expect("mq_send has a payload");
                payload.copy_to(0, payload.len(), &mut scratch.bytes);
                value_or_errno(libc::mq_send(
                    fd,
                    scratch.bytes.as_ptr() as *const libc::c_char,
                    scratch.bytes.len(),
                    call.arg(2) as u32,
                ) as i64)
            }
            CallId::MqReceive => {
                let count = call.arg(1);
                let mut buffer = vec![0u8; count.clamp(0, 1 << 24) as usize];
                let mut priority: libc::c_uint = 0;
                let result =
                    libc::mq_receive(fd, buffer.as_mut_ptr() as *mut libc::c_char, count as usize, &mut priority);
                if result < 0 {
                    return Reply::Errno(errno());
                }
                buffer.truncate(result as usize);
                Reply::Message { tag: priority as i64, bytes: buffer }
            }
            CallId::MqGetattr => {
                let mut attr: libc::mq_attr = std::mem::zeroed();
                if libc::mq_getattr(fd, &mut attr) < 0 {
                    return Reply::Errno(errno());
                }
                match call.arg(1) {
                    field::MQ_FLAGS => Reply::Out(attr.mq_flags),
                    field::MQ_MAXMSG => Reply::Out(attr.mq_maxmsg),
                    field::MQ_MSGSIZE => Reply::Out(attr.mq_msgsize),
                    field::MQ_CURMSGS => Reply::Out(attr.mq_curmsgs),
                    _ => Reply::Value(0),
                }
            }
            CallId::MqSetattr => {
                let mut attr: libc::mq_attr = std::mem::zeroed();
                attr.mq_flags = call.arg(1);
                value_or_errno(libc::mq_setattr(fd, &attr, std::ptr::null_mut()) as i64)
            }
            CallId::MqNotify => {
                let signal = call.arg(1);
                if signal == 0 {
                    return value_or_errno(libc::mq_notify(fd, std::ptr::null()) as i64);
                }
                let mut event: libc::sigevent = std::mem::zeroed();
                event.sigev_notify = mqueue::SIGEV_SIGNAL as i32;
                event.sigev_signo = signal as i32;
                value_or_errno(libc::mq_notify(fd, &event) as i64)
            }
            CallId::MqClose => value_or_errno(libc::mq_close(fd) as i64),
            CallId::MqUnlink => {
                let Some(name) = call.path() else { return not_this_mechanism(call.id) };
                value_or_errno(libc::mq_unlink(name.as_ptr()) as i64)
            }
            other => not_this_mechanism(other),
        }
    }
}

/// The system call a blocked call of this mechanism sleeps in (glibc's `mq_send` and `mq_receive` are
/// the timed calls without a timeout).
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::MqSend => Some(libc::SYS_mq_timedsend),
        CallId::MqReceive => Some(libc::SYS_mq_timedreceive),
        _ => None,
    }
}
