"""The project's settings: the one place that reads the environment, and the one place that holds
their defaults. Everything else receives these values as arguments or resource config.

Each value comes from the first of: the process environment, the `.env` file of the working
directory, the default below. pydantic-settings reads `.env` without loading it into the process
environment, so that importing the Definitions from a checkout (as pytest does) does not slip a
developer's credentials into everything the process runs afterwards.

Credentials never reach run config or logs. Settings keeps their values only to mask them
(`secret_values`, as `SecretStr`, which prints as stars); resources receive `dg.EnvVar` of the
variable that holds them, which Dagster resolves from the environment of the run's process when
the run starts. A credential written in `.env` reaches that environment because the CLI loads
`.env` into its own (and its runs inherit it), and `dagster dev`, the webserver and the daemon
load the working directory's `.env` into theirs. Anything else that runs the Definitions (a
script, a notebook) loads `.env` itself, or its runs fail naming the variable."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, PlainValidator, SecretStr, ValidationError
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tiktok_virality.core.errors import UserError

DATA_DIR_VARIABLE = "TIKTOK_VIRALITY_DATA_DIR"
DATABASE_VARIABLE = "TIKTOK_VIRALITY_DATABASE"
DAGSTER_HOME_VARIABLE = "DAGSTER_HOME"
LOG_DIR_VARIABLE = "TIKTOK_VIRALITY_LOG_DIR"
APIFY_TOKEN_VARIABLE = "APIFY_API_TOKEN"
APIFY_URL_VARIABLE = "APIFY_API_URL"
# Google's SDK and docs name the Gemini key either way; with both set the SDK uses GOOGLE_API_KEY,
# and so do we: the order here is the order of preference.
APIFY_CONCURRENT_RUNS_VARIABLE = "APIFY_MAX_CONCURRENT_RUNS"
GEMINI_KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
# The SDK itself also honours GOOGLE_GEMINI_BASE_URL.
GEMINI_URL_VARIABLE = "GEMINI_API_URL"
GEMINI_MODEL_VARIABLE = "GEMINI_MODEL"
GEMINI_RPM_VARIABLE = "GEMINI_REQUESTS_PER_MINUTE"
GEMINI_CONCURRENCY_VARIABLE = "GEMINI_CONCURRENCY"
GEMINI_TIMEOUT_VARIABLE = "GEMINI_TIMEOUT_SECONDS"
GEMINI_RETRY_DELAY_VARIABLE = "GEMINI_RETRY_DELAY_SECONDS"
GEMINI_TPM_VARIABLE = "GEMINI_TOKENS_PER_MINUTE"
GEMINI_MEDIA_RESOLUTION_VARIABLE = "GEMINI_MEDIA_RESOLUTION"
GEMINI_FPS_VARIABLE = "GEMINI_FRAMES_PER_SECOND"
GEMINI_MAX_VIDEO_SECONDS_VARIABLE = "GEMINI_MAX_VIDEO_SECONDS"
GEMINI_THINKING_VARIABLE = "GEMINI_THINKING_LEVEL"
DATABASE_FILE_NAME = "tiktok_virality.duckdb"
MEDIA_DIR_VARIABLE = "TIKTOK_VIRALITY_MEDIA_DIR"
MEDIA_MAX_MB_VARIABLE = "TIKTOK_VIRALITY_MEDIA_MAX_MB"
APIFY_DATE_FILTER_VARIABLE = "APIFY_DATE_FILTER"
APIFY_EXCLUDE_PINNED_VARIABLE = "APIFY_EXCLUDE_PINNED_POSTS"
# Tracking: where outlier alerts are posted (an Apprise URL, a secret), their rule, and the time
# zone of the report's best-time-to-post heatmap.
ALERT_URL_VARIABLE = "TIKTOK_VIRALITY_ALERT_URL"
ALERT_MULTIPLE_VARIABLE = "TIKTOK_VIRALITY_ALERT_MULTIPLE"
ALERT_MAX_AGE_VARIABLE = "TIKTOK_VIRALITY_ALERT_MAX_AGE_HOURS"
TIME_ZONE_VARIABLE = "TIKTOK_VIRALITY_TIME_ZONE"


class InvalidEnvironmentError(UserError, ValueError):
    """A setting in the environment that cannot be used; the message names it."""


def _absolute(path: Path) -> Path:
    """Absolute, so that the CLI, the Dagster daemon and the webserver agree whatever their
    working directory."""
    return path.expanduser().resolve()


def _positive_number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise PydanticCustomError("positive_number", "must be a positive number")
    return number


def _positive_whole_number(value: Any) -> int:
    """A whole number written as one: "2.0" is refused, as a typo may hide behind it."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise PydanticCustomError("positive_whole_number", "must be a whole number of at least 1")
    return int(text)


