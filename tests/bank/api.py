"""The public names each stage of the bank kata adds.

The kit's self-check compares the starter (stage 1 only) and the reference
(every stage) with this table.
"""

from __future__ import annotations

STAGE_API: dict[int, dict[str, frozenset[str]]] = {
    1: {"Bank": frozenset({"__init__", "create_account", "deposit", "transfer"})},
    2: {"Bank": frozenset({"top_spenders"})},
    3: {"Bank": frozenset({"pay", "get_payment_status"})},
    4: {"Bank": frozenset({"merge_accounts", "get_balance"})},
}
