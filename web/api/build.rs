//! Embeds the scenario library for the tests: every text with the trace hash its golden trace records
//! (`scenarios/NAME.trace`, whose last line `ipclab sim` and the native tests agree on), so that the
//! WebAssembly tests can check that the module gives every scenario the native hash.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let directory = Path::new(&manifest).join("..").join("..").join("scenarios");
    println!("cargo:rerun-if-changed={}", directory.display());
    let mut entries: Vec<_> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", directory.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "ipc"))
        .collect();
    entries.sort();
    let mut library =
        String::from("/// Every library scenario: (file stem, text, the hash its golden trace records).\n");
    library.push_str("pub const LIBRARY: &[(&str, &str, &str)] = &[\n");
    for path in entries {
        let golden = path.with_extension("trace");
        println!("cargo:rerun-if-changed={}", path.display());
        println!("cargo:rerun-if-changed={}", golden.display());
        let stem = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        let trace = std::fs::read_to_string(&golden)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", golden.display()));
        let hash = trace
            .lines()
            .rev()
            .find_map(|line| line.rsplit_once("trace hash: ").map(|(_, hash)| hash.trim().to_string()))
            .unwrap_or_else(|| panic!("{} has no trace hash line", golden.display()));
        let absolute = path.canonicalize().expect("the file exists");
        writeln!(library, "    ({stem:?}, include_str!({:?}), {hash:?}),", absolute.display().to_string()).unwrap();
    }
    library.push_str("];\n");
    let file = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("library.rs");
    std::fs::write(&file, library).unwrap_or_else(|error| panic!("cannot write {}: {error}", file.display()));
}
