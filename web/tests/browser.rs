//! Component and state tests of the playground, run by `wasm-bindgen-test` in headless Chromium.
//!
//! They check that the WebAssembly build gives every library scenario the same trace hash as the native
//! build (computed by `build.rs`), that time travel shows exactly the state a fresh run would, that playing
//! the scheduler and share links round-trip, and that the mounted app reacts to clicks and edits.

#![cfg(target_arch = "wasm32")]

use sim_core::share;
use sim_core::{Policy, RunConfig, Simulation};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web::engine::{Engine, RunSetup, MAX_CHECKPOINTS};

/// The scenario library's texts, with each scenario's native trace hash (embedded by `build.rs`).
mod library {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

use library::LIBRARY;

wasm_bindgen_test_configure!(run_in_browser);

fn setup(text: &str) -> RunSetup {
    RunSetup { source: text.to_string(), seed: 0, policy: Policy::RoundRobin, forced: Vec::new() }
}

fn library(name: &str) -> &'static str {
    LIBRARY.iter().find(|(stem, _, _)| *stem == name).expect("a library scenario").1
}

#[wasm_bindgen_test]
fn every_library_scenario_gives_the_native_trace_hash() {
    assert!(LIBRARY.len() >= 9, "the library is embedded in the tests");
    let mut compared = 0;
    for (name, text, native) in LIBRARY {
        // The page's first module (built without the `full` feature) leaves out the IPC mechanisms: their
        // scenarios are the full module's, and this one refuses them. Every other gives the native trace
        // in both modules.
        // A text that only mentions such a call in its words (`store` in a description) is run by
        // both, and compared like the others.
        if sim_core::lang::needs_ipc(text) && Engine::build(setup(text)).is_err() {
            continue;
        }
        match (native, Engine::build(setup(text))) {
            (Some(native), Ok(engine)) => {
                assert_eq!(engine.trace_hash(), *native, "{name}: the wasm trace differs from the native one");
                compared += 1;
            }
            (None, Err(_)) => {}
            (native, built) => panic!("{name}: native run {native:?}, wasm build ok: {}", built.is_ok()),
        }
    }
    assert!(compared >= 9, "only {compared} scenarios compared");
}

#[wasm_bindgen_test]
fn jumping_anywhere_shows_what_a_fresh_run_shows() {
    // A probe too: its run follows its `schedule` line, and jumps replay exactly those choices.
    for name in ["pipe-buf-atomicity", "shell-pipeline", "stop-continue-kill", "probe-writer-woken-part-way"] {
        let text = library(name);
        let mut engine = Engine::build(setup(text)).unwrap();
        let total = engine.total_steps();
        // A fixed but scattered order: forward, backward, far and near.
        let mut order: Vec<u64> = (0..=total).collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for index in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(index, (state % (index as u64 + 1)) as usize);
        }
        let scenario = sim_core::parse(text).unwrap();
        for target in order {
            engine.goto(target);
            assert_eq!(engine.position(), target);
            let mut fresh = Simulation::new(&scenario, RunConfig::default()).unwrap();
            for _ in 0..target {
                fresh.step().unwrap();
            }
            let mut expected = fresh.snapshot();
            let shown = engine.snapshot();
            if target == total {
                expected.outcome = shown.outcome.clone();
                expected.runnable.clear();
            }
            assert_eq!(shown, expected, "{name} at step {target}");
        }
        engine.goto(u64::MAX);
        assert_eq!(engine.position(), total);
        engine.back();
        assert_eq!(engine.position(), total - 1);
        engine.forward();
        assert!(engine.at_end());
    }
}

#[wasm_bindgen_test]
fn a_long_run_keeps_a_bounded_number_of_checkpoints() {
    let text = "process a {\n  p = pipe\n  repeat 20000 {\n    write p.w \"x\"\n    read p.r 1\n  }\n}\n";
    let mut engine = Engine::build(setup(text)).unwrap();
    assert!(engine.total_steps() > 40_000);
    assert!(engine.checkpoint_count() <= MAX_CHECKPOINTS);
    for target in [40_000, 3, 29_999, 17_123, 40_001, 0] {
        engine.goto(target);
        assert_eq!(engine.position(), target);
    }
    let snapshot = engine.snapshot();
    assert_eq!(snapshot.step, 0);
    engine.goto(17_123);
    assert_eq!(engine.snapshot().pipes().count(), 1);
}

