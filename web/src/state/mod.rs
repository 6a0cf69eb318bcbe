//! The playground's state and its one reducer: `update(&mut model, msg)` returns the effects to perform.
//!
//! This is the Elm shape: every input (a key, a click, a timer tick, a changed address) is a [`Msg`];
//! [`update`] changes the [`Model`] and says what the outside world should do as plain [`Effect`] data
//! (save the drafts, put a link in the address bar, start the playback timer, move the focus). The Yew
//! component in `app.rs` performs the effects; nothing here touches the browser, so all of it is
//! tested natively with `cargo test -p web`.
//!
//! The reducer never reads [`Snapshot`](sim_core::Snapshot) fields: what the kernel looks like is the
//! views' business. It works with the [`Engine`], the parsed scenario and the facts of
//! [`crate::facts`].

pub mod drafts;
pub mod keys;

use crate::engine::{Engine, RunSetup};
use crate::facts;
use crate::teach::catalog;
use crate::teach::challenge::{self, CHALLENGES};
use crate::teach::predict::{self, Predictions};
use crate::teach::tour::{self, TOURS};
use drafts::{Draft, Drafts};
use sim_core::{share, Diagnostic, Pid, Policy};

/// The scenario a visitor sees first.
pub const DEFAULT_SCENARIO: &str = "pipe-parent-child";

/// Playback speeds offered, in steps per second.
pub const SPEEDS: &[u32] = &[1, 2, 4, 8, 16, 60];

/// What a new draft starts with.
pub const NEW_DRAFT_TEXT: &str = "title \"My scenario\"\ndescription \"What this scenario shows.\"\n\nprocess main expect exited 0 {\n  p = pipe\n  write p.w \"hello\" -> 5\n  read p.r 100 -> \"hello\"\n}\n";

/// Everything that can happen to the playground.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    /// The page opened: what the browser had stored, and the address.
    Init(Init),
    /// The editor's text changed (one key typed, a paste, a deletion).
    Edit(String),
    Forward,
    Back,
    ToStart,
    ToEnd,
    Goto(u64),
    TogglePlay,
    /// The playback timer fired.
    Tick,
    Speed(u32),
    /// Be the scheduler: this process takes the next step.
    Pick(Pid),
    ForgetChoices,
    Policy(String),
    Seed(String),
    /// A choice in the library picker: `library:STEM`, `draft:ID`, `challenge:ID`, or `new`.
    Open(String),
    RenameDraft(String),
    DeleteDraft,
    /// The notice's Undo button.
    Undo,
    Share,
    ExportTrace,
    ExportScenario,
    /// The address's fragment changed (a link pasted into this tab).
    LinkChanged(String),
    DismissNotice,
    SetMode(ModeKind),
    StartChallenge(usize),
    StartTour(usize),
    TourNext,
    TourBack,
    /// A prediction: the index of the chosen answer.
    Answer(usize),
    /// Predict from the start again, with a fresh score.
    RestartPredictions,
    Help(bool),
    Reference(bool),
    Escape,
}

/// What the browser held when the page opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Init {
    /// The stored drafts (JSON), if any.
    pub drafts_json: Option<String>,
    /// The single draft kept by earlier versions of the page, if any.
    pub legacy_draft: Option<String>,
    /// What was open last time (`library:STEM`, `draft:ID`, `challenge:ID`).
    pub open: Option<String>,
    /// The URL fragment without `#`.
    pub fragment: String,
    /// The page's address without a fragment.
    pub page_address: String,
}

/// What the outside world should do after an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Store the drafts (JSON) in local storage.
    SaveDrafts(String),
    /// Store what is open, so that a reload opens it again.
    SaveOpen(String),
    /// Forget the single draft of earlier versions (it is now one of the drafts).
    ForgetLegacyDraft,
    /// Put a run link in the address bar, without reloading.
    SetFragment(String),
    /// Take the run link out of the address bar (the page no longer shows that run).
    ClearFragment,
    CopyToClipboard(String),
    Download {
        file_name: &'static str,
        mime: &'static str,
        text: String,
    },
    StartTimer {
        period_ms: u32,
    },
    StopTimer,
    /// Move the keyboard focus to the element with this id, after the page is drawn.
    Focus(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Success,
    Error,
}

