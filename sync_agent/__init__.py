"""The kiosk's sync agent: outbox to MQTT at least once, acks back, downlink in."""
