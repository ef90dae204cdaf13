"""The one switch point between the embedded defaults and production.

Everything that differs between a laptop and production is read here, from environment variables:

| variable | embedded default |
|---|---|
| DRIFTFLOW_HOME | `.driftflow/` in the project folder: the SQLite files, artifacts and Prefect home |
| DRIFTFLOW_WAREHOUSE_URL | `sqlite:///$DRIFTFLOW_HOME/warehouse.db`, the embedded warehouse (any SQLAlchemy URL) |
| DRIFTFLOW_WAREHOUSE_URL_BLOCK | set: the URL comes from this Prefect block (`name`: a Secret; or `type/name`) |
| DRIFTFLOW_STORE_URL | `sqlite:///$DRIFTFLOW_HOME/store.db`, a file of its own: the warehouse is only ever read |
| DRIFTFLOW_STORE_URL_BLOCK | unset; set: the store's URL comes from this Prefect block, like the warehouse's |
| DRIFTFLOW_ARTIFACTS | `$DRIFTFLOW_HOME/artifacts`; a folder or an fsspec URL: `s3://bucket/prefix`, `gs://`, `az://` |
| DRIFTFLOW_S3_ENDPOINT_URL | unset: AWS; set: an S3-compatible server (MinIO, …) for `s3://` artifacts |
| DRIFTFLOW_PROJECT_DIR | the checkout: where `deployments/models/` and `expectations/` live |
| DRIFTFLOW_REPORTS_URL | unset: report links point at local files; set: links are made under this URL |
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def project_dir() -> Path:
    return Path(os.environ.get("DRIFTFLOW_PROJECT_DIR", PROJECT_DIR))


def home() -> Path:
    return Path(os.environ.get("DRIFTFLOW_HOME", project_dir() / ".driftflow"))


def models_dir() -> Path:
    return project_dir() / "deployments" / "models"


def expectations_dir() -> Path:
    return project_dir() / "expectations"


def embedded_warehouse_url() -> str:
    """The embedded warehouse: where the demo's data lives (`driftflow seed` writes nowhere else by default)."""
    return f"sqlite:///{home() / 'warehouse.db'}"


def _connection_url(variable: str) -> str | None:
    """`<variable>_BLOCK` (a Prefect block holding the URL) wins over `<variable>` (the URL itself)."""
    block = os.environ.get(f"{variable}_BLOCK")
    if block:
        from tasks.ops.secrets import block_url

        from_block = block_url(block, f"{variable}_BLOCK")
        return from_block and openable_url(from_block, f"{variable}_BLOCK")
    url = os.environ.get(variable)
    return openable_url(url, variable) if url else None


@lru_cache(maxsize=16)
def openable_url(url: str, setting: str) -> str:
    """`url` if SQLAlchemy can open it; a mistyped scheme (`postgres://`) or a missing driver names `setting`."""
    import sqlalchemy as sa

    from tasks.errors import ConfigError

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"{setting}: not a database URL (e.g. postgresql://user:password@host:5432/db or "
                          "sqlite:///path/to/file.db)") from None
    try:
        parsed.get_dialect().import_dbapi()
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"{setting}: {parsed.render_as_string(hide_password=True)}: no database driver for "
                          f"'{parsed.drivername}://' here ({exc}); PostgreSQL is postgresql://…, SQLite is "
                          "sqlite:///path") from None
    return url


def embedded_store_url() -> str:
    return f"sqlite:///{home() / 'store.db'}"


def warehouse_url() -> str:
    return _connection_url("DRIFTFLOW_WAREHOUSE_URL") or embedded_warehouse_url()


def store_url() -> str:
    return _connection_url("DRIFTFLOW_STORE_URL") or embedded_store_url()


def artifacts_root() -> str:
    """Where artifacts live: a local folder or an fsspec URL (read through `tasks/artifacts.py`)."""
    return os.environ.get("DRIFTFLOW_ARTIFACTS") or str(home() / "artifacts")


def artifacts_dir() -> Path:
    """The local artifact folder (only meaningful while DRIFTFLOW_ARTIFACTS is a local path)."""
    return Path(artifacts_root())


def reports_url() -> str | None:
    """Base URL under which the artifact folder is served (the demo serves it); None: link to files."""
    return os.environ.get("DRIFTFLOW_REPORTS_URL") or None
