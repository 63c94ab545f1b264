"""Stage 2: chunks by a pattern, fast training and encoding (stages/bpe_tokenizer/stage2.md)."""

from __future__ import annotations

import hashlib
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dojo.testing import replay, shrinks
from tests.bpe_tokenizer.helpers import (
    TEXTS,
    VOCAB_SIZES,
    check,
    expect,
    expect_raises,
    show,
    spec_examples,
)
from tests.bpe_tokenizer.model import Model
from tests.bpe_tokenizer.workload import sample_text

pytestmark = pytest.mark.stage(2)

SPEC_WORD_PATTERN = r"'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"
PATTERNS = st.sampled_from(
    [SPEC_WORD_PATTERN, r"\w+", r"[a-z]+", r"\s+", r"x*", r"(a)(b)?", r".", r" ?\S+", r"b|ab"]
)


@pytest.mark.parametrize("table", spec_examples(2))
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"Tokenizer": impl.Tokenizer, "WORD_PATTERN": impl.WORD_PATTERN, "re": re})


def test_word_pattern_is_exactly_the_pattern_of_the_spec(impl):
    expect(
        "t.WORD_PATTERN; getattr",
        getattr,
        impl,
        "WORD_PATTERN",
        result=SPEC_WORD_PATTERN,
        rule="WORD_PATTERN is exactly the string given in the spec",
    )


@pytest.mark.parametrize(
    ("text", "chunks"),
    [
        ("Hello world", ["Hello", " world"]),
        ("I'm here, we'll've", ["I", "'m", " here", ",", " we", "'ll", "'ve"]),
        ("a  b", ["a", " ", " b"]),
        ("3.14159", ["3", ".", "14159"]),
        ("__init__", ["__", "init", "__"]),
        ("東京 😀!", ["東京", " 😀!"]),
        ("tab\there  ", ["tab", "\t", "here", "  "]),
    ],
    ids=repr,
)
def test_word_pattern_splits_like_gpt2(impl, text, chunks):
    expect(
        f"re.findall(WORD_PATTERN, {text!r}); findall",
        re.findall,
        impl.WORD_PATTERN,
        text,
        result=chunks,
        rule="contractions, words, numbers and symbols with one leading space, then whitespace",
    )


def test_no_merge_crosses_a_chunk_boundary_in_training(train, impl):
    expect(
        "Tokenizer.train(...).merges; train",
        lambda *a, **k: train(*a, **k).merges,
        "hi!hi!hi!",
        300,
        pattern=impl.WORD_PATTERN,
        result=[(104, 105)],
        rule="pairs are counted inside chunks only: 'hi' and '!' are separate chunks",
    )
    expect(
        "Tokenizer.train(...).merges; train",
        lambda *a, **k: train(*a, **k).merges,
        "ab1ab1ab1",
        300,
        pattern="[a-z]+|[0-9]+",
        result=[(97, 98)],
        rule="no pair made of the last byte of a chunk and the first of the next is counted",
    )


def test_no_merge_crosses_a_chunk_boundary_in_encoding(train, impl):
    tokenizer = train("it's it's it's", 300, pattern=impl.WORD_PATTERN)
    check(
        tokenizer.merges == [(39, 115), (105, 116), (32, 257)],
        f"train(\"it's it's it's\", 300, pattern=WORD_PATTERN).merges returned "
        f"{tokenizer.merges}; expected [(39, 115), (105, 116), (32, 257)]",
    )
    for text, ids in (
        ("''s", [39, 39, 115]),
        ("it's", [257, 256]),
        (" it's", [258, 256]),
        ("it''s", [257, 39, 39, 115]),
    ):
        expect(
            "t.encode",
            tokenizer.encode,
            text,
            result=ids,
            rule="encoding splits the text with the pattern and encodes each chunk on its own",
        )


def test_the_runs_between_matches_are_chunks_too(train):
    tokenizer = train("ab--ab--ab", 300, pattern="[a-z]+")
    check(
        tokenizer.merges == [(97, 98), (45, 45)],
        f"train('ab--ab--ab', 300, pattern='[a-z]+').merges returned {tokenizer.merges}; "
        "expected [(97, 98), (45, 45)]: the runs '--' between matches are chunks, and counted",
    )
    for text, ids in (("--ab--", [257, 256, 257]), ("ab 12!", [256, 32, 49, 50, 33])):
        expect(
            "t.encode",
            tokenizer.encode,
            text,
            result=ids,
            rule="no character is dropped: text before, between and after matches is encoded",
        )


