"""Random operation sequences against the plain model: one state machine per stage.

Each stage's machine adds that stage's operations to the previous one's, so a
run never calls anything the learner has not reached yet. Tokenizers never
change, so the state is the set of tokenizers trained (or loaded) so far,
each beside the model trained on the same text; every rule makes one call of
the code under test and compares it with the model.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from dojo.testing import run_machine, shrinks
from tests.bpe_tokenizer.helpers import MIXED, SMALL, expect, expect_raises, show
from tests.bpe_tokenizer.model import Model, StreamModel

TEXTS = st.one_of(SMALL, MIXED)
SIZES = st.integers(256, 256 + 30)
WORD_PATTERN = r"'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"
PATTERNS = st.sampled_from([None, WORD_PATTERN, r"\w+", r"[ab]+", r"x*"])
SPECIALS = st.lists(
    st.sampled_from(["ab", "b a", "ba", "<e>", "<e><e>", "é", "東😀"]), unique=True, max_size=3
)


class Pair:
    """A tokenizer of the code under test beside the model of the same training."""

    def __init__(self, tokenizer, model: Model, how: str) -> None:
        self.tokenizer, self.model, self.how = tokenizer, model, how

    def __repr__(self) -> str:
        return self.how


class TrainingMachine(RuleBasedStateMachine):
    """Stage 1: train, encode, decode; merges and vocab_size checked after each step."""

    pairs = Bundle("pairs")

    def __init__(self, impl) -> None:
        super().__init__()
        self.impl = impl
        self.all: list[Pair] = []

    def keep(self, tokenizer, model: Model, how: str) -> Pair:
        pair = Pair(tokenizer, model, how)
        self.all.append(pair)
        return pair

    @rule(target=pairs, text=TEXTS, vocab_size=SIZES)
    def train(self, text, vocab_size):
        how = f"Tokenizer.train({show(text)}, {vocab_size})"
        return self.keep(self.impl.Tokenizer.train(text, vocab_size), Model(text, vocab_size), how)

    @rule(pair=pairs, text=TEXTS)
    def encode(self, pair, text):
        try:
            expected = pair.model.encode(text)
        except LookupError as found:  # from stage 3: a special, and none is allowed
            expect_raises(
                f"{pair}.encode",
                pair.tokenizer.encode,
                text,
                error=self.impl.DisallowedSpecialError,
                rule=f"the text holds the special {found.args[0]!r}, not allowed",
            )
        else:
            expect(
                f"{pair}.encode",
                pair.tokenizer.encode,
                text,
                result=expected,
                rule="the earliest-created merge first, every occurrence left to right",
            )

    @rule(pair=pairs, data=st.data())
    def decode(self, pair, data):
        ids = data.draw(st.lists(st.integers(0, pair.model.vocab_size - 1), max_size=12), "ids")
        expect(
            f"{pair}.decode",
            pair.tokenizer.decode,
            ids,
            result=pair.model.decode(ids),
            rule="the bytes joined, invalid sequences replaced by U+FFFD",
        )

    @rule(pair=pairs, offset=st.integers(0, 3))
    def decode_an_unknown_id(self, pair, offset):
        expect_raises(
            f"{pair}.decode",
            pair.tokenizer.decode,
            [97, pair.model.vocab_size + offset],
            error=ValueError,
            rule="an id at or above vocab_size is unknown",
        )

    @invariant()
    def every_tokenizer_is_as_trained(self):
        for pair in self.all:
            expect(
                f"{pair}.merges; getattr",
                getattr,
                pair.tokenizer,
                "merges",
                result=pair.model.merges,
                rule="merges never change, and match the rules",
            )
            expect(
                f"{pair}.vocab_size; getattr",
                getattr,
                pair.tokenizer,
                "vocab_size",
                result=pair.model.vocab_size,
                rule="vocab_size counts every id",
            )
            check_invariants = getattr(pair.tokenizer, "_check", None)
            if check_invariants is not None:
                check_invariants()


class PatternMachine(TrainingMachine):
    """Stage 2: adds training with a pattern (chunks, no merge across them)."""

    @rule(target=TrainingMachine.pairs, text=TEXTS, vocab_size=SIZES, pattern=PATTERNS)
    def train_with_a_pattern(self, text, vocab_size, pattern):
        how = f"Tokenizer.train({show(text)}, {vocab_size}, pattern={pattern!r})"
        tokenizer = self.impl.Tokenizer.train(text, vocab_size, pattern=pattern)
        return self.keep(tokenizer, Model(text, vocab_size, pattern), how)


class SpecialMachine(PatternMachine):
    """Stage 3: adds special tokens, and encoding with some of them allowed."""

    @rule(
        target=TrainingMachine.pairs,
        text=TEXTS,
        vocab_size=SIZES,
        pattern=PATTERNS,
        specials=SPECIALS,
    )
    def train_with_specials(self, text, vocab_size, pattern, specials):
        text = "<e>".join([text, text, "b a"])
        how = (
            f"Tokenizer.train({show(text)}, {vocab_size}, pattern={pattern!r}, "
            f"special_tokens={specials!r})"
        )
        tokenizer = self.impl.Tokenizer.train(
            text, vocab_size, pattern=pattern, special_tokens=specials
        )
        return self.keep(tokenizer, Model(text, vocab_size, pattern, specials), how)

    @rule(pair=TrainingMachine.pairs, text=TEXTS, data=st.data())
    def encode_with_allowed_specials(self, pair, text, data):
        specials = pair.model.specials
        text = data.draw(st.sampled_from(["", *specials]), "prefix") + text
        allowed = data.draw(
            st.sets(st.sampled_from(specials)) if specials else st.just(set()), "allowed_special"
        )
        try:
            expected = pair.model.encode(text, allowed)
        except LookupError as found:
            expect_raises(
                f"{pair}.encode",
                pair.tokenizer.encode,
                text,
                allowed_special=allowed,
                error=self.impl.DisallowedSpecialError,
                rule=f"the scan finds {found.args[0]!r}, which is not allowed",
            )
        else:
            expect(
                f"{pair}.encode",
                pair.tokenizer.encode,
                text,
                allowed_special=allowed,
                result=expected,
                rule="specials found by one scan, longest at leftmost",
            )


class FileAndStreamMachine(SpecialMachine):
    """Stage 4: adds save and load (a loaded tokenizer joins the others) and a stream decoder."""

    decoder = None

    def __init__(self, impl) -> None:
        super().__init__(impl)
        self.folder = Path(tempfile.mkdtemp(prefix="bpe-model-"))
        self.saved: list[tuple[Path, Pair]] = []

    @rule(pair=TrainingMachine.pairs)
    def save(self, pair):
        path = self.folder / f"t{len(self.saved)}.json"
        expect(f"{pair}.save", pair.tokenizer.save, path, result=None, rule="save returns None")
        self.saved.append((path, pair))

    @precondition(lambda self: self.saved)
    @rule(target=TrainingMachine.pairs, data=st.data())
    def load(self, data):
        path, pair = data.draw(st.sampled_from(self.saved), "saved")
        tokenizer = self.impl.Tokenizer.load(path)
        return self.keep(tokenizer, pair.model, f"Tokenizer.load(<file of {pair}>)")

    @rule(pair=TrainingMachine.pairs)
    def start_a_stream(self, pair):
        self.decoder = pair.tokenizer.stream_decoder()
        self.stream, self.streaming = StreamModel(pair.model), pair

    @precondition(lambda self: self.decoder is not None)
    @rule(data=st.data())
    def feed(self, data):
        i = data.draw(st.integers(0, self.streaming.model.vocab_size - 1), "id")
        expect(
            f"<stream of {self.streaming}>.feed",
            self.decoder.feed,
            i,
            result=self.stream.feed(i),
            rule="the text this id completes, holding back only a "
            "character that may still complete",
        )

    @precondition(lambda self: self.decoder is not None)
    @rule()
    def flush(self):
        expect(
            f"<stream of {self.streaming}>.flush",
            self.decoder.flush,
            result=self.stream.flush(),
            rule="what is held back, decoded as decode would",
        )

    def teardown(self):
        shutil.rmtree(self.folder, ignore_errors=True)


@shrinks
@pytest.mark.stage(1)
def test_random_trainings_encodings_and_decodings_agree_with_the_model(impl):
    run_machine(lambda: TrainingMachine(impl), examples=20, steps=12)


@shrinks
@pytest.mark.stage(2)
def test_random_operations_with_patterns_agree_with_the_model(impl):
    run_machine(lambda: PatternMachine(impl), examples=20, steps=12)


@shrinks
@pytest.mark.stage(3)
def test_random_operations_with_special_tokens_agree_with_the_model(impl):
    run_machine(lambda: SpecialMachine(impl), examples=20, steps=12)


@shrinks
@pytest.mark.stage(4)
def test_random_operations_with_files_and_streams_agree_with_the_model(impl):
    run_machine(lambda: FileAndStreamMachine(impl), examples=20, steps=15)
