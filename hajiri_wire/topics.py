"""Every MQTT topic of the system, under one versioned prefix. The broker ACL is derived from these."""

PREFIX = "hajiri/v1"

# Uplink: a device publishes only under its own dev/<device_id>/up/...
RECORDS = PREFIX + "/dev/{device_id}/up/records"
HEARTBEAT = PREFIX + "/dev/{device_id}/up/heartbeat"
# Downlink: a device reads only its own dev/<device_id>/down/...
ACKS = PREFIX + "/dev/{device_id}/down/acks"
GALLERY = PREFIX + "/dev/{device_id}/down/gallery"
CONFIG = PREFIX + "/dev/{device_id}/down/config"
COMMANDS = PREFIX + "/dev/{device_id}/down/commands"

# What the ingest workers subscribe to; a shared group lets several workers split the load.
INGEST_GROUP = "ingest"
RECORDS_ALL = PREFIX + "/dev/+/up/records"
RECORDS_SHARED = "$share/" + INGEST_GROUP + "/" + RECORDS_ALL
HEARTBEAT_ALL = PREFIX + "/dev/+/up/heartbeat"
HEARTBEAT_SHARED = "$share/" + INGEST_GROUP + "/" + HEARTBEAT_ALL


def records(device_id: str) -> str:
    return RECORDS.format(device_id=device_id)


def heartbeat(device_id: str) -> str:
    return HEARTBEAT.format(device_id=device_id)


def acks(device_id: str) -> str:
    return ACKS.format(device_id=device_id)


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
