//! The scenario library as the picker shows it: "Learn" first, in teaching order, then "Linux rules".
//!
//! The teaching order follows the mechanisms from the simplest to the subtler: anonymous pipes (a
//! parent and a child, the shell's `|`, a stream without message boundaries, reading until end of
//! file, an end of file that never comes, a full pipe, atomic writes, non-blocking ends, a pipe nobody
//! reads), then named pipes, then processes and signals (zombies, pids and process groups, stopping
//! and continuing, a signal to a whole group, Ctrl-C, a crash), then signal handlers (masks and
//! pending signals, values, waiting for a signal, SIGCHLD done right and wrong), then time (an alarm
//! as a timeout, timed waits, a graceful shutdown), then message queues (typed messages, a server
//! answering by pid, a queue that outlives its creator, removal waking a receiver, POSIX priorities
//! and notification) and semaphores (a resource for three users, a mutex and the same section without
//! one, producer and consumer and their classic deadlock, two semaphores taken in one atomic semop, an
//! undo after a kill, a check-then-act race that leaves the objects behind), then shared memory (one frame in two address spaces, a lost update and its
//! two cures, what a pipe copies and shared memory does not, a fault on a read-only attach, removal at the last detach, copy-on-write after fork).
//! Scenarios whose names start with `probe-` pin one subtle Linux rule each and go
//! under "Linux rules"; every other one has its place here (a test checks it), and one that had none
//! would still join "Learn", after the listed ones.
//!
//! The page knows each scenario's stem and title, and its text's length and CRC-32 (`build.rs` lists
//! them); the texts are served beside the page and fetched when first opened (see
//! [`crate::state::SCENARIO_DIRECTORY`]).

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// One scenario of the library as the page knows it before fetching its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listed {
    pub stem: &'static str,
    pub title: &'static str,
    pub length_bytes: usize,
    pub crc32: u32,
}

/// The two groups of the library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Learn,
    LinuxRules,
}

impl Group {
    pub fn label(self) -> &'static str {
        match self {
            Group::Learn => "Learn",
            Group::LinuxRules => "Linux rules",
        }
    }
}

/// One library scenario, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub stem: &'static str,
    pub title: &'static str,
    pub group: Group,
    /// The mechanism it belongs to ("Pipes", "Named pipes (FIFOs)", ...); empty when unknown.
    pub section: &'static str,
    /// Its place within its group, from 1.
    pub number: usize,
}

