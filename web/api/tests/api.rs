//! Every function of the JavaScript module, called as JavaScript calls it (in Node, through
//! wasm-bindgen), with good input and with bad input of every kind: each bad input is a thrown `Error`
//! with its kind, never a panic. And every library scenario gets the native trace hash through the module.
#![cfg(target_arch = "wasm32")]

use ipclab::{decode_share_link, encode_share_link, explore, parse, simulate, version, Run};
use js_sys::Reflect;
use sim_core::Pid;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

mod library {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

const PIPE: &str = "process parent expect exited 0 {\n  p = pipe\n  fork child expect exited 0 {\n    \
                    write p.w \"hi\" -> 2\n  }\n  read p.r 2 -> \"hi\"\n  wait\n}\n";

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn options(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("test options are JSON")
}

/// The thrown value is an `Error` of `kind` whose message contains `words`.
fn assert_error(thrown: JsValue, kind: &str, words: &str) -> JsValue {
    let error: &js_sys::Error = thrown.dyn_ref().expect("an Error is thrown");
    let message = String::from(error.message());
    assert_eq!(get(&thrown, "kind").as_string().as_deref(), Some(kind), "{message}");
    assert!(message.contains(words), "{message:?} does not say {words:?}");
    thrown
}

#[wasm_bindgen_test]
fn the_version_and_share_format_are_reported() {
    let reported = version().unwrap();
    assert_eq!(get(&reported, "version").as_string().as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(get(&reported, "shareFormat").as_f64(), Some(sim_core::share::FORMAT_VERSION as f64));
}

#[wasm_bindgen_test]
fn parse_describes_a_scenario_and_locates_every_error() {
    let parsed = parse(&format!("title \"Hi\"\n{PIPE}")).unwrap();
    assert_eq!(get(&parsed, "title").as_string().as_deref(), Some("Hi"));
    assert_eq!(get(&parsed, "schedule").as_bool(), Some(false));
    let processes: js_sys::Array = get(&parsed, "processes").dyn_into().unwrap();
    assert_eq!(processes.to_vec().iter().map(|name| name.as_string().unwrap()).collect::<Vec<_>>(), ["parent"]);
    // A syntax error: line and column, and every diagnostic listed.
    let thrown = assert_error(parse("process a {\n  clsoe 3\n}\n").unwrap_err(), "parse", "line 2, column 3");
    let diagnostics: js_sys::Array = get(&thrown, "diagnostics").dyn_into().unwrap();
    assert!(diagnostics.length() >= 1);
    let first = diagnostics.get(0);
    assert_eq!((get(&first, "line").as_f64(), get(&first, "column").as_f64()), (Some(2.0), Some(3.0)));
    // Errors found after parsing (an unknown name) are located too; empty and binary text are refused.
    assert_error(parse("process a {\n  close q\n}\n").unwrap_err(), "parse", "line 2");
    assert_error(parse("").unwrap_err(), "parse", "");
    assert_error(parse("\u{0}\u{1}\u{fffd}").unwrap_err(), "parse", "line 1");
}

#[wasm_bindgen_test]
fn a_run_steps_forward_and_back_and_reads_the_kernel_events_and_sentences() {
    let mut run = Run::new(PIPE, None).unwrap();
    let steps = run.steps();
    assert!(steps > 5.0);
    assert_eq!(run.position(), 0.0);
    run.forward();
    run.forward();
    assert_eq!(run.position(), 2.0);
    let snapshot = run.snapshot().unwrap();
    assert_eq!(get(&snapshot, "step").as_f64(), Some(2.0));
    let processes: js_sys::Array = get(&snapshot, "processes").dyn_into().unwrap();
    assert_eq!(processes.length(), 2, "parent and child after the fork");
    let events: js_sys::Array = run.events(Some(1.0)).unwrap().dyn_into().unwrap();
    assert!(events.to_vec().iter().any(|event| get(event, "text").as_string().unwrap().contains("pipe")));
    assert!(run.sentence(Some(1.0)).contains("pipe"), "{}", run.sentence(Some(1.0)));
    run.back();
    assert_eq!(run.position(), 1.0);
    // Far jumps are clamped to the run; nonsense steps go to the start.
    run.goto(1e12);
    assert_eq!(run.position(), steps);
    assert!(run.runnable().is_empty(), "nobody runs after the end");
    run.goto(f64::NAN);
    assert_eq!(run.position(), 0.0);
    run.goto(-3.0);
    assert_eq!(run.position(), 0.0);
    assert_eq!(js_sys::Array::from(&run.events(Some(1e12)).unwrap()).length(), 0, "no events after the end");
    let summary = run.summary().unwrap();
    assert_eq!(get(&summary, "trace_hash").as_string(), Some(run.trace_hash()));
    assert_eq!(get(&summary, "steps").as_f64(), Some(steps));
    assert!(run.deadlock_lines().is_empty());
}

#[wasm_bindgen_test]
fn options_choose_the_run_and_bad_options_are_refused() {
    let round_robin = Run::new(PIPE, None).unwrap().trace_hash();
    assert_eq!(Run::new(PIPE, Some(options(r#"{"policy": "round-robin"}"#))).unwrap().trace_hash(), round_robin);
    let random = Run::new(PIPE, Some(options(r#"{"policy": "random", "seed": 7}"#))).unwrap().trace_hash();
    assert_eq!(Run::new(PIPE, Some(options(r#"{"policy": "random", "seed": 7}"#))).unwrap().trace_hash(), random);
    // The first steps by choice: the child (pid 3) cannot run before the fork.
    let chosen = Run::new(PIPE, Some(options(r#"{"choices": [2, 2, 3]}"#))).unwrap();
    assert_eq!(js_sys::Array::from(&get(&chosen.summary().unwrap(), "choices")).get(2).as_f64(), Some(3.0));
    assert_error(Run::new(PIPE, Some(options(r#"{"choices": [3]}"#))).err().unwrap(), "choice", "choice 1");
    assert_error(Run::new(PIPE, Some(options(r#"{"policy": "fastest"}"#))).err().unwrap(), "options", "fastest");
    assert_error(Run::new(PIPE, Some(options(r#"{"seeed": 1}"#))).err().unwrap(), "options", "seeed");
    assert_error(Run::new(PIPE, Some(options(r#"{"seed": -1}"#))).err().unwrap(), "options", "");
    assert_error(Run::new(PIPE, Some(options(r#""fast""#))).err().unwrap(), "options", "");
    assert_error(Run::new("process {", None).err().unwrap(), "parse", "line 1");
}

#[wasm_bindgen_test]
fn a_person_choosing_the_next_process_recomputes_the_run_from_there() {
    let mut run = Run::new(PIPE, None).unwrap();
    run.goto(2.0);
    let runnable = run.runnable();
    assert_eq!(runnable, vec![2, 3]);
    run.choose(3).unwrap();
    assert_eq!(run.position(), 3.0);
    assert_error(run.choose(99).unwrap_err(), "choice", "not runnable");
}

#[wasm_bindgen_test]
fn share_links_round_trip_and_damaged_ones_are_refused() {
    let mut run = Run::new(PIPE, Some(options(r#"{"policy": "random", "seed": 3}"#))).unwrap();
    run.goto(4.0);
    let link = run.share_link();
    let again = Run::from_share_link(&format!("https://example.org/#{link}")).unwrap();
    assert_eq!((again.trace_hash(), again.position()), (run.trace_hash(), 4.0));
    let shared = decode_share_link(&link).unwrap();
    assert_eq!(get(&shared, "scenario").as_string().as_deref(), Some(PIPE));
    assert_eq!((get(&shared, "seed").as_f64(), get(&shared, "step").as_f64()), (Some(3.0), Some(4.0)));
    assert_eq!(get(&shared, "policy").as_string().as_deref(), Some("random"));
    assert_eq!(encode_share_link(shared).unwrap(), link);
    for damaged in ["", "#", "v1.", "v9.AAAA", &link[..link.len() - 3], &format!("{link}x")] {
        assert_error(decode_share_link(damaged).unwrap_err(), "link", "");
        assert_error(Run::from_share_link(damaged).err().unwrap(), "link", "");
    }
    assert_error(encode_share_link(options(r#"{"scenario": 1}"#)).unwrap_err(), "options", "");
    assert_error(
        encode_share_link(options(r#"{"scenario": "", "seed": 0, "policy": "x", "choices": [], "step": 0}"#))
            .unwrap_err(),
        "options",
        "\"x\"",
    );
}

#[wasm_bindgen_test]
fn simulate_makes_a_whole_run_in_one_call_with_the_same_hash_as_a_run() {
    let whole = simulate(PIPE, None).unwrap();
    let run = Run::new(PIPE, None).unwrap();
    assert_eq!(get(&whole, "trace_hash").as_string(), Some(run.trace_hash()));
    assert_eq!(get(&whole, "steps").as_f64(), Some(run.steps()));
    assert_eq!(get(&whole, "calls").as_f64(), Some(7.0), "pipe, fork, write, read, wait and both exits");
    assert!(get(&whole, "events").as_f64().unwrap() > 6.0);
    assert!(get(&whole, "choices").is_undefined(), "a whole run does not list who ran each step");
    // A long run with its step limit raised; limits outside 1..=ceiling are refused.
    let long = "process p {\n  repeat 200000 {\n    getpid\n  }\n}\n";
    let limited = simulate(long, None).unwrap();
    assert_eq!(get(&get(&limited, "outcome"), "kind").as_string().as_deref(), Some("step_limit"));
    let whole = simulate(long, Some(options(r#"{"maxSteps": 1000000}"#))).unwrap();
    assert_eq!(get(&whole, "calls").as_f64(), Some(200_001.0));
    assert_error(simulate(long, Some(options(r#"{"maxSteps": 0}"#))).unwrap_err(), "options", "maxSteps");
    assert_error(simulate(long, Some(options(r#"{"maxSteps": 1e12}"#))).unwrap_err(), "options", "maxSteps");
    assert_error(Run::new(long, Some(options(r#"{"maxSteps": 10}"#))).err().unwrap(), "options", "simulate");
    assert_error(simulate("process {", None).unwrap_err(), "parse", "line 1");
}

#[wasm_bindgen_test]
fn explore_lists_every_outcome_with_its_schedules_and_refuses_bad_limits() {
    let text = library::LIBRARY.iter().find(|(stem, _, _)| *stem == "sem-no-mutex").expect("in the library").1;
    let found = explore(text, None).unwrap();
    assert_eq!(get(&found, "holds").as_bool(), Some(false), "the lost update is found");
    assert_eq!(get(&found, "complete").as_bool(), Some(true));
    // The same figures as `ipclab explore` gives natively (tests/explore_cli.rs and the README).
    assert_eq!(get(&found, "schedules").as_string().as_deref(), Some("2252"));
    let outcomes: js_sys::Array = get(&found, "outcomes").dyn_into().unwrap();
    assert_eq!(outcomes.length(), 6);
    let bad = outcomes.to_vec().into_iter().find(|outcome| get(outcome, "holds").as_bool() == Some(false)).unwrap();
    let shortest: js_sys::Array = get(&bad, "shortest").dyn_into().unwrap();
    assert_eq!(shortest.length(), 14);
    assert_eq!(get(&found, "counts").as_string().as_deref(), Some("schedules"));
    // With the reduction `ipclab explore` makes by default, the same outcomes in fewer states and
    // steps, counted as classes of schedules (the figures of the README's "How fast").
    let reduced = explore(text, Some(options(r#"{"reduction": "sleep"}"#))).unwrap();
    assert_eq!(get(&reduced, "counts").as_string().as_deref(), Some("classes"));
    assert_eq!(get(&reduced, "schedules").as_string().as_deref(), Some("740"));
    assert_eq!(get(&reduced, "states").as_f64(), Some(180.0));
    assert_eq!(get(&reduced, "steps").as_f64(), Some(300.0));
    assert_eq!(get(&found, "states").as_f64(), Some(217.0));
    let ends = |found: &JsValue| -> Vec<String> {
        let outcomes: js_sys::Array = get(found, "outcomes").dyn_into().unwrap();
        let mut ends: Vec<String> = outcomes
            .iter()
            .map(|outcome| js_sys::JSON::stringify(&get(&outcome, "processes")).unwrap().as_string().unwrap())
            .collect();
        ends.sort();
        ends
    };
    assert_eq!(ends(&reduced), ends(&found), "every outcome is still found");
    assert_error(explore(text, Some(options(r#"{"reduction": "dpor"}"#))).unwrap_err(), "options", "reduction");
    // A cut exploration says so; bad limits are refused.
    let cut = explore(text, Some(options(r#"{"maxStates": 3}"#))).unwrap();
    assert_eq!(get(&cut, "complete").as_bool(), Some(false));
    assert!(get(&cut, "incomplete").as_string().unwrap().contains("3 nodes"));
    assert_error(explore(text, Some(options(r#"{"maxDepth": 0}"#))).unwrap_err(), "options", "maxDepth");
    assert_error(explore(text, Some(options(r#"{"maxDepth": 200000}"#))).unwrap_err(), "options", "100000");
    assert_error(explore(text, Some(options(r#"{"maxStates": 0}"#))).unwrap_err(), "options", "maxStates");
    assert_error(explore(text, Some(options(r#"{"depth": 3}"#))).unwrap_err(), "options", "depth");
    assert_error(explore("process {", None).unwrap_err(), "parse", "line 1");
    // Declared outcomes come back with their verdicts: the swapped P's deadlock sometimes, as declared.
    let text = library::LIBRARY
        .iter()
        .find(|(stem, _, _)| *stem == "sem-producer-consumer-deadlock")
        .expect("in the library")
        .1;
    let declared: js_sys::Array = get(&explore(text, None).unwrap(), "declared").dyn_into().unwrap();
    assert_eq!(declared.length(), 1);
    let verdict = declared.get(0);
    assert_eq!(get(&verdict, "quantifier").as_string().as_deref(), Some("sometimes"));
    assert_eq!(get(&verdict, "holds").as_bool(), Some(true));
    assert_eq!(get(&verdict, "settled").as_bool(), Some(true), "a schedule that shows a `sometimes` settles it");
    assert_eq!(get(&verdict, "witnesses").as_string().as_deref(), Some("82293309"));
    // Cut before any schedule ends: the `sometimes` is not seen, and not ruled out.
    let cut = explore(text, Some(options(r#"{"maxStates": 3}"#))).unwrap();
    let verdict = js_sys::Array::from(&get(&cut, "declared")).get(0);
    assert_eq!(get(&verdict, "holds").as_bool(), Some(false));
    assert_eq!(get(&verdict, "settled").as_bool(), Some(false));
}

#[wasm_bindgen_test]
fn explore_reports_its_progress_and_where_each_bad_outcome_goes_wrong() {
    use std::{cell::RefCell, rc::Rc};
    let text = library::LIBRARY.iter().find(|(stem, _, _)| *stem == "sem-bounded-buffer").expect("in the library").1;
    let seen: Rc<RefCell<Vec<(f64, f64)>>> = Rc::default();
    let into = seen.clone();
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |progress: JsValue| {
        into.borrow_mut().push((get(&progress, "states").as_f64().unwrap(), get(&progress, "steps").as_f64().unwrap()));
    });
    let with = |callback: &JsValue| {
        let options = options(r#"{"maxStates": 20000, "reduction": "sleep"}"#);
        js_sys::Reflect::set(&options, &"onProgress".into(), callback).unwrap();
        options
    };
    let found = explore(text, Some(with(callback.as_ref()))).unwrap();
    assert_eq!(get(&found, "complete").as_bool(), Some(false), "cut at 20,000 states");
    // Every 4,096 new states, with the steps so far.
    let seen = seen.borrow().clone();
    assert_eq!(seen.iter().map(|(states, _)| *states).collect::<Vec<_>>(), vec![4096.0, 8192.0, 12288.0, 16384.0]);
    assert!(seen.windows(2).all(|pair| pair[0].1 < pair[1].1), "{seen:?}");
    // Not a function, or a function that throws: an error.
    assert_error(explore(text, Some(with(&JsValue::from(3)))).unwrap_err(), "options", "onProgress");
    let throws = js_sys::Function::new_with_args("progress", "throw new Error('enough at ' + progress.states)");
    let thrown = explore(text, Some(with(&throws))).unwrap_err();
    assert_eq!(get(&thrown, "message").as_string().as_deref(), Some("enough at 4096"));
    // A bad outcome's link should open where it goes wrong: its first failed expectation, as the
    // command line's links do; a good one at its end.
    let text = library::LIBRARY.iter().find(|(stem, _, _)| *stem == "sem-no-mutex").expect("in the library").1;
    let scenario = sim_core::parse(text).unwrap();
    let outcomes: js_sys::Array = get(&explore(text, None).unwrap(), "outcomes").dyn_into().unwrap();
    let mut bad = 0;
    for outcome in outcomes.iter() {
        let shortest: Vec<Pid> = get(&outcome, "shortest")
            .dyn_into::<js_sys::Array>()
            .unwrap()
            .iter()
            .map(|pid| pid.as_f64().unwrap() as Pid)
            .collect();
        let first_bad = get(&outcome, "firstBadStep").as_f64().unwrap() as u64;
        if get(&outcome, "holds").as_bool() == Some(true) {
            assert_eq!(first_bad, shortest.len() as u64);
        } else {
            bad += 1;
            assert_eq!(first_bad, sim_core::explore::first_bad_step(&scenario, &shortest));
            assert!(first_bad < shortest.len() as u64, "the lost update shows before the end: {first_bad}");
        }
    }
    assert!(bad > 0);
}

#[wasm_bindgen_test]
fn what_else_splits_what_can_still_happen_by_the_process_that_runs_next() {
    let text = library::LIBRARY.iter().find(|(stem, _, _)| *stem == "sem-no-mutex").expect("in the library").1;
    let mut run = Run::new(text, Some(options(r#"{"policy": "round-robin"}"#))).unwrap();
    run.goto(4.0);
    let rows: js_sys::Array = run.what_else(None).unwrap().dyn_into().unwrap();
    let pids: Vec<f64> = rows.to_vec().iter().map(|row| get(row, "pid").as_f64().unwrap()).collect();
    assert_eq!(pids, run.runnable().iter().map(|pid| *pid as f64).collect::<Vec<_>>());
    let shares: f64 = rows.to_vec().iter().map(|row| get(row, "share").as_f64().unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-9, "the shares add up: {shares}");
    // Some next process can still lose the interleaving the scenario pins.
    assert!(rows.to_vec().iter().any(|row| {
        let outcomes: js_sys::Array = get(row, "outcomes").dyn_into().unwrap();
        outcomes.to_vec().iter().any(|outcome| get(outcome, "holds").as_bool() == Some(false))
    }));
    assert_error(run.what_else(Some(options(r#"{"maxStates": 0}"#))).unwrap_err(), "options", "maxStates");
    // Its shares are of every schedule: no reduction.
    assert_error(run.what_else(Some(options(r#"{"reduction": "sleep"}"#))).unwrap_err(), "options", "reduction");
}

#[wasm_bindgen_test]
fn every_library_scenario_has_its_native_trace_hash_through_the_module() {
    for (stem, text, native) in library::LIBRARY {
        let run = Run::new(text, None).unwrap_or_else(|_| panic!("{stem} runs"));
        assert_eq!(run.trace_hash(), *native, "{stem}");
    }
}
