//! Descriptor tables and open files: the calls that work on any descriptor, whatever is behind it.
//!
//! A descriptor is a number in one process's table pointing at an *open file description* (Linux's
//! `struct file`), which `dup` and `fork` share and which goes away with its last descriptor. An open
//! file refers to one kernel object ([`FileObject`]); `read`, `write`, `ioctl` and the object-specific
//! `fcntl` commands are handed to that object's module, as Linux's `file_operations` hand them to
//! `pipe_read`, `pipe_write` and friends (`fs/read_write.c`, `fs/fcntl.c`, `fs/ioctl.c`, `fs/file.c`).

use super::{CallContext, Exec, Kernel, Mechanism};
use crate::lang::compile::CallOp;
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EBADF, EINVAL, EMFILE, ENOTTY, ESPIPE};
use crate::linux::{fcntl, ioctl, RLIMIT_NOFILE};
use crate::trace::{Args, CallResult, ObjectRef, Pid, Trace};

/// One entry of a descriptor table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdEntry {
    pub file: u32,
    pub cloexec: bool,
}

/// What an open file refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileObject {
    /// `/dev/null`: reads see end of file, writes vanish.
    DevNull,
    /// A pipe, by id (an anonymous pipe's end, or a FIFO opened by path).
    Pipe(u32),
    /// A POSIX message queue, by number (`mq_open`).
    Mqueue(u32),
    /// A Unix-domain socket, by number (`socketpair`).
    Socket(u32),
    /// A POSIX shared memory object, by number (`shm_open`).
    ShmObject(u32),
    /// An epoll instance, by number (`epoll_create1`).
    Epoll(u32),
}

impl FileObject {
    pub fn object_ref(self) -> ObjectRef {
        match self {
            FileObject::DevNull => ObjectRef::DEV_NULL,
            FileObject::Pipe(id) => ObjectRef::pipe(id),
            FileObject::Mqueue(id) => ObjectRef::mqueue(id),
            FileObject::Socket(id) => ObjectRef::socket(id),
            FileObject::ShmObject(id) => ObjectRef::shm_object(id),
            FileObject::Epoll(id) => ObjectRef::epoll(id),
        }
    }

    pub fn pipe(self) -> Option<u32> {
        match self {
            FileObject::Pipe(id) => Some(id),
            FileObject::DevNull
            | FileObject::Mqueue(_)
            | FileObject::Socket(_)
            | FileObject::ShmObject(_)
            | FileObject::Epoll(_) => None,
        }
    }
}

/// An open file description (`struct file`): shared by `dup` and `fork`, released with its last descriptor.
#[derive(Clone, Debug)]
pub struct OpenFile {
    pub object: FileObject,
    pub readable: bool,
    pub writable: bool,
    pub nonblock: bool,
    /// What `F_GETFL` reports besides `O_NONBLOCK`.
    pub base_flags: i64,
    pub refs: u32,
    /// The file offset (`f_pos`): a message queue's and a shared memory object's descriptors use one.
    pub offset: i64,
    /// A FIFO opened for reading with `O_NONBLOCK` while it had no writer: the count of writer opens
    /// then (`fifo_open` sets `f_pipe` to `w_counter`). `poll` reports no hang-up on it until a writer
    /// has opened the FIFO since (`pipe_poll`).
    pub fifo_writers_seen: Option<u32>,
}

impl OpenFile {
    pub fn dev_null(base_flags: i64, refs: u32) -> OpenFile {
        OpenFile {
            object: FileObject::DevNull,
            readable: true,
            writable: true,
            nonblock: false,
            base_flags,
            refs,
            offset: 0,
            fifo_writers_seen: None,
        }
    }
}

