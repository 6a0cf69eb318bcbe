//! End-to-end tests: the served playground in real headless Chromium, driven through chromedriver.
//!
//! `cargo xtask test` builds `dist/`, starts `ipclab serve`, and runs these with the address in
//! `IPCLAB_PLAYGROUND_URL`. They act as a visitor does: type key by key, press keys, click, pick from
//! menus, resize the window, reload; then they read what the page shows. Each numbered problem of the
//! playground's first version (typing lost, layout, drafts, titles, verdicts, the scheduler game, names,
//! wording, marks, keyboard) has a test here that fails on that version. Screenshots are saved under
//! `target/artifacts/` (`IPCLAB_ARTIFACTS` to change).

#![cfg(not(target_arch = "wasm32"))]

#[path = "support/webdriver.rs"]
mod webdriver;

use serde_json::Value;
use std::time::Duration;
use webdriver::Browser;

const ARROW_RIGHT: &str = "\u{E014}";
const ARROW_LEFT: &str = "\u{E012}";
const END: &str = "\u{E010}";
const HOME: &str = "\u{E011}";
const SPACE: &str = "\u{E00D}";
const ENTER: &str = "\u{E007}";
const CONTROL: &str = "\u{E009}";
const BACKSPACE: &str = "\u{E003}";
const WAIT: Duration = Duration::from_secs(30);

/// The scenario library's texts, with each scenario's native trace hash (embedded by `build.rs`).
mod library {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

fn playground() -> String {
    std::env::var("IPCLAB_PLAYGROUND_URL")
        .expect("IPCLAB_PLAYGROUND_URL is not set: run the end-to-end tests with `cargo xtask test`")
}

fn library_text(stem: &str) -> &'static str {
    library::LIBRARY.iter().find(|(candidate, _, _)| *candidate == stem).expect("a library scenario").1
}

fn default_text() -> &'static str {
    library_text("pipe-parent-child")
}

/// Saves a screenshot of the window as `target/artifacts/NAME.png` and returns its path.
fn save_screenshot(browser: &Browser, name: &str) -> std::path::PathBuf {
    let png = browser.screenshot();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG");
    let artifacts = std::env::var("IPCLAB_ARTIFACTS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/artifacts").to_string());
    std::fs::create_dir_all(&artifacts).expect("artifacts directory");
    let path = std::path::Path::new(&artifacts).join(format!("{name}.png"));
    std::fs::write(&path, &png).expect("screenshot written");
    path
}

/// Opens `url` in a fresh page and waits for the playground to show a run.
fn open(browser: &Browser, url: &str) {
    browser.goto("about:blank");
    browser.goto(url);
    wait_rendered(browser);
}

fn wait_rendered(browser: &Browser) {
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
    if browser.poll(&script, WAIT).is_none() {
        panic!("the step label reads {:?}, not {label:?}", step_label(browser));
    }
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

/// Waits until `css` matches an element whose text contains `words`, and returns that text.
fn wait_text(browser: &Browser, css: &str, words: &str) -> String {
    let script = format!(
        "const e = document.querySelector({css:?}); return e && e.textContent.includes({words:?}) ? e.textContent : null;"
    );
    match browser.poll(&script, WAIT) {
        Some(value) => value.as_str().unwrap_or_default().to_string(),
        None => {
            let shown = browser.script(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : '(no such element)';",
                vec![Value::from(css)],
            );
            panic!("{css} never said {words:?}; it says {shown}")
        }
    }
}

/// Picks a library scenario from the picker by clicking its option, as a person picks from a menu.
fn choose_scenario(browser: &Browser, stem: &str) {
    browser.click(&format!("#library option[value$='{stem}']"));
}

/// Clicks into the editor and puts the cursor at the very end of the text, as Ctrl+End does.
fn cursor_to_end(browser: &Browser) {
    browser.click("#editor");
    browser.chord(CONTROL, END);
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
           title: text('#scenario-title'),
         };",
        Vec::new(),
    )
}

#[test]
fn the_default_scenario_steps_forward_and_back_and_shows_the_kernel() {
    let browser = Browser::start(1440, 900);
    open(&browser, &playground());
    wait_step(&browser, "step 0 / 13");
    assert!(browser.text("#hint").contains("step"), "the one-line hint is shown");
    assert_eq!(editor_value(&browser), default_text(), "the default scenario is loaded");
    // The page's trace hash is the native build's (computed by build.rs with the native sim-core).
    let native = library::LIBRARY.iter().find(|(stem, _, _)| *stem == "pipe-parent-child").unwrap().2.unwrap();
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
    assert!(browser.text("#caption").to_lowercase().contains("child blocks"), "{}", browser.text("#caption"));

    browser.press(&[ARROW_LEFT; 2]);
    wait_step(&browser, "step 3 / 13");
    assert_eq!(attribute(&browser, "#lane-3", "data-state"), "runnable");
    assert!(!browser.exists("#pipe-1-read-waiters"), "nobody waits on the pipe at step 3");

    browser.press(&[ARROW_RIGHT; 3]);
    wait_step(&browser, "step 6 / 13");
    assert_eq!(browser.text("#pipe-1-usage"), "13 / 65536 bytes");
    assert_eq!(attribute(&browser, "#pipe-1", "data-used"), "13");
    assert!(browser.text("#caption").contains("writes 13 bytes into pipe 1"), "{}", browser.text("#caption"));
    assert_eq!(attribute(&browser, "#lane-3", "data-state"), "runnable", "the write woke the reader");
    save_screenshot(&browser, "playground");

    // Home goes back to the start; Space plays to the end at the chosen speed.
    browser.press(&[HOME]);
    wait_step(&browser, "step 0 / 13");
    browser.choose("#speed", "60");
    browser.click("#stage");
    browser.press(&[SPACE]);
    wait_step(&browser, "step 13 / 13");
    wait_text(&browser, "#verdict", "Pass");
    assert!(browser.text("#play").contains("Play"), "playing stops at the end");
}

#[test]
fn a_share_link_restores_the_exact_state() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    browser.choose("#policy", "random");
    browser.click("#seed");
    browser.press(&[BACKSPACE]);
    browser.type_keys("42\t");
    browser.wait_for("seed 42", "return document.getElementById('seed').value === '42';", WAIT);
    browser.click("#stage");
    browser.press(&[ARROW_RIGHT; 2]);
    wait_step(&browser, "step 2 /");
    // Be the scheduler: the parent runs next, whatever the random scheduler would pick.
    browser.click("#lane-2 .pick-button");
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
    cursor_to_end(&browser);
    browser.type_keys("\nprocess {");
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
    // Delete what was typed, key by key: the error goes away and the scenario runs again.
    browser.type_keys(&BACKSPACE.repeat("\nprocess {".len()));
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
    cursor_to_end(&browser);
    browser.type_keys("# my own note\n");
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
        ("#v1.AAAA$$".to_string(), "not allowed in a link"),
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
fn the_trace_export_matches_the_command_line() {
    // The playground's engine (the same code the page runs) against `ipclab sim --format json`.
    let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/ipclab");
    assert!(binary.exists(), "{} is missing: `cargo xtask test` builds it", binary.display());
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut compared = 0;
    for (name, text, native_hash) in library::LIBRARY {
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

// ---- 1. Typing is never lost ----

#[test]
fn typing_a_new_process_key_by_key_keeps_every_keystroke() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    wait_step(&browser, "step 0 / 13");
    cursor_to_end(&browser);
    let typed = "\nprocess helper {\n  sched_yield\n}\n";
    browser.type_keys(typed);
    let expected = format!("{}{typed}", default_text());
    let script = format!("return document.getElementById('editor').value === {expected:?};");
    let typed_in = browser.poll(&script, Duration::from_secs(5)).is_some();
    assert!(typed_in, "the editor holds {:?}, not every key typed", editor_value(&browser));
    assert_eq!(browser.focused_id(), "editor", "the editor keeps the focus while typing");
    assert_eq!(step_label(&browser), "step 0 / 15", "spaces typed in the editor never start playback");
    assert!(browser.text("#play").contains("Play"));

    // Typing in the middle keeps the cursor where it is: a comment at the very top, key by key.
    browser.chord(CONTROL, HOME);
    browser.type_keys("# first line\n");
    let expected = format!("# first line\n{expected}");
    let script = format!("return document.getElementById('editor').value === {expected:?};");
    let typed_in = browser.poll(&script, Duration::from_secs(5)).is_some();
    assert!(typed_in, "the editor holds {:?}", editor_value(&browser));
}

// ---- 2. The layout holds from 360 px to wide screens ----

/// Nothing is wider than the window, and the top bar's controls are all inside it.
fn assert_fits(browser: &Browser, width: u32) {
    let report = browser.script(
        "const inside = (id) => { const e = document.getElementById(id); if (!e) return id + ' missing';
           const r = e.getBoundingClientRect(); return (r.left >= 0 && r.right <= document.documentElement.clientWidth + 0.5) ? '' : id + ' at ' + r.left + '..' + r.right; };
         return { page: document.documentElement.scrollWidth, window: document.documentElement.clientWidth,
                  outside: ['library', 'share', 'export-trace', 'export-scenario', 'help-button', 'mode-predict', 'play', 'scrubber']
                     .map(inside).filter(text => text !== '') };",
        Vec::new(),
    );
    let page = report["page"].as_f64().unwrap();
    let window = report["window"].as_f64().unwrap();
    assert!(page <= window, "at {width} px the page is {page} px wide in a {window} px window");
    let outside: Vec<&str> = report["outside"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let off_screen: Vec<&&str> = outside.iter().filter(|text| !text.ends_with("missing")).collect();
    assert!(off_screen.is_empty(), "at {width} px, controls outside the window: {off_screen:?}");
    assert!(outside.is_empty(), "at {width} px, controls missing: {outside:?}");
}

#[test]
fn the_layout_fits_every_width_and_screenshots_are_kept() {
    let browser = Browser::start(1400, 900);
    open(&browser, &playground());
    browser.press(&[ARROW_RIGHT; 6]);
    wait_step(&browser, "step 6 / 13");
    for (width, height) in [(979, 800), (768, 1000), (400, 800), (360, 780), (1024, 800), (1400, 900)] {
        browser.resize(width, height);
        browser.wait_for("the window to take its new size", &format!("return window.innerWidth === {width};"), WAIT);
        assert_fits(&browser, width);
        // The pipe is drawn whole: its read end inside its card.
        let clipped = browser.script(
            "const pipe = document.getElementById('pipe-1').getBoundingClientRect();
             const end = document.querySelector('#pipe-1 .read-end').getBoundingClientRect();
             return end.right > pipe.right + 0.5 || end.left < pipe.left - 0.5;",
            Vec::new(),
        );
        assert_eq!(clipped, Value::Bool(false), "at {width} px the pipe's read end is clipped");
        // Each Pick button is on one line.
        let wrapped = browser.script(
            "return Array.from(document.querySelectorAll('.lane-head button')).filter(b => b.getBoundingClientRect().height > 34).length;",
            Vec::new(),
        );
        assert_eq!(wrapped, Value::from(0), "at {width} px a Pick button wraps");
        if [1400, 768, 360].contains(&width) {
            browser.script("window.scrollTo(0, 0);", Vec::new());
            save_screenshot(&browser, &format!("layout-{width}"));
            if width < 1100 {
                // On one column the run is below the editor: a second picture, scrolled to it.
                browser.script("document.querySelector('.caption').scrollIntoView();", Vec::new());
                save_screenshot(&browser, &format!("layout-{width}-run"));
                browser.script("window.scrollTo(0, 0);", Vec::new());
            }
        }
    }
}

// ---- 3. Picking from the library keeps the visitor's draft, and a reload shows the pick ----

#[test]
fn picking_a_scenario_keeps_the_draft_moves_the_focus_and_survives_a_reload() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    cursor_to_end(&browser);
    browser.type_keys("# my draft\n");
    browser.wait_for("the draft", "return document.getElementById('editor').value.includes('# my draft');", WAIT);
    // Pick another scenario from the menu.
    choose_scenario(&browser, "eof-never-comes");
    browser.wait_for(
        "the picked scenario",
        "return document.getElementById('editor').value.includes('End of file never comes');",
        WAIT,
    );
    // The focus left the picker: → steps the run instead of changing the pick.
    assert_ne!(browser.focused_id(), "library", "the focus stays on the picker");
    browser.press(&[ARROW_RIGHT]);
    wait_step(&browser, "step 1 /");
    assert!(editor_value(&browser).contains("End of file never comes"), "→ changed the pick");
    let notice = wait_text(&browser, "#notice", "kept under Your drafts");
    assert!(notice.contains("Back to"), "{notice}");
    // The draft is one choice away, under Your drafts.
    let drafts = browser.script(
        "return Array.from(document.querySelectorAll('#library optgroup[label=\"Your drafts\"] option')).map(o => o.textContent);",
        Vec::new(),
    );
    assert!(drafts.to_string().contains("pipe-parent-child, edited"), "{drafts}");
    // Undo brings it back.
    browser.click("#undo");
    browser.wait_for("the draft again", "return document.getElementById('editor').value.includes('# my draft');", WAIT);

    // After a link, a pick replaces the link in the address bar, so a reload shows the pick.
    let link = sim_core::share::encode(&sim_core::share::SharedRun {
        scenario: library_text("shell-pipeline").to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
        step: 3,
    });
    open(&browser, &format!("{}#{link}", playground()));
    wait_step(&browser, "step 3 /");
    choose_scenario(&browser, "fifo-unrelated");
    browser.wait_for("the FIFO scenario", "return document.getElementById('editor').value.includes('FIFO');", WAIT);
    assert!(!browser.address().contains("#v1."), "the old link is still in the address bar: {}", browser.address());
    browser.reload();
    wait_rendered(&browser);
    assert!(editor_value(&browser).contains("A FIFO between two unrelated processes"), "a reload brings back the pick");
    assert!(browser.text("#scenario-title").contains("A FIFO between two unrelated processes"));
}

