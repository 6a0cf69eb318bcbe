//! The reducer's behaviour, natively: messages in, state and effects out, no browser.

use super::*;
use crate::teach::challenge::CHALLENGES;

fn library(stem: &str) -> &'static str {
    catalog::text(stem).expect("a library scenario")
}

/// A page opened with nothing stored, on `fragment`.
fn opened_with(init: Init) -> (Model, Vec<Effect>) {
    let mut model = Model::new();
    let effects = update(&mut model, Msg::Init(Init { page_address: "http://127.0.0.1:8000/".into(), ..init }));
    (model, effects)
}

fn fresh() -> Model {
    opened_with(Init::default()).0
}

fn send(model: &mut Model, messages: &[Msg]) -> Vec<Effect> {
    messages.iter().flat_map(|msg| update(model, msg.clone())).collect()
}

/// Sends `msg` as a page served with its library would: every library text the update asks for
/// arrives, and the effects of both are returned.
fn served(model: &mut Model, msg: Msg) -> Vec<Effect> {
    let mut effects = update(model, msg);
    while let Some(stem) = effects.iter().find_map(|effect| match effect {
        Effect::FetchScenario(stem) => Some(*stem),
        _ => None,
    }) {
        effects.retain(|effect| *effect != Effect::FetchScenario(stem));
        effects.extend(update(model, Msg::ScenarioLoaded(stem, Ok(library(stem).to_string()))));
    }
    effects
}

fn fetches(effects: &[Effect]) -> Vec<&'static str> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::FetchScenario(stem) => Some(*stem),
            _ => None,
        })
        .collect()
}

fn link(text: &str, forced: Vec<Pid>, step: u64) -> String {
    share::encode(&share::SharedRun { scenario: text.to_string(), seed: 0, policy: Policy::RoundRobin, forced, step })
}

#[test]
fn the_page_opens_on_the_default_scenario_at_step_zero() {
    let model = fresh();
    assert_eq!(model.document, Document::Library(DEFAULT_SCENARIO));
    assert_eq!(model.text, library(DEFAULT_SCENARIO));
    assert_eq!(model.position(), 0);
    assert!(model.notice.is_none());
}

#[test]
fn a_link_opens_its_run_and_a_damaged_one_changes_nothing() {
    let text = library("shell-pipeline");
    let (model, effects) = opened_with(Init { fragment: link(text, Vec::new(), 4), ..Init::default() });
    assert_eq!(model.document, Document::Library("shell-pipeline"));
    assert_eq!(model.position(), 4);
    assert!(model.notice.as_ref().unwrap().text.contains("Opened the run from the link"));
    assert!(!effects.iter().any(|effect| matches!(effect, Effect::Focus(_))), "opening the page moves no focus");

    let mut drafts = Drafts::default();
    let id = drafts.create("mine", "process a {\n}\n".to_string()).unwrap();
    let (model, _) = opened_with(Init {
        drafts_json: Some(drafts.to_json()),
        open: Some(format!("draft:{id}")),
        fragment: "v1.AAAA$$".to_string(),
        ..Init::default()
    });
    assert_eq!(model.document, Document::Draft(id));
    assert_eq!(model.text, "process a {\n}\n");
    let notice = model.notice.clone().unwrap();
    assert_eq!(notice.kind, NoticeKind::Error);
    assert!(notice.text.contains("could not be opened"), "{}", notice.text);

    // A good link opened over the draft: the draft stays one click away.
    let mut model = model;
    update(&mut model, Msg::LinkChanged(link(library("shell-pipeline"), Vec::new(), 2)));
    assert_eq!(model.document, Document::Library("shell-pipeline"));
    let notice = model.notice.clone().unwrap();
    assert!(notice.text.contains("kept under Your drafts"), "{}", notice.text);
    update(&mut model, Msg::Undo);
    assert_eq!(model.document, Document::Draft(id));
}

#[test]
fn the_single_draft_of_earlier_versions_becomes_a_named_draft() {
    let (model, effects) = opened_with(Init { legacy_draft: Some("process old {\n}\n".into()), ..Init::default() });
    assert_eq!(model.drafts.list.len(), 1);
    assert_eq!(model.drafts.list[0].name, "My earlier draft");
    assert!(effects.contains(&Effect::ForgetLegacyDraft));
}

#[test]
fn editing_a_library_scenario_makes_a_draft_and_picking_another_keeps_it_with_undo() {
    let mut model = fresh();
    let edited = format!("{}# my note\n", model.text);
    let effects = update(&mut model, Msg::Edit(edited.clone()));
    let Document::Draft(id) = model.document else { panic!("an edit of a library scenario makes a draft") };
    assert!(effects.iter().any(|effect| matches!(effect, Effect::SaveDrafts(_))));
    assert!(effects.contains(&Effect::ClearFragment), "the address no longer describes the page");
    assert_eq!(model.drafts.get(id).unwrap().text, edited);
    assert!(model.notice.as_ref().unwrap().text.contains("saved as the draft"));

    // More typing goes into the same draft.
    let more = format!("{edited}# another\n");
    update(&mut model, Msg::Edit(more.clone()));
    assert_eq!(model.document, Document::Draft(id));
    assert_eq!(model.drafts.list.len(), 1);
    assert_eq!(model.drafts.get(id).unwrap().text, more);

    // Picking a library scenario leaves the draft in the list, clears the link, and moves the focus
    // off the picker (so that → steps instead of changing the pick).
    let effects = served(&mut model, Msg::Open("library:eof-never-comes".into()));
    assert_eq!(model.document, Document::Library("eof-never-comes"));
    assert_eq!(model.drafts.get(id).unwrap().text, more);
    assert!(effects.contains(&Effect::ClearFragment));
    assert!(effects.contains(&Effect::SaveOpen("library:eof-never-comes".into())));
    assert!(effects.contains(&Effect::Focus("stage")));
    let notice = model.notice.clone().unwrap();
    assert!(notice.text.contains("kept under Your drafts"), "{}", notice.text);
    assert!(notice.undo.is_some());

    // Stepping does not take the Undo away; Undo brings the draft back.
    update(&mut model, Msg::Forward);
    assert!(model.notice.is_some());
    update(&mut model, Msg::Undo);
    assert_eq!(model.document, Document::Draft(id));
    assert_eq!(model.text, more);
}

