"""The bpe_tokenizer performance workload, for ``kata compare`` and ``kata bench``,
and the generated text the performance tests train on.

``sample_text(size)`` is about ``size`` bytes of a made-up language: 20,000
words of one to four syllables (some with accents), drawn with Zipf's law,
in sentences with capitals, commas, digits, a few CJK words and emoji, and
line breaks. It is generated from a fixed seed, so every run sees the same
text, and nothing large is shipped with the kit.

``workload(impl, n, stages)`` trains a tokenizer on about n bytes of that
text, then encodes it in pieces of about 100 bytes and decodes them back, with
the operations of stages 1..stages, and returns how many calls it made.
"""

from __future__ import annotations

import itertools
import os
import random
import tempfile
from collections.abc import Callable
from functools import cache

STAGE_OPERATIONS = {
    1: "train (no pattern, 50 merges), encode and decode pieces of about 100 bytes",
    2: "train with WORD_PATTERN (up to 1,000 merges), encode and decode",
    3: "special tokens in the text, encoded with allowed_special",
    4: "save and load once, every id through a stream decoder",
}
END = "<end>"


@cache
def sample_text(size: int, seed: int = 2026) -> str:
    """About ``size`` bytes of generated text (at least ``size``, one sentence more at most)."""
    rng = random.Random(seed)
    onsets = [*"bcdfghjklmnprstvwz", "ch", "sh", "th", "tr", "pl", "gr"]
    vowels = [*"aeiou", "ai", "ou", "é", "ü", "ö"]
    codas = [""] * 6 + list("nrslt")
    syllables = [o + v + c for o in onsets for v in vowels for c in codas]
    lengths = rng.choices((1, 2, 2, 3, 3, 4), k=30_000)
    drawn = iter(rng.choices(syllables, k=sum(lengths)))
    words = {"".join(itertools.islice(drawn, n)) for n in lengths}
    vocabulary = sorted(words)[:20_000]
    rng.shuffle(vocabulary)
    vocabulary[100:100] = ["東京", "学生", "日本語", "😀", "🎉🎉"]
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))
    sentences, total = [], 0
    while total < size:
        # Draw in bulk: one call per 1,000 sentences rather than several per word.
        counts = rng.choices(range(4, 15), k=1000)
        stream = iter(rng.choices(vocabulary, cum_weights=weights, k=sum(counts)))
        for n, a, b, end in zip(
            counts,
            rng.choices(range(10_000), k=1000),
            rng.choices(range(50), k=1000),
            rng.choices(END_OF_SENTENCE, k=1000),
            strict=True,
        ):
            sentence = list(itertools.islice(stream, n))
            sentence[0] = sentence[0].capitalize()
            if a < 2_000:  # one sentence in five holds a number
                sentence[a % n] = str(a)
            if b < 15:  # three in ten a comma
                sentence[b % (n - 1)] += ","
            sentences.append(" ".join(sentence) + end)
            total += len(sentences[-1].encode("utf-8"))
            if total >= size:
                break
    return "".join(sentences)


END_OF_SENTENCE = [
    p + s for p in (".", ".", ".", "!", "?", "'s.") for s in (" ", " ", " ", "\n", "\n\n")
]


def workload(impl: object, n: int, stages: int) -> int:
    """Train on about n bytes, then encode and decode them in pieces; returns the calls made."""
    text = sample_text(n)
    if stages >= 3:
        text = END.join(text[i : i + 500] for i in range(0, len(text), 500))
    pattern = impl.WORD_PATTERN if stages >= 2 else None
    kwargs = {} if stages < 2 else {"pattern": pattern}
    if stages >= 3:
        kwargs["special_tokens"] = [END]
    tokenizer = impl.Tokenizer.train(text, 256 + (1000 if stages >= 2 else 50), **kwargs)
    calls = 1
    if stages >= 4:
        with tempfile.TemporaryDirectory() as folder:
            tokenizer.save(os.path.join(folder, "tokenizer.json"))
            tokenizer = impl.Tokenizer.load(os.path.join(folder, "tokenizer.json"))
        calls += 2
    allowed = {"allowed_special": "all"} if stages >= 3 else {}
    for start in range(0, len(text), 100):
        ids = tokenizer.encode(text[start : start + 100], **allowed)
        tokenizer.decode(ids)
        calls += 2
        if stages >= 4:
            decoder = tokenizer.stream_decoder()
            for i in ids:
                decoder.feed(i)
            decoder.flush()
            calls += len(ids) + 2
    return calls


def train_with_word_pattern(impl: object, n: int) -> int:
    """The reference design: train on n bytes with WORD_PATTERN and up to 1,000 merges."""
    impl.Tokenizer.train(sample_text(n), 1256, pattern=impl.WORD_PATTERN)
    return n


def train_recounting_everything(impl: object, n: int) -> int:
    """The naive design stage 2 names: recount every pair of the text after each merge."""
    # Imported here, not at the top: ``kata`` reads this module's tables from
    # a process where the kit's root (hence ``tests``) may not be importable.
    from tests.bpe_tokenizer.model import split_chunks, train_chunks

    train_chunks(split_chunks(sample_text(n), impl.WORD_PATTERN), 1256)
    return n


BASELINES: dict[str, Callable[[object, int], int]] = {
    "training (bytes of text), Tokenizer.train": train_with_word_pattern,
    "training (bytes of text), recounting every pair after each merge": train_recounting_everything,
}
