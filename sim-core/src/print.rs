//! The canonical printer: syntax tree back to scenario text.
//!
//! The output is the one way of writing a scenario that `ipclab fmt` produces: title, description
//! and top-level `expect` first, then each process after a blank line; two spaces of indentation per
//! block; one statement per line; numbers without `_`; strings re-escaped. Comments are not part of
//! the tree, so they are not kept. For every valid scenario `s`, `parse(&print(&s)) == Ok(s)`.

use crate::ast::*;

/// Prints a scenario in canonical form.
pub fn print(scenario: &Scenario) -> String {
    let mut out = String::new();
    let mut header = false;
    if let Some(title) = &scenario.title {
        out.push_str("title ");
        out.push_str(&quote(title.as_bytes()));
        out.push('\n');
        header = true;
    }
    if let Some(description) = &scenario.description {
        out.push_str("description ");
        out.push_str(&quote(description.as_bytes()));
        out.push('\n');
        header = true;
    }
    if let Some(end) = &scenario.expected_end {
        out.push_str("expect ");
        out.push_str(run_end(end.value));
        out.push('\n');
        header = true;
    }
    for (index, process) in scenario.processes.iter().enumerate() {
        if header || index > 0 {
            out.push('\n');
        }
        out.push_str("process ");
        out.push_str(&process.name);
        if let Some(expect) = &process.expect {
            out.push_str(" expect ");
            out.push_str(&outcome(&expect.value));
        }
        out.push_str(" {\n");
        body(&mut out, &process.body, 1);
        out.push_str("}\n");
    }
    out
}