#[test]
fn a_deleted_draft_comes_back_with_undo() {
    let mut model = fresh();
    send(&mut model, &[Msg::Open("new".into())]);
    let Document::Draft(id) = model.document else { panic!("a new draft is open") };
    send(&mut model, &[Msg::RenameDraft("ping pong".into()), Msg::DeleteDraft]);
    assert!(model.drafts.get(id).is_none());
    assert_eq!(model.document, Document::Library(DEFAULT_SCENARIO));
    update(&mut model, Msg::Undo);
    assert_eq!(model.document, Document::Draft(id));
    assert_eq!(model.drafts.get(id).unwrap().name, "ping pong");
}

#[test]
fn choices_survive_comments_and_spacing_and_a_real_change_says_it_discards_them() {
    let mut model = fresh();
    send(&mut model, &[Msg::Forward, Msg::Forward]);
    let runnable = model.engine.as_ref().unwrap().runnable();
    let pick = *runnable.last().unwrap();
    update(&mut model, Msg::Pick(pick));
    let forced = model.engine.as_ref().unwrap().setup.forced.clone();
    assert_eq!(forced.len(), 3);

    // A comment and extra spaces: the same program, the same choices, the same step.
    let commented = model.text.replace("process parent", "# a comment\nprocess   parent");
    update(&mut model, Msg::Edit(commented.clone()));
    assert_eq!(model.engine.as_ref().unwrap().setup.forced, forced);
    assert_eq!(model.position(), 3);
    assert!(!model.notice.as_ref().is_some_and(|notice| notice.text.contains("no longer apply")));

    // A changed program: the choices go, and the page says so.
    let changed = commented.replace("wait -> child exited 0", "wait -> child exited 0\n  sched_yield");
    update(&mut model, Msg::Edit(changed));
    assert!(model.engine.as_ref().unwrap().setup.forced.is_empty());
    assert!(model.notice.as_ref().unwrap().text.contains("3 scheduling choices no longer apply"));

    // Back to the program they were made for: they return.
    update(&mut model, Msg::Edit(commented));
    assert_eq!(model.engine.as_ref().unwrap().setup.forced, forced);
    assert!(model.notice.as_ref().unwrap().text.contains("apply again"));
}

#[test]
fn a_new_scheduler_or_seed_keeps_the_choices() {
    let mut model = fresh();
    send(&mut model, &[Msg::Forward, Msg::Forward, Msg::Pick(2)]);
    let forced = model.engine.as_ref().unwrap().setup.forced.clone();
    update(&mut model, Msg::Policy("random".into()));
    assert_eq!(model.engine.as_ref().unwrap().setup.forced, forced);
    assert!(model.notice.as_ref().unwrap().text.contains("are kept"));
    update(&mut model, Msg::Seed("42".into()));
    assert_eq!(model.engine.as_ref().unwrap().setup.seed, 42);
    assert_eq!(model.engine.as_ref().unwrap().setup.forced, forced);
    update(&mut model, Msg::Seed("forty".into()));
    assert_eq!(model.notice.as_ref().unwrap().kind, NoticeKind::Error);
    // The error goes once the visitor does something else that changes the run.
    update(&mut model, Msg::Seed("7".into()));
    assert_ne!(model.notice.as_ref().map(|notice| notice.kind), Some(NoticeKind::Error));
}

#[test]
fn a_process_that_cannot_run_is_not_picked() {
    let mut model = fresh();
    let before = model.engine.as_ref().unwrap().setup.clone();
    update(&mut model, Msg::Pick(3));
    assert_eq!(model.engine.as_ref().unwrap().setup, before);
    assert_eq!(model.notice.as_ref().unwrap().kind, NoticeKind::Error);
}

#[test]
fn predict_asks_before_the_call_and_reveals_after_it() {
    let mut model = fresh();
    update(&mut model, Msg::SetMode(ModeKind::Predict));
    // Step to the first question.
    let mut guard = 0;
    while model.question().is_none() {
        update(&mut model, Msg::Forward);
        guard += 1;
        assert!(guard < 20, "a question comes");
    }
    let (step, call) = model.question().unwrap();
    assert_eq!(model.position() + 1, step);
    // Forward does not run the call before an answer.
    let effects = update(&mut model, Msg::Forward);
    assert_eq!(model.position() + 1, step);
    assert!(effects.contains(&Effect::Focus("answer-1")));
    let right = predict::right_choice(call.asked, &call.happened).unwrap();
    update(&mut model, Msg::Answer(right));
    assert_eq!(model.position(), step);
    assert!(model.announcement.starts_with("Right."), "{}", model.announcement);
    let Mode::Predict(predictions) = &model.mode else { panic!("still predicting") };
    assert_eq!(predictions.score(), (1, 1));
    // Going back and forward again does not ask twice.
    send(&mut model, &[Msg::Back]);
    assert!(model.question().is_none());
    send(&mut model, &[Msg::Forward]);
    assert_eq!(model.position(), step);
}

#[test]
fn playback_stops_at_a_question() {
    let mut model = fresh();
    update(&mut model, Msg::SetMode(ModeKind::Predict));
    update(&mut model, Msg::TogglePlay);
    assert!(model.playing);
    for _ in 0..20 {
        update(&mut model, Msg::Tick);
    }
    assert!(!model.playing);
    assert!(model.question().is_some());
    assert!(model.announcement.starts_with("Your turn"), "{}", model.announcement);
}

#[test]
fn a_challenge_is_won_by_picking_and_announced_once() {
    let index = challenge::by_id("one-read-two-writes").unwrap();
    let mut model = fresh();
    update(&mut model, Msg::StartChallenge(index));
    assert_eq!(model.document, Document::Challenge(index));
    update(&mut model, Msg::ToEnd);
    assert_eq!(model.challenge_won_at(), None, "round-robin alone does not win");
    update(&mut model, Msg::ToStart);
    // Let the parent run until both its writes are done, before the reader reads.
    let parent = 2;
    for _ in 0..6 {
        update(&mut model, Msg::Pick(parent));
    }
    update(&mut model, Msg::ToEnd);
    let won = model.challenge_won_at().expect("the chosen schedule wins");
    assert!(won <= model.position());
    assert!(model.announcement.starts_with("Challenge won"), "{}", model.announcement);
    update(&mut model, Msg::Back);
    assert!(!model.announcement.starts_with("Challenge won"));
    // The share link replays the winning schedule.
    update(&mut model, Msg::ToEnd);
    let effects = update(&mut model, Msg::Share);
    assert!(model.notice.as_ref().unwrap().text.contains("winning schedule"));
    let fragment = effects.iter().find_map(|effect| match effect {
        Effect::SetFragment(fragment) => Some(fragment.clone()),
        _ => None,
    });
    let (reopened, _) = opened_with(Init { fragment: fragment.unwrap(), ..Init::default() });
    assert_eq!(reopened.mode, Mode::Challenges(Some(ChallengePlay { index, announced: true })));
    assert!(reopened.challenge_won_at().is_some());
    // Editing the program sets the challenge aside.
    let mut edited = model;
    let text = edited.text.replace("write p.w \"pong\"", "write p.w \"pong\"\n  sched_yield");
    update(&mut edited, Msg::Edit(text));
    assert_eq!(edited.challenge().map(|(_, intact)| intact), Some(false));
    assert_eq!(edited.challenge_won_at(), None);
}

