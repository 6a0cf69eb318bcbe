//! A pipe's buffer, laid out as Linux lays it out: a ring of page-sized slots.
//!
//! Linux does not count a pipe's capacity in bytes but in slots (`struct pipe_buffer`), each holding up
//! to one page. That shape decides what users can observe: a write of at most `PIPE_BUF` bytes either
//! goes whole into the tail of the last page or takes a fresh slot (so it is atomic), a pipe whose slots
//! are all in use refuses a write even when a few bytes of one page are free, and a small write can still
//! be merged into a partly filled last page of a "full" pipe. This module mirrors `fs/pipe.c`'s
//! `pipe_write` and `pipe_read` at that level of detail; it knows nothing of processes or wake-ups.
//! What a write puts in comes from its [`Payload`], made only as far as the copy needs.

use crate::lang::ast::Payload;
use crate::linux::fcntl::PAGE_SIZE;
use std::collections::VecDeque;
use std::rc::Rc;

/// The bytes of one page. Pages are shared, never copied, when the kernel is cloned (a playground
/// checkpoint holds a pipe's pages for the price of their pointers); a write into a page that a clone
/// still holds copies that one page first.
#[derive(Clone)]
struct Page([u8; PAGE_SIZE as usize]);

/// One slot (`struct pipe_buffer`): the unread bytes of its page lie at `start..end`.
#[derive(Clone)]
struct PageSlot {
    page: Rc<Page>,
    start: u16,
    end: u16,
}

impl PageSlot {
    fn bytes(&self) -> &[u8] {
        &self.page.0[self.start as usize..self.end as usize]
    }
}

#[derive(Clone)]
pub struct PipeBuffer {
    slots: VecDeque<PageSlot>,
    /// A page freed by a read, kept for the next write (`pipe->tmp_page` in `fs/pipe.c`'s
    /// `anon_pipe_buf_release`), so that a ping-pong allocates no page per message.
    spare: Option<Rc<Page>>,
    /// Unread bytes in all slots.
    len: u32,
    /// Pages this buffer let go of (read out, or copied before a write) while a clone of it still held
    /// them: memory the clones now keep alive because of this buffer's run.
    released_shared: u64,
    max_slots: u32,
}

impl std::fmt::Debug for PipeBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeBuffer")
            .field("slot_lengths", &self.slot_lengths())
            .field("len", &self.len)
            .field("max_slots", &self.max_slots)
            .finish()
    }
}

/// Two buffers are equal when they hold the same bytes in the same slots and have the same capacity;
/// what lies in a page outside its slot, and the spare page, do not count.
impl PartialEq for PipeBuffer {
    fn eq(&self, other: &PipeBuffer) -> bool {
        self.max_slots == other.max_slots
            && self.len == other.len
            && self.slots.len() == other.slots.len()
            && self.slots.iter().zip(&other.slots).all(|(a, b)| a.bytes() == b.bytes())
    }
}

impl Eq for PipeBuffer {}

/// What one attempt to write produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteProgress {
    /// Everything asked for is now in the buffer.
    Done,
    /// The buffer is full; this many bytes of the remainder still wait.
    Full,
}

impl PipeBuffer {
    pub fn new(capacity_bytes: u32) -> PipeBuffer {
        PipeBuffer {
            slots: VecDeque::new(),
            spare: None,
            len: 0,
            released_shared: 0,
            max_slots: capacity_bytes / PAGE_SIZE,
        }
    }

    pub fn len_bytes(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.slots.len() as u32 >= self.max_slots
    }

    pub fn capacity_bytes(&self) -> u32 {
        self.max_slots * PAGE_SIZE
    }

    pub fn slots_used(&self) -> u32 {
        self.slots.len() as u32
    }

    pub fn max_slots(&self) -> u32 {
        self.max_slots
    }

