//! A compact log of events: every event of a run, stored in a few bytes each.
//!
//! A long run (a benchmark's millions of steps) produces tens of millions of events; as [`Event`] values
//! they need dozens of bytes each. The packed log stores the same events as a byte stream that starts
//! with [`PACKED_FORMAT_VERSION`]: then, per event, the step as a delta from the previous event and a
//! tag (sharing one head byte: five bits of tag, three of delta), and each field as a LEB128
//! variable-length integer (signed values zigzag-encoded). What the decoder can work out is left out: a
//! read's offset in the data arena (reads fill it in order) and a pipe's capacity in bytes (stored in
//! pages). An event whose bytes are the same as those of an earlier one, as the events of a loop are,
//! is stored as a two-byte reference to a small dictionary of recent events that encoder and decoder
//! keep alike. The rare events that carry text (failed expectations, the end of the run) keep that part
//! in side tables. [`PackedLog::events`] gives back exactly the events that went in; the decoder has an
//! arm for every tag and stops with a message at any byte it does not know.
//!
//! The bytes live in fixed-size chunks that never move once full; each is hashed as it fills. A log that
//! only hashes reuses one small chunk and keeps nothing.

use super::event::{
    Args, BlockReason, CallInterrupted, CallResult, Copied, CopyDirection, Delivery, Event, EventKind, LastEnd,
    Mismatch, ObjectKind, ObjectRef, Pid, ReapCause, RightsMove, RunOutcome, SignalEffect, SignalOrigin, WakeCause,
    MAX_ARGS,
};
use super::hash::StreamHasher;
use crate::linux::{wait, ChildStatus, Errno, Signal};

/// A log that keeps its bytes stores them in chunks of this size; no event straddles two chunks, so a
/// full chunk never moves and the log grows without copying what it holds.
const CHUNK_BYTES: usize = 1 << 20;
/// A log that only hashes reuses one chunk of this size, hashing its bytes each time it fills.
const HASH_ONLY_CHUNK_BYTES: usize = 4096;
/// Slots in the dictionary of recent events (a reference names one in a byte).
const DICTIONARY_SLOTS: usize = 256;
/// The head tag of a reference to the dictionary: `[REPEAT_TAG, slot]`.
const REPEAT_TAG: u8 = 30;
/// A head tag kept for a second tag byte, should thirty kinds of event ever not be enough.
const EXTENDED_TAG: u8 = 31;
/// The largest step delta the head byte holds; a larger one follows the head as a varint.
const HEAD_DELTA_LIMIT: u32 = 7;
/// The first byte of every packed stream: the version of this encoding. Version 1 (a 4-bit tag, a
/// 4-bit delta and two operands per call) was never stored outside a run.
pub const PACKED_FORMAT_VERSION: u8 = 2;
/// Events of this many bytes go into the dictionary: shorter ones gain nothing, longer ones are rare.
const DICTIONARY_LENGTHS: std::ops::RangeInclusive<usize> = 3..=7;

/// The dictionary key of an event's bytes: the bytes, little-endian, with the length in the top byte.
#[cfg_attr(not(feature = "small"), inline(always))]
fn dictionary_key(first_eight: [u8; 8], length: usize) -> u64 {
    (u64::from_le_bytes(first_eight) & ((1u64 << (8 * length)) - 1)) | (length as u64) << 56
}

/// The dictionary is two-way set-associative: a key's hash chooses a set of two slots, so that two
/// recurring events whose hashes meet (as one in a few hundred pairs do) do not keep evicting each other.
#[cfg_attr(not(feature = "small"), inline(always))]
fn dictionary_set(key: u64) -> usize {
    ((key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 57) as usize) * 2
}

/// The slot that holds `key`, if one does; otherwise `key` goes first in its set, the one it replaces
/// second, and the older second is forgotten. The decoder makes the same insertion for each literal
/// event, so both sides' dictionaries stay alike.
#[cfg_attr(not(feature = "small"), inline(always))]
fn dictionary_find_or_insert(dictionary: &mut [u64; DICTIONARY_SLOTS], key: u64) -> Option<u8> {
    let set = dictionary_set(key);
    if dictionary[set] == key {
        return Some(set as u8);
    }
    if dictionary[set + 1] == key {
        return Some(set as u8 + 1);
    }
    dictionary[set + 1] = dictionary[set];
    dictionary[set] = key;
    None
}

/// The first chunk starts this small and doubles up to its limit (most runs are short).
const FIRST_CHUNK_BYTES: usize = 4096;

/// A full chunk of a log that keeps its bytes.
#[derive(Clone, Debug)]
struct Sealed {
    /// Exactly the encoded bytes of the chunk's events.
    bytes: Vec<u8>,
    /// The stream position of its first byte.
    start: u64,
    /// The hash of the stream before it, to roll back into it.
    hash_before: StreamHasher,
}

/// The encoding of a run's events, kept (a packed trace) or only hashed (the trace hash of any run).
/// Either way [`PackedLog::stream_hash`] is the hash of every encoded byte, cut-independent.
#[derive(Clone, Debug)]
pub struct PackedLog {
    keep: bool,
    sealed: Vec<Sealed>,
    /// The chunk being filled. Its length is its allocated size (zeroed when allocated); only
    /// `current[..used]` holds events.
    current: Vec<u8>,
    used: usize,
    /// The stream position of `current[0]`.
    base: u64,
    /// The hash of the stream before `current[0]`.
    hash: StreamHasher,
    /// Recent events by the hash of their bytes (0 marks an empty slot: no key has length 0).
    dictionary: Box<[u64; DICTIONARY_SLOTS]>,
    mismatches: Vec<Mismatch>,
    outcomes: Vec<RunOutcome>,
    last_step: u32,
    count: u64,
    /// The end of the reads' data so far: the offset the next read's result must carry.
    data_end: u32,
}

/// Where a packed log stood, to roll it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedMark {
    position: u64,
    /// The stream hash at the mark, for a log that does not keep the bytes to hash again.
    hash: Option<StreamHasher>,
    dictionary: Box<[u64; DICTIONARY_SLOTS]>,
    mismatches: usize,
    outcomes: usize,
    last_step: u32,
    count: u64,
    data_end: u32,
}

/// The body of every push: room, the step delta, the encoder over a window of the current chunk, then a
/// look-up in the dictionary of recent events. A macro rather than a function taking a closure, so that
/// the encoding of each kind of event is inlined where the kind is known and its `match` folds away.
macro_rules! push_encoded {
    ($log:ident, $step:expr, $side:expr, |$encoder:ident, $delta:ident| $encode:expr) => {{
        let step: u32 = $step;
        if $log.used + MAX_EVENT_BYTES > $log.current.len() {
            $log.make_room();
        }
        let delta = step.wrapping_sub($log.last_step);
        $log.last_step = step;
        $log.count += 1;
        // The encoder writes straight into a window of the chunk whose size is known at compile time:
        // the test for room above is the window's only bounds check, and the bytes need none that
        // cannot be folded.
        // SAFETY: the chunk has `MAX_EVENT_BYTES` bytes from `used` on: the test above found them, or
        // `make_room` asserts them. (`used` is at most the chunk's length, so the sum did not overflow.)
        let window: &mut [u8; MAX_EVENT_BYTES] =
            unsafe { &mut *$log.current.as_mut_ptr().add($log.used).cast::<[u8; MAX_EVENT_BYTES]>() };
        let mut encoder =
            Encoder { out: window, length: 0, dictionary: &mut $log.dictionary, looked_up: false, side_index: $side };
        {
            let $encoder = &mut encoder;
            let $delta = delta;
            $encode;
        }
        let (mut length, looked_up) = (encoder.length, encoder.looked_up);
        if !looked_up && DICTIONARY_LENGTHS.contains(&length) {
            let key = dictionary_key(window[..8].try_into().expect("eight bytes"), length);
            if let Some(slot) = dictionary_find_or_insert(&mut $log.dictionary, key) {
                window[0] = REPEAT_TAG;
                window[1] = slot;
                length = 2;
            }
        }
        $log.used += length;
    }};
}