fn body(out: &mut String, stmts: &[Stmt], depth: usize) {
    for stmt in stmts {
        indent(out, depth);
        match stmt {
            Stmt::Call(call) => {
                out.push_str(&call_text(&call.call));
                if let Some(expect) = &call.expect {
                    out.push_str(" -> ");
                    out.push_str(&expect_text(&expect.value));
                }
                out.push('\n');
            }
            Stmt::Fork(fork) => {
                out.push_str("fork ");
                out.push_str(&fork.name);
                if let Some(expect) = &fork.expect {
                    out.push_str(" expect ");
                    out.push_str(&outcome(&expect.value));
                }
                out.push_str(" {\n");
                body(out, &fork.body, depth + 1);
                indent(out, depth);
                out.push_str("}\n");
            }
            Stmt::Repeat(repeat) => {
                out.push_str(&format!("repeat {} {{\n", repeat.count));
                body(out, &repeat.body, depth + 1);
                indent(out, depth);
                out.push_str("}\n");
            }
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn run_end(end: RunEnd) -> &'static str {
    match end {
        RunEnd::AllExited => "all-exited",
        RunEnd::Deadlock => "deadlock",
        RunEnd::StepLimit => "step-limit",
    }
}

fn outcome(outcome: &ProcessOutcome) -> String {
    match outcome {
        ProcessOutcome::Exited(code) => format!("exited {}", code),
        ProcessOutcome::Killed { signal, core } => killed(*signal, *core),
        ProcessOutcome::Running => "running".to_string(),
    }
}

fn killed(signal: Signal, core: bool) -> String {
    if core {
        format!("killed {} core", signal.name())
    } else {
        format!("killed {}", signal.name())
    }
}

fn fd(fd: &FdRef) -> String {
    match fd {
        FdRef::Name(name) => name.clone(),
        FdRef::Number(number) => number.to_string(),
    }
}

fn proc_ref(target: &ProcRef) -> String {
    match target {
        ProcRef::Name(name) => name.clone(),
        ProcRef::SelfProc => "self".to_string(),
        ProcRef::AnyChild => "-1".to_string(),
    }
}

/// `A|B|C`, or `0` when no flag is set.
fn flag_list(flags: &[(&str, bool)]) -> String {
    let set: Vec<&str> = flags.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect();
    if set.is_empty() {
        "0".to_string()
    } else {
        set.join("|")
    }
}

/// The text of a call, without its `-> RESULT`.
pub fn call_text(call: &Call) -> String {
    match call {
        Call::Pipe { name } => format!("{} = pipe", name),
        Call::Pipe2 { name, flags } => {
            format!("{} = pipe2 {}", name, flag_list(&[("O_NONBLOCK", flags.nonblock), ("O_CLOEXEC", flags.cloexec)]))
        }
        Call::Open { name, path, flags } => {
            let access = match flags.access {
                Access::ReadOnly => "O_RDONLY",
                Access::WriteOnly => "O_WRONLY",
                Access::ReadWrite => "O_RDWR",
            };
            format!(
                "{} = open {} {}",
                name,
                quote(path.as_bytes()),
                flag_list(&[(access, true), ("O_NONBLOCK", flags.nonblock), ("O_CLOEXEC", flags.cloexec)])
            )
        }
        Call::Dup { name, fd: old } => format!("{} = dup {}", name, fd(old)),
        Call::Dup2 { old, new } => format!("dup2 {} {}", fd(old), fd(new)),
        Call::Close { fd: target } => format!("close {}", fd(target)),
        Call::Write { fd: target, payload } => match payload {
            Payload::Bytes(bytes) => format!("write {} {}", fd(target), quote(bytes)),
            Payload::Fill { len, pattern } if pattern.as_slice() == b"x" => {
                format!("write {} {} bytes", fd(target), len)
            }
            Payload::Fill { len, pattern } => {
                format!("write {} {} bytes of {}", fd(target), len, quote(pattern))
            }
        },
        Call::Read { fd: source, count } => format!("read {} {}", fd(source), count),
        Call::Mkfifo { path } => format!("mkfifo {}", quote(path.as_bytes())),
        Call::Unlink { path } => format!("unlink {}", quote(path.as_bytes())),
        Call::Fcntl { fd: target, cmd } => match cmd {
            FcntlCmd::GetPipeSize => format!("fcntl {} F_GETPIPE_SZ", fd(target)),
            FcntlCmd::SetPipeSize(size) => format!("fcntl {} F_SETPIPE_SZ {}", fd(target), size),
            FcntlCmd::GetFlags => format!("fcntl {} F_GETFL", fd(target)),
            FcntlCmd::SetFlags { nonblock } => {
                format!("fcntl {} F_SETFL {}", fd(target), flag_list(&[("O_NONBLOCK", *nonblock)]))
            }
        },
        Call::Kill { target, signal } => format!("kill {} {}", proc_ref(target), signal.name()),
        Call::SignalDisposition { signal, disposition } => {
            let disposition = match disposition {
                Disposition::Default => "SIG_DFL",
                Disposition::Ignore => "SIG_IGN",
            };
            format!("signal {} {}", signal.name(), disposition)
        }
        Call::Wait => "wait".to_string(),
        Call::Waitpid { target, options } => {
            let flags =
                [("WNOHANG", options.nohang), ("WUNTRACED", options.untraced), ("WCONTINUED", options.continued)];
            if flags.iter().any(|(_, on)| *on) {
                format!("waitpid {} {}", proc_ref(target), flag_list(&flags))
            } else {
                format!("waitpid {}", proc_ref(target))
            }
        }
        Call::Pause => "pause".to_string(),
        Call::SchedYield => "sched_yield".to_string(),
        Call::Exit { code } => format!("exit {}", code),
    }
}

/// The text of an expectation, as written after `->`.
pub fn expect_text(expect: &Expect) -> String {
    match expect {
        Expect::Value(value) => value.to_string(),
        Expect::Data(bytes) => quote(bytes),
        Expect::ByteCount(count) => format!("{} bytes", count),
        Expect::Error(errno) => errno.name().to_string(),
        Expect::Child { name, status } => {
            let status = match status {
                ChildStatus::Exited(code) => format!("exited {}", code),
                ChildStatus::Killed { signal, core } => killed(*signal, *core),
                ChildStatus::Stopped(signal) => format!("stopped {}", signal.name()),
                ChildStatus::Continued => "continued".to_string(),
            };
            format!("{} {}", name, status)
        }
        Expect::NoChild => "none".to_string(),
    }
}

/// A double-quoted string literal whose decoding gives back exactly `bytes`.
///
/// Printable ASCII stays as it is, and so do non-ASCII characters of valid UTF-8 (except control and
/// invisible formatting characters); `\n \t \r \0 \\ \"` use their short escapes; every other byte
/// is written `\xHH`.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\0' => out.push_str("\\0"),
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                ' '..='~' => out.push(c),
                c if !c.is_ascii() && !c.is_control() && !is_invisible(c) => out.push(c),
                c => {
                    let mut buffer = [0u8; 4];
                    for byte in c.encode_utf8(&mut buffer).bytes() {
                        out.push_str(&format!("\\x{:02x}", byte));
                    }
                }
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{:02x}", byte));
        }
    }
    out.push('"');
    out
}

/// Characters that would hide or reorder text if printed as they are.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    const MESSY: &str = r#"# A comment that the printer drops.
expect   deadlock
title "Two  readers"     # trailing comment

