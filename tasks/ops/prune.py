"""Retention: which artifacts and runs are old enough to go, never what the audit or the champion needs.

Artifact age is measured in window time against each model's newest recorded window (so a replay, a backfill
or a monitor that stopped never loses the last `older_than` of its history); Prefect flow runs by when they
ended. What always stays: every store row (verdicts, drift, versions, requests, snapshots: the audit), the
champion's model file and reference, the reference any window inside the retention used, a configured fixed
reference, and the most recently retired model while the watch has not yet judged the champion that replaced
it (what a rollback returns to); once the watch kept that champion, the retired model ages like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

Kind = Literal["report", "reference", "model", "flow_run"]
KEEP_STATUSES = ("champion",)
RETIRED = ("retired", "rejected", "rolled_back")


@dataclass(frozen=True)
class PruneItem:
    kind: Kind
    model: str | None
    target: str  # an artifact key, or a flow run id
    size: int
    reason: str


@dataclass(frozen=True)
class Inventory:
    """What exists: artifacts by key (with sizes), the store's rows, and driftflow's finished flow runs."""

    sizes: dict[str, int]  # artifact key -> bytes
    newest_window: dict[str, datetime]  # model -> newest recorded window end
    used_references: dict[str, set[str]]  # model -> reference versions used by windows inside the retention
    snapshots: list[dict[str, Any]]  # reference_snapshots rows with `path_key` / `profile_key`
    versions: list[dict[str, Any]]  # model_versions rows with `artifact_key`
    fixed_references: dict[str, str] = field(default_factory=dict)  # model -> configured fixed version
    flow_runs: list[dict[str, Any]] = field(default_factory=list)  # id, name, end (UTC)
    kept: set[tuple[str, int]] = field(default_factory=set)  # (model, version) the watch judged and kept


@dataclass(frozen=True)
class PrunePlan:
    items: list[PruneItem]

    @property
    def total_bytes(self) -> int:
        return sum(i.size for i in self.items)

    def count(self, kind: Kind) -> int:
        return sum(1 for i in self.items if i.kind == kind)


def report_window(key: str) -> tuple[str, datetime] | None:
    """(model, window end) of a key `reports/<model>/<YYYYmmddTHHMM>/<file>`; None for other keys."""
    parts = key.split("/")
    if len(parts) < 4 or parts[0] != "reports":
        return None
    try:
        return parts[1], datetime.strptime(parts[2], "%Y%m%dT%H%M")
    except ValueError:
        return None


def cutoffs(inventory: Inventory, older_than: timedelta) -> dict[str, datetime]:
    """Per model: windows ending before this are outside the retention."""
    return {model: newest.replace(tzinfo=None) - older_than for model, newest in inventory.newest_window.items()}


def plan_prune(inventory: Inventory, older_than: timedelta, now: datetime) -> PrunePlan:
    """Everything outside the retention that nothing still needs, each with the reason it may go."""
    limits = cutoffs(inventory, older_than)
    items: list[PruneItem] = []
    for key, size in sorted(inventory.sizes.items()):
        found = report_window(key)
        if found and found[0] in limits and found[1] < limits[found[0]]:
            items.append(PruneItem("report", found[0], key, size, f"report of the window ending {found[1]:%Y-%m-%d}, "
                                   f"before {limits[found[0]]:%Y-%m-%d}"))
    champions = {(v["model"], v["version"]) for v in inventory.versions if v["status"] in KEEP_STATUSES}
    rollback_targets = _rollback_targets(inventory.versions, inventory.kept)
    for snap in inventory.snapshots:
        model, limit = snap["model"], limits.get(snap["model"])
        if limit is None or snap["active"] or (model, snap["model_version"]) in champions \
                or inventory.fixed_references.get(model) == snap["version"] \
                or snap["version"] in inventory.used_references.get(model, set()) \
                or (model, snap["model_version"]) in rollback_targets or _naive(snap["window_end"]) >= limit:
            continue
        for snap_key in (snap.get("path_key"), snap.get("profile_key")):
            if snap_key and snap_key in inventory.sizes:
                items.append(PruneItem("reference", model, snap_key, inventory.sizes[snap_key],
                                       f"superseded reference {snap['version']}, unused since {limit:%Y-%m-%d}"))
    for version in inventory.versions:
        model, limit, artifact = version["model"], limits.get(version["model"]), version.get("artifact_key")
        if limit is None or not artifact or artifact not in inventory.sizes or version["status"] not in RETIRED \
                or (model, version["version"]) in rollback_targets:
            continue
        ended = version.get("served_to") or version["holdout_to"]
        if _naive(ended) < limit:
            items.append(PruneItem("model", model, artifact, inventory.sizes[artifact],
                                   f"{version['status']} version v{version['version']}, out of service before "
                                   f"{limit:%Y-%m-%d}"))
    run_limit = now - older_than
    for run in inventory.flow_runs:
        if run["end"] < run_limit:
            items.append(PruneItem("flow_run", None, str(run["id"]), 0,
                                   f"flow run {run['name']} ended {run['end']:%Y-%m-%d}"))
    return PrunePlan(items)


def _rollback_targets(versions: list[dict[str, Any]], kept: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Per model, the most recently retired version: what a rollback of the champion returns to, as long as the
    watch has not kept that champion (after that, no rollback returns to it)."""
    settled = {v["model"] for v in versions if v["status"] in KEEP_STATUSES and (v["model"], v["version"]) in kept}
    latest: dict[str, dict[str, Any]] = {}
    for v in versions:
        if v["model"] in settled:
            continue
        if v["status"] == "retired":
            best = latest.get(v["model"])
            if best is None or _order(v) > _order(best):
                latest[v["model"]] = v
    return {(m, v["version"]) for m, v in latest.items()}


def _order(version: dict[str, Any]) -> tuple[datetime, int]:
    return _naive(version.get("served_to") or version["holdout_to"]), version["version"]


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo else moment
