"""Error messages fit for tables, logs and terminals, the errors a phase records, and the base of
the errors that are the user's to fix."""

from collections.abc import Iterable
from dataclasses import dataclass

_MESSAGE_LIMIT = 300


class UserError(Exception):
    """Something the user can fix (a name, a setting, a file, a database another process holds),
    with a message that says what to do. The CLI reports it as one line and exits 2, rather than
    with a traceback; it catches this light base class, so that catching never imports the
    modules that raise."""


class ServiceRefusedError(UserError, RuntimeError):
    """A service refuses every request (a bad key, a retired model, a region or billing problem):
    the user's to fix, and nothing is worth paying for until then. The message says what to do."""


@dataclass(frozen=True)
class RecordedError:
    """A problem met by one phase of a partition: `permanent` ones (an account that does not exist)
    are data and do not fail the partition; transient ones (a failed run) do, and are retried."""

    account: str | None
    error: str
    permanent: bool


def describe_error(error: BaseException, *, secrets: Iterable[str] = ()) -> str:
    """An error's type and first line, at most a few hundred characters, with any secret masked:
    an API error can carry a whole response body, and a proxy may echo request headers."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0] if lines else ''}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"
