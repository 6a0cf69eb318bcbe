//! A compact log of events: every event of a run, stored in a few bytes each.
//!
//! A long run (a benchmark's millions of steps) produces tens of millions of events; as [`Event`] values
//! they need dozens of bytes each. The packed log stores the same events as a byte stream: the step as a
//! delta from the previous event, a tag, and each field as a LEB128 variable-length integer (signed
//! values zigzag-encoded). The rare events that carry text (failed expectations, the end of the run)
//! keep that part in side tables. [`PackedLog::events`] gives back exactly the events that went in.

use crate::ast::{ChildStatus, Errno, Signal};
use crate::trace::{
    BlockReason, CallResult, CopyDirection, Event, EventKind, Mismatch, Object, RunOutcome, SignalEffect,
};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackedLog {
    bytes: Vec<u8>,
    mismatches: Vec<Mismatch>,
    outcomes: Vec<RunOutcome>,
    last_step: u32,
    count: u64,
}

/// Where a packed log stood, to roll it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedMark {
    bytes: usize,
    mismatches: usize,
    outcomes: usize,
    last_step: u32,
    count: u64,
}

const SIGNAL_EFFECTS: [SignalEffect; 7] = [
    SignalEffect::Ignored,
    SignalEffect::Pending,
    SignalEffect::Terminated,
    SignalEffect::TerminatedCore,
    SignalEffect::Stopped,
    SignalEffect::Continued,
    SignalEffect::NoEffect,
];

impl PackedLog {
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes used by the stream (side tables excluded).
    pub fn size_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The encoded bytes from `start` on (the encoding of the events pushed since the stream had that size).
    pub fn bytes_from(&self, start: usize) -> &[u8] {
        &self.bytes[start..]
    }

    /// Forgets encoded bytes past `length` while keeping the step position, for a log used only to encode.
    pub fn truncate_bytes(&mut self, length: usize) {
        self.bytes.truncate(length);
    }

    pub fn mark(&self) -> PackedMark {
        PackedMark {
            bytes: self.bytes.len(),
            mismatches: self.mismatches.len(),
            outcomes: self.outcomes.len(),
            last_step: self.last_step,
            count: self.count,
        }
    }

    pub fn rewind(&mut self, mark: &PackedMark) {
        self.bytes.truncate(mark.bytes);
        self.mismatches.truncate(mark.mismatches);
        self.outcomes.truncate(mark.outcomes);
        self.last_step = mark.last_step;
        self.count = mark.count;
    }

    /// Appends one event. Steps never go backwards within a run.
    #[inline(always)]
    pub fn push(&mut self, event: &Event) {
        // Encode into a local buffer, then append it with a fixed-size copy and cut the excess: bytes
        // stored straight into the vector would make the compiler reload its length after every byte,
        // and a copy of variable length would be a call to memcpy for a handful of bytes.
        let mut buffer = [0u8; MAX_EVENT_BYTES];
        let length = {
            let mut encoder = Encoder { buffer: &mut buffer, length: 0, log: self };
            encoder.event(event);
            encoder.length
        };
        let start = self.bytes.len();
        if length <= 16 {
            self.bytes.extend_from_slice(&buffer[..16]);
        } else if length <= 32 {
            self.bytes.extend_from_slice(&buffer[..32]);
        } else {
            self.bytes.extend_from_slice(&buffer);
        }
        self.bytes.truncate(start + length);
    }

    /// Every event, in order, as it was pushed.
    pub fn events(&self) -> PackedEvents<'_> {
        PackedEvents { log: self, position: 0, step: 0 }
    }
}

/// No event encodes to more bytes than this: the largest, a call, is a tag and at most eight LEB128
/// varints of a 32-bit value (5 bytes) or a zigzagged 64-bit one (10 bytes).
const MAX_EVENT_BYTES: usize = 64;

/// Writes one event's bytes; the text of rare events goes to the log's side tables.
struct Encoder<'a> {
    buffer: &'a mut [u8; MAX_EVENT_BYTES],
    length: usize,
    log: &'a mut PackedLog,
}