// ---- 4. The scenario says what it is about; the picker is grouped and titled; help is there ----

#[test]
fn the_scenario_title_description_grouped_picker_and_help_are_shown() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    let groups = browser.script(
        "return Array.from(document.querySelectorAll('#library optgroup')).map(g => [g.label, Array.from(g.querySelectorAll('option')).map(o => o.textContent)]);",
        Vec::new(),
    );
    let groups = groups.as_array().unwrap();
    assert!(!groups.is_empty(), "the picker has no groups: {}", browser.text("#library"));
    assert_eq!(groups[0][0], "Learn", "Learn comes first: {groups:?}");
    assert_eq!(groups[1][0], "Linux rules");
    let learn: Vec<&str> = groups[0][1].as_array().unwrap().iter().map(|title| title.as_str().unwrap()).collect();
    assert_eq!(learn[0], "1. A pipe between parent and child");
    let rules: Vec<&str> = groups[1][1].as_array().unwrap().iter().map(|title| title.as_str().unwrap()).collect();
    assert!(rules.iter().all(|title| !title.contains("probe-") && !title.contains(".ipc")), "{rules:?}");
    assert_eq!(learn.len() + rules.len(), library::LIBRARY.len());
    // The scenario's title and description, above the run.
    assert_eq!(browser.text("#scenario-title"), "A pipe between parent and child");
    assert!(browser.text("#scenario-description").starts_with("The parent makes a pipe and forks."));
    assert!(browser.text("#scenario-where").to_lowercase().contains("learn"));

    // Help: "?" opens it with the shortcuts; Esc closes it and gives the focus back.
    browser.click("#stage");
    browser.type_keys("?");
    let help = wait_text(&browser, "#help-dialog", "Keyboard");
    assert!(help.contains("play or pause") && help.contains("take one step"), "{help}");
    assert_eq!(browser.focused_id(), "help-dialog");
    browser.press(&["\u{E00C}"]);
    browser.wait_for("the help to close", "return document.getElementById('help-dialog') === null;", WAIT);
    assert_eq!(browser.focused_id(), "help-button");
    // The language reference, from the editor.
    browser.click("#reference-button");
    let reference = wait_text(&browser, "#reference-dialog", "The top level");
    assert!(reference.contains("pipe2"), "the reference lists the calls");
    save_screenshot(&browser, "reference");
}

// ---- 5. One verdict: pass and fail look different, failures are marked on their lines ----

#[test]
fn failed_expectations_give_a_red_verdict_marked_on_their_lines_and_an_expected_deadlock_passes() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    // Make the parent expect a wrong count: "-> 13" becomes "-> 12" (line 12), typed key by key.
    let line = default_text().lines().position(|line| line.contains("-> 13")).unwrap() as u32 + 1;
    browser.click("#editor");
    browser.chord(CONTROL, HOME);
    browser.press(&vec![ARROW_DOWN; line as usize - 1]);
    browser.press(&[END, BACKSPACE]);
    browser.type_keys("2");
    browser.wait_for("the edit", "return document.getElementById('editor').value.includes('-> 12');", WAIT);
    browser.click("#to-end");
    wait_step(&browser, "step 13 / 13");
    let end_box = browser.wait_for(
        "the end of the run",
        "const e = document.querySelector('#verdict, #outcome'); return e ? [e.className, e.textContent] : null;",
        WAIT,
    );
    let (class, verdict) = (end_box[0].as_str().unwrap(), end_box[1].as_str().unwrap());
    assert!(
        class.contains("fail") && verdict.contains("Fail"),
        "a run with a failed expectation shows {class:?}: {verdict}"
    );
    assert!(verdict.contains("one expectation does not hold"), "{verdict}");
    let failure = browser.text("#failures li");
    let column = library_col_of(&editor_value(&browser), line, "12");
    assert!(failure.contains(&format!("line {line}:{column}")), "{failure}");
    assert!(failure.contains("expected 12, and got 13"), "{failure}");
    // Marked on its line in the editor, gutter and text.
    let marked = browser.script(
        "return Array.from(document.querySelectorAll('.gutter-line.has-failure')).map(e => e.textContent);",
        Vec::new(),
    );
    assert!(marked.to_string().contains(&line.to_string()), "{marked}");
    assert!(browser.text(".tag-failed").contains("expected 12, got 13"));
    // No shouting: nothing on the page is an all-capitals failure.
    let page = browser.script("return document.body.innerText;", Vec::new()).to_string();
    assert!(!page.contains("EXPECTATION FAILED"), "{page}");
    save_screenshot(&browser, "verdict-fail");

    // A scenario that expects a deadlock passes when the deadlock happens.
    choose_scenario(&browser, "eof-never-comes");
    browser.wait_for(
        "the deadlock scenario",
        "return document.getElementById('editor').value.includes('never comes');",
        WAIT,
    );
    browser.click("#to-end");
    let verdict = wait_text(&browser, "#verdict", "Pass");
    assert!(browser.exists("#verdict.pass"), "an expected deadlock is a pass");
    assert!(verdict.contains("deadlock, as the scenario says"), "{verdict}");
    let deadlock = browser.text("#deadlock");
    assert!(deadlock.contains("child (pid 3) waits for itself"), "{deadlock}");
    assert!(deadlock.contains("parent (pid 2) waits for child"), "{deadlock}");
}

const ARROW_DOWN: &str = "\u{E015}";

/// The column of `needle` on `line` (1-based), as the parser counts it.
fn library_col_of(text: &str, line: u32, needle: &str) -> usize {
    text.lines().nth(line as usize - 1).unwrap().rfind(needle).unwrap() + 1
}

// ---- 6. The scheduler game: challenges, a win, a link; choices survive edits that keep the program ----

#[test]
fn a_challenge_is_won_by_picking_and_shares_its_winning_schedule() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    browser.click("#mode-challenges");
    // The teaching modes are the full module's: the page loads it, and goes on in it.
    wait_module(&browser, "full");
    browser.click("#challenge-one-read-two-writes");
    wait_text(&browser, "#goal", "pingpong");
    wait_step(&browser, "step 0 /");
    // Run the parent six times: pipe, fork, close, both writes, close; only then may the reader read.
    for step in 1..=6 {
        browser.click("#lane-2 .pick-button");
        wait_step(&browser, &format!("step {step} /"));
    }
    assert!(!browser.exists("#challenge-win"), "not won before it happens");
    browser.click("#stage");
    browser.press(&[END]);
    let win = wait_text(&browser, "#challenge-win", "Won at step");
    assert!(win.contains("one read returned both words"), "{win}");
    let announced = browser.text("#announcer");
    assert!(announced.contains("Challenge won"), "{announced}");
    save_screenshot(&browser, "challenge-won");
    browser.click("#share-win");
    let address = browser.wait_for(
        "the share link",
        "const e = document.getElementById('share-url'); return e ? e.value : null;",
        WAIT,
    );
    let address = address.as_str().unwrap().to_string();
    assert!(browser.text("#notice").contains("winning schedule"));
    let other = Browser::start(1280, 900);
    open(&other, &address);
    wait_text(&other, "#challenge-win", "Won at step");
}

#[test]
fn choices_survive_a_comment_and_an_edit_that_changes_the_program_says_it_discards_them() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    browser.press(&[ARROW_RIGHT; 2]);
    wait_step(&browser, "step 2 /");
    browser.click("#lane-2 button");
    wait_step(&browser, "step 3 /");
    assert!(browser.text("#forced").contains("first 3 steps"));
    // A comment, typed at the end: the choices stay.
    cursor_to_end(&browser);
    browser.type_keys("# just a note\n");
    browser.wait_for("the comment", "return document.getElementById('editor').value.includes('just a note');", WAIT);
    assert!(browser.exists("#forced"), "a comment discarded the choices");
    assert!(browser.text("#forced").contains("first 3 steps"), "a comment keeps the choices");
    assert!(step_label(&browser).starts_with("step 3 / "));
    // The scheduler and seed change: the choices stay too.
    browser.choose("#policy", "random");
    wait_text(&browser, "#notice", "are kept");
    assert!(browser.text("#forced").contains("first 3 steps"));
    // A new process changes the program: the page says the choices are gone.
    browser.click("#editor");
    browser.chord(CONTROL, END);
    browser.type_keys("process other {\n  sched_yield\n}\n");
    wait_text(&browser, "#notice", "no longer apply");
    assert!(!browser.exists("#forced"));
}

