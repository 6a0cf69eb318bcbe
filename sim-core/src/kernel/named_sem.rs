//! POSIX named semaphores: `sem_open`, `sem_wait`, `sem_trywait`, `sem_timedwait`, `sem_post`, `sem_getvalue`,
//! `sem_close`, `sem_unlink`.
//!
//! These are glibc's (2.34 and later), built on a file and a futex: `sem_open` opens (or creates, from a
//! temporary file linked into place) `/dev/shm/sem.NAME`, maps it, and closes the descriptor; the
//! process keeps one mapping per semaphore and name, counted by `sem_open` and `sem_close`
//! (`__sem_check_add_mapping`, `__sem_remove_mapping`), and a child inherits its parent's mappings. The
//! semaphore lives while it has a name or a mapping. `sem_wait` takes one if the value is above 0 and
//! otherwise sleeps in `FUTEX_WAIT`; `sem_post` adds one and wakes one sleeper (`FUTEX_WAKE` of 1, in
//! the order they slept), which then tries again: a process that comes first may take it. A stop
//! signal restarts the futex wait, so a stopped `sem_wait` goes on waiting once continued.
//!
//! A handle is a number standing for the `sem_t *` that `sem_open` returned: the position of the
//! mapping in the process's list, from 1. Using a handle that is not open (never returned, or given up
//! by `sem_close`) touches memory that is not mapped: the process dies of `SIGSEGV`, as the C program
//! would with a null pointer. (`sem_close` of such a handle fails with `EINVAL`: glibc looks the pointer
//! up before touching it.) Scenario processes have the umask 022, as `ipclab check` sets it.

use super::process::SemHandle;
use super::time::TimerKind;
use super::wait::{WaitQueue, Wake};
use super::{CallContext, Exec, Interruption, Kernel, Mechanism, WokenCall};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EACCES, EAGAIN, EEXIST, EINVAL, EMFILE, ENAMETOOLONG, ENOENT, EOVERFLOW, ETIMEDOUT};
use crate::linux::fcntl::{O_CREAT, O_EXCL, UMASK};
use crate::linux::mqueue::NAME_MAX;
use crate::linux::sem::SEM_VALUE_MAX;
use crate::linux::signal::SIGSEGV;
use crate::present::snapshot::{NamedSemView, ObjectView};
use crate::trace::{BlockReason, CallResult, ObjectRef, Pid, StateHasher, Trace, WakeCause};
use std::sync::Arc;

/// A named semaphore (the `struct new_sem` in its file).
#[derive(Clone, Debug)]
pub struct NamedSem {
    pub id: u32,
    /// Its name (leading `/`s removed) and the program's path index of the name that made it, while
    /// the file `/dev/shm/sem.NAME` exists.
    pub name: Option<Arc<str>>,
    pub name_index: Option<u32>,
    pub mode: i64,
    pub value: i64,
    /// Processes asleep in `sem_wait`, in the order they went to sleep.
    pub waiters: WaitQueue,
    /// Mappings of it in all processes.
    pub mappings: u32,
    pub creator: Pid,
    /// Processes that posted it, and the last process that changed its value, for the deadlock report.
    pub posted_by: Vec<Pid>,
    pub last_pid: Pid,
}

impl NamedSem {
    pub(crate) fn hash_into(&self, hasher: &mut StateHasher) {
        hasher.word(self.id as u64 | (self.mappings as u64) << 32);
        hasher.word(self.name_index.map_or(u64::MAX, |index| index as u64));
        hasher.word(self.mode as u64);
        hasher.word(self.value as u64);
        for pid in self.waiters.pids() {
            hasher.word(pid as u64);
        }
    }
}

impl Kernel {
    pub(crate) fn named_sem(&self, id: u32) -> Option<&NamedSem> {
        self.ipc.named_sems.get((id as usize).wrapping_sub(1)).and_then(Option::as_ref)
    }

    fn named_sem_mut(&mut self, id: u32) -> &mut NamedSem {
        self.ipc.named_sems[id as usize - 1].as_mut().expect("a mapped semaphore exists")
    }
}

