"""MQTT 3.1.1 and 5 packets as a client needs them (pure: bytes in, bytes out).

Encoders build the packets a client sends (CONNECT, SUBSCRIBE, PUBLISH, PUBACK, PINGREQ,
DISCONNECT); :class:`Decoder` turns the byte stream from the broker into the packets a
client may receive (CONNACK, PUBLISH, PUBACK, SUBACK, PINGRESP and, in MQTT 5,
DISCONNECT) and raises :class:`~firmware_protocol.mqtt.errors.MalformedPacket` for anything
else. MQTT 5 is spoken without properties: a client that sends none gets none it must
act on, so incoming properties are checked for length and skipped. The one property a
client may send is CONNECT's Session Expiry Interval (a session kept across a restart).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from firmware_protocol.mqtt.errors import MalformedPacket

MQTT311 = 4
MQTT5 = 5
VERSIONS = (MQTT311, MQTT5)
#: The largest packet the decoder accepts; a terminal's downlink is at most ~2 KiB.
MAX_PACKET = 256 * 1024
#: The largest Remaining Length MQTT can express (four bytes of varint).
MAX_REMAINING = 268_435_455

PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class Will:
    """The last will: published by the broker when the connection dies without DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True, slots=True)
class ConnAck:
    """The broker's answer to CONNECT: ``code`` 0 accepts."""

    session_present: bool
    code: int


@dataclass(frozen=True, slots=True)
class Publish:
    """An application message from the broker."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    packet_id: int | None


@dataclass(frozen=True, slots=True)
class PubAck:
    """The broker has a QoS 1 message of ours (MQTT 5: ``code`` ≥ 0x80 is a failure)."""

    packet_id: int
    code: int = 0


@dataclass(frozen=True, slots=True)
class SubAck:
    """The broker's answer to SUBSCRIBE: the granted QoS per filter (≥ 0x80: refused)."""

    packet_id: int
    granted: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PingResp:
    """The broker's answer to PINGREQ."""


@dataclass(frozen=True, slots=True)
class Disconnect:
    """MQTT 5 only: the broker closes the connection, telling why."""

    code: int


Packet = ConnAck | Publish | PubAck | SubAck | PingResp | Disconnect

# --- encoding --------------------------------------------------------------------------


def remaining_length(n: int) -> bytes:
    """The variable-length encoding of ``n`` (MQTT §2.2.3)."""
    if not 0 <= n <= MAX_REMAINING:
        raise ValueError(f"remaining length {n} out of range")
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError("string or binary field longer than 65535 bytes")
    return _U16.pack(len(data)) + data


def _packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + remaining_length(len(body)) + body


def _check_version(version: int) -> None:
    if version not in VERSIONS:
        raise ValueError(f"MQTT version must be 4 (3.1.1) or 5, got {version}")


def connect(
    client_id: str,
    *,
    username: str | None = None,
    password: str | None = None,
    keepalive_s: int = 60,
    will: Will | None = None,
    clean: bool = True,
    version: int = MQTT311,
    session_expiry_s: int = 0,
) -> bytes:
    """CONNECT. In MQTT 5 its one property is Session Expiry Interval, sent when
    ``session_expiry_s`` is not 0 (0: the session ends with the connection; MQTT 3.1.1
    has no such field: there ``clean=False`` keeps the session as the broker allows)."""
    _check_version(version)
    if not 0 <= keepalive_s <= 0xFFFF:
        raise ValueError("keepalive must be in 0..65535 s")
    if not 0 <= session_expiry_s <= 0xFFFFFFFF:
        raise ValueError("session expiry must be in 0..4294967295 s")
    v5 = version == MQTT5
    flags = 0x02 if clean else 0
    payload = [_field(client_id.encode())]
    if will is not None:
        if will.qos not in (0, 1, 2):
            raise ValueError("will QoS must be 0, 1 or 2")
        flags |= 0x04 | will.qos << 3 | (0x20 if will.retain else 0)
        if v5:
            payload.append(b"\x00")  # no will properties
        payload += [_field(will.topic.encode()), _field(will.payload)]
    if username is not None:
        flags |= 0x80
        payload.append(_field(username.encode()))
    if password is not None:
        flags |= 0x40
        payload.append(_field(password.encode()))
    header = _field(b"MQTT") + bytes((version, flags)) + _U16.pack(keepalive_s)
    if v5:
        header += (b"\x05\x11" + _U32.pack(session_expiry_s)) if session_expiry_s else b"\x00"
    return _packet(0x10, header + b"".join(payload))


def subscribe(packet_id: int, filters: Sequence[tuple[str, int]], version: int = MQTT311) -> bytes:
    """SUBSCRIBE to ``(filter, qos)`` pairs."""
    _check_version(version)
    if not filters:
        raise ValueError("SUBSCRIBE needs at least one filter")
    body = [_U16.pack(packet_id)]
    if version == MQTT5:
        body.append(b"\x00")
    for name, qos in filters:
        body += [_field(name.encode()), bytes((qos,))]
    return _packet(0x82, b"".join(body))


def publish(
    topic: str,
    payload: bytes,
    *,
    qos: int = 1,
    retain: bool = False,
    packet_id: int = 0,
    dup: bool = False,
    version: int = MQTT311,
) -> bytes:
    """PUBLISH at QoS 0 or 1 (``packet_id`` 1..65535 for QoS 1)."""
    if qos not in (0, 1):
        raise ValueError("this client publishes at QoS 0 or 1")
    if qos and not 0 < packet_id <= 0xFFFF:
        raise ValueError("QoS 1 needs a packet id in 1..65535")
    first = 0x30 | (0x08 if dup else 0) | qos << 1 | (0x01 if retain else 0)
    head = _field(topic.encode())
    if qos:
        head += _U16.pack(packet_id)
    if version == MQTT5:
        head += b"\x00"
    return _packet(first, head + payload)


