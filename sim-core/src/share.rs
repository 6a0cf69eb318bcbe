//! Share links: a run as one short, versioned, checksummed string.
//!
//! A run is data: the scenario text, the seed, the scheduling policy, the steps chosen from outside
//! (a person playing the scheduler) and the step being looked at. [`encode`] turns that into
//! `v1.` followed by base64url text; [`decode`] turns it back, or says exactly why it cannot.
//!
//! The binary payload uses fixed-width little-endian integers only. Runs of repeated schedule choices are
//! run-length encoded, and the whole payload is compressed with a tiny LZ77 scheme written here (this
//! crate depends on nothing but serde). A CRC-32 of the uncompressed payload follows it, and decoding
//! stops as soon as the output would pass [`MAX_DECODED_BYTES`], so a damaged or hostile link gives a
//! clear error instead of garbage, a hang or a huge allocation.
//!
//! Format v1, before compression:
//!
//! | field            | encoding                                                     |
//! |------------------|--------------------------------------------------------------|
//! | policy           | `u8`: 0 round-robin, 1 random, 2 choices                     |
//! | seed             | `u64`                                                        |
//! | step             | `u64`                                                        |
//! | scenario         | `u32` byte length, then UTF-8                                |
//! | forced choices   | `u32` run count, then per run `u32` pid and `u32` repeat     |
//! | policy choices   | same layout (present only when the policy is `choices`)      |
//!
//! The link text is `v1.` + base64url (no padding) of: `u8` packing (0 stored, 1 LZ) + packed
//! payload + `u32` CRC-32 (IEEE) of the unpacked payload.
//!
//! Format v2 is v1 with more after it (see [`SharedTree`]): the other branches of the run's history (a
//! person who went back and chose differently keeps the run they left): `u32` branch count (at most
//! [`MAX_BRANCHES`]), then per branch `u64` step and its forced choices (same layout); then `u8` 1 if the
//! link carries the verdict of a check on Linux, followed by the trace hash it was checked with (`u64`)
//! and its sentence (`u32` byte length, at most [`MAX_CHECKED_BYTES`], then UTF-8), or `u8` 0. A link
//! with neither is written as v1, so such links read the same everywhere they did before.

use crate::sched::Policy;
use crate::sim::{RunConfig, Simulation, StepStatus};
use crate::trace::Pid;

/// The newest format this code writes (v1 for a run alone, v2 with other branches). Every format it
/// can read is listed in [`decode_tree`].
pub const FORMAT_VERSION: u32 = 2;

/// Most other branches a link may carry.
pub const MAX_BRANCHES: usize = 64;

/// Longest verdict sentence a link may carry.
pub const MAX_CHECKED_BYTES: usize = 1024;

/// Largest payload a link may unpack to (a little more than the largest scenario plus its schedule).
pub const MAX_DECODED_BYTES: usize = 2 << 20;

/// Longest link text accepted before any decoding is attempted.
pub const MAX_LINK_CHARS: usize = 4 << 20;

/// Most schedule choices a link may carry (the simulator's own step ceiling).
pub const MAX_CHOICES: u64 = 100_000_000;

/// Everything that decides what a shared link shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedRun {
    /// The scenario text, exactly as it was in the editor.
    pub scenario: String,
    pub seed: u64,
    /// How steps after the forced ones are picked.
    pub policy: Policy,
    /// Steps chosen from outside, in order: step 1 runs `forced[0]`, and so on. After them the policy picks.
    pub forced: Vec<Pid>,
    /// The step being looked at (0 is before the first step).
    pub step: u64,
}

/// Another branch of a run's history: the same scenario, seed and policy, with other choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branch {
    /// Its steps chosen from outside (as [`SharedRun::forced`]).
    pub forced: Vec<Pid>,
    /// The step it was looked at when it was left.
    pub step: u64,
}

/// A run with the other branches of its history (what the playground shares when a person went back
/// and chose differently) and, if it was checked on Linux, that check's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedTree {
    /// The branch on screen.
    pub run: SharedRun,
    /// The others, in the order they were left.
    pub branches: Vec<Branch>,
    /// What `ipclab check --link` found for the run on screen.
    pub checked: Option<Checked>,
}

/// The verdict of a check on Linux, as a link carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The trace hash of the run that was checked (a page that computes another has a different model).
    pub trace_hash: u64,
    /// The verdict in words: the kernel, and what matched.
    pub verdict: String,
}

