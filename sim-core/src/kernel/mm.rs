//! Physical memory as page frames, each process's address space, the mapping calls (`mmap`, `munmap`,
//! `mprotect`) and the memory instructions a scenario runs on mapped memory (`load`, `store`,
//! `fetch_add`, `compare_exchange`).
//!
//! **Frames.** Memory is a table of page frames of [`PAGE`] bytes, each with a reference count: one per
//! page-table entry that maps it, plus one for a kernel object that holds it (a System V segment,
//! [`super::shm`]). A frame goes when its count falls to 0, never before. A frame's bytes sit behind an
//! `Arc` and are `None` while they are all zero, so a clone of the kernel (a playground checkpoint, the
//! explorer's) shares every frame's bytes and copies a page only when one side writes it.
//!
//! **Address spaces.** A process's [`AddressSpace`] is a list of [`Mapping`]s in address order (Linux's
//! VMAs), each a run of pages with one protection and one backing, and a page-table entry per page
//! ([`Pte`]: the frame, and whether the page is copy-on-write). The model fills the page tables when a
//! mapping is made, where Linux fills them at the first touch (`handle_mm_fault`): no scenario can tell
//! the two apart, and the pictures then show every page's frame from the start. An address the caller
//! leaves to the kernel is the lowest free range from [`MAP_BASE`] up (the bottom-up search of
//! `generic_get_unmapped_area` in `mm/mmap.c`); Linux's own addresses are randomised, so none is more
//! right than another, and `ipclab check` asks Linux for the simulator's.
//!
//! **`fork`** (`dup_mmap` in `kernel/fork.c`) gives the child a copy of the page tables: a shared
//! mapping's entries point at the same frames; a private one's entries, in both processes, become
//! copy-on-write (`copy_present_pte` write-protects both). A write to such a page faults
//! (`do_wp_page`): if another entry still maps the frame, the writer gets a copy of it (`wp_page_copy`,
//! recorded as a [`EventKind::PageCopied`] event); if it is the last, the page is simply made writable
//! again (`wp_page_reuse`).
//!
//! **Instructions.** A load or a store is one step, not a system call: its 8 bytes are read or written
//! little-endian, and may cross a page boundary as x86-64 allows. An address no mapping covers, a page
//! mapped `PROT_NONE`, or a store to a page not mapped for writing is a fault: the process gets
//! `SIGSEGV` (`do_user_addr_fault` -> `bad_area`), and a store that faults writes nothing.
//! `store_bytes` and `load_bytes` are a `memcpy` into or out of memory, also one step. `store_bytes`
//! goes forward page by page: at a page it may not write it faults, and the pages before it keep what
//! it wrote (the checker's real arm copies each page's part with its own `memcpy`, so that what a fault
//! leaves does not hang on the order one long `memcpy` stores in; glibc's `rep movsb` for a long copy
//! also leaves exactly that). `load_bytes` checks every page before a byte moves.

use super::fd::FileObject;
use super::process::Handed;
use super::{CallContext, Exec, Kernel, Mechanism};
use super::{Interruption, WokenCall};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EACCES, EAGAIN, EBADF, EFAULT, EINVAL, ENODEV, ENOMEM, ENOSYS, EOVERFLOW};
use crate::linux::mman::{
    page_align, FUTEX_PRIVATE_FLAG, FUTEX_WAIT, FUTEX_WAKE, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MAP_TYPE,
    PROT_READ, PROT_WRITE,
};
use crate::linux::signal::{Signal, SIGBUS, SIGSEGV};
use crate::present::snapshot::{AddressSpaceView, MappingView, ObjectView, PageView};
use crate::trace::{BlockReason, CallResult, Event, EventKind, ObjectRef, Pid, StateHasher, Trace, WakeCause};
use std::sync::Arc;

/// Bytes in a page frame and in a virtual page.
pub const PAGE: usize = crate::linux::mman::PAGE_SIZE as usize;

/// Where the kernel starts looking for room for a mapping whose address the caller leaves to it.
pub const MAP_BASE: u64 = 0x6000_0000_0000;

/// The highest address a mapping may reach (x86-64's user address space with 4-level page tables).
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;

/// The frame of a page-table entry for a page past the end of the shared memory object it maps: no
/// frame, and touching the page is `SIGBUS`.
pub const NO_FRAME: u32 = u32::MAX;

/// A frame's bytes: `None` while all zero.
pub type FrameData = Option<Arc<[u8; PAGE]>>;

/// One page frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub data: FrameData,
    /// Page-table entries and kernel objects pointing at it.
    pub refs: u32,
}

/// Physical memory: every frame in use, by number (a freed one leaves `None`, reused from `free`).
#[derive(Clone, Debug, Default)]
pub struct Frames {
    pub slots: Vec<Option<Frame>>,
    free: Vec<u32>,
    /// Frames in use.
    pub in_use: u32,
}

impl Frames {
    /// A new frame with one reference.
    pub fn alloc(&mut self, data: FrameData) -> u32 {
        self.in_use += 1;
        let frame = Frame { data, refs: 1 };
        match self.free.pop() {
            Some(number) => {
                self.slots[number as usize] = Some(frame);
                number
            }
            None => {
                self.slots.push(Some(frame));
                self.slots.len() as u32 - 1
            }
        }
    }

    pub fn get(&self, number: u32) -> &Frame {
        self.slots[number as usize].as_ref().expect("a frame in use")
    }

    fn get_mut(&mut self, number: u32) -> &mut Frame {
        self.slots[number as usize].as_mut().expect("a frame in use")
    }

    /// One more reference to a frame.
    pub fn hold(&mut self, number: u32) {
        self.get_mut(number).refs += 1;
    }

    /// One reference fewer; the frame is freed with its last.
    pub fn release(&mut self, number: u32) {
        let frame = self.get_mut(number);
        frame.refs -= 1;
        if frame.refs == 0 {
            self.slots[number as usize] = None;
            self.free.push(number);
            self.in_use -= 1;
        }
    }

    /// The byte at `offset` of a frame.
    fn byte(&self, number: u32, offset: usize) -> u8 {
        self.get(number).data.as_ref().map_or(0, |data| data[offset])
    }

    /// Writes a byte of a frame, copying its bytes first if a clone of the kernel shares them.
    pub(crate) fn set_byte(&mut self, number: u32, offset: usize, value: u8) {
        let data = self.get_mut(number).data.get_or_insert_with(|| Arc::new([0; PAGE]));
        Arc::make_mut(data)[offset] = value;
    }

