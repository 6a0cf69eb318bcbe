//! `<sys/sem.h>` and `<linux/sem.h>`: System V semaphores' flags, commands and limits, and the limit of
//! POSIX named semaphores (`<semaphore.h>`).

/// `sem_flg`: undo this operation when the process exits.
pub const SEM_UNDO: i64 = 0x1000;

/// The command a `semctl` argument stands for: the call takes an `int`, so only the low 32 bits count.
pub fn semctl_command(raw: i64) -> i64 {
    raw as i32 as i64
}

/// `semctl` commands.
pub const GETPID: i64 = 11;
pub const GETVAL: i64 = 12;
pub const GETALL: i64 = 13;
pub const GETNCNT: i64 = 14;
pub const GETZCNT: i64 = 15;
pub const SETVAL: i64 = 16;
pub const SETALL: i64 = 17;
pub const SEM_STAT: i64 = 18;
pub const SEM_INFO: i64 = 19;
pub const SEM_STAT_ANY: i64 = 20;

/// `SEMMSL`: the most semaphores in one set.
pub const SEMMSL: i64 = 32_000;
/// `SEMMNS`: the most semaphores in all sets.
pub const SEMMNS: i64 = 1_024_000_000;
/// `SEMOPM`: the most operations one `semop` may ask for.
pub const SEMOPM: usize = 500;
/// `SEMMNI`: the most sets at once.
pub const SEMMNI: u32 = 32_000;
/// `SEMVMX`: the largest value of a semaphore.
pub const SEMVMX: i32 = 32_767;
/// `SEMAEM`: the largest undo adjustment (in absolute value, and one more below zero).
pub const SEMAEM: i32 = SEMVMX;

/// `SEM_VALUE_MAX`: the largest value of a POSIX semaphore (`sem_post` fails with `EOVERFLOW` there).
pub const SEM_VALUE_MAX: i64 = i32::MAX as i64;

/// One `struct sembuf`: `unsigned short sem_num; short sem_op; short sem_flg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sembuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

/// A `semop` operation as one operand of a call: the three fields converted to their C types, as a C
/// initializer converts them, and how many times it is given in the top 16 bits (0 for an operation left
/// out).
pub fn pack_sembuf(num: i64, op: i64, flg: i64, times: u16) -> i64 {
    ((num as u16 as u64)
        | ((op as i16 as u16 as u64) << 16)
        | ((flg as i16 as u16 as u64) << 32)
        | ((times as u64) << 48)) as i64
}

/// The operation and its count of a packed operand ([`pack_sembuf`]).
pub fn unpack_sembuf(packed: i64) -> (Sembuf, u16) {
    let bits = packed as u64;
    let sembuf = Sembuf { num: bits as u16, op: (bits >> 16) as u16 as i16, flg: (bits >> 32) as u16 as i16 };
    (sembuf, (bits >> 48) as u16)
}

/// `SETALL`'s array (`unsigned short` values, as C stores them) as one operand: up to four values, 16
/// bits each; the values of a larger set that the array does not list are 0, as in a C array that is
/// initialized with fewer values than it holds.
pub fn pack_values(values: &[i64]) -> i64 {
    values
        .iter()
        .take(4)
        .enumerate()
        .fold(0u64, |packed, (index, value)| packed | ((*value as u16 as u64) << (16 * index))) as i64
}

/// Value `index` of a packed array ([`pack_values`]).
pub fn unpack_value(packed: i64, index: usize) -> u16 {
    if index >= 4 {
        0
    } else {
        (packed as u64 >> (16 * index)) as u16
    }
}