    /// The unread bytes, oldest first.
    pub fn contents(&self) -> impl Iterator<Item = u8> + '_ {
        self.slots.iter().flat_map(|slot| slot.bytes().iter().copied())
    }

    /// The unread bytes of each slot in use, oldest first: the contents and how they lie in slots.
    pub fn slot_bytes(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.slots.iter().map(PageSlot::bytes)
    }

    /// Bytes held by each slot in use, oldest first (for pictures of the buffer).
    pub fn slot_lengths(&self) -> Vec<u32> {
        self.slots.iter().map(|slot| (slot.end - slot.start) as u32).collect()
    }

    /// Pages this buffer holds that no clone of it shares: what it costs beyond its clones.
    pub fn unshared_pages(&self) -> u32 {
        self.slots.iter().filter(|slot| Rc::strong_count(&slot.page) == 1).count() as u32
    }

    /// Pages in use, shared or not.
    pub fn pages(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Pages held in use now, plus those this buffer let go of while a clone still held them.
    pub fn pages_accounted(&self) -> u64 {
        self.slots.len() as u64 + self.released_shared
    }

    /// The pages a clone shares with this buffer, as this buffer goes away (its pipe is freed).
    pub fn shared_pages_at_release(&self) -> u64 {
        self.released_shared + self.slots.iter().filter(|slot| Rc::strong_count(&slot.page) > 1).count() as u64
    }

    /// `pipe_write`'s first move: if the write's sub-page remainder (`len % PAGE_SIZE` bytes) fits
    /// after the data of the last page, the write's first bytes are appended there. Returns how many
    /// bytes were taken (0 or the whole remainder).
    pub fn merge_into_last_page(&mut self, payload: &Payload) -> u32 {
        let chars = payload.len() % PAGE_SIZE;
        if chars == 0 {
            return 0;
        }
        let Some(last) = self.slots.back_mut() else { return 0 };
        if last.end as u32 + chars > PAGE_SIZE {
            return 0;
        }
        let end = last.end as usize;
        // Copy on write: a page a checkpoint still holds is copied before it changes.
        if Rc::strong_count(&last.page) > 1 {
            self.released_shared += 1;
        }
        let page = Rc::make_mut(&mut last.page);
        payload.copy_into(0, &mut page.0[end..end + chars as usize]);
        last.end += chars as u16;
        self.len += chars;
        chars
    }

    /// A page to write into: the spare if nothing else holds it, or a fresh one.
    fn fresh_page(&mut self) -> Rc<Page> {
        match self.spare.take() {
            Some(page) if Rc::strong_count(&page) == 1 => page,
            _ => Rc::new(Page([0; PAGE_SIZE as usize])),
        }
    }

    /// `pipe_write`'s loop: while a slot is free, fill a fresh page with up to `PAGE_SIZE` bytes of the
    /// payload from `offset` on. Returns how many bytes were taken and whether all of them were.
    pub fn fill_pages(&mut self, payload: &Payload, offset: u32) -> (u32, WriteProgress) {
        let total = payload.len();
        let mut taken = 0u32;
        while offset + taken < total {
            if self.is_full() {
                return (taken, WriteProgress::Full);
            }
            let chunk = (total - offset - taken).min(PAGE_SIZE);
            let mut page = self.fresh_page();
            let bytes = &mut Rc::get_mut(&mut page).expect("a fresh page is held only here").0;
            payload.copy_into(offset + taken, &mut bytes[..chunk as usize]);
            self.slots.push_back(PageSlot { page, start: 0, end: chunk as u16 });
            self.len += chunk;
            taken += chunk;
        }
        (taken, WriteProgress::Done)
    }

    /// `pipe_read`: takes up to `count` bytes into `out`; returns how many slots were freed.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn read_into(&mut self, count: u32, out: &mut Vec<u8>) -> u32 {
        let mut remaining = count;
        let mut freed = 0;
        while remaining > 0 {
            let Some(slot) = self.slots.front_mut() else { break };
            let available = (slot.end - slot.start) as u32;
            let chars = available.min(remaining);
            crate::bytes::extend_bytes(out, &slot.page.0[slot.start as usize..slot.start as usize + chars as usize]);
            slot.start += chars as u16;
            self.len -= chars;
            remaining -= chars;
            if slot.start == slot.end {
                let slot = self.slots.pop_front().expect("the slot just read");
                if Rc::strong_count(&slot.page) > 1 {
                    self.released_shared += 1;
                }
                if self.spare.is_none() {
                    self.spare = Some(slot.page);
                }
                freed += 1;
            }
        }
        freed
    }

    /// `F_SETPIPE_SZ` after rounding: fails (returns false) when the data in use needs more slots.
    pub fn set_max_slots(&mut self, max_slots: u32) -> bool {
        if (self.slots.len() as u32) > max_slots {
            return false;
        }
        self.max_slots = max_slots;
        true
    }

    /// Internal consistency: slot lengths add up to the bytes held, and no slot is empty or too big.
    pub fn check(&self) -> Result<(), String> {
        let total: u32 = self.slots.iter().map(|slot| (slot.end - slot.start) as u32).sum();
        if total != self.len {
            return Err(format!("pipe slots hold {total} bytes but the buffer has {}", self.len_bytes()));
        }
        if let Some(bad) = self.slots.iter().find(|slot| slot.start >= slot.end || slot.end as u32 > PAGE_SIZE) {
            let (start, end) = (bad.start, bad.end);
            return Err(format!("pipe slot {start}..{end} is empty or larger than a page"));
        }
        if self.slots.len() as u32 > self.max_slots {
            return Err(format!("pipe uses {} slots of {}", self.slots.len(), self.max_slots));
        }
        Ok(())
    }
}

