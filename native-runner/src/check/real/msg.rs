//! System V message queue calls on Linux: `msgget`, `msgsnd`, `msgrcv` and `msgctl`, each made with
//! `syscall` so that nothing between the scenario and the kernel changes the arguments.
//!
//! A scenario's `msgctl ID IPC_STAT FIELD` is C's `msgctl(id, IPC_STAT, &ds)` followed by a read of
//! `ds.FIELD`; its `msgctl ID IPC_SET FIELD VALUE` is `IPC_STAT` into `ds`, the field changed, and
//! `IPC_SET` of `ds`, as a C program has to write it.

use super::ipc_structs::{Msqid64Ds, SPARE_BYTES};
use super::{errno, not_this_mechanism, value_or_errno, Scratch};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::{field, ipc};

pub fn perform(call: &CallCommand, scratch: &mut Scratch) -> Reply {
    match call.id {
        // SAFETY: plain system calls on integers.
        CallId::Msgget => {
            value_or_errno(unsafe { libc::syscall(libc::SYS_msgget, call.arg(0) as i32, call.arg(1) as i32) })
        }
        CallId::Msgsnd => {
            // `struct msgbuf`: a `long mtype`, then the text.
            let bytes = &mut scratch.bytes;
            bytes.clear();
            bytes.extend_from_slice(&call.arg(1).to_ne_bytes());
            let payload = call.payload().expect("msgsnd has a payload");
            payload.copy_to(0, payload.len(), bytes);
            let size = payload.len() as usize;
            // SAFETY: the buffer holds the type and `size` bytes.
            value_or_errno(unsafe {
                libc::syscall(libc::SYS_msgsnd, call.arg(0) as i32, bytes.as_ptr(), size, call.arg(3) as i32)
            })
        }
        CallId::Msgrcv => {
            let count = call.arg(1);
            let mut buffer = vec![0u8; 8 + count.clamp(0, 1 << 24) as usize];
            // SAFETY: the buffer holds a type and `count` bytes (a negative count is refused before
            // anything is written).
            let result = unsafe {
                libc::syscall(
                    libc::SYS_msgrcv,
                    call.arg(0) as i32,
                    buffer.as_mut_ptr(),
                    count as usize,
                    call.arg(2),
                    call.arg(3) as i32,
                )
            };
            if result < 0 {
                return Reply::Errno(errno());
            }
            let tag = i64::from_ne_bytes(buffer[..8].try_into().expect("eight bytes"));
            Reply::Message { tag, bytes: buffer[8..8 + result as usize].to_vec() }
        }
        CallId::Msgctl => msgctl(call.arg(0) as i32, call.arg(1) as i32, call.arg(2), call.arg(3)),
        other => not_this_mechanism(other),
    }
}

fn msgctl(id: i32, command: i32, field_code: i64, value: i64) -> Reply {
    let mut ds = Msqid64Ds::default();
    let stat = |ds: &mut Msqid64Ds| {
        // SAFETY: `ds` is a `struct msqid64_ds` the kernel may fill.
        unsafe { libc::syscall(libc::SYS_msgctl, id, ipc::IPC_STAT as i32, ds as *mut Msqid64Ds) }
    };
    match command as i64 {
        ipc::IPC_STAT => {
            if stat(&mut ds) < 0 {
                return Reply::Errno(errno());
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
            if stat(&mut ds) < 0 {
                return Reply::Errno(errno());
            }
            match field_code {
                field::MSG_QBYTES => ds.qbytes = value as u64,
                field::PERM_MODE => ds.perm.mode = value as u32,
                _ => {}
            }
            // SAFETY: `ds` is a filled-in `struct msqid64_ds`.
            value_or_errno(unsafe { libc::syscall(libc::SYS_msgctl, id, command, &ds as *const Msqid64Ds) })
        }
        _ => {
            // IPC_RMID takes no buffer; the others (IPC_INFO, MSG_INFO, MSG_STAT) fill one in.
            let mut spare = [0u8; SPARE_BYTES];
            // SAFETY: a buffer larger than any the kernel writes for these commands.
            value_or_errno(unsafe { libc::syscall(libc::SYS_msgctl, id, command, spare.as_mut_ptr()) })
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
