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
                if code.contains(pattern) {
                    found.push(format!("{}:{}: uses {pattern}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn every_system_call_is_shown_by_a_library_scenario() {
    let mut text = String::new();
    for path in ipclab_tests::library() {
        text.push_str(&std::fs::read_to_string(path).unwrap());
        text.push('\n');
    }
    let words: std::collections::BTreeSet<&str> =
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|word| !word.is_empty()).collect();
    let calls = sim_core::program::SYSTEM_CALLS;
    let missing: Vec<&str> = calls.iter().copied().filter(|call| !words.contains(call)).collect();
    assert!(missing.is_empty(), "no library scenario uses: {}", missing.join(", "));
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
    let allowed = ["sim-core", "serde", "serde_core", "serde_derive", "proc-macro2", "quote", "syn", "unicode-ident"];
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
