//! Beside the scenarios that make a claim about speed (copies through a pipe against shared memory, a
//! large payload, TCP against Unix-domain sockets), a chart of what `ipclab bench real` measured for the
//! same exchange on a real machine: the model counts copies and calls, the chart shows what they cost.
//!
//! The figures are those of `docs/bench/real.json` (the run the README's "How fast" shows); a test
//! reads that file and fails if a figure here differs from it.

use yew::prelude::*;

/// One bar: a mechanism, at a size, in a placement, measured by a pattern.
pub struct Bar {
    pub label: &'static str,
    pub mechanism: &'static str,
    pub size: u32,
    /// `same` (both processes on one CPU) or `split` (on two).
    pub placement: &'static str,
    /// GB/s for a stream, µs for a round trip.
    pub value: f64,
}

pub struct Chart {
    pub stem: &'static str,
    pub title: &'static str,
    /// `stream` (bytes per second one way, higher is better) or `ping-pong` (µs a round trip, lower is
    /// better).
    pub pattern: &'static str,
    pub bars: &'static [Bar],
    pub note: &'static str,
}

const fn bar(label: &'static str, mechanism: &'static str, size: u32, placement: &'static str, value: f64) -> Bar {
    Bar { label, mechanism, size, placement, value }
}

pub const CHARTS: [Chart; 3] = [
    Chart {
        stem: "copies-pipe-vs-shm",
        title: "Measured: a stream one way, through a pipe and through a ring in shared memory",
        pattern: "stream",
        bars: &[
            bar("pipe, 4 KiB, one CPU", "pipe", 4096, "same", 3.79),
            bar("ring, 4 KiB, one CPU", "shm-ring", 4096, "same", 19.31),
            bar("pipe, 4 KiB, two CPUs", "pipe", 4096, "split", 2.83),
            bar("ring, 4 KiB, two CPUs", "shm-ring", 4096, "split", 13.96),
            bar("pipe, 1 MiB, one CPU", "pipe", 1 << 20, "same", 4.66),
            bar("ring, 1 MiB, one CPU", "shm-ring", 1 << 20, "same", 14.76),
            bar("pipe, 1 MiB, two CPUs", "pipe", 1 << 20, "split", 4.03),
            bar("ring, 1 MiB, two CPUs", "shm-ring", 1 << 20, "split", 15.55),
        ],
        note: "Every byte through the pipe is copied into the kernel and out again; the ring's bytes are written once and checked where they lie.",
    },
    Chart {
        stem: "large-payload-ring",
        title: "Measured: 32 KiB pieces one way, through a pipe, a slot guarded by semaphores, and a ring",
        pattern: "stream",
        bars: &[
            bar("pipe, one CPU", "pipe", 32768, "same", 6.68),
            bar("slot + semaphores, one CPU", "shm-sysv-sem", 32768, "same", 9.50),
            bar("ring, one CPU", "shm-ring", 32768, "same", 19.40),
            bar("pipe, two CPUs", "pipe", 32768, "split", 3.94),
            bar("slot + semaphores, two CPUs", "shm-sysv-sem", 32768, "split", 2.59),
            bar("ring, two CPUs", "shm-ring", 32768, "split", 17.28),
        ],
        note: "One slot with semaphores copies nothing through the kernel, but across two CPUs each piece waits for a wake-up; the ring keeps both sides busy.",
    },
    Chart {
        stem: "tcp-vs-unix",
        title: "Measured: a round trip through a Unix stream socket and through TCP on the loopback",
        pattern: "ping-pong",
        bars: &[
            bar("Unix, 64 B, one CPU", "unix-stream", 64, "same", 3.4),
            bar("TCP, 64 B, one CPU", "tcp", 64, "same", 5.1),
            bar("Unix, 64 B, two CPUs", "unix-stream", 64, "split", 8.8),
            bar("TCP, 64 B, two CPUs", "tcp", 64, "split", 12.6),
            bar("Unix, 64 KiB, one CPU", "unix-stream", 65536, "same", 15.0),
            bar("TCP, 64 KiB, one CPU", "tcp", 65536, "same", 19.1),
            bar("Unix, 64 KiB, two CPUs", "unix-stream", 65536, "split", 30.5),
            bar("TCP, 64 KiB, two CPUs", "tcp", 65536, "split", 37.5),
        ],
        note: "TCP runs every byte through its protocol even on one host; waking a process on the other CPU costs more than the difference between them.",
    },
];

