//! The work of reading a scenario is linear in its text: checking names stops once enough errors are
//! reported, so erroneous lines past them cost no "did you mean" search. Measured by counting
//! allocations (each comparison of two names allocates), so the test needs no clock.
//!
//! Issue: a 360 KB file with 4,948 long names and 50 near-misses took 11 s to parse, and every
//! erroneous line past the 50 reported still cost a comparison with every name.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call goes to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A scenario binding `names` long descriptor names, then closing `misses` names one transposition
/// away from them.
fn near_misses(names: usize, misses: usize) -> String {
    let name = |index: usize| format!("descriptor_number_{index:05}_with_a_rather_long_name");
    let mut text = String::from("process main {\n");
    for index in 0..names {
        text.push_str(&format!("  {} = pipe\n", name(index)));
    }
    for miss in 0..misses {
        let typo = name((miss * 7919) % names).replace("rather", "rahter");
        text.push_str(&format!("  close {typo}.r\n"));
    }
    text.push_str("}\n");
    text
}

/// Tests count one at a time: the counter is global.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn allocations_to_parse(text: &str) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let _ = sim_core::parse(text);
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn erroneous_lines_past_the_reported_ones_cost_no_comparisons() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let names = 1_000;
    let reported = allocations_to_parse(&near_misses(names, 50));
    let many = allocations_to_parse(&near_misses(names, 550));
    let per_extra_line = (many - reported) / 500;
    // Parsing a line allocates a few times; comparing its name with 1,000 names would allocate three
    // times per comparison.
    assert!(per_extra_line < 50, "each erroneous line past the 50 reported costs {per_extra_line} allocations");
}
