"""Every SQLAlchemy mirror of the migrated schema, imported together so `db.metadata` knows all tables.

The migrations (raw SQL, frozen once released) are the schema; these modules mirror it for queries. A test
(tests/central_server/test_migrations.py) compares the two on SQLite and PostgreSQL, column by column.
"""

from central_server import (  # noqa: F401  (imported for the tables they put on db.metadata)
    access_db,
    domain_db,
    downlink_db,
    evidence_db,
    key_rotation_db,
    migration_0002_sync,
    templates_db,
)
from central_server.db import metadata

__all__ = ["metadata"]
