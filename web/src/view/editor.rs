//! The scenario editor: a plain text area over a backdrop drawn with the same metrics, which shows line
//! numbers, each process's next line, the line that just ran, failed expectations and parse errors.
//!
//! Yew lines up the children of an element from the last one, so a list that grows or shrinks beside
//! other children shifts them all and makes it replace elements. The text area is therefore the first
//! child of its box, and everything whose count changes (error bubbles, line tags) lives inside a
//! wrapper of its own that is always there: whatever the text's errors, the text area is never
//! replaced, so the focus and the cursor stay where the visitor is typing. The
//! component redraws only when its own properties change, not at every step of another part.

use super::on_click;
use crate::state::Msg;
use sim_core::{Diagnostic, Pid};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// What a mark on a line says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkKind {
    /// The call this process makes next.
    Next,
    /// The call of the step on screen.
    Ran,
    /// An expectation that did not hold.
    Failed,
}

/// A mark on one line of the editor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineMark {
    pub line: u32,
    pub kind: MarkKind,
    pub label: String,
    /// The process it is about (for its colour), or 0.
    pub pid: Pid,
}

/// Where the editor's text stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Runs,
    Errors(usize),
    /// The text uses a mechanism this module leaves out, and the full module is on its way.
    LoadingFull,
}

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub text: AttrValue,
    pub diagnostics: Vec<Diagnostic>,
    pub marks: Vec<LineMark>,
    pub status: Status,
    pub on_edit: Callback<String>,
    /// Sends the header's messages (rename, delete, the language reference).
    pub send: Callback<Msg>,
    pub heading: Heading,
}

/// What the editor holds, for the bar above the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heading {
    /// "Library", "Draft", "From a link", "Challenge".
    pub kind: &'static str,
    pub name: String,
    /// A draft can be renamed and deleted.
    pub is_draft: bool,
}

fn header(heading: &Heading, send: &Callback<Msg>) -> Html {
    let on_rename = send.reform(|event: Event| {
        let input: web_sys::HtmlInputElement = event.target_unchecked_into();
        Msg::RenameDraft(input.value())
    });
    html! {
        <div class="pane-title">
            <span class="doc-kind">{heading.kind}</span>
            if heading.is_draft {
                <input id="draft-name" class="draft-name" value={heading.name.clone()} onchange={on_rename}
                    aria-label="Draft name" maxlength="60" />
                <button id="delete-draft" class="link-button" onclick={on_click(send, Msg::DeleteDraft)}>{"Delete draft"}</button>
            } else {
                <span class="doc-name" id="doc-name">{heading.name.clone()}</span>
            }
            <span class="grow"></span>
            <button id="reference-button" class="link-button" onclick={on_click(send, Msg::Reference(true))}
                title="The scenario language: every statement and call">{"Language reference"}</button>
        </div>
    }
}

/// Most parse errors drawn in the text at once (all are counted in the status).
const MOST_BUBBLES: usize = 8;

