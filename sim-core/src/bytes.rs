//! Short copies of bytes without a call to `memcpy`: most messages of a busy run are a few bytes long,
//! and for them the call costs more than the copy.

/// `out.copy_from_slice(from)`, with 4 to 8 bytes moved in registers: two loads and two stores, which
/// overlap for fewer than 8 (what they share, they put in the same place).
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
pub(crate) fn copy_bytes(out: &mut [u8], from: &[u8]) {
    let len = from.len();
    if (4..=8).contains(&len) && out.len() == len {
        let low: [u8; 4] = from[..4].try_into().expect("four bytes");
        let high: [u8; 4] = from[len - 4..].try_into().expect("four bytes");
        out[len - 4..].copy_from_slice(&high);
        out[..4].copy_from_slice(&low);
    } else {
        out.copy_from_slice(from);
    }
}

/// `out.extend_from_slice(from)`, with 4 to 8 bytes moved in registers: they are put in an 8-byte
/// word, the whole word is appended, and what it has past them is cut off again.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
pub(crate) fn extend_bytes(out: &mut Vec<u8>, from: &[u8]) {
    let len = from.len();
    if (4..=8).contains(&len) {
        let mut word = [0u8; 8];
        copy_bytes(&mut word[..len], from);
        let end = out.len() + len;
        out.extend_from_slice(&word);
        out.truncate(end);
    } else {
        out.extend_from_slice(from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_copies_move_the_same_bytes_as_long_ones() {
        let from: Vec<u8> = (1..=12u8).collect();
        for len in 0..=from.len() {
            let mut out = vec![0u8; len];
            copy_bytes(&mut out, &from[..len]);
            assert_eq!(out, from[..len], "{len} bytes");
            let mut appended = vec![9u8, 9];
            extend_bytes(&mut appended, &from[..len]);
            assert_eq!(appended[2..], from[..len], "{len} bytes appended");
            assert_eq!(appended[..2], [9, 9]);
        }
    }
}
