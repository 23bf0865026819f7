"""Presentation-attack detection: passive per-frame cues, track planarity, fusion, attack simulator, eval CLI."""
