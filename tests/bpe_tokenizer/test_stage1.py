"""Stage 1: train, encode, decode (spec: stages/bpe_tokenizer/stage1.md)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given

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

pytestmark = pytest.mark.stage(1)


def merges_of(train, text: str, vocab_size: int = 300) -> list[tuple[int, int]]:
    return train(text, vocab_size).merges


@pytest.mark.parametrize("table", spec_examples(1))
def test_the_spec_example_table_holds(impl, table):
    replay(table, {"Tokenizer": impl.Tokenizer})


# --- training ---------------------------------------------------------------------


def test_the_most_frequent_pair_becomes_the_first_merge(train):
    # (113, 113) occurs 3 times, (120, 121) twice: the count decides, not the position.
    expect(
        "Tokenizer.train(...).merges",
        lambda *a: train(*a).merges,
        "xyxyqqqq",
        300,
        result=[(113, 113), (120, 121)],
        rule="the pair with the highest count becomes id 256",
    )


def test_overlapping_occurrences_count_towards_a_pair(train):
    # (97, 97) occurs twice in "aaa" (overlapping), as often as (98, 99) in "bcbc": a
    # tie the smaller (97, 97) wins. Counted without overlap it would occur once.
    expect(
        "Tokenizer.train(...).merges",
        lambda *a: train(*a).merges,
        "aaabcbc",
        300,
        result=[(97, 97), (98, 99)],
        rule="a pair's count is the number of positions where it occurs, overlapping ones included",
    )


def test_training_replaces_occurrences_left_to_right_without_overlap(train):
    # "aaab" becomes [256, 97, 98], so (97, 98) and (256, 97) tie next; replacing from
    # the right ([97, 256, 98]) would make (256, 98) instead.
    expect(
        "Tokenizer.train(...).merges",
        lambda *a: train(*a).merges,
        "aaabaaab",
        300,
        result=[(97, 97), (97, 98), (256, 257)],
        rule="occurrences are replaced left to right without overlap: [97, 97, 97] -> [256, 97]",
    )


def test_ties_go_to_the_smallest_pair_not_to_the_first_seen(train):
    # Every pair of "zyab zyab" inside a word occurs twice; (122, 121) comes first in
    # the text, but (97, 98) is the smallest pair.
    expect(
        "Tokenizer.train(...).merges",
        lambda *a: train(*a).merges,
        "zyab zyab",
        300,
        result=[(97, 98), (121, 256), (122, 257)],
        rule="ties go to the smallest (left, right), never to the pair seen first",
    )


@pytest.mark.parametrize("seed", range(6))
def test_a_tie_at_every_step_goes_to_the_smallest_pair(train, seed):
    # A word of distinct characters written twice: every pair occurs exactly twice at
    # every step, so each merge is decided by the tie rule alone.
    rng = random.Random(seed)
    word = "".join(rng.sample("abcdefghijklmnopqrstuvwxyzé東😀", 14))
    text = f"{word}{word}" if seed % 2 else f"{word} {word}"
    expect(
        "Tokenizer.train(...).merges",
        lambda *a: train(*a).merges,
        text,
        400,
        result=Model(text, 400).merges,
        rule="with equal counts, the smallest (left, right) pair is merged, at every step",
    )


def test_training_stops_when_no_pair_occurs_twice(train):
    for text, merges in (("abcd", []), ("abab", [(97, 98)]), ("", []), ("a", [])):
        expect(
            "Tokenizer.train(...).merges",
            lambda *a: train(*a).merges,
            text,
            1000,
            result=merges,
            rule="training stops when no pair occurs at least twice",
        )


def test_training_stops_when_vocab_size_ids_exist(train):
    full = train("aaabdaaabac", 10_000).merges
    for vocab_size in (256, 257, 258, 259, 260):
        expect(
            "Tokenizer.train(...).merges",
            lambda *a: train(*a).merges,
            "aaabdaaabac",
            vocab_size,
            result=full[: vocab_size - 256],
            rule="training stops once vocab_size ids exist (256 means no merges)",
        )


def test_vocab_size_is_256_plus_the_number_of_merges(train):
    for text, vocab_size, expected in (
        ("aaabdaaabac", 300, 259),
        ("aaabdaaabac", 257, 257),
        ("abcd", 300, 256),
        ("", 256, 256),
    ):
        expect(
            "Tokenizer.train(...).vocab_size; train",
            lambda *a: train(*a).vocab_size,
            text,
            vocab_size,
            result=expected,
            rule="vocab_size counts the ids that exist: 256 + len(merges)",
        )


def test_merges_are_tuples_of_two_ints_naming_earlier_ids(train):
    tokenizer = train("the cat sat on the mat with the hat " * 3, 300)
    merges = tokenizer.merges
    check(len(merges) > 5, f"train(...) made only {len(merges)} merges: {merges}")
    for k, pair in enumerate(merges):
        check(
            type(pair) is tuple and len(pair) == 2 and all(type(i) is int for i in pair),
            f"merges[{k}] is {pair!r}; expected a tuple (left, right) of two ints",
        )
        check(
            all(0 <= i < 256 + k for i in pair),
            f"merges[{k}] is {pair!r}; it makes id {256 + k}, so it can only name ids 0..{255 + k}",
        )


def test_each_merge_id_stands_for_the_bytes_of_its_pair(train):
    tokenizer = train("the cat sat on the mat with the hat " * 3, 300)
    for k, (left, right) in enumerate(tokenizer.merges):
        expect(
            "t.decode",
            tokenizer.decode,
            [256 + k],
            result=tokenizer.decode([left, right]),
            rule=f"id {256 + k} is merges[{k}] = {(left, right)}: the bytes of both",
        )


# --- encoding -----------------------------------------------------------------------


def test_encode_merges_the_pair_created_first(train):
    # No ties: (98, 99) occurs 5 times, then (256, 256) 4 times, then (97, 98) 3 times.
    # In "abc" the pair (97, 98) comes first, but (98, 99) was created first.
    tokenizer = train("bcbcbcbcbc ababab", 259)
    check(
        tokenizer.merges == [(98, 99), (256, 256), (97, 98)],
        f"train('bcbcbcbcbc ababab', 259).merges returned {tokenizer.merges}; expected "
        "[(98, 99), (256, 256), (97, 98)] (counts 5, 4 and 3: the most frequent pair first)",
    )
    expect(
        "t.encode",
        tokenizer.encode,
        "abc",
        result=[97, 256],
        rule="encode merges the pair whose merge was created first, not the leftmost pair",
    )
    expect(
        "t.encode",
        tokenizer.encode,
        "bcbc",
        result=[257],
        rule="then merges on, until no adjacent pair has a merge",
    )


def test_encode_merges_every_occurrence_left_to_right_without_overlap(train):
    tokenizer = train("aaaa", 300)  # one merge: (97, 97) = 256
    for text, ids in (
        ("aaa", [256, 97]),
        ("aaaaa", [256, 256, 97]),
        ("aaaa", [256, 256]),
        ("baaab", [98, 256, 97, 98]),
    ):
        expect(
            "t.encode",
            tokenizer.encode,
            text,
            result=ids,
            rule="every occurrence is replaced, left to right, without overlap",
        )


def test_encode_returns_a_new_list_of_ints(train):
    tokenizer = train("aaabdaaabac", 300)
    first = tokenizer.encode("aaab d")
    check(
        type(first) is list and all(type(i) is int for i in first),
        f"t.encode('aaab d') returned {first!r}; expected a list of int",
    )
    kept = list(first)
    first.append(-1)
    expect(
        "t.encode",
        tokenizer.encode,
        "aaab d",
        result=kept,
        rule="encode returns a new list each time: changing it changes nothing inside",
    )


def test_a_text_never_seen_in_training_encodes_to_its_bytes_at_worst(train):
    tokenizer = train("aaabdaaabac", 300)
    for text in ("xyz", "東京", "😀!", " \n\t"):
        expect(
            "t.encode",
            tokenizer.encode,
            text,
            result=list(text.encode("utf-8")),
            rule="a text with no merged pair encodes to its UTF-8 bytes",
        )


def test_the_untrained_tokenizer_has_the_bytes_only(impl):
    tokenizer = impl.Tokenizer()
    expect(
        "Tokenizer().merges; getattr",
        getattr,
        tokenizer,
        "merges",
        result=[],
        rule="Tokenizer() has no merges",
    )
    expect(
        "Tokenizer().vocab_size; getattr",
        getattr,
        tokenizer,
        "vocab_size",
        result=256,
        rule="Tokenizer() has the 256 byte ids",
    )
    expect(
        "Tokenizer().encode",
        tokenizer.encode,
        "é!",
        result=[195, 169, 33],
        rule="the untrained tokenizer encodes a text to its bytes",
    )


def test_encode_of_the_empty_text_is_an_empty_list(train):
    expect("t.encode", train("aaabdaaabac", 300).encode, "", result=[], rule="encode('') is []")


# --- decoding -------------------------------------------------------------------------

BROKEN = [
    [0xFF],
    [0xE2, 0x82],
    [0xE2, 0x82, 0x41],
    [0xED, 0xA0, 0x80],
    [0xF0, 0x9F, 0x98],
    [0xC0, 0xAF],
    [0x41, 0x80, 0x80, 0x42],
    [0xF4, 0x90, 0x80, 0x80],
    [0xE0, 0x80, 0x80],
    [0xF0, 0x9F, 0x98, 0x80, 0x9F],
]


@pytest.mark.parametrize("data", BROKEN, ids=lambda d: bytes(d).hex())
def test_decode_replaces_invalid_sequences_exactly_as_bytes_decode_does(impl, data):
    expect(
        "Tokenizer().decode",
        impl.Tokenizer().decode,
        data,
        result=bytes(data).decode("utf-8", errors="replace"),
        rule='invalid sequences become U+FFFD exactly as bytes.decode("utf-8", "replace") does',
    )


def test_decode_joins_the_bytes_before_decoding(train):
    # Trained on euros (E2 82 AC), the first merge is (130, 172): a token that
    # begins in the middle of the character.
    tokenizer = train("€€€€€€", 257)
    check(
        tokenizer.merges == [(130, 172)],
        f"train('€€€€€€', 257).merges returned {tokenizer.merges}; expected [(130, 172)]",
    )
    for ids, text in (([226, 256], "€"), ([256], "\ufffd\ufffd"), ([226], "\ufffd")):
        expect(
            "t.decode",
            tokenizer.decode,
            ids,
            result=text,
            rule="the bytes of every id are joined, then decoded with U+FFFD for what is invalid",
        )


def test_decode_accepts_a_list_or_a_tuple(train):
    tokenizer = train("aaabdaaabac", 300)
    expect("t.decode", tokenizer.decode, (258, 100), result="aaabd", rule="a tuple of ids is fine")
    expect("t.decode", tokenizer.decode, [], result="", rule="decode([]) is ''")


@pytest.mark.parametrize("bad", [[-1], [259], [10**30], [97, 300], [-(2**70)]], ids=repr)
def test_an_unknown_id_raises_value_error(train, bad):
    tokenizer = train("aaabdaaabac", 300)
    expect_raises(
        "t.decode",
        tokenizer.decode,
        bad,
        error=ValueError,
        rule="ids are 0 .. vocab_size - 1 (0..258 here)",
    )


@shrinks
@given(text=TEXTS, vocab_size=VOCAB_SIZES, other=TEXTS)
def test_decode_of_encode_gives_the_text_back(impl, text, vocab_size, other):
    tokenizer = impl.Tokenizer.train(text, vocab_size)
    for s in (text, other, text + other):
        expect(
            f"t.decode(t.encode({show(s)})); decode",
            tokenizer.decode,
            tokenizer.encode(s),
            result=s,
            rule="decode(encode(s)) == s",
        )


# --- against the model ------------------------------------------------------------------


@shrinks
@given(text=TEXTS, vocab_size=VOCAB_SIZES, other=TEXTS)
def test_merges_and_ids_agree_with_the_model_on_random_texts(impl, text, vocab_size, other):
    model = Model(text, vocab_size)
    tokenizer = impl.Tokenizer.train(text, vocab_size)
    expect(
        f"Tokenizer.train({show(text)}, {vocab_size}).merges; getattr",
        getattr,
        tokenizer,
        "merges",
        result=model.merges,
        rule="the model counts every pair, breaks ties by the smallest pair and merges "
        "left to right",
    )
    for s in (text, other):
        expect(
            "t.encode",
            tokenizer.encode,
            s,
            result=model.encode(s),
            rule="encode merges the earliest-created merge first, every occurrence",
        )


# --- conventions ---------------------------------------------------------------------------


def snapshot(tokenizer) -> tuple:
    """What a tokenizer shows: merges, vocab_size and the ids of a few texts."""
    texts = ("aaab", "abcd dcba", "é東😀")
    return tokenizer.merges, tokenizer.vocab_size, [tokenizer.encode(t) for t in texts]


def test_merges_and_vocab_size_are_read_only(train):
    tokenizer = train("aaabdaaabac", 300)
    before = snapshot(tokenizer)
    for name, value in (("merges", []), ("vocab_size", 1000)):
        expect_raises(
            "setattr",
            setattr,
            tokenizer,
            name,
            value,
            error=AttributeError,
            rule=f"{name} is a read-only attribute",
        )
    expect(
        "snapshot(t)",
        snapshot,
        tokenizer,
        result=before,
        rule="a refused assignment changes nothing",
    )


def test_changing_the_merges_list_you_were_given_changes_nothing(train):
    tokenizer = train("aaabdaaabac", 300)
    before = snapshot(tokenizer)
    given_list = tokenizer.merges
    given_list.clear()
    given_list.append((1, 2))
    expect(
        "snapshot(t)",
        snapshot,
        tokenizer,
        result=before,
        rule="merges returns a new list each time: changing it changes nothing inside",
    )


def test_train_returns_a_new_tokenizer_and_two_share_nothing(impl, train):
    first = train("aaabdaaabac", 300)
    before = snapshot(first)
    second = train("xyxyxy", 300)
    check(
        isinstance(first, impl.Tokenizer),
        f"Tokenizer.train returned {show(first)}; expected a Tokenizer",
    )
    check(first is not second, "two calls of Tokenizer.train returned the same object")
    expect(
        "snapshot(t)",
        snapshot,
        first,
        result=before,
        rule="training another tokenizer changes nothing in this one",
    )
    check(
        second.merges != first.merges,
        f"Tokenizer.train('xyxyxy', 300).merges returned {second.merges}, the merges of "
        "another text: each tokenizer has its own merges",
    )


NOT_STR = [b"text", None, 5, ["a"]]
NOT_INT = [True, False, 300.0, "300", None]
NOT_IDS = ["ab", b"ab", 5, None, {97}, range(3), pytest.param(iter([97]), id="iter([97])")]
NOT_ID = [True, False, 97.0, "97", None, b"a"]


@pytest.mark.parametrize("bad", NOT_STR, ids=repr)
def test_a_text_that_is_not_a_str_raises_type_error(train, bad):
    tokenizer = train("aaabdaaabac", 300)
    expect_raises("Tokenizer.train", train, bad, 300, error=TypeError, rule="a text is a str")
    before = snapshot(tokenizer)
    expect_raises("t.encode", tokenizer.encode, bad, error=TypeError, rule="a text is a str")
    expect("snapshot(t)", snapshot, tokenizer, result=before, rule="a refused call changes nothing")


@pytest.mark.parametrize("bad", NOT_INT, ids=repr)
def test_a_vocab_size_that_is_not_an_int_raises_type_error(train, bad):
    expect_raises(
        "Tokenizer.train",
        train,
        "aaa",
        bad,
        error=TypeError,
        rule="vocab_size is an int, and bool is not an int here",
    )


@pytest.mark.parametrize("bad", NOT_IDS, ids=repr)
def test_ids_that_are_not_a_list_or_tuple_raise_type_error(train, bad):
    tokenizer = train("aaabdaaabac", 300)
    expect_raises(
        "t.decode",
        tokenizer.decode,
        bad,
        error=TypeError,
        rule="ids are a list or a tuple of int, nothing else",
    )


@pytest.mark.parametrize("bad", NOT_ID, ids=repr)
def test_an_id_that_is_not_an_int_raises_type_error(train, bad):
    tokenizer = train("aaabdaaabac", 300)
    expect_raises(
        "t.decode",
        tokenizer.decode,
        [97, bad],
        error=TypeError,
        rule="every id is an int, and bool is not an int here",
    )


@pytest.mark.parametrize("vocab_size", [255, 0, -1, -(10**20)])
def test_a_vocab_size_below_256_raises_value_error(train, vocab_size):
    expect_raises(
        "Tokenizer.train",
        train,
        "aaa",
        vocab_size,
        error=ValueError,
        rule="vocab_size is at least 256, the bytes",
    )


@pytest.mark.parametrize("text", ["\ud800", "ok\udfff", "a\udc80b", "\ud83d"], ids=repr)
def test_a_lone_surrogate_raises_value_error_at_train_and_encode(train, text):
    tokenizer = train("aaabdaaabac", 300)
    before = snapshot(tokenizer)
    expect_raises(
        "Tokenizer.train",
        train,
        text,
        300,
        error=ValueError,
        rule="a lone surrogate has no UTF-8 bytes",
    )
    expect_raises(
        "t.encode",
        tokenizer.encode,
        text,
        error=ValueError,
        rule="a lone surrogate has no UTF-8 bytes",
    )
    expect("snapshot(t)", snapshot, tokenizer, result=before, rule="a refused call changes nothing")


def test_types_are_checked_before_values(train):
    tokenizer = train("aaabdaaabac", 300)
    rule = "every argument's type is checked before any value"
    expect_raises("Tokenizer.train", train, "\ud800", True, error=TypeError, rule=rule)
    expect_raises("Tokenizer.train", train, 5, 10, error=TypeError, rule=rule)
    expect_raises("Tokenizer.train", train, "\ud800", 255.0, error=TypeError, rule=rule)
    expect_raises("t.decode", tokenizer.decode, [-1, "a"], error=TypeError, rule=rule)
    expect_raises("t.decode", tokenizer.decode, [300, True], error=TypeError, rule=rule)


def test_subclasses_of_str_and_int_are_accepted(train):
    class Text(str):
        pass

    class Size(int):
        pass

    plain = train("aaabdaaabac", 300)
    expect(
        "Tokenizer.train(...).merges",
        lambda *a: train(*a).merges,
        Text("aaabdaaabac"),
        Size(300),
        result=plain.merges,
        rule="a subclass of str is a text, a subclass of int an int: the same merges",
    )
    expect(
        "t.encode",
        plain.encode,
        Text("aaab"),
        result=plain.encode("aaab"),
        rule="a str subclass is a text",
    )
    expect(
        "t.decode",
        plain.decode,
        [Size(258)],
        result=plain.decode([258]),
        rule="an int subclass is an id",
    )
