"""What one CLI invocation works with: its settings, the graph with the resources it chose (live or
offline), the stores the commands read and write and the persistent Dagster instance."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

from tiktok_virality.config import Settings
from tiktok_virality.definitions import build_definitions
from tiktok_virality.defs.datasets.error_log import ErrorLog
from tiktok_virality.defs.datasets.registry import DatasetRegistry
from tiktok_virality.resources import STORE_SCHEMAS, build_resources
from tiktok_virality.warehouse.migrations import migrate


@dataclass(frozen=True)
class Session:
    """The settings, resources and Dagster instance of one CLI invocation."""

    settings: Settings
    defs: dg.Definitions
    registry: DatasetRegistry
    error_log: ErrorLog
    instance: dg.DagsterInstance


@contextmanager
def open_session(settings: Settings, *, offline: bool) -> Iterator[Session]:
    resources = build_resources(settings, offline=offline)
    defs = build_definitions(resources)
    # The stores' tables, made or upgraded once for the command's own writes (a dataset, its
    # settings); the runs it starts find them up to date.
    migrate(settings.database, STORE_SCHEMAS)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    # Dagster warns about a home without one; its defaults (SQLite storage in the home) are ours.
    (settings.dagster_home / "dagster.yaml").touch(exist_ok=True)
    # The home `dagster dev` is started with (README), so the CLI's runs show in the UI.
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        yield Session(settings, defs, resources["registry"], resources["error_log"], instance)