impl PackedLog {
    /// A log that stores every event it is given.
    pub fn keeping() -> PackedLog {
        PackedLog::new(true)
    }

    /// A log that hashes every event it is given and forgets the bytes.
    pub fn hashing_only() -> PackedLog {
        PackedLog::new(false)
    }

    fn new(keep: bool) -> PackedLog {
        let mut current = vec![0; FIRST_CHUNK_BYTES];
        current[0] = PACKED_FORMAT_VERSION;
        PackedLog {
            keep,
            sealed: Vec::new(),
            current,
            used: 1,
            base: 0,
            hash: StreamHasher::default(),
            dictionary: Box::new([0; DICTIONARY_SLOTS]),
            mismatches: Vec::new(),
            outcomes: Vec::new(),
            last_step: 0,
            count: 0,
            data_end: 0,
        }
    }

    /// Whether the encoded events are kept (and [`PackedLog::events`] gives them back).
    pub fn keeps_events(&self) -> bool {
        self.keep
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of the encoded stream so far (side tables excluded); for a keeping log, the bytes it stores.
    pub fn size_bytes(&self) -> u64 {
        self.base + self.used as u64
    }

    /// The hash of the whole encoded stream so far.
    pub fn stream_hash(&self) -> StreamHasher {
        let mut hash = self.hash;
        hash.feed(&self.current[..self.used]);
        hash
    }

    /// The stored bytes, chunk by chunk (for a log that does not keep its events, only the latest part).
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.sealed.iter().map(|chunk| chunk.bytes.as_slice()).chain(std::iter::once(&self.current[..self.used]))
    }

    pub fn mark(&self) -> PackedMark {
        PackedMark {
            position: self.size_bytes(),
            hash: if self.keep { None } else { Some(self.stream_hash()) },
            dictionary: self.dictionary.clone(),
            mismatches: self.mismatches.len(),
            outcomes: self.outcomes.len(),
            last_step: self.last_step,
            count: self.count,
            data_end: self.data_end,
        }
    }

    /// Goes back to a mark taken earlier from this log.
    pub fn rewind(&mut self, mark: &PackedMark) {
        match mark.hash {
            Some(hash) => {
                // The bytes before the mark are gone: start an empty chunk at the mark.
                self.base = mark.position;
                self.used = 0;
                self.hash = hash;
            }
            None => {
                if mark.position < self.base {
                    let index = self.sealed.partition_point(|chunk| chunk.start <= mark.position) - 1;
                    let chunk = self.sealed.swap_remove(index);
                    self.sealed.truncate(index);
                    let size = chunk.bytes.capacity().max(chunk.bytes.len());
                    self.current = chunk.bytes;
                    self.current.resize(size, 0);
                    self.base = chunk.start;
                    self.hash = chunk.hash_before;
                }
                self.used = (mark.position - self.base) as usize;
            }
        }
        self.dictionary.copy_from_slice(&mark.dictionary[..]);
        self.mismatches.truncate(mark.mismatches);
        self.outcomes.truncate(mark.outcomes);
        self.last_step = mark.last_step;
        self.count = mark.count;
        self.data_end = mark.data_end;
    }

    /// Appends one event. Steps never go backwards within a run, and reads' results point at the data
    /// arena in order (as [`crate::Trace::record_data`] hands them out).
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn push(&mut self, event: &Event) {
        if let EventKind::Call { result, .. } = &event.kind {
            if let Some((offset, len)) = data_of(result) {
                debug_assert_eq!(offset, self.data_end, "read results are logged in the order of the data arena");
                self.data_end = offset + len;
            }
        }
        // The text of the rare events that carry some goes to the side tables; the event stores its index.
        let side_index = match &event.kind {
            EventKind::ExpectFailed { mismatch, .. } => {
                self.mismatches.push((**mismatch).clone());
                self.mismatches.len() as u64 - 1
            }
            EventKind::End { outcome } => {
                self.outcomes.push((**outcome).clone());
                self.outcomes.len() as u64 - 1
            }
            _ => 0,
        };
        push_encoded!(self, event.step, side_index, |encoder, delta| encoder.event(delta, &event.kind));
    }

    /// Appends a `Call` event given by its parts: the same bytes as [`PackedLog::push`] of that event,
    /// without laying the event out first (the hot path of every run).
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn push_call(&mut self, step: u32, pid: Pid, op: u32, args: &Args, result: &CallResult) {
        if let Some((offset, len)) = data_of(result) {
            debug_assert_eq!(offset, self.data_end, "read results are logged in the order of the data arena");
            self.data_end = offset + len;
        }
        push_encoded!(self, step, 0, |encoder, delta| encoder.call(delta, pid, op, args, result));
    }

    /// Appends a `Switch` event given by its parts, like [`PackedLog::push_call`].
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn push_switch(&mut self, step: u32, from: Option<Pid>, to: Pid) {
        push_encoded!(self, step, 0, |encoder, delta| encoder.switch(delta, from, to));
    }

    /// Appends a `Wake` event given by its parts, like [`PackedLog::push_call`].
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn push_wake(&mut self, step: u32, pid: Pid, by: Pid, cause: &WakeCause) {
        push_encoded!(self, step, 0, |encoder, delta| encoder.wake(delta, pid, by, cause));
    }

    /// Appends a `Copy` event given by its parts, like [`PackedLog::push_call`].
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn push_copy(&mut self, step: u32, copy: &Copied) {
        push_encoded!(self, step, 0, |encoder, delta| encoder.copy(delta, copy));
    }

    /// Appends a `Block` event given by its parts, like [`PackedLog::push_call`].
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn push_block(&mut self, step: u32, pid: Pid, op: u32, args: &Args, reason: &BlockReason) {
        push_encoded!(self, step, 0, |encoder, delta| encoder.block(delta, pid, op, args, reason));
    }

    /// Grows the first chunk, or hashes the full one and starts the next.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) {
        let limit = if self.keep { CHUNK_BYTES } else { HASH_ONLY_CHUNK_BYTES };
        if self.current.len() < limit {
            let size = (self.current.len() * 2).clamp(FIRST_CHUNK_BYTES, limit);
            self.current.resize(size, 0);
        } else {
            let hash_before = self.hash;
            self.hash.feed(&self.current[..self.used]);
            if self.keep {
                let mut bytes = std::mem::replace(&mut self.current, vec![0; CHUNK_BYTES]);
                bytes.truncate(self.used);
                self.sealed.push(Sealed { bytes, start: self.base, hash_before });
            }
            self.base += self.used as u64;
            self.used = 0;
        }
        // The window of the next event (see `push_encoded!`) relies on this.
        assert!(self.used + MAX_EVENT_BYTES <= self.current.len(), "a packed chunk has room for an event");
    }

    /// Every event, in order, as it was pushed (nothing for a log that does not keep its events).
    pub fn events(&self) -> PackedEvents<'_> {
        PackedEvents {
            log: self,
            chunk: 0,
            position: 1,
            step: 0,
            data_offset: 0,
            dictionary: Box::new([0; DICTIONARY_SLOTS]),
            replay: None,
            done: !self.keep,
        }
    }

    fn chunk(&self, index: usize) -> Option<&[u8]> {
        match index.cmp(&self.sealed.len()) {
            std::cmp::Ordering::Less => Some(&self.sealed[index].bytes),
            std::cmp::Ordering::Equal => Some(&self.current[..self.used]),
            std::cmp::Ordering::Greater => None,
        }
    }
}

