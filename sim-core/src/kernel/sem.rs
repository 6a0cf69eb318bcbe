//! System V semaphore sets: `semget`, `semop`, `semctl`, and the `SEM_UNDO` adjustments applied when a
//! process exits.
//!
//! The rules are `ipc/sem.c`'s (Linux 6.18). A `semop` applies its operations in order, all or none
//! (`perform_atomic_semop`): an operation below 0 needs the value to stay at least 0, an operation of 0
//! needs the value to be 0, a value may not pass `SEMVMX` (`ERANGE`), and an undo adjustment may not pass
//! `SEMAEM`. An operation that cannot go on makes the whole call sleep, unless that operation has
//! `IPC_NOWAIT` (`EAGAIN`). The process that changes a set does the work of the sleepers it unblocks
//! (`do_smart_update`): it performs their operations in their place, in queue order, and wakes them with
//! the result, so a woken `semop` has already happened and returns at once; nobody can slip in between.
//!
//! Which sleeper goes first follows the queues of `ipc/sem.c`: a single-operation `semop` sleeps on its
//! semaphore's own queue (one for decrements, one for waits for zero), unless a multi-operation `semop`
//! is asleep on the set, in which case every altering sleeper is on the set's one global queue. When the
//! first multi-operation `semop` goes to sleep, the per-semaphore queues are moved to the front of the
//! global queue one after the other, so the sleepers of the highest-numbered semaphore come first
//! (`merge_queues` splices each list at the head); when the last one leaves, the global queue is split
//! back (`unmerge_queues`). After a change, the waits for zero are served first (`do_smart_wakeup_zero`),
//! then the decrements of the semaphores that were raised (`update_queue`, which stops at a semaphore
//! that is 0 and starts its queue again after a multi-operation sleeper completes, `check_restart`).
//!
//! A sleeper stopped by a signal fails with `EINTR` once it is continued (Linux never restarts `semop`,
//! signal(7)). `SEM_UNDO` keeps, per process and set, the opposite of each operation; at exit the
//! adjustments are added, each value held between 0 and `SEMVMX` (`exit_sem`), and sleepers are served.
//! `SETVAL` and `SETALL` clear the adjustments of the semaphores they set; a child does not inherit its
//! parent's adjustments. `IPC_RMID` wakes every sleeper with `EIDRM` and drops the adjustments (`freeary`).

use super::ipc::IpcIds;
use super::process::Handed;
use super::time::TimerKind;
use super::{CallContext, Exec, Interruption, Kernel, Mechanism, WokenCall};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{E2BIG, EACCES, EAGAIN, EEXIST, EFBIG, EIDRM, EINVAL, ENOENT, ENOSPC, ERANGE};
use crate::linux::ipc::{self, IPC_CREAT, IPC_EXCL, IPC_NOWAIT, IPC_PRIVATE, MODE_BITS, S_IRUGO, S_IWUGO};
use crate::linux::sem::{self as linux_sem, Sembuf, SEMAEM, SEMVMX, SEM_UNDO};
use crate::linux::{field, Errno};
use crate::present::snapshot::{ObjectView, SemSetView, SemView};
use crate::trace::{BlockReason, CallResult, Event, EventKind, ObjectRef, Pid, StateHasher, Trace, WakeCause};

/// A `semop` asleep on a set (`struct sem_queue`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sleeper {
    pub pid: Pid,
    pub sops: Vec<Sembuf>,
    /// Whether any operation changes a value (the others only wait for zero).
    pub alter: bool,
    /// The operation that could not go on at the last attempt.
    pub blocking: usize,
}

impl Sleeper {
    fn complex(&self) -> bool {
        self.sops.len() > 1
    }

    fn undo(&self) -> bool {
        self.sops.iter().any(|sop| sop.flg as i64 & SEM_UNDO != 0)
    }
}

/// One semaphore (`struct sem`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Semaphore {
    pub value: i32,
    /// The last process that changed it (`sempid`, 0 for none).
    pub sempid: Pid,
    /// Single-operation sleepers that decrement it, and that wait for it to be 0.
    pub pending_alter: Vec<Sleeper>,
    pub pending_const: Vec<Sleeper>,
    /// The sum of every process's undo adjustment for it (kept for the invariant check).
    pub undo_total: i64,
    /// Processes that raised it with an operation above 0, each once: who could end a wait on it, for
    /// the deadlock report (setting a value with `SETVAL` or `SETALL` is not posting).
    pub raised_by: Vec<Pid>,
}

/// A semaphore set (`struct sem_array`).
#[derive(Clone, Debug)]
pub struct SemSet {
    pub id: i32,
    pub key: i32,
    pub mode: i64,
    pub serial: u64,
    pub sems: Vec<Semaphore>,
    /// Sleepers on the whole set: every altering one while a multi-operation `semop` sleeps, and the
    /// multi-operation waits for zero.
    pub pending_alter: Vec<Sleeper>,
    pub pending_const: Vec<Sleeper>,
    /// Multi-operation sleepers.
    pub complex_count: u32,
    pub creator: Pid,
}

