"""Index definitions: the mappings, in code and versioned. Bump a version, then reindex."""

from .interfaces import IndexDefinition

AGENCIES = IndexDefinition(
    name="agencies",
    version=1,
    text_fields={"name": 4.0, "address": 1.0},
    # region holds the agency's division code and its ancestors (province, city), so a
    # filter on a city also finds its districts' agencies.
    keyword_fields=("level", "region", "parent"),
    highlight_fields=("name",),
)

DEFINITIONS = {definition.name: definition for definition in (AGENCIES,)}
