"""The vendor register's migration creates exactly the tables the code declares."""

from __future__ import annotations

import sqlalchemy as sa

from shopguard.governance.vendors import (
    assessments_table,
    events_table,
    ratings_table,
    vendors_table,
)


def test_migration_when_applied_then_tables_match_declarations(runtime):
    inspector = sa.inspect(runtime.engine)
    for table in (vendors_table, assessments_table, events_table, ratings_table):
        migrated = {c["name"] for c in inspector.get_columns(table.name)}
        assert migrated == {c.name for c in table.columns}, table.name
        declared_ix = {ix.name for ix in table.indexes}
        migrated_ix = {ix["name"] for ix in inspector.get_indexes(table.name)}
        assert declared_ix <= migrated_ix, table.name