/// Where a result's bytes lie in the trace's data arena, for the results that have some.
#[cfg_attr(not(feature = "small"), inline(always))]
fn data_of(result: &CallResult) -> Option<(u32, u32)> {
    match *result {
        CallResult::Data { offset, len }
        | CallResult::Message { offset, len, .. }
        | CallResult::Received { offset, len, .. }
        | CallResult::Array { offset, len } => Some((offset, len)),
        _ => None,
    }
}

/// No event encodes to more bytes than this: the largest, a call, is a head (and a delta of up to 5
/// bytes), three 32-bit varints (5 bytes each), six zigzagged 64-bit operands and a 64-bit result
/// (10 bytes each).
const MAX_EVENT_BYTES: usize = 128;

/// Writes one event's bytes; the text of rare events goes to the log's side tables.
struct Encoder<'a> {
    out: &'a mut [u8; MAX_EVENT_BYTES],
    length: usize,
    dictionary: &'a mut [u64; DICTIONARY_SLOTS],
    /// Set once the event has been looked up in the dictionary (by [`Encoder::whole`]).
    looked_up: bool,
    /// Where the text of a failed expectation or a run's end goes in the side tables.
    side_index: u64,
}

impl Encoder<'_> {
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn byte(&mut self, byte: u8) {
        self.out[self.length] = byte;
        self.length += 1;
    }

    /// LEB128: most values (pids, descriptors, step deltas) are below 128 and take one byte.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn put(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.byte((value as u8) | 0x80);
            value >>= 7;
        }
        self.byte(value as u8);
    }

    fn put_status(&mut self, status: ChildStatus) {
        self.put(wait::encode(status) as u32 as u64);
    }

    /// The first byte of every event: its tag in the low five bits and the step delta in the high three
    /// (7 there means the delta follows as a varint). Most events happen in the step of the one before
    /// or the next, so this is usually the whole of both.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn head(&mut self, tag: u8, delta: u32) {
        if delta < HEAD_DELTA_LIMIT {
            self.byte(tag | (delta as u8) << 5);
        } else {
            self.byte(tag | (HEAD_DELTA_LIMIT as u8) << 5);
            self.put(delta as u64);
        }
    }

    /// The head byte and the first fields of an event. In the usual case (a delta below 7, every field
    /// below 128) that is one byte each, written at positions known at compile time.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn first<const N: usize>(&mut self, tag: u8, delta: u32, fields: [u64; N]) {
        if delta < HEAD_DELTA_LIMIT && fields.iter().fold(0, |all, value| all | value) < 0x80 {
            let out: &mut [u8; MAX_EVENT_BYTES] = self.out;
            out[0] = tag | (delta as u8) << 5;
            for (index, value) in fields.into_iter().enumerate() {
                out[1 + index] = value as u8;
            }
            self.length = 1 + N;
        } else {
            self.head(tag, delta);
            for value in fields {
                self.put(value);
            }
        }
    }

    /// A whole event of a head and `N` fields. In the usual case (a delta below 7, every field below
    /// 128) its bytes are the head and the fields, one byte each: they are put together in a register,
    /// looked up in the dictionary there, and stored with one write. Otherwise it goes the general way,
    /// and [`PackedLog::push`] looks the bytes up afterwards.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn whole<const N: usize>(&mut self, tag: u8, delta: u32, fields: [u64; N]) {
        const { assert!(N < 8) };
        if delta >= HEAD_DELTA_LIMIT || fields.iter().fold(0, |all, value| all | value) >= 0x80 {
            return self.first(tag, delta, fields);
        }
        let length = N + 1;
        let mut bytes = (tag | (delta as u8) << 5) as u64;
        for (index, value) in fields.into_iter().enumerate() {
            bytes |= value << (8 * (index + 1));
        }
        self.looked_up = true;
        self.length = length;
        if DICTIONARY_LENGTHS.contains(&length) {
            let key = bytes | (length as u64) << 56;
            if let Some(slot) = dictionary_find_or_insert(self.dictionary, key) {
                self.out[0] = REPEAT_TAG;
                self.out[1] = slot;
                self.length = 2;
                return;
            }
        }
        // Eight bytes are written whatever the length: the window is larger, and what lies past the
        // event is overwritten by the next one.
        self.out[..8].copy_from_slice(&bytes.to_le_bytes());
    }

    #[cfg_attr(not(feature = "small"), inline(always))]
    fn zigzag(value: i64) -> u64 {
        ((value << 1) ^ (value >> 63)) as u64
    }

    /// An object as one number: the id, then the kind in the low three bits. Kinds 0 to 6 fit there;
    /// 7 is an escape, after which three more bits hold the kind's code minus 7 (so eight more kinds fit
    /// before another escape is needed), and then the id.
    fn object(object: ObjectRef) -> u64 {
        let code = object.kind.code() as u64;
        if code < ESCAPE {
            ((object.id as u64) << 3) | code
        } else {
            ((((object.id as u64) << 3) | (code - ESCAPE)) << 3) | ESCAPE
        }
    }

    /// A `Switch` event: the previous pid plus one (0 for none) and the next.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn switch(&mut self, delta: u32, from: Option<Pid>, to: Pid) {
        self.whole(tags::SWITCH, delta, [from.map_or(0, |pid| pid as u64 + 1), to as u64]);
    }

    /// A `Wake` event: pid, by, and the cause's tag in the low three bits of a field whose rest is the
    /// object (or the child).
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn wake(&mut self, delta: u32, pid: Pid, by: Pid, cause: &WakeCause) {
        let cause = match *cause {
            WakeCause::Data { object } => Self::object(object) << 3,
            WakeCause::Room { object } => Self::object(object) << 3 | 1,
            WakeCause::Hangup { object } => Self::object(object) << 3 | 2,
            WakeCause::Partner { object } => Self::object(object) << 3 | 3,
            WakeCause::Child { child } => (child as u64) << 3 | 4,
            WakeCause::Resize { object } => Self::object(object) << 3 | 5,
            WakeCause::Completed { object } => Self::object(object) << 3 | 6,
            // Cause 7 escapes to three more bits, as object kinds do.
            WakeCause::Removed { object } => (Self::object(object) << 3) << 3 | ESCAPE,
            WakeCause::Changed { object } => (Self::object(object) << 3 | 1) << 3 | ESCAPE,
            WakeCause::Signal { signal } => ((signal.0 as u64) << 3 | 2) << 3 | ESCAPE,
            WakeCause::Timer => 3 << 3 | ESCAPE,
        };
        self.whole(tags::WAKE, delta, [pid as u64, by as u64, cause]);
    }

    /// A `Copy` event: pid, the object with the direction in its low bit, the bytes copied, the bytes
    /// held after, and the capacity in pages.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn copy(&mut self, delta: u32, copy: &Copied) {
        let direction = match copy.direction {
            CopyDirection::UserToKernel => 0,
            CopyDirection::KernelToUser => 1,
        };
        let object = Self::object(copy.object) << 1 | direction;
        let (used, capacity) = (copy.used_bytes as u64, capacity_code(copy.capacity_bytes));
        self.whole(tags::COPY, delta, [copy.pid as u64, object, copy.bytes as u64, used, capacity]);
    }

    /// The general form of a call or a block: the head, pid, op, the operand count with the variant's
    /// tag, and the operands; the variant's own fields follow.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn with_operands(&mut self, tag: u8, delta: u32, head: [u64; 3], args: &Args) {
        self.first(tag, delta, head);
        for value in args.as_slice() {
            self.put(Self::zigzag(*value));
        }
    }

    /// A `Call` event: pid, op, then the operand count and the result's tag in one byte, the operands,
    /// and the result's fields.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn call(&mut self, delta: u32, pid: Pid, op: u32, args: &Args, result: &CallResult) {
        let (pid, op) = (pid as u64, op.wrapping_add(1) as u64);
        let shape = (args.len() as u64) << 4;
        // The common calls have two operands: written with the fixed-size fast path.
        if args.len() == 2 {
            let (first, second) = (Self::zigzag(args.get(0)), Self::zigzag(args.get(1)));
            match *result {
                CallResult::Value { value } => {
                    return self.whole(tags::CALL, delta, [pid, op, shape, first, second, Self::zigzag(value)]);
                }
                // The offset is not stored: reads fill the data arena in order, so each one's offset
                // is the sum of the lengths before it, and the decoder keeps that sum.
                CallResult::Data { len, .. } => {
                    return self.whole(tags::CALL, delta, [pid, op, shape | 2, first, second, len as u64]);
                }
                _ => {}
            }
        }
        let result_tag = match result {
            CallResult::Value { .. } => 0,
            CallResult::Error { .. } => 1,
            CallResult::Data { .. } => 2,
            CallResult::Pair { .. } => 3,
            CallResult::Fork { .. } => 4,
            CallResult::Waited { .. } => 5,
            CallResult::WaitedInfo { .. } => 6,
            CallResult::Out { .. } => 7,
            CallResult::Message { .. } => 8,
            CallResult::Array { .. } => 9,
            CallResult::Received { .. } => 10,
            CallResult::Polled { .. } => 11,
            CallResult::Epolled { .. } => 12,
        };
        self.with_operands(tags::CALL, delta, [pid, op, shape | result_tag], args);
        match *result {
            CallResult::Value { value } | CallResult::Out { value } => self.put(Self::zigzag(value)),
            CallResult::Error { errno } => self.put(errno.0 as u64),
            CallResult::Data { len, .. } => self.put(len as u64),
            CallResult::Pair { read_fd, write_fd } => {
                self.put(Self::zigzag(read_fd as i64));
                self.put(Self::zigzag(write_fd as i64));
            }
            CallResult::Fork { child } => self.put(child as u64),
            CallResult::Waited { child, status } | CallResult::WaitedInfo { child, status } => {
                self.put(child as u64);
                self.put_status(status);
            }
            // As for a read, the offset is not stored.
            CallResult::Message { len, tag, skipped, .. } => {
                self.put(len as u64);
                self.put(Self::zigzag(tag));
                self.put(skipped as u64);
            }
            CallResult::Array { len, .. } => self.put(len as u64),
            CallResult::Received { len, fd, fds, flags, creds, .. } => {
                self.put(len as u64);
                self.put(Self::zigzag(fd as i64));
                self.put(fds as u64 | (flags as u64) << 16);
                self.put(Self::zigzag(creds as i64));
            }
            CallResult::Polled { ready, revents } => {
                self.put(ready as u64);
                for value in revents {
                    self.put(value as u64);
                }
            }
            CallResult::Epolled { ready, fds, events } => {
                self.put(ready as u64);
                for (fd, value) in fds.into_iter().zip(events).take(ready as usize) {
                    self.put(Self::zigzag(fd as i64));
                    self.put(value as u64);
                }
            }
        }
    }

    /// A `Block` event: pid, op, the operand count and the reason's tag in one byte, the operands, and
    /// the reason's fields.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn block(&mut self, delta: u32, pid: Pid, op: u32, args: &Args, reason: &BlockReason) {
        let (pid, op) = (pid as u64, op as u64);
        let shape = (args.len() as u64) << 4;
        if args.len() == 2 {
            let (first, second) = (Self::zigzag(args.get(0)), Self::zigzag(args.get(1)));
            match *reason {
                BlockReason::PipeEmpty { pipe } => {
                    return self.whole(tags::BLOCK, delta, [pid, op, shape, first, second, pipe as u64]);
                }
                BlockReason::PipeFull { pipe, written } => {
                    return self.whole(
                        tags::BLOCK,
                        delta,
                        [pid, op, shape | 1, first, second, pipe as u64, written as u64],
                    );
                }
                _ => {}
            }
        }
        let reason_tag = match reason {
            BlockReason::PipeEmpty { .. } => 0,
            BlockReason::PipeFull { .. } => 1,
            BlockReason::FifoNoWriter { .. } => 2,
            BlockReason::FifoNoReader { .. } => 3,
            BlockReason::Child { .. } => 4,
            BlockReason::ChildInGroup { .. } => 5,
            BlockReason::Signal => 6,
            BlockReason::MsgEmpty { .. } => 7,
            BlockReason::MsgFull { .. } => 8,
            BlockReason::SemOp { .. } => 9,
            BlockReason::MqEmpty { .. } => 10,
            BlockReason::MqFull { .. } => 11,
            BlockReason::NamedSem { .. } => 12,
            BlockReason::SignalWait { .. } => 13,
            BlockReason::Sleep { .. } => 14,
            // The last tag that fits: the reasons past it follow as a second number.
            BlockReason::SocketEmpty { .. }
            | BlockReason::SocketFull { .. }
            | BlockReason::SocketAccept { .. }
            | BlockReason::SocketBacklog { .. }
            | BlockReason::SocketReceiverFull { .. }
            | BlockReason::Futex { .. }
            | BlockReason::Poll { .. }
            | BlockReason::Epoll { .. } => 15,
        };
        self.with_operands(tags::BLOCK, delta, [pid, op, shape | reason_tag], args);
        match *reason {
            BlockReason::PipeEmpty { pipe } => self.put(pipe as u64),
            BlockReason::PipeFull { pipe, written } => {
                self.put(pipe as u64);
                self.put(written as u64);
            }
            BlockReason::FifoNoWriter { pipe, path } | BlockReason::FifoNoReader { pipe, path } => {
                self.put(pipe as u64);
                self.put(path as u64);
            }
            BlockReason::Child { target } => self.put(target.map_or(0, |pid| pid as u64 + 1)),
            BlockReason::ChildInGroup { pgid } => self.put(pgid as u64),
            BlockReason::Signal => {}
            BlockReason::MsgEmpty { queue, msgtype, except, held } => {
                self.put(queue as u64);
                self.put(Self::zigzag(msgtype));
                self.put(except as u64);
                self.put(held as u64);
            }
            BlockReason::MsgFull { queue, bytes, used, capacity } => {
                for value in [queue, bytes, used, capacity] {
                    self.put(value as u64);
                }
            }
            BlockReason::SemOp { set, num, op, value } => {
                self.put(set as u64);
                self.put(num as u64);
                self.put(Self::zigzag(op as i64));
                self.put(Self::zigzag(value as i64));
            }
            BlockReason::MqEmpty { mq } => self.put(mq as u64),
            BlockReason::MqFull { mq, held } => {
                self.put(mq as u64);
                self.put(held as u64);
            }
            BlockReason::NamedSem { sem } => self.put(sem as u64),
            BlockReason::SignalWait { set } => self.put(set),
            BlockReason::Sleep { until, seconds } => {
                self.put(until);
                self.byte(seconds as u8);
            }
            BlockReason::SocketEmpty { socket } => {
                self.put(0);
                self.put(socket as u64);
            }
            BlockReason::SocketFull { socket, written } => {
                self.put(1);
                self.put(socket as u64);
                self.put(written as u64);
            }
            BlockReason::SocketAccept { socket } => {
                self.put(2);
                self.put(socket as u64);
            }
            BlockReason::SocketBacklog { socket } => {
                self.put(3);
                self.put(socket as u64);
            }
            BlockReason::SocketReceiverFull { socket } => {
                self.put(4);
                self.put(socket as u64);
            }
            BlockReason::Futex { address, value } => {
                self.put(5);
                self.put(address);
                self.put(value as u64);
            }
            BlockReason::Poll { entries, until } => {
                self.put(6);
                self.put(entries as u64);
                self.put(until);
            }
            BlockReason::Epoll { epoll, until } => {
                self.put(7);
                self.put(epoll as u64);
                self.put(until);
            }
        }
    }

    /// One event: the step delta, the tag, then the fields. Tags and the one-byte fields (a copy's
    /// direction, a signal number, a signal effect) are below 128, so as varints they are that byte.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn event(&mut self, delta: u32, kind: &EventKind) {
        match kind {
            EventKind::Spawn { pid, index } => self.whole(tags::SPAWN, delta, [*pid as u64, *index as u64]),
            EventKind::Switch { from, to } => self.switch(delta, *from, *to),
            EventKind::Call { pid, op, args, result } => self.call(delta, *pid, *op, args, result),
            EventKind::Block { pid, op, args, reason } => self.block(delta, *pid, *op, args, reason),
            EventKind::Wake { pid, by, cause } => self.wake(delta, *pid, *by, cause),
            &EventKind::Copy { pid, direction, bytes, object, used_bytes, capacity_bytes } => {
                self.copy(delta, &Copied { pid, direction, bytes, object, used_bytes, capacity_bytes })
            }
            EventKind::Fork { parent, child, op } => {
                self.head(tags::FORK, delta);
                self.put(*parent as u64);
                self.put(*child as u64);
                self.put(*op as u64);
            }
            EventKind::Signal { from, to, signal, effect, origin } => {
                self.head(tags::SIGNAL, delta);
                self.put(*from as u64);
                self.put(*to as u64);
                self.byte(signal.0);
                // The effect in the low 4 bits, the origin above.
                let effect = SignalEffect::ALL.iter().position(|known| known == effect).expect("listed") as u8;
                let origin = SignalOrigin::ALL.iter().position(|known| known == origin).expect("listed") as u8;
                self.byte(effect | origin << 4);
            }
            EventKind::Exit { pid, status } => {
                self.head(tags::EXIT, delta);
                self.put(*pid as u64);
                self.put_status(*status);
            }
            EventKind::Reap { pid, by, cause } => {
                self.head(tags::REAP, delta);
                self.put(*pid as u64);
                self.put(*by as u64);
                self.byte(match cause {
                    ReapCause::Wait => 0,
                    ReapCause::Init => 1,
                    ReapCause::Ignored => 2,
                });
            }
            EventKind::Reparent { pid, new_parent } => {
                self.head(tags::REPARENT, delta);
                self.put(*pid as u64);
                self.put(*new_parent as u64);
            }
            EventKind::LastEnd { pid, object, end } => {
                self.head(tags::LAST_END, delta);
                self.put(*pid as u64);
                self.put(Self::object(*object));
                match end {
                    LastEnd::Write => self.byte(0),
                    LastEnd::Read => self.byte(1),
                    LastEnd::Both { unread } => {
                        self.byte(2);
                        self.put(*unread as u64);
                    }
                }
            }
            EventKind::Orphaned { pid, pgid } => {
                self.head(tags::ORPHANED, delta);
                self.put(*pid as u64);
                self.put(*pgid as u64);
            }
            EventKind::Interrupted { pid, op, signal, outcome, gone } => {
                self.head(tags::INTERRUPTED, delta);
                self.put(*pid as u64);
                self.put(*op as u64);
                self.byte(signal.0);
                // The outcome, with 0x80 for a signal that is gone.
                self.byte(
                    u8::from(*gone) << 7
                        | match outcome {
                            CallInterrupted::Restart => 0,
                            CallInterrupted::Eintr => 1,
                            CallInterrupted::Partial => 2,
                        },
                );
            }
            EventKind::Clock { now } => {
                self.head(tags::CLOCK, delta);
                self.put(*now);
            }
            EventKind::Alarm { pid } => {
                self.head(tags::ALARM, delta);
                self.put(*pid as u64);
            }
            EventKind::Delivered { pid, signal, delivery } => {
                self.head(tags::DELIVERED, delta);
                self.put(*pid as u64);
                self.byte(signal.0);
                match delivery {
                    Delivery::Ignored => self.byte(0),
                    Delivery::Discarded => self.byte(1),
                    Delivery::Stopped => self.byte(2),
                    Delivery::Terminated { core: false } => self.byte(3),
                    Delivery::Terminated { core: true } => self.byte(4),
                    Delivery::Handler { handler } => {
                        self.byte(5);
                        self.put(*handler as u64);
                    }
                    Delivery::Dumped => self.byte(6),
                    Delivery::Stray { address } => {
                        self.byte(7);
                        self.put(*address as u64);
                    }
                }
            }
            EventKind::Fault { pid, op, signal } => {
                self.head(tags::FAULT, delta);
                self.put(*pid as u64);
                self.put(*op as u64);
                self.byte(signal.0);
            }
            EventKind::ExpectFailed { pid, op, mismatch } => {
                self.head(tags::EXPECT_FAILED, delta);
                self.put(*pid as u64);
                self.put(op.wrapping_add(1) as u64);
                let _ = mismatch;
                self.put(self.side_index);
            }
            EventKind::Undo { pid, object, num, adjust, value } => {
                self.head(tags::UNDO, delta);
                self.put(*pid as u64);
                self.put(Self::object(*object));
                self.put(*num as u64);
                self.put(Self::zigzag(*adjust as i64));
                self.put(Self::zigzag(*value as i64));
            }
            EventKind::PageCopied { pid, address, from, to } => {
                self.head(tags::PAGE_COPIED, delta);
                self.put(*pid as u64);
                self.put(*address);
                self.put(*from as u64);
                self.put(*to as u64);
            }
            EventKind::Rights { pid, socket, fd, object, access, moved } => {
                self.head(tags::RIGHTS, delta);
                self.put(*pid as u64);
                self.put(*socket as u64);
                self.put(Self::zigzag(*fd as i64));
                self.put(Self::object(*object));
                let moved = match moved {
                    RightsMove::Sent => 0,
                    RightsMove::Received => 1,
                    RightsMove::Truncated => 2,
                    RightsMove::Unread => 3,
                    RightsMove::Collected => 4,
                };
                self.byte(*access | moved << 2);
            }
            EventKind::Segment { pid, from, from_port, to, to_port, flags, bytes } => {
                self.head(tags::SEGMENT, delta);
                self.put(*pid as u64);
                self.put(*from as u64);
                self.put(*from_port as u64);
                self.put(*to as u64);
                self.put(*to_port as u64);
                self.byte(*flags);
                self.put(*bytes as u64);
            }
            EventKind::Leftover { object, label, count } => {
                self.head(tags::LEFTOVER, delta);
                self.put(Self::object(*object));
                self.put(Self::zigzag(*label));
                self.put(*count);
            }
            EventKind::End { outcome } => {
                self.head(tags::END, delta);
                let _ = outcome;
                self.put(self.side_index);
            }
        }
    }
}

