//! Scenario text (`.ipc`) to syntax tree ([`Scenario`]).
//!
//! Three stages:
//! 1. the lexer turns the text into tokens, reporting bad characters, numbers and strings;
//! 2. the parser builds the tree; after an error inside a statement it skips to the end of the line
//!    (parsing any block opened on that line, so braces stay balanced) and goes on, so one run
//!    reports several errors;
//! 3. the name check, on a tree that parsed cleanly: processes and descriptors must be declared.
//!
//! Every bound of [`Limits`] that concerns the text is enforced here with a located error. No input
//! makes the parser panic or recurse without bound.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::linux::{ERRNOS, SIGNALS};
use std::collections::{BTreeMap, BTreeSet};

/// The most diagnostics one parse reports.
pub const MAX_DIAGNOSTICS: usize = 50;

/// Words besides the system call names ([`crate::program::SYSTEM_CALLS`]) that cannot be used as
/// process or descriptor names.
pub const OTHER_KEYWORDS: &[&str] =
    &["fork", "repeat", "process", "expect", "self", "none", "title", "description", "stdin", "stdout", "stderr"];

/// Whether `word` is reserved: a system call name or one of [`OTHER_KEYWORDS`].
pub fn is_keyword(word: &str) -> bool {
    crate::program::SYSTEM_CALLS.contains(&word) || OTHER_KEYWORDS.contains(&word)
}

/// The words that can start a statement (for "did you mean" hints).
const STATEMENT_WORDS: &[&str] = &[
    "dup2",
    "close",
    "write",
    "read",
    "mkfifo",
    "unlink",
    "fcntl",
    "kill",
    "signal",
    "wait",
    "waitpid",
    "pause",
    "sched_yield",
    "exit",
    "fork",
    "repeat",
];

const STANDARD_FDS: &[&str] = &["stdin", "stdout", "stderr"];

/// Parses a scenario with [`Limits::DEFAULT`].
pub fn parse(source: &str) -> Result<Scenario, Vec<Diagnostic>> {
    parse_with_limits(source, &Limits::DEFAULT)
}

