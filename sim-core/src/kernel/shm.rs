//! System V shared memory: `shmget`, `shmat`, `shmdt`, `shmctl`.
//!
//! The rules are `ipc/shm.c`'s (Linux 6.18). A segment is a run of page frames (of zeros at first) that
//! the segment itself holds one reference to ([`super::mm`]); `shmget` makes one (`newseg`: a size
//! below `SHMMIN` or above `SHMMAX` is `EINVAL`; `shm_segsz` keeps the size asked for, the frames are
//! whole pages) or finds the one of a key (`shm_more_checks`: a size larger than the segment's is
//! `EINVAL`). `shmat` (`do_shmat`) checks the id and the permissions (read, and write unless
//! `SHM_RDONLY`), then maps the segment's own frames at an address the kernel picks: two processes
//! that attach one segment map the very same frames, and nothing is copied. Each mapping of a segment
//! counts in `shm_nattch` (`__shm_open`, which `fork` runs too, in the parent: `shm_lpid` is then the
//! parent's pid); a detach, an `munmap` of it or an exit drops it (`shm_close`, `shm_lpid` the
//! process that let go). `IPC_RMID` (`do_shm_rmid`) destroys a segment nobody has attached; an
//! attached one is marked `SHM_DEST`, its key becomes `IPC_PRIVATE` (no `shmget` finds it again), and
//! it is destroyed at its last detach (`shm_may_destroy` in `shm_close`), while `shmat` by id still
//! reaches it meanwhile, as Linux allows. A segment nobody removed outlives every process: the run
//! ends with a [`crate::trace::EventKind::Leftover`] for it.

use super::ipc::IpcIds;
use super::mm::{self, Backing, Pte, PAGE};
use super::{CallContext, Exec, Kernel, Mechanism};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EACCES, EEXIST, EINVAL, ENOENT, ENOMEM};
use crate::linux::field;
use crate::linux::ipc::{self, IPC_CREAT, IPC_EXCL, IPC_PRIVATE, MODE_BITS, S_IRUGO, S_IWUGO};
use crate::linux::mman::{page_align, PROT_READ, PROT_WRITE};
use crate::linux::shm::{SHMMAX, SHMMIN, SHM_DEST, SHM_RDONLY};
use crate::present::snapshot::{ObjectView, ShmSegmentView};
use crate::trace::{CallResult, ObjectRef, Pid, StateHasher, Trace};

/// A System V shared memory segment (`struct shmid_kernel`).
#[derive(Clone, Debug)]
pub struct ShmSegment {
    pub id: i32,
    /// Its key; `IPC_PRIVATE` once removed while attached.
    pub key: i32,
    /// Permission bits, and `SHM_DEST` once removed while attached.
    pub mode: i64,
    /// The size asked for (`shm_segsz`); the frames cover it in whole pages.
    pub segsz: u64,
    pub frames: Vec<u32>,
    pub nattch: u32,
    pub cpid: Pid,
    pub lpid: Pid,
}

impl ShmSegment {
    pub(crate) fn hash_into(&self, kernel: &Kernel, numbers: &[u32], seen: &mut [bool], hasher: &mut StateHasher) {
        hasher.word(self.id as u64 | (self.key as u32 as u64) << 32);
        hasher.word(self.mode as u64);
        hasher.word(self.segsz);
        hasher.word(self.nattch as u64 | (self.cpid as u64) << 32);
        hasher.word(self.lpid as u64);
        for frame in &self.frames {
            hasher.word(numbers[*frame as usize] as u64);
            mm::hash_frame(kernel, *frame, seen, hasher);
        }
    }
}

impl Kernel {
    /// The segment behind an id (`shm_obtain_object_check`).
    fn shm_index(&self, id: i32) -> Option<u32> {
        let index = IpcIds::index_of(id);
        self.ipc.shm_segs.get(&index).filter(|segment| id >= 0 && segment.id == id).map(|_| index)
    }
}

