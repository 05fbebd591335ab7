"""QR images of token texts: PNG and SVG, ECC level M, quiet zone of 4 modules.

The text is encoded in alphanumeric mode (ISO/IEC 18004 §7.4.4: 11 bits per two
characters), which is why the token text keeps to upper-case base32 and digits. A v1
token (147 characters) needs version 6 at level M; versions above 7 are refused.
Other short texts (a login URL for a kiosk) can be rendered in byte mode on request.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg
import qrcode.util

from cards.errors import QRCapacityError

MAX_VERSION = 7
QUIET_ZONE = 4  # modules; ISO/IEC 18004 §6.3.8 asks for 4
_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _build(text: str, box_size: int, byte_mode: bool = False) -> qrcode.QRCode:
    if byte_mode:
        if not text or not text.isascii() or not text.isprintable():
            raise ValueError("QR text must be non-empty printable ASCII")
        data = qrcode.util.QRData(text.encode("ascii"), mode=qrcode.util.MODE_8BIT_BYTE)
    elif not text or not set(text) <= _ALPHANUMERIC:
        raise ValueError("QR text must be non-empty and in the QR alphanumeric set")
    else:
        data = qrcode.util.QRData(text.encode("ascii"), mode=qrcode.util.MODE_ALPHA_NUM)
    code = qrcode.QRCode(
        version=None,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=box_size,
        border=QUIET_ZONE,
    )
    code.add_data(data)
    try:
        code.make(fit=True)
    except qrcode.exceptions.DataOverflowError as exc:
        raise QRCapacityError(
            "text does not fit any QR version", length=len(text), max_version=MAX_VERSION
        ) from exc
    version: int = code.version
    if version > MAX_VERSION:
        raise QRCapacityError(
            f"text needs QR version {version}, the cap is {MAX_VERSION}",
            length=len(text),
            max_version=MAX_VERSION,
        )
    return code


def qr_version(text: str) -> int:
    """The QR version (1-40) chosen for ``text`` at ECC level M in alphanumeric mode."""
    return int(_build(text, 1).version)


def render_png(text: str, box_size: int = 8, *, byte_mode: bool = False) -> bytes:
    """PNG bytes, ``box_size`` pixels per module, black on white."""
    image = _build(text, box_size, byte_mode).make_image()
    out = io.BytesIO()
    image.save(out, kind="PNG")
    return out.getvalue()


def render_svg(text: str, box_size: int = 10, *, byte_mode: bool = False) -> bytes:
    """Standalone SVG bytes: one filled path on a white background (scales without blur)."""
    factory = qrcode.image.svg.SvgPathFillImage
    image = _build(text, box_size, byte_mode).make_image(image_factory=factory)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
