"""Model registry (files, sha256, source, licence), runtimes, evaluation and threshold calibration."""
