//! ipclab's simulator as a JavaScript module: parse a scenario, run it under a seed and a policy (or a
//! person's choices), step forward and back, read the kernel at any step, the events of a step and their
//! sentence, the trace hash, and share links, all as plain JavaScript objects (through
//! `serde-wasm-bindgen`), with TypeScript declarations for each.
//!
//! A [`Run`] is [`sim_core::session::Engine`], the same time travel the playground uses: the whole run is
//! computed once when it is made, so asking for a whole run never crosses into JavaScript per event.
//! Errors are JavaScript `Error`s with a `kind` (`"parse"`, `"options"`, `"link"`, `"choice"`,
//! `"run"`) and a message; a parse error also carries the diagnostics, each with its line and column.
//! Nothing here panics on bad input: every input is checked and refused with such an error.
//!
//! `docs/javascript-api.md` documents every function with an example.

use serde::{Deserialize, Serialize};
use sim_core::present::render::{event_record, RunSummary};
use sim_core::session::{Engine, RunSetup};
use sim_core::{Diagnostic, Pid, Policy};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** The module's version and the share-link format it reads and writes. */
export interface Version { version: string; shareFormat: number; }

/** One located problem in a scenario's text (lines and columns count from 1). */
export interface ScenarioDiagnostic { line: number; column: number; message: string; help?: string; }

/** What a scenario says about itself, once it parses and compiles. */
export interface ParsedScenario { title?: string; description?: string; processes: string[]; schedule: boolean; }

/** How a run is made: the same options always give the same run. */
export interface RunOptions {
  /** The seed of the random policy (default 0). */
  seed?: number;
  /** "round-robin" (default) or "random". */
  policy?: "round-robin" | "random";
  /** Pids that run the first steps, in order, before the policy picks. */
  choices?: number[];
  /** `simulate` only: the step limit (default 100000). */
  maxSteps?: number;
}

/** A share link's contents. */
export interface SharedRun { scenario: string; seed: number; policy: "round-robin" | "random" | "choices"; choices: number[]; step: number; }

/** How a run ended, as the last line of `ipclab sim --format json` says it. */
export interface RunSummary { outcome: any; steps: number; trace_hash: string; failures: any[]; choices: number[]; }

/** One event, as a line of `ipclab sim --format json` has it: its step, its kind (`event`), who did it, and its words. */
export interface TraceEvent { step: number; event: string; actor: string; text: string; line?: number; [field: string]: any; }

/** The kernel at one step: processes, descriptors, objects, wait queues, pending signals, the clock. */
export interface Snapshot { step: number; processes: any[]; [field: string]: any; }

/** The limits of `explore`, and whether to reduce (`"sleep"`: sleep sets and ample steps, counting classes of schedules). */
export interface ExploreOptions {
  maxStates?: number; maxDepth?: number; reduction?: "none" | "sleep";
  /** Called as the exploration goes (every 4,096 new states), with the counts so far. */
  onProgress?: (progress: ExploreProgress) => void;
}

/** How far an exploration has got: states explored, states reached again, steps simulated, deepest schedule. */
export interface ExploreProgress { states: number; reused: number; steps: number; depth: number; }

/** The limits of `Run.whatElse` (its shares are of every schedule: no reduction). */
export interface WhatElseOptions { maxStates?: number; maxDepth?: number; }

/** Every way a scenario can end, as `explore` finds them. */
export interface Exploration {
  holds: boolean; complete: boolean; incomplete?: string;
  /** What the counts count: every schedule, or (with `reduction: "sleep"`) classes of schedules that differ only in the order of independent steps. */
  counts: "schedules" | "classes";
  /** Counts can pass 2^53: strings of digits. */
  schedules: string; states: number; reused: number; steps: number;
  /** Times a schedule came back to a state it had passed; it ends `cycle` there (counts are then approximate). */
  cycles: number;
  /** The verdict on each `outcome always|sometimes|never` the scenario declares: schedules that show it and that do not. */
  declared: { title: string; quantifier: "always" | "sometimes" | "never"; holds: boolean; settled: boolean; witnesses: string; others: string }[];
  /** `firstBadStep`: where the shortest schedule first goes wrong (its first failed expectation), else its length. */
  outcomes: { ending: string; holds: boolean; processes: { pid: number; name: string; end: string }[]; failures: string[]; schedules: string; shortest: number[]; firstBadStep: number }[];
}

