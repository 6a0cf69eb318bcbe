//! What a step touched, and the kernel's state as one number: the two facts an explorer of
//! interleavings needs.
//!
//! [`Footprint`] lists the kernel objects a step read and the ones it changed (processes, pipes, open
//! files, names in the file system), so that two steps that touch nothing in common are known to
//! commute. [`Kernel::state_hash`] hashes everything that decides what happens next and what a
//! scenario can observe, and nothing else: not the step count, not the copy counters, not the order in
//! which open files, pipes and page frames were numbered (they are renumbered in the order the
//! processes, taken by pid, reach them), so two states that differ only in that numbering hash alike.

use super::{Kernel, ProcState, Scratch};
use crate::linux::wait;
use crate::trace::{BlockReason, ObjectRef, StateHasher};

/// The objects one step read and changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Whether steps record their footprint at all (off in ordinary runs: it costs a little per step).
    pub enabled: bool,
    pub reads: Vec<ObjectRef>,
    pub writes: Vec<ObjectRef>,
    /// The step depends on where it falls in the run, or does something the lists do not describe: it
    /// conflicts with every step. Set for a step taken while a timer is set or that sets or reads the
    /// clock (a timer fires after a given number of steps, whoever takes them), for a step that fails an
    /// expectation (the failures are kept in the order they happen) and for the step that ends the run.
    pub everything: bool,
}

/// The table of processes, as an object: which pids exist and in which groups. `fork` changes it (the
/// child's pid is the next one, so two forks in either order give different pids); a signal sent to a
/// group or to every process reads it.
pub const PROCESS_TABLE: ObjectRef = ObjectRef { kind: crate::trace::ObjectKind::Process, id: 0 };

/// The id that stands for a whole family of objects (its names and ids, how they are handed out):
/// `ObjectRef { kind: ObjectKind::SemSet, id: NAMESPACE }` is every System V semaphore set at once.
pub const NAMESPACE: u32 = u32::MAX;

/// What a call touches beyond the objects its mechanism records: the process table for calls that
/// change or read process groups, and a family's namespace for the calls that create, name, remove or
/// reconfigure objects (ids are handed out in order, so two creations in either order give different
/// ids) and for mappings of memory. Conservative: these calls are rare next to the ones that move data.
pub(crate) fn shared_footprint(footprint: &mut Footprint, call: crate::lang::syscalls::CallId) {
    use crate::lang::syscalls::CallId;
    use crate::trace::ObjectKind;
    let namespace = |kind| ObjectRef { kind, id: NAMESPACE };
    match call {
        CallId::Setpgid => footprint.write(PROCESS_TABLE),
        CallId::Kill | CallId::Killpg | CallId::Wait | CallId::Waitpid | CallId::Waitid | CallId::Getpgid => {
            footprint.read(PROCESS_TABLE)
        }
        CallId::Msgget | CallId::Msgctl => footprint.write(namespace(ObjectKind::MsgQueue)),
        // The calls on one object read its family's namespace: a control call may have changed it.
        CallId::Msgsnd | CallId::Msgrcv => footprint.read(namespace(ObjectKind::MsgQueue)),
        CallId::Semop | CallId::Semtimedop => footprint.read(namespace(ObjectKind::SemSet)),
        CallId::MqSend | CallId::MqReceive | CallId::MqTimedsend | CallId::MqTimedreceive => {
            footprint.read(namespace(ObjectKind::Mqueue))
        }
        CallId::SemWait | CallId::SemTrywait | CallId::SemPost | CallId::SemGetvalue | CallId::SemTimedwait => {
            // A handle's semaphore, or one in memory (whose frame the call itself records).
            footprint.read(namespace(ObjectKind::NamedSem));
            footprint.read(namespace(ObjectKind::Frame));
        }
        CallId::SemInit | CallId::SemDestroy => footprint.read(namespace(ObjectKind::Frame)),
        CallId::Load
        | CallId::Store
        | CallId::FetchAdd
        | CallId::CompareExchange
        | CallId::StoreBytes
        | CallId::LoadBytes => footprint.read(namespace(ObjectKind::Frame)),
        CallId::Semget | CallId::Semctl => footprint.write(namespace(ObjectKind::SemSet)),
        CallId::MqOpen | CallId::MqUnlink | CallId::MqNotify | CallId::MqGetattr | CallId::MqSetattr => {
            footprint.write(namespace(ObjectKind::Mqueue))
        }
        CallId::SemOpen | CallId::SemClose | CallId::SemUnlink => footprint.write(namespace(ObjectKind::NamedSem)),
        CallId::Shmget | CallId::Shmat | CallId::Shmdt | CallId::Shmctl => {
            footprint.write(namespace(ObjectKind::ShmSegment))
        }
        CallId::Mmap | CallId::Munmap | CallId::Mprotect | CallId::Futex => {
            footprint.write(namespace(ObjectKind::Frame))
        }
        // A name made or removed; a size changed under every mapping of the object.
        CallId::ShmOpen | CallId::ShmUnlink => footprint.write(namespace(ObjectKind::ShmObject)),
        CallId::Ftruncate => {
            footprint.write(namespace(ObjectKind::ShmObject));
            footprint.write(namespace(ObjectKind::Frame));
        }
        _ => {}
    }
}

