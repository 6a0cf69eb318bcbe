//! Handing the page over from the first module to the full one. Part of the reducer; see [`super`].
//!
//! The page first loads a module built without System V and POSIX message queues and semaphores
//! (`sim_core::IPC` is false there), without the teaching modes and without the explorer (`crate::FULL`
//! is false). When the editor holds a text that names one of the left-out calls (opened from the
//! library, a draft or a link, or typed), or the visitor chooses a teaching mode, or asks "What else?"
//! or where a run's fate was sealed, or what is opened is a challenge, that
//! module cannot do it: the reducer says so with [`Effect::LoadFull`], and the page's loader fetches the
//! full module and starts it in the same place. What the visitor was looking at travels as a
//! [handover record](Model::handover_record), kept on the page (`window.ipclab.handover`) and brought up
//! to date by every update until the first module stops; the full module's `init` reads it first:
//! what is open, the teaching mode and the one just chosen, the run (its text, seed, scheduler, choices
//! and step, and the other branches, as a share link carries them) and the editor's text. The full module then shows the same
//! thing, run, and makes the choice or the edit the first module could not.

use super::*;

/// Where the handover record waits for the full module: `window.ipclab.handover`.
pub const HANDOVER_KEY: &str = "handover";

impl Model {
    /// Whether the full module should take over: only in the first module, when a teaching mode was
    /// chosen or is on (a challenge opened), or when the text did not build and names a call this
    /// module leaves out.
    pub(super) fn needs_full_module(&self) -> bool {
        !crate::FULL
            && (self.mode_asked.is_some()
                || self.explorer_asked.is_some()
                || self.mode != Mode::Explore
                || (!self.diagnostics.is_empty() && sim_core::lang::needs_ipc(&self.text)))
    }

    /// What the full module needs to show what is on screen: five parts separated by newlines (the
    /// editor's text, last, may hold more): what is open (`library:STEM`, `draft:ID`,
    /// `challenge:ID` or `link`), the teaching mode (`explore`, `predict`, `challenges`,
    /// `challenge:INDEX`, `tours`, `tour:INDEX`), the teaching mode the visitor chose here, for the
    /// full module to choose (the same words), or what the explorer was asked for (`what-else`,
    /// `sealed`), or empty, the run as a share link (the one this module
    /// could not build, or else the last one it showed; empty for none) and the editor's text.
    pub fn handover_record(&self) -> String {
        let document = self.document.storage_key().unwrap_or_else(|| "link".to_string());
        let mode = match &self.mode {
            Mode::Explore => "explore".to_string(),
            Mode::Predict(_) => "predict".to_string(),
            Mode::Challenges(None) => "challenges".to_string(),
            Mode::Challenges(Some(play)) => format!("challenge:{}", play.index),
            Mode::Tours(None) => "tours".to_string(),
            Mode::Tours(Some(index)) => format!("tour:{index}"),
        };
        let run = match (&self.unbuilt, &self.engine) {
            (Some((setup, step)), _) => share::encode(&share::SharedRun {
                scenario: setup.source.clone(),
                seed: setup.seed,
                policy: setup.policy.clone(),
                forced: setup.forced.clone(),
                step: *step,
            }),
            (None, Some(_)) => self.share_text().unwrap_or_default(),
            (None, None) => String::new(),
        };
        let asked = match self.mode_asked {
            Some(ModeKind::Explore) => "explore",
            Some(ModeKind::Predict) => "predict",
            Some(ModeKind::Challenges) => "challenges",
            Some(ModeKind::Tours) => "tours",
            None => self.explorer_asked.map_or("", ExplorerAsk::word),
        };
        format!("{document}\n{mode}\n{asked}\n{run}\n{}", self.text)
    }

    /// Shows what a handover record describes (see [`Model::handover_record`]); false if it cannot be
    /// read, and then the page opens as it would have without it.
    pub(super) fn take_over(&mut self, record: &str, effects: &mut Vec<Effect>) -> bool {
        let mut parts = record.splitn(5, '\n');
        let (Some(document), Some(mode), Some(asked), Some(run), Some(text)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let (run, branches, checked) = match run {
            "" => (None, Vec::new(), None),
            link => match share::decode_tree(link) {
                Ok(tree) => (Some(tree.run), tree.branches, tree.checked),
                Err(_) => return false,
            },
        };
        self.document = match document.split_once(':') {
            Some(("library", stem)) => match catalog::stem(stem) {
                Some(stem) => Document::Library(stem),
                None => return false,
            },
            Some(("draft", id)) => match id.parse().ok().and_then(|id| self.drafts.get(id)) {
                Some(draft) => Document::Draft(draft.id),
                None => return false,
            },
            Some(("challenge", id)) => match challenge::by_id(id) {
                Some(index) => Document::Challenge(index),
                None => return false,
            },
            _ => Document::Link,
        };
        let index = |text: &str| text.parse::<usize>().ok();
        self.mode = match mode.split_once(':') {
            Some(("challenge", at)) => match index(at).filter(|at| *at < CHALLENGES.len()) {
                Some(index) => Mode::Challenges(Some(ChallengePlay { index, announced: false })),
                None => Mode::Explore,
            },
            Some(("tour", at)) => Mode::Tours(index(at).filter(|at| *at < TOURS.len())),
            _ => match mode {
                "predict" => Mode::Predict(Predictions::default()),
                "challenges" => Mode::Challenges(None),
                "tours" => Mode::Tours(None),
                _ => Mode::Explore,
            },
        };
        match run {
            Some(run) => {
                if let Document::Library(stem) = self.document {
                    self.library.keep(stem, &run.scenario);
                }
                self.text = run.scenario.clone();
                let setup = RunSetup { source: run.scenario, seed: run.seed, policy: run.policy, forced: run.forced };
                if self.build(setup, run.step) {
                    self.branches = branches;
                    self.checked = checked;
                } else {
                    self.engine = None;
                }
            }
            None => {
                self.text = text.to_string();
                if !self.build(default_setup(text.to_string()), 0) {
                    self.engine = None;
                }
            }
        }
        // The editor held an edit beyond the run: made again here, as the full module makes an edit.
        if text != self.text {
            self.edit(text.to_string(), effects);
        }
        // A teaching mode chosen there is chosen here, as the full module chooses one.
        let kind = match asked {
            "explore" => Some(ModeKind::Explore),
            "predict" => Some(ModeKind::Predict),
            "challenges" => Some(ModeKind::Challenges),
            "tours" => Some(ModeKind::Tours),
            _ => None,
        };
        if let Some(kind) = kind {
            super::teaching::set_mode(self, kind, effects);
        }
        // "What else?" asked there is answered here (where the run's sealed step is found for every run).
        if asked == ExplorerAsk::WhatElse.word() {
            self.what_else_here();
        }
        true
    }
}