impl SemSet {
    pub(crate) fn hash_into(&self, hasher: &mut StateHasher, sempid: bool) {
        hasher.word(self.id as u64 | (self.key as u32 as u64) << 32);
        hasher.word(self.mode as u64 | (self.complex_count as u64) << 32);
        let sleepers = |list: &[Sleeper], hasher: &mut StateHasher| {
            hasher.word(list.len() as u64);
            for sleeper in list {
                hasher.word(sleeper.pid as u64 | (sleeper.blocking as u64) << 32);
                for sop in &sleeper.sops {
                    hasher.word(sop.num as u64 | (sop.op as u16 as u64) << 16 | (sop.flg as u16 as u64) << 32);
                }
            }
        };
        for sem in &self.sems {
            hasher.word(sem.value as u64 | if sempid { (sem.sempid as u64) << 32 } else { 0 });
            sleepers(&sem.pending_alter, hasher);
            sleepers(&sem.pending_const, hasher);
        }
        sleepers(&self.pending_alter, hasher);
        sleepers(&self.pending_const, hasher);
    }

    /// `count_semcnt`: sleepers waiting for semaphore `num` to grow (or, with `zero`, to be 0): all of
    /// its own queue, and the multi-operation sleepers whose blocking operation is on it.
    fn waiters(&self, num: usize, zero: bool) -> Vec<Pid> {
        let own = if zero { &self.sems[num].pending_const } else { &self.sems[num].pending_alter };
        let mut pids: Vec<Pid> = own.iter().map(|sleeper| sleeper.pid).collect();
        let blocked_here = |sleeper: &&Sleeper| {
            let sop = sleeper.sops[sleeper.blocking];
            sop.num as usize == num && if zero { sop.op == 0 } else { sop.op < 0 }
        };
        pids.extend(self.pending_alter.iter().filter(blocked_here).map(|sleeper| sleeper.pid));
        if zero {
            pids.extend(self.pending_const.iter().filter(blocked_here).map(|sleeper| sleeper.pid));
        }
        pids
    }
}

/// A process's undo adjustments for one set (`struct sem_undo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemUndo {
    pub semid: i32,
    pub serial: u64,
    pub adj: Vec<i32>,
}

/// What one attempt of a `semop` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    Done,
    /// It must sleep: this operation cannot go on.
    Block(usize),
    Failed(Errno),
}

/// `perform_atomic_semop_slow`: the operations in order, undone if one cannot go on. `adj` is the
/// caller's undo adjustments for the set, when an operation has `SEM_UNDO`.
fn perform(sems: &mut [Semaphore], sops: &[Sembuf], mut adj: Option<&mut [i32]>, pid: Pid) -> Attempt {
    let mut outcome = None;
    let mut applied = 0;
    for (at, sop) in sops.iter().enumerate() {
        let current = sems[sop.num as usize].value;
        let op = sop.op as i32;
        if op == 0 && current != 0 || current + op < 0 {
            outcome = Some(if sop.flg as i64 & IPC_NOWAIT != 0 { Attempt::Failed(EAGAIN) } else { Attempt::Block(at) });
            break;
        }
        if current + op > SEMVMX {
            outcome = Some(Attempt::Failed(ERANGE));
            break;
        }
        if sop.flg as i64 & SEM_UNDO != 0 {
            let adj = adj.as_deref_mut().expect("an undo structure for SEM_UNDO");
            let undo = adj[sop.num as usize] - op;
            if !(-SEMAEM - 1..=SEMAEM).contains(&undo) {
                outcome = Some(Attempt::Failed(ERANGE));
                break;
            }
            adj[sop.num as usize] = undo;
            sems[sop.num as usize].undo_total -= op as i64;
        }
        sems[sop.num as usize].value = current + op;
        applied = at + 1;
    }
    if let Some(outcome) = outcome {
        for sop in sops[..applied].iter().rev() {
            sems[sop.num as usize].value -= sop.op as i32;
            if sop.flg as i64 & SEM_UNDO != 0 {
                adj.as_deref_mut().expect("an undo structure for SEM_UNDO")[sop.num as usize] += sop.op as i32;
                sems[sop.num as usize].undo_total += sop.op as i64;
            }
        }
        return outcome;
    }
    for sop in sops.iter().rev() {
        sems[sop.num as usize].sempid = pid;
        if sop.op > 0 && !sems[sop.num as usize].raised_by.contains(&pid) {
            sems[sop.num as usize].raised_by.push(pid);
        }
    }
    Attempt::Done
}

/// Which list of sleepers `update_queue`/`wake_const_ops` walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum List {
    /// The set's global list.
    Global,
    /// Semaphore `num`'s own list.
    Sem(usize),
}

impl Kernel {
    pub(crate) fn sem_set_index(&self, id: i32) -> Option<u32> {
        if id < 0 {
            return None;
        }
        let index = IpcIds::index_of(id);
        self.ipc.sem_sets.get(&index).filter(|set| set.id == id).map(|_| index)
    }

    fn sem_set(&mut self, index: u32) -> &mut SemSet {
        self.ipc.sem_sets.get_mut(&index).expect("looked up")
    }

    /// Runs one attempt of a sleeper's operations, with its own undo adjustments.
    fn attempt_for(&mut self, index: u32, sleeper: &Sleeper) -> Attempt {
        let set = self.ipc.sem_sets.get_mut(&index).expect("looked up");
        let (semid, serial) = (set.id, set.serial);
        if sleeper.undo() {
            let process = super::unshare(&mut self.procs[sleeper.pid as usize - 1]);
            let undo = process
                .sem_undo
                .iter_mut()
                .find(|undo| undo.semid == semid && undo.serial == serial)
                .expect("a sleeper with SEM_UNDO has its undo structure");
            perform(&mut set.sems, &sleeper.sops, Some(&mut undo.adj), sleeper.pid)
        } else {
            perform(&mut set.sems, &sleeper.sops, None, sleeper.pid)
        }
    }
}

