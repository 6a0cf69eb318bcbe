//! `ipclab explore` as a user runs it: the outcome table, exit statuses (0 when every schedule meets the
//! expectations, 1 when one does not, 2 for usage errors), the replaying schedule and link of a bad
//! outcome, and the JSON form.

use std::path::PathBuf;
use std::process::Command;

fn ipclab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipclab"))
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("scenarios").join(name)
}

fn explore(args: &[&str], file: &PathBuf) -> (Option<i32>, String, String) {
    let output = ipclab().arg("explore").args(args).arg(file).output().unwrap();
    (output.status.code(), String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
}

#[test]
fn a_scenario_that_holds_on_every_schedule_exits_0_with_its_count() {
    let (code, text, stderr) = explore(&["--reduction", "none"], &scenario("sem-mutex.ipc"));
    assert_eq!(code, Some(0), "{stderr}");
    let first = text.lines().next().unwrap();
    assert!(first.contains(": 1 outcome in 31,698 schedules ("), "{first}");
    assert!(text.contains("all-exited; every expectation holds"), "{text}");
    assert!(!text.contains("INCOMPLETE"), "{text}");
    // A good outcome has its link too: its shortest schedule, opened at its end.
    let words = text.lines().find_map(|line| line.split("in the playground, at step ").nth(1)).expect("a link");
    let (step, link) = words.split_once(": ").unwrap();
    let shared = sim_core::share::decode(link.rsplit_once('#').unwrap().1).expect("a good link");
    assert_eq!(step, shared.step.to_string());
    assert_eq!(shared.step, shared.forced.len() as u64, "{words}");
}

#[test]
fn a_loop_that_never_ends_fails_as_sim_says_at_its_step_limit() {
    let dir = std::env::temp_dir().join(format!("ipclab-explore-loop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spinner = "process a {\n  while 1 {\n    sched_yield\n  }\n}\n";
    let file = dir.join("spinner.ipc");
    std::fs::write(&file, spinner).unwrap();
    let (code, text, stderr) = explore(&[], &file);
    assert_eq!(code, Some(1), "{text}{stderr}");
    assert!(text.contains("expected the run to end: all-exited, got step-limit"), "{text}");
    let sim = ipclab().arg("sim").arg(&file).output().unwrap();
    assert_eq!(sim.status.code(), Some(1), "`ipclab sim` agrees");
    // Sampled runs go on to the step limit too, unless `--max-depth` cuts them.
    let (code, text, _) = explore(&["--strategy", "random", "--runs", "2"], &file);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("step-limit"), "{text}");
    let (code, text, _) =
        explore(&["--strategy", "random", "--runs", "2", "--max-depth", "10", "--format", "json"], &file);
    assert_eq!(code, Some(0), "a run cut by the explorer's own limit decides nothing: {text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["outcomes"][0]["ending"], "depth-limit", "{json}");
    assert_eq!(json["steps"], 20, "{json}");
    // Said to run forever, it holds.
    std::fs::write(&file, format!("expect step-limit\n{spinner}")).unwrap();
    let (code, text, stderr) = explore(&[], &file);
    assert_eq!(code, Some(0), "{text}{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_race_is_found_with_a_schedule_and_a_link_that_replay_it() {
    // Two processes add to a counter in a pipe without a mutex: some schedules lose an update.
    let file = scenario("sem-no-mutex.ipc");
    let (code, text, _) = explore(&[], &file);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("<- fails"), "{text}");
    let failing = text.split("\noutcome ").find(|part| part.contains("  failed: ")).expect("a failing outcome");
    // Shown twice: the shortest schedule, then the one with the fewest preemptions, which the link replays.
    let schedules: Vec<&str> = failing.lines().filter_map(|line| line.split("--schedule ").nth(1)).collect();
    assert_eq!(schedules.len(), 2, "{failing}");
    assert!(failing.contains("  fewest preemptions ("), "{failing}");
    let schedule = schedules[1].to_string();
    let link = failing.lines().find_map(|line| line.split(": http").nth(1)).expect("a link");
    assert!(link.contains("#v1."), "{link}");
    // The schedule replays the failure in `ipclab sim`.
    let output = ipclab().arg("sim").arg(&file).args(["--schedule", &schedule]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "the schedule {schedule} fails in sim too");
    // The link opens at the first failed expectation.
    let fragment = link.rsplit_once('#').unwrap().1;
    let shared = sim_core::share::decode(fragment).expect("a good link");
    assert_eq!(shared.forced.iter().map(|pid| pid.to_string()).collect::<Vec<_>>().join(","), schedule);
    let step_words = failing.lines().find(|line| line.contains("in the playground, at step ")).unwrap();
    assert!(step_words.contains(&format!("at step {}:", shared.step)), "{step_words}");
    assert!(shared.step > 0 && shared.step <= shared.forced.len() as u64);
}

#[test]
fn the_json_form_lists_every_outcome_and_usage_errors_exit_2() {
    let (code, text, _) = explore(&["--format", "json"], &scenario("eof-never-comes.ipc"));
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(json["holds"], true);
    assert_eq!(json["complete"], true);
    let outcomes = json["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["ending"], "deadlock", "the forgotten close blocks EOF on every schedule");
    assert_eq!(outcomes[0]["schedules"], json["schedules"]);
    // Limits: a cut exploration says so.
    let (_, text, _) = explore(&["--max-states", "5"], &scenario("sem-mutex.ipc"));
    assert!(text.contains("INCOMPLETE: stopped at the limit of 5 nodes"), "{text}");
    for bad in [&["--max-states", "0"][..], &["--max-depth", "0"][..], &["--max-states", "many"][..]] {
        let (code, _, stderr) = explore(bad, &scenario("sem-mutex.ipc"));
        assert_eq!(code, Some(2), "{bad:?}: {stderr}");
        assert!(!stderr.is_empty());
    }
    let (code, _, stderr) = explore(&[], &scenario("no-such-scenario.ipc"));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no-such-scenario.ipc"), "{stderr}");
}

#[test]
fn random_and_pct_runs_report_the_same_table_for_scenarios_too_big_to_exhaust() {
    for strategy in ["random", "pct"] {
        let args = ["--strategy", strategy, "--runs", "300", "--seed", "3", "--format", "json"];
        let (code, text, stderr) = explore(&args, &scenario("sem-no-mutex.ipc"));
        assert_eq!(code, Some(1), "{strategy}: the lost update is found: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(json["strategy"], strategy);
        assert_eq!(json["schedules"], "300", "every run is counted once");
        // Each failing outcome is shrunk to the fewest preemptions that reproduce it: the lost update
        // needs at most two, however many the sampled run took.
        for outcome in json["outcomes"].as_array().unwrap().iter().filter(|outcome| outcome["holds"] == false) {
            let fewest = outcome["fewest_preemptions"].as_u64().expect("shrunk");
            assert!(fewest <= 2, "{outcome}");
            assert!(outcome["fewest_preemptions_schedule"].as_array().is_some_and(|s| !s.is_empty()));
        }
        let (again, ..) = (explore(&args, &scenario("sem-no-mutex.ipc")).1,);
        assert_eq!(
            text.lines().filter(|line| !line.contains("\"seconds\"")).collect::<Vec<_>>(),
            again.lines().filter(|line| !line.contains("\"seconds\"")).collect::<Vec<_>>(),
            "{strategy}: the same seed, the same table"
        );
    }
    let (code, text, _) = explore(&["--strategy", "pct", "--runs", "50"], &scenario("sem-mutex.ipc"));
    assert_eq!(code, Some(0));
    assert!(text.lines().next().unwrap().contains("in 50 PCT (depth 3) runs from seed 0"), "{text}");
    for bad in [
        &["--strategy", "random", "--runs", "0"][..],
        &["--strategy", "pct", "--pct-depth", "0"][..],
        &["--strategy", "dfs"][..],
    ] {
        let (code, _, stderr) = explore(bad, &scenario("sem-mutex.ipc"));
        assert_eq!(code, Some(2), "{bad:?}: {stderr}");
    }
}

#[test]
fn a_bound_on_preemptions_explores_fewer_schedules_and_says_so() {
    let file = scenario("sem-no-mutex.ipc");
    let (_, all, _) = explore(&["--format", "json", "--reduction", "none"], &file);
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    let (code, text, _) = explore(&["--max-preemptions", "1"], &file);
    assert_eq!(code, Some(1), "one preemption is enough to lose an update: {text}");
    let first = text.lines().next().unwrap();
    assert!(first.contains("schedules with at most 1 preemption ("), "{first}");
    // Where a bad run was sealed speaks of every continuation: not searched within a bound.
    assert!(!text.contains("sealed"), "{text}");
    let (_, unbounded, _) = explore(&[], &file);
    assert!(unbounded.contains("sealed at step"), "{unbounded}");
    // Nor for schedules cut at the depth limit: the explorer's limit, not their fate.
    let (_, shallow, _) = explore(&["--max-depth", "5"], &file);
    assert!(shallow.contains("depth-limit") && !shallow.contains("sealed"), "{shallow}");
    let (_, bounded, _) = explore(&["--max-preemptions", "1", "--format", "json"], &file);
    let bounded: serde_json::Value = serde_json::from_str(&bounded).unwrap();
    let count = |json: &serde_json::Value| json["schedules"].as_str().unwrap().parse::<u64>().unwrap();
    assert!(count(&bounded) < count(&all), "{} of {}", count(&bounded), count(&all));
    assert_eq!(bounded["max_preemptions"], 1);
    let (code, _, stderr) = explore(&["--max-preemptions", "1", "--strategy", "random"], &file);
    assert_eq!(code, Some(2), "{stderr}");
    // A bound on preemptions goes without reduction; asked for with sleep sets, it is refused.
    assert_eq!(bounded["reduction"], "none");
    let (code, _, stderr) = explore(&["--max-preemptions", "1", "--reduction", "sleep"], &file);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("sleep sets and a bound on preemptions"), "{stderr}");
}

#[test]
fn sleep_sets_by_default_find_the_same_outcomes_in_fewer_steps_and_count_classes() {
    for name in ["sem-no-mutex.ipc", "sem-mutex.ipc", "sem-producer-consumer-deadlock.ipc", "eof-never-comes.ipc"] {
        let file = scenario(name);
        let run = |args: &[&str]| {
            let (code, text, stderr) = explore(&[&["--format", "json", "--no-shrink"][..], args].concat(), &file);
            let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{stderr}"));
            (code, json)
        };
        let (code, reduced) = run(&[]);
        let (full_code, full) = run(&["--reduction", "none"]);
        assert_eq!(code, full_code, "{name}");
        assert_eq!((&reduced["reduction"], &reduced["counts"]), (&"sleep-sets".into(), &"classes".into()), "{name}");
        assert_eq!((&full["reduction"], &full["counts"]), (&"none".into(), &"schedules".into()), "{name}");
        let ends = |json: &serde_json::Value| {
            let mut ends: Vec<String> = json["outcomes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| format!("{} {} {}", o["ending"], o["processes"], o["failures"]))
                .collect();
            ends.sort();
            ends
        };
        assert_eq!(ends(&reduced), ends(&full), "{name}: the same outcomes");
        let number = |json: &serde_json::Value, key: &str| match &json[key] {
            serde_json::Value::String(digits) => digits.parse::<u128>().unwrap(),
            value => value.as_u64().unwrap() as u128,
        };
        assert!(number(&reduced, "states") <= number(&full, "states"), "{name}");
        assert!(number(&reduced, "steps") <= number(&full, "steps"), "{name}");
        assert!(number(&reduced, "schedules") <= number(&full, "schedules"), "{name}");
        assert_eq!(reduced["declared"].as_array().map(Vec::len), full["declared"].as_array().map(Vec::len));
    }
    // The text says what it counts.
    let (_, text, _) = explore(&[], &scenario("sem-mutex.ipc"));
    assert!(text.lines().next().unwrap().contains("classes of schedules, by sleep sets ("), "{text}");
    assert!(text.contains("  #         classes  shortest  outcome"), "{text}");
    let (code, _, stderr) = explore(&["--reduction", "sleep", "--strategy", "pct"], &scenario("sem-mutex.ipc"));
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn a_bad_run_says_where_its_fate_was_sealed() {
    // The swapped P's: the deadlock is sealed by one step, and the other process could have run instead.
    let (code, text, _) =
        explore(&["--format", "json", "--reduction", "none"], &scenario("sem-producer-consumer-deadlock.ipc"));
    assert_eq!(code, Some(1), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let deadlock = json["outcomes"].as_array().unwrap().iter().find(|o| o["ending"] == "deadlock").expect("deadlock");
    // Its declared `sometimes`, with counts past 2^32 written as strings of digits.
    assert_eq!(json["declared"][0]["holds"], true, "{}", json["declared"]);
    assert_eq!(json["declared"][0]["witnesses"], "82293309");
    assert_eq!(json["declared"][0]["others"], "1668459999672");
    let step = deadlock["sealed_at_step"].as_u64().expect("sealed");
    let schedule = deadlock["fewest_preemptions_schedule"].as_array().unwrap();
    assert!(step > 0 && step as usize <= schedule.len(), "{deadlock}");
    assert_eq!(deadlock["sealed_by"], schedule[step as usize - 1]);
    let avoid = deadlock["avoided_by"].as_array().unwrap();
    assert!(!avoid.is_empty() && !avoid.contains(&deadlock["sealed_by"]), "{deadlock}");
    // The forgotten close deadlocks on every schedule: sealed before the first step.
    let (_, text, _) = explore(&[], &scenario("eof-never-comes.ipc"));
    assert!(text.contains("sealed from the start: every schedule ends `deadlock`"), "{text}");
}

/// Starts `ipclab explore ARGS FILE`, waits for its first progress line (two seconds in), sends it
/// `signal`, and returns its exit code, standard output and the rest of its standard error.
fn interrupted(args: &[&str], file: &PathBuf, signal: i32) -> (Option<i32>, String, String) {
    use std::io::{BufRead, Read};
    let mut child = ipclab()
        .arg("explore")
        .args(args)
        .arg(file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("explored ") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no progress line before the end");
    }
    // SAFETY: a signal to the child this test started and has not waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    (status.code(), reader.join().unwrap(), rest)
}

/// The library's bounded buffer with three producers and three consumers (more than five million
/// states), written to a file of its own.
fn larger_bounded_buffer() -> PathBuf {
    let text = std::fs::read_to_string(scenario("sem-bounded-buffer.ipc")).unwrap();
    let larger = text
        .replace("  repeat 2 {\n    fork", "  repeat 3 {\n    fork")
        .replace("  repeat 4 {\n    wait", "  repeat 6 {\n    wait");
    assert_eq!(larger.matches("repeat 3 {\n    fork").count(), 2, "both kinds of worker are three");
    assert!(larger.contains("repeat 6 {\n    wait"), "and all six are waited for");
    let dir = std::env::temp_dir().join(format!("ipclab-explore-larger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("larger-bounded-buffer.ipc");
    std::fs::write(&file, larger).unwrap();
    file
}

#[test]
fn ctrl_c_stops_an_exploration_and_reports_what_it_found_so_far() {
    // The bounded buffer with three producers and three consumers has millions of states: Ctrl-C
    // after its first progress line stops it there.
    let file = larger_bounded_buffer();
    let (code, text, stderr) = interrupted(&[], &file, libc::SIGINT);
    assert_eq!(code, Some(130), "{stderr}\n{text}");
    assert!(stderr.contains("interrupted by SIGINT while exploring, after "), "{stderr}");
    assert!(text.contains("INCOMPLETE: interrupted by SIGINT; the counts cover the schedules explored"), "{text}");
    assert!(text.contains("INTERRUPTED by SIGINT while exploring: the exploration stopped where it had got"), "{text}");
    // The outcome found so far, with its schedule and link.
    assert!(text.contains("all-exited; every expectation holds"), "{text}");
    assert!(text.contains("in the playground, at step "), "{text}");
    // In JSON, and by SIGTERM: the same, said in fields a tool reads.
    let (code, json, stderr) = interrupted(&["--format", "json"], &file, libc::SIGTERM);
    assert_eq!(code, Some(143), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&json).expect("the report is whole JSON");
    assert_eq!(value["complete"], false);
    assert_eq!(value["interrupted_by"], "SIGTERM");
    assert_eq!(value["interrupted_while"], "exploring");
    assert_eq!(value["incomplete"], "interrupted by SIGTERM");
    assert!(value["states"].as_u64().is_some_and(|states| states > 0), "{json}");
    assert_eq!(value["outcomes"].as_array().map(Vec::len), Some(1), "{json}");
    // A run that was not interrupted says so too.
    let (code, json, _) = explore(&["--format", "json"], &scenario("sem-mutex.ipc"));
    assert_eq!(code, Some(0));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["interrupted_by"], serde_json::Value::Null);
    assert_eq!(value["interrupted_while"], serde_json::Value::Null);
}

#[test]
fn a_cut_exploration_leaves_the_verdicts_it_cannot_settle_open() {
    let file = scenario("fifo-open-before-mkfifo.ipc");
    // To its end: each declared outcome holds, settled.
    let (code, text, stderr) = explore(&["--format", "json", "--quiet"], &file);
    assert_eq!(code, Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    for verdict in json["declared"].as_array().unwrap() {
        assert_eq!((verdict["holds"].as_bool(), verdict["settled"].as_bool()), (Some(true), Some(true)), "{verdict}");
    }
    // Cut at 40 states: a `sometimes` shown is settled; the `never` no schedule refuted is not, nor is
    // the `sometimes` not yet seen (which makes the exit status 1: not shown).
    let (code, text, _) = explore(&["--max-states", "40", "--quiet"], &file);
    assert_eq!(code, Some(1), "{text}");
    let declared: Vec<&str> = text.lines().skip_while(|line| *line != "declared outcomes:").skip(1).take(3).collect();
    assert!(declared[0].starts_with("  not seen  sometimes \"the writer looks before"), "{declared:?}");
    assert!(
        declared[0].ends_with("<- none of the classes that ended shows it; not every schedule was explored"),
        "{declared:?}"
    );
    assert!(declared[1].starts_with("  holds     sometimes \"the FIFO is there"), "{declared:?}");
    assert!(declared[2].starts_with("  unproven  never \"a deadlock\""), "{declared:?}");
    let (_, text, _) = explore(&["--max-states", "40", "--quiet", "--format", "json"], &file);
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let settled: Vec<_> =
        json["declared"].as_array().unwrap().iter().map(|v| v["settled"].as_bool().unwrap()).collect();
    assert_eq!(settled, [false, true, false]);
    // Random runs never settle a `never`, however many.
    let (_, text, _) = explore(&["--strategy", "random", "--runs", "50", "--quiet"], &file);
    assert!(
        text.contains(
            "  unproven  never \"a deadlock\"  (0 runs show it, 50 do not)  <- none of the runs that ended refutes it"
        ),
        "{text}"
    );
}
