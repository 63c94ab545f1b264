"""The public names each stage of the bpe_tokenizer kata adds.

The kit's self-check compares the starter (stage 1 only) and the reference
(every stage) with this table.
"""

from __future__ import annotations

STAGE_API: dict[int, dict[str, frozenset[str]]] = {
    1: {"Tokenizer": frozenset({"__init__", "train", "merges", "vocab_size", "encode", "decode"})},
    2: {"Tokenizer": frozenset({"pattern"}), "WORD_PATTERN": frozenset()},
    3: {"Tokenizer": frozenset({"special_tokens"}), "DisallowedSpecialError": frozenset()},
    4: {
        "Tokenizer": frozenset({"save", "load", "stream_decoder"}),
        "TokenizerFileError": frozenset(),
    },
}