AbsolutePath = Annotated[Path, AfterValidator(_absolute)]
PositiveNumber = Annotated[float, PlainValidator(_positive_number)]
PositiveWholeNumber = Annotated[int, PlainValidator(_positive_whole_number)]
MediaResolution = Literal["low", "medium", "high"]
ThinkingLevel = Literal["minimal", "low", "medium", "high"]


def _frame_rate(value: Any) -> float:
    """Gemini samples (0, 24] frames a second of video (the SDK's `VideoMetadata.fps`)."""
    number = _positive_number(value)
    if number > 24:
        raise PydanticCustomError("frame_rate", "must be at most 24 frames a second")
    return number


FrameRate = Annotated[float, PlainValidator(_frame_rate)]


def _multiple_above_one(value: Any) -> float:
    number = _positive_number(value)
    if number <= 1:
        raise PydanticCustomError("multiple", "must be a multiple above 1")
    return number


def _time_zone(value: Any) -> str:
    """An IANA time zone name that this machine's zone database knows."""
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone", "must be an IANA time zone, e.g. Europe/Paris"
        ) from None
    return str(value)


@dataclass(frozen=True)
class ModelPrice:
    """What Gemini bills a model's tokens, in US dollars per million; thinking tokens are billed
    as output."""

    input_per_million: float
    output_per_million: float


# An ESTIMATE, read 2026-12-07, of the paid tier's standard (not batch) prices of text, image
# and video input, from https://ai.google.dev/gemini-api/docs/pricing as quoted by secondary
# sources (apidog.com and simonwillison.net on gemini-3.5-flash, May 2026; factquire.com on
# gemini-3-flash-preview, July 2026; Google's launch notes on gemini-3.1-flash-lite). Check the
# pricing page before relying on a figure: the bill, not this table, is what is owed.
GEMINI_PRICES_AS_OF = "2026-12-07"
GEMINI_PRICES: dict[str, ModelPrice] = {
    "gemini-3.5-flash": ModelPrice(input_per_million=1.50, output_per_million=9.00),
    "gemini-3-flash-preview": ModelPrice(input_per_million=0.50, output_per_million=3.00),
    "gemini-3.1-flash-lite": ModelPrice(input_per_million=0.25, output_per_million=1.50),
}