    /// Copies `bytes` into a frame from `offset` on (copying its bytes first if a clone shares them).
    pub(crate) fn write_bytes(&mut self, number: u32, offset: usize, bytes: &[u8]) {
        let data = self.get_mut(number).data.get_or_insert_with(|| Arc::new([0; PAGE]));
        Arc::make_mut(data)[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    /// Appends `len` bytes of a frame from `offset` on to `out`.
    pub(crate) fn read_bytes(&self, number: u32, offset: usize, len: usize, out: &mut Vec<u8>) {
        match &self.get(number).data {
            Some(data) => out.extend_from_slice(&data[offset..offset + len]),
            None => out.resize(out.len() + len, 0),
        }
    }

    /// Frames whose bytes were written (a frame of zeros holds no page of its own).
    pub fn written(&self) -> u64 {
        self.slots.iter().flatten().filter(|frame| frame.data.is_some()).count() as u64
    }
}

/// A page-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pte {
    pub frame: u32,
    /// Write-protected since a `fork` shared it: a write copies the frame first, or takes it back
    /// if no one else maps it any more.
    pub cow: bool,
}

/// What a mapping maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// `MAP_ANONYMOUS`: zeros, shared with children (`MAP_SHARED`) or copied on write after a fork.
    Anonymous { shared: bool },
    /// A System V segment, by its index in the segment table and its id.
    Shm { index: u32, id: i32 },
    /// A POSIX shared memory object, by its number, mapped `MAP_SHARED` or `MAP_PRIVATE`
    /// (copy-on-write).
    PosixShm { object: u32, shared: bool },
}

impl Backing {
    /// Whether a write to a page shared with another entry copies it first.
    pub fn is_private(self) -> bool {
        matches!(self, Backing::Anonymous { shared: false } | Backing::PosixShm { shared: false, .. })
    }
}

/// A run of pages with one protection and one backing (a VMA).
#[derive(Clone, Debug)]
pub struct Mapping {
    pub start: u64,
    pub ptes: Vec<Pte>,
    /// `PROT_READ`, `PROT_WRITE` bits.
    pub prot: i64,
    /// The protections `mprotect` may give it (a segment attached `SHM_RDONLY` may never be written:
    /// `VM_MAYWRITE` is clear).
    pub max_prot: i64,
    pub backing: Backing,
    /// Where its first page is in what it maps, in pages (`vm_pgoff`): 0 but for a piece split off.
    pub pgoff: u32,
}

impl Mapping {
    pub fn end(&self) -> u64 {
        self.start + (self.ptes.len() * PAGE) as u64
    }

    pub fn len(&self) -> u64 {
        (self.ptes.len() * PAGE) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.ptes.is_empty()
    }
}

/// A process's mappings, in address order, none overlapping.
#[derive(Clone, Debug, Default)]
pub struct AddressSpace {
    pub mappings: Vec<Mapping>,
}

impl AddressSpace {
    /// The lowest free range of `len` bytes from [`MAP_BASE`] up.
    pub fn free_range(&self, len: u64) -> Option<u64> {
        let mut at = MAP_BASE;
        for mapping in &self.mappings {
            if mapping.end() <= at {
                continue;
            }
            if mapping.start >= at + len {
                break;
            }
            at = mapping.end();
        }
        (at + len <= TASK_SIZE).then_some(at)
    }

    /// Puts a mapping in its place in address order.
    pub fn insert(&mut self, mapping: Mapping) {
        let at = self.mappings.partition_point(|other| other.start < mapping.start);
        self.mappings.insert(at, mapping);
    }

    /// The mapping that covers `address`, by index.
    pub fn find(&self, address: u64) -> Option<usize> {
        let at = self.mappings.partition_point(|mapping| mapping.end() <= address);
        self.mappings.get(at).filter(|mapping| mapping.start <= address).map(|_| at)
    }

    /// Bytes mapped.
    pub fn mapped_bytes(&self) -> u64 {
        self.mappings.iter().map(Mapping::len).sum()
    }
}

impl Kernel {
    /// Whether `pages` more frames fit under [`crate::Limits::max_mapped_bytes`].
    pub(crate) fn frames_fit(&self, pages: u64) -> bool {
        (self.frames.in_use as u64).saturating_add(pages).saturating_mul(PAGE as u64) <= self.limits.max_mapped_bytes
    }

    /// Ends the run at [`crate::Limits::max_mapped_bytes`].
    pub(crate) fn halt_mapped(&mut self, bytes: u64) -> Exec {
        let detail = format!(
            "this call would need {bytes} more bytes of page frames, past the {} bytes all mappings may hold at once",
            self.limits.max_mapped_bytes
        );
        self.halt("max_mapped_bytes", detail)
    }
}

/// A shared memory segment's or object's part in a mapping being made, split or dropped (`shm_open`,
/// `shm_close`; a VMA's hold on its file).
fn shm_attach_changed(kernel: &mut Kernel, backing: Backing, pid: Pid, delta: i32, trace: &mut Trace) {
    match backing {
        Backing::Shm { index, .. } => super::shm::attach_changed(kernel, index, pid, delta, trace),
        Backing::PosixShm { object, .. } => super::posix_shm::mapping_changed(kernel, object, delta),
        Backing::Anonymous { .. } => {}
    }
}

/// Drops a mapping's page-table entries (and its part in a segment or object).
fn drop_mapping(kernel: &mut Kernel, pid: Pid, mapping: Mapping, trace: &mut Trace) {
    for pte in &mapping.ptes {
        if pte.frame != NO_FRAME {
            kernel.frames.release(pte.frame);
        }
    }
    shm_attach_changed(kernel, mapping.backing, pid, -1, trace);
}

/// Splits the mapping at index `at` so that one starts at `address` (inside it); the new piece keeps
/// the entries from there on. A piece of a segment's mapping counts as an attach of its own, as each
/// VMA does (`__split_vma` calls `shm_open`).
fn split(kernel: &mut Kernel, pid: Pid, at: usize, address: u64, trace: &mut Trace) {
    let mapping = &mut kernel.proc_mut(pid).mm.mappings[at];
    let pages = ((address - mapping.start) / PAGE as u64) as usize;
    let tail = Mapping {
        start: address,
        ptes: mapping.ptes.split_off(pages),
        pgoff: mapping.pgoff + pages as u32,
        ..mapping.clone()
    };
    let backing = tail.backing;
    kernel.proc_mut(pid).mm.mappings.insert(at + 1, tail);
    shm_attach_changed(kernel, backing, pid, 1, trace);
}

/// Splits mappings so that none crosses `start` or `end`.
fn split_at_edges(kernel: &mut Kernel, pid: Pid, start: u64, end: u64, trace: &mut Trace) {
    for edge in [start, end] {
        if let Some(at) = kernel.process(pid).mm.find(edge) {
            if kernel.process(pid).mm.mappings[at].start != edge {
                split(kernel, pid, at, edge, trace);
            }
        }
    }
}