/// What Undo puts back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UndoAction {
    /// Reopen what was open before.
    Reopen(Box<Reopen>),
    /// Put a deleted draft back and open it.
    RestoreDraft { index: usize, draft: Draft },
}

/// Enough to reopen a document exactly as it was: its text, its run, its step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reopen {
    pub document: Document,
    pub text: String,
    pub setup: Option<RunSetup>,
    pub step: u64,
}

/// A message above the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
    /// A share link to show (and select) beside the text.
    pub share_address: Option<String>,
    /// The Undo button's label and what it does.
    pub undo: Option<(String, UndoAction)>,
    /// Said because of an edit: typing more does not take it away.
    pub from_edit: bool,
}

impl Notice {
    fn new(kind: NoticeKind, text: impl Into<String>) -> Notice {
        Notice { kind, text: text.into(), share_address: None, undo: None, from_edit: false }
    }
}

/// What the editor holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Document {
    /// A library scenario, unchanged (an edit makes it a draft).
    Library(&'static str),
    /// One of the visitor's drafts (every edit is saved into it).
    Draft(u32),
    /// The scenario of a run link, not saved yet.
    Link,
    /// A challenge's program, unchanged.
    Challenge(usize),
}

impl Document {
    /// The value stored to reopen it after a reload (a link lives in the address instead).
    fn storage_key(&self) -> Option<String> {
        match self {
            Document::Library(stem) => Some(format!("library:{stem}")),
            Document::Draft(id) => Some(format!("draft:{id}")),
            Document::Challenge(index) => Some(format!("challenge:{}", CHALLENGES[*index].id)),
            Document::Link => None,
        }
    }
}

/// The mode switch's four positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeKind {
    Explore,
    Predict,
    Challenges,
    Tours,
}

/// A challenge being played.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengePlay {
    pub index: usize,
    /// The win was announced (so it is said once, not at every step after it).
    pub announced: bool,
}

/// How the playground teaches right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Free stepping, editing and scheduling.
    Explore,
    /// Predict, then reveal.
    Predict(Predictions),
    /// The list of challenges, or one being played.
    Challenges(Option<ChallengePlay>),
    /// The list of tours, or one being followed (by index).
    Tours(Option<usize>),
}

impl Mode {
    pub fn kind(&self) -> ModeKind {
        match self {
            Mode::Explore => ModeKind::Explore,
            Mode::Predict(_) => ModeKind::Predict,
            Mode::Challenges(_) => ModeKind::Challenges,
            Mode::Tours(_) => ModeKind::Tours,
        }
    }
}

/// A panel over the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Help,
    Reference,
}

/// Scheduling choices an edit made obsolete, kept with the program they were made for: if an edit
/// brings that program back, so are they.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SetAside {
    scenario: sim_core::Scenario,
    forced: Vec<Pid>,
}

/// The whole state of the playground.
pub struct Model {
    /// The editor's text (it may differ from the running scenario while it has errors).
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
    /// The last run that worked.
    pub engine: Option<Engine>,
    pub playing: bool,
    pub speed: u32,
    pub notice: Option<Notice>,
    pub document: Document,
    pub drafts: Drafts,
    pub mode: Mode,
    pub panel: Option<Panel>,
    /// Said to screen readers (an `aria-live` region).
    pub announcement: String,
    pub page_address: String,
    set_aside: Option<SetAside>,
    announced_this_update: bool,
}

impl Default for Model {
    fn default() -> Model {
        Model::new()
    }
}

