//! Events: the single record of what happened in a run.
//!
//! The text trace, the JSON trace, golden files, the playground's timeline and the conformance
//! comparison all read [`Event`]s. Every event is folded into a 64-bit trace hash as it is recorded,
//! from a fixed-width little-endian encoding, so the hash is the same on every platform.

use crate::ast::{ChildStatus, Errno, Signal};
use serde::{Deserialize, Serialize};

/// A process id. Never reused within a run; `init` is 1.
pub type Pid = u32;

/// Which kernel object a block, wake or copy concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Object {
    /// An anonymous pipe or a FIFO's pipe, by its kernel id (`pipe 1`).
    Pipe { id: u32 },
    /// `/dev/null` (the standard descriptors of top-level processes).
    DevNull,
}

/// Why a process sleeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockReason {
    /// `read` on an empty pipe that still has a writer.
    PipeEmpty { pipe: u32 },
    /// `write` on a full pipe that still has a reader; `written` bytes of this call are already in.
    PipeFull { pipe: u32, written: u32 },
    /// `open(O_RDONLY)` of a FIFO with no writer yet. `path` indexes [`crate::Program::paths`].
    FifoNoWriter { pipe: u32, path: u32 },
    /// `open(O_WRONLY)` of a FIFO with no reader yet. `path` indexes [`crate::Program::paths`].
    FifoNoReader { pipe: u32, path: u32 },
    /// `wait`/`waitpid` with children that have nothing to report yet.
    Child { target: Option<Pid> },
    /// `pause`: until a signal arrives.
    Signal,
}

/// What a completed system call gave back to the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallResult {
    /// A plain return value (`write` returns a count, `close` returns 0, ...).
    Value { value: i32 },
    /// The call failed: it returned -1 with this errno.
    Error { errno: Errno },
    /// `read` returned `len` bytes, kept in the trace's data arena at `offset`.
    Data { offset: u32, len: u32 },
    /// `pipe`/`pipe2` filled in these two descriptors.
    Pipe { read_fd: i32, write_fd: i32 },
    /// `fork` returned the child's pid in the parent.
    Fork { child: Pid },
    /// `wait`/`waitpid` reported a child.
    Waited { child: Pid, status: ChildStatus },
}

impl CallResult {
    /// The number the call returned, as C sees it (-1 on error).
    pub fn return_value(&self) -> i64 {
        match *self {
            CallResult::Value { value } => value as i64,
            CallResult::Error { .. } => -1,
            CallResult::Data { len, .. } => len as i64,
            CallResult::Pipe { .. } => 0,
            CallResult::Fork { child } => child as i64,
            CallResult::Waited { child, .. } => child as i64,
        }
    }
}

/// The direction of a copy between a process and the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyDirection {
    UserToKernel,
    KernelToUser,
}

/// What happened to a signal at its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalEffect {
    /// Ignored (explicitly, or by default as `SIGCHLD` is) and discarded.
    Ignored,
    /// Left pending: the target is stopped and the signal's action waits for `SIGCONT`.
    Pending,
    /// The target is terminated (the default action of most signals).
    Terminated,
    /// The target is terminated; the default action asks for a core dump (none is written).
    TerminatedCore,
    /// The target stops.
    Stopped,
    /// The target continues after a stop.
    Continued,
    /// Nothing to do: the target is already in that state, or already dead.
    NoEffect,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every process has exited (zombies included).
    AllExited,
    /// Every living process is blocked or stopped; nobody can make progress.
    Deadlock { waiting: Vec<WaitEdge> },
    /// The run reached its step limit.
    StepLimit { steps: u64 },
    /// A resource limit of the simulator was reached (see [`crate::Limits`]).
    LimitReached { limit: String, detail: String },
}

impl RunOutcome {
    pub fn name(&self) -> &'static str {
        match self {
            RunOutcome::AllExited => "all-exited",
            RunOutcome::Deadlock { .. } => "deadlock",
            RunOutcome::StepLimit { .. } => "step-limit",
            RunOutcome::LimitReached { .. } => "limit-reached",
        }
    }
}

/// One edge of a deadlock: who waits, on what, and for whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitEdge {
    pub pid: Pid,
    /// `None` when the process is stopped rather than blocked.
    pub reason: Option<BlockReason>,
    /// The processes that could end the wait (for example, those holding a pipe's write end).
    pub waits_for: Vec<Pid>,
}

/// What an expectation asked for and what the run gave instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    pub expected: String,
    pub got: String,
}

