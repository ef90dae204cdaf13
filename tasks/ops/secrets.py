"""Connection URLs kept in Prefect blocks, named in the environment, resolved once per process.

`DRIFTFLOW_WAREHOUSE_URL_BLOCK=prod-warehouse` reads the URL from the Prefect `Secret` block `prod-warehouse`
(its value: the URL, or a JSON object with a `url` field). `sqlalchemy-connector/prod-warehouse` (any
`<block-type>/<name>`) reads a connector block instead: prefect-sqlalchemy's `SqlAlchemyConnector`, whose
`connection_info` is a URL or its parts. The URL never passes through the YAML, run parameters, logs or events:
only the block's name does.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from tasks.errors import ConfigError, OrchestratorUnavailable


def block_url(reference: str, setting: str) -> str:
    """The connection URL held by the block `reference` (a Secret name, or `<block-type>/<name>`)."""
    return _cached_block_url(reference.strip(), setting)


@lru_cache(maxsize=16)
def _cached_block_url(reference: str, setting: str) -> str:
    kind, _, name = reference.rpartition("/")
    kind = kind or "secret"
    if not name:
        raise ConfigError(f"{setting}={reference!r}: name a Secret block, or a block as '<block-type>/<name>'")
    block = _load(kind, name, setting)
    url = _secret_url(block) if kind == "secret" else _connector_url(block, setting, reference)
    if not url or "://" not in url:
        raise ConfigError(f"{setting}={reference!r}: the block holds no connection URL (expected a SQLAlchemy URL "
                          "such as postgresql+psycopg://user:…@host/db)")
    return url


def _load(kind: str, name: str, setting: str) -> Any:
    import httpx
    from prefect.blocks.core import Block
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    try:
        if kind == "secret":
            from prefect.blocks.system import Secret

            return Secret.load(name)
        return Block.load(f"{kind}/{name}")
    except (ObjectNotFound, ValueError) as exc:
        raise ConfigError(f"{setting}: no {kind} block named {name!r} on the Prefect server "
                          f"({type(exc).__name__}); create it in the UI or with Python, then retry") from None
    except KeyError:
        raise ConfigError(f"{setting}: block type {kind!r} is not installed here (for sqlalchemy-connector: "
                          "pip install prefect-sqlalchemy)") from None
    except (httpx.HTTPError, OSError, RuntimeError) as exc:
        raise OrchestratorUnavailable(f"{setting}: the Prefect API at {PREFECT_API_URL.value() or '(none)'} "
                                      f"could not be asked for block {name!r}: {type(exc).__name__}") from None


def _secret_url(block: Any) -> str | None:
    value = block.get()
    if isinstance(value, dict):
        value = value.get("url")
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value).get("url")
        except (ValueError, AttributeError):
            return None
    return value if isinstance(value, str) else None


def _connector_url(block: Any, setting: str, reference: str) -> str | None:
    info = getattr(block, "connection_info", None)
    if info is None:
        raise ConfigError(f"{setting}={reference!r}: the block has no connection_info (use a Secret block or a "
                          "SQLAlchemy connector block)")
    if isinstance(info, str):
        return info
    if hasattr(info, "create_url"):
        return str(info.create_url().render_as_string(hide_password=False))
    return str(info)


def forget_resolved() -> None:
    """Resolve block URLs afresh (after a secret was rotated; tests)."""
    _cached_block_url.cache_clear()
