//! What the editor holds: opening library scenarios, drafts, challenges and links, saving edits into
//! drafts, Undo, and the first load of the page. Part of the reducer; see [`super`].

use super::*;

impl Model {
    /// The label of what is open, for notices ("“A pipe between parent and child”").
    pub(super) fn document_label(&self) -> String {
        match &self.document {
            Document::Library(stem) => {
                format!("“{}”", catalog::entry(stem).map_or(stem.to_string(), |entry| entry.title.to_string()))
            }
            Document::Draft(id) => {
                format!("your draft “{}”", self.drafts.get(*id).map_or("?", |draft| draft.name.as_str()))
            }
            Document::Link => "the run from the link".to_string(),
            Document::Challenge(index) => format!("the challenge “{}”", CHALLENGES[*index].title),
        }
    }

    /// What is open now, to put it back with Undo.
    pub(super) fn remember(&self) -> Reopen {
        Reopen {
            document: self.document.clone(),
            text: self.text.clone(),
            setup: self.engine.as_ref().map(|engine| engine.setup.clone()),
            step: self.position(),
        }
    }

    /// Builds and shows a run. On success the new run replaces the old one; on failure the errors go
    /// to the editor and the last good run stays on screen.
    pub(super) fn build(&mut self, setup: RunSetup, step: u64) -> bool {
        match Engine::build(setup.clone()) {
            Ok(mut engine) => {
                engine.goto(step);
                self.keep_branches_of(&setup);
                self.diagnostics.clear();
                self.engine = Some(engine);
                self.unbuilt = None;
                self.find_sealed();
                true
            }
            Err(diagnostics) => {
                self.diagnostics = diagnostics;
                self.unbuilt = Some((setup, step));
                false
            }
        }
    }

    /// Opens `text` as `document` from step 0 with the default scheduler, and says where it is kept.
    pub(super) fn open_document(&mut self, document: Document, text: String, effects: &mut Vec<Effect>) {
        self.stop(effects);
        self.library.set_aside();
        self.text = text.clone();
        self.document = document;
        self.set_aside = None;
        if let Mode::Predict(predictions) = &mut self.mode {
            *predictions = Predictions::default();
        }
        if !self.build(default_setup(text), 0) {
            // The errors are in the editor; the page shows no other scenario's run beside them.
            self.engine = None;
        }
        effects.push(Effect::ClearFragment);
        if let Some(key) = self.document.storage_key() {
            effects.push(Effect::SaveOpen(key));
        }
    }

    /// Switching documents: the notice says what was left and offers to go back.
    pub(super) fn offer_back(&mut self, before: Reopen, before_label: String) {
        let opened = self.document_label();
        let kept = match &before.document {
            Document::Draft(_) => format!(" {} is kept under Your drafts.", capitalised(&before_label)),
            Document::Link => " The run from the link is not saved; Undo brings it back.".to_string(),
            _ => String::new(),
        };
        let mut notice = Notice::new(NoticeKind::Info, format!("Opened {opened}.{kept}"));
        notice.undo = Some((format!("Back to {before_label}"), UndoAction::Reopen(Box::new(before))));
        self.notice = Some(notice);
    }

    /// Saves an edit where it belongs: into the open draft, or into a new draft when a library
    /// scenario, a challenge or a link's scenario is edited (those stay as they were).
    pub(super) fn keep_edit(&mut self, text: &str, effects: &mut Vec<Effect>) {
        match self.document.clone() {
            Document::Draft(id) => match self.drafts.update(id, text) {
                Ok(()) => effects.push(Effect::SaveDrafts(self.drafts.to_json())),
                Err(message) => {
                    let mut notice = Notice::new(NoticeKind::Error, message);
                    notice.from_edit = true;
                    self.notice = Some(notice);
                }
            },
            origin => {
                let (base, what) = match origin {
                    Document::Library(stem) => {
                        (format!("{stem}, edited"), "The library scenario is unchanged".to_string())
                    }
                    Document::Challenge(index) => {
                        (format!("{}, edited", CHALLENGES[index].id), "The challenge is unchanged".to_string())
                    }
                    _ => ("From a link".to_string(), "The link still opens the run it was made for".to_string()),
                };
                let mut notice = match self.drafts.create(&base, text.to_string()) {
                    Ok(id) => {
                        self.document = Document::Draft(id);
                        let name = self.drafts.get(id).map_or(String::new(), |draft| draft.name.clone());
                        effects.push(Effect::SaveDrafts(self.drafts.to_json()));
                        effects.push(Effect::SaveOpen(format!("draft:{id}")));
                        Notice::new(
                            NoticeKind::Info,
                            format!("Your changes are saved as the draft “{name}”, under Your drafts. {what}."),
                        )
                    }
                    Err(message) => Notice::new(NoticeKind::Error, message),
                };
                notice.from_edit = true;
                self.notice = Some(notice);
            }
        }
    }

