//! Property tests of the parser and the canonical printer.
//!
//! 1. Printing any valid scenario and parsing the text gives the scenario back.
//! 2. No text makes the parser panic.
//! 3. For texts that parse, printing is a fixed point: parse(print(parse(t))) == parse(t).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sim_core::ast::*;
use sim_core::linux::ERRNOS;
use sim_core::{parse, print, Limits};
use std::cell::Cell;

const CASES: u32 = 256;

// --- valid scenarios ---------------------------------------------------------------------------
//
// Names come from small fixed sets, and a last process `binder` binds every descriptor name and
// forks every child name, so the name check always passes.

const PIPES: &[&str] = &["p", "q"];
const PLAIN_FDS: &[&str] = &["f", "d"];
const FD_NAMES: &[&str] = &["p.r", "p.w", "q.r", "q.w", "f", "d", "stdin", "stdout", "stderr"];
const CHILDREN: &[&str] = &["kid", "kid2"];
const PROCESSES: &[&str] = &["main", "binder", "kid", "kid2"];

fn span() -> Span {
    Span::default()
}

fn located<T>(value: T) -> Located<T> {
    Located { value, span: span() }
}

fn pick(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(names).prop_map(str::to_string)
}

fn fd_ref() -> impl Strategy<Value = FdRef> {
    prop_oneof![
        3 => pick(FD_NAMES).prop_map(FdRef::Name),
        1 => (0..2000i32).prop_map(FdRef::Number),
        1 => (0..=i32::MAX).prop_map(FdRef::Number),
    ]
}

fn proc_ref() -> impl Strategy<Value = ProcRef> {
    prop_oneof![3 => pick(PROCESSES).prop_map(ProcRef::Name), 1 => Just(ProcRef::SelfProc)]
}

fn signal() -> impl Strategy<Value = Signal> {
    (1u8..=31).prop_map(Signal)
}

fn errno() -> impl Strategy<Value = Errno> {
    prop::sample::select(ERRNOS).prop_map(|(number, _, _)| Errno(number))
}

/// Non-empty, no NUL, at most 255 bytes: any characters otherwise.
fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z/._-]{1,30}",
        "[^\u{0}]{1,20}",
        prop::collection::vec(Just('x'), Limits::DEFAULT.max_path_bytes as usize).prop_map(String::from_iter),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..max),
        "[ -~]{0,12}".prop_map(String::into_bytes),
        any::<String>().prop_map(String::into_bytes),
    ]
}

fn io_count() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..100_000, 0..=Limits::DEFAULT.max_io_bytes]
}

fn pipe_flags() -> impl Strategy<Value = OpenFlags> {
    (any::<bool>(), any::<bool>()).prop_map(|(nonblock, cloexec)| OpenFlags {
        access: Access::default(),
        nonblock,
        cloexec,
    })
}

