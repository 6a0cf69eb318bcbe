//! The JSON form of the drafts, read and written by hand for exactly their shape:
//! `{"next_id":N,"list":[{"id":N,"name":"...","text":"..."},...]}`, the text `serde_json` gives the same
//! data. Reading accepts any JSON text of that shape (keys in any order, unknown keys skipped, any escapes
//! and spacing) and gives `None` for anything else. A general JSON parser would cost the bundle a fifth
//! of its size for three fields; the tests check both directions against `serde_json`.

use super::drafts::{Draft, Drafts};
use sim_core::present::json::write_string;

/// `{"next_id":N,"list":[{"id":N,"name":"...","text":"..."},...]}`.
pub fn write_drafts(drafts: &Drafts) -> String {
    let mut out = format!("{{\"next_id\":{},\"list\":[", drafts.next_id);
    for (index, draft) in drafts.list.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"id\":{},\"name\":", draft.id));
        write_string(&mut out, &draft.name);
        out.push_str(",\"text\":");
        write_string(&mut out, &draft.text);
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// The drafts in `text`, or `None` if it is not JSON of their shape.
pub fn read_drafts(text: &str) -> Option<Drafts> {
    let mut reader = Reader { bytes: text.as_bytes(), at: 0 };
    let (mut next_id, mut list) = (None, None);
    reader.members(|reader, key| {
        match key.as_str() {
            "next_id" => next_id = Some(reader.number()?),
            "list" => {
                let mut drafts = Vec::new();
                reader.elements(|reader| {
                    drafts.push(reader.draft()?);
                    Some(())
                })?;
                list = Some(drafts);
            }
            _ => reader.skip(0)?,
        }
        Some(())
    })?;
    // Nothing but spacing may follow.
    if reader.peek().is_some() {
        return None;
    }
    Some(Drafts { next_id: next_id?, list: list? })
}

