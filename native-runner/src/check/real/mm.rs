//! Memory on Linux: `mmap`, `munmap`, `mprotect`, and the memory instructions (`load`, `store`,
//! `fetch_add`, `compare_exchange`) and copies (`store_bytes`, `load_bytes`: a `memcpy`) done for real
//! on the real mappings.
//!
//! The simulator picks a new mapping's address itself (the lowest free range from
//! `sim_core::kernel::mm::MAP_BASE` up), and a scenario sees it. So that the real process maps at the
//! same address, it keeps its own list of the ranges the scenario mapped ([`Ranges`], fixed-size and
//! inherited across `fork` with the rest of its memory), searches it as the simulator searches its
//! address space, and asks Linux for that address (`MAP_FIXED_NOREPLACE`, or `shmat` with an
//! address; a POSIX shared memory object's descriptor is mapped the same way). An instruction is the one real x86-64 instruction (`mov`, `lock xadd`, `lock cmpxchg`)
//! through the pointer the scenario computed: outside every mapping, or into a page not open for writing, the CPU
//! faults and Linux delivers a real `SIGSEGV`; in a page past the end of a shared memory object, a real
//! `SIGBUS`.

use super::fd::payload_bytes;
use super::sys::{exit_now, Region};
use super::{call, exit_code, guard, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::kernel::mm::{MAP_BASE, TASK_SIZE};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::mman::page_align;

/// The most ranges a real process keeps track of: as many as there are pages under the simulator's
/// default `max_mapped_bytes` (64 MiB), a range being a page at least (256 KiB of memory, untouched
/// until used). A scenario that maps more separate ranges (pages it never touches do not count
/// toward that limit) is no longer followed: its next mapping differs from the simulator's.
const MOST_RANGES: usize = 16 << 10;

/// The ranges the scenario mapped, `[start, end)`, in address order.
pub struct Ranges {
    ranges: [(u64, u64); MOST_RANGES],
    len: usize,
}

struct RangesCell(std::cell::UnsafeCell<Ranges>);

// SAFETY: a real process is single-threaded, and the list is touched only between system calls of the
// level running now (a handler runs on top of a level stopped in a system call).
unsafe impl Sync for RangesCell {}

static RANGES: RangesCell = RangesCell(std::cell::UnsafeCell::new(Ranges { ranges: [(0, 0); MOST_RANGES], len: 0 }));

/// The process's list of ranges.
pub fn ranges() -> &'static mut Ranges {
    // SAFETY: see `RangesCell`.
    unsafe { &mut *RANGES.0.get() }
}

impl Ranges {
    fn list(&self) -> &[(u64, u64)] {
        &self.ranges[..self.len]
    }

    /// The lowest free range of `len` bytes from `MAP_BASE` up, as the simulator finds it.
    pub fn free_range(&self, len: u64) -> Option<u64> {
        let mut at = MAP_BASE;
        for &(start, end) in self.list() {
            if end <= at {
                continue;
            }
            if start >= at + len {
                break;
            }
            at = end;
        }
        (at + len <= TASK_SIZE).then_some(at)
    }

    /// Notes a new range.
    pub fn add(&mut self, start: u64, end: u64) {
        if self.len == MOST_RANGES {
            return;
        }
        let at = self.list().partition_point(|range| range.0 < start);
        self.ranges.copy_within(at..self.len, at + 1);
        self.ranges[at] = (start, end);
        self.len += 1;
    }

    /// Forgets `[start, end)`, cutting the ranges it overlaps (in place: a handler may run this, on a
    /// stack with no room for a copy of the list).
    pub fn remove(&mut self, start: u64, end: u64) {
        let mut index = 0;
        while index < self.len {
            let (from, to) = self.ranges[index];
            if to <= start || from >= end {
                index += 1;
                continue;
            }
            let (below, above) = ((from, start.max(from)), (end.min(to), to));
            match (below.0 < below.1, above.0 < above.1) {
                // A hole in the middle: the range becomes two (the one above dropped if the list is full).
                (true, true) => {
                    self.ranges[index] = below;
                    if self.len < MOST_RANGES {
                        self.ranges.copy_within(index + 1..self.len, index + 2);
                        self.ranges[index + 1] = above;
                        self.len += 1;
                    }
                    index += 2;
                }
                (true, false) => {
                    self.ranges[index] = below;
                    index += 1;
                }
                (false, true) => {
                    self.ranges[index] = above;
                    index += 1;
                }
                (false, false) => {
                    self.ranges.copy_within(index + 1..self.len, index);
                    self.len -= 1;
                }
            }
        }
    }

