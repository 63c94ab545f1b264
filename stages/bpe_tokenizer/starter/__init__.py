"""The bpe_tokenizer kata, round 1: train, encode, decode.

Spec: stages/bpe_tokenizer/stage1.md. Write the bodies below, then run:

    pytest --stage 1 katas/bpe_tokenizer
"""

from __future__ import annotations

__all__ = ["Tokenizer"]


class Tokenizer:
    """A byte-level BPE tokenizer: bytes are ids 0..255, each merge adds one id.

    Make one with ``Tokenizer.train``; ``Tokenizer()`` is the untrained one
    (256 byte ids, no merges). A tokenizer never changes once made.
    """

    def __init__(self) -> None:
        """The untrained tokenizer: the 256 byte ids, no merges."""
        raise NotImplementedError("TODO(stage 1): Tokenizer.__init__")

    @classmethod
    def train(cls, text: str, vocab_size: int) -> Tokenizer:
        """A new tokenizer trained on ``text``.

        Repeatedly the most frequent adjacent pair of ids (overlapping
        occurrences counted; ties to the smallest ``(left, right)``) becomes
        the next id, replaced left to right without overlap, until
        ``vocab_size`` ids exist or no pair occurs twice.

        >>> Tokenizer.train("aaabdaaabac", 300).merges
        [(97, 97), (97, 98), (256, 257)]
        """
        raise NotImplementedError("TODO(stage 1): Tokenizer.train")

    @property
    def merges(self) -> list[tuple[int, int]]:
        """A new list of the ``(left, right)`` pairs in creation order (id 256 + index)."""
        raise NotImplementedError("TODO(stage 1): Tokenizer.merges")

    @property
    def vocab_size(self) -> int:
        """How many ids exist: the 256 bytes and the merges."""
        raise NotImplementedError("TODO(stage 1): Tokenizer.vocab_size")

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``: its UTF-8 bytes, merged the earliest-created merge
        first, every occurrence left to right, until no adjacent pair has a merge.

        >>> Tokenizer.train("aaabdaaabac", 300).encode("aaab")
        [258]
        """
        raise NotImplementedError("TODO(stage 1): Tokenizer.encode")

    def decode(self, ids: list[int] | tuple[int, ...]) -> str:
        """The text of ``ids``: their bytes joined, decoded as UTF-8, invalid
        sequences replaced by U+FFFD. An unknown id is a ValueError.

        >>> Tokenizer().decode([104, 105])
        'hi'
        """
        raise NotImplementedError("TODO(stage 1): Tokenizer.decode")
