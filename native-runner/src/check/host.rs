//! What the conformance runner needs from the host: `/proc` readings, real-time scheduling, CPU
//! affinity, PID and System V IPC namespaces (probed here, made per run in [`super::namespace`]), the
//! isolated temporary directory (owned through a lock, and swept when its owner died without removing
//! it), `uname` for the report.
//!
//! The runner plays the scheduler on a real CPU. Every scenario process is pinned to one CPU (the
//! *scenario CPU*) under `SCHED_FIFO`; a spinner process at priority [`SPINNER_PRIORITY`] keeps that CPU
//! busy, so a scenario process at [`DORMANT_PRIORITY`] that the kernel wakes up stays runnable without
//! running, exactly like a woken process in the simulator that waits for its turn. The process whose
//! turn it is runs at [`ACTIVE_PRIORITY`], above the spinner.

use std::ffi::CString;
use std::path::{Path, PathBuf};

/// Priority of a scenario process that must not run now.
pub const DORMANT_PRIORITY: i32 = 1;
/// Priority of the spinner that keeps the scenario CPU busy.
pub const SPINNER_PRIORITY: i32 = 10;
/// Priority of the scenario process whose step it is.
pub const ACTIVE_PRIORITY: i32 = 20;

/// Facts about the host, printed in the report header.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HostInfo {
    /// `uname -s`: `Linux`.
    pub kernel_name: String,
    /// `uname -r`: the kernel's release, `6.18.4`.
    pub kernel: String,
    /// `uname -v`: how the kernel was built (`#1 SMP PREEMPT_DYNAMIC ...`).
    pub kernel_version: String,
    /// `uname -m`: `x86_64`.
    pub machine: String,
    pub root: bool,
    /// The uid scenario processes run as (65534, `nobody`, when the runner is root).
    pub scenario_uid: u32,
    pub scenario_cpu: usize,
    /// Each run has a PID namespace of its own (always: a host that cannot make one cannot run the check).
    pub pid_namespace: bool,
    /// Each run has a System V IPC namespace of its own (made together with the PID namespace).
    pub ipc_namespace: bool,
    /// Each run has a mount namespace of its own, with a private tmpfs on `/dev/shm` (where named
    /// semaphores live); POSIX message queues belong to the IPC namespace.
    pub mount_namespace: bool,
    /// `/proc/sys/kernel/core_pattern`: where a dumped core goes. A file name without a `/` (`core`)
    /// puts it in the dying process's working directory, the run's own, which is what the check
    /// needs; a pipe (`|/usr/lib/...`) or another directory decides whether a core is written by
    /// rules of its own, so a run in which a process dies of a core-dumping signal is refused then.
    pub core_pattern: String,
    /// `/proc/sys/net/core/wmem_max` and `rmem_max`: the largest `SO_SNDBUF` and `SO_RCVBUF` an
    /// unprivileged process may ask for (`None` if unreadable). The simulator has Linux's default,
    /// 212992, for both.
    pub wmem_max: Option<u32>,
    pub rmem_max: Option<u32>,
}

impl HostInfo {
    /// Why a run whose `setsockopt` asks for these buffer sizes cannot be checked on this host, if it
    /// cannot: a size past the smaller of the host's limit and Linux's default is capped differently
    /// here than in the simulator.
    pub fn buffer_limit_problem(&self, (send, receive): (Option<u32>, Option<u32>)) -> Option<String> {
        const DEFAULT: u32 = sim_core::linux::socket::WMEM_MAX;
        for (asked, host_max, option, file) in
            [(send, self.wmem_max, "SO_SNDBUF", "wmem_max"), (receive, self.rmem_max, "SO_RCVBUF", "rmem_max")]
        {
            let Some(asked) = asked else { continue };
            if host_max != Some(DEFAULT) && asked > host_max.unwrap_or(DEFAULT).min(DEFAULT) {
                let host = host_max.map_or("unreadable".to_string(), |max| max.to_string());
                return Some(format!(
                    "a setsockopt asks for {option} {asked}, past net.core.{file}, which is {host} on this host \
                     and {DEFAULT} (Linux's default) in the simulator: the kernel caps the size at it, so the \
                     two would differ for a reason of the host's configuration (see docs/conformance.md)"
                ));
            }
        }
        None
    }

