"""The monitoring store on PostgreSQL: schema created and upgraded by Alembic."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tasks.store.engine import upgrade_store
from tasks.store.schema import metadata
from tests.integration.conftest import CreateDatabase
from tests.support import assert_upgrade_keeps_rows

pytestmark = pytest.mark.postgres


def test_a_new_store_gets_every_table(create_database: CreateDatabase) -> None:
    """Upgrading an empty PostgreSQL database creates every table and column the code reads and writes."""
    engine = upgrade_store(create_database("store"))
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert set(table.columns.keys()) <= columns, table.name


def test_upgrading_an_old_store_keeps_its_rows(create_database: CreateDatabase) -> None:
    """A store created at revision 0001 with rows in every table keeps them when upgraded to head."""
    assert_upgrade_keeps_rows(create_database("store"))
