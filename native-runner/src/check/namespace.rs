//! Each run in a PID namespace (and a System V IPC namespace) of its own, driven by a process of its own.
//!
//! `ipclab check` forks a *driver* for each run. The driver first starts the *spinner* (the process that
//! keeps the scenario CPU busy, outside the namespace so that it takes no pid of the run), then calls
//! `unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET)`: its next child is pid 1 of a
//! fresh PID namespace, and becomes
//! the run's `init` ([`super::real::init`]), which starts the top-level scenario processes as its
//! children. Processes are created in the same order in both arms, so pids inside the namespace are the
//! simulator's pids: no operand or result needs translating, and `kill(0)`, `kill(-PGID)`, `kill(-1)`,
//! `setpgid` and `waitpid(0)` mean on Linux what they mean in the simulator, reaching nothing outside.
//! The driver, in the parent namespace, still knows each process's outer pid (for `/proc`).
//!
//! A free run (`check --free`, [`super::free`]) uses the same namespace without the spinner
//! ([`run_driver`] runs any driver body and sends back what it returns).
//!
//! The driver sends its [`RunReport`] back over a pipe as JSON and ends. Nothing outlives a run: the
//! driver dies with `ipclab check` (`PR_SET_PDEATHSIG`), the spinner and `init` die with the driver,
//! and when `init` dies the kernel kills every process of the namespace. `SIGINT` and `SIGTERM` sent to
//! `ipclab check` are passed on to the driver, which finishes the step it is in and reports what it
//! checked.

use super::host::{self, Host, SPINNER_PRIORITY};
use super::lockstep::{self, Plan};
use super::protocol::{self, Command, Received};
use super::real::{self, exit_code};
use super::report::RunReport;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// What the driver sends back: a lockstep run's report, or a free run's result.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum DriverOutcome<T> {
    Report(Box<T>),
    /// The host failed the run (exit status 3).
    HostError(String),
}

/// How long the driver waits for `init` to answer, or for the namespace to empty at the end.
const WAIT_LIMIT: Duration = Duration::from_secs(5);
/// How long the run's killed processes may take to end: a process killed with `SIGKILL` always ends,
/// but tearing down its memory can keep it in the kernel (state D) for tens of seconds on a loaded host
/// (seen: over 60 s in `unlink_file_vma_batch_process` while other builds filled the machine), as the
/// driver allows a step (`KERNEL_BUSY_TIMEOUT` in `lockstep.rs`).
const TEARDOWN_LIMIT: Duration = Duration::from_secs(120);

/// Runs one planned run in a driver process and returns its report.
pub fn run(host: &Host, plan: &Plan, paths: &[Vec<u8>], run_dir: &std::path::Path) -> Result<RunReport, String> {
    run_driver(host, run_dir, true, |namespace| lockstep::check(namespace, &host.info, plan, paths))
}

/// Runs `body` in a driver process of its own, in the run's namespace, and returns what it returns.
/// `spinner`: whether the spinner holds the scenario CPU (lockstep runs); a free run lets Linux
/// schedule the processes where and when it likes, so it has none.
pub fn run_driver<T>(
    host: &Host,
    run_dir: &std::path::Path,
    spinner: bool,
    body: impl FnOnce(&mut Namespace) -> Result<T, String>,
) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut fds = [-1; 2];
    // SAFETY: pipe2 with room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe2: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors were just made and are ours.
    let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let checker = std::process::id() as i32;
    // SAFETY: fork in a single-threaded process; the child never returns into this code (`run_forked`).
    let driver = unsafe { libc::fork() };
    if driver < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if driver == 0 {
        drop(read_end);
        real::run_forked(|| drive(checker, write_end.as_raw_fd(), host, run_dir, spinner, body));
    }
    drop(write_end);
    let text = read_report(read_end.as_raw_fd(), driver);
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child with a valid pointer.
        let result = unsafe { libc::waitpid(driver, &mut status, 0) };
        if result >= 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    match serde_json::from_slice::<DriverOutcome<T>>(&text) {
        Ok(DriverOutcome::Report(report)) => Ok(*report),
        Ok(DriverOutcome::HostError(message)) => Err(message),
        Err(_) => Err(format!(
            "the run's driver ended without a report ({})",
            sim_core::present::render::status_words(sim_core::linux::wait::decode(status))
        )),
    }
}

