"""The report's section on what the dataset cost: the paid units and dollars on record in the
cost ledger, by service, and what that comes to per video the dataset holds."""

from __future__ import annotations

from tiktok_virality.config import GEMINI_PRICES_AS_OF
from tiktok_virality.defs.report.formatting import count_of
from tiktok_virality.defs.report.inputs import ReportInputs
from tiktok_virality.defs.report.markup import paragraph, table

# What one paid unit of each service is (the cost ledger's rows).
_UNITS = {"apify": "actor run", "gemini": "analysed video"}


def cost_section(inputs: ReportInputs) -> str:
    if not inputs.spend:
        return paragraph(
            "No paid work is on record for this dataset (an export or the bundled sample, "
            "analysed offline, costs nothing)."
        )
    videos = len(inputs.raw_videos)
    total = sum(service["usd"] for service in inputs.spend.values())
    rows = [
        [
            name,
            count_of(service["units"], _UNITS.get(name, "unit")),
            f"${service['usd']:,.4f}",
            f"${service['usd'] / videos:,.5f}" if videos else "–",
        ]
        for name, service in sorted(inputs.spend.items())
    ]
    rows.append(["total", "", f"${total:,.4f}", f"${total / videos:,.5f}" if videos else "–"])
    return "\n".join(
        [
            table(
                [("Service", ""), ("Paid units", "num"), ("Dollars", "num"), ("Per video", "num")],
                rows,
                "costs",
            ),
            paragraph(
                f"Per video: over the {videos} videos the dataset keeps (scraped videos that "
                "quality control rejected were paid for too). Apify's dollars are its own "
                "figures for each finished run; Gemini's are the tokens billed times the price "
                f"table of {GEMINI_PRICES_AS_OF}, an estimate: the bill is what is owed."
            ),
        ]
    )