def puback(packet_id: int) -> bytes:
    """PUBACK (in MQTT 5 the two-byte form means success)."""
    return b"\x40\x02" + _U16.pack(packet_id)


# --- decoding --------------------------------------------------------------------------


class _Reader:
    """Reads one packet's body; running past its end is a malformed packet."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n > self.left():
            raise MalformedPacket("packet shorter than its fields")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        value: int = _U16.unpack(self.take(2))[0]
        return value

    def packet_id(self) -> int:
        value = self.u16()
        if value == 0:
            raise MalformedPacket("packet id 0")
        return value

    def text(self) -> str:
        raw = self.take(self.u16())
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPacket("string is not UTF-8") from None
        if "\x00" in text:
            raise MalformedPacket("string holds U+0000")
        return text

    def varint(self) -> int:
        value, shift = 0, 0
        for _ in range(4):
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
        raise MalformedPacket("variable byte integer longer than 4 bytes")

    def skip_properties(self) -> None:
        self.take(self.varint())

    def end(self) -> None:
        if self.left():
            raise MalformedPacket("trailing bytes after the packet's fields")


class Decoder:
    """Splits the broker's byte stream into packets; feed it whatever arrived."""

    __slots__ = ("_buffer", "version")

    def __init__(self, version: int = MQTT311) -> None:
        _check_version(version)
        self.version = version
        self._buffer = b""

    def feed(self, data: bytes) -> list[Packet]:
        """The packets completed by ``data`` (a partial one is kept for the next call)."""
        buffer = self._buffer + data if self._buffer else data
        packets: list[Packet] = []
        pos, end = 0, len(buffer)
        while pos < end:
            header = _fixed_header(buffer, pos)
            if header is None:
                break
            first, start, size = header
            if start + size > end:
                break
            packets.append(self._decode(first, bytes(buffer[start : start + size])))
            pos = start + size
        self._buffer = bytes(buffer[pos:])
        return packets

    def _decode(self, first: int, body: bytes) -> Packet:
        kind, flags = first >> 4, first & 0x0F
        if kind == 3:
            return self._publish(flags, _Reader(body))
        if flags:
            raise MalformedPacket(f"packet type {kind} with flags {flags:#x}")
        reader = _Reader(body)
        v5 = self.version == MQTT5
        packet: Packet
        if kind == 2:
            ack_flags, code = reader.u8(), reader.u8()
            if ack_flags & 0xFE:
                raise MalformedPacket("CONNACK with reserved flags set")
            if v5:
                reader.skip_properties()
            packet = ConnAck(bool(ack_flags & 1), code)
        elif kind == 4:
            packet = PubAck(reader.packet_id(), self._reason(reader))
        elif kind == 9:
            packet = self._suback(reader)
        elif kind == 13:
            packet = PingResp()
        elif kind == 14 and v5:
            packet = Disconnect(self._reason(reader))
        else:
            raise MalformedPacket(f"unexpected packet type {kind} from a broker")
        reader.end()
        return packet

    def _reason(self, reader: _Reader) -> int:
        """MQTT 5's optional reason code and properties (absent: 0, success)."""
        if self.version != MQTT5 or not reader.left():
            return 0
        code = reader.u8()
        if reader.left():
            reader.skip_properties()
        return code

    def _suback(self, reader: _Reader) -> SubAck:
        packet_id = reader.packet_id()
        if self.version == MQTT5:
            reader.skip_properties()
        granted = reader.take(reader.left())
        if not granted:
            raise MalformedPacket("SUBACK without return codes")
        if any(2 < code < 0x80 for code in granted):
            raise MalformedPacket("SUBACK with an invalid return code")
        return SubAck(packet_id, tuple(granted))

    def _publish(self, flags: int, reader: _Reader) -> Publish:
        qos, dup, retain = (flags >> 1) & 3, bool(flags & 8), bool(flags & 1)
        if qos > 1:
            raise MalformedPacket(f"PUBLISH at QoS {qos}: this client subscribes at QoS ≤ 1")
        if dup and not qos:
            raise MalformedPacket("PUBLISH at QoS 0 with DUP set")
        topic = reader.text()
        if not topic or "+" in topic or "#" in topic:
            raise MalformedPacket(f"PUBLISH to an invalid topic name {topic[:80]!r}")
        packet_id = reader.packet_id() if qos else None
        if self.version == MQTT5:
            reader.skip_properties()
        payload = reader.take(reader.left())
        return Publish(topic, payload, qos, retain, dup, packet_id)


def _fixed_header(buffer: bytes, pos: int) -> tuple[int, int, int] | None:
    """``(first byte, body start, body size)`` at ``pos``, or None while incomplete."""
    end = len(buffer)
    size, shift, at = 0, 0, pos + 1
    for _ in range(4):
        if at >= end:
            return None
        byte = buffer[at]
        at += 1
        size |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if size > MAX_PACKET:
                raise MalformedPacket(f"packet of {size} bytes exceeds {MAX_PACKET}")
            return buffer[pos], at, size
        shift += 7
    raise MalformedPacket("remaining length longer than 4 bytes")