impl Kernel {
    /// The open file behind descriptor `fd` of `pid`, if it is open.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn file_of(&self, pid: Pid, fd: i64) -> Option<u32> {
        if !(0..RLIMIT_NOFILE as i64).contains(&fd) {
            return None;
        }
        self.process(pid).fds.get(fd as usize).copied().flatten().map(|entry| entry.file)
    }

    pub(crate) fn lowest_free_fd(&self, pid: Pid, at_least: i64) -> Option<i64> {
        let fds = &self.process(pid).fds;
        (at_least.max(0)..RLIMIT_NOFILE as i64).find(|fd| fds.get(*fd as usize).is_none_or(|entry| entry.is_none()))
    }

    pub(crate) fn install_fd(&mut self, pid: Pid, fd: i64, file: u32, cloexec: bool) {
        let fds = &mut self.proc_mut(pid).fds;
        if fds.len() <= fd as usize {
            fds.resize(fd as usize + 1, None);
        }
        fds[fd as usize] = Some(FdEntry { file, cloexec });
    }

    pub(crate) fn new_file(&mut self, file: OpenFile) -> u32 {
        match self.free_files.pop() {
            Some(index) => {
                self.files[index as usize] = Some(file);
                index
            }
            None => {
                self.files.push(Some(file));
                self.files.len() as u32 - 1
            }
        }
    }

    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn file(&self, index: u32) -> &OpenFile {
        self.files[index as usize].as_ref().expect("descriptor points at a closed file")
    }

    pub(crate) fn file_mut(&mut self, index: u32) -> &mut OpenFile {
        if self.footprint.enabled {
            self.footprint.write(ObjectRef::file(index));
        }
        self.files[index as usize].as_mut().expect("descriptor points at a closed file")
    }

    /// The open file behind descriptor `fd` of `pid`, recorded as read by the step (its flags, its
    /// offset, the object it holds decide what the call does).
    pub(crate) fn file_used(&mut self, pid: Pid, fd: i64) -> Option<u32> {
        let index = self.file_of(pid, fd)?;
        if self.footprint.enabled {
            self.footprint.read(ObjectRef::file(index));
            match self.file(index).object {
                FileObject::Mqueue(id) => self.footprint.read(ObjectRef::mqueue(id)),
                FileObject::ShmObject(id) => self.footprint.read(ObjectRef::shm_object(id)),
                _ => {}
            }
        }
        Some(index)
    }

    /// Drops one reference to an open file; the last one closes the object end it holds.
    pub(crate) fn release_file(&mut self, index: u32, by: Pid, trace: &mut Trace) {
        // `filp_close` flushes on every close of a descriptor, whoever else holds the file.
        if let (FileObject::Mqueue(id), true) = (self.file(index).object, crate::IPC) {
            if self.footprint.enabled {
                self.footprint.write(ObjectRef::mqueue(id));
            }
            super::mqueue::flush(self, id, by);
        }
        let file = self.file_mut(index);
        file.refs -= 1;
        let (refs, object) = (file.refs, file.object);
        if let (true, FileObject::Socket(id)) = (crate::IPC, object) {
            // Only a Unix-domain socket can be in flight, and so be garbage.
            if self.socket(id).is_some_and(|socket| socket.inet.is_none()) {
                self.unix_gc_pending = true;
            }
        }
        if refs > 0 {
            return;
        }
        // `__fput` calls `eventpoll_release` before the file's own `release`: the items watching the
        // file go first, and an instance's own file takes its items with it.
        let object = self.file(index).object;
        self.epoll_file_released(index, object);
        let file = self.files[index as usize].take().expect("just checked");
        self.free_files.push(index);
        match file.object {
            FileObject::DevNull => {}
            FileObject::Pipe(pipe) => super::pipe::release_end(self, pipe, file.readable, file.writable, by, trace),
            FileObject::Mqueue(id) if crate::IPC => super::mqueue::release(self, id),
            FileObject::Mqueue(_) => {}
            FileObject::Socket(id) if crate::IPC => super::socket::release(self, id, by, trace),
            FileObject::Socket(_) => {}
            FileObject::ShmObject(id) if crate::IPC => super::posix_shm::release(self, id),
            FileObject::ShmObject(_) | FileObject::Epoll(_) => {}
        }
    }

    /// Closes descriptor `fd` of `pid`.
    pub(crate) fn close_fd(&mut self, pid: Pid, fd: i64, trace: &mut Trace) -> bool {
        let Some(file) = self.file_of(pid, fd) else { return false };
        self.proc_mut(pid).fds[fd as usize] = None;
        if self.footprint.enabled {
            self.footprint.write(ObjectRef::file(file));
        }
        self.release_file(file, pid, trace);
        true
    }
}

