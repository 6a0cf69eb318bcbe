//! POSIX named semaphore calls on Linux, through glibc: `sem_open`, `sem_wait`, `sem_trywait`,
//! `sem_post`, `sem_getvalue`, `sem_close`, `sem_unlink`. The semaphores are files of the run's own
//! `/dev/shm` (a tmpfs mounted in the run's mount namespace), so nothing reaches the host's.
//!
//! The simulator names a `sem_t *` by a handle, its place (from 1) in the process's list of mappings.
//! This process keeps the same list: `sem_open` returns the place of the pointer glibc gave (the same
//! place when glibc gives the same pointer again, as it does for a name already open), `sem_close`
//! counts down and forgets the pointer when glibc unmaps it. A handle that names no open mapping is
//! passed as a null pointer, which faults as the simulator says it does.

use super::{errno, not_this_mechanism, value_or_errno};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;
use std::sync::Mutex;

/// The process's mappings: the pointer glibc returned and the `sem_open`s not yet closed. A child of
/// `fork` inherits a copy, as it inherits the mappings themselves.
static HANDLES: Mutex<Vec<Option<(usize, u32)>>> = Mutex::new(Vec::new());

fn pointer_of(handle: i64) -> *mut libc::sem_t {
    let handles = HANDLES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    usize::try_from(handle.wrapping_sub(1))
        .ok()
        .and_then(|at| handles.get(at).copied().flatten())
        .map_or(std::ptr::null_mut(), |(pointer, _)| pointer as *mut libc::sem_t)
}

pub fn perform(call: &CallCommand) -> Reply {
    // SAFETY (whole match): glibc calls on a name and on pointers glibc gave (or null, which faults as
    // the scenario says it should).
    unsafe {
        match call.id {
            CallId::SemOpen => {
                let Some(name) = call.path() else { return not_this_mechanism(call.id) };
                let pointer = libc::sem_open(
                    name.as_ptr(),
                    call.arg(1) as i32,
                    call.arg(2) as u32 as libc::c_uint,
                    call.arg(3) as u32 as libc::c_uint,
                );
                if pointer == libc::SEM_FAILED {
                    return Reply::Errno(errno());
                }
                let mut handles = HANDLES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let address = pointer as usize;
                let at = match handles.iter().position(|handle| handle.is_some_and(|(known, _)| known == address)) {
                    Some(at) => {
                        if let Some((_, refs)) = &mut handles[at] {
                            *refs += 1;
                        }
                        at
                    }
                    None => {
                        handles.push(Some((address, 1)));
                        handles.len() - 1
                    }
                };
                Reply::Value(at as i64 + 1)
            }
            CallId::SemWait => value_or_errno(libc::sem_wait(pointer_of(call.arg(0))) as i64),
            CallId::SemTrywait => value_or_errno(libc::sem_trywait(pointer_of(call.arg(0))) as i64),
            CallId::SemPost => value_or_errno(libc::sem_post(pointer_of(call.arg(0))) as i64),
            CallId::SemGetvalue => {
                let mut value: libc::c_int = 0;
                if libc::sem_getvalue(pointer_of(call.arg(0)), &mut value) < 0 {
                    return Reply::Errno(errno());
                }
                Reply::Out(value as i64)
            }
            CallId::SemClose => {
                let pointer = pointer_of(call.arg(0));
                let result = libc::sem_close(pointer);
                if result == 0 {
                    let mut handles = HANDLES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    let at = (call.arg(0) - 1) as usize;
                    if let Some(Some((_, refs))) = handles.get_mut(at) {
                        *refs -= 1;
                        if *refs == 0 {
                            handles[at] = None;
                        }
                    }
                }
                value_or_errno(result as i64)
            }
            CallId::SemUnlink => {
                let Some(name) = call.path() else { return not_this_mechanism(call.id) };
                value_or_errno(libc::sem_unlink(name.as_ptr()) as i64)
            }
            other => not_this_mechanism(other),
        }
    }
}

/// The system call a blocked call of this mechanism sleeps in: glibc's `sem_wait` waits on a futex.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::SemWait => Some(libc::SYS_futex),
        _ => None,
    }
}
