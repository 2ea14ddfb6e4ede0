"""The tests' QR decoder: zxing-cpp, a wheel that carries its own native library (no system package)."""

from __future__ import annotations

import zxingcpp
from PIL import Image

# A phone's scanner reads many frames and thresholds them more than one way; a single still image gets
# the same second chance here: the local (hybrid) binarizer first, then the global histogram one.
BINARIZERS = (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram)


def decode_qr(image: Image.Image) -> list[str]:
    """Every QR symbol zxing-cpp finds in the image, as text."""
    gray = image.convert("L")
    for binarizer in BINARIZERS:
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, binarizer=binarizer)
        if found:
            return [symbol.text for symbol in found]
    return []
