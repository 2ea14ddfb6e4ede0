"""Index definitions: the mappings, in code and versioned. Bump a version when the fields or the text
analysis change (version 2: traditional characters fold to simplified; version 3: two-token shingles on
Elasticsearch, a sample table on the embedded engine); an index built with another
version is stale, so it is rebuilt (SEARCH_AUTO_REINDEX) or refused until `flask search reindex`."""

from .interfaces import IndexDefinition

AGENCIES = IndexDefinition(
    name="agencies",
    version=3,
    text_fields={"name": 4.0, "address": 1.0},
    # region holds the agency's division code and its ancestors (province, city), so a
    # filter on a city also finds its districts' agencies.
    keyword_fields=("level", "region", "parent"),
    highlight_fields=("name",),
    whole_fields=("name",),
)

DISCLOSURES = IndexDefinition(
    name="disclosures",
    version=3,
    # Only text that passed the privacy gate is indexed.
    text_fields={"title": 3.0, "document_no": 2.0, "subject": 1.5, "content": 1.0, "legal_basis": 0.5},
    keyword_fields=("phase", "type", "category", "agency", "region"),
    date_field="date",
    highlight_fields=("title", "content"),
    whole_fields=("title",),
)

OFFICERS = IndexDefinition(
    name="officers",
    version=3,
    text_fields={"name": 4.0, "badge_no": 3.0, "domains": 1.0, "agency_name": 1.0},
    keyword_fields=("agency", "status", "domain", "region"),
    highlight_fields=("name",),
    whole_fields=("name",),
)

DEFINITIONS = {definition.name: definition for definition in (AGENCIES, DISCLOSURES, OFFICERS)}
