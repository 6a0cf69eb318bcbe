//! The janitor: a small process, forked before the benchmark creates anything, that removes whatever the
//! benchmark leaves behind when it dies before removing it itself (Ctrl-C, `kill`, even `SIGKILL`).
//!
//! The benchmark tells it, over a pipe, each object it creates (`+ KIND VALUE`) and each it has removed
//! (`- KIND VALUE`). The janitor ignores the terminal's signals and waits for the end of that pipe, which
//! comes when the benchmark exits however it exits. Then it kills the benchmark's servers that still run,
//! removes the System V objects, POSIX message queues and files still listed, and exits. A run that ends
//! normally has removed everything already, and the janitor has nothing to do.
//!
//! With `IPCLAB_BENCH_LEDGER=FILE` in the environment the benchmark also appends every line it sends to
//! the janitor, and the janitor's pid, to FILE: the tests read it to check that nothing was left.

use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Something the benchmark created that must not outlive it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// A System V message queue (its id).
    Msg(i32),
    /// A System V semaphore set.
    Sem(i32),
    /// A System V shared memory segment.
    Shm(i32),
    /// A POSIX message queue, by name.
    Mq(String),
    /// A file: a FIFO or a socket's path.
    Path(PathBuf),
    /// A directory the benchmark made for its files.
    Dir(PathBuf),
    /// A process the benchmark forked.
    Pid(i32),
}

impl Object {
    fn line(&self) -> String {
        match self {
            Object::Msg(id) => format!("msg {id}"),
            Object::Sem(id) => format!("sem {id}"),
            Object::Shm(id) => format!("shm {id}"),
            Object::Mq(name) => format!("mq {name}"),
            Object::Path(path) => format!("path {}", path.display()),
            Object::Dir(path) => format!("dir {}", path.display()),
            Object::Pid(pid) => format!("pid {pid}"),
        }
    }

    fn parse(text: &str) -> Option<Object> {
        let (kind, value) = text.split_once(' ')?;
        Some(match kind {
            "msg" => Object::Msg(value.parse().ok()?),
            "sem" => Object::Sem(value.parse().ok()?),
            "shm" => Object::Shm(value.parse().ok()?),
            "mq" => Object::Mq(value.to_string()),
            "path" => Object::Path(PathBuf::from(value)),
            "dir" => Object::Dir(PathBuf::from(value)),
            "pid" => Object::Pid(value.parse().ok()?),
            _ => return None,
        })
    }

    /// Removes the object now. Returns whether there was something to remove.
    pub fn remove(&self) -> bool {
        // SAFETY: each call passes an id, a NUL-terminated name or a pid; none touches this process's memory
        // beyond the string it is given.
        unsafe {
            match self {
                Object::Msg(id) => libc::msgctl(*id, libc::IPC_RMID, std::ptr::null_mut()) == 0,
                Object::Sem(id) => libc::semctl(*id, 0, libc::IPC_RMID) == 0,
                Object::Shm(id) => libc::shmctl(*id, libc::IPC_RMID, std::ptr::null_mut()) == 0,
                Object::Mq(name) => CString::new(name.as_str()).is_ok_and(|name| libc::mq_unlink(name.as_ptr()) == 0),
                Object::Path(path) => std::fs::remove_file(path).is_ok(),
                Object::Dir(path) => std::fs::remove_dir_all(path).is_ok(),
                Object::Pid(pid) => {
                    let killed = libc::kill(*pid, libc::SIGKILL) == 0;
                    // Reap it if it is ours (the janitor is not its parent, so this is the benchmark's own
                    // removal; the janitor only kills).
                    libc::waitpid(*pid, std::ptr::null_mut(), libc::WNOHANG);
                    killed
                }
            }
        }
    }

    /// The same object as a short phrase for a person.
    fn kind_word(&self) -> &'static str {
        match self {
            Object::Msg(_) => "System V message queue",
            Object::Sem(_) => "System V semaphore set",
            Object::Shm(_) => "System V shared memory segment",
            Object::Mq(_) => "POSIX message queue",
            Object::Path(_) => "file",
            Object::Dir(_) => "directory",
            Object::Pid(_) => "process",
        }
    }
}

pub struct Janitor {
    /// `None` only in unit tests, which create objects in-process and remove them themselves.
    pipe: Option<std::fs::File>,
    pid: i32,
    ledger: Option<std::fs::File>,
}

