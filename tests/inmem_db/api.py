"""The public names each stage of the inmem_db kata adds.

The kit's self-check compares the starter (stage 1 only) and the reference
(every stage) with this table.
"""

from __future__ import annotations

STAGE_API: dict[int, dict[str, frozenset[str]]] = {
    1: {"InMemoryDB": frozenset({"__init__", "set", "get", "delete", "__len__"})},
    2: {"InMemoryDB": frozenset({"ttl", "expire"})},
    3: {
        "InMemoryDB": frozenset({"begin", "commit", "rollback", "transaction"}),
        "TransactionError": frozenset(),
    },
    4: {"InMemoryDB": frozenset({"scan"})},
}
