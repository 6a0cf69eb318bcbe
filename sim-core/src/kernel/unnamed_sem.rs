//! POSIX unnamed semaphores: `sem_init`, `sem_destroy`, and `sem_wait`, `sem_trywait`, `sem_timedwait`,
//! `sem_post`, `sem_getvalue` on a semaphore's address.
//!
//! An unnamed semaphore is nothing but bytes in memory, which glibc (2.34 and later, x86-64) reads and
//! changes with atomic instructions, entering the kernel only to sleep and to wake on a futex
//! (`nptl/sem_init.c`, `sem_waitcommon.c`, `sem_post.c`): the 8 bytes at its address hold the value
//! (low 32 bits) and the number of processes in `sem_wait`'s slow path (high 32), and the 4 bytes at
//! +8 hold glibc's futex flag: 0 for a semaphore private to its process (`pshared` 0), which waits
//! and wakes with `FUTEX_PRIVATE_FLAG`, 128 for a shared one. The model keeps exactly those bytes in
//! the frames of the mapping, so a `load` sees them, `fork` copies them as it copies any memory, and a
//! semaphore in a private mapping is a different semaphore in parent and child after the first write.
//!
//! - `sem_init` writes the value (the waiters' count 0) and the flag: one step in user space, faulting
//!   like a store (`SIGSEGV`) where the memory is not mapped for writing.
//! - `sem_destroy` returns 0 and touches nothing.
//! - `sem_wait` takes one with a compare-and-exchange if the value is above 0 (no system call).
//!   Otherwise it adds itself to the waiters' count, and sleeps in `FUTEX_WAIT` on the value's word
//!   while the value is 0; woken, it tries again; once it takes one it leaves the count in the same
//!   instruction. A handler without `SA_RESTART` (`EINTR`) or `sem_timedwait`'s time (`ETIMEDOUT`)
//!   makes it leave the count and fail; a process killed in it never leaves the count, as in C.
//! - `sem_trywait` and `sem_getvalue` only read: `EAGAIN` at 0, even in memory mapped read-only.
//! - `sem_post` adds one (`EOVERFLOW` at `SEM_VALUE_MAX`, with no write), and makes a `FUTEX_WAKE` of
//!   one sleeper whenever the waiters' count is not 0, whether anyone sleeps on that futex or not.
//!
//! A process is counted as a waiter from its first sleep in the call until the call ends: that is,
//! while its call has slept or is being started again after a signal (`InCall::waited`, `restart`).

use super::mm::{self, FutexKey};
use super::time::TimerKind;
use super::{CallContext, Exec, Kernel};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EAGAIN, EINVAL, EOVERFLOW, ETIMEDOUT};
use crate::linux::mman::FUTEX_PRIVATE_FLAG;
use crate::linux::sem::SEM_VALUE_MAX;
use crate::trace::{BlockReason, CallResult, ObjectRef, Pid, Trace};

/// One waiter in the high 32 bits of the semaphore's first 8 bytes.
const ONE_WAITER: i64 = 1 << 32;
const VALUE_MASK: i64 = 0xffff_ffff;
/// glibc's flag for a semaphore shared between processes (`LLL_SHARED`); 0 is private (`LLL_PRIVATE`).
const SHARED: i64 = FUTEX_PRIVATE_FLAG;

/// Whether a semaphore operand names an unnamed semaphore by its address rather than a named one by its
/// handle: addresses of mappings start at `MAP_BASE`, handles are small numbers.
pub fn is_address(operand: i64) -> bool {
    operand as u64 >= mm::MAP_BASE
}

/// Whether `pid`, in a `sem_wait` or `sem_timedwait` on an address, counts itself among the waiters.
fn registered(kernel: &Kernel, pid: Pid) -> bool {
    let call = &kernel.process(pid).call;
    call.waited || call.restart
}

/// The call on an unnamed semaphore at `call.arg(0)`.
pub(crate) fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    let address = call.arg(0) as u64;
    // What an earlier `FUTEX_WAKE` handed over is only a reason to look again.
    let _ = kernel.proc_mut(pid).handed.take();
    let result = match call.id() {
        CallId::SemInit => init(kernel, pid, address, call.arg(1), call.arg(2), trace),
        CallId::SemDestroy => {
            kernel.in_user_space = true;
            Ok(Exec::Done(CallResult::Value { value: 0 }))
        }
        CallId::SemGetvalue => {
            kernel.in_user_space = true;
            mm::access(kernel, pid, address, None, trace)
                .map(|data| Exec::Done(CallResult::Out { value: data & VALUE_MASK }))
        }
        CallId::SemPost => post(kernel, pid, address, trace),
        CallId::SemWait | CallId::SemTrywait | CallId::SemTimedwait => wait(kernel, call, address, trace),
        other => unreachable!("{} is not a call on an unnamed semaphore", other.name()),
    };
    result.unwrap_or_else(Exec::Fault)
}

