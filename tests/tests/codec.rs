//! The trace's two encodings. The packed encoding gives back exactly what was put in: random sequences
//! of every kind of event, with values from the small ones runs produce to the extremes of each field,
//! encode and decode to the same events, and pushing an event by its parts writes the same bytes as
//! pushing it whole. Objects of every kind take part, including those whose kind goes through the
//! escape of the three-bit kind code, and so do the wake causes that go through the escape of theirs.
//! The JSON records that `sim_core::present::json` writes by hand are the text `serde_json` writes for
//! the same records, for random events and for every library scenario's run.

use proptest::collection::vec;
use proptest::prelude::*;
use sim_core::ast::Span;
use sim_core::linux::{ChildStatus, Errno, Signal};
use sim_core::present::json;
use sim_core::present::render::{self, EventRecord, RunSummary};
use sim_core::trace::event::*;
use sim_core::trace::packed::PackedLog;
use sim_core::{Event, EventKind, Policy};

/// Small values most of the time (the dictionary and one-byte paths), any value sometimes.
fn number<T: Arbitrary + From<u8> + std::fmt::Debug + Clone + 'static>() -> BoxedStrategy<T> {
    prop_oneof![4 => (0u8..8).prop_map(T::from), 2 => any::<u8>().prop_map(T::from), 1 => any::<T>()].boxed()
}

fn pid() -> BoxedStrategy<Pid> {
    number::<u32>()
}

fn signal() -> impl Strategy<Value = Signal> {
    (1u8..=64).prop_map(Signal)
}

fn delivery() -> impl Strategy<Value = Delivery> {
    prop_oneof![
        Just(Delivery::Ignored),
        Just(Delivery::Discarded),
        Just(Delivery::Stopped),
        any::<bool>().prop_map(|core| Delivery::Terminated { core }),
        Just(Delivery::Dumped),
        number::<u32>().prop_map(|handler| Delivery::Handler { handler }),
        any::<i64>().prop_map(|address| Delivery::Stray { address }),
    ]
}

fn errno() -> impl Strategy<Value = Errno> {
    prop_oneof![(1u16..134).prop_map(Errno), any::<u16>().prop_map(Errno)]
}

fn object() -> impl Strategy<Value = ObjectRef> {
    (prop::sample::select(ObjectKind::ALL.to_vec()), number::<u32>()).prop_map(|(kind, id)| ObjectRef { kind, id })
}

fn args() -> impl Strategy<Value = Args> {
    vec(prop_oneof![3 => -2i64..70_000, 1 => any::<i64>()], 0..=MAX_ARGS).prop_map(|values| Args::new(&values))
}

fn status() -> impl Strategy<Value = ChildStatus> {
    prop_oneof![
        any::<u8>().prop_map(ChildStatus::Exited),
        (signal(), any::<bool>()).prop_map(|(signal, core)| ChildStatus::Killed { signal, core }),
        signal().prop_map(ChildStatus::Stopped),
        Just(ChildStatus::Continued),
    ]
}

/// A result; a `Data` result's offset is fixed up afterwards to follow the data arena.
fn result() -> impl Strategy<Value = CallResult> {
    prop_oneof![
        prop_oneof![3 => -1i64..70_000, 1 => any::<i64>()].prop_map(|value| CallResult::Value { value }),
        errno().prop_map(|errno| CallResult::Error { errno }),
        number::<u32>().prop_map(|len| CallResult::Data { offset: 0, len: len % (1 << 24) }),
        (number::<u32>(), number::<u32>())
            .prop_map(|(r, w)| CallResult::Pair { read_fd: r as i32, write_fd: w as i32 }),
        pid().prop_map(|child| CallResult::Fork { child }),
        (pid(), status()).prop_map(|(child, status)| CallResult::Waited { child, status }),
        (pid(), status()).prop_map(|(child, status)| CallResult::WaitedInfo { child, status }),
        any::<i64>().prop_map(|value| CallResult::Out { value }),
        (number::<u32>(), any::<i64>(), number::<u32>()).prop_map(|(len, tag, skipped)| CallResult::Message {
            offset: 0,
            len: len % (1 << 24),
            tag,
            skipped
        }),
        number::<u32>().prop_map(|len| CallResult::Array { offset: 0, len: len % (1 << 24) }),
        (number::<u32>(), any::<i32>(), any::<u16>(), any::<u16>(), any::<i32>()).prop_map(
            |(len, fd, fds, flags, creds)| CallResult::Received {
                offset: 0,
                len: len % (1 << 24),
                fd,
                fds,
                flags,
                creds
            }
        ),
        (any::<u16>(), any::<[u16; 5]>()).prop_map(|(ready, revents)| CallResult::Polled { ready, revents }),
        // As the kernel makes them: the events reported first, zeros past them.
        (0u16..=5, any::<[i16; 5]>(), any::<[u16; 5]>()).prop_map(|(ready, mut fds, mut events)| {
            for at in ready as usize..5 {
                fds[at] = 0;
                events[at] = 0;
            }
            CallResult::Epolled { ready, fds, events }
        }),
    ]
}