/// Nesting allowed in a skipped value, so that a damaged entry cannot exhaust the stack.
const MAX_DEPTH: u32 = 32;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn space(&mut self) {
        while self.bytes.get(self.at).is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        if self.peek()? != byte {
            return None;
        }
        self.at += 1;
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = std::str::from_utf8(self.bytes.get(self.at..self.at + 4)?).ok()?;
        self.at += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            match byte {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let escaped = *self.bytes.get(self.at)?;
                    self.at += 1;
                    let character = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    let mut buffer = [0; 4];
                    out.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
                }
                control if control < 0x20 => return None,
                other => out.push(other),
            }
        }
    }

    /// The character of a `\uXXXX` escape (its `\u` already read); beyond the basic plane, a surrogate
    /// pair of two escapes.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if !(0xd800..0xdc00).contains(&first) {
            return char::from_u32(first);
        }
        if self.bytes.get(self.at..self.at + 2)? != b"\\u" {
            return None;
        }
        self.at += 2;
        let second = self.hex4()?;
        if !(0xdc00..0xe000).contains(&second) {
            return None;
        }
        char::from_u32(0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00))
    }

    fn number(&mut self) -> Option<u32> {
        self.space();
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        std::str::from_utf8(&self.bytes[start..self.at]).ok()?.parse().ok()
    }

    /// Any JSON value, read and dropped (a key this version does not know).
    fn skip(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => self.members(|reader, _| reader.skip(depth + 1)),
            b'[' => self.elements(|reader| reader.skip(depth + 1)),
            _ => {
                let start = self.at;
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'+' | b'.'))
                {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }

    /// `{ "key": value, ... }`, each value read by `member`.
    fn members(&mut self, mut member: impl FnMut(&mut Self, String) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            if self.eat(b'}').is_some() {
                return Some(());
            }
            self.eat(b',')?;
        }
    }

    /// `[ value, ... ]`, each value read by `element`.
    fn elements(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            element(self)?;
            if self.eat(b']').is_some() {
                return Some(());
            }
            self.eat(b',')?;
        }
    }

    fn draft(&mut self) -> Option<Draft> {
        let (mut id, mut name, mut text) = (None, None, None);
        self.members(|reader, key| {
            match key.as_str() {
                "id" => id = Some(reader.number()?),
                "name" => name = Some(reader.string()?),
                "text" => text = Some(reader.string()?),
                _ => reader.skip(0)?,
            }
            Some(())
        })?;
        Some(Draft { id: id?, name: name?, text: text? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts that need every kind of escape, and characters beyond the basic plane.
    fn awkward_texts() -> Vec<String> {
        let mut texts: Vec<String> = (0u8..0x80).map(|byte| format!("a{}b", byte as char)).collect();
        texts.extend(
            [
                "",
                "\"quoted\" \\ back\\slash",
                "line\nline\r\n\ttab",
                "é ü ß – “quotes” 日本 🦀",
                "\u{7f}\u{80}\u{2028}",
            ]
            .map(str::to_string),
        );
        texts
    }

    /// The drafts as earlier versions stored them: serde's derived form, written by `serde_json`.
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Stored {
        next_id: u32,
        list: Vec<StoredDraft>,
    }

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct StoredDraft {
        id: u32,
        name: String,
        text: String,
    }

    #[test]
    fn the_json_form_is_the_one_serde_json_writes_and_reads() {
        for text in awkward_texts() {
            let name = format!("n{text}");
            let drafts = Drafts { next_id: 4, list: vec![Draft { id: 3, name: name.clone(), text: text.clone() }] };
            let stored =
                Stored { next_id: 4, list: vec![StoredDraft { id: 3, name: name.clone(), text: text.clone() }] };
            let ours = write_drafts(&drafts);
            // Byte for byte what serde_json wrote for earlier versions, and read back by both.
            assert_eq!(ours, serde_json::to_string(&stored).unwrap(), "{text:?}");
            assert_eq!(serde_json::from_str::<Stored>(&ours).unwrap(), stored);
            assert_eq!(read_drafts(&ours), Some(drafts.clone()), "{text:?}");
            // Pretty-printed, with the keys in another order and an unknown key, it reads the same.
            let other = serde_json::json!({
                "list": [{ "text": text, "extra": [1, { "a": null }, true, -2.5e3], "name": name, "id": 3 }],
                "next_id": 4,
            });
            let pretty = serde_json::to_string_pretty(&other).unwrap();
            assert_eq!(read_drafts(&pretty), Some(drafts), "{pretty}");
        }
    }

    #[test]
    fn escapes_of_every_kind_are_read() {
        let stored = r#"{"next_id":2,"list":[{"id":1,"name":"caf\u00e9 \ud83e\udd80","text":"a\/b\u0000\""}]}"#;
        let drafts = read_drafts(stored).expect("valid JSON of the drafts' shape");
        assert_eq!(drafts.list[0].name, "café 🦀");
        assert_eq!(drafts.list[0].text, "a/b\u{0}\"");
        assert_eq!(serde_json::from_str::<serde_json::Value>(stored).unwrap()["list"][0]["name"], "café 🦀");
    }

    #[test]
    fn anything_but_the_drafts_shape_is_refused() {
        let deep = format!(r#"{{"next_id":1,"deep":{}{},"list":[]}}"#, "[".repeat(100), "]".repeat(100));
        for damaged in [
            "",
            "{",
            "[]",
            r#"{"next_id":1}"#,
            r#"{"next_id":1,"list":[{"id":1,"name":"x"}]}"#,
            r#"{"next_id":"1","list":[]}"#,
            r#"{"next_id":1,"list":[]} trailing"#,
            r#"{"next_id":1,"list":[{"id":1,"name":"x","text":"unterminated}]}"#,
            r#"{"next_id":1,"list":[{"id":1,"name":"\ud800","text":""}]}"#,
            "{\"next_id\":1,\"list\":[{\"id\":1,\"name\":\"raw\u{1}control\",\"text\":\"\"}]}",
            &deep,
        ] {
            assert_eq!(read_drafts(damaged), None, "{damaged}");
        }
    }
}