/// Unmaps `[start, end)` (`do_vmi_munmap`): pages not mapped are skipped.
pub(crate) fn unmap_range(kernel: &mut Kernel, pid: Pid, start: u64, end: u64, trace: &mut Trace) {
    split_at_edges(kernel, pid, start, end, trace);
    let mappings = std::mem::take(&mut kernel.proc_mut(pid).mm.mappings);
    let (gone, kept): (Vec<Mapping>, Vec<Mapping>) =
        mappings.into_iter().partition(|mapping| mapping.start >= start && mapping.end() <= end);
    kernel.proc_mut(pid).mm.mappings = kept;
    for mapping in gone {
        drop_mapping(kernel, pid, mapping, trace);
    }
}

/// Puts a new mapping of `ptes` into `pid`'s address space at the lowest free range, returning its
/// address; `None` when no range is free.
pub(crate) fn map(
    kernel: &mut Kernel,
    pid: Pid,
    ptes: Vec<Pte>,
    prot: i64,
    max_prot: i64,
    backing: Backing,
    pgoff: u32,
) -> Option<u64> {
    let len = (ptes.len() * PAGE) as u64;
    let start = kernel.process(pid).mm.free_range(len)?;
    if kernel.footprint.enabled {
        for pte in ptes.iter().filter(|pte| pte.frame != NO_FRAME) {
            kernel.footprint.write(ObjectRef::frame(pte.frame));
        }
    }
    kernel.proc_mut(pid).mm.insert(Mapping { start, ptes, prot, max_prot, backing, pgoff });
    Some(start)
}

/// A mapping's length in whole pages: `EINVAL` for none, `ENOMEM` past the address space.
fn mapping_length(length: i64) -> Result<u64, Exec> {
    if length <= 0 {
        return Err(Kernel::error(EINVAL));
    }
    let len = page_align(length as u64);
    if len > TASK_SIZE {
        return Err(Kernel::error(ENOMEM));
    }
    Ok(len)
}

/// `mmap(NULL, length, prot, flags, fd, offset)` (x86-64's `sys_mmap`, `ksys_mmap_pgoff`, `do_mmap`):
/// anonymous memory, or a POSIX shared memory object's pages.
fn mmap(kernel: &mut Kernel, pid: Pid, length: i64, prot: i64, flags: i64, fd: i64, offset: i64) -> Exec {
    // `sys_mmap` refuses an offset that is not a multiple of the page size before anything else.
    if !(offset as u64).is_multiple_of(PAGE as u64) {
        return Kernel::error(EINVAL);
    }
    // `ksys_mmap_pgoff`: without MAP_ANONYMOUS the descriptor is looked up.
    if flags & MAP_ANONYMOUS == 0 {
        let Some(file) = kernel.file_used(pid, fd) else { return Kernel::error(EBADF) };
        return mmap_file(kernel, pid, length, prot, flags, file, offset);
    }
    let shared = match flags & MAP_TYPE {
        MAP_SHARED => true,
        MAP_PRIVATE => false,
        _ => return Kernel::error(EINVAL),
    };
    let len = match mapping_length(length) {
        Ok(len) => len,
        Err(error) => return error,
    };
    let pages = len / PAGE as u64;
    if !kernel.frames_fit(pages) {
        return kernel.halt_mapped(len);
    }
    if kernel.process(pid).mm.free_range(len).is_none() {
        return Kernel::error(ENOMEM);
    }
    let ptes = (0..pages).map(|_| Pte { frame: kernel.frames.alloc(None), cow: false }).collect();
    let prot = prot & (PROT_READ | PROT_WRITE);
    let address = map(kernel, pid, ptes, prot, PROT_READ | PROT_WRITE, Backing::Anonymous { shared }, 0)
        .expect("a free range was found");
    Exec::Done(CallResult::Value { value: address as i64 })
}

/// `do_mmap` of an open file: only a POSIX shared memory object's file can be mapped (`shmem_mmap`);
/// its pages from `offset` on are mapped, those past its end without a frame (see [`NO_FRAME`]).
fn mmap_file(kernel: &mut Kernel, pid: Pid, length: i64, prot: i64, flags: i64, file: u32, offset: i64) -> Exec {
    let len = match mapping_length(length) {
        Ok(len) => len,
        Err(error) => return error,
    };
    let pages = len / PAGE as u64;
    // `do_mmap`: the page offset must not wrap (`EOVERFLOW`); the model keeps it in 32 bits.
    let pgoff = (offset as u64) / PAGE as u64;
    if offset < 0 || pgoff + pages > u32::MAX as u64 {
        return Kernel::error(EOVERFLOW);
    }
    if kernel.process(pid).mm.free_range(len).is_none() {
        return Kernel::error(ENOMEM);
    }
    let open = kernel.file(file);
    let (readable, writable, object) = (open.readable, open.writable, open.object);
    let shared = match flags & MAP_TYPE {
        MAP_SHARED => true,
        MAP_PRIVATE => false,
        _ => return Kernel::error(EINVAL),
    };
    // `do_mmap`'s checks of the file's mode: a shared writable mapping needs a file open for
    // writing, any mapping one open for reading; then the file must know `mmap` (`ENODEV`).
    if shared && prot & PROT_WRITE != 0 && !writable {
        return Kernel::error(EACCES);
    }
    if !readable {
        return Kernel::error(EACCES);
    }
    let FileObject::ShmObject(id) = object else { return Kernel::error(ENODEV) };
    // A shared mapping of a file not open for writing may never be made writable (`VM_MAYWRITE`).
    let max_prot = if shared && !writable { PROT_READ } else { PROT_READ | PROT_WRITE };
    let frames = &kernel.shm_object(id).expect("an open object exists").frames;
    let ptes: Vec<Pte> = (pgoff..pgoff + pages)
        .map(|page| match frames.get(page as usize) {
            Some(frame) => Pte { frame: *frame, cow: !shared },
            None => Pte { frame: NO_FRAME, cow: false },
        })
        .collect();
    for pte in ptes.iter().filter(|pte| pte.frame != NO_FRAME) {
        kernel.frames.hold(pte.frame);
    }
    let prot = prot & (PROT_READ | PROT_WRITE);
    let backing = Backing::PosixShm { object: id, shared };
    let address = map(kernel, pid, ptes, prot, max_prot, backing, pgoff as u32).expect("a free range was found");
    super::posix_shm::mapping_changed(kernel, id, 1);
    Exec::Done(CallResult::Value { value: address as i64 })
}