    /// The end of the range that starts at `start`, if one does.
    pub fn end_of(&self, start: u64) -> Option<u64> {
        self.list().iter().find(|range| range.0 == start).map(|range| range.1)
    }
}

/// Maps at the address the simulator picks (anonymous memory, or the file open on `fd` from `offset`).
fn mmap(length: i64, prot: i64, flags: i64, fd: i64, offset: i64) -> Out<'static> {
    let len = if length > 0 { page_align(length as u64) } else { 0 };
    let address = ranges().free_range(len).unwrap_or(0);
    let flags = flags | libc::MAP_FIXED_NOREPLACE as i64;
    let result = call(libc::SYS_mmap, &[address as i64, length, prot, flags, guard(fd), offset]);
    if result >= 0 {
        ranges().add(result as u64, result as u64 + len);
    }
    value_or_errno(result)
}

// The four instructions, each exactly the one x86-64 instruction the simulator's step stands for, at any
// alignment (x86-64 allows a misaligned access, and a locked one across cache lines).
//
// SAFETY (all four): the scenario's own access, made for real at the address it computed. An address it
// may not touch faults, and the process dies of the real SIGSEGV, as the simulated one does; the
// runner's own memory is never at the scenario's addresses (see `Ranges`), and nothing of the runner
// relies on what the instruction changes.

fn load(pointer: *mut i64) -> i64 {
    let value: i64;
    unsafe {
        std::arch::asm!("mov {value}, qword ptr [{pointer}]", pointer = in(reg) pointer, value = out(reg) value, options(nostack, readonly))
    };
    value
}

fn store(pointer: *mut i64, value: i64) {
    unsafe {
        std::arch::asm!("mov qword ptr [{pointer}], {value}", pointer = in(reg) pointer, value = in(reg) value, options(nostack))
    };
}

fn fetch_add(pointer: *mut i64, value: i64) -> i64 {
    let mut old = value;
    unsafe {
        std::arch::asm!("lock xadd qword ptr [{pointer}], {old}", pointer = in(reg) pointer, old = inout(reg) old, options(nostack))
    };
    old
}

fn compare_exchange(pointer: *mut i64, expected: i64, new: i64) -> i64 {
    let mut old = expected;
    unsafe {
        std::arch::asm!("lock cmpxchg qword ptr [{pointer}], {new}", pointer = in(reg) pointer, new = in(reg) new, inout("rax") old, options(nostack))
    };
    old
}

/// The pointer to the integer an instruction works on.
fn pointer(command: &CallView) -> *mut i64 {
    (command.arg(0) as u64).wrapping_add(command.arg(1) as u64) as *mut i64
}

/// `store_bytes`: the payload copied to the address the scenario computed, with a real `memcpy` for the
/// part of each page, page after page. A page the scenario may not write faults for real when the copy
/// reaches it, and the pages before it are written whole, whatever order one `memcpy` would store in
/// (glibc's stores a long copy's first bytes last); nothing is written to that page, which no store can
/// change.
fn store_bytes(command: &CallView, data: &mut Region) -> Out<'static> {
    const PAGE: usize = 4096;
    let bytes = payload_bytes(command, data);
    let start = pointer(command) as usize;
    let mut done = 0;
    while done < bytes.len() {
        let at = start.wrapping_add(done);
        let take = (PAGE - at % PAGE).min(bytes.len() - done);
        // SAFETY: as for the instructions above; a page the scenario may not write faults for real.
        unsafe { std::ptr::copy_nonoverlapping(bytes[done..].as_ptr(), at as *mut u8, take) };
        done += take;
    }
    Reply::Value(0)
}

/// `load_bytes`: COUNT bytes copied from the address the scenario computed into `data`.
fn load_bytes<'a>(command: &CallView, data: &'a mut Region) -> Out<'a> {
    let Some(bytes) = data.ensure(command.arg(2).max(0) as usize) else { exit_now(exit_code::NO_MEMORY) };
    // SAFETY: as for the instructions above; a page the scenario may not read faults for real.
    unsafe { std::ptr::copy_nonoverlapping(pointer(command) as *const u8, bytes.as_mut_ptr(), bytes.len()) };
    Reply::Data(bytes)
}

