"""Attendance: who is in, mobile check-ins with selfie 1:1, explanations, hostel roll-call, and the day rules."""
