"""The public names each stage of the lru_cache kata adds.

The kit's self-check compares the starter (stage 1 only) and the reference
(every stage) with this table.
"""

from __future__ import annotations

STAGE_API: dict[int, dict[str, frozenset[str]]] = {
    1: {
        "LRUCache": frozenset(
            {"__init__", "capacity", "get", "put", "__len__", "__contains__", "keys"}
        )
    },
    2: {"LRUCache": frozenset({"delete", "resize"})},
    3: {"LRUCache": frozenset({"generate_key", "call", "hits", "misses"})},
    4: {"LRUCache": frozenset({"save", "load"}), "CacheFileError": frozenset()},
}