fn list_of(set: &mut SemSet, list: List, zero: bool) -> &mut Vec<Sleeper> {
    match (list, zero) {
        (List::Global, false) => &mut set.pending_alter,
        (List::Global, true) => &mut set.pending_const,
        (List::Sem(num), false) => &mut set.sems[num].pending_alter,
        (List::Sem(num), true) => &mut set.sems[num].pending_const,
    }
}

/// Wakes a sleeper whose `semop` another process finished (or failed) for it.
fn complete(
    kernel: &mut Kernel,
    sleeper: Pid,
    result: Result<(), Errno>,
    by: Pid,
    object: ObjectRef,
    trace: &mut Trace,
) {
    let (handed, cause) = match result {
        Ok(()) => (CallResult::Value { value: 0 }, WakeCause::Completed { object }),
        Err(EIDRM) => (CallResult::Error { errno: EIDRM }, WakeCause::Removed { object }),
        Err(errno) => (CallResult::Error { errno }, WakeCause::Completed { object }),
    };
    kernel.proc_mut(sleeper).handed = Some(Handed::Result(handed));
    kernel.wake(sleeper, by, cause, trace);
}

/// `wake_const_ops`: the waits for zero of one list that can go on now.
fn wake_const(kernel: &mut Kernel, index: u32, list: List, by: Pid, trace: &mut Trace) -> bool {
    let object = ObjectRef::sem_set(kernel.sem_set(index).id as u32);
    let mut completed = false;
    let mut at = 0;
    while at < list_of(kernel.sem_set(index), list, true).len() {
        let sleeper = list_of(kernel.sem_set(index), list, true)[at].clone();
        match kernel.attempt_for(index, &sleeper) {
            Attempt::Block(blocking) => {
                list_of(kernel.sem_set(index), list, true)[at].blocking = blocking;
                at += 1;
            }
            attempt => {
                list_of(kernel.sem_set(index), list, true).remove(at);
                if sleeper.complex() {
                    kernel.sem_set(index).complex_count -= 1;
                }
                let result = match attempt {
                    Attempt::Failed(errno) => Err(errno),
                    _ => {
                        completed = true;
                        Ok(())
                    }
                };
                complete(kernel, sleeper.pid, result, by, object, trace);
            }
        }
    }
    completed
}

/// `do_smart_wakeup_zero`: after `sops` (or any change, for `None`), the waits for zero of the
/// semaphores that are 0 now, then those on the whole set.
fn wakeup_zero(kernel: &mut Kernel, index: u32, sops: Option<&[Sembuf]>, by: Pid, trace: &mut Trace) {
    let mut got_zero = false;
    let nums: Vec<usize> = match sops {
        Some(sops) => sops.iter().map(|sop| sop.num as usize).collect(),
        None => (0..kernel.sem_set(index).sems.len()).collect(),
    };
    for num in nums {
        if kernel.sem_set(index).sems[num].value == 0 {
            got_zero = true;
            wake_const(kernel, index, List::Sem(num), by, trace);
        }
    }
    if got_zero {
        wake_const(kernel, index, List::Global, by, trace);
    }
}

/// `update_queue`: the altering sleepers of one list that can go on now, done in their place.
fn update_queue(kernel: &mut Kernel, index: u32, list: List, by: Pid, trace: &mut Trace) {
    let object = ObjectRef::sem_set(kernel.sem_set(index).id as u32);
    'again: loop {
        let mut at = 0;
        loop {
            let set = kernel.sem_set(index);
            if at >= list_of(set, list, false).len() {
                break 'again;
            }
            // A semaphore at 0 lets none of its own decrements through.
            if let List::Sem(num) = list {
                if set.sems[num].value == 0 {
                    break 'again;
                }
            }
            let sleeper = list_of(set, list, false)[at].clone();
            match kernel.attempt_for(index, &sleeper) {
                Attempt::Block(blocking) => {
                    list_of(kernel.sem_set(index), list, false)[at].blocking = blocking;
                    at += 1;
                }
                Attempt::Failed(errno) => {
                    list_of(kernel.sem_set(index), list, false).remove(at);
                    if sleeper.complex() {
                        kernel.sem_set(index).complex_count -= 1;
                    }
                    complete(kernel, sleeper.pid, Err(errno), by, object, trace);
                }
                Attempt::Done => {
                    list_of(kernel.sem_set(index), list, false).remove(at);
                    if sleeper.complex() {
                        kernel.sem_set(index).complex_count -= 1;
                    }
                    wakeup_zero(kernel, index, Some(&sleeper.sops), by, trace);
                    // `check_restart`: after a multi-operation sleeper, or while the global queue is in
                    // use, anyone may be able to go on now: start over.
                    let restart = !kernel.sem_set(index).pending_alter.is_empty() || sleeper.complex();
                    complete(kernel, sleeper.pid, Ok(()), by, object, trace);
                    if restart {
                        continue 'again;
                    }
                }
            }
        }
    }
}

/// `do_smart_update`: serves the sleepers after `sops` (`None`: after a change to any semaphore).
fn smart_update(kernel: &mut Kernel, index: u32, sops: Option<&[Sembuf]>, by: Pid, trace: &mut Trace) {
    wakeup_zero(kernel, index, sops, by, trace);
    if !kernel.sem_set(index).pending_alter.is_empty() {
        update_queue(kernel, index, List::Global, by, trace);
    } else {
        match sops {
            None => {
                for num in 0..kernel.sem_set(index).sems.len() {
                    update_queue(kernel, index, List::Sem(num), by, trace);
                }
            }
            Some(sops) => {
                for sop in sops.iter().filter(|sop| sop.op > 0) {
                    update_queue(kernel, index, List::Sem(sop.num as usize), by, trace);
                }
            }
        }
    }
}