/** What can still happen if one process runs next (`Run.whatElse`); shares are of every schedule from the cursor. */
export interface WhatElse {
  pid: number; schedules: string; share: number; complete: boolean;
  outcomes: { ending: string; holds: boolean; failures: string[]; schedules: string; share: number }[];
}

/** An error the module throws: an `Error` with a kind. */
export interface IpclabError extends Error { kind: "parse" | "options" | "link" | "choice" | "run"; diagnostics?: ScenarioDiagnostic[]; }
"#;

/// A JavaScript `Error` with a `kind` (and, for a scenario that does not parse, its diagnostics).
fn error(kind: &str, message: &str, diagnostics: Option<&[Diagnostic]>) -> JsValue {
    let error = js_sys::Error::new(message);
    let _ = js_sys::Reflect::set(&error, &"kind".into(), &kind.into());
    if let Some(diagnostics) = diagnostics {
        let list: Vec<DiagnosticOut> = diagnostics.iter().map(DiagnosticOut::of).collect();
        if let Ok(value) = to_js(&list) {
            let _ = js_sys::Reflect::set(&error, &"diagnostics".into(), &value);
        }
    }
    error.into()
}

/// A value as a plain JavaScript object: maps as objects, numbers as numbers.
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|failure| error("run", &format!("cannot hand the value to JavaScript: {failure}"), None))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiagnosticOut {
    line: u32,
    column: u32,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
}

impl DiagnosticOut {
    fn of(diagnostic: &Diagnostic) -> DiagnosticOut {
        DiagnosticOut {
            line: diagnostic.span.line,
            column: diagnostic.span.col,
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
        }
    }
}

/// The first diagnostic in words (`line 3, column 5: ...`), for the error's message.
fn parse_error(diagnostics: &[Diagnostic]) -> JsValue {
    let first = diagnostics
        .first()
        .map(|first| format!("line {}, column {}: {}", first.span.line, first.span.col, first.message))
        .unwrap_or_else(|| "the scenario does not parse".to_string());
    let more = match diagnostics.len() {
        0 | 1 => String::new(),
        count => format!(" (and {} more)", count - 1),
    };
    error("parse", &format!("{first}{more}"), Some(diagnostics))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionOut {
    version: &'static str,
    share_format: u32,
}

/// The module's version and the share-link format it speaks.
#[wasm_bindgen(unchecked_return_type = "Version")]
pub fn version() -> Result<JsValue, JsValue> {
    to_js(&VersionOut { version: env!("CARGO_PKG_VERSION"), share_format: sim_core::share::FORMAT_VERSION })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ParsedOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    processes: Vec<String>,
    schedule: bool,
}

/// Parses and compiles a scenario; throws an `IpclabError` of kind `"parse"` with every diagnostic.
#[wasm_bindgen(unchecked_return_type = "ParsedScenario")]
pub fn parse(text: &str) -> Result<JsValue, JsValue> {
    let scenario = sim_core::parse(text).map_err(|diagnostics| parse_error(&diagnostics))?;
    sim_core::lang::compile::Program::compile(&scenario).map_err(|diagnostic| parse_error(&[diagnostic]))?;
    to_js(&ParsedOut {
        title: scenario.title.clone(),
        description: scenario.description.clone(),
        processes: scenario.processes.iter().map(|process| process.name.to_string()).collect(),
        schedule: scenario.schedule.is_some(),
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RunOptions {
    seed: Option<u64>,
    policy: Option<String>,
    choices: Option<Vec<Pid>>,
    /// `simulate` only: the step limit (default `Limits::default_max_steps`, at most its ceiling).
    max_steps: Option<u64>,
}

/// Refuses an object with a key it does not know (a misspelt option would otherwise be ignored).
fn only_keys(value: &JsValue, known: &[&str]) -> Result<(), JsValue> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(error("options", "expected an object", None));
    }
    for key in js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(error(
                "options",
                &format!("unknown field {key:?}, expected one of {}", known.join(", ")),
                None,
            ));
        }
    }
    Ok(())
}

