//! End-to-end tests: the served playground in real headless Chromium, driven through chromedriver.
//!
//! `cargo xtask test` builds `dist/`, starts `ipclab serve`, and runs these with the address in
//! `IPCLAB_PLAYGROUND_URL`. They click and type as a visitor would and read what the page shows.
//! The main view's screenshot is saved as `target/artifacts/playground.png`.

#![cfg(not(target_arch = "wasm32"))]

#[path = "support/webdriver.rs"]
mod webdriver;

use serde_json::Value;
use std::time::Duration;
use webdriver::Browser;

const ARROW_RIGHT: &str = "\u{E014}";
const ARROW_LEFT: &str = "\u{E012}";
const END: &str = "\u{E010}";
const BACKSPACE: &str = "\u{E003}";
const HOME: &str = "\u{E011}";
const SPACE: &str = "\u{E00D}";
const WAIT: Duration = Duration::from_secs(30);

fn playground() -> String {
    std::env::var("IPCLAB_PLAYGROUND_URL")
        .expect("IPCLAB_PLAYGROUND_URL is not set: run the end-to-end tests with `cargo xtask test`")
}

fn default_text() -> &'static str {
    web::library::LIBRARY.iter().find(|(stem, _, _)| *stem == "pipe-parent-child").expect("the default scenario").1
}

/// Opens `url` in a fresh page and waits for the playground to show a run.
fn open(browser: &Browser, url: &str) {
    browser.goto("about:blank");
    browser.goto(url);
    browser.wait_for("the playground to render", "return document.getElementById('step-label') !== null", WAIT);
}

fn step_label(browser: &Browser) -> String {
    browser.text("#step-label")
}

/// Waits until the step label reads `label` (`step 3 / 13`), or starts with it (`step 3 /`).
fn wait_step(browser: &Browser, label: &str) {
    let script = format!(
        "const e = document.getElementById('step-label'); return e && (e.textContent === {label:?} || ({label:?}.endsWith('/') && e.textContent.startsWith({label:?})));"
    );
    browser.wait_for(&format!("the step label to read {label:?}"), &script, WAIT);
}

fn attribute(browser: &Browser, css: &str, name: &str) -> String {
    let value = browser.script(
        "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
        vec![Value::from(css), Value::from(name)],
    );
    value.as_str().unwrap_or_default().to_string()
}