/// One thing that happened. `step` is the step it happened in (0 before the first step).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub step: u32,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A top-level process starts (a child of `init`).
    Spawn { pid: Pid },
    /// The CPU moves from one process to another.
    Switch { from: Option<Pid>, to: Pid },
    /// A system call completed. `op` indexes the program; `fd` is the descriptor operand (or -1) and
    /// `arg` a second operand (the new descriptor of `dup2`, the target pid of `kill`/`waitpid`, or -1).
    Call { pid: Pid, op: u32, fd: i32, arg: i64, result: CallResult },
    /// A system call could not finish and the process went to sleep.
    Block { pid: Pid, op: u32, fd: i32, reason: BlockReason },
    /// A sleeping process became runnable again; it retries its call when next scheduled.
    Wake { pid: Pid, by: Pid },
    /// Bytes copied between a process's memory and a kernel buffer.
    Copy { pid: Pid, direction: CopyDirection, bytes: u32, object: Object, used_bytes: u32, capacity_bytes: u32 },
    /// `fork` created a child.
    Fork { parent: Pid, child: Pid },
    /// A signal was generated for a process.
    Signal { from: Pid, to: Pid, signal: Signal, effect: SignalEffect },
    /// A process ended and is now a zombie until its parent reaps it.
    Exit { pid: Pid, status: ChildStatus },
    /// A parent (or `init`) collected a zombie.
    Reap { pid: Pid, by: Pid },
    /// A process's parent died and `init` adopted it.
    Reparent { pid: Pid, new_parent: Pid },
    /// A `write` ended early because a signal arrived after some bytes were written.
    Interrupted { pid: Pid, op: u32, signal: Signal },
    /// An expectation written in the scenario did not hold. `op` is the operation, or `u32::MAX`.
    ExpectFailed { pid: Pid, op: u32, mismatch: Box<Mismatch> },
    /// The run ended.
    End { outcome: Box<RunOutcome> },
}

impl EventKind {
    /// Whether the event holds memory of its own (a boxed text), which dropping it frees.
    pub fn owns_memory(&self) -> bool {
        match self {
            EventKind::ExpectFailed { .. } | EventKind::End { .. } => true,
            EventKind::Spawn { .. }
            | EventKind::Switch { .. }
            | EventKind::Call { .. }
            | EventKind::Block { .. }
            | EventKind::Wake { .. }
            | EventKind::Copy { .. }
            | EventKind::Fork { .. }
            | EventKind::Signal { .. }
            | EventKind::Exit { .. }
            | EventKind::Reap { .. }
            | EventKind::Reparent { .. }
            | EventKind::Interrupted { .. } => false,
        }
    }
}

/// A fast, platform-independent 64-bit hash over fixed-width words (not cryptographic: it detects
/// differences between traces, it does not resist an attacker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHasher {
    state: u64,
}

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher { state: 0x243f_6a88_85a3_08d3 }
    }
}

impl TraceHasher {
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

    #[inline]
    pub fn word(&mut self, word: u64) {
        self.state = (self.state.rotate_left(23) ^ word).wrapping_mul(Self::MULTIPLIER);
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.word(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8 bytes")));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.word(u64::from_le_bytes(tail));
    }

    pub fn finish(&self) -> u64 {
        // One last avalanche so that nearby states give unrelated hashes.
        let mut value = self.state;
        value ^= value >> 33;
        value = value.wrapping_mul(0xff51_afd7_ed55_8ccd);
        value ^= value >> 33;
        value
    }
}

/// Hashes a byte stream eight bytes at a time, carrying a partial word between calls, so that the
/// result depends only on the bytes and not on how they were cut into calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamHasher {
    hasher: TraceHasher,
    carry: u64,
    carry_len: u32,
    total: u64,
}

impl StreamHasher {
    pub fn feed(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        while self.carry_len != 0 && !bytes.is_empty() {
            self.carry |= (bytes[0] as u64) << (8 * self.carry_len);
            self.carry_len += 1;
            bytes = &bytes[1..];
            if self.carry_len == 8 {
                self.hasher.word(self.carry);
                self.carry = 0;
                self.carry_len = 0;
            }
        }
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.hasher.word(u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8 bytes")));
        }
        for byte in chunks.remainder() {
            self.carry |= (*byte as u64) << (8 * self.carry_len);
            self.carry_len += 1;
        }
    }

    pub fn finish(&self) -> TraceHasher {
        let mut hasher = self.hasher;
        hasher.word(self.carry);
        hasher.word(self.total);
        hasher
    }
}

