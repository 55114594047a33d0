"""The CLI's run logs, as the original pipeline kept them: `logs/pipeline_<dataset>.log` (each
run's plan, partitions and summary) and `logs/errors.log` (failures of every dataset), with UTC
timestamps and partition keys. A filter masks the credentials in every line, whatever its source."""

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


class SecretMask(logging.Filter):
    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self._secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


@contextmanager
def run_log(log_dir: Path, dataset: str, *, secrets: Sequence[str]) -> Iterator[logging.Logger]:
    """A logger writing to the dataset's pipeline log, and its warnings and errors to errors.log;
    `dataset` is a validated name, safe as part of a file name."""
    log_dir.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"tiktok_virality.runs.{dataset}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s [%(name)s] %(message)s")
    formatter.converter = time.gmtime
    pipeline = logging.FileHandler(log_dir / f"pipeline_{dataset}.log", encoding="utf-8")
    errors = logging.FileHandler(log_dir / "errors.log", encoding="utf-8")
    errors.setLevel(logging.WARNING)
    handlers = [pipeline, errors]
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(SecretMask(secrets))
        logger.addHandler(handler)
    try:
        yield logger
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
