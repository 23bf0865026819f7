"""Mirror tables of migration 5 (downlink): signed versions per device and kind, device X25519 keys, kiosk status."""

import sqlalchemy as sa

from central_server.db import metadata

# Every signed downlink, kept whole: the envelope is what was (or will be) published, byte for byte.
downlink_versions = sa.Table(
    "downlink_versions", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("issued_at", sa.Text, nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("envelope", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("published_at", sa.Text),
    sa.UniqueConstraint("device_id", "kind", "version", name="uq_downlink_device_kind_version"),
)

# The X25519 public key galleries for a device are sealed to (sent at registration).
device_enc_keys = sa.Table(
    "device_enc_keys", metadata,
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), primary_key=True),
    sa.Column("enc_public_key", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)

# What each kiosk last reported per kind: the version it applied, and the last one it refused and why.
downlink_status = sa.Table(
    "downlink_status", metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("applied_version", sa.BigInteger),
    sa.Column("applied_at", sa.Text),
    sa.Column("refused_version", sa.BigInteger),
    sa.Column("refused_reason", sa.Text),
    sa.Column("refused_detail", sa.Text),
    sa.Column("refused_at", sa.Text),
    sa.Column("refused_count", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)