impl Encoder<'_> {
    #[inline(always)]
    fn byte(&mut self, byte: u8) {
        self.buffer[self.length] = byte;
        self.length += 1;
    }

    /// LEB128: most values (pids, descriptors, step deltas) are below 128 and take one byte.
    #[inline(always)]
    fn put(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.byte((value as u8) | 0x80);
            value >>= 7;
        }
        self.byte(value as u8);
    }

    #[inline(always)]
    fn put_signed(&mut self, value: i64) {
        self.put(((value << 1) ^ (value >> 63)) as u64);
    }

    fn put_status(&mut self, status: ChildStatus) {
        self.put(crate::linux::wait_status::encode(status) as u32 as u64);
    }

    fn put_reason(&mut self, reason: &BlockReason) {
        match reason {
            BlockReason::PipeEmpty { pipe } => {
                self.put(0);
                self.put(*pipe as u64);
            }
            BlockReason::PipeFull { pipe, written } => {
                self.put(1);
                self.put(*pipe as u64);
                self.put(*written as u64);
            }
            BlockReason::FifoNoWriter { pipe, path } => {
                self.put(2);
                self.put(*pipe as u64);
                self.put(*path as u64);
            }
            BlockReason::FifoNoReader { pipe, path } => {
                self.put(3);
                self.put(*pipe as u64);
                self.put(*path as u64);
            }
            BlockReason::Child { target } => {
                self.put(4);
                self.put(target.map_or(0, |pid| pid as u64 + 1));
            }
            BlockReason::Signal => self.put(5),
        }
    }

    #[inline(always)]
    fn event(&mut self, event: &Event) {
        let delta = event.step.wrapping_sub(self.log.last_step);
        self.log.last_step = event.step;
        self.log.count += 1;
        self.put(delta as u64);
        match &event.kind {
            EventKind::Spawn { pid } => {
                self.byte(0);
                self.put(*pid as u64);
            }
            EventKind::Switch { from, to } => {
                self.byte(1);
                self.put(from.map_or(0, |pid| pid as u64 + 1));
                self.put(*to as u64);
            }
            EventKind::Call { pid, op, fd, arg, result } => {
                self.byte(2);
                self.put(*pid as u64);
                self.put(op.wrapping_add(1) as u64);
                self.put_signed(*fd as i64);
                self.put_signed(*arg);
                match *result {
                    CallResult::Value { value } => {
                        self.put(0);
                        self.put_signed(value as i64);
                    }
                    CallResult::Error { errno } => {
                        self.put(1);
                        self.put(errno.0 as u64);
                    }
                    CallResult::Data { offset, len } => {
                        self.put(2);
                        self.put(offset as u64);
                        self.put(len as u64);
                    }
                    CallResult::Pipe { read_fd, write_fd } => {
                        self.put(3);
                        self.put_signed(read_fd as i64);
                        self.put_signed(write_fd as i64);
                    }
                    CallResult::Fork { child } => {
                        self.put(4);
                        self.put(child as u64);
                    }
                    CallResult::Waited { child, status } => {
                        self.put(5);
                        self.put(child as u64);
                        self.put_status(status);
                    }
                }
            }
            EventKind::Block { pid, op, fd, reason } => {
                self.byte(3);
                self.put(*pid as u64);
                self.put(*op as u64);
                self.put_signed(*fd as i64);
                self.put_reason(reason);
            }
            EventKind::Wake { pid, by } => {
                self.byte(4);
                self.put(*pid as u64);
                self.put(*by as u64);
            }
            EventKind::Copy { pid, direction, bytes, object, used_bytes, capacity_bytes } => {
                self.byte(5);
                self.put(*pid as u64);
                self.byte(match direction {
                    CopyDirection::UserToKernel => 0,
                    CopyDirection::KernelToUser => 1,
                });
                self.put(match object {
                    Object::DevNull => 0,
                    Object::Pipe { id } => *id as u64 + 1,
                });
                self.put(*bytes as u64);
                self.put(*used_bytes as u64);
                self.put(*capacity_bytes as u64);
            }
            EventKind::Fork { parent, child } => {
                self.byte(6);
                self.put(*parent as u64);
                self.put(*child as u64);
            }
            EventKind::Signal { from, to, signal, effect } => {
                self.byte(7);
                self.put(*from as u64);
                self.put(*to as u64);
                self.byte(signal.0);
                self.byte(SIGNAL_EFFECTS.iter().position(|known| known == effect).expect("listed") as u8);
            }
            EventKind::Exit { pid, status } => {
                self.byte(8);
                self.put(*pid as u64);
                self.put_status(*status);
            }
            EventKind::Reap { pid, by } => {
                self.byte(9);
                self.put(*pid as u64);
                self.put(*by as u64);
            }
            EventKind::Reparent { pid, new_parent } => {
                self.byte(10);
                self.put(*pid as u64);
                self.put(*new_parent as u64);
            }
            EventKind::Interrupted { pid, op, signal } => {
                self.byte(11);
                self.put(*pid as u64);
                self.put(*op as u64);
                self.byte(signal.0);
            }
            EventKind::ExpectFailed { pid, op, mismatch } => {
                self.byte(12);
                self.put(*pid as u64);
                self.put(op.wrapping_add(1) as u64);
                self.put(self.log.mismatches.len() as u64);
                self.log.mismatches.push((**mismatch).clone());
            }
            EventKind::End { outcome } => {
                self.byte(13);
                self.put(self.log.outcomes.len() as u64);
                self.log.outcomes.push((**outcome).clone());
            }
        }
    }
}

