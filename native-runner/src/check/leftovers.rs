//! The IPC objects a run leaves behind, on both arms: the simulator's `Leftover` events at the end of
//! the run, and what the run's IPC namespace and `/dev/shm` hold on Linux once the last step is done
//! (`/proc/sysvipc/msg`, `/proc/sysvipc/sem` and `/proc/sysvipc/shm` as the driver, inside the run's IPC namespace, reads
//! them; the run's POSIX queues as files of an mqueue file system mounted for the run; named
//! semaphores as the files `sem.NAME` of the run's private `/dev/shm`, POSIX shared memory objects as
//! its other files).
//!
//! Each object is one line in words both arms can produce: a System V object by id, key and count (of
//! messages, semaphores, or a segment's bytes), a POSIX queue by name, a named semaphore by name and
//! value, a POSIX shared memory object by name and size.

use sim_core::lang::ast::Leftover;
use sim_core::lang::compile::Program;
use sim_core::trace::{EventKind, ObjectKind, Trace};
use std::ffi::CStr;

/// Where the run's POSIX message queues are listed (inside the run's own `/dev/shm`, a tmpfs of its
/// mount namespace; the name starts with a dot and no `sem.`, so it is never taken for a semaphore).
pub const MQUEUE_DIR: &CStr = c"/dev/shm/.ipclab-mqueue";

fn msg_line(id: i64, key: i64, messages: u64) -> String {
    format!("message queue {id} (key {key}) holding {messages} messages")
}

fn sem_line(id: i64, key: i64, semaphores: u64) -> String {
    format!("semaphore set {id} (key {key}) of {semaphores} semaphores")
}

fn shm_line(id: i64, key: i64, size: u64) -> String {
    format!("shared memory segment {id} (key {key}) of {size} bytes")
}

fn mqueue_line(name: &str) -> String {
    format!("POSIX message queue /{name}")
}

fn named_sem_line(name: &str, value: u64) -> String {
    format!("named semaphore /{name} of value {value}")
}

fn shm_object_line(name: &str, size: u64) -> String {
    format!("POSIX shared memory object /{name} of {size} bytes")
}

/// The kind of object a line of [`real`] or [`simulated`] names.
pub fn kind_of(line: &str) -> Leftover {
    if line.starts_with("message queue") {
        Leftover::MsgQueues
    } else if line.starts_with("semaphore set") {
        Leftover::SemSets
    } else if line.starts_with("shared memory segment") {
        Leftover::ShmSegments
    } else if line.starts_with("POSIX message queue") {
        Leftover::Mqueues
    } else if line.starts_with("POSIX shared memory object") {
        Leftover::ShmObjects
    } else {
        Leftover::NamedSems
    }
}

/// How many of `lines` are objects of `kind`.
pub fn count(lines: &[String], kind: Leftover) -> u64 {
    lines.iter().filter(|line| kind.counts(kind_of(line))).count() as u64
}

/// The simulator's side, sorted.
pub fn simulated(program: &Program, trace: &Trace) -> Vec<String> {
    let name = |label: i64| {
        let path = program.paths.get(label as usize).map_or("?", |path| &**path);
        path.trim_start_matches('/').to_string()
    };
    let mut lines: Vec<String> = trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Leftover { object, label, count } => Some(match object.kind {
                ObjectKind::MsgQueue => msg_line(object.id as i64, *label, *count),
                ObjectKind::SemSet => sem_line(object.id as i64, *label, *count),
                ObjectKind::ShmSegment => shm_line(object.id as i64, *label, *count),
                ObjectKind::Mqueue => mqueue_line(&name(*label)),
                ObjectKind::ShmObject => shm_object_line(&name(*label), *count),
                _ => named_sem_line(&name(*label), *count),
            }),
            _ => None,
        })
        .collect();
    lines.sort();
    lines
}

/// The rows of a `/proc/sysvipc` table as numbers, the header skipped: each row's first `columns`
/// fields.
fn sysvipc_rows(text: &str, columns: usize) -> Result<Vec<Vec<i64>>, String> {
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<i64> =
                line.split_whitespace().take(columns).map_while(|field| field.parse().ok()).collect();
            if fields.len() == columns {
                Ok(fields)
            } else {
                Err(format!("cannot read the line `{}` of /proc/sysvipc", line.trim()))
            }
        })
        .collect()
}

