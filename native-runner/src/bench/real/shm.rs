//! The shared-memory mechanisms: a System V segment attached before the fork (so both processes map the
//! same frames) and marked for removal at once (so it goes when the last process detaches, however the
//! run ends). Two layouts: a slot each way, with a flag the waiting side spins on, sleeps on with a
//! futex, or guards with System V semaphores; and a ring buffer each way, whose reader checks the bytes
//! where they lie, without copying them out.

use super::janitor::{Janitor, Object};
use super::mechanism::End;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// A line of cache: the flags and counters the two sides write live on lines of their own.
const LINE: usize = 128;

pub struct Region {
    base: *mut u8,
    len: usize,
}

impl Region {
    pub fn new(len: usize, janitor: &mut Janitor) -> Result<Rc<Region>, String> {
        // SAFETY: creates a new private segment.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, len, libc::IPC_CREAT | 0o600) };
        if id < 0 {
            return Err(format!("shmget of {len} bytes: {}", std::io::Error::last_os_error()));
        }
        let object = Object::Shm(id);
        janitor.keep(&object);
        // SAFETY: attaches the segment just made, wherever the kernel chooses.
        let base = unsafe { libc::shmat(id, std::ptr::null(), 0) };
        let attached = base as isize != -1;
        let error = std::io::Error::last_os_error();
        // Marked for removal now: the attachment (inherited by the server across fork) keeps it alive.
        janitor.remove(&object);
        if !attached {
            return Err(format!("shmat: {error}"));
        }
        Ok(Rc::new(Region { base: base.cast(), len }))
    }

    fn u32_at(&self, offset: usize) -> &AtomicU32 {
        assert!(offset + 4 <= self.len && offset.is_multiple_of(4));
        // SAFETY: in bounds and aligned; the segment lives as long as `self`, and every access to the word
        // from either process is atomic.
        unsafe { &*(self.base.add(offset) as *const AtomicU32) }
    }

    fn u64_at(&self, offset: usize) -> &AtomicU64 {
        assert!(offset + 8 <= self.len && offset.is_multiple_of(8));
        // SAFETY: as for `u32_at`.
        unsafe { &*(self.base.add(offset) as *const AtomicU64) }
    }

    /// Bytes `offset..offset + len`. The caller owns them at the moment (the protocol's flag or counters
    /// hand them over with release and acquire), so nothing writes them meanwhile.
    fn bytes(&self, offset: usize, len: usize) -> &[u8] {
        assert!(offset + len <= self.len);
        // SAFETY: in bounds; see above for why nothing writes them while they are read.
        unsafe { std::slice::from_raw_parts(self.base.add(offset), len) }
    }

    fn write(&self, offset: usize, data: &[u8]) {
        assert!(offset + data.len() <= self.len);
        // SAFETY: in bounds; the bytes belong to the writer at the moment (see `bytes`).
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.base.add(offset), data.len()) };
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: detaches this process's attachment, which nothing uses any more.
        unsafe { libc::shmdt(self.base.cast()) };
    }
}

/// Whether the two ends of the case share one CPU. Set before the server is forked, so both ends have it.
static SHARED_CPU: AtomicBool = AtomicBool::new(false);

/// Says whether the two ends of the next case are pinned to one CPU.
pub fn set_shared_cpu(shared: bool) {
    SHARED_CPU.store(shared, Ordering::Relaxed);
}

/// Waits, spinning, until `ready()`, and gives up when the time limit has passed. An end spins only
/// while the other may be running on another CPU, and then yields the CPU every 64 spins; when both are
/// pinned to one CPU, it yields at every look, since spinning there only burns the time the other end
/// needs to make the awaited progress. The same rule as Linux's adaptive mutexes, which spin only while
/// the owner is on a CPU (`mutex_spin_on_owner`).
fn spin_until(mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let looks_per_yield = if SHARED_CPU.load(Ordering::Relaxed) { 1 } else { 64 };
    let mut spins: u32 = 0;
    while !ready() {
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(looks_per_yield) {
            if super::timed_out() {
                return Err("no answer within the time limit (the other end stopped)".into());
            }
            // SAFETY: yields the CPU.
            unsafe { libc::sched_yield() };
        } else {
            std::hint::spin_loop();
        }
    }
    Ok(())
}

