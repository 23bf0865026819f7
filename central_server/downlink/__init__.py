"""Signed downlinks to kiosks: versions per device and kind, the server's keys, publishing, kiosk reports."""