    /// An edit: kept, parsed, and run. Scheduling choices survive an edit that leaves the program as
    /// it was (comments, blank lines, spacing); when the program changes they are set aside, and
    /// brought back if a later edit restores that program.
    pub(super) fn edit(&mut self, text: String, effects: &mut Vec<Effect>) {
        if text == self.text {
            return;
        }
        self.stop(effects);
        self.library.set_aside();
        effects.push(Effect::ClearFragment);
        self.keep_edit(&text, effects);
        self.text = text.clone();
        let parsed = match sim_core::parse(&text) {
            Ok(scenario) => scenario,
            Err(diagnostics) => {
                self.diagnostics = diagnostics;
                return;
            }
        };
        let (setup, step, same_program) = match &self.engine {
            Some(engine) => {
                let same = engine.program_text == program_text(&parsed);
                (engine.setup.clone(), engine.position(), same)
            }
            None => (default_setup(String::new()), 0, false),
        };
        let mut forced = Vec::new();
        let mut said = None;
        if same_program {
            forced = setup.forced.clone();
        } else if let Some(aside) = self.set_aside.take_if(|aside| aside.program_text == program_text(&parsed)) {
            said = Some(format!(
                "The program is back to the one your {} were made for, so they apply again.",
                plural(aside.forced.len(), "scheduling choice", "scheduling choices")
            ));
            forced = aside.forced;
        } else if !setup.forced.is_empty() {
            if let Some(engine) = &self.engine {
                self.set_aside =
                    Some(SetAside { program_text: engine.program_text.clone(), forced: setup.forced.clone() });
            }
            said = Some(format!(
                "This edit changed the program, so your {} no longer apply and the scheduler runs it alone. \
                 Undo the edit to get them back.",
                plural(setup.forced.len(), "scheduling choice", "scheduling choices")
            ));
        }
        let keep_from = forced.len() as u64;
        if !self.build(RunSetup { source: text, forced, ..setup }, step) {
            return;
        }
        // The same program and the same choices give the same run: every answer still stands.
        if let (Mode::Predict(predictions), false) = (&mut self.mode, same_program) {
            predictions.forget_after(keep_from.min(step));
        }
        if let Some(text) = said {
            let mut notice = Notice::new(NoticeKind::Info, text);
            notice.from_edit = true;
            self.notice = Some(notice);
        }
    }

    /// Opens the run in a link. A link that cannot be opened changes nothing and says why.
    pub(super) fn open_link(&mut self, fragment: &str, effects: &mut Vec<Effect>) {
        let (run, branches, checked) = match share::decode_tree(fragment) {
            Ok(tree) => (tree.run, tree.branches, tree.checked),
            Err(error) => {
                self.notice = Some(Notice::new(
                    NoticeKind::Error,
                    format!("This link could not be opened: {error}. Your scenario was left as it was."),
                ));
                return;
            }
        };
        self.stop(effects);
        self.library.set_aside();
        let before = self.remember();
        let before_label = self.document_label();
        let document = match (catalog::stem_of(&run.scenario), challenge::by_text(&run.scenario)) {
            (Some(stem), _) => {
                // The link carries the library's text: no need to fetch it again.
                self.library.keep(stem, &run.scenario);
                Document::Library(stem)
            }
            (None, Some(index)) => Document::Challenge(index),
            (None, None) => Document::Link,
        };
        self.mode = match (&document, &self.mode) {
            (Document::Challenge(index), _) => {
                Mode::Challenges(Some(ChallengePlay { index: *index, announced: false }))
            }
            (_, Mode::Predict(_)) => Mode::Predict(Predictions::default()),
            _ => Mode::Explore,
        };
        self.document = document;
        self.text = run.scenario.clone();
        self.set_aside = None;
        let setup = RunSetup {
            source: run.scenario.clone(),
            seed: run.seed,
            policy: run.policy.clone(),
            forced: run.forced.clone(),
        };
        // The link's branches belong to its run only.
        self.engine = None;
        if self.build(setup, run.step) {
            self.branches = branches;
            self.checked = checked;
            let shown = self.position();
            let mut notice = Notice::new(
                NoticeKind::Info,
                if shown < run.step {
                    format!("This link asked for step {}, but the run ends at step {shown}.", run.step)
                } else {
                    "Opened the run from the link.".to_string()
                },
            );
            // A draft that was open stays one click away.
            if let Document::Draft(_) = before.document {
                notice.text.push_str(&format!(" {} is kept under Your drafts.", capitalised(&before_label)));
                notice.undo = Some((format!("Back to {before_label}"), UndoAction::Reopen(Box::new(before))));
            }
            self.notice = Some(notice);
        } else {
            self.engine = None;
            self.notice = Some(Notice::new(
                NoticeKind::Error,
                "The scenario in this link has errors; they are marked in the editor.",
            ));
        }
        effects.push(Effect::Focus("stage"));
    }

