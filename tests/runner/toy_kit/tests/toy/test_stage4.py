import pytest

pytestmark = pytest.mark.stage(4)


def test_div_floors(impl):
    assert impl.div(7, 2) == 3
