"""The CLI's logs, as the original pipeline kept them: `logs/pipeline_<dataset>.log`, every line the
CLI says about a dataset (created, accounts added, a run's plan, partitions and summary, a wait for
the locked database, a refusal), and `logs/errors.log`, the warnings and failures of every command,
with UTC timestamps and the dataset in each line. A filter masks the credentials in every line,
whatever its source.

`main` opens `command_log` around every command; a command says its lines with `say` (the
terminal and the logs) rather than `print`. Read-only commands (`status`, `dataset show`, `list`,
`report`) print their answers without logging them, but their failures are logged too."""

import logging
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from io import TextIOWrapper
from pathlib import Path

# The logger of the command that is running, while `command_log` is open.
_COMMAND_LOGGER: ContextVar[logging.Logger | None] = ContextVar("command_logger", default=None)
# Our modules that log on their own while a command runs: warehouse/storage.py's lock wait.
_MODULES_LOGGER = "tiktok_virality.warehouse"


class SecretMask(logging.Filter):
    """Masks the credentials in a record's message and in its exception's traceback."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info, record.exc_text = None, None
        for secret in self._secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


class _StartedByWhatWasDone(logging.Filter):
    """A dataset's log starts with something done to it (created, run), never with a warning or a
    refusal: a mistyped name leaves no log behind (its failure is in errors.log)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING or self._path.exists()


class _FileHandler(logging.FileHandler):
    """Opens its file, and makes its folder, at its first line: a command that logs nothing
    creates nothing."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)

    def _open(self) -> TextIOWrapper:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


class _Echo(logging.Handler):
    """Our modules' own warnings while a command runs (a wait for the locked database): on the
    terminal as before (Python's last-resort handler printed them), and in the command's logs."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logging.WARNING)
        self._logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        print(message, file=sys.stderr, flush=True)
        self._logger.log(record.levelno, message)


def say(message: str, level: int = logging.INFO) -> None:
    """A line of the CLI's: on the terminal, and in the logs of the command that says it."""
    print(message, flush=True)
    log_line(message, level)


def log_line(message: str, level: int = logging.INFO) -> None:
    """A line for the logs alone: what the terminal shows in another form (the summary table)."""
    logger = _COMMAND_LOGGER.get()
    if logger is not None:
        logger.log(level, message)


@contextmanager
def command_log(
    log_dir: Path, dataset: str | None, *, secrets: Sequence[str]
) -> Iterator[logging.Logger]:
    """The logs of one command about `dataset` (None: about no dataset in particular), which is a
    validated name, safe as part of a file name. Files are opened at their first line only."""
    logger = logging.getLogger("tiktok_virality.runs" + (f".{dataset}" if dataset else ""))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s [%(name)s] %(message)s")
    formatter.converter = time.gmtime
    errors = _FileHandler(log_dir / "errors.log")
    errors.setLevel(logging.WARNING)
    handlers: list[logging.Handler] = [errors]
    if dataset is not None:
        path = log_dir / f"pipeline_{dataset}.log"
        pipeline = _FileHandler(path)
        pipeline.addFilter(_StartedByWhatWasDone(path))
        handlers.append(pipeline)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(SecretMask(secrets))
        logger.addHandler(handler)
    echo = _Echo(logger)
    logging.getLogger(_MODULES_LOGGER).addHandler(echo)
    said_to = _COMMAND_LOGGER.set(logger)
    try:
        yield logger
    finally:
        _COMMAND_LOGGER.reset(said_to)
        logging.getLogger(_MODULES_LOGGER).removeHandler(echo)
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
