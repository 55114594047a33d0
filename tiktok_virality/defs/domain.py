"""What the UI shows of a room's assets beyond their groups: the room as a `domain` tag (the asset
catalog and the lineage filter by `domain:scraping` and so on) and the kinds of the systems they
use (shown as icons, e.g. Apify, Gemini)."""

from collections.abc import Set

import dagster as dg

DOMAIN_TAG = "domain"


def domain_definitions(
    domain: str, *assets: dg.AssetsDefinition, kinds: Set[str] = frozenset()
) -> dg.Definitions:
    """A room's contribution to the graph: its assets, tagged with the room's domain and kinds."""

    def mark(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.merge_attributes(tags={DOMAIN_TAG: domain}, kinds=set(kinds))

    return dg.Definitions(assets=dg.map_asset_specs(mark, assets))
