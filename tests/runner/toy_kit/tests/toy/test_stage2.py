import pytest

pytestmark = pytest.mark.stage(2)


def test_sub_subtracts(impl):
    assert impl.sub(5, 3) == 2
