//! Runs the pipe ping-pong used by `ipclab bench` in the simulator only, for profiling.
//! `cargo run --release -p sim-core --example pingpong -- 1000000 [hashed|packed]`

fn main() {
    let mut args = std::env::args().skip(1);
    let messages: u32 = args.next().and_then(|text| text.parse().ok()).unwrap_or(1_000_000);
    let mode = args.next().unwrap_or_default();
    let keep_events = mode.is_empty();
    let pack_events = mode == "packed";
    let text = format!(
        "process parent {{\n ping = pipe\n pong = pipe\n fork child {{\n  repeat {messages} {{\n   read ping.r 4\n   write pong.w \"pong\"\n  }}\n }}\n repeat {messages} {{\n  write ping.w \"ping\"\n  read pong.r 4\n }}\n wait\n}}\n"
    );
    let scenario = sim_core::parse(&text).expect("the ping-pong scenario parses");
    let config = sim_core::RunConfig {
        keep_events,
        pack_events,
        check_invariants: false,
        max_steps: sim_core::Limits::DEFAULT.max_steps_ceiling,
        ..Default::default()
    };
    let mut simulation = sim_core::Simulation::new(&scenario, config).expect("compiles");
    let outcome = simulation.run().expect("runs").clone();
    println!(
        "{} steps, {} calls, {} events, outcome {}, hash {:016x}",
        simulation.steps(),
        simulation.kernel().calls_completed,
        simulation.trace().event_count(),
        outcome.name(),
        simulation.trace().hash()
    );
}