/// `unmerge_queues`, as the set's lock is released: with no multi-operation sleeper left, the global
/// queue goes back to the semaphores' own queues, in its order.
fn unmerge(set: &mut SemSet) {
    if set.complex_count > 0 {
        return;
    }
    for sleeper in std::mem::take(&mut set.pending_alter) {
        let num = sleeper.sops[0].num as usize;
        set.sems[num].pending_alter.push(sleeper);
    }
}

/// `semget(key, nsems, semflg)`.
fn semget(kernel: &mut Kernel, pid: Pid, key: i32, nsems: i32, flags: i32) -> Exec {
    let flags = flags as i64;
    if nsems < 0 || nsems as i64 > kernel.limits.ipc.semmsl as i64 {
        return Kernel::error(EINVAL);
    }
    if key as i64 != IPC_PRIVATE {
        if let Some(set) = kernel.ipc.sem_sets.values().find(|set| set.key == key) {
            if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                return Kernel::error(EEXIST);
            }
            // `sem_more_checks`: a set has at least the semaphores asked for.
            if nsems as usize > set.sems.len() {
                return Kernel::error(EINVAL);
            }
            if !ipc::owner_may(set.mode, flags) {
                return Kernel::error(EACCES);
            }
            return Exec::Done(CallResult::Value { value: set.id as i64 });
        }
        if flags & IPC_CREAT == 0 {
            return Kernel::error(ENOENT);
        }
    }
    // `newary`.
    if nsems == 0 {
        return Kernel::error(EINVAL);
    }
    if kernel.ipc.used_sems + nsems as i64 > kernel.limits.ipc.semmns as i64 {
        return Kernel::error(ENOSPC);
    }
    if !kernel.ipc_object_fits() {
        return kernel.halt_ipc_objects();
    }
    if kernel.ipc.used_sems + nsems as i64 > kernel.limits.max_semaphores as i64 {
        let detail = format!("this set would make more than {} semaphores exist at once", kernel.limits.max_semaphores);
        return kernel.halt("max_semaphores", detail);
    }
    let sets = &kernel.ipc.sem_sets;
    let (index, id) = match kernel.ipc.sem_ids.alloc(kernel.limits.ipc.semmni, |index| sets.contains_key(&index)) {
        Ok(allocated) => allocated,
        Err(errno) => return Kernel::error(errno),
    };
    kernel.ipc.used_sems += nsems as i64;
    let serial = kernel.ipc.next_serial();
    kernel.ipc.sem_sets.insert(
        index,
        SemSet {
            id,
            key,
            mode: flags & MODE_BITS,
            serial,
            sems: vec![Semaphore::default(); nsems as usize],
            pending_alter: Vec::new(),
            pending_const: Vec::new(),
            complex_count: 0,
            creator: pid,
        },
    );
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::sem_set(id as u32));
    }
    Exec::Done(CallResult::Value { value: id as i64 })
}

/// The operations of a `semop` call: each operand given as many times as it says.
fn operations(call: &CallContext, semopm: u32) -> Vec<Sembuf> {
    let mut sops = Vec::new();
    for index in call.id().first_sembuf()..call.args.len() {
        let (sembuf, times) = linux_sem::unpack_sembuf(call.arg(index));
        // Past SEMOPM the call fails whatever the operations are: no need to lay out more.
        for _ in 0..(times as u32).min(semopm.saturating_add(1)) {
            sops.push(sembuf);
        }
    }
    sops
}

/// `do_semtimedop`, for one call (or the end of a call another process finished), with the timeout of
/// `semtimedop` (relative, from the call's start).
fn semop(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    let timed = call.id() == CallId::Semtimedop;
    let exec = semop_once(kernel, call, trace);
    if timed && !matches!(exec, Exec::Block(_)) {
        // The call is over: its timer (if it slept) goes with it.
        kernel.cancel_timer(pid, TimerKind::Wake);
    }
    exec
}