fn futex(word: &AtomicU32, op: libc::c_int, value: u32) -> libc::c_long {
    // SAFETY: the futex word lives in the shared segment; no timeout, no second word.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            op,
            value,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        )
    }
}

#[derive(Clone, Copy)]
pub enum SlotWait {
    Spin,
    Futex,
    SysvSem(i32),
}

/// Bytes for one slot: its flag and length on a line of their own, then room for a message.
pub fn slot_bytes(size: usize) -> usize {
    (LINE + size.max(8)).next_multiple_of(4096)
}

/// Each slot's semaphores: full (a message waits) and empty (the slot is free).
pub fn init_semaphores(id: i32) -> Result<(), String> {
    // Slot 0 (requests) uses semaphores 0 (full) and 1 (empty); slot 1 (replies) 2 and 3.
    let values: [libc::c_ushort; 4] = [0, 1, 0, 1];
    // SAFETY: SETALL with an array of four values for a set of four.
    if unsafe { libc::semctl(id, 0, libc::SETALL, values.as_ptr()) } != 0 {
        return Err(format!("semctl SETALL: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

fn semop(id: i32, number: u16, delta: i16) -> Result<(), String> {
    let mut operation = libc::sembuf { sem_num: number, sem_op: delta, sem_flg: 0 };
    // SAFETY: one operation on a set this run made.
    if unsafe { libc::semop(id, &mut operation, 1) } != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::EINTR) && super::timed_out() {
            return Err("semop: no answer within the time limit (the other end stopped)".into());
        }
        return Err(format!("semop: {error}"));
    }
    Ok(())
}

/// One end of the slot mechanisms: it sends through the slot at `tx` and receives through the one at `rx`.
pub struct SlotEnd {
    region: Rc<Region>,
    tx: usize,
    rx: usize,
    wait: SlotWait,
    /// Which slot this end sends through (0 requests, 1 replies), for the semaphores' numbers.
    tx_index: u16,
}

const EMPTY: u32 = 0;
const FULL: u32 = 1;

impl SlotEnd {
    pub fn new(region: Rc<Region>, tx: usize, rx: usize, wait: SlotWait, tx_index: u16) -> SlotEnd {
        SlotEnd { region, tx, rx, wait, tx_index }
    }

    fn await_flag(&self, slot: usize, want: u32) -> Result<(), String> {
        let flag = self.region.u32_at(slot);
        match self.wait {
            SlotWait::Spin => spin_until(|| flag.load(Ordering::Acquire) == want),
            SlotWait::Futex => loop {
                let now = flag.load(Ordering::Acquire);
                if now == want {
                    return Ok(());
                }
                if futex(flag, libc::FUTEX_WAIT, now) != 0 {
                    let error = std::io::Error::last_os_error();
                    match error.raw_os_error() {
                        Some(libc::EAGAIN) => {}
                        Some(libc::EINTR) if super::timed_out() => {
                            return Err("futex: no answer within the time limit (the other end stopped)".into())
                        }
                        Some(libc::EINTR) => {}
                        _ => return Err(format!("futex wait: {error}")),
                    }
                }
            },
            SlotWait::SysvSem(_) => Ok(()),
        }
    }

    fn set_flag(&self, slot: usize, value: u32) {
        let flag = self.region.u32_at(slot);
        flag.store(value, Ordering::Release);
        if let SlotWait::Futex = self.wait {
            futex(flag, libc::FUTEX_WAKE, 1);
        }
    }
}

impl End for SlotEnd {
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        let (full, empty) = (2 * self.tx_index, 2 * self.tx_index + 1);
        match self.wait {
            SlotWait::SysvSem(id) => semop(id, empty, -1)?,
            _ => self.await_flag(self.tx, EMPTY)?,
        }
        self.region.write(self.tx + LINE, message);
        self.region.u32_at(self.tx + 4).store(message.len() as u32, Ordering::Relaxed);
        match self.wait {
            SlotWait::SysvSem(id) => semop(id, full, 1),
            _ => {
                self.set_flag(self.tx, FULL);
                Ok(())
            }
        }
    }

    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String> {
        let rx_index = 1 - self.tx_index;
        let (full, empty) = (2 * rx_index, 2 * rx_index + 1);
        match self.wait {
            SlotWait::SysvSem(id) => semop(id, full, -1)?,
            _ => self.await_flag(self.rx, FULL)?,
        }
        let len = self.region.u32_at(self.rx + 4).load(Ordering::Relaxed) as usize;
        if len != expected.len() {
            return Err(format!("the slot holds {len} bytes where {} were stored", expected.len()));
        }
        // Checked where they lie: the reader of shared memory needs no copy of its own.
        if self.region.bytes(self.rx + LINE, len) != expected {
            return Err("the slot's bytes differ from those stored".into());
        }
        match self.wait {
            SlotWait::SysvSem(id) => semop(id, empty, 1),
            _ => {
                self.set_flag(self.rx, EMPTY);
                Ok(())
            }
        }
    }
}

/// Bytes for one ring: the writer's counter and the reader's on lines of their own, then the ring.
pub fn ring_bytes() -> usize {
    2 * LINE + RING
}

/// The ring's capacity: a power of two, small enough to stay in a core's cache.
pub const RING: usize = 256 << 10;

/// The most the writer copies in before publishing, and the reader checks before handing back. Measured
/// on the 2-vCPU machine of the README (1 MiB messages, ends on two CPUs): 8 KiB 7.9 GB/s, 32 KiB 8.5,
/// the whole free space (up to 256 KiB) 7.2; 4 KiB falls to 2.0.
pub const PIECE: usize = 32 << 10;

/// One end of the ring mechanism: it writes into the ring at `tx` and reads from the one at `rx`. The
/// counters count bytes since the start and never wrap (2^64 bytes).
pub struct RingEnd {
    region: Rc<Region>,
    tx: usize,
    rx: usize,
}

impl RingEnd {
    pub fn new(region: Rc<Region>, tx: usize, rx: usize) -> RingEnd {
        RingEnd { region, tx, rx }
    }
}

impl End for RingEnd {
    fn send(&mut self, message: &[u8]) -> Result<(), String> {
        let (written, read) = (self.region.u64_at(self.tx), self.region.u64_at(self.tx + LINE));
        let data = self.tx + 2 * LINE;
        let mut head = written.load(Ordering::Relaxed);
        let mut done = 0;
        while done < message.len() {
            let mut tail = read.load(Ordering::Acquire);
            if head - tail == RING as u64 {
                spin_until(|| {
                    tail = read.load(Ordering::Acquire);
                    head - tail < RING as u64
                })?;
            }
            let at = (head % RING as u64) as usize;
            // Published a piece at a time, so that the reader works on one piece while the next is written.
            let room = (RING - (head - tail) as usize).min(RING - at).min(message.len() - done).min(PIECE);
            self.region.write(data + at, &message[done..done + room]);
            done += room;
            head += room as u64;
            written.store(head, Ordering::Release);
        }
        Ok(())
    }

    fn recv_check(&mut self, expected: &[u8]) -> Result<(), String> {
        let (written, read) = (self.region.u64_at(self.rx), self.region.u64_at(self.rx + LINE));
        let data = self.rx + 2 * LINE;
        let mut tail = read.load(Ordering::Relaxed);
        let mut done = 0;
        while done < expected.len() {
            let mut head = written.load(Ordering::Acquire);
            if head == tail {
                spin_until(|| {
                    head = written.load(Ordering::Acquire);
                    head != tail
                })?;
            }
            let at = (tail % RING as u64) as usize;
            let ready = ((head - tail) as usize).min(RING - at).min(expected.len() - done).min(PIECE);
            if self.region.bytes(data + at, ready) != &expected[done..done + ready] {
                return Err(format!("the ring's bytes differ from those written, in bytes {done}..{}", done + ready));
            }
            done += ready;
            tail += ready as u64;
            read.store(tail, Ordering::Release);
        }
        Ok(())
    }
}
