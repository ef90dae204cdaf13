"""One family of known errors. Each carries one clear message for the user; nothing deeper is shown.

Data problems become verdicts (`DataError` is caught by the monitor and recorded as `data_invalid`);
configuration and infrastructure problems end a command with one line naming the file, field or setting.
"""

from __future__ import annotations


class DriftflowError(Exception):
    """A problem driftflow knows how to explain in one message."""


class ConfigError(DriftflowError, ValueError):
    """A model configuration or suite that cannot be used; the message names the file and the field."""


class SourceError(DriftflowError):
    """The configured source cannot be read as configured: a missing table or column, SQL that fails."""


class MissingColumnsError(SourceError, ValueError):
    """The source lacks columns the model's configuration names."""


class WarehouseUnavailable(SourceError, RuntimeError):
    """The warehouse could not be reached (worth a retry); the message names the setting."""


class StoreUnavailable(DriftflowError, RuntimeError):
    """The monitoring store could not be reached (worth a retry); the message names the setting."""


class ArtifactsUnavailable(DriftflowError, RuntimeError):
    """The artifact store (DRIFTFLOW_ARTIFACTS) cannot be used: a missing file system, no access, no network."""


class OrchestratorUnavailable(DriftflowError, RuntimeError):
    """The Prefect API could not be reached; the message names PREFECT_API_URL."""


class NoReferenceError(DriftflowError, LookupError):
    """The model has no reference to compare with yet (register a champion first)."""


class TrainerError(DriftflowError, ValueError):
    """The configured trainer (or training deployment) cannot be loaded, or failed to train."""


class DataError(DriftflowError, ValueError):
    """The window's data cannot be measured as configured (the monitor records it as `data_invalid`)."""


class StateConflict(DriftflowError, RuntimeError):
    """A recorded state may not move that way (e.g. a finished retrain request back to running)."""


class ModelFileError(DriftflowError, ValueError):
    """A model file or registry URI that cannot be read as a model; the message names it."""