#[test]
fn a_tour_walks_its_stops() {
    let mut model = fresh();
    update(&mut model, Msg::SetMode(ModeKind::Tours));
    update(&mut model, Msg::StartTour(0));
    let (_, steps) = model.tour().unwrap();
    assert_eq!(model.position(), 0);
    update(&mut model, Msg::TourNext);
    assert_eq!(Some(model.position()), steps[1]);
    assert!(model.announcement.starts_with("Stop 2 of"), "{}", model.announcement);
    update(&mut model, Msg::TourNext);
    update(&mut model, Msg::TourBack);
    assert_eq!(Some(model.position()), steps[1]);
}

#[test]
fn every_step_is_announced_and_stale_notices_go() {
    let mut model = fresh();
    update(&mut model, Msg::Forward);
    assert!(model.announcement.starts_with("Step 1 of 13."), "{}", model.announcement);
    model.notice = Some(Notice::new(NoticeKind::Info, "Opened the run from the link."));
    update(&mut model, Msg::Forward);
    assert!(model.notice.is_none(), "an information notice goes at the next step");
    model.notice = Some(Notice::new(NoticeKind::Error, "This link could not be opened."));
    update(&mut model, Msg::Forward);
    assert!(model.notice.is_some(), "an error stays until dismissed or replaced");
    update(&mut model, Msg::Escape);
    assert!(model.notice.is_none());
}

#[test]
fn panels_take_the_focus_and_give_it_back() {
    let mut model = fresh();
    assert_eq!(update(&mut model, Msg::Help(true)), vec![Effect::Focus("help-dialog")]);
    assert_eq!(model.panel, Some(Panel::Help));
    assert_eq!(update(&mut model, Msg::Escape), vec![Effect::Focus("help-button")]);
    assert_eq!(model.panel, None);
    update(&mut model, Msg::Reference(true));
    assert_eq!(update(&mut model, Msg::Reference(false)), vec![Effect::Focus("reference-button")]);
}

#[test]
fn the_reference_is_fetched_once_and_a_failed_fetch_is_tried_again() {
    let mut model = fresh();
    let effects = update(&mut model, Msg::Reference(true));
    assert_eq!(effects, vec![Effect::Focus("reference-dialog"), Effect::FetchReference]);
    assert_eq!(model.reference, Reference::Loading);
    update(&mut model, Msg::ReferenceLoaded(Err("the server answered with status 404".into())));
    assert_eq!(model.reference, Reference::Failed("the server answered with status 404".into()));
    update(&mut model, Msg::Reference(false));
    assert!(update(&mut model, Msg::Reference(true)).contains(&Effect::FetchReference), "tried again");
    update(&mut model, Msg::ReferenceLoaded(Ok("# The scenario language".into())));
    update(&mut model, Msg::Escape);
    assert_eq!(update(&mut model, Msg::Reference(true)), vec![Effect::Focus("reference-dialog")], "kept");
    assert_eq!(model.reference, Reference::Loaded("# The scenario language".into()));
}

#[test]
fn playback_starts_and_stops_a_timer() {
    let mut model = fresh();
    assert_eq!(update(&mut model, Msg::TogglePlay), vec![Effect::StartTimer { period_ms: 250 }]);
    assert_eq!(update(&mut model, Msg::Speed(60)), vec![Effect::StopTimer, Effect::StartTimer { period_ms: 16 }]);
    for _ in 0..20 {
        update(&mut model, Msg::Tick);
    }
    assert!(!model.playing, "playback stops at the end");
    assert!(model.engine.as_ref().unwrap().at_end());
}

#[test]
fn a_parse_error_keeps_the_last_good_run_on_screen() {
    let mut model = fresh();
    send(&mut model, &[Msg::Forward, Msg::Forward, Msg::Forward]);
    let broken = format!("{}\nprocess {{", model.text);
    update(&mut model, Msg::Edit(broken.clone()));
    assert!(!model.diagnostics.is_empty());
    assert_eq!(model.text, broken);
    assert!(model.stale());
    assert_eq!(model.position(), 3);
}

#[test]
fn a_challenge_reopens_after_a_reload() {
    let index = 1;
    let (model, _) = opened_with(Init { open: Some(format!("challenge:{}", CHALLENGES[index].id)), ..Init::default() });
    assert_eq!(model.document, Document::Challenge(index));
    assert!(matches!(model.mode, Mode::Challenges(Some(_))));
}

#[test]
fn answers_survive_an_edit_that_leaves_the_program_as_it_was() {
    let mut model = fresh();
    update(&mut model, Msg::SetMode(ModeKind::Predict));
    while model.question().is_none() {
        update(&mut model, Msg::Forward);
    }
    update(&mut model, Msg::Answer(0));
    let position = model.position();
    let commented = format!("# a note\n{}", model.text);
    update(&mut model, Msg::Edit(commented));
    assert_eq!(model.position(), position);
    let Mode::Predict(predictions) = &model.mode else { panic!("still predicting") };
    assert_eq!(predictions.score().1, 1, "the answer is kept");
}

#[test]
fn a_tour_runs_the_scenario_as_written_even_after_picks() {
    let mut model = fresh();
    send(&mut model, &[Msg::Forward, Msg::Forward, Msg::Pick(2)]);
    update(&mut model, Msg::StartTour(0));
    assert!(model.engine.as_ref().unwrap().setup.forced.is_empty());
    let (_, steps) = model.tour().unwrap();
    assert!(steps.iter().all(Option::is_some), "every stop is reached: {steps:?}");
}

