"""Colours as the page and the terminal write them (#rrggbb, hsl(h,s%,l%)), read back as sRGB
channels from 0 to 1, so that the tests can check what a colour looks like rather than its text."""

from __future__ import annotations

import colorsys
import re


def from_hex(code: str) -> tuple[float, float, float]:
    return tuple(int(code[i : i + 2], 16) / 255 for i in (1, 3, 5))


def from_css(colour: str) -> tuple[float, float, float]:
    if colour.startswith("#"):
        return from_hex(colour)
    h, s, lightness = map(float, re.fullmatch(r"hsl\(([\d.]+),([\d.]+)%,([\d.]+)%\)", colour).groups())
    return colorsys.hls_to_rgb(h / 360, lightness / 100, s / 100)


def lightness(colour: str) -> float:
    """How light a colour is, 0 (black) to 1 (white), as HLS has it."""
    return colorsys.rgb_to_hls(*from_css(colour))[1]


def reddish(colour: str) -> bool:
    """Red clearly over blue and green: the colour a hot character or an active unit is given."""
    r, g, b = from_css(colour)
    return r > max(g, b) + 0.3


def bluish(colour: str) -> bool:
    r, g, b = from_css(colour)
    return b > max(r, g) + 0.3
