"""The central server: FastAPI API, MQTT ingest, attendance rules, reports, web UI."""
