"""Where the project keeps its files: the one place that reads the environment.

Everything else receives these values as arguments or resource config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_VARIABLE = "TIKTOK_VIRALITY_DATA_DIR"
DATABASE_VARIABLE = "TIKTOK_VIRALITY_DATABASE"
DAGSTER_HOME_VARIABLE = "DAGSTER_HOME"
APIFY_TOKEN_VARIABLE = "APIFY_API_TOKEN"
GEMINI_KEY_VARIABLE = "GOOGLE_API_KEY"
DATABASE_FILE_NAME = "tiktok_virality.duckdb"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database: Path
    dagster_home: Path


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Paths from the environment (and `.env`, loaded by the CLI and by `dagster dev`), made absolute
    so that the CLI, the Dagster daemon and the webserver agree whatever their working directory."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get(DATA_DIR_VARIABLE) or "data").expanduser().resolve()
    database = Path(env.get(DATABASE_VARIABLE) or data_dir / DATABASE_FILE_NAME).expanduser()
    dagster_home = Path(env.get(DAGSTER_HOME_VARIABLE) or data_dir / "dagster_home").expanduser()
    return Settings(
        data_dir=data_dir, database=database.resolve(), dagster_home=dagster_home.resolve()
    )


def missing_credentials(environ: Mapping[str, str] | None = None) -> list[str]:
    """The credential variables an online run needs that are not set."""
    env = os.environ if environ is None else environ
    return [name for name in (APIFY_TOKEN_VARIABLE, GEMINI_KEY_VARIABLE) if not env.get(name)]
