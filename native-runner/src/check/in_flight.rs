//! Unix-domain sockets held only by messages in flight, on both arms, for the steps in which the
//! simulator's garbage collector of such sockets ([`sim_core::kernel::unix_gc`]) freed some.
//!
//! Linux runs its collector on a workqueue some time after a Unix-domain socket is released anywhere on
//! the machine, and only then. After such a step the runner makes Linux run it (it makes a socket pair
//! and closes it: a release), then waits until the run's network namespace holds as many sockets that
//! no descriptor refers to as the simulator does. Those are read from `/proc/self/net/unix` (the driver
//! lives in the run's network namespace) less every socket a descriptor of the driver, of `init` or of
//! a scenario process refers to (`/proc/PID/fd`, `socket:[INODE]`). A socket without an inode there is a
//! connection not yet accepted, which is not an open file on either arm.

use sim_core::kernel::fd::FileObject;
use sim_core::kernel::Kernel;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long Linux's collector (and the deferred closes of what it frees) may take.
const COLLECT_LIMIT: Duration = Duration::from_secs(5);

/// The simulator's Unix-domain sockets whose open file no descriptor of a live process refers to.
pub fn simulated(kernel: &Kernel) -> u32 {
    let mut in_tables = BTreeSet::new();
    for &pid in &kernel.alive {
        for entry in kernel.process(pid).fds.iter().flatten() {
            in_tables.insert(entry.file);
        }
    }
    let mut count = 0;
    for (index, file) in kernel.files.iter().enumerate() {
        let Some(file) = file else { continue };
        let FileObject::Socket(id) = file.object else { continue };
        let unix = kernel.socket(id).is_some_and(|socket| socket.inet.is_none());
        if unix && !in_tables.contains(&(index as u32)) {
            count += 1;
        }
    }
    count
}

/// Makes Linux run its collector: a Unix-domain socket released (`unix_release_sock` schedules it).
pub fn start_collector() -> Result<(), String> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let ends = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|error| format!("socketpair: {error}"))?;
    drop(ends);
    Ok(())
}

/// Linux's count: the run's sockets that no descriptor of `pids` (outer pids) or of the driver refers to.
pub fn real(pids: &[i32]) -> Result<u32, String> {
    let table =
        std::fs::read_to_string("/proc/self/net/unix").map_err(|error| format!("/proc/self/net/unix: {error}"))?;
    // `Num RefCount Protocol Flags Type St Inode Path`: the inode is the seventh field.
    let mut sockets: BTreeSet<u64> = table
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(6)?.parse::<u64>().ok())
        .filter(|&inode| inode != 0)
        .collect();
    let tables = std::iter::once("self".to_string()).chain(pids.iter().map(|pid| pid.to_string()));
    for owner in tables {
        let Ok(entries) = std::fs::read_dir(format!("/proc/{owner}/fd")) else { continue };
        for entry in entries.flatten() {
            let Ok(target) = std::fs::read_link(entry.path()) else { continue };
            let target = target.to_string_lossy();
            if let Some(inode) = target.strip_prefix("socket:[").and_then(|rest| rest.strip_suffix(']')) {
                if let Ok(inode) = inode.parse::<u64>() {
                    sockets.remove(&inode);
                }
            }
        }
    }
    Ok(sockets.len() as u32)
}

/// How long a count must hold before the driver believes it: Linux's collector runs on a workqueue, so
/// a count read at once may be from before it ran.
const STEADY: Duration = Duration::from_millis(3);
/// After the collector freed something, how long the driver lets the closes it defers (`fput` from a
/// kernel thread goes through `delayed_fput`, a jiffy or two later) finish before the next step.
const DEFERRED_CLOSES: Duration = Duration::from_millis(20);

/// Starts Linux's collector and waits until Linux holds `expected` sockets in flight, and still does a
/// moment later; returns what it last counted (which differs from `expected` only if the wait ran
/// out). `collected`: the simulator's collector freed something in this step.
pub fn settle(expected: u32, pids: &[i32], collected: bool) -> Result<u32, String> {
    start_collector()?;
    let deadline = Instant::now() + COLLECT_LIMIT;
    loop {
        let count = real(pids)?;
        if Instant::now() > deadline {
            return Ok(count);
        }
        if count == expected {
            std::thread::sleep(STEADY);
            if real(pids)? == expected {
                if collected {
                    std::thread::sleep(DEFERRED_CLOSES);
                }
                return Ok(expected);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
