"""elders.csv: the documented columns, Chinese role names, and errors naming line and column."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.elders import Contact, ElderRecord, RecordError
from gateway.dispatch.elders_csv import format_elders, parse_elders
from gateway.dispatch.sample import sample_records
from gateway.provision import demo_district

KNOWN = {"T1", "T2"}
HEADER = "terminal_id,address,access,medical,language,lives_alone"


def test_a_row_with_contacts_in_calling_order() -> None:
    text = (
        f"{HEADER},contact1_name,contact1_role,contact1_phone,contact2_name,contact2_role,"
        "contact2_phone\nT1,幸福路 1 号,钥匙盒 4711,糖尿病,杭州话,是,李娜,亲属,13800000011,"
        "王强,neighbor,+86 138 0000 0012\n"
    )
    [record] = parse_elders(text, KNOWN)
    contacts = (
        Contact("李娜", "relative", "13800000011"),
        Contact("王强", "neighbour", "+86 138 0000 0012"),
    )
    assert record == ElderRecord(
        "T1", "幸福路 1 号", "钥匙盒 4711", "糖尿病", "杭州话", True, contacts
    )


def test_a_byte_order_mark_and_any_column_order_are_fine() -> None:
    [record] = parse_elders("\ufeffaddress,terminal_id\nsomewhere,T2\n", KNOWN)
    assert (record.terminal_id, record.address, record.lives_alone) == ("T2", "somewhere", False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("address\nx\n", "needs a terminal_id column"),
        (f"{HEADER}\nT9,,,,,\n", "elders.csv:2: terminal_id: 'T9' is not in the registry"),
        (f"{HEADER}\nT1,,,,,maybe\n", "elders.csv:2: lives_alone"),
        (f"{HEADER}\nT1,,,,,\nT1,,,,,\n", "elders.csv:3: terminal_id: T1 appears twice"),
        ("terminal_id,contact1_name,contact1_role\nT1,李娜,\n", "contact1: name, role and phone"),
        ("terminal_id,contact1_name,contact1_role,contact1_phone\nT1,李娜,boss,110\n",
         "contacts[1].role"),
        ("terminal_id,contact1_name,contact1_role,contact1_phone\nT1,李娜,亲属,call me\n",
         "contacts[1].phone"),
        ("terminal_id,contact13_name\nT1,x\n", "numbered 1 to 12"),
        ("terminal_id,address\nT1,x,extra\n", "more cells than columns"),
        (f"{HEADER}\nT1,{'x' * 201},,,,\n", "address: at most 200"),
    ],
)  # fmt: skip
def test_bad_input_names_the_line_and_column(text: str, message: str) -> None:
    with pytest.raises(RecordError, match=re.escape(message)):
        parse_elders(text, KNOWN)


def test_sample_records_round_trip_through_the_csv() -> None:
    terminals = demo_district(30, towns=2, villages_per_town=3)
    records = sample_records(terminals)
    text = format_elders(records)
    assert parse_elders(text, {t.terminal_id for t in terminals}) == records
    assert all(len(r.contacts) == 6 for r in records)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_either_records_or_a_record_error(text: str) -> None:
    try:
        records = parse_elders(HEADER + "\n" + text, KNOWN)
    except RecordError:
        return
    assert all(r.terminal_id in KNOWN for r in records)
