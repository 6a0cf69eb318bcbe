//! The scenario language: text to syntax tree to compiled program, and back to text.
//!
//! [`lexer`] and [`parser`] read `.ipc` text into an [`ast::Scenario`], [`names`] checks its names,
//! [`print`] writes it back in canonical form, and [`compile`] turns it into the [`compile::Program`]
//! the kernel runs. [`syscalls`] is the table of system calls all of them read.

pub mod ast;
pub mod compile;
pub mod lexer;
pub mod live;
pub mod names;
pub mod parser;
pub mod print;
pub mod syscalls;

pub use parser::{is_keyword, is_name, parse, parse_with_limits};

/// Whether `text` names a call this build leaves out (an IPC mechanism's, in a build without them:
/// see [`crate::IPC`]), so that a build with them should run it. Any word counts, even in a comment or
/// a string: a text that only mentions such a call is run by the other build just the same.
pub fn needs_ipc(text: &str) -> bool {
    !crate::IPC
        && text
            .split(|character: char| !(character.is_ascii_alphanumeric() || character == '_'))
            .any(|word| syscalls::CALLS.iter().any(|spec| spec.name == word && !spec.in_this_build()))
}
pub use print::print;
