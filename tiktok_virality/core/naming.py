"""Validation of the names users type: dataset names and TikTok accounts.

Every name is checked here before anything is written, so that no key with `|`, `/` or quotes ever
reaches Dagster's partition store (which accepts them and then silently drops the partition) or a
SQL statement."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlparse

from tiktok_virality.core.errors import UserError

DATASET_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
ACCOUNT_PATTERN = re.compile(r"[A-Za-z0-9_.]{1,24}")
_TIKTOK_HOSTS = {"tiktok.com", "www.tiktok.com", "m.tiktok.com", "vm.tiktok.com"}


class InvalidNameError(UserError, ValueError):
    """A dataset or account name that cannot be used; the message says why and what is allowed."""


def validate_dataset_name(name: str) -> str:
    if not DATASET_NAME_PATTERN.fullmatch(name):
        raise InvalidNameError(
            f"invalid dataset name {name!r}: use 1-40 characters of lower-case letters, digits, "
            "'_' and '-', starting with a letter or digit (e.g. 'v1', 'fitness-2025')"
        )
    return name


def normalize_account(raw: str) -> str:
    """The username of an account given as `name`, `@name` or `https://www.tiktok.com/@name`.

    Usernames are case-insensitive on TikTok, so they are lower-cased: `@Foo` and `foo` are one account.
    """
    text = raw.strip()
    candidate = text
    if "/" in text:
        url = urlparse(text if "://" in text else f"https://{text}")
        first_segment = url.path.strip("/").split("/")[0] if url.path.strip("/") else ""
        if url.hostname not in _TIKTOK_HOSTS or not first_segment.startswith("@"):
            raise InvalidNameError(
                f"invalid account {raw!r}: expected a TikTok username, '@username' or a profile URL "
                "like https://www.tiktok.com/@username"
            )
        candidate = first_segment
    candidate = candidate.removeprefix("@")
    # TikTok usernames cannot end with a period, so none is only periods: "." and ".." are refused,
    # which keeps every account safe wherever a name may go, a file name included.
    if not ACCOUNT_PATTERN.fullmatch(candidate) or not candidate.strip("."):
        raise InvalidNameError(
            f"invalid account {raw!r}: TikTok usernames have 1-24 letters, digits, '_' or '.', "
            "not only '.'"
        )
    return candidate.lower()


def normalize_accounts(raw_accounts: Iterable[str]) -> list[str]:
    """Usernames in first-seen order, duplicates removed; blank lines and `#` comments are skipped.

    Every invalid entry is reported at once, so a user fixes a file in one pass.
    """
    accounts: list[str] = []
    problems: list[str] = []
    for raw in raw_accounts:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            account = normalize_account(raw)
        except InvalidNameError as error:
            problems.append(str(error))
            continue
        if account not in accounts:
            accounts.append(account)
    if problems:
        raise InvalidNameError("; ".join(problems))
    return accounts