    pub(super) fn init(&mut self, init: Init, effects: &mut Vec<Effect>) {
        self.embed = super::Embed::of(&init.page_address);
        self.page_address = init.page_address.clone();
        // The player neither reads nor writes the playground's drafts.
        let (drafts_json, legacy_draft, open) = match self.embed {
            Some(_) => (None, None, None),
            None => (init.drafts_json, init.legacy_draft, init.open),
        };
        let init = Init { drafts_json, legacy_draft, open, ..init };
        self.drafts = init.drafts_json.as_deref().map(Drafts::from_json).unwrap_or_default();
        // The module without the IPC mechanisms handed over what it showed: that, and nothing else.
        if let Some(record) = init.handover.as_deref() {
            if self.take_over(record, effects) {
                return;
            }
        }
        if let Some(legacy) = init.legacy_draft.filter(|text| !text.trim().is_empty()) {
            let known =
                catalog::stem_of(&legacy).is_some() || self.drafts.list.iter().any(|draft| draft.text == legacy);
            if known || self.drafts.create("My earlier draft", legacy).is_ok() {
                effects.push(Effect::SaveDrafts(self.drafts.to_json()));
                effects.push(Effect::ForgetLegacyDraft);
            }
        }
        let (document, text) = match init.open.as_deref().and_then(|key| key.split_once(':')) {
            Some(("draft", id)) => match id.parse().ok().and_then(|id| self.drafts.get(id)) {
                Some(draft) => (Document::Draft(draft.id), draft.text.clone()),
                None => default_document(),
            },
            Some(("library", stem)) => match catalog::stem(stem) {
                Some(stem) => match self.library.text(stem) {
                    Some(text) => (Document::Library(stem), text.to_string()),
                    // Shown once its text arrives; until then the page says it is on its way.
                    None => {
                        library::fetch(self, stem, Then::Reload, effects);
                        (Document::Library(stem), String::new())
                    }
                },
                None => default_document(),
            },
            Some(("challenge", id)) => match challenge::by_id(id) {
                Some(index) => {
                    self.mode = Mode::Challenges(Some(ChallengePlay { index, announced: false }));
                    (Document::Challenge(index), CHALLENGES[index].scenario.to_string())
                }
                None => default_document(),
            },
            _ => default_document(),
        };
        self.text = text.clone();
        self.document = document;
        if self.library.pending().is_none() && !self.build(default_setup(text), 0) {
            self.engine = None;
        }
        if !init.fragment.is_empty() {
            self.open_link(&init.fragment, effects);
            // Opening the page is not a move of the visitor's: the focus stays where the browser put it.
            effects.retain(|effect| !matches!(effect, Effect::Focus(_)));
        }
    }
}

pub(super) fn default_document() -> (Document, String) {
    (Document::Library(DEFAULT_SCENARIO), DEFAULT_TEXT.to_string())
}

pub(super) fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        // Labels start with an English word; ASCII case keeps Unicode's tables out of the bundle.
        Some(first) => format!("{}{}", first.to_ascii_uppercase(), characters.as_str()),
        None => String::new(),
    }
}