/// `dup`, `F_DUPFD`: a new descriptor for the same open file, the lowest free one from `at_least` on.
fn duplicate(kernel: &mut Kernel, pid: Pid, fd: i64, at_least: i64, cloexec: bool) -> Exec {
    let Some(file) = kernel.file_used(pid, fd) else { return Kernel::error(EBADF) };
    let Some(new_fd) = kernel.lowest_free_fd(pid, at_least) else { return Kernel::error(EMFILE) };
    kernel.file_mut(file).refs += 1;
    kernel.install_fd(pid, new_fd, file, cloexec);
    Exec::Done(CallResult::Value { value: new_fd })
}

fn fcntl_call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
    let (pid, fd, command, arg) = (call.pid, call.arg(0), call.arg(1), call.arg(2));
    let Some(index) = kernel.file_of(pid, fd) else { return Kernel::error(EBADF) };
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::file(index));
    }
    let done = |value: i64| Exec::Done(CallResult::Value { value });
    match command {
        fcntl::F_GETFL => {
            let file = kernel.file(index);
            done(file.base_flags | if file.nonblock { fcntl::O_NONBLOCK } else { 0 })
        }
        fcntl::F_SETFL => {
            // `setfl`: of the flags modelled, only O_NONBLOCK can change; the access mode cannot.
            kernel.file_mut(index).nonblock = arg & fcntl::O_NONBLOCK != 0;
            done(0)
        }
        fcntl::F_GETFD => {
            let cloexec = kernel.process(pid).fds[fd as usize].expect("open").cloexec;
            done(if cloexec { fcntl::FD_CLOEXEC } else { 0 })
        }
        fcntl::F_SETFD => {
            let entry = kernel.proc_mut(pid).fds[fd as usize].as_mut().expect("open");
            entry.cloexec = arg & fcntl::FD_CLOEXEC != 0;
            done(0)
        }
        fcntl::F_DUPFD | fcntl::F_DUPFD_CLOEXEC => {
            if !(0..RLIMIT_NOFILE as i64).contains(&arg) {
                return Kernel::error(EINVAL);
            }
            duplicate(kernel, pid, fd, arg, command == fcntl::F_DUPFD_CLOEXEC)
        }
        fcntl::F_GETPIPE_SZ | fcntl::F_SETPIPE_SZ => match kernel.file(index).object {
            FileObject::Pipe(pipe) => super::pipe::fcntl(kernel, pid, pipe, command, arg, trace),
            // `pipe_fcntl` finds no pipe behind the file.
            FileObject::DevNull
            | FileObject::Mqueue(_)
            | FileObject::Socket(_)
            | FileObject::ShmObject(_)
            | FileObject::Epoll(_) => Kernel::error(EBADF),
        },
        _ => Kernel::error(EINVAL),
    }
}