// ---- 7. One name per action ----

#[test]
fn no_two_different_actions_share_a_name() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    let names = browser.script(
        "return Array.from(document.querySelectorAll('button')).map(b => (b.getAttribute('aria-label') || b.textContent).trim());",
        Vec::new(),
    );
    let names: Vec<String> = names.as_array().unwrap().iter().map(|name| name.as_str().unwrap().to_string()).collect();
    assert!(names.iter().all(|name| !name.contains("Run")), "{names:?}");
    assert!(browser.text("#play").contains("Play"));
    assert_eq!(browser.text("#lane-2 .pick-button"), "Pick");
    assert!(attribute(&browser, "#lane-2 .pick-button", "aria-label").contains("take the next step"));
}

// ---- 8. The page's own words: no "No pipe exists yet." at the end, no capitals ----

#[test]
fn the_end_of_a_run_says_the_pipes_are_gone_not_that_none_exists_yet() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    browser.click("#to-end");
    wait_step(&browser, "step 13 / 13");
    let page = browser.script("return document.body.innerText;", Vec::new()).as_str().unwrap().to_string();
    assert!(!page.contains("No pipe exists yet"), "at the end of the run the page says no pipe exists yet");
    let empty = browser.text("#objects-empty");
    assert!(empty.contains("closed"), "{empty}");
    browser.click("#to-start");
    wait_step(&browser, "step 0 / 13");
    assert!(browser.text("#objects-empty").contains("yet"), "before the first step, none yet");
}

// ---- 9. The line that just ran is marked too ----

#[test]
fn the_editor_marks_the_line_that_just_ran() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    browser.press(&[ARROW_RIGHT; 5]);
    wait_step(&browser, "step 5 / 13");
    // Step 5 is the child's first read (line 8), which blocks.
    let ran = browser.script(
        "const lines = Array.from(document.querySelectorAll('.backdrop .code-line'));
         return lines.map((e, i) => e.classList.contains('ran-line') ? i + 1 : 0).filter(n => n > 0);",
        Vec::new(),
    );
    assert_eq!(ran, serde_json::json!([8]));
    assert!(browser.text(".tag-ran").contains("child ran"));
}

// ---- 10. Keyboard and screen readers ----

#[test]
fn the_keyboard_works_and_steps_are_announced() {
    let browser = Browser::start(1280, 800);
    open(&browser, &playground());
    // Pick the parent with the keyboard, at the fork: the focus stays on the parent's button, so Enter
    // picks the parent again (not the new child).
    browser.press(&[ARROW_RIGHT]);
    wait_step(&browser, "step 1 / 13");
    browser.script("document.querySelector('#lane-2 button').focus();", Vec::new());
    browser.press(&[ENTER]);
    wait_step(&browser, "step 2 /");
    assert!(browser.exists("#lane-3"), "the fork made the child");
    let focused = browser.script(
        "const lane = document.activeElement && document.activeElement.closest('.lane'); return lane ? lane.id : null;",
        Vec::new(),
    );
    assert_eq!(focused, Value::from("lane-2"), "the focus stays with the parent's button");
    browser.press(&[ENTER]);
    wait_step(&browser, "step 3 /");
    assert!(browser.text("#forced").contains("first 3 steps"));
    assert!(attribute(&browser, "#lane-2", "class").contains("ran-last"), "the parent took step 3");

    // Space plays while the slider has the focus.
    browser.click("#scrubber");
    browser.press(&[SPACE]);
    wait_text(&browser, "#play", "Pause");
    browser.press(&[SPACE]);
    wait_text(&browser, "#play", "Play");

    // Each step is said to screen readers, in a live region.
    browser.click("#to-start");
    wait_step(&browser, "step 0 /");
    browser.press(&[ARROW_RIGHT]);
    let said = browser.wait_for(
        "an announcement",
        "const e = Array.from(document.querySelectorAll('[aria-live]')).find(e => e.textContent.includes('Step 1 of')); return e ? e.textContent : null;",
        Duration::from_secs(5),
    );
    // sim-core's sentence keeps a process's name as the scenario writes it.
    assert!(said.as_str().unwrap().contains("parent creates a pipe"), "{said}");

    // A notice about an earlier action goes at the next step.
    browser.click("#share");
    wait_text(&browser, "#notice", "Link copied");
    browser.click("#stage");
    browser.press(&[ARROW_LEFT]);
    browser.wait_for("the notice to go", "return document.getElementById('notice') === null;", WAIT);
}

// ---- A scenario's own schedule, process groups, variables, wake-ups ----

#[test]
fn a_probe_follows_its_schedule_until_a_pick_leaves_it() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    choose_scenario(&browser, "probe-waitpid-wnohang");
    wait_text(&browser, "#scenario-title", "WNOHANG");
    let note = wait_text(&browser, "#schedule", "follows the scenario's schedule (line 3)");
    assert!(note.contains("all 10 of its steps"), "{note}");
    // Step 2 of the schedule runs the child; the visitor picks the parent instead.
    browser.press(&[ARROW_RIGHT]);
    wait_step(&browser, "step 1 / 10");
    let label = attribute(&browser, "#lane-2 .pick-button", "aria-label");
    assert!(label.contains("leaving the scenario's schedule"), "{label}");
    browser.click("#lane-2 .pick-button");
    wait_step(&browser, "step 2 /");
    wait_text(&browser, "#notice", "no longer follows the scenario's schedule (line 3");
    let forced = wait_text(&browser, "#forced", "is not followed");
    assert!(forced.contains("You chose the first 2 steps"), "{forced}");
    assert!(!browser.exists("#schedule"));
    // Back to the schedule, at the same step: the child ran second.
    browser.click("#forget");
    wait_text(&browser, "#schedule", "follows the scenario's schedule");
    wait_text(&browser, "#notice", "again");
    wait_step(&browser, "step 2 / 10");
    assert!(attribute(&browser, "#lane-3", "class").contains("ran-last"), "the child took step 2");
}

#[test]
fn lanes_show_process_groups_variables_and_why_a_process_woke() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    // The default scenario: at step 6 the parent's write wakes the child, and the step says why.
    browser.click("#stage");
    for step in 1..=6 {
        browser.press(&[ARROW_RIGHT]);
        wait_step(&browser, &format!("step {step} /"));
    }
    wait_text(&browser, "#events", "(parent put data into pipe 1)");
    // A job in a process group of its own, and the shell's loop counting what it read.
    choose_scenario(&browser, "signals-to-groups");
    wait_text(&browser, "#scenario-title", "process groups");
    browser.press(&[END]);
    wait_text(&browser, "#lane-2 .family", "leads process group 2");
    wait_text(&browser, "#lane-4 .family", "in process group 3 (led by leader (3))");
    let variables = wait_text(&browser, "#lane-2 .variables", "ready = 2");
    assert!(variables.contains("n = "), "{variables}");
    assert!(!browser.exists("#lane-4 .variables"), "the helper's code names no variable");
    save_screenshot(&browser, "groups-and-variables");
}

#[test]
fn ipc_objects_are_drawn_with_their_messages_counters_sleepers_and_the_system_wide_list() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    // Five workers and a semaphore of 3: after the boss's GETNCNT (step 14) the value is 0 and the
    // fourth and fifth workers sleep in the semaphore's queue, in the order they came.
    choose_scenario(&browser, "sem-three-users");
    wait_text(&browser, "#scenario-title", "at most three");
    for step in 1..=14 {
        browser.press(&[ARROW_RIGHT]);
        wait_step(&browser, &format!("step {step} /"));
    }
    assert_eq!(attribute(&browser, "#sem-0-0", "data-value"), "0");
    let sleepers = wait_text(&browser, "#sem-0-0-take", "worker#4 (6)");
    assert!(sleepers.find("worker#4").expect("fourth") < sleepers.find("worker#5").expect("fifth"), "{sleepers}");
    wait_text(&browser, "#ipc-panel", "1 semaphore");
    // A queue left behind by its creator: its message is drawn with its type, and the run's last step
    // lists it as left behind.
    choose_scenario(&browser, "msg-outlives-creator");
    wait_text(&browser, "#scenario-title", "outlives");
    browser.press(&[END]);
    wait_text(&browser, "#events", "left behind: message queue 0");
    assert_eq!(attribute(&browser, "#msq-0", "data-messages"), "1");
    wait_text(&browser, "#msq-0-messages", "type 1");
    wait_text(&browser, "#ipc-panel", "1 message, 11 B");
    save_screenshot(&browser, "ipc-objects");
}

#[test]
fn the_bytes_copied_are_counted_by_mechanism_and_shared_memory_adds_none() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    choose_scenario(&browser, "copies-pipe-vs-shm");
    wait_text(&browser, "#scenario-title", "What a pipe copies");
    wait_text(&browser, "#copies", "no bytes copied");
    browser.press(&[END]);
    wait_text(&browser, "#events", "run ends");
    let row = wait_text(&browser, "#copies .copies-pipes", "pipes and FIFOs");
    assert!(row.contains("512512"), "512 bytes in and 512 out: {row}");
    let table = wait_text(&browser, "#copies", "into the kernel");
    assert!(!table.contains("System V") && !table.contains("sockets"), "only the pipe copied: {table}");
    save_screenshot(&browser, "copies");
}

#[test]
fn the_speed_scenarios_show_what_was_measured_on_a_real_machine() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    // A scenario about copies: beside it, the chart of the real pipe and ring, eight bars.
    choose_scenario(&browser, "copies-pipe-vs-shm");
    wait_text(&browser, "#scenario-title", "What a pipe copies");
    let caption = wait_text(&browser, "#measured-chart summary", "through a pipe and through a ring");
    assert!(caption.starts_with("Measured"), "{caption}");
    // Folded until asked for, so the run keeps its room; a click opens it.
    assert_eq!(browser.script("return document.querySelector('#measured-chart').open;", vec![]), Value::from(false));
    browser.click("#measured-chart summary");
    assert_eq!(browser.script("return document.querySelector('#measured-chart').open;", vec![]), Value::from(true));
    let bars = browser.script("return document.querySelectorAll('#measured-chart rect.bar').length;", vec![]);
    assert_eq!(bars, Value::from(8));
    let note = browser.text("#measured-chart .measured-note");
    assert!(note.contains("ipclab bench real --mechanism pipe,shm-ring"), "{note}");
    save_screenshot(&browser, "measured-chart");
    // TCP against Unix: round trips, in µs.
    choose_scenario(&browser, "tcp-vs-unix");
    let chart = wait_text(&browser, "#measured-chart", "a round trip through a Unix stream socket");
    assert!(chart.contains("µs"), "{chart}");
    // A scenario that claims nothing about speed has no chart.
    choose_scenario(&browser, "shm-one-frame");
    wait_text(&browser, "#scenario-where", "Shared memory");
    assert!(browser.poll("return document.querySelector('#measured-chart') ? null : true;", WAIT).is_some());
}