/// Why a link could not be read. `Display` gives a sentence to show the person who opened it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareError {
    /// Nothing after the `#`.
    Empty,
    /// The text does not start with `vN.`.
    NotALink,
    /// A version this code does not read (newer, or retired).
    UnknownVersion(String),
    /// The link text is longer than [`MAX_LINK_CHARS`].
    TooLong { chars: usize },
    /// A character outside the base64url alphabet, at this (0-based) position in the encoded part.
    BadCharacter { position: usize, character: char },
    /// The base64url text has an impossible length (one character left over).
    BadLength,
    /// The packed data ends early or refers outside itself.
    Corrupt(&'static str),
    /// The unpacked payload would pass [`MAX_DECODED_BYTES`].
    TooLarge { limit_bytes: usize },
    /// The checksum does not match: the link was cut or changed.
    ChecksumMismatch,
    /// The scenario text is not UTF-8.
    BadText,
}

impl std::fmt::Display for ShareError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShareError::Empty => write!(formatter, "the link carries no run (nothing after `#`)"),
            ShareError::NotALink => {
                write!(formatter, "this is not an ipclab run link: it should start with `v1.` or `v2.`")
            }
            ShareError::UnknownVersion(version) => write!(
                formatter,
                "this link uses format {version}, which this playground cannot read (it reads v1 and v2); \
                 it was probably made by a newer version of ipclab"
            ),
            ShareError::TooLong { chars } => write!(
                formatter,
                "this link is too long to be a run ({chars} characters; the limit is {MAX_LINK_CHARS})"
            ),
            ShareError::BadCharacter { position, character } => write!(
                formatter,
                "this link is damaged: character {} ({character:?}) is not allowed in a link",
                position + 1
            ),
            ShareError::BadLength => write!(formatter, "this link is damaged: it was cut off part-way"),
            ShareError::Corrupt(what) => write!(formatter, "this link is damaged: {what}"),
            ShareError::TooLarge { limit_bytes } => write!(
                formatter,
                "this link unpacks to more than {limit_bytes} bytes, more than any run needs; it was not opened"
            ),
            ShareError::ChecksumMismatch => write!(
                formatter,
                "this link is damaged: its checksum does not match (it was probably cut short or edited)"
            ),
            ShareError::BadText => write!(formatter, "this link is damaged: its scenario text is not valid UTF-8"),
        }
    }
}

impl std::error::Error for ShareError {}

/// Encodes a run as link text (`v1.` + base64url).
pub fn encode(run: &SharedRun) -> String {
    pack(1, payload_bytes(run))
}

/// Encodes a run and its other branches (`v2.`, or `v1.` when there are none).
pub fn encode_tree(tree: &SharedTree) -> String {
    if tree.branches.is_empty() && tree.checked.is_none() {
        return encode(&tree.run);
    }
    let mut payload = payload_bytes(&tree.run);
    payload.extend_from_slice(&(tree.branches.len() as u32).to_le_bytes());
    for branch in &tree.branches {
        payload.extend_from_slice(&branch.step.to_le_bytes());
        write_runs(&mut payload, &branch.forced);
    }
    match &tree.checked {
        Some(checked) => {
            let mut end = checked.verdict.len().min(MAX_CHECKED_BYTES);
            while !checked.verdict.is_char_boundary(end) {
                end -= 1;
            }
            payload.push(1);
            payload.extend_from_slice(&checked.trace_hash.to_le_bytes());
            payload.extend_from_slice(&(end as u32).to_le_bytes());
            payload.extend_from_slice(&checked.verdict.as_bytes()[..end]);
        }
        None => payload.push(0),
    }
    pack(2, payload)
}

fn pack(version: u32, payload: Vec<u8>) -> String {
    let packed = lz_compress(&payload);
    let mut blob = Vec::with_capacity(packed.len().min(payload.len()) + 5);
    if packed.len() < payload.len() {
        blob.push(1);
        blob.extend_from_slice(&packed);
    } else {
        blob.push(0);
        blob.extend_from_slice(&payload);
    }
    blob.extend_from_slice(&crc32(&payload).to_le_bytes());
    format!("v{version}.{}", base64url_encode(&blob))
}

/// Decodes link text made by [`encode`] or [`encode_tree`] (with or without a leading `#`): the run on
/// screen; other branches a v2 link carries are left out.
pub fn decode(text: &str) -> Result<SharedRun, ShareError> {
    decode_tree(text).map(|tree| tree.run)
}

