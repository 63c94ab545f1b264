"""The public names each stage of the stack_trace kata adds.

The kit's self-check compares the starter (stage 1 only) and the reference
(every stage) with this table. A frozen dataclass defines its own ``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__``;
a field with a default (``thread``, stage 3) is also a class attribute.
"""

from __future__ import annotations

FROZEN_DATACLASS = frozenset(
    {"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"}
)

STAGE_API: dict[int, dict[str, frozenset[str]]] = {
    1: {
        "Sample": FROZEN_DATACLASS | {"__post_init__"},
        "Event": FROZEN_DATACLASS,
        "convert_to_trace": frozenset(),
    },
    2: {},  # convert_to_trace gains the keyword min_samples: no new name
    3: {
        "Sample": frozenset({"thread"}),
        "Event": frozenset({"thread"}),
        "TraceBuilder": frozenset({"__init__", "feed", "close"}),
    },
    4: {
        "to_chrome_trace": frozenset(),
        "FunctionStats": FROZEN_DATACLASS,
        "function_stats": frozenset(),
        "format_stats": frozenset(),
    },
}
