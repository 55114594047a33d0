import pytest

from tiktok_virality.config import InvalidEnvironmentError, load_settings


def test_gemini_quota_and_concurrency_come_from_the_environment() -> None:
    settings = load_settings(
        {"GEMINI_REQUESTS_PER_MINUTE": "1000", "GEMINI_CONCURRENCY": "16", "GOOGLE_API_KEY": "k"}
    )

    assert settings.gemini_requests_per_minute == 1000
    assert settings.gemini_concurrency == 16
    assert settings.gemini_key_set and not settings.apify_token_set


@pytest.mark.parametrize("value", ["0", "-5", "lots", "nan", "inf"])
def test_an_unusable_quota_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(InvalidEnvironmentError, match="GEMINI_REQUESTS_PER_MINUTE"):
        load_settings({"GEMINI_REQUESTS_PER_MINUTE": value})


@pytest.mark.parametrize("value", ["0", "0.5", "2.0", "-1", "many"])
def test_concurrency_must_be_a_whole_number_of_at_least_one(value: str) -> None:
    with pytest.raises(InvalidEnvironmentError, match="GEMINI_CONCURRENCY"):
        load_settings({"GEMINI_CONCURRENCY": value})


def test_gemini_timeout_and_retry_delay_come_from_the_environment() -> None:
    settings = load_settings({"GEMINI_TIMEOUT_SECONDS": "5", "GEMINI_RETRY_DELAY_SECONDS": "0.1"})
    defaults = load_settings({})

    assert (settings.gemini_timeout_seconds, settings.gemini_retry_delay_seconds) == (5, 0.1)
    assert (defaults.gemini_timeout_seconds, defaults.gemini_retry_delay_seconds) == (600, 1)
    with pytest.raises(InvalidEnvironmentError, match="GEMINI_TIMEOUT_SECONDS"):
        load_settings({"GEMINI_TIMEOUT_SECONDS": "0"})
