//! The playground's one component: editor on the left, the kernel in the middle, the timeline below.
//!
//! All state that matters lives in an [`Engine`] (the run) and the editor text. The view reads plain
//! [`Snapshot`]s and step stories from the engine; it never looks inside the kernel.

use crate::browser;
use crate::engine::{Engine, RunSetup};
use crate::library::LIBRARY;
use crate::view;
use gloo_timers::callback::Interval;
use sim_core::share;
use sim_core::{Diagnostic, Pid, Policy};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

/// The scenario a visitor sees first.
pub const DEFAULT_SCENARIO: &str = "pipe-parent-child";

/// Playback speeds offered, in steps per second.
pub const SPEEDS: &[u32] = &[1, 2, 4, 8, 16, 60];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Error,
    Info,
}

pub enum Msg {
    Edit(String),
    Forward,
    Back,
    ToStart,
    ToEnd,
    Goto(u64),
    TogglePlay,
    Tick,
    Speed(u32),
    Choose(Pid),
    ForgetChoices,
    Policy(String),
    Seed(String),
    LoadLibrary(String),
    Share,
    ExportTrace,
    ExportScenario,
    HashChanged,
    Key(KeyboardEvent),
    DismissNotice,
}

pub struct App {
    text: String,
    diagnostics: Vec<Diagnostic>,
    engine: Option<Engine>,
    playing: Option<Interval>,
    speed: u32,
    notice: Option<(NoticeKind, String)>,
    share_address: Option<String>,
    library_choice: String,
    measuring: Option<(&'static str, f64)>,
    _keydown: Option<Closure<dyn FnMut(KeyboardEvent)>>,
    _hashchange: Option<Closure<dyn FnMut(web_sys::Event)>>,
}

fn library_text(name: &str) -> Option<&'static str> {
    LIBRARY.iter().find(|(stem, _, _)| *stem == name).map(|(_, text, _)| *text)
}

fn default_setup(source: String) -> RunSetup {
    RunSetup { source, seed: 0, policy: Policy::RoundRobin, forced: Vec::new() }
}

impl App {
    /// Runs `setup`: on success the new run replaces the old one; on failure the errors go inline and
    /// the last good run stays on screen.
    fn load(&mut self, setup: RunSetup, step: u64) {
        self.text = setup.source.clone();
        self.library_choice = LIBRARY
            .iter()
            .find(|(_, text, _)| *text == setup.source)
            .map(|(stem, _, _)| stem.to_string())
            .unwrap_or_default();
        match Engine::build(setup) {
            Ok(mut engine) => {
                engine.goto(step);
                self.diagnostics.clear();
                self.engine = Some(engine);
            }
            Err(diagnostics) => self.diagnostics = diagnostics,
        }
    }

    /// Opens the run in the URL fragment, if any. A bad link leaves the editor as it was.
    fn open_fragment(&mut self) -> bool {
        let fragment = browser::fragment();
        if fragment.is_empty() {
            return false;
        }
        match share::decode(&fragment) {
            Ok(run) => {
                let setup = RunSetup {
                    source: run.scenario.clone(),
                    seed: run.seed,
                    policy: run.policy.clone(),
                    forced: run.forced.clone(),
                };
                self.stop();
                self.load(setup, run.step);
                if self.diagnostics.is_empty() {
                    let shown = self.engine.as_ref().map_or(0, Engine::position);
                    self.notice = if shown < run.step {
                        Some((
                            NoticeKind::Info,
                            format!("This link asked for step {}, but the run ends at step {shown}.", run.step),
                        ))
                    } else {
                        Some((NoticeKind::Info, "Opened the run from the link.".to_string()))
                    };
                } else {
                    self.notice = Some((
                        NoticeKind::Error,
                        "The scenario in this link has errors; they are marked in the editor.".to_string(),
                    ));
                }
            }
            Err(error) => {
                self.notice = Some((
                    NoticeKind::Error,
                    format!("This link could not be opened: {error}. Your scenario was left as it was."),
                ));
            }
        }
        true
    }

    fn stop(&mut self) {
        self.playing = None;
    }

    fn measure(&mut self, label: &'static str) {
        self.measuring = Some((label, browser::now_ms()));
    }

