//! POSIX shared memory objects: `shm_open`, `ftruncate`, `shm_unlink`, the object's part in `mmap`,
//! and `read`, `write`, `lseek`, `pread`, `pwrite` on its descriptor.
//!
//! glibc's `shm_open` (2.34 and later) opens the file `/dev/shm/NAME` of a tmpfs (`__shm_get_name`:
//! the leading `/`s dropped; an empty name or one with another `/` is `EINVAL`, one longer than
//! `NAME_MAX` `ENAMETOOLONG`) with `O_NOFOLLOW | O_CLOEXEC` added; `shm_unlink` unlinks it. So an
//! object is a tmpfs file (`mm/shmem.c`): a size and the page frames that hold its bytes, a name until
//! `shm_unlink`, and it lives while it has a name, an open file description or a mapping (a VMA holds
//! the file: `shmem_evict_inode` runs once the last goes). The owner's permission bits decide an open
//! of an existing object (`may_open`: `O_RDONLY` needs read, `O_RDWR` read and write, `O_TRUNC` write);
//! the creator gets its descriptor whatever the mode (`do_open` skips the check for a file it created).
//! Scenario processes have the umask 022, as `ipclab check` sets it.
//!
//! **Size.** A new object is empty. `ftruncate` (`do_sys_ftruncate`, `do_ftruncate` in `fs/open.c`,
//! then `shmem_setattr`) sets the size: growing adds pages of zeros; shrinking frees the pages past the
//! new end, zeroes the rest of a last partial page, and first unmaps every page past the new end from
//! every mapping of the object, private copies included (`truncate_pagecache` ->
//! `unmap_mapping_range(..., even_cows = 1)`). The model holds one frame per page of the size from the
//! start, where tmpfs allocates a page at its first touch: no scenario can tell the two apart, but
//! `lseek`'s `SEEK_DATA` and `SEEK_HOLE`, which see tmpfs's holes, here see all data. `write` past the
//! end grows the object as `shmem_write_end` does.
//!
//! **Mappings.** `mmap` of the descriptor ([`super::mm`]) maps the object's frames from the page
//! `OFFSET / 4096`: `MAP_SHARED` maps the very frames, which every mapping of the object shares
//! (across `fork` and between processes that opened the same name); `MAP_PRIVATE` maps them
//! copy-on-write, so a private mapping sees the object's bytes until it writes a page, then its own
//! copy (`wp_page_copy`). A page past the object's end may be mapped; it has no frame
//! ([`super::mm::NO_FRAME`]) and touching it is `SIGBUS` (`shmem_fault` -> `VM_FAULT_SIGBUS`); once
//! `ftruncate` or a `write` grows the object over it, the page maps the object's frame, as a fault
//! would map it at the next touch.

use super::fd::{FileObject, OpenFile};
use super::mm::{self, Backing, NO_FRAME, PAGE};
use super::{Exec, Kernel, Mechanism};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EACCES, EBADF, EEXIST, EINVAL, EMFILE, ENAMETOOLONG, ENOENT};
use crate::linux::fcntl::{self, O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC, UMASK};
use crate::linux::mman::page_align;
use crate::linux::mqueue::NAME_MAX;
use crate::linux::Errno;
use crate::present::snapshot::{ObjectView, ShmObjectView};
use crate::trace::{CallResult, ObjectRef, Pid, StateHasher, Trace};
use std::rc::Rc;
use std::sync::Arc;

/// A POSIX shared memory object (a tmpfs inode).
#[derive(Clone, Debug)]
pub struct ShmObject {
    pub id: u32,
    /// Its name (leading `/`s removed) and the program's path index of the name that made it, while
    /// the file `/dev/shm/NAME` exists.
    pub name: Option<Arc<str>>,
    pub name_index: Option<u32>,
    pub mode: i64,
    /// `i_size`, in bytes.
    pub size: u64,
    /// One frame per page of the size, which the object holds a reference to.
    pub frames: Vec<u32>,
    /// Open file descriptions of it.
    pub opens: u32,
    /// Mappings (VMAs) of it in all processes.
    pub mappings: u32,
    pub creator: Pid,
}