/// The head tags of the events (the low five bits of an event's first byte).
mod tags {
    pub const SPAWN: u8 = 0;
    pub const SWITCH: u8 = 1;
    pub const CALL: u8 = 2;
    pub const BLOCK: u8 = 3;
    pub const WAKE: u8 = 4;
    pub const COPY: u8 = 5;
    pub const FORK: u8 = 6;
    pub const SIGNAL: u8 = 7;
    pub const EXIT: u8 = 8;
    pub const REAP: u8 = 9;
    pub const REPARENT: u8 = 10;
    pub const INTERRUPTED: u8 = 11;
    pub const FAULT: u8 = 12;
    pub const EXPECT_FAILED: u8 = 13;
    pub const END: u8 = 14;
    pub const LAST_END: u8 = 15;
    pub const ORPHANED: u8 = 16;
    pub const DELIVERED: u8 = 17;
    pub const CLOCK: u8 = 18;
    pub const ALARM: u8 = 19;
    pub const UNDO: u8 = 20;
    pub const LEFTOVER: u8 = 21;
    pub const PAGE_COPIED: u8 = 22;
    pub const RIGHTS: u8 = 23;
    pub const SEGMENT: u8 = 24;
}

/// The three-bit code that escapes to three more bits, in object references and wake causes.
const ESCAPE: u64 = 7;

