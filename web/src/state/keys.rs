//! The keyboard: which key does what, decided from plain data so that it is tested without a browser.
//!
//! The app turns each `keydown` into a [`KeyPress`] and asks [`action`]; when it gives a message, the
//! default action of the key is prevented and the message sent. Keys typed into the editor or another
//! text field always stay there. Buttons keep Space and Enter for themselves (pressing a focused button),
//! and the step slider keeps its arrows, Home and End (which move it), but Space on the slider plays.

use super::Msg;

/// What kind of element had the focus when the key was pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A text area, a text or number field: typing goes there.
    Text,
    /// A drop-down list.
    Select,
    /// The range slider of the timeline.
    Slider,
    Button,
    /// Anything else (the page, a panel, a lane).
    Page,
}

/// A key press, as plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPress {
    /// The `key` of the event (`ArrowRight`, ` `, `?`, `1`, ...).
    pub key: String,
    pub target: Target,
    /// Control, Meta or Alt held (those combinations belong to the browser).
    pub modified: bool,
}

/// The shortcuts, as the help panel lists them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("→", "take one step"),
    ("←", "go back one step"),
    ("Space", "play or pause"),
    ("Home / End", "jump to the start or the end"),
    ("1 – 5", "answer a prediction"),
    ("?", "open this help"),
    ("Esc", "close a panel or a notice"),
];

/// The message a key press sends, if any.
pub fn action(press: &KeyPress) -> Option<Msg> {
    if press.modified {
        return None;
    }
    let key = press.key.as_str();
    if key == "Escape" {
        return Some(Msg::Escape);
    }
    match press.target {
        Target::Text | Target::Select => return None,
        Target::Slider => return matches!(key, " " | "Spacebar").then_some(Msg::TogglePlay),
        Target::Button if matches!(key, " " | "Spacebar" | "Enter") => return None,
        Target::Button | Target::Page => {}
    }
    match key {
        "ArrowRight" => Some(Msg::Forward),
        "ArrowLeft" => Some(Msg::Back),
        " " | "Spacebar" => Some(Msg::TogglePlay),
        "Home" => Some(Msg::ToStart),
        "End" => Some(Msg::ToEnd),
        "?" => Some(Msg::Help(true)),
        digit if digit.len() == 1 && ('1'..='9').contains(&digit.chars().next().unwrap_or('0')) => {
            Some(Msg::Answer(digit.parse::<usize>().unwrap_or(1) - 1))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(key: &str, target: Target) -> Option<Msg> {
        action(&KeyPress { key: key.to_string(), target, modified: false })
    }

    #[test]
    fn typing_in_the_editor_never_steps_or_plays() {
        for key in ["ArrowRight", "ArrowLeft", " ", "Home", "End", "?", "1", "p"] {
            assert_eq!(press(key, Target::Text), None, "{key:?}");
            assert_eq!(press(key, Target::Select), None, "{key:?}");
        }
        assert_eq!(press("Escape", Target::Text), Some(Msg::Escape));
    }

    #[test]
    fn the_page_steps_plays_and_answers() {
        assert_eq!(press("ArrowRight", Target::Page), Some(Msg::Forward));
        assert_eq!(press("ArrowLeft", Target::Page), Some(Msg::Back));
        assert_eq!(press(" ", Target::Page), Some(Msg::TogglePlay));
        assert_eq!(press("Home", Target::Page), Some(Msg::ToStart));
        assert_eq!(press("End", Target::Page), Some(Msg::ToEnd));
        assert_eq!(press("?", Target::Page), Some(Msg::Help(true)));
        assert_eq!(press("3", Target::Page), Some(Msg::Answer(2)));
        assert_eq!(press("0", Target::Page), None);
        assert_eq!(action(&KeyPress { key: "ArrowRight".into(), target: Target::Page, modified: true }), None);
    }

    #[test]
    fn space_plays_from_the_slider_and_presses_a_focused_button() {
        assert_eq!(press(" ", Target::Slider), Some(Msg::TogglePlay));
        assert_eq!(press("ArrowRight", Target::Slider), None, "the slider moves itself");
        assert_eq!(press(" ", Target::Button), None);
        assert_eq!(press("Enter", Target::Button), None);
        assert_eq!(press("ArrowRight", Target::Button), Some(Msg::Forward));
    }
}
