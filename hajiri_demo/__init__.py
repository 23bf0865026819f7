"""The local demo: synthetic and shared-data faces, replayed walk-pasts, `hajiri demo` and its mobile part."""