/// `munmap(addr, length)`.
fn munmap(kernel: &mut Kernel, pid: Pid, address: i64, length: i64, trace: &mut Trace) -> Exec {
    let (address, length) = (address as u64, length as u64);
    if !address.is_multiple_of(PAGE as u64) || length == 0 || length > TASK_SIZE || address > TASK_SIZE - length {
        return Kernel::error(EINVAL);
    }
    unmap_range(kernel, pid, address, address + page_align(length), trace);
    Exec::Done(CallResult::Value { value: 0 })
}

/// `mprotect(addr, length, prot)` (`do_mprotect_pkey`).
fn mprotect(kernel: &mut Kernel, pid: Pid, address: i64, length: i64, prot: i64, trace: &mut Trace) -> Exec {
    use crate::linux::mman::{PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_SEM};
    // `do_mprotect_pkey`: the two "grows" bits first (not both), then the range, then the other bits,
    // which must be among those `arch_validate_prot` knows.
    let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    let prot = prot & !grows;
    if grows == PROT_GROWSDOWN | PROT_GROWSUP {
        return Kernel::error(EINVAL);
    }
    let address = address as u64;
    if !address.is_multiple_of(PAGE as u64) {
        return Kernel::error(EINVAL);
    }
    if length == 0 {
        return Exec::Done(CallResult::Value { value: 0 });
    }
    // The length is a `size_t`: a negative one is huge, and its rounding up or the end past it wraps
    // to at or below the start, which is `ENOMEM`.
    let end = address.wrapping_add((length as u64).wrapping_add(PAGE as u64 - 1) & !(PAGE as u64 - 1));
    if end <= address {
        return Kernel::error(ENOMEM);
    }
    if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) != 0 {
        return Kernel::error(EINVAL);
    }
    if grows != 0 {
        // No mapping here grows either way: the first one in the range answers `EINVAL`, or `ENOMEM`
        // where there is none (or, growing up, where it starts after the range does).
        let first = kernel
            .process(pid)
            .mm
            .mappings
            .iter()
            .filter(|mapping| mapping.end() > address && mapping.start < end)
            .map(|mapping| mapping.start)
            .min();
        return match first {
            Some(start) if grows == PROT_GROWSDOWN || start <= address => Kernel::error(EINVAL),
            _ => Kernel::error(ENOMEM),
        };
    }
    // The range must begin in a mapping (`ENOMEM` and no change otherwise). Then mapping by mapping, in
    // address order, each takes the new protection until a hole (`ENOMEM`) or a mapping that may not
    // have it (`EACCES`): the mappings before keep theirs, as `do_mprotect_pkey` changes each in turn.
    let mm = &kernel.process(pid).mm;
    let first = mm.mappings.partition_point(|mapping| mapping.end() <= address);
    if mm.mappings.get(first).is_none_or(|mapping| mapping.start > address) {
        return Kernel::error(ENOMEM);
    }
    let mut done = address;
    let mut error = None;
    for mapping in mm.mappings[first..].iter().take_while(|mapping| mapping.start < end) {
        if mapping.start > done {
            error = Some(ENOMEM);
            break;
        }
        if prot & !mapping.max_prot & (PROT_READ | PROT_WRITE) != 0 {
            error = Some(EACCES);
            break;
        }
        done = mapping.end().min(end);
    }
    if error.is_none() && done < end {
        error = Some(ENOMEM);
    }
    if done > address {
        split_at_edges(kernel, pid, address, done, trace);
        for mapping in kernel.proc_mut(pid).mm.mappings.iter_mut() {
            if mapping.start >= address && mapping.end() <= done {
                mapping.prot = prot & (PROT_READ | PROT_WRITE);
            }
        }
    }
    match error {
        Some(errno) => Kernel::error(errno),
        None => Exec::Done(CallResult::Value { value: 0 }),
    }
}

/// The frame and offset behind `address` for a read or a write, or the signal of the fault: `SIGSEGV`
/// for an address no mapping covers or one the access is not allowed on (`bad_area`), `SIGBUS` for a
/// page past the end of the shared memory object it maps (`shmem_fault`). A write to a copy-on-write
/// page takes the page first (copying the frame if another entry maps it).
fn translate(
    kernel: &mut Kernel,
    pid: Pid,
    address: u64,
    write: bool,
    trace: &mut Trace,
) -> Result<(u32, usize), Signal> {
    let index = kernel.process(pid).mm.find(address).ok_or(SIGSEGV)?;
    let mapping = &kernel.process(pid).mm.mappings[index];
    // x86-64 pages are readable whenever they are writable; PROT_NONE is neither.
    let allowed = if write { mapping.prot & PROT_WRITE != 0 } else { mapping.prot != 0 };
    if !allowed {
        return Err(SIGSEGV);
    }
    let page = ((address - mapping.start) / PAGE as u64) as usize;
    let offset = (address % PAGE as u64) as usize;
    let pte = mapping.ptes[page];
    if pte.frame == NO_FRAME {
        return Err(SIGBUS);
    }
    if write && pte.cow {
        let frame = if kernel.frames.get(pte.frame).refs > 1 {
            // `wp_page_copy`: a frame of its own, with the bytes of the shared one.
            let data = kernel.frames.get(pte.frame).data.clone();
            let copy = kernel.frames.alloc(data);
            kernel.frames.release(pte.frame);
            let page_address = address - offset as u64;
            trace.record(Event {
                step: kernel.step as u32,
                kind: EventKind::PageCopied { pid, address: page_address, from: pte.frame, to: copy },
            });
            copy
        } else {
            pte.frame
        };
        kernel.proc_mut(pid).mm.mappings[index].ptes[page] = Pte { frame, cow: false };
        return Ok((frame, offset));
    }
    Ok((pte.frame, offset))
}

/// The 8 bytes at `address`, as a little-endian integer, or the signal of a fault; with `update`, the
/// integer is replaced by what it returns (when it returns something) in the same step.
pub(crate) fn access(
    kernel: &mut Kernel,
    pid: Pid,
    address: u64,
    update: Option<&dyn Fn(i64) -> Option<i64>>,
    trace: &mut Trace,
) -> Result<i64, Signal> {
    let last = address.checked_add(7).ok_or(SIGSEGV)?;
    let write = update.is_some();
    // Both pages are looked at before a byte moves: an instruction that faults does nothing.
    let first = translate(kernel, pid, address, write, trace)?;
    let second_page = last / PAGE as u64 != address / PAGE as u64;
    let second =
        if second_page { Some(translate(kernel, pid, last - last % PAGE as u64, write, trace)?) } else { None };
    let place = |at: usize| -> (u32, usize) {
        let in_first = PAGE - first.1;
        if at < in_first {
            (first.0, first.1 + at)
        } else {
            (second.expect("the access crosses a page").0, at - in_first)
        }
    };
    let mut bytes = [0u8; 8];
    for (at, byte) in bytes.iter_mut().enumerate() {
        let (frame, offset) = place(at);
        *byte = kernel.frames.byte(frame, offset);
    }
    let old = i64::from_le_bytes(bytes);
    if kernel.footprint.enabled {
        kernel.footprint.read(ObjectRef::frame(first.0));
    }
    if let Some(new) = update.and_then(|update| update(old)) {
        for (at, byte) in new.to_le_bytes().into_iter().enumerate() {
            let (frame, offset) = place(at);
            kernel.frames.set_byte(frame, offset, byte);
        }
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::frame(first.0));
        }
    }
    Ok(old)
}

