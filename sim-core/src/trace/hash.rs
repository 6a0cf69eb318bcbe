//! The trace hash: a fast, platform-independent 64-bit hash over fixed-width little-endian words.
//!
//! It detects differences between traces; it does not resist an attacker. [`StreamHasher`] hashes a
//! byte stream so that the result depends only on the bytes, not on how they were cut into calls.

/// Folds 64-bit words into one 64-bit state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHasher {
    state: u64,
}

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher { state: 0x243f_6a88_85a3_08d3 }
    }
}

impl TraceHasher {
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

    #[inline]
    pub fn word(&mut self, word: u64) {
        self.state = (self.state.rotate_left(23) ^ word).wrapping_mul(Self::MULTIPLIER);
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        words_of(bytes, |word| self.word(word));
    }

    pub fn finish(&self) -> u64 {
        // One last avalanche so that nearby states give unrelated hashes.
        let mut value = self.state;
        value ^= value >> 33;
        value = value.wrapping_mul(0xff51_afd7_ed55_8ccd);
        value ^= value >> 33;
        value
    }
}

/// The hash of a kernel's state ([`crate::kernel::Kernel::state_hash`]), taken at every state an
/// explorer reaches: the same mixing step as [`TraceHasher`], over four lanes that take the words in
/// turn, so that a processor works on four multiplications at once instead of waiting for each before
/// the next (the state is a few hundred words, and the one chain of multiplications was most of the
/// cost of hashing it). The lanes are folded together, in order, at the end.
#[derive(Clone, Copy, Debug)]
pub struct StateHasher {
    lanes: [u64; 4],
    next: usize,
}

impl Default for StateHasher {
    fn default() -> Self {
        StateHasher {
            lanes: [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344, 0xa409_3822_299f_31d0, 0x082e_fa98_ec4e_6c89],
            next: 0,
        }
    }
}

impl StateHasher {
    #[inline]
    pub fn word(&mut self, word: u64) {
        let lane = &mut self.lanes[self.next];
        *lane = (lane.rotate_left(23) ^ word).wrapping_mul(TraceHasher::MULTIPLIER);
        self.next = (self.next + 1) & 3;
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        words_of(bytes, |word| self.word(word));
    }

    pub fn finish(&self) -> u64 {
        let mut folded = TraceHasher::default();
        for lane in self.lanes {
            folded.word(lane);
        }
        // Which lane comes next says how many words were hashed, modulo four.
        folded.word(self.next as u64);
        folded.finish()
    }
}

/// A byte string as the words a hasher takes: its length, then eight bytes at a time, then the rest.
#[inline]
fn words_of(bytes: &[u8], mut word: impl FnMut(u64)) {
    word(bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        word(u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8 bytes")));
    }
    word(tail_word(chunks.remainder()));
}

/// Fewer than eight bytes as a little-endian word padded with zeros, put together in registers: most
/// reads are a few bytes long, and a copy into an array would cost a call to `memcpy`. Two loads that
/// may overlap cover the bytes (what they share, they put in the same place of the word).
fn tail_word(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    if len >= 4 {
        let low = u32::from_le_bytes(bytes[..4].try_into().expect("four bytes")) as u64;
        let high = u32::from_le_bytes(bytes[len - 4..].try_into().expect("four bytes")) as u64;
        low | high << (8 * (len - 4))
    } else if len >= 2 {
        let low = u16::from_le_bytes(bytes[..2].try_into().expect("two bytes")) as u64;
        let high = u16::from_le_bytes(bytes[len - 2..].try_into().expect("two bytes")) as u64;
        low | high << (8 * (len - 2))
    } else {
        bytes.first().map_or(0, |byte| *byte as u64)
    }
}

/// Hashes a byte stream eight bytes at a time, carrying a partial word between calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamHasher {
    hasher: TraceHasher,
    carry: u64,
    carry_len: u32,
    total: u64,
}

impl StreamHasher {
    pub fn feed(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        while self.carry_len != 0 && !bytes.is_empty() {
            self.carry |= (bytes[0] as u64) << (8 * self.carry_len);
            self.carry_len += 1;
            bytes = &bytes[1..];
            if self.carry_len == 8 {
                self.hasher.word(self.carry);
                self.carry = 0;
                self.carry_len = 0;
            }
        }
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.hasher.word(u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8 bytes")));
        }
        for byte in chunks.remainder() {
            self.carry |= (*byte as u64) << (8 * self.carry_len);
            self.carry_len += 1;
        }
    }

