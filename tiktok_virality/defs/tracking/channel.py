"""The channel outlier alerts are posted to: any service Apprise speaks (Slack, Discord,
Telegram, e-mail, a JSON or form webhook...), named by one Apprise URL that the user sets
(`TIKTOK_VIRALITY_ALERT_URL`, https://github.com/caronc/apprise/wiki for the URL of each service).

The URL usually holds a secret (a webhook token, a password): it is passed as a `dg.EnvVar`
(resources.py), never logged, and masked in every error message. Apprise's own log lines are
kept out of the run's log for the same reason."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import apprise
import dagster as dg

from tiktok_virality.core.errors import describe_error
from tiktok_virality.defs.tracking.alerts import (
    DEFAULT_ALERT_MAX_AGE_HOURS,
    DEFAULT_ALERT_MULTIPLE,
)


class AlertDeliveryError(RuntimeError):
    """The channel did not take the alert; it is posted again at the next scrape."""


class AlertChannel(dg.ConfigurableResource):
    """The alert rule (k × baseline within max age) and where alerts go; no URL: alerts are only
    stored (and shown by `status` and the report)."""

    url: str | None = None
    multiple: float = DEFAULT_ALERT_MULTIPLE
    max_age_hours: float = DEFAULT_ALERT_MAX_AGE_HOURS

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def send(self, title: str, body: str) -> None:
        """Post one alert; raises AlertDeliveryError (without the URL) when it was not taken."""
        if not self.url:
            return
        notifier = apprise.Apprise()
        # Apprise logs what it sends to, at times with the URL's parts: not into our logs.
        with _apprise_silenced():
            if not notifier.add(self.url):
                raise AlertDeliveryError("the alert URL is not one Apprise knows (see its wiki)")
            try:
                delivered = notifier.notify(body=body, title=title)
            except Exception as error:  # whatever the service's client raised, told without the URL
                raise AlertDeliveryError(describe_error(error, secrets=[self.url])) from None
        if not delivered:
            raise AlertDeliveryError("the alert channel refused or did not answer")


@contextmanager
def _apprise_silenced() -> Iterator[None]:
    """Apprise's logger off for the duration (its records may name the URL)."""
    logger = logging.getLogger("apprise")
    was_disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was_disabled
