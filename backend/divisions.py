"""Names of administrative divisions (GB/T 2260), from the table python-stdnum carries: a national table,
like the official calendar, that every domain may read."""

from __future__ import annotations

import functools
import re

from stdnum import numdb

# An entry may carry its validity and earlier names: "[-1991]东郊区,[1992-]东丽区".
_VALIDITY = re.compile(r"^\[[^\]]*\]")


@functools.lru_cache(maxsize=4096)
def region_name(code: str) -> str | None:
    """The current name of a 6-digit division code (350500 -> 泉州市); None when the table lacks it."""
    if len(code) != 6 or not code.isdigit():
        return None
    (_, province), *rest = numdb.get("cn/loc").info(code)
    if code.endswith("0000"):
        return province.get("province")
    county = rest[0][1].get("county") if rest else None
    if not county:
        return None
    # The last name listed is the latest.
    return _VALIDITY.sub("", county.split(",")[-1]) or None


def region_ancestors(code: str) -> list[str]:
    """A 6-digit division code and the province and city above it: 350502 -> 350000, 350500, 350502."""
    chain = [code[:2] + "0000", code[:4] + "00", code]
    return list(dict.fromkeys(chain))


# Groupings in the table that are no place a person would name (市辖区, 省直辖县级行政区划).
_GROUPING = re.compile(r"^(市辖区|县)$|直辖")


def full_region_name(code: str) -> str:
    """A division's name down from its province: 350502 -> 福建省泉州市鲤城区; "" for an unknown code."""
    names: list[str] = []
    for part in region_ancestors(code):
        name = region_name(part)
        if name and name not in names and not _GROUPING.search(name):
            names.append(name)
    return "".join(names)