impl Footprint {
    pub fn begin(&mut self) {
        self.reads.clear();
        self.writes.clear();
        self.everything = false;
    }

    /// Marks the step as conflicting with every other (see [`Footprint::everything`]).
    pub fn everything(&mut self) {
        self.everything = true;
    }

    pub fn read(&mut self, object: ObjectRef) {
        if !self.reads.contains(&object) {
            self.reads.push(object);
        }
    }

    pub fn write(&mut self, object: ObjectRef) {
        if !self.writes.contains(&object) {
            self.writes.push(object);
        }
    }

    /// Whether two steps could give a different result in the other order: one changes what the other
    /// reads or changes.
    pub fn conflicts_with(&self, other: &Footprint) -> bool {
        self.everything
            || other.everything
            || self.writes.iter().any(|object| other.writes.contains(object) || other.reads.contains(object))
            || other.writes.iter().any(|object| self.reads.contains(object))
    }
}

/// The numbering of open files, pipes and page frames in the order processes reach them.
#[derive(Default)]
struct Canonical {
    /// Each open file's number (by its index), or [`UNNUMBERED`].
    files: Vec<u32>,
    /// The open files' indices in the order they were numbered.
    file_order: Vec<u32>,
    /// Each pipe's number (by its id less one), or [`UNNUMBERED`].
    pipes: Vec<u32>,
    /// The pipes' indices in the order they were numbered.
    pipe_order: Vec<u32>,
    /// Each page frame's number (see [`super::mm::canonical_frames`]).
    frames: Vec<u32>,
}

const UNNUMBERED: u32 = u32::MAX;

impl Canonical {
    fn of(kernel: &Kernel) -> Canonical {
        let mut numbering = Canonical {
            files: vec![UNNUMBERED; kernel.files.len()],
            pipes: vec![UNNUMBERED; kernel.pipes.len()],
            ..Canonical::default()
        };
        let canonical = &mut numbering;
        let reach_file = |canonical: &mut Canonical, file: u32| {
            if canonical.files[file as usize] == UNNUMBERED {
                canonical.files[file as usize] = canonical.file_order.len() as u32;
                canonical.file_order.push(file);
                if let Some(pipe) = kernel.file(file).object.pipe() {
                    if canonical.pipes[pipe as usize - 1] == UNNUMBERED {
                        canonical.pipes[pipe as usize - 1] = canonical.pipe_order.len() as u32;
                        canonical.pipe_order.push(pipe - 1);
                    }
                }
            }
        };
        for process in &kernel.procs {
            for entry in process.fds.iter().flatten() {
                reach_file(canonical, entry.file);
            }
            let saved = process.sig.frames.iter().map(|frame| &frame.saved_call);
            for call in std::iter::once(&process.call).chain(saved) {
                if let Scratch::FifoOpen { file, .. } = call.scratch {
                    reach_file(canonical, file);
                }
            }
        }
        // Then the open files held in flight by messages, socket by socket.
        for socket in kernel.sockets.iter().flatten() {
            for entry in &socket.queue {
                for file in &entry.rights {
                    reach_file(canonical, *file);
                }
            }
        }
        super::mm::canonical_frames(kernel, &mut numbering.frames);
        numbering
    }