/// A name as `__shm_get_name` makes a file of it: leading `/`s dropped, nothing empty, no other `/`.
fn file_name(name: &str) -> Option<&str> {
    let rest = name.trim_start_matches('/');
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// `sem_open(name, oflag, mode, value)`. Returns the handle.
fn sem_open(kernel: &mut Kernel, pid: Pid, name_index: u32, flags: i64, mode: i64, value: i64) -> Exec {
    let flags = flags as i32 as i64;
    let written: Arc<str> = kernel.program.paths[name_index as usize].clone();
    let Some(name) = file_name(&written).map(Arc::<str>::from) else { return Kernel::error(EINVAL) };
    // The file is `/dev/shm/sem.NAME`: its last component is limited to NAME_MAX bytes.
    if name.len() + 4 > NAME_MAX {
        return Kernel::error(ENAMETOOLONG);
    }
    let existing = kernel.ipc.sem_names.get(&name).copied();
    let create_only = flags & O_CREAT != 0 && flags & O_EXCL != 0;
    let id = match existing {
        Some(id) if !create_only => {
            // `open(O_RDWR)` of the file: the owner needs read and write permission, and a descriptor.
            if kernel.named_sem(id).expect("named").mode >> 6 & 0o6 != 0o6 {
                return Kernel::error(EACCES);
            }
            if kernel.lowest_free_fd(pid, 0).is_none() {
                return Kernel::error(EMFILE);
            }
            id
        }
        None if flags & O_CREAT == 0 => return Kernel::error(ENOENT),
        _ => {
            // The create path: the value first, then a temporary file (a descriptor), then `link`.
            if value as u32 as i64 > SEM_VALUE_MAX {
                return Kernel::error(EINVAL);
            }
            if kernel.lowest_free_fd(pid, 0).is_none() {
                return Kernel::error(EMFILE);
            }
            if existing.is_some() {
                return Kernel::error(EEXIST);
            }
            if !kernel.ipc_object_fits() {
                return kernel.halt_ipc_objects();
            }
            let id = kernel.ipc.named_sems.len() as u32 + 1;
            kernel.ipc.named_sems.push(Some(NamedSem {
                id,
                name: Some(name.clone()),
                name_index: Some(name_index),
                mode: (mode as u32 as i64) & !UMASK & 0o777,
                value: value as u32 as i64,
                waiters: WaitQueue::default(),
                mappings: 0,
                creator: pid,
                posted_by: Vec::new(),
                last_pid: 0,
            }));
            kernel.ipc.sem_names.insert(name, id);
            id
        }
    };
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::named_sem(id));
    }
    // `__sem_check_add_mapping`: the same semaphore under the same name is the same mapping.
    let process = kernel.proc_mut(pid);
    let found = process
        .sem_handles
        .iter()
        .position(|handle| handle.as_ref().is_some_and(|handle| handle.sem == id && handle.name == written));
    let handle = match found {
        Some(at) => {
            process.sem_handles[at].as_mut().expect("found").refs += 1;
            at
        }
        None => {
            process.sem_handles.push(Some(SemHandle { sem: id, name: written, refs: 1 }));
            kernel.named_sem_mut(id).mappings += 1;
            kernel.process(pid).sem_handles.len() - 1
        }
    };
    Exec::Done(CallResult::Value { value: handle as i64 + 1 })
}

/// The semaphore behind a handle, if it is open in this process.
fn sem_of(kernel: &Kernel, pid: Pid, handle: i64) -> Option<u32> {
    let at = usize::try_from(handle.checked_sub(1)?).ok()?;
    kernel.process(pid).sem_handles.get(at)?.as_ref().map(|handle| handle.sem)
}

/// A call on a handle that is not open: the process touches unmapped memory and dies of `SIGSEGV`.
fn bad_handle() -> Exec {
    Exec::Fault(SIGSEGV)
}

/// Frees a semaphore that has neither a name nor a mapping.
fn free_if_unused(kernel: &mut Kernel, id: u32) {
    let sem = kernel.named_sem(id).expect("exists");
    if sem.name.is_none() && sem.mappings == 0 {
        kernel.ipc.named_sems[id as usize - 1] = None;
    }
}

/// Drops one mapping (`sem_close` of the last reference, or the end of the process).
fn unmap(kernel: &mut Kernel, id: u32) {
    kernel.named_sem_mut(id).mappings -= 1;
    free_if_unused(kernel, id);
}

/// A process goes away: its mappings with it.
pub(crate) fn process_exit(kernel: &mut Kernel, pid: Pid) {
    let handles = std::mem::take(&mut kernel.proc_mut(pid).sem_handles);
    for handle in handles.into_iter().flatten() {
        unmap(kernel, handle.sem);
    }
}

/// A child inherits its parent's mappings.
pub(crate) fn fork(kernel: &mut Kernel, child: Pid) {
    let sems: Vec<u32> = kernel.process(child).sem_handles.iter().flatten().map(|handle| handle.sem).collect();
    for sem in sems {
        kernel.named_sem_mut(sem).mappings += 1;
    }
}

/// The named semaphore mechanism.
pub struct NamedSems;

