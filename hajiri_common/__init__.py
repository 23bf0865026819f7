"""Small helpers every component uses: config-file loading and time formatting."""