#[wasm_bindgen_test]
fn playing_the_scheduler_and_sharing_round_trip() {
    let text = library("pipe-parent-child");
    let mut engine = Engine::build(RunSetup { seed: 9, policy: Policy::Random, ..setup(text) }).unwrap();
    engine.goto(2);
    assert_eq!(engine.runnable(), vec![2, 3]);
    engine.choose(2).unwrap();
    assert_eq!(engine.position(), 3);
    assert_eq!(engine.setup.forced.len(), 3);
    assert!(engine.choose(99).is_err());
    engine.forward();
    let link = share::encode(&engine.share());
    let restored = Engine::from_link(&share::decode(&link).unwrap()).unwrap();
    assert_eq!(restored.position(), engine.position());
    assert_eq!(restored.snapshot(), engine.snapshot());
    assert_eq!(restored.trace_hash(), engine.trace_hash());
    assert_eq!(restored.story(), engine.story());
}

#[wasm_bindgen_test]
fn every_library_share_url_is_short() {
    for (name, text, _) in LIBRARY {
        let Ok(mut engine) = Engine::build(setup(text)) else { continue };
        let choices = engine.choices().to_vec();
        engine.goto(engine.total_steps() / 2);
        let run = share::SharedRun { forced: choices, ..engine.share() };
        let url = format!("http://127.0.0.1:8000/#{}", share::encode(&run));
        assert!(url.len() < 2000, "{name}: {} characters", url.len());
    }
}

#[wasm_bindgen_test]
fn the_trace_export_is_json_lines_ending_with_a_summary() {
    let engine = Engine::build(setup(library("pipe-parent-child"))).unwrap();
    let text = engine.trace_json_lines();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 10);
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["event"], "spawn");
    let summary: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(summary["trace_hash"], format!("{:016x}", engine.trace_hash()));
    assert_eq!(summary["outcome"]["kind"], "all_exited");
}

// ---- the mounted component ----

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn text_of(selector: &str) -> String {
    document()
        .query_selector(selector)
        .unwrap()
        .map(|element| element.text_content().unwrap_or_default())
        .unwrap_or_default()
}

/// An `input` event that bubbles, as typing makes.
fn input_event() -> web_sys::Event {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    web_sys::Event::new_with_event_init_dict("input", &init).unwrap()
}

async fn settle() {
    gloo_timers::future::TimeoutFuture::new(30).await;
}

#[wasm_bindgen_test]
async fn the_app_renders_steps_and_shows_parse_errors_inline() {
    // The test page has a fragment of its own; the app would (rightly) say it is not a run link.
    web::browser::set_fragment("");
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let handle = yew::Renderer::<web::app::App>::with_root(root.clone()).render();
    settle().await;
    assert_eq!(text_of("#step-label"), "step 0 / 13");
    assert!(
        text_of("#hint").contains("step"),
        "hint {:?}, notice {:?}, url {:?}",
        text_of("#hint"),
        text_of("#notice"),
        web::browser::fragment()
    );
    assert_eq!(document().query_selector_all(".lane").unwrap().length(), 1);
    assert!(text_of("#caption").starts_with("Before the first step"));

    let forward: web_sys::HtmlElement = document().get_element_by_id("forward").unwrap().dyn_into().unwrap();
    for _ in 0..6 {
        forward.click();
        settle().await;
    }
    assert_eq!(text_of("#step-label"), "step 6 / 13");
    assert_eq!(text_of("#pipe-1-usage"), "13 / 65536 bytes");
    assert_eq!(document().query_selector_all(".cell.used").unwrap().length(), 1);
    let back: web_sys::HtmlElement = document().get_element_by_id("back").unwrap().dyn_into().unwrap();
    back.click();
    settle().await;
    assert_eq!(text_of("#step-label"), "step 5 / 13");
    assert!(text_of("#pipe-1-read-waiters").contains("child"));

    // Break the scenario: the error appears at its line and column; the run stays.
    let editor: web_sys::HtmlTextAreaElement = document().get_element_by_id("editor").unwrap().dyn_into().unwrap();
    let broken = format!("{}\nprocess {{\n", editor.value());
    editor.set_value(&broken);
    editor.dispatch_event(&input_event()).unwrap();
    settle().await;
    let diagnostics = sim_core::parse(&broken).unwrap_err();
    let bubble = text_of(".error-bubble");
    assert!(bubble.contains(&format!("{}:{}", diagnostics[0].span.line, diagnostics[0].span.col)), "{bubble}");
    assert!(bubble.contains(&diagnostics[0].message), "{bubble}");
    assert_eq!(text_of("#step-label"), "step 5 / 13", "the last good run stays on screen");

    assert_eq!(text_of("#scenario-title"), "A pipe between parent and child");
    // The edit went into a draft of its own; the library scenario is unchanged.
    let drafts = web::browser::load(web::browser::DRAFTS_KEY).unwrap_or_default();
    assert!(drafts.contains("pipe-parent-child, edited"), "{drafts}");

    handle.destroy();
    root.remove();
    for key in [web::browser::DRAFTS_KEY, web::browser::OPEN_KEY] {
        web::browser::forget(key);
    }
}