pub fn perform<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    match command.id {
        // FD and OFFSET are left out of the command when the scenario leaves them out (-1 and 0).
        CallId::Mmap => {
            let offset = if command.count() > 4 { command.arg(4) } else { 0 };
            mmap(command.arg(0), command.arg(1), command.arg(2), command.arg(3), offset)
        }
        CallId::Munmap => {
            let result = call(libc::SYS_munmap, &[command.arg(0), command.arg(1)]);
            if result == 0 {
                let start = command.arg(0) as u64;
                ranges().remove(start, start.saturating_add(page_align(command.arg(1) as u64)));
            }
            value_or_errno(result)
        }
        CallId::Mprotect => value_or_errno(call(libc::SYS_mprotect, &[command.arg(0), command.arg(1), command.arg(2)])),
        CallId::Load => Reply::Value(load(pointer(command))),
        CallId::Store => {
            store(pointer(command), command.arg(2));
            Reply::Value(0)
        }
        CallId::FetchAdd => Reply::Value(fetch_add(pointer(command), command.arg(2))),
        CallId::CompareExchange => Reply::Value(compare_exchange(pointer(command), command.arg(2), command.arg(3))),
        CallId::StoreBytes => store_bytes(command, data),
        // No timeout: a wait sleeps until a wake or a signal.
        CallId::Futex => value_or_errno(call(libc::SYS_futex, &[command.arg(0), command.arg(1), command.arg(2), 0])),
        CallId::LoadBytes => load_bytes(command, data),
        other => not_this_mechanism(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instructions_read_and_write_the_integer_at_any_alignment() {
        let mut words = [0i64; 3];
        let base = words.as_mut_ptr();
        store(base, 5);
        assert_eq!(fetch_add(base, 2), 5);
        assert_eq!(compare_exchange(base, 6, 9), 7, "no exchange: the value is not the one expected");
        assert_eq!(compare_exchange(base, 7, 9), 7);
        assert_eq!(load(base), 9);
        let odd = (base as usize + 3) as *mut i64;
        store(odd, -1);
        assert_eq!(load(odd), -1);
        assert_eq!(fetch_add(odd, 1), -1);
        assert_eq!(load(odd), 0);
    }

    #[test]
    fn the_ranges_find_the_address_the_simulator_picks() {
        let mut ranges = Ranges { ranges: [(0, 0); MOST_RANGES], len: 0 };
        assert_eq!(ranges.free_range(4096), Some(MAP_BASE));
        ranges.add(MAP_BASE, MAP_BASE + 3 * 4096);
        ranges.remove(MAP_BASE + 4096, MAP_BASE + 2 * 4096);
        assert_eq!(ranges.list(), [(MAP_BASE, MAP_BASE + 4096), (MAP_BASE + 2 * 4096, MAP_BASE + 3 * 4096)]);
        assert_eq!(ranges.free_range(4096), Some(MAP_BASE + 4096));
        assert_eq!(ranges.free_range(2 * 4096), Some(MAP_BASE + 3 * 4096));
        assert_eq!(ranges.end_of(MAP_BASE + 2 * 4096), Some(MAP_BASE + 3 * 4096));
    }

    #[test]
    fn the_ranges_follow_hundreds_of_mappings() {
        let page = 4096;
        let mut ranges = Box::new(Ranges { ranges: [(0, 0); MOST_RANGES], len: 0 });
        // Three hundred one-page mappings, one above the other (256 was once the most kept).
        for index in 0..300 {
            let at = ranges.free_range(page).unwrap();
            assert_eq!(at, MAP_BASE + index * page);
            ranges.add(at, at + page);
        }
        assert_eq!(ranges.free_range(page), Some(MAP_BASE + 300 * page));
        // Then one of three pages, whose middle page is unmapped: it becomes two.
        ranges.add(MAP_BASE + 300 * page, MAP_BASE + 303 * page);
        ranges.remove(MAP_BASE + 301 * page, MAP_BASE + 302 * page);
        assert_eq!(ranges.len, 302);
        assert_eq!(
            &ranges.list()[300..],
            [(MAP_BASE + 300 * page, MAP_BASE + 301 * page), (MAP_BASE + 302 * page, MAP_BASE + 303 * page)]
        );
        // An unmapping of pages 10 to 18, then of the first and the last.
        ranges.remove(MAP_BASE + 10 * page, MAP_BASE + 19 * page);
        assert_eq!(ranges.len, 293);
        assert_eq!(ranges.free_range(2 * page), Some(MAP_BASE + 10 * page));
        ranges.remove(MAP_BASE, MAP_BASE + page);
        ranges.remove(MAP_BASE + 302 * page, MAP_BASE + 303 * page);
        assert_eq!(ranges.len, 291);
        assert_eq!(ranges.free_range(page), Some(MAP_BASE));
        assert_eq!(ranges.list().last(), Some(&(MAP_BASE + 300 * page, MAP_BASE + 301 * page)));
        assert!(ranges.list().windows(2).all(|pair| pair[0].1 <= pair[1].0), "in order, apart");
    }
}