impl ShmObject {
    pub(crate) fn hash_into(&self, kernel: &Kernel, numbers: &[u32], seen: &mut [bool], hasher: &mut StateHasher) {
        hasher.word(self.id as u64 | (self.opens as u64) << 32);
        hasher.word(self.name_index.map_or(u64::MAX, |index| index as u64));
        hasher.word(self.mode as u64 | (self.mappings as u64) << 32);
        hasher.word(self.size);
        for frame in &self.frames {
            hasher.word(numbers[*frame as usize] as u64);
            mm::hash_frame(kernel, *frame, seen, hasher);
        }
    }
}

impl Kernel {
    pub fn shm_object(&self, id: u32) -> Option<&ShmObject> {
        self.ipc.shm_objects.get((id as usize).wrapping_sub(1)).and_then(Option::as_ref)
    }

    pub(crate) fn shm_object_mut(&mut self, id: u32) -> &mut ShmObject {
        self.ipc.shm_objects[id as usize - 1].as_mut().expect("an object in use exists")
    }
}

/// A name as glibc's `__shm_get_name` makes a file of it.
fn object_name(kernel: &Kernel, name_index: u32) -> Result<Arc<str>, Errno> {
    let written = &kernel.program.paths[name_index as usize];
    let rest = written.trim_start_matches('/');
    if rest.is_empty() || rest.contains('/') {
        return Err(EINVAL);
    }
    if rest.len() > NAME_MAX {
        return Err(ENAMETOOLONG);
    }
    // `/dev/shm/.` and `/dev/shm/..` are directories: `open` fails with `EISDIR`, which glibc turns
    // into `EINVAL` (an `O_RDONLY` open of a directory would succeed on Linux; not modelled).
    if rest == "." || rest == ".." {
        return Err(EINVAL);
    }
    Ok(Arc::from(rest))
}

/// `shm_open(name, oflag, mode)`: glibc's name rules, then `open` of the file (`do_sys_openat2`: the
/// descriptor first, then `path_openat`).
fn shm_open(kernel: &mut Kernel, pid: Pid, name_index: u32, flags: i64, mode: i64, trace: &mut Trace) -> Exec {
    let flags = flags as i32 as i64;
    let name = match object_name(kernel, name_index) {
        Ok(name) => name,
        Err(errno) => return Kernel::error(errno),
    };
    let Some(fd) = kernel.lowest_free_fd(pid, 0) else { return Kernel::error(EMFILE) };
    let access = flags & O_ACCMODE;
    let readable = matches!(access, fcntl::O_RDONLY | fcntl::O_RDWR);
    let writable = matches!(access, fcntl::O_WRONLY | fcntl::O_RDWR);
    let existing = kernel.ipc.shm_names.get(&name).copied();
    let id = match existing {
        Some(_) if flags & O_CREAT != 0 && flags & O_EXCL != 0 => return Kernel::error(EEXIST),
        Some(id) => {
            // `may_open` with `ACC_MODE` (an access mode of 3 asks for both) and `MAY_WRITE` for
            // `O_TRUNC` (`build_open_flags`), against the owner's bits.
            let mut wanted = match access {
                fcntl::O_RDONLY => 0o4,
                fcntl::O_WRONLY => 0o2,
                _ => 0o6,
            };
            if flags & O_TRUNC != 0 {
                wanted |= 0o2;
            }
            if (kernel.shm_object(id).expect("named").mode >> 6) & wanted != wanted {
                return Kernel::error(EACCES);
            }
            if flags & O_TRUNC != 0 {
                // `handle_truncate`: to 0, whatever the access mode.
                if let Err(exec) = set_size(kernel, id, 0, trace) {
                    return exec;
                }
            }
            id
        }
        None if flags & O_CREAT == 0 => return Kernel::error(ENOENT),
        None => {
            if !kernel.ipc_object_fits() {
                return kernel.halt_ipc_objects();
            }
            let id = kernel.ipc.shm_objects.len() as u32 + 1;
            kernel.ipc.shm_objects.push(Some(ShmObject {
                id,
                name: Some(name.clone()),
                name_index: Some(name_index),
                mode: (mode as u32 as i64) & !UMASK & 0o777,
                size: 0,
                frames: Vec::new(),
                opens: 0,
                mappings: 0,
                creator: pid,
            }));
            kernel.ipc.shm_names.insert(name, id);
            id
        }
    };
    let file = kernel.new_file(OpenFile {
        object: FileObject::ShmObject(id),
        readable,
        writable,
        nonblock: false,
        // `F_GETFL`: the access mode, glibc's `O_NOFOLLOW` and the `O_LARGEFILE` that a 64-bit
        // `open` forces (`force_o_largefile`); `O_CLOEXEC` is the descriptor's, the open-time flags gone.
        base_flags: access | fcntl::O_NOFOLLOW | fcntl::O_LARGEFILE,
        refs: 1,
        offset: 0,
        fifo_writers_seen: None,
    });
    kernel.shm_object_mut(id).opens += 1;
    // glibc adds `O_CLOEXEC`.
    kernel.install_fd(pid, fd, file, true);
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::shm_object(id));
    }
    Exec::Done(CallResult::Value { value: fd })
}

