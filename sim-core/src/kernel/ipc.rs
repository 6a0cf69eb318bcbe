//! What the IPC mechanisms share: the objects that live apart from any process, how System V numbers
//! them, and the list of what a run leaves behind.
//!
//! System V message queues ([`super::msg`]) and semaphore sets ([`super::sem`]) are found by id, and
//! Linux makes ids as `ipc_idr_alloc` in `ipc/util.c` does: each kind has its own table of indexes,
//! handed out cyclically (`idr_alloc_cyclic`) below `max(in_use * 3 / 2, 64)`, and a sequence number that
//! grows each time the index wraps; the id is `seq * 32768 + index`, so a fresh IPC namespace hands out
//! 0, 1, 2, ... and an id removed is not seen again for a long while. POSIX message queues
//! ([`super::mqueue`]) and named semaphores ([`super::named_sem`]) are found by name. All of them outlive
//! the processes that made them: a run ends with a [`crate::trace::EventKind::Leftover`] for each one
//! still there.

use super::mqueue::Mqueue;
use super::msg::MsgQueue;
use super::named_sem::NamedSem;
use super::posix_shm::ShmObject;
use super::sem::SemSet;
use super::shm::ShmSegment;
use super::Kernel;
use crate::linux::errno::ENOSPC;
use crate::linux::ipc::{IPCID_SEQ_MAX, IPCMNI, IPCMNI_SHIFT, IPC_MIN_CYCLE};
use crate::linux::Errno;
use crate::trace::{Event, EventKind, ObjectRef, StateHasher, Trace};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One kind's table of System V ids (`struct ipc_ids`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpcIds {
    pub in_use: u32,
    pub seq: u32,
    /// The index handed out last (-1 before the first).
    pub last_idx: i64,
    /// Where the cyclic search for a free index starts (`idr_next`).
    pub next: u32,
}

impl Default for IpcIds {
    fn default() -> IpcIds {
        IpcIds { in_use: 0, seq: 0, last_idx: -1, next: 0 }
    }
}

impl IpcIds {
    /// A new index and id (`ipc_idr_alloc`), given which indexes are taken; `ENOSPC` at `limit` objects
    /// (`ipc_addid`).
    pub fn alloc(&mut self, limit: u32, taken: impl Fn(u32) -> bool) -> Result<(u32, i32), Errno> {
        if self.in_use >= limit.min(IPCMNI) {
            return Err(ENOSPC);
        }
        let end = (self.in_use * 3 / 2).clamp(IPC_MIN_CYCLE, IPCMNI);
        // `idr_alloc_cyclic`: the lowest free index from `next` below `end`, else from 0.
        let free_from = |from: u32| (from..end).find(|index| !taken(*index));
        let index = match free_from(self.next) {
            Some(index) => index,
            None if self.next > 0 => free_from(0).ok_or(ENOSPC)?,
            None => return Err(ENOSPC),
        };
        self.next = index + 1;
        if index as i64 <= self.last_idx {
            self.seq += 1;
            if self.seq >= IPCID_SEQ_MAX {
                self.seq = 0;
            }
        }
        self.last_idx = index as i64;
        self.in_use += 1;
        Ok((index, ((self.seq << IPCMNI_SHIFT) + index) as i32))
    }

    /// The index of an id, and whether the id's sequence number is the object's (`ipc_checkid`).
    pub fn index_of(id: i32) -> u32 {
        id as u32 & (IPCMNI - 1)
    }
}

/// A kind's System V objects by index (`struct ipc_ids`' `ipcs_idr`): a slot per index, which stays
/// small because Linux hands indexes out below `max(in_use * 3 / 2, 64)`. A `Vec` rather than a
/// `BTreeMap` because the playground's WebAssembly carries a copy of the B-tree's code for each map
/// type, and these tables are walked in index order either way.
#[derive(Clone, Debug)]
pub struct IdTable<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for IdTable<T> {
    fn default() -> IdTable<T> {
        IdTable { slots: Vec::new() }
    }
}

impl<T> IdTable<T> {
    pub fn get(&self, index: &u32) -> Option<&T> {
        self.slots.get(*index as usize).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, index: &u32) -> Option<&mut T> {
        self.slots.get_mut(*index as usize).and_then(Option::as_mut)
    }

    pub fn contains_key(&self, index: &u32) -> bool {
        self.get(index).is_some()
    }

    pub fn insert(&mut self, index: u32, value: T) {
        let at = index as usize;
        if self.slots.len() <= at {
            self.slots.resize_with(at + 1, || None);
        }
        self.slots[at] = Some(value);
    }

    pub fn remove(&mut self, index: &u32) -> Option<T> {
        let removed = self.slots.get_mut(*index as usize).and_then(Option::take);
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        removed
    }

