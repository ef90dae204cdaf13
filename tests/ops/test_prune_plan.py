"""Retention decisions: old artifacts and runs go; the audit, the champion and what a rollback needs stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.ops.prune import Inventory, plan_prune, report_window

NEWEST = datetime(2013, 12, 30, 6)
NOW = datetime(2026, 11, 27, tzinfo=UTC)
KEEP = timedelta(days=90)


def version(n: int, status: str, served_to: datetime | None, holdout_to: datetime) -> dict[str, object]:
    return {"model": "m", "version": n, "status": status, "served_to": served_to, "holdout_to": holdout_to,
            "artifact_key": f"models/m/v{n}.joblib"}


def snapshot(name: str, model_version: int | None, active: bool, window_end: datetime) -> dict[str, object]:
    return {"model": "m", "version": name, "model_version": model_version, "active": active,
            "window_end": window_end, "path_key": f"references/m/{name}.parquet",
            "profile_key": f"profiles/m/{name}.json"}


def inventory(**changes: object) -> Inventory:
    sizes = {f"reports/m/{(NEWEST - timedelta(days=7 * i)):%Y%m%dT%H%M}/drift.html": 4_000_000 for i in range(20)}
    sizes |= {f"models/m/v{n}.joblib": 1000 for n in range(1, 6)}
    sizes |= {f"references/m/{v}.parquet": 500 for v in ("v1", "v2", "v3", "v4", "v5", "fixed-a")}
    sizes |= {"profiles/m/v2.json": 50, "reports/other/20130101T0600/drift.html": 7}
    values: dict[str, object] = {
        "sizes": sizes, "newest_window": {"m": NEWEST}, "used_references": {"m": {"v4"}},
        "snapshots": [snapshot("v1", 1, False, datetime(2013, 1, 1)), snapshot("v2", 2, False, datetime(2013, 3, 1)),
                      snapshot("v3", 3, False, datetime(2013, 5, 1)), snapshot("v4", 4, False, datetime(2013, 8, 1)),
                      snapshot("v5", 5, True, datetime(2013, 11, 1)), snapshot("fixed-a", None, False,
                                                                               datetime(2013, 1, 1))],
        "versions": [version(1, "retired", datetime(2013, 3, 4), datetime(2013, 1, 1)),
                     version(2, "rejected", None, datetime(2013, 3, 1)),
                     version(3, "retired", datetime(2013, 8, 5), datetime(2013, 5, 1)),
                     version(4, "retired", datetime(2013, 11, 4), datetime(2013, 8, 1)),
                     version(5, "champion", None, datetime(2013, 11, 1))],
        "fixed_references": {"m": "fixed-a"},
        "flow_runs": [{"id": "11111111-1111-1111-1111-111111111111", "name": "old", "end": NOW - timedelta(days=91)},
                      {"id": "22222222-2222-2222-2222-222222222222", "name": "recent", "end": NOW - timedelta(days=3)}],
    }
    values.update(changes)
    return Inventory(**values)  # type: ignore[arg-type]


def targets(kind: str, inv: Inventory | None = None) -> list[str]:
    return [i.target for i in plan_prune(inv or inventory(), KEEP, NOW).items if i.kind == kind]


def test_reports_of_windows_older_than_the_retention_go_and_the_newest_stay() -> None:
    """Retention counts back from the model's newest window: 13 weekly reports stay, the 7 before them go."""
    gone = targets("report")
    assert len(gone) == 7
    assert all(report_window(k)[1] < NEWEST - KEEP for k in gone)  # type: ignore[index]
    assert f"reports/m/{NEWEST:%Y%m%dT%H%M}/drift.html" not in gone


def test_reports_of_a_model_without_recorded_windows_are_left_alone() -> None:
    assert not any(k.startswith("reports/other/") for k in targets("report"))


def test_the_champion_the_rollback_target_and_recently_retired_models_keep_their_files() -> None:
    """v5 is champion and v4 the newest retired (a rollback returns to it): both stay. v1 (retired in March),
    v2 (a challenger rejected in March) and v3 (retired in August, before the early-October cutoff) go."""
    assert sorted(targets("model")) == ["models/m/v1.joblib", "models/m/v2.joblib", "models/m/v3.joblib"]


def test_superseded_references_go_unless_active_fixed_used_or_the_rollback_targets() -> None:
    """v5 is active, v4 was used by a window inside the retention (and is the rollback target's), the fixed
    reference is configured; v1, v2, v3 and v2's profile go."""
    assert sorted(targets("reference")) == ["profiles/m/v2.json", "references/m/v1.parquet",
                                            "references/m/v2.parquet", "references/m/v3.parquet"]


def test_once_the_watch_kept_the_champion_the_replaced_model_ages_like_any_retired_one() -> None:
    """v4, retired at the end of September, is what a rollback of v5 returns to until the watch keeps v5;
    from then on, out of service before the cutoff, its model file and its unused reference go."""
    versions = [dict(v) for v in inventory().versions]
    versions[3]["served_to"] = datetime(2013, 9, 30)
    unjudged = inventory(versions=versions, used_references={"m": set()})
    judged = inventory(versions=versions, used_references={"m": set()}, kept={("m", 5)})
    assert "models/m/v4.joblib" not in targets("model", unjudged)
    assert "references/m/v4.parquet" not in targets("reference", unjudged)
    assert "models/m/v4.joblib" in targets("model", judged)
    assert "references/m/v4.parquet" in targets("reference", judged)
    assert "models/m/v5.joblib" not in targets("model", judged)  # the champion, always
    assert targets("model", inventory(kept={("m", 4)})) == targets("model")  # a kept event of an older version


def test_flow_runs_go_by_when_they_ended() -> None:
    assert targets("flow_run") == ["11111111-1111-1111-1111-111111111111"]


def test_a_longer_retention_keeps_more() -> None:
    plan = plan_prune(inventory(), timedelta(days=400), NOW)
    assert [i for i in plan.items if i.kind != "flow_run"] == []


def test_the_plan_adds_up_sizes_and_counts() -> None:
    plan = plan_prune(inventory(), KEEP, NOW)
    assert plan.count("report") == 7 and plan.count("model") == 3
    assert plan.total_bytes == 7 * 4_000_000 + 3 * 1000 + 3 * 500 + 50
    assert all(item.reason for item in plan.items)


def test_files_already_gone_are_not_listed() -> None:
    inv = inventory()
    sizes = {k: v for k, v in inv.sizes.items() if k != "models/m/v1.joblib"}
    assert "models/m/v1.joblib" not in targets("model", inventory(sizes=sizes))