    /// Why a run with a death by a core-dumping signal cannot be checked on this host, if it cannot.
    pub fn core_pattern_problem(&self) -> Option<String> {
        let pattern = self.core_pattern.trim();
        if pattern.is_empty() || pattern.starts_with('|') || pattern.contains('/') {
            Some(format!(
                "a process dies of a core-dumping signal, and this host's core_pattern is {pattern:?}: whether a \
                 core is written (and the wait status has the core flag) then depends on {}, not only on \
                 RLIMIT_CORE as in the simulator; ipclab check needs a core_pattern that is a plain file name, \
                 such as \"core\" (see docs/conformance.md, \"Core dumps\")",
                if pattern.starts_with('|') { "the program it names" } else { "that path" }
            ))
        } else {
            None
        }
    }
}

/// What the runner has found out about the host before running anything.
pub struct Host {
    pub info: HostInfo,
    pub runner_cpus: Vec<usize>,
}

/// `uname(2)`: the kernel's name, release, version and machine.
pub fn uname() -> (String, String, String, String) {
    // SAFETY: a zeroed utsname is valid, and uname fills it with NUL-terminated strings.
    let mut names: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: uname with a valid pointer.
    if unsafe { libc::uname(&mut names) } != 0 {
        let unknown = || "(unknown)".to_string();
        return (unknown(), unknown(), unknown(), unknown());
    }
    let text = |field: &[libc::c_char]| {
        let bytes: Vec<u8> = field.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (text(&names.sysname), text(&names.release), text(&names.version), text(&names.machine))
}

/// Checks that this process may make a PID namespace (and a System V IPC namespace) and that its first
/// process really is pid 1 in it, in a throwaway child; says why not when it cannot.
fn probe_namespaces() -> Result<(), String> {
    // SAFETY: fork in a single-threaded process; the child only makes system calls and exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        super::real::run_forked(|| {
            let flags = nix::sched::CloneFlags::CLONE_NEWPID
                | nix::sched::CloneFlags::CLONE_NEWIPC
                | nix::sched::CloneFlags::CLONE_NEWNET;
            if let Err(errno) = nix::sched::unshare(flags) {
                return errno as i32;
            }
            // SAFETY: fork; the grandchild only asks for its pid.
            match unsafe { libc::fork() } {
                // SAFETY: getpid cannot fail.
                0 => super::real::run_forked(|| if unsafe { libc::getpid() } == 1 { 0 } else { 1 }),
                child if child > 0 => {
                    let mut status = 0;
                    // SAFETY: waitpid on our own child.
                    unsafe { libc::waitpid(child, &mut status, 0) };
                    if status == 0 {
                        0
                    } else {
                        200
                    }
                }
                _ => 201,
            }
        });
    }
    let mut status = 0;
    // SAFETY: waitpid on our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 255 };
    let why = match code {
        0 => return Ok(()),
        200 => "its first process did not get pid 1".to_string(),
        201 | 255 => "its first process could not be started".to_string(),
        errno => {
            format!("unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET): {}", std::io::Error::from_raw_os_error(errno))
        }
    };
    Err(format!(
        "cannot make a PID namespace ({why}); each run lives in a PID namespace of its own, so that its pids, \
         process groups and kill(-1) are the scenario's alone and no process can outlive it: run as root \
         (CAP_SYS_ADMIN)"
    ))
}