#[test]
fn undo_goes_back_to_a_challenge_with_its_picks() {
    let mut model = fresh();
    update(&mut model, Msg::StartChallenge(0));
    send(&mut model, &[Msg::Pick(2), Msg::Pick(2)]);
    served(&mut model, Msg::Open("library:shell-pipeline".into()));
    assert_eq!(model.mode, Mode::Explore);
    update(&mut model, Msg::Undo);
    assert_eq!(model.document, Document::Challenge(0));
    assert!(matches!(model.mode, Mode::Challenges(Some(ChallengePlay { index: 0, .. }))));
    assert_eq!(model.engine.as_ref().unwrap().setup.forced, vec![2, 2]);
    assert_eq!(model.position(), 2);
}

#[test]
fn a_scenario_s_schedule_is_followed_until_a_pick_leaves_it() {
    let stem = "probe-waitpid-wnohang";
    let native = crate::library::LIBRARY.iter().find(|(candidate, _, _)| *candidate == stem).unwrap().2;
    let mut model = fresh();
    served(&mut model, Msg::Open(format!("library:{stem}")));
    let engine = model.engine.as_ref().unwrap();
    // The schedule line pins every step of this run: the run is the one the native build made.
    assert_eq!(engine.schedule_line(), Some(3));
    assert_eq!(engine.pinned_steps(), 10);
    assert_eq!(Some(engine.trace_hash()), native);
    let scheduled = engine.choices().to_vec();

    // At step 2 the schedule runs the child; picking the parent instead leaves the schedule.
    update(&mut model, Msg::Forward);
    assert_eq!(scheduled[1], 3, "the schedule runs the child second");
    update(&mut model, Msg::Pick(2));
    let engine = model.engine.as_ref().unwrap();
    assert_eq!(engine.setup.forced, vec![2, 2]);
    assert_eq!(engine.pinned_steps(), 0);
    assert_ne!(engine.choices(), scheduled.as_slice());
    let notice = model.notice.clone().unwrap();
    assert!(notice.text.contains("no longer follows the scenario's schedule (line 3"), "{}", notice.text);

    // Forgetting the choices follows the schedule again, at the same step.
    update(&mut model, Msg::ForgetChoices);
    let engine = model.engine.as_ref().unwrap();
    assert!(engine.setup.forced.is_empty());
    assert_eq!(engine.choices(), scheduled.as_slice());
    assert_eq!(engine.pinned_steps(), 10);
    assert_eq!(model.position(), 2);
    assert!(model.notice.as_ref().unwrap().text.contains("follows the scenario's schedule (line 3) again"));
}

#[test]
fn a_pick_after_the_schedule_has_run_out_says_nothing_about_it() {
    // The schedule pins the first step only; round-robin picks after it.
    let text =
        "schedule b\nprocess a {\n  sched_yield\n  sched_yield\n}\nprocess b {\n  sched_yield\n  sched_yield\n}\n";
    let mut model = fresh();
    send(&mut model, &[Msg::Open("new".into()), Msg::Edit(text.to_string()), Msg::DismissNotice]);
    let engine = model.engine.as_mut().unwrap();
    assert_eq!(engine.pinned_steps(), 1);
    assert_eq!(engine.choices()[0], 3, "b runs first, as the schedule says");
    engine.goto(1);
    update(&mut model, Msg::Pick(3));
    assert!(model.notice.is_none(), "{:?}", model.notice);
    assert_eq!(model.engine.as_ref().unwrap().setup.forced, vec![3, 3]);
}

#[test]
fn a_schedule_that_cannot_be_followed_stops_the_run_and_says_where() {
    // `c` exists only once `a` has forked it, after the step the schedule gives it.
    let text = "schedule a c\nprocess a {\n  sched_yield\n  fork c {\n    exit 0\n  }\n}\n";
    let mut model = fresh();
    send(&mut model, &[Msg::Open("new".into()), Msg::Edit(text.to_string())]);
    let engine = model.engine.as_ref().unwrap();
    assert_eq!(engine.pinned_steps(), 1);
    assert_eq!(engine.total_steps(), 1);
    let error = engine.error.clone().unwrap();
    assert!(model.diagnostics.is_empty(), "{:?}", model.diagnostics);
    assert!(error.contains("schedule, entry 2, at step 2: no runnable process is named c"), "{error}");
}

#[test]
fn picking_a_library_scenario_fetches_it_once_and_opens_it_when_it_arrives() {
    let mut model = fresh();
    let effects = update(&mut model, Msg::Open("library:shell-pipeline".into()));
    assert_eq!(fetches(&effects), vec!["shell-pipeline"]);
    assert_eq!(scenario_file("shell-pipeline"), "scenarios/shell-pipeline.ipc");
    // Until it arrives, the page shows what it showed, says what is coming, and the picker shows it.
    assert_eq!(model.document, Document::Library(DEFAULT_SCENARIO));
    assert_eq!(model.text, DEFAULT_TEXT);
    assert!(model.notice.as_ref().unwrap().text.contains("Fetching “"), "{:?}", model.notice);
    assert_eq!(crate::view::library::value_of(&model), "library:shell-pipeline");
    // Stepping meanwhile steps the run on screen.
    update(&mut model, Msg::Forward);
    assert_eq!(model.position(), 1);
    let effects = update(&mut model, Msg::ScenarioLoaded("shell-pipeline", Ok(library("shell-pipeline").into())));
    assert_eq!(model.document, Document::Library("shell-pipeline"));
    assert_eq!(model.text, library("shell-pipeline"));
    assert_eq!(model.position(), 0);
    assert!(effects.contains(&Effect::Focus("stage")));
    assert!(effects.contains(&Effect::SaveOpen("library:shell-pipeline".into())));
    assert!(model.notice.as_ref().unwrap().undo.is_some(), "Undo goes back to the lesson before");
    // Kept: opening it again later needs no fetch.
    served(&mut model, Msg::Open(format!("library:{DEFAULT_SCENARIO}")));
    let effects = update(&mut model, Msg::Open("library:shell-pipeline".into()));
    assert!(fetches(&effects).is_empty());
    assert_eq!(model.document, Document::Library("shell-pipeline"));
}

#[test]
fn a_failed_fetch_says_why_changes_nothing_and_is_tried_again() {
    let mut model = fresh();
    update(&mut model, Msg::Open("library:fifo-unrelated".into()));
    update(&mut model, Msg::ScenarioLoaded("fifo-unrelated", Err("the server answered with status 404".into())));
    assert_eq!(model.document, Document::Library(DEFAULT_SCENARIO));
    assert_eq!(model.text, DEFAULT_TEXT);
    let notice = model.notice.clone().unwrap();
    assert_eq!(notice.kind, NoticeKind::Error);
    assert!(notice.text.contains("could not be fetched: the server answered with status 404"), "{}", notice.text);
    assert!(notice.text.contains("Pick it again"), "{}", notice.text);
    assert_eq!(crate::view::library::value_of(&model), format!("library:{DEFAULT_SCENARIO}"));
    // Picking it again asks again, and this time it opens.
    let effects = served(&mut model, Msg::Open("library:fifo-unrelated".into()));
    assert!(effects.contains(&Effect::SaveOpen("library:fifo-unrelated".into())));
    assert_eq!(model.document, Document::Library("fifo-unrelated"));
}