/// Reads the driver's report to the end, passing `SIGINT`/`SIGTERM` on to it when they arrive.
fn read_report(fd: RawFd, driver: i32) -> Vec<u8> {
    let mut text = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut passed_on = false;
    loop {
        if let (Some(signal), false) = (crate::stop::stop_requested(), passed_on) {
            // SAFETY: a signal to our own child.
            unsafe { libc::kill(driver, signal) };
            passed_on = true;
        }
        let mut pollfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pollfd, 1, 50) } <= 0 {
            continue;
        }
        // SAFETY: reading into a buffer of the given length.
        let count = unsafe { libc::read(fd, chunk.as_mut_ptr() as *mut libc::c_void, chunk.len()) };
        match count {
            0 => return text,
            count if count > 0 => text.extend_from_slice(&chunk[..count as usize]),
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
            _ => return text,
        }
    }
}

/// The driver: makes the namespace, checks the run, takes the namespace down, reports. Returns its exit
/// status.
fn drive<T: serde::Serialize>(
    checker: i32,
    report_fd: RawFd,
    host: &Host,
    run_dir: &std::path::Path,
    spinner: bool,
    body: impl FnOnce(&mut Namespace) -> Result<T, String>,
) -> i32 {
    // SAFETY: plain prctl; then, if the checker died before it took effect, end at once.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != checker {
            return exit_code::DRIVER_GONE;
        }
    }
    let outcome = match Namespace::create(host, run_dir, spinner) {
        Ok(mut namespace) => {
            let result = body(&mut namespace);
            let teardown = namespace.teardown();
            match (result, teardown) {
                (Ok(report), Ok(())) => DriverOutcome::Report(Box::new(report)),
                (Err(message), _) | (Ok(_), Err(message)) => DriverOutcome::HostError(message),
            }
        }
        Err(message) => DriverOutcome::HostError(message),
    };
    let text = serde_json::to_vec(&outcome).expect("reports serialize");
    let mut written = 0;
    while written < text.len() {
        // SAFETY: writing from a live buffer.
        let count =
            unsafe { libc::write(report_fd, text[written..].as_ptr() as *const libc::c_void, text.len() - written) };
        if count < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        if count <= 0 {
            return exit_code::REPLY_FAILED;
        }
        written += count as usize;
    }
    0
}

/// The run's namespace as the driver holds it: the spinner, `init`, and `init`'s control socket.
pub struct Namespace {
    /// The spinner's pid (outside the namespace), when the run has one.
    pub spinner: Option<i32>,
    /// `init`'s pid in the driver's namespace (1 inside).
    pub init: i32,
    pub init_channel: OwnedFd,
    buffer: Vec<u8>,
}

impl Namespace {
    /// Starts the spinner, makes the namespaces (with a private `/dev/shm` and a private run directory),
    /// and starts `init` in them.
    fn create(host: &Host, run_dir: &std::path::Path, with_spinner: bool) -> Result<Namespace, String> {
        let spinner = if with_spinner { Some(spawn_spinner()?) } else { None };
        let made = (|| {
            if let Some(spinner) = spinner {
                // Affinity first: a real-time spinner on the driver's CPU would starve the driver.
                host::set_affinity(spinner, &[host.info.scenario_cpu])?;
                host::set_fifo(spinner, SPINNER_PRIORITY)?;
            }
            nix::sched::unshare(
                nix::sched::CloneFlags::CLONE_NEWPID
                    | nix::sched::CloneFlags::CLONE_NEWIPC
                    | nix::sched::CloneFlags::CLONE_NEWNS
                    | nix::sched::CloneFlags::CLONE_NEWNET,
            )
            .map_err(|errno| format!("cannot make the run's PID namespace: unshare: {errno}"))?;
            loopback_up()?;
            private_dev_shm()?;
            private_run_dir(run_dir, host.info.root.then_some(host.info.scenario_uid))?;
            spawn_init(host.info.root.then_some(host.info.scenario_uid))
        })();
        match made {
            Ok((init, init_channel)) => Ok(Namespace { spinner, init, init_channel, buffer: Vec::new() }),
            Err(message) => {
                kill_and_reap(&spinner.into_iter().collect::<Vec<_>>(), WAIT_LIMIT);
                Err(message)
            }
        }
    }