/// Decodes link text with every branch it carries (v1: none).
pub fn decode_tree(text: &str) -> Result<SharedTree, ShareError> {
    let text = text.trim();
    let text = text.strip_prefix('#').unwrap_or(text);
    if text.is_empty() {
        return Err(ShareError::Empty);
    }
    if text.len() > MAX_LINK_CHARS {
        return Err(ShareError::TooLong { chars: text.len() });
    }
    let Some((version, body)) = text.split_once('.') else {
        return Err(ShareError::NotALink);
    };
    let is_version = version.len() >= 2
        && version.starts_with('v')
        && version[1..].bytes().all(|byte| byte.is_ascii_digit())
        && version.len() <= 10;
    if !is_version {
        return Err(ShareError::NotALink);
    }
    match version {
        "v1" => parse_payload(&unpack(body)?, false),
        "v2" => parse_payload(&unpack(body)?, true),
        other => Err(ShareError::UnknownVersion(other.to_string())),
    }
}

/// The payload of a v1 or v2 link's body, checked against its checksum.
fn unpack(body: &str) -> Result<Vec<u8>, ShareError> {
    let blob = base64url_decode(body)?;
    if blob.len() < 1 + 4 {
        return Err(ShareError::Corrupt("it is too short to hold a run"));
    }
    let (packing, rest) = blob.split_first().expect("checked length");
    let (packed, checksum) = rest.split_at(rest.len() - 4);
    let payload = match packing {
        0 => {
            if packed.len() > MAX_DECODED_BYTES {
                return Err(ShareError::TooLarge { limit_bytes: MAX_DECODED_BYTES });
            }
            packed.to_vec()
        }
        1 => lz_decompress(packed, MAX_DECODED_BYTES)?,
        _ => return Err(ShareError::Corrupt("its packing byte is unknown")),
    };
    let expected = u32::from_le_bytes(checksum.try_into().expect("four bytes"));
    if crc32(&payload) != expected {
        return Err(ShareError::ChecksumMismatch);
    }
    Ok(payload)
}

fn payload_bytes(run: &SharedRun) -> Vec<u8> {
    let mut out = Vec::with_capacity(run.scenario.len() + 32);
    let policy_byte = match run.policy {
        Policy::RoundRobin => 0u8,
        Policy::Random => 1,
        Policy::Choices { .. } => 2,
    };
    out.push(policy_byte);
    out.extend_from_slice(&run.seed.to_le_bytes());
    out.extend_from_slice(&run.step.to_le_bytes());
    out.extend_from_slice(&(run.scenario.len() as u32).to_le_bytes());
    out.extend_from_slice(run.scenario.as_bytes());
    write_runs(&mut out, &run.forced);
    if let Policy::Choices { pids } = &run.policy {
        write_runs(&mut out, pids);
    }
    out
}

/// Run-length encodes a list of pids: `u32` count of runs, then `(u32 pid, u32 repeat)` per run.
fn write_runs(out: &mut Vec<u8>, pids: &[Pid]) {
    let mut runs: Vec<(Pid, u32)> = Vec::new();
    for &pid in pids {
        match runs.last_mut() {
            Some((last, count)) if *last == pid && *count < u32::MAX => *count += 1,
            _ => runs.push((pid, 1)),
        }
    }
    out.extend_from_slice(&(runs.len() as u32).to_le_bytes());
    for (pid, count) in runs {
        out.extend_from_slice(&pid.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, count: usize) -> Result<&[u8], ShareError> {
        let end = self.at.checked_add(count).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or(ShareError::Corrupt("its run data ends early"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, ShareError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, ShareError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("four bytes")))
    }

    fn u64(&mut self) -> Result<u64, ShareError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("eight bytes")))
    }

    fn runs(&mut self) -> Result<Vec<Pid>, ShareError> {
        let run_count = self.u32()?;
        let mut pids = Vec::new();
        let mut total: u64 = 0;
        for _ in 0..run_count {
            let pid = self.u32()?;
            let count = self.u32()?;
            total += count as u64;
            if count == 0 || total > MAX_CHOICES {
                return Err(ShareError::Corrupt("its schedule is malformed or longer than any run"));
            }
            if total as usize > MAX_DECODED_BYTES {
                // Each choice costs 4 bytes in memory: bound the allocation like the payload itself.
                return Err(ShareError::TooLarge { limit_bytes: MAX_DECODED_BYTES });
            }
            pids.extend(std::iter::repeat_n(pid, count as usize));
        }
        Ok(pids)
    }
}