fn default_setup(source: String) -> RunSetup {
    RunSetup { source, seed: 0, policy: Policy::RoundRobin, forced: Vec::new() }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

impl Model {
    pub fn new() -> Model {
        Model {
            text: String::new(),
            diagnostics: Vec::new(),
            engine: None,
            playing: false,
            speed: 4,
            notice: None,
            document: Document::Library(DEFAULT_SCENARIO),
            drafts: Drafts::default(),
            mode: Mode::Explore,
            panel: None,
            announcement: String::new(),
            page_address: String::new(),
            set_aside: None,
            announced_this_update: false,
        }
    }

    /// The position on screen, or 0 with no run.
    pub fn position(&self) -> u64 {
        self.engine.as_ref().map_or(0, Engine::position)
    }

    /// Whether the editor's text is not the running scenario (it has errors).
    pub fn stale(&self) -> bool {
        self.engine.as_ref().is_some_and(|engine| engine.setup.source != self.text)
    }

    /// The name of a process of the run, by pid.
    pub fn process_name(&self, pid: Pid) -> String {
        self.engine
            .as_ref()
            .and_then(|engine| {
                engine.process_names().iter().find(|(candidate, _)| *candidate == pid).map(|(_, name)| name.clone())
            })
            .unwrap_or_else(|| format!("pid {pid}"))
    }

    /// The prediction asked now: the next step's call, when predicting and not answered yet.
    pub fn question(&self) -> Option<(u64, facts::StepCall)> {
        let Mode::Predict(predictions) = &self.mode else { return None };
        let engine = self.engine.as_ref()?;
        if engine.at_end() || engine.error.is_some() {
            return None;
        }
        let step = engine.position() + 1;
        if predictions.answers.contains_key(&step) {
            return None;
        }
        facts::step_call(engine, step).map(|call| (step, call))
    }

    /// The challenge being played, if its program is the one on screen (an edit that changes the
    /// program leaves the challenge aside).
    pub fn challenge(&self) -> Option<(usize, bool)> {
        let Mode::Challenges(Some(play)) = &self.mode else { return None };
        let intact = self.engine.as_ref().is_some_and(|engine| {
            sim_core::parse(CHALLENGES[play.index].scenario).is_ok_and(|scenario| scenario == engine.scenario)
        });
        Some((play.index, intact))
    }

    /// The step at which the challenge being played is won in this run, if it is.
    pub fn challenge_won_at(&self) -> Option<u64> {
        let (index, intact) = self.challenge()?;
        if !intact {
            return None;
        }
        facts::goal_step(self.engine.as_ref()?, CHALLENGES[index].goal)
    }

    /// The tour being followed, with the step of each of its stops.
    pub fn tour(&self) -> Option<(usize, Vec<Option<u64>>)> {
        let Mode::Tours(Some(index)) = &self.mode else { return None };
        let engine = self.engine.as_ref()?;
        Some((*index, tour::stop_steps(&TOURS[*index], engine)))
    }

    /// The label of what is open, for notices ("“A pipe between parent and child”").
    fn document_label(&self) -> String {
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
    fn remember(&self) -> Reopen {
        Reopen {
            document: self.document.clone(),
            text: self.text.clone(),
            setup: self.engine.as_ref().map(|engine| engine.setup.clone()),
            step: self.position(),
        }
    }

    /// Builds and shows a run. On success the new run replaces the old one; on failure the errors go
    /// to the editor and the last good run stays on screen.
    fn build(&mut self, setup: RunSetup, step: u64) -> bool {
        match Engine::build(setup) {
            Ok(mut engine) => {
                engine.goto(step);
                self.diagnostics.clear();
                self.engine = Some(engine);
                true
            }
            Err(diagnostics) => {
                self.diagnostics = diagnostics;
                false
            }
        }
    }

    /// Opens `text` as `document` from step 0 with the default scheduler, and says where it is kept.
    fn open_document(&mut self, document: Document, text: String, effects: &mut Vec<Effect>) {
        self.stop(effects);
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
    fn offer_back(&mut self, before: Reopen, before_label: String) {
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

    fn stop(&mut self, effects: &mut Vec<Effect>) {
        if self.playing {
            self.playing = false;
            effects.push(Effect::StopTimer);
        }
    }

    fn start_timer(&self, effects: &mut Vec<Effect>) {
        effects.push(Effect::StartTimer { period_ms: (1000 / self.speed.max(1)).max(1) });
    }

    fn announce(&mut self, text: impl Into<String>) {
        self.announcement = text.into();
        self.announced_this_update = true;
    }

    /// Rebuilds the run with a changed setup at the same step (policy, seed, forgotten choices).
    fn rebuild_with(&mut self, change: impl FnOnce(&mut RunSetup)) {
        let Some(engine) = &self.engine else { return };
        let mut setup = engine.setup.clone();
        let step = engine.position();
        change(&mut setup);
        let kept = setup.forced.len() as u64;
        self.build(setup, step);
        if let Mode::Predict(predictions) = &mut self.mode {
            predictions.forget_after(kept.min(step));
        }
    }

    /// Saves an edit where it belongs: into the open draft, or into a new draft when a library
    /// scenario, a challenge or a link's scenario is edited (those stay as they were).
    fn keep_edit(&mut self, text: &str, effects: &mut Vec<Effect>) {
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
    fn edit(&mut self, text: String, effects: &mut Vec<Effect>) {
        if text == self.text {
            return;
        }
        self.stop(effects);
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
                let same = engine.scenario == parsed;
                (engine.setup.clone(), engine.position(), same)
            }
            None => (default_setup(String::new()), 0, false),
        };
        let mut forced = Vec::new();
        let mut said = None;
        if same_program {
            forced = setup.forced.clone();
        } else if let Some(aside) = self.set_aside.take_if(|aside| aside.scenario == parsed) {
            said = Some(format!(
                "The program is back to the one your {} were made for, so they apply again.",
                plural(aside.forced.len(), "scheduling choice", "scheduling choices")
            ));
            forced = aside.forced;
        } else if !setup.forced.is_empty() {
            if let Some(engine) = &self.engine {
                self.set_aside = Some(SetAside { scenario: engine.scenario.clone(), forced: setup.forced.clone() });
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
        if let Mode::Predict(predictions) = &mut self.mode {
            if same_program {
                predictions.forget_after(step);
            } else {
                predictions.forget_after(keep_from.min(step));
            }
        }
        if let Some(text) = said {
            let mut notice = Notice::new(NoticeKind::Info, text);
            notice.from_edit = true;
            self.notice = Some(notice);
        }
    }

    /// Opens the run in a link. A link that cannot be opened changes nothing and says why.
    fn open_link(&mut self, fragment: &str, effects: &mut Vec<Effect>) {
        let run = match share::decode(fragment) {
            Ok(run) => run,
            Err(error) => {
                self.notice = Some(Notice::new(
                    NoticeKind::Error,
                    format!("This link could not be opened: {error}. Your scenario was left as it was."),
                ));
                return;
            }
        };
        self.stop(effects);
        let document = match (catalog::stem_of(&run.scenario), challenge::by_text(&run.scenario)) {
            (Some(stem), _) => Document::Library(stem),
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
        if self.build(setup, run.step) {
            let shown = self.position();
            self.notice = Some(Notice::new(
                NoticeKind::Info,
                if shown < run.step {
                    format!("This link asked for step {}, but the run ends at step {shown}.", run.step)
                } else {
                    "Opened the run from the link.".to_string()
                },
            ));
        } else {
            self.engine = None;
            self.notice = Some(Notice::new(
                NoticeKind::Error,
                "The scenario in this link has errors; they are marked in the editor.",
            ));
        }
        effects.push(Effect::Focus("stage"));
    }

    fn init(&mut self, init: Init, effects: &mut Vec<Effect>) {
        self.page_address = init.page_address;
        self.drafts = init.drafts_json.as_deref().map(Drafts::from_json).unwrap_or_default();
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
            Some(("library", stem)) => match LIBRARY_STEMS.iter().find(|candidate| **candidate == stem) {
                Some(stem) => (Document::Library(stem), catalog::text(stem).unwrap_or_default().to_string()),
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
        if !self.build(default_setup(text), 0) {
            self.engine = None;
        }
        if !init.fragment.is_empty() {
            self.open_link(&init.fragment, effects);
            // Opening the page is not a move of the visitor's: the focus stays where the browser put it.
            effects.retain(|effect| !matches!(effect, Effect::Focus(_)));
        }
    }
}

/// Every library scenario's stem, as `'static` strings.
static LIBRARY_STEMS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| crate::library::LIBRARY.iter().map(|(stem, _, _)| *stem).collect());

fn default_document() -> (Document, String) {
    (Document::Library(DEFAULT_SCENARIO), catalog::text(DEFAULT_SCENARIO).unwrap_or_default().to_string())
}

fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => format!("{}{}", first.to_uppercase(), characters.as_str()),
        None => String::new(),
    }
}

/// Which notices a message takes away before it does anything.
fn clear_notice(model: &mut Model, msg: &Msg) {
    let Some(notice) = &model.notice else { return };
    let keeps_undo = notice.undo.is_some();
    let navigation = matches!(
        msg,
        Msg::Forward
            | Msg::Back
            | Msg::ToStart
            | Msg::ToEnd
            | Msg::Goto(_)
            | Msg::TogglePlay
            | Msg::Answer(_)
            | Msg::TourNext
            | Msg::TourBack
    );
    let change = matches!(
        msg,
        Msg::Pick(_)
            | Msg::ForgetChoices
            | Msg::Policy(_)
            | Msg::Seed(_)
            | Msg::Open(_)
            | Msg::RenameDraft(_)
            | Msg::DeleteDraft
            | Msg::Share
            | Msg::LinkChanged(_)
            | Msg::SetMode(_)
            | Msg::StartChallenge(_)
            | Msg::StartTour(_)
            | Msg::RestartPredictions
    );
    let clear = match msg {
        // Typing takes away what an earlier action said, but not what the typing itself said.
        Msg::Edit(_) => !notice.from_edit && notice.kind != NoticeKind::Error,
        _ if navigation => notice.kind != NoticeKind::Error && !keeps_undo,
        _ if change => true,
        _ => false,
    };
    if clear {
        model.notice = None;
    }
}

/// The one reducer: applies `msg` to `model` and returns the effects to perform, in order.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    let mut effects = Vec::new();
    let before = model.engine.as_ref().map(|engine| (engine.position(), engine.trace_hash()));
    model.announced_this_update = false;
    clear_notice(model, &msg);
    apply(model, msg, &mut effects);
    after(model, before);
    effects
}

/// Announcements that follow from any change: the step on screen, and a challenge won.
fn after(model: &mut Model, before: Option<(u64, u64)>) {
    let Some(engine) = &model.engine else { return };
    let now = (engine.position(), engine.trace_hash());
    let won_at = model.challenge_won_at();
    if let Mode::Challenges(Some(play)) = &mut model.mode {
        let position = now.0;
        match won_at {
            Some(step) if step <= position && !play.announced => {
                play.announced = true;
                let text = CHALLENGES[play.index].win_text;
                model.announcement = format!("Challenge won at step {step}. {text}");
                model.announced_this_update = true;
                return;
            }
            Some(step) if step <= position => {}
            _ => play.announced = false,
        }
    }
    if before != Some(now) && !model.announced_this_update {
        if let Some(engine) = &model.engine {
            model.announcement =
                format!("Step {} of {}. {}", engine.position(), engine.total_steps(), facts::caption(engine));
        }
    }
}

fn apply(model: &mut Model, msg: Msg, effects: &mut Vec<Effect>) {
    match msg {
        Msg::Init(init) => model.init(init, effects),
        Msg::Edit(text) => model.edit(text, effects),
        Msg::Forward => {
            if let Some((_, call)) = model.question() {
                let count = predict::choices(call.asked).len();
                model.announce(format!("First say what you think happens: press 1 to {count}, or pick an answer."));
                effects.push(Effect::Focus("answer-1"));
            } else if let Some(engine) = &mut model.engine {
                engine.forward();
            }
        }
        Msg::Back => {
            if let Some(engine) = &mut model.engine {
                engine.back();
            }
        }
        Msg::ToStart => {
            model.stop(effects);
            if let Some(engine) = &mut model.engine {
                engine.goto(0);
            }
        }
        Msg::ToEnd => {
            model.stop(effects);
            if let Some(engine) = &mut model.engine {
                engine.goto(u64::MAX);
            }
        }
        Msg::Goto(step) => {
            if let Some(engine) = &mut model.engine {
                engine.goto(step);
            }
        }
        Msg::TogglePlay => {
            if model.playing {
                model.stop(effects);
            } else if let Some(engine) = &mut model.engine {
                if engine.at_end() {
                    engine.goto(0);
                }
                model.playing = true;
                model.start_timer(effects);
            }
        }
        Msg::Tick => {
            if !model.playing {
                return;
            }
            if let Some((_, call)) = model.question() {
                model.stop(effects);
                let who = model.process_name(call.pid);
                model.announce(format!("Your turn: what will {who}'s {} do?", predict::call_word(call.asked)));
                effects.push(Effect::Focus("answer-1"));
                return;
            }
            match &mut model.engine {
                Some(engine) if !engine.at_end() => engine.forward(),
                _ => model.stop(effects),
            }
        }
        Msg::Speed(speed) => {
            model.speed = speed.clamp(1, 60);
            if model.playing {
                effects.push(Effect::StopTimer);
                model.start_timer(effects);
            }
        }
        Msg::Pick(pid) => {
            model.stop(effects);
            let Some(engine) = &mut model.engine else { return };
            let position = engine.position();
            if !engine.runnable().contains(&pid) {
                let name = model.process_name(pid);
                model.notice = Some(Notice::new(
                    NoticeKind::Error,
                    format!("{name} cannot take the next step: only a runnable process can be picked."),
                ));
                return;
            }
            if let Err(message) = engine.choose(pid) {
                model.notice = Some(Notice::new(NoticeKind::Error, message));
                return;
            }
            if let Mode::Predict(predictions) = &mut model.mode {
                predictions.forget_after(position);
            }
        }
        Msg::ForgetChoices => {
            model.set_aside = None;
            model.rebuild_with(|setup| setup.forced.clear());
        }
        Msg::Policy(name) => {
            let policy = if name == "random" { Policy::Random } else { Policy::RoundRobin };
            let forced = model.engine.as_ref().map_or(0, |engine| engine.setup.forced.len());
            model.rebuild_with(|setup| setup.policy = policy);
            if forced > 0 {
                model.notice = Some(Notice::new(
                    NoticeKind::Info,
                    format!(
                        "Your {} are kept; the {} scheduler picks after them.",
                        plural(forced, "scheduling choice", "scheduling choices"),
                        if name == "random" { "seeded random" } else { "round-robin" }
                    ),
                ));
            }
        }
        Msg::Seed(text) => match text.trim().parse::<u64>() {
            Ok(seed) => {
                let forced = model.engine.as_ref().map_or(0, |engine| engine.setup.forced.len());
                model.rebuild_with(|setup| setup.seed = seed);
                if forced > 0 {
                    model.notice = Some(Notice::new(
                        NoticeKind::Info,
                        format!(
                            "Your {} are kept; the scheduler picks after them with seed {seed}.",
                            plural(forced, "scheduling choice", "scheduling choices")
                        ),
                    ));
                }
            }
            Err(_) => {
                model.notice = Some(Notice::new(
                    NoticeKind::Error,
                    format!("The seed must be a whole number from 0 to {}, not {text:?}.", u64::MAX),
                ))
            }
        },
        Msg::Open(value) => open(model, &value, effects),
        Msg::RenameDraft(name) => {
            let Document::Draft(id) = model.document else { return };
            match model.drafts.rename(id, &name) {
                Ok(name) => {
                    effects.push(Effect::SaveDrafts(model.drafts.to_json()));
                    model.notice = Some(Notice::new(NoticeKind::Success, format!("Renamed to “{name}”.")));
                }
                Err(message) => model.notice = Some(Notice::new(NoticeKind::Error, message)),
            }
        }
        Msg::DeleteDraft => {
            let Document::Draft(id) = model.document else { return };
            let Some((index, draft)) = model.drafts.remove(id) else { return };
            effects.push(Effect::SaveDrafts(model.drafts.to_json()));
            let text = catalog::text(DEFAULT_SCENARIO).unwrap_or_default().to_string();
            model.open_document(Document::Library(DEFAULT_SCENARIO), text, effects);
            let mut notice = Notice::new(NoticeKind::Info, format!("Deleted the draft “{}”.", draft.name));
            notice.undo = Some(("Undo".to_string(), UndoAction::RestoreDraft { index, draft }));
            model.notice = Some(notice);
        }
        Msg::Undo => {
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
        Msg::Share => {
            let Some(engine) = &model.engine else { return };
            let fragment = share::encode(&engine.share());
            let address = format!("{}#{fragment}", model.page_address);
            let what = if model.challenge_won_at().is_some_and(|step| step <= engine.position()) {
                "it replays your winning schedule"
            } else {
                "it opens this run"
            };
            let mut notice = Notice::new(
                NoticeKind::Success,
                format!("Link copied: {what} at step {} ({} characters).", engine.position(), address.len()),
            );
            notice.share_address = Some(address.clone());
            model.notice = Some(notice);
            effects.push(Effect::SetFragment(fragment));
            effects.push(Effect::CopyToClipboard(address));
        }
        Msg::ExportTrace => {
            if let Some(engine) = &model.engine {
                effects.push(Effect::Download {
                    file_name: "trace.jsonl",
                    mime: "application/x-ndjson",
                    text: engine.trace_json_lines(),
                });
            }
        }
        Msg::ExportScenario => {
            effects.push(Effect::Download { file_name: "scenario.ipc", mime: "text/plain", text: model.text.clone() })
        }
        Msg::LinkChanged(fragment) => {
            if !fragment.is_empty() {
                model.open_link(&fragment, effects);
            }
        }
        Msg::DismissNotice => model.notice = None,
        Msg::SetMode(kind) => set_mode(model, kind, effects),
        Msg::StartChallenge(index) => {
            let Some(challenge) = CHALLENGES.get(index) else { return };
            let before = model.remember();
            let before_label = model.document_label();
            model.open_document(Document::Challenge(index), challenge.scenario.to_string(), effects);
            model.mode = Mode::Challenges(Some(ChallengePlay { index, announced: false }));
            if before.document != model.document {
                model.offer_back(before, before_label);
            }
            model.announce(format!("Challenge: {}", challenge.goal_text));
            effects.push(Effect::Focus("stage"));
        }
        Msg::StartTour(index) => {
            let Some(tour) = TOURS.get(index) else { return };
            let Some(text) = catalog::text(tour.scenario) else { return };
            let Some(stem) = LIBRARY_STEMS.iter().find(|stem| **stem == tour.scenario) else { return };
            let before = model.remember();
            let before_label = model.document_label();
            if before.document != Document::Library(stem) || model.stale() {
                model.open_document(Document::Library(stem), text.to_string(), effects);
                if before.document != model.document {
                    model.offer_back(before, before_label);
                }
            } else if let Some(engine) = &mut model.engine {
                engine.goto(0);
            }
            model.mode = Mode::Tours(Some(index));
            model.announce(format!("Tour: {}. {}", tour.title, tour.stops[0].text));
            effects.push(Effect::Focus("tour-next"));
        }
        Msg::TourNext => tour_move(model, true, effects),
        Msg::TourBack => tour_move(model, false, effects),
        Msg::Answer(chosen) => {
            let Some((step, call)) = model.question() else { return };
            let choices = predict::choices(call.asked);
            if chosen >= choices.len() {
                return;
            }
            let right = predict::right_choice(call.asked, &call.happened) == Some(chosen);
            if let Mode::Predict(predictions) = &mut model.mode {
                predictions.record(step, chosen, right);
            }
            if let Some(engine) = &mut model.engine {
                engine.forward();
            }
            let verdict = if right { "Right." } else { "Not this time." };
            let reason = model.engine.as_ref().map(facts::caption).unwrap_or_default();
            model.announce(format!("{verdict} {} {reason}", predict::answer_words(&call.happened)));
            effects.push(Effect::Focus("stage"));
        }
        Msg::RestartPredictions => {
            model.stop(effects);
            model.mode = Mode::Predict(Predictions::default());
            if let Some(engine) = &mut model.engine {
                engine.goto(0);
            }
            effects.push(Effect::Focus("stage"));
        }
        Msg::Help(open) => toggle_panel(model, Panel::Help, open, effects),
        Msg::Reference(open) => toggle_panel(model, Panel::Reference, open, effects),
        Msg::Escape => {
            if let Some(panel) = model.panel {
                toggle_panel(model, panel, false, effects);
            } else {
                model.notice = None;
            }
        }
    }
}

/// Moves to the next or the previous stop of the tour being followed.
fn tour_move(model: &mut Model, forward: bool, effects: &mut Vec<Effect>) {
    let Some((index, steps)) = model.tour() else { return };
    let position = model.position();
    let target = if forward { tour::next_stop(&steps, position) } else { tour::previous_stop(&steps, position) };
    let Some((stop, step)) = target else { return };
    model.stop(effects);
    if let Some(engine) = &mut model.engine {
        engine.goto(step);
    }
    let tour = &TOURS[index];
    model.announce(format!("Stop {} of {}, step {step}. {}", stop + 1, tour.stops.len(), tour.stops[stop].text));
}

fn toggle_panel(model: &mut Model, panel: Panel, open: bool, effects: &mut Vec<Effect>) {
    let (dialog, opener) = match panel {
        Panel::Help => ("help-dialog", "help-button"),
        Panel::Reference => ("reference-dialog", "reference-button"),
    };
    if open {
        model.panel = Some(panel);
        effects.push(Effect::Focus(dialog));
    } else if model.panel == Some(panel) {
        model.panel = None;
        effects.push(Effect::Focus(opener));
    }
}

fn open(model: &mut Model, value: &str, effects: &mut Vec<Effect>) {
    let before = model.remember();
    let before_label = model.document_label();
    let (document, text) = match value.split_once(':') {
        Some(("library", stem)) => {
            let Some(stem) = LIBRARY_STEMS.iter().find(|candidate| **candidate == stem) else { return };
            (Document::Library(stem), catalog::text(stem).unwrap_or_default().to_string())
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

fn set_mode(model: &mut Model, kind: ModeKind, effects: &mut Vec<Effect>) {
    if model.mode.kind() == kind {
        // Pressed again: from a challenge or a tour back to the list of them.
        match kind {
            ModeKind::Challenges => model.mode = Mode::Challenges(None),
            ModeKind::Tours => model.mode = Mode::Tours(None),
            _ => return,
        }
        effects.push(Effect::Focus("teach-panel"));
        return;
    }
    model.stop(effects);
    model.mode = match kind {
        ModeKind::Explore => Mode::Explore,
        ModeKind::Predict => {
            if let Some(engine) = &mut model.engine {
                engine.goto(0);
            }
            model.announce(
                "Predict mode: before each read, write, open or wait, say what it will do. Press → to begin.",
            );
            Mode::Predict(Predictions::default())
        }
        ModeKind::Challenges => match model.document {
            Document::Challenge(index) => Mode::Challenges(Some(ChallengePlay { index, announced: false })),
            _ => Mode::Challenges(None),
        },
        ModeKind::Tours => Mode::Tours(None),
    };
    effects.push(Effect::Focus(match kind {
        ModeKind::Challenges | ModeKind::Tours => "teach-panel",
        _ => "stage",
    }));
}

#[cfg(test)]
mod tests;