fn reason() -> impl Strategy<Value = BlockReason> {
    prop_oneof![
        number::<u32>().prop_map(|pipe| BlockReason::PipeEmpty { pipe }),
        (number::<u32>(), number::<u32>()).prop_map(|(pipe, written)| BlockReason::PipeFull { pipe, written }),
        (number::<u32>(), number::<u32>()).prop_map(|(pipe, path)| BlockReason::FifoNoWriter { pipe, path }),
        (number::<u32>(), number::<u32>()).prop_map(|(pipe, path)| BlockReason::FifoNoReader { pipe, path }),
        prop::option::of(pid()).prop_map(|target| BlockReason::Child { target }),
        pid().prop_map(|pgid| BlockReason::ChildInGroup { pgid }),
        Just(BlockReason::Signal),
        (number::<u32>(), any::<i64>(), any::<bool>(), number::<u32>())
            .prop_map(|(queue, msgtype, except, held)| BlockReason::MsgEmpty { queue, msgtype, except, held }),
        (number::<u32>(), number::<u32>(), number::<u32>(), number::<u32>())
            .prop_map(|(queue, bytes, used, capacity)| BlockReason::MsgFull { queue, bytes, used, capacity }),
        (number::<u32>(), any::<u16>(), any::<i16>(), any::<i32>())
            .prop_map(|(set, num, op, value)| BlockReason::SemOp { set, num, op, value }),
        number::<u32>().prop_map(|mq| BlockReason::MqEmpty { mq }),
        (number::<u32>(), number::<u32>()).prop_map(|(mq, held)| BlockReason::MqFull { mq, held }),
        number::<u32>().prop_map(|sem| BlockReason::NamedSem { sem }),
        any::<u64>().prop_map(|set| BlockReason::SignalWait { set }),
        (any::<u64>(), any::<bool>()).prop_map(|(until, seconds)| BlockReason::Sleep { until, seconds }),
        number::<u32>().prop_map(|socket| BlockReason::SocketEmpty { socket }),
        (number::<u32>(), number::<u32>()).prop_map(|(socket, written)| BlockReason::SocketFull { socket, written }),
        number::<u32>().prop_map(|socket| BlockReason::SocketAccept { socket }),
        number::<u32>().prop_map(|socket| BlockReason::SocketBacklog { socket }),
        number::<u32>().prop_map(|socket| BlockReason::SocketReceiverFull { socket }),
        (any::<u64>(), any::<u32>()).prop_map(|(address, value)| BlockReason::Futex { address, value }),
        (any::<u8>(), any::<u64>()).prop_map(|(entries, until)| BlockReason::Poll { entries, until }),
        (number::<u32>(), any::<u64>()).prop_map(|(epoll, until)| BlockReason::Epoll { epoll, until }),
    ]
}

fn wake_cause() -> impl Strategy<Value = WakeCause> {
    prop_oneof![
        object().prop_map(|object| WakeCause::Data { object }),
        object().prop_map(|object| WakeCause::Room { object }),
        object().prop_map(|object| WakeCause::Hangup { object }),
        object().prop_map(|object| WakeCause::Partner { object }),
        pid().prop_map(|child| WakeCause::Child { child }),
        object().prop_map(|object| WakeCause::Resize { object }),
        object().prop_map(|object| WakeCause::Completed { object }),
        object().prop_map(|object| WakeCause::Removed { object }),
        object().prop_map(|object| WakeCause::Changed { object }),
        signal().prop_map(|signal| WakeCause::Signal { signal }),
        Just(WakeCause::Timer),
    ]
}