#[test]
fn a_text_that_is_not_the_page_s_own_is_refused() {
    let mut model = fresh();
    update(&mut model, Msg::Open("library:fifo-unrelated".into()));
    let other = format!("{}# changed on the server\n", library("fifo-unrelated"));
    update(&mut model, Msg::ScenarioLoaded("fifo-unrelated", Ok(other)));
    assert_eq!(model.document, Document::Library(DEFAULT_SCENARIO));
    let notice = model.notice.clone().unwrap();
    assert_eq!(notice.kind, NoticeKind::Error);
    assert!(notice.text.contains("not the one this page was made with"), "{}", notice.text);
    assert!(model.library.text("fifo-unrelated").is_none(), "nothing is kept");
}

#[test]
fn a_late_arrival_never_takes_the_editor_away() {
    // The visitor picks a scenario, then types before it arrives: the typing wins.
    let mut model = fresh();
    update(&mut model, Msg::Open("library:fifo-unrelated".into()));
    let typed = format!("{}# mine\n", model.text);
    update(&mut model, Msg::Edit(typed.clone()));
    update(&mut model, Msg::ScenarioLoaded("fifo-unrelated", Ok(library("fifo-unrelated").into())));
    assert!(matches!(model.document, Document::Draft(_)));
    assert_eq!(model.text, typed);
    assert_eq!(model.library.text("fifo-unrelated"), Some(library("fifo-unrelated")), "kept for later");
    // Or picks another scenario meanwhile: the last pick wins, whatever arrives first.
    let mut model = fresh();
    update(&mut model, Msg::Open("library:fifo-unrelated".into()));
    update(&mut model, Msg::Open("library:shell-pipeline".into()));
    update(&mut model, Msg::ScenarioLoaded("fifo-unrelated", Ok(library("fifo-unrelated").into())));
    assert_eq!(model.document, Document::Library(DEFAULT_SCENARIO));
    update(&mut model, Msg::ScenarioLoaded("shell-pipeline", Ok(library("shell-pipeline").into())));
    assert_eq!(model.document, Document::Library("shell-pipeline"));
    // A failure that arrives after the visitor moved on says nothing.
    let mut model = fresh();
    update(&mut model, Msg::Open("library:fifo-unrelated".into()));
    update(&mut model, Msg::StartChallenge(0));
    update(&mut model, Msg::ScenarioLoaded("fifo-unrelated", Err("the server could not be reached".into())));
    assert_eq!(model.document, Document::Challenge(0));
    assert_ne!(model.notice.as_ref().map(|notice| notice.kind), Some(NoticeKind::Error));
}

#[test]
fn a_reload_on_a_library_scenario_shows_it_once_it_arrives() {
    let (mut model, effects) = opened_with(Init { open: Some("library:stop-continue-kill".into()), ..Init::default() });
    assert_eq!(fetches(&effects), vec!["stop-continue-kill"]);
    assert_eq!(model.document, Document::Library("stop-continue-kill"));
    assert!(model.engine.is_none(), "no other scenario's run in the meantime");
    assert!(model.notice.is_none());
    let effects =
        update(&mut model, Msg::ScenarioLoaded("stop-continue-kill", Ok(library("stop-continue-kill").into())));
    assert_eq!(model.text, library("stop-continue-kill"));
    assert_eq!(model.position(), 0);
    assert!(model.engine.is_some());
    assert!(model.notice.is_none(), "opening the page says nothing");
    assert!(!effects.iter().any(|effect| matches!(effect, Effect::Focus(_))), "nor moves the focus");

    // If it cannot be fetched, the first lesson opens instead, and the page says why.
    let (mut model, _) = opened_with(Init { open: Some("library:stop-continue-kill".into()), ..Init::default() });
    update(&mut model, Msg::ScenarioLoaded("stop-continue-kill", Err("the server could not be reached".into())));
    assert_eq!(model.document, Document::Library(DEFAULT_SCENARIO));
    assert_eq!(model.text, DEFAULT_TEXT);
    assert!(model.engine.is_some());
    let notice = model.notice.clone().unwrap();
    assert!(notice.text.contains("could not be fetched: the server could not be reached"), "{}", notice.text);
}

#[test]
fn a_link_that_carries_a_library_text_needs_no_fetch() {
    let text = library("pipes-are-streams");
    let (mut model, effects) = opened_with(Init { fragment: link(text, Vec::new(), 2), ..Init::default() });
    assert!(fetches(&effects).is_empty());
    assert_eq!(model.document, Document::Library("pipes-are-streams"));
    assert_eq!(model.position(), 2);
    // Its text is kept: opening it from the picker later needs no fetch either.
    served(&mut model, Msg::Open(format!("library:{DEFAULT_SCENARIO}")));
    let effects = update(&mut model, Msg::Open("library:pipes-are-streams".into()));
    assert!(fetches(&effects).is_empty());
    assert_eq!(model.text, text);
}

#[test]
fn a_tour_of_a_scenario_not_fetched_yet_starts_when_it_arrives() {
    let index = tour::by_id("fifos").expect("a FIFO tour");
    let mut model = fresh();
    update(&mut model, Msg::SetMode(ModeKind::Tours));
    let effects = update(&mut model, Msg::StartTour(index));
    let stem = TOURS[index].scenario;
    assert_eq!(fetches(&effects), vec![stem]);
    assert_eq!(model.mode, Mode::Tours(None));
    let effects = update(&mut model, Msg::ScenarioLoaded(stem, Ok(library(stem).into())));
    assert_eq!(model.mode, Mode::Tours(Some(index)));
    assert_eq!(model.document, Document::Library(stem));
    assert!(effects.contains(&Effect::Focus("tour-next")));
    let (_, steps) = model.tour().unwrap();
    assert!(steps.iter().all(Option::is_some), "every stop is reached: {steps:?}");
}

