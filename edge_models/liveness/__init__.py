"""Liveness the kiosk and the server run: passive per-frame cues, the face to judge, track planarity, fusion."""
