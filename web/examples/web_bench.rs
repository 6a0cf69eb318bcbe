//! The playground's budgets, measured in headless Chromium (`cargo xtask web-bench` runs this).
//!
//! Usage: `web_bench URL JSON_OUT [DIST_DIR [NATIVE_JSON [EXPLORED_JSON SCENARIO STATES]]]`, NATIVE_JSON
//! being `ipclab bench --json`'s output on the ping-pong that the JavaScript module is timed on here, and
//! EXPLORED_JSON `ipclab explore --format json`'s on SCENARIO with at most STATES states, which the
//! module then explores too. The page records its own timings with `performance.now()`
//! in `window.ipclab` (first render, and update-to-rendered time of each step or jump); this program
//! drives it through chromedriver, reads them, and prints a table. Benchmarks measure; they do not fail.

#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/support/webdriver.rs"]
mod webdriver;

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    bench::main();
}

/// The scenario library's texts, with each scenario's native trace hash (embedded by `build.rs`).
#[cfg(not(target_arch = "wasm32"))]
mod library {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

#[cfg(not(target_arch = "wasm32"))]
mod bench {
    use super::library;
    use super::webdriver::Browser;
    use serde_json::{json, Value};
    use sim_core::share::{encode, SharedRun};
    use sim_core::Policy;
    use std::time::Duration;

    const ARROW_RIGHT: &str = "\u{E014}";
    const WAIT: Duration = Duration::from_secs(60);

    fn link(base: &str, scenario: &str) -> String {
        let run = SharedRun {
            scenario: scenario.to_string(),
            seed: 0,
            policy: Policy::RoundRobin,
            forced: Vec::new(),
            step: 0,
        };
        format!("{base}#{}", encode(&run))
    }

    fn number(browser: &Browser, name: &str) -> f64 {
        browser
            .script("return window.ipclab ? window.ipclab[arguments[0]] : null;", vec![Value::from(name)])
            .as_f64()
            .unwrap_or(f64::NAN)
    }

    fn open(browser: &Browser, url: &str) -> f64 {
        browser.goto("about:blank");
        browser.goto(url);
        browser.wait_for(
            "the first render",
            "return window.ipclab && window.ipclab.firstRenderMs ? window.ipclab.firstRenderMs : null;",
            WAIT,
        );
        number(browser, "firstRenderMs")
    }

    fn median(values: &mut [f64]) -> f64 {
        values.sort_by(|a, b| a.total_cmp(b));
        values[values.len() / 2]
    }

    fn max(values: &[f64]) -> f64 {
        // The largest sample: the worst case a visitor meets.
        values.iter().copied().fold(0.0, f64::max)
    }

    fn thirty_two_processes() -> String {
        let mut text = String::from("title \"32 processes share one pipe\"\nprocess parent {\n  p = pipe\n");
        for index in 1..32 {
            text.push_str(&format!("  fork worker{index} {{\n    write p.w \"x\"\n    read p.r 1\n  }}\n"));
        }
        text.push_str("  repeat 31 {\n    wait\n  }\n}\n");
        text
    }

    /// The size `path` is sent at: its precompressed `PATH.gz` (`cargo xtask dist` writes one, and
    /// `ipclab serve` sends it), else what `gzip -9` makes of it.
    fn gzip_size(path: &std::path::Path) -> Option<u64> {
        let mut gz = path.as_os_str().to_os_string();
        gz.push(".gz");
        if let Ok(metadata) = std::fs::metadata(&gz) {
            return Some(metadata.len());
        }
        let output = std::process::Command::new("gzip").args(["-9", "-c"]).arg(path).output().ok()?;
        output.status.success().then_some(output.stdout.len() as u64)
    }

    /// Runs of the WebAssembly measure (the best is kept: the least disturbed).
    const SPEED_RUNS: usize = 5;

