//! Steps no other process can meet: a process's next step on a pipe or a file, at a node where no
//! other process can reach any call that touches a pipe, a file or a name without a step of that
//! process first, is tried alone from the node (an ample set of one step).
//!
//! This is a persistent set computed from the program, in the way of Valmari's stubborn sets and
//! Godefroid's persistent sets: the other processes' futures are read off the program's code from
//! where each one stands, and a call that can only go on once a semaphore is raised is a gate that
//! their futures pass only if the semaphore is high enough now or one of *them* can raise it. The
//! classic case is a critical section: a process holding a mutex semaphore writes to a pipe that the
//! others touch only after taking the mutex; none of them can raise it (their own releases come after
//! their own takes), so none of them can touch the pipe before the holder's next steps, which commute
//! with everything they can do. The states in which the others move while the holder is between its
//! pipe calls are left out.
//!
//! What the others' futures may hold, by call: the calls in [`Gates::allowed`] (`semop` without
//! `SEM_UNDO`, `wait` and its kin, `getpid`, `getppid`, `sched_yield`) touch no pipe, file or name
//! and no process that is running (a `semop` hands results only to processes asleep on its set, a
//! `wait` reads of its children only whether they have ended), cannot fault, and cannot end the run
//! at one of its limits (no objects made, no data kept). Loads and stores touch memory only, but
//! may fault: each is also a place where the process may end, which must commute as an end does.
//! Any other call, a `fork`, any expression that could divide by zero (the fault would end the
//! process and close its descriptors), and user code that can go round without a call (it could run
//! past its budget) make the answer "no". So does an end (an `exit` or the end of the code) unless
//! it commutes with the step: the process has no children, nothing to undo, no POSIX shared memory
//! object mapped, and every open file it would close is held by the process tried alone too.
//!
//! Where no process can go alone, a group may ([`Gates::group`]): the same walk, with the others being
//! every process outside the group.
//!
//! Gates: a single `semop` lowering one semaphore by a constant without `IPC_NOWAIT`, on a set the walk
//! knows (its id written in the scenario, or a variable the walk follows from its value now), passes
//! when that set's semaphore is high enough now or when the others' futures raise a semaphore of that
//! number (an operation above 0 on it); on a set that is gone, too small or closed to the caller it
//! fails at once and goes on. A `wait` passes as many times as the process has children that have
//! ended or can end in the others' futures (none left: `ECHILD` at once). Every other call is taken to
//! go on. Over-approximating what the others can do only ever answers "no" more often.
//!
//! A run cut at a limit (the explorer's depth, the kernel's budget of steps) is cut at the same length
//! whichever of two independent steps comes first, but not with the same steps taken; such endings are
//! found up to that, by this reduction as by sleep sets.
//!
//! The step must then be seen to touch nothing but pipes, files, names and its own process (its
//! footprint), which [`super::Explorer`] checks after taking it, before it stands for the node's
//! other steps; a scenario must be [`super::quiet`] (no signals, no timers), so that nothing can stop
//! the process or wake another in between.

use crate::kernel::mm::Backing;
use crate::kernel::{Kernel, ProcState};
use crate::lang::compile::{OpKind, Operand, Program, Value};
use crate::lang::syscalls::CallId;
use crate::trace::{ObjectKind, ObjectRef, Pid};

/// What an operation is to the others' futures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Touches what a step alone might, or ends the process, or could: the answer is "no".
    Meets,
    /// User code with no step of its own.
    Local,
    /// A call that touches none of it, perhaps a gate, perhaps raising semaphores.
    Call { gate: Gate, raises: u64 },
    /// `exit`: the process ends (as at the end of its code).
    Exit,
    /// A load or a store: it touches memory only, but could fault, and the fault ends the process.
    Memory,
}

/// When the code after a call is reachable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    Open,
    /// Semaphore `num` of set `id` must be at least `need`.
    Sem {
        num: u16,
        need: i32,
        id: SetId,
    },
    /// The process must have no children (the call fails with `ECHILD` at once) or one that has ended
    /// or can end (counted in the walk's place: ended children, then children).
    Wait,
}

/// Which set a `semop` names: a number written in the scenario, or the variable holding it (by its place
/// among the variables the walk follows, [`Gates::ids`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetId {
    Const(i64),
    Slot(usize),
}

/// A followed variable whose value the walk no longer knows.
const UNKNOWN: i64 = i64::MIN;

/// Every semaphore raised (an operation on a semaphore whose number is not known before the run).
const ALL: u64 = u64::MAX;

