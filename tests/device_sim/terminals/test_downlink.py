from __future__ import annotations

from device_sim.terminals.downlink import Downlink, Reconfigure
from device_sim.terminals.summary import Counters
from device_sim.terminals.tracker import AlertBook, AlertRecord
from firmware_protocol.codec import encode_ack, encode_command
from firmware_protocol.messages import Ack, Command, CommandName, Stage


def make() -> tuple[Downlink, AlertBook, Counters]:
    book, counters = AlertBook(), Counters()
    return Downlink(book, counters), book, counters


def test_ack_updates_the_book_and_counts_the_outcome() -> None:
    downlink, book, counters = make()
    book.add(AlertRecord("t1", "a1", "meal", 1.0))
    ack = encode_ack(Ack("a1", Stage.RECEIVED, 2.0))
    assert downlink.handle("t1", "ec/v1/t/t1/ack", ack, 2.0) is None
    downlink.handle("t1", "ec/v1/t/t1/ack", ack, 3.0)
    downlink.handle("t1", "ec/v1/t/t1/ack", encode_ack(Ack("zz", Stage.RECEIVED, 2.0)), 3.0)
    assert counters.acks == {"advanced": 1, "repeated": 1, "unknown": 1}


def test_config_and_call_back() -> None:
    downlink, _, counters = make()
    config = encode_command(Command("c1", CommandName.CONFIG, 1.0, {"status_interval": 30}))
    assert downlink.handle("t1", "ec/v1/t/t1/cmd", config, 5.0) == Reconfigure(30.0)
    useless = encode_command(Command("c2", CommandName.CONFIG, 1.0, {"status_interval_s": 0}))
    assert downlink.handle("t1", "ec/v1/t/t1/cmd", useless, 5.0) is None
    call = encode_command(Command("c3", CommandName.CALL_BACK, 1.0, {"phone": "120"}))
    assert downlink.handle("t1", "ec/v1/t/t1/cmd", call, 6.0) is None
    assert [(c.cmd_id, c.at, c.args) for c in downlink.callbacks] == [("c3", 6.0, {"phone": "120"})]
    assert counters.commands == {"config": 2, "call_back": 1}


def test_garbage_is_counted_not_raised() -> None:
    downlink, _, counters = make()
    downlink.handle("t1", "ec/v1/t/t1/ack", b"{nope", 1.0)
    downlink.handle("t1", "ec/v1/t/t1/status", b"{}", 1.0)
    downlink.handle("t1", "elsewhere", b"{}", 1.0)
    assert counters.bad_downlink == 3