impl RunOptions {
    fn read(options: JsValue) -> Result<RunOptions, JsValue> {
        if options.is_undefined() || options.is_null() {
            return Ok(RunOptions::default());
        }
        only_keys(&options, &["seed", "policy", "choices", "maxSteps"])?;
        serde_wasm_bindgen::from_value(options).map_err(|failure| error("options", &failure.to_string(), None))
    }

    fn policy(&self) -> Result<Policy, JsValue> {
        match self.policy.as_deref() {
            None | Some("round-robin") => Ok(Policy::RoundRobin),
            Some("random") => Ok(Policy::Random),
            Some(other) => Err(error(
                "options",
                &format!("unknown policy {other:?}: the policies are \"round-robin\" and \"random\""),
                None,
            )),
        }
    }
}

/// A whole run's end: as a `RunSummary`, without the list of who ran at each step (a long run's would
/// be most of what crosses into JavaScript).
#[derive(Serialize)]
struct Simulated<'a> {
    outcome: &'a sim_core::RunOutcome,
    steps: u64,
    trace_hash: String,
    failures: &'a [sim_core::expect::ExpectationFailure],
    /// System calls that completed.
    calls: u64,
    events: u64,
}

/// Runs a scenario to its end in one call and says how it ended, with the system calls and events it
/// made: the trace is kept packed (a few bytes per event, as `ipclab bench` measures it), nothing
/// crosses into JavaScript until the end, and no checkpoints are kept. For whole runs: a `Run` is for
/// stepping through one.
#[wasm_bindgen(unchecked_return_type = "SimulatedRun")]
pub fn simulate(
    text: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "RunOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let options = RunOptions::read(options.unwrap_or(JsValue::UNDEFINED))?;
    let limits = sim_core::Limits::DEFAULT;
    let max_steps = options.max_steps.unwrap_or(limits.default_max_steps);
    if max_steps == 0 || max_steps > limits.max_steps_ceiling {
        return Err(error(
            "options",
            &format!("maxSteps must be from 1 to {}, not {max_steps}", limits.max_steps_ceiling),
            None,
        ));
    }
    let policy = match (options.policy()?, options.choices) {
        (Policy::RoundRobin, Some(pids)) => Policy::Choices { pids },
        (_, Some(_)) => return Err(error("options", "choices go with the round-robin policy in simulate", None)),
        (policy, None) => policy,
    };
    let scenario = sim_core::parse(text).map_err(|diagnostics| parse_error(&diagnostics))?;
    let config = sim_core::RunConfig {
        seed: options.seed.unwrap_or(0),
        policy,
        max_steps,
        keep_events: false,
        pack_events: true,
        check_invariants: false,
        ..sim_core::RunConfig::default()
    };
    let mut simulation =
        sim_core::Simulation::new(&scenario, config).map_err(|diagnostic| parse_error(&[diagnostic]))?;
    simulation.run().map_err(|failure| error("choice", &failure.to_string(), None))?;
    let report = simulation.report().ok_or_else(|| error("run", "the run has no report", None))?;
    to_js(&Simulated {
        outcome: &report.outcome,
        steps: report.steps,
        trace_hash: format!("{:016x}", report.trace_hash),
        failures: &report.failures,
        calls: simulation.kernel().calls_completed,
        events: simulation.trace().event_count(),
    })
}

/// Steps one schedule may take in `explore` by default, and at most (the search keeps a checkpoint of
/// the kernel for each step of the schedule it is in).
const DEFAULT_EXPLORE_DEPTH: u64 = 10_000;
const MOST_EXPLORE_DEPTH: u64 = 100_000;
/// States `explore` visits at most unless asked for fewer or more (a tab stays responsive).
const DEFAULT_EXPLORE_STATES: u64 = 100_000;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ExploreOptions {
    max_states: Option<u64>,
    max_depth: Option<u64>,
    /// `explore` only: `"none"` (every schedule, the default) or `"sleep"`.
    reduction: Option<String>,
}

