"""Server-rendered pages: the dashboard and the spoof evidence review."""
