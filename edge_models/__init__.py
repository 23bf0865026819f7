"""What the kiosk runs: model registry (files, sha256, source, licence), runtimes, alignment, threshold, liveness."""
