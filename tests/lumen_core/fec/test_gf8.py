"""GF(2^8) under M3's polynomial 0x11D: the field, M3's Cauchy generator rows (not ISA-L's),
and the matrix algebra recovery is built on."""

from __future__ import annotations

import numpy as np
import pytest

from lumen_core.errors import FecError
from lumen_core.fec import gf8


def test_field_arithmetic() -> None:
    for a in range(1, 256):
        assert gf8.MUL[a, gf8.gf_inv(a)] == 1
    assert gf8.MUL[0x80, 2] == 0x1D  # x^8 = x^4 + x^3 + x^2 + 1 under 0x11D
    with pytest.raises(ZeroDivisionError):
        gf8.gf_inv(0)


def test_matrix_is_m3s_cauchy_rows_not_isals() -> None:
    mat = gf8.generator_matrix(4, 3)
    assert (mat[:4] == np.eye(4, dtype=np.uint8)).all()
    for j in range(3):
        for i in range(4):
            assert mat[4 + j, i] == gf8.gf_inv((3 + i) ^ j)
    assert gf8.parity_rows(4, 2)[0].tolist() != [71, 167, 122, 186]  # ISA-L's gf_gen_cauchy1 row


def test_a_matrix_times_its_inverse_is_the_identity_and_a_singular_one_is_refused() -> None:
    rows = gf8.generator_matrix(5, 3)[[0, 2, 5, 6, 7]]  # any 5 rows of a systematic Cauchy code
    inverse = gf8.invert(rows)
    assert (gf8.matmul(inverse, rows) == np.eye(5, dtype=np.uint8)).all()
    with pytest.raises(FecError):
        gf8.invert(np.array([[1, 2], [1, 2]], dtype=np.uint8))


def test_shapes_beyond_255_shards_are_refused() -> None:
    gf8.check_shape(200, 55)
    for k, m in ((0, 1), (200, 56), (255, 1)):
        with pytest.raises(FecError):
            gf8.check_shape(k, m)