#[test]
fn lanes_show_masks_pending_signals_handlers_and_the_clock() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    // Ten steps in, both signals are raised three times and blocked: SIGUSR1 is pending once,
    // SIGRTMIN three times, and the lane says what is blocked and which handler each signal has.
    choose_scenario(&browser, "blocked-signals-wait");
    wait_text(&browser, "#scenario-title", "blocked signal waits");
    browser.click("#stage");
    for step in 1..=10 {
        browser.press(&[ARROW_RIGHT]);
        wait_step(&browser, &format!("step {step} /"));
    }
    let signals = wait_text(&browser, "#lane-2 .signals", "pending SIGUSR1 (blocked)");
    assert_eq!(signals.matches("pending SIGRTMIN (blocked)").count(), 3, "{signals}");
    assert!(signals.contains("blocks SIGUSR1") && signals.contains("SIGRTMIN → count"), "{signals}");
    // Step 11 unblocks them: the handlers run, stacked; the lane lists the frames.
    browser.press(&[ARROW_RIGHT]);
    wait_step(&browser, "step 11 /");
    wait_text(&browser, "#lane-2 .frames", "in count for SIGRTMIN");
    // A scenario that uses time shows the clock, which jumps to the alarm.
    choose_scenario(&browser, "alarm-timeout");
    wait_text(&browser, "#scenario-title", "alarm as a timeout");
    browser.press(&[END]);
    wait_text(&browser, "#clock", "virtual time: 2.0");
    save_screenshot(&browser, "signals-and-clock");
}

/// Steps forward from the step on screen to `last`, one key press at a time.
fn step_to(browser: &Browser, from: u64, last: u64) {
    for step in from + 1..=last {
        browser.press(&[ARROW_RIGHT]);
        wait_step(browser, &format!("step {step} /"));
    }
}

/// The signal moves drawn for the step on screen, as `SIGNAL from FROM to TO (KIND)`.
fn drawn_moves(browser: &Browser) -> Vec<String> {
    let value = browser.script(
        "return Array.from(document.querySelectorAll('#signal-moves li')).map(e =>
           e.dataset.signal + ' from ' + e.dataset.from + ' to ' + e.dataset.to + (e.classList.contains('taken') ? ' (taken)' : ' (sent)'));",
        Vec::new(),
    );
    value
        .as_array()
        .map_or(Vec::new(), |items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
}

#[test]
fn a_signal_is_drawn_from_its_sender_to_its_targets_and_the_kernel_sends_sigchld() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    // Orchestrator (2) sends SIGTERM to polite (3) at step 16; polite takes it at 17; polite exits at
    // 21 and the kernel sends SIGCHLD to the orchestrator.
    choose_scenario(&browser, "graceful-shutdown");
    wait_text(&browser, "#scenario-title", "Shutting down gracefully");
    browser.click("#stage");
    step_to(&browser, 0, 15);
    assert!(!browser.exists("#signal-moves"), "step 15 sends no signal");
    step_to(&browser, 15, 16);
    assert_eq!(drawn_moves(&browser), ["SIGTERM from orchestrator to polite (sent)"]);
    // Its text alternative and the announcement say it in words; both lanes show it.
    assert_eq!(
        attribute(&browser, "#signal-moves li [role=img]", "aria-label"),
        "SIGTERM: orchestrator → polite, pending"
    );
    wait_text(&browser, "#announcer", "SIGTERM: orchestrator → polite, pending");
    wait_text(&browser, "#lane-2 .lane-signal.out", "SIGTERM: orchestrator → polite");
    wait_text(&browser, "#lane-3 .lane-signal.in", "SIGTERM: orchestrator → polite, pending");
    assert!(!browser.exists("#lane-4 .lane-signal"), "the stubborn worker is not part of this step");
    // The motion is CSS keyframes.
    let animation = browser.script(
        "return getComputedStyle(document.querySelector('#signal-moves .sm-token')).animationName;",
        Vec::new(),
    );
    assert_eq!(animation, Value::from("sm-fly"));
    step_to(&browser, 16, 17);
    assert_eq!(drawn_moves(&browser), ["SIGTERM from polite to polite (taken)"]);
    wait_text(&browser, "#lane-3 .lane-signal.taken", "SIGTERM: polite, taken, runs its handler finish");
    step_to(&browser, 17, 21);
    assert_eq!(drawn_moves(&browser), ["SIGCHLD from kernel to orchestrator (sent)"]);
    wait_text(&browser, "#lane-2 .lane-signal.in", "SIGCHLD: kernel → orchestrator, ignored");
    wait_text(&browser, "#announcer", "SIGCHLD: kernel → orchestrator, ignored");
    // Back to step 16: the same picture, from that step's events alone.
    for step in (16..21).rev() {
        browser.press(&[ARROW_LEFT]);
        wait_step(&browser, &format!("step {step} /"));
    }
    assert_eq!(drawn_moves(&browser), ["SIGTERM from orchestrator to polite (sent)"]);
    // A link to this step opens on the same picture.
    browser.click("#share");
    wait_text(&browser, "#notice", "Link copied");
    let address = browser.address();
    open(&browser, &address);
    wait_step(&browser, "step 16 /");
    assert_eq!(drawn_moves(&browser), ["SIGTERM from orchestrator to polite (sent)"]);
    // On a 360 px screen the lanes stack and the drawing stays inside the window.
    browser.resize(360, 780);
    browser.wait_for("the window to take its new size", "return window.innerWidth === 360;", WAIT);
    assert_fits(&browser, 360);
    let outside = browser.script(
        "const width = document.documentElement.clientWidth;
         return Array.from(document.querySelectorAll('#signal-moves li, .lane-signal'))
           .filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > width + 0.5; }).length;",
        Vec::new(),
    );
    assert_eq!(outside, Value::from(0), "a signal's drawing is outside the 360 px window");
    browser.script("document.getElementById('signal-moves').scrollIntoView();", Vec::new());
    save_screenshot(&browser, "signal-360");

    // Ctrl-C: killpg reaches both members of the job's group in one move.
    browser.resize(1280, 900);
    choose_scenario(&browser, "ctrl-c");
    wait_text(&browser, "#scenario-title", "Ctrl-C");
    browser.click("#stage");
    step_to(&browser, 0, 17);
    assert_eq!(drawn_moves(&browser), ["SIGINT from shell to editor, compiler (sent)"]);
    wait_text(&browser, "#announcer", "SIGINT: shell → editor, compiler, pending");
    step_to(&browser, 17, 19);
    assert_eq!(
        drawn_moves(&browser),
        ["SIGINT from compiler to compiler (taken)", "SIGCHLD from kernel to shell (sent)"]
    );
    save_screenshot(&browser, "signal-moves");
}

#[test]
fn a_signal_is_drawn_without_motion_when_motion_is_reduced() {
    let browser = Browser::start_with(1280, 900, &["--force-prefers-reduced-motion"]);
    open(&browser, &playground());
    choose_scenario(&browser, "graceful-shutdown");
    wait_text(&browser, "#scenario-title", "Shutting down gracefully");
    browser.click("#stage");
    step_to(&browser, 0, 16);
    let reduced = browser.script("return matchMedia('(prefers-reduced-motion: reduce)').matches;", Vec::new());
    assert_eq!(reduced, Value::Bool(true), "Chromium was asked to prefer reduced motion");
    let animations = browser.script(
        "return Array.from(document.querySelectorAll('.sm-token, .lane-signal')).map(e => getComputedStyle(e).animationName);",
        Vec::new(),
    );
    let names: Vec<&str> = animations.as_array().expect("a list").iter().filter_map(Value::as_str).collect();
    assert!(!names.is_empty() && names.iter().all(|name| *name == "none"), "{names:?}");
    // The arrow and its signal are there all the same.
    assert_eq!(drawn_moves(&browser), ["SIGTERM from orchestrator to polite (sent)"]);
    wait_text(&browser, "#signal-moves .sm-token", "SIGTERM");
    save_screenshot(&browser, "signal-still");
}

// ---- Teaching modes ----

#[test]
fn predict_asks_before_each_call_and_keeps_score() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    browser.click("#mode-predict");
    // The teaching modes are the full module's: the page loads it, and goes on in it.
    wait_module(&browser, "full");
    browser.click("#stage");
    // Step until the first question.
    for _ in 0..10 {
        if browser.exists("#question") {
            break;
        }
        browser.press(&[ARROW_RIGHT]);
        std::thread::sleep(Duration::from_millis(100));
    }
    let question = wait_text(&browser, "#question", "What happens?");
    let before = step_label(&browser);
    // → does not run the call before an answer.
    browser.click("#stage");
    browser.press(&[ARROW_RIGHT]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(step_label(&browser), before, "{question}");
    save_screenshot(&browser, "predict-question");
    // Answer with a key: the reveal says right or not, and why.
    browser.type_keys("1");
    let reveal = wait_text(&browser, "#reveal", "Why:");
    assert!(reveal.starts_with("Right.") || reveal.starts_with("Not this time."), "{reveal}");
    assert!(browser.text("#score").contains("of 1"));
    save_screenshot(&browser, "predict-reveal");
}

#[test]
fn a_tour_walks_through_its_stops_with_narration() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    browser.click("#mode-tours");
    wait_module(&browser, "full");
    browser.click("#tour-pipes");
    wait_text(&browser, "#tour-counter", "Stop 1 of");
    browser.click("#tour-next");
    wait_text(&browser, "#tour-counter", "Stop 2 of");
    assert!(browser.text("#narration").contains("pipe()"));
    wait_step(&browser, "step 1 /");
    for stop in 3..=5 {
        browser.click("#tour-next");
        wait_text(&browser, "#tour-counter", &format!("Stop {stop} of"));
    }
    assert!(browser.text("#narration").contains("sleep"), "stop 5: the child's read blocks");
    assert_eq!(attribute(&browser, "#lane-3", "data-state"), "blocked");
    save_screenshot(&browser, "tour");

    // Another lesson's tour: its scenario is fetched from beside the page, then the tour starts on it.
    browser.click("#mode-tours");
    browser.click("#tour-fifos");
    wait_text(&browser, "#tour-counter", "Stop 1 of");
    assert_eq!(editor_value(&browser), library_text("fifo-unrelated"));
    assert_eq!(browser.focused_id(), "tour-next");
    browser.click("#tour-next");
    wait_text(&browser, "#tour-counter", "Stop 2 of");
}

