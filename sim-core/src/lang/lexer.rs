//! Scenario text to tokens: words, numbers, strings, punctuation and line ends, each with its place.
//!
//! A bad character, number or string is reported here (and becomes a [`Tok::Bad`] token the parser
//! skips quietly), so one run reports several errors. No input makes the lexer panic.

use super::ast::Span;
use crate::diagnostic::Diagnostic;

/// The most diagnostics one parse reports.
pub const MAX_DIAGNOSTICS: usize = 50;

/// Words written with a hyphen; everywhere else `-` is the minus sign.
const HYPHENATED: &[&str] = &["all-exited", "step-limit"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// Letters, digits and `_`, not starting with a digit, with inner `.` (`p.r`), or a hyphenated word.
    Word,
    /// A number (decimal, or octal after a leading `0` as in C); `None` when it does not fit in 128 bits.
    Int(Option<u128>),
    /// A string literal, escapes decoded.
    Str(Vec<u8>),
    LBrace,
    RBrace,
    LParen,
    RParen,
    /// `,` (between the values of `{...}`)
    Comma,
    /// `=`
    Assign,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Bang,
    AndAnd,
    OrOr,
    Bar,
    Amp,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Arrow,
    Newline,
    Eof,
    /// Something the lexer already reported.
    Bad,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

pub fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(is_ident_char)
}

/// Shortens a piece of source text for a message.
pub fn show(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX {
        let mut short: String = text.chars().take(MAX).collect();
        short.push('…');
        short
    } else {
        text.to_string()
    }
}

pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    col: u32,
    tokens: Vec<Token>,
    diags: Vec<Diagnostic>,
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
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

    /// One or two characters of punctuation.
    fn punct(&mut self, start: Span, tok: Tok, length: usize) {
        for _ in 0..length {
            self.bump();
        }
        self.push(tok, start);
    }

    pub fn run(mut self) -> (Vec<Token>, Vec<Diagnostic>) {
        if self.src.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        while let Some(c) = self.peek() {
            let start = self.here();
            let next = self.peek_second();
            match c {
                '\n' => self.punct(start, Tok::Newline, 1),
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
                '{' => self.punct(start, Tok::LBrace, 1),
                '}' => self.punct(start, Tok::RBrace, 1),
                '(' => self.punct(start, Tok::LParen, 1),
                ')' => self.punct(start, Tok::RParen, 1),
                ',' => self.punct(start, Tok::Comma, 1),
                '=' if next == Some('=') => self.punct(start, Tok::EqEq, 2),
                '=' => self.punct(start, Tok::Assign, 1),
                '!' if next == Some('=') => self.punct(start, Tok::NotEq, 2),
                '!' => self.punct(start, Tok::Bang, 1),
                '<' if next == Some('=') => self.punct(start, Tok::Le, 2),
                '<' => self.punct(start, Tok::Lt, 1),
                '>' if next == Some('=') => self.punct(start, Tok::Ge, 2),
                '>' => self.punct(start, Tok::Gt, 1),
                '&' if next == Some('&') => self.punct(start, Tok::AndAnd, 2),
                '&' => self.punct(start, Tok::Amp, 1),
                '|' if next == Some('|') => self.punct(start, Tok::OrOr, 2),
                '|' => self.punct(start, Tok::Bar, 1),
                '-' if next == Some('>') => self.punct(start, Tok::Arrow, 2),
                '-' => self.punct(start, Tok::Minus, 1),
                '+' => self.punct(start, Tok::Plus, 1),
                '*' => self.punct(start, Tok::Star, 1),
                '/' => self.punct(start, Tok::Slash, 1),
                '%' => self.punct(start, Tok::Percent, 1),
                '0'..='9' => self.number(start),
                c if c.is_ascii_alphabetic() || c == '_' => self.word(start),
                _ => self.bad_characters(start),
            }
        }
        let end = self.here();
        self.push(Tok::Eof, end);
        (self.tokens, self.diags)
    }

    fn word(&mut self, start: Span) {
        let rest = &self.src[self.pos..];
        for hyphenated in HYPHENATED {
            let after = rest.get(hyphenated.len()..).and_then(|tail| tail.chars().next());
            if rest.starts_with(hyphenated) && !after.is_some_and(|c| is_ident_char(c) || c == '.') {
                for _ in 0..hyphenated.len() {
                    self.bump();
                }
                self.push(Tok::Word, start);
                return;
            }
        }
        loop {
            while self.peek().is_some_and(is_ident_char) {
                self.bump();
            }
            if self.peek() == Some('.') && self.peek_second().is_some_and(is_ident_char) {
                self.bump();
            } else {
                break;
            }
        }
        // `child#2`, the second child a line forked, is one name: a `#` right after a word and before a
        // digit does not start a comment (a `schedule` line names processes so, as `--schedule` does).
        if self.peek() == Some('#') && self.peek_second().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
            self.push(Tok::Word, start);
            return;
        }
        // `SIGRTMIN+3` and `SIGRTMAX-2` name one real-time signal each, written without spaces.
        let word = &self.src[start.start_byte as usize..self.pos];
        let sign = match word {
            "SIGRTMIN" => Some('+'),
            "SIGRTMAX" => Some('-'),
            _ => None,
        };
        if sign.is_some() && self.peek() == sign && self.peek_second().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        self.push(Tok::Word, start);
    }

    fn number(&mut self, start: Span) {
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
                    .with_help("numbers are written in decimal digits, like `4096` or `70_000` (or in octal after a leading 0, like `0600`)"),
            );
            self.push(Tok::Bad, start);
            return;
        }
        // A leading 0 makes the number octal, as in C (`0600`, the permission bits).
        let radix = if text.len() > 1 && text.starts_with('0') { 8 } else { 10 };
        if radix == 8 && text.chars().any(|c| matches!(c, '8' | '9')) {
            let span = self.to_here(start);
            let shown = show(&self.src[start.start_byte as usize..self.pos]);
            self.report(
                Diagnostic::new(span, format!("invalid octal number `{}`", shown))
                    .with_help("a number with a leading 0 is octal, as in C (`0600`), so its digits are 0 to 7"),
            );
            self.push(Tok::Bad, start);
            return;
        }
        let mut magnitude: Option<u128> = Some(0);
        for c in text.chars() {
            if let Some(d) = c.to_digit(radix) {
                magnitude = magnitude.and_then(|m| m.checked_mul(radix as u128)).and_then(|m| m.checked_add(d as u128));
            }
        }
        self.push(Tok::Int(magnitude), start);
    }

    fn bad_characters(&mut self, start: Span) {
        let stops = |c: char| {
            c.is_ascii_alphanumeric()
                || c.is_ascii_whitespace()
                || matches!(
                    c,
                    '_' | '#'
                        | '"'
                        | '{'
                        | '}'
                        | '('
                        | ')'
                        | '='
                        | '|'
                        | '-'
                        | '!'
                        | '<'
                        | '>'
                        | '&'
                        | '+'
                        | '*'
                        | '/'
                        | '%'
                )
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
        match text.chars().next().unwrap_or(' ') {
            ';' => diag = diag.with_help("a statement ends at the end of its line; there is no `;`"),
            '\'' | '\u{201c}' | '\u{201d}' => {
                diag = diag.with_help("strings are written in straight double quotes: \"text\"")
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        Lexer::new(text).run().0.into_iter().map(|token| token.tok).collect()
    }

    #[test]
    fn operators_words_and_hyphenated_keywords() {
        assert_eq!(
            kinds("n = n-1 >= p.r && !x -> all-exited"),
            vec![
                Tok::Word,
                Tok::Assign,
                Tok::Word,
                Tok::Minus,
                Tok::Int(Some(1)),
                Tok::Ge,
                Tok::Word,
                Tok::AndAnd,
                Tok::Bang,
                Tok::Word,
                Tok::Arrow,
                Tok::Word,
                Tok::Eof
            ]
        );
        assert_eq!(kinds("all-exitedx")[..2], [Tok::Word, Tok::Minus]);
    }

    #[test]
    fn a_leading_zero_makes_a_number_octal_as_in_c() {
        assert_eq!(
            kinds("0600 0 10 0_7"),
            vec![Tok::Int(Some(384)), Tok::Int(Some(0)), Tok::Int(Some(10)), Tok::Int(Some(7)), Tok::Eof]
        );
        let (tokens, diags) = Lexer::new("0800").run();
        assert_eq!(tokens[0].tok, Tok::Bad);
        assert!(diags[0].message.contains("invalid octal number"), "{:?}", diags[0]);
        assert_eq!(
            kinds("{1, 2}"),
            vec![Tok::LBrace, Tok::Int(Some(1)), Tok::Comma, Tok::Int(Some(2)), Tok::RBrace, Tok::Eof]
        );
    }

    #[test]
    fn strings_decode_escapes_and_report_bad_ones() {
        assert_eq!(kinds("\"a\\n\\x41\""), vec![Tok::Str(b"a\nA".to_vec()), Tok::Eof]);
        let (tokens, diags) = Lexer::new("\"\\q\"").run();
        assert_eq!(tokens[0].tok, Tok::Bad);
        assert!(diags[0].message.contains("unknown escape"));
    }
}
