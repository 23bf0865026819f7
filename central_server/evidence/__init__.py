"""Spoof evidence: ingest of sealed crops, the review queue's data, liveness policy changes per kiosk."""
