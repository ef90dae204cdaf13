"""The `driftflow` command. Prefect and the data libraries are imported inside commands, after set-up.

Commands live in modules by what they are for; each registers itself on `app`:
`monitoring` (run, backfill, status), `history` (relabel, audit), `project` (check, upgrade, seed),
`registering` (register), `deploying` (serve, deploy), `operations` (health, prune, notify, report),
`demo` (demo, stop).
"""

from __future__ import annotations

import sys

from flows.cli import (  # noqa: F401  (each registers)
    demo,
    deploying,
    history,
    monitoring,
    operations,
    project,
    registering,
)
from flows.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    sys.exit(app())
