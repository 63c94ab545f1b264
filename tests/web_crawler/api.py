"""The public names each stage of the web_crawler kata adds.

The kit's self-check compares the starter (stage 1 only) and the reference
(every stage) with this table. Stages 2 and 3 add keyword arguments to
``crawl``, not names.
"""

from __future__ import annotations

STAGE_API: dict[int, dict[str, frozenset[str]]] = {
    1: {"crawl": frozenset()},
    2: {},
    3: {},
    4: {"crawl_report": frozenset(), "CrawlReport": frozenset({"pages", "failed", "attempts"})},
}