/// `explore`'s `onProgress` option: a function, or nothing.
fn progress_callback(options: &Option<JsValue>) -> Result<Option<js_sys::Function>, JsValue> {
    let Some(options) = options.as_ref().filter(|options| options.is_object()) else { return Ok(None) };
    let callback = js_sys::Reflect::get(options, &"onProgress".into()).unwrap_or(JsValue::UNDEFINED);
    if callback.is_undefined() {
        return Ok(None);
    }
    callback
        .dyn_into::<js_sys::Function>()
        .map(Some)
        .map_err(|_| error("options", "onProgress must be a function", None))
}

/// How far an exploration has got, as `onProgress` is given it.
#[derive(Serialize)]
struct ProgressOut {
    states: u64,
    reused: u64,
    steps: u64,
    depth: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExploredOutcome<'a> {
    ending: &'a str,
    holds: bool,
    processes: Vec<ExploredProcess<'a>>,
    failures: &'a [String],
    /// A count that can pass 2^53, as a string of digits.
    schedules: String,
    shortest: &'a [Pid],
    /// Where a link to the outcome should open: the shortest schedule's first failed expectation, or its
    /// end.
    first_bad_step: u64,
}

#[derive(Serialize)]
struct ExploredProcess<'a> {
    pid: Pid,
    name: &'a str,
    end: &'a str,
}

#[derive(Serialize)]
struct Explored<'a> {
    holds: bool,
    complete: bool,
    counts: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    incomplete: Option<&'a str>,
    schedules: String,
    states: u64,
    reused: u64,
    cycles: u64,
    steps: u64,
    outcomes: Vec<ExploredOutcome<'a>>,
    declared: Vec<DeclaredVerdict>,
}

/// What can follow if one process runs next.
#[derive(Serialize)]
struct WhatElse<'a> {
    pid: Pid,
    schedules: String,
    /// Its schedules' share of all the schedules from the cursor.
    share: f64,
    complete: bool,
    outcomes: Vec<WhatElseOutcome<'a>>,
}

#[derive(Serialize)]
struct WhatElseOutcome<'a> {
    ending: &'a str,
    holds: bool,
    failures: &'a [String],
    schedules: String,
    share: f64,
}

/// A declared outcome's verdict over the schedules explored.
#[derive(Serialize)]
struct DeclaredVerdict {
    title: String,
    quantifier: &'static str,
    holds: bool,
    /// Whether `holds` is final: false when not every schedule was explored to its end (a cut at
    /// `maxStates`, or schedules cut at `maxDepth`, which decide nothing) and no schedule that ended
    /// settles it (one that refutes `always` or `never`, or shows `sometimes`).
    settled: bool,
    /// Counts that can pass 2^53, as strings of digits.
    witnesses: String,
    others: String,
}

/// The limits of `explore` and `whatElse` from their options, checked; `reduction` is an option of
/// `explore` only (the shares `whatElse` gives are of every schedule).
fn explore_limits(options: Option<JsValue>, reduction: bool) -> Result<sim_core::explore::ExploreLimits, JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let options: ExploreOptions = if options.is_undefined() || options.is_null() {
        ExploreOptions::default()
    } else {
        let known: &[&str] =
            if reduction { &["maxStates", "maxDepth", "reduction", "onProgress"] } else { &["maxStates", "maxDepth"] };
        only_keys(&options, known)?;
        serde_wasm_bindgen::from_value(options).map_err(|failure| error("options", &failure.to_string(), None))?
    };
    let max_nodes = options.max_states.unwrap_or(DEFAULT_EXPLORE_STATES);
    let max_depth = options.max_depth.unwrap_or(DEFAULT_EXPLORE_DEPTH);
    if max_nodes == 0 || max_depth == 0 || max_depth > MOST_EXPLORE_DEPTH {
        return Err(error(
            "options",
            &format!("maxStates must be at least 1 and maxDepth from 1 to {MOST_EXPLORE_DEPTH}"),
            None,
        ));
    }
    let reduction = match options.reduction.as_deref() {
        None | Some("none") => sim_core::explore::Reduction::None,
        Some("sleep") => sim_core::explore::Reduction::SleepSets,
        Some(other) => {
            return Err(error("options", &format!("reduction must be \"none\" or \"sleep\", not {other:?}"), None))
        }
    };
    Ok(sim_core::explore::ExploreLimits { max_nodes, max_depth, max_preemptions: None, reduction })
}