class Settings(BaseSettings):
    """Where the project keeps its files, which services it calls, and how hard."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        # An empty variable (`GEMINI_API_URL=`) means "not set", as it does in a shell script.
        env_ignore_empty=True,
        case_sensitive=True,
        # `.env` and the environment hold much else.
        extra="ignore",
        frozen=True,
    )

    data_dir: AbsolutePath = Field(Path("data"), validation_alias=DATA_DIR_VARIABLE)
    database: AbsolutePath = Field(
        default_factory=lambda values: values["data_dir"] / DATABASE_FILE_NAME,
        validation_alias=DATABASE_VARIABLE,
    )
    dagster_home: AbsolutePath = Field(
        default_factory=lambda values: values["data_dir"] / "dagster_home",
        validation_alias=DAGSTER_HOME_VARIABLE,
    )
    log_dir: AbsolutePath = Field(Path("logs"), validation_alias=LOG_DIR_VARIABLE)
    apify_api_url: str = Field("https://api.apify.com", validation_alias=APIFY_URL_VARIABLE)
    apify_token: SecretStr | None = Field(None, validation_alias=APIFY_TOKEN_VARIABLE)
    google_api_key: SecretStr | None = Field(None, validation_alias=GEMINI_KEY_VARIABLES[0])
    gemini_api_key: SecretStr | None = Field(None, validation_alias=GEMINI_KEY_VARIABLES[1])
    # None: the SDK's own default, or GOOGLE_GEMINI_BASE_URL when set.
    gemini_api_url: str | None = Field(None, validation_alias=GEMINI_URL_VARIABLE)
    # A current Flash model (gemini-2.5-flash was retired on 2026-10-16): the SDK's own model
    # tables (google-genai 3.6.1) name it, and it is checked with `models.get` before a run pays.
    gemini_model: str = Field("gemini-3.5-flash", validation_alias=GEMINI_MODEL_VARIABLE)
    # The project's quota; the asset's Dagster pool keeps concurrent runs within it together.
    gemini_requests_per_minute: PositiveNumber = Field(60.0, validation_alias=GEMINI_RPM_VARIABLE)
    # Input tokens a minute: the free tier's 250k binds before its requests do (a 60-s video at
    # the default resolution is about 18k tokens).
    gemini_tokens_per_minute: PositiveNumber = Field(
        250_000.0, validation_alias=GEMINI_TPM_VARIABLE
    )
    # What each call costs, chosen for cost (they are part of what an analysis is: changing one
    # analyses the videos again). LOW resolution: 70 tokens a frame on Gemini 3 (66 on 2.5)
    # instead of 280 (258); one frame a second; the first minute of a video, where its hook is;
    # little thinking, which is billed as output.
    gemini_media_resolution: MediaResolution = Field(
        "low", validation_alias=GEMINI_MEDIA_RESOLUTION_VARIABLE
    )
    gemini_frames_per_second: FrameRate = Field(1.0, validation_alias=GEMINI_FPS_VARIABLE)
    gemini_max_video_seconds: PositiveNumber = Field(
        60.0, validation_alias=GEMINI_MAX_VIDEO_SECONDS_VARIABLE
    )
    gemini_thinking_level: ThinkingLevel = Field("low", validation_alias=GEMINI_THINKING_VARIABLE)
    gemini_concurrency: PositiveWholeNumber = Field(8, validation_alias=GEMINI_CONCURRENCY_VARIABLE)
    # Each request (a Gemini call, a video download) gives up after this long, and is retried.
    gemini_timeout_seconds: PositiveNumber = Field(600.0, validation_alias=GEMINI_TIMEOUT_VARIABLE)
    gemini_retry_delay_seconds: PositiveNumber = Field(
        1.0, validation_alias=GEMINI_RETRY_DELAY_VARIABLE
    )
    # The scraped video files, copied from Apify before its retention deletes them: beside the
    # DuckDB file, and within a budget that `tiktok-virality media prune` enforces. 5 GB holds
    # about a thousand TikTok videos (a minute of one is about 5 MB).
    media_dir: AbsolutePath = Field(
        default_factory=lambda values: values["database"].parent / "media",
        validation_alias=MEDIA_DIR_VARIABLE,
    )
    media_max_mb: PositiveNumber = Field(5000.0, validation_alias=MEDIA_MAX_MB_VARIABLE)
    # The TikTok scraper's options that cost (README, Apify set-up): the date filter is a charged
    # add-on paid per video, worth it for accounts that post rarely (else quality control rejects
    # the old videos); excluding pinned posts is free and spares paying for them.
    apify_date_filter: bool = Field(False, validation_alias=APIFY_DATE_FILTER_VARIABLE)
    apify_exclude_pinned_posts: bool = Field(True, validation_alias=APIFY_EXCLUDE_PINNED_VARIABLE)
    alert_url: SecretStr | None = Field(None, validation_alias=ALERT_URL_VARIABLE)
    # k × the video's baseline within this many hours of posting makes an outlier alert.
    alert_multiple: Annotated[float, PlainValidator(_multiple_above_one)] = Field(
        3.0, validation_alias=ALERT_MULTIPLE_VARIABLE
    )
    alert_max_age_hours: PositiveNumber = Field(48.0, validation_alias=ALERT_MAX_AGE_VARIABLE)
    # The report's best-time-to-post heatmap is in this IANA time zone (e.g. Europe/Paris).
    time_zone: Annotated[str, PlainValidator(_time_zone)] = Field(
        "UTC", validation_alias=TIME_ZONE_VARIABLE
    )
    # Actor runs at once, whoever starts them (the CLI's parallel batches, the UI's backfills): the
    # `apify` Dagster pool's limit. Apify's free plan holds 8,192 MB of running jobs at once
    # (docs.apify.com/platform/limits): two runs of 4,096 MB.
    apify_max_concurrent_runs: PositiveWholeNumber = Field(
        2, validation_alias=APIFY_CONCURRENT_RUNS_VARIABLE
    )

    @property
    def report_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def media_max_bytes(self) -> int:
        return int(self.media_max_mb * 1_000_000)

    @property
    def apify_token_variable(self) -> str | None:
        """The variable the Apify token is taken from; None without a token."""
        return APIFY_TOKEN_VARIABLE if self.apify_token is not None else None

    @property
    def apify_token_set(self) -> bool:
        return self.apify_token is not None

    @property
    def gemini_key_variable(self) -> str | None:
        """The variable the Gemini key is taken from (GOOGLE_API_KEY when both are set, as the
        SDK does); None without a key."""
        keys = dict(
            zip(GEMINI_KEY_VARIABLES, (self.google_api_key, self.gemini_api_key), strict=True)
        )
        return next((name for name, key in keys.items() if key is not None), None)

    @property
    def gemini_key_set(self) -> bool:
        return self.gemini_key_variable is not None

    @property
    def alert_url_variable(self) -> str | None:
        """The variable the alert channel's URL is taken from; None without one."""
        return ALERT_URL_VARIABLE if self.alert_url is not None else None

    def secret_values(self) -> list[str]:
        """The credentials' values, for masking them wherever text leaves the program."""
        credentials = (self.apify_token, self.google_api_key, self.gemini_api_key, self.alert_url)
        return [secret.get_secret_value() for secret in credentials if secret is not None]


