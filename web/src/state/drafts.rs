//! The visitor's drafts: several named scenarios kept in the browser's local storage.
//!
//! Pure data with a JSON form (read and written in `drafts_json.rs`); the reducer decides when to save
//! and the app writes the JSON. A draft is
//! never overwritten by opening something else (it stays in the list), and a deleted one can be put back
//! with Undo. Bounded like everything else: at most [`MAX_DRAFTS`] drafts, names of at most
//! [`MAX_NAME_CHARS`] characters, and texts no larger than the simulator accepts.

/// Most drafts kept.
pub const MAX_DRAFTS: usize = 20;
/// Longest draft name, in characters.
pub const MAX_NAME_CHARS: usize = 60;
/// Largest draft text, in bytes: the largest scenario the simulator reads.
pub const MAX_TEXT_BYTES: usize = sim_core::Limits::DEFAULT.max_source_bytes as usize;

/// One draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub id: u32,
    pub name: String,
    pub text: String,
}

/// Every draft, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drafts {
    pub next_id: u32,
    pub list: Vec<Draft>,
}

impl Drafts {
    /// Reads the stored JSON; anything unreadable gives no drafts rather than an error (a damaged entry
    /// must not stop the page from opening), and the limits are applied again.
    pub fn from_json(json: &str) -> Drafts {
        let mut drafts = super::drafts_json::read_drafts(json).unwrap_or_default();
        drafts.list.truncate(MAX_DRAFTS);
        drafts.list.retain(|draft| draft.text.len() <= MAX_TEXT_BYTES);
        for draft in &mut drafts.list {
            draft.name = clean_name(&draft.name).unwrap_or_else(|| format!("Draft {}", draft.id));
        }
        let highest = drafts.list.iter().map(|draft| draft.id).max().unwrap_or(0);
        drafts.next_id = drafts.next_id.max(highest + 1).max(1);
        drafts
    }

    pub fn to_json(&self) -> String {
        super::drafts_json::write_drafts(self)
    }

    pub fn get(&self, id: u32) -> Option<&Draft> {
        self.list.iter().find(|draft| draft.id == id)
    }

    /// A name like `base` that no draft has yet (`base`, `base 2`, `base 3`, ...).
    pub fn unique_name(&self, base: &str) -> String {
        let base = clean_name(base).unwrap_or_else(|| "Draft".to_string());
        if !self.list.iter().any(|draft| draft.name == base) {
            return base;
        }
        (2..)
            .map(|number| format!("{base} {number}"))
            .find(|name| !self.list.iter().any(|draft| &draft.name == name))
            .expect("some number is free")
    }

    /// Adds a draft and returns its id, or says why it cannot.
    pub fn create(&mut self, base_name: &str, text: String) -> Result<u32, String> {
        if self.list.len() >= MAX_DRAFTS {
            return Err(format!(
                "You already have {MAX_DRAFTS} drafts, the most this page keeps; delete one to keep another. \
                 Your text stays in the editor until then."
            ));
        }
        if text.len() > MAX_TEXT_BYTES {
            return Err(format!(
                "This text is over {MAX_TEXT_BYTES} bytes, more than a scenario may hold; it is not saved."
            ));
        }
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        let name = self.unique_name(base_name);
        self.list.push(Draft { id, name, text });
        Ok(id)
    }

