"""The `notices` downlink kind: its topic, a signed round trip, and the same refusals as every other kind."""

import json

import pytest

from hajiri_wire import BadSignature, DeviceKey, MalformedPayload, PayloadTooLarge, topics
from hajiri_wire.canonical import canonical_bytes
from hajiri_wire.downlink import (
    MAX_BYTES,
    NOTICE_TEXT_CHARS,
    NoticeList,
    StaleVersion,
    UnknownServerKey,
    WrongDevice,
    decode_envelope,
    encode_envelope,
    parse_payload,
    sign_envelope,
    verify_envelope,
)

DEVICE = "kiosk-01"


@pytest.fixture(scope="module")
def server() -> DeviceKey:
    return DeviceKey.generate()


def notice(i: int, text: str = "Office closes at 2 pm on Friday.") -> dict:
    return {"id": i, "audience": "site", "title": f"Notice {i}", "text": text,
            "created_at": "2026-11-25T09:00:00.000Z"}


def envelope(server: DeviceKey, version: int, notices: list[dict], device: str = DEVICE) -> bytes:
    return encode_envelope(sign_envelope("notices", device, version, {"notices": notices}, server))


def verify(payload: bytes, server: DeviceKey, last: int | None, topic_kind: str | None = "notices"):
    env = decode_envelope(payload, topic_kind)
    verify_envelope(env, server_key=server.public, device_id=DEVICE, last_version=last, topic_kind=topic_kind)
    return env


def test_topic_and_acl_cover_notices():
    assert topics.downlink("notices", DEVICE) == "hajiri/v1/dev/kiosk-01/down/notices"
    assert topics.downlink_kind_of("hajiri/v1/dev/kiosk-01/down/notices") == "notices"
    assert "pattern read hajiri/v1/dev/%u/down/#" in topics.broker_acl_patterns()
    assert MAX_BYTES["notices"] == 32 * 1024


def test_a_signed_notice_list_round_trips_with_markup_kept_as_data(server):
    sent = [notice(7, "<script>alert('x')</script> & more"), notice(3)]
    env = verify(envelope(server, 7, sent), server, last=3)
    body = parse_payload(env)
    assert isinstance(body, NoticeList)
    assert [n.model_dump() for n in body.notices] == sent


@pytest.mark.parametrize("last", [7, 9])
def test_replayed_and_older_notice_lists_are_refused(server, last):
    with pytest.raises(StaleVersion):
        verify(envelope(server, 7, [notice(7)]), server, last=last)


def test_forged_misaddressed_and_wrong_topic_notice_lists_are_refused(server):
    obj = json.loads(envelope(server, 8, [notice(8)]))
    obj["payload"]["notices"][0]["text"] = "Salary withheld: pay the bearer"
    with pytest.raises(BadSignature):
        verify(canonical_bytes(obj), server, last=None)
    other = DeviceKey.generate()
    with pytest.raises(UnknownServerKey):
        verify(envelope(other, 8, [notice(8)]), server, last=None)
    with pytest.raises(WrongDevice):
        verify(envelope(server, 8, [notice(8)], device="kiosk-02"), server, last=None)
    with pytest.raises(WrongDevice) as wrong_topic:
        verify(envelope(server, 8, [notice(8)]), server, last=None, topic_kind="config")
    assert wrong_topic.value.reason == "wrong_topic"


def test_bad_notice_payloads_are_named_and_oversize_is_refused(server):
    bad = {**notice(1), "html": "<b>x</b>"}
    with pytest.raises(MalformedPayload, match="html"):
        parse_payload(verify(envelope(server, 1, [bad]), server, last=None))
    long_text = notice(2, "x" * (NOTICE_TEXT_CHARS + 1))
    with pytest.raises(MalformedPayload, match="text"):
        parse_payload(verify(envelope(server, 2, [long_text]), server, last=None))
    big = envelope(server, 3, [notice(3)]) + b" " * MAX_BYTES["notices"]
    with pytest.raises(PayloadTooLarge):
        decode_envelope(big, "notices")