/// A run, and (`v2`) the other branches and the verdict after it.
fn parse_payload(payload: &[u8], v2: bool) -> Result<SharedTree, ShareError> {
    let mut reader = Reader { bytes: payload, at: 0 };
    let policy_byte = reader.u8()?;
    let seed = reader.u64()?;
    let step = reader.u64()?;
    let text_len = reader.u32()? as usize;
    let scenario = String::from_utf8(reader.take(text_len)?.to_vec()).map_err(|_| ShareError::BadText)?;
    let forced = reader.runs()?;
    let policy = match policy_byte {
        0 => Policy::RoundRobin,
        1 => Policy::Random,
        2 => Policy::Choices { pids: reader.runs()? },
        _ => return Err(ShareError::Corrupt("its scheduling policy is unknown")),
    };
    let mut branches = Vec::new();
    let mut checked = None;
    if v2 {
        let count = reader.u32()? as usize;
        if count > MAX_BRANCHES {
            return Err(ShareError::Corrupt("its number of branches is not possible"));
        }
        for _ in 0..count {
            let step = reader.u64()?;
            branches.push(Branch { step, forced: reader.runs()? });
        }
        checked = match reader.u8()? {
            0 => None,
            1 => {
                let trace_hash = reader.u64()?;
                let length = reader.u32()? as usize;
                if length > MAX_CHECKED_BYTES {
                    return Err(ShareError::Corrupt("its verdict is longer than any link carries"));
                }
                let verdict = String::from_utf8(reader.take(length)?.to_vec()).map_err(|_| ShareError::BadText)?;
                Some(Checked { trace_hash, verdict })
            }
            _ => return Err(ShareError::Corrupt("its verdict marker is unknown")),
        };
    }
    if reader.at != payload.len() {
        return Err(ShareError::Corrupt("it has data after the run"));
    }
    Ok(SharedTree { run: SharedRun { scenario, seed, policy, forced, step }, branches, checked })
}

impl SharedRun {
    /// The run's configuration for [`Simulation`].
    pub fn config(&self) -> RunConfig {
        RunConfig { seed: self.seed, policy: self.policy.clone(), ..RunConfig::default() }
    }

    /// Parses the scenario, starts the run and takes the forced steps: what a link stands for, up to
    /// the end of its forced choices. Errors are sentences fit to show.
    pub fn start(&self) -> Result<Simulation, String> {
        let scenario = crate::parse(&self.scenario).map_err(|diagnostics| {
            let first = &diagnostics[0];
            format!(
                "the scenario in this link does not parse: {}:{}: {}",
                first.span.line, first.span.col, first.message
            )
        })?;
        let mut simulation = Simulation::new(&scenario, self.config()).map_err(|diagnostic| {
            format!(
                "the scenario in this link cannot run: {}:{}: {}",
                diagnostic.span.line, diagnostic.span.col, diagnostic.message
            )
        })?;
        for (index, pid) in self.forced.iter().enumerate() {
            match simulation.step_as(*pid) {
                Ok(StepStatus::Ran(_)) => {}
                Ok(StepStatus::Finished) => {
                    return Err(format!("choice {} of this link comes after the run has ended", index + 1))
                }
                Err(error) => return Err(format!("choice {} of this link cannot be followed: {error}", index + 1)),
            }
        }
        Ok(simulation)
    }
}

// ---- base64url (RFC 4648 section 5, no padding) ----

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word =
            (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        let characters = chunk.len() + 1;
        for index in 0..characters {
            out.push(ALPHABET[(word >> (18 - 6 * index) & 63) as usize] as char);
        }
    }
    out
}

pub fn base64url_decode(text: &str) -> Result<Vec<u8>, ShareError> {
    if text.len() % 4 == 1 {
        return Err(ShareError::BadLength);
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut word: u32 = 0;
    let mut bits = 0;
    for (position, character) in text.chars().enumerate() {
        let value = match character {
            'A'..='Z' => character as u32 - 'A' as u32,
            'a'..='z' => character as u32 - 'a' as u32 + 26,
            '0'..='9' => character as u32 - '0' as u32 + 52,
            '-' => 62,
            '_' => 63,
            _ => return Err(ShareError::BadCharacter { position, character }),
        };
        word = word << 6 | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((word >> bits) as u8);
            word &= (1 << bits) - 1;
        }
    }
    if word != 0 {
        // Leftover bits must be zero, so that every run has exactly one spelling.
        return Err(ShareError::Corrupt("its last character is not one an encoder writes"));
    }
    Ok(out)
}