/// Runs a scenario under every schedule (up to the limits) and lists each distinct way it ends, with
/// the exact number of schedules that end so and the shortest (the pids that run each step), as
/// `ipclab explore` does. Options: `maxStates` (default 100,000), `maxDepth` (steps per schedule,
/// default 10,000, at most 100,000) and `reduction`: `"none"` (the default: the counts are of
/// schedules) or `"sleep"` (as `ipclab explore`'s default: sleep sets and ample steps, every outcome
/// still found, far fewer steps, and the counts are of classes of schedules).
#[wasm_bindgen(unchecked_return_type = "Exploration")]
pub fn explore(
    text: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "ExploreOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsValue> {
    let on_progress = progress_callback(&options)?;
    let limits = explore_limits(options, true)?;
    let limits_reduce = limits.reduction != sim_core::explore::Reduction::None;
    let scenario = sim_core::parse(text).map_err(|diagnostics| parse_error(&diagnostics))?;
    let config = sim_core::RunConfig { follow_schedule: false, ..sim_core::RunConfig::default() };
    let mut simulation =
        sim_core::Simulation::new(&scenario, config).map_err(|diagnostic| parse_error(&[diagnostic]))?;
    // A callback that throws is not called again, and its error ends the call once the exploration is
    // done (it cannot be stopped half-way).
    let mut thrown: Option<JsValue> = None;
    let mut report = |progress: &sim_core::explore::Progress| {
        let Some(callback) = on_progress.as_ref().filter(|_| thrown.is_none()) else { return };
        let out = ProgressOut {
            states: progress.nodes,
            reused: progress.reused,
            steps: progress.steps,
            depth: progress.depth,
        };
        if let Err(failure) = to_js(&out).and_then(|value| callback.call1(&JsValue::UNDEFINED, &value)) {
            thrown = Some(failure);
        }
    };
    let found = sim_core::explore::explore(&mut simulation, limits, &mut report);
    if let Some(failure) = thrown {
        return Err(failure);
    }
    let outcomes = found
        .outcomes
        .iter()
        .map(|(outcome, reached)| ExploredOutcome {
            ending: &outcome.ending,
            holds: outcome.holds(),
            processes: outcome
                .processes
                .iter()
                .map(|(pid, name, end)| ExploredProcess { pid: *pid, name, end })
                .collect(),
            failures: &outcome.failures,
            schedules: reached.schedules.to_string(),
            shortest: &reached.shortest,
            first_bad_step: if outcome.holds() {
                reached.shortest.len() as u64
            } else {
                sim_core::explore::first_bad_step(&scenario, &reached.shortest)
            },
        })
        .collect();
    let declared: Vec<DeclaredVerdict> = found
        .verdicts(simulation.program())
        .into_iter()
        .map(|verdict| DeclaredVerdict {
            title: verdict.title,
            quantifier: verdict.quantifier,
            holds: verdict.holds,
            settled: verdict.settled,
            witnesses: verdict.witnesses.to_string(),
            others: verdict.others.to_string(),
        })
        .collect();
    to_js(&Explored {
        holds: found.holds() && declared.iter().all(|verdict| verdict.holds),
        declared,
        complete: found.incomplete.is_none(),
        counts: if limits_reduce { "classes" } else { "schedules" },
        incomplete: found.incomplete.as_deref(),
        schedules: found.schedules().to_string(),
        states: found.nodes,
        reused: found.reused,
        cycles: found.cycles,
        steps: found.steps,
        outcomes,
    })
}

/// A shared run (`SharedRun` in TypeScript) as JavaScript sees it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SharedOut {
    scenario: String,
    seed: u64,
    policy: String,
    choices: Vec<Pid>,
    step: u64,
}

impl SharedOut {
    fn of(run: &sim_core::share::SharedRun) -> SharedOut {
        let (policy, mut choices) = match &run.policy {
            Policy::Choices { pids } => ("choices", pids.clone()),
            other => (other.name(), Vec::new()),
        };
        // The forced steps come first in both forms; a policy of choices lists the rest after them.
        let mut all = run.forced.clone();
        all.append(&mut choices);
        SharedOut {
            scenario: run.scenario.clone(),
            seed: run.seed,
            policy: policy.to_string(),
            choices: all,
            step: run.step,
        }
    }
}

