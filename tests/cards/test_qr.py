"""QR rendering: every image is decoded back with zxing-cpp and then verified."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from cards import MemoryReplayCache, QRCapacityError, qr_version, render_png, render_svg, verify

from .conftest import NOW, World

SERIAL = bytes(range(10, 20))
_SQUARE = re.compile(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H([\d.]+)z")


def decode_qr(image: Image.Image) -> zxingcpp.Barcode:
    """The one QR code in ``image``. Only QR codes are looked for, as a gate's scanner
    does: searching every format, zxing-cpp reads a row of a QR code's modules as an
    ITF bar code about once in 1,500 of our images."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0]


def rasterise_svg(svg: bytes, scale: int = 8) -> Image.Image:
    """A tiny rasteriser for what we render: a viewBox and one path of unit squares."""
    root = ET.fromstring(svg)
    _, _, width, height = (float(v) for v in root.attrib["viewBox"].split())
    image = Image.new("L", (int(width * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    squares = _SQUARE.findall(path.attrib["d"])
    assert squares and _SQUARE.sub("", path.attrib["d"]) == ""  # nothing we cannot draw
    for x, y, right, bottom, _ in squares:
        draw.rectangle(
            [
                float(x) * scale,
                float(y) * scale,
                float(right) * scale - 1,
                float(bottom) * scale - 1,
            ],
            fill=0,
        )
    return image


def test_token_needs_version_6(world: World) -> None:
    assert qr_version(world.signer.sign(SERIAL, 1, NOW, 60)) == 6


def test_png_decodes_back_to_a_verifiable_token(world: World) -> None:
    text = world.signer.sign(SERIAL, 1, NOW, 60)
    png = render_png(text)
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png))
    assert image.size == ((41 + 2 * 4) * 8,) * 2  # version 6 is 41 modules, quiet zone 4
    barcode = decode_qr(image)
    assert barcode.text == text
    assert barcode.symbology_identifier == "]Q1"
    extra = barcode.extra
    assert isinstance(extra, dict) and extra["Version"] == "6" and barcode.ec_level == "M"
    verdict = verify(barcode.text, world.trust_list, world.status_list, MemoryReplayCache(), NOW)
    assert verdict.ok and verdict.serial == SERIAL


def test_svg_decodes_back_to_a_verifiable_token(world: World) -> None:
    text = world.signer.sign(SERIAL, 2, NOW, 60)
    svg = render_svg(text)
    assert b"<svg" in svg and b'viewBox="0 0 49 49"' in svg
    barcode = decode_qr(rasterise_svg(svg))
    assert barcode.text == text
    verdict = verify(barcode.text, world.trust_list, world.status_list, MemoryReplayCache(), NOW)
    assert verdict.ok and verdict.status_index == 2


def test_every_slot_of_a_batch_renders_and_decodes(world: World) -> None:
    batch = world.signer.batch(SERIAL, 3, start=NOW, slots=5)
    cache = MemoryReplayCache()
    for issued in batch:
        barcode = decode_qr(Image.open(io.BytesIO(render_png(issued.text, box_size=4))))
        verdict = verify(barcode.text, world.trust_list, world.status_list, cache, issued.issued_at)
        assert verdict.ok


def test_text_beyond_version_7_is_refused() -> None:
    assert qr_version("A" * 154) == 6
    assert qr_version("A" * 155) == 7
    with pytest.raises(QRCapacityError) as caught:
        qr_version("A" * 200)
    assert caught.value.length == 200 and caught.value.max_version == 7


@pytest.mark.parametrize("text", ["", "rp1abc", "RP1\n"])
def test_non_alphanumeric_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        render_png(text)
