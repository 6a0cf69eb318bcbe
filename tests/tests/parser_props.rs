//! Property tests of the parser and the canonical printer.
//!
//! 1. Printing any valid scenario and parsing the text gives the scenario back (spans aside).
//! 2. No text makes the parser panic.
//! 3. For texts that parse, printing is a fixed point: parse(print(parse(t))) == parse(t).
//!
//! The generators read the table of system calls: every call, with operands of the kinds its row
//! names, results of the shapes it returns, and the names it binds.

use ipclab_tests::generate::{scenario, without_spans, Values};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sim_core::{parse, print};
use std::cell::Cell;

const CASES: u32 = 256;

proptest! {
    #![proptest_config(Config { cases: CASES, ..Config::default() })]

    #[test]
    fn printed_scenarios_parse_back(scenario in scenario(Values::Syntax)) {
        let text = print(&scenario);
        match parse(&text) {
            Ok(parsed) => {
                prop_assert_eq!(without_spans(&parsed), without_spans(&scenario), "text:\n{}", text);
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
            let reparsed = parse(&print(&scenario)).expect("a printed scenario parses");
            prop_assert_eq!(without_spans(&reparsed), without_spans(&scenario));
        }
    }
}

// --- random texts ------------------------------------------------------------------------------

/// Pieces of scenario text besides the keywords and call names, which come from the parser's own lists.
const OTHER_TOKENS: &[&str] = &[
    "main",
    "kid",
    "p",
    "p.r",
    "p.w",
    "q.x",
    "n",
    "errno",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "!",
    "+",
    "*",
    "/",
    "%",
    "(",
    ")",
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
    "bytes",
    "of",
    "FIONREAD",
    "P_ALL",
    "WEXITED",
    "F_SETPIPE_SZ",
    "F_GETFL",
    "F_SETFL",
    "O_NONBLOCK",
    "O_RDONLY",
    "O_CLOEXEC",
    "SIGTERM",
    "SIGKILL",
    "SIG_IGN",
    "WNOHANG",
    "exited",
    "killed",
    "stopped",
    "continued",
    "core",
    "running",
    "EAGAIN",
    "EPIPE",
    "all-exited",
    "deadlock",
    "step-limit",
    "stdin",
    "stdout",
    "socket",
    "é",
    ";",
    ",",
    "\t",
    "\r",
];

/// Every keyword and call name (from the table), and the pieces above.
fn tokens() -> Vec<&'static str> {
    let keywords = sim_core::lang::parser::OTHER_KEYWORDS.iter().copied();
    let calls = sim_core::lang::syscalls::CALLS.iter().map(|spec| spec.name);
    keywords.chain(calls).chain(OTHER_TOKENS.iter().copied()).collect()
}

fn token_soup() -> impl Strategy<Value = String> {
    let separator = prop_oneof![4 => Just(" "), 2 => Just("\n"), 1 => Just("")];
    prop::collection::vec((prop::sample::select(tokens()), separator), 0..80)
        .prop_map(|pieces| pieces.into_iter().flat_map(|(token, sep)| [token, sep]).collect())
}

/// Lines that mostly make sense, in random order, with blocks closed at the end: a good share
/// of these texts parse.
const LINES: &[&str] = &[
    "p = pipe",
    "q = pipe2 O_NONBLOCK|O_CLOEXEC",
    "f = open \"fifo\" O_RDONLY | O_NONBLOCK",
    "f = open \"fifo\" O_WRONLY retry ENOENT -> ok",
    "d = dup p.w",
    "dup2 d 1",
    "close p.r",
    "close p.w -> EBADF",
    "close d -> 0 | EBADF",
    "write p.w \"hello\\n\" -> 6",
    "write q.w 70_000 bytes -> EAGAIN",
    "write p.w 10 bytes of \"ab\"",
    "n = read p.r 100 -> \"hello\\n\"",
    "read q.r 65_536 -> 65536 bytes",
    "read p.r (n + 1) -> 0",
    "n = ioctl p.r FIONREAD",
    "lseek p.r 0 SEEK_SET -> ESPIPE",
    "mkfifo \"fifo\"",
    "unlink \"fifo\" -> ENOENT",
    "fcntl p.w F_SETPIPE_SZ 4_096 -> 4096",
    "fcntl q.r F_SETFL 0",
    "fcntl q.r F_SETFD FD_CLOEXEC",
    "kill kid SIGTERM",
    "kill 0 0",
    "kill self SIGSTOP",
    "signal SIGPIPE SIG_IGN",
    "n = getpid",
    "setpgid 0 0",
    "wait -> kid exited 0",
    "wait -> kid killed SIGKILL core",
    "waitpid -1 WNOHANG -> none",
    "waitpid kid WUNTRACED -> kid stopped SIGSTOP",
    "waitid P_ALL 0 WEXITED|WNOHANG -> none | kid exited 0",
    "pause",
    "sched_yield",
    "exit 3",
    "exit n + 256",
    "n = n + 1",
    "fork kid {",
    "fork kid expect exited 0 {",
    "fork kid expect killed SIGPIPE {",
    "repeat 3 {",
    "repeat 2 { sched_yield }",
    "while n > 0 {",
    "if errno == EAGAIN {",
    "} else {",
    "break",
    "}",
    "",
    "# a comment",
];

/// Lines that do not parse (or fail the name check), mixed in now and then.
const BAD_LINES: &[&str] =
    &["close nothing", "read p.r", "kill nobody SIGTERM", "write p.w 5", "fork {", "}}", "socket", "x = (1"];

const HEADERS: &[&str] = &[
    "",
    "title \"A title\"\n",
    "description \"What \\\"this\\\" shows\"\nexpect deadlock\n",
    "expect step-limit\ntitle \"t\"\n",
    "schedule main*2 kid\n",
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
            text.push_str("p = pipe\nq = pipe\nf = dup 0\nd = dup 1\nn = 0\nfork kid {\n}\n");
            for (line, indent) in lines {
                if line.starts_with('}') && open == 1 {
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
                text.push_str("process other expect running {\n n = 0\n");
                for line in lines.into_iter().filter(|l| !l.contains(['{', '}']) && *l != "break") {
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
                prop_assert!(reparsed.is_ok(), "text:\n{}\nprinted:\n{}\n{:?}", text, printed, reparsed);
                let reparsed = reparsed.unwrap();
                prop_assert_eq!(
                    without_spans(&reparsed),
                    without_spans(&scenario),
                    "text:\n{}\nprinted:\n{}",
                    text,
                    printed
                );
                prop_assert_eq!(print(&reparsed), printed);
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
                let reparsed = parse(&print(&scenario)).expect("a printed scenario parses");
                prop_assert_eq!(without_spans(&reparsed), without_spans(&scenario));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn spans_take_part_in_equality() {
    let one = parse("process a {\n  pause\n}\n").unwrap();
    let other = parse("process a {\n    pause\n}\n").unwrap();
    assert_ne!(one, other, "the same statement at another column is another tree");
    assert_eq!(without_spans(&one), without_spans(&other));
}
