"""Models from an MLflow registry (`models:/name@alias` or `models:/name/3`), with the optional MLflow client.

`pip install 'driftflow[mlflow]'` (or `uv sync --extra mlflow`) installs `mlflow-skinny`: the tracking and
registry client with the model loaders, without MLflow's server and UI. The tracking server (or a local
`sqlite:///…` / file store) is named the MLflow way, by MLFLOW_TRACKING_URI (and MLFLOW_REGISTRY_URI).

An alias moves when someone promotes in MLflow, so registration pins the version the alias named at that
moment and keeps a copy of the estimator in driftflow's artifact store: later gates and rollbacks score the
model driftflow registered, whatever MLflow says by then.
"""

from __future__ import annotations

import re
from typing import Any

from tasks.errors import ModelFileError

URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$")
INSTALL_HINT = "install the optional MLflow client: pip install 'driftflow[mlflow]' (uv sync --extra mlflow)"


def load_mlflow_model(uri: str) -> tuple[Any, str]:
    """The scikit-learn estimator behind `uri`, and the URI of the exact version it resolved to."""
    match = URI.match(uri.strip())
    if match is None:
        raise ModelFileError(f"{uri!r} is not an MLflow model URI like models:/name@alias or models:/name/3")
    try:
        import mlflow
        import mlflow.sklearn
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException
    except ImportError:
        raise ModelFileError(f"--mlflow {uri}: the MLflow client is not installed; {INSTALL_HINT}") from None
    name, alias, version = match.group("name"), match.group("alias"), match.group("version")
    try:
        client = MlflowClient()
        found = (client.get_model_version_by_alias(name, alias) if alias
                 else client.get_model_version(name, str(version)))
        resolved = f"models:/{name}/{found.version}"
        flavors = mlflow.models.get_model_info(resolved).flavors
        if "sklearn" not in flavors:
            raise ModelFileError(f"{uri} ({resolved}) has no scikit-learn flavor (it has "
                                 f"{', '.join(sorted(flavors))}); driftflow scores models with predict_proba / predict")
        return mlflow.sklearn.load_model(resolved), resolved
    except MlflowException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"{uri}: MLflow could not resolve it ({first}); tracking store: "
                             f"{mlflow.get_tracking_uri()} (MLFLOW_TRACKING_URI)") from None