fn text() -> impl Strategy<Value = String> {
    "[ -~é]{0,40}"
}

fn span() -> impl Strategy<Value = Span> {
    (number::<u32>(), number::<u32>(), number::<u32>(), number::<u32>())
        .prop_map(|(line, col, start_byte, end_byte)| Span { line, col, start_byte, end_byte })
}

fn outcome() -> impl Strategy<Value = RunOutcome> {
    let detail = prop::option::of(prop_oneof![
        (any::<i64>(), pid()).prop_map(|(value, last_pid)| WaitDetail::Semaphore { value, last_pid }),
        (any::<u64>(), any::<u64>()).prop_map(|(messages, bytes)| WaitDetail::Queue { messages, bytes }),
    ]);
    let edge = (pid(), prop::option::of(reason()), vec(pid(), 0..4), detail)
        .prop_map(|(pid, reason, waits_for, detail)| WaitEdge { pid, reason, waits_for, detail });
    prop_oneof![
        Just(RunOutcome::AllExited),
        vec(edge, 0..4).prop_map(|waiting| RunOutcome::Deadlock { waiting }),
        any::<u64>().prop_map(|steps| RunOutcome::StepLimit { steps }),
        (text(), text()).prop_map(|(limit, detail)| RunOutcome::LimitReached { limit, detail }),
    ]
}

fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        1 => (pid(), number::<u32>()).prop_map(|(pid, index)| EventKind::Spawn { pid, index }),
        1 => (prop::option::of(pid()), pid()).prop_map(|(from, to)| EventKind::Switch { from, to }),
        6 => (pid(), number::<u32>(), args(), result())
            .prop_map(|(pid, op, args, result)| EventKind::Call { pid, op, args, result }),
        2 => (pid(), number::<u32>(), args(), reason())
            .prop_map(|(pid, op, args, reason)| EventKind::Block { pid, op, args, reason }),
        2 => (pid(), pid(), wake_cause()).prop_map(|(pid, by, cause)| EventKind::Wake { pid, by, cause }),
        3 => (
            pid(),
            any::<bool>(),
            number::<u32>(),
            object(),
            number::<u32>(),
            number::<u32>()
        )
            .prop_map(|(pid, to_kernel, bytes, object, used_bytes, capacity_bytes)| EventKind::Copy {
                pid,
                direction: if to_kernel { CopyDirection::UserToKernel } else { CopyDirection::KernelToUser },
                bytes,
                object,
                used_bytes,
                capacity_bytes,
            }),
        1 => (pid(), pid(), number::<u32>()).prop_map(|(parent, child, op)| EventKind::Fork { parent, child, op }),
        1 => (
            pid(),
            pid(),
            signal(),
            prop::sample::select(SignalEffect::ALL.to_vec()),
            prop::sample::select(SignalOrigin::ALL.to_vec())
        )
            .prop_map(|(from, to, signal, effect, origin)| EventKind::Signal { from, to, signal, effect, origin }),
        1 => (pid(), status()).prop_map(|(pid, status)| EventKind::Exit { pid, status }),
        1 => (pid(), pid(), prop::sample::select(vec![ReapCause::Wait, ReapCause::Init, ReapCause::Ignored]))
            .prop_map(|(pid, by, cause)| EventKind::Reap { pid, by, cause }),
        1 => (pid(), pid()).prop_map(|(pid, new_parent)| EventKind::Reparent { pid, new_parent }),
        1 => (pid(), object(), prop_oneof![Just(LastEnd::Write), Just(LastEnd::Read), number::<u32>().prop_map(|unread| LastEnd::Both { unread })])
            .prop_map(|(pid, object, end)| EventKind::LastEnd { pid, object, end }),
        1 => (pid(), pid()).prop_map(|(pid, pgid)| EventKind::Orphaned { pid, pgid }),
        1 => (
            pid(),
            number::<u32>(),
            signal(),
            prop::sample::select(vec![CallInterrupted::Restart, CallInterrupted::Eintr, CallInterrupted::Partial]),
            any::<bool>()
        )
            .prop_map(|(pid, op, signal, outcome, gone)| EventKind::Interrupted { pid, op, signal, outcome, gone }),
        1 => (pid(), signal(), delivery()).prop_map(|(pid, signal, delivery)| EventKind::Delivered { pid, signal, delivery }),
        1 => any::<u64>().prop_map(|now| EventKind::Clock { now }),
        1 => pid().prop_map(|pid| EventKind::Alarm { pid }),
        1 => (pid(), number::<u32>(), signal()).prop_map(|(pid, op, signal)| EventKind::Fault { pid, op, signal }),
        1 => (pid(), number::<u32>(), text(), text(), span()).prop_map(|(pid, op, expected, got, span)| {
            EventKind::ExpectFailed { pid, op, mismatch: Box::new(Mismatch { expected, got, span }) }
        }),
        1 => (pid(), object(), any::<u16>(), any::<i32>(), any::<i32>())
            .prop_map(|(pid, object, num, adjust, value)| EventKind::Undo { pid, object, num, adjust, value }),
        1 => (object(), any::<i64>(), any::<u64>())
            .prop_map(|(object, label, count)| EventKind::Leftover { object, label, count }),
        1 => (pid(), any::<u64>(), number::<u32>(), number::<u32>())
            .prop_map(|(pid, address, from, to)| EventKind::PageCopied { pid, address, from, to }),
        1 => (pid(), number::<u32>(), any::<u16>(), number::<u32>(), any::<u16>(), any::<u8>(), number::<u32>()).prop_map(
            |(pid, from, from_port, to, to_port, flags, bytes)| EventKind::Segment {
                pid,
                from,
                from_port,
                to,
                to_port,
                flags,
                bytes
            }
        ),
        1 => (
            pid(),
            number::<u32>(),
            any::<i32>(),
            object(),
            0u8..4,
            prop::sample::select(vec![
                RightsMove::Sent,
                RightsMove::Received,
                RightsMove::Truncated,
                RightsMove::Unread,
                RightsMove::Collected
            ])
        )
            .prop_map(|(pid, socket, fd, object, access, moved)| EventKind::Rights { pid, socket, fd, object, access, moved }),
        1 => outcome().prop_map(|outcome| EventKind::End { outcome: Box::new(outcome) }),
    ]
}

