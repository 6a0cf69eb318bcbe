//! Standard output of the commands that print (`sim`, `fmt`, `parse`, `check`, `bench`, `serve`).
//!
//! A reader that goes away (`ipclab sim FILE | head -1`) ends the output: the write fails with `EPIPE`,
//! nothing more is written, no message is printed, and the command ends with the exit status it would
//! have had anyway, as Unix tools do. Any other write error (`ENOSPC` on a full disk, `EIO`) means that
//! output was lost: one line on stderr and exit status [`WRITE_FAILED`]. Never a panic.
//!
//! Messages and progress go to stderr through [`note!`] and [`note_part!`], which never panic either: a
//! message that cannot be written (`ipclab check FILES 2>&1 | head -1`) is lost, and the command goes on.

/// `eprintln!` that never panics: a line on stderr, lost if stderr cannot be written.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that never panics: text on stderr without a line end, lost if stderr cannot be written.
macro_rules! note_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status when standard output cannot be written (`EX_IOERR` of `sysexits.h`).
pub const WRITE_FAILED: u8 = 74;

/// Set once a write found standard output closed; later writes are skipped.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether standard output's reader has gone away: nothing more needs to be made for it.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Writes `text` to standard output and flushes it. `Ok` when it was written or when the output has
/// been closed by its reader; `Err` with the exit code when a write failed (already reported on stderr).
pub fn print(text: &str) -> Result<(), ExitCode> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(error) => {
            note!("ipclab: cannot write to standard output: {error}");
            Err(ExitCode::from(WRITE_FAILED))
        }
    }
}
