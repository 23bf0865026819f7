"""Off-kiosk model work: accuracy evaluation, threshold calibration, fitting, conversion and experiments."""