/// The pieces of `len` bytes from `address`, page by page (frame, offset in it, bytes), or the signal
/// of a fault at any of them. Writing, each page is taken first (copy-on-write) as a store takes it.
fn translate_range(
    kernel: &mut Kernel,
    pid: Pid,
    address: u64,
    len: u64,
    write: bool,
    trace: &mut Trace,
) -> Result<Vec<(u32, usize, usize)>, Signal> {
    let end = address.checked_add(len).ok_or(SIGSEGV)?;
    let mut pieces = Vec::new();
    let mut at = address;
    while at < end {
        let (frame, offset) = translate(kernel, pid, at, write, trace)?;
        let take = (PAGE - offset).min((end - at) as usize);
        pieces.push((frame, offset, take));
        at += take as u64;
    }
    Ok(pieces)
}

/// `store_bytes ADDR OFFSET PAYLOAD`: the payload copied into memory (a `memcpy` in user space), page
/// by page in address order. A page it may not write faults, and what went to the pages before it stays
/// written, as glibc's forward copy leaves it (`rep movsb` for a large copy, stopped by the fault where
/// it got to); nothing goes to that page or after it.
fn store_bytes(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let address = (call.arg(0) as u64).wrapping_add(call.arg(1) as u64);
    let payload = call.call.payload().expect("store_bytes has a payload operand").clone();
    let Some(end) = address.checked_add(payload.len() as u64) else { return Exec::Fault(SIGSEGV) };
    let mut bytes = Vec::new();
    let (mut at, mut done) = (address, 0u32);
    while at < end {
        let (frame, offset) = match translate(kernel, call.pid, at, true, trace) {
            Ok(found) => found,
            Err(signal) => return Exec::Fault(signal),
        };
        let take = (PAGE - offset).min((end - at) as usize);
        bytes.clear();
        payload.copy_to(done, take as u32, &mut bytes);
        kernel.frames.write_bytes(frame, offset, &bytes);
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::frame(frame));
        }
        done += take as u32;
        at += take as u64;
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// `load_bytes ADDR OFFSET COUNT`: COUNT bytes copied out of memory (a `memcpy` in user space); what
/// came is the call's data, as a `read`'s is.
fn load_bytes(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let address = (call.arg(0) as u64).wrapping_add(call.arg(1) as u64);
    let count = call.arg(2);
    if let Some(ended) = super::fd::read_count_limits(kernel, trace, "copy", count) {
        return ended;
    }
    let pieces = match translate_range(kernel, call.pid, address, count as u64, false, trace) {
        Ok(pieces) => pieces,
        Err(signal) => return Exec::Fault(signal),
    };
    let mut bytes = std::mem::take(&mut kernel.read_scratch);
    bytes.clear();
    for (frame, offset, len) in pieces {
        kernel.frames.read_bytes(frame, offset, len, &mut bytes);
        if kernel.footprint.enabled {
            kernel.footprint.read(ObjectRef::frame(frame));
        }
    }
    let result = trace.record_data(&bytes);
    kernel.read_scratch = bytes;
    Exec::Done(result)
}

/// A memory instruction: `load`, `store`, `fetch_add`, `compare_exchange`.
fn instruction(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let address = (call.arg(0) as u64).wrapping_add(call.arg(1) as u64);
    let (value, expected) = (call.arg(2), call.arg(2));
    let new = call.arg(3);
    let result = match call.id() {
        CallId::Load => access(kernel, call.pid, address, None, trace),
        CallId::Store => access(kernel, call.pid, address, Some(&|_| Some(value)), trace).map(|_| 0),
        CallId::FetchAdd => access(kernel, call.pid, address, Some(&|old: i64| Some(old.wrapping_add(value))), trace),
        CallId::CompareExchange => {
            // `lock cmpxchg` writes even when the values differ (the old value back): the page must be
            // writable either way.
            access(kernel, call.pid, address, Some(&|old: i64| Some(if old == expected { new } else { old })), trace)
        }
        other => unreachable!("{} is not a memory instruction", other.name()),
    };
    match result {
        Ok(value) => Exec::Done(CallResult::Value { value }),
        Err(signal) => Exec::Fault(signal),
    }
}

/// `fork`'s copy of the parent's address space (`dup_mmap`): every entry is held once more, and a
/// private mapping's entries become copy-on-write in both.
pub(crate) fn fork(kernel: &mut Kernel, parent: Pid, child: Pid, trace: &mut Trace) {
    let mut mm = kernel.process(parent).mm.clone();
    for mapping in &mut mm.mappings {
        let private = mapping.backing.is_private();
        for pte in mapping.ptes.iter_mut().filter(|pte| pte.frame != NO_FRAME) {
            kernel.frames.hold(pte.frame);
            pte.cow |= private;
        }
    }
    for mapping in &mut kernel.proc_mut(parent).mm.mappings {
        if mapping.backing.is_private() {
            for pte in mapping.ptes.iter_mut().filter(|pte| pte.frame != NO_FRAME) {
                pte.cow = true;
            }
        }
    }
    // `shm_open` runs in the parent: it is the segment's last process.
    let backings: Vec<Backing> = mm.mappings.iter().map(|mapping| mapping.backing).collect();
    kernel.proc_mut(child).mm = mm;
    for backing in backings {
        shm_attach_changed(kernel, backing, parent, 1, trace);
    }
}

/// The exiting process's memory goes (`exit_mmap`): every mapping is dropped, and a segment's attach
/// with it (`shm_close`).
pub(crate) fn process_exit(kernel: &mut Kernel, pid: Pid, trace: &mut Trace) {
    let mappings = std::mem::take(&mut kernel.proc_mut(pid).mm.mappings);
    for mapping in mappings {
        drop_mapping(kernel, pid, mapping, trace);
    }
}