/// `write`: the most frequent call with `read`, handed straight to the object behind the descriptor.
#[cfg_attr(not(feature = "small"), inline(always))]
pub(crate) fn write(kernel: &mut Kernel, pid: Pid, call: &CallOp, args: &Args, trace: &mut Trace) -> Exec {
    let Some(index) = kernel.file_used(pid, args.get(0)) else { return Kernel::error(EBADF) };
    let file = kernel.file(index);
    if !file.writable {
        return Kernel::error(EBADF);
    }
    let payload = call.payload().expect("write has a payload operand");
    match file.object {
        FileObject::Pipe(pipe) => super::pipe::write(kernel, pid, pipe, payload, file.nonblock, trace),
        // /dev/null takes everything without copying it anywhere.
        FileObject::DevNull => Exec::Done(CallResult::Value { value: payload.len() as i64 }),
        // A queue's file has no `write` (`vfs_write` without `FMODE_CAN_WRITE`).
        FileObject::Mqueue(_) => Kernel::error(EINVAL),
        // `sock_write_iter`: a `sendmsg` without flags (`MSG_DONTWAIT` for a non-blocking file).
        FileObject::Socket(id) if crate::IPC => {
            let flags = if file.nonblock { crate::linux::socket::MSG_DONTWAIT } else { 0 };
            super::socket::send(kernel, pid, id, payload, flags, trace)
        }
        FileObject::Socket(_) => Kernel::error(EINVAL),
        FileObject::ShmObject(id) if crate::IPC => {
            let offset = file.offset;
            match write_object(kernel, id, offset, payload, trace) {
                Ok(len) => {
                    kernel.file_mut(index).offset += len;
                    Exec::Done(CallResult::Value { value: len })
                }
                Err(exec) => exec,
            }
        }
        // An epoll instance's file has neither `read` nor `write` (`FMODE_CAN_WRITE` unset).
        FileObject::ShmObject(_) | FileObject::Epoll(_) => Kernel::error(EINVAL),
    }
}

/// `write`/`pwrite` of a payload into a shared memory object at `offset` (tmpfs: the object grows to
/// hold it). Returns the bytes written.
fn write_object(
    kernel: &mut Kernel,
    id: u32,
    offset: i64,
    payload: &crate::lang::ast::Payload,
    trace: &mut Trace,
) -> Result<i64, Exec> {
    let mut bytes = Vec::with_capacity(payload.len() as usize);
    payload.copy_to(0, payload.len(), &mut bytes);
    super::posix_shm::write_at(kernel, id, offset as u64, &bytes, trace)?;
    Ok(bytes.len() as i64)
}

/// `read`/`pread` of a shared memory object from `offset`: what lies between it and the end.
fn read_object(kernel: &mut Kernel, id: u32, offset: i64, count: i64, trace: &mut Trace) -> CallResult {
    let mut bytes = std::mem::take(&mut kernel.read_scratch);
    bytes.clear();
    super::posix_shm::read_at(kernel, id, offset as u64, count as u64, &mut bytes);
    let result = trace.record_data(&bytes);
    kernel.read_scratch = bytes;
    result
}

/// A read whose bytes the trace cannot keep: past `max_trace_data_bytes`, or past what the memory
/// budget leaves for read data ([`Kernel::read_ceiling`]).
#[cold]
#[inline(never)]
pub(crate) fn past_read_ceiling(kernel: &mut Kernel, count: i64) -> Exec {
    if kernel.read_ceiling == kernel.limits.max_trace_data_bytes {
        let detail = format!("reads in this run would return more than {} bytes", kernel.limits.max_trace_data_bytes);
        return kernel.halt("max_trace_data_bytes", detail);
    }
    let detail = format!(
        "a read of {count} bytes would take the run past its memory budget of {} MiB",
        kernel.limits.max_memory_bytes >> 20
    );
    kernel.halt("max_memory_bytes", detail)
}

/// The limit on one call's byte count (`max_io_bytes`), for every call that hands bytes back (`read`,
/// `pread`, `recv`, `recvmsg`, `load_bytes`): the call that asks for more ends the run, which says
/// what `what` (a read, a recv, a copy) asked for. A negative count is a huge one, as the unsigned
/// count of the C call would be, which no buffer of the scenario has.
#[cfg_attr(not(feature = "small"), inline(always))]
pub(crate) fn io_count_limit(kernel: &mut Kernel, what: &str, count: i64) -> Option<Exec> {
    if count < 0 || count > kernel.limits.max_io_bytes as i64 {
        return Some(io_count_too_large(kernel, what, count));
    }
    None
}

