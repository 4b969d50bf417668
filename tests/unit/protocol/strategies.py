"""Hypothesis strategies: valid protocol v1 messages, and arbitrary JSON to throw at the codec."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from firmware_protocol.codec import MAX_REPORT_ID, MAX_TEXT
from firmware_protocol.messages import (
    GATEWAY_ALERT_PREFIX,
    Ack,
    Alert,
    AlertKind,
    Command,
    CommandName,
    Health,
    Stage,
    Status,
    TerminalState,
    Vitals,
)

terminal_ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
ids = st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)
report_ids = st.from_regex(rf"[A-Za-z0-9._:-]{{1,{MAX_REPORT_ID}}}", fullmatch=True)
alert_ids = ids.filter(lambda value: not value.startswith(GATEWAY_ALERT_PREFIX))
timestamps = st.floats(min_value=0, max_value=2**32, exclude_max=True) | st.integers(
    0, 2**32 - 1
).map(float)


def texts(limit: int = MAX_TEXT) -> st.SearchStrategy[str]:
    """Any Unicode text (surrogates excluded: they are not characters) up to ``limit``."""
    return st.text(max_size=limit)


@st.composite
def alerts(draw: st.DrawFn) -> Alert:
    kind = draw(st.sampled_from(AlertKind))
    cancels = draw(alert_ids if kind is AlertKind.CANCEL else st.none() | ids)
    return Alert(
        terminal_id=draw(terminal_ids),
        alert_id=draw(alert_ids),
        kind=kind,
        ts=draw(timestamps),
        cancels=cancels,
        note=draw(st.none() | texts()),
    )


def _int(low: int, high: int) -> st.SearchStrategy[int | None]:
    return st.none() | st.integers(low, high)


def _float(low: float, high: float) -> st.SearchStrategy[float | None]:
    return st.none() | st.floats(low, high) | st.integers(int(low), int(high)).map(float)


vitals = st.builds(
    Vitals,
    bp_systolic_mmhg=_int(30, 300),
    bp_diastolic_mmhg=_int(10, 250),
    heart_rate_bpm=_int(0, 300),
    spo2_pct=_float(0, 100),
    body_temp_c=_float(20, 45),
    glucose_mmol_l=_float(0, 60),
    steps=_int(0, 1_000_000),
    fall_detected=st.none() | st.booleans(),
).filter(lambda v: bool(v.present()))

healths = st.builds(Health, terminal_ids, report_ids, timestamps, vitals)

statuses = st.builds(
    Status,
    terminal_ids,
    st.sampled_from(TerminalState),
    ts=st.none() | timestamps,
    battery_pct=_int(0, 100),
    signal_dbm=_int(-150, 0),
    firmware=st.none() | texts(32),
)

acks = st.builds(
    Ack,
    ids,
    st.sampled_from(Stage),
    timestamps,
    by=st.none() | texts(64),
    eta_s=_int(0, 86_400),
    note=st.none() | texts(),
)

json_scalars: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)

commands = st.builds(
    Command,
    ids,
    st.sampled_from(CommandName),
    timestamps,
    st.dictionaries(
        st.text(max_size=12), json_scalars | st.lists(json_scalars, max_size=3), max_size=4
    ),
)

# Strings that may hold unpaired surrogates, as a buggy encoder could escape them.
# (json.dumps escapes each surrogate; json.loads joins a high+low pair into one character.)
wild_text = st.sampled_from(["\ud800", "a\udfffb", "\ud83d\ude4f"]) | st.text(
    st.characters(codec=None) | st.characters(categories=["Cs"]), max_size=30
)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | wild_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

# Values that have broken JSON decoders: beyond a double, bool-as-number, unpaired surrogate,
# trailing newline, empty containers.
trap_values: st.SearchStrategy[Any] = st.sampled_from(
    [10**400, -(10**400), 2**64, 1e308, -1, 0, 1.5, -0.0, True, False, None, "", "\ud800",
     "b1-0001\n", "v-0001", [], {}, [[]], {"a": {}}]
)  # fmt: skip