/// A choice in the picker.
pub(super) fn open(model: &mut Model, value: &str, effects: &mut Vec<Effect>) {
    let before = model.remember();
    let before_label = model.document_label();
    let (document, text) = match value.split_once(':') {
        Some(("library", stem)) => {
            let Some(stem) = catalog::stem(stem) else { return };
            if model.document == Document::Library(stem) && !model.stale() && model.engine.is_some() {
                effects.push(Effect::Focus("stage"));
                return;
            }
            match model.library.text(stem) {
                Some(text) => (Document::Library(stem), text.to_string()),
                None => {
                    library::fetch(model, stem, Then::Open, effects);
                    return;
                }
            }
        }
        Some(("draft", id)) => {
            let Some(draft) = id.parse().ok().and_then(|id| model.drafts.get(id)) else { return };
            (Document::Draft(draft.id), draft.text.clone())
        }
        Some(("challenge", id)) => {
            let Some(index) = challenge::by_id(id) else { return };
            apply(model, Msg::StartChallenge(index), effects);
            return;
        }
        _ if value == "new" => match model.drafts.create("My scenario", NEW_DRAFT_TEXT.to_string()) {
            Ok(id) => {
                effects.push(Effect::SaveDrafts(model.drafts.to_json()));
                (Document::Draft(id), NEW_DRAFT_TEXT.to_string())
            }
            Err(message) => {
                model.notice = Some(Notice::new(NoticeKind::Error, message));
                return;
            }
        },
        _ => return,
    };
    if document == model.document && !model.stale() && model.engine.is_some() {
        effects.push(Effect::Focus("stage"));
        return;
    }
    model.open_document(document, text, effects);
    if !matches!(model.mode, Mode::Explore | Mode::Predict(_)) {
        model.mode = Mode::Explore;
    }
    model.offer_back(before, before_label);
    if value == "new" {
        effects.push(Effect::Focus("editor"));
    } else {
        effects.push(Effect::Focus("stage"));
    }
}

/// Renames the open draft.
pub(super) fn rename_draft(model: &mut Model, name: &str, effects: &mut Vec<Effect>) {
    let Document::Draft(id) = model.document else { return };
    match model.drafts.rename(id, name) {
        Ok(name) => {
            effects.push(Effect::SaveDrafts(model.drafts.to_json()));
            model.notice = Some(Notice::new(NoticeKind::Success, format!("Renamed to “{name}”.")));
        }
        Err(message) => model.notice = Some(Notice::new(NoticeKind::Error, message)),
    }
}

/// Deletes the open draft, with Undo.
pub(super) fn delete_draft(model: &mut Model, effects: &mut Vec<Effect>) {
    let Document::Draft(id) = model.document else { return };
    let Some((index, draft)) = model.drafts.remove(id) else { return };
    effects.push(Effect::SaveDrafts(model.drafts.to_json()));
    let (document, text) = default_document();
    model.open_document(document, text, effects);
    let mut notice = Notice::new(NoticeKind::Info, format!("Deleted the draft “{}”.", draft.name));
    notice.undo = Some(("Undo".to_string(), UndoAction::RestoreDraft { index, draft }));
    model.notice = Some(notice);
}

/// Undo: what the notice's button offers.
pub(super) fn undo(model: &mut Model, effects: &mut Vec<Effect>) {
    let Some(notice) = model.notice.take() else { return };
    let Some((_, action)) = notice.undo else {
        model.notice = Some(notice);
        return;
    };
    match action {
        UndoAction::Reopen(reopen) => {
            let Reopen { document, text, setup, step } = *reopen;
            let document = match document {
                // A draft reopens with its saved text (the same, unless edited in between).
                Document::Draft(id) if model.drafts.get(id).is_none() => Document::Link,
                other => other,
            };
            let text = match document {
                Document::Draft(id) => model.drafts.get(id).map_or(text, |draft| draft.text.clone()),
                _ => text,
            };
            model.open_document(document, text.clone(), effects);
            if let Some(setup) = setup.filter(|setup| setup.source == text) {
                model.build(setup, step);
            }
            // Back to a challenge is back to playing it.
            if let Document::Challenge(index) = model.document {
                model.mode = Mode::Challenges(Some(ChallengePlay { index, announced: false }));
            }
            model.announce(format!("Back to {}.", model.document_label()));
        }
        UndoAction::RestoreDraft { index, draft } => {
            let id = draft.id;
            let text = draft.text.clone();
            model.drafts.restore(index, draft);
            effects.push(Effect::SaveDrafts(model.drafts.to_json()));
            model.open_document(Document::Draft(id), text, effects);
            model.announce(format!("Restored {}.", model.document_label()));
        }
    }
    effects.push(Effect::Focus("stage"));
}