// ---- CRC-32 (IEEE 802.3, reflected, as zlib computes it) ----

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

// ---- a tiny LZ77 ----
//
// Tokens: a control byte `0..=127` is followed by `control + 1` literal bytes; a control byte
// `128..=255` is a match of `control - 128 + MIN_MATCH` bytes at the `u16` little-endian distance that
// follows (1..=65535 bytes back in the output).

const MIN_MATCH: usize = 4;
const MAX_MATCH: usize = 127 + MIN_MATCH;
const WINDOW: usize = 65535;
const HASH_BITS: u32 = 13;

fn hash4(bytes: &[u8]) -> usize {
    let word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    (word.wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize
}

pub fn lz_compress(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 2 + 16);
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let mut literals_start = 0;
    let mut at = 0;
    let flush_literals = |out: &mut Vec<u8>, literals: &[u8]| {
        for chunk in literals.chunks(128) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
    };
    while at + MIN_MATCH <= input.len() {
        let hash = hash4(&input[at..]);
        let candidate = table[hash];
        table[hash] = at;
        if candidate != usize::MAX
            && at - candidate <= WINDOW
            && input[candidate..candidate + MIN_MATCH] == input[at..at + MIN_MATCH]
        {
            let mut length = MIN_MATCH;
            while length < MAX_MATCH && at + length < input.len() && input[candidate + length] == input[at + length] {
                length += 1;
            }
            flush_literals(&mut out, &input[literals_start..at]);
            out.push((128 + length - MIN_MATCH) as u8);
            out.extend_from_slice(&((at - candidate) as u16).to_le_bytes());
            // Index the positions inside the match so that later repeats find them.
            for inside in at + 1..(at + length).min(input.len().saturating_sub(MIN_MATCH - 1)) {
                table[hash4(&input[inside..])] = inside;
            }
            at += length;
            literals_start = at;
        } else {
            at += 1;
        }
    }
    flush_literals(&mut out, &input[literals_start..]);
    out
}

