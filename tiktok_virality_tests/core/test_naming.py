import pytest

from tiktok_virality.core.naming import (
    InvalidNameError,
    normalize_account,
    normalize_accounts,
    validate_dataset_name,
)


@pytest.mark.parametrize("name", ["v1", "demo", "fitness-2025", "a", "0_test", "a" * 40])
def test_valid_dataset_names(name: str) -> None:
    assert validate_dataset_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "V1",
        "-v1",
        "_v1",
        "a" * 41,
        "v1|b001",
        "../etc",
        "v1/x",
        "v'1",
        'v"1',
        "v1; DROP TABLE x",
        "v 1",
        "ünï",
    ],
)
def test_invalid_dataset_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(InvalidNameError, match="lower-case letters, digits"):
        validate_dataset_name(name)


@pytest.mark.parametrize(
    ("raw", "account"),
    [
        ("meenitech", "meenitech"),
        ("@meenitech", "meenitech"),
        ("  @Hj.LisaHalaby ", "hj.lisahalaby"),
        ("https://www.tiktok.com/@meenitech", "meenitech"),
        ("https://www.tiktok.com/@meenitech/video/7524354452762037512", "meenitech"),
        ("www.tiktok.com/@some_one", "some_one"),
        ("https://tiktok.com/@a.b_c?lang=en", "a.b_c"),
    ],
)
def test_account_forms_are_normalized(raw: str, account: str) -> None:
    assert normalize_account(raw) == account


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "@",
        "a" * 25,
        "name with space",
        "o'brien",
        "x|y",
        "../etc/passwd",
        "https://evil.example.com/@name",
        "https://www.tiktok.com/tag/fyp",
        "'; DROP TABLE raw_videos; --",
    ],
)
def test_invalid_accounts_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNameError, match="invalid account"):
        normalize_account(raw)


def test_account_lists_drop_duplicates_blanks_and_comments_keeping_order() -> None:
    lines = [
        "# creators",
        "@Bravo",
        "",
        "alpha",
        "bravo",
        "https://www.tiktok.com/@alpha",
        "charlie",
    ]

    assert normalize_accounts(lines) == ["bravo", "alpha", "charlie"]


def test_every_invalid_account_is_reported_at_once() -> None:
    with pytest.raises(InvalidNameError) as raised:
        normalize_accounts(["good", "bad one", "x|y"])

    assert "'bad one'" in str(raised.value) and "'x|y'" in str(raised.value)