/// A pipe's capacity is a whole number of pages: stored as pages (one byte for the usual 16), with the
/// low bit telling a byte count apart should a capacity ever not be whole pages.
fn capacity_code(capacity_bytes: u32) -> u64 {
    let page = crate::linux::fcntl::PAGE_SIZE;
    if capacity_bytes.is_multiple_of(page) {
        ((capacity_bytes / page) as u64) << 1
    } else {
        ((capacity_bytes as u64) << 1) | 1
    }
}

fn capacity_from_code(code: u64) -> u32 {
    if code & 1 == 0 {
        (code >> 1) as u32 * crate::linux::fcntl::PAGE_SIZE
    } else {
        (code >> 1) as u32
    }
}

/// Decodes a [`PackedLog`] event by event.
pub struct PackedEvents<'a> {
    log: &'a PackedLog,
    chunk: usize,
    position: usize,
    step: u32,
    /// Where the next read's bytes start in the trace's data arena.
    data_offset: u32,
    /// The same dictionary the encoder kept, rebuilt event by event.
    dictionary: Box<[u64; DICTIONARY_SLOTS]>,
    /// The bytes of a dictionary entry being decoded, and the position in them.
    replay: Option<([u8; 8], usize)>,
    done: bool,
}

impl PackedEvents<'_> {
    /// A byte the encoder never writes: the log is corrupt, which only a bug in this module can cause.
    fn corrupt(&self, what: &str, value: u64) -> ! {
        panic!(
            "packed log (format {PACKED_FORMAT_VERSION}) is corrupt at chunk {}, byte {}: {what} {value} is unknown",
            self.chunk, self.position
        )
    }

    fn byte(&mut self) -> u8 {
        if let Some((bytes, position)) = &mut self.replay {
            *position += 1;
            return bytes[*position - 1];
        }
        let byte = self.log.chunk(self.chunk).expect("an event lies within one chunk")[self.position];
        self.position += 1;
        byte
    }

    fn get(&mut self) -> u64 {
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let byte = self.byte();
            value |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return value;
            }
            shift += 7;
        }
    }

    fn get_signed(&mut self) -> i64 {
        let raw = self.get();
        ((raw >> 1) as i64) ^ -((raw & 1) as i64)
    }

    fn get_u32(&mut self) -> u32 {
        self.get() as u32
    }

    fn get_status(&mut self) -> ChildStatus {
        wait::decode(self.get() as u32 as i32)
    }

    /// The operand count (high bits) and the variant tag (low four bits) of a call or a block.
    fn get_args(&mut self) -> (Args, u64) {
        let shape = self.get();
        let count = (shape >> 4) as usize;
        if count > MAX_ARGS {
            self.corrupt("operand count", count as u64);
        }
        let mut args = Args::default();
        for _ in 0..count {
            args.push(self.get_signed());
        }
        (args, shape & 0xf)
    }

    fn get_result(&mut self, tag: u64) -> CallResult {
        match tag {
            0 => CallResult::Value { value: self.get_signed() },
            1 => CallResult::Error { errno: Errno(self.get() as u16) },
            2 => {
                let len = self.get_u32();
                let offset = self.data_offset;
                self.data_offset += len;
                CallResult::Data { offset, len }
            }
            3 => CallResult::Pair { read_fd: self.get_signed() as i32, write_fd: self.get_signed() as i32 },
            4 => CallResult::Fork { child: self.get_u32() },
            5 => CallResult::Waited { child: self.get_u32(), status: self.get_status() },
            6 => CallResult::WaitedInfo { child: self.get_u32(), status: self.get_status() },
            7 => CallResult::Out { value: self.get_signed() },
            8 => {
                let len = self.get_u32();
                let offset = self.data_offset;
                self.data_offset += len;
                CallResult::Message { offset, len, tag: self.get_signed(), skipped: self.get_u32() }
            }
            9 => {
                let len = self.get_u32();
                let offset = self.data_offset;
                self.data_offset += len;
                CallResult::Array { offset, len }
            }
            10 => {
                let len = self.get_u32();
                let offset = self.data_offset;
                self.data_offset += len;
                let fd = self.get_signed() as i32;
                let counts = self.get();
                let creds = self.get_signed() as i32;
                CallResult::Received { offset, len, fd, fds: counts as u16, flags: (counts >> 16) as u16, creds }
            }
            11 => {
                let ready = self.get() as u16;
                let mut revents = [0u16; crate::linux::poll::MAX_POLL_FDS];
                for value in &mut revents {
                    *value = self.get() as u16;
                }
                CallResult::Polled { ready, revents }
            }
            12 => {
                let ready = self.get() as u16;
                let mut fds = [0i16; crate::linux::epoll::MAX_EPOLL_EVENTS];
                let mut events = [0u16; crate::linux::epoll::MAX_EPOLL_EVENTS];
                if ready as usize > fds.len() {
                    self.corrupt("epoll_wait event count", ready as u64);
                }
                for at in 0..ready as usize {
                    fds[at] = self.get_signed() as i16;
                    events[at] = self.get() as u16;
                }
                CallResult::Epolled { ready, fds, events }
            }
            other => self.corrupt("call result", other),
        }
    }

    fn get_reason(&mut self, tag: u64) -> BlockReason {
        match tag {
            0 => BlockReason::PipeEmpty { pipe: self.get_u32() },
            1 => BlockReason::PipeFull { pipe: self.get_u32(), written: self.get_u32() },
            2 => BlockReason::FifoNoWriter { pipe: self.get_u32(), path: self.get_u32() },
            3 => BlockReason::FifoNoReader { pipe: self.get_u32(), path: self.get_u32() },
            4 => BlockReason::Child { target: self.get().checked_sub(1).map(|pid| pid as u32) },
            5 => BlockReason::ChildInGroup { pgid: self.get_u32() },
            6 => BlockReason::Signal,
            7 => BlockReason::MsgEmpty {
                queue: self.get_u32(),
                msgtype: self.get_signed(),
                except: self.get() != 0,
                held: self.get_u32(),
            },
            8 => BlockReason::MsgFull {
                queue: self.get_u32(),
                bytes: self.get_u32(),
                used: self.get_u32(),
                capacity: self.get_u32(),
            },
            9 => BlockReason::SemOp {
                set: self.get_u32(),
                num: self.get() as u16,
                op: self.get_signed() as i16,
                value: self.get_signed() as i32,
            },
            10 => BlockReason::MqEmpty { mq: self.get_u32() },
            11 => BlockReason::MqFull { mq: self.get_u32(), held: self.get_u32() },
            12 => BlockReason::NamedSem { sem: self.get_u32() },
            13 => BlockReason::SignalWait { set: self.get() },
            14 => {
                let until = self.get();
                let seconds = match self.byte() {
                    0 => false,
                    1 => true,
                    other => self.corrupt("sleep unit", other as u64),
                };
                BlockReason::Sleep { until, seconds }
            }
            15 => match self.get() {
                0 => BlockReason::SocketEmpty { socket: self.get_u32() },
                1 => BlockReason::SocketFull { socket: self.get_u32(), written: self.get_u32() },
                2 => BlockReason::SocketAccept { socket: self.get_u32() },
                3 => BlockReason::SocketBacklog { socket: self.get_u32() },
                4 => BlockReason::SocketReceiverFull { socket: self.get_u32() },
                5 => BlockReason::Futex { address: self.get(), value: self.get_u32() },
                6 => BlockReason::Poll { entries: self.get() as u8, until: self.get() },
                7 => BlockReason::Epoll { epoll: self.get_u32(), until: self.get() },
                other => self.corrupt("block reason", 15 + other),
            },
            other => self.corrupt("block reason", other),
        }
    }

    fn object_of(&self, code: u64) -> ObjectRef {
        let (kind, id) = match code & 7 {
            ESCAPE => (ESCAPE + ((code >> 3) & 7), code >> 6),
            small => (small, code >> 3),
        };
        match ObjectKind::from_code(kind as u8) {
            Some(kind) => ObjectRef { kind, id: id as u32 },
            None => self.corrupt("object kind", kind),
        }
    }

    fn get_cause(&mut self) -> WakeCause {
        let field = self.get();
        let rest = field >> 3;
        match field & 7 {
            0 => WakeCause::Data { object: self.object_of(rest) },
            1 => WakeCause::Room { object: self.object_of(rest) },
            2 => WakeCause::Hangup { object: self.object_of(rest) },
            3 => WakeCause::Partner { object: self.object_of(rest) },
            4 => WakeCause::Child { child: rest as u32 },
            5 => WakeCause::Resize { object: self.object_of(rest) },
            6 => WakeCause::Completed { object: self.object_of(rest) },
            ESCAPE => match rest & 7 {
                0 => WakeCause::Removed { object: self.object_of(rest >> 3) },
                1 => WakeCause::Changed { object: self.object_of(rest >> 3) },
                2 => WakeCause::Signal { signal: Signal((rest >> 3) as u8) },
                3 if rest >> 3 == 0 => WakeCause::Timer,
                other => self.corrupt("escaped wake cause", other),
            },
            other => self.corrupt("wake cause", other),
        }
    }

    fn get_effect_and_origin(&mut self) -> (SignalEffect, SignalOrigin) {
        let byte = self.byte();
        let effect = match SignalEffect::ALL.get((byte & 0x0f) as usize) {
            Some(effect) => *effect,
            None => self.corrupt("signal effect", byte as u64),
        };
        let origin = match SignalOrigin::ALL.get((byte >> 4) as usize) {
            Some(origin) => *origin,
            None => self.corrupt("signal origin", byte as u64),
        };
        (effect, origin)
    }

    fn get_reap_cause(&mut self) -> ReapCause {
        match self.byte() {
            0 => ReapCause::Wait,
            1 => ReapCause::Init,
            2 => ReapCause::Ignored,
            other => self.corrupt("reap cause", other as u64),
        }
    }
}