#[test]
fn the_player_shows_one_run_without_the_editor_and_the_demo_page_embeds_it_and_runs_the_module() {
    use sim_core::share::{decode, encode, SharedRun};
    let base = playground();
    let base = if base.ends_with('/') { base } else { format!("{base}/") };
    let shared = SharedRun {
        scenario: default_text().to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
        step: 2,
    };
    let browser = Browser::start(900, 600);
    open(&browser, &format!("{base}embed.html#{}", encode(&shared)));
    wait_step(&browser, "step 2 /");
    assert!(!browser.exists("#editor"), "no editor unless asked");
    assert!(!browser.exists(".topbar"), "no library, teaching modes or share buttons");
    assert!(browser.exists(".lane"), "the processes are drawn");
    assert!(browser.exists(".timeline #step-label"), "the controls are there");
    let step_of = |href: &str| decode(href.rsplit_once('#').expect("a link").1).expect("a good link").step;
    let href = attribute(&browser, "#open-in-playground", "href");
    assert!(href.starts_with(&format!("{base}index.html#v1.")), "{href}");
    assert_eq!(step_of(&href), 2);
    // The link follows the run: step on, and it opens step 3.
    browser.click("#stage");
    browser.press(&[ARROW_RIGHT]);
    wait_step(&browser, "step 3 /");
    assert_eq!(step_of(&attribute(&browser, "#open-in-playground", "href")), 3);
    // The player leaves the playground's storage alone.
    let stored = browser
        .script("return [localStorage.getItem('ipclab.drafts'), localStorage.getItem('ipclab.open')];", Vec::new());
    assert_eq!(stored, serde_json::json!([null, null]));
    // Asked for, the editor is there.
    open(&browser, &format!("{base}embed.html?editor#{}", encode(&shared)));
    assert!(browser.exists("#editor"));
    assert!(browser.exists(".workspace:not(.no-editor)"));

    // The demo page: the element shows the player on its own scenario at step 3, and the module's result
    // has the hash the native simulator gives the same text.
    browser.goto(&format!("{base}demo.html"));
    let hash = browser.wait_for(
        "the module's result on the demo page",
        "return document.getElementById('api-result').dataset.traceHash || null;",
        WAIT,
    );
    let text = browser.script("return document.getElementById('demo-player').textContent;", Vec::new());
    let text = text.as_str().expect("the element holds its scenario");
    let native = web::engine::Engine::build(web::engine::RunSetup {
        source: text.to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
    })
    .expect("the demo scenario runs");
    assert_eq!(hash.as_str(), Some(format!("{:016x}", native.trace_hash()).as_str()));
    let src = browser.wait_for(
        "the player element's frame",
        "const frame = document.getElementById('demo-player').shadowRoot.querySelector('iframe'); \
         return frame && frame.src ? frame.src : null;",
        WAIT,
    );
    let src = src.as_str().expect("an address");
    assert!(src.starts_with(&format!("{base}embed.html#v1.")), "{src}");
    let run = decode(src.rsplit_once('#').expect("a link").1).expect("a good link");
    assert_eq!((run.step, run.scenario.as_str()), (3, text));
    assert!(!browser.exists("ipclab-player p:not([hidden])"), "no problem is shown");
    // A mistake in the attributes is said in the element, not hidden.
    browser.script("document.getElementById('demo-player').setAttribute('seed', 'lots'); return null;", Vec::new());
    let problem = browser.wait_for(
        "the element's message",
        "const p = document.getElementById('demo-player').shadowRoot.querySelector('p'); \
         return p && !p.hidden ? p.textContent : null;",
        WAIT,
    );
    assert!(problem.as_str().unwrap_or_default().contains("seed"), "{problem}");
}

#[test]
fn the_explorers_counterexample_opens_in_the_playground_at_its_first_failed_expectation() {
    use sim_core::explore::{explore, first_bad_step, ExploreLimits};
    use sim_core::share::{encode, SharedRun};
    // The lost update that `ipclab explore` finds without the mutex, as the link it prints.
    let text = library_text("sem-no-mutex");
    let scenario = sim_core::parse(text).expect("parses");
    let config = sim_core::RunConfig { follow_schedule: false, ..sim_core::RunConfig::default() };
    let mut simulation = sim_core::Simulation::new(&scenario, config).expect("compiles");
    let found = explore(&mut simulation, ExploreLimits::default(), &mut |_| {});
    let (_, reached) = found.outcomes.iter().find(|(outcome, _)| !outcome.holds()).expect("a lost update");
    let step = first_bad_step(&scenario, &reached.shortest);
    let run = SharedRun {
        scenario: text.to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: reached.shortest.clone(),
        step,
    };
    let browser = Browser::start(1280, 800);
    open(&browser, &format!("{}#{}", playground(), encode(&run)));
    wait_step(&browser, &format!("step {step} / {}", reached.shortest.len()));
    // The expectation that fails at that step is the one the page marks.
    let caption = wait_text(&browser, "#caption", "");
    assert!(caption.to_lowercase().contains("expect"), "the step on screen is where it goes wrong: {caption}");
    browser.press(&[END]);
    let verdict = attribute(&browser, "#verdict", "class");
    assert!(verdict.contains("fail"), "{verdict}");
}

/// Which module runs the page: `core` (the first one, without the IPC mechanisms) or `full`.
fn module(browser: &Browser) -> String {
    browser
        .script("return (window.ipclab && window.ipclab.module) || '';", Vec::new())
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn wait_module(browser: &Browser, wanted: &str) {
    let script = format!("return window.ipclab && window.ipclab.module === {wanted:?};");
    if browser.poll(&script, WAIT).is_none() {
        panic!("the page runs the {:?} module, not {wanted:?}", module(browser));
    }
}

/// The page's WebAssembly and JavaScript files fetched so far (their paths, from the resource timings).
fn fetched_code(browser: &Browser) -> Vec<String> {
    let value = browser.script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)
           .filter(path => path.endsWith('.wasm') || path.endsWith('.js'));",
        Vec::new(),
    );
    value.as_array().into_iter().flatten().filter_map(|path| path.as_str().map(str::to_string)).collect()
}

#[test]
fn the_first_load_fetches_only_the_module_without_the_ipc_mechanisms() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    assert_eq!(module(&browser), "core");
    let fetched = fetched_code(&browser);
    assert!(fetched.iter().any(|path| path.ends_with("/web_bg.wasm")), "{fetched:?}");
    assert!(fetched.iter().any(|path| path.ends_with("/web.js")), "{fetched:?}");
    assert!(!fetched.iter().any(|path| path.contains("/full/")), "{fetched:?}");
    // The module came compressed: `ipclab serve` sent the `web_bg.wasm.gz` that `cargo xtask dist`
    // wrote, byte for byte, and the browser unpacked it to the whole module.
    let sizes = browser.script(
        "const e = performance.getEntriesByType('resource').find(e => new URL(e.name).pathname.endsWith('/web_bg.wasm'));
         return [e.encodedBodySize, e.decodedBodySize];",
        Vec::new(),
    );
    let sizes: Vec<u64> = sizes.as_array().into_iter().flatten().filter_map(serde_json::Value::as_u64).collect();
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    let file = |name: &str| std::fs::metadata(dist.join(name)).map(|metadata| metadata.len()).ok();
    assert_eq!(sizes, [file("web_bg.wasm.gz").unwrap(), file("web_bg.wasm").unwrap()], "sent and unpacked sizes");
    // Pipes and signals stay with the first module: stepping, another lesson, a signal scenario.
    browser.press(&[ARROW_RIGHT; 2]);
    wait_step(&browser, "step 2 /");
    choose_scenario(&browser, "ctrl-c");
    wait_text(&browser, "#scenario-title", "Ctrl-C");
    browser.press(&[END]);
    let fetched = fetched_code(&browser);
    assert!(!fetched.iter().any(|path| path.contains("/full/")), "{fetched:?}");
    assert_eq!(module(&browser), "core");
}