    /// Simulated system calls per second on `ipclab bench`'s ping-pong through the JavaScript module in
    /// the browser (`simulate`, one call per run, nothing crossing per event, the trace stored packed),
    /// and `ipclab bench`'s own best figure for the same run with the trace stored packed (read from its
    /// JSON, `native`). The two runs must have the same trace hash. Returns (round trips, WebAssembly
    /// calls per second, native calls per second).
    fn speeds(browser: &Browser, base: &str, native: &str) -> (u64, f64, f64) {
        let report: Value = std::fs::read_to_string(native)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_else(|| panic!("cannot read ipclab bench's JSON at {native}"));
        let messages = report["messages"].as_u64().expect("ipclab bench says how many round trips");
        let packed = report["simulator"]
            .as_array()
            .and_then(|arms| arms.iter().find(|arm| arm["arm"].as_str().is_some_and(|name| name.contains("packed"))))
            .expect("ipclab bench has the packed arm");
        let native_best = packed["best_calls_per_second"].as_f64().expect("a figure");
        let text = sim_core::bench::ping_pong_scenario(messages as u32);
        browser.goto(base);
        browser.script(
            "window.ipclabSpeed = null;\
             const [text, maxSteps, runs] = arguments;\
             import(new URL('api/ipclab.js', document.baseURI).href).then(async (module) => {\
               await module.default();\
               let best = 0, hash = null;\
               for (let run = 0; run < runs; run++) {\
                 const started = performance.now();\
                 const result = module.simulate(text, { maxSteps });\
                 const seconds = (performance.now() - started) / 1000;\
                 best = Math.max(best, result.calls / seconds);\
                 hash = result.trace_hash;\
               }\
               window.ipclabSpeed = { best, hash };\
             }).catch((error) => { window.ipclabSpeed = { error: String(error) }; });\
             return null;",
            vec![Value::from(text), Value::from(10 * messages), Value::from(SPEED_RUNS)],
        );
        let measured = browser.wait_for("the WebAssembly speed runs", "return window.ipclabSpeed;", WAIT * 5);
        assert!(measured["error"].is_null(), "the JavaScript module failed: {}", measured["error"]);
        assert_eq!(measured["hash"], packed["trace_hash"], "WebAssembly and native runs of the ping-pong differ");
        (messages, measured["best"].as_f64().unwrap_or(f64::NAN), native_best)
    }

    /// Explores every schedule of `scenario` (with the default reduction, sleep sets and ample steps)
    /// through the JavaScript module in the browser, once, and reads `ipclab explore`'s JSON for the
    /// same exploration natively (`native`). Both must visit the same states and take the same steps.
    /// Returns (states, steps, WebAssembly seconds, native seconds).
    fn explore_speed(
        browser: &Browser,
        base: &str,
        native: &str,
        scenario: &str,
        states: &str,
    ) -> (u64, u64, f64, f64) {
        let report: Value = std::fs::read_to_string(native)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_else(|| panic!("cannot read ipclab explore's JSON at {native}"));
        assert_eq!(report["complete"], true, "the native exploration did not finish: {}", report["incomplete"]);
        let text = std::fs::read_to_string(scenario).unwrap_or_else(|error| panic!("cannot read {scenario}: {error}"));
        let max_states: u64 = states.parse().expect("a number of states");
        browser.goto(base);
        // In a module Worker, as the playground explores: the page stays free to answer the polls below
        // however long the exploration takes.
        browser.script(
            "window.ipclabExplored = null;\
             const [text, maxStates] = arguments;\
             const api = new URL('api/ipclab.js', document.baseURI).href;\
             const source = `import init, { explore } from ${JSON.stringify(api)};\
               onmessage = async (event) => {\
                 try {\
                   await init();\
                   const started = performance.now();\
                   const found = explore(event.data.text, { maxStates: event.data.maxStates, reduction: 'sleep' });\
                   const seconds = (performance.now() - started) / 1000;\
                   postMessage({ seconds, states: found.states, steps: found.steps, complete: found.complete });\
                 } catch (error) {\
                   postMessage({ error: String(error) });\
                 }\
               };`;\
             const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));\
             const worker = new Worker(url, { type: 'module' });\
             worker.onmessage = (event) => { window.ipclabExplored = event.data; worker.terminate(); };\
             worker.onerror = (event) => { window.ipclabExplored = { error: 'the worker failed: ' + event.message }; };\
             worker.postMessage({ text, maxStates });\
             return null;",
            vec![Value::from(text), Value::from(max_states)],
        );
        let measured = browser.wait_for("the exploration in WebAssembly", "return window.ipclabExplored;", WAIT * 20);
        assert!(measured["error"].is_null(), "the JavaScript module failed: {}", measured["error"]);
        assert_eq!(measured["complete"], true, "the exploration in WebAssembly did not finish");
        assert_eq!(measured["states"], report["states"], "WebAssembly and native explorations visit different states");
        assert_eq!(measured["steps"], report["steps"], "WebAssembly and native explorations take different steps");
        (
            report["states"].as_u64().unwrap_or(0),
            report["steps"].as_u64().unwrap_or(0),
            measured["seconds"].as_f64().unwrap_or(f64::NAN),
            report["seconds"].as_f64().unwrap_or(f64::NAN),
        )
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let base = args
            .first()
            .expect("usage: web_bench URL JSON_OUT [DIST_DIR [NATIVE_JSON [EXPLORED_JSON SCENARIO STATES]]]")
            .clone();
        let json_out = args.get(1).cloned().unwrap_or_else(|| "target/bench/web.json".to_string());
        let dist = args.get(2).cloned().unwrap_or_else(|| "dist".to_string());
        let mut rows: Vec<(String, f64, String, f64, bool)> = Vec::new();

        // The first load: the wasm and JS at the top of dist/ (the module without the IPC mechanisms),
        // gzipped; and the full module in dist/full/, which the page loads only for a scenario using them.
        let code_kb = |dir: &std::path::Path| {
            let mut bytes = 0;
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                // The exploring worker is fetched only when a visitor explores every schedule.
                if (name.ends_with(".wasm") || name.ends_with(".js")) && name != "explore-worker.js" {
                    bytes += gzip_size(&entry.path()).unwrap_or(0);
                }
            }
            bytes as f64 / 1024.0
        };
        let first_kb = code_kb(std::path::Path::new(&dist));
        rows.push((
            "first load, wasm + JS gzipped (without the IPC mechanisms)".into(),
            first_kb,
            "KB".into(),
            250.0,
            first_kb < 250.0,
        ));
        let full_kb = code_kb(&std::path::Path::new(&dist).join("full"));
        rows.push(("full module on demand, wasm + JS gzipped (full/)".into(), full_kb, "KB".into(), f64::NAN, true));

