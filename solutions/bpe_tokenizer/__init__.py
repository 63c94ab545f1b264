"""Byte-level byte-pair encoding: train, encode, decode, special tokens, files, streaming.

Reference solution of the bpe_tokenizer kata (stages/bpe_tokenizer/stage1..4.md).

Data layout of a trained ``Tokenizer`` (it never changes after training)::

    ids 0..255                    the bytes
    ids 256..256+m-1              the merges, in creation order: id 256+k is merges[k]
    ids 256+m..256+m+s-1          the special tokens, in the order given to train

    _merges   [(left, right), ...]      merges[k] made id 256 + k
    _ranks    {(left, right): new id}   the encoder's lookup: a smaller id was created first
    _vocab    [bytes, ...]              the bytes of every id, specials included (their UTF-8)
    _specials {string: id}              in id order
    _cache    {chunk: ids}              encoded chunks; the only thing that changes, invisibly

Training counts pairs over the *distinct* chunks weighted by how often each
occurs, keeps the counts in a dict beside a lazily cleaned heap (highest
count, then smallest pair), and after each merge updates, in the chunks that
held the merged pair only (an index from pair to chunks says which), the
pairs that touch an occurrence: O(distinct chunks x merges in them) rather
than O(text x merges).
"""

from __future__ import annotations

import heapq
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Set
from itertools import pairwise

__all__ = ["WORD_PATTERN", "DisallowedSpecialError", "Tokenizer", "TokenizerFileError"]

# GPT-2's split pattern written for Python's `re`, which has no \p{L} / \p{N}:
# [^\W\d_] is a letter, \d a digit, (?:[^\s\w]|_) anything else but space.
WORD_PATTERN = r"'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"

FORMAT, VERSION = "bpe-tokenizer", 1
FIELDS = ("format", "version", "pattern", "merges", "special_tokens")
CACHE_CHARS = 1 << 22  # the chunk cache is emptied when it holds more characters than this


class DisallowedSpecialError(ValueError):
    """``encode`` found a special token that ``allowed_special`` does not allow."""


class TokenizerFileError(ValueError):
    """``Tokenizer.load`` was given a file that is not a saved tokenizer."""


