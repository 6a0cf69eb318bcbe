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
//! [`crate::facts`]. This file has the types, the dispatch and the run's own messages (stepping,
//! playback, picking, the scheduler, sharing); `document.rs` opens scenarios, drafts and links and
//! keeps edits; `library.rs` fetches the library's texts; `teaching.rs` handles the teaching modes;
//! `drafts.rs` and `keys.rs` are plain data.

mod branches;
mod document;
pub mod drafts;
mod drafts_json;
mod exploring;
mod handover;
pub mod keys;
mod library;
mod teaching;

pub use branches::{end_words, ExplorerAsk, SealedMark, WhatElse, WhatElseRow};
pub use exploring::{ExploreProgress, ExploreReport, ExploredRow, Exploring, ANY_EXPLORATION, EXPLORE_STATES};
pub use handover::HANDOVER_KEY;
pub use library::{scenario_file, Fetching, Library, Then, DEFAULT_TEXT, SCENARIO_DIRECTORY};

use crate::engine::{program_text, Engine, RunSetup};
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
    /// Go back to another branch of the run's history (its index in [`Model::branches`]).
    Branch(usize),
    /// Every way the run can still end from the step on screen, for each process that could run next.
    WhatElse,
    /// Where the run's fate was sealed (asked in the first module, which hands over to find it).
    FindSealed,
    /// Every schedule of the scenario on screen, explored in a worker.
    ExploreAll,
    /// The worker's answer to an exploration (its number), or why it failed.
    Explored(u32, Result<ExploreReport, String>),
    /// How far an exploration (its number) has got.
    ExploreProgress(u32, ExploreProgress),
    /// Stop the exploration that is running.
    StopExploring,
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
    /// The language reference arrived (its Markdown), or could not be fetched (why).
    ReferenceLoaded(Result<String, String>),
    /// A library scenario's text arrived, or could not be fetched (why).
    ScenarioLoaded(&'static str, Result<String, String>),
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
    /// What the module without the IPC mechanisms handed over, if it did (see `handover.rs`).
    pub handover: Option<String>,
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
    /// Fetch the language reference ([`REFERENCE_FILE`], beside the page) and answer with
    /// [`Msg::ReferenceLoaded`].
    FetchReference,
    /// Fetch a library scenario's text ([`scenario_file`], beside the page) and answer with
    /// [`Msg::ScenarioLoaded`].
    FetchScenario(&'static str),
    /// Have the page load its full module, with the IPC mechanisms, in place of this one, which cannot
    /// run what the editor holds ([`Model::handover_record`] says what it shows).
    LoadFull,
    /// Explore every schedule of `scenario` in a worker, and answer with [`Msg::Explored`] and `id`
    /// (with [`Msg::ExploreProgress`] on the way).
    Explore {
        id: u32,
        scenario: String,
        max_states: u64,
    },
    /// End the exploring worker, and with it the exploration it runs (a new one starts the next time).
    StopExploring,
}

/// The language reference, served beside the page (`cargo xtask dist` copies
/// `docs/scenario-language.md` there). It is fetched when its panel first opens rather than compiled
/// into the bundle, which it would grow by a twenty-fifth for a page most visits never open.
pub const REFERENCE_FILE: &str = "scenario-language.md";

/// The language reference as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    NotFetched,
    Loading,
    /// Its Markdown text.
    Loaded(String),
    /// Why it could not be fetched.
    Failed(String),
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
    /// The program they were made for, in its canonical form.
    program_text: String,
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
    pub reference: Reference,
    /// The library's texts the page has, and the one being fetched.
    pub library: Library,
    /// Said to screen readers (an `aria-live` region).
    pub announcement: String,
    pub page_address: String,
    /// The page is the embeddable player (`embed.html`), not the playground.
    pub embed: Option<Embed>,
    set_aside: Option<SetAside>,
    announced_this_update: bool,
    /// The full module was asked to take over (said once).
    pub handing_over: bool,
    /// The run last asked for that could not be built, with its step (until one is built).
    unbuilt: Option<(RunSetup, u64)>,
    /// A teaching mode chosen in the first module, which has none: the full module makes the choice.
    mode_asked: Option<ModeKind>,
    /// The other branches of the run's history: the same scenario, seed and policy with other choices,
    /// in the order they were left (see `branches.rs`).
    pub branches: Vec<share::Branch>,
    /// The last "What else?" asked.
    pub what_else: Option<WhatElse>,
    /// Where the run on screen was sealed, if it ends badly.
    pub sealed: Option<SealedMark>,
    /// Asked in the first module, for the full one to do (see `branches.rs`).
    pub explorer_asked: Option<ExplorerAsk>,
    /// Every schedule of a scenario, asked for or found (see `exploring.rs`).
    pub exploring: Option<Exploring>,
    /// The verdict of a check on Linux carried by the link last opened (shown while its run is).
    pub checked: Option<share::Checked>,
    /// Explorations asked for so far (each answer says which it answers).
    explorations: u32,
}

