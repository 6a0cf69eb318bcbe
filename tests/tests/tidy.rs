//! Tidy checks, run as ordinary tests: module docs everywhere, no debugging leftovers or skipped tests,
//! no I/O or nondeterminism in `sim-core`, every system call shown by a library scenario, and a
//! dependency graph whose arrows point inward.

use ipclab_tests::root;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.expect("readable entry").path();
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && name != "dist" && !name.starts_with('.') && name != "node_modules" {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn workspace_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for crate_dir in ["sim-core", "native-runner", "web", "tests", "xtask"] {
        rust_files(&root().join(crate_dir), &mut files);
    }
    files.sort();
    files
}

#[test]
fn every_rust_file_starts_with_module_documentation() {
    let missing: Vec<String> = workspace_rust_files()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a `//!` module comment:\n{}", missing.join("\n"));
}

#[test]
fn no_debugging_leftovers_stubs_or_skipped_tests() {
    // Built from pieces so that this file does not trip its own check.
    let banned =
        [["db", "g!("].concat(), ["to", "do!("].concat(), ["unimpl", "emented!("].concat(), ["#[ig", "nore"].concat()];
    let mut found = Vec::new();
    for path in workspace_rust_files() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            for pattern in &banned {
                if line.contains(pattern.as_str()) {
                    found.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn sim_core_does_no_io_and_has_no_hidden_nondeterminism() {
    // sim-core runs the same natively and in WebAssembly: no clock, files, threads, environment,
    // network, processes, printing, OS randomness, browser or Linux bindings, and no hash-ordered maps.
    let banned = [
        "HashMap",
        "HashSet",
        "FxHashMap",
        "FxHashSet",
        "std::time",
        "Instant::",
        "SystemTime",
        "std::fs",
        "std::thread",
        "std::env",
        "std::net",
        "std::process",
        "println!",
        "eprintln!",
        "print!(",
        "wasm_bindgen",
        "web_sys",
        "nix::",
        "libc::",
        "rand::",
        "getrandom",
        "std::io",
    ];
    let mut files = Vec::new();
    rust_files(&root().join("sim-core").join("src"), &mut files);
    let mut found = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        // Unit tests (a `#[cfg(test)]` module at the end of a file) may read the repository.
        for (number, line) in text.lines().enumerate().take_while(|(_, line)| line.trim() != "#[cfg(test)]") {
            let code = line.split("//").next().unwrap_or("");
            for pattern in banned {
                // The explorer's `Lookup` wraps a hash map that offers no iteration: the one hash map.
                let lookup = path.ends_with("explore.rs")
                    && pattern == "FxHashMap"
                    && ["struct Lookup<V>(rustc_hash::FxHashMap<Key, V>);", "Lookup(rustc_hash::FxHashMap::default())"]
                        .iter()
                        .any(|wrapper| code.trim() == *wrapper);
                if lookup {
                    continue;
                }
                // A whole word only: `Operand::` is not `rand::`.
                let whole_word = code
                    .match_indices(pattern)
                    .any(|(at, _)| !code[..at].ends_with(|before: char| before.is_alphanumeric() || before == '_'));
                if whole_word {
                    found.push(format!("{}:{}: uses {pattern}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn every_system_call_is_shown_by_a_library_scenario() {
    // Read from the syntax trees, so a call's name in a comment or a string does not count.
    let mut used = std::collections::BTreeSet::new();
    for path in ipclab_tests::library() {
        let scenario = sim_core::parse(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|errors| panic!("{}: {:?}", path.display(), errors[0]));
        used.extend(ipclab_tests::calls_used(&scenario));
    }
    let missing: Vec<&str> =
        sim_core::lang::syscalls::CALLS.iter().filter(|spec| !used.contains(&spec.id)).map(|spec| spec.name).collect();
    assert!(missing.is_empty(), "no library scenario uses: {}", missing.join(", "));
}

#[test]
fn the_language_reference_lists_exactly_the_calls_of_the_table() {
    // The call table of docs/scenario-language.md is generated from the table of system calls
    // (`cargo xtask docs` writes it between its markers); this checks it was.
    let docs = std::fs::read_to_string(root().join("docs").join("scenario-language.md")).unwrap();
    let begin = "<!-- calls: generated by `cargo xtask docs` from sim-core/src/lang/syscalls.rs -->\n";
    let end = "<!-- end of calls -->";
    let start = docs.find(begin).expect("the reference has the start marker of the call table") + begin.len();
    let stop = docs[start..].find(end).expect("the reference has the end marker of the call table") + start;
    let generated = sim_core::lang::syscalls::reference_table();
    assert_eq!(&docs[start..stop], generated, "the call table is out of date: run `cargo xtask docs`");
}

#[test]
fn sim_core_depends_on_nothing_with_io() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = std::process::Command::new(cargo)
        .current_dir(root())
        .args(["tree", "-p", "sim-core", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    // `rustc-hash`: a fixed, seedless hasher for the explorer's lookup-only maps (no I/O, no randomness).
    let allowed = [
        "sim-core",
        "serde",
        "serde_core",
        "serde_derive",
        "proc-macro2",
        "quote",
        "syn",
        "unicode-ident",
        "rustc-hash",
    ];
    let tree = String::from_utf8_lossy(&output.stdout);
    let mut names: Vec<&str> = tree.lines().filter_map(|line| line.split_whitespace().next()).collect();
    names.sort();
    names.dedup();
    assert!(names.contains(&"sim-core"), "cargo tree printed nothing useful:\n{tree}");
    let unexpected: Vec<&&str> = names.iter().filter(|name| !allowed.contains(name)).collect();
    assert!(unexpected.is_empty(), "sim-core depends on {unexpected:?}; it may only use {allowed:?}");
}

#[test]
fn web_and_native_runner_reach_the_kernel_only_through_sim_core() {
    // Arrows point inward: web -> sim-core <- native-runner, and sim-core points at neither.
    let manifest = std::fs::read_to_string(root().join("sim-core").join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("native-runner") && !manifest.contains("web"), "sim-core must not depend on its users");
    for user in ["web", "native-runner"] {
        let manifest = std::fs::read_to_string(root().join(user).join("Cargo.toml")).unwrap();
        assert!(manifest.contains("sim-core"), "{user} should use sim-core");
    }
}

#[test]
fn the_workspace_is_formatted() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = std::process::Command::new(cargo)
        .current_dir(root())
        .args(["fmt", "--all", "--", "--check"])
        .output()
        .expect("cargo fmt runs");
    assert!(
        output.status.success(),
        "run `cargo fmt --all`:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
