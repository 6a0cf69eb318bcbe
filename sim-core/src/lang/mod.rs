//! The scenario language: text to syntax tree to compiled program, and back to text.
//!
//! [`lexer`] and [`parser`] read `.ipc` text into an [`ast::Scenario`], [`names`] checks its names,
//! [`print`] writes it back in canonical form, and [`compile`] turns it into the [`compile::Program`]
//! the kernel runs. [`syscalls`] is the table of system calls all of them read.

pub mod ast;
pub mod compile;
pub mod lexer;
pub mod names;
pub mod parser;
pub mod print;
pub mod syscalls;

pub use parser::{is_keyword, is_name, parse, parse_with_limits};
pub use print::print;