/// The embeddable player (`embed.html#LINK` in an `iframe`, or the `<ipclab-player>` element): one run
/// with its controls and pictures, no library, teaching or drafts, and a link that opens the same run
/// in the playground. The editor shows only when asked (`embed.html?editor#LINK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Embed {
    pub editor: bool,
}

impl Embed {
    /// The player, if `page_address` (without its fragment) is `.../embed.html`, with `?editor` for
    /// the editor.
    pub fn of(page_address: &str) -> Option<Embed> {
        let (path, query) = page_address.split_once('?').unwrap_or((page_address, ""));
        let file = path.rsplit('/').next().unwrap_or(path);
        (file == EMBED_PAGE).then(|| Embed { editor: query.split('&').any(|part| part == "editor") })
    }
}

/// The embeddable player's page, beside the playground's `index.html`.
pub const EMBED_PAGE: &str = "embed.html";

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
            reference: Reference::NotFetched,
            library: Library::default(),
            announcement: String::new(),
            page_address: String::new(),
            embed: None,
            set_aside: None,
            announced_this_update: false,
            handing_over: false,
            unbuilt: None,
            mode_asked: None,
            branches: Vec::new(),
            what_else: None,
            sealed: None,
            explorer_asked: None,
            exploring: None,
            explorations: 0,
            checked: None,
        }
    }

    /// Whether the page keeps the visitor's drafts and what is open (the playground does, the player
    /// does not: it shares the playground's storage and must leave it alone).
    pub fn keeps_drafts(&self) -> bool {
        self.embed.is_none()
    }

    /// The playground's address for the run on screen at its step (the player's "open in the
    /// playground" link): `index.html` beside the player, with the run's link.
    pub fn playground_address(&self) -> Option<String> {
        let fragment = self.share_text()?;
        let path = self.page_address.split('?').next().unwrap_or_default();
        let base = match path.rsplit_once('/') {
            Some((directory, _)) => format!("{directory}/index.html"),
            None => "index.html".to_string(),
        };
        Some(format!("{base}#{fragment}"))
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
        // The first module leaves the teaching modes to the full one.
        if !crate::FULL {
            return None;
        }
        let Mode::Predict(predictions) = &self.mode else { return None };
        let engine = self.engine.as_ref()?;
        if engine.at_end() || engine.error.is_some() {
            return None;
        }
        let step = engine.position() + 1;
        if predictions.answer(step).is_some() {
            return None;
        }
        facts::step_call(engine, step).map(|call| (step, call))
    }

    /// The challenge being played, if its program is the one on screen (an edit that changes the
    /// program leaves the challenge aside).
    pub fn challenge(&self) -> Option<(usize, bool)> {
        if !crate::FULL {
            return None;
        }
        let Mode::Challenges(Some(play)) = &self.mode else { return None };
        let intact = self.engine.as_ref().is_some_and(|engine| {
            sim_core::parse(CHALLENGES[play.index].scenario)
                .is_ok_and(|scenario| program_text(&scenario) == engine.program_text)
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
        if !crate::FULL {
            return None;
        }
        let Mode::Tours(Some(index)) = &self.mode else { return None };
        let engine = self.engine.as_ref()?;
        let tour = &TOURS[*index];
        // The stops follow the library's text, even when the run's text is a copy with comments added.
        let source = self.library.text(tour.scenario).unwrap_or(&engine.setup.source);
        Some((*index, tour::stop_steps(tour, source, engine)))
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
    if !model.handing_over && model.needs_full_module() {
        model.handing_over = true;
        effects.push(Effect::LoadFull);
    }
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
            let mut text =
                format!("Step {} of {}. {}", engine.position(), engine.total_steps(), facts::caption(engine));
            let program = engine.simulation().program();
            let names = engine.process_names();
            for signal_move in facts::signal_moves_now(engine) {
                text.push(' ');
                text.push_str(&facts::move_sentence(program, &names, &signal_move));
                text.push('.');
            }
            model.announcement = text;
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
            // The scenario's schedule still had this step to pin: the pick sets it aside.
            let left_schedule = match engine.schedule_line() {
                Some(line) if engine.setup.forced.is_empty() && position < engine.pinned_steps() => {
                    Some((line, engine.pinned_steps()))
                }
                _ => None,
            };
            // A choice other than the one the run took there starts a branch; the run left is kept.
            let diverges = engine.choices().get(position as usize).is_some_and(|taken| *taken != pid);
            if diverges {
                model.leave_branch();
            }
            let Some(engine) = &mut model.engine else { return };
            if let Err(message) = engine.choose(pid) {
                model.notice = Some(Notice::new(NoticeKind::Error, message));
                return;
            }
            model.find_sealed();
            if diverges {
                let count = model.branches.len();
                model.announce(format!(
                    "A new branch from step {position}; the run you left is kept ({} in all).",
                    plural(count + 1, "branch", "branches")
                ));
            }
            if let Mode::Predict(predictions) = &mut model.mode {
                predictions.forget_after(position);
            }
            if let Some((line, pinned)) = left_schedule {
                let name = model.process_name(pid);
                model.notice = Some(Notice::new(
                    NoticeKind::Info,
                    format!(
                        "You picked {name} at step {}, so the run no longer follows the scenario's schedule \
                         (line {line}, which pinned the first {}). Forget your choices to follow it again.",
                        position + 1,
                        plural(pinned as usize, "step", "steps")
                    ),
                ));
            }
        }
        Msg::Branch(index) => branches::switch(model, index, effects),
        Msg::WhatElse => {
            model.stop(effects);
            model.what_else_here();
        }
        Msg::ExploreAll => exploring::ask(model, effects),
        Msg::Explored(id, answer) => exploring::answered(model, id, answer, effects),
        Msg::ExploreProgress(id, progress) => exploring::progressed(model, id, progress),
        Msg::StopExploring => exploring::stop(model, effects),
        Msg::FindSealed => {
            if !crate::FULL {
                model.explorer_asked = Some(ExplorerAsk::Sealed);
            }
        }
        Msg::ForgetChoices => {
            model.set_aside = None;
            model.rebuild_with(|setup| setup.forced.clear());
            if let Some(line) = model.engine.as_ref().and_then(Engine::schedule_line) {
                model.notice = Some(Notice::new(
                    NoticeKind::Info,
                    format!("The run follows the scenario's schedule (line {line}) again."),
                ));
            }
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
        Msg::Open(value) => document::open(model, &value, effects),
        Msg::RenameDraft(name) => document::rename_draft(model, &name, effects),
        Msg::DeleteDraft => document::delete_draft(model, effects),
        Msg::Undo => document::undo(model, effects),
        Msg::Share => {
            let (Some(engine), Some(fragment)) = (&model.engine, model.share_text()) else { return };
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
        // The first module has no teaching modes: choosing one hands the page to the full module, which
        // makes the same choice (see `handover.rs`).
        Msg::SetMode(kind) if !crate::FULL => {
            if kind != ModeKind::Explore {
                model.mode_asked = Some(kind);
            }
        }
        Msg::SetMode(kind) => teaching::set_mode(model, kind, effects),
        Msg::StartChallenge(index) if crate::FULL => teaching::start_challenge(model, index, effects),
        Msg::StartTour(index) if crate::FULL => teaching::start_tour(model, index, effects),
        Msg::TourNext if crate::FULL => teaching::tour_move(model, true, effects),
        Msg::TourBack if crate::FULL => teaching::tour_move(model, false, effects),
        Msg::Answer(chosen) if crate::FULL => teaching::answer(model, chosen, effects),
        Msg::RestartPredictions if crate::FULL => teaching::restart_predictions(model, effects),
        Msg::StartChallenge(_)
        | Msg::StartTour(_)
        | Msg::TourNext
        | Msg::TourBack
        | Msg::Answer(_)
        | Msg::RestartPredictions => {}
        Msg::Help(open) => toggle_panel(model, Panel::Help, open, effects),
        Msg::Reference(open) => {
            toggle_panel(model, Panel::Reference, open, effects);
            // Fetched once; a failed fetch is tried again the next time the panel opens.
            if open && matches!(model.reference, Reference::NotFetched | Reference::Failed(_)) {
                model.reference = Reference::Loading;
                effects.push(Effect::FetchReference);
            }
        }
        Msg::ReferenceLoaded(result) => {
            model.reference = match result {
                Ok(text) => Reference::Loaded(text),
                Err(why) => Reference::Failed(why),
            };
        }
        Msg::ScenarioLoaded(stem, result) => library::loaded(model, stem, result, effects),
        Msg::Escape => {
            if let Some(panel) = model.panel {
                toggle_panel(model, panel, false, effects);
            } else {
                model.notice = None;
            }
        }
    }
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

#[cfg(test)]
mod tests;
