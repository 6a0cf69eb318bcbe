//! FIFOs: named pipes in the file system namespace (`mkfifo`, `open`, `unlink`).
//!
//! A FIFO's pipe exists only while somebody has it open. Opening it follows `fifo_open` in `fs/pipe.c`:
//! a read-only open waits until a writer shows up (unless `O_NONBLOCK`), a write-only open waits for a
//! reader (and fails with `ENXIO` under `O_NONBLOCK`), a read-write open never waits. A waiting open
//! already counts as a reader or writer, and it waits for the partner's open *counter* to move, not for
//! the partner to still be there (`wait_for_partner`).

use super::fd::{FileObject, OpenFile};
use super::pipe::Side;
use super::wait::Wake;
use super::{CallContext, Exec, Kernel, Mechanism, Scratch};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EEXIST, EINVAL, EMFILE, ENOENT, ENXIO};
use crate::linux::fcntl;
use crate::present::snapshot::{FifoView, ObjectView};
use crate::trace::{BlockReason, CallResult, ObjectRef, Pid, Trace, WakeCause};
use std::sync::Arc;

/// A FIFO in the file system namespace. Its pipe exists only while somebody has it open.
#[derive(Clone, Debug, Default)]
pub struct FifoNode {
    pub pipe: Option<u32>,
}

fn block_reason(pipe: u32, path: u32, reader: bool) -> BlockReason {
    if reader {
        BlockReason::FifoNoWriter { pipe, path }
    } else {
        BlockReason::FifoNoReader { pipe, path }
    }
}

/// `open(path, flags)` of a FIFO, or its retry after a wake-up.
fn open(kernel: &mut Kernel, pid: Pid, path_index: u32, flags: i64, trace: &mut Trace) -> Exec {
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::path(path_index));
    }
    // A retry after a wake-up: the file already exists and counts; has the partner shown up?
    if let Scratch::FifoOpen { file, seen } = kernel.process(pid).call.scratch {
        let pipe_id = kernel.file(file).object.pipe().expect("a FIFO file has a pipe");
        let readable = kernel.file(file).readable;
        let pipe = kernel.pipe_mut(pipe_id);
        let current = if readable { pipe.writer_opens } else { pipe.reader_opens };
        if current == seen {
            pipe.open_wait.add(pid, false);
            return Exec::Block(block_reason(pipe_id, path_index, readable));
        }
        kernel.proc_mut(pid).call.scratch = Scratch::None;
        return finish_open(kernel, pid, file, flags);
    }
    let path = kernel.program.paths[path_index as usize].clone();
    // A socket file cannot be opened (`no_open`: `ENXIO`).
    if kernel.socket_names.contains_key(&path) {
        return Kernel::error(ENXIO);
    }
    let Some(node) = kernel.fifos.get(&path) else { return Kernel::error(ENOENT) };
    if kernel.lowest_free_fd(pid, 0).is_none() {
        return Kernel::error(EMFILE);
    }
    let (readable, writable) = match flags & fcntl::O_ACCMODE {
        fcntl::O_RDONLY => (true, false),
        fcntl::O_WRONLY => (false, true),
        fcntl::O_RDWR => (true, true),
        // `O_ACCMODE` itself asks for neither reading nor writing: `fifo_open` refuses it.
        _ => return Kernel::error(EINVAL),
    };
    let nonblock = flags & fcntl::O_NONBLOCK != 0;
    let pipe_id = match node.pipe {
        Some(pipe) => pipe,
        None => {
            let pipe = kernel.new_pipe(Some(path.clone()));
            kernel.fifos.get_mut(&path).expect("looked up above").pipe = Some(pipe);
            pipe
        }
    };
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::pipe(pipe_id));
    }
    if writable && !readable && nonblock && kernel.pipe_mut(pipe_id).readers == 0 {
        // Nobody has it open (we just made the pipe, or it is otherwise unused): drop it again.
        let pipe = kernel.pipe_mut(pipe_id);
        if pipe.readers == 0 && pipe.writers == 0 {
            kernel.pipes[pipe_id as usize - 1] = None;
            kernel.fifos.get_mut(&path).expect("looked up above").pipe = None;
        }
        return Kernel::error(ENXIO);
    }
    let access_flags = flags & fcntl::O_ACCMODE;
    let file = kernel.new_file(OpenFile {
        object: FileObject::Pipe(pipe_id),
        readable,
        writable,
        nonblock,
        base_flags: access_flags | fcntl::O_LARGEFILE,
        refs: 1,
        offset: 0,
        fifo_writers_seen: None,
    });
    let pipe = kernel.pipe_mut(pipe_id);
    if readable && !writable && nonblock && pipe.writers == 0 {
        // `fifo_open`: "suppress EPOLLHUP until we have seen a writer".
        let seen = pipe.writer_opens;
        kernel.file_mut(file).fifo_writers_seen = Some(seen);
    }
    let pipe = kernel.pipe_mut(pipe_id);
    let mut wake_partner = false;
    if readable {
        pipe.reader_opens += 1;
        pipe.readers += 1;
        wake_partner |= pipe.readers == 1;
    }
    if writable {
        pipe.writer_opens += 1;
        pipe.writers += 1;
        wake_partner |= pipe.writers == 1;
    }
    if wake_partner {
        // `wake_up_partner`. A reader sleeping in read() on an empty FIFO with no writer does not
        // exist (it would have seen end of file), so only openers need waking here.
        let object = ObjectRef::pipe(pipe_id);
        kernel.wake_queue(pipe_id, Side::Open, Wake::All, pid, WakeCause::Partner { object }, trace);
    }
    let pipe = kernel.pipe_mut(pipe_id);
    let must_wait = match (readable, writable) {
        (true, false) => pipe.writers == 0 && !nonblock,
        (false, true) => pipe.readers == 0,
        _ => false,
    };
    if must_wait {
        let seen = if readable { pipe.writer_opens } else { pipe.reader_opens };
        pipe.open_wait.add(pid, false);
        kernel.proc_mut(pid).call.scratch = Scratch::FifoOpen { file, seen };
        return Exec::Block(block_reason(pipe_id, path_index, readable));
    }
    finish_open(kernel, pid, file, flags)
}

