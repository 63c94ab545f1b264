import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.stage(1)


def test_add_adds(impl):
    assert impl.add(2, 3) == 5


@settings(phases=[Phase.generate, Phase.shrink])  # no explain phase: faster failures
@given(st.integers(), st.integers())
def test_add_commutes(impl, a, b):
    assert impl.add(a, b) == impl.add(b, a) == a + b
