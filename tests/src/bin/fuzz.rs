//! `cargo xtask fuzz`: runs the fuzz targets of `ipclab_tests::fuzz` for a while and reports.
//!
//! Usage: `fuzz [TARGET...] [--minutes M | --cases N] [--seed S] [--save]`. Targets: parser, share,
//! compiler, kernel (all four when none is named; the time is split between them). Inputs that break a
//! check are written to `target/fuzz/findings/TARGET/` and make the exit status 1; inputs that showed
//! new behaviour go to `target/fuzz/new/TARGET/`, or with `--save` into the corpus in the repository.

use ipclab_tests::fuzz::{self, Target, TARGETS};
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Options {
    targets: Vec<Target>,
    minutes: Option<f64>,
    cases: Option<u64>,
    seed: u64,
    save: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options { targets: Vec::new(), minutes: None, cases: None, seed: 1, save: false };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--minutes" => {
                let text = value("--minutes")?;
                let minutes: f64 = text.parse().map_err(|_| format!("--minutes {text}: not a number"))?;
                if !(minutes > 0.0 && minutes <= 24.0 * 60.0) {
                    return Err(format!("--minutes {text}: between 0 and 1440"));
                }
                options.minutes = Some(minutes);
            }
            "--cases" => {
                let text = value("--cases")?;
                options.cases = Some(text.parse().map_err(|_| format!("--cases {text}: not a whole number"))?);
            }
            "--seed" => {
                let text = value("--seed")?;
                options.seed = text.parse().map_err(|_| format!("--seed {text}: not a whole number"))?;
            }
            "--save" => options.save = true,
            name => match Target::from_name(name) {
                Some(target) => options.targets.push(target),
                None => {
                    return Err(format!(
                        "unknown target or option `{name}`; targets: parser, share, compiler, kernel; options: \
                         --minutes M, --cases N, --seed S, --save"
                    ))
                }
            },
        }
    }
    if options.minutes.is_some() && options.cases.is_some() {
        return Err("give --minutes or --cases, not both".to_string());
    }
    if options.targets.is_empty() {
        options.targets = TARGETS.to_vec();
    }
    Ok(options)
}

fn write_inputs(dir: &std::path::Path, inputs: &[Vec<u8>]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for input in inputs {
        std::fs::write(dir.join(fuzz::file_name(input)), input)?;
    }
    Ok(())
}

struct Row {
    target: Target,
    cases: u64,
    seconds: f64,
    signatures: usize,
    new_inputs: usize,
    findings: usize,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("fuzz: {message}");
            return ExitCode::from(2);
        }
    };
    let per_target =
        options.minutes.map(|minutes| Duration::from_secs_f64(minutes * 60.0 / options.targets.len() as f64));
    let out = ipclab_tests::root().join("target").join("fuzz");
    let mut rows = Vec::new();
    let mut failed = false;
    for &target in &options.targets {
        let corpus: Vec<Vec<u8>> =
            fuzz::load_corpus(&target.corpus_dir()).into_iter().map(|(_, bytes)| bytes).collect();
        // The corpus first: each of its inputs must still pass.
        let mut findings: Vec<(Vec<u8>, String)> = corpus
            .iter()
            .filter_map(|input| fuzz::check(target, input).err().map(|message| (input.clone(), message)))
            .collect();
        let started = Instant::now();
        let mut pool = corpus.clone();
        let mut cases = 0u64;
        let mut signatures = std::collections::BTreeSet::new();
        let mut new_inputs: Vec<Vec<u8>> = Vec::new();
        let mut round = 0u64;
        loop {
            let chunk = match (options.cases, per_target) {
                (Some(total), _) => total.saturating_sub(cases).min(4096),
                (None, Some(_)) => 4096,
                (None, None) => 20_000u64.saturating_sub(cases).min(4096),
            };
            if chunk == 0 || per_target.is_some_and(|limit| started.elapsed() >= limit) {
                break;
            }
            let seed = options.seed.wrapping_mul(1_000_003).wrapping_add(round);
            let report = fuzz::run(target, seed, chunk, &pool, &signatures, |report| {
                let seconds = started.elapsed().as_secs_f64();
                let done = cases + report.cases;
                eprint!(
                    "\r{:<8} {:>9} cases  {:>7.0}/s  {:>4} behaviours  {:>3} findings  {:>6.0} s",
                    target.name(),
                    done,
                    done as f64 / seconds.max(1e-9),
                    signatures.len() + report.signatures.len(),
                    findings.len() + report.findings.len(),
                    seconds
                );
                let _ = std::io::stderr().flush();
            });
            cases += report.cases;
            for input in report.interesting {
                pool.push(input.clone());
                new_inputs.push(input);
            }
            signatures.extend(report.signatures);
            findings.extend(report.findings);
            round += 1;
            if per_target.is_some_and(|limit| started.elapsed() >= limit) {
                break;
            }
        }
        eprintln!();
        for (input, message) in &findings {
            eprintln!("{}: FINDING {}: {message}", target.name(), fuzz::file_name(input));
        }
        let found: Vec<Vec<u8>> = findings.iter().map(|(input, _)| input.clone()).collect();
        if let Err(error) = write_inputs(&out.join("findings").join(target.name()), &found) {
            eprintln!("fuzz: cannot save the findings: {error}");
        }
        let kept = if options.save { target.corpus_dir() } else { out.join("new").join(target.name()) };
        if let Err(error) = write_inputs(&kept, &new_inputs) {
            eprintln!("fuzz: cannot save the new inputs in {}: {error}", kept.display());
        }
        failed |= !findings.is_empty();
        rows.push(Row {
            target,
            cases,
            seconds: started.elapsed().as_secs_f64(),
            signatures: signatures.len(),
            new_inputs: new_inputs.len(),
            findings: findings.len(),
        });
    }
    println!("| target | cases | seconds | cases per second | behaviours seen | new inputs | findings |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {:.0} | {:.0} | {} | {} | {} |",
            row.target.name(),
            row.cases,
            row.seconds,
            row.cases as f64 / row.seconds.max(1e-9),
            row.signatures,
            row.new_inputs,
            row.findings
        );
    }
    if failed {
        eprintln!("fuzz: findings saved in {}", out.join("findings").display());
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
