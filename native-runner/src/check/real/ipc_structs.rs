//! The System V structures the kernel fills in and reads, as x86-64 lays them out
//! (`struct ipc64_perm`, `struct msqid64_ds`, `struct semid64_ds`, `struct shmid64_ds` of
//! `<asm/ipcbuf.h>`, `<asm/msgbuf.h>`, `<asm/sembuf.h>` and `<asm/shmbuf.h>`), for the real calls made through `syscall`, and `struct sembuf`.

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Ipc64Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u16,
    pub pad: u16,
    pub unused: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Msqid64Ds {
    pub perm: Ipc64Perm,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub cbytes: u64,
    pub qnum: u64,
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
    pub unused: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Semid64Ds {
    pub perm: Ipc64Perm,
    pub otime: i64,
    pub unused1: u64,
    pub ctime: i64,
    pub unused2: u64,
    pub nsems: u64,
    pub unused: [u64; 2],
}

/// `struct shmid64_ds` of `<asm-generic/shmbuf.h>` on x86-64.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Shmid64Ds {
    pub perm: Ipc64Perm,
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u64,
    pub unused: [u64; 2],
}

/// `struct sembuf`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Sembuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

/// Room for whatever the kernel writes through a pointer for commands the scenario may give by number
/// (`IPC_INFO` fills a `struct msginfo`/`seminfo`, which are smaller).
pub const SPARE_BYTES: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_structures_have_the_kernel_s_sizes() {
        assert_eq!(std::mem::size_of::<Ipc64Perm>(), 48);
        assert_eq!(std::mem::size_of::<Msqid64Ds>(), 120);
        assert_eq!(std::mem::size_of::<Semid64Ds>(), 104);
        assert_eq!(std::mem::size_of::<Sembuf>(), 6);
        assert_eq!(std::mem::size_of::<Shmid64Ds>(), 112);
        assert_eq!(std::mem::offset_of!(Shmid64Ds, nattch), 88);
        assert_eq!(std::mem::offset_of!(Msqid64Ds, cbytes), 72);
        // `struct semid64_ds` of `arch/x86/include/uapi/asm/sembuf.h`: four longs after the 48-byte
        // `ipc64_perm` (`sem_otime`, `__unused1`, `sem_ctime`, `__unused2`), then `sem_nsems`.
        assert_eq!(std::mem::offset_of!(Semid64Ds, nsems), 80);
    }
}