    fn pipe(&self, id: u32) -> u64 {
        self.pipes.get((id as usize).wrapping_sub(1)).map_or(u64::MAX, |number| *number as u64)
    }
}

/// A call in progress: whether it slept, its operands, what its mechanism keeps (times count from
/// `now`: the same wait later is the same state).
fn hash_call(
    hasher: &mut StateHasher,
    call: &super::process::InCall,
    canonical: &Canonical,
    now: u64,
    spent_operands: bool,
) {
    hasher.word(call.waited as u64 | (call.timed_out as u64) << 1);
    // The operands a call started with are read again only while it sleeps or waits to start again
    // (`Kernel::sleep` and `interrupt_with` keep them, `Kernel::next_args` and the restart read them);
    // after it returns they are what is left of the last call that slept and decide nothing: hashed,
    // they would split one state in as many as there are calls that could have slept last.
    if call.waited || call.restart || spent_operands {
        for arg in call.args.as_slice() {
            hasher.word(*arg as u64);
        }
    }
    match call.scratch {
        Scratch::None => hasher.word(0),
        Scratch::Written(written) => hasher.word(1 | (written as u64) << 8),
        Scratch::FifoOpen { file, seen } => {
            hasher.word(2 | (seen as u64) << 8);
            hasher.word(canonical.files[file as usize] as u64);
        }
        Scratch::Until(until) => {
            hasher.word(3);
            hasher.word(until.saturating_sub(now));
        }
        Scratch::Ipc { serial } => {
            hasher.word(4);
            hasher.word(serial);
        }
    }
    hasher.word(match call.undecided {
        None => 0,
        Some(super::Interruption::Restart) => 1,
        Some(super::Interruption::RestartWithoutHandler) => 2,
        Some(super::Interruption::Eintr) => 3,
        Some(super::Interruption::ReturnLeftIfHandled) => 4,
        Some(super::Interruption::Partial(done)) => 5 | (done as u64) << 8,
    });
}

