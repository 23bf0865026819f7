"""The kiosk's active liveness challenge (blink or turn prompts for a doubtful track)."""