#[test]
fn a_handler_at_an_address_with_no_code_is_shown_as_that_address_and_its_signal_kills_with_sigsegv() {
    let text = "title \"A handler where no code is\"\n\
                process main expect killed SIGSEGV {\n  sigaction SIGUSR1 4096 -> 0\n  kill self SIGUSR1\n}\n";
    let run = sim_core::share::SharedRun {
        scenario: text.to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
        step: 1,
    };
    let browser = Browser::start(1280, 900);
    open(&browser, &format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_step(&browser, "step 1 /");
    // The action is drawn in the lane as the address it names.
    wait_text(&browser, "#lane-2 .handled-signals", "SIGUSR1 → address 4096");
    browser.click("#stage");
    step_to(&browser, 1, 2);
    // Taken: the lane and the step's sentences say where it went and what the fault did.
    wait_text(&browser, "#lane-2 .lane-signal.taken", "SIGUSR1: main, taken, sent to address 4096, where it faults");
    wait_text(&browser, "#events", "takes SIGUSR1, whose handler is address 4096, where no code is");
    wait_text(&browser, "#events", "takes SIGSEGV and is terminated");
    wait_text(&browser, "#events", "killed by SIGSEGV");
}

#[test]
fn a_share_link_with_a_message_queue_runs_in_the_full_module_at_its_step() {
    let text = library_text("msg-outlives-creator");
    let run = sim_core::share::SharedRun {
        scenario: text.to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
        step: 6,
    };
    let address = format!("{}#{}", playground(), sim_core::share::encode(&run));
    let browser = Browser::start(1280, 900);
    browser.goto("about:blank");
    browser.goto(&address);
    wait_module(&browser, "full");
    wait_step(&browser, "step 6 /");
    assert_eq!(editor_value(&browser), text);
    assert!(browser.exists("#msq-0"), "the queue is drawn");
    let fetched = fetched_code(&browser);
    assert!(fetched.iter().any(|path| path.ends_with("/full/web_bg.wasm")), "{fetched:?}");
    // The same run as the command line's: the trace hash of the whole run.
    let native = library::LIBRARY.iter().find(|(stem, _, _)| *stem == "msg-outlives-creator").and_then(|entry| entry.2);
    let shown = browser.script("return window.ipclab.traceHash;", Vec::new());
    assert_eq!(shown.as_str().map(str::to_string), native.map(|hash| format!("{hash:016x}")));
    browser.press(&[END]);
    wait_text(&browser, "#events", "left behind: message queue 0");
}

#[test]
fn typing_a_semaphore_call_hands_the_page_to_the_full_module_without_losing_a_key() {
    let browser = Browser::start(1280, 900);
    open(&browser, &playground());
    assert_eq!(module(&browser), "core");
    cursor_to_end(&browser);
    let typed = "\nprocess counter {\n  s = semget 5 1 IPC_CREAT|0600\n  semop s {0, 1} -> 0\n}\n";
    browser.type_keys(typed);
    wait_module(&browser, "full");
    let expected = format!("{}{typed}", default_text());
    let script = format!("return document.getElementById('editor').value === {expected:?};");
    if browser.poll(&script, WAIT).is_none() {
        panic!("the editor holds {:?}", editor_value(&browser));
    }
    assert_eq!(browser.focused_id(), "editor", "the focus stays in the editor");
    browser.click("#stage");
    browser.press(&[END]);
    wait_text(&browser, "#ipc-panel", "1 semaphore");
    assert!(browser.exists("#sem-0-0"), "the semaphore set is drawn");
}

/// Two writers race for one pipe; the reader expects b's byte first.
const RACE: &str = "process a {\n  p = pipe\n  fork b {\n    write p.w \"b\" -> 1\n  }\n  fork c {\n    write p.w \"c\" -> 1\n  }\n  read p.r 2 -> \"bc\"\n}\n";

/// A link to RACE after a piped and forked both and b wrote first, opened at `step`.
fn race_link(step: u64) -> sim_core::share::SharedRun {
    sim_core::share::SharedRun {
        scenario: RACE.to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: vec![2, 2, 2, 3],
        step,
    }
}

#[test]
fn a_branch_left_for_another_choice_is_still_there_when_you_come_back() {
    // Two writers race for one pipe; the reader expects b's byte first. The link stands after a piped
    // and forked both, and b wrote first: a run that ends well.
    let run = race_link(3);
    let browser = Browser::start(1280, 900);
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_step(&browser, "step 3 /");
    assert!(!browser.exists("#sealed"), "this run ends well: nothing is sealed");
    // What else, here? If c writes first, every schedule fails.
    browser.click("#what-else");
    wait_text(&browser, "#what-else-4", "an expectation fails: 100%");
    wait_text(&browser, "#what-else-3", "every process exits and every expectation holds");
    // Run c instead: a new branch, and this one's fate is sealed at step 4.
    browser.click("#what-else-4 button");
    wait_step(&browser, "step 4 /");
    wait_text(&browser, "#branches", "1 (step 3)");
    wait_text(&browser, "#sealed", "From step 4 on, every continuation fails an expectation");
    assert!(browser.exists("#sealed-marker"), "the sealed step is marked on the strip");
    // The link carries both branches.
    let shared = browser.script("return location.hash;", Vec::new());
    browser.click("#share");
    let fragment = browser.poll("return location.hash.length > 1 ? location.hash : null;", WAIT);
    let fragment = fragment.and_then(|value| value.as_str().map(str::to_string)).unwrap_or_default();
    let tree = sim_core::share::decode_tree(&fragment).unwrap_or_else(|error| panic!("{shared}: {fragment}: {error}"));
    assert_eq!(tree.branches.len(), 1, "{fragment}");
    // Back to the first branch: it is where it was left, and the second is kept in its place.
    browser.click("#branch-0");
    wait_step(&browser, "step 3 /");
    wait_text(&browser, "#branches", "1 (step 4)");
    assert!(!browser.exists("#sealed"), "the first branch ends well");
    browser.click("#branch-0");
    wait_step(&browser, "step 4 /");
    wait_text(&browser, "#sealed", "From step 4 on");
}

#[test]
fn every_schedule_is_explored_in_a_worker_and_a_bad_one_replays_from_its_link() {
    let race = RACE;
    let run = sim_core::share::SharedRun {
        scenario: race.to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
        step: 0,
    };
    let browser = Browser::start(1280, 900);
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_step(&browser, "step 0 /");
    browser.click("#explore-all");
    let (scenario, found) = panel_agrees_with_the_explorer(&browser, race);
    // The page stayed the page: the explored scenario is still on screen, at its step.
    wait_step(&browser, "step 0 /");
    // A bad outcome's link opens its shortest schedule at the step where it goes wrong (its failed
    // expectation), before the end.
    let (index, (_, reached)) =
        found.outcomes.iter().enumerate().find(|(_, (outcome, _))| !outcome.holds()).expect("a failing outcome");
    let wrong = sim_core::explore::first_bad_step(&scenario, &reached.shortest);
    assert!(wrong < reached.shortest.len() as u64, "{wrong} of {}", reached.shortest.len());
    browser.click(&format!("#explored-{index} a"));
    wait_step(&browser, &format!("step {wrong} / {}", reached.shortest.len()));
}

#[test]
fn a_cut_exploration_leaves_the_declared_outcome_it_cannot_settle_open() {
    // The bounded buffer with three producers and three consumers has millions of states; the page
    // explores 200,000 of them. No schedule explored refutes its `always`, but that is not every
    // schedule.
    let browser = Browser::start(1280, 900);
    open_text_at(&browser, &larger_bounded_buffer(), 0);
    browser.click("#explore-all");
    let summary = wait_text(&browser, "#explore-panel", " to end over ");
    assert!(summary.contains("; not every schedule: stopped at the limit of 200000 nodes"), "{summary}");
    let declared = browser.text(".explored-row.declared");
    assert!(
        declared.contains("never more than three items in the buffer\": not refuted by the schedules explored, which are not all of them"),
        "{declared}"
    );
    assert!(browser.exists(".explored-row.declared.open") && !browser.exists(".explored-row.declared.good"));
}

#[test]
fn a_long_exploration_shows_how_far_it_has_got_and_stops_when_asked_while_the_page_answers() {
    // Five pipes of ballast: 23 s natively to the page's 200,000 states.
    let (browser, progress) = exploring_a_ballasted_bounded_buffer(5);
    assert!(progress.contains(" steps, ") && progress.contains(" deep"), "{progress}");
    assert_eq!(browser.text("#explore-all"), "Exploring…");
    // The page answers while the worker explores.
    browser.click("#forward");
    wait_step(&browser, "step 1 /");
    // The worker keeps a CPU busy while it explores (seen above), and none once it is stopped.
    browser.click("#explore-stop");
    let stopped = wait_text(&browser, "#explore-panel", "Stopped after ");
    assert!(!browser.exists("#explore-stop"), "{stopped}");
    assert_eq!(browser.text("#explore-all"), "Every schedule");
    let idle = cpu_used_after_grace(&browser);
    assert!(idle < 0.5, "the browser used {idle:.2} s of CPU in 2 s, 3 s after Stop: the worker still runs");
    // Asked again, it starts over with a new worker, and says how far it gets.
    browser.click("#explore-all");
    wait_text(&browser, "#explore-progress", " states, ");
    browser.click("#explore-stop");
    wait_text(&browser, "#explore-panel", "Stopped after ");
}

#[test]
fn a_new_text_explored_while_an_old_one_runs_ends_the_old_worker_and_gets_its_own_answer() {
    // Ten pipes of ballast: 46 s natively to the page's 200,000 states, longer in the browser, so an
    // answer that waited behind this exploration would come after `WAIT`.
    let (browser, _) = exploring_a_ballasted_bounded_buffer(10);
    // Another scenario, picked while the worker explores: the old exploration is not this text's, so
    // the panel offers to explore the new one.
    choose_scenario(&browser, "pipe-parent-child");
    browser.wait_for(
        "the picked scenario",
        "return document.getElementById('editor').value.includes('A pipe between parent and child');",
        WAIT,
    );
    assert_eq!(browser.text("#explore-all"), "Every schedule");
    assert!(!browser.exists("#explore-stop"), "the old exploration's Stop is not the new text's");
    browser.click("#explore-all");
    // The old worker was ended: the new text's answer does not wait for its 200,000 states.
    panel_agrees_with_the_explorer(&browser, library_text("pipe-parent-child"));
    // And the old exploration no longer uses the CPU.
    let idle = cpu_used_after_grace(&browser);
    assert!(idle < 0.5, "the browser used {idle:.2} s of CPU in 2 s: the old exploration still runs");
}

/// Waits for the exploring panel's answer for `text`, and checks it against the explorer run natively
/// with sleep sets, as `ipclab explore` does by default: the same count of classes of schedules, and
/// a row for each outcome. Returns the scenario and what the explorer found.
fn panel_agrees_with_the_explorer(
    browser: &Browser,
    text: &str,
) -> (sim_core::Scenario, sim_core::explore::Exploration) {
    let scenario = sim_core::parse(text).expect("parses");
    let config = sim_core::RunConfig { follow_schedule: false, ..sim_core::RunConfig::default() };
    let mut simulation = sim_core::Simulation::new(&scenario, config).expect("starts");
    let limits = sim_core::explore::ExploreLimits {
        reduction: sim_core::explore::Reduction::SleepSets,
        ..sim_core::explore::ExploreLimits::default()
    };
    let found = sim_core::explore::explore(&mut simulation, limits, &mut |_| {});
    let summary = wait_text(browser, "#explore-panel", " to end over ");
    assert!(summary.contains(&format!(" over {} classes of schedules", found.schedules())), "{summary}");
    let rows = browser.script("return document.querySelectorAll('.explored-row:not(.declared)').length;", Vec::new());
    assert_eq!(rows.as_u64(), Some(found.outcomes.len() as u64), "{summary}");
    (scenario, found)
}

/// The library's bounded buffer with three producers and three consumers: more than five million
/// states, where the library's has some 81,000.
fn larger_bounded_buffer() -> String {
    let larger = library_text("sem-bounded-buffer")
        .replace("  repeat 2 {\n    fork", "  repeat 3 {\n    fork")
        .replace("  repeat 4 {\n    wait", "  repeat 6 {\n    wait");
    assert_eq!(larger.matches("repeat 3 {\n    fork").count(), 2, "both kinds of worker are three");
    assert!(larger.contains("repeat 6 {\n    wait"), "and all six are waited for");
    larger
}

/// A browser exploring the larger bounded buffer with `pipes` pipes of 60,000 waiting bytes each
/// besides its own (every state carries them, so the worker takes many seconds to its 200,000 states),
/// once its progress shows and it is seen keeping a CPU busy; with the progress's words.
fn exploring_a_ballasted_bounded_buffer(pipes: u32) -> (Browser, String) {
    let ballast = format!(
        "  buffer = pipe\n  repeat {pipes} {{\n    ballast = pipe\n    write ballast.w 60000 bytes -> 60000\n  }}\n"
    );
    let text = larger_bounded_buffer().replacen("  buffer = pipe\n", &ballast, 1);
    assert!(text.contains("ballast"), "the ballast went in");
    let run = sim_core::share::SharedRun {
        scenario: text,
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
        step: 0,
    };
    let browser = Browser::start(1280, 900);
    open(&browser, &format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_step(&browser, "step 0 /");
    browser.click("#explore-all");
    let progress = wait_text(&browser, "#explore-progress", " states, ");
    let busy = cpu_used_over(&browser, Duration::from_secs(2));
    assert!(busy > 1.0, "the exploring worker used {busy:.2} s of CPU in 2 s");
    (browser, progress)
}

/// The CPU time the browser's processes use over the next `window`.
fn cpu_used_over(browser: &Browser, window: Duration) -> f64 {
    let before = browser.cpu_seconds();
    std::thread::sleep(window);
    browser.cpu_seconds() - before
}

/// The CPU time the browser's processes use over 2 s, from 3 s on: Chromium lets a worker that is
/// told to end (`terminate()`) run for up to 2 s before it stops its script by force, which a worker
/// busy in one long call to the module always needs (measured: a full CPU for the first 2 s after
/// Stop, 0.01 s in each 2 s after).
fn cpu_used_after_grace(browser: &Browser) -> f64 {
    std::thread::sleep(Duration::from_secs(3));
    cpu_used_over(browser, Duration::from_secs(2))
}

#[test]
fn a_link_checked_on_linux_shows_its_verdict_beside_its_run() {
    let run = race_link(4);
    let hash = web::engine::Engine::from_link(&run).expect("builds").trace_hash();
    let verdict = "Checked in lockstep on Linux 6.18 (x86_64): every step matches Linux";
    let tree = sim_core::share::SharedTree {
        run,
        branches: Vec::new(),
        checked: Some(sim_core::share::Checked { trace_hash: hash, verdict: verdict.to_string() }),
    };
    let browser = Browser::start(1280, 900);
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode_tree(&tree)));
    wait_step(&browser, "step 4 /");
    wait_text(&browser, "#checked", verdict);
    // Another choice is another run: the verdict is not its.
    browser.click("#to-start");
    wait_step(&browser, "step 0 /");
    for _ in 0..3 {
        browser.click("#forward");
    }
    wait_step(&browser, "step 3 /");
    browser.click("#what-else");
    wait_text(&browser, "#what-else-4", "an expectation fails");
    browser.click("#what-else-4 button");
    wait_step(&browser, "step 4 /");
    assert!(!browser.exists("#checked"), "the verdict belongs to the run that was checked");
}

