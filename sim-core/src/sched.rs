//! The scheduler: the one place where a run makes choices.
//!
//! Every step asks [`Scheduler::choose`] which runnable process goes next, and the answer is recorded,
//! so any run can be replayed exactly from its list of choices. Random choices come from an in-crate
//! SplitMix64 generator seeded by the caller: no OS randomness, the same numbers on every platform.

use crate::trace::Pid;
use serde::{Deserialize, Serialize};

/// How the next process is picked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Policy {
    /// Each step goes to the next runnable process after the one that ran last, by pid, wrapping around.
    RoundRobin,
    /// Each step goes to a runnable process drawn from the seeded generator.
    Random,
    /// Each step goes to the pid at the head of the list; once the list runs out, round-robin.
    Choices { pids: Vec<Pid> },
}

impl Policy {
    pub fn name(&self) -> &'static str {
        match self {
            Policy::RoundRobin => "round-robin",
            Policy::Random => "random",
            Policy::Choices { .. } => "choices",
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood): small, fast, and fully determined by its seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut value = self.state;
        value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        value ^ (value >> 31)
    }

    /// A number in `0..bound` (Lemire's multiply-shift; `bound` must not be 0).
    pub fn below(&mut self, bound: u32) -> u32 {
        ((self.next_u64() as u128 * bound as u128) >> 64) as u32
    }
}

/// A choice that cannot be followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChoiceError {
    pub step: u64,
    pub wanted: Pid,
    pub runnable: Vec<Pid>,
}

/// The pid chosen at each step, one LEB128 varint each: a byte per step for pids below 128, a
/// quarter of what a list of `u32`s needs on the millions of steps of a long run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChoiceLog {
    bytes: Vec<u8>,
    len: u64,
}

impl ChoiceLog {
    #[inline]
    pub fn push(&mut self, pid: Pid) {
        let mut value = pid;
        while value >= 0x80 {
            self.bytes.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
        self.len += 1;
    }

    /// Bytes the log takes.
    pub fn size_bytes(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Steps recorded.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every choice, in order.
    pub fn iter(&self) -> impl Iterator<Item = Pid> + '_ {
        let mut position = 0;
        std::iter::from_fn(move || {
            let mut value: Pid = 0;
            let mut shift = 0;
            loop {
                let byte = *self.bytes.get(position)?;
                position += 1;
                value |= ((byte & 0x7f) as Pid) << shift;
                if byte & 0x80 == 0 {
                    return Some(value);
                }
                shift += 7;
            }
        })
    }

    pub fn to_vec(&self) -> Vec<Pid> {
        self.iter().collect()
    }
}

#[derive(Clone, Debug)]
pub struct Scheduler {
    pub policy: Policy,
    rng: SplitMix64,
    next_choice: usize,
    last: Option<Pid>,
    /// The pid chosen the step before `last`'s.
    before_last: Option<Pid>,
    /// The pid chosen at each step so far.
    pub taken: ChoiceLog,
}

impl Scheduler {
    pub fn new(policy: Policy, seed: u64) -> Scheduler {
        Scheduler {
            policy,
            rng: SplitMix64::new(seed),
            next_choice: 0,
            last: None,
            before_last: None,
            taken: ChoiceLog::default(),
        }
    }

    pub fn last(&self) -> Option<Pid> {
        self.last
    }

    /// The pid that ran the step before the latest one.
    pub fn before_last(&self) -> Option<Pid> {
        self.before_last
    }

    /// Picks from `runnable` (ascending, not empty) for step `step`.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn choose(&mut self, step: u64, runnable: &[Pid]) -> Result<Pid, Box<ChoiceError>> {
        // Two tests, not a `match` on the three kinds: that one first works out the kind from the list's
        // capacity (where the kinds without a list are kept) and then branches on it.
        let pid = if let Policy::Choices { pids } = &self.policy {
            match pids.get(self.next_choice) {
                Some(&wanted) => {
                    if !runnable.contains(&wanted) {
                        return Err(Box::new(ChoiceError { step, wanted, runnable: runnable.to_vec() }));
                    }
                    self.next_choice += 1;
                    wanted
                }
                None => self.round_robin(runnable),
            }
        } else if self.policy == Policy::Random {
            runnable[self.rng.below(runnable.len() as u32) as usize]
        } else {
            self.round_robin(runnable)
        };
        self.record(pid);
        Ok(pid)
    }

    /// Records a choice made from outside (a person playing the scheduler).
    pub fn record(&mut self, pid: Pid) {
        self.before_last = self.last;
        self.last = Some(pid);
        self.taken.push(pid);
    }

    fn round_robin(&self, runnable: &[Pid]) -> Pid {
        match self.last {
            Some(last) => runnable.iter().copied().find(|pid| *pid > last).unwrap_or(runnable[0]),
            None => runnable[0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_values() {
        // First outputs for seed 0 of Vigna's splitmix64.c.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn the_choice_log_gives_back_every_pid_small_or_large() {
        let pids = [1, 2, 127, 128, 300, 16_384, 2_000_000, u32::MAX, 3];
        let mut log = ChoiceLog::default();
        for pid in pids {
            log.push(pid);
        }
        assert_eq!(log.len(), pids.len() as u64);
        assert_eq!(log.to_vec(), pids);
        let mut small = ChoiceLog::default();
        for _ in 0..1000 {
            small.push(2);
        }
        assert_eq!(small.bytes.len(), 1000, "a pid below 128 takes one byte");
    }

    #[test]
    fn round_robin_rotates_and_wraps() {
        let mut scheduler = Scheduler::new(Policy::RoundRobin, 0);
        let picks: Vec<Pid> = (0..5).map(|step| scheduler.choose(step, &[2, 3, 5]).unwrap()).collect();
        assert_eq!(picks, vec![2, 3, 5, 2, 3]);
    }

    #[test]
    fn choices_are_followed_then_round_robin() {
        let mut scheduler = Scheduler::new(Policy::Choices { pids: vec![3, 3] }, 0);
        assert_eq!(scheduler.choose(1, &[2, 3]).unwrap(), 3);
        assert_eq!(scheduler.choose(2, &[2, 3]).unwrap(), 3);
        assert_eq!(scheduler.choose(3, &[2, 3]).unwrap(), 2);
        let mut bad = Scheduler::new(Policy::Choices { pids: vec![4] }, 0);
        assert_eq!(bad.choose(1, &[2, 3]), Err(Box::new(ChoiceError { step: 1, wanted: 4, runnable: vec![2, 3] })));
    }

    #[test]
    fn random_is_seeded() {
        let runnable = [2, 3, 4, 5];
        let draw = |seed| {
            let mut scheduler = Scheduler::new(Policy::Random, seed);
            (0..32).map(|step| scheduler.choose(step, &runnable).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