/// `sem_init(ADDR, PSHARED, VALUE)`.
fn init(
    kernel: &mut Kernel,
    pid: Pid,
    address: u64,
    pshared: i64,
    value: i64,
    trace: &mut Trace,
) -> Result<Exec, crate::linux::Signal> {
    kernel.in_user_space = true;
    let value = value as u32 as i64;
    if value > SEM_VALUE_MAX {
        return Ok(Kernel::error(EINVAL));
    }
    let flag = if pshared as i32 != 0 { SHARED } else { 0 };
    mm::access(kernel, pid, address, Some(&|_| Some(value)), trace)?;
    // The flag is a 4-byte store: the 4 bytes after it keep what they held.
    mm::access(kernel, pid, address.wrapping_add(8), Some(&|old| Some(old & !VALUE_MASK | flag)), trace)?;
    Ok(Exec::Done(CallResult::Value { value: 0 }))
}

/// The futex of the semaphore at `address`: the key of its value's word (private unless the flag at
/// +8 says shared) and the word's frame.
fn futex_of(kernel: &mut Kernel, pid: Pid, address: u64, trace: &mut Trace) -> Result<(FutexKey, u32), Exec> {
    let flag = mm::access(kernel, pid, address.wrapping_add(8), None, trace).map_err(Exec::Fault)?;
    let private = flag & SHARED == 0;
    let (key, frame, _) = mm::futex_word(kernel, pid, address, private, trace)?;
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::frame(frame));
    }
    Ok((key, frame))
}

/// `sem_post(ADDR)`.
fn post(kernel: &mut Kernel, pid: Pid, address: u64, trace: &mut Trace) -> Result<Exec, crate::linux::Signal> {
    let data = mm::access(kernel, pid, address, None, trace)?;
    if data & VALUE_MASK == SEM_VALUE_MAX {
        kernel.in_user_space = true;
        return Ok(Kernel::error(EOVERFLOW));
    }
    mm::access(kernel, pid, address, Some(&|old| Some(old + 1)), trace)?;
    if data >> 32 == 0 {
        kernel.in_user_space = true;
        return Ok(Exec::Done(CallResult::Value { value: 0 }));
    }
    // Someone is counted as waiting: a `FUTEX_WAKE` of one, which may find nobody asleep.
    match futex_of(kernel, pid, address, trace) {
        Ok((key, frame)) => {
            mm::futex_wake(kernel, pid, key, frame, 1, trace);
            Ok(Exec::Done(CallResult::Value { value: 0 }))
        }
        Err(exec) => Ok(exec),
    }
}

/// `sem_wait`, `sem_trywait` and `sem_timedwait` on `ADDR`.
fn wait(
    kernel: &mut Kernel,
    call: &CallContext,
    address: u64,
    trace: &mut Trace,
) -> Result<Exec, crate::linux::Signal> {
    let pid = call.pid;
    let counted = registered(kernel, pid);
    if counted && kernel.ipc_timed_out(pid) {
        kernel.cancel_timer(pid, TimerKind::Wake);
        mm::access(kernel, pid, address, Some(&|old| Some(old - ONE_WAITER)), trace)?;
        return Ok(Kernel::error(ETIMEDOUT));
    }
    let data = mm::access(kernel, pid, address, None, trace)?;
    if data & VALUE_MASK > 0 {
        // One taken, and (in the slow path) the place among the waiters given up, in one instruction.
        let taken = if counted { 1 + ONE_WAITER } else { 1 };
        mm::access(kernel, pid, address, Some(&|old| Some(old - taken)), trace)?;
        kernel.cancel_timer(pid, TimerKind::Wake);
        kernel.in_user_space = !counted;
        return Ok(Exec::Done(CallResult::Value { value: 0 }));
    }
    if call.id() == CallId::SemTrywait {
        kernel.in_user_space = true;
        return Ok(Kernel::error(EAGAIN));
    }
    if !counted {
        mm::access(kernel, pid, address, Some(&|old| Some(old + ONE_WAITER)), trace)?;
    }
    let (key, _) = match futex_of(kernel, pid, address, trace) {
        Ok(found) => found,
        Err(exec) => return Ok(exec),
    };
    if call.id() == CallId::SemTimedwait {
        // The time is absolute in C (`now + NS`), the same however often the call sleeps again.
        let until = super::time::ipc_deadline(kernel, pid, call.arg(1));
        if !kernel.arm_wake(pid, until) {
            // The time is already past: `futex_wait` fails at once, and the waiter leaves the count.
            mm::access(kernel, pid, address, Some(&|old| Some(old - ONE_WAITER)), trace)?;
            return Ok(Kernel::error(ETIMEDOUT));
        }
    }
    kernel.futex_waiters.push((key, pid));
    Ok(Exec::Block(BlockReason::Futex { address, value: 0 }))
}