fn semop_once(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    if let Some(Handed::Result(result)) = kernel.proc_mut(pid).handed.take() {
        return Exec::Done(result);
    }
    // Its timer woke it and nobody did its operations meanwhile: `EAGAIN`, without another try, even
    // with a signal pending (`do_semtimedop` looks at `timed_out` first).
    if kernel.ipc_timed_out(pid) {
        return Kernel::error(EAGAIN);
    }
    let semid = call.arg(0) as i32;
    let semopm = kernel.limits.ipc.semopm;
    let sops = operations(call, semopm);
    let written_times: u64 = (call.id().first_sembuf()..call.args.len())
        .map(|index| linux_sem::unpack_sembuf(call.arg(index)).1 as u64)
        .sum();
    // Too many operations is told before a bad id: `do_semtimedop` checks the count against SEMOPM as it
    // copies the operations in, and only then `__do_semtimedop` looks at the id.
    if written_times > semopm as u64 {
        return Kernel::error(E2BIG);
    }
    if sops.is_empty() || semid < 0 {
        return Kernel::error(EINVAL);
    }
    // `semtimedop`'s timeout is checked after the operations are read (`timespec64_valid`).
    let timeout = if call.id() == CallId::Semtimedop { Some(call.arg(1)) } else { None };
    if timeout.is_some_and(|ns| ns < 0) {
        return Kernel::error(EINVAL);
    }
    let max = sops.iter().map(|sop| sop.num as usize).max().unwrap_or(0);
    let undos = sops.iter().any(|sop| sop.flg as i64 & SEM_UNDO != 0);
    let alter = sops.iter().any(|sop| sop.op != 0);
    // `find_alloc_undo`, before anything else is checked: the most recently used structure goes first.
    if undos {
        let process = kernel.proc_mut(pid);
        if let Some(at) = process.sem_undo.iter().position(|undo| undo.semid == semid) {
            let undo = process.sem_undo.remove(at);
            process.sem_undo.insert(0, undo);
        } else {
            let Some(index) = kernel.sem_set_index(semid) else { return Kernel::error(EINVAL) };
            let set = &kernel.ipc.sem_sets[&index];
            let undo = SemUndo { semid, serial: set.serial, adj: vec![0; set.sems.len()] };
            kernel.proc_mut(pid).sem_undo.insert(0, undo);
        }
    }
    let Some(index) = kernel.sem_set_index(semid) else { return Kernel::error(EINVAL) };
    let object = ObjectRef::sem_set(semid as u32);
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
    let set = kernel.sem_set(index);
    if max >= set.sems.len() {
        return Kernel::error(EFBIG);
    }
    if !ipc::owner_may(set.mode, if alter { S_IWUGO } else { S_IRUGO }) {
        return Kernel::error(EACCES);
    }
    let sleeper = Sleeper { pid, sops, alter, blocking: 0 };
    match kernel.attempt_for(index, &sleeper) {
        Attempt::Done => {
            if alter {
                smart_update(kernel, index, Some(&sleeper.sops), pid, trace);
                unmerge(kernel.sem_set(index));
            }
            Exec::Done(CallResult::Value { value: 0 })
        }
        Attempt::Failed(errno) => Kernel::error(errno),
        Attempt::Block(blocking) => {
            if let Some(ns) = timeout {
                // A timeout of 0 (or one that has passed, on a restart) fails at once.
                let until = super::time::ipc_deadline(kernel, pid, ns);
                if !kernel.arm_wake(pid, until) {
                    return Kernel::error(EAGAIN);
                }
            }
            let sop = sleeper.sops[blocking];
            let set = kernel.sem_set(index);
            let value = set.sems[sop.num as usize].value;
            let sleeper = Sleeper { blocking, ..sleeper };
            if !sleeper.complex() {
                let num = sop.num as usize;
                match (sleeper.alter, set.complex_count > 0) {
                    (true, true) => set.pending_alter.push(sleeper),
                    (true, false) => set.sems[num].pending_alter.push(sleeper),
                    (false, _) => set.sems[num].pending_const.push(sleeper),
                }
            } else {
                if set.complex_count == 0 {
                    // `merge_queues`: each semaphore's queue spliced at the head of the global one.
                    for num in 0..set.sems.len() {
                        let mut moved = std::mem::take(&mut set.sems[num].pending_alter);
                        moved.append(&mut set.pending_alter);
                        set.pending_alter = moved;
                    }
                }
                if sleeper.alter {
                    set.pending_alter.push(sleeper);
                } else {
                    set.pending_const.push(sleeper);
                }
                set.complex_count += 1;
            }
            Exec::Block(BlockReason::SemOp { set: semid as u32, num: sop.num, op: sop.op, value })
        }
    }
}

/// Clears every process's undo adjustment for semaphore `num` of the set (all of them for `None`), as
/// `SETVAL` and `SETALL` do.
fn clear_undo(kernel: &mut Kernel, index: u32, num: Option<usize>) {
    let (semid, serial) = (kernel.sem_set(index).id, kernel.sem_set(index).serial);
    let undoes = |undo: &SemUndo| undo.semid == semid && undo.serial == serial;
    for process in kernel.procs.iter_mut().filter(|process| process.sem_undo.iter().any(undoes)) {
        for undo in super::unshare(process).sem_undo.iter_mut().filter(|undo| undoes(undo)) {
            match num {
                Some(num) => undo.adj[num] = 0,
                None => undo.adj.iter_mut().for_each(|adj| *adj = 0),
            }
        }
    }
    let set = kernel.sem_set(index);
    match num {
        Some(num) => set.sems[num].undo_total = 0,
        None => set.sems.iter_mut().for_each(|sem| sem.undo_total = 0),
    }
}

