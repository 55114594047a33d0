"""How the CLI ends: its exit codes, and the error of a request it refuses. Every error that is the
user's to fix derives from `UserError` (core/errors.py), which the CLI reports as a one-line
message (exit 2) rather than a traceback."""

from tiktok_virality.core.errors import UserError

EXIT_FAILED_PARTITIONS = 1
EXIT_USAGE = 2
# What a shell reports for a command stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
# The reader of the output closed it early (`| head`): what Python itself exits with then.
EXIT_OUTPUT_CLOSED = 1


class UsageError(UserError):
    """A request the CLI refuses before doing any work; the message says what to do instead."""
