"""Where the reports go: one HTML file per dataset in the data folder's `reports/`."""

import os
from pathlib import Path

import dagster as dg


class ReportFiles(dg.ConfigurableResource):
    """The report pages: where they go, and the time zone their posting times are shown in."""

    directory: str
    time_zone: str = "UTC"

    def path(self, dataset: str) -> Path:
        """The report of a dataset; `dataset` is a validated name, safe in a file name."""
        return Path(self.directory) / f"{dataset}.html"

    def write(self, dataset: str, html: str) -> Path:
        """Replace the dataset's report whole: a browser never sees half a page."""
        path = self.path(dataset)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".html.partial")
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, path)
        return path

    def remove(self, dataset: str) -> Path | None:
        """Delete the dataset's report (and a page left half-written); the path, if there was one."""
        path = self.path(dataset)
        path.with_suffix(".html.partial").unlink(missing_ok=True)
        if not path.exists():
            return None
        path.unlink()
        return path
