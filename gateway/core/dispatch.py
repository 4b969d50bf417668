"""The responder call sequence of one alarm, as a state machine. Pure.

For an emergency the elder's contact list is called in order: each responder is
notified, given ``answer_timeout_s`` to accept or decline, and on a decline or silence
the next one is notified. After the whole list has been tried ``rounds`` times the
alarm escalates to the level above and the sequence waits for an operator. Operators
may skip the responder being called, reassign the alarm to someone else, or take it
over (the sequence stops calling) at any moment.

    step(state, input, now) -> (state, actions)

The inputs are what happened (:class:`Tick`, :class:`Answer`, :class:`Skip`,
:class:`Reassign`, :class:`TakeOver`, :class:`Closed`); the actions are what the shell
must write and say (:class:`Notify`, :class:`Ended`, :class:`Accept`,
:class:`Escalate`, :class:`Refused`), all in the same transaction as the new state.
Attempts are numbered 1, 2, 3 … per alarm and never reused, so the event that notifies
attempt *n* has the same id however often the shell is interrupted and restarted.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace


class Status(enum.StrEnum):
    """Where the sequence is."""

    CALLING = "calling"  # a responder has been notified and has not answered yet
    ACCEPTED = "accepted"  # a responder accepted (final)
    EXHAUSTED = "exhausted"  # every round tried, escalated; waiting for an operator
    TAKEN_OVER = "taken_over"  # an operator stopped the calling
    CLOSED = "closed"  # the alarm was accepted or resolved another way (final)
    IDLE = "idle"  # the elder has no record: nobody to call until an operator names someone


#: Statuses in which inputs still change something.
ACTIVE = frozenset({Status.CALLING, Status.EXHAUSTED, Status.TAKEN_OVER, Status.IDLE})


class Outcome(enum.StrEnum):
    """How one attempt ended."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"
    SKIPPED = "skipped"  # an operator moved on
    REASSIGNED = "reassigned"  # an operator called someone else instead
    TAKEN_OVER = "taken_over"
    SUPERSEDED = "superseded"  # someone called earlier accepted late
    CLOSED = "closed"  # the alarm was settled another way


#: Outcomes after which the notified responder should be told they are not needed.
STAND_DOWN = frozenset(
    {Outcome.SKIPPED, Outcome.REASSIGNED, Outcome.TAKEN_OVER, Outcome.SUPERSEDED, Outcome.CLOSED}
)


@dataclass(frozen=True, slots=True)
class Responder:
    """Someone who can be sent: a name, a phone and their role for the elder."""

    name: str
    phone: str
    role: str


@dataclass(frozen=True, slots=True)
class Policy:
    """How long each responder has to answer, and how often the list is cycled."""

    answer_timeout_s: float
    rounds: int


@dataclass(frozen=True, slots=True)
class Attempt:
    """One notification of one responder. ``position`` is ``None`` for someone an
    operator named who is not on the elder's list."""

    number: int
    responder: Responder
    position: int | None
    round: int
    started_at: float
    deadline: float


@dataclass(frozen=True, slots=True)
class SequenceState:
    """The sequence of one alarm. ``position`` is the list position last tried (-1
    before the first), ``attempts`` the number of the last attempt made."""

    status: Status
    responders: tuple[Responder, ...]
    position: int = -1
    round: int = 0
    attempts: int = 0
    current: Attempt | None = None
    escalated: bool = False
    taken_over: bool = False
    accepted_by: Responder | None = None
    manual: bool = False