    pub fn finish(&self) -> TraceHasher {
        let mut hasher = self.hasher;
        hasher.word(self.carry);
        hasher.word(self.total);
        hasher
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_byte_and_on_order() {
        let mut first = TraceHasher::default();
        first.bytes(b"hello world, this is a pipe");
        let mut second = TraceHasher::default();
        second.bytes(b"hello world, this is a pipf");
        assert_ne!(first.finish(), second.finish());
        let mut a_then_b = TraceHasher::default();
        a_then_b.word(1);
        a_then_b.word(2);
        let mut b_then_a = TraceHasher::default();
        b_then_a.word(2);
        b_then_a.word(1);
        assert_ne!(a_then_b.finish(), b_then_a.finish());
    }

    /// The words a byte string should be hashed as, written out here rather than taken from
    /// [`words_of`]: its length, eight bytes at a time, then the rest padded with zeros.
    fn expected_words(bytes: &[u8]) -> Vec<u64> {
        let mut words = vec![bytes.len() as u64];
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            words.push(u64::from_le_bytes(chunk.try_into().unwrap()));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        words.push(u64::from_le_bytes(tail));
        words
    }

    #[test]
    fn the_last_bytes_are_hashed_as_a_word_padded_with_zeros() {
        let bytes: Vec<u8> = (1..=20u8).collect();
        for length in 0..bytes.len() {
            let mut expected = TraceHasher::default();
            expected_words(&bytes[..length]).into_iter().for_each(|word| expected.word(word));
            let mut hasher = TraceHasher::default();
            hasher.bytes(&bytes[..length]);
            assert_eq!(hasher, expected, "{length} bytes");
        }
    }

    #[test]
    fn a_stream_hash_does_not_depend_on_how_the_bytes_were_cut() {
        let bytes: Vec<u8> = (0..100u8).collect();
        let mut whole = StreamHasher::default();
        whole.feed(&bytes);
        let mut pieces = StreamHasher::default();
        for piece in bytes.chunks(7) {
            pieces.feed(piece);
        }
        assert_eq!(whole.finish(), pieces.finish());
    }

    fn state_hash(words: &[u64]) -> u64 {
        let mut hasher = StateHasher::default();
        words.iter().for_each(|word| hasher.word(*word));
        hasher.finish()
    }

    /// The four lanes must not make the state hash blind to where a word stands: words swapped within
    /// a lane or between lanes, one bit of any word, a word moved to the next lane and zeros added at
    /// the end all change it.
    #[test]
    fn the_state_hash_sees_every_word_its_place_and_the_count() {
        let words: Vec<u64> = (1..=9u64).map(|word| word.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        let base = state_hash(&words);
        for first in 0..words.len() {
            for second in first + 1..words.len() {
                let mut swapped = words.clone();
                swapped.swap(first, second);
                assert_ne!(state_hash(&swapped), base, "words {first} and {second} swapped");
            }
            let mut changed = words.clone();
            changed[first] ^= 1 << (first * 7);
            assert_ne!(state_hash(&changed), base, "word {first} changed in one bit");
        }
        // The same words, one lane along: a zero first, or a zero last.
        let (mut first, mut last) = (vec![0], words[..7].to_vec());
        first.extend(&words[..7]);
        last.push(0);
        assert_ne!(state_hash(&first), state_hash(&last));
        // Every sequence of up to eight zeros hashes apart from the others.
        let zeros: std::collections::BTreeSet<u64> = (0..=8).map(|count| state_hash(&vec![0; count])).collect();
        assert_eq!(zeros.len(), 9);
        // No two of the 1,365 sequences of up to five words over four values collide.
        let values = [0, 1, u64::MAX, 1 << 63];
        let mut seen = std::collections::BTreeMap::new();
        let mut sequences: Vec<Vec<u64>> = vec![Vec::new()];
        for _ in 0..5 {
            let longer: Vec<Vec<u64>> = sequences
                .iter()
                .filter(|sequence| sequence.len() == sequences.last().map_or(0, Vec::len))
                .flat_map(|sequence| values.iter().map(move |value| [sequence.as_slice(), &[*value]].concat()))
                .collect();
            sequences.extend(longer);
        }
        assert_eq!(sequences.len(), 1 + 4 + 16 + 64 + 256 + 1024);
        for sequence in &sequences {
            if let Some(other) = seen.insert(state_hash(sequence), sequence.clone()) {
                panic!("{sequence:?} and {other:?} hash alike");
            }
        }
    }

    /// As the trace hash does: the length, eight bytes at a time, then the rest padded with zeros.
    #[test]
    fn the_state_hash_takes_bytes_as_the_trace_hash_does() {
        let bytes: Vec<u8> = (1..=20u8).collect();
        for length in 0..bytes.len() {
            let mut hasher = StateHasher::default();
            hasher.bytes(&bytes[..length]);
            assert_eq!(hasher.finish(), state_hash(&expected_words(&bytes[..length])), "{length} bytes");
        }
    }
}