// ---- Memory: page tables with arrows to the frames they map ----

/// Opens library scenario `stem` at `step` from a link, in the full module (shared memory is in it).
fn open_library_at(browser: &Browser, stem: &str, step: u64) {
    open_text_at(browser, library_text(stem), step);
}

/// Opens `text` at `step` by a share link, in the full module.
fn open_text_at(browser: &Browser, text: &str, step: u64) {
    let run = sim_core::share::SharedRun {
        scenario: text.to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: Vec::new(),
        step,
    };
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_module(browser, "full");
    wait_step(browser, &format!("step {step} /"));
}

/// An arrow of the memory picture, as its data attributes say.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PageArrow {
    from: String,
    page: String,
    frame: String,
    moved: bool,
}

/// The arrows from page-table rows to frames (`.pt-arrow`), sorted.
fn page_arrows(browser: &Browser) -> Vec<PageArrow> {
    let value = browser.script(
        "return Array.from(document.querySelectorAll('#memory-map .pt-arrow')).map(a =>
           [a.dataset.from, a.dataset.page, a.dataset.frame, a.classList.contains('arrow-moved')]);",
        Vec::new(),
    );
    let mut arrows: Vec<PageArrow> = value
        .as_array()
        .expect("a list of arrows")
        .iter()
        .map(|arrow| PageArrow {
            from: arrow[0].as_str().unwrap_or_default().to_string(),
            page: arrow[1].as_str().unwrap_or_default().to_string(),
            frame: arrow[2].as_str().unwrap_or_default().to_string(),
            moved: arrow[3].as_bool().unwrap_or_default(),
        })
        .collect();
    arrows.sort();
    arrows
}

/// `data-frame` of every frame of the strip that has class `class`.
fn frames_with(browser: &Browser, class: &str) -> Vec<String> {
    let value = browser.script(
        "return Array.from(document.querySelectorAll('#memory-map .frame.' + arguments[0])).map(f => f.dataset.frame);",
        vec![Value::from(class)],
    );
    value.as_array().into_iter().flatten().filter_map(|frame| frame.as_str().map(str::to_string)).collect()
}

fn arrow(from: &str, page: &str, frame: &str, moved: bool) -> PageArrow {
    PageArrow { from: from.to_string(), page: page.to_string(), frame: frame.to_string(), moved }
}

#[test]
fn a_shared_memory_segment_is_one_frame_both_page_tables_point_at() {
    let browser = Browser::start(1280, 1000);
    // Step 2: main attached the segment; only its page table maps the frame.
    open_library_at(&browser, "shm-one-frame", 2);
    let before = page_arrows(&browser);
    assert_eq!(before, [arrow("2", "0x600000000000", &before[0].frame, false)], "one arrow before the fork");
    assert!(frames_with(&browser, "frame-shared").is_empty(), "no frame is shared before the fork");

    // Step 6: the writer (forked, so attached too) stored 42 and 7: both page tables map one frame.
    open_library_at(&browser, "shm-one-frame", 6);
    let shared = frames_with(&browser, "frame-shared");
    assert_eq!(shared.len(), 1, "one frame is shared: {shared:?}");
    let frame = &shared[0];
    assert_eq!(
        page_arrows(&browser),
        [arrow("2", "0x600000000000", frame, false), arrow("3", "0x600000000000", frame, false)],
        "main's and the writer's pages both point at the shared frame"
    );
    let css = format!("#memory-map .frame[data-frame='{frame}']");
    assert_eq!(attribute(&browser, &css, "data-holders"), "2");
    let text = wait_text(&browser, &css, "+0: 42");
    assert!(text.contains("+8: 7") && text.contains("in 2 page tables"), "{text}");
    let rows = browser.script(
        "return Array.from(document.querySelectorAll('#memory-map .pt-row')).map(r => r.dataset.pid + ': ' +
           Array.from(r.querySelectorAll(':scope > text')).map(t => t.textContent).join(' '));",
        Vec::new(),
    );
    assert_eq!(rows, serde_json::json!(["2: 0x600000000000 rw- shm 0", "3: 0x600000000000 rw- shm 0"]));
    save_screenshot(&browser, "memory-shared-frame");

    // On a narrow screen the picture scrolls inside its card: the page is no wider than the window.
    browser.resize(400, 900);
    browser.wait_for("the window to take its new size", "return window.innerWidth === 400;", WAIT);
    assert_fits(&browser, 400);
    let card = browser.script(
        "const r = document.getElementById('memory-map').getBoundingClientRect(); return r.right <= document.documentElement.clientWidth + 0.5;",
        Vec::new(),
    );
    assert_eq!(card, Value::Bool(true), "the memory card is inside the window");
    browser.script("document.getElementById('memory-map').scrollIntoView();", Vec::new());
    save_screenshot(&browser, "memory-shared-frame-400");
}

#[test]
fn a_copy_on_write_fault_moves_the_childs_arrow_to_a_fresh_frame() {
    let browser = Browser::start(1280, 1000);
    let private = "0x600000000000";
    let shared = "0x600000001000";
    // Step 6: after the fork, the child's page table points at its parent's two frames; the private
    // page is copy-on-write in both.
    open_library_at(&browser, "mmap-private-cow", 6);
    let before = page_arrows(&browser);
    let private_frame =
        before.iter().find(|a| a.from == "2" && a.page == private).expect("main's private page").frame.clone();
    let shared_frame =
        before.iter().find(|a| a.from == "2" && a.page == shared).expect("main's shared page").frame.clone();
    assert_ne!(private_frame, shared_frame);
    assert_eq!(
        before,
        [
            arrow("2", private, &private_frame, false),
            arrow("2", shared, &shared_frame, false),
            arrow("3", private, &private_frame, false),
            arrow("3", shared, &shared_frame, false),
        ]
    );
    let mut both = vec![private_frame.clone(), shared_frame.clone()];
    both.sort();
    assert_eq!(frames_with(&browser, "frame-shared"), both, "both frames are in two page tables");
    let cow = browser.script(
        "return Array.from(document.querySelectorAll('#memory-map .pt-row.page-cow')).map(r => r.dataset.pid + ' ' + r.dataset.page);",
        Vec::new(),
    );
    assert_eq!(cow, serde_json::json!([format!("2 {private}"), format!("3 {private}")]));
    assert!(!browser.exists("#memory-map .arrow-moved"), "nothing moved yet");

    // Step 8: the child's store faults; its private page now maps a fresh frame, and the step marks it.
    browser.click("#stage");
    browser.press(&[ARROW_RIGHT; 2]);
    wait_step(&browser, "step 8 /");
    let after = page_arrows(&browser);
    let copy =
        after.iter().find(|a| a.from == "3" && a.page == private).expect("the child's private page").frame.clone();
    assert_ne!(copy, private_frame, "the child's page left its parent's frame");
    assert!(after.iter().all(|a| a.frame != copy || a.from == "3"), "the copy is the child's alone: {after:?}");
    assert_eq!(
        after,
        [
            arrow("2", private, &private_frame, false),
            arrow("2", shared, &shared_frame, false),
            arrow("3", private, &copy, true),
            arrow("3", shared, &shared_frame, false),
        ]
    );
    assert_eq!(frames_with(&browser, "frame-shared"), [shared_frame], "only the shared page's frame is shared now");
    assert_eq!(
        attribute(&browser, "#memory-map .pt-arrow-was", "data-frame"),
        private_frame,
        "a dashed arrow to the frame it left"
    );
    let note = wait_text(&browser, "#memory-moved", "copy-on-write");
    assert!(note.contains(&format!("now maps frame {copy}, a copy of frame {private_frame}")), "{note}");
    // The copy holds the child's 2; its parent's frame still holds 1.
    wait_text(&browser, &format!("#memory-map .frame[data-frame='{copy}']"), "+0: 2");
    wait_text(&browser, &format!("#memory-map .frame[data-frame='{private_frame}']"), "+0: 1");
    save_screenshot(&browser, "memory-copy-on-write");

    // The mark belongs to the step of the fault: the next step draws the arrow where it is, unmarked.
    browser.press(&[ARROW_RIGHT]);
    wait_step(&browser, "step 9 /");
    assert!(
        !browser.exists("#memory-map .arrow-moved") && !browser.exists("#memory-moved"),
        "only step 8 marks the move"
    );
    assert_eq!(page_arrows(&browser)[2], arrow("3", private, &copy, false));
}

// ---- Descriptor passing: a message carries an open file from one table to another ----

/// `data-file` of descriptor `fd` in the lane of `pid`, and whether its row has class `class`.
fn fd_row(browser: &Browser, pid: u32, fd: i32, class: &str) -> (String, bool) {
    let value = browser.script(
        "const row = document.querySelector('#lane-' + arguments[0] + ' .fds tr[data-fd=\"' + arguments[1] + '\"]');
         return row ? [row.dataset.file, row.classList.contains(arguments[2])] : null;",
        vec![Value::from(pid), Value::from(fd), Value::from(class)],
    );
    let row = value.as_array().unwrap_or_else(|| panic!("pid {pid} has no row for fd {fd}"));
    (row[0].as_str().unwrap_or_default().to_string(), row[1].as_bool().unwrap_or_default())
}

#[test]
fn a_message_to_a_socket_with_passcred_shows_who_sent_it() {
    let browser = Browser::start(1280, 1000);
    // Step 7: ann's datagram waits in logd's socket, which has SO_PASSCRED: the kernel wrote ann's pid
    // on it.
    open_library_at(&browser, "socket-credentials", 7);
    let facts = wait_text(&browser, "#socket-end-1 .family", "SO_PASSCRED");
    assert!(facts.contains("bound to /tmp/log.sock"), "{facts}");
    let creds = wait_text(&browser, "#socket-end-1-queue .message .creds", "from ann (pid 3)");
    assert_eq!(creds, "from ann (pid 3)");
    save_screenshot(&browser, "socket-credentials");
}