/// The numbering of frames in the order the processes (by pid, mappings by address) and then the
/// segments reach them, for [`Kernel::state_hash`]: two states that differ only in which frame
/// numbers were free hash alike.
pub(crate) fn canonical_frames(kernel: &Kernel, numbers: &mut Vec<u32>) {
    numbers.clear();
    numbers.resize(kernel.frames.slots.len(), u32::MAX);
    let mut next = 0;
    let mut reach = |frame: u32| {
        if numbers[frame as usize] == u32::MAX {
            numbers[frame as usize] = next;
            next += 1;
        }
    };
    for process in &kernel.procs {
        for mapping in &process.mm.mappings {
            for pte in mapping.ptes.iter().filter(|pte| pte.frame != NO_FRAME) {
                reach(pte.frame);
            }
        }
    }
    for segment in kernel.ipc.shm_segs.values() {
        for frame in &segment.frames {
            reach(*frame);
        }
    }
    for object in kernel.ipc.shm_objects.iter().flatten() {
        for frame in &object.frames {
            reach(*frame);
        }
    }
}

/// A process's address space and the frames it maps, for [`Kernel::state_hash`] (`seen`: frames
/// whose bytes were hashed already).
pub(crate) fn hash_space(
    kernel: &Kernel,
    mm: &AddressSpace,
    numbers: &[u32],
    seen: &mut [bool],
    hasher: &mut StateHasher,
) {
    hasher.word(mm.mappings.len() as u64);
    for mapping in &mm.mappings {
        hasher.word(mapping.start);
        hasher.word(mapping.prot as u64 | (mapping.max_prot as u64) << 8);
        hasher.word(match mapping.backing {
            Backing::Anonymous { shared } => shared as u64,
            Backing::Shm { id, .. } => 2 | (id as u32 as u64) << 8,
            Backing::PosixShm { object, shared } => 3 | (object as u64) << 8 | (shared as u64) << 40,
        });
        hasher.word(mapping.ptes.len() as u64 | (mapping.pgoff as u64) << 32);
        for pte in &mapping.ptes {
            if pte.frame == NO_FRAME {
                hasher.word(u64::MAX);
                continue;
            }
            hasher.word(numbers[pte.frame as usize] as u64 | (pte.cow as u64) << 32);
            hash_frame(kernel, pte.frame, seen, hasher);
        }
    }
}

/// A frame's bytes, the first time the hash reaches it.
pub(crate) fn hash_frame(kernel: &Kernel, frame: u32, seen: &mut [bool], hasher: &mut StateHasher) {
    if std::mem::replace(&mut seen[frame as usize], true) {
        return;
    }
    let frame = kernel.frames.get(frame);
    hasher.word(frame.refs as u64);
    match &frame.data {
        None => hasher.word(0),
        Some(data) => {
            hasher.word(1);
            hasher.bytes(&data[..]);
        }
    }
}

/// The integers a page holds that are not 0, by offset (at most `most`), for pictures.
fn nonzero_words(kernel: &Kernel, frame: u32, most: usize) -> Vec<(u32, i64)> {
    let Some(data) = &kernel.frames.get(frame).data else { return Vec::new() };
    data.chunks_exact(8)
        .enumerate()
        .filter_map(|(index, word)| {
            let value = i64::from_le_bytes(word.try_into().expect("8 bytes"));
            (value != 0).then_some(((index * 8) as u32, value))
        })
        .take(most)
        .collect()
}

/// The word a futex call names (`get_futex_key` in `kernel/futex/core.c`): in a shared mapping, the
/// frame and the offset in it, the same for every process that maps the frame; in a private mapping,
/// or with `FUTEX_PRIVATE_FLAG`, the process and the address, so only its own calls match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutexKey {
    Shared { frame: u32, offset: u32 },
    Private { pid: Pid, address: u64 },
}

/// The key of the word at `address` for `pid`, and the frame and the value the word holds now; an
/// address not a multiple of 4 is `EINVAL`, one no mapping lets the process read `EFAULT` (the kernel
/// reads the word itself: no signal).
pub(crate) fn futex_word(
    kernel: &mut Kernel,
    pid: Pid,
    address: u64,
    private: bool,
    trace: &mut Trace,
) -> Result<(FutexKey, u32, u32), Exec> {
    if !address.is_multiple_of(4) {
        return Err(Kernel::error(EINVAL));
    }
    let index = kernel.process(pid).mm.find(address).ok_or(Kernel::error(EFAULT))?;
    let mapping = &kernel.process(pid).mm.mappings[index];
    if mapping.prot & PROT_READ == 0 && mapping.prot & PROT_WRITE == 0 {
        return Err(Kernel::error(EFAULT));
    }
    let page = ((address - mapping.start) / PAGE as u64) as usize;
    // A page past the end of a shared memory object: the kernel's own read of the word fails.
    if mapping.ptes[page].frame == NO_FRAME {
        return Err(Kernel::error(EFAULT));
    }
    // `get_futex_key` pins the page for writing first: in a private mapping open for writing, that
    // takes the page copy-on-write, as a store would, and the word is then the process's own.
    let writable_private = mapping.backing.is_private() && mapping.prot & PROT_WRITE != 0;
    if writable_private {
        translate(kernel, pid, address, true, trace).map_err(|_| Kernel::error(EFAULT))?;
    }
    let mapping = &kernel.process(pid).mm.mappings[index];
    let pte = mapping.ptes[page];
    // Read-only, a private mapping of an object still shows the object's page, keyed by it.
    let shared = match mapping.backing {
        Backing::Anonymous { shared } => shared,
        Backing::Shm { .. } | Backing::PosixShm { shared: true, .. } => true,
        Backing::PosixShm { shared: false, .. } => !writable_private && pte.cow,
    };
    let offset = (address % PAGE as u64) as usize;
    let mut bytes = [0u8; 4];
    for (at, byte) in bytes.iter_mut().enumerate() {
        *byte = kernel.frames.byte(pte.frame, offset + at);
    }
    let key = if shared && !private {
        FutexKey::Shared { frame: pte.frame, offset: offset as u32 }
    } else {
        FutexKey::Private { pid, address }
    };
    Ok((key, pte.frame, u32::from_le_bytes(bytes)))
}

