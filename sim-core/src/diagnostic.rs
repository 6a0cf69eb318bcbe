//! Located error messages for scenario text: what was expected, what was found, and where.
//!
//! Both the parser and the run-time checks report through [`Diagnostic`], so every front end (the
//! command line, the playground) shows the same words with the same `line:col`.

use crate::lang::ast::Span;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub span: Span,
    /// One sentence, no trailing period: "expected a descriptor after `close`, found `}`".
    pub message: String,
    /// An optional hint: "pipe ends are written `p.r` and `p.w`".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { span, message: message.into(), help: None }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `FILE:LINE:COL: error: MESSAGE` (plus `  help: ...` on a second line when there is a hint).
    pub fn render(&self, file: &str) -> String {
        let mut text = format!("{}:{}:{}: error: {}", file, self.span.line, self.span.col, self.message);
        if let Some(help) = &self.help {
            text.push_str("\n  help: ");
            text.push_str(help);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_and_help() {
        let span = Span { line: 4, col: 9, start_byte: 30, end_byte: 34 };
        let diagnostic = Diagnostic::new(span, "unknown descriptor `pp.r`").with_help("did you mean `p.r`?");
        assert_eq!(
            diagnostic.render("demo.ipc"),
            "demo.ipc:4:9: error: unknown descriptor `pp.r`\n  help: did you mean `p.r`?"
        );
    }
}