/// The System V lines of `/proc/sysvipc/msg` (`key msqid perms cbytes qnum ...`) and
/// `/proc/sysvipc/sem` (`key semid perms nsems ...`) and `/proc/sysvipc/shm` (`key shmid perms size ...`).
fn system_v(msg: &str, sem: &str, shm: &str) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for row in sysvipc_rows(msg, 5)? {
        lines.push(msg_line(row[1], row[0], row[4] as u64));
    }
    for row in sysvipc_rows(sem, 4)? {
        lines.push(sem_line(row[1], row[0], row[3] as u64));
    }
    for row in sysvipc_rows(shm, 4)? {
        lines.push(shm_line(row[1], row[0], row[3] as u64));
    }
    Ok(lines)
}

/// A named semaphore's value, from its file: glibc's `struct new_sem` on x86-64 starts with a 64-bit
/// word whose low 32 bits are the value (`SEM_VALUE_MASK`) and high 32 bits the count of waiters.
fn sem_value(file: &[u8]) -> Option<u64> {
    let word = u64::from_ne_bytes(file.get(..8)?.try_into().ok()?);
    Some(word & 0xffff_ffff)
}

/// Linux's side, sorted: read by the driver, inside the run's namespaces, after the last step.
pub fn real() -> Result<Vec<String>, String> {
    let read = |path: &str| std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"));
    let mut lines = system_v(&read("/proc/sysvipc/msg")?, &read("/proc/sysvipc/sem")?, &read("/proc/sysvipc/shm")?)?;
    let queues = MQUEUE_DIR.to_str().expect("an ASCII path");
    let entries = std::fs::read_dir(queues).map_err(|error| format!("cannot list {queues}: {error}"))?;
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot list {queues}: {error}"))?;
        lines.push(mqueue_line(&entry.file_name().to_string_lossy()));
    }
    let entries = std::fs::read_dir("/dev/shm").map_err(|error| format!("cannot list /dev/shm: {error}"))?;
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot list /dev/shm: {error}"))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = file_name.strip_prefix("sem.") else {
            // Any other file is a POSIX shared memory object (the queues' directory aside).
            if MQUEUE_DIR.to_bytes().ends_with(file_name.as_bytes()) && file_name.starts_with('.') {
                continue;
            }
            let size = entry.metadata().map_err(|error| format!("cannot stat /dev/shm/{file_name}: {error}"))?.len();
            lines.push(shm_object_line(&file_name, size));
            continue;
        };
        let bytes =
            std::fs::read(entry.path()).map_err(|error| format!("cannot read /dev/shm/{file_name}: {error}"))?;
        let value = sem_value(&bytes).ok_or_else(|| format!("/dev/shm/{file_name} is too short for a semaphore"))?;
        lines.push(named_sem_line(name, value));
    }
    lines.sort();
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sysvipc_tables_give_ids_keys_and_counts() {
        let msg = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n\
                   \x20       42          0   600          14          1     3     0 65534 65534 65534 65534 0 0 0\n";
        let sem = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n\
                   \x20        0      32768   600          3 65534 65534 65534 65534 0 0\n";
        let shm = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n\
                   \x20       99          0   600                  4096     2     3      0 65534 65534 65534 65534 0 0 0 0 0\n";
        assert_eq!(
            system_v(msg, sem, shm).unwrap(),
            [
                "message queue 0 (key 42) holding 1 messages",
                "semaphore set 32768 (key 0) of 3 semaphores",
                "shared memory segment 0 (key 99) of 4096 bytes"
            ]
        );
        assert!(system_v("header\nnot a row\n", "", "").is_err());
    }

    #[test]
    fn each_line_is_counted_as_its_kind() {
        let lines = [
            msg_line(0, 42, 1),
            sem_line(32768, 0, 3),
            shm_line(1, 99, 4096),
            mqueue_line("jobs"),
            named_sem_line("lock", 1),
            msg_line(1, 43, 0),
            shm_object_line("board", 8192),
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(count(&lines, Leftover::MsgQueues), 2);
        assert_eq!(count(&lines, Leftover::SemSets), 1);
        assert_eq!(count(&lines, Leftover::ShmSegments), 1);
        assert_eq!(count(&lines, Leftover::Mqueues), 1);
        assert_eq!(count(&lines, Leftover::NamedSems), 1);
        assert_eq!(count(&lines, Leftover::ShmObjects), 1);
        assert_eq!(count(&lines, Leftover::IpcObjects), 7);
    }

    #[test]
    fn a_semaphore_file_gives_its_value_and_not_its_waiters() {
        let mut file = ((1u64 << 32) | 2).to_ne_bytes().to_vec();
        file.extend_from_slice(&[0; 24]);
        assert_eq!(sem_value(&file), Some(2));
        assert_eq!(sem_value(&file[..4]), None);
    }
}
