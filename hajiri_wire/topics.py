"""Every MQTT topic of the system, under one versioned prefix. The broker ACL is derived from these."""

PREFIX = "hajiri/v1"
# The broker account the central server connects as: the ACL lets it read every uplink and write every downlink.
SERVER_USER = "central-ingest"

# Uplink: a device publishes only under its own dev/<device_id>/up/...
RECORDS = PREFIX + "/dev/{device_id}/up/records"
HEARTBEAT = PREFIX + "/dev/{device_id}/up/heartbeat"
DOWNLINK_STATUS = PREFIX + "/dev/{device_id}/up/downlink_status"  # what the kiosk applied or refused
# Downlink: a device reads only its own dev/<device_id>/down/...
ACKS = PREFIX + "/dev/{device_id}/down/acks"
GALLERY = PREFIX + "/dev/{device_id}/down/gallery"
CONFIG = PREFIX + "/dev/{device_id}/down/config"
COMMANDS = PREFIX + "/dev/{device_id}/down/commands"
NOTICES = PREFIX + "/dev/{device_id}/down/notices"  # group notices the kiosk screen shows

# What the ingest workers subscribe to; a shared group lets several workers split the load.
INGEST_GROUP = "ingest"
RECORDS_ALL = PREFIX + "/dev/+/up/records"
RECORDS_SHARED = "$share/" + INGEST_GROUP + "/" + RECORDS_ALL
HEARTBEAT_ALL = PREFIX + "/dev/+/up/heartbeat"
HEARTBEAT_SHARED = "$share/" + INGEST_GROUP + "/" + HEARTBEAT_ALL
DOWNLINK_STATUS_ALL = PREFIX + "/dev/+/up/downlink_status"
DOWNLINK_STATUS_SHARED = "$share/" + INGEST_GROUP + "/" + DOWNLINK_STATUS_ALL
# Downlink kind -> topic template: one retained message (the latest version) per device and kind.
DOWNLINK_KINDS = {"gallery": GALLERY, "config": CONFIG, "command": COMMANDS, "notices": NOTICES}


def records(device_id: str) -> str:
    return RECORDS.format(device_id=device_id)


def heartbeat(device_id: str) -> str:
    return HEARTBEAT.format(device_id=device_id)


def acks(device_id: str) -> str:
    return ACKS.format(device_id=device_id)


def downlink(kind: str, device_id: str) -> str:
    """The topic a downlink of `kind` (gallery, config, command, notices) for `device_id` travels on."""
    try:
        return DOWNLINK_KINDS[kind].format(device_id=device_id)
    except KeyError:
        raise ValueError(f"unknown downlink kind {kind!r}; one of {', '.join(DOWNLINK_KINDS)}") from None


def downlink_kind_of(topic: str) -> str | None:
    """The downlink kind of a dev/<device_id>/down/... topic, or None (acks and anything else)."""
    device_id = device_of(topic)
    if device_id is None:
        return None
    for kind in DOWNLINK_KINDS:
        if topic == downlink(kind, device_id):
            return kind
    return None


def downlink_status(device_id: str) -> str:
    return DOWNLINK_STATUS.format(device_id=device_id)


# Uplink kinds: the last level of every dev/<device_id>/up/<kind> topic; ingest routes each message by it.
UPLINK_KINDS = ("records", "heartbeat", "evidence", "downlink_status", "key_rotation")


def uplink(kind: str, device_id: str) -> str:
    """The topic `device_id` publishes uplinks of `kind` on."""
    if kind not in UPLINK_KINDS:
        raise ValueError(f"unknown uplink kind {kind!r}; one of {', '.join(UPLINK_KINDS)}")
    return f"{PREFIX}/dev/{device_id}/up/{kind}"


def uplink_of(topic: str) -> tuple[str, str] | None:
    """(kind, device_id) of an uplink topic, or None when `topic` is no dev/<device_id>/up/<kind> of ours."""
    parts = topic.split("/")
    if len(parts) != 6 or "/".join(parts[:2]) != PREFIX or parts[2] != "dev" or parts[4] != "up":
        return None
    return (parts[5], parts[3]) if parts[5] in UPLINK_KINDS else None


def device_of(topic: str) -> str | None:
    """The device id in a dev/<device_id>/... topic, or None when the topic is not one of ours."""
    parts = topic.split("/")
    if len(parts) < 5 or "/".join(parts[:2]) != PREFIX or parts[2] != "dev":
        return None
    return parts[3]


def broker_acl_patterns() -> list[str]:
    """Mosquitto ACL `pattern` lines: %u is the device's broker username, which is its device id."""
    return [
        f"pattern write {PREFIX}/dev/%u/up/#",
        f"pattern read {PREFIX}/dev/%u/down/#",
    ]


# Spoof evidence (a sealed face crop per SPOOF record) goes up at low priority; its acks come down apart from
# the record acks, so an evidence ack can never mark a record as stored.
EVIDENCE = PREFIX + "/dev/{device_id}/up/evidence"
EVIDENCE_ACKS = PREFIX + "/dev/{device_id}/down/evidence_acks"
EVIDENCE_ALL = PREFIX + "/dev/+/up/evidence"
EVIDENCE_SHARED = "$share/" + INGEST_GROUP + "/" + EVIDENCE_ALL


def evidence(device_id: str) -> str:
    return EVIDENCE.format(device_id=device_id)


def evidence_acks(device_id: str) -> str:
    return EVIDENCE_ACKS.format(device_id=device_id)


# Device key rotation (hajiri_wire/key_rotation.py): the request goes up, the server's signed answer comes down.
KEY_ROTATION = PREFIX + "/dev/{device_id}/up/key_rotation"
KEY_ROTATION_ANSWER = PREFIX + "/dev/{device_id}/down/key_rotation_ack"
KEY_ROTATION_ALL = PREFIX + "/dev/+/up/key_rotation"
KEY_ROTATION_SHARED = "$share/" + INGEST_GROUP + "/" + KEY_ROTATION_ALL


def key_rotation(device_id: str) -> str:
    return KEY_ROTATION.format(device_id=device_id)


def key_rotation_answer(device_id: str) -> str:
    return KEY_ROTATION_ANSWER.format(device_id=device_id)