    fn setup_with(&self, change: impl FnOnce(&mut RunSetup)) -> Option<RunSetup> {
        let mut setup = self.engine.as_ref()?.setup.clone();
        change(&mut setup);
        Some(setup)
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let mut app = App {
            text: String::new(),
            diagnostics: Vec::new(),
            engine: None,
            playing: None,
            speed: 4,
            notice: None,
            share_address: None,
            library_choice: DEFAULT_SCENARIO.to_string(),
            measuring: None,
            _keydown: None,
            _hashchange: None,
        };
        let fallback =
            browser::load_draft().unwrap_or_else(|| library_text(DEFAULT_SCENARIO).unwrap_or(LIBRARY[0].1).to_string());
        app.load(default_setup(fallback), 0);
        app.open_fragment();
        if let Some(window) = web_sys::window() {
            let link = ctx.link().clone();
            let keydown = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
                link.send_message(Msg::Key(event));
            });
            if let Some(document) = window.document() {
                let _ = document.add_event_listener_with_callback("keydown", keydown.as_ref().unchecked_ref());
            }
            app._keydown = Some(keydown);
            let link = ctx.link().clone();
            let hashchange = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
                link.send_message(Msg::HashChanged);
            });
            let _ = window.add_event_listener_with_callback("hashchange", hashchange.as_ref().unchecked_ref());
            app._hashchange = Some(hashchange);
        }
        app
    }

    fn destroy(&mut self, _ctx: &Context<Self>) {
        if let Some(window) = web_sys::window() {
            if let (Some(document), Some(keydown)) = (window.document(), self._keydown.as_ref()) {
                let _ = document.remove_event_listener_with_callback("keydown", keydown.as_ref().unchecked_ref());
            }
            if let Some(hashchange) = self._hashchange.as_ref() {
                let _ = window.remove_event_listener_with_callback("hashchange", hashchange.as_ref().unchecked_ref());
            }
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Edit(text) => {
                browser::save_draft(&text);
                browser::clear_fragment();
                let setup = match &self.engine {
                    Some(engine) => RunSetup { source: text.clone(), forced: Vec::new(), ..engine.setup.clone() },
                    None => default_setup(text.clone()),
                };
                let step = self.engine.as_ref().map_or(0, Engine::position);
                self.stop();
                self.load(setup, step);
                self.text = text;
                self.share_address = None;
            }
            Msg::Forward => {
                self.measure("step");
                if let Some(engine) = &mut self.engine {
                    engine.forward();
                }
            }
            Msg::Back => {
                self.measure("back");
                if let Some(engine) = &mut self.engine {
                    engine.back();
                }
            }
            Msg::ToStart => {
                self.stop();
                self.measure("jump");
                if let Some(engine) = &mut self.engine {
                    engine.goto(0);
                }
            }
            Msg::ToEnd => {
                self.stop();
                self.measure("jump");
                if let Some(engine) = &mut self.engine {
                    engine.goto(u64::MAX);
                }
            }
            Msg::Goto(step) => {
                self.measure("jump");
                if let Some(engine) = &mut self.engine {
                    engine.goto(step);
                }
            }
            Msg::TogglePlay => {
                if self.playing.is_some() {
                    self.stop();
                } else if let Some(engine) = &mut self.engine {
                    if engine.at_end() {
                        engine.goto(0);
                    }
                    let link = ctx.link().clone();
                    let period_ms = (1000 / self.speed.max(1)).max(1);
                    self.playing = Some(Interval::new(period_ms, move || link.send_message(Msg::Tick)));
                }
            }
            Msg::Tick => {
                self.measure("step");
                match &mut self.engine {
                    Some(engine) if !engine.at_end() => engine.forward(),
                    _ => self.stop(),
                }
            }
            Msg::Speed(speed) => {
                self.speed = speed;
                if self.playing.is_some() {
                    self.stop();
                    ctx.link().send_message(Msg::TogglePlay);
                }
            }
            Msg::Choose(pid) => {
                self.stop();
                self.measure("choose");
                if let Some(engine) = &mut self.engine {
                    if let Err(message) = engine.choose(pid) {
                        self.notice = Some((NoticeKind::Error, message));
                    }
                }
            }
            Msg::ForgetChoices => {
                if let Some(setup) = self.setup_with(|setup| setup.forced.clear()) {
                    let step = self.engine.as_ref().map_or(0, Engine::position);
                    self.load(setup, step);
                }
            }
            Msg::Policy(name) => {
                let policy = if name == "random" { Policy::Random } else { Policy::RoundRobin };
                if let Some(setup) = self.setup_with(|setup| {
                    setup.policy = policy;
                    setup.forced.clear();
                }) {
                    let step = self.engine.as_ref().map_or(0, Engine::position);
                    self.load(setup, step);
                }
            }
            Msg::Seed(text) => match text.trim().parse::<u64>() {
                Ok(seed) => {
                    if let Some(setup) = self.setup_with(|setup| {
                        setup.seed = seed;
                        setup.forced.clear();
                    }) {
                        let step = self.engine.as_ref().map_or(0, Engine::position);
                        self.load(setup, step);
                    }
                }
                Err(_) => {
                    self.notice = Some((NoticeKind::Error, format!("The seed must be a whole number, not {text:?}.")))
                }
            },
            Msg::LoadLibrary(name) => {
                if let Some(text) = library_text(&name) {
                    self.stop();
                    self.library_choice = name;
                    self.share_address = None;
                    self.load(default_setup(text.to_string()), 0);
                    browser::save_draft(text);
                }
            }
            Msg::Share => {
                if let Some(engine) = &self.engine {
                    let fragment = share::encode(&engine.share());
                    browser::set_fragment(&fragment);
                    let address = format!("{}#{fragment}", browser::page_address());
                    browser::copy_to_clipboard(&address);
                    self.notice = Some((
                        NoticeKind::Info,
                        format!(
                            "Link copied: it opens this run at step {} ({} characters).",
                            engine.position(),
                            address.len()
                        ),
                    ));
                    self.share_address = Some(address);
                }
            }
            Msg::ExportTrace => {
                if let Some(engine) = &self.engine {
                    browser::download("trace.jsonl", "application/x-ndjson", &engine.trace_json_lines());
                }
                return false;
            }
            Msg::ExportScenario => {
                browser::download("scenario.ipc", "text/plain", &self.text);
                return false;
            }
            Msg::HashChanged => {
                if browser::fragment().is_empty() {
                    return false;
                }
                self.open_fragment();
            }
            Msg::Key(event) => {
                let in_field = event
                    .target()
                    .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                    .map(|element| matches!(element.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT"))
                    .unwrap_or(false);
                if in_field || event.ctrl_key() || event.meta_key() || event.alt_key() {
                    return false;
                }
                let next = match event.key().as_str() {
                    "ArrowRight" => Msg::Forward,
                    "ArrowLeft" => Msg::Back,
                    " " | "Spacebar" => Msg::TogglePlay,
                    "Home" => Msg::ToStart,
                    "End" => Msg::ToEnd,
                    _ => return false,
                };
                event.prevent_default();
                ctx.link().send_message(next);
                return false;
            }
            Msg::DismissNotice => self.notice = None,
        }
        true
    }

    fn rendered(&mut self, _ctx: &Context<Self>, first_render: bool) {
        if first_render {
            browser::record_timing("firstRenderMs", browser::now_ms());
        }
        if let Some((label, started)) = self.measuring.take() {
            browser::record_timing(&format!("{label}Ms"), browser::now_ms() - started);
        }
        if let Some(engine) = &self.engine {
            browser::record_text("traceHash", &format!("{:016x}", engine.trace_hash()));
            browser::record_timing("step", engine.position() as f64);
            browser::record_timing("totalSteps", engine.total_steps() as f64);
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let snapshot = self.engine.as_ref().map(Engine::snapshot);
        let stale = self.engine.as_ref().is_some_and(|engine| engine.setup.source != self.text);
        let on_library = link.callback(|event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            Msg::LoadLibrary(select.value())
        });
        let header = html! {
            <header class="topbar">
                <div class="brand">
                    <span class="logo">{"ipc"}<b>{"lab"}</b></span>
                    <span class="tagline">{"watch processes talk through the kernel"}</span>
                </div>
                <div class="actions">
                    <label class="field">
                        <span>{"Library"}</span>
                        <select id="library" onchange={on_library}>
                            if self.library_choice.is_empty() {
                                <option value="" selected=true disabled=true>{"(your own scenario)"}</option>
                            }
                            { for LIBRARY.iter().map(|(stem, _, _)| html! {
                                <option value={*stem} selected={*stem == self.library_choice}>{*stem}</option>
                            }) }
                        </select>
                    </label>
                    <button id="share" class="primary" onclick={link.callback(|_| Msg::Share)}>{"Share link"}</button>
                    <button id="export-trace" onclick={link.callback(|_| Msg::ExportTrace)}>{"Export trace"}</button>
                    <button id="export-scenario" onclick={link.callback(|_| Msg::ExportScenario)}>{"Export .ipc"}</button>
                </div>
            </header>
        };
        let notice = match &self.notice {
            Some((kind, message)) => html! {
                <div id="notice" class={classes!("notice", if *kind == NoticeKind::Error { "error" } else { "info" })}>
                    <span class="notice-text">{message.clone()}</span>
                    if let Some(address) = &self.share_address {
                        <input id="share-url" class="share-url" readonly=true value={address.clone()} />
                    }
                    <button class="dismiss" title="Dismiss" onclick={link.callback(|_| Msg::DismissNotice)}>{"×"}</button>
                </div>
            },
            None => html! {
                <div id="hint" class="hint">
                    {"Press "}<kbd>{"→"}</kbd>{" to take a step, "}<kbd>{"←"}</kbd>{" to go back, "}<kbd>{"Space"}</kbd>
                    {" to run. Click "}<b>{"Run"}</b>{" on a process to be the scheduler."}
                </div>
            },
        };
        let on_edit = link.callback(|event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            Msg::Edit(area.value())
        });
        let highlights: Vec<(u32, String, Pid)> = match (&snapshot, stale) {
            (Some(snapshot), false) => snapshot
                .processes
                .iter()
                .filter_map(|process| process.next_span.map(|span| (span.line, process.name.clone(), process.pid)))
                .collect(),
            _ => Vec::new(),
        };
        let editor = view::editor(&self.text, &self.diagnostics, &highlights, on_edit, stale);
        let middle = match (&self.engine, &snapshot) {
            (Some(engine), Some(snapshot)) => {
                view::kernel(engine, snapshot, link.callback(Msg::Choose), link.callback(|_| Msg::ForgetChoices))
            }
            _ => html! {
                <section class="kernel empty">
                    <p>{"Fix the errors in the scenario to see it run."}</p>
                </section>
            },
        };
        let timeline = match &self.engine {
            Some(engine) => {
                let on_scrub = link.callback(|event: InputEvent| {
                    let input: HtmlInputElement = event.target_unchecked_into();
                    Msg::Goto(input.value().parse().unwrap_or(0))
                });
                let on_speed = link.callback(|event: Event| {
                    let select: HtmlSelectElement = event.target_unchecked_into();
                    Msg::Speed(select.value().parse().unwrap_or(4))
                });
                let on_policy = link.callback(|event: Event| {
                    let select: HtmlSelectElement = event.target_unchecked_into();
                    Msg::Policy(select.value())
                });
                let on_seed = link.callback(|event: Event| {
                    let input: HtmlInputElement = event.target_unchecked_into();
                    Msg::Seed(input.value())
                });
                let policy_name = match engine.setup.policy {
                    Policy::Random => "random",
                    _ => "round-robin",
                };
                let playing = self.playing.is_some();
                html! {
                    <footer class="timeline">
                        <div class="transport">
                            <button id="to-start" title="Jump to the start (Home)" onclick={link.callback(|_| Msg::ToStart)}>{"|◀"}</button>
                            <button id="back" title="Step back (←)" onclick={link.callback(|_| Msg::Back)}>{"◀"}</button>
                            <button id="play" class="play" title="Run or pause (Space)" onclick={link.callback(|_| Msg::TogglePlay)}>
                                { if playing { "❚❚ Pause" } else { "▶ Run" } }
                            </button>
                            <button id="forward" title="Step forward (→)" onclick={link.callback(|_| Msg::Forward)}>{"▶"}</button>
                            <button id="to-end" title="Jump to the end (End)" onclick={link.callback(|_| Msg::ToEnd)}>{"▶|"}</button>
                        </div>
                        <div class="scrub">
                            <view::Strip segments={engine.strip()} names={engine.process_names()} />
                            <input id="scrubber" class="scrubber" type="range" min="0" max={engine.total_steps().to_string()}
                                value={engine.position().to_string()} oninput={on_scrub} aria-label="Step" />
                        </div>
                        <div class="position">
                            <span id="step-label">{format!("step {} / {}", engine.position(), engine.total_steps())}</span>
                        </div>
                        <div class="settings">
                            <label class="field"><span>{"Speed"}</span>
                                <select id="speed" onchange={on_speed}>
                                    { for SPEEDS.iter().map(|speed| html! {
                                        <option value={speed.to_string()} selected={*speed == self.speed}>{format!("{speed}/s")}</option>
                                    }) }
                                </select>
                            </label>
                            <label class="field"><span>{"Scheduler"}</span>
                                <select id="policy" onchange={on_policy}>
                                    <option value="round-robin" selected={policy_name == "round-robin"}>{"round-robin"}</option>
                                    <option value="random" selected={policy_name == "random"}>{"seeded random"}</option>
                                </select>
                            </label>
                            <label class="field"><span>{"Seed"}</span>
                                <input id="seed" class="seed" type="number" min="0" value={engine.setup.seed.to_string()} onchange={on_seed} />
                            </label>
                            <span class="hash" title="Trace hash: the same run gives the same hash everywhere">
                                {"trace "}<code id="trace-hash">{format!("{:016x}", engine.trace_hash())}</code>
                            </span>
                        </div>
                    </footer>
                }
            }
            None => html! {},
        };
        html! {
            <div class="app">
                {header}
                {notice}
                <main class="workspace">
                    {editor}
                    {middle}
                </main>
                {timeline}
            </div>
        }
    }
}