/// `shmget(key, size, shmflg)` (`ipcget`, `newseg`, `shm_more_checks`).
fn shmget(kernel: &mut Kernel, pid: Pid, key: i32, size: i64, flags: i32) -> Exec {
    let (flags, size) = (flags as i64, size as u64);
    if key as i64 != IPC_PRIVATE {
        if let Some(segment) = kernel.ipc.shm_segs.values().find(|segment| segment.key == key) {
            if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                return Kernel::error(EEXIST);
            }
            if segment.segsz < size {
                return Kernel::error(EINVAL);
            }
            if !ipc::owner_may(segment.mode, flags) {
                return Kernel::error(EACCES);
            }
            return Exec::Done(CallResult::Value { value: segment.id as i64 });
        }
        if flags & IPC_CREAT == 0 {
            return Kernel::error(ENOENT);
        }
    }
    if !(SHMMIN..=SHMMAX).contains(&size) {
        return Kernel::error(EINVAL);
    }
    let pages = page_align(size) / PAGE as u64;
    if !kernel.frames_fit(pages) {
        return kernel.halt_mapped(pages * PAGE as u64);
    }
    if !kernel.ipc_object_fits() {
        return kernel.halt_ipc_objects();
    }
    let segments = &kernel.ipc.shm_segs;
    let limit = crate::linux::shm::SHMMNI;
    let (index, id) = match kernel.ipc.shm_ids.alloc(limit, |index| segments.contains_key(&index)) {
        Ok(allocated) => allocated,
        Err(errno) => return Kernel::error(errno),
    };
    let frames = (0..pages).map(|_| kernel.frames.alloc(None)).collect();
    kernel.ipc.shm_segs.insert(
        index,
        ShmSegment { id, key, mode: flags & MODE_BITS, segsz: size, frames, nattch: 0, cpid: pid, lpid: 0 },
    );
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::shm_segment(id as u32));
    }
    Exec::Done(CallResult::Value { value: id as i64 })
}

/// `shmat(shmid, NULL, shmflg)` (`do_shmat`).
fn shmat(kernel: &mut Kernel, pid: Pid, id: i64, flags: i64, trace: &mut Trace) -> Exec {
    let id = id as i32;
    if id < 0 {
        return Kernel::error(EINVAL);
    }
    let (prot, wanted) =
        if flags & SHM_RDONLY != 0 { (PROT_READ, S_IRUGO) } else { (PROT_READ | PROT_WRITE, S_IRUGO | S_IWUGO) };
    let Some(index) = kernel.shm_index(id) else { return Kernel::error(EINVAL) };
    let segment = &kernel.ipc.shm_segs[&index];
    if !ipc::owner_may(segment.mode, wanted) {
        return Kernel::error(EACCES);
    }
    let ptes: Vec<Pte> = segment.frames.iter().map(|frame| Pte { frame: *frame, cow: false }).collect();
    if kernel.process(pid).mm.free_range((ptes.len() * PAGE) as u64).is_none() {
        return Kernel::error(ENOMEM);
    }
    for pte in &ptes {
        kernel.frames.hold(pte.frame);
    }
    let address =
        mm::map(kernel, pid, ptes, prot, prot, Backing::Shm { index, id }, 0).expect("a free range was found");
    attach_changed(kernel, index, pid, 1, trace);
    Exec::Done(CallResult::Value { value: address as i64 })
}