impl Kernel {
    /// A hash of the state that decides the rest of the run (see the module documentation).
    pub fn state_hash(&self) -> u64 {
        let canonical = &Canonical::of(self);
        let frames = &canonical.frames;
        let mut frame_hashed = vec![false; self.frames.slots.len()];
        let mut hasher = StateHasher::default();
        let spent = self.program.live.spent_operands;
        for process in &self.procs {
            hasher.word(process.pid as u64);
            hasher.word(process.ppid as u64);
            hasher.word(process.pgid as u64);
            match &process.state {
                ProcState::Runnable => hasher.word(1),
                ProcState::Blocked(reason) => {
                    hasher.word(2);
                    hash_reason(&mut hasher, reason, canonical);
                }
                ProcState::Stopped => hasher.word(3),
                ProcState::Zombie => hasher.word(4),
                ProcState::Reaped => hasher.word(5),
            }
            hasher.word(process.pc as u64);
            // Only the variables the process may still read (see `lang::live`), in the order of their
            // slots: which ones those are follows from the program counter (hashed above), whether the
            // process ended (in its state, above) and where its block ends (hashed here: a child at the
            // end of a `fork` body and its parent going on after it can stand at the same operation).
            let ended = matches!(process.state, ProcState::Zombie | ProcState::Reaped);
            hasher.word(process.vars.len() as u64 | (process.end_pc as u64) << 32);
            match self.program.live.row(process.pc, process.end_pc, ended) {
                None => process.vars.iter().for_each(|value| hasher.word(*value as u64)),
                Some(row) => {
                    for (at, word) in row.iter().enumerate() {
                        let mut bits = *word;
                        while bits != 0 {
                            let slot = at * 64 + bits.trailing_zeros() as usize;
                            bits &= bits - 1;
                            if let Some(value) = process.vars.get(slot) {
                                hasher.word(*value as u64);
                            }
                        }
                    }
                }
            }
            for (number, entry) in process.fds.iter().enumerate() {
                if let Some(entry) = entry {
                    hasher.word(number as u64);
                    hasher.word(canonical.files[entry.file as usize] as u64);
                    hasher.word(entry.cloexec as u64);
                }
            }
            hash_call(&mut hasher, &process.call, canonical, self.now(), spent);
            let signals = &process.sig;
            for word in [signals.blocked, signals.pending, signals.ignored, signals.handled] {
                hasher.word(word);
            }
            hasher.word(signals.suspended_mask.map_or(0, |mask| mask | 1 << 63));
            hasher.word(signals.woken_by.map_or(0, |signal| 1 + signal.0 as u64) | (signals.group_exit as u64) << 32);
            hasher.word(signals.queue.len() as u64);
            for queued in &signals.queue {
                hasher.word(queued.signal.0 as u64 | (queued.from as u64) << 8 | (queued.code as u64) << 40);
                hasher.word(queued.value as u64);
            }
            for (signal, action) in &signals.handlers {
                match action {
                    super::signal::Action::Handler { handler, flags, mask } => {
                        hasher.word(signal.0 as u64 | (*handler as u64) << 8);
                        hasher.word(*flags as u64);
                        hasher.word(*mask);
                    }
                    super::signal::Action::Stray { address, flags, mask } => {
                        hasher.word(signal.0 as u64 | 1 << 63);
                        hasher.word(*address as u64);
                        hasher.word(*flags as u64);
                        hasher.word(*mask);
                    }
                    super::signal::Action::Default | super::signal::Action::Ignore => {}
                }
            }
            match &process.still_queued {
                None => hasher.word(0),
                Some(reason) => {
                    hasher.word(1);
                    hash_reason(&mut hasher, reason, canonical);
                }
            }
            hasher.word(process.partner_woke as u64);
            match &process.handed {
                None => hasher.word(0),
                Some(super::process::Handed::Result(result)) => {
                    hasher.word(1);
                    hasher.word(result.return_value() as u64);
                }
                Some(super::process::Handed::Message { tag, bytes, skipped, .. }) => {
                    hasher.word(2 | (*skipped as u64) << 8);
                    hasher.word(*tag as u64);
                    hasher.bytes(bytes);
                }
            }
            for undo in &process.sem_undo {
                hasher.word(undo.semid as u64);
                for adjust in &undo.adj {
                    hasher.word(*adjust as u64);
                }
            }
            for handle in &process.sem_handles {
                match handle {
                    Some(handle) => {
                        hasher.word(handle.sem as u64 | (handle.refs as u64) << 32);
                        hasher.bytes(handle.name.as_bytes());
                    }
                    None => hasher.word(u64::MAX),
                }
            }
            hasher.word(signals.frames.len() as u64);
            for frame in &signals.frames {
                hasher.word(frame.signal.0 as u64 | (frame.handler as u64) << 8 | (frame.return_pc as u64) << 32);
                hasher.word(frame.return_end as u64);
                hasher.word(frame.saved_blocked);
                for value in frame.saved_info {
                    hasher.word(value as u64);
                }
                hash_call(&mut hasher, &frame.saved_call, canonical, self.now(), spent);
                hasher.word(frame.saved_call.restart as u64);
            }
            hasher.word(process.call.restart as u64);
            hasher.word(match process.report {
                None => 0,
                Some(super::process::ChildReport::Stopped(signal)) => 1 | (signal.0 as u64) << 8,
                Some(super::process::ChildReport::Continued) => 2,
            });
            hasher.word(process.status.map_or(u64::MAX, |status| wait::encode(status) as u64));
            hasher.word(process.continued_unreported as u64);
            for child in &process.children {
                hasher.word(*child as u64);
            }
            // Page tables, with frames renumbered in the order they are reached, and their bytes.
            super::mm::hash_space(self, &process.mm, frames, &mut frame_hashed, &mut hasher);
        }
        for &index in &canonical.file_order {
            let file = self.file(index);
            hasher.word(file.readable as u64 | (file.writable as u64) << 1 | (file.nonblock as u64) << 2);
            hasher.word(file.base_flags as u64);
            hasher.word(file.fifo_writers_seen.map_or(u64::MAX, u64::from));
            hasher.word(file.refs as u64);
            hasher.word(file.object.pipe().map_or(u64::MAX, |pipe| canonical.pipe(pipe)));
            if let super::fd::FileObject::Mqueue(id) = file.object {
                hasher.word(id as u64 | (file.offset as u64) << 32);
            }
            if let super::fd::FileObject::Socket(id) = file.object {
                hasher.word(id as u64 | 1 << 40);
            }
            if let super::fd::FileObject::ShmObject(id) = file.object {
                hasher.word(id as u64 | 2 << 40);
                hasher.word(file.offset as u64);
            }
        }
        for &index in &canonical.pipe_order {
            let Some(pipe) = &self.pipes[index as usize] else { continue };
            // Each slot's bytes (their lengths with them): the contents, and how they lie in slots,
            // hashed from the pages where they are.
            hasher.word(pipe.buffer.slots_used() as u64);
            for slot in pipe.buffer.slot_bytes() {
                hasher.bytes(slot);
            }
            hasher.word(pipe.buffer.max_slots() as u64);
            hasher.word(pipe.readers as u64 | (pipe.writers as u64) << 32);
            hasher.word(pipe.reader_opens as u64 | (pipe.writer_opens as u64) << 32);
            for waiter in
                pipe.read_wait.pids().chain([0]).chain(pipe.write_wait.pids()).chain([0]).chain(pipe.open_wait.pids())
            {
                hasher.word(waiter as u64);
            }
        }
        hasher.word(self.timers.len() as u64);
        for timer in &self.timers {
            hasher.word(timer.at.saturating_sub(self.now()));
            let kind = match timer.kind {
                super::time::TimerKind::Wake => 0,
                super::time::TimerKind::Alarm => 1,
                super::time::TimerKind::SynRetransmit { socket } => 2 | (socket as u64) << 1,
            };
            hasher.word(timer.pid as u64 | kind << 32);
        }
        for (path, node) in &self.fifos {
            hasher.bytes(path.as_bytes());
            hasher.word(node.pipe.map_or(u64::MAX, |pipe| canonical.pipe(pipe)));
        }
        // Sockets by their own numbers, not renumbered: two states that differ only in the order
        // sockets were made hash apart, which costs the explorer some sharing and nothing else. A
        // datagram relay by the order relays were put on (which decides whose runs first).
        let mut relay_seqs: Vec<u64> = self
            .sockets
            .iter()
            .flatten()
            .filter(|socket| socket.peer_wake != 0)
            .map(|socket| socket.peer_wake_seq)
            .collect();
        relay_seqs.sort_unstable();
        for socket in self.sockets.iter().filter(|_| crate::IPC) {
            let Some(socket) = socket else {
                hasher.word(u64::MAX);
                continue;
            };
            hasher.word(
                socket.peer as u64
                    | (socket.peer_dead as u64) << 32
                    | (socket.shutdown as u64) << 40
                    | (socket.kind as u64) << 48,
            );
            hasher.word(socket.error.map_or(0, |errno| errno.0 as u64) | (socket.unread_sent as u64) << 16);
            hasher.word(socket.queue.len() as u64);
            for entry in &socket.queue {
                hasher.word(entry.consumed as u64 | (entry.from as u64) << 32);
                hasher.word(entry.sender_name as u64 | (entry.creds.map_or(0, |pid| pid as u64 + 1)) << 32);
                hasher.bytes(&entry.data);
                hasher.word(entry.rights.len() as u64);
                for file in &entry.rights {
                    hasher.word(canonical.files[*file as usize] as u64);
                }
            }
            for waiter in socket
                .read_wait
                .pids()
                .chain([0])
                .chain(socket.write_wait.pids())
                .chain([0])
                .chain(socket.connect_wait.pids())
                .chain([0])
                .chain(socket.pending.iter().copied())
            {
                hasher.word(waiter as u64);
            }
            hasher.word(socket.listening as u64 | (socket.backlog as u64) << 1 | (socket.files as u64) << 32);
            hasher.word(socket.sndbuf as u64 | (socket.rcvbuf as u64) << 32);
            hasher.word(
                socket.peer_pid as u64
                    | (socket.passcred as u64) << 32
                    | (socket.autobound as u64) << 33
                    | (socket.reuse as u64) << 34,
            );
            let relay_rank = relay_seqs.binary_search(&socket.peer_wake_seq).unwrap_or(0) as u64;
            hasher.word(socket.peer_wake as u64 | relay_rank << 32);
            for word in socket.inet.map_or([u64::MAX; 3], |inet| inet.hash_words()) {
                hasher.word(word);
            }
            hasher.bytes(socket.path.as_deref().unwrap_or("").as_bytes());
        }
        for (path, socket) in self.socket_names.iter().filter(|_| crate::IPC) {
            hasher.bytes(path.as_bytes());
            hasher.word(*socket as u64);
        }
        // Epoll instances by their own numbers; their items and ready list by canonical open file, and
        // the order items were added in across instances (which decides whose callback runs first).
        let mut seqs: Vec<u64> =
            self.epolls.iter().flatten().flat_map(|epoll| epoll.items.iter().map(|item| item.seq)).collect();
        seqs.sort_unstable();
        for epoll in self.epolls.iter().filter(|_| crate::IPC) {
            let Some(epoll) = epoll else {
                hasher.word(u64::MAX);
                continue;
            };
            hasher.word(canonical.files[epoll.file as usize] as u64 | (epoll.items.len() as u64) << 32);
            for item in &epoll.items {
                hasher.word(canonical.files[item.file as usize] as u64 | (item.fd as u32 as u64) << 32);
                hasher.word(item.events as u64 | (seqs.binary_search(&item.seq).unwrap_or(0) as u64) << 32);
            }
            hasher.word(epoll.ready.len() as u64);
            for (file, fd) in &epoll.ready {
                hasher.word(canonical.files[*file as usize] as u64 | (*fd as u32 as u64) << 32);
            }
            for waiter in epoll.wait.pids().chain([0]).chain(epoll.poll_wait.pids()) {
                hasher.word(waiter as u64);
            }
        }
        // IPC objects are named by ids the scenario sees (System V) or by names: no renumbering.
        self.ipc.hash_into(&mut hasher, self.program.live.reads_sempid);
        for segment in self.ipc.shm_segs.values() {
            segment.hash_into(self, frames, &mut frame_hashed, &mut hasher);
        }
        for object in self.ipc.shm_objects.iter().flatten() {
            object.hash_into(self, frames, &mut frame_hashed, &mut hasher);
        }
        // The bytes copied so far decide nothing that follows, unless a declared outcome counts them:
        // then two runs that copied differently must not meet as one state.
        // Futex sleepers in the order a wake takes them (each one's word is its block reason's address).
        for (_, pid) in &self.futex_waiters {
            hasher.word(*pid as u64);
        }
        // So do the system calls each process made, when a declared outcome counts them.
        if self.program.counts_calls() {
            for process in &self.procs {
                hasher.word(process.syscalls as u64);
            }
        }
        if self.program.counts_copies() {
            for row in &self.copies {
                hasher.word(row[0]);
                hasher.word(row[1]);
            }
        }
        hasher.finish()
    }
}

