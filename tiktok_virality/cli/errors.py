"""How the CLI ends: its exit codes, and the errors it reports as a one-line message (exit 2)
rather than a traceback, because they are the user's to fix."""

from tiktok_virality.config import InvalidEnvironmentError
from tiktok_virality.core.errors import ServiceRefusedError
from tiktok_virality.core.naming import InvalidNameError
from tiktok_virality.defs.datasets.dataset import InvalidSettingError
from tiktok_virality.defs.datasets.registry import DatasetExistsError, UnknownDatasetError
from tiktok_virality.defs.scraping.exports import ExportError
from tiktok_virality.warehouse.migrations import SchemaTooNewError
from tiktok_virality.warehouse.storage import DatabaseLockedError

EXIT_FAILED_PARTITIONS = 1
EXIT_USAGE = 2
# What a shell reports for a command stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A request the CLI refuses before doing any work; the message says what to do instead."""


USER_ERRORS = (
    UsageError,
    InvalidNameError,
    ExportError,
    DatasetExistsError,
    UnknownDatasetError,
    DatabaseLockedError,
    InvalidSettingError,
    InvalidEnvironmentError,
    SchemaTooNewError,
    ServiceRefusedError,
)