#[test]
fn a_tcp_connection_shows_each_end_s_state_and_the_segments_of_the_step() {
    let browser = Browser::start(1280, 1000);
    // Step 21: old closes its end of the connection first: its FIN goes to first's socket, old's end
    // (socket 5) waits in FIN_WAIT2 with its program gone, holding port 7000, and first's end (socket
    // 3) is in CLOSE_WAIT.
    open_library_at(&browser, "tcp-time-wait-restart", 21);
    let closer = wait_text(&browser, "#socket-end-5 .family", "FIN_WAIT2");
    assert!(closer.contains("at 127.0.0.1:7000"), "{closer}");
    assert!(closer.contains("closed by its program"), "{closer}");
    let other = wait_text(&browser, "#socket-end-3 .family", "CLOSE_WAIT");
    assert!(other.contains("peer port 7000"), "{other}");
    let title = wait_text(&browser, "#socket-3 .fifo-kind", "TCP socket");
    assert_eq!(title, "TCP socket (loopback)");
    let events = wait_text(&browser, "#events", "TCP segment FIN-ACK");
    assert!(events.contains("over the loopback device"), "{events}");
    browser.script("document.getElementById('socket-3').scrollIntoView({block: 'center'});", Vec::new());
    save_screenshot(&browser, "tcp-fin-wait");

    // Step 27: first closes too; old's end, still holding its port, is in TIME_WAIT.
    open_library_at(&browser, "tcp-time-wait-restart", 27);
    wait_text(&browser, "#socket-end-5 .family", "TIME_WAIT");
}

#[test]
fn a_passed_descriptor_is_drawn_in_flight_and_then_as_a_new_number_in_the_receivers_table() {
    let browser = Browser::start(1280, 1000);
    // Step 11: the keeper's sendmsg put its pipe's read end (its fd 5) in a message.
    open_library_at(&browser, "scm-rights-pipe-handoff", 11);
    let passed = wait_text(&browser, "#socket-end-2-queue .passed-file", "SCM_RIGHTS");
    assert!(passed.contains("pipe 1 (read end)"), "{passed}");
    let file = attribute(&browser, "#socket-end-2-queue .passed-file", "data-file");
    let (keeper_file, in_flight) = fd_row(&browser, 2, 5, "fd-in-flight");
    assert_eq!(keeper_file, file, "the message holds the keeper's open file");
    assert!(in_flight, "the keeper's fd 5 is marked as also in flight");
    browser.script("document.getElementById('socket-end-2-queue').scrollIntoView({block: 'center'});", Vec::new());
    save_screenshot(&browser, "rights-in-flight");

    // Step 12: the worker's recvmsg installed it as its fd 4, the same open file, and the queue is empty.
    open_library_at(&browser, "scm-rights-pipe-handoff", 12);
    let (worker_file, received) = fd_row(&browser, 3, 4, "fd-received");
    assert_eq!(worker_file, file, "the worker's new descriptor refers to the same open file");
    assert!(received, "the new descriptor is highlighted in the step that received it");
    let note = wait_text(&browser, "#lane-3 .fds tr.fd-received .received-note", "just received through socket 2");
    assert!(note.contains(&format!("open file {file}")), "{note}");
    let left = browser.script("return document.querySelectorAll('.passed-file').length;", Vec::new());
    assert_eq!(left, Value::from(0), "nothing is in flight any more");
    browser
        .script("document.querySelector('#lane-3 .fds tr.fd-received').scrollIntoView({block: 'center'});", Vec::new());
    save_screenshot(&browser, "rights-received");

    // Step 13: the highlight belongs to the step that received it.
    open_library_at(&browser, "scm-rights-pipe-handoff", 13);
    let (_, still) = fd_row(&browser, 3, 4, "fd-received");
    assert!(!still, "a later step does not highlight it");
}

// ---- poll: the set a process waits on, and which entries are ready ----

/// The poll set drawn in the lane of `pid`: each entry's text and whether it is marked ready.
fn poll_entries(browser: &Browser, pid: u32) -> Vec<(String, bool)> {
    let value = browser.script(
        "return Array.from(document.querySelectorAll('#lane-' + arguments[0] + ' .poll-set .poll-entry'))
            .map(entry => [entry.textContent, entry.classList.contains('ready')]);",
        vec![Value::from(pid)],
    );
    value
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    (entry[0].as_str().unwrap_or_default().to_string(), entry[1].as_bool().unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_process_in_poll_shows_its_set_and_the_entries_that_became_ready() {
    let browser = Browser::start(1280, 1000);
    // The server (pid 2) runs alone: three socket pairs, three forks, three closes, then poll, which
    // sleeps: no client has sent anything yet.
    let mut run = sim_core::share::SharedRun {
        scenario: library_text("poll-three-clients").to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: vec![2; 10],
        step: 10,
    };
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_module(&browser, "full");
    wait_step(&browser, "step 10 /");
    wait_text(&browser, "#lane-2 .why", "none of its 3 descriptors is ready");
    let asleep = poll_entries(&browser, 2);
    assert_eq!(
        asleep,
        vec![
            ("fd 3 asks POLLIN: not ready".to_string(), false),
            ("fd 5 asks POLLIN: not ready".to_string(), false),
            ("fd 7 asks POLLIN: not ready".to_string(), false),
        ]
    );
    assert!(fd_row(&browser, 2, 3, "fd-polled").1, "a polled descriptor is marked in the table");
    assert!(!fd_row(&browser, 2, 0, "fd-polled").1, "a descriptor outside the set is not");
    save_screenshot(&browser, "poll-asleep");

    // Step 11: ann (pid 3) sends on her socket, which wakes the server; its first entry is ready now.
    run.forced.push(3);
    run.step = 11;
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_module(&browser, "full");
    wait_step(&browser, "step 11 /");
    let woken = poll_entries(&browser, 2);
    assert_eq!(woken[0], ("fd 3 asks POLLIN: ready, POLLIN".to_string(), true), "{woken:?}");
    assert!(!woken[1].1 && !woken[2].1, "{woken:?}");
    assert!(fd_row(&browser, 2, 3, "fd-ready").1, "the ready descriptor is highlighted in the table");
    assert!(!fd_row(&browser, 2, 5, "fd-ready").1);
    save_screenshot(&browser, "poll-ready");
}

#[test]
fn a_process_in_select_shows_each_descriptor_of_its_sets_and_where_it_became_ready() {
    let browser = Browser::start(1280, 1000);
    // The supervisor (pid 2) runs alone: two pipes, two forks, two closes, then select, which sleeps:
    // neither worker has written yet.
    let mut run = sim_core::share::SharedRun {
        scenario: library_text("select-silent-worker").to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: vec![2; 7],
        step: 7,
    };
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_module(&browser, "full");
    wait_step(&browser, "step 7 /");
    wait_text(&browser, "#lane-2 .why", "none of its 2 descriptors is ready");
    wait_text(&browser, "#lane-2 .poll-set .label", "select sets");
    assert_eq!(
        poll_entries(&browser, 2),
        vec![("fd 3 in read: not ready".to_string(), false), ("fd 5 in read: not ready".to_string(), false)]
    );
    assert!(fd_row(&browser, 2, 5, "fd-polled").1, "a watched descriptor is marked in the table");

    // Steps 8 to 11: the quick worker (pid 3) closes the ends it does not use and writes its first
    // report, which wakes the supervisor; the first descriptor of its read set is ready now.
    run.forced.extend([3, 3, 3, 3]);
    run.step = 11;
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_module(&browser, "full");
    wait_step(&browser, "step 11 /");
    let woken = poll_entries(&browser, 2);
    assert_eq!(
        woken,
        vec![("fd 3 in read: ready in read".to_string(), true), ("fd 5 in read: not ready".to_string(), false)]
    );
    assert!(fd_row(&browser, 2, 3, "fd-ready").1, "the ready descriptor is highlighted in the table");
    save_screenshot(&browser, "select-ready");
}

/// The watched descriptors of epoll instance `id`'s card: each line's text and whether it is marked
/// as on the ready list.
fn epoll_items(browser: &Browser, id: u32) -> Vec<(String, bool)> {
    let value = browser.script(
        "return Array.from(document.querySelectorAll('#epoll-' + arguments[0] + ' .epoll-item'))
            .map(item => [item.textContent, item.classList.contains('ready')]);",
        vec![Value::from(id)],
    );
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| (item[0].as_str().unwrap_or_default().to_string(), item[1].as_bool().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_epoll_instance_shows_what_it_watches_its_ready_list_and_its_sleeper() {
    let browser = Browser::start(1280, 1000);
    // The server (pid 2) runs alone: the instance, two pipes, two forks, closes, O_NONBLOCK, two
    // edge-triggered items, then epoll_wait, which sleeps: no client has written yet.
    let mut run = sim_core::share::SharedRun {
        scenario: library_text("epoll-edge-triggered").to_string(),
        seed: 0,
        policy: sim_core::Policy::RoundRobin,
        forced: vec![2; 12],
        step: 12,
    };
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_module(&browser, "full");
    wait_step(&browser, "step 12 /");
    wait_text(&browser, "#lane-2 .why", "epoll instance 1 has no event to report");
    wait_text(&browser, "#epoll-1 .usage", "2 watched · 0 ready");
    assert_eq!(
        epoll_items(&browser, 1),
        vec![
            ("fd 4 pipe 1 (read end) · watches EPOLLIN · edge · nothing now".to_string(), false),
            ("fd 6 pipe 2 (read end) · watches EPOLLIN · edge · nothing now".to_string(), false),
        ]
    );
    wait_text(&browser, "#epoll-1-waiters", "server (2)");

    // Steps 13 to 16: ann (pid 3) closes the ends she does not use and writes; the write's wake-up
    // puts her pipe's item on the ready list and wakes the server.
    run.forced.extend([3, 3, 3, 3]);
    run.step = 16;
    browser.goto("about:blank");
    browser.goto(&format!("{}#{}", playground(), sim_core::share::encode(&run)));
    wait_module(&browser, "full");
    wait_step(&browser, "step 16 /");
    wait_text(&browser, "#epoll-1 .usage", "2 watched · 1 ready");
    assert_eq!(
        epoll_items(&browser, 1),
        vec![
            ("fd 4 pipe 1 (read end) · watches EPOLLIN · edge · has EPOLLIN · ready list #1".to_string(), true),
            ("fd 6 pipe 2 (read end) · watches EPOLLIN · edge · nothing now".to_string(), false),
        ]
    );
    let waiting = browser.script("return document.getElementById('epoll-1-waiters') === null;", Vec::new());
    assert_eq!(waiting.as_bool(), Some(true), "the woken server no longer waits on the instance");
    browser.script("document.getElementById('epoll-1').scrollIntoView({block: 'center'});", Vec::new());
    save_screenshot(&browser, "epoll-ready");
}
