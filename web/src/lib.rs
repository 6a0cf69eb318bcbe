//! The ipclab playground.