/// `round_pipe_size` in `fs/pipe.c`: below a page becomes a page, otherwise the next power of two.
/// Returns `None` where Linux returns 0 (sizes above 2^31), which `F_SETPIPE_SZ` turns into `EINVAL`.
pub fn round_pipe_size(requested: u64) -> Option<u64> {
    if requested > 1 << 31 {
        return None;
    }
    if requested < PAGE_SIZE as u64 {
        return Some(PAGE_SIZE as u64);
    }
    Some(requested.next_power_of_two())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(data: &[u8]) -> Payload {
        Payload::Bytes(data.to_vec())
    }

    fn fill(len: u32, byte: u8) -> Payload {
        Payload::Fill { len, pattern: vec![byte] }
    }

    #[test]
    fn small_writes_share_a_page() {
        let mut pipe = PipeBuffer::new(65536);
        assert_eq!(pipe.fill_pages(&bytes(b"hello"), 0), (5, WriteProgress::Done));
        assert_eq!(pipe.merge_into_last_page(&bytes(b"world")), 5);
        assert_eq!(pipe.slots_used(), 1);
        let mut out = Vec::new();
        assert_eq!(pipe.read_into(100, &mut out), 1);
        assert_eq!(out, b"helloworld");
        assert!(pipe.is_empty());
    }

    #[test]
    fn a_full_pipe_is_sixteen_slots_not_65536_bytes() {
        let mut pipe = PipeBuffer::new(65536);
        for _ in 0..16 {
            pipe.fill_pages(&fill(10, b'a'), 0);
        }
        // 160 bytes in the pipe, yet no slot is free: a 4096-byte write does not fit ...
        assert!(pipe.is_full());
        assert_eq!(pipe.fill_pages(&fill(4096, b'b'), 0), (0, WriteProgress::Full));
        // ... while a small one still merges into the last page.
        assert_eq!(pipe.merge_into_last_page(&fill(100, b'c')), 100);
        assert_eq!(pipe.len_bytes(), 260);
    }

    #[test]
    fn large_write_fills_page_after_page_until_full() {
        let mut pipe = PipeBuffer::new(65536);
        let data = fill(70000, 7);
        let (taken, progress) = pipe.fill_pages(&data, 0);
        assert_eq!((taken, progress), (65536, WriteProgress::Full));
        let mut out = Vec::new();
        // Reading less than a page frees no slot.
        assert_eq!(pipe.read_into(100, &mut out), 0);
        assert!(pipe.is_full());
        assert_eq!(pipe.read_into(4000, &mut out), 1);
        assert_eq!(pipe.fill_pages(&data, 65536), (4096, WriteProgress::Full));
        pipe.check().unwrap();
    }

    #[test]
    fn merge_takes_only_the_sub_page_remainder() {
        let mut pipe = PipeBuffer::new(65536);
        pipe.fill_pages(&fill(100, 1), 0);
        // 5000 % 4096 = 904 bytes fit after the 100 already there.
        assert_eq!(pipe.merge_into_last_page(&fill(5000, 2)), 904);
        // An exact page multiple never merges.
        assert_eq!(pipe.merge_into_last_page(&fill(4096, 2)), 0);
    }

    #[test]
    fn a_pattern_payload_is_copied_in_the_pattern_s_phase() {
        let mut pipe = PipeBuffer::new(65536);
        let payload = Payload::Fill { len: 4100, pattern: b"abc".to_vec() };
        assert_eq!(pipe.fill_pages(&payload, 0), (4100, WriteProgress::Done));
        let mut out = Vec::new();
        pipe.read_into(4100, &mut out);
        assert_eq!(&out[4095..], b"abcab");
    }

    #[test]
    fn a_clone_shares_its_pages_until_one_side_writes_into_a_shared_page() {
        let mut pipe = PipeBuffer::new(65536);
        pipe.fill_pages(&fill(3 * 4096 + 10, b'a'), 0);
        assert_eq!(pipe.unshared_pages(), 4);
        let mut copy = pipe.clone();
        assert_eq!((pipe.unshared_pages(), copy.unshared_pages()), (0, 0), "a clone copies no page");
        // A merge into the shared last page copies that page only, and the original keeps its bytes.
        assert_eq!(copy.merge_into_last_page(&fill(5, b'b')), 5);
        assert_eq!((pipe.unshared_pages(), copy.unshared_pages()), (1, 1));
        assert_eq!(pipe.contents().filter(|byte| *byte == b'b').count(), 0);
        assert_eq!(copy.contents().skip(3 * 4096 + 10).collect::<Vec<u8>>(), b"bbbbb");
        // Reading from one side leaves the other's bytes as they were.
        let mut out = Vec::new();
        copy.read_into(3 * 4096 + 15, &mut out);
        assert!(copy.is_empty());
        assert_eq!(pipe.len_bytes(), 3 * 4096 + 10);
        assert_eq!(pipe.contents().count(), 3 * 4096 + 10);
        pipe.check().unwrap();
        copy.check().unwrap();
        // A page a clone still holds is never written as the spare: the next write takes a fresh page.
        let before = pipe.clone();
        let mut drained = pipe.clone();
        drained.read_into(u32::MAX, &mut Vec::new());
        drained.fill_pages(&fill(4096, b'z'), 0);
        assert_eq!(before, pipe);
        assert!(pipe.contents().all(|byte| byte == b'a'));
    }

    #[test]
    fn pipe_sizes_round_like_linux() {
        assert_eq!(round_pipe_size(0), Some(4096));
        assert_eq!(round_pipe_size(4097), Some(8192));
        assert_eq!(round_pipe_size(100_000), Some(131_072));
        assert_eq!(round_pipe_size(1 << 31), Some(1 << 31));
        assert_eq!(round_pipe_size((1 << 31) + 1), None);
    }

    #[test]
    fn shrinking_below_the_slots_in_use_fails() {
        let mut pipe = PipeBuffer::new(65536);
        pipe.fill_pages(&fill(3 * 4096, 0), 0);
        assert!(!pipe.set_max_slots(2));
        assert!(pipe.set_max_slots(4));
        assert_eq!(pipe.capacity_bytes(), 16384);
    }
}
