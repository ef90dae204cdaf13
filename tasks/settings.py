"""The one switch point between the embedded defaults and production.

Everything that differs between a laptop and production is read here, from environment variables:

| variable | embedded default |
|---|---|
| DRIFTFLOW_HOME | `.driftflow/` in the project folder: the SQLite files, artifacts and Prefect home |
| DRIFTFLOW_WAREHOUSE_URL | `sqlite:///$DRIFTFLOW_HOME/warehouse.db`, the embedded warehouse (any SQLAlchemy URL) |
| DRIFTFLOW_STORE_URL | `sqlite:///$DRIFTFLOW_HOME/store.db`, a file of its own: the warehouse is only ever read |
| DRIFTFLOW_ARTIFACTS | `$DRIFTFLOW_HOME/artifacts` (reports, models, reference snapshots) |
| DRIFTFLOW_PROJECT_DIR | the checkout: where `deployments/models/` and `expectations/` live |
| DRIFTFLOW_REPORTS_URL | unset: report links point at local files; set: links are made under this URL |
"""

from __future__ import annotations

import os
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


def embedded_store_url() -> str:
    return f"sqlite:///{home() / 'store.db'}"


def warehouse_url() -> str:
    return os.environ.get("DRIFTFLOW_WAREHOUSE_URL") or embedded_warehouse_url()


def store_url() -> str:
    return os.environ.get("DRIFTFLOW_STORE_URL") or embedded_store_url()


def artifacts_dir() -> Path:
    return Path(os.environ.get("DRIFTFLOW_ARTIFACTS", home() / "artifacts"))


def reports_url() -> str | None:
    """Base URL under which the artifact folder is served (the demo serves it); None: link to files."""
    return os.environ.get("DRIFTFLOW_REPORTS_URL") or None
