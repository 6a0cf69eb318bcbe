//! The trace of a run: its events, the bytes its reads returned, and the hash of both.
//!
//! [`event`] defines the events, [`packed`] their compact canonical encoding, and [`hash`] the hash.
//! Every event is folded into the trace hash as it is recorded, from that fixed-width encoding, so the
//! hash is the same on every platform and whether events are kept as values, kept packed, or not kept.

pub mod event;
pub mod hash;
pub mod packed;

pub use event::*;
pub use hash::{StateHasher, StreamHasher, TraceHasher};

/// What one kept event counts for in the memory budget, on every platform (about its size as an
/// [`Event`] on a 64-bit machine, heap parts aside).
pub const EVENT_BYTES: u64 = 96;

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
    log: packed::PackedLog,
    /// Hash of the bytes reads returned, and of the text of failed expectations and run endings.
    data_hash: TraceHasher,
    text_hash: TraceHasher,
    /// Bytes returned by reads so far (the arena's length when it is kept).
    data_len: u64,
}

/// Where a trace stood, to roll it back after stepping backwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceMark {
    log: packed::PackedMark,
    events: usize,
    data: usize,
    data_len: u64,
    data_hash: TraceHasher,
    text_hash: TraceHasher,
}

impl Trace {
    fn with_log(keep_events: bool, log: packed::PackedLog) -> Trace {
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
        Trace::with_log(keep_events, packed::PackedLog::hashing_only())
    }

    /// A trace that stores every event in a [`packed::PackedLog`] (and every byte reads return).
    pub fn new_packed() -> Trace {
        Trace::with_log(false, packed::PackedLog::keeping())
    }

    /// The packed log of a trace made with [`Trace::new_packed`].
    pub fn packed(&self) -> Option<&packed::PackedLog> {
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

    /// Bytes the trace holds for the memory budget: kept events at [`EVENT_BYTES`] each, the packed
    /// log, and the bytes reads returned.
    pub fn held_bytes(&self) -> u64 {
        let packed = self.packed().map_or(0, |log| log.size_bytes());
        self.events.len() as u64 * EVENT_BYTES + packed + self.data.len() as u64
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
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn record_data(&mut self, bytes: &[u8]) -> CallResult {
        self.data_hash.bytes(bytes);
        let offset = self.data_len as u32;
        self.data_len += bytes.len() as u64;
        if self.keeps_data() {
            append_data(&mut self.data, bytes);
        }
        CallResult::Data { offset, len: bytes.len() as u32 }
    }

    /// Records one event: it is encoded (and kept in the form asked for) and its bytes join the hash.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn record(&mut self, event: Event) {
        match &event.kind {
            EventKind::ExpectFailed { mismatch, .. } => {
                self.text_hash.bytes(mismatch.expected.as_bytes());
                self.text_hash.bytes(mismatch.got.as_bytes());
                self.text_hash.word(((mismatch.span.line as u64) << 32) | mismatch.span.col as u64);
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

    /// Records a `Call` event from its parts: the same as [`Trace::record`] of that event, without laying
    /// the event out unless it is kept.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn record_call(&mut self, step: u32, pid: Pid, op: u32, args: &Args, result: CallResult) {
        self.log.push_call(step, pid, op, args, &result);
        if self.keep_events {
            self.keep(Event { step, kind: EventKind::Call { pid, op, args: *args, result } });
        }
    }

    /// Records a `Switch` event from its parts, like [`Trace::record_call`].
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn record_switch(&mut self, step: u32, from: Option<Pid>, to: Pid) {
        self.log.push_switch(step, from, to);
        if self.keep_events {
            self.keep(Event { step, kind: EventKind::Switch { from, to } });
        }
    }

    /// Records a `Wake` event from its parts, like [`Trace::record_call`].
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn record_wake(&mut self, step: u32, pid: Pid, by: Pid, cause: WakeCause) {
        self.log.push_wake(step, pid, by, &cause);
        if self.keep_events {
            self.keep(Event { step, kind: EventKind::Wake { pid, by, cause } });
        }
    }

    /// Records a `Copy` event from its parts, like [`Trace::record_call`].
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn record_copy(&mut self, step: u32, copy: Copied) {
        self.log.push_copy(step, &copy);
        if self.keep_events {
            self.keep(Event { step, kind: copy.kind() });
        }
    }

    /// Records a `Block` event from its parts, like [`Trace::record_call`].
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn record_block(&mut self, step: u32, pid: Pid, op: u32, args: &Args, reason: &BlockReason) {
        self.log.push_block(step, pid, op, args, reason);
        if self.keep_events {
            self.keep(Event { step, kind: EventKind::Block { pid, op, args: *args, reason: reason.clone() } });
        }
    }

    /// Stores an event as an [`Event`] value. Out of line, so that a run that does not keep its events
    /// never lays them out in memory.
    #[inline(never)]
    fn keep(&mut self, event: Event) {
        self.events.push(event);
    }
}

/// Appends a read's bytes to the trace's data. A function of its own, as `extend_from_slice` is too: the
/// step loop that calls it stays as small, and 4 to 8 bytes are copied without a call to `memcpy`.
#[inline(never)]
fn append_data(data: &mut Vec<u8>, bytes: &[u8]) {
    crate::bytes::extend_bytes(data, bytes);
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
                let mut reason = packed::PackedLog::keeping();
                if let Some(block) = &edge.reason {
                    reason.push(&Event {
                        step: 0,
                        kind: EventKind::Block { pid: 0, op: 0, args: Args::default(), reason: block.clone() },
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
    fn rewind_restores_hash_and_events() {
        let mut trace = Trace::new(true);
        trace.record(Event { step: 1, kind: EventKind::Spawn { pid: 2, index: 0 } });
        let mark = trace.mark();
        let hash_at_mark = trace.hash();
        trace.record_data(b"abc");
        trace.record(Event { step: 2, kind: EventKind::Spawn { pid: 3, index: 1 } });
        assert_ne!(trace.hash(), hash_at_mark);
        trace.rewind(&mark);
        assert_eq!(trace.hash(), hash_at_mark);
        assert_eq!(trace.events.len(), 1);
        assert!(trace.data.is_empty());
    }

    #[test]
    fn hash_is_the_same_whether_events_are_kept_or_not() {
        let mut kept = Trace::new(true);
        let mut counted = Trace::new(false);
        let mut packed = Trace::new_packed();
        for trace in [&mut kept, &mut counted, &mut packed] {
            trace.record(Event { step: 1, kind: EventKind::Spawn { pid: 2, index: 0 } });
            trace.record_data(b"ping");
        }
        assert_eq!(kept.hash(), counted.hash());
        assert_eq!(kept.hash(), packed.hash());
        assert_eq!(counted.event_count(), 1);
        assert!(counted.events.is_empty());
    }
}
