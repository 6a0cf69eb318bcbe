//! Lists the scenario library (`scenarios/*.ipc`) for the playground, and embeds it for the tests.
//!
//! `catalog.rs`, compiled into the page: each scenario's file stem, its title, and the length and
//! CRC-32 of its text. The page lists the library from it and recognises a library text (in a link, or
//! fetched from beside the page) by it; the texts themselves are served beside the page
//! (`dist/scenarios/`) and fetched when first opened, so they cost the bundle nothing.
//!
//! `library.rs`, for the tests only: every text, with its trace hash as the native build of sim-core
//! computes it, so that the WebAssembly tests can check that both builds give the same trace.

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
    let mut library = String::from(
        "/// Every scenario of the library: (file stem, text, native trace hash or `None` if it does not run).\n",
    );
    library.push_str("pub const LIBRARY: &[(&str, &str, Option<u64>)] = &[\n");
    let mut catalog = String::from(
        "/// Every scenario of the library, by file stem, with its title (empty when it has none) and the\n\
         /// length and CRC-32 of its text.\n",
    );
    catalog.push_str("pub const SCENARIOS: &[Listed] = &[\n");
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let parsed = sim_core::parse(&text).ok();
        let title = parsed.as_ref().and_then(|scenario| scenario.title.clone()).unwrap_or_default();
        let crc32 = sim_core::share::crc32(text.as_bytes());
        writeln!(
            catalog,
            "    Listed {{ stem: {stem:?}, title: {title:?}, length_bytes: {}, crc32: 0x{crc32:08x} }},",
            text.len()
        )
        .unwrap();
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
        writeln!(library, "    ({stem:?}, include_str!({:?}), {hash}),", absolute.display().to_string()).unwrap();
    }
    library.push_str("];\n");
    catalog.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).to_path_buf();
    for (name, code) in [("library.rs", library), ("catalog.rs", catalog)] {
        let file = out.join(name);
        std::fs::write(&file, code).unwrap_or_else(|error| panic!("cannot write {}: {error}", file.display()));
    }
}