class _SettingsOfGivenEnvironment(Settings):
    """Settings read from a given environment alone: neither the process's nor `.env`."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


# `dagster dev` (Dagster 1.13) warns on every start that it is superseded by `dg dev`; `dg dev`
# (dagster-dg-cli) cannot serve this project yet: its latest release pins dagster 1.13.27, and it
# runs the code with its own Python rather than the project's. The filter silences that warning
# alone.
DAGSTER_DEV_SUPERSEDED_FILTER = "ignore:Function `dev_command` is superseded:FutureWarning"


def dagster_ui_environment(settings: Settings) -> dict[str, str]:
    """The environment of the `dagster dev` that `tiktok-virality ui` starts: this process's, with
    the CLI's Dagster home (so that the UI and the CLI keep one record of runs) and the filter."""
    environment = dict(os.environ)
    environment[DAGSTER_HOME_VARIABLE] = str(settings.dagster_home)
    filters = [environment.get("PYTHONWARNINGS", ""), DAGSTER_DEV_SUPERSEDED_FILTER]
    environment["PYTHONWARNINGS"] = ",".join(filter(None, filters))
    return environment


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of this process (its environment and `.env`), or, given `environ`, of that
    environment alone (a child process's, a test's).

    Raises InvalidEnvironmentError naming each variable that cannot be used."""
    try:
        if environ is None:
            return Settings()
        variables = {field.validation_alias for field in Settings.model_fields.values()}
        given = {name: value for name, value in environ.items() if name in variables and value}
        return _SettingsOfGivenEnvironment(**given)
    except ValidationError as error:
        raise InvalidEnvironmentError(_describe_problems(error)) from None


def _describe_problems(error: ValidationError) -> str:
    # Only the numbers can be refused (text is taken as it is, credentials included), so the input
    # shown is no secret, and it helps to spot a typo.
    return "; ".join(
        f"{'.'.join(map(str, problem['loc']))} {problem['msg']}, not {problem['input']!r}"
        for problem in error.errors()
    )