# -- inputs ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed (the current attempt may have run out)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A responder answered attempt ``attempt``. ``previous`` is how that attempt had
    ended already (``None`` while it was still waiting), as the shell recorded it."""

    attempt: int
    responder: Responder
    accept: bool
    previous: Outcome | None = None
    eta_s: int | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """An operator moves on from the responder being called."""

    actor: str


@dataclass(frozen=True, slots=True)
class Reassign:
    """An operator calls ``responder`` now (``position`` when on the elder's list)."""

    actor: str
    responder: Responder
    position: int | None = None


@dataclass(frozen=True, slots=True)
class TakeOver:
    """An operator takes the alarm: no more automatic calls."""

    actor: str


@dataclass(frozen=True, slots=True)
class Closed:
    """The alarm was accepted or resolved without this sequence."""

    reason: str


Input = Tick | Answer | Skip | Reassign | TakeOver | Closed


# -- actions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell ``attempt.responder`` about the alarm and wait for their answer."""

    attempt: Attempt


@dataclass(frozen=True, slots=True)
class Ended:
    """``attempt`` ended with ``outcome`` (``actor``: who ended it, if a person)."""

    attempt: Attempt
    outcome: Outcome
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class Accept:
    """The alarm is accepted by ``responder``: tell the terminal (and the responder the
    access instructions)."""

    attempt: int
    responder: Responder
    eta_s: int | None


@dataclass(frozen=True, slots=True)
class Escalate:
    """Nobody on the list accepted: the alarm goes to the level above."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The input changed nothing; ``reason`` says why (for the caller's answer)."""

    reason: str


Action = Notify | Ended | Accept | Escalate | Refused


# -- the machine ----------------------------------------------------------------------


def start(
    responders: Sequence[Responder], policy: Policy, now: float
) -> tuple[SequenceState, list[Action]]:
    """A new sequence: notify the first responder, or escalate at once with nobody to call."""
    state = SequenceState(Status.CALLING, tuple(responders))
    return _advance(state, policy, now, [])


def idle() -> SequenceState:
    """A sequence for an elder without a record: operators call people one at a time, and
    the alarm escalates by age alone (nobody on a list has failed yet)."""
    return SequenceState(Status.IDLE, (), manual=True)


def step(
    state: SequenceState, event: Input, policy: Policy, now: float
) -> tuple[SequenceState, list[Action]]:
    """Apply one input; the actions say what to write and announce."""
    if state.status not in ACTIVE:
        return state, [Refused(f"sequence {state.status.value}")]
    if isinstance(event, Tick):
        return _tick(state, policy, now)
    if isinstance(event, Answer):
        return _answer(state, event, policy, now)
    if isinstance(event, Skip):
        return _skip(state, event, policy, now)
    if isinstance(event, Reassign):
        return _reassign(state, event, policy, now)
    if isinstance(event, TakeOver):
        return _take_over(state, event)
    return _close(state)


def next_deadline(state: SequenceState) -> float | None:
    """When :class:`Tick` next matters (``None``: nothing is waiting)."""
    return state.current.deadline if state.current is not None else None


def _end_current(
    state: SequenceState, outcome: Outcome, actor: str | None = None
) -> tuple[SequenceState, list[Action]]:
    if state.current is None:
        return state, []
    return replace(state, current=None), [Ended(state.current, outcome, actor)]


def _notify(
    state: SequenceState, responder: Responder, position: int | None, policy: Policy, now: float
) -> tuple[SequenceState, Notify]:
    number = state.attempts + 1
    attempt = Attempt(number, responder, position, state.round, now, now + policy.answer_timeout_s)
    moved = replace(
        state,
        status=Status.CALLING,
        attempts=number,
        current=attempt,
        position=state.position if position is None else position,
    )
    return moved, Notify(attempt)


def _advance(
    state: SequenceState, policy: Policy, now: float, actions: list[Action]
) -> tuple[SequenceState, list[Action]]:
    """Notify the next responder on the list, or stop when the rounds are used up."""
    if state.escalated or state.taken_over or state.manual:
        # After escalation or a take-over only operators call people, one at a time.
        status = (Status.TAKEN_OVER if state.taken_over else
                  Status.IDLE if state.manual else Status.EXHAUSTED)  # fmt: skip
        return replace(state, status=status, current=None), actions
    position, round_ = state.position + 1, state.round
    if position >= len(state.responders):
        position, round_ = 0, round_ + 1
    if not state.responders or round_ >= policy.rounds:
        done = replace(state, status=Status.EXHAUSTED, current=None, escalated=True)
        return done, [*actions, Escalate()]
    moved, notify = _notify(
        replace(state, round=round_), state.responders[position], position, policy, now
    )
    return moved, [*actions, notify]


def _tick(state: SequenceState, policy: Policy, now: float) -> tuple[SequenceState, list[Action]]:
    current = state.current
    if current is None or now < current.deadline:
        return state, []
    ended, actions = _end_current(state, Outcome.NO_ANSWER)
    return _advance(ended, policy, now, actions)


def _accept(state: SequenceState, answer: Answer, actions: list[Action]) -> list[Action]:
    return [*actions, Accept(answer.attempt, answer.responder, answer.eta_s)]


def _answer(
    state: SequenceState, answer: Answer, policy: Policy, now: float
) -> tuple[SequenceState, list[Action]]:
    current = state.current
    if current is not None and answer.attempt == current.number:
        if answer.accept:
            ended, actions = _end_current(state, Outcome.ACCEPTED)
            accepted = replace(ended, status=Status.ACCEPTED, accepted_by=current.responder)
            return accepted, _accept(state, answer, actions)
        ended, actions = _end_current(state, Outcome.DECLINED)
        return _advance(ended, policy, now, actions)
    # An earlier attempt: a responder who missed the window may still come.
    late = (
        answer.accept and answer.previous is Outcome.NO_ANSWER and answer.attempt <= state.attempts
    )
    if not late:
        return state, [Refused("this call is no longer waiting for an answer")]
    ended, actions = _end_current(state, Outcome.SUPERSEDED)
    accepted = replace(ended, status=Status.ACCEPTED, accepted_by=answer.responder)
    return accepted, _accept(state, answer, actions)


def _skip(
    state: SequenceState, skip: Skip, policy: Policy, now: float
) -> tuple[SequenceState, list[Action]]:
    if state.current is None:
        return state, [Refused("nobody is being called")]
    ended, actions = _end_current(state, Outcome.SKIPPED, skip.actor)
    return _advance(ended, policy, now, actions)


def _reassign(
    state: SequenceState, reassign: Reassign, policy: Policy, now: float
) -> tuple[SequenceState, list[Action]]:
    position = reassign.position
    if position is not None and not 0 <= position < len(state.responders):
        return state, [Refused("no such responder on the list")]
    ended, actions = _end_current(state, Outcome.REASSIGNED, reassign.actor)
    moved, notify = _notify(ended, reassign.responder, position, policy, now)
    return moved, [*actions, notify]


def _take_over(state: SequenceState, take: TakeOver) -> tuple[SequenceState, list[Action]]:
    if state.taken_over and state.current is None:
        return state, [Refused("already taken over")]
    ended, actions = _end_current(state, Outcome.TAKEN_OVER, take.actor)
    return replace(ended, status=Status.TAKEN_OVER, taken_over=True), actions


def _close(state: SequenceState) -> tuple[SequenceState, list[Action]]:
    ended, actions = _end_current(state, Outcome.CLOSED)
    return replace(ended, status=Status.CLOSED), actions