/// Sets an object's size (`shmem_setattr`): pages added or freed, every mapping of the object made to
/// match (`truncate_pagecache` for a shrink). `Err` when the frames would pass `max_mapped_bytes`.
pub(crate) fn set_size(kernel: &mut Kernel, id: u32, size: u64, _trace: &mut Trace) -> Result<(), Exec> {
    let old_pages = kernel.shm_object(id).expect("exists").frames.len() as u64;
    let pages = page_align(size) / PAGE as u64;
    if pages > old_pages {
        if !kernel.frames_fit(pages - old_pages) {
            return Err(kernel.halt_mapped((pages - old_pages).saturating_mul(PAGE as u64)));
        }
        let added: Vec<u32> = (old_pages..pages).map(|_| kernel.frames.alloc(None)).collect();
        kernel.shm_object_mut(id).frames.extend(added);
    }
    let object = kernel.shm_object_mut(id);
    let old_size = object.size;
    object.size = size;
    // `truncate_inode_partial_folio`: the bytes of the last page past the new end are zeroed.
    if size < old_size && !size.is_multiple_of(PAGE as u64) {
        let frame = object.frames[(size / PAGE as u64) as usize];
        let from = (size % PAGE as u64) as usize;
        if kernel.frames.get(frame).data.is_some() {
            kernel.frames.write_bytes(frame, from, &[0; PAGE][from..]);
        }
    }
    remap(kernel, id);
    if pages < old_pages {
        let gone = kernel.shm_object_mut(id).frames.split_off(pages as usize);
        for frame in gone {
            kernel.frames.release(frame);
        }
    }
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::shm_object(id));
    }
    Ok(())
}

/// Makes every mapping of object `id` match its size: a page past the end has no frame (touching it
/// is `SIGBUS`), a page within it maps the object's frame (copy-on-write in a private mapping). A
/// private mapping's own copy of a page past the end goes too (`even_cows`).
fn remap(kernel: &mut Kernel, id: u32) {
    let frames = kernel.shm_object(id).expect("exists").frames.clone();
    let pages = (page_align(kernel.shm_object(id).expect("exists").size) / PAGE as u64) as usize;
    let mut released = Vec::new();
    let mut held = Vec::new();
    let maps_it = |process: &Rc<super::process::Process>| {
        process
            .mm
            .mappings
            .iter()
            .any(|mapping| matches!(mapping.backing, Backing::PosixShm { object, .. } if object == id))
    };
    for process in kernel.procs.iter_mut().filter(|process| maps_it(process)) {
        for mapping in super::unshare(process).mm.mappings.iter_mut() {
            let Backing::PosixShm { object, shared } = mapping.backing else { continue };
            if object != id {
                continue;
            }
            for (index, pte) in mapping.ptes.iter_mut().enumerate() {
                let page = mapping.pgoff as usize + index;
                if page >= pages && pte.frame != NO_FRAME {
                    released.push(pte.frame);
                    *pte = mm::Pte { frame: NO_FRAME, cow: false };
                } else if page < pages && pte.frame == NO_FRAME {
                    held.push(frames[page]);
                    *pte = mm::Pte { frame: frames[page], cow: !shared };
                }
            }
        }
    }
    if kernel.footprint.enabled && !(released.is_empty() && held.is_empty()) {
        kernel.footprint.write(ObjectRef { kind: crate::trace::ObjectKind::Frame, id: super::state::NAMESPACE });
    }
    for frame in held {
        kernel.frames.hold(frame);
    }
    for frame in released {
        kernel.frames.release(frame);
    }
}