        let browser = Browser::start(1440, 900);
        // First render of the default scenario, five fresh loads.
        let mut first: Vec<f64> = (0..5).map(|_| open(&browser, &base)).collect();
        let first_median = median(&mut first);
        rows.push((
            "first render of the default scenario (median of 5)".into(),
            first_median,
            "ms".into(),
            1000.0,
            first_median < 1000.0,
        ));

        // A step plus re-render, 32 processes.
        open(&browser, &link(&base, &thirty_two_processes()));
        // Move past the forks first (found with the same engine, natively), so that every measured step
        // is drawn with all 32 lanes.
        let mut native = web::engine::Engine::build(web::engine::RunSetup {
            source: thirty_two_processes(),
            seed: 0,
            policy: Policy::RoundRobin,
            forced: Vec::new(),
        })
        .expect("the 32-process scenario runs");
        let mut all_forked = 0;
        while native.snapshot().processes.len() < 32 && !native.at_end() {
            native.forward();
            all_forked += 1;
        }
        browser.script(
            "const s = document.getElementById('scrubber'); s.value = String(arguments[0]); s.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![Value::from(all_forked)],
        );
        browser.wait_for("all forks", &format!("return window.ipclab.step === {all_forked};"), WAIT);
        let lanes = browser.script("return document.querySelectorAll('.lane').length;", Vec::new());
        let mut steps = Vec::new();
        for _ in 0..60 {
            browser.press(&[ARROW_RIGHT]);
            steps.push(number(&browser, "stepMs"));
        }
        let step_median = median(&mut steps);
        let step_p95 = steps[steps.len() * 95 / 100];
        rows.push((
            format!("step + re-render, {lanes} processes (median of 60)"),
            step_median,
            "ms".into(),
            16.0,
            step_median < 16.0,
        ));
        rows.push((
            format!("step + re-render, {lanes} processes (95th percentile)"),
            step_p95,
            "ms".into(),
            16.0,
            step_p95 < 16.0,
        ));