/// Reads a share link (the whole URL, or only what follows `#`).
#[wasm_bindgen(js_name = decodeShareLink, unchecked_return_type = "SharedRun")]
pub fn decode_share_link(link: &str) -> Result<JsValue, JsValue> {
    let run = read_link(link)?;
    to_js(&SharedOut::of(&run))
}

/// Writes the share link (what follows `#` in the playground's address) of a run at a step.
#[wasm_bindgen(js_name = encodeShareLink)]
pub fn encode_share_link(#[wasm_bindgen(unchecked_param_type = "SharedRun")] run: JsValue) -> Result<String, JsValue> {
    only_keys(&run, &["scenario", "seed", "policy", "choices", "step"])?;
    let shared: SharedOut =
        serde_wasm_bindgen::from_value(run).map_err(|failure| error("options", &failure.to_string(), None))?;
    let policy = match shared.policy.as_str() {
        "round-robin" => Policy::RoundRobin,
        "random" => Policy::Random,
        "choices" => Policy::Choices { pids: Vec::new() },
        other => return Err(error("options", &format!("unknown policy {other:?}"), None)),
    };
    let run = sim_core::share::SharedRun {
        scenario: shared.scenario,
        seed: shared.seed,
        policy,
        forced: shared.choices,
        step: shared.step,
    };
    Ok(sim_core::share::encode(&run))
}

fn read_link(link: &str) -> Result<sim_core::share::SharedRun, JsValue> {
    let fragment = link.rsplit_once('#').map_or(link, |(_, fragment)| fragment);
    sim_core::share::decode(fragment).map_err(|failure| error("link", &failure.to_string(), None))
}

/// One run of a scenario, with a cursor that steps forward and back.
#[wasm_bindgen]
pub struct Run {
    engine: Engine,
}

