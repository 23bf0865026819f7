"""Kiosks as the server knows them: heartbeats and clock anchors, and signing-key rotation."""