#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    let text = props.text.as_str();
    let lines: Vec<&str> = text.split('\n').collect();
    let widest = lines.iter().map(|line| line.chars().count()).max().unwrap_or(0).max(40);
    // The first error of each line, by line. Short lists, searched in place and kept in order as they
    // grow: a map per line, or a library sort, would cost the bundle code of its own for a handful of
    // entries.
    let mut errors: Vec<(u32, &Diagnostic)> = Vec::new();
    for diagnostic in props.diagnostics.iter().take(MOST_BUBBLES) {
        let line = diagnostic.span.line.max(1);
        if !errors.iter().any(|(seen, _)| *seen == line) {
            let place = errors.partition_point(|(before, _)| *before < line);
            errors.insert(place, (line, diagnostic));
        }
    }
    let error_on = |number: u32| errors.iter().find(|(line, _)| *line == number).map(|(_, diagnostic)| *diagnostic);
    let marks_on = |number: u32| props.marks.iter().filter(move |mark| mark.line == number);
    let gutter = lines.iter().enumerate().map(|(index, _)| {
        let number = index as u32 + 1;
        let failed = marks_on(number).any(|mark| mark.kind == MarkKind::Failed);
        let class =
            classes!("gutter-line", error_on(number).is_some().then_some("has-error"), failed.then_some("has-failure"));
        html! { <div class={class}>{number}</div> }
    });
    let backdrop = lines.iter().enumerate().map(|(index, line)| {
        let number = index as u32 + 1;
        let mut class = classes!("code-line");
        let mut tags = Html::default();
        let list: Vec<&LineMark> = marks_on(number).collect();
        if !list.is_empty() {
            let strongest = list.iter().map(|mark| mark.kind).max().unwrap_or(MarkKind::Next);
            class.push(match strongest {
                MarkKind::Failed => "failed-line",
                MarkKind::Ran => "ran-line",
                MarkKind::Next => "next-call",
            });
            if let Some(first) = list.iter().find(|mark| mark.kind != MarkKind::Failed) {
                class.push(super::tint(first.pid));
            }
            let style = format!("left: calc({}ch + 2ch)", line.chars().count());
            tags = html! {
                <span class="line-tags" style={style}>
                    { for list.iter().map(|mark| {
                        let kind = match mark.kind {
                            MarkKind::Next => "tag-next",
                            MarkKind::Ran => "tag-ran",
                            MarkKind::Failed => "tag-failed",
                        };
                        html! { <span class={classes!("line-tag", kind, super::tint(mark.pid))}>{mark.label.clone()}</span> }
                    }) }
                </span>
            };
        }
        let body = match error_on(number) {
            Some(diagnostic) => {
                class.push("error-line");
                let column = (diagnostic.span.col.max(1) - 1) as usize;
                let before: String = line.chars().take(column).collect();
                let mut after: String = line.chars().skip(column).collect();
                if after.trim().is_empty() {
                    after.push_str("  ");
                }
                html! { <>{before}<span class="squiggle">{after}</span></> }
            }
            None => html! { {line.to_string()} },
        };
        html! { <div class={class}>{body}{tags}</div> }
    });
    let bubbles = errors.iter().map(|&(line, diagnostic)| {
        let style = format!(
            "top: calc({line} * var(--line-height) + var(--code-pad)); left: calc({}ch + var(--code-pad));",
            diagnostic.span.col.max(1) - 1
        );
        html! {
            <div class="error-bubble" style={style}>
                <span class="where">{format!("{}:{}", diagnostic.span.line, diagnostic.span.col)}</span>
                {" "}{diagnostic.message.clone()}
                if let Some(help) = &diagnostic.help {
                    <div class="help">{help.clone()}</div>
                }
            </div>
        }
    });
    let size = format!(
        "height: calc({} * var(--line-height) + 2 * var(--code-pad)); width: calc({}ch + 6ch);",
        lines.len(),
        widest
    );
    let on_input = {
        let on_edit = props.on_edit.clone();
        Callback::from(move |event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            on_edit.emit(area.value());
        })
    };
    let (status_class, status_text) = match props.status {
        Status::Runs => ("ok", "scenario runs".to_string()),
        Status::Errors(count) => {
            ("error", format!("{count} error{} — showing the last run that worked", if count == 1 { "" } else { "s" }))
        }
        Status::LoadingFull => ("ok", "loading message queues and semaphores…".to_string()),
    };
    let first_error = props
        .diagnostics
        .first()
        .map(|diagnostic| format!("{}:{}: {}", diagnostic.span.line, diagnostic.span.col, diagnostic.message));
    html! {
        <section class="editor-pane" aria-label="Scenario editor">
            {header(&props.heading, &props.send)}
            <div id="editor-status" class={classes!("editor-status", status_class)} role="status">{status_text}</div>
            <div class="editor-scroll">
                <div class="gutter" aria-hidden="true">{ for gutter }</div>
                <div class="code" style={size.clone()}>
                    <textarea id="editor" class="code-input" spellcheck="false" wrap="off" autocomplete="off"
                        autocapitalize="off" style={size} value={props.text.clone()} oninput={on_input}
                        aria-label="Scenario text" aria-invalid={(!props.diagnostics.is_empty()).to_string()}
                        aria-describedby="editor-status editor-error" />
                    <div class="backdrop" aria-hidden="true">{ for backdrop }</div>
                    <div class="bubbles" aria-hidden="true">{ for bubbles }</div>
                </div>
            </div>
            <div id="editor-error" class="visually-hidden">{first_error.unwrap_or_default()}</div>
        </section>
    }
}