/// The chart for the library scenario `stem`, if it has one.
pub fn chart(stem: &str) -> Html {
    let Some(chart) = CHARTS.iter().find(|chart| chart.stem == stem) else {
        return html! {};
    };
    let (unit, better) =
        if chart.pattern == "stream" { ("GB/s", "longer is faster") } else { ("µs", "shorter is faster") };
    // Integer arithmetic only: formatting floating-point numbers would add its code to the module.
    let hundredths = |value: f64| (value * 100.0).round() as u32;
    let most = chart.bars.iter().map(|bar| hundredths(bar.value)).max().unwrap_or(1).max(1);
    let (row, label_width, bar_room) = (22u32, 190u32, 150u32);
    let height = row * chart.bars.len() as u32 + 4;
    let rows = chart.bars.iter().enumerate().map(|(index, bar)| {
        let y = index as u32 * row + 2;
        let value = hundredths(bar.value);
        let width = (value * bar_room / most).max(1);
        let class = if bar.mechanism.starts_with("shm") || bar.mechanism == "unix-stream" { "bar fast" } else { "bar" };
        let shown = if chart.pattern == "stream" {
            format!("{}.{:02} {unit}", value / 100, value % 100)
        } else {
            let tenths = (value + 5) / 10;
            format!("{}.{} {unit}", tenths / 10, tenths % 10)
        };
        html! {
            <g>
                <text x={(label_width - 6).to_string()} y={(y + 15).to_string()} text-anchor="end" class="bar-label">{bar.label}</text>
                <rect class={class} x={label_width.to_string()} y={(y + 3).to_string()} width={width.to_string()} height="15" rx="2" />
                <text x={(label_width + width + 4).to_string()} y={(y + 15).to_string()} class="bar-value">{shown}</text>
            </g>
        }
    });
    html! {
        // Folded by default: the scenario's run keeps the room; a click opens the chart.
        <details class="measured" id="measured-chart">
            <summary id="measured-title">{chart.title}</summary>
            <svg viewBox={format!("0 0 420 {height}")} role="img" aria-label={format!("{} ({unit}, {better})", chart.title)}>
                { for rows }
            </svg>
            <p class="measured-note">
                {chart.note}
                {format!(" Medians, {better}; every byte checked. Measured by ipclab bench real on a 2-vCPU Intel Xeon virtual machine \
                           (Linux 6.18); run it on yours: ipclab bench real --mechanism {}.",
                          mechanisms(chart))}
            </p>
        </details>
    }
}

fn mechanisms(chart: &Chart) -> String {
    let mut names: Vec<&str> = Vec::new();
    for bar in chart.bars {
        if !names.contains(&bar.mechanism) {
            names.push(bar.mechanism);
        }
    }
    names.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every figure is the one `docs/bench/real.json` holds, to the digits shown; every chart belongs
    /// to a library scenario.
    #[test]
    fn the_figures_are_those_of_the_committed_run() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/bench/real.json");
        let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for chart in &CHARTS {
            assert!(crate::teach::catalog::entry(chart.stem).is_some(), "{} is in the library", chart.stem);
            for bar in chart.bars {
                let case = run["cases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|case| {
                        case["mechanism"] == bar.mechanism
                            && case["size"] == bar.size
                            && case["placement"] == bar.placement
                            && case["pattern"] == chart.pattern
                    })
                    .unwrap_or_else(|| panic!("{} is in the run", bar.label));
                let p50 = case["p50_ns"].as_f64().unwrap();
                let measured =
                    if chart.pattern == "stream" { bar.size as f64 / (p50 * 1e-9) / 1e9 } else { p50 / 1000.0 };
                // Shown to two decimals (GB/s) or one (µs): the figure is the measured one, rounded.
                let digit = if chart.pattern == "stream" { 0.01 } else { 0.1 };
                assert!(
                    (measured - bar.value).abs() <= digit / 2.0 + 1e-9,
                    "{}: {measured} shown as {}",
                    bar.label,
                    bar.value
                );
            }
        }
    }
}