#[cold]
#[inline(never)]
fn io_count_too_large(kernel: &mut Kernel, what: &str, count: i64) -> Exec {
    let detail =
        format!("a {what} of {count} bytes; one {what} may ask for at most {} bytes", kernel.limits.max_io_bytes);
    kernel.halt("max_io_bytes", detail)
}

/// [`io_count_limit`], and the room the run's trace and memory budget leave for what the call will
/// return ([`Kernel::read_ceiling`]).
#[cfg_attr(not(feature = "small"), inline(always))]
pub(crate) fn read_count_limits(kernel: &mut Kernel, trace: &Trace, what: &str, count: i64) -> Option<Exec> {
    if let Some(ended) = io_count_limit(kernel, what, count) {
        return Some(ended);
    }
    if trace.data_len() + count as u64 > kernel.read_ceiling {
        return Some(past_read_ceiling(kernel, count));
    }
    None
}

/// `read`, handed to the object like [`write`].
#[cfg_attr(not(feature = "small"), inline(always))]
pub(crate) fn read(kernel: &mut Kernel, pid: Pid, args: &Args, trace: &mut Trace) -> Exec {
    let count = args.get(1);
    if let Some(ended) = read_count_limits(kernel, trace, "read", count) {
        return ended;
    }
    kernel.read_scratch.clear();
    let Some(index) = kernel.file_used(pid, args.get(0)) else { return Kernel::error(EBADF) };
    let file = kernel.file(index);
    if !file.readable {
        return Kernel::error(EBADF);
    }
    match file.object {
        FileObject::Pipe(pipe) => super::pipe::read(kernel, pid, pipe, count as u32, file.nonblock, trace),
        // /dev/null: always end of file.
        FileObject::DevNull => Exec::Done(trace.record_data(&[])),
        FileObject::Mqueue(id) => {
            let offset = file.offset;
            let (result, moved) = read_queue_status(kernel, id, count, offset, trace);
            kernel.file_mut(index).offset += moved;
            Exec::Done(result)
        }
        // `sock_read_iter`: a read of nothing returns 0 at once; any other is a `recvmsg` without flags.
        FileObject::Socket(_) if count == 0 => Exec::Done(trace.record_data(&[])),
        FileObject::Socket(id) if crate::IPC => {
            let flags = if file.nonblock { crate::linux::socket::MSG_DONTWAIT } else { 0 };
            super::socket::recv(kernel, pid, id, count as u32, flags, trace)
        }
        FileObject::Socket(_) => Kernel::error(EINVAL),
        FileObject::ShmObject(id) if crate::IPC => {
            let offset = file.offset;
            let result = read_object(kernel, id, offset, count, trace);
            kernel.file_mut(index).offset += result.return_value();
            Exec::Done(result)
        }
        FileObject::ShmObject(_) | FileObject::Epoll(_) => Kernel::error(EINVAL),
    }
}

/// `read` of a message queue's descriptor at `offset` (`mqueue_read_file`, `simple_read_from_buffer`):
/// the queue's size and notification in one line of text. Returns the result and the bytes read.
fn read_queue_status(kernel: &mut Kernel, id: u32, count: i64, offset: i64, trace: &mut Trace) -> (CallResult, i64) {
    let text = super::mqueue::status_text(kernel, id);
    let start = (offset.max(0) as usize).min(text.len());
    let end = (start + count.max(0) as usize).min(text.len());
    kernel.read_scratch.clear();
    kernel.read_scratch.extend_from_slice(&text[start..end]);
    (trace.record_data(&text[start..end]), (end - start) as i64)
}

