//! Scenario text (`.ipc`) to syntax tree ([`Scenario`]).
//!
//! Three stages:
//! 1. the lexer ([`super::lexer`]) turns the text into tokens, reporting bad characters, numbers and
//!    strings;
//! 2. the parser builds the tree, reading what each call takes from the table of system calls; after
//!    an error inside a statement it skips to the end of the line (parsing any block opened on that
//!    line, so braces stay balanced) and goes on, so one run reports several errors;
//! 3. the name check ([`super::names`]), on a tree that parsed cleanly: every name must be bound
//!    somewhere, and constants must suit the operand they are written in.
//!
//! Every bound of [`Limits`] that concerns the text is enforced here with a located error. No input
//! makes the parser panic or recurse without bound.

use super::ast::*;
use super::lexer::{is_identifier, show, Lexer, Tok, Token, MAX_DIAGNOSTICS};
use super::names;
use super::syscalls::{
    Binding, CallId, CallSpec, Mechanism, OperandKind, BYTES_FIELDS, CALLS, EPOLL_FIELDS, NOT_MODELLED, POLL_FIELDS,
    RIGHTS_FIELDS, SELECT_FIELDS,
};
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::linux::{self, Family, ERRNOS, SIGNALS};

/// Words besides the system call names that cannot be used as names.
pub const OTHER_KEYWORDS: &[&str] = &[
    "fork",
    "repeat",
    "if",
    "else",
    "while",
    "break",
    "continue",
    "retry",
    "process",
    "handler",
    "expect",
    "schedule",
    "self",
    "none",
    "ok",
    "title",
    "description",
];

/// Whether `word` is reserved: a system call name or one of [`OTHER_KEYWORDS`].
pub fn is_keyword(word: &str) -> bool {
    CallId::from_name(word).is_some() || OTHER_KEYWORDS.contains(&word)
}

/// True for `[A-Za-z_][A-Za-z0-9_]*` that is neither a keyword nor a Linux constant.
pub fn is_name(word: &str) -> bool {
    is_identifier(word) && !is_keyword(word) && linux::lookup(word).is_none()
}

/// The words that can start a statement (for "did you mean" hints).
fn statement_words() -> impl Iterator<Item = &'static str> {
    CALLS
        .iter()
        .filter(|spec| spec.in_this_build())
        .map(|spec| spec.name)
        .chain(["fork", "repeat", "if", "while", "break", "continue"])
}

/// Parses a scenario with [`Limits::DEFAULT`].
pub fn parse(source: &str) -> Result<Scenario, Vec<Diagnostic>> {
    parse_with_limits(source, &Limits::DEFAULT)
}

/// Parses a scenario, enforcing the text limits of `limits`.
pub fn parse_with_limits(source: &str, limits: &Limits) -> Result<Scenario, Vec<Diagnostic>> {
    if source.len() as u64 > limits.max_source_bytes as u64 {
        return Err(vec![Diagnostic::new(
            Span::START,
            format!(
                "the scenario is {} bytes long, more than the limit of {} bytes (max_source_bytes)",
                source.len(),
                limits.max_source_bytes
            ),
        )]);
    }
    let (tokens, mut diags) = Lexer::new(source).run();
    let mut parser = Parser {
        src: source,
        toks: tokens,
        pos: 0,
        prev_end: 0,
        limits: *limits,
        diags: Vec::new(),
        statements: 0,
        too_many_statements: false,
        unclosed_reported: false,
        process_keywords: 0,
        expression_depth: 0,
    };
    let scenario = parser.file();
    diags.append(&mut parser.diags);
    if diags.is_empty() {
        diags = names::check(&scenario);
    }
    if diags.is_empty() {
        Ok(scenario)
    } else {
        // In source order, those at one place in the order they were found. At most a hundred, so each
        // goes in at its place: a library sort would put a copy of its code for this one type in the
        // WebAssembly bundle.
        let mut sorted: Vec<Diagnostic> = Vec::with_capacity(diags.len());
        for diag in diags {
            let place = sorted.partition_point(|before| before.span.start_byte <= diag.span.start_byte);
            sorted.insert(place, diag);
        }
        sorted.truncate(MAX_DIAGNOSTICS);
        Err(sorted)
    }
}

/// A diagnostic was recorded (or was already recorded by the lexer): the caller recovers.
struct Failed;

type PResult<T> = Result<T, Failed>;

/// A hard bound on block nesting, whatever limits the caller passes, so recursion stays shallow.
const HARD_NESTING_CAP: u32 = 256;
/// The deepest an expression may nest (parentheses and unary operators).
const MAX_EXPRESSION_DEPTH: u32 = 64;

/// What encloses a statement: how deep in blocks it is and whether `break` has a loop to leave.
#[derive(Clone, Copy)]
struct Context {
    depth: u32,
    in_loop: bool,
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    prev_end: u32,
    limits: Limits,
    diags: Vec<Diagnostic>,
    statements: u64,
    too_many_statements: bool,
    unclosed_reported: bool,
    process_keywords: usize,
    expression_depth: u32,
}

impl<'a> Parser<'a> {
    // --- token access -------------------------------------------------------------------------

    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn nth(&self, n: usize) -> &Token {
        let index = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[index]
    }

    fn bump(&mut self) -> Token {
        let token = self.toks[self.pos].clone();
        if token.tok != Tok::Eof {
            self.pos += 1;
            self.prev_end = token.span.end_byte;
        }
        token
    }