/// `futex(ADDR, OP, VAL)` with `FUTEX_WAIT` or `FUTEX_WAKE` (`futex_wait`, `futex_wake` in
/// `kernel/futex/waitwake.c`).
fn futex(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let pid = call.pid;
    // A `FUTEX_WAKE` ended the wait: the call returns 0 without looking at the word again.
    if let Some(Handed::Result(result)) = kernel.proc_mut(pid).handed.take() {
        return Exec::Done(result);
    }
    let (address, op, value) = (call.arg(0) as u64, call.arg(1), call.arg(2));
    let command = op & !FUTEX_PRIVATE_FLAG;
    if command != FUTEX_WAIT && command != FUTEX_WAKE {
        return Kernel::error(ENOSYS);
    }
    // `get_futex_key` keys a process-private futex by its address alone, without touching the page: a
    // `FUTEX_WAKE_PRIVATE` of a word nothing maps is no fault, and, every process being a single
    // thread, the waker is the only one that could sleep on that key, so it wakes nobody.
    if command == FUTEX_WAKE && op & FUTEX_PRIVATE_FLAG != 0 {
        if !address.is_multiple_of(4) {
            return Kernel::error(EINVAL);
        }
        // `access_ok` (`valid_user_address` on x86-64): the word must start at most at the top of
        // user space (the guard page above it keeps a short access from running past).
        if address > TASK_SIZE {
            return Kernel::error(EFAULT);
        }
        return Exec::Done(CallResult::Value { value: 0 });
    }
    let (key, frame, word) = match futex_word(kernel, pid, address, op & FUTEX_PRIVATE_FLAG != 0, trace) {
        Ok(found) => found,
        Err(error) => return error,
    };
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::frame(frame));
    }
    if command == FUTEX_WAIT {
        // Compared with the value as the 32-bit word C passes.
        if word != value as u32 {
            return Kernel::error(EAGAIN);
        }
        kernel.futex_waiters.push((key, pid));
        return Exec::Block(BlockReason::Futex { address, value: word });
    }
    let woken = futex_wake(kernel, pid, key, frame, value as i32, trace);
    Exec::Done(CallResult::Value { value: woken as i64 })
}

/// `futex_wake`: wakes the sleepers of `key`, first asleep first, counting each and stopping once the
/// count reaches `most` (at least one); each woken call returns 0. Returns how many it woke.
pub(crate) fn futex_wake(
    kernel: &mut Kernel,
    by: Pid,
    key: FutexKey,
    frame: u32,
    most: i32,
    trace: &mut Trace,
) -> usize {
    let most = most.max(1) as usize;
    let mut woken = Vec::new();
    kernel.futex_waiters.retain(|(waiting_on, sleeper)| {
        if *waiting_on == key && woken.len() < most {
            woken.push(*sleeper);
            false
        } else {
            true
        }
    });
    let object = ObjectRef::frame(frame);
    for sleeper in &woken {
        kernel.proc_mut(*sleeper).handed = Some(Handed::Result(CallResult::Value { value: 0 }));
        kernel.wake(*sleeper, by, WakeCause::Completed { object }, trace);
    }
    woken.len()
}

/// Who could end a futex wait: the living processes, other than the sleeper, that map the frame of
/// its word (none for a private word).
pub(crate) fn futex_could_wake(kernel: &Kernel, sleeper: Pid, _address: u64) -> Vec<Pid> {
    let Some(FutexKey::Shared { frame, .. }) =
        kernel.futex_waiters.iter().find(|(_, pid)| *pid == sleeper).map(|(key, _)| *key)
    else {
        return Vec::new();
    };
    kernel
        .procs
        .iter()
        .filter(|process| process.pid != sleeper && process.is_alive())
        .filter(|process| process.mm.mappings.iter().any(|mapping| mapping.ptes.iter().any(|pte| pte.frame == frame)))
        .map(|process| process.pid)
        .collect()
}

/// The memory mechanism: `mmap`, `munmap`, `mprotect`, and the memory instructions.
pub struct Memory;