#[test]
fn a_step_that_moves_a_signal_names_it_in_its_announcement() {
    let text = library("graceful-shutdown");
    let (mut model, _) = opened_with(Init { fragment: link(text, Vec::new(), 15), ..Init::default() });
    update(&mut model, Msg::Forward);
    assert!(model.announcement.starts_with("Step 16 of"), "{}", model.announcement);
    assert!(model.announcement.ends_with(" SIGTERM: orchestrator → polite, pending."), "{}", model.announcement);
    send(&mut model, &[Msg::Goto(21)]);
    assert!(model.announcement.ends_with(" SIGCHLD: kernel → orchestrator, ignored."), "{}", model.announcement);
    // Back at step 16, the same words: they come from that step's events alone.
    update(&mut model, Msg::Goto(16));
    assert!(model.announcement.ends_with(" SIGTERM: orchestrator → polite, pending."), "{}", model.announcement);
}

#[test]
fn the_player_page_opens_its_link_ignores_stored_drafts_and_links_to_the_playground() {
    assert_eq!(Embed::of("http://h/ipclab/embed.html"), Some(Embed { editor: false }));
    assert_eq!(Embed::of("http://h/embed.html?editor"), Some(Embed { editor: true }));
    assert_eq!(Embed::of("http://h/embed.html?x=1&editor"), Some(Embed { editor: true }));
    assert_eq!(Embed::of("http://h/index.html"), None);
    assert_eq!(Embed::of("http://h/"), None);
    assert_eq!(Embed::of("http://h/my-embed.html"), None);
    let stored = Drafts::default().to_json();
    let text = library("fifo-unrelated");
    let mut model = Model::new();
    let effects = update(
        &mut model,
        Msg::Init(Init {
            page_address: "http://127.0.0.1:8000/sub/embed.html".into(),
            fragment: link(text, Vec::new(), 2),
            drafts_json: Some(stored),
            legacy_draft: Some("process old {\n}\n".into()),
            open: Some("draft:1".into()),
            handover: None,
        }),
    );
    assert_eq!(model.embed, Some(Embed { editor: false }));
    assert!(!model.keeps_drafts());
    assert!(model.drafts.list.is_empty(), "the stored drafts are not read");
    assert!(
        !effects.iter().any(|effect| matches!(effect, Effect::SaveDrafts(_) | Effect::ForgetLegacyDraft)),
        "{effects:?}"
    );
    assert_eq!((model.text.as_str(), model.position()), (text, 2));
    let address = model.playground_address().expect("a run is open");
    let (page, fragment) = address.split_once('#').unwrap();
    assert_eq!(page, "http://127.0.0.1:8000/sub/index.html");
    assert_eq!(share::decode(fragment).unwrap().step, 2);
    assert!(fresh().keeps_drafts(), "the playground keeps them");
}

/// The full module shows what the first one handed over: what is open, the teaching mode, the run with
/// its seed, choices and step, and an edit made beyond that run.
#[cfg(feature = "full")]
#[test]
fn a_handover_record_reopens_the_same_document_mode_run_and_edit() {
    let text = library("msg-outlives-creator");
    let (mut model, _) = opened_with(Init { fragment: link(text, vec![2, 2], 3), ..Init::default() });
    let record = model.handover_record();
    let (taken, _) = opened_with(Init { handover: Some(record), ..Init::default() });
    assert_eq!(taken.document, model.document);
    assert_eq!(taken.mode, Mode::Explore);
    assert_eq!(taken.text, text);
    assert_eq!(taken.position(), 3);
    let (engine, original) = (taken.engine.as_ref().expect("a run"), model.engine.as_ref().expect("a run"));
    assert_eq!(engine.setup, original.setup);
    assert_eq!(engine.trace_hash(), original.trace_hash());
    // The teaching mode goes along.
    update(&mut model, Msg::SetMode(ModeKind::Tours));
    let (taken, _) = opened_with(Init { handover: Some(model.handover_record()), ..Init::default() });
    assert_eq!(taken.mode, Mode::Tours(None));
    assert_eq!(taken.position(), model.position());
    // A mode chosen in the first module is chosen in the full one, as if there: Predict from the start.
    let mut before = fresh();
    send(&mut before, &[Msg::Forward, Msg::Forward]);
    let record = before.handover_record().replacen("\nexplore\n\n", "\nexplore\npredict\n", 1);
    let (taken, _) = opened_with(Init { handover: Some(record), ..Init::default() });
    let mut chosen = fresh();
    send(&mut chosen, &[Msg::Forward, Msg::Forward, Msg::SetMode(ModeKind::Predict)]);
    assert_eq!(taken.mode, chosen.mode);
    assert_eq!(taken.position(), chosen.position());

    // An edit of a draft that the first module could not run: the full module opens the draft as it
    // was and makes the same edit, so the draft, the run and the step are what they would have been.
    let mut model = fresh();
    update(&mut model, Msg::Forward);
    update(&mut model, Msg::Forward);
    let edited = format!("{}\n# msgget comes next\n", model.text);
    update(&mut model, Msg::Edit(edited.clone()));
    let Document::Draft(id) = model.document else { panic!("an edit makes a draft") };
    let record = model.handover_record();
    let (taken, _) =
        opened_with(Init { handover: Some(record), drafts_json: Some(model.drafts.to_json()), ..Init::default() });
    assert_eq!(taken.document, Document::Draft(id));
    assert_eq!(taken.text, edited);
    assert_eq!(taken.position(), 2);

    // A record that cannot be read opens the page as usual.
    let (taken, _) = opened_with(Init { handover: Some("draft:99\nexplore\n\n\ntext".into()), ..Init::default() });
    assert_eq!(taken.document, Document::Library(DEFAULT_SCENARIO));
}

/// In the module without the IPC mechanisms, a text that uses them (from a link, or typed) hands the
/// page over to the full module, once; a text without them never does.
#[cfg(not(feature = "full"))]
#[test]
fn a_text_with_a_message_queue_hands_over_to_the_full_module_once() {
    let loads = |effects: &[Effect]| effects.iter().filter(|effect| **effect == Effect::LoadFull).count();
    let text = library("msg-outlives-creator");
    let (model, effects) = opened_with(Init { fragment: link(text, vec![2], 3), ..Init::default() });
    assert_eq!(loads(&effects), 1);
    assert!(model.handover_record().contains(&link(text, vec![2], 3)), "the record carries the run asked for");

    let mut model = fresh();
    let commented = format!("{}\n# a comment\n", model.text);
    let effects = update(&mut model, Msg::Edit(commented));
    assert_eq!(loads(&effects), 0);
    let typed =
        model.text.replace("process parent", "process other {\n  q = msgget 7 IPC_CREAT|0600\n}\n\nprocess parent");
    let effects = update(&mut model, Msg::Edit(typed.clone()));
    assert_eq!(loads(&effects), 1);
    assert!(model.handover_record().ends_with(&typed));
    let effects = update(&mut model, Msg::Edit(format!("{typed} ")));
    assert_eq!(loads(&effects), 0, "asked once");

    // A teaching mode is the full module's too: choosing one asks for it, and the record says which.
    let mut model = fresh();
    update(&mut model, Msg::Forward);
    let effects = update(&mut model, Msg::SetMode(ModeKind::Predict));
    assert_eq!(loads(&effects), 1);
    assert_eq!(model.handover_record().lines().nth(2), Some("predict"));
}