impl Janitor {
    /// Forks the janitor. Call before creating anything.
    pub fn start() -> Result<Janitor, String> {
        let (read_end, write_end) = nix::unistd::pipe().map_err(|error| format!("pipe: {error}"))?;
        let mut ledger = match std::env::var_os("IPCLAB_BENCH_LEDGER") {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|error| format!("cannot open the ledger {}: {error}", Path::new(&path).display()))?,
            ),
            None => None,
        };
        // SAFETY: the benchmark is single-threaded; the child only reads its pipe and removes objects.
        match unsafe { nix::unistd::fork() }.map_err(|error| format!("fork: {error}"))? {
            nix::unistd::ForkResult::Child => {
                drop(write_end);
                let status = janitor_main(read_end);
                // SAFETY: _exit skips the parent's buffers and atexit handlers.
                unsafe { libc::_exit(status) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                drop(read_end);
                if let Some(ledger) = &mut ledger {
                    let _ = writeln!(ledger, "janitor {child}");
                }
                Ok(Janitor { pipe: Some(std::fs::File::from(write_end)), pid: child.as_raw(), ledger })
            }
        }
    }

    /// The write end of the janitor's pipe, which forked servers close.
    pub fn fd(&self) -> RawFd {
        self.pipe.as_ref().map_or(-1, |pipe| pipe.as_raw_fd())
    }

    /// No janitor at all, for unit tests.
    #[cfg(test)]
    pub fn none() -> Janitor {
        Janitor { pipe: None, pid: 0, ledger: None }
    }

    fn say(&mut self, line: &str) {
        // A janitor that died (killed on purpose) cannot be told; the benchmark removes its objects itself
        // all the same.
        if let Some(pipe) = &mut self.pipe {
            let _ = pipe.write_all(format!("{line}\n").as_bytes());
        }
        if let Some(ledger) = &mut self.ledger {
            let _ = writeln!(ledger, "{line}");
        }
    }

    /// The benchmark made `object`: the janitor removes it if the benchmark dies first.
    pub fn keep(&mut self, object: &Object) {
        self.say(&format!("+ {}", object.line()));
    }

    /// The benchmark removed `object` itself.
    pub fn forget(&mut self, object: &Object) {
        self.say(&format!("- {}", object.line()));
    }

    /// Removes `object` and tells the janitor.
    pub fn remove(&mut self, object: &Object) {
        object.remove();
        self.forget(object);
    }

    /// Ends the janitor: it finds nothing left to remove (unless something was), and exits.
    pub fn finish(self) {
        if let Some(pipe) = self.pipe {
            drop(pipe);
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(self.pid), None);
        }
    }
}

fn janitor_main(read_end: OwnedFd) -> i32 {
    // The terminal's Ctrl-C reaches the whole process group: the janitor must outlive the benchmark to
    // clean up after it, so it ignores those signals and ends at the end of its pipe.
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE] {
        // SAFETY: setting a signal to be ignored.
        unsafe { libc::signal(signal, libc::SIG_IGN) };
    }
    let mut live: Vec<Object> = Vec::new();
    let reader = BufReader::new(std::fs::File::from(read_end));
    for line in reader.split(b'\n') {
        let Ok(line) = line else { break };
        let Ok(line) = std::str::from_utf8(&line) else { continue };
        if let Some(rest) = line.strip_prefix("+ ") {
            if let Some(object) = Object::parse(rest) {
                live.push(object);
            }
        } else if let Some(rest) = line.strip_prefix("- ") {
            if let Some(object) = Object::parse(rest) {
                if let Some(at) = live.iter().rposition(|kept| *kept == object) {
                    live.remove(at);
                }
            }
        }
    }
    if live.is_empty() {
        return 0;
    }
    // Processes first (so nothing uses what is removed next), then objects, then files, then directories.
    live.sort_by_key(|object| match object {
        Object::Pid(_) => 0,
        Object::Msg(_) | Object::Sem(_) | Object::Shm(_) | Object::Mq(_) => 1,
        Object::Path(_) => 2,
        Object::Dir(_) => 3,
    });
    let mut removed = Vec::new();
    for object in &live {
        if object.remove() {
            removed.push(format!("{} {}", object.kind_word(), describe(object)));
        }
    }
    if !removed.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "ipclab bench real: the run ended early; removed what it left: {}",
            removed.join(", ")
        );
    }
    0
}

fn describe(object: &Object) -> String {
    match object {
        Object::Msg(id) | Object::Sem(id) | Object::Shm(id) => format!("id {id}"),
        Object::Mq(name) => name.clone(),
        Object::Path(path) | Object::Dir(path) => String::from_utf8_lossy(path.as_os_str().as_bytes()).into_owned(),
        Object::Pid(pid) => format!("pid {pid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_object_reads_back_from_its_line() {
        let objects = [
            Object::Msg(7),
            Object::Sem(0),
            Object::Shm(123456),
            Object::Mq("/ipclab-bench-1-req".into()),
            Object::Path(PathBuf::from("/tmp/ipclab bench/a fifo")),
            Object::Dir(PathBuf::from("/tmp/x")),
            Object::Pid(42),
        ];
        for object in objects {
            assert_eq!(Object::parse(&object.line()), Some(object.clone()), "{object:?}");
        }
        assert_eq!(Object::parse("msg seven"), None);
        assert_eq!(Object::parse("socket 3"), None);
    }
}