/// Checks that this host can run the conformance check, and says exactly why not when it cannot.
pub fn probe() -> Result<Host, String> {
    if !Path::new("/proc/self/stat").exists() {
        return Err("/proc is not mounted: the runner reads process states from /proc/PID/stat".to_string());
    }
    let allowed = allowed_cpus()?;
    if allowed.len() < 2 {
        return Err(format!(
            "the runner may use only {} CPU ({:?}); it needs two: one for the scenario processes and one for itself",
            allowed.len(),
            allowed
        ));
    }
    // The control sockets live at descriptors 1030 and up, above the scenario's RLIMIT_NOFILE of 1024.
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls with a valid pointer.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        if limit.rlim_max < 2048 {
            let raised = libc::rlimit { rlim_cur: limit.rlim_cur, rlim_max: 2048 };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                return Err(format!(
                    "the hard limit on open files (RLIMIT_NOFILE) is {} and cannot be raised to 2048; the runner keeps \
                     its control sockets at descriptors 1030 and up, out of the scenario's range (0 to 1023)",
                    limit.rlim_max
                ));
            }
        }
    }
    // Can we use SCHED_FIFO at all? Try on ourselves and go back to SCHED_OTHER.
    if let Err(error) = set_fifo(0, DORMANT_PRIORITY) {
        return Err(format!(
            "real-time scheduling (SCHED_FIFO) is not permitted here ({error}); the runner uses it to hold woken \
             processes back until the simulator's schedule lets them run: run as root or with CAP_SYS_NICE"
        ));
    }
    set_other(0).map_err(|error| format!("cannot go back to SCHED_OTHER: {error}"))?;
    probe_namespaces()?;
    let scenario_cpu = *allowed.last().expect("two or more CPUs");
    let runner_cpus: Vec<usize> = allowed.iter().copied().filter(|cpu| *cpu != scenario_cpu).collect();
    // SAFETY: geteuid and getuid cannot fail.
    let (euid, uid) = unsafe { (libc::geteuid(), libc::getuid()) };
    let root = euid == 0;
    let (kernel_name, kernel, kernel_version, machine) = uname();
    Ok(Host {
        info: HostInfo {
            kernel_name,
            kernel,
            kernel_version,
            machine,
            root,
            scenario_uid: if root { 65534 } else { uid },
            scenario_cpu,
            pid_namespace: true,
            ipc_namespace: true,
            mount_namespace: true,
            core_pattern: std::fs::read_to_string("/proc/sys/kernel/core_pattern")
                .unwrap_or_default()
                .trim()
                .to_string(),
            wmem_max: read_number("/proc/sys/net/core/wmem_max"),
            rmem_max: read_number("/proc/sys/net/core/rmem_max"),
        },
        runner_cpus,
    })
}

/// A number in a `/proc/sys` file.
fn read_number(path: &str) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

pub fn allowed_cpus() -> Result<Vec<usize>, String> {
    let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map_err(|error| format!("cannot read the CPU affinity: {error}"))?;
    Ok((0..nix::sched::CpuSet::count()).filter(|cpu| set.is_set(*cpu).unwrap_or(false)).collect())
}

pub fn set_affinity(pid: i32, cpus: &[usize]) -> Result<(), String> {
    let mut set = nix::sched::CpuSet::new();
    for cpu in cpus {
        set.set(*cpu).map_err(|error| error.to_string())?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(pid), &set).map_err(|error| error.to_string())
}

pub fn set_fifo(pid: i32, priority: i32) -> Result<(), String> {
    let param = libc::sched_param { sched_priority: priority };
    // SAFETY: plain system call with a valid pointer.
    let result = unsafe { libc::sched_setscheduler(pid, libc::SCHED_FIFO, &param) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}

fn set_other(pid: i32) -> Result<(), String> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: plain system call with a valid pointer.
    let result = unsafe { libc::sched_setscheduler(pid, libc::SCHED_OTHER, &param) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}

/// A process as `/proc/PID/stat` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    pub state: char,
    /// Field 52: the wait status of a zombie.
    pub exit_code: i32,
}

/// `None` when the process no longer exists (it was reaped).
pub fn stat(pid: i32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain anything: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // `rest` starts at field 3 (state), so field 52 is index 49.
    let exit_code = fields.get(49).and_then(|field| field.parse().ok()).unwrap_or(0);
    Some(ProcStat { state, exit_code })
}

/// The system call a sleeping process is in and its first operand (`/proc/PID/syscall`), if it is in
/// one.
pub fn syscall_line(pid: i32) -> Option<(i64, i64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let mut fields = text.split_whitespace();
    let number = fields.next()?.parse().ok()?;
    let first = fields.next().and_then(|field| u64::from_str_radix(field.trim_start_matches("0x"), 16).ok())? as i64;
    Some((number, first))
}

