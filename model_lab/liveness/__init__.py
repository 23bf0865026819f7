"""Liveness lab: the presentation-attack simulator and the APCER/BPCER evaluation CLI."""