    /// Sends `init` a command and waits (a bounded time) for its answer.
    pub fn ask_init(&mut self, command: &Command) -> Result<Received, String> {
        let fd = self.init_channel.as_raw_fd();
        protocol::send_command(fd, command).map_err(|error| format!("init does not take commands: {error}"))?;
        let mut pollfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut pollfd, 1, 10) } > 0 {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("init did not answer {command:?} within {} s", WAIT_LIMIT.as_secs()));
            }
        }
        protocol::recv_message(fd, &mut self.buffer)?.ok_or_else(|| "init ended".to_string())
    }

    /// Kills the spinner and `init` (which takes every process of the namespace with it) and reaps both.
    fn teardown(self) -> Result<(), String> {
        drop(self.init_channel);
        let pids: Vec<i32> = self.spinner.into_iter().chain([self.init]).collect();
        if kill_and_reap(&pids, TEARDOWN_LIMIT) {
            Ok(())
        } else {
            Err(format!("the run's processes did not end within {} s of SIGKILL", TEARDOWN_LIMIT.as_secs()))
        }
    }
}

/// `SIGKILL` to each of `pids` (children of this process), then reaps them; false if one is still there
/// after `limit`. `init` ends only once every other process of its namespace has ended.
fn kill_and_reap(pids: &[i32], limit: Duration) -> bool {
    for pid in pids {
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    let deadline = Instant::now() + limit;
    let mut left: Vec<i32> = pids.to_vec();
    while !left.is_empty() {
        left.retain(|pid| {
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid pointer.
            unsafe { libc::waitpid(*pid, &mut status, libc::WNOHANG) == 0 }
        });
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Gives the run a `/dev/shm` of its own (where glibc keeps named semaphores), in the mount namespace
/// the driver just entered: mount events are made private first, so the new tmpfs is seen by the run's
/// processes only, and it goes away with the namespace, when the run's last process does, however
/// the run ends. (POSIX message queues need nothing more: each IPC namespace has its own.)
fn private_dev_shm() -> Result<(), String> {
    let fail =
        |what: &str| format!("cannot give the run a /dev/shm of its own: {what}: {}", std::io::Error::last_os_error());
    // SAFETY: mount with NUL-terminated strings; this process is alone in its new mount namespace.
    unsafe {
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(fail("making mounts private"));
        }
        let options = c"mode=1777,size=16m";
        if libc::mount(
            c"tmpfs".as_ptr(),
            c"/dev/shm".as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            options.as_ptr() as *const libc::c_void,
        ) != 0
        {
            return Err(fail("mounting a tmpfs on /dev/shm"));
        }
        // The run's POSIX message queues, listed as files, for the objects a run leaves behind
        // (`mqueue_get_tree` shows the queues of the mounting process's IPC namespace, the run's).
        // Only the driver (root) may look: scenario processes neither see nor use it.
        let queues = super::leftovers::MQUEUE_DIR;
        if libc::mkdir(queues.as_ptr(), 0o700) != 0 {
            return Err(fail("making the directory for the run's POSIX queues"));
        }
        if libc::mount(c"mqueue".as_ptr(), queues.as_ptr(), c"mqueue".as_ptr(), 0, std::ptr::null()) != 0 {
            return Err(fail("mounting the run's POSIX message queues"));
        }
    }
    Ok(())
}

/// Gives the run a directory in memory: a tmpfs mounted over the run directory in the run's mount
/// namespace, made the working directory of the driver and so of every scenario process. The FIFOs and
/// files a scenario names, and the cores its processes dump, live there and go with the namespace.
///
/// Why not the host's disk: the run's processes are pinned to the scenario CPU, which the spinner keeps
/// busy at real-time priority, and a file system on a block device may wait there for work that only
/// an ordinary-priority kernel thread on that CPU can do. Seen on this project's machine: a process
/// dumping core unlinks the previous `core` first (`vfs_coredump` -> `do_unlinkat`), ext4 frees its
/// blocks with a discard and waits for the block I/O (`blkdev_issue_discard` -> `submit_bio_wait`),
/// and the completion ran only when real-time throttling gave the CPU away: about 1 s each time, up to
/// 4.7 s, more than a step may take. A tmpfs does no block I/O.
fn private_run_dir(run_dir: &std::path::Path, owner_uid: Option<u32>) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let fail = |what: &str| {
        format!("cannot give the run a directory of its own in memory: {what}: {}", std::io::Error::last_os_error())
    };
    let target = std::ffi::CString::new(run_dir.as_os_str().as_bytes()).map_err(|error| error.to_string())?;
    // Owned as the run directory is (by the unprivileged scenario user when the runner is root), private
    // to it, and big enough for the cores a scenario may dump.
    let owner = owner_uid.map(|uid| format!(",uid={uid},gid={uid}")).unwrap_or_default();
    let options = std::ffi::CString::new(format!("mode=0700,size=256m{owner}")).expect("no NUL in the options");
    // SAFETY: mount and chdir with NUL-terminated strings; mounts were made private in this namespace.
    unsafe {
        if libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            options.as_ptr() as *const libc::c_void,
        ) != 0
        {
            return Err(fail(&format!("mounting a tmpfs on {}", run_dir.display())));
        }
        // The working directory of every scenario process, where a core it dumps is written (the host's
        // core_pattern is a file name, see `host::probe`).
        if libc::chdir(target.as_ptr()) != 0 {
            return Err(fail(&format!("entering {}", run_dir.display())));
        }
    }
    Ok(())
}

