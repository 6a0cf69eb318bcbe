//! Predict, then reveal: before a read, write, open or wait runs, the visitor says what it will do.
//!
//! The answer comes from the run itself ([`facts::step_call`]): the choices offered depend only on the
//! kind of call, never on what it does, so the question gives nothing away. Answers are kept per step,
//! so stepping back and forward again shows the earlier answer instead of asking twice, and the score
//! counts each question once.

use crate::facts::{Asked, Happened};

/// One answer a visitor can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Data,
    EndOfFile,
    WroteAll,
    WrotePart,
    Opened,
    Reported,
    NothingYet,
    Blocks,
    Fails,
    Killed,
}

impl Choice {
    /// The words on the answer's button.
    pub fn label(self) -> &'static str {
        match self {
            Choice::Data => "It returns data",
            Choice::EndOfFile => "It returns 0: end of file",
            Choice::WroteAll => "It writes every byte",
            Choice::WrotePart => "It writes only some of the bytes",
            Choice::Opened => "It opens at once",
            Choice::Reported => "It reports a child",
            Choice::NothingYet => "It returns at once, with nothing to report",
            Choice::Blocks => "It blocks: the process sleeps",
            Choice::Fails => "It fails with an error",
            Choice::Killed => "The process is killed by a signal",
        }
    }

    fn matches(self, happened: &Happened) -> bool {
        matches!(
            (self, happened),
            (Choice::Data, Happened::Data)
                | (Choice::EndOfFile, Happened::EndOfFile)
                | (Choice::WroteAll, Happened::WroteAll)
                | (Choice::WrotePart, Happened::WrotePart)
                | (Choice::Opened, Happened::Opened)
                | (Choice::Reported, Happened::Reported)
                | (Choice::NothingYet, Happened::NothingYet)
                | (Choice::Blocks, Happened::Blocks)
                | (Choice::Fails, Happened::Fails(_))
                | (Choice::Killed, Happened::Killed(_))
        )
    }
}

/// The answers offered for a kind of call, in the order shown (keys 1, 2, 3, ...).
pub fn choices(asked: Asked) -> &'static [Choice] {
    match asked {
        Asked::Read => &[Choice::Data, Choice::EndOfFile, Choice::Blocks, Choice::Fails],
        Asked::Write => &[Choice::WroteAll, Choice::WrotePart, Choice::Blocks, Choice::Fails, Choice::Killed],
        Asked::Open => &[Choice::Opened, Choice::Blocks, Choice::Fails],
        Asked::Wait => &[Choice::Reported, Choice::NothingYet, Choice::Blocks, Choice::Fails],
    }
}

/// The index of the right answer among [`choices`].
pub fn right_choice(asked: Asked, happened: &Happened) -> Option<usize> {
    choices(asked).iter().position(|choice| choice.matches(happened))
}

/// What happened, as one short sentence.
pub fn answer_words(happened: &Happened) -> String {
    match happened {
        Happened::Data => "It returned data.".to_string(),
        Happened::EndOfFile => "It returned 0: end of file.".to_string(),
        Happened::WroteAll => "It wrote every byte.".to_string(),
        Happened::WrotePart => "It wrote only some of the bytes.".to_string(),
        Happened::Opened => "It opened at once.".to_string(),
        Happened::Reported => "It reported a child.".to_string(),
        Happened::NothingYet => "It returned at once, with nothing to report.".to_string(),
        Happened::Blocks => "It blocked: the process went to sleep.".to_string(),
        Happened::Fails(errno) => format!("It failed with {errno}."),
        Happened::Killed(signal) => format!("The process was killed by {signal}."),
    }
}

/// The verb for a kind of call, in a question ("What will child's read do?").
pub fn call_word(asked: Asked) -> &'static str {
    match asked {
        Asked::Read => "read",
        Asked::Write => "write",
        Asked::Open => "open",
        Asked::Wait => "wait",
    }
}

/// One answered question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub chosen: usize,
    pub right: bool,
}

/// The visitor's answers in this run, by step: a short list (one per question asked), ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Predictions {
    answers: Vec<(u64, Answer)>,
}

impl Predictions {
    /// (right answers, questions answered).
    pub fn score(&self) -> (usize, usize) {
        (self.answers.iter().filter(|(_, answer)| answer.right).count(), self.answers.len())
    }

    /// The answer given about `step`, if any.
    pub fn answer(&self, step: u64) -> Option<&Answer> {
        self.answers.iter().find(|(answered, _)| *answered == step).map(|(_, answer)| answer)
    }

    /// Forgets the answers about steps after `step` (the run after it changed).
    pub fn forget_after(&mut self, step: u64) {
        self.answers.retain(|(answered, _)| *answered <= step);
    }

    /// Records an answer; a second answer about the same step replaces the first.
    pub fn record(&mut self, step: u64, chosen: usize, right: bool) {
        let answer = Answer { chosen, right };
        match self.answers.iter().position(|(answered, _)| *answered >= step) {
            Some(index) if self.answers[index].0 == step => self.answers[index].1 = answer,
            Some(index) => self.answers.insert(index, (step, answer)),
            None => self.answers.push((step, answer)),
        }
    }
}

/// The score in words, for the end of the run.
pub fn score_words(right: usize, asked: usize) -> String {
    match (right, asked) {
        (_, 0) => "No call was asked about in this run.".to_string(),
        (right, asked) if right == asked => format!("You called all {asked} right."),
        (right, asked) => format!("You called {right} of {asked} right."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_happening_has_exactly_one_right_choice_for_its_kind_of_call() {
        let cases = [
            (Asked::Read, Happened::Data),
            (Asked::Read, Happened::EndOfFile),
            (Asked::Read, Happened::Blocks),
            (Asked::Read, Happened::Fails("EAGAIN")),
            (Asked::Write, Happened::WroteAll),
            (Asked::Write, Happened::WrotePart),
            (Asked::Write, Happened::Blocks),
            (Asked::Write, Happened::Fails("EPIPE")),
            (Asked::Write, Happened::Killed("SIGPIPE")),
            (Asked::Open, Happened::Opened),
            (Asked::Open, Happened::Blocks),
            (Asked::Open, Happened::Fails("ENXIO")),
            (Asked::Wait, Happened::Reported),
            (Asked::Wait, Happened::NothingYet),
            (Asked::Wait, Happened::Blocks),
            (Asked::Wait, Happened::Fails("ECHILD")),
        ];
        for (asked, happened) in cases {
            let matching = choices(asked).iter().filter(|choice| choice.matches(&happened)).count();
            assert_eq!(matching, 1, "{asked:?} {happened:?}");
            assert!(right_choice(asked, &happened).is_some());
        }
    }

    #[test]
    fn the_score_counts_each_step_once_and_forgets_a_changed_future() {
        let mut predictions = Predictions::default();
        predictions.record(3, 0, true);
        predictions.record(5, 2, false);
        predictions.record(5, 1, true);
        predictions.record(9, 0, false);
        assert_eq!(predictions.score(), (2, 3));
        predictions.forget_after(5);
        assert_eq!(predictions.score(), (2, 2));
        assert_eq!(score_words(2, 2), "You called all 2 right.");
        assert_eq!(score_words(1, 3), "You called 1 of 3 right.");
    }
}