impl Mechanism for NamedSems {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        let pid = call.pid;
        if call.id() == CallId::SemOpen {
            return sem_open(kernel, pid, call.arg(0) as u32, call.arg(1), call.arg(2), call.arg(3));
        }
        if call.id() == CallId::SemUnlink {
            let written = kernel.program.paths[call.arg(0) as usize].clone();
            let Some(name) = file_name(&written) else { return Kernel::error(ENOENT) };
            if name.len() + 4 > NAME_MAX {
                return Kernel::error(ENAMETOOLONG);
            }
            let Some(id) = kernel.ipc.sem_names.remove(name) else { return Kernel::error(ENOENT) };
            let sem = kernel.named_sem_mut(id);
            sem.name = None;
            sem.name_index = None;
            free_if_unused(kernel, id);
            return Exec::Done(CallResult::Value { value: 0 });
        }
        let handle = call.arg(0);
        // `sem_init`, `sem_destroy`, and the calls that take a semaphore by its address in memory.
        if matches!(call.id(), CallId::SemInit | CallId::SemDestroy)
            || (call.id() != CallId::SemClose && super::unnamed_sem::is_address(handle))
        {
            return super::unnamed_sem::call(kernel, call, trace);
        }
        if call.id() == CallId::SemClose {
            // `__sem_remove_mapping` looks the pointer up first: an unknown one is `EINVAL`.
            let Some(at) = usize::try_from(handle.wrapping_sub(1))
                .ok()
                .filter(|at| kernel.process(pid).sem_handles.get(*at).is_some_and(Option::is_some))
            else {
                return Kernel::error(EINVAL);
            };
            let entry = kernel.proc_mut(pid).sem_handles[at].as_mut().expect("checked");
            entry.refs -= 1;
            if entry.refs == 0 {
                let sem = entry.sem;
                kernel.proc_mut(pid).sem_handles[at] = None;
                unmap(kernel, sem);
            }
            return Exec::Done(CallResult::Value { value: 0 });
        }
        let Some(id) = sem_of(kernel, pid, handle) else { return bad_handle() };
        let object = ObjectRef::named_sem(id);
        if kernel.footprint.enabled {
            kernel.footprint.write(object);
        }
        let sem = kernel.named_sem_mut(id);
        match call.id() {
            CallId::SemWait | CallId::SemTrywait | CallId::SemTimedwait => {
                // `sem_timedwait`'s futex wait timed out, nobody having posted meanwhile: glibc gives up
                // without looking at the value again (`__new_sem_wait_slow64`).
                if kernel.ipc_timed_out(pid) {
                    kernel.cancel_timer(pid, TimerKind::Wake);
                    return Kernel::error(ETIMEDOUT);
                }
                // glibc takes a value above 0 with an atomic instruction, in user space; only a wait
                // enters the kernel (one `futex` wait, however often it went back to sleep).
                let slept = kernel.process(pid).call.waited;
                let sem = kernel.named_sem_mut(id);
                if sem.value > 0 {
                    sem.value -= 1;
                    sem.last_pid = pid;
                    kernel.cancel_timer(pid, TimerKind::Wake);
                    kernel.in_user_space = !slept;
                    return Exec::Done(CallResult::Value { value: 0 });
                }
                if call.id() == CallId::SemTrywait {
                    kernel.in_user_space = true;
                    return Kernel::error(EAGAIN);
                }
                if call.id() == CallId::SemTimedwait {
                    // The time is absolute in C (`now + NS`); one already past fails at once
                    // (`futex_wait` with an expired timer), once the value is seen to be 0.
                    let until = super::time::ipc_deadline(kernel, pid, call.arg(1));
                    if !kernel.arm_wake(pid, until) {
                        return Kernel::error(ETIMEDOUT);
                    }
                }
                kernel.named_sem_mut(id).waiters.add(pid, true);
                Exec::Block(BlockReason::NamedSem { sem: id })
            }
            CallId::SemPost => {
                if sem.value == SEM_VALUE_MAX {
                    kernel.in_user_space = true;
                    return Kernel::error(EOVERFLOW);
                }
                sem.value += 1;
                sem.last_pid = pid;
                if !sem.posted_by.contains(&pid) {
                    sem.posted_by.push(pid);
                }
                let mut woken = Vec::new();
                sem.waiters.wake(Wake::One, &mut woken);
                // A `futex` wake only when someone sleeps (glibc reads its count of waiters).
                kernel.in_user_space = woken.is_empty();
                for sleeper in woken {
                    kernel.wake(sleeper, pid, WakeCause::Data { object }, trace);
                }
                Exec::Done(CallResult::Value { value: 0 })
            }
            CallId::SemGetvalue => {
                kernel.in_user_space = true;
                Exec::Done(CallResult::Out { value: kernel.named_sem(id).expect("open").value })
            }
            other => unreachable!("{} is not a named semaphore call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        if let BlockReason::NamedSem { sem } = reason {
            if let Some(Some(sem)) = kernel.ipc.named_sems.get_mut(*sem as usize - 1) {
                sem.waiters.remove(pid);
            }
        }
    }