class Tokenizer:
    """A byte-level BPE tokenizer: bytes are ids 0..255, each merge adds one id.

    Make one with ``Tokenizer.train``; ``Tokenizer()`` is the untrained one
    (256 byte ids, no merges). A tokenizer never changes once made.
    """

    __slots__ = (
        "_cache",
        "_cached_chars",
        "_merges",
        "_pattern",
        "_ranks",
        "_regex",
        "_special_regex",
        "_specials",
        "_vocab",
    )

    def __init__(self) -> None:
        """The untrained tokenizer: the 256 byte ids, no merges, no pattern, no specials."""
        self._setup([], None, ())

    def _setup(self, merges: list[tuple[int, int]], pattern: str | None, specials) -> None:
        """Fill a new tokenizer from checked parts (train and load only)."""
        self._merges = merges
        self._ranks = {pair: 256 + k for k, pair in enumerate(merges)}
        self._vocab = [bytes([b]) for b in range(256)]
        for left, right in merges:
            self._vocab.append(self._vocab[left] + self._vocab[right])
        self._pattern = pattern
        self._regex = None if pattern is None else re.compile(pattern)
        self._specials = {s: len(self._vocab) + k for k, s in enumerate(specials)}
        self._vocab.extend(s.encode("utf-8") for s in specials)
        self._special_regex = _special_regex(specials)
        self._cache: dict[str, tuple[int, ...]] = {}
        self._cached_chars = 0

    # --- training -------------------------------------------------------------

    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        pattern: str | None = None,
        special_tokens: list[str] | tuple[str, ...] = (),
    ) -> Tokenizer:
        """A new tokenizer trained on ``text``.

        Repeatedly the most frequent adjacent pair of ids (overlapping
        occurrences counted; ties to the smallest ``(left, right)``) becomes
        the next id, replaced left to right without overlap, until
        ``vocab_size`` ids exist or no pair occurs twice. With a ``pattern``
        no merge crosses a chunk (a match or a run between matches); no merge
        crosses a special token either, and specials' bytes are not counted.
        The specials get the ids after the merges, on top of ``vocab_size``.

        Runtime complexity: O(n + sum over merges of the size of the distinct
        chunks holding the merged pair), n the length of the text.

        >>> Tokenizer.train("aaabdaaabac", 300).merges
        [(97, 97), (97, 98), (256, 257)]
        """
        _require_str("text", text)
        _require_int("vocab_size", vocab_size)
        if pattern is not None:
            _require_str("pattern", pattern)
        if not isinstance(special_tokens, list | tuple):
            raise TypeError(
                "special_tokens must be a list or tuple of str, "
                f"not {type(special_tokens).__name__}"
            )
        for special in special_tokens:
            _require_str("a special token", special)
        _require_utf8("text", text)
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be at least 256 (the bytes), not {vocab_size}")
        regex = _compile(pattern, ValueError)
        specials = _checked_specials(special_tokens, ValueError)

        counts: Counter[str] = Counter()
        for piece, _ in _scan(_special_regex(specials), text):
            if piece:
                counts.update(_chunks(regex, piece))
        merges = _learn(
            [chunk.encode("utf-8") for chunk in counts], list(counts.values()), vocab_size - 256
        )
        tokenizer = cls()
        tokenizer._setup(merges, pattern, specials)
        return tokenizer

    # --- read-only attributes -------------------------------------------------

    @property
    def merges(self) -> list[tuple[int, int]]:
        """A new list of the ``(left, right)`` pairs in creation order (id 256 + index). O(m)."""
        return list(self._merges)

    @property
    def vocab_size(self) -> int:
        """How many ids exist: 256 bytes, the merges and the special tokens. O(1)."""
        return len(self._vocab)

    @property
    def pattern(self) -> str | None:
        """The chunking pattern given to ``train``, or None. O(1)."""
        return self._pattern

    @property
    def special_tokens(self) -> dict[str, int]:
        """A new dict from each special token to its id, in id order. O(s)."""
        return dict(self._specials)

    # --- encoding and decoding ------------------------------------------------

    def encode(self, text: str, allowed_special: Set[str] | str = frozenset()) -> list[int]:
        """The ids of ``text``.

        Special tokens are found first (one scan, the longest at the leftmost
        position); a found special in ``allowed_special`` (a set, or "all")
        becomes its id, any other raises DisallowedSpecialError. Each piece
        between them is split into chunks by the pattern, and each chunk's
        bytes are merged, the earliest-created merge first, every occurrence
        left to right, until no adjacent pair has a merge.

        Runtime complexity: O(n) for chunks seen before (cached), plus
        O(c x merges applied) for each new chunk of length c.

        >>> Tokenizer.train("aaabdaaabac", 300).encode("aaab")
        [258]
        """
        _require_str("text", text)
        allow_all = _require_allowed(allowed_special)
        _require_utf8("text", text)
        allowed = set(self._specials) if allow_all else allowed_special
        unknown = sorted(set(allowed) - set(self._specials))
        if unknown:
            raise ValueError(f"allowed_special names {unknown[0]!r}, not a special token here")

        ids: list[int] = []
        for piece, special in _scan(self._special_regex, text):
            for chunk in _chunks(self._regex, piece):
                ids.extend(self._encode_chunk(chunk))
            if special is not None:
                if special not in allowed:
                    raise DisallowedSpecialError(
                        f"the text holds the special token {special!r}, which allowed_special "
                        "does not allow (pass it in allowed_special to encode it as its id)"
                    )
                ids.append(self._specials[special])
        return ids

    def _encode_chunk(self, chunk: str) -> tuple[int, ...]:
        """The ids of one chunk, from the cache when it was seen before (minbpe's encode loop)."""
        cached = self._cache.get(chunk)
        if cached is not None:
            return cached
        ids = list(chunk.encode("utf-8"))
        ranks = self._ranks
        while len(ids) > 1:
            # The present pair created first: its id is the smallest.
            pair = min(pairwise(ids), key=lambda p: ranks.get(p, 1 << 62))
            if pair not in ranks:
                break
            ids = _merge(ids, pair, ranks[pair])
        if self._cached_chars + len(chunk) > CACHE_CHARS:
            self._cache.clear()
            self._cached_chars = 0
        self._cache[chunk] = encoded = tuple(ids)
        self._cached_chars += len(chunk)
        return encoded

    def decode(self, ids: list[int] | tuple[int, ...]) -> str:
        """The text of ``ids``: their bytes joined, decoded as UTF-8, invalid
        sequences replaced by U+FFFD; a special id gives its string.

        Runtime complexity: O(len(ids) + bytes).

        >>> Tokenizer().decode([104, 105])
        'hi'
        """
        if not isinstance(ids, list | tuple):
            raise TypeError(f"ids must be a list or tuple of int, not {type(ids).__name__}")
        for i in ids:
            _require_int("an id", i)
        for i in ids:
            self._require_id(i)
        return b"".join([self._vocab[i] for i in ids]).decode("utf-8", errors="replace")

    def _require_id(self, i: int) -> None:
        if not 0 <= i < len(self._vocab):
            raise ValueError(f"unknown id {i}: ids are 0..{len(self._vocab) - 1}")

    def stream_decoder(self) -> StreamDecoder:
        """A new decoder that turns ids into text one at a time. O(1)."""
        return StreamDecoder(self)

    # --- files ----------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the tokenizer to ``path`` as JSON, atomically.

        The JSON object has exactly the fields ``format`` ("bpe-tokenizer"),
        ``version`` (1), ``pattern`` (a string or null), ``merges`` (a list of
        ``[left, right]``) and ``special_tokens`` (a list of strings). It is
        written to a temporary file in the same folder, flushed and fsynced,
        then moved onto ``path`` by ``os.replace``: a reader (or a crash) sees
        the old file or the complete new one, never a torn one.

        Runtime complexity: O(merges + specials).
        """
        target = _require_path(path)
        data = {
            "format": FORMAT,
            "version": VERSION,
            "pattern": self._pattern,
            "merges": [list(pair) for pair in self._merges],
            "special_tokens": list(self._specials),
        }
        text = json.dumps(data)  # ASCII: a pattern may hold a lone surrogate
        folder = os.path.dirname(os.path.abspath(target))
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tokenizer-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)  # still there: os.replace is the last step
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Tokenizer:
        """The tokenizer saved at ``path``.

        Reads JSON only (nothing in the file is ever executed). A missing
        file raises FileNotFoundError; anything that is not a file written by
        ``save`` raises TokenizerFileError naming the path and the fault: bad
        UTF-8 or JSON, another format or version, missing or extra fields, a
        pattern that does not compile, a merge naming an id that does not
        exist yet or repeating an earlier pair, a special token that is
        empty, repeated or not encodable.

        Runtime complexity: O(file size).
        """
        where = _require_path(path)
        with open(where, "rb") as file:
            raw = file.read()
        try:
            # NaN and Infinity parse as floats, which no field accepts.
            data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise TokenizerFileError(f"{where}: not a JSON tokenizer file ({exc})") from None

        def bad(why: str) -> TokenizerFileError:
            return TokenizerFileError(f"{where}: {why}")

        if not isinstance(data, dict) or sorted(data) != sorted(FIELDS):
            raise bad(f"expected a JSON object with exactly the fields {', '.join(FIELDS)}")
        if data["format"] != FORMAT or not isinstance(data["format"], str):
            raise bad(f"format is {data['format']!r}, not {FORMAT!r}")
        if type(data["version"]) is not int or data["version"] != VERSION:
            raise bad(f"version is {data['version']!r}, not {VERSION}")
        pattern = data["pattern"]
        if pattern is not None and not isinstance(pattern, str):
            raise bad("pattern must be a string or null")
        _compile(pattern, bad)
        merges = _checked_merges(data["merges"], bad)
        specials = data["special_tokens"]
        if not isinstance(specials, list) or not all(isinstance(s, str) for s in specials):
            raise bad("special_tokens must be a list of strings")
        tokenizer = cls()
        tokenizer._setup(merges, pattern, _checked_specials(specials, bad))
        return tokenizer

    # --- invariants -----------------------------------------------------------

    def _check(self) -> None:
        """Verify the invariants of the data layout (used by the model tests)."""
        m = len(self._merges)
        assert len(self._vocab) == 256 + m + len(self._specials)
        assert len(self._ranks) == m, "no pair is merged twice"
        for k, (left, right) in enumerate(self._merges):
            assert 0 <= left < 256 + k and 0 <= right < 256 + k, "a merge names existing ids"
            assert self._ranks[left, right] == 256 + k
            assert self._vocab[256 + k] == self._vocab[left] + self._vocab[right]
        for k, (special, i) in enumerate(self._specials.items()):
            assert i == 256 + m + k and self._vocab[i] == special.encode("utf-8") and special
        assert (self._regex is None) == (self._pattern is None)
        assert self._cached_chars == sum(map(len, self._cache)) <= CACHE_CHARS
        for chunk, ids in self._cache.items():
            assert b"".join(self._vocab[i] for i in ids) == chunk.encode("utf-8")


class StreamDecoder:
    """Turns ids into text one at a time, never showing half a character.

    Holds back at most 3 bytes: the start of a UTF-8 character that the next
    ids may still complete. Concatenating every ``feed`` and the ``flush``
    gives ``decode`` of the same ids.
    """

    __slots__ = ("_held", "_vocab")

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._vocab = tokenizer._vocab
        self._held = b""

    def feed(self, id: int) -> str:
        """The text this id completes (maybe ""). An unknown id is a ValueError. O(token length)."""
        _require_int("an id", id)
        if not 0 <= id < len(self._vocab):
            raise ValueError(f"unknown id {id}: ids are 0..{len(self._vocab) - 1}")
        data = self._held + self._vocab[id]
        # At most one of the last three bytes can start an unfinished character.
        cut = next(
            (len(data) - k for k in (3, 2, 1) if len(data) >= k and _may_complete(data[-k:])),
            len(data),
        )
        # Before the cut, decoding alone gives what decoding everything would:
        # the byte at the cut starts a character, so nothing before it waits for more.
        self._held = data[cut:]
        return data[:cut].decode("utf-8", errors="replace")

    def flush(self) -> str:
        """What is held back, decoded as ``decode`` would ("" or U+FFFD); then afresh. O(1)."""
        held, self._held = self._held, b""
        return held.decode("utf-8", errors="replace")


# The range of the byte after each lead byte whose range is not 80..BF (Unicode
# table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
SECOND_BYTE = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}


def _may_complete(tail: bytes) -> bool:
    """Whether ``tail`` is the beginning, not the whole, of the UTF-8 encoding of a character."""
    lead = tail[0]
    if 0xC2 <= lead <= 0xDF:
        size = 2
    elif 0xE0 <= lead <= 0xEF:
        size = 3
    elif 0xF0 <= lead <= 0xF4:
        size = 4
    else:
        return False  # ASCII, a continuation byte, or a byte no UTF-8 text holds
    low, high = SECOND_BYTE.get(lead, (0x80, 0xBF))
    return (
        len(tail) < size
        and all(low <= b <= high for b in tail[1:2])
        and all(0x80 <= b <= 0xBF for b in tail[2:])
    )


# --- training ------------------------------------------------------------------


def _learn(words: list[bytes], freqs: list[int], most: int) -> list[tuple[int, int]]:
    """Up to ``most`` merges learned from distinct chunks ``words`` occurring ``freqs`` times."""
    chunks = [list(word) for word in words]
    stats: dict[tuple[int, int], int] = defaultdict(int)  # pair -> weighted count
    where: dict[tuple[int, int], set[int]] = defaultdict(set)  # pair -> chunks that held it
    for i, ids in enumerate(chunks):
        for pair in pairwise(ids):
            stats[pair] += freqs[i]
            where[pair].add(i)
    # Max count first, then the smallest pair: a min-heap of (-count, pair).
    # Entries go stale when a count changes; the live count is in stats.
    heap = [(-count, pair) for pair, count in stats.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    while len(merges) < most:
        while heap and stats.get(heap[0][1]) != -heap[0][0]:
            heapq.heappop(heap)
        if not heap or -heap[0][0] < 2:
            break
        pair = heapq.heappop(heap)[1]
        new = 256 + len(merges)
        merges.append(pair)
        changed = set()
        for i in where.pop(pair):
            merged, gone, made = _merge_counted(chunks[i], pair, new)
            weight = freqs[i]
            for old in gone:
                stats[old] -= weight
                changed.add(old)
            for fresh in made:
                stats[fresh] += weight
                where[fresh].add(i)
                changed.add(fresh)
            chunks[i] = merged
        for p in changed:
            if stats[p]:
                heapq.heappush(heap, (-stats[p], p))
            else:
                del stats[p]
    return merges


def _merge(ids: list[int], pair: tuple[int, int], new: int) -> list[int]:
    """``ids`` with every occurrence of ``pair``, left to right without overlap, made ``new``."""
    left, right = pair
    out: list[int] = []
    i, n = 0, len(ids)
    while i < n:
        if ids[i] == left and i + 1 < n and ids[i + 1] == right:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _merge_counted(
    ids: list[int], pair: tuple[int, int], new: int
) -> tuple[list[int], list[tuple[int, int]], list[tuple[int, int]]]:
    """``_merge``, plus the pairs the merge takes out of ``ids`` and the pairs it makes.

    Only pairs touching a merged occurrence change: the others are counted
    neither out nor in, which is what keeps training proportional to the
    merges rather than to the chunks' lengths.
    """
    left, right = pair
    out: list[int] = []
    gone: list[tuple[int, int]] = []
    i, n, previous = 0, len(ids), -2  # previous: where the last occurrence started
    while i < n:
        if ids[i] == left and i + 1 < n and ids[i + 1] == right:
            if i > 0 and previous != i - 2:  # else the last occurrence counted this pair
                gone.append((ids[i - 1], left))
            gone.append(pair)
            if i + 2 < n:
                gone.append((right, ids[i + 2]))
            out.append(new)
            previous = i
            i += 2
        else:
            out.append(ids[i])
            i += 1
    made = [p for p in pairwise(out) if new in p] if gone else []
    return out, gone, made


# --- splitting text --------------------------------------------------------------


def _special_regex(specials) -> re.Pattern[str] | None:
    """One alternation, longest first: at each position the longest special wins."""
    if not specials:
        return None
    return re.compile("|".join(map(re.escape, sorted(specials, key=len, reverse=True))))


def _scan(regex: re.Pattern[str] | None, text: str) -> Iterator[tuple[str, str | None]]:
    """``(piece, special)`` pairs: the text before each special found, then the last piece."""
    start = 0
    if regex is not None:
        for found in regex.finditer(text):
            yield text[start : found.start()], found.group()
            start = found.end()
    yield text[start:], None


def _chunks(regex: re.Pattern[str] | None, text: str) -> list[str]:
    """The non-empty matches of ``regex`` in ``text`` and the runs between them, in order."""
    if regex is None:
        return [text] if text else []
    if regex.groups == 0:
        # Fast path: when the matches cover the text there are no runs between them.
        found = regex.findall(text)
        if sum(map(len, found)) == len(text):
            return [chunk for chunk in found if chunk]
    chunks, start = [], 0
    for match in regex.finditer(text):
        if match.start() > start:
            chunks.append(text[start : match.start()])
        if match.end() > match.start():
            chunks.append(match.group())
        start = match.end()
    if start < len(text):
        chunks.append(text[start:])
    return chunks


# --- checking arguments and files ----------------------------------------------------


def _require_str(what: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")


def _require_int(what: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int (not a bool), not {type(value).__name__}")


def _require_path(path: object) -> str:
    """The path as a str; a bytes path (or a PathLike giving bytes) is a TypeError too."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"a path is a str or an os.PathLike, not {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(
            f"a path is a str or an os.PathLike giving a str, not {type(path).__name__}"
        )
    return path


def _require_utf8(what: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{what} holds a lone surrogate {text[exc.start]!r} at index {exc.start}, "
            "which has no UTF-8 encoding"
        ) from None


def _require_allowed(allowed: object) -> bool:
    """Types of ``allowed_special``; True for "all". A str other than "all" is a ValueError."""
    if isinstance(allowed, str):
        if allowed != "all":
            raise ValueError(f'allowed_special must be a set of specials or "all", not {allowed!r}')
        return True
    if not isinstance(allowed, Set):
        raise TypeError(f"allowed_special must be a set of str, not {type(allowed).__name__}")
    for special in allowed:
        _require_str("an allowed special", special)
    return False


def _compile(pattern: str | None, error) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise error(f"pattern {pattern!r} does not compile: {exc}") from None


def _checked_specials(specials, error) -> tuple[str, ...]:
    """Specials as a tuple, after their values are checked: not empty, distinct, UTF-8."""
    for special in specials:
        if not special:
            raise error("a special token must not be empty")
        try:
            special.encode("utf-8")
        except UnicodeEncodeError:
            raise error(f"the special token {special!r} holds a lone surrogate") from None
    if len(set(specials)) != len(specials):
        repeated = next(s for s in specials if specials.count(s) > 1)
        raise error(f"the special token {repeated!r} is given twice")
    return tuple(specials)


def _checked_merges(merges: object, bad) -> list[tuple[int, int]]:
    if not isinstance(merges, list):
        raise bad("merges must be a list of [left, right] pairs")
    checked: list[tuple[int, int]] = []
    seen = set()
    for k, pair in enumerate(merges):
        if not (isinstance(pair, list) and len(pair) == 2 and all(type(i) is int for i in pair)):
            raise bad(f"merge {k} is {pair!r}, not a [left, right] pair of ids")
        left, right = pair
        if not (0 <= left < 256 + k and 0 <= right < 256 + k):
            raise bad(f"merge {k} (id {256 + k}) is {pair!r}: an id that does not exist yet")
        if (left, right) in seen:
            raise bad(f"merge {k} repeats the pair {pair!r}")
        seen.add((left, right))
        checked.append((left, right))
    return checked


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key appears twice in one object")
    return dict(pairs)
