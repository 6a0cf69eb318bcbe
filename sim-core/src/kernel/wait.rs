//! Wait queues, as Linux's `wait_queue_head`: who sleeps on an object, and whom a wake-up wakes.
//!
//! A sleeper is *exclusive* (it wants to be the only one woken, as `pipe_read` and `pipe_write` sleep
//! since Linux 5.5) or not (every non-exclusive sleeper wakes on every wake-up, as FIFO opens do).
//! `prepare_to_wait` puts a non-exclusive sleeper at the head of the queue and
//! `prepare_to_wait_exclusive` puts an exclusive one at the tail; `__wake_up_common` walks from the head,
//! waking every sleeper it meets and counting the exclusive ones, and stops once it has woken as many
//! exclusive sleepers as it was asked to (all of them when asked for 0). [`WaitQueue`] does the same.

use crate::trace::Pid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    pub pid: Pid,
    pub exclusive: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitQueue {
    waiters: Vec<Waiter>,
}

/// How many exclusive sleepers a wake-up wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// `wake_up`: every non-exclusive sleeper up to the first exclusive one, and that one.
    One,
    /// `wake_up_all`: everyone.
    All,
}

impl WaitQueue {
    /// Puts a sleeper on the queue (an exclusive one at the tail, another at the head).
    pub fn add(&mut self, pid: Pid, exclusive: bool) {
        let waiter = Waiter { pid, exclusive };
        if exclusive {
            self.waiters.push(waiter);
        } else {
            self.waiters.insert(0, waiter);
        }
    }

    /// Puts an exclusive sleeper at the head of the queue (`__add_wait_queue_exclusive`, as
    /// `epoll_wait` sleeps): the latest to sleep is the first a wake-up wakes.
    pub fn add_first_exclusive(&mut self, pid: Pid) {
        self.waiters.insert(0, Waiter { pid, exclusive: true });
    }

    /// Takes a sleeper off the queue (it died, stopped, or gave up its call).
    pub fn remove(&mut self, pid: Pid) {
        self.waiters.retain(|waiter| waiter.pid != pid);
    }

    pub fn contains(&self, pid: Pid) -> bool {
        self.waiters.iter().any(|waiter| waiter.pid == pid)
    }

    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    pub fn len(&self) -> usize {
        self.waiters.len()
    }

    /// The sleepers, in the order a wake-up would wake them.
    pub fn pids(&self) -> impl Iterator<Item = Pid> + '_ {
        self.waiters.iter().map(|waiter| waiter.pid)
    }

    /// Takes the sleeper off the queue when it is the only one: any wake-up wakes it (see
    /// [`WaitQueue::wake`]).
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn take_only(&mut self) -> Option<Pid> {
        if self.waiters.len() == 1 {
            self.waiters.pop().map(|waiter| waiter.pid)
        } else {
            None
        }
    }

    /// Takes off the queue the sleepers a wake-up wakes, in order, into `woken`.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn wake(&mut self, how: Wake, woken: &mut Vec<Pid>) {
        match (how, self.waiters.len()) {
            (_, 0) => {}
            // The usual case: one sleeper.
            (_, 1) => woken.push(self.waiters.pop().expect("one waiter").pid),
            (Wake::All, _) => {
                woken.extend(self.waiters.iter().map(|waiter| waiter.pid));
                self.waiters.clear();
            }
            (Wake::One, _) => {
                let cut =
                    self.waiters.iter().position(|waiter| waiter.exclusive).map_or(self.waiters.len(), |at| at + 1);
                woken.extend(self.waiters.drain(..cut).map(|waiter| waiter.pid));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_up_wakes_the_non_exclusive_sleepers_and_the_first_exclusive_one() {
        let mut queue = WaitQueue::default();
        queue.add(2, true);
        queue.add(3, true);
        queue.add(4, false);
        assert_eq!(queue.pids().collect::<Vec<_>>(), vec![4, 2, 3]);
        let mut woken = Vec::new();
        queue.wake(Wake::One, &mut woken);
        assert_eq!(woken, vec![4, 2]);
        assert_eq!(queue.pids().collect::<Vec<_>>(), vec![3]);
        queue.add(5, true);
        woken.clear();
        queue.wake(Wake::All, &mut woken);
        assert_eq!(woken, vec![3, 5]);
        assert!(queue.is_empty());
    }

    #[test]
    fn removing_a_sleeper_keeps_the_others_in_order() {
        let mut queue = WaitQueue::default();
        for pid in [2, 3, 4] {
            queue.add(pid, true);
        }
        queue.remove(3);
        assert!(!queue.contains(3));
        assert_eq!(queue.pids().collect::<Vec<_>>(), vec![2, 4]);
    }
}
