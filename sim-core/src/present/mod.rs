//! What people see: [`render`] writes events as text, [`json`] writes them as JSON records for tools,
//! [`explain`] tells each step in one sentence, and [`snapshot`] makes plain pictures of kernel state.
//! Rendering and explaining read events and the program only; snapshots are the one place that looks at
//! the kernel, and they hand out plain data.

pub mod explain;
pub mod json;
pub mod render;
pub mod snapshot;
