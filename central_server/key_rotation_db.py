"""Mirror table of migration 8 (key rotation): the signing keys a device held before its current one."""

import sqlalchemy as sa

from central_server.db import metadata

device_keys = sa.Table(
    "device_keys", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("replaced_by", sa.Text, nullable=False),
    sa.Column("requested_version", sa.BigInteger, nullable=False),
    sa.Column("retired_at", sa.Text, nullable=False),
    sa.UniqueConstraint("device_id", "public_key", name="uq_device_keys_device_key"),
)
