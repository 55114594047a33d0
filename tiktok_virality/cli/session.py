"""What one CLI invocation works with: its settings, the graph with the resources it chose (live or
offline), the dataset catalog and the persistent Dagster instance."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

from tiktok_virality.config import Settings
from tiktok_virality.definitions import build_definitions
from tiktok_virality.defs.datasets.catalog import DatasetCatalog
from tiktok_virality.resources import build_resources


@dataclass(frozen=True)
class Session:
    """The settings, resources and Dagster instance of one CLI invocation."""

    settings: Settings
    defs: dg.Definitions
    catalog: DatasetCatalog
    instance: dg.DagsterInstance


@contextmanager
def open_session(settings: Settings, *, offline: bool) -> Iterator[Session]:
    resources = build_resources(settings, offline=offline)
    defs = build_definitions(resources)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    # Dagster warns about a home without one; its defaults (SQLite storage in the home) are ours.
    (settings.dagster_home / "dagster.yaml").touch(exist_ok=True)
    # The home `dagster dev` is started with (README), so the CLI's runs show in the UI.
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        yield Session(settings, defs, resources["catalog"], instance)
