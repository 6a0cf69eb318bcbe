//! Teaching: the library's order and groups, predict-then-reveal, challenges for the scheduler game,
//! and guided tours. All pure data and functions over an [`Engine`](crate::engine::Engine), tested
//! natively.

pub mod catalog;
pub mod challenge;
pub mod predict;
pub mod tour;