/// Whether the process sleeps in a call of its scenario: asleep (`S`) in a system call other than
/// the wait for the runner's next command.
pub fn asleep_in_call(pid: i32) -> bool {
    if stat(pid).is_none_or(|stat| stat.state != 'S') {
        return false;
    }
    syscall_line(pid)
        .is_some_and(|(number, first)| !(number == libc::SYS_recvfrom && first == super::protocol::CONTROL_FD as i64))
}

/// A process's signals as `/proc/PID/status` shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalSets {
    /// `SigPnd`: pending for the thread (`tkill`, `tgkill`).
    pub pending: u64,
    /// `ShdPnd`: pending for the process (`kill`, `sigqueue`).
    pub shared_pending: u64,
    /// `SigBlk`, `SigIgn`, `SigCgt`.
    pub blocked: u64,
    pub ignored: u64,
    pub caught: u64,
}

/// `None` when the process no longer exists.
pub fn signal_sets(pid: i32) -> Option<SignalSets> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| u64::from_str_radix(value.trim(), 16).ok())
    };
    Some(SignalSets {
        pending: field("SigPnd:")?,
        shared_pending: field("ShdPnd:")?,
        blocked: field("SigBlk:")?,
        ignored: field("SigIgn:")?,
        caught: field("SigCgt:")?,
    })
}

/// The mappings of a process that lie in `[low, high)`, as `/proc/PID/maps` lists them: start, end and
/// the permissions (`rw-s`); `None` when the file cannot be read.
pub fn mappings(pid: i32, low: u64, high: u64) -> Option<Vec<(u64, u64, String)>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    let mut found = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16)) else { continue };
        if start >= low && end <= high {
            found.push((start, end, perms.to_string()));
        }
    }
    Some(found)
}

/// A process's pid in each PID namespace it belongs to, outermost first (`NSpid` in
/// `/proc/PID/status`); empty when it does not exist.
pub fn namespace_pids(pid: i32) -> Vec<i32> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return Vec::new() };
    text.lines()
        .find_map(|line| line.strip_prefix("NSpid:"))
        .map(|pids| pids.split_whitespace().filter_map(|pid| pid.parse().ok()).collect())
        .unwrap_or_default()
}

/// The function the process sleeps in (`/proc/PID/wchan`), for reports.
pub fn wchan(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default()
}

/// The name every run directory starts with, in the temporary directory (`$TMPDIR`, else `/tmp`).
const RUN_DIR_PREFIX: &str = "ipclab-check-";

/// The file in a run directory that says whose it is. Its runner holds an exclusive `flock` on it for as
/// long as the run lasts, and the kernel drops that lock when the runner ends however it ends (even by
/// `SIGKILL`), so an unlocked owner file means that nobody owns the directory any more. The pid written
/// in it is for messages only. Scenario paths all map to `N-name`, so no scenario can name this file.
const OWNER_FILE: &str = "owner";

/// How long an owner file may stay empty (its runner is between creating and locking it) before the
/// directory counts as abandoned.
const UNCLAIMED_GRACE_SECONDS: u64 = 60;

/// A private directory standing in for every path a scenario names; removed when dropped.
pub struct RunDir {
    pub path: PathBuf,
    /// The owner file, locked for as long as the directory exists.
    _owner: std::fs::File,
}

