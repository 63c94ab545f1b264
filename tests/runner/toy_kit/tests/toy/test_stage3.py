import pytest

pytestmark = pytest.mark.stage(3)


def test_mul_multiplies(impl):
    assert impl.mul(4, 3) == 12
