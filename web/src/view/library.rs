//! The scenario picker: the library ("Learn" in teaching order, then "Linux rules"), the challenges,
//! and the visitor's drafts, each listed by its title or name.

use crate::state::{Document, Fetching, Model, Msg, Then};
use crate::teach::catalog::{self, Group};
use crate::teach::challenge::CHALLENGES;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// The picker's value: the library scenario being fetched to open, or else what the editor holds
/// (empty for a link's scenario).
pub fn value_of(model: &Model) -> String {
    if let Some(Fetching { stem, then: Then::Open }) = model.library.pending() {
        return format!("library:{stem}");
    }
    match &model.document {
        Document::Library(stem) => format!("library:{stem}"),
        Document::Draft(id) => format!("draft:{id}"),
        Document::Challenge(index) => format!("challenge:{}", CHALLENGES[*index].id),
        Document::Link => String::new(),
    }
}

pub fn picker(model: &Model, send: &Callback<Msg>) -> Html {
    let current = value_of(model);
    let on_change = send.reform(|event: Event| {
        let select: HtmlSelectElement = event.target_unchecked_into();
        Msg::Open(select.value())
    });
    let entries = catalog::entries();
    let group = |group: Group| {
        html! {
            <optgroup label={group.label()}>
                { for entries.iter().filter(|entry| entry.group == group).map(|entry| {
                    let value = format!("library:{}", entry.stem);
                    html! {
                        <option value={value.clone()} selected={value == current}>
                            {format!("{}. {}", entry.number, entry.title)}
                        </option>
                    }
                }) }
            </optgroup>
        }
    };
    html! {
        <label class="field picker">
            <span>{"Scenario"}</span>
            <select id="library" onchange={on_change}>
                if model.document == Document::Link {
                    <option value="" selected=true disabled=true>{"(the scenario from a link)"}</option>
                }
                {group(Group::Learn)}
                {group(Group::LinuxRules)}
                <optgroup label="Challenges">
                    { for CHALLENGES.iter().map(|challenge| {
                        let value = format!("challenge:{}", challenge.id);
                        html! { <option value={value.clone()} selected={value == current}>{format!("{}: {}", challenge.title, challenge.goal_text)}</option> }
                    }) }
                </optgroup>
                <optgroup label="Your drafts">
                    { for model.drafts.list.iter().map(|draft| {
                        let value = format!("draft:{}", draft.id);
                        html! { <option value={value.clone()} selected={value == current}>{draft.name.clone()}</option> }
                    }) }
                    <option value="new">{"+ New draft"}</option>
                </optgroup>
            </select>
        </label>
    }
}