/// `semctl(semid, semnum, cmd, arg)`; for `IPC_SET`, `value` is what the field named by `arg` is set to.
fn semctl(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    let (semid, num, command, arg, value) =
        (call.arg(0) as i32, call.arg(1) as i32, linux_sem::semctl_command(call.arg(2)), call.arg(3), call.arg(4));
    if semid < 0 {
        return Kernel::error(EINVAL);
    }
    let object = ObjectRef::sem_set(semid as u32);
    match command {
        ipc::IPC_INFO | linux_sem::SEM_INFO => {
            let max_index = kernel.ipc.sem_sets.last_index().unwrap_or(0);
            Exec::Done(CallResult::Value { value: max_index as i64 })
        }
        linux_sem::SEM_STAT | linux_sem::SEM_STAT_ANY => {
            let Some(set) = kernel.ipc.sem_sets.get(&(semid as u32)) else { return Kernel::error(EINVAL) };
            if command == linux_sem::SEM_STAT && !ipc::owner_may(set.mode, S_IRUGO) {
                return Kernel::error(EACCES);
            }
            Exec::Done(CallResult::Value { value: set.id as i64 })
        }
        ipc::IPC_STAT => {
            let Some(index) = kernel.sem_set_index(semid) else { return Kernel::error(EINVAL) };
            let set = &kernel.ipc.sem_sets[&index];
            if !ipc::owner_may(set.mode, S_IRUGO) {
                return Kernel::error(EACCES);
            }
            Exec::Done(match arg {
                field::SEM_NSEMS => CallResult::Out { value: set.sems.len() as i64 },
                field::PERM_MODE => CallResult::Out { value: set.mode },
                _ => CallResult::Value { value: 0 },
            })
        }
        ipc::IPC_SET => {
            // As for `msgctl`: C reads the structure with `IPC_STAT`, changes the field, and sets it.
            let Some(index) = kernel.sem_set_index(semid) else { return Kernel::error(EINVAL) };
            let set = kernel.sem_set(index);
            if !ipc::owner_may(set.mode, S_IRUGO) {
                return Kernel::error(EACCES);
            }
            if arg == field::PERM_MODE {
                set.mode = (set.mode & !MODE_BITS) | (value & MODE_BITS);
            }
            Exec::Done(CallResult::Value { value: 0 })
        }
        ipc::IPC_RMID => {
            let Some(index) = kernel.sem_set_index(semid) else { return Kernel::error(EINVAL) };
            remove(kernel, index, pid, trace);
            Exec::Done(CallResult::Value { value: 0 })
        }
        linux_sem::SETVAL => {
            let val = arg as i32;
            if !(0..=SEMVMX).contains(&val) {
                return Kernel::error(ERANGE);
            }
            let Some(index) = kernel.sem_set_index(semid) else { return Kernel::error(EINVAL) };
            let set = kernel.sem_set(index);
            if num < 0 || num as usize >= set.sems.len() {
                return Kernel::error(EINVAL);
            }
            if !ipc::owner_may(set.mode, S_IWUGO) {
                return Kernel::error(EACCES);
            }
            if kernel.footprint.enabled {
                kernel.footprint.write(object);
            }
            clear_undo(kernel, index, Some(num as usize));
            let sem = &mut kernel.sem_set(index).sems[num as usize];
            sem.value = val;
            sem.sempid = pid;
            smart_update(kernel, index, None, pid, trace);
            unmerge(kernel.sem_set(index));
            Exec::Done(CallResult::Value { value: 0 })
        }
        linux_sem::GETALL
        | linux_sem::SETALL
        | linux_sem::GETVAL
        | linux_sem::GETPID
        | linux_sem::GETNCNT
        | linux_sem::GETZCNT => {
            let Some(index) = kernel.sem_set_index(semid) else { return Kernel::error(EINVAL) };
            let set = &kernel.ipc.sem_sets[&index];
            let wanted = if command == linux_sem::SETALL { S_IWUGO } else { S_IRUGO };
            if !ipc::owner_may(set.mode, wanted) {
                return Kernel::error(EACCES);
            }
            if kernel.footprint.enabled {
                kernel.footprint.read(object);
            }
            match command {
                linux_sem::GETALL => {
                    let bytes: Vec<u8> = set.sems.iter().flat_map(|sem| (sem.value as u16).to_le_bytes()).collect();
                    if trace.data_len() + bytes.len() as u64 > kernel.limits.max_trace_data_bytes {
                        let detail = format!(
                            "reads in this run would return more than {} bytes",
                            kernel.limits.max_trace_data_bytes
                        );
                        return kernel.halt("max_trace_data_bytes", detail);
                    }
                    kernel.read_scratch.clear();
                    kernel.read_scratch.extend_from_slice(&bytes);
                    let CallResult::Data { offset, len } = trace.record_data(&bytes) else {
                        unreachable!("record_data gives data")
                    };
                    Exec::Done(CallResult::Array { offset, len })
                }
                linux_sem::SETALL => {
                    let nsems = set.sems.len();
                    let values: Vec<u16> = (0..nsems).map(|at| linux_sem::unpack_value(arg, at)).collect();
                    if values.iter().any(|value| *value as i32 > SEMVMX) {
                        return Kernel::error(ERANGE);
                    }
                    if kernel.footprint.enabled {
                        kernel.footprint.write(object);
                    }
                    let set = kernel.sem_set(index);
                    for (sem, value) in set.sems.iter_mut().zip(values) {
                        sem.value = value as i32;
                        sem.sempid = pid;
                    }
                    clear_undo(kernel, index, None);
                    smart_update(kernel, index, None, pid, trace);
                    unmerge(kernel.sem_set(index));
                    Exec::Done(CallResult::Value { value: 0 })
                }
                _ => {
                    if num < 0 || num as usize >= set.sems.len() {
                        return Kernel::error(EINVAL);
                    }
                    let num = num as usize;
                    let value = match command {
                        linux_sem::GETVAL => set.sems[num].value as i64,
                        linux_sem::GETPID => set.sems[num].sempid as i64,
                        linux_sem::GETNCNT => set.waiters(num, false).len() as i64,
                        _ => set.waiters(num, true).len() as i64,
                    };
                    Exec::Done(CallResult::Value { value })
                }
            }
        }
        _ => Kernel::error(EINVAL),
    }
}