/// `ftruncate(fd, length)` (`do_sys_ftruncate`, `do_ftruncate`).
fn ftruncate(kernel: &mut Kernel, pid: Pid, fd: i64, length: i64, trace: &mut Trace) -> Exec {
    if length < 0 {
        return Kernel::error(EINVAL);
    }
    let Some(index) = kernel.file_used(pid, fd) else { return Kernel::error(EBADF) };
    let file = kernel.file(index);
    match file.object {
        // `do_ftruncate`: a regular file open for writing.
        FileObject::ShmObject(id) if file.writable => match set_size(kernel, id, length as u64, trace) {
            Ok(()) => Exec::Done(CallResult::Value { value: 0 }),
            Err(exec) => exec,
        },
        // Not open for writing, or not a regular file (a pipe, a socket, `/dev/null`; a message
        // queue's file is taken as one too, which Linux lets `simple_setattr` change).
        _ => Kernel::error(EINVAL),
    }
}

/// `shm_unlink(name)`: glibc's name rules, then `unlink` of the file. A name glibc refuses is `ENOENT`
/// here, where `shm_open` says `EINVAL` (`__shm_unlink` sets `ENOENT` whatever `__shm_get_name` said).
fn shm_unlink(kernel: &mut Kernel, name_index: u32) -> Exec {
    let Ok(name) = object_name(kernel, name_index) else { return Kernel::error(ENOENT) };
    let Some(id) = kernel.ipc.shm_names.remove(&name) else { return Kernel::error(ENOENT) };
    let object = kernel.shm_object_mut(id);
    object.name = None;
    object.name_index = None;
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::shm_object(id));
    }
    free_if_unused(kernel, id);
    Exec::Done(CallResult::Value { value: 0 })
}

/// Frees an object that has neither a name, nor an open file, nor a mapping (`shmem_evict_inode`).
fn free_if_unused(kernel: &mut Kernel, id: u32) {
    let object = kernel.shm_object(id).expect("exists");
    if object.name.is_some() || object.opens > 0 || object.mappings > 0 {
        return;
    }
    let object = kernel.ipc.shm_objects[id as usize - 1].take().expect("exists");
    for frame in object.frames {
        kernel.frames.release(frame);
    }
}

/// The last reference to an open file of the object went away.
pub(crate) fn release(kernel: &mut Kernel, id: u32) {
    kernel.shm_object_mut(id).opens -= 1;
    free_if_unused(kernel, id);
}

/// A mapping of object `id` was made or split (`delta` 1) or dropped (-1).
pub(crate) fn mapping_changed(kernel: &mut Kernel, id: u32, delta: i32) {
    let object = kernel.shm_object_mut(id);
    object.mappings = object.mappings.checked_add_signed(delta).expect("mappings never go below 0");
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::shm_object(id));
    }
    if delta < 0 {
        free_if_unused(kernel, id);
    }
}