impl RunDir {
    pub fn create(owner_uid: Option<u32>) -> Result<RunDir, String> {
        let base = std::env::temp_dir();
        let template = base.join(format!("{RUN_DIR_PREFIX}XXXXXX"));
        let template = CString::new(template.to_string_lossy().as_bytes()).map_err(|error| error.to_string())?;
        let mut bytes = template.into_bytes_with_nul();
        // SAFETY: `bytes` is a writable, NUL-terminated template.
        let result = unsafe { libc::mkdtemp(bytes.as_mut_ptr() as *mut libc::c_char) };
        if result.is_null() {
            return Err(format!(
                "cannot create a temporary directory in {}: {}",
                base.display(),
                std::io::Error::last_os_error()
            ));
        }
        bytes.pop();
        let path = PathBuf::from(String::from_utf8_lossy(&bytes).to_string());
        let owner = match claim(&path) {
            Ok(owner) => owner,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&path);
                return Err(format!("cannot record the owner of {}: {error}", path.display()));
            }
        };
        if let Some(uid) = owner_uid {
            // Scenario processes run as this user and make their FIFOs here.
            let _ = std::os::unix::fs::chown(&path, Some(uid), Some(uid));
        }
        Ok(RunDir { path, _owner: owner })
    }

    /// The real path standing in for scenario path number `index` (`"/tmp/x.fifo"` -> `DIR/3-x.fifo`).
    ///
    /// An abstract socket name (`"\0echo"`) is a name in the abstract namespace, which every process of
    /// the network namespace shares: each run has a network namespace of its own, and the name also
    /// gets the run directory's name in front (`"\0ipclab-run-Ab12Cd/3-echo"`), which says which run
    /// made it.
    pub fn map(&self, index: usize, scenario_path: &str) -> PathBuf {
        // The empty path is `connect`'s `AF_UNSPEC`: no name at all.
        if scenario_path.is_empty() {
            return PathBuf::new();
        }
        // An address and port (`127.0.0.1:7000`) names no file: it is passed on as it is written, and
        // the run's private network namespace keeps its ports apart from the host's.
        if sim_core::linux::socket::parse_inet(scenario_path).is_some() {
            return PathBuf::from(scenario_path);
        }
        let base: String = scenario_path
            .rsplit('/')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .take(40)
            .collect();
        if scenario_path.starts_with('\0') {
            let run = self.path.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_default();
            return PathBuf::from(format!("\0{run}/{index}-{base}"));
        }
        self.path.join(format!("{index}-{base}"))
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // The lock is still held here: the owner file closes after the directory is gone.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The file whose exclusive `flock` a lockstep check holds while it runs: one for the whole host,
/// whatever `TMPDIR` a check has (`/run/lock`, else `/tmp`).
fn lockstep_lock_path() -> PathBuf {
    let run_lock = Path::new("/run/lock");
    let dir = if run_lock.is_dir() { run_lock } else { Path::new("/tmp") };
    dir.join("ipclab-check.lock")
}

/// Held by a lockstep check for as long as it runs: one at a time on a host.
///
/// A lockstep run holds back its waiting processes under `SCHED_FIFO` below a spinner. Two checks at
/// once on one host hold back each other's processes too, with nothing to release them: a process of
/// one check held back inside the kernel (tearing down its memory, say) can keep a lock on a file both
/// checks' processes map (the C library, the runner itself), and a process of the other check that
/// needs that lock then sleeps in state D until its step times out. So checks take turns.
pub struct LockstepTurn {
    _file: std::fs::File,
}

/// Waits for the host's lockstep turn: at once when no other check runs, else after saying so, until
/// the other ends or this one is asked to stop (`None` then).
pub fn lockstep_turn(waiting: impl FnOnce(Option<u32>)) -> Result<Option<LockstepTurn>, String> {
    use std::io::{Read, Seek, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let path = lockstep_lock_path();
    // Another user's check made the file: a read-only descriptor locks it as well.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(&path)
        .or_else(|_| std::fs::File::open(&path))
        .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    if lock(&file, libc::LOCK_EX | libc::LOCK_NB).is_err() {
        let mut text = String::new();
        let _ = file.read_to_string(&mut text);
        let holder = text.trim().strip_prefix("pid ").and_then(|pid| pid.parse().ok());
        waiting(holder);
        loop {
            if crate::stop::stop_requested().is_some() {
                return Ok(None);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            if lock(&file, libc::LOCK_EX | libc::LOCK_NB).is_ok() {
                break;
            }
        }
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(file, "pid {}", std::process::id());
    Ok(Some(LockstepTurn { _file: file }))
}

/// Creates the owner file of a new run directory, locks it, and writes this process's pid in it.
fn claim(dir: &Path) -> std::io::Result<std::fs::File> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut owner = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(dir.join(OWNER_FILE))?;
    lock(&owner, libc::LOCK_EX)?;
    writeln!(owner, "pid {}", std::process::id())?;
    Ok(owner)
}

fn lock(file: &std::fs::File, operation: libc::c_int) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// A run directory that no living check owns, removed by [`sweep_stale_run_dirs`].
pub struct Swept {
    pub path: PathBuf,
    /// The pid of the check that made it, as its owner file recorded.
    pub owner_pid: Option<u32>,
    /// Why it could not be removed, if it could not.
    pub error: Option<String>,
}

/// Removes the run directories (in `base`, the temporary directory) of this user's earlier checks that ended without removing them (a
/// `SIGKILL`, a crash, a power cut). A directory is stale when its owner file is ours and nobody holds
/// its lock; a directory without an owner file is never touched (it is not known to be ours).
pub fn sweep_stale_run_dirs(base: &Path) -> Vec<Swept> {
    let mut swept = Vec::new();
    let Ok(entries) = std::fs::read_dir(base) else { return swept };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(RUN_DIR_PREFIX) {
            continue;
        }
        let path = entry.path();
        // Only a real directory; a symbolic link with the right name is not ours.
        if !std::fs::symlink_metadata(&path).is_ok_and(|metadata| metadata.is_dir()) {
            continue;
        }
        let Some((lock, owner_pid)) = stale_owner(&path) else { continue };
        // The lock is held while the directory goes, so a second check sweeping at the same moment
        // takes it for a living one and leaves it alone.
        let error = std::fs::remove_dir_all(&path).err().map(|error| error.to_string());
        drop(lock);
        swept.push(Swept { path, owner_pid, error });
    }
    swept.sort_by(|a, b| a.path.cmp(&b.path));
    swept
}

/// When `dir` is one of ours and nobody owns it any more: its owner file, now locked by this process,
/// and the pid it records.
fn stale_owner(dir: &Path) -> Option<(std::fs::File, Option<u32>)> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let mut owner = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(dir.join(OWNER_FILE))
        .ok()?;
    let metadata = owner.metadata().ok()?;
    // SAFETY: geteuid cannot fail.
    if !metadata.is_file() || metadata.uid() != unsafe { libc::geteuid() } {
        return None;
    }
    if lock(&owner, libc::LOCK_EX | libc::LOCK_NB).is_err() {
        return None; // A living check holds it.
    }
    let mut text = String::new();
    owner.read_to_string(&mut text).ok()?;
    if text.is_empty() {
        // Created but not yet claimed: a check starting right now, unless that was long ago.
        let age = metadata.modified().ok().and_then(|modified| modified.elapsed().ok())?;
        if age.as_secs() < UNCLAIMED_GRACE_SECONDS {
            return None;
        }
    }
    let pid = text.strip_prefix("pid ").and_then(|rest| rest.trim().parse().ok());
    Some((owner, pid))
}

/// Taken by the tests that fork (a child keeps every open file of the test binary, `flock`s included)
/// and by the tests that a fork would disturb.
#[cfg(test)]
pub(crate) static FORKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    /// A host that can run checks, with Linux's default socket buffer limits.
    fn info() -> HostInfo {
        HostInfo {
            kernel_name: String::new(),
            kernel: String::new(),
            kernel_version: String::new(),
            machine: String::new(),
            root: true,
            scenario_uid: 65534,
            scenario_cpu: 1,
            pid_namespace: true,
            ipc_namespace: true,
            mount_namespace: true,
            core_pattern: "core".to_string(),
            wmem_max: Some(212_992),
            rmem_max: Some(212_992),
        }
    }

    #[test]
    fn this_process_s_own_mappings_are_read_from_proc_maps_within_the_window_asked() {
        let page = 4096;
        // SAFETY: an anonymous mapping of this test's own, unmapped before it returns.
        let at = unsafe {
            libc::mmap(std::ptr::null_mut(), 2 * page, libc::PROT_READ, libc::MAP_SHARED | libc::MAP_ANONYMOUS, -1, 0)
        };
        assert_ne!(at, libc::MAP_FAILED);
        let start = at as u64;
        let pid = std::process::id() as i32;
        let found = mappings(pid, start, start + 2 * page as u64).expect("/proc/self/maps is readable");
        assert_eq!(found, [(start, start + 2 * page as u64, "r--s".to_string())]);
        assert_eq!(mappings(pid, start + page as u64, start + 2 * page as u64), Some(Vec::new()), "not wholly inside");
        // SAFETY: the mapping made above.
        assert_eq!(unsafe { libc::munmap(at, 2 * page) }, 0);
    }

    #[test]
    fn a_core_pattern_other_than_a_plain_file_name_is_a_reason_to_refuse() {
        let with = |pattern: &str| HostInfo { core_pattern: pattern.to_string(), ..info() };
        assert_eq!(with("core").core_pattern_problem(), None);
        assert_eq!(with("core.%p").core_pattern_problem(), None);
        let pipe = with("|/usr/lib/systemd/systemd-coredump %P").core_pattern_problem().expect("refused");
        assert!(pipe.contains("the program it names") && pipe.contains("systemd-coredump"), "{pipe}");
        let path = with("/var/crash/core.%e").core_pattern_problem().expect("refused");
        assert!(path.contains("that path"), "{path}");
        assert!(with("").core_pattern_problem().is_some(), "an unreadable pattern is not assumed to be fine");
    }

    #[test]
    fn a_socket_buffer_size_past_a_changed_host_limit_is_a_reason_to_refuse() {
        let with = |wmem_max: Option<u32>, rmem_max: Option<u32>| HostInfo { wmem_max, rmem_max, ..info() };
        let default = with(Some(212_992), Some(212_992));
        assert_eq!(default.buffer_limit_problem((Some(u32::MAX), Some(300_000))), None, "capped alike");
        let raised = with(Some(4_194_304), Some(212_992));
        assert_eq!(raised.buffer_limit_problem((Some(212_992), Some(300_000))), None, "at or past the default alike");
        let send = raised.buffer_limit_problem((Some(212_993), None)).expect("refused");
        assert!(send.contains("SO_SNDBUF 212993") && send.contains("4194304"), "{send}");
        let lowered = with(Some(212_992), Some(1000));
        assert_eq!(lowered.buffer_limit_problem((None, Some(1000))), None);
        let receive = lowered.buffer_limit_problem((None, Some(1001))).expect("refused");
        assert!(receive.contains("SO_RCVBUF 1001") && receive.contains("rmem_max"), "{receive}");
        let unknown = with(None, None);
        assert_eq!(unknown.buffer_limit_problem((Some(212_992), None)), None);
        assert!(unknown.buffer_limit_problem((Some(212_993), None)).is_some());
    }

    #[test]
    fn only_unowned_run_directories_of_ours_are_swept() {
        // A test that forks meanwhile would hand its child the lock this test lets go of.
        let _no_forks = FORKS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let base = std::env::temp_dir().join(format!("ipclab-sweep-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let make = |name: &str, owner: Option<&str>| {
            let dir = base.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("0-x.fifo"), "").unwrap();
            if let Some(text) = owner {
                std::fs::write(dir.join(OWNER_FILE), text).unwrap();
            }
            dir
        };
        let dead = make("ipclab-check-dead00", Some("pid 4000000\n"));
        let alive = make("ipclab-check-alive0", None);
        let held = claim(&alive).unwrap();
        let unrecorded = make("ipclab-check-unrec0", None);
        let starting = make("ipclab-check-start0", Some(""));
        let other_name = make("something-else", Some("pid 4000000\n"));
        let outside = make("outside", Some("pid 4000000\n"));
        std::os::unix::fs::symlink(&outside, base.join("ipclab-check-link00")).unwrap();

        let swept = sweep_stale_run_dirs(&base);
        let paths: Vec<&Path> = swept.iter().map(|swept| swept.path.as_path()).collect();
        assert_eq!(paths, [dead.as_path()]);
        assert_eq!(swept[0].owner_pid, Some(4000000));
        assert_eq!(swept[0].error, None);
        assert!(!dead.exists());
        for kept in [&alive, &unrecorded, &starting, &other_name, &outside] {
            assert!(kept.join("0-x.fifo").exists(), "{} was touched", kept.display());
        }
        // Once its owner lets go, the directory is stale too.
        drop(held);
        let swept = sweep_stale_run_dirs(&base);
        assert_eq!(swept.len(), 1);
        assert_eq!(swept[0].path, alive);
        assert_eq!(swept[0].owner_pid, Some(std::process::id()));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