/// Two writers race for one pipe; the reader expects b's byte first.
const RACE: &str = "process a {\n  p = pipe\n  fork b {\n    write p.w \"b\" -> 1\n  }\n  fork c {\n    write p.w \"c\" -> 1\n  }\n  read p.r 2 -> \"bc\"\n}\n";

#[test]
fn choosing_differently_keeps_the_branch_left_and_the_link_carries_both() {
    let (mut model, _) = opened_with(Init { fragment: link(RACE, vec![2, 2, 2, 3], 3), ..Init::default() });
    assert_eq!(model.position(), 3);
    assert!(model.sealed_shown().is_none(), "b writes first: the run ends well");
    // What else, here: if c writes first, every schedule fails.
    update(&mut model, Msg::WhatElse);
    let answer = model.what_else_shown().expect("an answer at this step");
    assert_eq!(answer.rows.iter().map(|row| row.pid).collect::<Vec<_>>(), vec![2, 3, 4]);
    let c = answer.rows.iter().find(|row| row.pid == 4).expect("c could run");
    assert_eq!(c.ends.iter().map(|(words, _)| words.as_str()).collect::<Vec<_>>(), vec!["an expectation fails"]);
    let b = answer.rows.iter().find(|row| row.pid == 3).expect("b could run");
    assert!(b.ends.iter().any(|(words, _)| *words == end_words("good")), "{:?}", b.ends);
    assert_eq!(c.incomplete, None);
    // Picking c, where the run took b, starts a branch and keeps the first.
    update(&mut model, Msg::Pick(4));
    assert_eq!(model.branches, vec![share::Branch { forced: vec![2, 2, 2, 3], step: 3 }]);
    assert!(model.what_else_shown().is_none(), "the answer belonged to the other run");
    let sealed = model.sealed_shown().expect("this run fails: its fate was sealed");
    assert_eq!(sealed.step, 4);
    assert!(sealed.words.contains("From step 4 on, every continuation fails an expectation"), "{}", sealed.words);
    // The link carries both branches.
    let text = model.share_text().expect("a run");
    let tree = share::decode_tree(&text).expect("decodes");
    assert!(text.starts_with("v2."));
    assert_eq!(tree.branches, model.branches);
    assert_eq!(tree.run.forced, vec![2, 2, 2, 4]);
    // Going back to the first branch keeps the second in its place.
    update(&mut model, Msg::Branch(0));
    assert_eq!(model.engine.as_ref().map(|engine| engine.setup.forced.clone()), Some(vec![2, 2, 2, 3]));
    assert_eq!(model.position(), 3);
    assert_eq!(model.branches, vec![share::Branch { forced: vec![2, 2, 2, 4], step: 4 }]);
    assert!(model.sealed_shown().is_none());
    // The link opens with its branches.
    let (opened, _) = opened_with(Init { fragment: text, ..Init::default() });
    assert_eq!(opened.branches, vec![share::Branch { forced: vec![2, 2, 2, 3], step: 3 }]);
    assert_eq!(opened.position(), 4);
    // Another scenario forgets them.
    let edited = format!("# edited\n{RACE}");
    update(&mut model, Msg::Edit(edited));
    assert!(model.branches.is_empty());
}

#[test]
fn picking_the_process_the_run_took_anyway_starts_no_branch() {
    let (mut model, _) = opened_with(Init { fragment: link(RACE, vec![2, 2, 2, 3], 3), ..Init::default() });
    update(&mut model, Msg::Pick(3));
    assert!(model.branches.is_empty());
    assert_eq!(model.position(), 4);
}

/// The first module has no explorer: "What else?" and "where was it sealed?" hand the page over to the
/// full module, with the question in the record.
#[cfg(not(feature = "full"))]
#[test]
fn what_else_in_the_first_module_hands_over_to_the_full_module() {
    let loads = |effects: &[Effect]| effects.iter().filter(|effect| **effect == Effect::LoadFull).count();
    let (mut model, _) = opened_with(Init { fragment: link(RACE, vec![2, 2, 2, 3], 3), ..Init::default() });
    let effects = update(&mut model, Msg::WhatElse);
    assert_eq!(loads(&effects), 1);
    assert!(model.what_else.is_none());
    let record = model.handover_record();
    assert_eq!(record.lines().nth(2), Some("what-else"));
    assert!(record.contains(&link(RACE, vec![2, 2, 2, 3], 3)), "{record}");

    let (mut model, _) = opened_with(Init { fragment: link(RACE, vec![2, 2, 2, 4], 9), ..Init::default() });
    assert!(model.sealed.is_none(), "the first module finds no sealed step itself");
    let effects = update(&mut model, Msg::FindSealed);
    assert_eq!(loads(&effects), 1);
    assert_eq!(model.handover_record().lines().nth(2), Some("sealed"));
}

/// The full module answers what the first one was asked, at the run it showed, branches and all.
#[cfg(feature = "full")]
#[test]
fn the_full_module_answers_what_else_asked_in_the_first() {
    let tree = share::SharedTree {
        run: share::SharedRun {
            scenario: RACE.to_string(),
            seed: 0,
            policy: Policy::RoundRobin,
            forced: vec![2, 2, 2, 4],
            step: 4,
        },
        branches: vec![share::Branch { forced: vec![2, 2, 2, 3], step: 3 }],
        checked: None,
    };
    let record = format!("link\nexplore\nwhat-else\n{}\n{RACE}", share::encode_tree(&tree));
    let (taken, _) = opened_with(Init { handover: Some(record), ..Init::default() });
    assert_eq!(taken.position(), 4);
    assert_eq!(taken.branches, tree.branches);
    assert!(taken.what_else_shown().is_some_and(|answer| answer.step == 4));
    assert!(taken.sealed_shown().is_some_and(|mark| mark.step == 4));
}

