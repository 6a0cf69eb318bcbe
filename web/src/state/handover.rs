//! Handing the page over from the module without the IPC mechanisms to the full one. Part of the
//! reducer; see [`super`].
//!
//! The page first loads a module built without System V and POSIX message queues and semaphores
//! (`sim_core::IPC` is false there). When the editor holds a text that names one of their calls (opened
//! from the library, a draft, a link or a tour, or typed), that module cannot run it: the reducer says
//! so with [`Effect::LoadFull`], and the page's loader fetches the full module and starts it in the
//! same place. What the visitor was looking at travels as a [`handover record`](Model::handover_record),
//! left on the page (`window.ipclab.handover`) when the first module stops, which the full module's [`Model::init`] reads first: what is open,
//! the teaching mode, the run (its text, seed, scheduler, choices and step, as a share link carries
//! them) and the editor's text. The full module then shows the same thing, run.

use super::*;

/// Where the handover record waits for the full module: `window.ipclab.handover`.
pub const HANDOVER_KEY: &str = "handover";

impl Model {
    /// Whether this module cannot run what the editor holds, and the full module should take over:
    /// only in the module without the IPC mechanisms, when the text did not build and names a call it
    /// leaves out.
    pub(super) fn needs_full_module(&self) -> bool {
        !sim_core::IPC && !self.diagnostics.is_empty() && sim_core::lang::needs_ipc(&self.text)
    }

    /// What the full module needs to show what is on screen: four parts separated by newlines (the
    /// editor's text, last, may hold more): what is open (`library:STEM`, `draft:ID`,
    /// `challenge:ID` or `link`), the teaching mode (`explore`, `predict`, `challenges`,
    /// `challenge:INDEX`, `tours`, `tour:INDEX`), the run as a share link (the one this module could
    /// not build, or else the last one it showed; empty for none) and the editor's text.
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
            (None, Some(engine)) => share::encode(&engine.share()),
            (None, None) => String::new(),
        };
        format!("{document}\n{mode}\n{run}\n{}", self.text)
    }

    /// Shows what a handover record describes (see [`Model::handover_record`]); false if it cannot be
    /// read, and then the page opens as it would have without it.
    pub(super) fn take_over(&mut self, record: &str, effects: &mut Vec<Effect>) -> bool {
        let mut parts = record.splitn(4, '\n');
        let (Some(document), Some(mode), Some(run), Some(text)) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let run = match run {
            "" => None,
            link => match share::decode(link) {
                Ok(run) => Some(run),
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
                let setup =
                    RunSetup { source: run.scenario, seed: run.seed, policy: run.policy, forced: run.forced };
                if !self.build(setup, run.step) {
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
        true
    }
}