/// `default_llseek` on a file of `size` bytes (a message queue's file reports 80).
fn default_llseek(file: &mut OpenFile, offset: i64, whence: i64, size: i64) -> Exec {
    let target = match whence {
        ioctl::SEEK_END => offset.wrapping_add(size),
        ioctl::SEEK_CUR if offset == 0 => return Exec::Done(CallResult::Value { value: file.offset }),
        ioctl::SEEK_CUR => offset.wrapping_add(file.offset),
        // SEEK_DATA, SEEK_HOLE: the file is all data.
        3 | 4 if offset >= size => return Kernel::error(crate::linux::errno::ENXIO),
        4 => size,
        _ => offset,
    };
    if target < 0 {
        return Kernel::error(EINVAL);
    }
    file.offset = target;
    Exec::Done(CallResult::Value { value: target })
}

/// The descriptor mechanism: the calls every kind of open file answers.
pub struct Descriptors;

impl Mechanism for Descriptors {
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::Write | CallId::Read => unreachable!("the kernel dispatches reads and writes itself"),
            CallId::Close => {
                if kernel.close_fd(pid, call.arg(0), trace) {
                    Exec::Done(CallResult::Value { value: 0 })
                } else {
                    Kernel::error(EBADF)
                }
            }
            CallId::Dup => duplicate(kernel, pid, call.arg(0), 0, false),
            CallId::Dup2 => {
                let (old, new) = (call.arg(0), call.arg(1));
                let Some(file) = kernel.file_used(pid, old) else { return Kernel::error(EBADF) };
                if !(0..RLIMIT_NOFILE as i64).contains(&new) {
                    return Kernel::error(EBADF);
                }
                if old != new {
                    kernel.file_mut(file).refs += 1;
                    kernel.close_fd(pid, new, trace);
                    kernel.install_fd(pid, new, file, false);
                }
                Exec::Done(CallResult::Value { value: new })
            }
            CallId::Fcntl => fcntl_call(kernel, call, trace),
            CallId::Lseek => {
                let Some(index) = kernel.file_used(pid, call.arg(0)) else { return Kernel::error(EBADF) };
                // `ksys_lseek` refuses an unknown origin before `vfs_llseek` asks the file.
                if !(ioctl::SEEK_SET..=4).contains(&call.arg(2)) {
                    return Kernel::error(EINVAL);
                }
                match kernel.file(index).object {
                    // `null_lseek` always lands at 0.
                    FileObject::DevNull => Exec::Done(CallResult::Value { value: 0 }),
                    // A pipe is a stream: `stream_open` took away `FMODE_LSEEK`; a socket's file has
                    // `no_llseek`.
                    FileObject::Pipe(_) | FileObject::Socket(_) => Kernel::error(ESPIPE),
                    // `noop_llseek`: the offset stays where it is, 0.
                    FileObject::Epoll(_) => Exec::Done(CallResult::Value { value: kernel.file(index).offset }),
                    FileObject::Mqueue(_) => default_llseek(
                        kernel.file_mut(index),
                        call.arg(1),
                        call.arg(2),
                        crate::linux::mqueue::FILE_SIZE,
                    ),
                    // `shmem_file_llseek`: the size is the object's (its holes are not modelled).
                    FileObject::ShmObject(id) => {
                        let size = kernel.shm_object(id).map_or(0, |object| object.size as i64);
                        default_llseek(kernel.file_mut(index), call.arg(1), call.arg(2), size)
                    }
                }
            }
            CallId::Pread | CallId::Pwrite => {
                // `ksys_pread64`/`ksys_pwrite64`: a negative offset first, then the descriptor, then
                // whether the file can be read or written at an offset (`FMODE_PREAD`, `FMODE_PWRITE`).
                if call.arg(2) < 0 {
                    return Kernel::error(EINVAL);
                }
                let Some(index) = kernel.file_used(pid, call.arg(0)) else { return Kernel::error(EBADF) };
                let file = kernel.file(index);
                match (file.object, call.id()) {
                    (FileObject::Pipe(_) | FileObject::Socket(_) | FileObject::Epoll(_), _) => Kernel::error(ESPIPE),
                    (FileObject::DevNull, CallId::Pread) if file.readable => Exec::Done(trace.record_data(&[])),
                    (FileObject::DevNull, CallId::Pwrite) if file.writable => {
                        Exec::Done(CallResult::Value { value: call.arg(1) })
                    }
                    (FileObject::Mqueue(id), CallId::Pread) if file.readable => {
                        let count = call.arg(1);
                        if let Some(ended) = io_count_limit(kernel, "read", count) {
                            return ended;
                        }
                        Exec::Done(read_queue_status(kernel, id, count, call.arg(2), trace).0)
                    }
                    (FileObject::Mqueue(_), CallId::Pwrite) if file.writable => Kernel::error(EINVAL),
                    (FileObject::ShmObject(id), CallId::Pread) if file.readable && crate::IPC => {
                        let count = call.arg(1);
                        if let Some(ended) = read_count_limits(kernel, trace, "read", count) {
                            return ended;
                        }
                        Exec::Done(read_object(kernel, id, call.arg(2), count, trace))
                    }
                    (FileObject::ShmObject(id), CallId::Pwrite) if file.writable && crate::IPC => {
                        let payload = call.call.payload().expect("pwrite has a payload operand").clone();
                        match write_object(kernel, id, call.arg(2), &payload, trace) {
                            Ok(len) => Exec::Done(CallResult::Value { value: len }),
                            Err(exec) => exec,
                        }
                    }
                    (FileObject::DevNull | FileObject::Mqueue(_) | FileObject::ShmObject(_), _) => Kernel::error(EBADF),
                }
            }
            CallId::Ioctl => {
                let Some(index) = kernel.file_used(pid, call.arg(0)) else { return Kernel::error(EBADF) };
                match (kernel.file(index).object, call.arg(1)) {
                    // A queue's file is a regular file of 80 bytes: FIONREAD is what lies past the offset.
                    (FileObject::Mqueue(_), ioctl::FIONREAD) => {
                        let left = crate::linux::mqueue::FILE_SIZE - kernel.file(index).offset;
                        Exec::Done(CallResult::Out { value: left as i32 as i64 })
                    }
                    (FileObject::Pipe(pipe), ioctl::FIONREAD) => {
                        if kernel.footprint.enabled {
                            kernel.footprint.read(ObjectRef::pipe(pipe));
                        }
                        let held = kernel.pipe(pipe).expect("open file keeps its pipe").buffer.len_bytes();
                        Exec::Done(CallResult::Out { value: held as i64 })
                    }
                    // `do_vfs_ioctl`: a regular file's size less the offset, as an int.
                    (FileObject::ShmObject(id), ioctl::FIONREAD) => {
                        let size = kernel.shm_object(id).map_or(0, |object| object.size as i64);
                        let left = size - kernel.file(index).offset;
                        Exec::Done(CallResult::Out { value: left as i32 as i64 })
                    }
                    (FileObject::Socket(id), ioctl::FIONREAD) if crate::IPC => {
                        if kernel.footprint.enabled {
                            kernel.footprint.read(ObjectRef::socket(id));
                        }
                        Exec::Done(CallResult::Out { value: super::socket::bytes_readable(kernel, id) })
                    }
                    // `ep_eventpoll_ioctl` knows only its busy-poll parameters: `EINVAL` for the rest.
                    (FileObject::Epoll(_), _) => Kernel::error(EINVAL),
                    // `/dev/null` has no ioctls, and a pipe knows only FIONREAD.
                    _ => Kernel::error(ENOTTY),
                }
            }
            other => unreachable!("{} is not a descriptor call", other.name()),
        }
    }
}
