//! Embeds the scenario library (`scenarios/*.ipc`), each scenario's title and description, and the trace
//! hash of each scenario as the native build computes it, so that the WebAssembly tests can check that
//! both builds give the same trace.

use sim_core::{RunConfig, Simulation};
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let directory = Path::new(&manifest).join("..").join("scenarios");
    println!("cargo:rerun-if-changed={}", directory.display());
    let mut entries: Vec<_> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", directory.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "ipc"))
        .collect();
    entries.sort();
    let mut code = String::from(
        "/// Every scenario of the library: (file stem, text, native trace hash or `None` if it does not run).\n",
    );
    code.push_str("pub const LIBRARY: &[(&str, &str, Option<u64>)] = &[\n");
    let mut titles = String::from(
        "/// The title and description each library scenario gives itself, by file stem (empty when it has none).\n",
    );
    titles.push_str("pub const TITLES: &[(&str, &str, &str)] = &[\n");
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let parsed = sim_core::parse(&text).ok();
        let title = parsed.as_ref().and_then(|scenario| scenario.title.clone()).unwrap_or_default();
        let description = parsed.as_ref().and_then(|scenario| scenario.description.clone()).unwrap_or_default();
        writeln!(titles, "    ({stem:?}, {title:?}, {description:?}),").unwrap();
        // The hash is computed here, by the native build of sim-core, with the playground's default run.
        let hash = parsed.and_then(|scenario| {
            let mut simulation =
                Simulation::new(&scenario, RunConfig { check_invariants: false, ..RunConfig::default() }).ok()?;
            simulation.run().ok()?;
            Some(simulation.report()?.trace_hash)
        });
        let hash = match hash {
            Some(hash) => format!("Some(0x{hash:016x})"),
            None => "None".to_string(),
        };
        let absolute = path.canonicalize().expect("the file exists");
        writeln!(code, "    ({stem:?}, include_str!({:?}), {hash}),", absolute.display().to_string()).unwrap();
    }
    code.push_str("];\n");
    titles.push_str("];\n");
    code.push_str(&titles);
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("library.rs");
    std::fs::write(&out, code).unwrap_or_else(|error| panic!("cannot write {}: {error}", out.display()));
}
