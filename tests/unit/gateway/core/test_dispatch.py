"""The responder call sequence as pure decisions: order, timeouts, rounds, operators."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import dispatch as d
from gateway.core.dispatch import (
    Accept,
    Answer,
    Closed,
    Ended,
    Escalate,
    Notify,
    Outcome,
    Policy,
    Reassign,
    Refused,
    Responder,
    SequenceState,
    Skip,
    Status,
    TakeOver,
    Tick,
)

T0 = 1_700_000_000.0
POLICY = Policy(answer_timeout_s=30, rounds=2)
LI = Responder("李娜", "13800000011", "relative")
WANG = Responder("王强", "13800000012", "neighbour")
ZHAO = Responder("赵明", "13800000013", "grid_worker")
THREE = (LI, WANG, ZHAO)


def notified(actions: list[d.Action]) -> list[tuple[int, str]]:
    return [(a.attempt.number, a.attempt.responder.name) for a in actions if isinstance(a, Notify)]


def ended(actions: list[d.Action]) -> list[tuple[int, Outcome]]:
    return [(a.attempt.number, a.outcome) for a in actions if isinstance(a, Ended)]


def current(state: SequenceState) -> d.Attempt:
    assert state.current is not None
    return state.current


def answer(state: SequenceState, accept: bool, eta_s: int | None = None) -> Answer:
    attempt = current(state)
    return Answer(attempt.number, attempt.responder, accept, None, eta_s)


def test_the_first_responder_is_notified_at_once() -> None:
    state, actions = d.start(THREE, POLICY, T0)

    assert notified(actions) == [(1, "李娜")]
    assert state.status is Status.CALLING
    assert current(state).deadline == T0 + 30
    assert d.next_deadline(state) == T0 + 30


def test_decline_then_silence_then_accept() -> None:
    state, _ = d.start(THREE, POLICY, T0)
    state, actions = d.step(state, answer(state, accept=False), POLICY, T0 + 5)
    assert ended(actions) == [(1, Outcome.DECLINED)]
    assert notified(actions) == [(2, "王强")]

    state, actions = d.step(state, Tick(), POLICY, T0 + 20)
    assert actions == []  # still within 王强's 30 s
    state, actions = d.step(state, Tick(), POLICY, T0 + 35)
    assert ended(actions) == [(2, Outcome.NO_ANSWER)]
    assert notified(actions) == [(3, "赵明")]

    state, actions = d.step(state, answer(state, accept=True, eta_s=480), POLICY, T0 + 40)
    assert ended(actions) == [(3, Outcome.ACCEPTED)]
    assert [a for a in actions if isinstance(a, Accept)] == [Accept(3, ZHAO, 480)]
    assert state.status is Status.ACCEPTED
    assert state.accepted_by == ZHAO
    assert d.next_deadline(state) is None


def test_after_every_round_it_escalates_once_and_stops_calling() -> None:
    state, actions = d.start((LI, WANG), POLICY, T0)
    calls, now = notified(actions), T0
    for _ in range(4):
        now += 31
        state, actions = d.step(state, Tick(), POLICY, now)
        calls += notified(actions)
    assert calls == [(1, "李娜"), (2, "王强"), (3, "李娜"), (4, "王强")]
    assert Escalate() in actions
    assert state.status is Status.EXHAUSTED
    state, actions = d.step(state, Tick(), POLICY, now + 100)
    assert actions == []


def test_nobody_on_record_escalates_at_once() -> None:
    state, actions = d.start((), POLICY, T0)

    assert actions == [Escalate()]
    assert state.status is Status.EXHAUSTED


def test_skip_moves_on_and_the_operator_is_named() -> None:
    state, _ = d.start(THREE, POLICY, T0)
    state, actions = d.step(state, Skip("operator1"), POLICY, T0 + 3)

    assert [(a.outcome, a.actor) for a in actions if isinstance(a, Ended)] == [
        (Outcome.SKIPPED, "operator1")
    ]
    assert notified(actions) == [(2, "王强")]


def test_reassign_calls_someone_off_the_list_then_the_list_resumes() -> None:
    helper = Responder("社区服务站", "0571-8888", "service_station")
    state, _ = d.start(THREE, POLICY, T0)
    state, actions = d.step(state, Reassign("op", helper), POLICY, T0 + 2)
    assert ended(actions) == [(1, Outcome.REASSIGNED)]
    assert notified(actions) == [(2, "社区服务站")]
    assert current(state).position is None

    state, actions = d.step(state, answer(state, accept=False), POLICY, T0 + 4)
    assert notified(actions) == [(3, "王强")]  # the list goes on after 李娜


def test_reassign_to_a_listed_responder_jumps_there() -> None:
    state, _ = d.start(THREE, POLICY, T0)
    state, actions = d.step(state, Reassign("op", ZHAO, position=2), POLICY, T0 + 2)
    assert notified(actions) == [(2, "赵明")]
    state, actions = d.step(state, Tick(), POLICY, T0 + 40)
    assert notified(actions) == [(3, "李娜")]  # round two begins
    assert current(state).round == 1


def test_reassign_to_a_position_off_the_list_is_refused() -> None:
    state, _ = d.start(THREE, POLICY, T0)
    after, actions = d.step(state, Reassign("op", ZHAO, position=7), POLICY, T0 + 2)

    assert after == state
    assert isinstance(actions[0], Refused)


def test_take_over_stops_the_calling() -> None:
    state, _ = d.start(THREE, POLICY, T0)
    state, actions = d.step(state, TakeOver("op"), POLICY, T0 + 2)
    assert ended(actions) == [(1, Outcome.TAKEN_OVER)]
    assert state.status is Status.TAKEN_OVER
    state, actions = d.step(state, Tick(), POLICY, T0 + 500)
    assert actions == []
    # The operator can still call someone; when that fails the sequence stays taken over.
    state, actions = d.step(state, Reassign("op", WANG, position=1), POLICY, T0 + 501)
    assert notified(actions) == [(2, "王强")]
    state, actions = d.step(state, Tick(), POLICY, T0 + 540)
    assert notified(actions) == []
    assert state.status is Status.TAKEN_OVER


def test_a_late_accept_from_a_responder_who_missed_the_window_counts() -> None:
    state, _ = d.start(THREE, POLICY, T0)
    state, _ = d.step(state, Tick(), POLICY, T0 + 31)  # 李娜 did not answer; 王强 called
    late = Answer(1, LI, True, Outcome.NO_ANSWER, 600)
    state, actions = d.step(state, late, POLICY, T0 + 33)

    assert ended(actions) == [(2, Outcome.SUPERSEDED)]
    assert Accept(1, LI, 600) in actions
    assert state.status is Status.ACCEPTED


def test_a_late_decline_or_a_second_answer_is_refused() -> None:
    state, _ = d.start(THREE, POLICY, T0)
    first = answer(state, accept=False)
    state, _ = d.step(state, first, POLICY, T0 + 1)
    again = Answer(1, LI, True, Outcome.DECLINED)
    after, actions = d.step(state, again, POLICY, T0 + 2)
    assert after == state
    assert isinstance(actions[0], Refused)


def test_closed_elsewhere_ends_the_current_call_and_then_nothing_changes() -> None:
    state, _ = d.start(THREE, POLICY, T0)
    state, actions = d.step(state, Closed("accepted"), POLICY, T0 + 5)
    assert ended(actions) == [(1, Outcome.CLOSED)]
    assert state.status is Status.CLOSED
    for event in (Tick(), Skip("op"), TakeOver("op"), answer_like(1)):
        after, actions = d.step(state, event, POLICY, T0 + 60)
        assert after == state
        assert isinstance(actions[0], Refused)


def answer_like(number: int) -> Answer:
    return Answer(number, LI, True)


inputs = st.one_of(
    st.just(Tick()),
    st.builds(lambda accept: ("answer", accept), st.booleans()),
    st.just(Skip("op")),
    st.just(TakeOver("op")),
    st.builds(lambda p: Reassign("op", THREE[p], p), st.integers(0, 2)),
    st.just(Closed("x")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(inputs, st.floats(0, 60)), max_size=30), st.integers(0, 3))
def test_attempts_are_numbered_once_and_at_most_one_is_waiting(
    script: list[tuple[object, float]], count: int
) -> None:
    state, actions = d.start(THREE[:count], POLICY, T0)
    now, seen = T0, notified(actions)
    for item, wait in script:
        now += wait
        event: d.Input
        if isinstance(item, tuple):
            if state.current is None:
                continue
            event = answer(state, accept=item[1])
        else:
            event = item  # type: ignore[assignment]
        state, actions = d.step(state, event, POLICY, now)
        seen += notified(actions)
        assert (state.current is not None) == (state.status is Status.CALLING)
        assert sum(isinstance(a, Escalate) for a in actions) <= 1
    numbers = [n for n, _ in seen]
    assert numbers == list(range(1, len(numbers) + 1))
    assert state.attempts == len(numbers)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4))
def test_silence_ends_in_one_escalation_after_rounds_times_the_list(size: int, rounds: int) -> None:
    policy = Policy(10, rounds)
    people = tuple(Responder(f"r{n}", "110", "relative") for n in range(size))
    state, actions = d.start(people, policy, T0)
    escalations, now = 0, T0
    while state.status is Status.CALLING:
        now += 10
        state, actions = d.step(state, Tick(), policy, now)
        escalations += actions.count(Escalate())
    assert escalations == 1
    assert state.attempts == size * rounds


def test_without_a_record_only_operators_call_and_nothing_escalates() -> None:
    state = d.idle()
    assert d.step(state, Tick(), POLICY, T0) == (state, [])
    state, actions = d.step(state, Reassign("op", LI), POLICY, T0)
    assert notified(actions) == [(1, "李娜")]
    state, actions = d.step(state, Tick(), POLICY, T0 + 31)
    assert ended(actions) == [(1, Outcome.NO_ANSWER)]
    assert Escalate() not in actions
    assert state.status is Status.IDLE