/// Unpacks [`lz_compress`] output, refusing to produce more than `limit` bytes.
pub fn lz_decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, ShareError> {
    let mut out: Vec<u8> = Vec::with_capacity(input.len().saturating_mul(2).min(limit));
    let mut at = 0;
    while at < input.len() {
        let control = input[at] as usize;
        at += 1;
        if control < 128 {
            let count = control + 1;
            let literals = input.get(at..at + count).ok_or(ShareError::Corrupt("its packed data ends early"))?;
            if out.len() + count > limit {
                return Err(ShareError::TooLarge { limit_bytes: limit });
            }
            out.extend_from_slice(literals);
            at += count;
        } else {
            let length = control - 128 + MIN_MATCH;
            let distance = input.get(at..at + 2).ok_or(ShareError::Corrupt("its packed data ends early"))?;
            let distance = u16::from_le_bytes([distance[0], distance[1]]) as usize;
            at += 2;
            if distance == 0 || distance > out.len() {
                return Err(ShareError::Corrupt("its packed data points before its start"));
            }
            if out.len() + length > limit {
                return Err(ShareError::TooLarge { limit_bytes: limit });
            }
            let start = out.len() - distance;
            for index in 0..length {
                let byte = out[start + index];
                out.push(byte);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SharedRun {
        SharedRun {
            scenario: "process a {\n  sched_yield\n}\n".to_string(),
            seed: 0x0123_4567_89ab_cdef,
            policy: Policy::Random,
            forced: vec![2, 2, 2, 3, 2],
            step: 4,
        }
    }

    #[test]
    fn a_tree_round_trips_and_a_run_alone_stays_v1() {
        let alone = SharedTree { run: sample(), branches: Vec::new(), checked: None };
        let text = encode_tree(&alone);
        assert!(text.starts_with("v1."), "{text}");
        assert_eq!(text, encode(&sample()));
        assert_eq!(decode_tree(&text), Ok(alone));
        let tree = SharedTree {
            run: sample(),
            branches: vec![Branch { forced: vec![2, 2, 3], step: 3 }, Branch { forced: vec![], step: 0 }],
            checked: None,
        };
        let text = encode_tree(&tree);
        assert!(text.starts_with("v2."), "{text}");
        assert_eq!(decode_tree(&text), Ok(tree.clone()));
        // The run alone, for readers that want only the branch on screen.
        assert_eq!(decode(&text), Ok(sample()));
        // A verdict, with or without branches.
        let checked = Checked { trace_hash: 0x5d73_12d5_8e52_41da, verdict: "checked on Linux 6.18".to_string() };
        for branches in [Vec::new(), tree.branches.clone()] {
            let with = SharedTree { run: sample(), branches, checked: Some(checked.clone()) };
            let text = encode_tree(&with);
            assert!(text.starts_with("v2."), "{text}");
            assert_eq!(decode_tree(&text), Ok(with));
        }
        // A verdict too long for a link is cut at a character's edge.
        let long = "é".repeat(MAX_CHECKED_BYTES);
        let cut =
            SharedTree { run: sample(), branches: Vec::new(), checked: Some(Checked { trace_hash: 1, verdict: long }) };
        let verdict = decode_tree(&encode_tree(&cut)).expect("decodes").checked.expect("a verdict").verdict;
        assert_eq!(verdict.len(), MAX_CHECKED_BYTES);
        assert!(verdict.chars().all(|character| character == 'é'));
    }

    #[test]
    fn a_damaged_branch_list_is_refused_with_a_reason() {
        // A v2 payload whose branch count is larger than any link carries, which ends early, or whose
        // verdict marker is unknown or its verdict too long.
        let long = [vec![1u8], vec![0; 8], ((MAX_CHECKED_BYTES + 1) as u32).to_le_bytes().to_vec()].concat();
        for (count, extra) in
            [(MAX_BRANCHES as u32 + 1, vec![]), (2, vec![0u8; 8]), (0, vec![]), (0, vec![7u8]), (0, long)]
        {
            let mut payload = payload_bytes(&sample());
            payload.extend_from_slice(&count.to_le_bytes());
            payload.extend_from_slice(&extra);
            let text = pack(2, payload);
            assert!(matches!(decode_tree(&text), Err(ShareError::Corrupt(_))), "{count}: {:?}", decode_tree(&text));
        }
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for length in 0..70 {
            let bytes: Vec<u8> = (0..length).map(|index| (index * 37 + 11) as u8).collect();
            let text = base64url_encode(&bytes);
            assert!(text.bytes().all(|byte| ALPHABET.contains(&byte)));
            assert_eq!(base64url_decode(&text).unwrap(), bytes);
        }
        assert_eq!(base64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn lz_round_trips_and_shrinks_repetition() {
        let inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"abc".to_vec(),
            b"abcabcabcabcabcabcabcabcabcabc".to_vec(),
            vec![7u8; 100_000],
            (0..5000u32).map(|index| (index.wrapping_mul(2_654_435_761) >> 13) as u8).collect(),
        ];
        for input in inputs {
            let packed = lz_compress(&input);
            assert_eq!(lz_decompress(&packed, input.len()).unwrap(), input);
        }
        assert!(lz_compress(&vec![7u8; 100_000]).len() < 3000);
    }

    #[test]
    fn a_run_round_trips() {
        let run = sample();
        let text = encode(&run);
        assert!(text.starts_with("v1."));
        assert_eq!(decode(&text).unwrap(), run);
        assert_eq!(decode(&format!("#{text}")).unwrap(), run);
        let choices = SharedRun { policy: Policy::Choices { pids: vec![3, 3, 2] }, ..run };
        assert_eq!(decode(&encode(&choices)).unwrap(), choices);
    }

    #[test]
    fn every_library_scenario_round_trips_and_replays_from_its_link() {
        for (name, text) in crate::test_library() {
            let scenario = crate::parse(&text).unwrap_or_else(|errors| panic!("{name}: {:?}", errors[0]));
            let mut reference = Simulation::new(&scenario, RunConfig::default()).expect("library scenarios run");
            reference.run().expect("library scenarios finish");
            let report = reference.report().unwrap();
            // Share the run as if a person had chosen every step, looking at its middle.
            let run = SharedRun {
                scenario: text.clone(),
                seed: 7,
                policy: Policy::RoundRobin,
                forced: report.choices.clone(),
                step: report.steps / 2,
            };
            let link = encode(&run);
            let url = format!("https://example.org/ipclab/#{link}");
            assert!(url.len() < 2000, "{name}: share URL is {} characters", url.len());
            let decoded = decode(&link).unwrap();
            assert_eq!(decoded, run, "{name}");
            let mut replayed = decoded.start().unwrap();
            replayed.run().unwrap();
            assert_eq!(replayed.report().unwrap().trace_hash, report.trace_hash, "{name}");
            // And with no forced choices, the policy alone repeats the run.
            let plain = SharedRun { forced: Vec::new(), seed: 0, ..run };
            let mut replayed = decode(&encode(&plain)).unwrap().start().unwrap();
            replayed.run().unwrap();
            assert_eq!(replayed.report().unwrap().trace_hash, report.trace_hash, "{name}");
        }
    }

    #[test]
    fn damaged_links_say_why() {
        let text = encode(&sample());
        assert_eq!(decode(""), Err(ShareError::Empty));
        assert_eq!(decode("#"), Err(ShareError::Empty));
        assert_eq!(decode("hello"), Err(ShareError::NotALink));
        assert_eq!(decode("x1.abcd"), Err(ShareError::NotALink));
        assert_eq!(decode("v9.abcd"), Err(ShareError::UnknownVersion("v9".to_string())));
        assert_eq!(decode("v1.ab$d"), Err(ShareError::BadCharacter { position: 2, character: '$' }));
        assert_eq!(decode("v1.abcde"), Err(ShareError::BadLength));
        assert!(matches!(decode("v1.AA"), Err(ShareError::Corrupt(_))));
        // Cut the link short: either the length is impossible or the data no longer checks out.
        for cut in 4..text.len() {
            let result = decode(&text[..cut]);
            assert!(result.is_err(), "a link cut to {cut} characters decoded");
        }
        // Change one character anywhere in the body: never accepted silently.
        for index in 3..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            if let Ok(run) = decode(&changed) {
                panic!("a changed link at {index} decoded to {run:?}");
            }
        }
        let huge = "A".repeat(MAX_LINK_CHARS + 4);
        assert_eq!(decode(&format!("v1.{huge}")), Err(ShareError::TooLong { chars: MAX_LINK_CHARS + 7 }));
        for error in [ShareError::ChecksumMismatch, ShareError::TooLarge { limit_bytes: 1 }, ShareError::BadText] {
            assert!(error.to_string().len() > 20);
        }
    }

    #[test]
    fn a_bomb_is_stopped_at_the_size_limit() {
        // A literal followed by maximal matches, each doubling nothing but adding 131 bytes: enough
        // tokens to pass the limit many times over.
        let mut packed = vec![0u8, b'x'];
        for _ in 0..(MAX_DECODED_BYTES / MAX_MATCH + 10) {
            packed.push(255);
            packed.extend_from_slice(&1u16.to_le_bytes());
        }
        let mut blob = vec![1u8];
        blob.extend_from_slice(&packed);
        blob.extend_from_slice(&0u32.to_le_bytes());
        let link = format!("v1.{}", base64url_encode(&blob));
        assert_eq!(decode(&link), Err(ShareError::TooLarge { limit_bytes: MAX_DECODED_BYTES }));
        // A stored (unpacked) payload with a schedule claiming four billion choices is refused too.
        let mut payload = vec![0u8];
        payload.extend_from_slice(&0u64.to_le_bytes());
        payload.extend_from_slice(&0u64.to_le_bytes());
        payload.extend_from_slice(&0u32.to_le_bytes());
        payload.extend_from_slice(&1u32.to_le_bytes());
        payload.extend_from_slice(&2u32.to_le_bytes());
        payload.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut blob = vec![0u8];
        blob.extend_from_slice(&payload);
        blob.extend_from_slice(&crc32(&payload).to_le_bytes());
        let link = format!("v1.{}", base64url_encode(&blob));
        assert!(matches!(decode(&link), Err(ShareError::Corrupt(_)) | Err(ShareError::TooLarge { .. })));
    }

    #[test]
    fn an_invalid_choice_in_a_link_is_a_sentence() {
        let run = SharedRun {
            scenario: "process a {\n  sched_yield\n}\n".to_string(),
            seed: 0,
            policy: Policy::RoundRobin,
            forced: vec![9],
            step: 1,
        };
        let message = decode(&encode(&run)).unwrap().start().unwrap_err();
        assert!(message.contains("choice 1"), "{message}");
    }
}
