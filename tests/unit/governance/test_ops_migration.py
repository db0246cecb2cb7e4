from __future__ import annotations

import sqlalchemy as sa

from shopguard.governance import ops_tables


def test_migration_when_applied_then_every_ops_table_and_column_matches_the_code(runtime):
    insp = sa.inspect(runtime.engine)
    tables = [v for v in vars(ops_tables).values() if isinstance(v, sa.Table)]
    assert len(tables) == 13
    for table in tables:
        cols = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(cols) == {c.name for c in table.columns}, table.name
        for c in table.columns:
            assert cols[c.name]["nullable"] == (c.nullable and not c.primary_key), (
                table.name,
                c.name,
            )
        pk = insp.get_pk_constraint(table.name)["constrained_columns"]
        assert set(pk) == {c.name for c in table.primary_key.columns}, table.name


def test_migration_when_ops_branch_then_own_label_beside_other_branches(runtime):
    with runtime.engine.connect() as conn:
        heads = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    assert "ops_0001" in heads and len(heads) > 1  # its own branch, beside the others
