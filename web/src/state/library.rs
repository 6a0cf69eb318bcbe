//! The library's texts: the default scenario is compiled in, every other one is fetched from beside the
//! page ([`SCENARIO_DIRECTORY`]) the first time it is opened, and kept. Part of the reducer; see
//! [`super`].
//!
//! Opening a scenario whose text is not here yet asks for it ([`Effect::FetchScenario`]) and remembers
//! what to do when it arrives: open it from the picker, start a tour of it, or show it as the page
//! opens. Whatever the visitor does to the editor meanwhile (opening something else, a link, an edit)
//! sets that aside, so a late arrival never takes the editor away; the text is kept all the same. A
//! fetch that fails says why, changes nothing else, and is tried again when the scenario is next asked
//! for. A text is accepted only if it is the one the page was built with (its length and CRC-32).

use super::*;

/// The text of the scenario the page opens on, compiled in so that the first page shows at once.
pub const DEFAULT_TEXT: &str = include_str!("../../../scenarios/pipe-parent-child.ipc");

/// Where the library's texts are served, beside the page: `scenarios/STEM.ipc` (`cargo xtask dist`
/// copies `scenarios/*.ipc` there).
pub const SCENARIO_DIRECTORY: &str = "scenarios";

/// The address of a library scenario's text, relative to the page.
pub fn scenario_file(stem: &str) -> String {
    format!("{SCENARIO_DIRECTORY}/{stem}.ipc")
}

/// The texts known so far, and the one being fetched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Library {
    fetched: Vec<(&'static str, String)>,
    pending: Option<Fetching>,
}

/// A scenario being fetched, and what to do with it when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fetching {
    pub stem: &'static str,
    pub then: Then,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Open it, as a pick from the library does.
    Open,
    /// Start this tour (by index) on it.
    Tour(usize),
    /// Show it: it was open when the page was last closed, and the page opens on it.
    Reload,
}

impl Library {
    /// The text of a library scenario, if the page has it.
    pub fn text(&self, stem: &str) -> Option<&str> {
        if stem == DEFAULT_SCENARIO {
            return Some(DEFAULT_TEXT);
        }
        self.fetched.iter().find(|(known, _)| *known == stem).map(|(_, text)| text.as_str())
    }

    /// Keeps a text of the library that arrived or came with a link.
    pub(super) fn keep(&mut self, stem: &'static str, text: &str) {
        if self.text(stem).is_none() {
            self.fetched.push((stem, text.to_string()));
        }
    }

    /// The scenario being fetched, if any.
    pub fn pending(&self) -> Option<Fetching> {
        self.pending
    }

    /// Forgets what was to be done with a scenario being fetched: the visitor has moved on.
    pub(super) fn set_aside(&mut self) {
        self.pending = None;
    }
}

/// Asks for a library scenario's text, to `then` when it arrives.
pub(super) fn fetch(model: &mut Model, stem: &'static str, then: Then, effects: &mut Vec<Effect>) {
    model.library.pending = Some(Fetching { stem, then });
    effects.push(Effect::FetchScenario(stem));
    if then != Then::Reload {
        let title = catalog::entry(stem).map_or(stem, |entry| entry.title);
        model.notice = Some(Notice::new(NoticeKind::Info, format!("Fetching “{title}” from the library…")));
    }
}

/// A library scenario's text arrived, or could not be fetched.
pub(super) fn loaded(model: &mut Model, stem: &'static str, result: Result<String, String>, effects: &mut Vec<Effect>) {
    let result = result.and_then(|text| {
        if catalog::is_text_of(stem, &text) {
            Ok(text)
        } else {
            Err("the server's copy is not the one this page was made with (reload the page to get both anew)"
                .to_string())
        }
    });
    let pending = model.library.pending.take_if(|pending| pending.stem == stem);
    let title = catalog::entry(stem).map_or(stem, |entry| entry.title);
    match result {
        Ok(text) => {
            model.library.keep(stem, &text);
            match pending.map(|pending| pending.then) {
                Some(Then::Open) => document::open(model, &format!("library:{stem}"), effects),
                Some(Then::Tour(index)) => teaching::start_tour(model, index, effects),
                Some(Then::Reload) => {
                    model.text = text.clone();
                    if !model.build(default_setup(text), 0) {
                        model.engine = None;
                    }
                }
                None => {}
            }
        }
        Err(why) => {
            let Some(pending) = pending else { return };
            let again = match pending.then {
                Then::Open => "Pick it again to try once more.",
                Then::Tour(_) => "Start the tour again to try once more.",
                Then::Reload => {
                    let (document, text) = document::default_document();
                    model.document = document;
                    model.text = text.clone();
                    if !model.build(default_setup(text), 0) {
                        model.engine = None;
                    }
                    "The first lesson is open instead; pick it again to try once more."
                }
            };
            model.notice =
                Some(Notice::new(NoticeKind::Error, format!("“{title}” could not be fetched: {why}. {again}")));
        }
    }
}