        // Jumps in a 100,000-step run.
        let long = "title \"100,000 steps\"\nprocess a {\n  p = pipe\n  repeat 50000 {\n    write p.w \"x\"\n    read p.r 1\n  }\n}\n";
        let load_ms = open(&browser, &link(&base, long));
        let total = number(&browser, "totalSteps");
        let mut jumps = Vec::new();
        for target in [99_999u64, 1, 50_000, 77_777, 12_345, 100_000, 0, 65_432, 99_998, 31_337] {
            browser.script(
                "const s = document.getElementById('scrubber'); s.value = String(arguments[0]); s.dispatchEvent(new Event('input', { bubbles: true }));",
                vec![Value::from(target)],
            );
            browser.wait_for(
                "the jump",
                &format!("return window.ipclab.step === Math.min({target}, window.ipclab.totalSteps);"),
                WAIT,
            );
            jumps.push(number(&browser, "jumpMs"));
        }
        let jump_max = max(&jumps);
        rows.push((
            format!("jump to any step of a {total}-step run (worst of 10)"),
            jump_max,
            "ms".into(),
            100.0,
            jump_max < 100.0,
        ));
        rows.push((
            format!("load of the {total}-step run (runs it to the end, first render)"),
            load_ms,
            "ms".into(),
            f64::NAN,
            true,
        ));

        // Share URLs of the library, with every step recorded as a forced choice (the longest form).
        let mut longest = 0usize;
        let mut longest_name = "";
        for (name, text, _) in library::LIBRARY {
            let Ok(engine) = web::engine::Engine::build(web::engine::RunSetup {
                source: text.to_string(),
                seed: 0,
                policy: Policy::RoundRobin,
                forced: Vec::new(),
            }) else {
                continue;
            };
            let run = SharedRun { forced: engine.choices().to_vec(), step: engine.total_steps(), ..engine.share() };
            let length = format!("{base}#{}", encode(&run)).len();
            if length > longest {
                longest = length;
                longest_name = name;
            }
        }
        rows.push((
            format!("longest library share URL ({longest_name})"),
            longest as f64,
            "chars".into(),
            2000.0,
            longest < 2000,
        ));

        // The simulator's speed in WebAssembly, through the JavaScript module (`dist/api/`), beside the
        // same run natively in this command: `ipclab bench`'s ping-pong, trace stored packed.
        let (messages, wasm, native) = match args.get(3) {
            Some(native) => speeds(&browser, &base, native),
            None => panic!("usage: web_bench URL JSON_OUT DIST_DIR NATIVE_JSON (cargo xtask web-bench passes them)"),
        };
        rows.push((
            format!("simulator in WebAssembly (JS module, {messages} ping-pongs, best of {SPEED_RUNS})"),
            wasm / 1e6,
            "M/s".into(),
            f64::NAN,
            true,
        ));
        rows.push((
            "simulator natively (ipclab bench, the same run, trace packed, best of 5)".into(),
            native / 1e6,
            "M/s".into(),
            f64::NAN,
            true,
        ));
        let ratio = wasm / native;
        rows.push((
            "WebAssembly / native, calls per second (goal: at least 0.5)".into(),
            ratio,
            "x".into(),
            0.5,
            ratio >= 0.5,
        ));

        // The explorer on the bounded buffer, every schedule, in WebAssembly and natively.
        if let (Some(native), Some(scenario), Some(states)) = (args.get(4), args.get(5), args.get(6)) {
            let (explored, steps, wasm, native) = explore_speed(&browser, &base, native, scenario, states);
            rows.push((
                format!("explorer, bounded buffer, WebAssembly ({explored} states, {steps} steps)"),
                wasm,
                "s".into(),
                2.0,
                wasm < 2.0,
            ));
            rows.push((
                "explorer, the same exploration natively (ipclab explore)".into(),
                native,
                "s".into(),
                0.5,
                native < 0.5,
            ));
        }
        drop(browser);

        println!("{:<66} {:>10} {:>6} {:>8}", "measure", "value", "unit", "budget");
        for (name, value, unit, budget, ok) in &rows {
            let budget = if budget.is_nan() { "-".to_string() } else { format!("{budget}") };
            println!("{name:<66} {value:>10.2} {unit:>6} {budget:>8}  {}", if *ok { "ok" } else { "OVER" });
        }
        let json = json!(rows
            .iter()
            .map(|(name, value, unit, budget, ok)| json!({
                "measure": name, "value": value, "unit": unit,
                "budget": if budget.is_nan() { Value::Null } else { json!(budget) }, "within_budget": ok,
            }))
            .collect::<Vec<_>>());
        if let Some(parent) = std::path::Path::new(&json_out).parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::fs::write(&json_out, serde_json::to_string_pretty(&json).unwrap()).expect("the JSON report is written");
    }
}