fn hash_reason(hasher: &mut StateHasher, reason: &BlockReason, canonical: &Canonical) {
    match *reason {
        BlockReason::PipeEmpty { pipe } => {
            hasher.word(1);
            hasher.word(canonical.pipe(pipe));
        }
        BlockReason::PipeFull { pipe, written } => {
            hasher.word(2 | (written as u64) << 8);
            hasher.word(canonical.pipe(pipe));
        }
        BlockReason::FifoNoWriter { pipe, path } | BlockReason::FifoNoReader { pipe, path } => {
            hasher.word(3 | (path as u64) << 8 | (matches!(reason, BlockReason::FifoNoWriter { .. }) as u64) << 40);
            hasher.word(canonical.pipe(pipe));
        }
        BlockReason::Child { target } => hasher.word(4 | (target.map_or(0, |pid| pid as u64 + 1)) << 8),
        BlockReason::ChildInGroup { pgid } => hasher.word(5 | (pgid as u64) << 8),
        BlockReason::Signal => hasher.word(6),
        BlockReason::MsgEmpty { queue, msgtype, except, held } => {
            hasher.word(7 | (queue as u64) << 8 | (except as u64) << 40);
            hasher.word(msgtype as u64);
            hasher.word(held as u64);
        }
        BlockReason::MsgFull { queue, bytes, used, capacity } => {
            hasher.word(8 | (queue as u64) << 8);
            hasher.word(bytes as u64 | (used as u64) << 32);
            hasher.word(capacity as u64);
        }
        BlockReason::SemOp { set, num, op, value } => {
            hasher.word(9 | (set as u64) << 8);
            hasher.word(num as u64 | (op as u16 as u64) << 16 | (value as u32 as u64) << 32);
        }
        BlockReason::MqEmpty { mq } => hasher.word(10 | (mq as u64) << 8),
        BlockReason::MqFull { mq, held } => hasher.word(11 | (mq as u64) << 8 | (held as u64) << 40),
        BlockReason::NamedSem { sem } => hasher.word(12 | (sem as u64) << 8),
        BlockReason::SignalWait { set } => {
            hasher.word(13);
            hasher.word(set);
        }
        // The deadline itself is hashed, from now, with the call's scratch.
        BlockReason::Sleep { seconds, .. } => hasher.word(14 | (seconds as u64) << 8),
        BlockReason::SocketEmpty { socket } => hasher.word(15 | (socket as u64) << 8),
        BlockReason::SocketFull { socket, written } => hasher.word(16 | (socket as u64) << 8 | (written as u64) << 40),
        BlockReason::SocketAccept { socket } => hasher.word(17 | (socket as u64) << 8),
        BlockReason::SocketBacklog { socket } => hasher.word(18 | (socket as u64) << 8),
        BlockReason::SocketReceiverFull { socket } => hasher.word(19 | (socket as u64) << 8),
        BlockReason::Futex { address, value } => {
            hasher.word(20 | (value as u64) << 8);
            hasher.word(address);
        }
        // The deadline is hashed with the call's scratch, as a sleep's.
        BlockReason::Poll { entries, .. } => hasher.word(21 | (entries as u64) << 8),
        BlockReason::Epoll { epoll, .. } => hasher.word(22 | (epoll as u64) << 8),
    }
}