/// Events in run order: steps never go backwards, and reads' data follow one another in the arena.
fn events() -> impl Strategy<Value = Vec<Event>> {
    vec((prop_oneof![4 => Just(0u32), 4 => 1u32..4, 1 => 4u32..1_000, 1 => any::<u32>()], kind()), 0..300).prop_map(
        |steps_and_kinds| {
            let mut step = 0u32;
            let mut data_end = 0u32;
            steps_and_kinds
                .into_iter()
                .map(|(delta, mut kind)| {
                    step = step.saturating_add(delta);
                    if let EventKind::Call {
                        result:
                            CallResult::Data { offset, len }
                            | CallResult::Message { offset, len, .. }
                            | CallResult::Received { offset, len, .. }
                            | CallResult::Array { offset, len },
                        ..
                    } = &mut kind
                    {
                        *len = (*len).min(u32::MAX - data_end);
                        *offset = data_end;
                        data_end += *len;
                    }
                    Event { step, kind }
                })
                .collect()
        },
    )
}

/// Pushes an event the way the kernel's hot path does, by its parts, where there is such a way.
fn push_by_parts(log: &mut PackedLog, event: &Event) {
    match &event.kind {
        EventKind::Call { pid, op, args, result } => log.push_call(event.step, *pid, *op, args, result),
        EventKind::Block { pid, op, args, reason } => log.push_block(event.step, *pid, *op, args, reason),
        EventKind::Switch { from, to } => log.push_switch(event.step, *from, *to),
        EventKind::Wake { pid, by, cause } => log.push_wake(event.step, *pid, *by, cause),
        &EventKind::Copy { pid, direction, bytes, object, used_bytes, capacity_bytes } => {
            log.push_copy(event.step, &Copied { pid, direction, bytes, object, used_bytes, capacity_bytes })
        }
        _ => log.push(event),
    }
}

