"""The spec, written as plainly as possible: the tests' independent model.

Nothing here is fast or clever. Training recounts every pair of every chunk
after each merge; encoding looks for the earliest-created merge among the
present pairs each time; special tokens are found by trying every special at
every position; the stream decoder keeps every byte and re-decodes. Only the
standard library's ``re`` (for the pattern) and ``bytes.decode`` are shared
with any implementation.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise


def find_specials(text: str, specials) -> list[tuple[str, str | None]]:
    """``(piece, special)`` pairs: one scan left to right, the longest special at
    each position winning; the last pair's special is None."""
    pairs, start, i = [], 0, 0
    while i < len(text):
        found = [s for s in specials if text.startswith(s, i)]
        if found:
            special = max(found, key=len)
            pairs.append((text[start:i], special))
            i = start = i + len(special)
        else:
            i += 1
    pairs.append((text[start:], None))
    return pairs


def split_chunks(text: str, pattern: str | None) -> list[str]:
    """The matches of ``pattern`` and the runs of text between them, in order; no empty ones."""
    if pattern is None:
        return [text] if text else []
    chunks, start = [], 0
    for match in re.finditer(pattern, text):
        chunks += [text[start : match.start()], match.group()]
        start = match.end()
    chunks.append(text[start:])
    return [chunk for chunk in chunks if chunk]


def merge(ids: list[int], pair: tuple[int, int], new: int) -> list[int]:
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_chunks(chunks: list[str], vocab_size: int) -> list[tuple[int, int]]:
    """The merges learned from ``chunks``, recounting everything after each merge."""
    seqs = [list(chunk.encode("utf-8")) for chunk in chunks]
    merges: list[tuple[int, int]] = []
    while 256 + len(merges) < vocab_size:
        counts: dict[tuple[int, int], int] = {}
        for seq in seqs:
            for i in range(len(seq) - 1):
                counts[seq[i], seq[i + 1]] = counts.get((seq[i], seq[i + 1]), 0) + 1
        if not counts or max(counts.values()) < 2:
            break
        best = max(counts.values())
        pair = min(p for p, count in counts.items() if count == best)
        merges.append(pair)
        seqs = [merge(seq, pair, 255 + len(merges)) for seq in seqs]
    return merges


class Model:
    """A trained tokenizer, as the spec describes it."""

    def __init__(self, text: str, vocab_size: int, pattern: str | None = None, specials=()):
        self.pattern = pattern
        self.specials = list(specials)
        chunks = []
        for piece, _ in find_specials(text, self.specials):
            chunks += split_chunks(piece, pattern)
        self.merges = train_chunks(chunks, vocab_size)
        self.special_ids = {s: 256 + len(self.merges) + k for k, s in enumerate(self.specials)}
        self.vocab_size = 256 + len(self.merges) + len(self.specials)

    def encode_chunk(self, chunk: str) -> list[int]:
        ids = list(chunk.encode("utf-8"))
        while True:
            present = [p for p in pairwise(ids) if p in self.merges]
            if not present:
                return ids
            pair = min(present, key=self.merges.index)
            ids = merge(ids, pair, 256 + self.merges.index(pair))

    def encode(self, text: str, allowed=frozenset()) -> list[int]:
        """The ids; raises LookupError for a special that is not allowed."""
        ids = []
        for piece, special in find_specials(text, self.specials):
            for chunk in split_chunks(piece, self.pattern):
                ids += self.encode_chunk(chunk)
            if special is not None:
                if allowed != "all" and special not in allowed:
                    raise LookupError(special)
                ids.append(self.special_ids[special])
        return ids

    def token_bytes(self, i: int) -> bytes:
        if i < 256:
            return bytes([i])
        if i < 256 + len(self.merges):
            left, right = self.merges[i - 256]
            return self.token_bytes(left) + self.token_bytes(right)
        return self.specials[i - 256 - len(self.merges)].encode("utf-8")

    def decode(self, ids) -> str:
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")


@cache
def incomplete_characters() -> frozenset[bytes]:
    """Every proper prefix of a character's UTF-8 encoding: the bytes that may still complete.

    The code points of an aligned block of 64 share every proper prefix (only
    the last byte differs), so one code point per block finds them all; the
    surrogates U+D800..U+DFFF fill whole blocks and are skipped.
    """
    prefixes = set()
    for code in range(0x80, 0x110000, 64):
        if not 0xD800 <= code <= 0xDFFF:
            encoded = chr(code).encode("utf-8")
            prefixes.update(encoded[:k] for k in range(1, len(encoded)))
    return frozenset(prefixes)


class StreamModel:
    """A stream decoder that keeps every byte and decodes all of them at each feed."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.data = b""
        self.shown = ""

    def held(self) -> int:
        """How many trailing bytes may still complete a character (0 to 3)."""
        tails = [k for k in (1, 2, 3) if self.data[-k:] in incomplete_characters()]
        return tails[0] if tails and len(self.data) >= tails[0] else 0

    def feed(self, i: int) -> str:
        self.data += self.model.token_bytes(i)
        text = self.data[: len(self.data) - self.held()].decode("utf-8", errors="replace")
        assert text.startswith(self.shown), "the model's own consistency"
        out, self.shown = text[len(self.shown) :], text
        return out

    def flush(self) -> str:
        out = self.data.decode("utf-8", errors="replace")[len(self.shown) :]
        self.data, self.shown = b"", ""
        return out