/// The recorded trace: events, the bytes that `read` calls returned, and the hash of both.
///
/// Every event is encoded as in [`crate::packed`], whatever is kept; the trace hash is the hash of that
/// byte stream, of the bytes reads returned, and of the text of the rare events that carry text. The
/// encoded bytes are hashed in bulk, a chunk of the log at a time, which is what makes recording cheap.
#[derive(Clone, Debug)]
pub struct Trace {
    pub events: Vec<Event>,
    /// Every byte returned by a `read`, in order; [`CallResult::Data`] points into it.
    pub data: Vec<u8>,
    /// When false, events are hashed and counted but not stored as [`Event`] values (for very long runs).
    pub keep_events: bool,
    /// Every event, encoded: kept for a packed trace, otherwise hashed and forgotten.
    log: crate::packed::PackedLog,
    /// Hash of the bytes reads returned, and of the text of failed expectations and run endings.
    data_hash: TraceHasher,
    text_hash: TraceHasher,
    /// Bytes returned by reads so far (the arena's length when it is kept).
    data_len: u64,
}

/// Where a trace stood, to roll it back after stepping backwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceMark {
    log: crate::packed::PackedMark,
    events: usize,
    data: usize,
    data_len: u64,
    data_hash: TraceHasher,
    text_hash: TraceHasher,
}

impl Trace {
    fn with_log(keep_events: bool, log: crate::packed::PackedLog) -> Trace {
        Trace {
            events: Vec::new(),
            data: Vec::new(),
            keep_events,
            log,
            data_hash: TraceHasher::default(),
            text_hash: TraceHasher::default(),
            data_len: 0,
        }
    }

    pub fn new(keep_events: bool) -> Trace {
        Trace::with_log(keep_events, crate::packed::PackedLog::hashing_only())
    }

    /// A trace that stores every event in a [`crate::packed::PackedLog`] (and every byte reads return).
    pub fn new_packed() -> Trace {
        Trace::with_log(false, crate::packed::PackedLog::keeping())
    }

    /// The packed log of a trace made with [`Trace::new_packed`].
    pub fn packed(&self) -> Option<&crate::packed::PackedLog> {
        Some(&self.log).filter(|log| log.keeps_events())
    }

    /// Number of events recorded (also when `keep_events` is off).
    pub fn event_count(&self) -> u64 {
        self.log.len()
    }

    /// Whether the bytes returned by reads are kept (they are whenever events are stored in some form).
    pub fn keeps_data(&self) -> bool {
        self.keep_events || self.log.keeps_events()
    }

    pub fn hash(&self) -> u64 {
        let mut hasher = self.log.stream_hash().finish();
        hasher.word(self.data_hash.finish());
        hasher.word(self.text_hash.finish());
        hasher.finish()
    }

    pub fn mark(&self) -> TraceMark {
        TraceMark {
            log: self.log.mark(),
            events: self.events.len(),
            data: self.data.len(),
            data_len: self.data_len,
            data_hash: self.data_hash,
            text_hash: self.text_hash,
        }
    }

    pub fn rewind(&mut self, mark: &TraceMark) {
        self.log.rewind(&mark.log);
        self.events.truncate(mark.events);
        self.data.truncate(mark.data);
        self.data_len = mark.data_len;
        self.data_hash = mark.data_hash;
        self.text_hash = mark.text_hash;
    }

    /// The bytes of a `read` result.
    pub fn read_data(&self, offset: u32, len: u32) -> &[u8] {
        let start = offset as usize;
        self.data.get(start..start + len as usize).unwrap_or(&[])
    }

    /// Bytes returned by reads so far.
    pub fn data_len(&self) -> u64 {
        self.data_len
    }

    /// Stores the bytes a `read` returned and gives the result that points at them. The kernel keeps
    /// the total under [`crate::Limits::max_trace_data_bytes`], so offsets fit in 32 bits.
    pub fn record_data(&mut self, bytes: &[u8]) -> CallResult {
        self.data_hash.bytes(bytes);
        let offset = self.data_len as u32;
        self.data_len += bytes.len() as u64;
        if self.keeps_data() {
            self.data.extend_from_slice(bytes);
        }
        CallResult::Data { offset, len: bytes.len() as u32 }
    }

    /// Records one event: it is encoded (and kept in the form asked for) and its bytes join the hash.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub fn record(&mut self, event: Event) {
        match &event.kind {
            EventKind::ExpectFailed { mismatch, .. } => {
                self.text_hash.bytes(mismatch.expected.as_bytes());
                self.text_hash.bytes(mismatch.got.as_bytes());
            }
            EventKind::End { outcome } => hash_outcome(&mut self.text_hash, outcome),
            _ => {}
        }
        self.log.push(&event);
        if self.keep_events {
            self.keep(event);
        } else if event.kind.owns_memory() {
            drop(event);
        } else {
            // At each call site the kind is known, so this costs nothing, where a drop would be a call
            // that looks at the kind again; and there is nothing to free.
            std::mem::forget(event);
        }
    }

    /// Stores an event as an [`Event`] value. Out of line, so that a run that does not keep its events
    /// never lays them out in memory.
    #[inline(never)]
    fn keep(&mut self, event: Event) {
        self.events.push(event);
    }
}