    fn text(&self, token: &Token) -> &'a str {
        &self.src[token.span.start_byte as usize..token.span.end_byte as usize]
    }

    /// The current token's text if it is a word.
    fn word(&self) -> Option<&'a str> {
        match self.peek().tok {
            Tok::Word => Some(self.text(self.peek())),
            _ => None,
        }
    }

    fn word_is(&self, word: &str) -> bool {
        self.word() == Some(word)
    }

    fn at_statement_end(&self) -> bool {
        matches!(self.peek().tok, Tok::Newline | Tok::RBrace | Tok::Eof)
    }

    fn span_from(&self, start: Span) -> Span {
        Span { end_byte: self.prev_end.max(start.start_byte), ..start }
    }

    /// The source text of a span, spaces collapsed, shortened.
    fn snippet(&self, span: Span) -> String {
        let text = &self.src[span.start_byte as usize..span.end_byte.max(span.start_byte) as usize];
        show(&text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    fn describe(&self, token: &Token) -> String {
        match token.tok {
            Tok::Newline => "the end of the line".to_string(),
            Tok::Eof => "the end of the file".to_string(),
            _ => format!("`{}`", show(self.text(token))),
        }
    }

    // --- diagnostics --------------------------------------------------------------------------

    fn report(&mut self, diag: Diagnostic) {
        if self.diags.len() < MAX_DIAGNOSTICS {
            self.diags.push(diag);
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>) -> Failed {
        self.report(Diagnostic::new(span, message));
        Failed
    }

    fn error_help(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) -> Failed {
        self.report(Diagnostic::new(span, message).with_help(help));
        Failed
    }

    /// "expected WHAT, found TOKEN" at the current token (silent if the lexer already reported it).
    fn expected(&mut self, what: &str) -> Failed {
        self.expected_with(what, None)
    }

    fn expected_with(&mut self, what: &str, help: Option<String>) -> Failed {
        let token = self.peek().clone();
        if token.tok == Tok::Bad {
            return Failed;
        }
        let mut diag = Diagnostic::new(token.span, format!("expected {}, found {}", what, self.describe(&token)));
        let help = help.or_else(|| {
            if token.tok == Tok::Comma {
                return Some("operands are separated by spaces: `write p.w \"hi\"`".to_string());
            }
            let word = self.word()?;
            if is_keyword(word) {
                Some(format!("`{}` is a keyword", word))
            } else {
                None
            }
        });
        if let Some(help) = help {
            diag = diag.with_help(help);
        }
        self.report(diag);
        Failed
    }

    // --- recovery -----------------------------------------------------------------------------

    /// Skips to the end of the line after an error. A block opened on the way is skipped whole, so
    /// that its `}` does not close the enclosing block; a `}` ends the skip inside a block and is
    /// dropped at the top level.
    fn recover(&mut self, top: bool) {
        loop {
            match self.peek().tok {
                Tok::Newline | Tok::Eof => return,
                Tok::RBrace if !top => return,
                Tok::LBrace => {
                    let open = self.bump();
                    self.skip_block(open.span, "this block");
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    fn max_depth(&self) -> u32 {
        self.limits.max_nesting_depth.min(HARD_NESTING_CAP)
    }

    /// Skips the rest of a block whose `{` was just consumed, without parsing it.
    fn skip_block(&mut self, open: Span, owner: &str) {
        let mut level = 1u32;
        loop {
            match self.peek().tok {
                Tok::Eof => {
                    self.unclosed(open, owner);
                    return;
                }
                Tok::LBrace => level += 1,
                Tok::RBrace => {
                    level -= 1;
                    if level == 0 {
                        self.bump();
                        return;
                    }
                }
                _ => {}
            }
            self.bump();
        }
    }

    fn unclosed(&mut self, open: Span, owner: &str) {
        if !self.unclosed_reported {
            self.unclosed_reported = true;
            self.error_help(
                open,
                if owner.starts_with('`') {
                    format!("expected `}}` to close the block of {}, found the end of the file", owner)
                } else {
                    format!("expected `}}` to close {}, found the end of the file", owner)
                },
                "this `{` opens the block; every `{` needs a matching `}`",
            );
        }
    }

    // --- top level ----------------------------------------------------------------------------

    fn file(&mut self) -> Scenario {
        let mut title: Option<(String, Span)> = None;
        let mut description: Option<(String, Span)> = None;
        let mut expected_end: Option<Located<RunEnd>> = None;
        let mut schedule: Option<Located<Vec<ScheduleEntry>>> = None;
        let mut processes = Vec::new();
        let mut handlers = Vec::new();
        let mut outcomes = Vec::new();
        let top_words = "`process`, `handler`, `outcome`, `title`, `description`, `expect` or `schedule`";
        loop {
            let token = self.peek().clone();
            match token.tok {
                Tok::Newline => {
                    self.bump();
                    continue;
                }
                Tok::Eof => break,
                Tok::RBrace => {
                    self.error_help(
                        token.span,
                        format!("expected {top_words}, found `}}`"),
                        "this `}` closes no open block",
                    );
                    self.bump();
                    continue;
                }
                _ => {}
            }
            let result = match self.word() {
                Some("process") => self.process().map(|p| processes.push(p)),
                Some("handler") => self.handler().map(|h| handlers.push(h)),
                Some("outcome") => self.outcome_decl().map(|o| outcomes.push(o)),
                Some(which @ ("title" | "description")) => {
                    let slot = if which == "title" { &mut title } else { &mut description };
                    let previous = slot.as_ref().map(|(_, span)| span.line);
                    self.text_item(which).map(|(text, span)| match previous {
                        Some(line) => {
                            self.error_help(
                                span,
                                format!("a scenario has only one `{}`", which),
                                format!("the first `{}` is on line {}", which, line),
                            );
                        }
                        None => *slot = Some((text, span)),
                    })
                }
                Some("expect") => self.run_end().map(|end| {
                    if let Some(first) = &expected_end {
                        let line = first.span.line;
                        self.error_help(
                            end.span,
                            "a scenario has only one top-level `expect`",
                            format!("the first is on line {}", line),
                        );
                    } else {
                        expected_end = Some(end);
                    }
                }),
                Some("schedule") => self.schedule().map(|entries| {
                    if let Some(first) = &schedule {
                        let line = first.span.line;
                        self.error_help(
                            entries.span,
                            "a scenario has only one `schedule`",
                            format!("the first is on line {}", line),
                        );
                    } else {
                        schedule = Some(entries);
                    }
                }),
                Some(word) => {
                    let statement =
                        statement_words().any(|known| known == word) || matches!(self.nth(1).tok, Tok::Assign);
                    let help = if statement {
                        Some("statements go inside a `process NAME { ... }` block".to_string())
                    } else {
                        names::closest(
                            word,
                            ["process", "handler", "outcome", "title", "description", "expect", "schedule"],
                        )
                        .map(|c| format!("did you mean `{}`?", c))
                    };
                    Err(self.expected_with(top_words, help))
                }
                None => Err(self.expected(top_words)),
            };
            if result.is_err() {
                self.recover(true);
            }
        }
        if self.process_keywords == 0 {
            let span = self.peek().span;
            self.error_help(
                span,
                "expected at least one `process` block, found none",
                "a scenario runs processes: `process main { ... }`",
            );
        }
        Scenario {
            title: title.map(|(text, _)| text),
            description: description.map(|(text, _)| text),
            expected_end,
            schedule,
            processes,
            handlers,
            outcomes,
        }
    }

    /// `outcome always|sometimes|never ["LABEL"] { CONDITION ... }`, one condition per line.
    fn outcome_decl(&mut self) -> PResult<OutcomeDecl> {
        let keyword = self.bump();
        let what = "`always`, `sometimes` or `never` after `outcome`";
        let quantifier = match self.word() {
            Some("always") => Quantifier::Always,
            Some("sometimes") => Quantifier::Sometimes,
            Some("never") => Quantifier::Never,
            Some(word) => {
                let help =
                    names::closest(word, ["always", "sometimes", "never"]).map(|c| format!("did you mean `{}`?", c));
                return Err(self.expected_with(what, help));
            }
            None => return Err(self.expected(what)),
        };
        self.bump();
        let mut label = None;
        if let Tok::Str(bytes) = self.peek().tok.clone() {
            let token = self.bump();
            match String::from_utf8(bytes) {
                Ok(text) => label = Some(text),
                Err(_) => return Err(self.error(token.span, "the outcome's label is not valid UTF-8 text")),
            }
        }
        let owner = format!("`outcome {}`", quantifier.word());
        let open = self.open_brace(&owner, "outcome")?;
        let mut conditions = Vec::new();
        loop {
            match self.peek().tok {
                Tok::Newline => {
                    self.bump();
                }
                Tok::RBrace => {
                    self.bump();
                    break;
                }
                Tok::Eof => {
                    self.unclosed(open, &owner);
                    break;
                }
                _ => match self.condition() {
                    Ok(condition) => conditions.push(condition),
                    Err(Failed) => self.recover(false),
                },
            }
        }
        if conditions.is_empty() {
            return Err(self.error_help(
                keyword.span,
                "an `outcome` block needs at least one condition",
                "for example `deadlock`, `main exited 0` or `main.count == 2`, one per line",
            ));
        }
        Ok(OutcomeDecl { quantifier, label, span: keyword.span, conditions })
    }

    /// A comparison operator of an `outcome` condition, after `after`.
    fn comparison(&mut self, after: &str) -> PResult<Compare> {
        let op = match self.peek().tok {
            Tok::EqEq => Compare::Eq,
            Tok::NotEq => Compare::Ne,
            Tok::Lt => Compare::Lt,
            Tok::Le => Compare::Le,
            Tok::Gt => Compare::Gt,
            Tok::Ge => Compare::Ge,
            _ => {
                return Err(self.expected_with(
                    &format!("a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`) after `{}`", show(after)),
                    None,
                ))
            }
        };
        self.bump();
        Ok(op)
    }

    /// One line of an `outcome` block: `all-exited` | `deadlock` | `step-limit` | `NAME exited N` |
    /// `NAME killed SIGNAL [core | no core]` | `NAME running` | `NAME.VARIABLE OP NUMBER` |
    /// `left KIND OP NUMBER` | `copied MECHANISM DIRECTION OP NUMBER` | `calls NAME OP NUMBER`.
    fn condition(&mut self) -> PResult<Located<Condition>> {
        let start = self.peek().span;
        let what = "a condition: `all-exited`, `deadlock`, `step-limit`, `NAME exited N`, `NAME killed SIGNAL`, \
                    `NAME running`, `NAME.VARIABLE == N`, `left KIND == N`, `copied MECHANISM DIRECTION == N` or \
                    `calls NAME == N`";
        let Some(word) = self.word() else { return Err(self.expected(what)) };
        // `left` begins a count of objects left behind unless a process is called so (`left exited 0`).
        let next = self.nth(1);
        let next_is_end = next.tok == Tok::Word && {
            let next = self.text(next);
            matches!(next, "exited" | "killed" | "running")
        };
        let value = match word {
            "copied" if !next_is_end => {
                self.bump();
                let words =
                    |words: Vec<&str>| words.iter().map(|word| format!("`{word}`")).collect::<Vec<_>>().join(", ");
                let Some(mechanism) = self.word().and_then(Copier::from_word) else {
                    let all = Copier::EACH.iter().chain(&[Copier::All]).map(|copier| copier.word()).collect();
                    return Err(self.expected_with(
                        "a mechanism after `copied`",
                        Some(format!("the mechanisms are {}", words(all))),
                    ));
                };
                self.bump();
                let Some(toward) = self.word().and_then(Toward::from_word) else {
                    let all = Toward::ALL.iter().map(|toward| toward.word()).collect();
                    return Err(self.expected_with(
                        &format!("a direction after `copied {}`", mechanism.word()),
                        Some(format!("the directions are {}", words(all))),
                    ));
                };
                self.bump();
                let op = self.comparison(toward.word())?;
                let value = self.signed_number("a number of bytes to compare with")?;
                Condition::Copied { mechanism, toward, op, value }
            }
            "calls" if !next_is_end => {
                self.bump();
                let Some(name) = self.word().map(str::to_string) else {
                    return Err(self.expected("a process name after `calls`"));
                };
                self.bump();
                let op = self.comparison(&name)?;
                let value = self.signed_number("a number of system calls to compare with")?;
                Condition::Calls { name, op, value }
            }
            "left" if !next_is_end => {
                self.bump();
                let kinds =
                    Leftover::ALL.iter().map(|kind| format!("`{}`", kind.word())).collect::<Vec<_>>().join(", ");
                let kind = match self.word().and_then(Leftover::from_word) {
                    Some(kind) => kind,
                    None => {
                        return Err(self.expected_with(
                            "a kind of IPC object after `left`",
                            Some(format!("the kinds are {kinds}")),
                        ))
                    }
                };
                self.bump();
                let op = self.comparison(kind.word())?;
                let value = self.signed_number("a number to compare with")?;
                Condition::Left { kind, op, value }
            }
            "all-exited" | "deadlock" | "step-limit" => {
                self.bump();
                Condition::RunEnds(match word {
                    "all-exited" => RunEnd::AllExited,
                    "deadlock" => RunEnd::Deadlock,
                    _ => RunEnd::StepLimit,
                })
            }
            _ => match word.split_once('.') {
                Some((name, variable)) => {
                    let (name, variable) = (name.to_string(), variable.to_string());
                    self.bump();
                    let op = self.comparison(word)?;
                    let value = self.signed_number("a number to compare with")?;
                    Condition::Compare { name, variable, op, value }
                }
                None => {
                    let name = word.to_string();
                    self.bump();
                    let end = match self.process_end()? {
                        Some(end) => end,
                        None => {
                            return Err(self.expected_with(
                                &format!(
                                    "`exited N`, `killed SIGNAL` or `running` after the process name `{}`",
                                    show(&name)
                                ),
                                Some("or a variable of it, compared with a number: `NAME.VARIABLE == N`".to_string()),
                            ))
                        }
                    };
                    Condition::Process { name, end }
                }
            },
        };
        let span = self.span_from(start);
        self.end_of_line("a condition")?;
        Ok(Located { value, span })
    }

    /// A literal number, possibly negative, that fits in 64 bits (`what` names it in the error).
    fn signed_number(&mut self, what: &str) -> PResult<i64> {
        let start = self.peek().span;
        let negative = self.peek().tok == Tok::Minus;
        if negative {
            self.bump();
        }
        let Tok::Int(magnitude) = self.peek().tok else {
            return Err(self.expected(what));
        };
        self.bump();
        let span = self.span_from(start);
        let limit = if negative { 1u128 << 63 } else { i64::MAX as u128 };
        match magnitude.filter(|m| *m <= limit) {
            Some(m) if negative => Ok((m as i128).wrapping_neg() as i64),
            Some(m) => Ok(m as i64),
            None => Err(self.error(span, format!("the number {} does not fit in 64 bits", self.snippet(span)))),
        }
    }

    /// `title "TEXT"` or `description "TEXT"`.
    fn text_item(&mut self, which: &str) -> PResult<(String, Span)> {
        self.bump();
        let token = self.peek().clone();
        let Tok::Str(bytes) = token.tok else {
            return Err(self.expected(&format!("a string in double quotes after `{}`", which)));
        };
        self.bump();
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return Err(self.error(token.span, format!("the {} is not valid UTF-8 text", which))),
        };
        self.end_of_line(&format!("`{}` and its string", which))?;
        Ok((text, token.span))
    }

    /// A top-level `expect all-exited|deadlock|step-limit`.
    fn run_end(&mut self) -> PResult<Located<RunEnd>> {
        self.bump();
        let token = self.peek().clone();
        let what = "`all-exited`, `deadlock` or `step-limit` after a top-level `expect`";
        let value = match self.word() {
            Some("all-exited") => RunEnd::AllExited,
            Some("deadlock") => RunEnd::Deadlock,
            Some("step-limit") => RunEnd::StepLimit,
            Some(word) => {
                let mut help = names::closest(word, ["all-exited", "deadlock", "step-limit"])
                    .map(|c| format!("did you mean `{}`?", c));
                if matches!(word, "exited" | "killed" | "running") {
                    help = Some("a process's expected end goes on its line: `process NAME expect exited 0 {`".into());
                }
                return Err(self.expected_with(what, help));
            }
            None => return Err(self.expected(what)),
        };
        self.bump();
        self.end_of_line("the top-level `expect`")?;
        Ok(Located { value, span: token.span })
    }

    /// `schedule NAME|PID[*N] ...`
    fn schedule(&mut self) -> PResult<Located<Vec<ScheduleEntry>>> {
        let keyword = self.bump();
        let mut entries = Vec::new();
        while !matches!(self.peek().tok, Tok::Newline | Tok::Eof) {
            let token = self.peek().clone();
            let target = match token.tok {
                Tok::Int(Some(pid)) if pid <= u32::MAX as u128 => ScheduleTarget::Pid(pid as u32),
                Tok::Int(_) => {
                    let text = self.text(&token).to_string();
                    return Err(self.error_help(
                        token.span,
                        format!("pid {text} is out of range in the `schedule`: a pid is at most 4294967295"),
                        "a process is named by its name or its pid, as the trace shows it",
                    ));
                }
                Tok::Word if is_name(crate::kernel::base_name(self.text(&token))) => {
                    ScheduleTarget::Name(self.text(&token).to_string())
                }
                _ => {
                    return Err(self.expected_with(
                        "a process name or a pid in the `schedule`",
                        Some("for example `schedule writer reader*3 writer`".to_string()),
                    ))
                }
            };
            self.bump();
            let mut times = 1;
            if self.peek().tok == Tok::Star {
                self.bump();
                let count = self.peek().clone();
                match count.tok {
                    Tok::Int(Some(n)) if (1..=self.limits.max_repeat_count as u128).contains(&n) => {
                        self.bump();
                        times = n as u32;
                    }
                    _ => {
                        return Err(self.expected(&format!(
                            "a count from 1 to {} after `*` (max_repeat_count)",
                            self.limits.max_repeat_count
                        )))
                    }
                }
            }
            entries.push(ScheduleEntry { target, times, span: self.span_from(token.span) });
        }
        if entries.is_empty() {
            return Err(self.expected("the processes of the `schedule`, in the order they run"));
        }
        Ok(Located { value: entries, span: self.span_from(keyword.span) })
    }

    fn end_of_line(&mut self, after: &str) -> PResult<()> {
        if matches!(self.peek().tok, Tok::Newline | Tok::Eof) {
            Ok(())
        } else {
            Err(self.expected(&format!("the end of the line after {}", after)))
        }
    }

    /// `process NAME [expect OUTCOME] { STMT* }`
    fn process(&mut self) -> PResult<ProcessDecl> {
        self.process_keywords += 1;
        self.bump();
        let (name, name_span) = self.binding_name("a process name after `process`")?;
        let owner = format!("`process {}`", show(&name));
        let expect = self.optional_outcome(&owner)?;
        let open = self.open_brace(&owner, "process")?;
        let body = self.block(Context { depth: 0, in_loop: false }, open, &owner);
        Ok(ProcessDecl { name, name_span, expect, body })
    }

    /// `handler NAME { STMT* }`
    fn handler(&mut self) -> PResult<HandlerDecl> {
        self.bump();
        let (name, name_span) = self.binding_name("a handler name after `handler`")?;
        let owner = format!("`handler {}`", show(&name));
        let open = self.open_brace(&owner, "handler")?;
        let body = self.block(Context { depth: 0, in_loop: false }, open, &owner);
        Ok(HandlerDecl { name, name_span, body })
    }

    fn open_brace(&mut self, owner: &str, keyword: &str) -> PResult<Span> {
        match self.peek().tok {
            Tok::LBrace => Ok(self.bump().span),
            Tok::Newline => {
                let failed = self.expected_with(
                    &format!("`{{` after {}", owner),
                    Some(format!("the `{{` that opens the block goes on the same line as `{}`", keyword)),
                );
                // A `{` at the start of a later line: take it, so the block still parses.
                let mut ahead = self.pos;
                while self.toks[ahead].tok == Tok::Newline {
                    ahead += 1;
                }
                if self.toks[ahead].tok == Tok::LBrace {
                    self.pos = ahead;
                    return Ok(self.bump().span);
                }
                Err(failed)
            }
            _ => Err(self.expected(&format!("`{{` after {}", owner))),
        }
    }

    /// Statements up to the matching `}` (its `{` already consumed). Never fails: errors are
    /// recorded and skipped.
    fn block(&mut self, context: Context, open: Span, owner: &str) -> Vec<Stmt> {
        let mut body = Vec::new();
        loop {
            match self.peek().tok {
                Tok::Newline => {
                    self.bump();
                }
                Tok::RBrace => {
                    self.bump();
                    return body;
                }
                Tok::Eof => {
                    self.unclosed(open, owner);
                    return body;
                }
                _ => match self.statement(context) {
                    Ok(stmt) => body.push(stmt),
                    Err(Failed) => self.recover(false),
                },
            }
        }
    }

    // --- statements ---------------------------------------------------------------------------

    fn statement(&mut self, context: Context) -> PResult<Stmt> {
        self.statements += 1;
        if self.statements > self.limits.max_statements as u64 && !self.too_many_statements {
            self.too_many_statements = true;
            let span = self.peek().span;
            self.error(
                span,
                format!(
                    "too many statements: a scenario may have at most {} (max_statements)",
                    self.limits.max_statements
                ),
            );
        }
        match self.word() {
            Some("fork") => self.fork(context).map(Stmt::Fork),
            Some("repeat") => self.repeat(context).map(Stmt::Repeat),
            Some("if") => self.if_statement(context).map(Stmt::If),
            Some("while") => self.while_statement(context).map(Stmt::While),
            Some(word @ ("break" | "continue")) => {
                let token = self.bump();
                if !context.in_loop {
                    return Err(self.error_help(
                        token.span,
                        format!("`{word}` outside a loop"),
                        "`break` and `continue` belong inside a `while` or `repeat` block of the same process",
                    ));
                }
                self.statement_end(&format!("`{word}`"))?;
                Ok(if word == "break" { Stmt::Break(token.span) } else { Stmt::Continue(token.span) })
            }
            Some("else") => {
                let span = self.peek().span;
                Err(self.error_help(
                    span,
                    "`else` without an `if` just before it",
                    "write `} else {` on the line that closes the `if` block",
                ))
            }
            _ if self.nth(1).tok == Tok::Assign => self.assignment(),
            _ => self.call_statement(None).map(Stmt::Call),
        }
    }

    fn statement_end(&mut self, after: &str) -> PResult<()> {
        if self.at_statement_end() {
            Ok(())
        } else {
            Err(self.expected(&format!("the end of the line after {after}")))
        }
    }

    /// After the `{` of a nested block: checks the nesting limit and parses the block.
    fn nested_block(&mut self, context: Context, keyword: Span, open: Span, owner: &str) -> PResult<Vec<Stmt>> {
        let inner = Context { depth: context.depth + 1, ..context };
        if inner.depth > self.max_depth() {
            self.error(
                keyword,
                format!(
                    "blocks are nested {} deep here, more than the limit of {} (max_nesting_depth)",
                    inner.depth, self.limits.max_nesting_depth
                ),
            );
            self.skip_block(open, owner);
            return Err(Failed);
        }
        Ok(self.block(inner, open, owner))
    }

    /// `fork NAME [expect OUTCOME] { STMT* }`
    fn fork(&mut self, context: Context) -> PResult<ForkStmt> {
        let keyword = self.bump();
        let (name, _) = self.binding_name("a name for the child after `fork`")?;
        let owner = format!("`fork {}`", show(&name));
        let expect = self.optional_outcome(&owner)?;
        let open = self.open_brace(&owner, "fork")?;
        let span = self.span_from(keyword.span);
        // The child is a process of its own: a loop around the `fork` is not its loop.
        let body = self.nested_block(Context { in_loop: false, ..context }, keyword.span, open, &owner)?;
        Ok(ForkStmt { name, span, expect, body })
    }

    /// `repeat N { STMT* }`
    fn repeat(&mut self, context: Context) -> PResult<RepeatStmt> {
        let keyword = self.bump();
        let token = self.peek().clone();
        let count = match token.tok {
            Tok::Int(magnitude) => {
                self.bump();
                magnitude.unwrap_or(u128::MAX)
            }
            _ => return Err(self.expected("a repeat count after `repeat`")),
        };
        if count == 0 {
            return Err(self.error(token.span, "a `repeat` count must be at least 1, found 0"));
        }
        if count > self.limits.max_repeat_count as u128 {
            return Err(self.error(
                token.span,
                format!(
                    "the repeat count {} is more than the limit of {} (max_repeat_count)",
                    self.snippet(token.span),
                    self.limits.max_repeat_count
                ),
            ));
        }
        let owner = format!("`repeat {}`", count);
        let open = self.open_brace(&owner, "repeat")?;
        let span = self.span_from(keyword.span);
        let body = self.nested_block(Context { in_loop: true, ..context }, keyword.span, open, &owner)?;
        Ok(RepeatStmt { count: count as u32, span, body })
    }

    /// `if COND { ... } [else if COND { ... }]* [else { ... }]`
    fn if_statement(&mut self, context: Context) -> PResult<IfStmt> {
        let keyword = self.bump();
        let condition = self.expression("a condition after `if`")?;
        let owner = format!("`if {}`", self.snippet(condition.span));
        let open = self.open_brace(&owner, "if")?;
        let span = self.span_from(keyword.span);
        let then_body = self.nested_block(context, keyword.span, open, &owner)?;
        let mut else_body = Vec::new();
        if self.word_is("else") {
            let else_token = self.bump();
            if self.word_is("if") {
                self.statements += 1;
                else_body.push(Stmt::If(self.if_statement(context)?));
            } else {
                let open = self.open_brace("`else`", "else")?;
                else_body = self.nested_block(context, else_token.span, open, "`else`")?;
            }
        }
        Ok(IfStmt { condition, span, then_body, else_body })
    }

    /// `while COND { ... }`
    fn while_statement(&mut self, context: Context) -> PResult<WhileStmt> {
        let keyword = self.bump();
        let condition = self.expression("a condition after `while`")?;
        let owner = format!("`while {}`", self.snippet(condition.span));
        let open = self.open_brace(&owner, "while")?;
        let span = self.span_from(keyword.span);
        let body = self.nested_block(Context { in_loop: true, ..context }, keyword.span, open, &owner)?;
        Ok(WhileStmt { condition, span, body })
    }

    /// `NAME = CALL ...` (a call whose result is named) or `NAME = EXPR` (a computation).
    fn assignment(&mut self) -> PResult<Stmt> {
        let name_token = self.peek().clone();
        let name = self.text(&name_token).to_string();
        if !is_name(&name) {
            let help = if is_keyword(&name) {
                "keywords cannot be used as names; choose another name".to_string()
            } else if linux::lookup(&name).is_some() {
                format!("`{}` is a Linux constant; choose another name", show(&name))
            } else {
                "a name is letters, digits and `_`, and does not start with a digit".to_string()
            };
            return Err(self.error_help(
                name_token.span,
                format!("expected a name before `=`, found `{}`", show(&name)),
                help,
            ));
        }
        let start = self.peek().span;
        if self.nth(2).tok == Tok::Word && CallId::from_name(self.text(self.nth(2))).is_some() {
            self.bump();
            self.bump();
            let bind = Located { value: name, span: name_token.span };
            return self.call_statement(Some(bind)).map(|mut call| {
                call.span = Span { end_byte: call.span.end_byte, ..start };
                Stmt::Call(call)
            });
        }
        if self.nth(2).tok == Tok::Word && NOT_MODELLED.contains(&self.text(self.nth(2))) {
            self.bump();
            self.bump();
            return Err(self.not_modelled());
        }
        self.bump();
        self.bump();
        let value = self.expression(&format!("a call or a value after `{} =`", show(&name)))?;
        self.statement_end(&format!("`{} = {}`", show(&name), self.snippet(value.span)))?;
        Ok(Stmt::Assign(AssignStmt { name, name_span: name_token.span, value }))
    }

    fn not_modelled(&mut self) -> Failed {
        let token = self.peek().clone();
        let word = self.text(&token);
        self.error_help(
            token.span,
            format!("`{}` is not modelled yet", word),
            "the language reference (docs/scenario-language.md) lists the calls the simulator models",
        )
    }

    /// A call, its operands, its optional `retry ...` and `-> RESULT`, and the end of the statement.
    fn call_statement(&mut self, bind: Option<Located<String>>) -> PResult<CallStmt> {
        let start = self.peek().span;
        let Some(word) = self.word() else {
            let help = match self.peek().tok {
                Tok::LBrace => Some("a `{` opens a block after `fork`, `repeat`, `if` or `while`".to_string()),
                _ => None,
            };
            return Err(self.expected_with("a statement", help));
        };
        let Some(call) = CallId::from_name(word) else {
            return Err(self.unknown_statement(word));
        };
        let spec = call.spec();
        if call == CallId::Fork {
            return Err(self.error_help(
                start,
                "`fork` cannot be named with `=`",
                "`fork NAME { ... }` names the child: in the parent NAME holds its pid",
            ));
        }
        match (&bind, spec.binding) {
            (None, Binding::SocketEnds) => {
                return Err(self.error_help(
                    start,
                    format!("expected a name and `=` before `{word}`, found `{word}` at the start of the statement"),
                    format!("`{word}` binds a name: write `s = socketpair SOCK_STREAM`, then use `s.0` and `s.1`"),
                ));
            }
            (None, Binding::PipeEnds) => {
                let example = if call == CallId::Pipe { "`p = pipe`" } else { "`p = pipe2 O_NONBLOCK`" };
                return Err(self.error_help(
                    start,
                    format!(
                        "expected a name and `=` before `{}`, found `{}` at the start of the statement",
                        word, word
                    ),
                    format!("`{}` binds a name: write {}, then use `p.r` and `p.w`", word, example),
                ));
            }
            (Some(bind), Binding::Nothing) => {
                return Err(self.error_help(
                    bind.span,
                    format!("`{}` returns nothing that a name could hold", word),
                    format!("write `{}` without `{} =`", spec.usage(), show(&bind.value)),
                ));
            }
            _ => {}
        }
        self.bump();
        let mut args = Vec::new();
        // `socket AF_INET SOCK_STREAM`: the family comes first, as in C, but is the call's second
        // operand (it was added later, and `AF_UNIX` may be left out).
        let domain = if call == CallId::Socket && self.word().is_some_and(|word| word.starts_with("AF_")) {
            Some(self.operand(spec, 1)?)
        } else {
            None
        };
        for (index, operand) in spec.operands.iter().enumerate() {
            if index == 1 && call == CallId::Socket {
                args.extend(domain);
                break;
            }
            if self.at_operand_end() {
                if operand.default.is_some() {
                    break;
                }
                return Err(self.expected(&operand_what(spec, index)));
            }
            args.push(self.operand(spec, index)?);
        }
        let mut retry = Vec::new();
        if self.word_is("retry") {
            let keyword = self.bump();
            loop {
                let token = self.peek().clone();
                match self.word().and_then(Errno::from_name) {
                    Some(errno) => {
                        self.bump();
                        if !retry.contains(&errno) {
                            retry.push(errno);
                        }
                    }
                    None => {
                        if let Some(word) = self.word().filter(|word| linux::looks_like_constant(word)) {
                            return Err(self.unknown_errno(word, token.span));
                        }
                        return Err(self.expected_with(
                            "an errno after `retry`",
                            Some("for example `retry ENOENT` or `retry EAGAIN|EINTR`".to_string()),
                        ));
                    }
                }
                if self.peek().tok == Tok::Bar {
                    self.bump();
                } else {
                    break;
                }
            }
            if spec.result == super::syscalls::ResultShape::NoReturn {
                return Err(self.error(keyword.span, format!("`{}` never returns, so it cannot be retried", word)));
            }
        }
        let expect = if self.peek().tok == Tok::Arrow {
            self.bump();
            Some(self.result(spec)?)
        } else {
            None
        };
        if !self.at_statement_end() {
            let span = self.span_from(start);
            let what = if expect.is_some() {
                "the end of the line after the result".to_string()
            } else {
                format!("`->` or the end of the line after `{}`", self.snippet(span))
            };
            let help = if args.len() == spec.operands.len() && expect.is_none() {
                Some(format!("`{}` is written `{}`", word, spec.usage()))
            } else {
                None
            };
            return Err(self.expected_with(&what, help));
        }
        let span = self.span_from(start);
        Ok(CallStmt { bind, call, args, retry, span, expect })
    }

    fn at_operand_end(&self) -> bool {
        self.at_statement_end() || self.peek().tok == Tok::Arrow || self.word_is("retry")
    }

    /// "expected a statement" for a word that starts none, with the best hint there is.
    fn unknown_statement(&mut self, word: &str) -> Failed {
        if NOT_MODELLED.contains(&word) {
            return self.not_modelled();
        }
        if let Some(spec) = CALLS.iter().find(|spec| spec.name == word && !spec.in_this_build()) {
            let help = format!("this build leaves out {}; the full playground runs them", spec.mechanism.name());
            return self.expected_with("a statement", Some(help));
        }
        let help = match word {
            "process" => {
                Some("`process` blocks are only at the top level; inside a process, `fork` starts a child".into())
            }
            "handler" => Some("`handler` blocks are only at the top level; `sigaction` installs one by name".into()),
            "title" | "description" | "expect" | "schedule" => {
                Some(format!("`{}` belongs at the top level of the file, outside any process", word))
            }
            _ => names::closest(word, statement_words()).map(|c| format!("did you mean `{}`?", c)),
        };
        self.expected_with("a statement", help)
    }

    // --- operands -----------------------------------------------------------------------------

    /// Operand `index` of `spec`.
    fn operand(&mut self, spec: &CallSpec, index: usize) -> PResult<Arg> {
        let operand = spec.operands[index];
        match operand.kind {
            OperandKind::Payload => self.payload(spec, index).map(Arg::Payload),
            OperandKind::Path | OperandKind::Name => self.path(spec, index).map(Arg::Path),
            // Only the IPC mechanisms' calls have these operands (see `crate::IPC`).
            OperandKind::Sembuf if crate::IPC => self.sembuf(spec, index).map(Arg::Sembuf),
            OperandKind::SemArg if crate::IPC && self.peek().tok == Tok::LBrace => {
                self.list(spec, index, 1, MAX_SETALL_VALUES).map(Arg::List)
            }
            OperandKind::MqAttr if crate::IPC => self.list(spec, index, 2, 2).map(Arg::List),
            OperandKind::Rights if crate::IPC => self.rights(spec, index).map(Arg::Rights),
            OperandKind::PollFd if crate::IPC => self.list(spec, index, 2, 2).map(Arg::List),
            OperandKind::FdSet if crate::IPC => {
                self.list(spec, index, 0, crate::linux::poll::MAX_SET_FDS).map(Arg::List)
            }
            _ => {
                let what = operand_what(spec, index);
                let value = self.operand_expression(&what)?;
                if operand.kind == OperandKind::Count {
                    if let ExprKind::Int(count) = value.kind {
                        self.io_limit(count as i128, value.span, &format!("`{}` count", spec.name))?;
                    }
                }
                Ok(Arg::Expr(value))
            }
        }
    }

    /// `{NUM, OP[, FLAGS]} [* N]`: one operation of a `semop`.
    fn sembuf(&mut self, spec: &CallSpec, index: usize) -> PResult<SembufArg> {
        let start = self.peek().span;
        if self.peek().tok != Tok::LBrace {
            return Err(self.expected_with(
                &operand_what(spec, index),
                Some(
                    "an operation is written `{NUM, OP, FLAGS}`, like `{0, -1, SEM_UNDO}` (FLAGS may be left out)"
                        .into(),
                ),
            ));
        }
        self.bump();
        let num = self.expression("a semaphore number after `{`")?;
        self.comma("after the semaphore number", "`{NUM, OP}`")?;
        let op = self.expression("an operation (a number: < 0 takes, 0 waits for zero, > 0 adds) after `,`")?;
        let flags = if self.peek().tok == Tok::Comma {
            self.bump();
            Some(self.expression("flags (`IPC_NOWAIT`, `SEM_UNDO` or 0) after `,`")?)
        } else {
            None
        };
        if self.peek().tok != Tok::RBrace {
            return Err(self.expected("`}` after the operation (`{NUM, OP, FLAGS}`)"));
        }
        self.bump();
        let times = self.times()?;
        Ok(SembufArg { num, op, flags, times, span: self.span_from(start) })
    }

    /// `{FD, ...} [* N]`: the descriptors of a `sendmsg`'s `SCM_RIGHTS`.
    fn rights(&mut self, spec: &CallSpec, index: usize) -> PResult<RightsArg> {
        let start = self.peek().span;
        let list = self.list(spec, index, 0, crate::linux::socket::MAX_RIGHTS_WRITTEN)?;
        let mut times = 1;
        if self.peek().tok == Tok::Star {
            self.bump();
            let token = self.peek().clone();
            match token.tok {
                Tok::Int(Some(count)) if (1..=crate::linux::socket::MAX_RIGHTS_TIMES as u128).contains(&count) => {
                    self.bump();
                    times = count as u32;
                }
                _ => {
                    return Err(self.expected_with(
                        "a count after `*`",
                        Some(format!(
                            "`{{FD, ...}} * N` repeats the descriptors N times, N from 1 to {}",
                            crate::linux::socket::MAX_RIGHTS_TIMES
                        )),
                    ))
                }
            }
        }
        Ok(RightsArg { fds: list.value, times, span: self.span_from(start) })
    }

    /// `* N` after an operation: how many times it is given (1 without).
    fn times(&mut self) -> PResult<u32> {
        if self.peek().tok != Tok::Star {
            return Ok(1);
        }
        self.bump();
        let token = self.peek().clone();
        match token.tok {
            Tok::Int(Some(count)) if (1..=MAX_SEMBUF_TIMES as u128).contains(&count) => {
                self.bump();
                Ok(count as u32)
            }
            Tok::Int(_) => Err(self.error(
                token.span,
                format!(
                    "an operation is given between 1 and {MAX_SEMBUF_TIMES} times, not {}",
                    self.snippet(token.span)
                ),
            )),
            _ => Err(self.expected("a number of times after `*`")),
        }
    }

    /// `,` between the values of `{...}`.
    fn comma(&mut self, after: &str, shape: &str) -> PResult<()> {
        if self.peek().tok != Tok::Comma {
            return Err(self.expected_with(&format!("`,` {after}"), Some(format!("it is written {shape}"))));
        }
        self.bump();
        Ok(())
    }

    /// `{V, V, ...}` with between `min` and `max` values.
    fn list(&mut self, spec: &CallSpec, index: usize, min: usize, max: usize) -> PResult<Located<Vec<Expr>>> {
        let start = self.peek().span;
        if self.peek().tok != Tok::LBrace {
            return Err(self.expected(&operand_what(spec, index)));
        }
        self.bump();
        let mut values = Vec::new();
        // `{}`, where none is allowed (an empty `select` set).
        if min == 0 && self.peek().tok == Tok::RBrace {
            self.bump();
            return Ok(Located { value: values, span: self.span_from(start) });
        }
        loop {
            values.push(self.expression("a value in `{...}`")?);
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {
                    self.bump();
                    break;
                }
                _ => return Err(self.expected("`,` or `}` after a value in `{...}`")),
            }
        }
        let span = self.span_from(start);
        if values.len() < min || values.len() > max {
            let count = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            return Err(self
                .error(span, format!("`{}` takes {count} values in `{{...}}` here, not {}", spec.name, values.len())));
        }
        Ok(Located { value: values, span })
    }

    /// Checks a byte count against `max_io_bytes`.
    fn io_limit(&mut self, value: i128, span: Span, what: &str) -> PResult<()> {
        if value > self.limits.max_io_bytes as i128 {
            return Err(self.error(
                span,
                format!(
                    "the {} of {} bytes is more than the limit of {} bytes (max_io_bytes)",
                    what,
                    self.snippet(span),
                    self.limits.max_io_bytes
                ),
            ));
        }
        Ok(())
    }

    /// `"STRING"` | `N bytes` | `N bytes of "PATTERN"`
    fn payload(&mut self, spec: &CallSpec, index: usize) -> PResult<Payload> {
        let token = self.peek().clone();
        let after = operand_after(spec, index);
        match token.tok {
            Tok::Str(bytes) => {
                self.bump();
                self.io_limit(bytes.len() as i128, token.span, &format!("`{}` payload", spec.name))?;
                Ok(Payload::Bytes(bytes))
            }
            Tok::Int(magnitude) => {
                self.bump();
                if !self.word_is("bytes") {
                    let count = self.snippet(token.span);
                    return Err(self.expected_with(
                        &format!("`bytes` after `{} {}`", after, count),
                        Some(format!("write a count as `{} bytes`, or data as a string", count)),
                    ));
                }
                self.bump();
                self.io_limit(
                    magnitude.unwrap_or(u128::MAX).min(i128::MAX as u128) as i128,
                    token.span,
                    &format!("`{}`", spec.name),
                )?;
                let pattern = if self.word_is("of") {
                    self.bump();
                    let token = self.peek().clone();
                    let Tok::Str(pattern) = token.tok else {
                        return Err(self.expected("a pattern string after `of`"));
                    };
                    self.bump();
                    if pattern.is_empty() {
                        return Err(self.error(token.span, "the pattern after `of` cannot be empty"));
                    }
                    pattern
                } else {
                    b"x".to_vec()
                };
                Ok(Payload::Fill { len: magnitude.unwrap_or(0) as u32, pattern })
            }
            _ => Err(self.expected_with(
                &format!("a string or `N bytes` after `{}`", after),
                Some(format!("for example `{} \"hello\"` or `{} 70_000 bytes`", after, after)),
            )),
        }
    }

    fn path(&mut self, spec: &CallSpec, index: usize) -> PResult<Located<String>> {
        let token = self.peek().clone();
        // `connect FD AF_UNSPEC`: an address of family `AF_UNSPEC`, which dissolves a datagram socket's
        // association. It is kept as the one empty path a program can hold.
        if spec.id == CallId::Connect && token.tok == Tok::Word && self.text(&token) == "AF_UNSPEC" {
            self.bump();
            return Ok(Located { value: String::new(), span: token.span });
        }
        let Tok::Str(bytes) = token.tok else {
            return Err(self.expected(&operand_what(spec, index)));
        };
        self.bump();
        if bytes.is_empty() {
            return Err(self.error(token.span, "a path cannot be empty"));
        }
        // A Unix-domain socket's address may start with a NUL byte: the rest is a name in the abstract
        // namespace, with no file behind it (`unix(7)`).
        let abstract_name = spec.mechanism == Mechanism::Socket && bytes[0] == 0;
        if bytes[usize::from(abstract_name)..].contains(&0) {
            let message = if abstract_name {
                "an abstract socket name is written with one NUL byte, the first: `\"\\0name\"`"
            } else if spec.mechanism == Mechanism::Socket {
                "a NUL byte (`\\0`) may only come first in a socket's address, which makes it an abstract name"
            } else {
                "a path cannot contain a NUL byte (`\\0`)"
            };
            return Err(self.error(token.span, message));
        }
        if bytes.len() > self.limits.max_path_bytes as usize {
            return Err(self.error(
                token.span,
                format!(
                    "the path is {} bytes long, more than the limit of {} bytes (max_path_bytes)",
                    bytes.len(),
                    self.limits.max_path_bytes
                ),
            ));
        }
        match String::from_utf8(bytes) {
            Ok(path) => Ok(Located { value: path, span: token.span }),
            Err(_) => Err(self.error(token.span, "a path must be valid UTF-8 text")),
        }
    }

    // --- expressions --------------------------------------------------------------------------

    /// An operand: a value, a name, `self`, `-x`, `!x`, `(EXPR)`, or flags joined by `|` (`O_WRONLY|O_NONBLOCK`).
    /// Wider expressions go in parentheses, so that operands need no commas between them.
    fn operand_expression(&mut self, what: &str) -> PResult<Expr> {
        let mut left = self.unary(what)?;
        while self.peek().tok == Tok::Bar {
            self.bump();
            let right = self.unary("a value after `|`")?;
            let span = Span { end_byte: right.span.end_byte, ..left.span };
            left = Expr {
                kind: ExprKind::Binary { op: BinaryOp::BitOr, left: Box::new(left), right: Box::new(right) },
                span,
            };
        }
        Ok(left)
    }

    /// A full expression, as in a condition or an assignment.
    fn expression(&mut self, what: &str) -> PResult<Expr> {
        self.binary(1, what)
    }

    fn binary_op(&self) -> Option<BinaryOp> {
        Some(match self.peek().tok {
            Tok::OrOr => BinaryOp::Or,
            Tok::AndAnd => BinaryOp::And,
            Tok::Bar => BinaryOp::BitOr,
            Tok::Amp => BinaryOp::BitAnd,
            Tok::EqEq => BinaryOp::Eq,
            Tok::NotEq => BinaryOp::Ne,
            Tok::Lt => BinaryOp::Lt,
            Tok::Le => BinaryOp::Le,
            Tok::Gt => BinaryOp::Gt,
            Tok::Ge => BinaryOp::Ge,
            Tok::Plus => BinaryOp::Add,
            Tok::Minus => BinaryOp::Sub,
            Tok::Star => BinaryOp::Mul,
            Tok::Slash => BinaryOp::Div,
            Tok::Percent => BinaryOp::Rem,
            _ => return None,
        })
    }

    fn binary(&mut self, min_precedence: u8, what: &str) -> PResult<Expr> {
        let mut left = self.unary(what)?;
        while let Some(op) = self.binary_op() {
            if op.precedence() < min_precedence {
                break;
            }
            let symbol = self.bump();
            let right = self.binary(op.precedence() + 1, &format!("a value after `{}`", self.text(&symbol)))?;
            let span = Span { end_byte: right.span.end_byte, ..left.span };
            left = Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, span };
        }
        if self.peek().tok == Tok::Assign {
            let span = self.peek().span;
            return Err(self.error_help(span, "`=` inside an expression", "comparisons are written `==`"));
        }
        Ok(left)
    }

    fn unary(&mut self, what: &str) -> PResult<Expr> {
        self.expression_depth += 1;
        let result = if self.expression_depth > MAX_EXPRESSION_DEPTH {
            let span = self.peek().span;
            Err(self.error(span, format!("the expression is nested more than {MAX_EXPRESSION_DEPTH} deep")))
        } else {
            self.unary_inner(what)
        };
        self.expression_depth -= 1;
        result
    }

    fn unary_inner(&mut self, what: &str) -> PResult<Expr> {
        let token = self.peek().clone();
        let op = match token.tok {
            Tok::Minus => UnaryOp::Neg,
            Tok::Bang => UnaryOp::Not,
            _ => return self.primary(what),
        };
        self.bump();
        // `-5` is the number -5, so that every 64-bit value can be written.
        if let (UnaryOp::Neg, Tok::Int(magnitude)) = (op, &self.peek().tok) {
            let magnitude = *magnitude;
            let number = self.bump();
            let span = Span { end_byte: number.span.end_byte, ..token.span };
            return match magnitude.filter(|m| *m <= 1u128 << 63) {
                Some(m) => Ok(Expr { kind: ExprKind::Int((m as i128).wrapping_neg() as i64), span }),
                None => Err(self.error(span, format!("the number {} does not fit in 64 bits", self.snippet(span)))),
            };
        }
        let operand = self.unary(what)?;
        let span = Span { end_byte: operand.span.end_byte, ..token.span };
        Ok(Expr { kind: ExprKind::Unary { op, operand: Box::new(operand) }, span })
    }

    fn primary(&mut self, what: &str) -> PResult<Expr> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Int(magnitude) => {
                self.bump();
                match magnitude.filter(|m| *m <= i64::MAX as u128) {
                    Some(m) => Ok(Expr { kind: ExprKind::Int(m as i64), span: token.span }),
                    None => Err(self
                        .error(token.span, format!("the number {} does not fit in 64 bits", self.snippet(token.span)))),
                }
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expression("a value after `(`")?;
                if self.peek().tok != Tok::RParen {
                    return Err(self.expected("`)` to close the `(`"));
                }
                self.bump();
                Ok(Expr { span: self.span_from(token.span), ..inner })
            }
            Tok::Word => {
                let word = self.text(&token);
                if word == "self" {
                    self.bump();
                    return Ok(Expr { kind: ExprKind::SelfPid, span: token.span });
                }
                if is_keyword(word) {
                    return Err(self.expected_with(what, Some(format!("`{}` is a keyword", word))));
                }
                if let Some((base, end)) = word.split_once('.') {
                    // A pipe end, a received message's type or priority, or a field (`msg_perm.mode`).
                    let known = is_identifier(base)
                        && (matches!(end, "r" | "w" | "mtype" | "prio")
                            || POLL_FIELDS.contains(&end)
                            || SELECT_FIELDS.contains(&end)
                            || EPOLL_FIELDS.contains(&end)
                            || BYTES_FIELDS.contains(&end)
                            || RIGHTS_FIELDS.contains(&end))
                        || linux::lookup(word).is_some();
                    if !known {
                        return Err(self.expected_with(
                            what,
                            Some({
                                let b = show(base);
                                format!(
                                    "pipe ends are written `{b}.r` and `{b}.w`, a socket pair's ends `{b}.0` and `{b}.1`, a received message's type and priority `{b}.mtype` and `{b}.prio`, what a read got `{b}.first`, `{b}.last` and `{b}.runs`, what a `recvmsg` got `{b}.fd`, `{b}.fds` and `{b}.flags`, what a `poll` got `{b}.0` to `{b}.4` (each entry's revents), what a `select` got `{b}.read`, `{b}.write` and `{b}.except`, what an `epoll_wait` got `{b}.fd0` to `{b}.fd4` and `{b}.events0` to `{b}.events4`"
                                )
                            }),
                        ));
                    }
                }
                self.bump();
                Ok(Expr { kind: ExprKind::Name(word.to_string()), span: token.span })
            }
            Tok::Str(_) => Err(self.expected_with(what, Some("a string is not a number here".to_string()))),
            _ => Err(self.expected(what)),
        }
    }

    // --- names, outcomes and results ----------------------------------------------------------

    /// A name being declared (a process, a child).
    fn binding_name(&mut self, what: &str) -> PResult<(String, Span)> {
        let token = self.peek().clone();
        match self.word() {
            Some(word) if is_name(word) => {
                self.bump();
                Ok((word.to_string(), token.span))
            }
            Some(word) if is_keyword(word) => {
                Err(self.expected_with(what, Some(format!("`{}` is a keyword and cannot be used as a name", word))))
            }
            Some(word) if linux::lookup(word).is_some() => {
                Err(self
                    .expected_with(what, Some(format!("`{}` is a Linux constant and cannot be used as a name", word))))
            }
            Some(_) => Err(self.expected_with(
                what,
                Some("a name is letters, digits and `_`, and does not start with a digit".into()),
            )),
            None => Err(self.expected(what)),
        }
    }

    fn signal(&mut self, what: &str) -> PResult<Signal> {
        let Some(word) = self.word() else {
            return Err(self.expected(what));
        };
        if word.starts_with("SIG") {
            if let Some(signal) = Signal::from_name(word) {
                self.bump();
                return Ok(signal);
            }
            let span = self.peek().span;
            let mut diag = Diagnostic::new(span, format!("unknown signal `{}`", show(word)));
            if let Some(c) = names::closest(word, SIGNALS.iter().map(|(_, name, _)| *name)) {
                diag = diag.with_help(format!("did you mean `{}`?", c));
            }
            self.report(diag);
            return Err(Failed);
        }
        let help = Signal::from_name(word).map(|s| format!("signal names keep their `SIG` prefix: `{}`", s.name()));
        Err(self.expected_with(what, help))
    }

    /// An exit status as expectations write it: 0 to 255.
    fn exit_status(&mut self, what: &str) -> PResult<u8> {
        let token = self.peek().clone();
        let negative = token.tok == Tok::Minus;
        if negative {
            self.bump();
        }
        let number = self.peek().clone();
        let Tok::Int(magnitude) = number.tok else {
            return Err(self.expected(what));
        };
        self.bump();
        let span = self.span_from(token.span);
        match magnitude.filter(|m| *m <= 255 && !negative) {
            Some(value) => Ok(value as u8),
            None => Err(self.error(
                span,
                format!("exit status {} is out of range: a parent sees a value between 0 and 255", self.snippet(span)),
            )),
        }
    }

    /// `expect OUTCOME` on a `process` or `fork` line, if present.
    fn optional_outcome(&mut self, owner: &str) -> PResult<Option<Located<ProcessOutcome>>> {
        if !self.word_is("expect") {
            return Ok(None);
        }
        self.bump();
        let start = self.peek().span;
        let Some(value) = self.process_end()? else {
            return Err(self.expected_with(
                &format!("`exited N`, `killed SIGNAL` or `running` after `expect` in {}", owner),
                Some(format!("for example `{} expect exited 0 {{`", owner.trim_matches('`'))),
            ));
        };
        Ok(Some(Located { value, span: self.span_from(start) }))
    }

    /// `exited N` | `killed SIGNAL [core | no core]` | `running`, if the next word starts one.
    fn process_end(&mut self) -> PResult<Option<ProcessOutcome>> {
        Ok(Some(match self.word() {
            Some("exited" | "killed") => match self.end_of_process()? {
                (ChildStatus::Killed { signal, core }, no_core) => ProcessOutcome::Killed { signal, core, no_core },
                (ChildStatus::Exited(status), _) => ProcessOutcome::Exited(status),
                // Not formatted with `{:?}`, which would link the Debug code of the syntax tree's types.
                _ => unreachable!("end_of_process gives an exit or a kill"),
            },
            Some("running") => {
                self.bump();
                ProcessOutcome::Running
            }
            _ => return Ok(None),
        }))
    }

    fn unknown_errno(&mut self, word: &str, span: Span) -> Failed {
        let mut diag = Diagnostic::new(span, format!("unknown errno `{}`", show(word)));
        diag = match names::closest(word, ERRNOS.iter().map(|(_, name, _)| *name)) {
            Some(c) => diag.with_help(format!("did you mean `{}`?", c)),
            None => diag.with_help(format!(
                "the errnos the simulator knows are {}",
                ERRNOS.iter().map(|(_, name, _)| *name).collect::<Vec<_>>().join(", ")
            )),
        };
        self.report(diag);
        Failed
    }

    /// `{1, 0, 3}` after `->`: the values `GETALL` stores.
    fn result_values(&mut self) -> PResult<Vec<i64>> {
        self.bump();
        let mut values = Vec::new();
        loop {
            let start = self.peek().span;
            values.push(self.signed_number("a number in `{...}`")?);
            let span = self.span_from(start);
            if values.len() > MAX_EXPECTED_VALUES {
                return Err(self.error(span, format!("at most {MAX_EXPECTED_VALUES} values fit in an expectation")));
            }
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {
                    self.bump();
                    return Ok(values);
                }
                _ => return Err(self.expected("`,` or `}` after a value in `{...}`")),
            }
        }
    }

    /// The part after `->`: one result, or several joined by `|`.
    fn result(&mut self, spec: &CallSpec) -> PResult<Located<Expect>> {
        let start = self.peek().span;
        let mut alternatives = vec![self.one_result(spec)?];
        while self.peek().tok == Tok::Bar {
            self.bump();
            alternatives.push(self.one_result(spec)?);
        }
        let value =
            if alternatives.len() == 1 { alternatives.pop().expect("one") } else { Expect::AnyOf(alternatives) };
        Ok(Located { value, span: self.span_from(start) })
    }

    fn one_result(&mut self, spec: &CallSpec) -> PResult<Expect> {
        use super::syscalls::ResultShape;
        let token = self.peek().clone();
        let what = "a result after `->`";
        let help = "a result is a number (`5`), `ok`, a string (`\"hi\"`), a byte count (`100 bytes`), an errno \
                    (`EAGAIN`), a child status (`child exited 0`) or `none`, or several joined by `|`";
        let reads_data = matches!(spec.result, ResultShape::Data | ResultShape::Message);
        let waits = matches!(spec.result, ResultShape::Child | ResultShape::ChildInfo);
        if spec.result == ResultShape::NoReturn {
            return Err(self.error_help(
                token.span,
                format!("`{}` never returns, so it has no result to expect", spec.name),
                "say how the process ends on its `process` or `fork` line: `expect exited 3`",
            ));
        }
        let value = match token.tok {
            Tok::Minus | Tok::Int(_) => {
                let negative = token.tok == Tok::Minus;
                if negative {
                    self.bump();
                }
                let number = self.peek().clone();
                let Tok::Int(magnitude) = number.tok else {
                    return Err(self.expected_with(what, Some(help.into())));
                };
                self.bump();
                let span = self.span_from(token.span);
                if self.word_is("bytes") {
                    self.bump();
                    if !reads_data {
                        return Err(self.error(span, format!("`{}` returns no bytes to count", spec.name)));
                    }
                    match magnitude.filter(|m| !negative && *m <= u32::MAX as u128) {
                        Some(count) => Expect::ByteCount(count as u32),
                        None => {
                            return Err(self.error(
                                span,
                                format!(
                                    "the byte count {} is out of range: it must be between 0 and {}",
                                    self.snippet(span),
                                    u32::MAX
                                ),
                            ))
                        }
                    }
                } else {
                    let limit = if negative { 1u128 << 63 } else { i64::MAX as u128 };
                    match magnitude.filter(|m| *m <= limit) {
                        Some(m) if negative => Expect::Value((m as i128).wrapping_neg() as i64),
                        Some(m) => Expect::Value(m as i64),
                        None => {
                            return Err(
                                self.error(span, format!("the number {} does not fit in 64 bits", self.snippet(span)))
                            )
                        }
                    }
                }
            }
            Tok::LBrace if spec.result == ResultShape::Values => Expect::Values(self.result_values()?),
            Tok::Str(bytes) => {
                if !reads_data {
                    return Err(self.error_help(
                        token.span,
                        format!("`{}` returns no bytes to compare with a string", spec.name),
                        "a string result belongs after `read`",
                    ));
                }
                self.bump();
                Expect::Data(bytes)
            }
            Tok::Word => {
                let word = self.text(&token);
                let next_is_status = self.nth(1).tok == Tok::Word
                    && matches!(self.text(self.nth(1)), "exited" | "killed" | "stopped" | "continued");
                if word == "none" {
                    if !waits {
                        return Err(
                            self.error(token.span, format!("`none` is a result of a wait; `{}` is not one", spec.name))
                        );
                    }
                    self.bump();
                    Expect::NoChild
                } else if word == "ok" {
                    self.bump();
                    Expect::Ok
                } else if next_is_status {
                    if !is_name(word) {
                        let help = if word == "self" {
                            "a wait result names the child that was waited for".to_string()
                        } else {
                            "a wait result starts with the child's name: `child exited 0`".to_string()
                        };
                        return Err(self.expected_with("a child process name after `->`", Some(help)));
                    }
                    if !waits {
                        return Err(self.error(
                            token.span,
                            format!(
                                "`{}` reports no child; a child status is a result of `wait`, `waitpid` or `waitid`",
                                spec.name
                            ),
                        ));
                    }
                    self.bump();
                    let (status, no_core) = self.child_status(word)?;
                    Expect::Child { name: word.to_string(), status, no_core }
                } else if let Some(errno) = Errno::from_name(word) {
                    self.bump();
                    Expect::Error(errno)
                } else if linux::looks_like_constant(word) && word.starts_with('E') {
                    return Err(self.unknown_errno(word, token.span));
                } else if is_name(word) {
                    self.bump();
                    return Err(self.expected_with(
                        &format!("`exited`, `killed`, `stopped` or `continued` after `-> {}`", show(word)),
                        Some(help.into()),
                    ));
                } else {
                    return Err(self.expected_with(what, Some(help.into())));
                }
            }
            _ => return Err(self.expected_with(what, Some(help.into()))),
        };
        Ok(value)
    }

    /// `exited N` | `killed SIGNAL [core | no core]`, at either word: how a process ended, in an
    /// outcome on a `process` line or in a wait's result; with whether `no core` was written.
    fn end_of_process(&mut self) -> PResult<(ChildStatus, bool)> {
        if self.word_is("exited") {
            self.bump();
            return Ok((ChildStatus::Exited(self.exit_status("an exit status after `exited`")?), false));
        }
        self.bump();
        let signal = self.signal("a signal after `killed`")?;
        let core = self.word_is("core");
        if core {
            self.bump();
        }
        let no_core = !core && self.word_is("no") && self.nth(1).tok == Tok::Word && self.text(self.nth(1)) == "core";
        if no_core {
            self.bump();
            self.bump();
        }
        Ok((ChildStatus::Killed { signal, core }, no_core))
    }

    /// `exited N` | `killed SIGNAL [core]` | `stopped SIGNAL` | `continued`
    fn child_status(&mut self, child: &str) -> PResult<(ChildStatus, bool)> {
        let status = match self.word() {
            Some("exited" | "killed") => self.end_of_process()?,
            Some("stopped") => {
                self.bump();
                (ChildStatus::Stopped(self.signal("a signal after `stopped`")?), false)
            }
            Some("continued") => {
                self.bump();
                (ChildStatus::Continued, false)
            }
            _ => {
                return Err(
                    self.expected(&format!("`exited`, `killed`, `stopped` or `continued` after `{}`", show(child)))
                )
            }
        };
        Ok(status)
    }
}