/// `freeary`: every sleeper fails with `EIDRM`, every undo structure of the set goes.
fn remove(kernel: &mut Kernel, index: u32, by: Pid, trace: &mut Trace) {
    let set = kernel.ipc.sem_sets.remove(&index).expect("looked up");
    kernel.ipc.sem_ids.in_use -= 1;
    kernel.ipc.used_sems -= set.sems.len() as i64;
    let object = ObjectRef::sem_set(set.id as u32);
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
    let undoes = |undo: &SemUndo| undo.semid == set.id && undo.serial == set.serial;
    for process in kernel.procs.iter_mut().filter(|process| process.sem_undo.iter().any(undoes)) {
        super::unshare(process).sem_undo.retain(|undo| !undoes(undo));
    }
    let mut sleepers: Vec<Pid> =
        set.pending_const.iter().chain(&set.pending_alter).map(|sleeper| sleeper.pid).collect();
    for sem in &set.sems {
        sleepers.extend(sem.pending_const.iter().chain(&sem.pending_alter).map(|sleeper| sleeper.pid));
    }
    for sleeper in sleepers {
        complete(kernel, sleeper, Err(EIDRM), by, object, trace);
    }
}

/// `exit_sem`: a dying process's undo adjustments are added to their semaphores (each value held
/// between 0 and `SEMVMX`), most recently used set first, and each set's sleepers are served.
pub(crate) fn exit_undo(kernel: &mut Kernel, pid: Pid, trace: &mut Trace) {
    let undos = std::mem::take(&mut kernel.proc_mut(pid).sem_undo);
    for undo in undos {
        let Some(index) = kernel.sem_set_index(undo.semid) else { continue };
        if kernel.sem_set(index).serial != undo.serial {
            continue;
        }
        let object = ObjectRef::sem_set(undo.semid as u32);
        let step = kernel.step as u32;
        let set = kernel.sem_set(index);
        for (num, adjust) in undo.adj.iter().enumerate().filter(|(_, adjust)| **adjust != 0) {
            let sem = &mut set.sems[num];
            sem.undo_total -= *adjust as i64;
            sem.value = (sem.value + adjust).clamp(0, SEMVMX);
            sem.sempid = pid;
            let event = EventKind::Undo { pid, object, num: num as u16, adjust: *adjust, value: sem.value };
            trace.record(Event { step, kind: event });
        }
        smart_update(kernel, index, None, pid, trace);
        unmerge(kernel.sem_set(index));
    }
}

/// The System V semaphore mechanism.
pub struct SemSets;

impl Mechanism for SemSets {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        match call.id() {
            CallId::Semget => semget(kernel, call.pid, call.arg(0) as i32, call.arg(1) as i32, call.arg(2) as i32),
            CallId::Semop | CallId::Semtimedop => semop(kernel, call, trace),
            CallId::Semctl => semctl(kernel, call, trace),
            other => unreachable!("{} is not a semaphore call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        let BlockReason::SemOp { set, .. } = reason else { return };
        let Some(index) = kernel.sem_set_index(*set as i32) else { return };
        let set = kernel.sem_set(index);
        let mut complex_left = 0;
        let mut take_out = |list: &mut Vec<Sleeper>| {
            list.retain(|sleeper| {
                let mine = sleeper.pid == pid;
                if mine && sleeper.complex() {
                    complex_left += 1;
                }
                !mine
            });
        };
        take_out(&mut set.pending_alter);
        take_out(&mut set.pending_const);
        for sem in set.sems.iter_mut() {
            take_out(&mut sem.pending_alter);
            take_out(&mut sem.pending_const);
        }
        set.complex_count -= complex_left;
        unmerge(set);
    }

    fn interruption(_reason: &BlockReason) -> Interruption {
        // `do_semtimedop` returns -EINTR, which Linux never restarts, neither after a handler (even with
        // SA_RESTART) nor after a stop and SIGCONT (signal(7)).
        Interruption::Eintr
    }