def test_empty_matches_are_no_chunks(train):
    # "x*" matches the empty string between any two characters: every run between
    # them is one character, so no pair is ever inside a chunk.
    expect(
        "Tokenizer.train(...).merges; train",
        lambda *a, **k: train(*a, **k).merges,
        "abab abab",
        300,
        pattern="x*",
        result=[],
        rule="chunks are the matches and the runs between them; empty ones hold nothing",
    )
    tokenizer = train("xxab xxab", 300, pattern="x*")
    expect(
        "t.merges; getattr",
        getattr,
        tokenizer,
        "merges",
        result=[(120, 120)],
        rule="the matches 'xx' are chunks",
    )
    expect(
        "t.encode",
        tokenizer.encode,
        "xxabxx",
        result=[256, 97, 98, 256],
        rule="encoding splits with the same pattern",
    )


def test_without_a_pattern_training_is_round_one(train, impl):
    tokenizer = train("hi!hi!hi!", 300, pattern=None)
    expect(
        "t.merges; getattr",
        getattr,
        tokenizer,
        "merges",
        result=[(104, 105), (256, 33), (257, 257)],
        rule="pattern=None: the whole text is one chunk",
    )
    expect(
        "t.pattern; getattr",
        getattr,
        tokenizer,
        "pattern",
        result=None,
        rule="pattern is None without a pattern",
    )


def test_the_tokenizer_remembers_its_pattern(train, impl):
    tokenizer = train("it's it's it's", 300, pattern=impl.WORD_PATTERN)
    expect(
        "t.pattern; getattr",
        getattr,
        tokenizer,
        "pattern",
        result=impl.WORD_PATTERN,
        rule="pattern returns the pattern given to train",
    )
    # WORD_PATTERN cuts "''s" into "''" and "s"; the merge (39, 115) must not join them.
    expect(
        "t.encode",
        tokenizer.encode,
        "''s",
        result=tokenizer.encode("''") + tokenizer.encode("s"),
        rule="encode splits with the pattern given to train: the ids of \"''\", then of 's'",
    )
    expect_raises(
        "setattr",
        setattr,
        tokenizer,
        "pattern",
        None,
        error=AttributeError,
        rule="pattern is read-only",
    )


@pytest.mark.parametrize("pattern", ["(", "[a-", "*", "a{2,1}", "(?P<x>a)(?P<x>b)"])
def test_a_pattern_that_does_not_compile_raises_value_error(train, pattern):
    expect_raises(
        "Tokenizer.train",
        train,
        "ab",
        300,
        pattern=pattern,
        error=ValueError,
        rule="a pattern that does not compile is a ValueError",
    )


@pytest.mark.parametrize("pattern", [b"a", re.compile("a"), 5, ["a"]], ids=repr)
def test_a_pattern_that_is_not_a_str_raises_type_error(train, pattern):
    expect(
        "Tokenizer.train(...).pattern; train",
        lambda *a, **k: train(*a, **k).pattern,
        "ab",
        300,
        pattern="a",
        result="a",
        rule="a pattern given as a str is fine",
    )
    expect_raises(
        "Tokenizer.train",
        train,
        "ab",
        300,
        pattern=pattern,
        error=TypeError,
        rule="a pattern is a str",
    )
    expect_raises(
        "Tokenizer.train",
        train,
        "\ud800",
        255,
        pattern=pattern,
        error=TypeError,
        rule="types are checked before values",
    )


@shrinks
@given(text=TEXTS, vocab_size=VOCAB_SIZES, pattern=PATTERNS, other=TEXTS)
def test_merges_and_ids_agree_with_the_model_with_a_pattern(impl, text, vocab_size, pattern, other):
    model = Model(text, vocab_size, pattern)
    tokenizer = impl.Tokenizer.train(text, vocab_size, pattern=pattern)
    expect(
        f"Tokenizer.train({show(text)}, {vocab_size}, pattern={pattern!r}).merges; getattr",
        getattr,
        tokenizer,
        "merges",
        result=model.merges,
        rule="the model counts pairs inside chunks only, ties to the smallest pair",
    )
    for s in (text, other):
        expect(
            "t.encode",
            tokenizer.encode,
            s,
            result=model.encode(s),
            rule="each chunk is encoded on its own, the earliest-created merge first",
        )


@shrinks
@given(text=TEXTS, pattern=PATTERNS, other=TEXTS)
def test_decode_of_encode_gives_the_text_back_with_a_pattern(impl, text, pattern, other):
    tokenizer = impl.Tokenizer.train(text, 300, pattern=pattern)
    for s in (text, other, other + text):
        expect(
            f"t.decode(t.encode({show(s)})); decode",
            tokenizer.decode,
            tokenizer.encode(s),
            result=s,
            rule="no character is ever dropped: decode(encode(s)) == s",
        )


# --- performance ---------------------------------------------------------------------

