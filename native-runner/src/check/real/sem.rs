//! System V semaphore calls on Linux: `semget`, `semop` and `semctl`, each made with `syscall`.
//!
//! A `semop` operand arrives packed (`sim_core::linux::sem::pack_sembuf`) and becomes as many
//! `struct sembuf` as it is given; `SETALL`'s array arrives packed too (`pack_values`) and becomes
//! the set's `unsigned short` array, the values it does not list 0, as a C array initialized with
//! fewer values. `IPC_STAT` and `IPC_SET` of a field are C's `semctl(id, 0, IPC_STAT, &ds)` and the
//! read or change of `ds.FIELD` (then `IPC_SET`).

use super::ipc_structs::{Sembuf, Semid64Ds, SPARE_BYTES};
use super::{errno, not_this_mechanism, value_or_errno};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::sem::{self as linux_sem};
use sim_core::linux::{field, ipc};

pub fn perform(call: &CallCommand) -> Reply {
    match call.id {
        CallId::Semget => {
            // SAFETY: a plain system call on integers.
            value_or_errno(unsafe {
                libc::syscall(libc::SYS_semget, call.arg(0) as i32, call.arg(1) as i32, call.arg(2) as i32)
            })
        }
        CallId::Semop => {
            let mut sops = Vec::new();
            for index in 1..call.operands.len() {
                let (sembuf, times) = linux_sem::unpack_sembuf(call.arg(index));
                for _ in 0..times {
                    sops.push(Sembuf { num: sembuf.num, op: sembuf.op, flg: sembuf.flg });
                }
            }
            // SAFETY: `sops` holds `len` operations.
            value_or_errno(unsafe { libc::syscall(libc::SYS_semop, call.arg(0) as i32, sops.as_ptr(), sops.len()) })
        }
        CallId::Semctl => semctl(call),
        other => not_this_mechanism(other),
    }
}

/// The number of semaphores in a set, for the arrays of `GETALL` and `SETALL` (0 when the set cannot be
/// read: the call itself then fails the same way).
fn nsems(id: i32) -> usize {
    let mut ds = Semid64Ds::default();
    // SAFETY: `ds` is a `struct semid64_ds` the kernel may fill.
    let result = unsafe { libc::syscall(libc::SYS_semctl, id, 0, ipc::IPC_STAT as i32, &mut ds as *mut Semid64Ds) };
    if result < 0 {
        0
    } else {
        ds.nsems as usize
    }
}

fn semctl(call: &CallCommand) -> Reply {
    let (id, num, command, arg, value) =
        (call.arg(0) as i32, call.arg(1) as i32, call.arg(2) as i32, call.arg(3), call.arg(4));
    let semctl_with = |pointer: *mut libc::c_void| {
        // SAFETY: the callers pass a buffer the kernel may read or fill for the command.
        unsafe { libc::syscall(libc::SYS_semctl, id, num, command, pointer) }
    };
    match command as i64 {
        ipc::IPC_STAT | ipc::IPC_SET => {
            let mut ds = Semid64Ds::default();
            // SAFETY: as above.
            let stat =
                unsafe { libc::syscall(libc::SYS_semctl, id, num, ipc::IPC_STAT as i32, &mut ds as *mut Semid64Ds) };
            if stat < 0 {
                return Reply::Errno(errno());
            }
            if command as i64 == ipc::IPC_STAT {
                return match arg {
                    field::SEM_NSEMS => Reply::Out(ds.nsems as i64),
                    field::PERM_MODE => Reply::Out(ds.perm.mode as i64),
                    _ => Reply::Value(0),
                };
            }
            if arg == field::PERM_MODE {
                ds.perm.mode = value as u32;
            }
            value_or_errno(semctl_with(&mut ds as *mut Semid64Ds as *mut libc::c_void))
        }
        linux_sem::GETALL => {
            let mut values = vec![0u16; nsems(id).max(1)];
            let result = semctl_with(values.as_mut_ptr() as *mut libc::c_void);
            if result < 0 {
                return Reply::Errno(errno());
            }
            values.truncate(nsems(id));
            Reply::Array(values)
        }
        linux_sem::SETALL => {
            let mut values: Vec<u16> = (0..nsems(id).max(1)).map(|at| linux_sem::unpack_value(arg, at)).collect();
            value_or_errno(semctl_with(values.as_mut_ptr() as *mut libc::c_void))
        }
        linux_sem::SETVAL => {
            // `union semun` passed by value: its `int val` in the low half of the register.
            // SAFETY: a plain system call on integers.
            value_or_errno(unsafe { libc::syscall(libc::SYS_semctl, id, num, command, arg as i32 as u64) })
        }
        _ => {
            let mut spare = [0u8; SPARE_BYTES];
            value_or_errno(semctl_with(spare.as_mut_ptr() as *mut libc::c_void))
        }
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Semop => Some(libc::SYS_semop),
        _ => None,
    }
}