impl Iterator for PackedEvents<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if self.done {
                return None;
            }
            match self.log.chunk(self.chunk) {
                Some(bytes) if self.position < bytes.len() => break,
                Some(_) => {
                    self.chunk += 1;
                    self.position = 0;
                }
                None => self.done = true,
            }
        }
        let start = self.position;
        let mut head = self.byte();
        let literal = head & 0x1f != REPEAT_TAG;
        if !literal {
            let key = self.dictionary[self.byte() as usize];
            self.replay = Some((key.to_le_bytes(), 0));
            head = self.byte();
        }
        let delta = match (head >> 5) as u32 {
            HEAD_DELTA_LIMIT => self.get_u32(),
            small => small,
        };
        self.step = self.step.wrapping_add(delta);
        let kind = match head & 0x1f {
            tags::SPAWN => EventKind::Spawn { pid: self.get_u32(), index: self.get_u32() },
            tags::SWITCH => {
                EventKind::Switch { from: self.get().checked_sub(1).map(|pid| pid as u32), to: self.get_u32() }
            }
            tags::CALL => {
                let pid = self.get_u32();
                let op = self.get_u32().wrapping_sub(1);
                let (args, tag) = self.get_args();
                EventKind::Call { pid, op, args, result: self.get_result(tag) }
            }
            tags::BLOCK => {
                let pid = self.get_u32();
                let op = self.get_u32();
                let (args, tag) = self.get_args();
                EventKind::Block { pid, op, args, reason: self.get_reason(tag) }
            }
            tags::WAKE => EventKind::Wake { pid: self.get_u32(), by: self.get_u32(), cause: self.get_cause() },
            tags::COPY => {
                let pid = self.get_u32();
                let field = self.get();
                let direction = if field & 1 == 0 { CopyDirection::UserToKernel } else { CopyDirection::KernelToUser };
                let object = self.object_of(field >> 1);
                EventKind::Copy {
                    pid,
                    direction,
                    object,
                    bytes: self.get_u32(),
                    used_bytes: self.get_u32(),
                    capacity_bytes: capacity_from_code(self.get()),
                }
            }
            tags::FORK => EventKind::Fork { parent: self.get_u32(), child: self.get_u32(), op: self.get_u32() },
            tags::SIGNAL => {
                let (from, to, signal) = (self.get_u32(), self.get_u32(), Signal(self.byte()));
                let (effect, origin) = self.get_effect_and_origin();
                EventKind::Signal { from, to, signal, effect, origin }
            }
            tags::EXIT => EventKind::Exit { pid: self.get_u32(), status: self.get_status() },
            tags::REAP => EventKind::Reap { pid: self.get_u32(), by: self.get_u32(), cause: self.get_reap_cause() },
            tags::REPARENT => EventKind::Reparent { pid: self.get_u32(), new_parent: self.get_u32() },
            tags::INTERRUPTED => {
                let (pid, op, signal) = (self.get_u32(), self.get_u32(), Signal(self.byte()));
                let byte = self.byte();
                let outcome = match byte & 0x7f {
                    0 => CallInterrupted::Restart,
                    1 => CallInterrupted::Eintr,
                    2 => CallInterrupted::Partial,
                    _ => self.corrupt("interruption", byte as u64),
                };
                EventKind::Interrupted { pid, op, signal, outcome, gone: byte & 0x80 != 0 }
            }
            tags::CLOCK => EventKind::Clock { now: self.get() },
            tags::ALARM => EventKind::Alarm { pid: self.get_u32() },
            tags::DELIVERED => {
                let (pid, signal) = (self.get_u32(), Signal(self.byte()));
                let delivery = match self.byte() {
                    0 => Delivery::Ignored,
                    1 => Delivery::Discarded,
                    2 => Delivery::Stopped,
                    3 => Delivery::Terminated { core: false },
                    4 => Delivery::Terminated { core: true },
                    5 => Delivery::Handler { handler: self.get_u32() },
                    6 => Delivery::Dumped,
                    7 => Delivery::Stray { address: self.get() as i64 },
                    other => self.corrupt("delivery", other as u64),
                };
                EventKind::Delivered { pid, signal, delivery }
            }
            tags::LAST_END => {
                let pid = self.get_u32();
                let code = self.get();
                let object = self.object_of(code);
                let end = match self.byte() {
                    0 => LastEnd::Write,
                    1 => LastEnd::Read,
                    2 => LastEnd::Both { unread: self.get_u32() },
                    other => self.corrupt("last end", other as u64),
                };
                EventKind::LastEnd { pid, object, end }
            }
            tags::ORPHANED => EventKind::Orphaned { pid: self.get_u32(), pgid: self.get_u32() },
            tags::UNDO => {
                let pid = self.get_u32();
                let code = self.get();
                EventKind::Undo {
                    pid,
                    object: self.object_of(code),
                    num: self.get() as u16,
                    adjust: self.get_signed() as i32,
                    value: self.get_signed() as i32,
                }
            }
            tags::PAGE_COPIED => EventKind::PageCopied {
                pid: self.get_u32(),
                address: self.get(),
                from: self.get_u32(),
                to: self.get_u32(),
            },
            tags::RIGHTS => {
                let (pid, socket, fd) = (self.get_u32(), self.get_u32(), self.get_signed() as i32);
                let code = self.get();
                let object = self.object_of(code);
                let byte = self.byte();
                let moved = match byte >> 2 {
                    0 => RightsMove::Sent,
                    1 => RightsMove::Received,
                    2 => RightsMove::Truncated,
                    3 => RightsMove::Unread,
                    4 => RightsMove::Collected,
                    other => self.corrupt("descriptor move", other as u64),
                };
                EventKind::Rights { pid, socket, fd, object, access: byte & 3, moved }
            }
            tags::SEGMENT => {
                let (pid, from) = (self.get_u32(), self.get_u32());
                let from_port = self.get_u32() as u16;
                let to = self.get_u32();
                let to_port = self.get_u32() as u16;
                let flags = self.byte();
                EventKind::Segment { pid, from, from_port, to, to_port, flags, bytes: self.get_u32() }
            }
            tags::LEFTOVER => {
                let code = self.get();
                EventKind::Leftover { object: self.object_of(code), label: self.get_signed(), count: self.get() }
            }
            tags::FAULT => EventKind::Fault { pid: self.get_u32(), op: self.get_u32(), signal: Signal(self.byte()) },
            tags::EXPECT_FAILED => {
                let pid = self.get_u32();
                let op = self.get_u32().wrapping_sub(1);
                let mismatch = Box::new(self.log.mismatches[self.get() as usize].clone());
                EventKind::ExpectFailed { pid, op, mismatch }
            }
            tags::END => EventKind::End { outcome: Box::new(self.log.outcomes[self.get() as usize].clone()) },
            EXTENDED_TAG => {
                let extended = self.byte();
                self.corrupt("extended tag", extended as u64)
            }
            other => self.corrupt("tag", other as u64),
        };
        if literal {
            let length = self.position - start;
            if DICTIONARY_LENGTHS.contains(&length) {
                let mut first_eight = [0u8; 8];
                first_eight[..length]
                    .copy_from_slice(&self.log.chunk(self.chunk).expect("decoded from it")[start..self.position]);
                let key = dictionary_key(first_eight, length);
                let repeated = dictionary_find_or_insert(&mut self.dictionary, key);
                debug_assert!(repeated.is_none(), "the encoder would have referred to it");
            }
        }
        self.replay = None;
        Some(Event { step: self.step, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loop-like stream: the same few events again and again (so most become dictionary references),
    /// with a read whose offset follows the data arena, a capacity that is not whole pages, and now
    /// and then a large step delta and large values that take the slow paths.
    fn events(count: u32) -> Vec<Event> {
        let mut events = Vec::new();
        let mut step = 0u32;
        let mut data = 0u32;
        for index in 0..count {
            step += if index % 97 == 0 { 40 } else { index % 2 };
            let kind = match index % 6 {
                0 => EventKind::Switch { from: Some(2 + index % 2), to: 3 - index % 2 },
                1 => EventKind::Wake { pid: 3, by: 2, cause: WakeCause::Data { object: ObjectRef::pipe(1) } },
                2 => {
                    let len = if index % 50 == 2 { 70_000 } else { 4 };
                    data += len;
                    EventKind::Call {
                        pid: 2,
                        op: 5,
                        args: Args::new(&[3, len as i64]),
                        result: CallResult::Data { offset: data - len, len },
                    }
                }
                3 => EventKind::Copy {
                    pid: 2,
                    direction: CopyDirection::KernelToUser,
                    bytes: 4,
                    object: ObjectRef::pipe(1),
                    used_bytes: index % 300,
                    capacity_bytes: if index % 7 == 0 { 65_536 } else { 12_345 },
                },
                4 => EventKind::Block {
                    pid: 3,
                    op: 9,
                    args: Args::new(&[4, 4]),
                    reason: BlockReason::PipeEmpty { pipe: 1 },
                },
                _ => EventKind::Call {
                    pid: 3,
                    op: 6,
                    args: Args::new(&[-1, -300]),
                    result: CallResult::Value { value: (index % 3) as i64 },
                },
            };
            events.push(Event { step, kind });
        }
        events
    }

    fn pushed(keep: bool, events: &[Event]) -> PackedLog {
        let mut log = PackedLog::new(keep);
        for event in events {
            log.push(event);
        }
        log
    }

    #[test]
    fn the_stream_starts_with_its_format_version() {
        let log = pushed(true, &events(3));
        assert_eq!(log.chunks().next().expect("one chunk")[0], PACKED_FORMAT_VERSION);
    }

    #[test]
    fn a_long_log_spans_chunks_and_gives_back_every_event() {
        let events = events(600_000);
        let log = pushed(true, &events);
        assert!(log.sealed.len() >= 2, "the stream should fill more than one chunk");
        assert!(log.events().eq(events.iter().cloned()));
    }

    #[test]
    fn keeping_and_hashing_only_give_the_same_stream_hash() {
        let events = events(300_000);
        let (kept, hashed) = (pushed(true, &events), pushed(false, &events));
        assert_eq!(kept.size_bytes(), hashed.size_bytes());
        assert_eq!(kept.stream_hash(), hashed.stream_hash());
        let mut whole = StreamHasher::default();
        for chunk in kept.chunks() {
            whole.feed(chunk);
        }
        assert_eq!(whole, kept.stream_hash());
        assert_eq!(hashed.events().count(), 0);
    }

    #[test]
    fn rewinding_across_chunks_then_pushing_again_is_as_if_never_pushed() {
        let events = events(1_000_000);
        for keep in [true, false] {
            let mut log = pushed(keep, &events[..150_000]);
            let mark = log.mark();
            let chunks_at_mark = log.sealed.len();
            for event in &events[150_000..] {
                log.push(event);
            }
            if keep {
                assert!(log.sealed.len() > chunks_at_mark, "the rewind should cross a chunk boundary");
            }
            log.rewind(&mark);
            assert_eq!(log.len(), 150_000);
            let mut other = events[..150_000].to_vec();
            // Diverge after the mark: a different event, then the rest.
            let detour = Event { step: events[150_000].step, kind: EventKind::Spawn { pid: 9, index: 0 } };
            log.push(&detour);
            other.push(detour);
            for event in &events[150_001..] {
                log.push(event);
                other.push(event.clone());
            }
            let fresh = pushed(keep, &other);
            assert_eq!(log.stream_hash(), fresh.stream_hash(), "keep = {keep}");
            if keep {
                assert!(log.events().eq(other.into_iter()));
            }
        }
    }

    #[test]
    fn rewinding_forgets_the_dictionary_entries_made_after_the_mark() {
        let prefix = events(1_000);
        let unseen = Event {
            step: prefix.last().unwrap().step + 1,
            kind: EventKind::Wake { pid: 40, by: 41, cause: WakeCause::Child { child: 41 } },
        };
        for keep in [true, false] {
            let mut log = pushed(keep, &prefix);
            let mark = log.mark();
            log.push(&unseen);
            log.rewind(&mark);
            log.push(&unseen);
            let mut expected = prefix.clone();
            expected.push(unseen.clone());
            let fresh = pushed(keep, &expected);
            assert_eq!((log.size_bytes(), log.stream_hash()), (fresh.size_bytes(), fresh.stream_hash()));
        }
    }

    #[test]
    fn a_repeated_event_is_two_bytes() {
        let event = Event {
            step: 1,
            kind: EventKind::Wake { pid: 3, by: 2, cause: WakeCause::Room { object: ObjectRef::pipe(1) } },
        };
        let mut log = PackedLog::keeping();
        log.push(&event);
        let first = log.size_bytes();
        let again = Event { step: 2, ..event.clone() };
        log.push(&again);
        assert_eq!(first, 1 + 4, "the version byte, then the head and three one-byte fields");
        assert_eq!(log.size_bytes(), first + 2);
        assert_eq!(log.events().collect::<Vec<_>>(), vec![event, again]);
    }

    #[test]
    #[should_panic(expected = "is corrupt")]
    fn a_byte_the_encoder_never_writes_stops_the_decoder() {
        let mut log = PackedLog::keeping();
        log.push(&Event { step: 0, kind: EventKind::Spawn { pid: 2, index: 0 } });
        log.current[1] = 29; // a tag no event has
        log.events().for_each(drop);
    }
}
