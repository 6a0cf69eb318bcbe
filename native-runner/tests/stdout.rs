//! Standard output that fails, for every command that prints (`sim`, `fmt`, `parse`, `check`, `bench`):
//! a reader that goes away ends the output quietly, with the exit status the command would have had;
//! a full disk is a one-line error with exit status 74. A closed standard error (progress and messages)
//! loses those and nothing else. Never a panic (exit status 101).
//!
//! `check` starts real processes with real-time priorities, so this file expects what CI gives it:
//! root, and at least two CPUs.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn ipclab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipclab"))
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("scenarios").join(name)
}

/// Every printing command, on a small scenario, with the exit status it has when its output is read.
fn printing_commands() -> Vec<(Vec<String>, i32)> {
    let file = scenario("pipe-parent-child.ipc").display().to_string();
    let args = |list: &[&str]| list.iter().map(|arg| arg.to_string()).collect::<Vec<String>>();
    vec![
        (args(&["sim", &file]), 0),
        (args(&["sim", &file, "--format", "json"]), 0),
        (args(&["fmt", &file]), 0),
        (args(&["parse", &file]), 0),
        (args(&["check", "--quiet", &file]), 0),
        (args(&["check", "--quiet", "--format", "json", &file]), 0),
        (args(&["bench", "--messages", "200", "--repeat", "1"]), 0),
    ]
}

/// A pipe whose reader is already gone: every write to it fails with `EPIPE`.
fn closed_pipe() -> Stdio {
    let (reader, writer) = nix::unistd::pipe().expect("a pipe");
    drop(reader);
    Stdio::from(writer)
}

fn assert_no_panic(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(101), "{what} panicked:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{what}:\n{stderr}");
}

#[test]
fn a_closed_standard_output_ends_the_output_quietly() {
    for (args, status) in printing_commands() {
        let what = args.join(" ");
        let output = ipclab().args(&args).stdout(closed_pipe()).stderr(Stdio::piped()).output().unwrap();
        assert_no_panic(&output, &what);
        assert_eq!(output.status.code(), Some(status), "{what}: {}", String::from_utf8_lossy(&output.stderr));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("standard output"), "{what} says nothing about the closed output:\n{stderr}");
    }
}

#[test]
fn sim_piped_into_head_stops_quietly_after_the_first_line() {
    // `ipclab sim FILE | head -1` on a trace far larger than a pipe holds.
    let dir = std::env::temp_dir().join(format!("ipclab-stdout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let long = dir.join("long.ipc");
    std::fs::write(&long, "process p expect exited 0 {\n  repeat 20000 {\n    sched_yield\n  }\n}\n").unwrap();
    let mut child = ipclab().arg("sim").arg(&long).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "the trace starts");
    // The reader is gone (dropped with the BufReader) while the trace is still being written.
    let output = child.wait_with_output().unwrap();
    assert_no_panic(&output, "sim | head -1");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stderr.is_empty(), "nothing on stderr: {}", String::from_utf8_lossy(&output.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_full_disk_is_a_one_line_error_with_status_74() {
    for (args, _) in printing_commands() {
        let what = args.join(" ");
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full exists on Linux");
        let output = ipclab().args(&args).stdout(full).stderr(Stdio::piped()).output().unwrap();
        assert_no_panic(&output, &what);
        assert_eq!(output.status.code(), Some(74), "{what}: {}", String::from_utf8_lossy(&output.stderr));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|line| line.contains("standard output")).collect();
        assert_eq!(
            errors,
            ["ipclab: cannot write to standard output: No space left on device (os error 28)"],
            "{what}:\n{stderr}"
        );
    }
}

#[test]
fn a_closed_standard_error_loses_the_messages_and_nothing_else() {
    // `ipclab check FILE 2>&1 | head -1`: progress and messages go to a reader that has gone away.
    for (args, status) in printing_commands() {
        let what = args.join(" ");
        let output = ipclab().args(&args).stdout(Stdio::piped()).stderr(closed_pipe()).output().unwrap();
        assert_eq!(output.status.code(), Some(status), "{what}");
        assert!(!output.stdout.is_empty(), "{what} still prints its output");
    }
    let file = scenario("pipe-parent-child.ipc");
    let output = ipclab().arg("check").arg(&file).stdout(Stdio::piped()).stderr(closed_pipe()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "check with its progress lines");
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 of 1 runs checked: 1 match"));
    let output = ipclab().args(["check", "/nonexistent/scenario.ipc"]).stderr(closed_pipe()).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "the status still says what happened");
}