/// The bytes of object `id` from `offset`, at most `count` of them (`shmem_file_read_iter`: nothing
/// at or past the end), appended to `out`.
pub(crate) fn read_at(kernel: &mut Kernel, id: u32, offset: u64, count: u64, out: &mut Vec<u8>) {
    let object = kernel.shm_object(id).expect("an open object exists");
    let end = offset.saturating_add(count).min(object.size);
    let mut at = offset;
    let mut touched = Vec::new();
    while at < end {
        let frame = object.frames[(at / PAGE as u64) as usize];
        let from = (at % PAGE as u64) as usize;
        let take = (PAGE - from).min((end - at) as usize);
        kernel.frames.read_bytes(frame, from, take, out);
        touched.push(frame);
        at += take as u64;
    }
    if kernel.footprint.enabled {
        kernel.footprint.read(ObjectRef::shm_object(id));
        for frame in touched {
            kernel.footprint.read(ObjectRef::frame(frame));
        }
    }
}

/// Writes `bytes` into object `id` at `offset`, growing it first if they pass its end
/// (`shmem_write_begin`, `shmem_write_end`). `Err` at `max_mapped_bytes`.
pub(crate) fn write_at(kernel: &mut Kernel, id: u32, offset: u64, bytes: &[u8], trace: &mut Trace) -> Result<(), Exec> {
    let end = offset.saturating_add(bytes.len() as u64);
    if end > kernel.shm_object(id).expect("an open object exists").size {
        set_size(kernel, id, end, trace)?;
    }
    let mut done = 0usize;
    while done < bytes.len() {
        let at = offset + done as u64;
        let frame = kernel.shm_object(id).expect("exists").frames[(at / PAGE as u64) as usize];
        let from = (at % PAGE as u64) as usize;
        let take = (PAGE - from).min(bytes.len() - done);
        kernel.frames.write_bytes(frame, from, &bytes[done..done + take]);
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::frame(frame));
        }
        done += take;
    }
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::shm_object(id));
    }
    Ok(())
}

/// The POSIX shared memory mechanism.
pub struct ShmObjects;