    /// The objects with their indexes, in index order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u32, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| slot.as_ref().map(|value| (index as u32, value)))
    }

    /// The objects in index order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().flatten()
    }

    /// The highest index in use.
    pub fn last_index(&self) -> Option<u32> {
        // `remove` drops empty slots at the end, so the last slot, if any, is in use.
        self.slots.len().checked_sub(1).map(|index| index as u32)
    }

    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

impl<T> std::ops::Index<&u32> for IdTable<T> {
    type Output = T;

    fn index(&self, index: &u32) -> &T {
        self.get(index).expect("an index in use")
    }
}

/// The IPC objects of the run's (one) IPC namespace.
#[derive(Clone, Debug, Default)]
pub struct Ipc {
    pub msg_ids: IpcIds,
    /// System V message queues by index.
    pub msg_queues: IdTable<MsgQueue>,
    pub sem_ids: IpcIds,
    /// System V semaphore sets by index.
    pub sem_sets: IdTable<SemSet>,
    /// Semaphores in all sets (`used_sems`, bounded by `SEMMNS`).
    pub used_sems: i64,
    /// POSIX message queues by number - 1; a freed one leaves `None`.
    pub mqueues: Vec<Option<Mqueue>>,
    /// Names of POSIX message queues (without the leading `/`), as in the namespace's mqueue file system.
    pub mq_names: BTreeMap<Arc<str>, u32>,
    /// Bytes the (single) user's queues pin (`user->mq_bytes`, bounded by `RLIMIT_MSGQUEUE`), and the
    /// queues of the namespace (`mq_queues_count`).
    pub mq_bytes: u64,
    pub mq_count: u32,
    /// POSIX named semaphores by number - 1; a freed one leaves `None`.
    pub named_sems: Vec<Option<NamedSem>>,
    /// Names of named semaphores (without leading `/`), as the files `/dev/shm/sem.NAME`.
    pub sem_names: BTreeMap<Arc<str>, u32>,
    pub shm_ids: IpcIds,
    /// System V shared memory segments by index.
    pub shm_segs: IdTable<ShmSegment>,
    /// POSIX shared memory objects by number - 1; a freed one leaves `None`.
    pub shm_objects: Vec<Option<ShmObject>>,
    /// Names of POSIX shared memory objects (without leading `/`), as the files `/dev/shm/NAME`.
    pub shm_names: BTreeMap<Arc<str>, u32>,
    /// A number for each System V object made, never reused: a sleeper that finds another number behind
    /// its id when it wakes knows its object was removed (`ipc_valid_object`).
    pub serial: u64,
}

impl Ipc {
    /// How many IPC objects exist now.
    pub fn object_count(&self) -> usize {
        self.msg_queues.len()
            + self.sem_sets.len()
            + self.shm_segs.len()
            + self.mqueues.iter().flatten().count()
            + self.named_sems.iter().flatten().count()
            + self.shm_objects.iter().flatten().count()
    }

    /// The next serial number for a new System V object.
    pub fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// The state that decides what happens next, for [`Kernel::state_hash`].
    /// Hashes the objects; without `sempid`, leaves out who last changed each semaphore (which only
    /// `semctl GETPID` can see).
    pub fn hash_into(&self, hasher: &mut StateHasher, sempid: bool) {
        for ids in [&self.msg_ids, &self.sem_ids, &self.shm_ids] {
            hasher.word(ids.in_use as u64 | (ids.seq as u64) << 32);
            hasher.word(ids.last_idx as u64);
            hasher.word(ids.next as u64);
        }
        for queue in self.msg_queues.values() {
            queue.hash_into(hasher);
        }
        for set in self.sem_sets.values() {
            set.hash_into(hasher, sempid);
        }
        for queue in self.mqueues.iter().flatten() {
            queue.hash_into(hasher);
        }
        for (name, id) in &self.mq_names {
            hasher.bytes(name.as_bytes());
            hasher.word(*id as u64);
        }
        for sem in self.named_sems.iter().flatten() {
            sem.hash_into(hasher);
        }
        for (name, id) in &self.sem_names {
            hasher.bytes(name.as_bytes());
            hasher.word(*id as u64);
        }
        for (name, id) in &self.shm_names {
            hasher.bytes(name.as_bytes());
            hasher.word(*id as u64 | 1 << 40);
        }
        hasher.word(self.mq_bytes);
    }
}

impl Kernel {
    /// Whether one more IPC object fits under [`crate::Limits::max_ipc_objects`]; otherwise the run ends
    /// at that limit (and the call that would have made it does not happen).
    pub(crate) fn ipc_object_fits(&self) -> bool {
        self.ipc.object_count() < self.limits.max_ipc_objects as usize
    }

