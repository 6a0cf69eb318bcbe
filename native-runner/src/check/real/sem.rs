//! System V semaphore calls on Linux: `semget`, `semop`, `semtimedop` and `semctl`, each one real system call made
//! through the scenario's own `syscall` instruction.
//!
//! A `semop` operand arrives packed (`sim_core::linux::sem::pack_sembuf`) and becomes as many
//! `struct sembuf` as it is given; `SETALL`'s array arrives packed too (`pack_values`) and becomes
//! the set's `unsigned short` array, the values it does not list 0, as a C array initialized with
//! fewer values. `IPC_STAT` and `IPC_SET` of a field are C's `semctl(id, 0, IPC_STAT, &ds)` and the
//! read or change of `ds.FIELD` (then `IPC_SET`). Arrays are made in the level's own memory.

use super::ipc_structs::{Sembuf, Semid64Ds, SPARE_BYTES};
use super::sys::Region;
use super::{call, exit_code, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::sem::{self as linux_sem};
use sim_core::linux::{field, ipc};

/// The most operations a scenario's `semop` makes (Linux refuses more than `SEMOPM` with `E2BIG`
/// before it reads them; the buffer only has to hold what is passed).
const MOST_OPERATIONS: usize = 1024;

pub fn perform<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    match command.id {
        CallId::Semget => value_or_errno(call(libc::SYS_semget, &[command.arg(0), command.arg(1), command.arg(2)])),
        CallId::Semop | CallId::Semtimedop => {
            let mut sops = [Sembuf::default(); MOST_OPERATIONS];
            let mut len = 0;
            for index in command.id.first_sembuf()..command.count() {
                let (sembuf, times) = linux_sem::unpack_sembuf(command.arg(index));
                for _ in 0..times {
                    if len < MOST_OPERATIONS {
                        sops[len] = Sembuf { num: sembuf.num, op: sembuf.op, flg: sembuf.flg };
                    }
                    len += 1;
                }
            }
            if command.id == CallId::Semop {
                return value_or_errno(call(libc::SYS_semop, &[command.arg(0), sops.as_ptr() as i64, len as i64]));
            }
            // `semtimedop`'s timeout is relative, as the simulator's; scaled as every real duration is.
            let timeout = super::time::real_timespec(command.arg(1));
            value_or_errno(call(
                libc::SYS_semtimedop,
                &[command.arg(0), sops.as_ptr() as i64, len as i64, &timeout as *const libc::timespec as i64],
            ))
        }
        CallId::Semctl => semctl(command, data),
        other => not_this_mechanism(other),
    }
}

/// The number of semaphores in a set, for the arrays of `GETALL` and `SETALL` (0 when the set cannot be
/// read: the call itself then fails the same way).
fn nsems(id: i64) -> usize {
    let mut ds = Semid64Ds::default();
    let result = call(libc::SYS_semctl, &[id, 0, ipc::IPC_STAT, &mut ds as *mut Semid64Ds as i64]);
    if result < 0 {
        0
    } else {
        ds.nsems as usize
    }
}

fn semctl<'a>(command: &CallView<'a>, data: &'a mut Region) -> Out<'a> {
    let (id, num, cmd, arg, value) = (command.arg(0), command.arg(1), command.arg(2), command.arg(3), command.arg(4));
    let semctl_with = |pointer: i64| call(libc::SYS_semctl, &[id, num, cmd, pointer]);
    match cmd {
        ipc::IPC_STAT | ipc::IPC_SET => {
            let mut ds = Semid64Ds::default();
            let stat = call(libc::SYS_semctl, &[id, num, ipc::IPC_STAT, &mut ds as *mut Semid64Ds as i64]);
            if stat < 0 {
                return Reply::Errno(-stat as i32);
            }
            if cmd == ipc::IPC_STAT {
                return match arg {
                    field::SEM_NSEMS => Reply::Out(ds.nsems as i64),
                    field::PERM_MODE => Reply::Out(ds.perm.mode as i64),
                    _ => Reply::Value(0),
                };
            }
            if arg == field::PERM_MODE {
                ds.perm.mode = value as u32;
            }
            value_or_errno(semctl_with(&mut ds as *mut Semid64Ds as i64))
        }
        linux_sem::GETALL => {
            let count = nsems(id);
            let Some(bytes) = data.ensure(2 * count.max(1)) else { super::sys::exit_now(exit_code::NO_MEMORY) };
            let result = semctl_with(bytes.as_mut_ptr() as i64);
            if result < 0 {
                return Reply::Errno(-result as i32);
            }
            // The kernel wrote native `unsigned short`s; the reply carries them little-endian.
            for pair in bytes[..2 * count].chunks_exact_mut(2) {
                let value = u16::from_ne_bytes([pair[0], pair[1]]);
                pair.copy_from_slice(&value.to_le_bytes());
            }
            Reply::Array(&bytes[..2 * count])
        }
        linux_sem::SETALL => {
            let count = nsems(id).max(1);
            let Some(bytes) = data.ensure(2 * count) else { super::sys::exit_now(exit_code::NO_MEMORY) };
            for (at, pair) in bytes.chunks_exact_mut(2).enumerate() {
                pair.copy_from_slice(&linux_sem::unpack_value(arg, at).to_ne_bytes());
            }
            value_or_errno(semctl_with(bytes.as_mut_ptr() as i64))
        }
        // `union semun` passed by value: its `int val` in the low half of the register.
        linux_sem::SETVAL => value_or_errno(call(libc::SYS_semctl, &[id, num, cmd, arg as i32 as u32 as i64])),
        _ => {
            let mut spare = [0u8; SPARE_BYTES];
            value_or_errno(semctl_with(spare.as_mut_ptr() as i64))
        }
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Semop => Some(libc::SYS_semop),
        CallId::Semtimedop => Some(libc::SYS_semtimedop),
        _ => None,
    }
}