process parent expect exited 0 { p=pipe
      fork reader expect killed SIGPIPE core {
  read p.r 1_000 -> 10 bytes
        repeat 2 { sched_yield }
      } close p.r
  write p.w 70_000 bytes of "ab" -> 70_000
  write p.w 3 bytes of "x"
  f = open "fifo" O_NONBLOCK|O_WRONLY|O_CLOEXEC -> ENXIO
  q = pipe2 O_CLOEXEC | O_NONBLOCK
  z = pipe2 0
  fcntl q.r F_SETFL 0
  waitpid reader 0 -> reader continued
  waitpid -1 WNOHANG|WUNTRACED -> none
}
process other{
}
"#;

    const CANONICAL: &str = r#"title "Two  readers"
expect deadlock

process parent expect exited 0 {
  p = pipe
  fork reader expect killed SIGPIPE core {
    read p.r 1000 -> 10 bytes
    repeat 2 {
      sched_yield
    }
  }
  close p.r
  write p.w 70000 bytes of "ab" -> 70000
  write p.w 3 bytes
  f = open "fifo" O_WRONLY|O_NONBLOCK|O_CLOEXEC -> ENXIO
  q = pipe2 O_NONBLOCK|O_CLOEXEC
  z = pipe2 0
  fcntl q.r F_SETFL 0
  waitpid reader -> reader continued
  waitpid -1 WNOHANG|WUNTRACED -> none
}

process other {
}
"#;

    #[test]
    fn prints_canonical_form() {
        let scenario = parse(MESSY).unwrap();
        assert_eq!(print(&scenario), CANONICAL);
        assert_eq!(parse(CANONICAL).unwrap(), scenario);
        assert_eq!(print(&parse(CANONICAL).unwrap()), CANONICAL);
    }

    #[test]
    fn no_header_means_no_leading_blank_line() {
        let scenario = parse("process a {\n  exit 1\n}\nprocess b {\n}\n").unwrap();
        assert_eq!(print(&scenario), "process a {\n  exit 1\n}\n\nprocess b {\n}\n");
    }

    #[test]
    fn every_call_and_result_round_trips() {
        let text = r#"description "All the forms"

process main {
  p = pipe
  q = pipe2 O_NONBLOCK
  f = open "dir/fifo" O_RDONLY
  g = open "fifo" O_RDWR|O_NONBLOCK
  d = dup p.r
  dup2 f 0
  dup2 stdout stderr
  close 3 -> EBADF
  write p.w "a\tb\n" -> 4
  write p.w 65536 bytes
  read p.r 10 -> "a\tb\n"
  read p.r 10 -> 0
  read p.r 10 -> -1
  mkfifo "fifo" -> EEXIST
  unlink "fifo"
  fcntl p.w F_GETPIPE_SZ -> 65536
  fcntl p.w F_SETPIPE_SZ 4096
  fcntl q.r F_GETFL -> 2048
  fcntl q.r F_SETFL O_NONBLOCK
  kill self SIGSTOP
  kill kid SIGKILL -> 0
  signal SIGPIPE SIG_IGN
  signal SIGPIPE SIG_DFL
  fork kid expect running {
    pause
  }
  wait -> kid killed SIGKILL
  wait -> kid killed SIGABRT core
  waitpid kid WUNTRACED -> kid stopped SIGTSTP
  waitpid kid WCONTINUED -> kid continued
  wait -> ECHILD
  sched_yield
  exit 7
}
"#;
        let scenario = parse(text).unwrap();
        assert_eq!(print(&scenario), text);
    }

    #[test]
    fn quotes_bytes_so_they_decode_back() {
        assert_eq!(quote(b"hello"), "\"hello\"");
        assert_eq!(quote(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote(b"\n\t\r\0"), "\"\\n\\t\\r\\0\"");
        assert_eq!(quote(b"\x01\x7f\xff"), "\"\\x01\\x7f\\xff\"");
        assert_eq!(quote("héllo".as_bytes()), "\"héllo\"");
        assert_eq!(quote("\u{202e}".as_bytes()), "\"\\xe2\\x80\\xae\"");
        assert_eq!(quote("\u{85}".as_bytes()), "\"\\xc2\\x85\"");
        // Half of a UTF-8 sequence is escaped byte by byte.
        assert_eq!(quote(&[0xc3]), "\"\\xc3\"");

        let all: Vec<u8> = (0..=255).collect();
        let text = format!("process a {{\n  p = pipe\n  write p.w {}\n}}\n", quote(&all));
        let scenario = parse(&text).unwrap();
        let Stmt::Call(CallStmt { call: Call::Write { payload: Payload::Bytes(bytes), .. }, .. }) =
            &scenario.processes[0].body[1]
        else {
            panic!()
        };
        assert_eq!(bytes, &all);
    }

    #[test]
    fn titles_keep_unicode() {
        let scenario = parse("title \"Tubes nommés — ½\"\nprocess a {\n}\n").unwrap();
        assert_eq!(print(&scenario), "title \"Tubes nommés — ½\"\n\nprocess a {\n}\n");
    }
}
