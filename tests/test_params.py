import numpy as np
import pytest

from mcising import InvalidInputError
from mcising.params import Point, grid, parse_values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5:3.5:0.5", [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]),
        ("0:1:0.3", [0.0, 0.3, 0.6, 0.9]),
        ("0:0.9:0.3", [0.0, 0.3, 0.6, 0.9]),
        ("0.1:0.3:0.1", [0.1, 0.2, 0.3]),
        ("1,2.5,-3", [1.0, 2.5, -3.0]),
        ("5", [5.0]),
        ("2:2:1", [2.0]),
    ],
)
def test_parse_values(text, expected):
    assert parse_values(text).tolist() == expected


@pytest.mark.parametrize("text", ["", "a", "1:2", "1:2:0", "3:1:1", "1,,2", "nan:1:1",
                                  "1,inf"])
def test_parse_values_refuses(text):
    with pytest.raises(InvalidInputError, match="range|number|finite|list"):
        parse_values(text, "w")


def test_grid_order_w_fastest():
    points = grid(theta=[1, 2], w="0:1:1", eps=3)
    assert points == [Point(1, 0, 3), Point(1, 1, 3), Point(2, 0, 3), Point(2, 1, 3)]
    assert all(isinstance(p.w, np.floating) for p in points)
