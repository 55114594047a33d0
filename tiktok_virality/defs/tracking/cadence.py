"""A tracking cadence as the user writes it (6h, 12h, 1d), apart from the rest of the room so that
the CLI's parser reads it without importing Dagster or pandas."""


def parse_cadence(text: str) -> float:
    """Hours from a cadence such as 6h, 30m, 1d or 1.5h; ValueError when it is none, or is
    under an hour (a refresh is a paid actor run per batch)."""
    units = {"m": 1 / 60, "h": 1.0, "d": 24.0}
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    try:
        hours = float(value) * units[unit]
    except (KeyError, ValueError):
        raise ValueError(f"not a cadence: {text!r} (e.g. 6h, 12h, 1d)") from None
    if not hours >= 1:
        raise ValueError(f"refresh at most hourly (each refresh is a paid scrape), not {text!r}")
    return hours
