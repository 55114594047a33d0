from pathlib import Path

import dagster as dg
import pytest

from tiktok_virality.config import InvalidEnvironmentError, Settings, load_settings
from tiktok_virality.defs.analysis.analyzers import OfflineAnalyzer
from tiktok_virality.defs.analysis.gemini import GeminiAnalyzer
from tiktok_virality.defs.scraping.apify import ApifyVideoSource
from tiktok_virality.defs.scraping.sources import OfflineScraper
from tiktok_virality.resources import build_resources


@pytest.fixture
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of the test's own (no `.env` of the checkout) and none of the
    project's variables; returns the directory."""
    for field in Settings.model_fields.values():
        monkeypatch.delenv(str(field.validation_alias), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_keep_everything_under_the_working_directory(clean_environment: Path) -> None:
    settings = load_settings()

    data = clean_environment / "data"
    assert settings.data_dir == data
    assert settings.database == data / "tiktok_virality.duckdb"
    assert settings.dagster_home == data / "dagster_home"
    assert settings.report_dir == data / "reports"
    assert settings.log_dir == clean_environment / "logs"
    assert settings.apify_api_url == "https://api.apify.com"
    assert settings.gemini_api_url is None
    assert settings.gemini_model == "gemini-3.5-flash"
    assert settings.gemini_requests_per_minute == 60
    assert settings.gemini_concurrency == 8
    assert settings.gemini_timeout_seconds == 600
    assert settings.gemini_retry_delay_seconds == 1
    assert not settings.apify_token_set and not settings.gemini_key_set
    assert settings.secret_values() == []


def test_gemini_quota_and_concurrency_come_from_the_environment() -> None:
    settings = load_settings(
        {"GEMINI_REQUESTS_PER_MINUTE": "1000", "GEMINI_CONCURRENCY": "16", "GOOGLE_API_KEY": "k"}
    )

    assert settings.gemini_requests_per_minute == 1000
    assert settings.gemini_concurrency == 16
    assert settings.gemini_key_set and not settings.apify_token_set


def test_each_variable_is_read(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "TIKTOK_VIRALITY_DATA_DIR": str(tmp_path / "d"),
            "TIKTOK_VIRALITY_DATABASE": str(tmp_path / "db" / "v.duckdb"),
            "DAGSTER_HOME": str(tmp_path / "home"),
            "TIKTOK_VIRALITY_LOG_DIR": str(tmp_path / "l"),
            "APIFY_API_TOKEN": "apify-token",
            "APIFY_API_URL": "http://apify.test",
            "GOOGLE_API_KEY": "google-key",
            "GEMINI_API_URL": "http://gemini.test",
            "GEMINI_MODEL": "gemini-x",
            "GEMINI_REQUESTS_PER_MINUTE": "1000",
            "GEMINI_CONCURRENCY": "16",
            "GEMINI_TIMEOUT_SECONDS": "5",
            "GEMINI_RETRY_DELAY_SECONDS": "0.1",
        }
    )

    assert settings.data_dir == tmp_path / "d"
    assert settings.database == tmp_path / "db" / "v.duckdb"
    assert settings.dagster_home == tmp_path / "home"
    assert settings.report_dir == tmp_path / "d" / "reports"
    assert settings.log_dir == tmp_path / "l"
    assert (settings.apify_api_url, settings.apify_token_variable) == (
        "http://apify.test",
        "APIFY_API_TOKEN",
    )
    assert (settings.gemini_api_url, settings.gemini_model) == ("http://gemini.test", "gemini-x")
    assert settings.gemini_key_variable == "GOOGLE_API_KEY"
    assert settings.gemini_requests_per_minute == 1000
    assert settings.gemini_concurrency == 16
    assert (settings.gemini_timeout_seconds, settings.gemini_retry_delay_seconds) == (5, 0.1)