/// Decodes a [`PackedLog`] event by event.
pub struct PackedEvents<'a> {
    log: &'a PackedLog,
    position: usize,
    step: u32,
}

impl PackedEvents<'_> {
    fn byte(&mut self) -> u8 {
        let byte = self.log.bytes[self.position];
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
        crate::linux::wait_status::decode(self.get() as u32 as i32)
    }

    fn get_reason(&mut self) -> BlockReason {
        match self.get() {
            0 => BlockReason::PipeEmpty { pipe: self.get_u32() },
            1 => BlockReason::PipeFull { pipe: self.get_u32(), written: self.get_u32() },
            2 => BlockReason::FifoNoWriter { pipe: self.get_u32(), path: self.get_u32() },
            3 => BlockReason::FifoNoReader { pipe: self.get_u32(), path: self.get_u32() },
            4 => BlockReason::Child { target: self.get().checked_sub(1).map(|pid| pid as u32) },
            _ => BlockReason::Signal,
        }
    }
}

impl Iterator for PackedEvents<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.position >= self.log.bytes.len() {
            return None;
        }
        self.step = self.step.wrapping_add(self.get_u32());
        let kind = match self.byte() {
            0 => EventKind::Spawn { pid: self.get_u32() },
            1 => EventKind::Switch { from: self.get().checked_sub(1).map(|pid| pid as u32), to: self.get_u32() },
            2 => {
                let pid = self.get_u32();
                let op = self.get_u32().wrapping_sub(1);
                let fd = self.get_signed() as i32;
                let arg = self.get_signed();
                let result = match self.get() {
                    0 => CallResult::Value { value: self.get_signed() as i32 },
                    1 => CallResult::Error { errno: Errno(self.get() as u16) },
                    2 => CallResult::Data { offset: self.get_u32(), len: self.get_u32() },
                    3 => CallResult::Pipe { read_fd: self.get_signed() as i32, write_fd: self.get_signed() as i32 },
                    4 => CallResult::Fork { child: self.get_u32() },
                    _ => CallResult::Waited { child: self.get_u32(), status: self.get_status() },
                };
                EventKind::Call { pid, op, fd, arg, result }
            }
            3 => EventKind::Block {
                pid: self.get_u32(),
                op: self.get_u32(),
                fd: self.get_signed() as i32,
                reason: self.get_reason(),
            },
            4 => EventKind::Wake { pid: self.get_u32(), by: self.get_u32() },
            5 => {
                let pid = self.get_u32();
                let direction =
                    if self.byte() == 0 { CopyDirection::UserToKernel } else { CopyDirection::KernelToUser };
                let object = match self.get() {
                    0 => Object::DevNull,
                    id => Object::Pipe { id: id as u32 - 1 },
                };
                EventKind::Copy {
                    pid,
                    direction,
                    object,
                    bytes: self.get_u32(),
                    used_bytes: self.get_u32(),
                    capacity_bytes: self.get_u32(),
                }
            }
            6 => EventKind::Fork { parent: self.get_u32(), child: self.get_u32() },
            7 => EventKind::Signal {
                from: self.get_u32(),
                to: self.get_u32(),
                signal: Signal(self.byte()),
                effect: SIGNAL_EFFECTS[self.byte() as usize],
            },
            8 => EventKind::Exit { pid: self.get_u32(), status: self.get_status() },
            9 => EventKind::Reap { pid: self.get_u32(), by: self.get_u32() },
            10 => EventKind::Reparent { pid: self.get_u32(), new_parent: self.get_u32() },
            11 => EventKind::Interrupted { pid: self.get_u32(), op: self.get_u32(), signal: Signal(self.byte()) },
            12 => {
                let pid = self.get_u32();
                let op = self.get_u32().wrapping_sub(1);
                let mismatch = Box::new(self.log.mismatches[self.get() as usize].clone());
                EventKind::ExpectFailed { pid, op, mismatch }
            }
            _ => EventKind::End { outcome: Box::new(self.log.outcomes[self.get() as usize].clone()) },
        };
        Some(Event { step: self.step, kind })
    }
}
