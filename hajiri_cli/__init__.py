"""The `hajiri` command: one entry point, a subcommand per component."""