fn open_flags() -> impl Strategy<Value = OpenFlags> {
    let access = prop_oneof![Just(Access::ReadOnly), Just(Access::WriteOnly), Just(Access::ReadWrite)];
    (access, any::<bool>(), any::<bool>()).prop_map(|(access, nonblock, cloexec)| OpenFlags {
        access,
        nonblock,
        cloexec,
    })
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        pick(PIPES).prop_map(|name| Call::Pipe { name }),
        (pick(PIPES), pipe_flags()).prop_map(|(name, flags)| Call::Pipe2 { name, flags }),
        (pick(PLAIN_FDS), path(), open_flags()).prop_map(|(name, path, flags)| Call::Open { name, path, flags }),
        (pick(PLAIN_FDS), fd_ref()).prop_map(|(name, fd)| Call::Dup { name, fd }),
        (fd_ref(), fd_ref()).prop_map(|(old, new)| Call::Dup2 { old, new }),
        fd_ref().prop_map(|fd| Call::Close { fd }),
        (fd_ref(), bytes(24)).prop_map(|(fd, bytes)| Call::Write { fd, payload: Payload::Bytes(bytes) }),
        (fd_ref(), io_count(), prop_oneof![Just(b"x".to_vec()), prop::collection::vec(any::<u8>(), 1..6)])
            .prop_map(|(fd, len, pattern)| Call::Write { fd, payload: Payload::Fill { len, pattern } }),
        (fd_ref(), io_count()).prop_map(|(fd, count)| Call::Read { fd, count }),
        path().prop_map(|path| Call::Mkfifo { path }),
        path().prop_map(|path| Call::Unlink { path }),
        (
            fd_ref(),
            prop_oneof![
                Just(FcntlCmd::GetPipeSize),
                any::<u32>().prop_map(FcntlCmd::SetPipeSize),
                Just(FcntlCmd::GetFlags),
                any::<bool>().prop_map(|nonblock| FcntlCmd::SetFlags { nonblock }),
            ]
        )
            .prop_map(|(fd, cmd)| Call::Fcntl { fd, cmd }),
        (proc_ref(), signal()).prop_map(|(target, signal)| Call::Kill { target, signal }),
        (signal(), prop_oneof![Just(Disposition::Default), Just(Disposition::Ignore)])
            .prop_map(|(signal, disposition)| Call::SignalDisposition { signal, disposition }),
        Just(Call::Wait),
        (prop_oneof![3 => proc_ref(), 1 => Just(ProcRef::AnyChild)], (any::<bool>(), any::<bool>(), any::<bool>()))
            .prop_map(|(target, (nohang, untraced, continued))| Call::Waitpid {
                target,
                options: WaitOptions { nohang, untraced, continued },
            }),
        Just(Call::Pause),
        Just(Call::SchedYield),
        any::<u8>().prop_map(|code| Call::Exit { code }),
    ]
}

fn child_status() -> impl Strategy<Value = ChildStatus> {
    prop_oneof![
        any::<u8>().prop_map(ChildStatus::Exited),
        (signal(), any::<bool>()).prop_map(|(signal, core)| ChildStatus::Killed { signal, core }),
        signal().prop_map(ChildStatus::Stopped),
        Just(ChildStatus::Continued),
    ]
}

fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        any::<i64>().prop_map(Expect::Value),
        (-5i64..70_000).prop_map(Expect::Value),
        bytes(16).prop_map(Expect::Data),
        any::<u32>().prop_map(Expect::ByteCount),
        errno().prop_map(Expect::Error),
        (pick(PROCESSES), child_status()).prop_map(|(name, status)| Expect::Child { name, status }),
        Just(Expect::NoChild),
    ]
}

fn outcome() -> impl Strategy<Value = ProcessOutcome> {
    prop_oneof![
        any::<u8>().prop_map(ProcessOutcome::Exited),
        (signal(), any::<bool>()).prop_map(|(signal, core)| ProcessOutcome::Killed { signal, core }),
        Just(ProcessOutcome::Running),
    ]
}

fn call_stmt() -> impl Strategy<Value = Stmt> {
    (call(), prop::option::of(expect()))
        .prop_map(|(call, expect)| Stmt::Call(CallStmt { call, span: span(), expect: expect.map(located) }))
}

fn stmt() -> impl Strategy<Value = Stmt> {
    call_stmt().prop_recursive(4, 48, 5, |inner| {
        let body = prop::collection::vec(inner, 0..5);
        prop_oneof![
            (pick(CHILDREN), prop::option::of(outcome()), body.clone()).prop_map(|(name, expect, body)| {
                Stmt::Fork(ForkStmt { name, span: span(), expect: expect.map(located), body })
            }),
            (prop_oneof![1u32..5, 1..=Limits::DEFAULT.max_repeat_count], body)
                .prop_map(|(count, body)| Stmt::Repeat(RepeatStmt { count, span: span(), body })),
        ]
    })
}

fn binder() -> ProcessDecl {
    let call = |call| Stmt::Call(CallStmt { call, span: span(), expect: None });
    let fork = |name: &str| Stmt::Fork(ForkStmt { name: name.into(), span: span(), expect: None, body: vec![] });
    ProcessDecl {
        name: "binder".into(),
        name_span: span(),
        expect: None,
        body: vec![
            call(Call::Pipe { name: "p".into() }),
            call(Call::Pipe { name: "q".into() }),
            call(Call::Open { name: "f".into(), path: "fifo".into(), flags: OpenFlags::default() }),
            call(Call::Dup { name: "d".into(), fd: FdRef::Number(0) }),
            fork("kid"),
            fork("kid2"),
        ],
    }
}

