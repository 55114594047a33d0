"""Where the project keeps its files: the one place that reads the environment.

Everything else receives these values as arguments or resource config."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_VARIABLE = "TIKTOK_VIRALITY_DATA_DIR"
DATABASE_VARIABLE = "TIKTOK_VIRALITY_DATABASE"
DAGSTER_HOME_VARIABLE = "DAGSTER_HOME"
APIFY_TOKEN_VARIABLE = "APIFY_API_TOKEN"
APIFY_URL_VARIABLE = "APIFY_API_URL"
DEFAULT_APIFY_API_URL = "https://api.apify.com"
GEMINI_KEY_VARIABLE = "GOOGLE_API_KEY"
# The SDK itself also honours GOOGLE_GEMINI_BASE_URL.
GEMINI_URL_VARIABLE = "GEMINI_API_URL"
GEMINI_MODEL_VARIABLE = "GEMINI_MODEL"
GEMINI_RPM_VARIABLE = "GEMINI_REQUESTS_PER_MINUTE"
GEMINI_CONCURRENCY_VARIABLE = "GEMINI_CONCURRENCY"
GEMINI_TIMEOUT_VARIABLE = "GEMINI_TIMEOUT_SECONDS"
GEMINI_RETRY_DELAY_VARIABLE = "GEMINI_RETRY_DELAY_SECONDS"
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"
LOG_DIR_VARIABLE = "TIKTOK_VIRALITY_LOG_DIR"
DATABASE_FILE_NAME = "tiktok_virality.duckdb"


@dataclass(frozen=True)
class Settings:
    database: Path
    dagster_home: Path
    log_dir: Path
    report_dir: Path
    apify_api_url: str
    # Whether the token is set, never the token: resources read it through dg.EnvVar, so it stays
    # out of run configs and logs.
    apify_token_set: bool
    gemini_api_url: str | None
    gemini_key_set: bool
    gemini_model: str
    gemini_requests_per_minute: float
    gemini_concurrency: int
    gemini_timeout_seconds: float
    gemini_retry_delay_seconds: float


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Paths from the environment (and `.env`, loaded by the CLI and by `dagster dev`), made absolute
    so that the CLI, the Dagster daemon and the webserver agree whatever their working directory."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get(DATA_DIR_VARIABLE) or "data").expanduser().resolve()
    database = Path(env.get(DATABASE_VARIABLE) or data_dir / DATABASE_FILE_NAME).expanduser()
    dagster_home = Path(env.get(DAGSTER_HOME_VARIABLE) or data_dir / "dagster_home").expanduser()
    return Settings(
        database=database.resolve(),
        dagster_home=dagster_home.resolve(),
        log_dir=Path(env.get(LOG_DIR_VARIABLE) or "logs").expanduser().resolve(),
        report_dir=data_dir / "reports",
        apify_api_url=env.get(APIFY_URL_VARIABLE) or DEFAULT_APIFY_API_URL,
        apify_token_set=bool(env.get(APIFY_TOKEN_VARIABLE)),
        gemini_api_url=env.get(GEMINI_URL_VARIABLE) or None,
        gemini_key_set=bool(env.get(GEMINI_KEY_VARIABLE)),
        gemini_model=env.get(GEMINI_MODEL_VARIABLE) or DEFAULT_GEMINI_MODEL,
        gemini_requests_per_minute=_positive_number(env, GEMINI_RPM_VARIABLE, 60.0),
        gemini_concurrency=_positive_whole_number(env, GEMINI_CONCURRENCY_VARIABLE, 8),
        gemini_timeout_seconds=_positive_number(env, GEMINI_TIMEOUT_VARIABLE, 600.0),
        gemini_retry_delay_seconds=_positive_number(env, GEMINI_RETRY_DELAY_VARIABLE, 1.0),
    )


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The credentials' values, for masking them wherever text leaves the program."""
    env = os.environ if environ is None else environ
    return [env[name] for name in (APIFY_TOKEN_VARIABLE, GEMINI_KEY_VARIABLE) if env.get(name)]


class InvalidEnvironmentError(ValueError):
    """A setting in the environment that cannot be used; the message names it."""


def _positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (math.isfinite(value) and value > 0):
        raise InvalidEnvironmentError(f"{name} must be a positive number, not {text!r}")
    return value


def _positive_whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not text.strip().isdigit() or int(text) < 1:
        raise InvalidEnvironmentError(f"{name} must be a whole number of at least 1, not {text!r}")
    return int(text)