impl Mechanism for ShmObjects {
    fn call(kernel: &mut Kernel, call: &super::CallContext, trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::ShmOpen => shm_open(kernel, pid, call.arg(0) as u32, call.arg(1), call.arg(2), trace),
            CallId::Ftruncate => ftruncate(kernel, pid, call.arg(0), call.arg(1), trace),
            CallId::ShmUnlink => shm_unlink(kernel, call.arg(0) as u32),
            other => unreachable!("{} is not a POSIX shared memory call", other.name()),
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        for (at, object) in kernel.ipc.shm_objects.iter().enumerate() {
            let Some(object) = object else { continue };
            if object.id as usize != at + 1 {
                return Err(format!("shared memory object {} is kept at {}", object.id, at + 1));
            }
            if object.frames.len() as u64 * PAGE as u64 != page_align(object.size) {
                return Err(format!(
                    "shared memory object {} of {} bytes holds {} frames",
                    object.id,
                    object.size,
                    object.frames.len()
                ));
            }
            let opens = kernel.files.iter().flatten().filter(|file| file.object == FileObject::ShmObject(object.id));
            if opens.count() != object.opens as usize {
                return Err(format!("shared memory object {} counts {} open files", object.id, object.opens));
            }
            let pages = object.frames.len();
            let mut mappings = 0;
            for process in &kernel.procs {
                for mapping in &process.mm.mappings {
                    let Backing::PosixShm { object: of, shared } = mapping.backing else { continue };
                    if of != object.id {
                        continue;
                    }
                    mappings += 1;
                    for (index, pte) in mapping.ptes.iter().enumerate() {
                        let page = mapping.pgoff as usize + index;
                        let expected = if page < pages { Some(object.frames[page]) } else { None };
                        let fine = match expected {
                            None => pte.frame == NO_FRAME,
                            Some(frame) if shared => pte.frame == frame && !pte.cow,
                            // A private page maps the object's frame copy-on-write, or a copy of its own.
                            Some(frame) => pte.frame != NO_FRAME && (pte.frame != frame || pte.cow),
                        };
                        if !fine {
                            return Err(format!(
                                "pid {} maps page {page} of shared memory object {} wrongly",
                                process.pid, object.id
                            ));
                        }
                    }
                }
            }
            if mappings != object.mappings {
                return Err(format!(
                    "shared memory object {} counts {} mappings, but {mappings} exist",
                    object.id, object.mappings
                ));
            }
            if object.name.is_none() && object.opens == 0 && object.mappings == 0 {
                return Err(format!("shared memory object {} is unused, yet still there", object.id));
            }
            if object.name.is_some() != object.name_index.is_some()
                || object.name.as_ref().is_some_and(|name| kernel.ipc.shm_names.get(name) != Some(&object.id))
            {
                return Err(format!("shared memory object {}'s name is not in the namespace", object.id));
            }
        }
        for (name, id) in &kernel.ipc.shm_names {
            if kernel.shm_object(*id).and_then(|object| object.name.as_ref()) != Some(name) {
                return Err(format!("the name {name} names no shared memory object"));
            }
        }
        Ok(())
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for object in kernel.ipc.shm_objects.iter().flatten() {
            out.push(ObjectView::ShmObject(Box::new(ShmObjectView {
                id: object.id,
                name: object.name.as_ref().map(|name| format!("/{name}")),
                mode: object.mode as u32,
                size: object.size,
                frames: object.frames.clone(),
                opens: object.opens,
                mappings: object.mappings,
                creator: object.creator,
            })));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::errno::ENODEV;
    use crate::trace::CallResult::{Error, Value};
    use crate::trace::EventKind;

    fn results(source: &str) -> Vec<CallResult> {
        super::super::ipc::call_results(crate::Limits::DEFAULT, source)
    }

    /// Runs a scenario to its end, round-robin, checking the kernel's invariants after every step.
    fn run_checked(source: &str) -> (Kernel, Trace) {
        let scenario = crate::parse(source).expect("parses");
        let program = Arc::new(crate::lang::compile::Program::compile(&scenario).expect("compiles"));
        let mut trace = Trace::new(true);
        let mut kernel = Kernel::new(program.clone(), crate::Limits::DEFAULT, &mut trace).expect("fits");
        while let Some(&pid) = kernel.runnable().first() {
            kernel.step(&program, pid, &mut trace).expect("no limit");
            kernel.check_invariants().expect("the counts hold");
        }
        (kernel, trace)
    }

    fn error(errno: Errno) -> CallResult {
        Error { errno }
    }

    #[test]
    fn names_flags_and_permissions_decide_shm_open() {
        let results = results(
            "process main {\n  shm_open \"/a\" O_RDWR\n  a = shm_open \"/a\" O_RDWR|O_CREAT 0400\n  \
             shm_open \"/a\" O_RDWR|O_CREAT|O_EXCL\n  shm_open \"/a\" O_RDWR\n  b = shm_open \"//a\" O_RDONLY\n  \
             shm_open \"/\" O_RDWR|O_CREAT\n  shm_open \"/x/y\" O_RDWR|O_CREAT\n  shm_open \"/a\" O_RDONLY|O_TRUNC\n  \
             shm_unlink \"/a\"\n  shm_unlink \"a\"\n}\n",
        );
        assert_eq!(results[0], error(ENOENT));
        assert_eq!(results[1], Value { value: 3 }, "the creator opens it whatever the mode");
        assert_eq!(results[2], error(EEXIST));
        assert_eq!(results[3], error(EACCES), "0400 refuses writing");
        assert_eq!(results[4], Value { value: 4 }, "leading slashes are dropped");
        assert_eq!(results[5..7], [error(EINVAL), error(EINVAL)]);
        assert_eq!(results[7], error(EACCES), "O_TRUNC needs write permission");
        assert_eq!(results[8..10], [Value { value: 0 }, error(ENOENT)]);
    }

    #[test]
    fn ftruncate_checks_its_descriptor_and_sizes_the_object_under_its_mappings() {
        let source =
            "process main {\n  f = shm_open \"/m\" O_RDWR|O_CREAT\n  ftruncate f (0 - 1)\n  ftruncate 9 4096\n  \
                      p = pipe\n  ftruncate p.w 4096\n  r = shm_open \"/m\" O_RDONLY\n  ftruncate r 4096\n  \
                      m = mmap 8192 PROT_READ|PROT_WRITE MAP_SHARED f 0\n  ftruncate f 8192\n  store m 4096 7\n  \
                      x = pread r 8 4096\n  ftruncate f 100\n  mmap 4096 PROT_READ MAP_SHARED p.r\n  \
                      mmap 4096 PROT_READ|PROT_WRITE MAP_SHARED r\n  mmap 4096 PROT_READ MAP_SHARED f 100\n  \
                      load m 4096\n}\n";
        let (_, trace) = run_checked(source);
        let results: Vec<CallResult> = trace
            .events
            .iter()
            .filter_map(|event| match event.kind {
                EventKind::Call { result, .. } => Some(result),
                _ => None,
            })
            .collect();
        assert_eq!(results[1..3], [error(EINVAL), error(EBADF)]);
        assert_eq!(results[4], error(EINVAL), "a pipe is no regular file");
        assert_eq!(results[6], error(EINVAL), "not open for writing");
        assert_eq!(results[8], Value { value: 0 });
        assert!(
            matches!(results[10], CallResult::Data { len: 8, .. }),
            "the store is in the object: {:?}",
            results[10]
        );
        assert_eq!(results[11], Value { value: 0 });
        assert_eq!(results[12..15], [error(ENODEV), error(EACCES), error(EINVAL)]);
        // The load of the page past the new end is SIGBUS.
        let fault = trace.events.iter().find_map(|event| match event.kind {
            EventKind::Fault { signal, .. } => Some(signal),
            _ => None,
        });
        assert_eq!(fault, Some(crate::linux::signal::SIGBUS));
    }

    #[test]
    fn an_object_lives_while_named_open_or_mapped_and_private_mappings_copy() {
        let source = "process main {\n  f = shm_open \"/k\" O_RDWR|O_CREAT\n  ftruncate f 4096\n  \
                      s = mmap 4096 PROT_READ|PROT_WRITE MAP_SHARED f\n  \
                      p = mmap 4096 PROT_READ|PROT_WRITE MAP_PRIVATE f\n  store s 0 5\n  a = load p 0\n  \
                      store p 0 6\n  b = load s 0\n  shm_unlink \"/k\"\n  close f\n  c = load s 0\n  munmap s 4096\n  \
                      munmap p 4096\n}\n";
        let results = results(source);
        assert_eq!(results[5], Value { value: 5 }, "a private mapping sees the object until it writes");
        assert_eq!(results[7], Value { value: 5 }, "its write went to a copy");
        assert_eq!(results[10], Value { value: 5 }, "unlinked and closed, still mapped");
        let (kernel, _) = run_checked(source);
        assert!(kernel.ipc.shm_objects.iter().all(Option::is_none), "gone with its last mapping");
        assert_eq!(kernel.frames.in_use, 0);
    }

    #[test]
    fn a_write_past_the_end_grows_the_object_under_its_mappings_and_o_trunc_empties_it() {
        let source = "process main {
  f = shm_open \"/w\" O_RDWR|O_CREAT
  \
                      m = mmap 8192 PROT_READ|PROT_WRITE MAP_SHARED f
  pwrite f \"abc\" 4096
  \
                      x = load m 4096
  g = shm_open \"/w\" O_RDWR|O_TRUNC
  n = lseek g 0 SEEK_END
  \
                      load m 0
}
";
        let results = results(source);
        assert_eq!(results[2], Value { value: 3 });
        assert_eq!(results[3], Value { value: 0x63_6261 }, "the bytes written are in the mapped page");
        assert_eq!(results[5], Value { value: 0 }, "O_TRUNC emptied the object");
        assert_eq!(results.len(), 6, "the load past the new end is SIGBUS: no result");
    }
}