/// Starts the spinner: busy forever (the driver gives it the scenario CPU and its priority), ending with
/// the driver.
fn spawn_spinner() -> Result<i32, String> {
    let driver = std::process::id() as i32;
    // SAFETY: fork in a single-threaded process; the child only spins.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        real::run_forked(|| {
            // SAFETY: set-up system calls in the new child.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                if libc::getppid() != driver {
                    return exit_code::DRIVER_GONE;
                }
                real::reset_signals();
                for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                    libc::signal(signal, libc::SIG_IGN);
                }
                libc::close_range(0, u32::MAX, 0);
            }
            loop {
                std::hint::spin_loop();
            }
        });
    }
    Ok(pid)
}

/// Starts `init` (pid 1 of the namespace this process just made) and returns its pid here and the
/// driver's end of its control socket.
fn spawn_init(drop_to_uid: Option<u32>) -> Result<(i32, OwnedFd), String> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let (driver_end, init_end) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|error| format!("socketpair: {error}"))?;
    // SAFETY: fork in a single-threaded process; the child serves init's commands until it ends.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("cannot start the run's init: fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        drop(driver_end);
        real::run_forked(|| real::init::serve(init_end.as_raw_fd(), drop_to_uid));
    }
    drop(init_end);
    Ok((pid, driver_end))
}

/// Brings up the loopback device of the run's fresh network namespace, which starts down (`lo` is the
/// only device there, and nothing reaches 127.0.0.1 until it is up): `SIOCGIFFLAGS`, then
/// `SIOCSIFFLAGS` with `IFF_UP` added. The namespace also keeps the run's abstract socket names apart
/// from the host's.
fn loopback_up() -> Result<(), String> {
    // SAFETY: socket with constant arguments; the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(format!("cannot bring up the run's loopback device: socket: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: an all-zero `ifreq` is valid; the name fits with its NUL.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (at, byte) in b"lo".iter().enumerate() {
        request.ifr_name[at] = *byte as libc::c_char;
    }
    // SAFETY: ioctls on our own socket with a valid `ifreq`; the flags are the union's member that
    // SIOCGIFFLAGS fills and SIOCSIFFLAGS reads.
    let result = unsafe {
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request) != 0 {
            -1
        } else {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(fd, libc::SIOCSIFFLAGS, &request)
        }
    };
    let error = std::io::Error::last_os_error();
    // SAFETY: our own descriptor.
    unsafe { libc::close(fd) };
    if result != 0 {
        return Err(format!("cannot bring up the run's loopback device (lo): {error}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Whether `lo` has `IFF_UP` in the caller's network namespace.
    fn loopback_is_up() -> Result<bool, String> {
        // SAFETY: as in `loopback_up`: a socket of our own and a valid `ifreq`.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
            let mut request: libc::ifreq = std::mem::zeroed();
            request.ifr_name[0] = b'l' as libc::c_char;
            request.ifr_name[1] = b'o' as libc::c_char;
            let result = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request);
            libc::close(fd);
            if result != 0 {
                return Err(format!("SIOCGIFFLAGS: {}", std::io::Error::last_os_error()));
            }
            Ok(request.ifr_ifru.ifru_flags & libc::IFF_UP as libc::c_short != 0)
        }
    }

    #[test]
    fn a_run_has_a_network_namespace_of_its_own_with_its_loopback_up() {
        let _forks = super::host::FORKS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let host = super::host::probe().expect("this host can run checks");
        let dir = super::host::RunDir::create(None).expect("a run directory");
        let namespace_of = || {
            std::fs::read_link("/proc/self/ns/net")
                .map(|link| link.to_string_lossy().to_string())
                .map_err(|error| error.to_string())
        };
        let outside = namespace_of().expect("readable");
        let (inside, up) =
            super::run_driver(&host, &dir.path, false, |_| Ok((namespace_of()?, loopback_is_up()?))).expect("a run");
        assert_ne!(inside, outside, "the run's network namespace is not the host's");
        assert!(up, "lo is up in {inside}");
    }
}