    fn interruption(_reason: &BlockReason) -> Interruption {
        // glibc's `sem_wait` waits with FUTEX_WAIT_BITSET and no timeout, where `futex_wait` returns
        // -ERESTARTSYS: the call starts again after a stop, and after a handler with SA_RESTART (as
        // Linux 6.x with glibc 2.3x does, although signal(7) lists `sem_wait` among the calls never
        // restarted); a handler without SA_RESTART makes it fail with EINTR.
        Interruption::Restart
    }

    fn woken_call(kernel: &Kernel, pid: Pid, by_signal: bool) -> WokenCall {
        if kernel.process(pid).call.timed_out {
            // `futex_wait` reports the timeout before a pending signal: `sem_timedwait` fails with
            // ETIMEDOUT (its handler runs after).
            WokenCall::TriesAgain
        } else if by_signal {
            // The signal ended the futex wait: the call is interrupted without trying again
            // (`sem_timedwait`'s, with a timeout, ends with EINTR after any handler).
            let timed = kernel.program.call(kernel.process(pid).pc).is_some_and(|call| call.id == CallId::SemTimedwait);
            WokenCall::SeesSignal(if timed { Interruption::RestartWithoutHandler } else { Interruption::Restart })
        } else {
            // A `sem_post` ended the futex wait (even one a signal had woken first: it was still
            // queued), which returns 0; the signal is taken on the way back to user space, over a
            // call that returned 0, as `ipclab check` sees it.
            // FIXME: glibc's loop takes the value only after the handler returns, so a handler (or
            // another process meanwhile) that takes it first would send `sem_wait` back to sleep;
            // the model takes the value as the call returns, before the handler runs.
            WokenCall::TriesAgain
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        for sem in kernel.ipc.named_sems.iter().flatten() {
            if !(0..=SEM_VALUE_MAX).contains(&sem.value) {
                return Err(format!("named semaphore {} has the value {}", sem.id, sem.value));
            }
            let mappings: u32 = kernel
                .procs
                .iter()
                .flat_map(|process| process.sem_handles.iter().flatten())
                .filter(|handle| handle.sem == sem.id)
                .count() as u32;
            if mappings != sem.mappings {
                return Err(format!(
                    "named semaphore {} counts {} mappings but {mappings} exist",
                    sem.id, sem.mappings
                ));
            }
            if sem.name.is_none() && sem.mappings == 0 {
                return Err(format!("named semaphore {} has neither a name nor a mapping but still exists", sem.id));
            }
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for sem in kernel.ipc.named_sems.iter().flatten() {
            out.push(ObjectView::NamedSem(NamedSemView {
                id: sem.id,
                name: sem.name.as_ref().map(|name| format!("/{name}")),
                mode: sem.mode as u32,
                creator: sem.creator,
                value: sem.value,
                waiters: sem.waiters.pids().collect(),
                mappings: sem.mappings,
            }));
        }
    }
}

/// Who could end a wait on a named semaphore: the living processes that posted it before.
pub(crate) fn could_end_wait(kernel: &Kernel, id: u32) -> Vec<Pid> {
    let Some(sem) = kernel.named_sem(id) else { return Vec::new() };
    sem.posted_by.iter().copied().filter(|pid| kernel.process(*pid).is_alive()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::ipc::call_results;
    use crate::linux::errno::{EAGAIN, EINVAL};
    use crate::trace::CallResult;

    #[test]
    fn a_semaphore_counts_posts_and_refuses_a_take_at_zero() {
        let source = "process main {\n  s = sem_open \"/s\" O_CREAT 0600 1\n  sem_trywait s\n  sem_trywait s\n  \
                      sem_post s\n  sem_post s\n  sem_getvalue s\n  sem_open \"/t\" O_CREAT 0600 2147483648\n  \
                      sem_close s\n  sem_unlink \"/s\"\n}\n";
        let results = call_results(crate::Limits::DEFAULT, source);
        assert_eq!(results[1], CallResult::Value { value: 0 });
        assert_eq!(results[2], CallResult::Error { errno: EAGAIN });
        assert_eq!(results[5], CallResult::Out { value: 2 });
        // Above SEM_VALUE_MAX.
        assert_eq!(results[6], CallResult::Error { errno: EINVAL });
        assert_eq!(results[7..9], [CallResult::Value { value: 0 }; 2]);
    }
}
