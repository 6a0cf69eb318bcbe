//! The workloads the benchmarks share: `ipclab bench` runs them natively and `cargo xtask web-bench`
//! through the JavaScript module in WebAssembly, so that their figures are of the same run.

/// The scenario the simulator runs: `messages` round trips of a 4-byte message each way.
pub fn ping_pong_scenario(messages: u32) -> String {
    format!(
        "title \"Pipe ping-pong\"\n\
         process parent {{\n\
         \x20 ping = pipe\n\
         \x20 pong = pipe\n\
         \x20 fork child {{\n\
         \x20   repeat {messages} {{\n\
         \x20     read ping.r 4\n\
         \x20     write pong.w \"pong\"\n\
         \x20   }}\n\
         \x20 }}\n\
         \x20 repeat {messages} {{\n\
         \x20   write ping.w \"ping\"\n\
         \x20   read pong.r 4\n\
         \x20 }}\n\
         \x20 wait\n\
         }}\n"
    )
}
