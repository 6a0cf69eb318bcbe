//! `SIGINT` and `SIGTERM` to the command line's own process: a flag that the long commands (`check`,
//! `explore`) look at between their steps, so that they stop where they are, clean up and report what
//! they did, and exit with 128 + the signal's number.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signal (`SIGINT` or `SIGTERM`) that asked the runner to stop, or 0.
pub static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The first signal stays: the report and the exit status name the one that stopped the command.
extern "C" fn on_stop_signal(signal: libc::c_int) {
    let _ = STOP_SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
}

/// Installs the `SIGINT`/`SIGTERM` handlers that raise the flag. A second signal does not end the
/// process at once: `timeout` sends its signal both to the command and to its process group, so one
/// interrupt can arrive twice.
pub fn install_stop_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as *const () as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// The signal that asked the command to stop, if one did.
pub fn stop_requested() -> Option<i32> {
    match STOP_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// The signal's name: `SIGINT`.
pub fn signal_name(signal: i32) -> &'static str {
    sim_core::linux::Signal(signal as u8).name()
}
