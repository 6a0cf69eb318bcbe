//! The Yew component: it holds the [`Model`], feeds it messages, and performs the effects the reducer
//! returns (storage, the address bar, the clipboard, downloads, the playback timer, the focus).
//!
//! All decisions are in [`crate::state::update`]; this file only connects them to the browser. It also
//! leaves timings in `window.ipclab` (first render, and the time from a step's message to the end of its
//! render) for the tests and the benchmark.

use crate::browser;
use crate::state::keys::{self, KeyPress, Target};
use crate::state::{self, Effect, Init, Model, Msg};
use crate::view::{self, Callbacks};
use gloo_timers::callback::Interval;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;

pub use crate::state::{DEFAULT_SCENARIO, SPEEDS};

pub struct App {
    model: Model,
    callbacks: Callbacks,
    timer: Option<Interval>,
    /// The label and start time of the update being timed.
    measuring: Option<(&'static str, f64)>,
    /// An element to focus once the page is drawn.
    focus: Option<&'static str>,
    _keydown: Option<Closure<dyn FnMut(KeyboardEvent)>>,
    _hashchange: Option<Closure<dyn FnMut(web_sys::Event)>>,
    /// The worker that explores every schedule, started the first time it is needed.
    explorer: Option<browser::ExploreWorker>,
    /// The last worker ended, kept with its handlers until the next is ended.
    ended_explorer: Option<browser::ExploreWorker>,
}

/// Which timing a message's update is recorded under, if any.
fn timing_label(msg: &Msg) -> Option<&'static str> {
    match msg {
        Msg::Forward | Msg::Tick | Msg::Answer(_) => Some("step"),
        Msg::Back => Some("back"),
        Msg::Goto(_) | Msg::ToStart | Msg::ToEnd | Msg::TourNext | Msg::TourBack => Some("jump"),
        Msg::Pick(_) => Some("choose"),
        _ => None,
    }
}

/// What kind of element a key event came from.
fn target_of(event: &KeyboardEvent) -> Target {
    let Some(element) = event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok()) else {
        return Target::Page;
    };
    match element.tag_name().as_str() {
        "TEXTAREA" => Target::Text,
        "SELECT" => Target::Select,
        // A disclosure's summary, like a button, opens on Space and Enter.
        "BUTTON" | "SUMMARY" => Target::Button,
        "INPUT" => match element.get_attribute("type").as_deref() {
            Some("range") => Target::Slider,
            Some("button" | "checkbox" | "radio") => Target::Button,
            _ => Target::Text,
        },
        _ if element.get_attribute("contenteditable").is_some() => Target::Text,
        _ => Target::Page,
    }
}

