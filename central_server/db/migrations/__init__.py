"""The numbered schema migrations, raw SQL per dialect, frozen once shipped (a change is a new one)."""