    /// Replaces a draft's text. A text over the size limit is refused, and the stored one kept.
    pub fn update(&mut self, id: u32, text: &str) -> Result<(), String> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(format!("This text is over {MAX_TEXT_BYTES} bytes; the draft keeps its last saved text."));
        }
        if let Some(draft) = self.list.iter_mut().find(|draft| draft.id == id) {
            draft.text = text.to_string();
        }
        Ok(())
    }

    /// Renames a draft; the name is trimmed, must not be empty, and must be unique.
    pub fn rename(&mut self, id: u32, name: &str) -> Result<String, String> {
        let Some(name) = clean_name(name) else { return Err("A draft needs a name.".to_string()) };
        if self.list.iter().any(|draft| draft.id != id && draft.name == name) {
            return Err(format!("Another draft is already called “{name}”."));
        }
        let draft = self.list.iter_mut().find(|draft| draft.id == id).ok_or("That draft no longer exists.")?;
        draft.name = name.clone();
        Ok(name)
    }

    /// Removes a draft, returning it and where it was (for Undo).
    pub fn remove(&mut self, id: u32) -> Option<(usize, Draft)> {
        let index = self.list.iter().position(|draft| draft.id == id)?;
        Some((index, self.list.remove(index)))
    }

    /// Puts a removed draft back where it was.
    pub fn restore(&mut self, index: usize, draft: Draft) {
        if self.get(draft.id).is_none() {
            let index = index.min(self.list.len());
            self.list.insert(index, draft);
        }
    }
}

/// A name trimmed and cut to [`MAX_NAME_CHARS`], or `None` when nothing is left.
fn clean_name(name: &str) -> Option<String> {
    let name: String = name.trim().chars().filter(|character| !character.is_control()).take(MAX_NAME_CHARS).collect();
    let name = name.trim().to_string();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_get_unique_names_and_round_trip_through_json() {
        let mut drafts = Drafts::default();
        let first = drafts.create("pipe-parent-child (edited)", "a".to_string()).unwrap();
        let second = drafts.create("pipe-parent-child (edited)", "b".to_string()).unwrap();
        assert_ne!(first, second);
        assert_eq!(drafts.get(second).unwrap().name, "pipe-parent-child (edited) 2");
        drafts.update(first, "a2").unwrap();
        let restored = Drafts::from_json(&drafts.to_json());
        assert_eq!(restored, drafts);
        assert_eq!(restored.get(first).unwrap().text, "a2");
    }

    #[test]
    fn a_removed_draft_comes_back_where_it_was() {
        let mut drafts = Drafts::default();
        let ids: Vec<u32> = (0..3).map(|index| drafts.create("Draft", index.to_string()).unwrap()).collect();
        let (index, draft) = drafts.remove(ids[1]).unwrap();
        assert_eq!(drafts.list.len(), 2);
        drafts.restore(index, draft);
        assert_eq!(drafts.list.iter().map(|draft| draft.id).collect::<Vec<_>>(), ids);
        // A new draft never reuses the id of a removed one.
        let (_, removed) = drafts.remove(ids[2]).unwrap();
        let new = drafts.create("Draft", String::new()).unwrap();
        assert_ne!(new, removed.id);
    }

    #[test]
    fn names_are_checked_and_limits_hold() {
        let mut drafts = Drafts::default();
        let first = drafts.create("one", String::new()).unwrap();
        let second = drafts.create("two", String::new()).unwrap();
        assert!(drafts.rename(second, "  ").is_err());
        assert!(drafts.rename(second, "one").is_err());
        assert_eq!(drafts.rename(first, &"x".repeat(200)).unwrap().chars().count(), MAX_NAME_CHARS);
        for index in drafts.list.len()..MAX_DRAFTS {
            drafts.create("more", index.to_string()).unwrap();
        }
        assert!(drafts.create("one too many", String::new()).is_err());
        assert!(drafts.update(first, &"x".repeat(MAX_TEXT_BYTES + 1)).is_err());
    }

    #[test]
    fn damaged_storage_gives_no_drafts_and_ids_stay_fresh() {
        assert_eq!(Drafts::from_json("{not json").list.len(), 0);
        let stored = r#"{"next_id":0,"list":[{"id":7,"name":"","text":"x"}]}"#;
        let drafts = Drafts::from_json(stored);
        assert_eq!(drafts.list[0].name, "Draft 7");
        assert_eq!(drafts.next_id, 8);
    }
}