    /// Ends the run at [`crate::Limits::max_ipc_objects`].
    pub(crate) fn halt_ipc_objects(&mut self) -> super::Exec {
        let detail =
            format!("this call would make more than {} IPC objects exist at once", self.limits.max_ipc_objects);
        self.halt("max_ipc_objects", detail)
    }

    /// How many IPC objects of `kind` are in the system now: those [`Kernel::record_leftovers`] records.
    pub fn leftover_count(&self, kind: crate::lang::ast::Leftover) -> u64 {
        use crate::lang::ast::Leftover;
        let mut count = 0;
        let mut add = |object: Leftover, how_many: usize| {
            if kind.counts(object) {
                count += how_many as u64;
            }
        };
        add(Leftover::MsgQueues, self.ipc.msg_queues.len());
        add(Leftover::SemSets, self.ipc.sem_sets.len());
        add(Leftover::ShmSegments, self.ipc.shm_segs.len());
        add(Leftover::Mqueues, self.ipc.mqueues.iter().flatten().filter(|queue| queue.name_index.is_some()).count());
        add(Leftover::NamedSems, self.ipc.named_sems.iter().flatten().filter(|sem| sem.name_index.is_some()).count());
        add(Leftover::ShmObjects, self.ipc.shm_names.len());
        count
    }

    /// Records the IPC objects still in the system as the run ends: what `ipcs` and `/dev/mqueue` and
    /// `/dev/shm` would show after the scenario's processes are gone.
    pub fn record_leftovers(&self, trace: &mut Trace) {
        let step = self.step as u32;
        let mut record = |object: ObjectRef, label: i64, count: u64| {
            trace.record(Event { step, kind: EventKind::Leftover { object, label, count } });
        };
        for queue in self.ipc.msg_queues.values() {
            record(ObjectRef::msg_queue(queue.id as u32), queue.key as i64, queue.messages.len() as u64);
        }
        for set in self.ipc.sem_sets.values() {
            record(ObjectRef::sem_set(set.id as u32), set.key as i64, set.sems.len() as u64);
        }
        for segment in self.ipc.shm_segs.values() {
            record(ObjectRef::shm_segment(segment.id as u32), segment.key as i64, segment.segsz);
        }
        for queue in self.ipc.mqueues.iter().flatten() {
            if let Some(name) = queue.name_index {
                record(ObjectRef::mqueue(queue.id), name as i64, queue.curmsgs() as u64);
            }
        }
        for sem in self.ipc.named_sems.iter().flatten() {
            if let Some(name) = sem.name_index {
                record(ObjectRef::named_sem(sem.id), name as i64, sem.value as u64);
            }
        }
        for object in self.ipc.shm_objects.iter().flatten() {
            if let Some(name) = object.name_index {
                record(ObjectRef::shm_object(object.id), name as i64, object.size);
            }
        }
    }
}

/// The results of the calls of a scenario run to its end with `limits`, the lowest runnable pid first
/// at each step (for the mechanisms' unit tests).
#[cfg(test)]
pub(crate) fn call_results(limits: crate::Limits, source: &str) -> Vec<crate::trace::CallResult> {
    let scenario = crate::parse(source).expect("the test's scenario parses");
    let program = Arc::new(crate::lang::compile::Program::compile(&scenario).expect("compiles"));
    let mut trace = Trace::new(true);
    let mut kernel = Kernel::new(program.clone(), limits, &mut trace).expect("fits");
    while let Some(&pid) = kernel.runnable().first() {
        kernel.step(&program, pid, &mut trace).expect("no limit is reached");
    }
    let calls = trace.events.iter().filter_map(|event| match event.kind {
        EventKind::Call { result, .. } => Some(result),
        _ => None,
    });
    calls.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_up_then_wrap_with_a_new_sequence_number() {
        let mut ids = IpcIds::default();
        let mut taken = std::collections::BTreeSet::new();
        let mut made = Vec::new();
        for _ in 0..3 {
            let (index, id) = ids.alloc(32_000, |index| taken.contains(&index)).unwrap();
            taken.insert(index);
            made.push(id);
        }
        assert_eq!(made, [0, 1, 2]);
        // Removing 0 does not make 0 the next id: the search goes on cyclically.
        taken.remove(&0);
        ids.in_use -= 1;
        assert_eq!(ids.alloc(32_000, |index| taken.contains(&index)).unwrap(), (3, 3));
        taken.insert(3);
        // Past index 63 (with few objects) the search wraps to the lowest free index, with seq 1.
        ids.next = 64;
        let (index, id) = ids.alloc(32_000, |index| taken.contains(&index)).unwrap();
        assert_eq!((index, id), (0, 32_768));
        assert_eq!(IpcIds::index_of(id), 0);
    }

    #[test]
    fn the_limit_refuses_with_enospc() {
        let mut ids = IpcIds::default();
        assert_eq!(ids.alloc(0, |_| false), Err(ENOSPC));
    }
}
