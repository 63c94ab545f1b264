"""Stage 3: special tokens (spec: stages/bpe_tokenizer/stage3.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dojo.testing import replay, shrinks
from tests.bpe_tokenizer.helpers import check, expect, expect_raises, show, spec_examples
from tests.bpe_tokenizer.model import Model

pytestmark = pytest.mark.stage(3)

SPECIALS = ["<end>", "<end><end>"]
TEXT = "ab<end>ab<end>ab"

# Specials that overlap each other ("ab" / "aab" / "ba" / "b "), chunks of the
# patterns below (" a", "b "), and multi-byte characters.
OVERLAPPING = ["ab", "aab", "ba", "b ", " a", "<s>", "<s><s>", "s>", "東😀", "é"]
PIECES = st.sampled_from(["a", "b", " ", "<", "s", ">", "é", "東", "😀", "\n", ",", "ab"])
SPECIAL_TEXTS = st.lists(PIECES, max_size=30).map("".join)
PATTERNS = st.sampled_from(
    [
        None,
        r"'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|"
        r"\s+(?!\S)|\s+",
        r"\w+",
        r" ?\S+",
        r".",
    ]
)


def specials_of(tokenizer) -> dict[str, int]:
    return tokenizer.special_tokens


@pytest.mark.parametrize("table", spec_examples(3))
def test_the_spec_example_table_holds(impl, table):
    replay(
        table,
        {
            name: getattr(impl, name)
            for name in ("Tokenizer", "WORD_PATTERN", "DisallowedSpecialError")
        },
    )


def test_disallowed_special_error_is_a_value_error(impl):
    expect(
        "issubclass",
        issubclass,
        impl.DisallowedSpecialError,
        ValueError,
        result=True,
        rule="DisallowedSpecialError is a subclass of ValueError",
    )


def test_specials_get_the_ids_after_the_merges_in_the_order_given(train):
    tokenizer = train("aaabdaaabac", 300, special_tokens=["<z>", "<a>", "<m>"])
    m = len(tokenizer.merges)
    expect(
        "t.special_tokens; getattr",
        getattr,
        tokenizer,
        "special_tokens",
        result={"<z>": 256 + m, "<a>": 257 + m, "<m>": 258 + m},
        rule=f"each special gets one id after the {m} merges, in the order given",
    )
    expect(
        "t.decode",
        tokenizer.decode,
        [257 + m, 97, 258 + m],
        result="<a>a<m>",
        rule="decode turns a special's id back into its string",
    )


def test_the_vocab_size_given_bounds_bytes_and_merges_and_the_specials_come_on_top(train):
    for vocab_size, merges in ((256, 0), (257, 1), (258, 2), (300, 3)):
        tokenizer = train("aaabdaaabac", vocab_size, special_tokens=["<x>", "<y>"])
        expect(
            f"len(Tokenizer.train('aaabdaaabac', {vocab_size}, special_tokens=['<x>', '<y>'])"
            ".merges); len",
            len,
            tokenizer.merges,
            result=merges,
            rule="vocab_size bounds the bytes and the merges only",
        )
        expect(
            "t.vocab_size; getattr",
            getattr,
            tokenizer,
            "vocab_size",
            result=256 + merges + 2,
            rule="the tokenizer's vocab_size counts the specials too",
        )


def test_the_specials_own_bytes_are_not_counted(train):
    expect(
        "Tokenizer.train(...).merges; train",
        lambda *a, **k: train(*a, **k).merges,
        "<zz><zz><zz>ab ab",
        300,
        special_tokens=["<zz>"],
        result=[(97, 98)],
        rule="training cuts the text at the specials: their bytes are never counted",
    )


def test_no_merge_spans_a_cut(train):
    # The pieces are "a", "ba", "ba", "b": (98, 97) occurs twice, (97, 98) never.
    expect(
        "Tokenizer.train(...).merges; train",
        lambda *a, **k: train(*a, **k).merges,
        "a<s>ba<s>ba<s>b",
        300,
        special_tokens=["<s>"],
        result=[(98, 97)],
        rule="training cuts the text at every special and trains on the pieces: no merge "
        "spans a cut",
    )


def test_specials_are_never_split_or_merged_when_encoding(train):
    tokenizer = train("ab<end>ab<end>ab<end>", 300, special_tokens=["<end>"])
    end = tokenizer.special_tokens["<end>"]
    expect(
        "t.encode",
        tokenizer.encode,
        "<end>ab<end><end>",
        allowed_special="all",
        result=[end, *tokenizer.encode("ab"), end, end],
        rule="each special found is its one id, whatever is around; the text between is "
        "encoded on its own",
    )


@pytest.mark.parametrize(
    ("specials", "text", "ids"),
    [
        (["ab", "abc", "bcd"], "abcd", [257, 100]),
        (["ab", "bcd"], "abcd", [256, 99, 100]),
        (["b", "abc"], "abcb", [257, 256]),
        (["bc", "abcd"], "xabce", [120, 97, 256, 101]),
        (["<s>", "<s><s>"], "<s><s><s>", [257, 256]),
        (["aa"], "aaa", [256, 97]),
    ],
    ids=str,
)
def test_the_longest_special_at_the_leftmost_position_wins(train, specials, text, ids):
    tokenizer = train("", 256, special_tokens=specials)
    expect(
        "t.encode",
        tokenizer.encode,
        text,
        allowed_special="all",
        result=ids,
        rule="one scan, left to right: at each position the longest special starting there "
        "wins, and the scan goes on after it",
    )


def test_specials_are_found_before_the_pattern_splits_the_text(train, impl):
    tokenizer = train("hello world", 256, pattern=impl.WORD_PATTERN, special_tokens=["lo w"])
    expect(
        "t.encode",
        tokenizer.encode,
        "hello world",
        allowed_special="all",
        result=[104, 101, 108, 256, 111, 114, 108, 100],
        rule="the scan for specials runs before the pattern, cutting what would be one chunk",
    )
    expect(
        "Tokenizer.train(...).merges; train",
        lambda *a, **k: train(*a, **k).merges,
        "hel lo wor hel lo wor",
        300,
        pattern=impl.WORD_PATTERN,
        special_tokens=["lo w"],
        result=[(101, 108), (104, 256), (111, 114)],
        rule="training cuts at the specials first, then splits each piece with the pattern",
    )


def test_a_special_that_is_not_allowed_raises_disallowed_special_error(train, impl):
    tokenizer = train(TEXT, 300, special_tokens=SPECIALS)
    for allowed in (set(), frozenset(), {"<end><end>"}):
        exc = expect_raises(
            "t.encode",
            tokenizer.encode,
            "ab<end>",
            allowed_special=allowed,
            error=impl.DisallowedSpecialError,
            rule="a found special that is not allowed raises",
        )
        check(
            "<end>" in str(exc),
            f"encode('ab<end>', allowed_special={allowed!r}) raised DisallowedSpecialError"
            f"({str(exc)!r}); its message must name the special '<end>'",
        )
    expect_raises(
        "t.encode",
        tokenizer.encode,
        "ab<end>",
        error=impl.DisallowedSpecialError,
        rule="by default nothing is allowed",
    )


def test_the_scan_finds_every_special_allowed_or_not(train, impl):
    tokenizer = train(TEXT, 300, special_tokens=SPECIALS)
    expect_raises(
        "t.encode",
        tokenizer.encode,
        "<end><end>",
        allowed_special={"<end>"},
        error=impl.DisallowedSpecialError,
        rule="the scan finds '<end><end>' (the longest), which is not allowed, even "
        "though '<end>' is",
    )
    expect(
        "t.encode",
        tokenizer.encode,
        "<end><end><end>",
        allowed_special={"<end><end>", "<end>"},
        result=[tokenizer.special_tokens["<end><end>"], tokenizer.special_tokens["<end>"]],
        rule="allowed specials become their ids",
    )


def test_allowed_special_is_any_set_or_the_string_all(train):
    tokenizer = train(TEXT, 300, special_tokens=SPECIALS)
    expected = [*tokenizer.encode("ab"), tokenizer.special_tokens["<end>"]]
    for allowed in ({"<end>"}, frozenset({"<end>"}), {"<end>": 1}.keys(), "all"):
        expect(
            "t.encode",
            tokenizer.encode,
            "ab<end>",
            allowed_special=allowed,
            result=expected,
            rule="allowed_special is a set of specials, or 'all'",
        )


def test_a_text_without_specials_needs_no_allowed_special(train):
    tokenizer = train(TEXT, 300, special_tokens=SPECIALS)
    for text in ("ab <en d>", "<end", "end>ab"):
        expect(
            f"t.decode(t.encode({text!r})); decode",
            lambda t: tokenizer.decode(tokenizer.encode(t)),
            text,
            result=text,
            rule="a text that holds no special encodes (and decodes back) without allowed_special",
        )


@pytest.mark.parametrize(
    "allowed",
    [["<end>"], ("<end>",), None, 5, {1}, pytest.param({"<end>", b"x"}, id="{'<end>', b'x'}")],
    ids=repr,
)
def test_an_allowed_special_of_the_wrong_type_raises_type_error(train, allowed):
    tokenizer = train(TEXT, 300, special_tokens=SPECIALS)
    expect_raises(
        "t.encode",
        tokenizer.encode,
        "ab",
        allowed_special=allowed,
        error=TypeError,
        rule="allowed_special is a set of str, or the string 'all'",
    )
    expect_raises(
        "t.encode",
        tokenizer.encode,
        "\ud800",
        allowed_special=allowed,
        error=TypeError,
        rule="types are checked before values",
    )


@pytest.mark.parametrize(
    "allowed",
    ["ALL", "none", "<end>", {"<nope>"}, pytest.param({"<end>", "ab"}, id="{'<end>', 'ab'}")],
    ids=repr,
)
def test_an_allowed_special_of_the_wrong_value_raises_value_error(train, impl, allowed):
    tokenizer = train(TEXT, 300, special_tokens=SPECIALS)
    exc = expect_raises(
        "t.encode",
        tokenizer.encode,
        "ab",
        allowed_special=allowed,
        error=ValueError,
        rule="a string other than 'all', or an item that is not a special here",
    )
    check(
        not isinstance(exc, impl.DisallowedSpecialError),
        f"encode('ab', allowed_special={allowed!r}) raised DisallowedSpecialError; the text "
        "holds no special: the fault is the argument, a plain ValueError",
    )


@pytest.mark.parametrize("specials", ["<end>", ["<end>", 5], None, {"<end>"}, [b"<end>"]], ids=repr)
def test_special_tokens_of_the_wrong_type_raise_type_error(train, specials):
    expect(
        "Tokenizer.train(...).special_tokens; train",
        lambda *a, **k: train(*a, **k).special_tokens,
        "ab",
        300,
        special_tokens=["<end>"],
        result={"<end>": 256},
        rule="a list of str is fine",
    )
    expect_raises(
        "Tokenizer.train",
        train,
        "ab",
        300,
        special_tokens=specials,
        error=TypeError,
        rule="special_tokens is a list or a tuple of str",
    )
    expect_raises(
        "Tokenizer.train",
        train,
        "ab",
        255,
        special_tokens=specials,
        error=TypeError,
        rule="types are checked before values",
    )


@pytest.mark.parametrize(
    "specials", [[""], ["<end>", "<end>"], ["a", "\ud800"], ("x", "", "y")], ids=repr
)
def test_special_tokens_of_the_wrong_value_raise_value_error(train, specials):
    expect_raises(
        "Tokenizer.train",
        train,
        "ab",
        300,
        special_tokens=specials,
        error=ValueError,
        rule="each special is non-empty, given once, without a lone surrogate",
    )


def test_specials_may_be_a_tuple_and_later_changes_to_the_list_change_nothing(train):
    given_list = ["<a>", "<b>"]
    tokenizer = train("abc", 300, special_tokens=given_list)
    given_list.append("<c>")
    given_list[0] = "<z>"
    expect(
        "t.special_tokens; getattr",
        getattr,
        tokenizer,
        "special_tokens",
        result={"<a>": 256, "<b>": 257},
        rule="changing the list you passed changes nothing",
    )
    expect(
        "Tokenizer.train(...).special_tokens; train",
        lambda *a, **k: train(*a, **k).special_tokens,
        "abc",
        300,
        special_tokens=("<a>", "<b>"),
        result={"<a>": 256, "<b>": 257},
        rule="a tuple of specials is fine",
    )


def test_special_tokens_is_a_new_dict_and_read_only(train):
    tokenizer = train(TEXT, 300, special_tokens=SPECIALS)
    first = tokenizer.special_tokens
    kept = dict(first)
    first["<new>"] = 1
    first.pop("<end>")
    expect(
        "t.special_tokens; getattr",
        getattr,
        tokenizer,
        "special_tokens",
        result=kept,
        rule="special_tokens is a new dict each time",
    )
    expect_raises(
        "setattr",
        setattr,
        tokenizer,
        "special_tokens",
        {},
        error=AttributeError,
        rule="special_tokens is read-only",
    )
    expect(
        "Tokenizer.train('ab', 300).special_tokens; getattr",
        getattr,
        train("ab", 300),
        "special_tokens",
        result={},
        rule="no specials: {}",
    )


def test_decode_joins_a_specials_bytes_with_the_others(train):
    tokenizer = train("xyz", 300, special_tokens=SPECIALS)  # no merges: <end> is 256
    for ids, text in (
        ([256], "<end>"),
        ([226, 256, 130], "\ufffd<end>\ufffd"),
        ([97, 257, 98], "a<end><end>b"),
    ):
        expect(
            "t.decode",
            tokenizer.decode,
            ids,
            result=text,
            rule="a special's bytes are its UTF-8, joined with the other bytes, then decoded",
        )
    expect_raises(
        "t.decode",
        tokenizer.decode,
        [258],
        error=ValueError,
        rule="ids are 0 .. vocab_size - 1, specials included (0..257)",
    )


# --- against the model ----------------------------------------------------------------


@shrinks
@given(
    text=SPECIAL_TEXTS,
    specials=st.lists(st.sampled_from(OVERLAPPING), unique=True, max_size=4),
    pattern=PATTERNS,
    vocab_size=st.integers(256, 256 + 30),
    other=SPECIAL_TEXTS,
    data=st.data(),
)
def test_merges_and_ids_agree_with_the_model_with_overlapping_specials(
    impl, text, specials, pattern, vocab_size, other, data
):
    model = Model(text, vocab_size, pattern, specials)
    tokenizer = impl.Tokenizer.train(text, vocab_size, pattern=pattern, special_tokens=specials)
    name = (
        f"Tokenizer.train({show(text)}, {vocab_size}, pattern={pattern!r}, "
        f"special_tokens={specials!r})"
    )
    expect(
        f"{name}.merges; getattr",
        getattr,
        tokenizer,
        "merges",
        result=model.merges,
        rule="training cuts at the specials (longest at leftmost), then splits by the pattern",
    )
    expect(
        f"{name}.special_tokens; getattr",
        getattr,
        tokenizer,
        "special_tokens",
        result=model.special_ids,
        rule="specials get the ids after the merges, in order",
    )
    for s in (text, other):
        expect(
            "t.encode",
            tokenizer.encode,
            s,
            allowed_special="all",
            result=model.encode(s, "all"),
            rule="specials found by one scan become their ids; the pieces are encoded as before",
        )
    allowed = data.draw(
        st.sets(st.sampled_from(specials)) if specials else st.just(set()), label="allowed_special"
    )
    try:
        expected = model.encode(other, allowed)
    except LookupError as found:
        expect_raises(
            "t.encode",
            tokenizer.encode,
            other,
            allowed_special=allowed,
            error=impl.DisallowedSpecialError,
            rule=f"the scan finds {found.args[0]!r}, which is not allowed",
        )
    else:
        expect(
            "t.encode",
            tokenizer.encode,
            other,
            allowed_special=allowed,
            result=expected,
            rule="every special found is allowed",
        )


@shrinks
@given(text=SPECIAL_TEXTS, specials=st.lists(st.sampled_from(OVERLAPPING), unique=True, max_size=4))
def test_decode_of_encode_with_every_special_allowed_gives_the_text_back(impl, text, specials):
    tokenizer = impl.Tokenizer.train(text * 2, 280, special_tokens=specials)
    ids = tokenizer.encode(text, allowed_special="all")
    expect(
        f"t.decode(t.encode({show(text)}, allowed_special='all')); decode",
        tokenizer.decode,
        ids,
        result=text,
        rule="decode(encode(s, allowed_special='all')) == s",
    )
