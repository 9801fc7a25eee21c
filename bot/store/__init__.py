"""The SQLite store: every SQL statement of threadbridge lives in this package."""

from bot.store.database import (
    Store,
    StoreError,
    database_unavailable,
    read_schema_status,
    upgrade_database,
)
from bot.store.migrations import MigrationError, SchemaStatus

__all__ = [
    "MigrationError",
    "SchemaStatus",
    "Store",
    "StoreError",
    "database_unavailable",
    "read_schema_status",
    "upgrade_database",
]