#[test]
fn every_schedule_is_asked_of_a_worker_and_shown_while_its_scenario_is() {
    let (mut model, _) = opened_with(Init { fragment: link(RACE, vec![], 0), ..Init::default() });
    let effects = update(&mut model, Msg::ExploreAll);
    let asked: Vec<_> = effects.iter().filter(|effect| matches!(effect, Effect::Explore { .. })).collect();
    assert_eq!(asked, vec![&Effect::Explore { id: 1, scenario: RACE.to_string(), max_states: EXPLORE_STATES }]);
    assert!(matches!(model.exploring_shown(), Some(Exploring::Running { id: 1, .. })));
    // Asked again while it runs: nothing more.
    assert!(!update(&mut model, Msg::ExploreAll).iter().any(|effect| matches!(effect, Effect::Explore { .. })));
    let report = ExploreReport {
        holds: false,
        schedules: "6".into(),
        counts: "classes".into(),
        states: 12,
        incomplete: String::new(),
        outcomes: vec![ExploredRow {
            words: "an expectation fails".into(),
            holds: false,
            schedules: "3".into(),
            steps: 7,
            link: "v1.x".into(),
        }],
        declared: Vec::new(),
    };
    // An answer to another exploration is not this one's.
    update(&mut model, Msg::Explored(7, Ok(report.clone())));
    assert!(matches!(model.exploring_shown(), Some(Exploring::Running { .. })));
    update(&mut model, Msg::Explored(1, Ok(report.clone())));
    assert!(matches!(model.exploring_shown(), Some(Exploring::Done { report: shown, .. }) if *shown == report));
    assert_eq!(model.announcement, "1 way to end over 6 classes of schedules.");
    // Another scenario on screen: the answer is not shown for it.
    update(&mut model, Msg::Edit(format!("{RACE}\nprocess d {{\n  sched_yield\n}}\n")));
    assert!(model.exploring_shown().is_none());
    // A worker that cannot start says why.
    update(&mut model, Msg::ExploreAll);
    let effects = update(&mut model, Msg::Explored(ANY_EXPLORATION, Err("no workers here".into())));
    assert!(matches!(model.exploring_shown(), Some(Exploring::Failed { error, .. }) if error == "no workers here"));
    // The failed worker is ended, so that the next exploration starts a new one.
    assert!(effects.contains(&Effect::StopExploring), "{effects:?}");
    // A good answer ends nothing.
    update(&mut model, Msg::ExploreAll);
    let id = model.explorations;
    assert!(!update(&mut model, Msg::Explored(id, Ok(report))).contains(&Effect::StopExploring));
}

#[test]
fn an_exploration_shows_how_far_it_has_got_and_can_be_stopped() {
    let stops = |effects: &[Effect]| effects.iter().filter(|effect| **effect == Effect::StopExploring).count();
    let (mut model, _) = opened_with(Init { fragment: link(RACE, vec![], 0), ..Init::default() });
    update(&mut model, Msg::ExploreAll);
    let far = ExploreProgress { states: 4096, steps: 9000, depth: 31 };
    update(&mut model, Msg::ExploreProgress(1, far));
    // Word from another exploration is not this one's.
    update(&mut model, Msg::ExploreProgress(2, ExploreProgress { states: 1, steps: 1, depth: 1 }));
    assert!(matches!(model.exploring_shown(), Some(Exploring::Running { progress, .. }) if *progress == far));
    let effects = update(&mut model, Msg::StopExploring);
    assert_eq!(stops(&effects), 1, "the worker is ended");
    assert!(matches!(model.exploring_shown(), Some(Exploring::Stopped { progress, .. }) if *progress == far));
    assert_eq!(model.announcement, "Exploration stopped after 4096 states.");
    // An answer already on its way is not shown; nothing runs, so a second stop does nothing.
    update(&mut model, Msg::Explored(1, Err("late".into())));
    assert!(matches!(model.exploring_shown(), Some(Exploring::Stopped { .. })));
    assert_eq!(stops(&update(&mut model, Msg::StopExploring)), 0);
    // Asked again: a new exploration, with nothing to end first.
    let effects = update(&mut model, Msg::ExploreAll);
    assert_eq!(stops(&effects), 0);
    assert!(matches!(model.exploring_shown(), Some(Exploring::Running { id: 2, .. })));
    // The visitor edits while it runs and asks for the new text: the old one is ended first.
    update(&mut model, Msg::Edit(format!("{RACE}\nprocess d {{\n  sched_yield\n}}\n")));
    let effects = update(&mut model, Msg::ExploreAll);
    let order: Vec<bool> = effects
        .iter()
        .filter(|effect| matches!(effect, Effect::StopExploring | Effect::Explore { .. }))
        .map(|effect| *effect == Effect::StopExploring)
        .collect();
    assert_eq!(order, vec![true, false], "{effects:?}");
    assert!(matches!(model.exploring_shown(), Some(Exploring::Running { id: 3, .. })));
}

#[test]
fn a_link_with_a_linux_verdict_shows_it_while_its_run_is_on_screen() {
    let run = share::SharedRun {
        scenario: RACE.to_string(),
        seed: 0,
        policy: Policy::RoundRobin,
        forced: vec![2, 2, 2, 3],
        step: 9,
    };
    let hash = Engine::from_link(&run).expect("builds").trace_hash();
    let checked = share::Checked {
        trace_hash: hash,
        verdict: "checked in lockstep on Linux 6.18 (x86_64): every step matches".into(),
    };
    let tree = share::SharedTree { run: run.clone(), branches: Vec::new(), checked: Some(checked.clone()) };
    let (mut model, _) = opened_with(Init { fragment: share::encode_tree(&tree), ..Init::default() });
    assert_eq!(model.checked_shown(), Some(&checked));
    // Shared again, the link still carries it.
    assert_eq!(
        share::decode_tree(&model.share_text().expect("a run")).expect("decodes").checked,
        Some(checked.clone())
    );
    // Another run is not what was checked.
    update(&mut model, Msg::Goto(3));
    update(&mut model, Msg::Pick(4));
    assert!(model.checked_shown().is_none());
    assert!(share::decode_tree(&model.share_text().expect("a run")).expect("decodes").checked.is_none());
    // A verdict for another trace (another model) is not shown as this run's.
    let other = share::SharedTree {
        run,
        branches: Vec::new(),
        checked: Some(share::Checked { trace_hash: hash ^ 1, verdict: "x".into() }),
    };
    let (model, _) = opened_with(Init { fragment: share::encode_tree(&other), ..Init::default() });
    assert!(model.checked_shown().is_none());
}
