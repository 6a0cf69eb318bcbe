//! System V message queue calls on Linux: `msgget`, `msgsnd`, `msgrcv` and `msgctl`, each one real
//! system call made through the scenario's own `syscall` instruction (so that a handler sees a blocked
//! `msgsnd` or `msgrcv` below it, as for any other call).
//!
//! A scenario's `msgctl ID IPC_STAT FIELD` is C's `msgctl(id, IPC_STAT, &ds)` followed by a read of
//! `ds.FIELD`; its `msgctl ID IPC_SET FIELD VALUE` is `IPC_STAT` into `ds`, the field changed, and
//! `IPC_SET` of `ds`, as a C program has to write it. The message buffer (`struct msgbuf`: a `long
//! mtype`, then the text) is made in the level's own memory, as a `write`'s bytes are.

use super::ipc_structs::{Msqid64Ds, SPARE_BYTES};
use super::sys::Region;
use super::{call, exit_code, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{AttachmentView, CallView, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::{field, ipc};

pub fn perform<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    match command.id {
        CallId::Msgget => value_or_errno(call(libc::SYS_msgget, &[command.arg(0), command.arg(1)])),
        CallId::Msgsnd => {
            let (len, pattern): (usize, &[u8]) = match command.payload() {
                Some(AttachmentView::Bytes(bytes)) => (bytes.len(), bytes),
                Some(AttachmentView::Fill { len, pattern }) => {
                    (len as usize, if pattern.is_empty() { b"x" } else { pattern })
                }
                _ => (0, b"x"),
            };
            let Some(buffer) = data.ensure(8 + len) else { super::sys::exit_now(exit_code::NO_MEMORY) };
            buffer[..8].copy_from_slice(&command.arg(1).to_ne_bytes());
            for (at, byte) in buffer[8..].iter_mut().enumerate() {
                *byte = pattern[at % pattern.len()];
            }
            value_or_errno(call(
                libc::SYS_msgsnd,
                &[command.arg(0), buffer.as_ptr() as i64, len as i64, command.arg(3)],
            ))
        }
        CallId::Msgrcv => {
            let count = command.arg(1);
            let Some(buffer) = data.ensure(8 + count.clamp(0, 1 << 24) as usize) else {
                super::sys::exit_now(exit_code::NO_MEMORY)
            };
            // The buffer holds a type and `count` bytes (a negative count is refused before anything is
            // written).
            let result = call(
                libc::SYS_msgrcv,
                &[command.arg(0), buffer.as_mut_ptr() as i64, count, command.arg(2), command.arg(3)],
            );
            if result < 0 {
                return Reply::Errno(-result as i32);
            }
            let tag = i64::from_ne_bytes(buffer[..8].try_into().expect("eight bytes"));
            Reply::Message { tag, bytes: &buffer[8..8 + result as usize] }
        }
        CallId::Msgctl => msgctl(command.arg(0), command.arg(1), command.arg(2), command.arg(3)),
        other => not_this_mechanism(other),
    }
}

fn msgctl(id: i64, command: i64, field_code: i64, value: i64) -> Out<'static> {
    let mut ds = Msqid64Ds::default();
    let stat = |ds: &mut Msqid64Ds| call(libc::SYS_msgctl, &[id, ipc::IPC_STAT, ds as *mut Msqid64Ds as i64]);
    match command {
        ipc::IPC_STAT => {
            let result = stat(&mut ds);
            if result < 0 {
                return Reply::Errno(-result as i32);
            }
            match field_code {
                field::MSG_QNUM => Reply::Out(ds.qnum as i64),
                field::MSG_CBYTES => Reply::Out(ds.cbytes as i64),
                field::MSG_QBYTES => Reply::Out(ds.qbytes as i64),
                field::MSG_LSPID => Reply::Out(ds.lspid as i64),
                field::MSG_LRPID => Reply::Out(ds.lrpid as i64),
                field::PERM_MODE => Reply::Out(ds.perm.mode as i64),
                _ => Reply::Value(0),
            }
        }
        ipc::IPC_SET => {
            let result = stat(&mut ds);
            if result < 0 {
                return Reply::Errno(-result as i32);
            }
            match field_code {
                field::MSG_QBYTES => ds.qbytes = value as u64,
                field::PERM_MODE => ds.perm.mode = value as u32,
                _ => {}
            }
            value_or_errno(call(libc::SYS_msgctl, &[id, command, &ds as *const Msqid64Ds as i64]))
        }
        _ => {
            // IPC_RMID takes no buffer; the others (IPC_INFO, MSG_INFO, MSG_STAT) fill one in.
            let mut spare = [0u8; SPARE_BYTES];
            value_or_errno(call(libc::SYS_msgctl, &[id, command, spare.as_mut_ptr() as i64]))
        }
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Msgsnd => Some(libc::SYS_msgsnd),
        CallId::Msgrcv => Some(libc::SYS_msgrcv),
        _ => None,
    }
}
