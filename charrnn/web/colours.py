"""Colours: one source for the page and the terminal, and the contrast of text on them.

A colour is defined once, as hue, saturation and lightness, and written as CSS `hsl()` for the
page or as `#rrggbb` for the terminal. Text on a coloured background is black or white,
whichever contrasts more by WCAG 2's contrast ratio (Web Content Accessibility Guidelines 2.1,
"contrast ratio" and "relative luminance"): with either one available, every background gets
a ratio of at least 4.58, above the 4.5 WCAG asks of normal text.
"""

from __future__ import annotations

import colorsys

HSL = tuple[float, float, float]  # hue in degrees, saturation and lightness in percent
RGB = tuple[int, int, int]
BLACK, WHITE = (0, 0, 0), (255, 255, 255)
NEGATIVE_HUE, POSITIVE_HUE = 215, 0  # blue, red
SURPRISE_FULL = 8.0  # bits at which the surprisal colour is at its reddest


def activation(value: float, scale: float) -> HSL:
    """Blue for negative, red for positive, white at 0; full colour at +-scale."""
    t = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    return (POSITIVE_HUE if value >= 0 else NEGATIVE_HUE, 85.0, 100 - 45 * t)


def surprisal(bits: float) -> HSL:
    """Pale yellow for an expected character, through orange to red at SURPRISE_FULL bits."""
    t = min(max(bits / SURPRISE_FULL, 0.0), 1.0)
    return (60 * (1 - t), 100.0, 96 - 36 * t)


def css(hsl: HSL) -> str:
    h, s, lightness = hsl
    return f"hsl({h:.0f},{s:.0f}%,{lightness:.0f}%)"


def rgb(hsl: HSL) -> RGB:
    h, s, lightness = hsl
    r, g, b = colorsys.hls_to_rgb(h / 360, lightness / 100, s / 100)
    return round(r * 255), round(g * 255), round(b * 255)


def hex_code(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def luminance(colour: RGB) -> float:
    """WCAG relative luminance: the sRGB channels made linear, weighted by the eye's sensitivity."""

    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = map(linear, colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio, from 1 (the same) to 21 (black and white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: RGB) -> RGB:
    """Black or white, whichever is easier to read on `background`."""
    return BLACK if contrast(BLACK, background) >= contrast(WHITE, background) else WHITE
