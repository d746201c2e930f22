"""lumen/1's input events: the keyboard map is M3's, its inverse is one VK per key, and an
absolute pointer's reference surface packs into flags."""

from __future__ import annotations

import evdev.ecodes as e
import pytest

from lumen_core.input import EVDEV_TO_VK, KIND_GROUP, VK_TO_EVDEV, Kind, abs_reference

# LUMEN-M3-WIRE.md §8.1, transcribed from the table (US key positions).
M3_KEYS = {
    0x08: 14, 0x09: 15, 0x0D: 28, 0x13: 119, 0x14: 58, 0x1B: 1, 0x20: 57, 0x21: 104, 0x22: 109,
    0x23: 107, 0x24: 102, 0x25: 105, 0x26: 103, 0x27: 106, 0x28: 108, 0x2C: 99, 0x2D: 110, 0x2E: 111,
    0x10: 42, 0x11: 29, 0x12: 56, 0xA0: 42, 0xA1: 54, 0xA2: 29, 0xA3: 97, 0xA4: 56, 0xA5: 100,
    0x30: 11, **{0x31 + i: 2 + i for i in range(9)},
    **dict(zip(range(0x41, 0x5B), [30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, 49, 24, 25, 16, 19, 31,
                                   20, 22, 47, 17, 45, 21, 44], strict=True)),
    0x5B: 125, 0x5C: 126, 0x5D: 127,
    **dict(zip(range(0x60, 0x6A), [82, 79, 80, 81, 75, 76, 77, 71, 72, 73], strict=True)),
    0x6A: 55, 0x6B: 78, 0x6C: 96, 0x6D: 74, 0x6E: 83, 0x6F: 98,
    **{0x70 + i: 59 + i for i in range(10)}, 0x7A: 87, 0x7B: 88, 0x90: 69, 0x91: 70,
    0xBA: 39, 0xBB: 13, 0xBC: 51, 0xBD: 12, 0xBE: 52, 0xBF: 53, 0xC0: 41,
    0xDB: 26, 0xDC: 43, 0xDD: 27, 0xDE: 40, 0xE2: 86,
}


def test_the_vk_table_is_m3s() -> None:
    assert VK_TO_EVDEV == M3_KEYS
    # The client's inverse picks one VK per evdev key, and that VK maps back to it.
    assert all(VK_TO_EVDEV[vk] == key for key, vk in EVDEV_TO_VK.items())
    assert set(EVDEV_TO_VK) == set(M3_KEYS.values())
    assert EVDEV_TO_VK[e.KEY_LEFTSHIFT] == 0xA0 and EVDEV_TO_VK[e.KEY_A] == 0x41


def test_every_kind_is_counted_in_a_group() -> None:
    assert set(KIND_GROUP) == set(Kind) and set(KIND_GROUP.values()) == {"keys", "mouse", "pad"}


def test_the_reference_surface_is_width_high_height_low() -> None:
    assert abs_reference(1920, 1080) == (1920 << 16) | 1080
    assert abs_reference(0xFFFF, 1) == 0xFFFF0001
    for width, height in ((0, 1080), (1920, 0), (0x10000, 1), (-1, 5)):
        with pytest.raises(ValueError, match="reference surface"):
            abs_reference(width, height)