fn editor_value(browser: &Browser) -> String {
    browser
        .script("return document.getElementById('editor').value;", Vec::new())
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Everything a visitor sees about the run: used to compare a restored link with the original page.
fn visible_state(browser: &Browser) -> Value {
    browser.script(
        "const text = (css) => Array.from(document.querySelectorAll(css)).map(e => e.textContent);
         return {
           step: text('#step-label'), caption: text('#caption'), lanes: text('.lane'), pipes: text('.pipe'),
           states: Array.from(document.querySelectorAll('.lane')).map(e => e.dataset.state),
           forced: text('#forced'), hash: text('#trace-hash'), editor: document.getElementById('editor').value,
           policy: document.getElementById('policy').value, seed: document.getElementById('seed').value,
         };",
        Vec::new(),
    )
}

fn set_select(browser: &Browser, id: &str, value: &str) {
    browser.script(
        "const e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![Value::from(id), Value::from(value)],
    );
}

#[test]
fn the_default_scenario_steps_forward_and_back_and_shows_the_kernel() {
    let browser = Browser::start(1440, 900);
    open(&browser, &playground());
    wait_step(&browser, "step 0 / 13");
    assert!(browser.text("#hint").contains("to take a step"), "the one-line hint is shown");
    assert_eq!(editor_value(&browser), default_text(), "the default scenario is loaded");
    // The page's trace hash is the native build's (computed by build.rs with the native sim-core).
    let native = web::library::LIBRARY.iter().find(|(stem, _, _)| *stem == "pipe-parent-child").unwrap().2.unwrap();
    assert_eq!(browser.text("#trace-hash"), format!("{native:016x}"));
    let first_render = browser.script("return window.ipclab && window.ipclab.firstRenderMs;", Vec::new());
    assert!(first_render.as_f64().is_some_and(|ms| ms > 0.0), "first render time is recorded: {first_render}");

    browser.press(&[ARROW_RIGHT; 5]);
    wait_step(&browser, "step 5 / 13");
    // Step 5: the child's read finds the pipe empty and sleeps on its wait queue.
    assert_eq!(attribute(&browser, "#lane-3", "data-state"), "blocked");
    assert_eq!(attribute(&browser, "#lane-2", "data-state"), "runnable");
    assert_eq!(browser.text("#pipe-1-usage"), "0 / 65536 bytes");
    assert!(browser.text("#pipe-1-read-waiters").contains("child (3)"));
    assert!(
        browser.text("#caption").to_lowercase().contains("the reader child blocks"),
        "{}",
        browser.text("#caption")
    );

    browser.press(&[ARROW_LEFT; 2]);
    wait_step(&browser, "step 3 / 13");
    assert_eq!(attribute(&browser, "#lane-3", "data-state"), "runnable");
    assert_eq!(browser.text("#pipe-1-usage"), "0 / 65536 bytes");
    let waiters = browser.script("return document.getElementById('pipe-1-read-waiters') === null;", Vec::new());
    assert_eq!(waiters, Value::Bool(true), "nobody waits on the pipe at step 3");

    browser.press(&[ARROW_RIGHT; 3]);
    wait_step(&browser, "step 6 / 13");
    assert_eq!(browser.text("#pipe-1-usage"), "13 / 65536 bytes");
    assert_eq!(attribute(&browser, "#pipe-1", "data-used"), "13");
    assert!(browser.text("#caption").contains("writes 13 bytes into pipe 1"), "{}", browser.text("#caption"));
    assert_eq!(attribute(&browser, "#lane-3", "data-state"), "runnable", "the write woke the reader");

    let png = browser.screenshot();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG");
    let artifacts = std::env::var("IPCLAB_ARTIFACTS").unwrap_or_else(|_| "target/artifacts".to_string());
    std::fs::create_dir_all(&artifacts).expect("artifacts directory");
    std::fs::write(std::path::Path::new(&artifacts).join("playground.png"), &png).expect("screenshot written");

    // Home goes back to the start; Space runs to the end at the chosen speed.
    browser.press(&[HOME]);
    wait_step(&browser, "step 0 / 13");
    set_select(&browser, "speed", "60");
    browser.press(&[SPACE]);
    wait_step(&browser, "step 13 / 13");
    assert!(browser.text("#outcome").contains("Every process has exited"), "{}", browser.text("#outcome"));
    assert!(browser.text("#play").contains("Run"), "playing stops at the end");
}

#[test]
fn a_share_link_restores_the_exact_state() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    set_select(&browser, "policy", "random");
    browser.script(
        "const e = document.getElementById('seed'); e.value = '42'; e.dispatchEvent(new Event('change', { bubbles: true }));",
        Vec::new(),
    );
    browser.wait_for("seed 42", "return document.getElementById('seed').value === '42';", WAIT);
    browser.press(&[ARROW_RIGHT; 2]);
    wait_step(&browser, "step 2 /");
    // Be the scheduler: the parent runs next, whatever the random scheduler would pick.
    browser.click("#lane-2 .run-button");
    wait_step(&browser, "step 3 /");
    assert!(browser.text("#forced").contains("You chose the first 3 steps"), "{}", browser.text("#forced"));
    browser.press(&[ARROW_RIGHT; 2]);
    let before = visible_state(&browser);
    browser.click("#share");
    let address = browser.wait_for(
        "the share link",
        "const e = document.getElementById('share-url'); return e ? e.value : null;",
        WAIT,
    );
    let address = address.as_str().expect("a link").to_string();
    assert!(address.contains("#v1."), "{address}");
    assert!(address.len() < 2000, "{} characters", address.len());

    // A fresh page on the link shows exactly the same run at the same step.
    let browser = Browser::start(1280, 800);
    open(&browser, &address);
    let after = visible_state(&browser);
    assert_eq!(before, after);
    assert!(browser.text("#notice").contains("Opened the run from the link"));
}