impl App {
    fn perform(&mut self, ctx: &Context<Self>, effects: Vec<Effect>) {
        for effect in effects {
            let stored = matches!(effect, Effect::SaveDrafts(_) | Effect::SaveOpen(_) | Effect::ForgetLegacyDraft);
            if stored && !self.model.keeps_drafts() {
                continue;
            }
            match effect {
                Effect::SaveDrafts(json) => browser::store(browser::DRAFTS_KEY, &json),
                Effect::SaveOpen(key) => browser::store(browser::OPEN_KEY, &key),
                Effect::ForgetLegacyDraft => browser::forget(browser::LEGACY_DRAFT_KEY),
                Effect::SetFragment(fragment) => browser::set_fragment(&fragment),
                Effect::ClearFragment => browser::clear_fragment(),
                Effect::CopyToClipboard(text) => browser::copy_to_clipboard(&text),
                Effect::Download { file_name, mime, text } => browser::download(file_name, mime, &text),
                Effect::StartTimer { period_ms } => {
                    let link = ctx.link().clone();
                    self.timer = Some(Interval::new(period_ms, move || link.send_message(Msg::Tick)));
                }
                Effect::StopTimer => self.timer = None,
                Effect::Focus(id) => self.focus = Some(id),
                Effect::FetchReference => {
                    let link = ctx.link().clone();
                    browser::fetch_text(state::REFERENCE_FILE, move |result| {
                        link.send_message(Msg::ReferenceLoaded(result))
                    });
                }
                Effect::LoadFull => {
                    browser::record_text(state::HANDOVER_KEY, &self.model.handover_record());
                    browser::load_full_module();
                }
                Effect::Explore { id, scenario, max_states } => {
                    let link = ctx.link().clone();
                    if self.explorer.is_none() {
                        let on = link.clone();
                        let progress = move |id, progress| on.send_message(Msg::ExploreProgress(id, progress));
                        let answer = move |id, result| link.send_message(Msg::Explored(id, result));
                        match browser::ExploreWorker::start(answer, progress) {
                            Ok(worker) => self.explorer = Some(worker),
                            Err(error) => ctx.link().send_message(Msg::Explored(id, Err(error))),
                        }
                    }
                    if let Some(worker) = &self.explorer {
                        if let Err(error) = worker.explore(id, &scenario, max_states) {
                            ctx.link().send_message(Msg::Explored(id, Err(error)));
                        }
                    }
                }
                // The worker is ended at once; its handlers are kept until the next one is ended, as
                // this may run inside one of them (a failed worker's answer).
                Effect::StopExploring => {
                    if let Some(worker) = self.explorer.take() {
                        worker.end();
                        self.ended_explorer = Some(worker);
                    }
                }
                Effect::FetchScenario(stem) => {
                    let link = ctx.link().clone();
                    browser::fetch_text(&state::scenario_file(stem), move |result| {
                        link.send_message(Msg::ScenarioLoaded(stem, result))
                    });
                }
            }
        }
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let link = ctx.link().clone();
        let send = link.callback(|msg: Msg| msg);
        let callbacks = Callbacks { pick: send.reform(Msg::Pick), edit: send.reform(Msg::Edit), send };
        let mut app = App {
            model: Model::new(),
            callbacks,
            timer: None,
            measuring: None,
            focus: None,
            _keydown: None,
            _hashchange: None,
            explorer: None,
            ended_explorer: None,
        };
        let init = Init {
            drafts_json: browser::load(browser::DRAFTS_KEY),
            legacy_draft: browser::load(browser::LEGACY_DRAFT_KEY),
            open: browser::load(browser::OPEN_KEY),
            fragment: browser::fragment(),
            page_address: browser::page_address(),
            handover: browser::take_text(state::HANDOVER_KEY),
        };
        let effects = state::update(&mut app.model, Msg::Init(init));
        app.perform(ctx, effects);
        if let Some(window) = web_sys::window() {
            let link = ctx.link().clone();
            let keydown = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
                let press = KeyPress {
                    key: event.key(),
                    target: target_of(&event),
                    modified: event.ctrl_key() || event.meta_key() || event.alt_key(),
                };
                if let Some(msg) = keys::action(&press) {
                    event.prevent_default();
                    link.send_message(msg);
                }
            });
            if let Some(document) = window.document() {
                let _ = document.add_event_listener_with_callback("keydown", keydown.as_ref().unchecked_ref());
            }
            app._keydown = Some(keydown);
            let link = ctx.link().clone();
            let hashchange = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
                link.send_message(Msg::LinkChanged(browser::fragment()));
            });
            let _ = window.add_event_listener_with_callback("hashchange", hashchange.as_ref().unchecked_ref());
            app._hashchange = Some(hashchange);
        }
        app
    }

    fn destroy(&mut self, _ctx: &Context<Self>) {
        self.timer = None;
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
        if let Some(label) = timing_label(&msg) {
            self.measuring = Some((label, browser::now_ms()));
        }
        // A tick that finds playback stopped (a timer already cancelled) changes nothing.
        if msg == Msg::Tick && !self.model.playing {
            return false;
        }
        // Once stopped for the full module, this one does nothing more: the page is the other's.
        if crate::stopped() {
            return false;
        }
        let exports = matches!(msg, Msg::ExportTrace | Msg::ExportScenario);
        let effects = state::update(&mut self.model, msg);
        self.perform(ctx, effects);
        // While the full module is on its way, what it will show follows every change here.
        if self.model.handing_over {
            browser::record_text(state::HANDOVER_KEY, &self.model.handover_record());
        }
        !exports
    }

    fn rendered(&mut self, _ctx: &Context<Self>, first_render: bool) {
        if first_render {
            browser::record_timing("firstRenderMs", browser::now_ms());
            // Which module runs the page: the first one, without the IPC mechanisms, or the full one.
            browser::record_text("module", if sim_core::IPC { "full" } else { "core" });
            // Taking over from the first module: the page's loader puts the focus back where it was,
            // now that the elements are there and before any key can reach the page.
            browser::call_hook("started");
        }
        if let Some((label, started)) = self.measuring.take() {
            browser::record_timing(&format!("{label}Ms"), browser::now_ms() - started);
        }
        // Drop-down lists show what the model holds, even after the visitor changed them by hand
        // (an option's `selected` attribute no longer moves a list the visitor has touched).
        browser::set_select_value("library", &view::library::value_of(&self.model));
        browser::set_select_value("speed", &self.model.speed.to_string());
        if let Some(engine) = &self.model.engine {
            let policy = if engine.setup.policy == sim_core::Policy::Random { "random" } else { "round-robin" };
            browser::set_select_value("policy", policy);
            browser::record_text("traceHash", &format!("{:016x}", engine.trace_hash()));
            browser::record_timing("step", engine.position() as f64);
            browser::record_timing("totalSteps", engine.total_steps() as f64);
        }
        if let Some(id) = self.focus.take() {
            browser::focus(id);
        }
    }

    fn view(&self, _ctx: &Context<Self>) -> Html {
        view::page(&self.model, &self.callbacks)
    }
}
