//! POSIX semaphore calls on Linux, as glibc makes them: `sem_open`, `sem_wait`, `sem_trywait`,
//! `sem_post`, `sem_getvalue`, `sem_close`, `sem_unlink`, and for unnamed semaphores (by their address
//! in the scenario's memory) `sem_init` and `sem_destroy`. The semaphores are files of the run's own
//! `/dev/shm` (a tmpfs mounted in the run's mount namespace), so nothing reaches the host's.
//!
//! `sem_wait`, the one that may block, is glibc's own algorithm (`__new_sem_wait_fast` and
//! `__new_sem_wait_slow64` in `nptl/sem_waitcommon.c`) on glibc's semaphore, with its futex wait made
//! through the scenario's own `syscall` instruction, so that a handler sees it below it as for any
//! other call; the others are glibc's functions.
//!
//! The simulator names a `sem_t *` by a handle, its place (from 1) in the process's list of mappings.
//! This process keeps the same list: `sem_open` returns the place of the pointer glibc gave (the same
//! place when glibc gives the same pointer again, as it does for a name already open), `sem_close`
//! counts down and forgets the pointer when glibc unmaps it. A handle that names no open mapping is
//! passed as a null pointer, which faults as the simulator says it does. The list is kept in atomics
//! (a handler may make these calls too).

use super::{call, errno, not_this_mechanism, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// The most mappings the list keeps; later ones are handed out as they come but not remembered.
const MOST_HANDLES: usize = 256;

/// The process's mappings: the pointer glibc returned (0: none) and the `sem_open`s not yet closed. A
/// child of `fork` inherits a copy, as it inherits the mappings themselves.
static POINTERS: [AtomicUsize; MOST_HANDLES] = [const { AtomicUsize::new(0) }; MOST_HANDLES];
static REFS: [AtomicU32; MOST_HANDLES] = [const { AtomicU32::new(0) }; MOST_HANDLES];
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// glibc's semaphore on x86-64 (`struct new_sem` with 64-bit atomics): the value in the low 32 bits
/// of `data`, the number of waiters in the high 32.
const NWAITERS_ONE: u64 = 1 << 32;
const VALUE_MASK: u64 = 0xffff_ffff;
/// `FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME` and `FUTEX_BITSET_MATCH_ANY`, as glibc waits; with
/// `FUTEX_PRIVATE_FLAG` unless the semaphore's flag at +8 says it is shared (a named semaphore always
/// is; an unnamed one made with `pshared` 0 is not): glibc's `__lll_private_flag`.
const FUTEX_WAIT_BITSET_REALTIME: i64 = 9 | 256;
const FUTEX_PRIVATE_FLAG: i64 = 128;
const FUTEX_BITSET_MATCH_ANY: i64 = 0xffff_ffff;

/// The `sem_t *` a semaphore operand stands for: an unnamed semaphore's address (the scenario's
/// mappings are at the simulator's addresses), or the pointer behind a named semaphore's handle.
fn pointer_of(handle: i64) -> *mut libc::sem_t {
    if sim_core::kernel::unnamed_sem::is_address(handle) {
        return handle as usize as *mut libc::sem_t;
    }
    match usize::try_from(handle.wrapping_sub(1)) {
        Ok(at) if at < MOST_HANDLES => POINTERS[at].load(Ordering::SeqCst) as *mut libc::sem_t,
        _ => std::ptr::null_mut(),
    }
}

/// A glibc call's result: its value, or `errno` as the error.
fn libc_result(result: i64) -> Out<'static> {
    if result < 0 {
        Reply::Errno(errno())
    } else {
        Reply::Value(result)
    }
}

/// glibc's `sem_wait`, and `sem_timedwait` with `deadline` (an absolute `CLOCK_REALTIME` time).
fn sem_wait(pointer: *mut libc::sem_t, deadline: Option<&libc::timespec>) -> Out<'static> {
    if pointer.is_null() || !(pointer as usize).is_multiple_of(std::mem::align_of::<AtomicU64>()) {
        // SAFETY: none; glibc reads through the pointer and the process faults where nothing is
        // mapped, as it should. (A misaligned one never reaches the reference below, whose check in a
        // debug build would abort the process instead of letting the access fault.)
        return libc_result(unsafe {
            match deadline {
                Some(time) => libc::sem_timedwait(pointer, time),
                None => libc::sem_wait(pointer),
            }
        } as i64);
    }
    let deadline = deadline.map_or(0, |time| time as *const libc::timespec as i64);
    // SAFETY: glibc's sem_t starts with its 64-bit `data`, aligned, in memory glibc mapped shared.
    let data = unsafe { &*(pointer as *const AtomicU64) };
    let mut current = data.load(Ordering::Relaxed);
    while current & VALUE_MASK != 0 {
        match data.compare_exchange_weak(current, current - 1, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return Reply::Value(0),
            Err(seen) => current = seen,
        }
    }
    let mut current = data.fetch_add(NWAITERS_ONE, Ordering::Relaxed) + NWAITERS_ONE;
    // SAFETY: glibc's flag is the `int` 8 bytes after `data`, in the same semaphore.
    let shared = unsafe { std::ptr::read_volatile((pointer as *const i32).add(2)) } as i64;
    let op = (FUTEX_WAIT_BITSET_REALTIME | FUTEX_PRIVATE_FLAG) ^ (shared & FUTEX_PRIVATE_FLAG);
    loop {
        if current & VALUE_MASK == 0 {
            let result = call(libc::SYS_futex, &[pointer as i64, op, 0, deadline, 0, FUTEX_BITSET_MATCH_ANY]);
            if result < 0 && result != -(libc::EAGAIN as i64) {
                // EINTR (a handler without SA_RESTART), ETIMEDOUT (`sem_timedwait`'s time passed), or the
                // runner's own restart marker: give up the place as a waiter, as glibc does.
                data.fetch_sub(NWAITERS_ONE, Ordering::Relaxed);
                return Reply::Errno(-result as i32);
            }
            current = data.load(Ordering::Relaxed);
        } else {
            match data.compare_exchange_weak(current, current - 1 - NWAITERS_ONE, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return Reply::Value(0),
                Err(seen) => current = seen,
            }
        }
    }
}