def test_paths_are_made_absolute_and_empty_variables_mean_unset(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOK_VIRALITY_DATA_DIR", "relative")
    monkeypatch.setenv("GEMINI_API_URL", "")
    monkeypatch.setenv("GEMINI_MODEL", "")

    settings = load_settings()

    assert settings.database == clean_environment / "relative" / "tiktok_virality.duckdb"
    assert settings.gemini_api_url is None
    assert settings.gemini_model == "gemini-3.5-flash"
    assert load_settings({"GEMINI_MODEL": ""}).gemini_model == "gemini-3.5-flash"


def test_a_given_environment_is_read_alone(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_MODEL", "from-the-process")
    (clean_environment / ".env").write_text("GEMINI_CONCURRENCY=3\n", encoding="utf-8")

    settings = load_settings({})

    assert (settings.gemini_model, settings.gemini_concurrency) == ("gemini-3.5-flash", 8)


@pytest.mark.parametrize(
    "variable",
    [
        "GEMINI_REQUESTS_PER_MINUTE",
        "GEMINI_TOKENS_PER_MINUTE",
        "GEMINI_MAX_VIDEO_SECONDS",
        "GEMINI_FRAMES_PER_SECOND",
        "GEMINI_TIMEOUT_SECONDS",
        "GEMINI_RETRY_DELAY_SECONDS",
    ],
)
@pytest.mark.parametrize("value", ["0", "-5", "lots", "nan", "inf"])
def test_an_unusable_number_is_refused_with_its_name(variable: str, value: str) -> None:
    with pytest.raises(InvalidEnvironmentError, match=rf"^{variable} must be a positive number"):
        load_settings({variable: value})


def test_cost_controls_default_to_the_cheapest_useful_call() -> None:
    settings = load_settings({})

    assert (settings.gemini_media_resolution, settings.gemini_frames_per_second) == ("low", 1)
    assert (settings.gemini_max_video_seconds, settings.gemini_thinking_level) == (60, "low")
    assert settings.gemini_tokens_per_minute == 250_000


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("GEMINI_MEDIA_RESOLUTION", "ultra", "Input should be 'low', 'medium' or 'high'"),
        ("GEMINI_THINKING_LEVEL", "none", "Input should be 'minimal', 'low', 'medium' or 'high'"),
        ("GEMINI_FRAMES_PER_SECOND", "30", "must be at most 24 frames a second"),
    ],
)
def test_an_unusable_cost_control_is_refused_with_its_name(
    variable: str, value: str, problem: str
) -> None:
    with pytest.raises(InvalidEnvironmentError, match=rf"^{variable} {problem}"):
        load_settings({variable: value})


@pytest.mark.parametrize("value", ["0", "0.5", "2.0", "-1", "many"])
def test_concurrency_must_be_a_whole_number_of_at_least_one(value: str) -> None:
    with pytest.raises(
        InvalidEnvironmentError, match=r"^GEMINI_CONCURRENCY must be a whole number of at least 1"
    ):
        load_settings({"GEMINI_CONCURRENCY": value})


def test_every_unusable_variable_is_named_at_once() -> None:
    with pytest.raises(InvalidEnvironmentError) as refused:
        load_settings({"GEMINI_CONCURRENCY": "many", "GEMINI_TIMEOUT_SECONDS": "0"})

    assert "GEMINI_CONCURRENCY" in str(refused.value)
    assert "GEMINI_TIMEOUT_SECONDS" in str(refused.value)


