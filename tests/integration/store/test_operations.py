"""Operations: operator actions reach the store, the audit log, the outbox and the terminal."""

from __future__ import annotations

from typing import cast

import aiomqtt
import pytest

from firmware_protocol.codec import decode_command
from firmware_protocol.messages import CommandName, Stage
from firmware_protocol.mqtt import ConnectionLost
from gateway.errors import CommandNotSent
from gateway.operations import Actor, Operations
from gateway.store.alerts import AlertStore
from gateway.store.audit import AuditLog
from gateway.store.db import Database
from gateway.store.intake import StageUpdate
from tests.integration.store.helpers import T0, FakeAcks, FakeClock, alert, rows, store

pytestmark = pytest.mark.integration

OPERATOR = Actor("op-zhang", "operator", ("District",))


class Published:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes, int]] = []

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        self.messages.append((topic, payload, qos))


class Dropping(Published):
    """A broker link that drops while the command is in flight."""

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        raise ConnectionLost("connection closed by the broker")


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def operations(
    db: Database, acks: FakeAcks, clock: FakeClock, wakes: Wakes | None = None,
    client: Published | None = None,
) -> Operations:  # fmt: skip
    async def source() -> aiomqtt.Client:
        return cast(aiomqtt.Client, client or Published())

    return Operations(AlertStore(db, ["webhook"]), AuditLog(db), acks, source, wakes or Wakes(),
                      clock)  # fmt: skip


async def test_accept_tells_the_terminal_audits_and_wakes_the_forwarders(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    acks, wakes = FakeAcks(), Wakes()
    clock.now = T0 + 30

    applied = await operations(db, acks, clock, wakes).advance(
        OPERATOR, "T0001", "b1", Stage.ACCEPTED, by="Li Wei", eta_s=600
    )

    assert applied is True
    assert acks.updates == [StageUpdate("T0001", "b1", Stage.ACCEPTED, by="Li Wei", eta_s=600)]
    assert wakes.count == 1
    [entry] = await AuditLog(db).recent()
    assert (entry["actor"], entry["action"], entry["target"], entry["at"]) == (
        "op-zhang", "alert.accepted", "T0001/b1", T0 + 30,
    )  # fmt: skip
    assert entry["detail"]["applied"] is True
    assert await rows(db, "SELECT event_id FROM outbox WHERE event_id LIKE 'stage:%'") == [
        {"event_id": "stage:T0001:b1:accepted"}
    ]


async def test_responder_defaults_to_the_acting_operator(db: Database, clock: FakeClock) -> None:
    await store(db, alert("b1"))
    acks = FakeAcks()

    await operations(db, acks, clock).advance(OPERATOR, "T0001", "b1", Stage.ACCEPTED)

    assert acks.updates[0].by == "op-zhang"


async def test_action_that_changes_nothing_is_audited_but_not_told(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"))
    acks, wakes = FakeAcks(), Wakes()
    ops = operations(db, acks, clock, wakes)
    await ops.advance(OPERATOR, "T0001", "b1", Stage.RESOLVED)
    acks.updates.clear()

    applied = [
        await ops.advance(OPERATOR, "T0001", "b1", Stage.ACCEPTED),
        await ops.advance(OPERATOR, "T0001", "unknown", Stage.RESOLVED),
    ]

    assert applied == [False, False]
    assert acks.updates == []
    assert wakes.count == 1  # only the first resolve
    assert [e["detail"]["applied"] for e in await AuditLog(db).recent()] == [False, False, True]


async def test_annotate_adds_to_the_timeline_and_audit(db: Database, clock: FakeClock) -> None:
    await store(db, alert("b1"))
    ops = operations(db, FakeAcks(), clock)

    assert await ops.annotate(OPERATOR, "T0001", "b1", "assigned", "doctor: Zhang")
    assert not await ops.annotate(OPERATOR, "T0001", "nope", "assigned", None)

    found = await ops.alerts.get("T0001", "b1")
    assert found is not None
    assert found["timeline"][-1]["note"] == "doctor: Zhang"
    assert len(await AuditLog(db).recent()) == 2


async def test_a_call_back_whose_link_drops_is_not_sent_and_not_audited(
    db: Database, clock: FakeClock
) -> None:
    ops = operations(db, FakeAcks(), clock, client=Dropping())

    with pytest.raises(CommandNotSent, match="T0002"):
        await ops.call_back(OPERATOR, "T0002", "+8613800000000")

    assert await AuditLog(db).recent() == []


async def test_call_back_publishes_a_command_to_the_terminal(
    db: Database, clock: FakeClock
) -> None:
    client = Published()
    ops = operations(db, FakeAcks(), clock, client=client)

    cmd_id = await ops.call_back(OPERATOR, "T0002", "+8613800000000")

    [(topic, payload, qos)] = client.messages
    command = decode_command(payload)
    assert (topic, qos) == ("ec/v1/t/T0002/cmd", 1)
    assert (command.cmd_id, command.cmd) == (cmd_id, CommandName.CALL_BACK)
    assert command.args == {"operator": "op-zhang", "number": "+8613800000000"}
    [entry] = await AuditLog(db).recent()
    assert (entry["action"], entry["target"]) == ("terminal.call_back", "T0002")