pub fn perform(command: &CallView, path: &mut [u8; 4096]) -> Out<'static> {
    match command.id {
        CallId::SemOpen => {
            let Some(name) = command.path() else { not_this_mechanism(command.id) };
            if name.len() >= path.len() || name.contains(&0) {
                not_this_mechanism(command.id)
            }
            path[..name.len()].copy_from_slice(name);
            path[name.len()] = 0;
            // SAFETY: glibc's sem_open on a NUL-terminated name.
            let pointer = unsafe {
                libc::sem_open(
                    path.as_ptr() as *const libc::c_char,
                    command.arg(1) as i32,
                    command.arg(2) as u32 as libc::c_uint,
                    command.arg(3) as u32 as libc::c_uint,
                )
            };
            if pointer == libc::SEM_FAILED {
                return Reply::Errno(errno());
            }
            let address = pointer as usize;
            let count = COUNT.load(Ordering::SeqCst).min(MOST_HANDLES);
            if let Some(at) = (0..count).find(|at| POINTERS[*at].load(Ordering::SeqCst) == address) {
                REFS[at].fetch_add(1, Ordering::SeqCst);
                return Reply::Value(at as i64 + 1);
            }
            let at = COUNT.fetch_add(1, Ordering::SeqCst);
            if at < MOST_HANDLES {
                POINTERS[at].store(address, Ordering::SeqCst);
                REFS[at].store(1, Ordering::SeqCst);
            }
            Reply::Value(at as i64 + 1)
        }
        // SAFETY (these two): glibc's own functions on the scenario's address, which faults as the
        // simulator says it does where the scenario's memory does not allow the access.
        CallId::SemInit => libc_result(unsafe {
            libc::sem_init(pointer_of(command.arg(0)), command.arg(1) as i32, command.arg(2) as u32)
        } as i64),
        CallId::SemDestroy => libc_result(unsafe { libc::sem_destroy(pointer_of(command.arg(0))) } as i64),
        CallId::SemWait => sem_wait(pointer_of(command.arg(0)), None),
        CallId::SemTimedwait => sem_wait(pointer_of(command.arg(0)), Some(&super::time::real_deadline(command.arg(1)))),
        // SAFETY (the next three): glibc calls on a pointer glibc gave, or null, which faults as the
        // scenario says it should.
        CallId::SemTrywait => libc_result(unsafe { libc::sem_trywait(pointer_of(command.arg(0))) } as i64),
        CallId::SemPost => libc_result(unsafe { libc::sem_post(pointer_of(command.arg(0))) } as i64),
        CallId::SemGetvalue => {
            let mut value: libc::c_int = 0;
            if unsafe { libc::sem_getvalue(pointer_of(command.arg(0)), &mut value) } < 0 {
                return Reply::Errno(errno());
            }
            Reply::Out(value as i64)
        }
        CallId::SemClose => {
            let pointer = pointer_of(command.arg(0));
            // SAFETY: as above.
            let result = unsafe { libc::sem_close(pointer) };
            if result == 0 {
                let at = (command.arg(0) - 1) as usize;
                if at < MOST_HANDLES && REFS[at].fetch_sub(1, Ordering::SeqCst) == 1 {
                    POINTERS[at].store(0, Ordering::SeqCst);
                }
            }
            libc_result(result as i64)
        }
        CallId::SemUnlink => {
            let Some(name) = command.path() else { not_this_mechanism(command.id) };
            if name.len() >= path.len() || name.contains(&0) {
                not_this_mechanism(command.id)
            }
            path[..name.len()].copy_from_slice(name);
            path[name.len()] = 0;
            // SAFETY: glibc's sem_unlink on a NUL-terminated name.
            libc_result(unsafe { libc::sem_unlink(path.as_ptr() as *const libc::c_char) } as i64)
        }
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in: glibc's `sem_wait` waits on a futex.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::SemWait | CallId::SemTimedwait => Some(libc::SYS_futex),
        _ => None,
    }
}