fn process(name: &'static str) -> impl Strategy<Value = ProcessDecl> {
    (prop::option::of(outcome()), prop::collection::vec(stmt(), 0..8)).prop_map(move |(expect, body)| ProcessDecl {
        name: name.to_string(),
        name_span: span(),
        expect: expect.map(located),
        body,
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let run_end = prop_oneof![Just(RunEnd::AllExited), Just(RunEnd::Deadlock), Just(RunEnd::StepLimit)];
    (
        prop::option::of(any::<String>()),
        prop::option::of("[ -~]{0,40}"),
        prop::option::of(run_end),
        process("main"),
        prop::option::of(process("helper")),
    )
        .prop_map(|(title, description, end, main, helper)| {
            let mut processes = vec![main];
            processes.extend(helper);
            processes.push(binder());
            Scenario { title, description, processes, expected_end: end.map(located) }
        })
}

proptest! {
    #![proptest_config(Config { cases: CASES, ..Config::default() })]

    #[test]
    fn printed_scenarios_parse_back(scenario in scenario()) {
        let text = print(&scenario);
        match parse(&text) {
            Ok(parsed) => {
                prop_assert_eq!(&parsed, &scenario, "text:\n{}", text);
                prop_assert_eq!(print(&parsed), text);
            }
            Err(diags) => prop_assert!(false, "printed text does not parse: {:?}\n{}", diags, text),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn shuffled_tokens_never_panic(text in token_soup()) {
        if let Ok(scenario) = parse(&text) {
            prop_assert_eq!(parse(&print(&scenario)), Ok(scenario));
        }
    }
}

// --- random texts ------------------------------------------------------------------------------

const TOKENS: &[&str] = &[
    "process",
    "fork",
    "repeat",
    "expect",
    "title",
    "description",
    "main",
    "kid",
    "p",
    "p.r",
    "p.w",
    "q.x",
    "=",
    "{",
    "}",
    "|",
    "->",
    "-",
    "-1",
    "0",
    "1",
    "255",
    "256",
    "70_000",
    "99999999999999999999999",
    "\"hi\"",
    "\"\\x41\\n\"",
    "\"",
    "\"unterminated",
    "\\",
    "#",
    "# c",
    "pipe",
    "pipe2",
    "open",
    "dup",
    "dup2",
    "close",
    "write",
    "read",
    "bytes",
    "of",
    "mkfifo",
    "unlink",
    "fcntl",
    "F_SETPIPE_SZ",
    "F_GETFL",
    "F_SETFL",
    "O_NONBLOCK",
    "O_RDONLY",
    "O_CLOEXEC",
    "kill",
    "signal",
    "SIGTERM",
    "SIGKILL",
    "SIG_IGN",
    "wait",
    "waitpid",
    "WNOHANG",
    "pause",
    "sched_yield",
    "exit",
    "exited",
    "killed",
    "stopped",
    "continued",
    "core",
    "running",
    "none",
    "self",
    "EAGAIN",
    "EPIPE",
    "all-exited",
    "deadlock",
    "step-limit",
    "stdin",
    "stdout",
    "é",
    ";",
    "\t",
    "\r",
];

fn token_soup() -> impl Strategy<Value = String> {
    let separator = prop_oneof![4 => Just(" "), 2 => Just("\n"), 1 => Just("")];
    prop::collection::vec((prop::sample::select(TOKENS), separator), 0..80)
        .prop_map(|pieces| pieces.into_iter().flat_map(|(token, sep)| [token, sep]).collect())
}

/// Lines that mostly make sense, in random order, with blocks closed at the end: a good share
/// of these texts parse.
const LINES: &[&str] = &[
    "p = pipe",
    "q = pipe2 O_NONBLOCK|O_CLOEXEC",
    "f = open \"fifo\" O_RDONLY | O_NONBLOCK",
    "d = dup p.w",
    "dup2 d 1",
    "close p.r",
    "close p.w -> EBADF",
    "close d -> 0",
    "write p.w \"hello\\n\" -> 6",
    "write q.w 70_000 bytes -> EAGAIN",
    "write p.w 10 bytes of \"ab\"",
    "read p.r 100 -> \"hello\\n\"",
    "read q.r 65_536 -> 65536 bytes",
    "read p.r 1 -> 0",
    "mkfifo \"fifo\"",
    "unlink \"fifo\" -> ENOENT",
    "fcntl p.w F_SETPIPE_SZ 4_096 -> 4096",
    "fcntl q.r F_SETFL 0",
    "kill kid SIGTERM",
    "kill self SIGSTOP",
    "signal SIGPIPE SIG_IGN",
    "wait -> kid exited 0",
    "wait -> kid killed SIGKILL core",
    "waitpid -1 WNOHANG -> none",
    "waitpid kid WUNTRACED -> kid stopped SIGSTOP",
    "pause",
    "sched_yield",
    "exit 3",
    "fork kid {",
    "fork kid expect exited 0 {",
    "fork kid expect killed SIGPIPE {",
    "repeat 3 {",
    "repeat 2 { sched_yield }",
    "}",
    "",
    "# a comment",
];

/// Lines that do not parse (or fail the name check), mixed in now and then.
const BAD_LINES: &[&str] = &["close nothing", "read p.r", "kill nobody SIGTERM", "write p.w 5", "fork {", "}}"];

const HEADERS: &[&str] = &[
    "",
    "title \"A title\"\n",
    "description \"What \\\"this\\\" shows\"\nexpect deadlock\n",
    "expect step-limit\ntitle \"t\"\n",
];

fn line_soup() -> impl Strategy<Value = String> {
    let line = (
        prop_oneof![40 => prop::sample::select(LINES), 1 => prop::sample::select(BAD_LINES)],
        prop::sample::select(&["", "  ", "\t", "    "][..]),
    );
    (
        prop::sample::select(HEADERS),
        prop::collection::vec(line, 0..20),
        prop::option::of(prop::collection::vec(prop::sample::select(LINES), 0..4)),
    )
        .prop_map(|(header, lines, other)| {
            let mut text = String::from(header);
            let mut open = 1usize;
            text.push_str("process main {\n");
            // Bind the names the lines use (an unbound name fails the name check).
            text.push_str("p = pipe\nq = pipe\nf = dup 0\nd = dup 1\nfork kid {\n}\n");
            for (line, indent) in lines {
                if line == "}" && open == 1 {
                    continue;
                }
                if !BAD_LINES.contains(&line) {
                    open += line.matches('{').count();
                    open -= line.matches('}').count();
                }
                text.push_str(indent);
                text.push_str(line);
                text.push('\n');
            }
            text.push_str(&"}\n".repeat(open));
            if let Some(lines) = other {
                text.push_str("process other expect running {\n");
                for line in lines.into_iter().filter(|l| !l.contains(['{', '}'])) {
                    text.push_str(line);
                    text.push('\n');
                }
                text.push_str("}\n");
            }
            text
        })
}

#[test]
fn printing_parsed_texts_is_a_fixed_point() {
    let mut runner = TestRunner::new(Config { cases: CASES, ..Config::default() });
    let parsed = Cell::new(0u32);
    runner
        .run(&line_soup(), |text| {
            if let Ok(scenario) = parse(&text) {
                parsed.set(parsed.get() + 1);
                let printed = print(&scenario);
                let reparsed = parse(&printed);
                prop_assert_eq!(&reparsed, &Ok(scenario), "text:\n{}\nprinted:\n{}", text, printed);
                prop_assert_eq!(print(&reparsed.unwrap()), printed);
            }
            Ok(())
        })
        .unwrap();
    // The generator is only useful if a fair share of its texts parse.
    assert!(parsed.get() >= CASES / 10, "only {} of {} texts parsed", parsed.get(), CASES);
}

#[test]
fn token_soup_sometimes_parses_and_then_is_a_fixed_point() {
    let mut runner = TestRunner::new(Config { cases: CASES, ..Config::default() });
    let soup = (token_soup(), token_soup()).prop_map(|(a, b)| format!("process main {{\n{}\n}}\n{}", a, b));
    runner
        .run(&soup, |text| {
            if let Ok(scenario) = parse(&text) {
                prop_assert_eq!(parse(&print(&scenario)), Ok(scenario));
            }
            Ok(())
        })
        .unwrap();
}