/// The teaching order of "Learn", with each scenario's section.
pub const LEARN_ORDER: &[(&str, &str)] = &[
    ("pipe-parent-child", "Pipes"),
    ("shell-pipeline", "Pipes"),
    ("pipes-are-streams", "Pipes"),
    ("read-until-eof", "Pipes"),
    ("eof-never-comes", "Pipes"),
    ("pipe-full-blocks-writer", "Pipes"),
    ("pipe-buf-atomicity", "Pipes"),
    ("nonblocking-pipe", "Pipes"),
    ("sigpipe-no-reader", "Pipes"),
    ("fifo-unrelated", "Named pipes (FIFOs)"),
    ("fifo-open-before-mkfifo", "Named pipes (FIFOs)"),
    ("wait-and-zombie", "Processes and signals"),
    ("process-identity", "Processes and signals"),
    ("stop-continue-kill", "Processes and signals"),
    ("signals-to-groups", "Processes and signals"),
    ("ctrl-c", "Processes and signals"),
    ("segfault-by-kill", "Processes and signals"),
    ("core-dumps", "Processes and signals"),
    ("blocked-signals-wait", "Signal handlers"),
    ("signals-carry-values", "Signal handlers"),
    ("waiting-for-signals", "Signal handlers"),
    ("sigchld-handler-reaps", "Signal handlers"),
    ("sigchld-lost-child", "Signal handlers"),
    ("alarm-timeout", "Time"),
    ("timed-waits", "Time"),
    ("graceful-shutdown", "Time"),
    ("msg-typed-messages", "Message queues"),
    ("msg-server-by-pid", "Message queues"),
    ("msg-outlives-creator", "Message queues"),
    ("msg-rmid-wakes-receiver", "Message queues"),
    ("mq-priorities", "Message queues"),
    ("mq-notify", "Message queues"),
    ("sem-three-users", "Semaphores"),
    ("sem-mutex", "Semaphores"),
    ("sem-no-mutex", "Semaphores"),
    ("sem-producer-consumer", "Semaphores"),
    ("sem-producer-consumer-deadlock", "Semaphores"),
    ("sem-bounded-buffer", "Semaphores"),
    ("sem-atomic-pairs", "Semaphores"),
    ("sem-undo-after-kill", "Semaphores"),
    ("sem-last-one-out", "Semaphores"),
    ("ipc-timeouts", "Semaphores"),
    ("shm-one-frame", "Shared memory"),
    ("copies-pipe-vs-shm", "Shared memory"),
    ("shm-lost-update", "Shared memory"),
    ("shm-counter-sem", "Shared memory"),
    ("shm-counter-atomic", "Shared memory"),
    ("futex-mutex", "Shared memory"),
    ("unnamed-sem-ring", "Shared memory"),
    ("large-payload-ring", "Shared memory"),
    ("shm-readonly-segv", "Shared memory"),
    ("shm-rmid-last-detach", "Shared memory"),
    ("mmap-private-cow", "Shared memory"),
    ("posix-shm-unrelated", "Shared memory"),
    ("socketpair-echo", "Sockets"),
    ("socket-boundaries", "Sockets"),
    ("socket-echo-server", "Sockets"),
    ("tcp-vs-unix", "Sockets"),
    ("tcp-reset-on-unread", "Sockets"),
    ("tcp-time-wait-restart", "Sockets"),
    ("tcp-full-backlog", "Sockets"),
    ("udp-echo", "Sockets"),
    ("socket-abstract-name", "Sockets"),
    ("socket-datagram-server", "Sockets"),
    ("socket-type-flags", "Sockets"),
    ("socket-buffer-size", "Sockets"),
    ("scm-rights-pipe-handoff", "Sockets"),
    ("socket-credentials", "Sockets"),
    ("poll-three-clients", "Sockets"),
    ("select-silent-worker", "Sockets"),
    ("epoll-socket-server", "Sockets"),
    ("epoll-edge-triggered", "Sockets"),
];

fn title_of(stem: &str) -> &'static str {
    SCENARIOS.iter().find(|listed| listed.stem == stem).map_or("", |listed| listed.title)
}

/// The whole library in the picker's order: "Learn" in teaching order, then "Linux rules".
pub fn entries() -> Vec<Entry> {
    let mut learn: Vec<(&'static str, &'static str)> =
        LEARN_ORDER.iter().filter(|(stem, _)| SCENARIOS.iter().any(|listed| listed.stem == *stem)).copied().collect();
    let mut rules: Vec<&'static str> = Vec::new();
    for Listed { stem, .. } in SCENARIOS {
        if LEARN_ORDER.iter().any(|(listed, _)| listed == stem) {
            continue;
        }
        if stem.starts_with("probe-") {
            rules.push(stem);
        } else {
            learn.push((stem, ""));
        }
    }
    let mut entries = Vec::new();
    for (index, (stem, section)) in learn.into_iter().enumerate() {
        entries.push(Entry { stem, title: title_of(stem), group: Group::Learn, section, number: index + 1 });
    }
    for (index, stem) in rules.into_iter().enumerate() {
        let title = title_of(stem);
        let title = title.strip_prefix("Probe: ").unwrap_or(title);
        entries.push(Entry { stem, title, group: Group::LinuxRules, section: "", number: index + 1 });
    }
    entries
}