/// `shmdt(shmaddr)` (`ksys_shmdt`): the segment whose first page is mapped at exactly this address is
/// unmapped, every piece of that attach with it (the mappings of the same segment within its size from
/// there, each at the place its page offset says).
fn shmdt(kernel: &mut Kernel, pid: Pid, address: i64, trace: &mut Trace) -> Exec {
    let address = address as u64;
    if !address.is_multiple_of(PAGE as u64) {
        return Kernel::error(EINVAL);
    }
    let mm = &kernel.process(pid).mm;
    let found = mm.find(address).map(|index| &mm.mappings[index]).filter(|mapping| mapping.start == address);
    let Some(Backing::Shm { index, id }) = found.filter(|mapping| mapping.pgoff == 0).map(|mapping| mapping.backing)
    else {
        return Kernel::error(EINVAL);
    };
    let size = kernel.ipc.shm_segs.get(&index).map_or(0, |segment| page_align(segment.segsz));
    let pieces: Vec<(u64, u64)> = mm
        .mappings
        .iter()
        .filter(|mapping| {
            mapping.backing == (Backing::Shm { index, id })
                && mapping.start >= address
                && mapping.start < address + size
                && (mapping.start - address) / PAGE as u64 == mapping.pgoff as u64
        })
        .map(|mapping| (mapping.start, mapping.end()))
        .collect();
    for (start, end) in pieces {
        mm::unmap_range(kernel, pid, start, end, trace);
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// A mapping of segment `index` was made (`delta` 1: `__shm_open`) or dropped (-1: `shm_close`) on
/// `pid`'s account; a segment marked for removal goes with its last (`shm_may_destroy`).
pub(crate) fn attach_changed(kernel: &mut Kernel, index: u32, pid: Pid, delta: i32, _trace: &mut Trace) {
    let Some(segment) = kernel.ipc.shm_segs.get_mut(&index) else { return };
    segment.nattch = segment.nattch.checked_add_signed(delta).expect("attaches never go below 0");
    segment.lpid = pid;
    let object = ObjectRef::shm_segment(segment.id as u32);
    if segment.nattch == 0 && segment.mode & SHM_DEST != 0 {
        destroy(kernel, index);
    }
    if kernel.footprint.enabled {
        kernel.footprint.write(object);
    }
}

/// `shm_destroy`: the segment's id goes, and its hold on its frames.
fn destroy(kernel: &mut Kernel, index: u32) {
    let segment = kernel.ipc.shm_segs.remove(&index).expect("looked up");
    kernel.ipc.shm_ids.in_use -= 1;
    for frame in segment.frames {
        kernel.frames.release(frame);
    }
}

/// `shmctl(shmid, cmd, &ds)`; `field_code` names the field of `struct shmid_ds` read.
fn shmctl(kernel: &mut Kernel, id: i64, command: i64, field_code: i64) -> Exec {
    let (id, command) = (id as i32, command as i32 as i64);
    if id < 0 || command < 0 {
        return Kernel::error(EINVAL);
    }
    let Some(index) = kernel.shm_index(id) else { return Kernel::error(EINVAL) };
    match command {
        ipc::IPC_STAT => {
            let segment = &kernel.ipc.shm_segs[&index];
            if !ipc::owner_may(segment.mode, S_IRUGO) {
                return Kernel::error(EACCES);
            }
            Exec::Done(stat_field(segment, field_code))
        }
        ipc::IPC_RMID => {
            // `do_shm_rmid`: at once if nobody has it attached, else at the last detach.
            let segment = kernel.ipc.shm_segs.get_mut(&index).expect("looked up");
            let object = ObjectRef::shm_segment(segment.id as u32);
            if segment.nattch == 0 {
                destroy(kernel, index);
            } else {
                segment.mode |= SHM_DEST;
                segment.key = IPC_PRIVATE as i32;
            }
            if kernel.footprint.enabled {
                kernel.footprint.write(object);
            }
            Exec::Done(CallResult::Value { value: 0 })
        }
        _ => Kernel::error(EINVAL),
    }
}

/// The field of `struct shmid_ds` a scenario reads, as `IPC_STAT` fills it in.
fn stat_field(segment: &ShmSegment, field_code: i64) -> CallResult {
    let value = match field_code {
        field::SHM_SEGSZ => segment.segsz as i64,
        field::SHM_NATTCH => segment.nattch as i64,
        field::SHM_CPID => segment.cpid as i64,
        field::SHM_LPID => segment.lpid as i64,
        field::PERM_MODE => segment.mode,
        _ => return CallResult::Value { value: 0 },
    };
    CallResult::Out { value }
}

/// The System V shared memory mechanism.
pub struct ShmSegments;

impl Mechanism for ShmSegments {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::Shmget => shmget(kernel, pid, call.arg(0) as i32, call.arg(1), call.arg(2) as i32),
            CallId::Shmat => shmat(kernel, pid, call.arg(0), call.arg(1), trace),
            CallId::Shmdt => shmdt(kernel, pid, call.arg(0), trace),
            CallId::Shmctl => shmctl(kernel, call.arg(0), call.arg(1), call.arg(2)),
            other => unreachable!("{} is not a shared memory call", other.name()),
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        for (index, segment) in kernel.ipc.shm_segs.iter() {
            if IpcIds::index_of(segment.id) != index {
                return Err(format!("segment {} is kept at index {index}", segment.id));
            }
            if segment.frames.len() as u64 * PAGE as u64 != page_align(segment.segsz) {
                return Err(format!(
                    "segment {} of {} bytes holds {} frames",
                    segment.id,
                    segment.segsz,
                    segment.frames.len()
                ));
            }
            let attached = kernel
                .procs
                .iter()
                .flat_map(|process| &process.mm.mappings)
                .filter(|mapping| matches!(mapping.backing, Backing::Shm { index: at, .. } if at == index))
                .count();
            if attached != segment.nattch as usize {
                return Err(format!(
                    "segment {} counts {} attaches, but {attached} mappings",
                    segment.id, segment.nattch
                ));
            }
            if segment.nattch == 0 && segment.mode & SHM_DEST != 0 {
                return Err(format!(
                    "segment {} was removed and nobody has it attached, yet it is still there",
                    segment.id
                ));
            }
        }
        if kernel.ipc.shm_ids.in_use as usize != kernel.ipc.shm_segs.len() {
            return Err("the count of shared memory segments in use is wrong".to_string());
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for segment in kernel.ipc.shm_segs.values() {
            out.push(ObjectView::ShmSegment(Box::new(ShmSegmentView {
                id: segment.id,
                key: segment.key,
                mode: segment.mode as u32,
                size: segment.segsz,
                frames: segment.frames.clone(),
                attached: segment.nattch,
                creator: segment.cpid,
                last_pid: segment.lpid,
                removed: segment.mode & SHM_DEST != 0,
            })));
        }
    }
}

/// An errno of this module for unit tests' readability.
#[cfg(test)]
fn errno_of(result: &CallResult) -> Option<crate::linux::Errno> {
    match result {
        CallResult::Error { errno } => Some(*errno),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::CallResult::{Out, Value};

    fn results(source: &str) -> Vec<CallResult> {
        super::super::ipc::call_results(crate::Limits::DEFAULT, source)
    }

    #[test]
    fn shmget_rounds_to_pages_keeps_the_size_asked_and_checks_keys() {
        let results = results(
            "process main {\n  s = shmget 7 100 IPC_CREAT|0600\n  n = shmctl s IPC_STAT shm_segsz\n  \
             shmget 7 100 IPC_CREAT|IPC_EXCL|0600\n  shmget 7 5000 0\n  t = shmget 7 50 0\n  shmget 8 10 0\n  \
             shmget IPC_PRIVATE 0 IPC_CREAT|0600\n}\n",
        );
        assert_eq!(results[0], Value { value: 0 });
        assert_eq!(results[1], Out { value: 100 });
        assert_eq!(errno_of(&results[2]), Some(EEXIST));
        assert_eq!(errno_of(&results[3]), Some(EINVAL), "larger than the segment");
        assert_eq!(results[4], Value { value: 0 }, "smaller finds it");
        assert_eq!(errno_of(&results[5]), Some(ENOENT));
        assert_eq!(errno_of(&results[6]), Some(EINVAL), "below SHMMIN");
    }

    #[test]
    fn two_attaches_share_frames_and_a_removed_segment_goes_at_its_last_detach() {
        let source = "process main {\n  s = shmget IPC_PRIVATE 4096 IPC_CREAT|0600\n  a = shmat s\n  b = shmat s\n  \
                      store a 8 42\n  x = load b 8\n  n = shmctl s IPC_STAT shm_nattch\n  shmctl s IPC_RMID\n  \
                      shmget 0 0 0\n  m = shmctl s IPC_STAT shm_perm.mode\n  shmdt a\n  shmdt b\n  \
                      shmctl s IPC_STAT shm_nattch\n}\n";
        let results = results(source);
        let base = mm::MAP_BASE as i64;
        assert_eq!(results[1..3], [Value { value: base }, Value { value: base + 4096 }]);
        assert_eq!(results[4], Value { value: 42 }, "a store through one mapping is seen through the other");
        assert_eq!(results[5], Out { value: 2 });
        assert_eq!(results[6], Value { value: 0 });
        assert_eq!(results[8], Out { value: 0o600 | SHM_DEST }, "still there, marked for removal");
        assert_eq!(results[9..11], [Value { value: 0 }; 2]);
        assert_eq!(errno_of(&results[11]), Some(EINVAL), "gone with the last detach");
    }

    #[test]
    fn a_read_only_attach_faults_on_a_store_and_cannot_be_made_writable() {
        let source = "process main {\n  s = shmget IPC_PRIVATE 8 IPC_CREAT|0600\n  a = shmat s SHM_RDONLY\n  \
                      mprotect a 4096 PROT_READ|PROT_WRITE\n  x = load a 0\n  store a 0 1\n}\n";
        let results = results(source);
        assert_eq!(errno_of(&results[2]), Some(EACCES));
        assert_eq!(results[3], Value { value: 0 });
        assert_eq!(results.len(), 4, "the store faults: no call result, the process dies of SIGSEGV");
    }
}
