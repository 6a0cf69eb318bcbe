//! Reading a scenario file: size and encoding checks, parsing, and located error messages on stderr.

use sim_core::{Diagnostic, Limits, Scenario};
use std::fs::FileType;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::process::ExitCode;

/// Reads and parses `path`. On failure the errors are already printed and the exit code (2) is returned.
/// A share link's run: its scenario parsed (errors located in the link's text, named `name`).
pub fn load_link(link: &str, name: &str) -> Result<(sim_core::share::SharedRun, Scenario), ExitCode> {
    // A whole address or only what follows its `#`.
    let fragment = link.rsplit_once('#').map_or(link, |(_, fragment)| fragment).trim();
    let run = match sim_core::share::decode(fragment) {
        Ok(run) => run,
        Err(error) => {
            note!("ipclab check: --link: {error}");
            return Err(ExitCode::from(2));
        }
    };
    match sim_core::parse(&run.scenario) {
        Ok(scenario) => Ok((run, scenario)),
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                note!("{}", render_with_source(name, &run.scenario, diagnostic));
            }
            note!("{name}: {}", count_errors(diagnostics.len()));
            Err(ExitCode::from(2))
        }
    }
}

pub fn load(path: &Path) -> Result<(String, Scenario), ExitCode> {
    let name = path.display().to_string();
    let source = match read_text(path) {
        Ok(source) => source,
        Err(ReadError { at: Some((line, col, before)), message }) => {
            // Where the text stops being UTF-8: the line up to there, and a caret after it.
            let number = line.to_string();
            let (shown, under) = excerpt(&before, col - 1);
            note!(
                "{name}:{line}:{col}: error: {message}\n {number} | {shown}\n {} | {under}^",
                " ".repeat(number.len())
            );
            return Err(ExitCode::from(2));
        }
        Err(ReadError { at: None, message }) => {
            note!("{name}: error: {message}");
            return Err(ExitCode::from(2));
        }
    };
    match sim_core::parse(&source) {
        Ok(scenario) => Ok((source, scenario)),
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                note!("{}", render_with_source(&name, &source, diagnostic));
            }
            note!("{name}: {}", count_errors(diagnostics.len()));
            Err(ExitCode::from(2))
        }
    }
}

/// "3 errors"; at the parser's cap, that there may be more.
fn count_errors(count: usize) -> String {
    if count >= sim_core::lang::lexer::MAX_DIAGNOSTICS {
        format!("{count} errors, the most reported at once: fix these and run again to see any others")
    } else {
        format!("{count} error{}", if count == 1 { "" } else { "s" })
    }
}

/// Why a scenario file could not be read: with the place, for text that is not UTF-8 (its line, its
/// column, and the line's text before that place).
pub struct ReadError {
    pub at: Option<(usize, usize, String)>,
    pub message: String,
}

impl From<String> for ReadError {
    fn from(message: String) -> Self {
        ReadError { at: None, message }
    }
}

/// Reads at most the scenario size limit, and insists on UTF-8 (saying where it is not).
///
/// Only a regular file is read. A FIFO, a device or a socket could block the read (or the open itself)
/// forever or never end, so the file's type is checked before it is opened, and the open does not wait
/// (`O_NONBLOCK`) in case the path is replaced in between; the opened file is checked once more.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let bytes = read_regular(path, Limits::DEFAULT.max_source_bytes as u64, "scenario")?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|byte| **byte == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|byte| *byte == b'\n').map_or(0, |index| index + 1);
        let before = String::from_utf8_lossy(&valid[line_start..]).to_string();
        let col = before.chars().count() + 1;
        ReadError {
            at: Some((line, col, before)),
            message: format!("the file is not valid UTF-8 text (byte {} is not)", valid.len()),
        }
    })
}

/// The bytes of the regular file at `path`, at most `limit` of them: anything else, or a larger file,
/// is refused with a message that names `what` the file should have been (`scenario`).
pub fn read_regular(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot open the file: {error}"))?;
    refuse_unless_regular(&metadata.file_type(), what)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|error| format!("cannot open the file: {error}"))?;
    let metadata = file.metadata().map_err(|error| format!("cannot read the file: {error}"))?;
    refuse_unless_regular(&metadata.file_type(), what)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|error| format!("cannot read the file: {error}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("the file is larger than the limit of {limit} bytes for a {what}"));
    }
    Ok(bytes)
}

/// The part of `line` to show for a place at character `caret_col` (all of it when it is short; on a
/// long one the part around the place, `...` where the rest is left out), as [`printable`], and what
/// goes before the caret on the line below so that it stands under the place (tabs kept as tabs, a
/// wide character such as `語` under two spaces, a combining mark under none).
fn excerpt(line: &str, caret_col: usize) -> (String, String) {
    let length = line.chars().count();
    // The window starts a little before the column when the column is past the first SHOWN.
    let start = if caret_col < SHOWN - 20 { 0 } else { caret_col - SHOWN / 2 };
    let window = printable(&line.chars().skip(start).take(SHOWN).collect::<String>());
    let (lead, tail) = (if start > 0 { "..." } else { "" }, if start + SHOWN < length { "..." } else { "" });
    let under = lead
        .chars()
        .chain(window.chars().take(caret_col - start))
        .map(|c| match c {
            '\t' => "\t".to_string(),
            c => " ".repeat(unicode_width::UnicodeWidthChar::width(c).unwrap_or(1)),
        })
        .collect();
    (format!("{lead}{window}{tail}"), under)
}

/// A line of the scenario as it may be shown on a terminal: a control character (an escape
/// sequence, a carriage return, a NUL) as `?`, one column, so that nothing in the file can move the
/// cursor or change the terminal, and the caret below still lines up; so too the invisible characters
/// that reorder or hide text (bidirectional overrides and isolates, zero-width spaces and joiners,
/// the byte-order mark), so that the line shown is the line the parser read. A tab stays a tab.
fn printable(line: &str) -> String {
    line.chars().map(|c| if (c.is_control() && c != '\t') || invisible(c) { '?' } else { c }).collect()
}

/// The format characters that change how text around them is shown, or take no room at all.
fn invisible(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// `what` is read from a regular file; anything else is named in the refusal.
fn refuse_unless_regular(file_type: &FileType, what: &str) -> Result<(), String> {
    let kind = if file_type.is_file() {
        return Ok(());
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "something other than a regular file"
    };
    Err(format!("this is {kind}, not a {what} file; ipclab reads {what}s from regular files only"))
}

/// Characters of a line shown at most, around the place of an error.
const SHOWN: usize = 200;

/// `file:line:col: error: message`, then the line itself with a caret under the column: on a long line,
/// the part around the column (`...` where the rest is left out), control characters as `?`.
pub fn render_with_source(name: &str, source: &str, diagnostic: &Diagnostic) -> String {
    // The message and its help may quote the scenario: shown as safely as the line.
    let message = printable(&diagnostic.message);
    let mut text = format!("{name}:{}:{}: error: {message}", diagnostic.span.line, diagnostic.span.col);
    if let Some(line) = source.lines().nth(diagnostic.span.line.saturating_sub(1) as usize) {
        let number = diagnostic.span.line.to_string();
        let (shown, under) = excerpt(line, (diagnostic.span.col.max(1) - 1) as usize);
        text.push_str(&format!("\n {number} | {shown}\n {} | {under}^", " ".repeat(number.len())));
    }
    if let Some(help) = &diagnostic.help {
        text.push_str(&format!("\n  help: {}", printable(help)));
    }
    text
}
