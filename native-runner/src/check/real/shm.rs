//! System V shared memory on Linux: `shmget`, `shmat`, `shmdt` and `shmctl`, each one real system call.
//!
//! `shmat` attaches at the address the simulator picks (see [`super::mm`]): the process's own list of
//! ranges says where, the segment's size comes from `IPC_STAT`, and Linux is asked for that address.
//! A scenario's `shmctl ID IPC_STAT FIELD` is C's `shmctl(id, IPC_STAT, &ds)` and a read of `ds.FIELD`.

use super::ipc_structs::{Shmid64Ds, SPARE_BYTES};
use super::mm::ranges;
use super::{call, not_this_mechanism, value_or_errno, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::mman::page_align;
use sim_core::linux::{field, ipc};

/// `IPC_STAT` of a segment, or the errno.
fn stat(id: i64) -> Result<Shmid64Ds, i32> {
    let mut ds = Shmid64Ds::default();
    let result = call(libc::SYS_shmctl, &[id, ipc::IPC_STAT, &mut ds as *mut Shmid64Ds as i64]);
    if result < 0 {
        Err(-result as i32)
    } else {
        Ok(ds)
    }
}

fn shmat(id: i64, flags: i64) -> Out<'static> {
    // A segment that cannot be read is attached at no address: the call fails as it would anyway.
    let len = stat(id).map_or(0, |ds| page_align(ds.segsz));
    let address = if len == 0 { 0 } else { ranges().free_range(len).unwrap_or(0) };
    let result = call(libc::SYS_shmat, &[id, address as i64, flags]);
    if result >= 0 {
        ranges().add(result as u64, result as u64 + len);
    }
    value_or_errno(result)
}

fn shmctl(id: i64, command: i64, field_code: i64) -> Out<'static> {
    match command {
        ipc::IPC_STAT => match stat(id) {
            Err(errno) => Reply::Errno(errno),
            Ok(ds) => match field_code {
                field::SHM_SEGSZ => Reply::Out(ds.segsz as i64),
                field::SHM_NATTCH => Reply::Out(ds.nattch as i64),
                field::SHM_CPID => Reply::Out(ds.cpid as i64),
                field::SHM_LPID => Reply::Out(ds.lpid as i64),
                field::PERM_MODE => Reply::Out(ds.perm.mode as i64),
                _ => Reply::Value(0),
            },
        },
        _ => {
            // IPC_RMID takes no buffer; a command given by number may fill one in.
            let mut spare = [0u8; SPARE_BYTES];
            value_or_errno(call(libc::SYS_shmctl, &[id, command, spare.as_mut_ptr() as i64]))
        }
    }
}

pub fn perform(command: &CallView) -> Out<'static> {
    match command.id {
        CallId::Shmget => value_or_errno(call(libc::SYS_shmget, &[command.arg(0), command.arg(1), command.arg(2)])),
        CallId::Shmat => shmat(command.arg(0), command.arg(1)),
        CallId::Shmdt => {
            let start = command.arg(0) as u64;
            let result = call(libc::SYS_shmdt, &[command.arg(0)]);
            if result == 0 {
                let end = ranges().end_of(start).unwrap_or(start);
                ranges().remove(start, end);
            }
            value_or_errno(result)
        }
        CallId::Shmctl => shmctl(command.arg(0), command.arg(1), command.arg(2)),
        other => not_this_mechanism(other),
    }
}