/// A `sem_wait` or `sem_timedwait` on an unnamed semaphore ends with `EINTR` (a handler without
/// `SA_RESTART`): glibc takes the process out of the waiters' count before it returns. The count is in
/// memory the process changed already, so this faults only if a handler unmapped it meanwhile, as the
/// C program would.
pub(crate) fn interrupted(
    kernel: &mut Kernel,
    pid: Pid,
    id: CallId,
    address: i64,
    trace: &mut Trace,
) -> Result<(), crate::linux::Signal> {
    if matches!(id, CallId::SemWait | CallId::SemTimedwait) && is_address(address) && registered(kernel, pid) {
        mm::access(kernel, pid, address as u64, Some(&|old| Some(old - ONE_WAITER)), trace)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::ipc::call_results;
    use crate::linux::errno::{EAGAIN, EINVAL, EOVERFLOW};
    use crate::trace::CallResult;

    fn value(value: i64) -> CallResult {
        CallResult::Value { value }
    }

    #[test]
    fn the_semaphore_is_its_bytes_in_memory() {
        let source = "process main {\n  m = mmap 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS\n  \
                      sem_init m 0 4294967295\n  sem_init m 0 2\n  load m 0\n  load m 8\n  sem_init m 1 1\n  \
                      load m 8\n  sem_trywait m\n  sem_trywait m\n  store m 0 2147483647\n  sem_post m\n  \
                      sem_getvalue m\n  sem_destroy m\n  load m 0\n}\n";
        let results = call_results(crate::Limits::DEFAULT, source);
        // Above SEM_VALUE_MAX: nothing written.
        assert_eq!(results[1], CallResult::Error { errno: EINVAL });
        assert_eq!(results[3], value(2));
        // pshared 0 writes glibc's private flag, 0; pshared 1 its shared one, 128.
        assert_eq!(results[4], value(0));
        assert_eq!(results[6], value(128));
        assert_eq!(results[7], value(0));
        assert_eq!(results[8], CallResult::Error { errno: EAGAIN });
        assert_eq!(results[10], CallResult::Error { errno: EOVERFLOW });
        assert_eq!(results[11], CallResult::Out { value: 2147483647 });
        // sem_destroy leaves the bytes as they were.
        assert_eq!(results[12], value(0));
        assert_eq!(results[13], value(2147483647));
    }

    #[test]
    fn a_sleeper_is_counted_in_memory_until_it_takes_one() {
        use crate::kernel::Kernel;
        use crate::trace::{EventKind, Trace};
        use std::sync::Arc;
        let source = "process main {\n  m = mmap 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS\n  \
                      sem_init m 1 0\n  fork child {\n    sem_wait m\n  }\n  load m 0\n  sem_post m\n  \
                      load m 0\n  wait\n  load m 0\n}\n";
        let scenario = crate::parse(source).expect("parses");
        let program = Arc::new(crate::lang::compile::Program::compile(&scenario).expect("compiles"));
        let mut trace = Trace::new(true);
        let mut kernel = Kernel::new(program.clone(), crate::Limits::DEFAULT, &mut trace).expect("fits");
        // main maps, inits and forks; the child sleeps; main reads, posts, reads, and waits; the child
        // takes it and exits; main reaps it and reads.
        for pid in [2, 2, 2, 3, 2, 2, 2, 2, 3, 3, 2, 2] {
            kernel.step(&program, pid, &mut trace).expect("no limit is reached");
        }
        let results: Vec<CallResult> = trace
            .events
            .iter()
            .filter_map(|event| match event.kind {
                EventKind::Call { pid: 2, result, .. } => Some(result),
                _ => None,
            })
            .collect();
        // mmap, sem_init, fork, load, sem_post, load, wait, load.
        assert_eq!(results[3], value(1 << 32), "one waiter counted, value 0");
        assert_eq!(results[5], value((1 << 32) + 1), "the post raised the value; the waiter has not run yet");
        assert_eq!(results[7], value(0), "taken, and the waiter's count with it");
    }
}
