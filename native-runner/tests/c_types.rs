//! The C types in the table of system calls (`Operand::c_type`) against the real kernel: each probe
//! makes a raw system call twice, once with a value and once with 2^32 added to it, as the full 64-bit
//! register, and checks that Linux answers both alike (it takes the low 32 bits: an `int` or an
//! `unsigned int`) exactly where the table says the operand is narrower than 64 bits.
//!
//! `ipclab check` sends Linux the values the model saw, after the table's cut, so a wrong row would
//! agree with Linux there; these probes are what ties the rows to the kernel.

use sim_core::lang::syscalls::{CType, CallId};

const BIG: i64 = 1 << 32;

fn syscall(number: i64, args: &[i64]) -> i64 {
    let mut padded = [0i64; 6];
    padded[..args.len()].copy_from_slice(args);
    // SAFETY: each probe below passes pointers to live buffers of the size the call writes, or none.
    let result = unsafe { libc::syscall(number, padded[0], padded[1], padded[2], padded[3], padded[4], padded[5]) };
    if result < 0 {
        -(std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as i64)
    } else {
        result
    }
}

fn c_type(id: CallId, operand: usize) -> CType {
    id.spec().operands[operand].c_type()
}

fn pipe() -> (i64, i64) {
    let mut fds = [0i32; 2];
    assert_eq!(syscall(libc::SYS_pipe2, &[fds.as_mut_ptr() as i64, 0]), 0);
    (fds[0] as i64, fds[1] as i64)
}

fn close(fd: i64) {
    syscall(libc::SYS_close, &[fd]);
}

#[test]
fn operands_the_table_calls_int_are_cut_to_32_bits_by_linux() {
    // fcntl(fd, F_DUPFD, 7 + 2^32) is descriptor 7 (do_fcntl: `argi = (int)arg`).
    assert_eq!(c_type(CallId::Fcntl, 2), CType::Int);
    let (r, w) = pipe();
    let dup = syscall(libc::SYS_fcntl, &[r, libc::F_DUPFD as i64, 40 + BIG]);
    assert_eq!(dup, 40, "F_DUPFD from 40 + 2^32");
    close(dup);
    // pipe2's flags: O_NONBLOCK + 2^32 makes a non-blocking pipe.
    assert_eq!(c_type(CallId::Pipe2, 0), CType::Int);
    let mut fds = [0i32; 2];
    assert_eq!(syscall(libc::SYS_pipe2, &[fds.as_mut_ptr() as i64, libc::O_NONBLOCK as i64 + BIG]), 0);
    let mut byte = [0u8; 1];
    assert_eq!(syscall(libc::SYS_read, &[fds[0] as i64, byte.as_mut_ptr() as i64, 1]), -(libc::EAGAIN as i64));
    close(fds[0] as i64);
    close(fds[1] as i64);
    // poll(NULL, 0, 2^32) returns at once: the timeout is the int 0.
    assert_eq!(c_type(CallId::Poll, 0), CType::Int);
    assert_eq!(syscall(libc::SYS_poll, &[0, 0, BIG]), 0);
    // epoll_wait(ep, events, 1 + 2^32, 2^32): one event, at once.
    assert_eq!((c_type(CallId::EpollWait, 1), c_type(CallId::EpollWait, 2)), (CType::Int, CType::Int));
    let ep = syscall(libc::SYS_epoll_create1, &[0]);
    assert!(ep >= 0);
    let mut event = libc::epoll_event { events: libc::EPOLLOUT as u32, u64: w as u64 };
    assert_eq!(syscall(libc::SYS_epoll_ctl, &[ep, libc::EPOLL_CTL_ADD as i64, w, &mut event as *mut _ as i64]), 0);
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; 4];
    assert_eq!(syscall(libc::SYS_epoll_wait, &[ep, events.as_mut_ptr() as i64, 1 + BIG, BIG]), 1);
    close(ep);
    // listen(fd, 1 + 2^32) on a socket that can listen succeeds either way; semget's NSEMS shows the cut:
    // a set of 2 + 2^32 semaphores is a set of 2 (semctl on number 1 + 2^32 reaches number 1).
    assert_eq!((c_type(CallId::Semget, 1), c_type(CallId::Semctl, 1)), (CType::Int, CType::Int));
    let set = syscall(libc::SYS_semget, &[libc::IPC_PRIVATE as i64, 2 + BIG, 0o600 | libc::IPC_CREAT as i64]);
    assert!(set >= 0, "semget: {set}");
    assert_eq!(syscall(libc::SYS_semctl, &[set, 1 + BIG, libc::SETVAL as i64, 5]), 0);
    assert_eq!(syscall(libc::SYS_semctl, &[set, 1, libc::GETVAL as i64, 0]), 5);
    assert_eq!(syscall(libc::SYS_semctl, &[set, 2, libc::GETVAL as i64, 0]), -(libc::EINVAL as i64));
    syscall(libc::SYS_semctl, &[set, 0, libc::IPC_RMID as i64, 0]);
    // lseek's WHENCE: SEEK_CUR + 2^32 is SEEK_CUR (an unsigned int).
    assert_eq!(c_type(CallId::Lseek, 2), CType::UInt);
    let file = std::env::current_exe().expect("the test's own file");
    let path = std::ffi::CString::new(file.as_os_str().as_encoded_bytes()).expect("a path without NUL");
    let fd = syscall(libc::SYS_openat, &[libc::AT_FDCWD as i64, path.as_ptr() as i64, libc::O_RDONLY as i64 + BIG]);
    assert!(fd >= 0, "open with O_RDONLY + 2^32: {fd}");
    assert_eq!(syscall(libc::SYS_lseek, &[fd, 3, libc::SEEK_CUR as i64 + BIG]), 3);
    close(fd);
    close(r);
    close(w);
}

#[test]
fn operands_the_table_calls_long_are_whole_in_linux_and_mmaps_bits_past_32_are_ignored() {
    // mmap's PROT is an int in C (glibc's `mmap`): a bit past 32 is not there, and Linux, which takes an
    // unsigned long, ignores it all the same (`calc_vm_prot_bits` reads only the bits it knows).
    assert_eq!(c_type(CallId::Mmap, 1), CType::Int);
    let mapped = syscall(
        libc::SYS_mmap,
        &[0, 4096, libc::PROT_READ as i64 + BIG, (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as i64, -1, 0],
    );
    assert!(mapped > 0, "mmap with PROT_READ + 2^32: {mapped}");
    syscall(libc::SYS_munmap, &[mapped, 4096]);
    // lseek's OFFSET is an off_t: 2^32 is past the end of a small file, not 0.
    assert_eq!(c_type(CallId::Lseek, 1), CType::Long);
    let (r, w) = pipe();
    close(r);
    close(w);
    let file = std::env::current_exe().expect("the test's own file");
    let path = std::ffi::CString::new(file.as_os_str().as_encoded_bytes()).expect("a path without NUL");
    let fd = syscall(libc::SYS_openat, &[libc::AT_FDCWD as i64, path.as_ptr() as i64, libc::O_RDONLY as i64]);
    assert_eq!(syscall(libc::SYS_lseek, &[fd, BIG, libc::SEEK_SET as i64]), BIG);
    close(fd);
}
