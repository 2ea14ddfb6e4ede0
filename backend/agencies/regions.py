"""Names of administrative divisions (GB/T 2260), from the table python-stdnum carries."""

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