    fn woken_call(kernel: &Kernel, pid: Pid, _by_signal: bool) -> WokenCall {
        // A sleeper whose operations another process did returns their result (`queue.status`), and
        // one whose timer woke it fails with EAGAIN (`timed_out` comes before a signal); any other
        // woken `semop` looks for a signal before it tries again.
        if kernel.process(pid).handed.is_some() || kernel.process(pid).call.timed_out {
            WokenCall::TriesAgain
        } else {
            WokenCall::SeesSignal(Interruption::Eintr)
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        let mut used = 0;
        for (index, set) in kernel.ipc.sem_sets.iter() {
            if IpcIds::index_of(set.id) != index {
                return Err(format!("semaphore set {} is kept at index {index}", set.id));
            }
            used += set.sems.len() as i64;
            let mut complex = 0;
            let mut sleepers = Vec::new();
            for (num, sem) in set.sems.iter().enumerate() {
                if !(0..=SEMVMX).contains(&sem.value) {
                    return Err(format!("semaphore {num} of set {} has the value {}", set.id, sem.value));
                }
                for sleeper in sem.pending_alter.iter().chain(&sem.pending_const) {
                    if sleeper.complex() || sleeper.sops[0].num as usize != num {
                        return Err(format!(
                            "pid {} sleeps on semaphore {num}'s own queue of set {}",
                            sleeper.pid, set.id
                        ));
                    }
                    sleepers.push(sleeper.pid);
                }
                let total: i64 = kernel
                    .procs
                    .iter()
                    .flat_map(|process| &process.sem_undo)
                    .filter(|undo| undo.semid == set.id && undo.serial == set.serial)
                    .map(|undo| undo.adj[num] as i64)
                    .sum();
                if total != sem.undo_total {
                    return Err(format!(
                        "the undo adjustments of semaphore {num} of set {} sum to {total}, not {}",
                        set.id, sem.undo_total
                    ));
                }
            }
            for sleeper in set.pending_alter.iter().chain(&set.pending_const) {
                complex += sleeper.complex() as u32;
                sleepers.push(sleeper.pid);
            }
            if complex != set.complex_count {
                return Err(format!(
                    "set {} counts {} multi-operation sleepers, not {complex}",
                    set.id, set.complex_count
                ));
            }
            if set.complex_count == 0 && !set.pending_alter.is_empty() {
                return Err(format!("set {} keeps a global queue with no multi-operation sleeper", set.id));
            }
            for pid in sleepers {
                let blocked = matches!(kernel.process(pid).sleeps_on(),
                    Some(BlockReason::SemOp { set: id, .. }) if *id == set.id as u32);
                if !blocked {
                    return Err(format!("pid {pid} is queued on set {} but does not sleep there", set.id));
                }
            }
        }
        if used != kernel.ipc.used_sems {
            return Err(format!("{used} semaphores exist but {} are counted", kernel.ipc.used_sems));
        }
        if kernel.ipc.sem_ids.in_use as usize != kernel.ipc.sem_sets.len() {
            return Err("the count of semaphore sets in use is wrong".to_string());
        }
        for process in &kernel.procs {
            for undo in &process.sem_undo {
                let Some(index) = kernel.sem_set_index(undo.semid) else {
                    return Err(format!("pid {} keeps undo adjustments for a set that is gone", process.pid));
                };
                if undo.adj.len() != kernel.ipc.sem_sets[&index].sems.len() {
                    return Err(format!("pid {}'s undo adjustments do not fit set {}", process.pid, undo.semid));
                }
            }
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for set in kernel.ipc.sem_sets.values() {
            let sems = (0..set.sems.len())
                .map(|num| SemView {
                    value: set.sems[num].value,
                    last_pid: set.sems[num].sempid,
                    decrease_waiters: set.waiters(num, false),
                    zero_waiters: set.waiters(num, true),
                })
                .collect();
            let undo = kernel
                .procs
                .iter()
                .filter_map(|process| {
                    let undo =
                        process.sem_undo.iter().find(|undo| undo.semid == set.id && undo.serial == set.serial)?;
                    undo.adj.iter().any(|adj| *adj != 0).then(|| (process.pid, undo.adj.clone()))
                })
                .collect();
            out.push(ObjectView::SemSet(Box::new(SemSetView {
                id: set.id,
                key: set.key,
                mode: set.mode as u32,
                creator: set.creator,
                sems,
                undo,
            })));
        }
    }
}

/// Who could end a wait on a semaphore: the living processes that raised it before.
pub(crate) fn could_end_wait(kernel: &Kernel, set: u32, num: u16) -> Vec<Pid> {
    let Some(index) = kernel.sem_set_index(set as i32) else { return Vec::new() };
    let Some(sem) = kernel.ipc.sem_sets[&index].sems.get(num as usize) else { return Vec::new() };
    sem.raised_by.iter().copied().filter(|pid| kernel.process(*pid).is_alive()).collect()
}

/// A semaphore's value and last changer, for the deadlock report.
pub(crate) fn state_of(kernel: &Kernel, set: u32, num: u16) -> Option<(i64, Pid)> {
    let index = kernel.sem_set_index(set as i32)?;
    let sem = kernel.ipc.sem_sets[&index].sems.get(num as usize)?;
    Some((sem.value as i64, sem.sempid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sems(values: &[i32]) -> Vec<Semaphore> {
        values.iter().map(|value| Semaphore { value: *value, ..Semaphore::default() }).collect()
    }

    fn op(num: u16, op: i16, flg: i64) -> Sembuf {
        Sembuf { num, op, flg: flg as i16 }
    }

    #[test]
    fn operations_apply_all_or_none() {
        let mut set = sems(&[1, 0]);
        // The second operation cannot go on: the first is undone.
        assert_eq!(perform(&mut set, &[op(0, -1, 0), op(1, -1, 0)], None, 2), Attempt::Block(1));
        assert_eq!((set[0].value, set[1].value), (1, 0));
        assert_eq!(perform(&mut set, &[op(0, -1, 0), op(1, 1, 0)], None, 2), Attempt::Done);
        assert_eq!((set[0].value, set[1].value, set[0].sempid), (0, 1, 2));
        assert_eq!(perform(&mut set, &[op(0, 0, IPC_NOWAIT)], None, 3), Attempt::Done);
        assert_eq!(perform(&mut set, &[op(1, 0, IPC_NOWAIT)], None, 3), Attempt::Failed(EAGAIN));
        // Operations on one semaphore apply in order: +1 then -1 goes through on a 0.
        assert_eq!(perform(&mut set, &[op(0, 1, 0), op(0, -1, 0)], None, 3), Attempt::Done);
        assert_eq!(perform(&mut set, &[op(1, SEMVMX as i16, 0)], None, 3), Attempt::Failed(ERANGE));
    }

    #[test]
    fn undo_keeps_the_opposite_and_refuses_to_pass_semaem() {
        let mut set = sems(&[0]);
        let mut adj = vec![0];
        assert_eq!(perform(&mut set, &[op(0, 5, SEM_UNDO)], Some(&mut adj), 2), Attempt::Done);
        assert_eq!(adj, [-5]);
        assert_eq!(set[0].undo_total, -5);
        adj[0] = -SEMAEM;
        assert_eq!(perform(&mut set, &[op(0, 5, SEM_UNDO)], Some(&mut adj), 2), Attempt::Failed(ERANGE));
        assert_eq!((set[0].value, adj[0]), (5, -SEMAEM), "a refused call changes nothing");
    }
}
