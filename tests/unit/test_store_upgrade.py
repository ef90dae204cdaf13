"""The monitoring store's schema migrations on the embedded SQLite store."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tasks.store.engine import upgrade_store
from tasks.store.schema import metadata
from tests.support import assert_upgrade_keeps_rows


def test_a_new_store_gets_every_table(tmp_path: Path) -> None:
    """Upgrading an empty SQLite file creates every table the code reads and writes."""
    engine = upgrade_store(f"sqlite:///{tmp_path / 'store.db'}")
    assert set(metadata.tables) <= set(sa.inspect(engine).get_table_names())


def test_upgrading_an_old_store_keeps_its_rows(tmp_path: Path) -> None:
    """A store created at revision 0001 with rows in every table keeps them when upgraded to head."""
    assert_upgrade_keeps_rows(f"sqlite:///{tmp_path / 'store.db'}")


def test_the_migrations_build_exactly_the_schema_the_code_uses(tmp_path: Path) -> None:
    """Every table and column of `tasks/store/schema.py` exists after the migrations, and nothing else does."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = upgrade_store(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    structural = [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")]
    assert structural == []