def test_the_process_environment_is_read_and_checked(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_CONCURRENCY", "4")
    assert load_settings().gemini_concurrency == 4

    monkeypatch.setenv("GEMINI_CONCURRENCY", "four")
    with pytest.raises(InvalidEnvironmentError, match="GEMINI_CONCURRENCY"):
        load_settings()


def test_dotenv_of_the_working_directory_is_read_below_the_environment(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / ".env").write_text(
        "GEMINI_MODEL=gemini-from-dotenv\nGEMINI_CONCURRENCY=3\nGEMINI_API_KEY=dotenv-key\n"
        "SOMETHING_ELSE=1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GEMINI_CONCURRENCY", "5")

    settings = load_settings()

    assert settings.gemini_model == "gemini-from-dotenv"
    assert settings.gemini_concurrency == 5
    assert settings.gemini_key_variable == "GEMINI_API_KEY"
    assert settings.secret_values() == ["dotenv-key"]


def test_a_dotenv_value_is_checked_like_any_other(clean_environment: Path) -> None:
    (clean_environment / ".env").write_text("GEMINI_REQUESTS_PER_MINUTE=-1\n", encoding="utf-8")

    with pytest.raises(InvalidEnvironmentError, match="GEMINI_REQUESTS_PER_MINUTE"):
        load_settings()


def test_the_gemini_key_is_accepted_as_gemini_api_key() -> None:
    settings = load_settings({"GEMINI_API_KEY": "gemini-key"})

    assert settings.gemini_key_set
    assert settings.gemini_key_variable == "GEMINI_API_KEY"


def test_google_api_key_wins_when_both_keys_are_set_as_in_the_sdk() -> None:
    settings = load_settings({"GOOGLE_API_KEY": "google-key", "GEMINI_API_KEY": "gemini-key"})

    assert settings.gemini_key_variable == "GOOGLE_API_KEY"


def test_secret_values_are_every_credential_set_and_never_printed() -> None:
    settings = load_settings(
        {
            "APIFY_API_TOKEN": "apify-1",
            "GOOGLE_API_KEY": "google-2",
            "GEMINI_API_KEY": "gemini-key-3",
        }
    )

    assert sorted(settings.secret_values()) == ["apify-1", "gemini-key-3", "google-2"]
    assert not any(secret in repr(settings) for secret in settings.secret_values())
    assert load_settings({"GEMINI_MODEL": "m"}).secret_values() == []


@pytest.mark.parametrize("key_variable", ["GOOGLE_API_KEY", "GEMINI_API_KEY"])
def test_resources_get_the_settings_and_credentials_by_name_only(
    tmp_path: Path, key_variable: str
) -> None:
    settings = load_settings(
        {
            "TIKTOK_VIRALITY_DATA_DIR": str(tmp_path),
            "APIFY_API_TOKEN": "apify-secret",
            "APIFY_API_URL": "http://apify.test",
            key_variable: "gemini-secret",
            "GEMINI_MODEL": "gemini-x",
            "GEMINI_REQUESTS_PER_MINUTE": "30",
        }
    )

    resources = build_resources(settings, offline=False)

    scraper, analyzer = resources["scraper"], resources["analyzer"]
    assert isinstance(scraper, ApifyVideoSource) and isinstance(analyzer, GeminiAnalyzer)
    assert (scraper.token, analyzer.apify_token) == ("APIFY_API_TOKEN", "APIFY_API_TOKEN")
    assert isinstance(scraper.token, dg.EnvVar) and isinstance(analyzer.apify_token, dg.EnvVar)
    assert isinstance(analyzer.api_key, dg.EnvVar) and analyzer.api_key == key_variable
    assert (scraper.api_url, analyzer.apify_api_url) == ("http://apify.test", "http://apify.test")
    assert (analyzer.model, analyzer.requests_per_minute) == ("gemini-x", 30)


def test_without_credentials_or_offline_the_stand_ins_are_used(tmp_path: Path) -> None:
    with_credentials = load_settings(
        {"APIFY_API_TOKEN": "t", "GEMINI_API_KEY": "k", "TIKTOK_VIRALITY_DATA_DIR": str(tmp_path)}
    )
    without = load_settings({"TIKTOK_VIRALITY_DATA_DIR": str(tmp_path)})

    for resources in (
        build_resources(with_credentials, offline=True),
        build_resources(without, offline=False),
    ):
        assert isinstance(resources["scraper"], OfflineScraper)
        assert isinstance(resources["analyzer"], OfflineAnalyzer)