# The first 30 of the 1,000 merges the rules give for the 1 MB text, and a digest of all.
FIRST_MERGES = [
    (111, 117), (195, 169), (195, 182), (195, 188), (112, 108), (97, 105), (103, 114),
    (97, 110), (32, 109), (116, 104), (32, 112), (260, 256), (99, 104), (117, 108),
    (263, 267), (115, 104), (266, 270), (262, 111), (116, 114), (265, 257), (32, 102),
    (32, 260), (258, 108), (111, 275), (273, 122), (279, 280), (281, 269), (32, 107),
    (32, 268), (257, 110),
]  # fmt: skip
MERGES_SHA256 = "59ba8fbb1831843caac11d4b1b2cf7051ff4b0cd28000444a793d9666a4ad4bf"
# The ids of the 1 MB text, encoded with the 669 merges learned from its first 10 KB.
IDS_SHA256 = "4221c0e8c890766f3eb90270d256f2bccc5ae421a7ac3308da78ae99e1ba4c14"


def digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


@pytest.mark.perf(
    workload="training on 1 MB of generated text (18,000 distinct chunks) with WORD_PATTERN "
    "and vocab_size=1256 (1,000 merges)",
    reference="0.7 s of CPU time",
    naive="recounting every pair of the text after each merge takes about 310 s, "
    "recounting the distinct chunks after each merge about 45 s",
)
def test_training_on_1_mb_with_1000_merges_counts_only_the_chunks_that_change(impl):
    text = sample_text(1_000_000)
    tokenizer = impl.Tokenizer.train(text, 1256, pattern=impl.WORD_PATTERN)
    merges = tokenizer.merges
    expect(
        "Tokenizer.train(1 MB, 1256, pattern=WORD_PATTERN).merges[:30]; list",
        list,
        merges[:30],
        result=FIRST_MERGES,
        rule="the same merges as counting every pair from scratch: counts, ties, left to right",
    )
    check(
        len(merges) == 1000 and digest(merges) == MERGES_SHA256,
        f"Tokenizer.train(1 MB, 1256, pattern=WORD_PATTERN) made {len(merges)} merges whose "
        "SHA-256 differs from the rules' 1,000 merges (the first 30 agree): a count or a tie "
        "goes wrong after some merges, when the counts are updated",
    )


LETTERS = "abcdefghijklmnopqrstuvwxyz"


@pytest.mark.perf(
    workload="encoding 2 MB made of 1,000 copies of one 2,000-letter word, with a tokenizer "
    "of 1,451 merges trained on that word",
    reference="0.6 s, training included",
    naive="encoding every copy again, without a cache, takes 250 to 450 s (85 to 145 s "
    "applying each merge in turn)",
)
def test_encoding_repeated_chunks_is_cached(impl):
    word = "".join(random.Random(7).choices(LETTERS, k=2000))
    tokenizer = impl.Tokenizer.train(f"{word} {word}", 256 + 2000, pattern=impl.WORD_PATTERN)
    check(
        len(tokenizer.merges) == 1451,
        f"Tokenizer.train(word + ' ' + word, 2256, pattern=WORD_PATTERN) made "
        f"{len(tokenizer.merges)} merges; the rules give 1,451",
    )
    ids = tokenizer.encode(" ".join([word] * 1000))
    first = tokenizer.encode(word)
    again = tokenizer.encode(" " + word)
    check(
        ids == first + again * 999,
        f"encode(1,000 copies of a word) returned {len(ids)} ids; expected the ids of the "
        f"first word ({len(first)}) then 999 times those of ' ' + word ({len(again)})",
    )


@pytest.mark.perf(
    workload="encoding 1 MB of generated text (124,000 chunks, 18,000 distinct) with the 669 "
    "merges learned from its first 10 KB",
    reference="0.3 s",
    naive="applying each of the 669 merges in turn to every chunk, without a cache, takes "
    "about 32 s",
)
def test_encoding_1_mb_costs_well_under_training(impl):
    text = sample_text(1_000_000)
    tokenizer = impl.Tokenizer.train(text[:10_000], 1256, pattern=impl.WORD_PATTERN)
    check(
        len(tokenizer.merges) == 669,
        f"Tokenizer.train(the first 10 KB, 1256, pattern=WORD_PATTERN) made "
        f"{len(tokenizer.merges)} merges; the rules give 669",
    )
    ids = tokenizer.encode(text)
    check(
        len(ids) == 331_373 and digest(ids) == IDS_SHA256,
        f"encode(1 MB) returned {len(ids)} ids; the rules give 331,373 (and these ids differ "
        "from them): each chunk is encoded on its own, the earliest-created merge first",
    )