/// The program's operations read once, with the scratch of the search.
pub(super) struct Gates {
    kind: Vec<Kind>,
    /// Up to two successors of each operation; `end` for the end of the process's code, `NONE` for none.
    next: Vec<[u32; 2]>,
    /// Whether the operation is a call that may touch only pipes, files and names (tried alone if so).
    candidate: Vec<bool>,
    end: u32,
    /// The `repeat` counters, ascending.
    counters: Vec<crate::lang::compile::Slot>,
    /// The variables that name the sets of gates, ascending.
    ids: Vec<crate::lang::compile::Slot>,
    /// The variable each operation that others may run sets, if any.
    binds: Vec<Option<crate::lang::compile::Slot>>,
    seen: std::collections::BTreeSet<Box<[i64]>>,
    stack: Vec<Box<[i64]>>,
    /// The open files of the process tried alone, or of the group's members, ascending.
    held: Vec<u32>,
    /// The other processes that can end before it takes a step.
    ends: Vec<Pid>,
}

/// Places one process's walk may visit at most before the answer is "no".
const PLACES: usize = 4096;

const NONE: u32 = u32::MAX - 1;

impl Gates {
    pub(super) fn of(program: &Program) -> Gates {
        let ops = &program.ops;
        let end = ops.len() as u32;
        let block_end = crate::lang::live::block_ends(program);
        let successor = |index: usize, target: u32| if target >= block_end[index] { end } else { target };
        let mut kind: Vec<Kind> = Vec::with_capacity(ops.len());
        let mut next = Vec::with_capacity(ops.len());
        let mut candidate = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let after = successor(index, index as u32 + 1);
            let (this, successors, alone) = match &op.kind {
                OpKind::Call(call) => {
                    let again = if call.retry.is_empty() { NONE } else { index as u32 };
                    let faults = call.operands.iter().any(operand_may_fault);
                    let this = match call.id {
                        _ if faults => Kind::Meets,
                        CallId::Exit => Kind::Exit,
                        CallId::Load
                        | CallId::Store
                        | CallId::LoadBytes
                        | CallId::StoreBytes
                        | CallId::FetchAdd
                        | CallId::CompareExchange => Kind::Memory,
                        id => Gates::call_kind(id, &call.operands),
                    };
                    (this, [after, again], !faults && Gates::touches_files_only(call.id))
                }
                OpKind::Fork { .. } => (Kind::Meets, [NONE, NONE], false),
                OpKind::Assign { value, .. } => {
                    (if may_fault(value) { Kind::Meets } else { Kind::Local }, [after, NONE], false)
                }
                OpKind::Jump { target } => (Kind::Local, [successor(index, *target), NONE], false),
                OpKind::JumpUnless { condition, target } => (
                    if may_fault(condition) { Kind::Meets } else { Kind::Local },
                    [after, successor(index, *target)],
                    false,
                ),
                OpKind::RepeatNext { body, .. } => (Kind::Local, [after, successor(index, *body)], false),
            };
            // Code outside every process (none is compiled so) is never reached.
            let this = if block_end[index] == u32::MAX { Kind::Meets } else { this };
            kind.push(this);
            next.push(successors);
            candidate.push(alone);
        }
        // User code that can go round without a call could run past its budget and end the run.
        for index in 0..ops.len() {
            if kind[index] == Kind::Local && Gates::loops_without_calls(&kind, &next, index as u32) {
                kind[index] = Kind::Meets;
            }
        }
        let counters: Vec<crate::lang::compile::Slot> = (0..program.slots.len() as crate::lang::compile::Slot)
            .filter(|slot| program.slot_kinds[*slot as usize] == crate::lang::compile::SlotKind::Counter)
            .collect();
        // The variables that name the sets of gates, followed by the walk after the counters.
        let mut ids: Vec<crate::lang::compile::Slot> = kind
            .iter()
            .filter_map(|kind| match kind {
                Kind::Call { gate: Gate::Sem { id: SetId::Slot(slot), .. }, .. } => {
                    Some(*slot as crate::lang::compile::Slot)
                }
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for kind in &mut kind {
            if let Kind::Call { gate: Gate::Sem { id: SetId::Slot(slot), .. }, .. } = kind {
                let at = ids.binary_search(&(*slot as crate::lang::compile::Slot)).expect("collected above");
                *slot = 3 + counters.len() + at;
            }
        }
        let binds = ops
            .iter()
            .map(|op| match &op.kind {
                OpKind::Assign { slot, .. } => Some(*slot),
                OpKind::Call(call) => match call.bind {
                    crate::lang::compile::Bind::Value(slot) => Some(slot),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        Gates {
            kind,
            next,
            candidate,
            end,
            counters,
            ids,
            binds,
            seen: Default::default(),
            stack: Vec::new(),
            held: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Whether operation `start` can come back to itself through user code alone.
    fn loops_without_calls(kind: &[Kind], next: &[[u32; 2]], start: u32) -> bool {
        let mut seen = vec![false; kind.len()];
        let mut stack: Vec<u32> = next[start as usize].to_vec();
        while let Some(index) = stack.pop() {
            if index == start {
                return true;
            }
            if index as usize >= kind.len() || kind[index as usize] != Kind::Local || seen[index as usize] {
                continue;
            }
            seen[index as usize] = true;
            stack.extend(next[index as usize]);
        }
        false
    }

    /// The calls a step tried alone may make: they touch pipes, files, names and the caller's
    /// descriptors (checked again on the step's footprint).
    fn touches_files_only(id: CallId) -> bool {
        use CallId::*;
        matches!(
            id,
            Read | Write | Pread | Pwrite | Ioctl | Lseek | Fcntl | Close | Dup | Pipe | Open | Mkfifo | Unlink
        )
    }

    /// The calls other processes may have ahead of them (see the module's text).
    fn allowed(id: CallId) -> bool {
        use CallId::*;
        matches!(id, Semop | Wait | Waitpid | Waitid | Getpid | Getppid | SchedYield)
    }

    fn call_kind(id: CallId, operands: &[Operand]) -> Kind {
        if !Gates::allowed(id) {
            return Kind::Meets;
        }
        match id {
            CallId::Wait => Kind::Call { gate: Gate::Wait, raises: 0 },
            CallId::Semop => {
                let sops: Vec<(&Value, &Value, &Value, u16)> = operands
                    .iter()
                    .filter_map(|operand| match operand {
                        Operand::Sembuf { num, op, flags, times } if *times > 0 => Some((num, op, flags, *times)),
                        _ => None,
                    })
                    .collect();
                // An adjustment to undo at exit would make the exit raise the semaphore.
                let undoes = sops.iter().any(|(_, _, flags, _)| {
                    !matches!(flags, Value::Const(flags) if flags & crate::linux::sem::SEM_UNDO == 0)
                });
                if undoes {
                    return Kind::Meets;
                }
                let mut raises = 0;
                for (num, op, _, _) in &sops {
                    let lowers = matches!(op, Value::Const(op) if *op <= 0);
                    if !lowers {
                        raises |= match num {
                            Value::Const(num) if (0..63).contains(num) => 1 << num,
                            _ => ALL,
                        };
                    }
                }
                let gate = match sops.as_slice() {
                    [(Value::Const(num), Value::Const(op), Value::Const(flags), 1)]
                        if *op < 0
                            && (0..63).contains(num)
                            && flags & crate::linux::ipc::IPC_NOWAIT == 0
                            && *op > i32::MIN as i64 =>
                    {
                        let id = match operands.first() {
                            Some(Operand::Value { value: Value::Const(id), .. }) => Some(SetId::Const(*id)),
                            Some(Operand::Value { value: Value::Slot(slot), .. }) => Some(SetId::Slot(*slot as usize)),
                            _ => None,
                        };
                        match id {
                            Some(id) => Gate::Sem { num: *num as u16, need: -*op as i32, id },
                            None => Gate::Open,
                        }
                    }
                    _ => Gate::Open,
                };
                Kind::Call { gate, raises }
            }
            _ => Kind::Call { gate: Gate::Open, raises: 0 },
        }
    }

    /// Whether `pid`'s next step touches only pipes, files and names while no other process can, from
    /// here, reach a step that touches any of them (or `pid`) before `pid` takes a step.
    pub(super) fn alone(&mut self, kernel: &Kernel, pid: Pid) -> bool {
        let Some(op) = kernel.next_op(pid) else { return false };
        if !self.candidate[op as usize] || kernel.process(pid).handed.is_some() {
            return false;
        }
        self.apart(kernel, &[pid])
    }

    /// A group of processes that the others cannot meet, whose runnable members are to be tried from
    /// the node in place of every runnable process (a persistent set), or `None`. The group is every
    /// process whose next step may touch a pipe, a file or a name: a runnable one about to make such a
    /// call, to return from a call whose result it was handed (children or not: in a quiet scenario a
    /// child's end only leaves a zombie, which the return does not read, and an ignored `SIGCHLD`), or
    /// to end (with no children, nothing to undo, no named semaphore open, no memory mapped but shared
    /// anonymous memory, and a parent in the group or `init`, which alone hear of the end), and one
    /// asleep in such a call, which only a step on its pipe or file can wake. The others' futures must
    /// reach no such call and touch none of the group, as for a process tried alone, but to tell a
    /// parent in it of their end, as above. Then no step of the others changes what a step of the group does or meets
    /// one, and any schedule from the node is, up to the order of independent steps, one that begins
    /// with a step of the group. The explorer tries the members not asleep at the node (Godefroid's
    /// persistent sets with sleep sets), which may be none. Returns the group's runnable members and
    /// every member, ascending.
    pub(super) fn group(&mut self, kernel: &Kernel, runnable: &[Pid]) -> Option<(Vec<Pid>, Vec<Pid>)> {
        let mut members: Vec<Pid> = Vec::new();
        let mut ending: Vec<Pid> = Vec::new();
        for &pid in &kernel.alive {
            let process = kernel.process(pid);
            let op = kernel.next_op(pid);
            let at_candidate = op.is_some_and(|op| self.candidate[op as usize]);
            let member = match &process.state {
                ProcState::Runnable if process.handed.is_some() || at_candidate => true,
                ProcState::Runnable
                    if process.still_queued.is_none() && op.is_none_or(|op| self.kind[op as usize] == Kind::Exit) =>
                {
                    let ends_quietly = process.children.is_empty()
                        && process.sem_undo.is_empty()
                        && process.sem_handles.iter().all(Option::is_none)
                        && process
                            .mm
                            .mappings
                            .iter()
                            .all(|mapping| mapping.backing == Backing::Anonymous { shared: true });
                    if ends_quietly {
                        ending.push(pid);
                    }
                    ends_quietly
                }
                ProcState::Blocked(_) => process.handed.is_none() && at_candidate,
                _ => false,
            };
            if member {
                members.push(pid);
            }
        }
        // An ending member's parent hears of its end: it must be in the group too.
        loop {
            let before = members.len();
            let parent_in = |members: &[Pid], pid: &Pid| {
                let parent = kernel.process(*pid).ppid;
                parent == crate::kernel::process::INIT_PID || members.contains(&parent)
            };
            let dropped: Vec<Pid> = ending.iter().copied().filter(|pid| !parent_in(&members, pid)).collect();
            members.retain(|pid| !dropped.contains(pid));
            ending.retain(|pid| !dropped.contains(pid));
            if members.len() == before {
                break;
            }
        }
        members.sort_unstable();
        let ample: Vec<Pid> = members.iter().copied().filter(|pid| runnable.contains(pid)).collect();
        // A group of every runnable process leaves nothing out.
        if ample.is_empty() || runnable.iter().all(|pid| members.contains(pid)) {
            return None;
        }
        self.apart(kernel, &members).then_some((ample, members))
    }

    /// Whether no process outside `members` can, from here, reach a step that touches a pipe, a file, a
    /// name or one of `members` before one of them takes a step.
    fn apart(&mut self, kernel: &Kernel, members: &[Pid]) -> bool {
        self.held.clear();
        for &pid in members {
            self.held.extend(kernel.process(pid).fds.iter().flatten().map(|entry| entry.file));
        }
        self.held.sort_unstable();
        self.held.dedup();
        self.ends.clear();
        let mut raises = 0u64;
        loop {
            let before = (raises, self.ends.len());
            for &other in &kernel.alive {
                if !members.contains(&other) && !self.future(kernel, other, &mut raises) {
                    return false;
                }
            }
            if (raises, self.ends.len()) == before {
                return true;
            }
        }
    }

    /// Walks the code `pid` can reach on its own, adding what it raises and whether it can end; false
    /// if it meets anything. A place in the walk is an operation with the rounds left of every
    /// `repeat` loop (known exactly: only the loops change them) and the children the process could
    /// still collect with `wait`.
    fn future(&mut self, kernel: &Kernel, pid: Pid, raises: &mut u64) -> bool {
        let process = kernel.process(pid);
        if process.still_queued.is_some() {
            return false;
        }
        let at = process.pc;
        let handed = match &process.state {
            ProcState::Zombie | ProcState::Reaped => return true,
            ProcState::Stopped => return false,
            // A sleeper stands at its call, whose gate says when it goes on (a sleeper on a pipe meets).
            ProcState::Blocked(_) => false,
            ProcState::Runnable => process.handed.is_some(),
        };
        // Its children that have ended or can end without a step of the one tried alone.
        let ended = process
            .children
            .iter()
            .filter(|child| kernel.process(**child).state == ProcState::Zombie || self.ends.contains(child))
            .count() as i64;
        let mut place: Vec<i64> = vec![0, ended, process.children.len() as i64];
        place.extend(self.counters.iter().map(|slot| process.vars[*slot as usize]));
        place.extend(self.ids.iter().map(|slot| process.vars[*slot as usize]));
        self.seen.clear();
        self.stack.clear();
        if handed {
            // The return only hands the process its result; the code after the call follows.
            for next in self.next[at as usize] {
                if next != NONE {
                    place[0] = next as i64;
                    self.stack.push(place.clone().into_boxed_slice());
                }
            }
        } else {
            place[0] = if at < process.end_pc { at as i64 } else { self.end as i64 };
            self.stack.push(place.into_boxed_slice());
        }
        while let Some(place) = self.stack.pop() {
            if self.seen.len() >= PLACES {
                return false;
            }
            let index = place[0] as u32;
            let kind = if index == self.end { Kind::Exit } else { self.kind[index as usize] };
            if !self.seen.insert(place.clone()) {
                continue;
            }
            let go = |stack: &mut Vec<Box<[i64]>>, to: u32, change: &dyn Fn(&mut [i64])| {
                if to != NONE {
                    let mut next = place.clone();
                    next[0] = to as i64;
                    change(&mut next);
                    stack.push(next);
                }
            };
            match kind {
                Kind::Meets => return false,
                Kind::Exit => {
                    if !self.may_end(process) {
                        return false;
                    }
                    if !self.ends.contains(&pid) {
                        self.ends.push(pid);
                    }
                }
                Kind::Memory => {
                    // It may fault and end there, or go on.
                    if !self.may_end(process) {
                        return false;
                    }
                    if !self.ends.contains(&pid) {
                        self.ends.push(pid);
                    }
                    // A load's value is not known here: a variable it sets is no longer followed.
                    let [after, other] = self.next[index as usize];
                    let set = self.binds[index as usize].and_then(|slot| self.followed(slot));
                    let change = |next: &mut [i64]| {
                        if let Some(at) = set {
                            next[at] = UNKNOWN;
                        }
                    };
                    go(&mut self.stack, after, &change);
                    go(&mut self.stack, other, &change);
                }
                Kind::Local => {
                    let [after, other] = self.next[index as usize];
                    match &kernel.program.ops[index as usize].kind {
                        OpKind::RepeatNext { counter, .. } => {
                            let at = 3 + self.counters.binary_search(counter).expect("a repeat's counter");
                            if place[at] == UNKNOWN {
                                go(&mut self.stack, after, &|_| {});
                                go(&mut self.stack, other, &|_| {});
                            } else {
                                let left = place[at] - 1;
                                let to = if left > 0 { other } else { after };
                                go(&mut self.stack, to, &|next| next[at] = left);
                            }
                        }
                        OpKind::Assign { slot, value } => {
                            let value = match value {
                                Value::Const(value) => *value,
                                _ => UNKNOWN,
                            };
                            let set = self.followed(*slot);
                            go(&mut self.stack, after, &|next| {
                                if let Some(at) = set {
                                    next[at] = value;
                                }
                            });
                        }
                        OpKind::JumpUnless { condition: Value::Const(value), .. } => {
                            go(&mut self.stack, if *value == 0 { other } else { after }, &|_| {})
                        }
                        _ => {
                            go(&mut self.stack, after, &|_| {});
                            go(&mut self.stack, other, &|_| {});
                        }
                    }
                }
                Kind::Call { gate, raises: raised } => {
                    let [after, other] = self.next[index as usize];
                    *raises |= raised;
                    let passes = match gate {
                        Gate::Open => Some((0, 0)),
                        Gate::Sem { num, need, id } => {
                            let id = match id {
                                SetId::Const(id) => id,
                                SetId::Slot(at) => place[at],
                            };
                            // A set not known, gone, too small or closed to the caller: the call fails at
                            // once (`EINVAL`, `EFBIG`, `EACCES`).
                            let set = i32::try_from(id)
                                .ok()
                                .and_then(|id| kernel.sem_set_index(id))
                                .and_then(|index| kernel.ipc.sem_sets.get(&index))
                                .filter(|set| {
                                    (num as usize) < set.sems.len()
                                        && crate::linux::ipc::owner_may(set.mode, crate::linux::ipc::S_IWUGO)
                                });
                            let high = *raises == ALL
                                || *raises >> num & 1 == 1
                                || set.is_none_or(|set| set.sems[num as usize].value >= need);
                            high.then_some((0, 0))
                        }
                        // No children: `ECHILD` at once; else it collects one that has ended.
                        Gate::Wait if place[2] == 0 => Some((0, 0)),
                        Gate::Wait => (place[1] > 0).then_some((1, 1)),
                    };
                    if let Some((ended, children)) = passes {
                        let set = self.binds[index as usize].and_then(|slot| self.followed(slot));
                        let change = |next: &mut [i64]| {
                            next[1] -= ended;
                            next[2] -= children;
                            if let Some(at) = set {
                                next[at] = UNKNOWN;
                            }
                        };
                        go(&mut self.stack, after, &change);
                        go(&mut self.stack, other, &change);
                    }
                }
            }
        }
        true
    }

    /// Where the walk keeps variable `slot`, if it follows it (a `repeat` counter, a set's id).
    fn followed(&self, slot: crate::lang::compile::Slot) -> Option<usize> {
        match self.counters.binary_search(&slot) {
            Ok(at) => Some(3 + at),
            Err(_) => self.ids.binary_search(&slot).ok().map(|at| 3 + self.counters.len() + at),
        }
    }

    /// Whether `process` ending commutes with the step tried alone (or the group's): it has no
    /// children, nothing to undo, no POSIX shared memory object mapped (its anonymous memory and System
    /// V segments are unmapped without touching a pipe, a file or a name), and every open file it would
    /// close stays open in the process tried alone or the group (so no pipe loses its last reader or
    /// writer). Its parent is then told, which [`Gates::future`] counts.
    fn may_end(&self, process: &crate::kernel::Process) -> bool {
        process.children.is_empty()
            && process.sem_undo.is_empty()
            && process
                .mm
                .mappings
                .iter()
                .all(|mapping| matches!(mapping.backing, Backing::Anonymous { .. } | Backing::Shm { .. }))
            && process.sem_handles.iter().all(Option::is_none)
            && process.fds.iter().flatten().all(|entry| self.held.binary_search(&entry.file).is_ok())
    }
}

/// Whether a step tried alone, or as one of a group, touched only what [`Gates::alone`] and
/// [`Gates::group`] allowed for it: pipes, files, names and the processes of the group (`members`: the
/// one tried alone, or the group), and for the end of a member (at the end of its code, or by the
/// `SIGPIPE` of a write with no reader), the process table and `init`: the others' futures read of them
/// only whether their own children ended, and the footprint of the end names the parent it tells,
/// which must be a member too.
pub(super) fn touched_files_only(footprint: &crate::kernel::Footprint, members: &[Pid]) -> bool {
    let table = crate::kernel::state::PROCESS_TABLE;
    let init = ObjectRef::process(crate::kernel::process::INIT_PID);
    !footprint.everything
        && footprint.reads.iter().chain(&footprint.writes).all(|object| match object.kind {
            ObjectKind::Pipe | ObjectKind::File | ObjectKind::Path | ObjectKind::DevNull => true,
            ObjectKind::Process => {
                *object == table || *object == init || members.iter().any(|pid| *object == ObjectRef::process(*pid))
            }
            _ => false,
        })
}

fn operand_may_fault(operand: &Operand) -> bool {
    match operand {
        Operand::Value { value, .. } => may_fault(value),
        Operand::Sembuf { num, op, flags, .. } => [num, op, flags].into_iter().any(may_fault),
        Operand::List { values, .. } => values.iter().any(may_fault),
        Operand::Payload(_) | Operand::Path(_) => false,
    }
}

/// Whether evaluating `value` could fault (a division by zero, or of the lowest number by -1).
fn may_fault(value: &Value) -> bool {
    use crate::lang::ast::BinaryOp;
    match value {
        Value::Const(_) | Value::Slot(_) | Value::SelfPid => false,
        Value::Unary(_, inner) => may_fault(inner),
        Value::Binary(op, left, right) => {
            let divides = matches!(op, BinaryOp::Div | BinaryOp::Rem)
                && !matches!(**right, Value::Const(divisor) if divisor != 0 && divisor != -1);
            divides || may_fault(left) || may_fault(right)
        }
    }
}