/// The entry for a library scenario, by file stem.
pub fn entry(stem: &str) -> Option<Entry> {
    entries().into_iter().find(|entry| entry.stem == stem)
}

/// The library's own `'static` stem for `name`, if the library has a scenario of that name.
pub fn stem(name: &str) -> Option<&'static str> {
    SCENARIOS.iter().find(|listed| listed.stem == name).map(|listed| listed.stem)
}

/// Whether `text` is the text of the library scenario `stem` (the same length and CRC-32).
pub fn is_text_of(stem: &str, text: &str) -> bool {
    SCENARIOS.iter().any(|listed| {
        listed.stem == stem
            && listed.length_bytes == text.len()
            && listed.crc32 == sim_core::share::crc32(text.as_bytes())
    })
}

/// The library scenario whose text `text` is, if any (recognised by its length and CRC-32).
pub fn stem_of(text: &str) -> Option<&'static str> {
    let crc32 = sim_core::share::crc32(text.as_bytes());
    SCENARIOS.iter().find(|listed| listed.length_bytes == text.len() && listed.crc32 == crc32).map(|listed| listed.stem)
}

/// The text of a library scenario, by file stem, as the tests have it (the page fetches it instead).
#[cfg(test)]
pub fn text(stem: &str) -> Option<&'static str> {
    crate::library::LIBRARY.iter().find(|(candidate, _, _)| *candidate == stem).map(|(_, text, _)| *text)
}

/// How many entries each group has.
pub fn group_size(group: Group) -> usize {
    entries().iter().filter(|entry| entry.group == group).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::LIBRARY;

    #[test]
    fn every_library_scenario_is_listed_once_learn_first() {
        let entries = entries();
        assert_eq!(entries.len(), LIBRARY.len());
        let first_rule = entries.iter().position(|entry| entry.group == Group::LinuxRules).unwrap_or(entries.len());
        assert!(entries[..first_rule].iter().all(|entry| entry.group == Group::Learn));
        assert!(entries[first_rule..].iter().all(|entry| entry.group == Group::LinuxRules));
        assert!(entries.iter().all(|entry| (entry.group == Group::LinuxRules) == entry.stem.starts_with("probe-")));
        assert_eq!(entries[0].stem, "pipe-parent-child", "the first lesson is the simplest pipe");
    }

    #[test]
    fn every_entry_has_a_title_and_a_description_and_probes_lose_their_prefix() {
        for entry in entries() {
            assert!(!entry.title.is_empty(), "{} has no title", entry.stem);
            assert!(!entry.title.starts_with("Probe:"), "{}", entry.title);
            let scenario = sim_core::parse(text(entry.stem).unwrap()).unwrap();
            assert!(scenario.description.is_some_and(|description| !description.is_empty()), "{}", entry.stem);
        }
    }

    #[test]
    fn every_library_text_is_recognised_and_no_other() {
        for (stem, text, _) in LIBRARY {
            assert!(is_text_of(stem, text), "{stem}");
            assert_eq!(stem_of(text), Some(*stem));
            let edited = format!("{text}# a note\n");
            assert!(!is_text_of(stem, &edited), "{stem}");
            assert_eq!(stem_of(&edited), None);
        }
        assert_eq!(stem("pipe-parent-child"), Some("pipe-parent-child"));
        assert_eq!(stem("no-such-scenario"), None);
    }

    #[test]
    fn every_lesson_outside_the_probes_has_a_place_in_the_teaching_order() {
        for (stem, _, _) in LIBRARY {
            let listed = LEARN_ORDER.iter().any(|(listed, _)| listed == stem);
            assert_eq!(listed, !stem.starts_with("probe-"), "{stem}: a lesson needs a place and a section");
        }
    }

    #[test]
    fn the_teaching_order_names_only_library_scenarios() {
        for (stem, section) in LEARN_ORDER {
            assert!(text(stem).is_some(), "{stem} is not in scenarios/");
            assert!(!section.is_empty());
        }
    }
}