/// Parses a scenario, enforcing the text limits of `limits`.
pub fn parse_with_limits(source: &str, limits: &Limits) -> Result<Scenario, Vec<Diagnostic>> {
    if source.len() as u64 > limits.max_source_bytes as u64 {
        let span = Span { line: 1, col: 1, start_byte: 0, end_byte: 0 };
        return Err(vec![Diagnostic::new(
            span,
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
        names: Names::default(),
    };
    let scenario = parser.file();
    diags.append(&mut parser.diags);
    if diags.is_empty() {
        diags = parser.names.check();
    }
    if diags.is_empty() {
        Ok(scenario)
    } else {
        diags.sort_by_key(|d| d.span.start_byte);
        diags.truncate(MAX_DIAGNOSTICS);
        Err(diags)
    }
}

/// True for `[A-Za-z_][A-Za-z0-9_]*` that is not a keyword.
pub fn is_name(word: &str) -> bool {
    is_identifier(word) && !is_keyword(word)
}

fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug)]
enum Tok {
    /// Letters, digits, `_`, with inner `.` or `-` (`p.r`, `all-exited`): the text is in the source.
    Word,
    /// A decimal number; `magnitude` is `None` when it does not fit in 128 bits.
    Int {
        negative: bool,
        magnitude: Option<u128>,
    },
    /// A string literal, escapes decoded.
    Str(Vec<u8>),
    LBrace,
    RBrace,
    Equals,
    Bar,
    Arrow,
    Newline,
    Eof,
    /// Something the lexer already reported.
    Bad,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    span: Span,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    col: u32,
    tokens: Vec<Token>,
    diags: Vec<Diagnostic>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0, line: 1, col: 1, tokens: Vec::new(), diags: Vec::new() }
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        let mut chars = self.src[self.pos..].chars();
        chars.next();
        chars.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn here(&self) -> Span {
        Span { line: self.line, col: self.col, start_byte: self.pos as u32, end_byte: self.pos as u32 }
    }

    fn to_here(&self, start: Span) -> Span {
        Span { end_byte: self.pos as u32, ..start }
    }

    fn push(&mut self, tok: Tok, start: Span) {
        let span = self.to_here(start);
        self.tokens.push(Token { tok, span });
    }

    fn report(&mut self, diag: Diagnostic) {
        if self.diags.len() < MAX_DIAGNOSTICS {
            self.diags.push(diag);
        }
    }

    fn run(mut self) -> (Vec<Token>, Vec<Diagnostic>) {
        if self.src.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        while let Some(c) = self.peek() {
            let start = self.here();
            match c {
                '\n' => {
                    self.bump();
                    self.push(Tok::Newline, start);
                }
                ' ' | '\t' | '\r' | '\u{c}' => {
                    self.bump();
                }
                '#' => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                '"' => self.string(start),
                '{' | '}' | '=' | '|' => {
                    self.bump();
                    let tok = match c {
                        '{' => Tok::LBrace,
                        '}' => Tok::RBrace,
                        '=' => Tok::Equals,
                        _ => Tok::Bar,
                    };
                    self.push(tok, start);
                }
                '-' if self.peek_second() == Some('>') => {
                    self.bump();
                    self.bump();
                    self.push(Tok::Arrow, start);
                }
                '-' if self.peek_second().is_some_and(|c| c.is_ascii_digit()) => {
                    self.bump();
                    self.number(start, true);
                }
                '0'..='9' => self.number(start, false),
                c if c.is_ascii_alphabetic() || c == '_' => self.word(start),
                _ => self.bad_characters(start),
            }
        }
        let end = self.here();
        self.push(Tok::Eof, end);
        (self.tokens, self.diags)
    }

    fn word(&mut self, start: Span) {
        loop {
            while self.peek().is_some_and(is_ident_char) {
                self.bump();
            }
            let joiner = matches!(self.peek(), Some('.') | Some('-'));
            if joiner && self.peek_second().is_some_and(is_ident_char) {
                self.bump();
            } else {
                break;
            }
        }
        self.push(Tok::Word, start);
    }

    fn number(&mut self, start: Span, negative: bool) {
        let digits_start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.bump();
        }
        let text = &self.src[digits_start..self.pos];
        if !text.chars().all(|c| c.is_ascii_digit() || c == '_') {
            let span = self.to_here(start);
            let shown = show(&self.src[start.start_byte as usize..self.pos]);
            self.report(
                Diagnostic::new(span, format!("invalid number `{}`", shown))
                    .with_help("numbers are written in decimal digits, like `4096` or `70_000`"),
            );
            self.push(Tok::Bad, start);
            return;
        }
        let mut magnitude: Option<u128> = Some(0);
        for c in text.chars() {
            if let Some(d) = c.to_digit(10) {
                magnitude = magnitude.and_then(|m| m.checked_mul(10)).and_then(|m| m.checked_add(d as u128));
            }
        }
        self.push(Tok::Int { negative, magnitude }, start);
    }

    fn bad_characters(&mut self, start: Span) {
        let stops = |c: char| {
            c.is_ascii_alphanumeric()
                || matches!(c, '_' | ' ' | '\t' | '\r' | '\n' | '\u{c}' | '#' | '"' | '{' | '}' | '=' | '|' | '-')
        };
        let mut count = 0;
        while let Some(c) = self.peek() {
            if count > 0 && stops(c) {
                break;
            }
            self.bump();
            count += 1;
        }
        let text = &self.src[start.start_byte as usize..self.pos];
        let shown: String = text.chars().flat_map(char::escape_debug).collect();
        let message = if count == 1 {
            format!("unexpected character `{}`", show(&shown))
        } else {
            format!("unexpected characters `{}`", show(&shown))
        };
        let mut diag = Diagnostic::new(self.to_here(start), message);
        let first = text.chars().next().unwrap_or(' ');
        match first {
            ';' => diag = diag.with_help("a statement ends at the end of its line; there is no `;`"),
            '\'' | '\u{201c}' | '\u{201d}' => {
                diag = diag.with_help("strings are written in straight double quotes: \"text\"")
            }
            '(' | ')' | ',' => diag = diag.with_help("operands are separated by spaces: `write p.w \"hi\"`"),
            '-' => diag = diag.with_help("`-` only starts a negative number or the arrow `->`"),
            _ => {}
        }
        self.report(diag);
        self.push(Tok::Bad, start);
    }

    fn string(&mut self, start: Span) {
        self.bump(); // the opening quote
        let mut bytes = Vec::new();
        let mut ok = true;
        loop {
            match self.peek() {
                None | Some('\n') => {
                    let span = self.to_here(start);
                    self.report(
                        Diagnostic::new(
                            span,
                            "unterminated string: expected a closing `\"` before the end of the line",
                        )
                        .with_help("a string cannot span lines; write a line break as `\\n`"),
                    );
                    self.push(Tok::Bad, start);
                    return;
                }
                Some('"') => {
                    self.bump();
                    break;
                }
                Some('\\') => {
                    let escape_start = self.here();
                    self.bump();
                    let decoded = match self.peek() {
                        None | Some('\n') => continue, // reported as unterminated
                        Some('n') => Some(b'\n'),
                        Some('t') => Some(b'\t'),
                        Some('r') => Some(b'\r'),
                        Some('0') => Some(0),
                        Some('\\') => Some(b'\\'),
                        Some('"') => Some(b'"'),
                        Some('x') => None,
                        Some(other) => {
                            self.bump();
                            let span = self.to_here(escape_start);
                            let shown: String = other.escape_debug().collect();
                            self.report(
                                Diagnostic::new(span, format!("unknown escape `\\{}` in a string", shown)).with_help(
                                    "the escapes are `\\n`, `\\t`, `\\r`, `\\0`, `\\\\`, `\\\"` and `\\xHH`",
                                ),
                            );
                            ok = false;
                            continue;
                        }
                    };
                    self.bump();
                    match decoded {
                        Some(byte) => bytes.push(byte),
                        None => {
                            let mut value = 0u8;
                            let mut good = true;
                            for _ in 0..2 {
                                match self.peek().and_then(|c| c.to_digit(16)) {
                                    Some(digit) => {
                                        self.bump();
                                        value = value * 16 + digit as u8;
                                    }
                                    None => {
                                        good = false;
                                        break;
                                    }
                                }
                            }
                            if good {
                                bytes.push(value);
                            } else {
                                let span = self.to_here(escape_start);
                                self.report(
                                    Diagnostic::new(span, "`\\x` must be followed by two hexadecimal digits")
                                        .with_help("for example `\\x0a` is a line feed and `\\xff` the byte 255"),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    let mut buffer = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
                }
            }
        }
        self.push(if ok { Tok::Str(bytes) } else { Tok::Bad }, start);
    }
}

/// Shortens a piece of source text for a message.
fn show(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX {
        let mut short: String = text.chars().take(MAX).collect();
        short.push('…');
        short
    } else {
        text.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Parser

/// A diagnostic was recorded (or was already recorded by the lexer): the caller recovers.
struct Failed;

type PResult<T> = Result<T, Failed>;

/// A hard bound on block nesting, whatever limits the caller passes, so recursion stays shallow.
const HARD_NESTING_CAP: u32 = 256;

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
    names: Names,
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
        if !matches!(token.tok, Tok::Eof) {
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
        if matches!(token.tok, Tok::Bad) {
            return Failed;
        }
        let mut diag = Diagnostic::new(token.span, format!("expected {}, found {}", what, self.describe(&token)));
        let help = help.or_else(|| {
            let word = self.word()?;
            if is_keyword(word) && is_identifier(word) {
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

    /// Skips to the end of the line after an error. A block opened on the way is parsed (and
    /// dropped) so that its `}` does not close the enclosing block; a `}` ends the skip inside a
    /// block and is dropped at the top level.
    fn recover(&mut self, block_depth: u32, top: bool) {
        loop {
            match self.peek().tok {
                Tok::Newline | Tok::Eof => return,
                Tok::RBrace if !top => return,
                Tok::LBrace => {
                    let open = self.bump();
                    if block_depth > self.max_depth() {
                        self.skip_block(open.span, "this block");
                    } else {
                        self.block(block_depth, open.span, "this block");
                    }
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
        let mut processes = Vec::new();
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
                        "expected `process`, `title`, `description` or `expect`, found `}`",
                        "this `}` closes no open block",
                    );
                    self.bump();
                    continue;
                }
                _ => {}
            }
            let result = match self.word() {
                Some("process") => self.process().map(|p| processes.push(p)),
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
                Some("expect") => match self.run_end() {
                    Ok(end) => {
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
                        Ok(())
                    }
                    Err(failed) => Err(failed),
                },
                Some(word) => {
                    let statement = STATEMENT_WORDS.contains(&word)
                        || matches!(word, "pipe" | "pipe2" | "open" | "dup")
                        || matches!(self.nth(1).tok, Tok::Equals);
                    let help = if statement {
                        Some("statements go inside a `process NAME { ... }` block".to_string())
                    } else {
                        closest(word, ["process", "title", "description", "expect"])
                            .map(|c| format!("did you mean `{}`?", c))
                    };
                    Err(self.expected_with("`process`, `title`, `description` or `expect`", help))
                }
                None => Err(self.expected("`process`, `title`, `description` or `expect`")),
            };
            if result.is_err() {
                self.recover(0, true);
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
            processes,
            expected_end,
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
                let mut help =
                    closest(word, ["all-exited", "deadlock", "step-limit"]).map(|c| format!("did you mean `{}`?", c));
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
        let (name, name_span) = self.name("a process name after `process`")?;
        let owner = format!("`process {}`", show(&name));
        let expect = self.optional_outcome(&owner)?;
        let open = self.open_brace(&owner, "process")?;
        let body = self.block(0, open, &owner);
        self.names.top_processes.push((name.clone(), name_span));
        Ok(ProcessDecl { name, name_span, expect, body })
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
                while matches!(self.toks[ahead].tok, Tok::Newline) {
                    ahead += 1;
                }
                if matches!(self.toks[ahead].tok, Tok::LBrace) {
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
    fn block(&mut self, depth: u32, open: Span, owner: &str) -> Vec<Stmt> {
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
                _ => match self.statement(depth) {
                    Ok(stmt) => body.push(stmt),
                    Err(Failed) => self.recover(depth + 1, false),
                },
            }
        }
    }

    // --- statements ---------------------------------------------------------------------------

    fn statement(&mut self, depth: u32) -> PResult<Stmt> {
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
            Some("fork") => self.fork(depth).map(Stmt::Fork),
            Some("repeat") => self.repeat(depth).map(Stmt::Repeat),
            _ => self.call_statement().map(Stmt::Call),
        }
    }

    /// After the `{` of a `fork` or `repeat` at `depth` (the enclosing block's depth): checks the
    /// nesting limit and parses the block.
    fn nested_block(&mut self, depth: u32, keyword: Span, open: Span, owner: &str) -> PResult<Vec<Stmt>> {
        let inner = depth + 1;
        if inner > self.max_depth() {
            self.error(
                keyword,
                format!(
                    "blocks are nested {} deep here, more than the limit of {} (max_nesting_depth)",
                    inner, self.limits.max_nesting_depth
                ),
            );
            self.skip_block(open, owner);
            return Err(Failed);
        }
        Ok(self.block(inner, open, owner))
    }

    /// `fork NAME [expect OUTCOME] { STMT* }`
    fn fork(&mut self, depth: u32) -> PResult<ForkStmt> {
        let keyword = self.bump();
        let (name, name_span) = self.name("a name for the child after `fork`")?;
        let owner = format!("`fork {}`", show(&name));
        let expect = self.optional_outcome(&owner)?;
        let open = self.open_brace(&owner, "fork")?;
        let span = self.span_from(keyword.span);
        let body = self.nested_block(depth, keyword.span, open, &owner)?;
        self.names.forks.push((name.clone(), name_span));
        Ok(ForkStmt { name, span, expect, body })
    }

    /// `repeat N { STMT* }`
    fn repeat(&mut self, depth: u32) -> PResult<RepeatStmt> {
        let keyword = self.bump();
        let (count, count_token) = self.unsigned("a repeat count after `repeat`")?;
        if count == 0 {
            return Err(self.error(count_token.span, "a `repeat` count must be at least 1, found 0"));
        }
        if count > self.limits.max_repeat_count as u128 {
            return Err(self.error(
                count_token.span,
                format!(
                    "the repeat count {} is more than the limit of {} (max_repeat_count)",
                    self.snippet(count_token.span),
                    self.limits.max_repeat_count
                ),
            ));
        }
        let owner = format!("`repeat {}`", count);
        let open = self.open_brace(&owner, "repeat")?;
        let span = self.span_from(keyword.span);
        let body = self.nested_block(depth, keyword.span, open, &owner)?;
        Ok(RepeatStmt { count: count as u32, span, body })
    }

    /// A call, its optional `-> RESULT`, and the end of the statement.
    fn call_statement(&mut self) -> PResult<CallStmt> {
        let start = self.peek().span;
        let call = self.call()?;
        let span = self.span_from(start);
        let expect = if matches!(self.peek().tok, Tok::Arrow) {
            self.bump();
            Some(self.result()?)
        } else {
            None
        };
        if !self.at_statement_end() {
            let what = if expect.is_some() {
                "the end of the line after the result".to_string()
            } else {
                format!("`->` or the end of the line after `{}`", self.snippet(span))
            };
            return Err(self.expected(&what));
        }
        Ok(CallStmt { call, span, expect })
    }

    fn call(&mut self) -> PResult<Call> {
        let Some(word) = self.word() else {
            let help = match self.peek().tok {
                Tok::LBrace => Some("a `{` opens the block of a `fork` or `repeat`, on the same line".to_string()),
                _ => None,
            };
            return Err(self.expected_with("a statement", help));
        };
        if matches!(self.nth(1).tok, Tok::Equals) {
            return self.assignment();
        }
        let call = match word {
            "dup2" => {
                self.bump();
                let old = self.fd("a descriptor after `dup2`")?;
                let new = self.fd("a second descriptor after `dup2`")?;
                Call::Dup2 { old, new }
            }
            "close" => {
                self.bump();
                Call::Close { fd: self.fd("a descriptor after `close`")? }
            }
            "write" => {
                self.bump();
                let fd = self.fd("a descriptor after `write`")?;
                let payload = self.payload()?;
                Call::Write { fd, payload }
            }
            "read" => {
                self.bump();
                let fd = self.fd("a descriptor after `read`")?;
                let (count, token) = self.unsigned("a byte count after `read FD`")?;
                self.io_limit(count, token.span, "`read` count")?;
                Call::Read { fd, count: count as u32 }
            }
            "mkfifo" => {
                self.bump();
                Call::Mkfifo { path: self.path("mkfifo")? }
            }
            "unlink" => {
                self.bump();
                Call::Unlink { path: self.path("unlink")? }
            }
            "fcntl" => {
                self.bump();
                let fd = self.fd("a descriptor after `fcntl`")?;
                let cmd = self.fcntl_command()?;
                Call::Fcntl { fd, cmd }
            }
            "kill" => {
                self.bump();
                let target = self.proc_ref("a process after `kill` (a process name or `self`)", false)?;
                let signal = self.signal("a signal after `kill PROC`")?;
                Call::Kill { target, signal }
            }
            "signal" => {
                self.bump();
                let signal = self.signal("a signal after `signal`")?;
                let disposition = match self.word() {
                    Some("SIG_IGN") => Disposition::Ignore,
                    Some("SIG_DFL") => Disposition::Default,
                    _ => return Err(self.expected(&format!("`SIG_IGN` or `SIG_DFL` after `signal {}`", signal.name()))),
                };
                self.bump();
                Call::SignalDisposition { signal, disposition }
            }
            "wait" => {
                self.bump();
                Call::Wait
            }
            "waitpid" => {
                self.bump();
                let target = self.proc_ref("a process after `waitpid` (a process name, `self` or `-1`)", true)?;
                let options = if self.at_statement_end() || matches!(self.peek().tok, Tok::Arrow) {
                    WaitOptions::default()
                } else {
                    let flags = self.flags(
                        "`waitpid` options",
                        &["WNOHANG", "WUNTRACED", "WCONTINUED"],
                        true,
                        "the options are `WNOHANG`, `WUNTRACED` and `WCONTINUED`, joined by `|`, or `0` for none",
                    )?;
                    WaitOptions {
                        nohang: flags.contains("WNOHANG"),
                        untraced: flags.contains("WUNTRACED"),
                        continued: flags.contains("WCONTINUED"),
                    }
                };
                Call::Waitpid { target, options }
            }
            "pause" => {
                self.bump();
                Call::Pause
            }
            "sched_yield" => {
                self.bump();
                Call::SchedYield
            }
            "exit" => {
                self.bump();
                Call::Exit { code: self.exit_status("an exit status after `exit`")? }
            }
            "pipe" | "pipe2" | "open" | "dup" => {
                let example = match word {
                    "pipe" => "`p = pipe`, then use `p.r` and `p.w`",
                    "pipe2" => "`p = pipe2 O_NONBLOCK`, then use `p.r` and `p.w`",
                    "open" => "`f = open \"fifo\" O_RDONLY`",
                    _ => "`d = dup p.r`",
                };
                let span = self.peek().span;
                return Err(self.error_help(
                    span,
                    format!(
                        "expected a name and `=` before `{}`, found `{}` at the start of the statement",
                        word, word
                    ),
                    format!("`{}` binds a name: write {}", word, example),
                ));
            }
            "process" => {
                return Err(self.expected_with(
                    "a statement",
                    Some("`process` blocks are only at the top level; inside a process, `fork` starts a child".into()),
                ))
            }
            "title" | "description" | "expect" => {
                return Err(self.expected_with(
                    "a statement",
                    Some(format!("`{}` belongs at the top level of the file, outside any process", word)),
                ))
            }
            _ => {
                let help = closest(word, STATEMENT_WORDS.iter().copied().chain(["pipe", "pipe2", "open", "dup"]))
                    .map(|c| format!("did you mean `{}`?", c));
                return Err(self.expected_with("a statement", help));
            }
        };
        Ok(call)
    }

    /// `NAME = pipe | pipe2 FLAGS | open "PATH" FLAGS | dup FD`
    fn assignment(&mut self) -> PResult<Call> {
        let name_token = self.bump();
        let name = self.text(&name_token).to_string();
        if !is_name(&name) {
            if is_keyword(&name) {
                return Err(self.error_help(
                    name_token.span,
                    format!("expected a descriptor name before `=`, found the keyword `{}`", name),
                    "keywords cannot be used as names; choose another name",
                ));
            }
            return Err(self.error_help(
                name_token.span,
                format!("expected a descriptor name before `=`, found `{}`", show(&name)),
                "a name is letters, digits and `_`, and does not start with a digit",
            ));
        }
        self.bump(); // `=`
        let call = match self.word() {
            Some("pipe") => {
                self.bump();
                Call::Pipe { name: name.clone() }
            }
            Some("pipe2") => {
                self.bump();
                let flags = self.flags(
                    "flags after `pipe2`",
                    &["O_NONBLOCK", "O_CLOEXEC"],
                    true,
                    "`pipe2` takes `O_NONBLOCK` and `O_CLOEXEC`, joined by `|`, or `0` for none",
                )?;
                Call::Pipe2 {
                    name: name.clone(),
                    flags: OpenFlags {
                        access: Access::default(),
                        nonblock: flags.contains("O_NONBLOCK"),
                        cloexec: flags.contains("O_CLOEXEC"),
                    },
                }
            }
            Some("open") => {
                self.bump();
                let path = self.path("open")?;
                let start = self.peek().span;
                let help = "`open` takes one of `O_RDONLY`, `O_WRONLY` or `O_RDWR`, optionally with `O_NONBLOCK` \
                            and `O_CLOEXEC`, joined by `|`";
                let flags = self.flags(
                    "open flags after the path",
                    &["O_RDONLY", "O_WRONLY", "O_RDWR", "O_NONBLOCK", "O_CLOEXEC"],
                    false,
                    help,
                )?;
                let modes: Vec<&str> =
                    ["O_RDONLY", "O_WRONLY", "O_RDWR"].into_iter().filter(|m| flags.contains(*m)).collect();
                let access = match modes.as_slice() {
                    ["O_RDONLY"] => Access::ReadOnly,
                    ["O_WRONLY"] => Access::WriteOnly,
                    ["O_RDWR"] => Access::ReadWrite,
                    [] => {
                        let span = self.span_from(start);
                        return Err(self.error_help(
                            span,
                            "`open` needs an access mode: one of `O_RDONLY`, `O_WRONLY` or `O_RDWR`",
                            help,
                        ));
                    }
                    _ => {
                        let span = self.span_from(start);
                        return Err(self.error_help(
                            span,
                            format!("`open` takes one access mode, found `{}`", modes.join("` and `")),
                            help,
                        ));
                    }
                };
                Call::Open {
                    name: name.clone(),
                    path,
                    flags: OpenFlags {
                        access,
                        nonblock: flags.contains("O_NONBLOCK"),
                        cloexec: flags.contains("O_CLOEXEC"),
                    },
                }
            }
            Some("dup") => {
                self.bump();
                let fd = self.fd("a descriptor after `dup`")?;
                Call::Dup { name: name.clone(), fd }
            }
            _ => return Err(self.expected(&format!("`pipe`, `pipe2`, `open` or `dup` after `{} =`", show(&name)))),
        };
        let is_pipe = matches!(call, Call::Pipe { .. } | Call::Pipe2 { .. });
        self.names.fd_bindings.push((name, name_token.span, is_pipe));
        Ok(call)
    }

    // --- operands -----------------------------------------------------------------------------

    /// A process or descriptor name being declared.
    fn name(&mut self, what: &str) -> PResult<(String, Span)> {
        let token = self.peek().clone();
        match self.word() {
            Some(word) if is_name(word) => {
                self.bump();
                Ok((word.to_string(), token.span))
            }
            Some(word) if is_keyword(word) => {
                Err(self.expected_with(what, Some(format!("`{}` is a keyword and cannot be used as a name", word))))
            }
            Some(_) => Err(self.expected_with(
                what,
                Some("a name is letters, digits and `_`, and does not start with a digit".into()),
            )),
            None => Err(self.expected(what)),
        }
    }

    /// `NAME`, `NAME.r`, `NAME.w`, a number, `stdin`, `stdout`, `stderr`.
    fn fd(&mut self, what: &str) -> PResult<FdRef> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Int { negative: false, magnitude } => {
                self.bump();
                match magnitude.filter(|m| *m <= i32::MAX as u128) {
                    Some(number) => Ok(FdRef::Number(number as i32)),
                    None => Err(self
                        .error(token.span, format!("the descriptor number {} is too large", self.snippet(token.span)))),
                }
            }
            Tok::Int { negative: true, .. } => {
                Err(self.expected_with(what, Some("descriptor numbers are 0 or more".into())))
            }
            Tok::Word => {
                let word = self.text(&token);
                if STANDARD_FDS.contains(&word) || is_name(word) {
                    self.bump();
                    self.names.fd_uses.push((word.to_string(), token.span));
                    return Ok(FdRef::Name(word.to_string()));
                }
                if let Some((base, end)) = word.split_once('.') {
                    if is_name(base) && (end == "r" || end == "w") {
                        self.bump();
                        self.names.fd_uses.push((word.to_string(), token.span));
                        return Ok(FdRef::Name(word.to_string()));
                    }
                    if is_name(base) && is_identifier(end) {
                        return Err(self.expected_with(
                            what,
                            Some(format!("pipe ends are written `{}.r` and `{}.w`", base, base)),
                        ));
                    }
                }
                Err(self.expected(what))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// `NAME`, `self`, and `-1` where `any_child` is allowed.
    fn proc_ref(&mut self, what: &str, any_child: bool) -> PResult<ProcRef> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Int { negative: true, magnitude: Some(1) } if any_child => {
                self.bump();
                Ok(ProcRef::AnyChild)
            }
            Tok::Word => {
                let word = self.text(&token);
                if word == "self" {
                    self.bump();
                    Ok(ProcRef::SelfProc)
                } else if is_name(word) {
                    self.bump();
                    self.names.proc_uses.push((word.to_string(), token.span));
                    Ok(ProcRef::Name(word.to_string()))
                } else {
                    Err(self.expected(what))
                }
            }
            _ => Err(self.expected(what)),
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
            if let Some(c) = closest(word, SIGNALS.iter().map(|(_, name, _)| *name)) {
                diag = diag.with_help(format!("did you mean `{}`?", c));
            }
            self.report(diag);
            return Err(Failed);
        }
        let help = Signal::from_name(word).map(|s| format!("signal names keep their `SIG` prefix: `{}`", s.name()));
        Err(self.expected_with(what, help))
    }

    /// A non-negative number: its value (`u128::MAX` if it overflowed) and its token.
    fn unsigned(&mut self, what: &str) -> PResult<(u128, Token)> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Int { negative: false, magnitude } => {
                self.bump();
                Ok((magnitude.unwrap_or(u128::MAX), token))
            }
            Tok::Int { negative: true, .. } => {
                Err(self.expected_with(what, Some("this number cannot be negative".into())))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn exit_status(&mut self, what: &str) -> PResult<u8> {
        let token = self.peek().clone();
        if let Tok::Int { negative: true, .. } = token.tok {
            return Err(self.error(
                token.span,
                format!("exit status {} is out of range: it must be between 0 and 255", self.snippet(token.span)),
            ));
        }
        let (value, token) = self.unsigned(what)?;
        if value > 255 {
            return Err(self.error(
                token.span,
                format!("exit status {} is out of range: it must be between 0 and 255", self.snippet(token.span)),
            ));
        }
        Ok(value as u8)
    }

    /// Checks a byte count against `max_io_bytes`; the count is shown as written when it is a
    /// number token, and as a number otherwise.
    fn io_limit(&mut self, value: u128, span: Span, what: &str) -> PResult<()> {
        if value > self.limits.max_io_bytes as u128 {
            let shown = match self.src.as_bytes().get(span.start_byte as usize) {
                Some(b'0'..=b'9') => self.snippet(span),
                _ => value.to_string(),
            };
            return Err(self.error(
                span,
                format!(
                    "the {} of {} bytes is more than the limit of {} bytes (max_io_bytes)",
                    what, shown, self.limits.max_io_bytes
                ),
            ));
        }
        Ok(())
    }

    /// `"STRING"` | `N bytes` | `N bytes of "PATTERN"`
    fn payload(&mut self) -> PResult<Payload> {
        let token = self.peek().clone();
        match token.tok {
            Tok::Str(bytes) => {
                self.bump();
                self.io_limit(bytes.len() as u128, token.span, "`write` payload")?;
                Ok(Payload::Bytes(bytes))
            }
            Tok::Int { negative: false, .. } => {
                let (len, len_token) = self.unsigned("a byte count")?;
                if !self.word_is("bytes") {
                    let count = self.snippet(len_token.span);
                    return Err(self.expected_with(
                        &format!("`bytes` after `write FD {}`", count),
                        Some(format!("write a count as `{} bytes`, or data as a string", count)),
                    ));
                }
                self.bump();
                self.io_limit(len, len_token.span, "`write`")?;
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
                Ok(Payload::Fill { len: len as u32, pattern })
            }
            _ => Err(self.expected_with(
                "a string or `N bytes` after `write FD`",
                Some("for example `write p.w \"hello\"` or `write p.w 70_000 bytes`".into()),
            )),
        }
    }

    fn path(&mut self, call: &str) -> PResult<String> {
        let token = self.peek().clone();
        let Tok::Str(bytes) = token.tok else {
            return Err(self.expected(&format!("a path in double quotes after `{}`", call)));
        };
        self.bump();
        if bytes.is_empty() {
            return Err(self.error(token.span, "a path cannot be empty"));
        }
        if bytes.contains(&0) {
            return Err(self.error(token.span, "a path cannot contain a NUL byte (`\\0`)"));
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
            Ok(path) => Ok(path),
            Err(_) => Err(self.error(token.span, "a path must be valid UTF-8 text")),
        }
    }

    /// Flag names from `allowed` joined by `|`, or `0` alone when `zero` is allowed. Returns the set
    /// of names given.
    fn flags(&mut self, what: &str, allowed: &[&str], zero: bool, help: &str) -> PResult<BTreeSet<&'a str>> {
        let mut given = BTreeSet::new();
        if zero {
            if let Tok::Int { negative: false, magnitude: Some(0) } = self.peek().tok {
                self.bump();
                return Ok(given);
            }
        }
        loop {
            let token = self.peek().clone();
            match self.word() {
                Some(word) if allowed.contains(&word) => {
                    self.bump();
                    if !given.insert(word) {
                        return Err(self.error(token.span, format!("`{}` is given twice", word)));
                    }
                }
                _ => return Err(self.expected_with(what, Some(help.to_string()))),
            }
            if matches!(self.peek().tok, Tok::Bar) {
                self.bump();
            } else {
                return Ok(given);
            }
        }
    }

    fn fcntl_command(&mut self) -> PResult<FcntlCmd> {
        let what = "an fcntl command (`F_GETPIPE_SZ`, `F_SETPIPE_SZ`, `F_GETFL` or `F_SETFL`) after `fcntl FD`";
        let cmd = match self.word() {
            Some("F_GETPIPE_SZ") => {
                self.bump();
                FcntlCmd::GetPipeSize
            }
            Some("F_GETFL") => {
                self.bump();
                FcntlCmd::GetFlags
            }
            Some("F_SETPIPE_SZ") => {
                self.bump();
                let (size, token) = self.unsigned("a size in bytes after `F_SETPIPE_SZ`")?;
                if size > u32::MAX as u128 {
                    return Err(self.error(
                        token.span,
                        format!("the pipe size {} does not fit in 32 bits", self.snippet(token.span)),
                    ));
                }
                FcntlCmd::SetPipeSize(size as u32)
            }
            Some("F_SETFL") => {
                self.bump();
                let flags = self.flags(
                    "`O_NONBLOCK` or `0` after `F_SETFL`",
                    &["O_NONBLOCK"],
                    true,
                    "`F_SETFL` sets the only modelled status flag, `O_NONBLOCK`; `0` clears it",
                )?;
                FcntlCmd::SetFlags { nonblock: flags.contains("O_NONBLOCK") }
            }
            _ => return Err(self.expected(what)),
        };
        Ok(cmd)
    }

    /// `expect OUTCOME` on a `process` or `fork` line, if present.
    fn optional_outcome(&mut self, owner: &str) -> PResult<Option<Located<ProcessOutcome>>> {
        if !self.word_is("expect") {
            return Ok(None);
        }
        self.bump();
        let start = self.peek().span;
        let value = match self.word() {
            Some("exited") => {
                self.bump();
                ProcessOutcome::Exited(self.exit_status("an exit status after `exited`")?)
            }
            Some("killed") => {
                self.bump();
                let signal = self.signal("a signal after `killed`")?;
                let core = self.word_is("core");
                if core {
                    self.bump();
                }
                ProcessOutcome::Killed { signal, core }
            }
            Some("running") => {
                self.bump();
                ProcessOutcome::Running
            }
            _ => {
                return Err(self.expected_with(
                    &format!("`exited N`, `killed SIGNAL` or `running` after `expect` in {}", owner),
                    Some(format!("for example `{} expect exited 0 {{`", owner.trim_matches('`'))),
                ))
            }
        };
        Ok(Some(Located { value, span: self.span_from(start) }))
    }

    /// The part after `->`.
    fn result(&mut self) -> PResult<Located<Expect>> {
        let token = self.peek().clone();
        let start = token.span;
        let what = "a result after `->`";
        let help = "a result is a number (`5`), a string (`\"hi\"`), a byte count (`100 bytes`), an errno \
                    (`EAGAIN`), a child status (`child exited 0`) or `none`";
        let value = match token.tok {
            Tok::Int { negative, magnitude } => {
                self.bump();
                if self.word_is("bytes") {
                    self.bump();
                    match magnitude.filter(|m| !negative && *m <= u32::MAX as u128) {
                        Some(count) => Expect::ByteCount(count as u32),
                        None => {
                            return Err(self.error(
                                token.span,
                                format!(
                                    "the byte count {} is out of range: it must be between 0 and {}",
                                    self.snippet(token.span),
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
                            return Err(self.error(
                                token.span,
                                format!("the number {} does not fit in 64 bits", self.snippet(token.span)),
                            ))
                        }
                    }
                }
            }
            Tok::Str(bytes) => {
                self.bump();
                Expect::Data(bytes)
            }
            Tok::Word => {
                let word = self.text(&token);
                let next_is_status = matches!(self.nth(1).tok, Tok::Word)
                    && matches!(self.text(self.nth(1)), "exited" | "killed" | "stopped" | "continued");
                if word == "none" {
                    self.bump();
                    Expect::NoChild
                } else if next_is_status {
                    if !is_name(word) {
                        let help = if word == "self" {
                            "a wait result names the child that was waited for".to_string()
                        } else {
                            "a wait result starts with the child's name: `child exited 0`".to_string()
                        };
                        return Err(self.expected_with("a child process name after `->`", Some(help)));
                    }
                    self.bump();
                    self.names.proc_uses.push((word.to_string(), token.span));
                    let status = self.child_status(word)?;
                    Expect::Child { name: word.to_string(), status }
                } else if let Some(errno) = Errno::from_name(word) {
                    self.bump();
                    Expect::Error(errno)
                } else if word.len() > 1
                    && word.starts_with('E')
                    && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                {
                    let mut diag = Diagnostic::new(token.span, format!("unknown errno `{}`", show(word)));
                    diag = match closest(word, ERRNOS.iter().map(|(_, name, _)| *name)) {
                        Some(c) => diag.with_help(format!("did you mean `{}`?", c)),
                        None => diag.with_help(format!(
                            "the errnos the simulator knows are {}",
                            ERRNOS.iter().map(|(_, name, _)| *name).collect::<Vec<_>>().join(", ")
                        )),
                    };
                    self.report(diag);
                    return Err(Failed);
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
        Ok(Located { value, span: self.span_from(start) })
    }

    /// `exited N` | `killed SIGNAL [core]` | `stopped SIGNAL` | `continued`
    fn child_status(&mut self, child: &str) -> PResult<ChildStatus> {
        let status = match self.word() {
            Some("exited") => {
                self.bump();
                ChildStatus::Exited(self.exit_status("an exit status after `exited`")?)
            }
            Some("killed") => {
                self.bump();
                let signal = self.signal("a signal after `killed`")?;
                let core = self.word_is("core");
                if core {
                    self.bump();
                }
                ChildStatus::Killed { signal, core }
            }
            Some("stopped") => {
                self.bump();
                ChildStatus::Stopped(self.signal("a signal after `stopped`")?)
            }
            Some("continued") => {
                self.bump();
                ChildStatus::Continued
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

// ---------------------------------------------------------------------------------------------
// Name check

/// Declarations and uses recorded while parsing, checked once the text parsed cleanly.
#[derive(Default)]
struct Names {
    top_processes: Vec<(String, Span)>,
    forks: Vec<(String, Span)>,
    /// Name, where it is bound, and whether it is a pipe (binding `NAME.r` and `NAME.w`).
    fd_bindings: Vec<(String, Span, bool)>,
    fd_uses: Vec<(String, Span)>,
    proc_uses: Vec<(String, Span)>,
}

impl Names {
    fn check(&self) -> Vec<Diagnostic> {
        let mut diags = Vec::new();

        let mut top: BTreeMap<&str, Span> = BTreeMap::new();
        for (name, span) in &self.top_processes {
            if let Some(first) = top.get(name.as_str()) {
                diags.push(
                    Diagnostic::new(*span, format!("there are two processes named `{}`", show(name))).with_help(
                        format!(
                            "the first `process {}` is on line {}; process names must be unique",
                            show(name),
                            first.line
                        ),
                    ),
                );
            } else {
                top.insert(name, *span);
            }
        }
        for (name, span) in &self.forks {
            if let Some(first) = top.get(name.as_str()) {
                diags.push(
                    Diagnostic::new(*span, format!("the child `{}` has the name of a top-level process", show(name)))
                        .with_help(format!(
                            "`process {}` is on line {}; give the `fork` another name",
                            show(name),
                            first.line
                        )),
                );
            }
        }
        let processes: BTreeSet<&str> =
            self.top_processes.iter().chain(&self.forks).map(|(name, _)| name.as_str()).collect();

        let plain: BTreeSet<&str> =
            self.fd_bindings.iter().filter(|(_, _, pipe)| !pipe).map(|(name, _, _)| name.as_str()).collect();
        let pipes: BTreeSet<&str> =
            self.fd_bindings.iter().filter(|(_, _, pipe)| *pipe).map(|(name, _, _)| name.as_str()).collect();

        let mut clash_reported = BTreeSet::new();
        for (name, span, _) in &self.fd_bindings {
            if processes.contains(name.as_str()) && clash_reported.insert(name.as_str()) {
                diags.push(
                    Diagnostic::new(
                        *span,
                        format!("`{}` is used both as a process name and as a descriptor name", show(name)),
                    )
                    .with_help("processes and descriptors share one set of names; rename one of them"),
                );
            }
        }

        let mut known_fds: Vec<String> = plain.iter().map(|n| n.to_string()).collect();
        for pipe in &pipes {
            known_fds.push(format!("{}.r", pipe));
            known_fds.push(format!("{}.w", pipe));
        }
        known_fds.sort();
        known_fds.dedup();
        known_fds.extend(STANDARD_FDS.iter().map(|s| s.to_string()));

        for (name, span) in &self.fd_uses {
            if diags.len() >= MAX_DIAGNOSTICS {
                break;
            }
            let known = match name.split_once('.') {
                None => STANDARD_FDS.contains(&name.as_str()) || plain.contains(name.as_str()),
                Some((base, _)) => pipes.contains(base),
            };
            if known {
                continue;
            }
            let diag = if !name.contains('.') && pipes.contains(name.as_str()) {
                Diagnostic::new(*span, format!("`{}` is a pipe, not a descriptor", show(name))).with_help(format!(
                    "pipe ends are written `{}.r` and `{}.w`",
                    show(name),
                    show(name)
                ))
            } else if processes.contains(name.as_str()) {
                Diagnostic::new(*span, format!("`{}` is a process, not a descriptor", show(name)))
            } else {
                let mut diag = Diagnostic::new(
                    *span,
                    format!("unknown descriptor `{}`; the descriptor names are {}", show(name), list(&known_fds)),
                );
                if let Some(c) = closest(name, known_fds.iter().map(String::as_str)) {
                    diag = diag.with_help(format!("did you mean `{}`?", c));
                } else {
                    diag = diag
                        .with_help("a descriptor name is bound by `NAME = pipe`, `NAME = open ...` or `NAME = dup FD`");
                }
                diag
            };
            diags.push(diag);
        }

        let known_procs: Vec<String> = processes.iter().map(|s| s.to_string()).collect();
        for (name, span) in &self.proc_uses {
            if diags.len() >= MAX_DIAGNOSTICS {
                break;
            }
            if processes.contains(name.as_str()) {
                continue;
            }
            let diag = if plain.contains(name.as_str()) || pipes.contains(name.as_str()) {
                Diagnostic::new(*span, format!("`{}` is a descriptor, not a process", show(name)))
            } else {
                let mut diag = Diagnostic::new(
                    *span,
                    format!("unknown process `{}`; the process names are {}", show(name), list(&known_procs)),
                );
                if let Some(c) = closest(name, known_procs.iter().map(String::as_str)) {
                    diag = diag.with_help(format!("did you mean `{}`?", c));
                } else {
                    diag = diag.with_help("a process name comes from `process NAME { ... }` or `fork NAME { ... }`");
                }
                diag
            };
            diags.push(diag);
        }
        diags
    }
}

/// "`a`, `b`, `c`", shortened when long.
fn list(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = names.iter().take(SHOWN).map(|n| format!("`{}`", show(n))).collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// The candidate nearest to `name` (edit distance at most 2, and less than the name's length).
fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let length = name.chars().count();
    if length > 64 {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == name || candidate.chars().count() > 64 {
            continue;
        }
        let distance = edit_distance(name, candidate);
        if distance <= 2 && distance < length && !matches!(best, Some((d, _)) if d <= distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance with adjacent transpositions (optimal string alignment), in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    for (i, row) in table.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (table[(i - 1) * width + j - 1] + cost)
                .min(table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::{EAGAIN, EBADF, EPIPE, SIGKILL, SIGSTOP};

    const EXAMPLE: &str = r#"title "Pipe between parent and child"
description "The parent writes a greeting into a pipe; the child reads it and sees EOF after the parent closes its end."
expect all-exited            # optional, top level, at most once: all-exited | deadlock | step-limit

process parent {
  p = pipe
  fork child expect exited 0 {
    close p.w
    read p.r 100 -> "hello"
    read p.r 100 -> 0          # EOF
  }
  close p.r
  write p.w "hello" -> 5
  close p.w
  wait -> child exited 0
}
"#;

    /// The diagnostics of a text that must fail, as `(line, col, message)`.
    fn errors(source: &str) -> Vec<(u32, u32, String)> {
        match parse(source) {
            Ok(scenario) => panic!("expected errors, parsed {:?}", scenario),
            Err(diags) => diags.into_iter().map(|d| (d.span.line, d.span.col, d.message)).collect(),
        }
    }

    fn first_error(source: &str) -> Diagnostic {
        match parse(source) {
            Ok(scenario) => panic!("expected errors, parsed {:?}", scenario),
            Err(diags) => diags.into_iter().next().unwrap(),
        }
    }

    fn ok(source: &str) -> Scenario {
        match parse(source) {
            Ok(scenario) => scenario,
            Err(diags) => panic!("{} failed to parse: {:#?}", source, diags),
        }
    }

    /// A process with the usual names bound (`p`, `q`, `f`, `d`, child `kid`), then `lines`.
    fn with_context(lines: &str) -> String {
        format!(
            "process main {{\n  p = pipe\n  q = pipe\n  f = open \"fifo\" O_RDONLY\n  d = dup 1\n  fork kid {{\n  }}\n{}\n}}\n",
            lines
        )
    }

    /// The last statement of `main` after `line` is added to the context.
    fn last_stmt(line: &str) -> Stmt {
        let scenario = ok(&with_context(line));
        scenario.processes[0].body.last().unwrap().clone()
    }

    fn last_call(line: &str) -> CallStmt {
        match last_stmt(line) {
            Stmt::Call(call) => call,
            other => panic!("not a call: {:?}", other),
        }
    }

    /// The error of `line` in the context, as `(line, col, message)`; the line is line 8.
    fn line_error(line: &str) -> (u32, u32, String) {
        let errs = errors(&with_context(line));
        assert_eq!(errs.len(), 1, "{:?}", errs);
        errs.into_iter().next().unwrap()
    }

    fn name(text: &str) -> FdRef {
        FdRef::Name(text.to_string())
    }

    fn call(stmt: Call) -> Stmt {
        Stmt::Call(CallStmt { call: stmt, span: Span::default(), expect: None })
    }

    fn call_expect(stmt: Call, expect: Expect) -> Stmt {
        Stmt::Call(CallStmt {
            call: stmt,
            span: Span::default(),
            expect: Some(Located { value: expect, span: Span::default() }),
        })
    }

    #[test]
    fn parses_the_example() {
        let scenario = ok(EXAMPLE);
        assert_eq!(scenario.title.as_deref(), Some("Pipe between parent and child"));
        assert!(scenario.description.as_deref().unwrap().starts_with("The parent writes"));
        assert_eq!(scenario.expected_end.as_ref().unwrap().value, RunEnd::AllExited);
        assert_eq!(scenario.processes.len(), 1);
        let parent = &scenario.processes[0];
        assert_eq!(parent.name, "parent");
        assert_eq!(parent.expect, None);
        let expected = vec![
            call(Call::Pipe { name: "p".into() }),
            Stmt::Fork(ForkStmt {
                name: "child".into(),
                span: Span::default(),
                expect: Some(Located { value: ProcessOutcome::Exited(0), span: Span::default() }),
                body: vec![
                    call(Call::Close { fd: name("p.w") }),
                    call_expect(Call::Read { fd: name("p.r"), count: 100 }, Expect::Data(b"hello".to_vec())),
                    call_expect(Call::Read { fd: name("p.r"), count: 100 }, Expect::Value(0)),
                ],
            }),
            call(Call::Close { fd: name("p.r") }),
            call_expect(Call::Write { fd: name("p.w"), payload: Payload::Bytes(b"hello".to_vec()) }, Expect::Value(5)),
            call(Call::Close { fd: name("p.w") }),
            call_expect(Call::Wait, Expect::Child { name: "child".into(), status: ChildStatus::Exited(0) }),
        ];
        assert_eq!(parent.body, expected);
    }

    #[test]
    fn spans_point_at_the_first_token_and_the_result() {
        let scenario = ok(EXAMPLE);
        let parent = &scenario.processes[0];
        assert_eq!((parent.name_span.line, parent.name_span.col), (5, 9));
        let Stmt::Call(pipe) = &parent.body[0] else { panic!() };
        assert_eq!((pipe.span.line, pipe.span.col), (6, 3));
        assert_eq!(&EXAMPLE[pipe.span.start_byte as usize..pipe.span.end_byte as usize], "p = pipe");
        let Stmt::Fork(fork) = &parent.body[1] else { panic!() };
        assert_eq!((fork.span.line, fork.span.col), (7, 3));
        let outcome = fork.expect.as_ref().unwrap();
        assert_eq!((outcome.span.line, outcome.span.col), (7, 21));
        let Stmt::Call(write) = &parent.body[3] else { panic!() };
        let result = write.expect.as_ref().unwrap();
        assert_eq!((result.span.line, result.span.col), (13, 24));
        let Stmt::Call(wait) = &parent.body[5] else { panic!() };
        let result = wait.expect.as_ref().unwrap();
        assert_eq!(&EXAMPLE[result.span.start_byte as usize..result.span.end_byte as usize], "child exited 0");
        let end = scenario.expected_end.as_ref().unwrap();
        assert_eq!((end.span.line, end.span.col), (3, 8));
    }

    #[test]
    fn columns_count_characters() {
        let source = "title \"héllo wörld\" close\nprocess a {\n}\n";
        let errs = errors(source);
        assert_eq!(errs[0].0, 1);
        assert_eq!(errs[0].1, 21, "{:?}", errs);
        let source = "process a {\n  write 1 \"é\" x\n}\n";
        assert_eq!(errors(source)[0].1, 15);
    }

    #[test]
    fn every_statement_form() {
        let o_nonblock = OpenFlags { access: Access::ReadOnly, nonblock: true, cloexec: false };
        let cases: Vec<(&str, Call)> = vec![
            ("x = pipe", Call::Pipe { name: "x".into() }),
            ("x = pipe2 0", Call::Pipe2 { name: "x".into(), flags: OpenFlags::default() }),
            ("x = pipe2 O_NONBLOCK", Call::Pipe2 { name: "x".into(), flags: o_nonblock }),
            (
                "x = pipe2 O_CLOEXEC|O_NONBLOCK",
                Call::Pipe2 {
                    name: "x".into(),
                    flags: OpenFlags { access: Access::ReadOnly, nonblock: true, cloexec: true },
                },
            ),
            (
                "x = open \"fifo\" O_RDONLY",
                Call::Open { name: "x".into(), path: "fifo".into(), flags: OpenFlags::default() },
            ),
            (
                "x = open \"/tmp/f\" O_WRONLY | O_NONBLOCK",
                Call::Open {
                    name: "x".into(),
                    path: "/tmp/f".into(),
                    flags: OpenFlags { access: Access::WriteOnly, nonblock: true, cloexec: false },
                },
            ),
            (
                "x = open \"f\" O_CLOEXEC|O_RDWR",
                Call::Open {
                    name: "x".into(),
                    path: "f".into(),
                    flags: OpenFlags { access: Access::ReadWrite, nonblock: false, cloexec: true },
                },
            ),
            ("x = dup p.r", Call::Dup { name: "x".into(), fd: name("p.r") }),
            ("x = dup stdout", Call::Dup { name: "x".into(), fd: name("stdout") }),
            ("dup2 p.w 1", Call::Dup2 { old: name("p.w"), new: FdRef::Number(1) }),
            ("dup2 f stdin", Call::Dup2 { old: name("f"), new: name("stdin") }),
            ("close 7", Call::Close { fd: FdRef::Number(7) }),
            ("close stderr", Call::Close { fd: name("stderr") }),
            ("close d", Call::Close { fd: name("d") }),
            ("write p.w \"a\\n\"", Call::Write { fd: name("p.w"), payload: Payload::Bytes(b"a\n".to_vec()) }),
            (
                "write p.w 70_000 bytes",
                Call::Write { fd: name("p.w"), payload: Payload::Fill { len: 70_000, pattern: b"x".to_vec() } },
            ),
            (
                "write q.w 10 bytes of \"ab\"",
                Call::Write { fd: name("q.w"), payload: Payload::Fill { len: 10, pattern: b"ab".to_vec() } },
            ),
            ("read p.r 4096", Call::Read { fd: name("p.r"), count: 4096 }),
            ("mkfifo \"fifo\"", Call::Mkfifo { path: "fifo".into() }),
            ("unlink \"fifo\"", Call::Unlink { path: "fifo".into() }),
            ("fcntl p.w F_GETPIPE_SZ", Call::Fcntl { fd: name("p.w"), cmd: FcntlCmd::GetPipeSize }),
            ("fcntl p.w F_SETPIPE_SZ 4096", Call::Fcntl { fd: name("p.w"), cmd: FcntlCmd::SetPipeSize(4096) }),
            ("fcntl p.r F_GETFL", Call::Fcntl { fd: name("p.r"), cmd: FcntlCmd::GetFlags }),
            (
                "fcntl p.r F_SETFL O_NONBLOCK",
                Call::Fcntl { fd: name("p.r"), cmd: FcntlCmd::SetFlags { nonblock: true } },
            ),
            ("fcntl p.r F_SETFL 0", Call::Fcntl { fd: name("p.r"), cmd: FcntlCmd::SetFlags { nonblock: false } }),
            ("kill kid SIGTERM", Call::Kill { target: ProcRef::Name("kid".into()), signal: Signal(15) }),
            ("kill self SIGSTOP", Call::Kill { target: ProcRef::SelfProc, signal: SIGSTOP }),
            ("kill main SIGKILL", Call::Kill { target: ProcRef::Name("main".into()), signal: SIGKILL }),
            (
                "signal SIGPIPE SIG_IGN",
                Call::SignalDisposition { signal: Signal(13), disposition: Disposition::Ignore },
            ),
            ("signal SIGINT SIG_DFL", Call::SignalDisposition { signal: Signal(2), disposition: Disposition::Default }),
            ("wait", Call::Wait),
            ("waitpid kid", Call::Waitpid { target: ProcRef::Name("kid".into()), options: WaitOptions::default() }),
            ("waitpid kid 0", Call::Waitpid { target: ProcRef::Name("kid".into()), options: WaitOptions::default() }),
            (
                "waitpid -1 WNOHANG",
                Call::Waitpid {
                    target: ProcRef::AnyChild,
                    options: WaitOptions { nohang: true, untraced: false, continued: false },
                },
            ),
            (
                "waitpid kid WUNTRACED|WCONTINUED|WNOHANG",
                Call::Waitpid {
                    target: ProcRef::Name("kid".into()),
                    options: WaitOptions { nohang: true, untraced: true, continued: true },
                },
            ),
            ("pause", Call::Pause),
            ("sched_yield", Call::SchedYield),
            ("exit 0", Call::Exit { code: 0 }),
            ("exit 255", Call::Exit { code: 255 }),
        ];
        for (line, expected) in cases {
            let stmt = last_call(line);
            assert_eq!(stmt.call, expected, "{}", line);
            assert_eq!(stmt.expect, None, "{}", line);
            assert_eq!((stmt.span.line, stmt.span.col), (8, 1), "{}", line);
        }
    }

    #[test]
    fn fork_and_repeat_blocks() {
        let stmt = last_stmt("repeat 3 {\n  write p.w \"x\"\n  repeat 2 {\n    sched_yield\n  }\n}");
        let Stmt::Repeat(repeat) = stmt else { panic!() };
        assert_eq!(repeat.count, 3);
        assert_eq!(repeat.body.len(), 2);
        assert!(matches!(&repeat.body[1], Stmt::Repeat(inner) if inner.count == 2 && inner.body.len() == 1));

        let stmt = last_stmt("fork kid expect killed SIGSEGV core {\n  pause\n}");
        let Stmt::Fork(fork) = stmt else { panic!() };
        assert_eq!(fork.name, "kid");
        assert_eq!(fork.expect.unwrap().value, ProcessOutcome::Killed { signal: Signal(11), core: true });
        assert_eq!(fork.body, vec![call(Call::Pause)]);

        // Blocks on one line, and `}` before other tokens.
        let scenario = ok("process a { fork b expect running { pause } exit 3 }\nprocess c expect killed SIGTERM {\n}");
        assert_eq!(scenario.processes.len(), 2);
        let body = &scenario.processes[0].body;
        assert_eq!(body.len(), 2);
        assert!(matches!(&body[0], Stmt::Fork(f) if f.expect.as_ref().unwrap().value == ProcessOutcome::Running));
        assert_eq!(body[1], call(Call::Exit { code: 3 }));
        assert_eq!(
            scenario.processes[1].expect.as_ref().unwrap().value,
            ProcessOutcome::Killed { signal: Signal(15), core: false }
        );
        // Empty blocks.
        let scenario = ok("process a {\n  repeat 1 {\n  }\n  fork b {}\n}");
        assert_eq!(scenario.processes[0].body.len(), 2);
    }

    #[test]
    fn every_result_form() {
        let cases: Vec<(&str, Expect)> = vec![
            ("read p.r 10 -> 5", Expect::Value(5)),
            ("read p.r 10 -> -1", Expect::Value(-1)),
            ("read p.r 10 -> -9_223_372_036_854_775_808", Expect::Value(i64::MIN)),
            ("read p.r 10 -> 9223372036854775807", Expect::Value(i64::MAX)),
            ("read p.r 10 -> \"hi\\x00\\xff\"", Expect::Data(vec![b'h', b'i', 0, 255])),
            ("read p.r 10 -> \"\"", Expect::Data(vec![])),
            ("read p.r 70000 -> 65_536 bytes", Expect::ByteCount(65536)),
            ("read p.r 10 -> EAGAIN", Expect::Error(EAGAIN)),
            ("read p.r 10 -> EWOULDBLOCK", Expect::Error(EAGAIN)),
            ("write p.w \"x\" -> EPIPE", Expect::Error(EPIPE)),
            ("close 9 -> EBADF", Expect::Error(EBADF)),
            ("wait -> kid exited 3", Expect::Child { name: "kid".into(), status: ChildStatus::Exited(3) }),
            (
                "wait -> kid killed SIGKILL",
                Expect::Child { name: "kid".into(), status: ChildStatus::Killed { signal: SIGKILL, core: false } },
            ),
            (
                "wait -> kid killed SIGQUIT core",
                Expect::Child { name: "kid".into(), status: ChildStatus::Killed { signal: Signal(3), core: true } },
            ),
            (
                "waitpid kid WUNTRACED -> kid stopped SIGSTOP",
                Expect::Child { name: "kid".into(), status: ChildStatus::Stopped(SIGSTOP) },
            ),
            (
                "waitpid -1 WCONTINUED -> kid continued",
                Expect::Child { name: "kid".into(), status: ChildStatus::Continued },
            ),
            ("waitpid kid WNOHANG -> none", Expect::NoChild),
        ];
        for (line, expected) in cases {
            let stmt = last_call(line);
            let located = stmt.expect.unwrap_or_else(|| panic!("no expectation in {}", line));
            assert_eq!(located.value, expected, "{}", line);
            assert_eq!(located.span.line, 8);
            let arrow = line.find("->").unwrap();
            assert_eq!(located.span.col as usize, arrow + 4, "{}", line);
        }
    }

    #[test]
    fn top_level_expectations() {
        for (text, end) in
            [("all-exited", RunEnd::AllExited), ("deadlock", RunEnd::Deadlock), ("step-limit", RunEnd::StepLimit)]
        {
            let scenario = ok(&format!("expect {}\nprocess a {{\n}}\n", text));
            assert_eq!(scenario.expected_end.unwrap().value, end);
        }
        let scenario = ok("process a {\n}\n");
        assert_eq!(scenario.title, None);
        assert_eq!(scenario.description, None);
        assert_eq!(scenario.expected_end, None);
        assert_eq!(scenario.processes[0].body, vec![]);
    }

    #[test]
    fn numbers_strings_and_layout() {
        assert_eq!(last_call("read p.r 1_0_0").call, Call::Read { fd: name("p.r"), count: 100 });
        let stmt = last_call(r#"write p.w "\n\t\r\0\\\"\x41\x7e é""#);
        assert_eq!(
            stmt.call,
            Call::Write { fd: name("p.w"), payload: Payload::Bytes(b"\n\t\r\0\\\"A~ \xc3\xa9".to_vec()) }
        );
        // Comments, blank lines, indentation, CRLF and a byte order mark.
        let source = "\u{feff}# a comment\r\n\r\n   process a {   # trailing\r\n\tclose 1 -> 0 # done\r\n}\r\n";
        let scenario = ok(source);
        assert_eq!(
            scenario.processes[0].body,
            vec![call_expect(Call::Close { fd: FdRef::Number(1) }, Expect::Value(0))]
        );
        // `#` inside a string is not a comment.
        assert_eq!(
            last_call("write p.w \"#1\"").call,
            Call::Write { fd: name("p.w"), payload: Payload::Bytes(b"#1".to_vec()) }
        );
        // No spaces needed around `->`, `=` and `|`.
        let stmt = last_call("x=pipe2 O_NONBLOCK|O_CLOEXEC->0");
        assert_eq!(stmt.expect.unwrap().value, Expect::Value(0));
    }

    #[test]
    fn statement_errors_say_what_was_expected_and_found() {
        let cases: Vec<(&str, u32, &str)> = vec![
            ("close", 6, "expected a descriptor after `close`, found the end of the line"),
            ("close -1", 7, "expected a descriptor after `close`, found `-1`"),
            ("close pipe", 7, "expected a descriptor after `close`, found `pipe`"),
            ("dup2 p.r", 9, "expected a second descriptor after `dup2`, found the end of the line"),
            ("write p.w", 10, "expected a string or `N bytes` after `write FD`, found the end of the line"),
            ("write p.w 5", 12, "expected `bytes` after `write FD 5`, found the end of the line"),
            ("write p.w 5 bytes of", 21, "expected a pattern string after `of`, found the end of the line"),
            ("read p.r", 9, "expected a byte count after `read FD`, found the end of the line"),
            ("read p.r -5", 10, "expected a byte count after `read FD`, found `-5`"),
            ("mkfifo fifo", 8, "expected a path in double quotes after `mkfifo`, found `fifo`"),
            ("x = frob", 5, "expected `pipe`, `pipe2`, `open` or `dup` after `x =`, found `frob`"),
            ("x = pipe2", 10, "expected flags after `pipe2`, found the end of the line"),
            ("x = pipe2 O_RDONLY", 11, "expected flags after `pipe2`, found `O_RDONLY`"),
            ("x = open \"f\" O_CREAT", 14, "expected open flags after the path, found `O_CREAT`"),
            (
                "x = open \"f\" O_NONBLOCK",
                14,
                "`open` needs an access mode: one of `O_RDONLY`, `O_WRONLY` or `O_RDWR`",
            ),
            ("x = open \"f\" O_RDONLY|O_WRONLY", 14, "`open` takes one access mode, found `O_RDONLY` and `O_WRONLY`"),
            ("x = pipe2 O_NONBLOCK|O_NONBLOCK", 22, "`O_NONBLOCK` is given twice"),
            ("pipe = pipe", 1, "expected a descriptor name before `=`, found the keyword `pipe`"),
            ("p.r = pipe", 1, "expected a descriptor name before `=`, found `p.r`"),
            ("pipe", 1, "expected a name and `=` before `pipe`, found `pipe` at the start of the statement"),
            (
                "fcntl p.r F_SETFD 1",
                11,
                "expected an fcntl command (`F_GETPIPE_SZ`, `F_SETPIPE_SZ`, `F_GETFL` or `F_SETFL`) after `fcntl FD`, found `F_SETFD`",
            ),
            ("fcntl p.r F_SETFL O_CLOEXEC", 19, "expected `O_NONBLOCK` or `0` after `F_SETFL`, found `O_CLOEXEC`"),
            ("kill kid", 9, "expected a signal after `kill PROC`, found the end of the line"),
            ("kill kid TERM", 10, "expected a signal after `kill PROC`, found `TERM`"),
            ("kill kid SIGFOO", 10, "unknown signal `SIGFOO`"),
            ("kill -1 SIGTERM", 6, "expected a process after `kill` (a process name or `self`), found `-1`"),
            ("signal SIGINT", 14, "expected `SIG_IGN` or `SIG_DFL` after `signal SIGINT`, found the end of the line"),
            ("waitpid kid WFOO", 13, "expected `waitpid` options, found `WFOO`"),
            ("exit", 5, "expected an exit status after `exit`, found the end of the line"),
            ("exit 256", 6, "exit status 256 is out of range: it must be between 0 and 255"),
            ("exit -1", 6, "exit status -1 is out of range: it must be between 0 and 255"),
            ("clsoe 1", 1, "expected a statement, found `clsoe`"),
            ("42", 1, "expected a statement, found `42`"),
            ("close 1 2", 9, "expected `->` or the end of the line after `close 1`, found `2`"),
            ("close 1 ->", 11, "expected a result after `->`, found the end of the line"),
            ("close 1 -> 0 0", 14, "expected the end of the line after the result, found `0`"),
            ("close 1 -> EFOO", 12, "unknown errno `EFOO`"),
            ("close 1 -> kid", 15, "expected `exited`, `killed`, `stopped` or `continued` after `-> kid`, found the end of the line"),
            ("wait -> kid exited", 19, "expected an exit status after `exited`, found the end of the line"),
            ("wait -> kid stopped 9", 21, "expected a signal after `stopped`, found `9`"),
            ("wait -> self exited 0", 9, "expected a child process name after `->`, found `self`"),
            ("read p.r 1 -> -1 bytes", 15, "the byte count -1 is out of range: it must be between 0 and 4294967295"),
            ("close 1 -> 9223372036854775808", 12, "the number 9223372036854775808 does not fit in 64 bits"),
            ("close 99999999999", 7, "the descriptor number 99999999999 is too large"),
            ("fcntl p.w F_SETPIPE_SZ 4294967296", 24, "the pipe size 4294967296 does not fit in 32 bits"),
            ("repeat {\n}", 8, "expected a repeat count after `repeat`, found `{`"),
            ("repeat 0 {\n}", 8, "a `repeat` count must be at least 1, found 0"),
            ("repeat 2\n{\n}", 9, "expected `{` after `repeat 2`, found the end of the line"),
            ("repeat 2", 9, "expected `{` after `repeat 2`, found the end of the line"),
            ("fork {\n}", 6, "expected a name for the child after `fork`, found `{`"),
            ("fork self {\n}", 6, "expected a name for the child after `fork`, found `self`"),
            (
                "fork k expect exitd 0 {\n}",
                15,
                "expected `exited N`, `killed SIGNAL` or `running` after `expect` in `fork k`, found `exitd`",
            ),
            ("process b {\n}", 1, "expected a statement, found `process`"),
            ("title \"x\"", 1, "expected a statement, found `title`"),
            ("close 0x10", 7, "invalid number `0x10`"),
            ("close 1;", 8, "unexpected character `;`"),
            ("write p.w \"abc", 11, "unterminated string: expected a closing `\"` before the end of the line"),
            ("write p.w \"a\\qb\"", 13, "unknown escape `\\q` in a string"),
            ("write p.w \"a\\x4\"", 13, "`\\x` must be followed by two hexadecimal digits"),
            ("write p.w 1 bytes of \"\"", 22, "the pattern after `of` cannot be empty"),
            ("mkfifo \"\"", 8, "a path cannot be empty"),
            ("mkfifo \"a\\0b\"", 8, "a path cannot contain a NUL byte (`\\0`)"),
            ("unlink \"\\xff\"", 8, "a path must be valid UTF-8 text"),
        ];
        for (line, col, message) in cases {
            let (l, c, m) = line_error(line);
            assert_eq!((l, c, m.as_str()), (8, col, message), "for {:?}", line);
        }
    }

    #[test]
    fn errors_have_helpful_hints() {
        let diag = first_error(&with_context("kill kid TERM"));
        assert_eq!(diag.help.as_deref(), Some("signal names keep their `SIG` prefix: `SIGTERM`"));
        let diag = first_error(&with_context("kill kid SIGTREM"));
        assert_eq!(diag.help.as_deref(), Some("did you mean `SIGTERM`?"));
        let diag = first_error(&with_context("clsoe 1"));
        assert_eq!(diag.help.as_deref(), Some("did you mean `close`?"));
        let diag = first_error(&with_context("close 1 -> EAGIAN"));
        assert_eq!(diag.help.as_deref(), Some("did you mean `EAGAIN`?"));
        let diag = first_error(&with_context("close p.x"));
        assert_eq!(diag.message, "expected a descriptor after `close`, found `p.x`");
        assert_eq!(diag.help.as_deref(), Some("pipe ends are written `p.r` and `p.w`"));
        let diag = first_error(&with_context("pipe"));
        assert_eq!(diag.help.as_deref(), Some("`pipe` binds a name: write `p = pipe`, then use `p.r` and `p.w`"));
        let diag = first_error("close 1\n");
        assert_eq!(diag.message, "expected `process`, `title`, `description` or `expect`, found `close`");
        assert_eq!(diag.help.as_deref(), Some("statements go inside a `process NAME { ... }` block"));
        let diag = first_error("proces a {\n}\nprocess b {\n}\n");
        assert_eq!(diag.help.as_deref(), Some("did you mean `process`?"));
    }

    #[test]
    fn top_level_errors() {
        assert_eq!(errors(""), vec![(1, 1, "expected at least one `process` block, found none".to_string())]);
        assert_eq!(
            errors("# only a comment\ntitle \"t\"\n"),
            vec![(3, 1, "expected at least one `process` block, found none".to_string())]
        );
        assert_eq!(
            errors("title \"a\"\ntitle \"b\"\nprocess a {\n}"),
            vec![(2, 7, "a scenario has only one `title`".to_string())]
        );
        assert_eq!(
            errors("description \"a\"\ndescription \"b\"\nprocess a {\n}"),
            vec![(2, 13, "a scenario has only one `description`".to_string())]
        );
        assert_eq!(
            errors("expect deadlock\nexpect deadlock\nprocess a {\n}"),
            vec![(2, 8, "a scenario has only one top-level `expect`".to_string())]
        );
        assert_eq!(
            errors("expect everything\nprocess a {\n}"),
            vec![(
                1,
                8,
                "expected `all-exited`, `deadlock` or `step-limit` after a top-level `expect`, found `everything`"
                    .to_string()
            )]
        );
        assert_eq!(
            errors("title untitled\nprocess a {\n}"),
            vec![(1, 7, "expected a string in double quotes after `title`, found `untitled`".to_string())]
        );
        assert_eq!(
            errors("title \"a\" \"b\"\nprocess a {\n}"),
            vec![(1, 11, "expected the end of the line after `title` and its string, found `\"b\"`".to_string())]
        );
        assert_eq!(
            errors("process a\n{\n}"),
            vec![(1, 10, "expected `{` after `process a`, found the end of the line".to_string())]
        );
        assert_eq!(
            errors("process 1 {\n}"),
            vec![(1, 9, "expected a process name after `process`, found `1`".to_string())]
        );
        assert_eq!(
            errors("process a expect exited 300 {\n}"),
            vec![(1, 25, "exit status 300 is out of range: it must be between 0 and 255".to_string())]
        );
        assert_eq!(
            errors("title \"\\xff\"\nprocess a {\n}"),
            vec![(1, 7, "the title is not valid UTF-8 text".to_string())]
        );
    }

    #[test]
    fn unbalanced_braces() {
        assert_eq!(
            errors("process a {\n  close 1\n"),
            vec![(1, 11, "expected `}` to close the block of `process a`, found the end of the file".to_string())]
        );
        assert_eq!(
            errors("process a {\n  fork b {\n    close 1\n}\n"),
            vec![(2, 10, "expected `}` to close the block of `process a`, found the end of the file".to_string())]
                .into_iter()
                .map(|(_, _, m)| (1, 11, m))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            errors("process a {\n}\n}\nprocess b {\n}\n"),
            vec![(3, 1, "expected `process`, `title`, `description` or `expect`, found `}`".to_string())]
        );
        // A `}` where an operand was expected still closes the block.
        assert_eq!(
            errors("process a {\n  close }\nprocess b {\n}\n"),
            vec![(2, 9, "expected a descriptor after `close`, found `}`".to_string())]
        );
        // An error on a line that opens a block still parses the block, so its `}` does not close
        // the process, and errors inside it are reported.
        let errs = errors("process a {\n  fork b expect nothing {\n    close\n  }\n  close 1\n}\nprocess c {\n}\n");
        assert_eq!(
            errs,
            vec![
                (
                    2,
                    17,
                    "expected `exited N`, `killed SIGNAL` or `running` after `expect` in `fork b`, found `nothing`"
                        .to_string()
                ),
                (3, 10, "expected a descriptor after `close`, found the end of the line".to_string()),
            ]
        );
        // A misspelled `process` line: its block is skipped as a whole.
        let errs = errors("proces a {\n  close 1\n}\nprocess b {\n}\n");
        assert_eq!(errs.len(), 1, "{:?}", errs);
        assert_eq!((errs[0].0, errs[0].1), (1, 1));
    }

    #[test]
    fn recovers_and_reports_several_errors() {
        let source = "process a {\n  close\n  write 1 \"ok\"\n  read 1 x\n  frob\n  exit 1\n}\n";
        let errs = errors(source);
        assert_eq!(
            errs,
            vec![
                (2, 8, "expected a descriptor after `close`, found the end of the line".to_string()),
                (4, 10, "expected a byte count after `read FD`, found `x`".to_string()),
                (5, 3, "expected a statement, found `frob`".to_string()),
            ]
        );
        // Lexer and parser errors together, in text order.
        let source = "process a {\n  write 1 \"x\\q\"\n  close ;\n  exit 300\n}\n";
        let lines: Vec<u32> = errors(source).into_iter().map(|(line, _, _)| line).collect();
        assert_eq!(lines, vec![2, 3, 4]);
    }

    #[test]
    fn reports_at_most_fifty_errors() {
        let source = format!("process a {{\n{}}}\n", "  frob\n".repeat(200));
        assert_eq!(errors(&source).len(), MAX_DIAGNOSTICS);
        let source = format!("process a {{\n{}}}\n", "  ; ; ;\n".repeat(200));
        assert_eq!(errors(&source).len(), MAX_DIAGNOSTICS);
    }

    #[test]
    fn name_checks() {
        assert_eq!(
            errors("process a {\n}\nprocess a {\n}\n"),
            vec![(3, 9, "there are two processes named `a`".to_string())]
        );
        assert_eq!(
            errors("process a {\n  fork b {\n  }\n}\nprocess b {\n}\n"),
            vec![(2, 8, "the child `b` has the name of a top-level process".to_string())]
        );
        // The same fork name in several places is fine.
        ok("process a {\n  repeat 2 {\n    fork b {\n    }\n  }\n  fork b {\n  }\n  wait -> b exited 0\n}\n");

        let diag = first_error("process a {\n  p = pipe\n  close p\n}\n");
        assert_eq!((diag.span.line, diag.span.col), (3, 9));
        assert_eq!(diag.message, "`p` is a pipe, not a descriptor");
        assert_eq!(diag.help.as_deref(), Some("pipe ends are written `p.r` and `p.w`"));

        let diag = first_error("process a {\n  p = pipe\n  f = dup 0\n  close pp.r\n}\n");
        assert_eq!((diag.span.line, diag.span.col), (4, 9));
        assert_eq!(
            diag.message,
            "unknown descriptor `pp.r`; the descriptor names are `f`, `p.r`, `p.w`, `stdin`, `stdout`, `stderr`"
        );
        assert_eq!(diag.help.as_deref(), Some("did you mean `p.r`?"));

        let diag = first_error("process a {\n  close zzz\n}\n");
        assert_eq!(diag.message, "unknown descriptor `zzz`; the descriptor names are `stdin`, `stdout`, `stderr`");

        let diag = first_error("process a {\n  fork child {\n  }\n  kill chld SIGTERM\n}\n");
        assert_eq!((diag.span.line, diag.span.col), (4, 8));
        assert_eq!(diag.message, "unknown process `chld`; the process names are `a`, `child`");
        assert_eq!(diag.help.as_deref(), Some("did you mean `child`?"));

        let diag = first_error("process a {\n  wait -> b exited 0\n}\n");
        assert_eq!((diag.span.line, diag.span.col), (2, 11));
        assert_eq!(diag.message, "unknown process `b`; the process names are `a`");

        let diag = first_error("process a {\n  p = pipe\n  kill p SIGTERM\n}\n");
        assert_eq!(diag.message, "`p` is a descriptor, not a process");

        let diag = first_error("process a {\n  fork b {\n  }\n  close b\n}\n");
        assert_eq!(diag.message, "`b` is a process, not a descriptor");

        let errs = errors("process a {\n  a = pipe\n  close a.r\n}\n");
        assert_eq!(errs, vec![(2, 3, "`a` is used both as a process name and as a descriptor name".to_string())]);

        // Several name errors at once.
        let errs = errors("process a {\n  close x\n  close y\n  kill z SIGKILL\n}\n");
        assert_eq!(errs.iter().map(|e| e.0).collect::<Vec<_>>(), vec![2, 3, 4]);

        // Names are global: a name bound in one process may be used in another (and fails at run time).
        ok("process a {\n  p = pipe\n}\nprocess b {\n  close p.r -> EBADF\n}\n");
        // A name bound both as a pipe and as a plain descriptor may be used both ways.
        ok("process a {\n  p = pipe\n  p = dup 1\n  close p\n  close p.r\n}\n");
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits::DEFAULT;

        let huge = format!("process a {{\n}}\n#{}", "x".repeat(limits.max_source_bytes as usize));
        assert_eq!(
            errors(&huge),
            vec![(
                1,
                1,
                format!(
                    "the scenario is {} bytes long, more than the limit of 1048576 bytes (max_source_bytes)",
                    huge.len()
                )
            )]
        );

        let many = format!("process a {{\n{}}}\n", "  pause\n".repeat(limits.max_statements as usize + 1));
        assert_eq!(
            errors(&many),
            vec![(10_002, 3, "too many statements: a scenario may have at most 10000 (max_statements)".to_string())]
        );
        let enough = format!("process a {{\n{}}}\n", "  pause\n".repeat(limits.max_statements as usize));
        ok(&enough);

        let depth = limits.max_nesting_depth as usize;
        let nested = |n: usize| format!("process a {{\n{}{}}}\n", "repeat 2 {\n".repeat(n), "}\n".repeat(n));
        ok(&nested(depth));
        assert_eq!(
            errors(&nested(depth + 1)),
            vec![(34, 1, "blocks are nested 33 deep here, more than the limit of 32 (max_nesting_depth)".to_string())]
        );

        assert_eq!(
            line_error("repeat 10_000_001 {\n}"),
            (8, 8, "the repeat count 10_000_001 is more than the limit of 10000000 (max_repeat_count)".to_string())
        );
        assert!(matches!(last_stmt("repeat 10_000_000 {\n}"), Stmt::Repeat(r) if r.count == 10_000_000));

        assert_eq!(
            line_error("write p.w 16_777_217 bytes"),
            (
                8,
                11,
                "the `write` of 16_777_217 bytes is more than the limit of 16777216 bytes (max_io_bytes)".to_string()
            )
        );
        last_call("write p.w 16_777_216 bytes");
        assert_eq!(
            line_error("read p.r 16777217"),
            (
                8,
                10,
                "the `read` count of 16777217 bytes is more than the limit of 16777216 bytes (max_io_bytes)"
                    .to_string()
            )
        );

        let long = "a".repeat(limits.max_path_bytes as usize + 1);
        assert_eq!(
            line_error(&format!("mkfifo \"{}\"", long)),
            (8, 8, "the path is 256 bytes long, more than the limit of 255 bytes (max_path_bytes)".to_string())
        );
        last_call(&format!("mkfifo \"{}\"", &long[1..]));

        let small = Limits { max_io_bytes: 3, ..Limits::DEFAULT };
        let errs = parse_with_limits(&with_context("write p.w \"abcd\""), &small).unwrap_err();
        assert_eq!(errs[0].message, "the `write` payload of 4 bytes is more than the limit of 3 bytes (max_io_bytes)");
    }

    #[test]
    fn never_panics_on_hostile_input() {
        let inputs = [
            "{".repeat(100_000),
            "}".repeat(100_000),
            format!("process a {{\n{}", "fork b {\n".repeat(10_000)),
            format!("process a {{\n{}", "repeat 1 { ".repeat(10_000)),
            "process a { \"".to_string(),
            "process a { write 1 \"\\".to_string(),
            "process a { write 1 \"\\x".to_string(),
            "process a { write 1 \"\\x4".to_string(),
            format!("process a {{ read 1 {} }}", "9".repeat(1000)),
            format!("process a {{ close 1 -> -{} }}", "9".repeat(1000)),
            "process a { close 1 -> -".to_string(),
            "-".to_string(),
            "->->->".to_string(),
            "p.".to_string(),
            "\0\u{1}\u{7f}\u{fffd}\u{202e}".to_string(),
            "process\u{a0}a {}".to_string(),
            String::from_utf8_lossy(&[0xff, 0xfe, 0x22, 0x5c, 0xc3]).into_owned(),
        ];
        for input in &inputs {
            let _ = parse(input);
        }
    }

    #[test]
    fn edit_distance_and_suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("close", "close"), 0);
        assert_eq!(edit_distance("clsoe", "close"), 1);
        assert_eq!(closest("chld", ["child", "parent"]), Some("child"));
        assert_eq!(closest("x", ["p"]), None);
        assert_eq!(closest("zzzzzz", ["child"]), None);
    }
}