/// The most values `SETALL`'s `{...}` holds: the simulator packs them, as `unsigned short`s, into one
/// operand.
pub const MAX_SETALL_VALUES: usize = 4;
/// The most values a `-> {...}` expectation lists.
pub const MAX_EXPECTED_VALUES: usize = 1_000;
/// The most times one `semop` operation may be given with `* N` (`SEMOPM`, 500, is the most a `semop`
/// takes in all; past it the call fails with `E2BIG`, as on Linux).
pub const MAX_SEMBUF_TIMES: u32 = 65_535;

/// What operand `index` of a call is, in the words of an "expected ..." message.
fn operand_what(spec: &CallSpec, index: usize) -> String {
    let operand = spec.operands[index];
    let noun = match operand.kind {
        OperandKind::Fd if index > 0 && spec.operands[0].kind == OperandKind::Fd => "a second descriptor".to_string(),
        OperandKind::Fd => "a descriptor".to_string(),
        OperandKind::Pid => "a process (a name, `self` or a number)".to_string(),
        OperandKind::Int => format!("a number ({})", operand.word),
        OperandKind::Count => "a byte count".to_string(),
        OperandKind::Signal => "a signal".to_string(),
        OperandKind::Flags(family) => format!("{} flags", flags_noun(family)),
        OperandKind::OneOf(family) => family.noun().to_string(),
        OperandKind::SignalSet => "a signal set (signals joined by `|`, a mask, or `0`)".to_string(),
        OperandKind::Action => "`SIG_DFL`, `SIG_IGN` or a handler's name".to_string(),
        OperandKind::Payload => "a string or `N bytes`".to_string(),
        OperandKind::Path => "a path in double quotes".to_string(),
        OperandKind::Id => format!("an id ({})", operand.word),
        OperandKind::Sembuf => "an operation `{NUM, OP, FLAGS}`".to_string(),
        OperandKind::SemArg => "a value, a field or `{V, ...}`".to_string(),
        OperandKind::MqAttr => "attributes `{MAXMSG, MSGSIZE}`".to_string(),
        OperandKind::Name => "a name in double quotes (`\"/jobs\"`)".to_string(),
        OperandKind::Rights => "descriptors `{FD, ...}`".to_string(),
        OperandKind::PollFd => "an entry `{FD, EVENTS}`".to_string(),
        OperandKind::FdSet => "a descriptor set `{FD, ...}`".to_string(),
    };
    format!("{} after `{}`", noun, operand_after(spec, index))
}

/// The call and the operands before operand `index`, as the reference writes them (`read FD`).
fn operand_after(spec: &CallSpec, index: usize) -> String {
    let mut text = spec.name.to_string();
    for operand in &spec.operands[..index] {
        text.push(' ');
        text.push_str(operand.word);
    }
    text
}

fn flags_noun(family: Family) -> &'static str {
    match family {
        Family::OpenFlag => "open",
        Family::PipeFlag => "`pipe2`",
        Family::WaitOption => "`waitpid`",
        Family::WaitidOption => "`waitid`",
        _ => "the",
    }
}
