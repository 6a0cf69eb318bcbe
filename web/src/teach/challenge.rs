//! Challenges for the scheduler game: a small program that works under the round-robin scheduler, and a
//! goal that only a chosen interleaving reaches ("make the reader wait forever").
//!
//! The visitor plays the scheduler with the Pick buttons; the simulator decides whether the goal
//! happened, by reading the run's events and outcome ([`crate::facts::goal_step`]). Each program lives
//! in `web/challenges/` and states what its author believed with expectations that hold under
//! round-robin; a win that breaks one of those beliefs shows as a failed verdict: the visitor broke it.

use crate::facts::Goal;

/// One challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Stable name, used in storage.
    pub id: &'static str,
    pub title: &'static str,
    /// What to make happen, in one line.
    pub goal_text: &'static str,
    pub hint: &'static str,
    /// What the win means, shown when it happens.
    pub win_text: &'static str,
    pub scenario: &'static str,
    pub goal: Goal,
}

/// Every challenge, easiest first.
pub const CHALLENGES: &[Challenge] = &[
    Challenge {
        id: "one-read-two-writes",
        title: "Two words, one read",
        goal_text: "Make a single read return \"pingpong\".",
        hint:
            "A read takes whatever the pipe holds, up to its count. Let the parent write twice before the reader runs.",
        win_text: "You broke it: one read returned both words. A pipe keeps no boundaries between writes, so a \
                   reader that expects one message per read is wrong on some schedules.",
        scenario: include_str!("../../challenges/one-read-two-writes.ipc"),
        goal: Goal::ReadGets { process: "reader", bytes: "pingpong" },
    },
    Challenge {
        id: "sigpipe-race",
        title: "The last write",
        goal_text: "Make the writer die of SIGPIPE.",
        hint: "After the first write, let the reader read and close its read end before the writer writes again.",
        win_text: "You broke it: the second write found no read end open, so the kernel sent SIGPIPE, and its \
                   default action killed the writer.",
        scenario: include_str!("../../challenges/sigpipe-race.ipc"),
        goal: Goal::KilledBy { process: "writer", signal: "SIGPIPE" },
    },
    Challenge {
        id: "writer-sleeps",
        title: "A full pipe",
        goal_text: "Make the writer sleep on a full pipe.",
        hint: "Keep picking the writer after its first write, before the reader has taken anything out.",
        win_text: "Done: the pipe held a whole page, so the second page had no room and the writer went to \
                   sleep until the reader made some. Nothing broke: a full pipe slows a writer down, it does not \
                   lose data.",
        scenario: include_str!("../../challenges/writer-sleeps.ipc"),
        goal: Goal::SleepsOnFullPipe { process: "writer" },
    },
    Challenge {
        id: "reader-waits-forever",
        title: "Forever",
        goal_text: "Make the reader wait forever.",
        hint: "Once both children exist, run the parent until its kill has happened, before the writer writes.",
        win_text: "You broke it: the writer died without writing, but the parent still holds a write end while it \
                   waits for the reader, so the reader never sees data or end of file. Nobody can move.",
        scenario: include_str!("../../challenges/reader-waits-forever.ipc"),
        goal: Goal::WaitsForever { process: "reader" },
    },
];

/// The challenge whose program is exactly `text`, if any.
pub fn by_text(text: &str) -> Option<usize> {
    CHALLENGES.iter().position(|challenge| challenge.scenario == text)
}

/// The challenge with this id, if any.
pub fn by_id(id: &str) -> Option<usize> {
    CHALLENGES.iter().position(|challenge| challenge.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, RunSetup};
    use crate::facts::goal_step;
    use sim_core::{Pid, Policy};

    fn engine(text: &str, forced: Vec<Pid>) -> Engine {
        Engine::build(RunSetup { source: text.to_string(), seed: 0, policy: Policy::RoundRobin, forced })
            .expect("the challenge runs")
    }

    /// Plays the scheduler as a visitor would, breadth first: every choice of the next process after the
    /// choices so far, with the round-robin scheduler finishing each run. Returns the shortest list of
    /// choices that wins, looking at no more than `budget` runs.
    fn search(challenge: &Challenge, budget: usize) -> Option<Vec<Pid>> {
        let mut queue = std::collections::VecDeque::from([Vec::new()]);
        let mut runs = 0;
        while let Some(forced) = queue.pop_front() {
            runs += 1;
            if runs > budget {
                return None;
            }
            let mut run = engine(challenge.scenario, forced.clone());
            if goal_step(&run, challenge.goal).is_some() {
                return Some(forced);
            }
            if forced.len() as u64 >= run.total_steps() {
                continue;
            }
            run.goto(forced.len() as u64);
            for pid in run.runnable() {
                let mut next = forced.clone();
                next.push(pid);
                queue.push_back(next);
            }
        }
        None
    }

    #[test]
    fn no_challenge_is_won_by_the_default_scheduler_and_every_one_can_be_won() {
        for challenge in CHALLENGES {
            let default = engine(challenge.scenario, Vec::new());
            assert!(default.error.is_none(), "{}: {:?}", challenge.id, default.error);
            assert_eq!(goal_step(&default, challenge.goal), None, "{} is won without playing", challenge.id);
            assert!(
                crate::facts::failures(&default).is_empty(),
                "{}: its program works under round-robin",
                challenge.id
            );
            let winning = search(challenge, 20_000).unwrap_or_else(|| panic!("{} cannot be won", challenge.id));
            let won = engine(challenge.scenario, winning.clone());
            let step = goal_step(&won, challenge.goal).expect("the found schedule wins");
            assert!(step <= won.total_steps());
            // "You broke it" only when the win makes an expectation of the program fail.
            let broke = !crate::facts::failures(&won).is_empty();
            assert_eq!(broke, challenge.win_text.starts_with("You broke it"), "{}", challenge.id);
        }
    }

    #[test]
    fn challenges_are_found_by_text_and_id() {
        for (index, challenge) in CHALLENGES.iter().enumerate() {
            assert_eq!(by_text(challenge.scenario), Some(index));
            assert_eq!(by_id(challenge.id), Some(index));
            assert!(sim_core::parse(challenge.scenario).is_ok(), "{} parses", challenge.id);
        }
        assert_eq!(by_text("process a {\n}\n"), None);
    }
}
