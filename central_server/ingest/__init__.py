"""MQTT ingest: uplinks from kiosks verified, stored once, acked after the commit; rejections counted."""