#[wasm_bindgen]
impl Run {
    /// Parses, compiles and runs the scenario to its end under `options`; the cursor is at step 0.
    #[wasm_bindgen(constructor)]
    pub fn new(
        text: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "RunOptions")] options: Option<JsValue>,
    ) -> Result<Run, JsValue> {
        let options = RunOptions::read(options.unwrap_or(JsValue::UNDEFINED))?;
        if options.max_steps.is_some() {
            return Err(error(
                "options",
                "maxSteps is an option of simulate: a Run keeps the default step limit",
                None,
            ));
        }
        let setup = RunSetup {
            source: text.to_string(),
            seed: options.seed.unwrap_or(0),
            policy: options.policy()?,
            forced: options.choices.clone().unwrap_or_default(),
        };
        let engine = Engine::build(setup).map_err(|diagnostics| parse_error(&diagnostics))?;
        if let Some(failure) = &engine.error {
            return Err(error("choice", failure, None));
        }
        Ok(Run { engine })
    }

    /// The run a share link describes, at its step.
    #[wasm_bindgen(js_name = fromShareLink)]
    pub fn from_share_link(link: &str) -> Result<Run, JsValue> {
        let shared = read_link(link)?;
        let engine = Engine::from_link(&shared).map_err(|diagnostics| parse_error(&diagnostics))?;
        if let Some(failure) = &engine.error {
            return Err(error("choice", failure, None));
        }
        Ok(Run { engine })
    }

    /// How many steps the whole run has.
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> f64 {
        self.engine.total_steps() as f64
    }

    /// The step the cursor is at (0: before the first step).
    #[wasm_bindgen(getter)]
    pub fn position(&self) -> f64 {
        self.engine.position() as f64
    }

    /// The run's trace hash: 16 hexadecimal digits, the same as `ipclab sim` prints for it.
    #[wasm_bindgen(getter, js_name = traceHash)]
    pub fn trace_hash(&self) -> String {
        format!("{:016x}", self.engine.trace_hash())
    }

    /// Moves the cursor to `step` (clamped to the run; never replays more than a few hundred steps).
    pub fn goto(&mut self, step: f64) {
        let step = if step.is_finite() && step > 0.0 { step as u64 } else { 0 };
        self.engine.goto(step);
    }

    pub fn forward(&mut self) {
        self.engine.forward();
    }

    pub fn back(&mut self) {
        self.engine.back();
    }

    /// "What else?" at the cursor: for each process that could run next, the ways the run can still end
    /// if it does, with the schedules to each and their share of all the schedules from here. Options:
    /// `maxStates` (per process, default 100,000).
    #[wasm_bindgen(js_name = whatElse, unchecked_return_type = "WhatElse[]")]
    pub fn what_else(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "WhatElseOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let limits = explore_limits(options, false)?;
        let by_next = self.engine.what_else(limits);
        // Saturating, as the explorer counts: a count at u128::MAX stands for more than it holds.
        let total = by_next.iter().fold(0u128, |total, (_, found)| total.saturating_add(found.schedules()));
        let share = |count: u128| if total == 0 { 0.0 } else { count as f64 / total as f64 };
        let rows: Vec<WhatElse> = by_next
            .iter()
            .map(|(pid, found)| WhatElse {
                pid: *pid,
                schedules: found.schedules().to_string(),
                share: share(found.schedules()),
                complete: found.incomplete.is_none(),
                outcomes: found
                    .outcomes
                    .iter()
                    .map(|(outcome, reached)| WhatElseOutcome {
                        ending: &outcome.ending,
                        holds: outcome.holds(),
                        failures: &outcome.failures,
                        schedules: reached.schedules.to_string(),
                        share: share(reached.schedules),
                    })
                    .collect(),
            })
            .collect();
        to_js(&rows)
    }

    /// The pids that may run next at the cursor (none once the run is over).
    pub fn runnable(&self) -> Vec<Pid> {
        self.engine.runnable()
    }

    /// Runs `pid` next, at the cursor, as a person playing the scheduler: the run is recomputed from here
    /// with that choice and the policy after it, and the cursor moves one step on.
    pub fn choose(&mut self, pid: Pid) -> Result<(), JsValue> {
        self.engine.choose(pid).map_err(|failure| error("choice", &failure, None))
    }

    /// The kernel at the cursor.
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        to_js(&self.engine.snapshot())
    }

    /// The events of `step` (the cursor's step if none is given), as `ipclab sim --format json` has them.
    #[wasm_bindgen(unchecked_return_type = "TraceEvent[]")]
    pub fn events(&self, step: Option<f64>) -> Result<JsValue, JsValue> {
        let step = self.step_or_cursor(step);
        let simulation = self.engine.simulation();
        let events = sim_core::present::explain::events_of_step(&simulation.trace().events, step);
        let names = self.engine.story_names();
        let records: Vec<_> =
            events.iter().map(|event| event_record(simulation.program(), simulation.trace(), names, event)).collect();
        to_js(&records)
    }

    /// What `step` did in one sentence (the cursor's step if none is given).
    pub fn sentence(&self, step: Option<f64>) -> String {
        self.engine.story_of(self.step_or_cursor(step)).sentence
    }

    /// How the run ended: its outcome, steps, trace hash, failed expectations and choices.
    #[wasm_bindgen(unchecked_return_type = "RunSummary")]
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        let report = self.engine.simulation().report().ok_or_else(|| error("run", "the run has no report", None))?;
        to_js(&RunSummary::of(&report))
    }

    /// Who waits for whom, one line each, if the run ended in a deadlock (empty otherwise).
    #[wasm_bindgen(js_name = deadlockLines)]
    pub fn deadlock_lines(&self) -> Vec<String> {
        self.engine.deadlock_lines()
    }

    /// The share link (what follows `#` in the playground's address) of this run at the cursor.
    #[wasm_bindgen(js_name = shareLink)]
    pub fn share_link(&self) -> String {
        sim_core::share::encode(&self.engine.share())
    }

    fn step_or_cursor(&self, step: Option<f64>) -> u64 {
        match step {
            Some(step) if step.is_finite() && step > 0.0 => step as u64,
            Some(_) => 0,
            None => self.engine.position(),
        }
    }
}