#[test]
fn a_syntax_error_is_shown_inline_and_the_last_good_run_stays() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    browser.press(&[ARROW_RIGHT; 3]);
    wait_step(&browser, "step 3 / 13");
    browser.type_into("#editor", "\nprocess {");
    let bubble = browser.wait_for(
        "an inline error",
        "const e = document.querySelector('.error-bubble'); return e ? e.textContent : null;",
        WAIT,
    );
    let bubble = bubble.as_str().unwrap().to_string();
    // The same message, line and column as the parser gives natively.
    let text = editor_value(&browser);
    let diagnostics = sim_core::parse(&text).expect_err("the edited text does not parse");
    let first = &diagnostics[0];
    assert!(bubble.contains(&format!("{}:{}", first.span.line, first.span.col)), "{bubble}");
    assert!(bubble.contains(&first.message), "{bubble} should contain {}", first.message);
    let marked = browser.script("return document.querySelectorAll('.gutter-line.has-error').length;", Vec::new());
    assert_eq!(marked, Value::from(1));
    assert!(browser.text("#editor-status").contains("showing the last run that worked"));
    // The last good run is still on screen, at the same step.
    assert_eq!(step_label(&browser), "step 3 / 13");
    assert_eq!(attribute(&browser, "#lane-3", "data-state"), "runnable");
    // Delete what was typed: the error goes away and the scenario runs again.
    browser.type_into("#editor", &BACKSPACE.repeat("\nprocess {".len()));
    browser.wait_for(
        "the error to go away",
        "return document.querySelector('.error-bubble') === null && document.getElementById('editor-status').textContent === 'scenario runs';",
        WAIT,
    );
}

#[test]
fn damaged_links_say_why_and_keep_the_visitors_work() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    browser.type_into("#editor", "# my own note\n");
    browser.wait_for(
        "the edit to be kept",
        "return document.getElementById('editor').value.includes('# my own note');",
        WAIT,
    );
    let base = playground();
    let good = sim_core::share::encode(&sim_core::share::SharedRun {
        scenario: default_text().to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
        step: 4,
    });
    let mut flipped = good.clone().into_bytes();
    let index = flipped.len() - 6;
    flipped[index] = if flipped[index] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let cases = [
        (format!("#v1.AAAA$$"), "not allowed in a link"),
        (format!("#{flipped}"), "damaged"),
        (format!("#v7.{}", &good[3..]), "format v7"),
        (format!("#{}", &good[..good.len() / 2]), "damaged"),
        ("#hello".to_string(), "not an ipclab run link"),
    ];
    for (fragment, words) in cases {
        open(&browser, &format!("{base}{fragment}"));
        let notice = browser.wait_for(
            "an error notice",
            "const e = document.querySelector('#notice.error'); return e ? e.textContent : null;",
            WAIT,
        );
        let notice = notice.as_str().unwrap().to_string();
        assert!(notice.contains("could not be opened") && notice.contains(words), "{fragment}: {notice}");
        let editor = editor_value(&browser);
        assert!(editor.contains("# my own note"), "{fragment}: the visitor's scenario was replaced by {editor:?}");
    }
    // And the good link still opens at its step.
    open(&browser, &format!("{base}#{good}"));
    wait_step(&browser, "step 4 / 13");
}

#[test]
fn a_deadlock_shows_who_waits_for_whom() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    set_select(&browser, "library", "eof-never-comes");
    browser.wait_for(
        "the library scenario",
        "return document.getElementById('editor').value.includes('End of file never comes');",
        WAIT,
    );
    browser.press(&[END]);
    let deadlock = browser.wait_for(
        "the deadlock picture",
        "const e = document.getElementById('deadlock'); return e ? e.textContent : null;",
        WAIT,
    );
    let deadlock = deadlock.as_str().unwrap().to_string();
    assert!(deadlock.contains("child (pid 3) waits for itself"), "{deadlock}");
    assert!(deadlock.contains("parent (pid 2) waits for child"), "{deadlock}");
    assert!(browser.text("#outcome").contains("Deadlock"));
}

#[test]
fn the_trace_export_matches_the_command_line() {
    // The playground's engine (the same code the page runs) against `ipclab sim --format json`.
    let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/ipclab");
    assert!(binary.exists(), "{} is missing: `cargo xtask test` builds it", binary.display());
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut compared = 0;
    for (name, text, native_hash) in web::library::LIBRARY {
        let Ok(engine) = web::engine::Engine::build(web::engine::RunSetup {
            source: text.to_string(),
            seed: 0,
            policy: sim_core::Policy::RoundRobin,
            forced: Vec::new(),
        }) else {
            assert!(native_hash.is_none(), "{name} runs natively but not in the engine");
            continue;
        };
        let output = std::process::Command::new(&binary)
            .args(["sim", "--format", "json"])
            .arg(directory.join(format!("{name}.ipc")))
            .output()
            .expect("ipclab runs");
        let command_line = String::from_utf8(output.stdout).expect("UTF-8 output");
        assert_eq!(engine.trace_json_lines(), command_line, "{name}");
        compared += 1;
    }
    assert!(compared >= 9, "only {compared} scenarios compared");
}