fn hash_outcome(hasher: &mut TraceHasher, outcome: &RunOutcome) {
    match outcome {
        RunOutcome::Deadlock { waiting } => {
            for edge in waiting {
                hasher.word(edge.pid as u64);
                hasher.word(edge.waits_for.len() as u64);
                for pid in &edge.waits_for {
                    hasher.word(*pid as u64);
                }
                let mut reason = crate::packed::PackedLog::keeping();
                if let Some(block) = &edge.reason {
                    reason.push(&Event {
                        step: 0,
                        kind: EventKind::Block { pid: 0, op: 0, fd: 0, reason: block.clone() },
                    });
                }
                hasher.bytes(&reason.chunks().flatten().copied().collect::<Vec<u8>>());
            }
        }
        RunOutcome::StepLimit { steps } => hasher.word(*steps),
        RunOutcome::LimitReached { limit, detail } => {
            hasher.bytes(limit.as_bytes());
            hasher.bytes(detail.as_bytes());
        }
        RunOutcome::AllExited => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_byte_and_on_order() {
        let mut first = TraceHasher::default();
        first.bytes(b"hello world, this is a pipe");
        let mut second = TraceHasher::default();
        second.bytes(b"hello world, this is a pipf");
        assert_ne!(first.finish(), second.finish());
        let mut a_then_b = TraceHasher::default();
        a_then_b.word(1);
        a_then_b.word(2);
        let mut b_then_a = TraceHasher::default();
        b_then_a.word(2);
        b_then_a.word(1);
        assert_ne!(a_then_b.finish(), b_then_a.finish());
    }

    #[test]
    fn rewind_restores_hash_and_events() {
        let mut trace = Trace::new(true);
        trace.record(Event { step: 1, kind: EventKind::Spawn { pid: 2 } });
        let mark = trace.mark();
        let hash_at_mark = trace.hash();
        trace.record_data(b"abc");
        trace.record(Event { step: 2, kind: EventKind::Spawn { pid: 3 } });
        assert_ne!(trace.hash(), hash_at_mark);
        trace.rewind(&mark);
        assert_eq!(trace.hash(), hash_at_mark);
        assert_eq!(trace.events.len(), 1);
        assert!(trace.data.is_empty());
    }

    #[test]
    fn a_packed_trace_gives_back_exactly_the_events_it_was_given() {
        let events = vec![
            Event { step: 0, kind: EventKind::Spawn { pid: 2 } },
            Event { step: 1, kind: EventKind::Switch { from: None, to: 2 } },
            Event {
                step: 1,
                kind: EventKind::Call { pid: 2, op: 0, fd: -1, arg: -300, result: CallResult::Value { value: -7 } },
            },
            Event {
                step: 9,
                kind: EventKind::Block {
                    pid: 3,
                    op: 4,
                    fd: 3,
                    reason: BlockReason::PipeFull { pipe: 1, written: 57344 },
                },
            },
            Event {
                step: 9,
                kind: EventKind::ExpectFailed {
                    pid: 0,
                    op: u32::MAX,
                    mismatch: Box::new(Mismatch { expected: "a".into(), got: "b".into() }),
                },
            },
            Event { step: 10, kind: EventKind::End { outcome: Box::new(RunOutcome::StepLimit { steps: 10 }) } },
        ];
        let mut trace = Trace::new_packed();
        for event in &events {
            trace.record(event.clone());
        }
        let packed = trace.packed().unwrap();
        assert_eq!(packed.events().collect::<Vec<_>>(), events);
        let mark = trace.mark();
        trace.record(Event { step: 11, kind: EventKind::Spawn { pid: 9 } });
        trace.rewind(&mark);
        assert_eq!(trace.packed().unwrap().events().count(), events.len());
    }

    #[test]
    fn hash_is_the_same_whether_events_are_kept_or_not() {
        let mut kept = Trace::new(true);
        let mut counted = Trace::new(false);
        for trace in [&mut kept, &mut counted] {
            trace.record(Event { step: 1, kind: EventKind::Spawn { pid: 2 } });
            trace.record_data(b"ping");
        }
        assert_eq!(kept.hash(), counted.hash());
        assert_eq!(counted.event_count(), 1);
        assert!(counted.events.is_empty());
    }
}