fn finish_open(kernel: &mut Kernel, pid: Pid, file: u32, flags: i64) -> Exec {
    let fd = kernel.lowest_free_fd(pid, 0).expect("checked before the open started; a process runs one call at a time");
    kernel.install_fd(pid, fd, file, flags & fcntl::O_CLOEXEC != 0);
    Exec::Done(CallResult::Value { value: fd })
}

/// Gives up a FIFO open that was waiting for its partner (the process stops or dies meanwhile).
pub(crate) fn cancel_pending_open(kernel: &mut Kernel, pid: Pid, trace: &mut Trace) {
    if let Scratch::FifoOpen { file, .. } = kernel.process(pid).call.scratch {
        kernel.proc_mut(pid).call.scratch = Scratch::None;
        if let Some(pipe) = kernel.file(file).object.pipe() {
            kernel.pipe_mut(pipe).open_wait.remove(pid);
        }
        kernel.release_file(file, pid, trace);
    }
}

/// The FIFO mechanism: names in the file system, and opening them.
pub struct Fifos;

impl Mechanism for Fifos {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        let path_index = call.arg(0) as u32;
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::path(path_index));
        }
        let path: Arc<str> = kernel.program.paths[path_index as usize].clone();
        match call.id() {
            CallId::Open => open(kernel, call.pid, path_index, call.arg(1), trace),
            CallId::Mkfifo if kernel.socket_names.contains_key(&path) => Kernel::error(EEXIST),
            CallId::Mkfifo => match kernel.fifos.entry(path) {
                std::collections::btree_map::Entry::Occupied(_) => Kernel::error(EEXIST),
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(FifoNode::default());
                    Exec::Done(CallResult::Value { value: 0 })
                }
            },
            CallId::Unlink => {
                if kernel.fifos.remove(&path).is_some() || kernel.socket_names.remove(&path).is_some() {
                    Exec::Done(CallResult::Value { value: 0 })
                } else {
                    Kernel::error(ENOENT)
                }
            }
            other => unreachable!("{} is not a FIFO call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        if let BlockReason::FifoNoWriter { pipe, .. } | BlockReason::FifoNoReader { pipe, .. } = reason {
            if let Some(Some(pipe)) = kernel.pipes.get_mut(*pipe as usize - 1) {
                pipe.open_wait.remove(pid);
            }
        }
    }

    fn views(kernel: &Kernel, out: &mut Vec<ObjectView>) {
        for (path, node) in &kernel.fifos {
            out.push(ObjectView::Fifo(FifoView { path: path.to_string(), pipe: node.pipe }));
        }
    }
}
