//! What a playground run holds in memory, measured natively with a counting allocator: the engine's
//! checkpoints and the runs behind share links stay within the budgets ARCHITECTURE.md states, whatever
//! the numbers written in the scenario.

use sim_core::share::{self, SharedRun};
use sim_core::Policy;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use web::engine::{Engine, RunSetup};

/// The system allocator, counting the bytes held now and the most held since the last reset.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let held = HELD.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(held, Ordering::Relaxed);
}

// SAFETY: every call goes to the system allocator with the caller's arguments; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Tests measure one at a time: a peak is only meaningful with nothing else allocating.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `work` and returns its result and the most bytes it held at once beyond what was held before.
fn peak_during<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let base = HELD.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = work();
    (result, PEAK.load(Ordering::Relaxed) - base)
}

const MIB: usize = 1 << 20;

/// Issue: each checkpoint copied every pipe's contents, so 63 pipes grown to 1 MiB and filled, then a
/// loop of yields, reached 5 GB by step 10,000. Checkpoints now share the pages of the pipes.
#[test]
fn checkpoints_share_pipe_pages_instead_of_copying_them() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let source = "process main {\n  repeat 63 {\n    p = pipe\n    fcntl p.w F_SETPIPE_SZ 1048576\n    write p.w 1048576 bytes\n  }\n  repeat 10000 {\n    sched_yield\n  }\n}\n";
    let setup = RunSetup { source: source.to_string(), seed: 0, policy: Policy::RoundRobin, forced: Vec::new() };
    let (engine, peak) = peak_during(|| {
        let mut engine = Engine::build(setup).expect("the scenario compiles");
        // Stepping back and jumping restore checkpoints into the cursor: they share pages too.
        for target in [10_190, 5_000, 200, 9_000, 0, 10_190] {
            engine.goto(target);
        }
        engine
    });
    assert_eq!(engine.total_steps(), 10_190);
    assert!(engine.checkpoint_count() > 50, "{} checkpoints", engine.checkpoint_count());
    // The pipes hold 63 MiB; the reference run and the cursor each have their own pages (the
    // reference's are shared by every checkpoint), and the events of 10,190 steps take a few MiB.
    assert!(peak < 160 * MIB, "the run held {} MiB at its peak", peak / MIB);
}

/// Issue: write payloads were built whole at compile time, so a share link of a scenario that writes
/// 16 MiB 64 times after `exit 0` cost 1 GB to open. Payloads are now made only as far as a copy needs.
#[test]
fn a_link_to_huge_writes_that_never_run_costs_nothing() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut scenario = String::from("process main {\n  exit 0\n");
    for _ in 0..64 {
        scenario.push_str("  write stdout 16777216 bytes\n");
    }
    scenario.push_str("}\n");
    let link = share::encode(&SharedRun { scenario, seed: 0, policy: Policy::RoundRobin, forced: Vec::new(), step: 1 });
    let (engine, peak) = peak_during(|| {
        let run = share::decode(&link).expect("the link decodes");
        run.start().expect("the link's run starts");
        Engine::from_link(&run).expect("the engine opens the link")
    });
    assert_eq!(engine.position(), 1);
    assert!(peak < 4 * MIB, "opening the link held {} KiB at its peak", peak / 1024);
}

/// A loop of 16 MiB writes into a non-blocking pipe, to the playground's default step limit: each step
/// copies at most the pipe's free room (the first fills it, the rest fail with `EAGAIN`), and neither
/// the run nor showing its steps makes a payload whole.
#[test]
fn a_loop_of_huge_writes_copies_and_shows_only_what_fits() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let source = "process main {\n  p = pipe2 O_NONBLOCK\n  repeat 10000000 {\n    write p.w 16777216 bytes\n  }\n}\n";
    let setup = RunSetup { source: source.to_string(), seed: 0, policy: Policy::RoundRobin, forced: Vec::new() };
    let ((total, sentences), peak) = peak_during(|| {
        let mut engine = Engine::build(setup).expect("the scenario compiles");
        let mut sentences = Vec::new();
        for target in [1, 2, 3, 500, 99_999] {
            engine.goto(target);
            sentences.push(engine.story().sentence);
        }
        (engine.total_steps(), sentences)
    });
    assert_eq!(total, 100_000, "the run goes on to the step limit");
    assert!(sentences.iter().all(|sentence| !sentence.is_empty()));
    assert!(sentences[2].contains("EAGAIN"), "{}", sentences[2]);
    assert!(peak < 48 * MIB, "100,000 steps of 16 MiB writes held {} MiB at their peak", peak / MIB);
}
