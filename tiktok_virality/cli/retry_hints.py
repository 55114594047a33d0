"""What to do about a recorded failure before `--retry-failed` can help. A failure for want of a
credential, or for one the service refuses, fails the same way on every retry until the credential
is set or corrected, so suggesting a bare retry would only repeat it.

Failures come as text (the exception's type or its dotted path, then its message: the errors table,
a run's outcome), so they are recognised by the type names of the errors that mean it
(`OfflineModeError`: a scrape asked of a process without an Apify token;
`AnalyzerConfigurationError`: Gemini refuses the key or the model) and by the words of Apify's
refusals of a token."""

from tiktok_virality.config import APIFY_TOKEN_VARIABLE, GEMINI_KEY_VARIABLES

_NEEDS_APIFY_TOKEN = "OfflineModeError:"
_NEEDS_GEMINI_KEY = "AnalyzerConfigurationError:"
# Apify's messages for a token missing or not valid ("User was not found or authentication token
# is not valid", "Authentication token was not provided").
_APIFY_TOKEN_REFUSED = "authentication token"


def credential_to_fix(error: str) -> str | None:
    """The setting to set or correct before the failure described by `error` can pass; None when
    a plain retry may pass."""
    if (
        _NEEDS_APIFY_TOKEN in error
        or APIFY_TOKEN_VARIABLE in error
        or _APIFY_TOKEN_REFUSED in error.lower()
    ):
        return APIFY_TOKEN_VARIABLE
    if _NEEDS_GEMINI_KEY in error:
        return f"{' or '.join(GEMINI_KEY_VARIABLES)} (or GEMINI_MODEL)"
    return None


def retry_hint(error: str) -> str:
    """What `status` suggests for a failure a retry may fix."""
    credential = credential_to_fix(error)
    if credential is None:
        return "[retry with --retry-failed]"
    return f"[set or correct {credential} (environment or .env) first, then --retry-failed]"
