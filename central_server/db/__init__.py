"""The database: engine, the one schema (SQLAlchemy Core), and the numbered migrations that create it."""