impl Mechanism for Memory {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::Mmap => {
                mmap(kernel, pid, call.arg(0), call.arg(1), call.arg(2), call.arg_or_default(3), call.arg_or_default(4))
            }
            CallId::Munmap => munmap(kernel, pid, call.arg(0), call.arg(1), trace),
            CallId::Mprotect => mprotect(kernel, pid, call.arg(0), call.arg(1), call.arg(2), trace),
            CallId::Load | CallId::Store | CallId::FetchAdd | CallId::CompareExchange => {
                instruction(kernel, call, trace)
            }
            CallId::StoreBytes => store_bytes(kernel, call, trace),
            CallId::Futex => futex(kernel, call, trace),
            CallId::LoadBytes => load_bytes(kernel, call, trace),
            other => unreachable!("{} is not a memory call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        if let BlockReason::Futex { .. } = reason {
            kernel.futex_waiters.retain(|(_, sleeper)| *sleeper != pid);
        }
    }

    fn interruption(_reason: &BlockReason) -> Interruption {
        // `futex_wait` without a timeout returns -ERESTARTSYS: the wait starts again after a stop and
        // after a handler with SA_RESTART, and fails with EINTR after one without.
        Interruption::Restart
    }

    fn woken_call(kernel: &Kernel, pid: Pid, _by_signal: bool) -> WokenCall {
        // A wake that came first has ended the call (it returns 0); a signal ends the wait otherwise.
        if kernel.process(pid).handed.is_some() {
            WokenCall::TriesAgain
        } else {
            WokenCall::SeesSignal(Interruption::Restart)
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        for (_, pid) in &kernel.futex_waiters {
            // Asleep, or woken by a signal and not run yet (it leaves the queue as it runs).
            let process = kernel.process(*pid);
            let asleep = matches!(process.state, super::ProcState::Blocked(BlockReason::Futex { .. }))
                || matches!(process.still_queued, Some(BlockReason::Futex { .. }));
            if !asleep {
                return Err(format!("pid {pid} is on a futex's queue but does not sleep in futex"));
            }
        }
        // Every frame's count is the entries and segments that point at it; none in use is unreferenced.
        let mut counted = vec![0u32; kernel.frames.slots.len()];
        for process in &kernel.procs {
            let mut end = 0;
            for mapping in &process.mm.mappings {
                if mapping.start < end || mapping.is_empty() || !mapping.start.is_multiple_of(PAGE as u64) {
                    return Err(format!("pid {}'s mappings overlap, are empty or are not page-aligned", process.pid));
                }
                end = mapping.end();
                for pte in &mapping.ptes {
                    if pte.frame == NO_FRAME {
                        if !matches!(mapping.backing, Backing::PosixShm { .. }) || pte.cow {
                            return Err(format!("pid {} has a page without a frame outside an object", process.pid));
                        }
                        continue;
                    }
                    let Some(slot) = counted.get_mut(pte.frame as usize) else {
                        return Err(format!("pid {} maps frame {} that does not exist", process.pid, pte.frame));
                    };
                    *slot += 1;
                    if kernel.frames.slots[pte.frame as usize].is_none() {
                        return Err(format!("pid {} maps frame {}, which was freed", process.pid, pte.frame));
                    }
                    if pte.cow && !mapping.backing.is_private() {
                        return Err(format!("pid {} has a copy-on-write page in a shared mapping", process.pid));
                    }
                }
            }
        }
        for segment in kernel.ipc.shm_segs.values() {
            for frame in &segment.frames {
                counted[*frame as usize] += 1;
            }
        }
        for object in kernel.ipc.shm_objects.iter().flatten() {
            for frame in &object.frames {
                counted[*frame as usize] += 1;
            }
        }
        let mut in_use = 0;
        for (number, slot) in kernel.frames.slots.iter().enumerate() {
            match slot {
                Some(frame) => {
                    in_use += 1;
                    if frame.refs != counted[number] {
                        return Err(format!(
                            "frame {number} counts {} references but {} point at it",
                            frame.refs, counted[number]
                        ));
                    }
                }
                None if counted[number] != 0 => return Err(format!("frame {number} is freed but still mapped")),
                None => {}
            }
        }
        if in_use != kernel.frames.in_use {
            return Err(format!("{} frames are in use, but {} are counted", in_use, kernel.frames.in_use));
        }
        if in_use as u64 * PAGE as u64 > kernel.limits.max_mapped_bytes {
            return Err("the frames in use pass max_mapped_bytes".to_string());
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for process in &kernel.procs {
            if process.mm.mappings.is_empty() {
                continue;
            }
            let mappings = process
                .mm
                .mappings
                .iter()
                .map(|mapping| MappingView {
                    start: mapping.start,
                    prot: mapping.prot,
                    shared: !mapping.backing.is_private(),
                    segment: match mapping.backing {
                        Backing::Shm { id, .. } => Some(id),
                        Backing::Anonymous { .. } | Backing::PosixShm { .. } => None,
                    },
                    object: match mapping.backing {
                        Backing::PosixShm { object, .. } => Some(object),
                        Backing::Anonymous { .. } | Backing::Shm { .. } => None,
                    },
                    pages: mapping
                        .ptes
                        .iter()
                        .map(|pte| match pte.frame {
                            // A page past the end of its object: no frame, nobody shares it.
                            NO_FRAME => {
                                PageView { frame: NO_FRAME, copy_on_write: false, sharers: 0, words: Vec::new() }
                            }
                            frame => PageView {
                                frame,
                                copy_on_write: pte.cow,
                                sharers: kernel.frames.get(frame).refs,
                                words: nonzero_words(kernel, frame, 8),
                            },
                        })
                        .collect(),
                })
                .collect();
            out.push(ObjectView::AddressSpace(Box::new(AddressSpaceView { pid: process.pid, mappings })));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_goes_with_its_last_reference_and_its_number_is_reused() {
        let mut frames = Frames::default();
        let first = frames.alloc(None);
        let second = frames.alloc(None);
        frames.hold(first);
        frames.release(first);
        assert_eq!(frames.in_use, 2);
        frames.release(first);
        assert_eq!(frames.in_use, 1);
        assert!(frames.slots[first as usize].is_none());
        assert_eq!(frames.alloc(None), first);
        assert_ne!(first, second);
    }

    #[test]
    fn a_clone_shares_a_frames_bytes_until_one_side_writes() {
        let mut frames = Frames::default();
        let frame = frames.alloc(None);
        frames.set_byte(frame, 0, 7);
        let checkpoint = frames.clone();
        let shared = |a: &Frames, b: &Frames| {
            Arc::ptr_eq(a.get(frame).data.as_ref().unwrap(), b.get(frame).data.as_ref().unwrap())
        };
        assert!(shared(&frames, &checkpoint), "a clone copies no page");
        frames.set_byte(frame, 1, 9);
        assert!(!shared(&frames, &checkpoint), "a write copies the page");
        assert_eq!((checkpoint.byte(frame, 0), checkpoint.byte(frame, 1)), (7, 0));
        assert_eq!((frames.byte(frame, 0), frames.byte(frame, 1)), (7, 9));
    }

    #[test]
    fn a_mapping_past_max_mapped_bytes_ends_the_run_and_a_fork_shares_frames() {
        use crate::lang::compile::Program;
        let source = "process main {\n  a = mmap 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS\n  \
                      store a 0 7\n  fork child {\n    store a 0 8\n  }\n  \
                      b = mmap 4096 PROT_READ MAP_SHARED|MAP_ANONYMOUS\n}\n";
        let scenario = crate::parse(source).expect("parses");
        let program = Arc::new(Program::compile(&scenario).expect("compiles"));
        let mut limits = crate::Limits::DEFAULT;
        limits.max_mapped_bytes = 3 * PAGE as u64;
        let mut trace = Trace::new(true);
        let mut kernel = Kernel::new(program.clone(), limits, &mut trace).expect("fits");
        for _ in 0..3 {
            kernel.step(&program, 2, &mut trace).expect("mmap, store and fork fit");
        }
        // After the fork, both processes map the same two frames, copy-on-write: four entries.
        assert_eq!(kernel.frames.in_use, 2);
        assert!(kernel.procs[2].mm.mappings[0].ptes.iter().all(|pte| pte.cow));
        assert_eq!(kernel.frames.get(kernel.procs[2].mm.mappings[0].ptes[0].frame).refs, 2);
        // The child's store copies the frame: a third frame, which still fits.
        kernel.step(&program, 3, &mut trace).expect("the copy fits");
        assert_eq!(kernel.frames.in_use, 3);
        assert!(trace.events.iter().any(|event| matches!(event.kind, EventKind::PageCopied { pid: 3, .. })));
        kernel.check_invariants().expect("the counts hold");
        // A fourth page does not.
        let hit = kernel.step(&program, 2, &mut trace).expect_err("the last mapping is past the limit");
        assert_eq!(hit.limit, "max_mapped_bytes");
        assert_eq!(kernel.frames.in_use, 3);
    }

    #[test]
    fn the_kernel_picks_the_lowest_free_range() {
        let mut mm = AddressSpace::default();
        let mapping = |start: u64, pages: usize| Mapping {
            start,
            ptes: vec![Pte { frame: 0, cow: false }; pages],
            prot: PROT_READ,
            max_prot: PROT_READ,
            backing: Backing::Anonymous { shared: true },
            pgoff: 0,
        };
        assert_eq!(mm.free_range(4096), Some(MAP_BASE));
        mm.insert(mapping(MAP_BASE, 1));
        mm.insert(mapping(MAP_BASE + 3 * 4096, 1));
        assert_eq!(mm.free_range(2 * 4096), Some(MAP_BASE + 4096));
        assert_eq!(mm.free_range(3 * 4096), Some(MAP_BASE + 4 * 4096));
        assert_eq!(mm.find(MAP_BASE + 4095), Some(0));
        assert_eq!(mm.find(MAP_BASE + 4096), None);
        assert_eq!(mm.find(MAP_BASE + 3 * 4096 + 8), Some(1));
    }
}