fn bytes_of(log: &PackedLog) -> Vec<u8> {
    log.chunks().flatten().copied().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_event_decodes_to_itself(events in events()) {
        let mut log = PackedLog::keeping();
        for event in &events {
            log.push(event);
        }
        prop_assert_eq!(log.len(), events.len() as u64);
        let decoded: Vec<Event> = log.events().collect();
        prop_assert_eq!(decoded, events);
    }

    #[test]
    fn pushing_by_parts_writes_the_same_bytes_as_pushing_whole(events in events()) {
        let mut whole = PackedLog::keeping();
        let mut parts = PackedLog::keeping();
        for event in &events {
            whole.push(event);
            push_by_parts(&mut parts, event);
        }
        prop_assert_eq!(bytes_of(&whole), bytes_of(&parts));
        prop_assert_eq!(whole.stream_hash().finish().finish(), parts.stream_hash().finish().finish());
    }

    #[test]
    fn a_rewind_to_any_point_gives_back_the_events_before_it(events in events(), cut in any::<prop::sample::Index>()) {
        let cut = if events.is_empty() { 0 } else { cut.index(events.len() + 1) };
        let mut log = PackedLog::keeping();
        let mut mark = log.mark();
        for (index, event) in events.iter().enumerate() {
            if index == cut {
                mark = log.mark();
            }
            log.push(event);
        }
        if cut == events.len() {
            mark = log.mark();
        }
        log.rewind(&mark);
        let decoded: Vec<Event> = log.events().collect();
        prop_assert_eq!(&decoded[..], &events[..cut]);
        // And the log goes on as if the rest had never been pushed.
        let mut fresh = PackedLog::keeping();
        for event in &events[..cut] {
            fresh.push(event);
        }
        prop_assert_eq!(bytes_of(&log), bytes_of(&fresh));
    }
}

/// Any text: quotes, backslashes, control characters and characters beyond ASCII included.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![text(), "[\\x00-\\x1f\"\\\\\u{7f}a-zé🦀]{0,12}", any::<String>()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_event_record_is_written_as_serde_json_writes_it(
        events in events(),
        actor in any_text(),
        text in any_text(),
        place in prop::option::of((number::<u32>(), number::<u32>())),
    ) {
        for event in &events {
            let record = EventRecord {
                event,
                actor: actor.clone(),
                text: text.clone(),
                line: place.map(|(line, _)| line),
                col: place.map(|(_, col)| col),
            };
            prop_assert_eq!(json::event_record_json(&record), serde_json::to_string(&record).unwrap());
        }
    }

    #[test]
    fn every_summary_is_written_as_serde_json_writes_it(
        outcome in outcome(),
        steps in any::<u64>(),
        trace_hash in any::<u64>(),
        failures in vec((span(), any_text(), any_text(), any_text()), 0..3),
        choices in vec(pid(), 0..5),
    ) {
        let failures: Vec<sim_core::expect::ExpectationFailure> = failures
            .into_iter()
            .map(|(span, process, expected, got)| sim_core::expect::ExpectationFailure { span, process, expected, got })
            .collect();
        let report = sim_core::Report { outcome, steps, trace_hash, failures, choices };
        let summary = RunSummary::of(&report);
        prop_assert_eq!(json::run_summary_json(&summary), serde_json::to_string(&summary).unwrap());
    }
}

#[test]
fn every_library_run_is_written_as_serde_json_writes_it() {
    let mut compared = 0;
    for path in ipclab_tests::library() {
        for (seed, policy) in [(0, Policy::RoundRobin), (1, Policy::Random), (2, Policy::Random)] {
            let run = ipclab_tests::run_file(&path, seed, policy);
            let (program, trace) = (run.simulation.program(), run.simulation.trace());
            let names = render::ProcessNames::from_events(program, &trace.events);
            let mut expected = String::new();
            for event in &trace.events {
                let record = render::event_record(program, trace, &names, event);
                expected.push_str(&serde_json::to_string(&record).unwrap());
                expected.push('\n');
            }
            expected.push_str(&serde_json::to_string(&RunSummary::of(&run.report)).unwrap());
            expected.push('\n');
            assert_eq!(json::trace_lines(program, trace, &names, Some(&run.report)), expected, "{}", path.display());
            compared += 1;
        }
    }
    assert!(compared >= 27, "only {compared} runs compared");
}
