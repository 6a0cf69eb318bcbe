//! Standard output of the commands that print (`sim`, `fmt`, `parse`, `check`, `bench`, `serve`).
//!
//! A reader that goes away (`ipclab sim FILE | head -1`) ends the output: the write fails with `EPIPE`,
//! nothing more is written, no message is printed, and the command ends with the exit status it would
//! have had anyway, as Unix tools do. Any other write error (`ENOSPC` on a full disk, `EIO`) means that
//! output was lost: one line on stderr and exit status [`WRITE_FAILED`]. Never a panic.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status when standard output cannot be written (`EX_IOERR` of `sysexits.h`).
pub const WRITE_FAILED: u8 = 74;

/// Set once a write found standard output closed; later writes are skipped.
static CLOSED: AtomicBool = AtomicBool::new(false);

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
            // Written without `eprintln!`, which would panic if stderr failed too.
            let _ = writeln!(std::io::stderr(), "ipclab: cannot write to standard output: {error}");
            Err(ExitCode::from(WRITE_FAILED))
        }
    }
}
