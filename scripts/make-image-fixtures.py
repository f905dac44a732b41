#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerates fixtures/images/ (the thumbnail consumer's test images).

Needs ImageMagick 6 (`apt-get install imagemagick`: /usr/bin/convert is
called by path) and Python 3's standard library. The EXIF orientation
segments, the truncated and corrupt files and the decompression bombs are
written by hand here, byte by byte, so what they contain is plain.

Most images show the same four quadrants as displayed: red top-left, lime
top-right, blue bottom-left, yellow bottom-right, so a test can check
orientation from the pixels of a thumbnail, not just its size.

Usage: scripts/make-image-fixtures.py [OUTDIR]   (default fixtures/images)
"""

import os
import struct
import subprocess
import sys
import tempfile
import zlib

CONVERT = "/usr/bin/convert"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def convert(*args):
    subprocess.run([CONVERT, *args], check=True)


def quadrants(path, w, h, extra=()):
    """Four solid quadrants (as displayed) into path, through ImageMagick."""
    hw, hh = w // 2, h // 2
    convert("-size", f"{w}x{h}", "xc:yellow",
            "-fill", "red", "-draw", f"rectangle 0,0 {hw - 1},{hh - 1}",
            "-fill", "lime", "-draw", f"rectangle {hw},0 {w - 1},{hh - 1}",
            "-fill", "blue", "-draw", f"rectangle 0,{hh} {hw - 1},{h - 1}",
            *extra, "-strip", path)


# The operation that turns the upright image into what is stored for each
# EXIF orientation (the inverse of what a viewer applies).
STORE_OP = {
    1: [],
    2: ["-flop"],
    3: ["-rotate", "180"],
    4: ["-flip"],
    5: ["-transpose"],
    6: ["-rotate", "-90"],
    7: ["-transverse"],
    8: ["-rotate", "90"],
}


def exif_app1(orientation, big_endian):
    """An APP1 Exif segment whose IFD0 holds only the Orientation tag."""
    e = ">" if big_endian else "<"
    tiff = (b"MM\x00\x2a" if big_endian else b"II\x2a\x00") + struct.pack(e + "I", 8)
    # one entry: tag 0x0112, type SHORT (3), count 1, value left-justified
    tiff += struct.pack(e + "H", 1)
    tiff += struct.pack(e + "HHI", 0x0112, 3, 1) + struct.pack(e + "HH", orientation, 0)
    tiff += struct.pack(e + "I", 0)  # no next IFD
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def insert_after_app0(jpeg, segment):
    """Puts segment after SOI and a JFIF APP0 when there is one."""
    assert jpeg[:2] == b"\xff\xd8"
    pos = 2
    if jpeg[2:4] == b"\xff\xe0":
        pos = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:pos] + segment + jpeg[pos:]


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def png_bomb():
    """A valid-looking PNG header declaring 100000 x 100000 RGBA pixels
    (40 GB decoded) with a tiny compressed stream."""
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 65536, 9)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def jpeg_set_size(jpeg, w, h):
    """Rewrites the dimensions in the first SOFn segment."""
    i = 2
    while i + 4 <= len(jpeg):
        assert jpeg[i] == 0xFF
        marker = jpeg[i + 1]
        seglen = struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return jpeg[:i + 5] + struct.pack(">HH", h, w) + jpeg[i + 9:]
        i += 2 + seglen
    raise ValueError("no SOF")


def tga_rle_quadrants(w, h):
    """An RLE true-colour TGA, origin top-left, of the four quadrants.
    Written here because ImageMagick 6.9.11 stores TGA rows top-down while
    its header says bottom-up."""
    colors = {(0, 0): (255, 0, 0), (1, 0): (0, 255, 0), (0, 1): (0, 0, 255), (1, 1): (255, 255, 0)}
    header = struct.pack("<BBBHHBHHHHBB", 0, 0, 10, 0, 0, 0, 0, 0, w, h, 24, 0x20)
    data = bytearray()
    for y in range(h):
        x = 0
        while x < w:
            qx, qy = int(x >= w // 2), int(y >= h // 2)
            run = min(128, (w // 2 if qx == 0 else w) - x)
            r, g, b = colors[(qx, qy)]
            data += bytes((0x80 | (run - 1), b, g, r))
            x += run
    return header + bytes(data)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fixtures", "images")
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bb-fixtures-")

    def p(name):
        return os.path.join(out, name)

    # JPEGs of several sizes (the large one exercises the 1/8 DCT scale)
    for w, h in ((16, 12), (320, 240), (1024, 768), (3000, 2000)):
        quadrants(p(f"photo-{w}x{h}.jpg"), w, h, ["-quality", "85"])

    # one JPEG per EXIF orientation; displayed as 120x80 quadrants
    upright = os.path.join(tmp, "upright.png")
    quadrants(upright, 120, 80)
    for o, op in STORE_OP.items():
        stored = os.path.join(tmp, f"stored-{o}.jpg")
        convert(upright, *op, "-quality", "90", "-strip", stored)
        with open(stored, "rb") as f:
            data = f.read()
        with open(p(f"orient-{o}.jpg"), "wb") as f:
            f.write(insert_after_app0(data, exif_app1(o, big_endian=(o % 2 == 0))))

    # a phone photo: stored landscape 1600x1200, displayed portrait (orientation 6)
    big_upright = os.path.join(tmp, "big-upright.png")
    quadrants(big_upright, 1200, 1600)
    stored = os.path.join(tmp, "phone.jpg")
    convert(big_upright, "-rotate", "-90", "-quality", "80", "-strip", stored)
    with open(stored, "rb") as f:
        data = f.read()
    with open(p("phone-orient-6.jpg"), "wb") as f:
        f.write(insert_after_app0(data, exif_app1(6, big_endian=True)))

    quadrants(p("progressive.jpg"), 800, 600, ["-interlace", "Plane", "-quality", "85"])
    quadrants(p("cmyk.jpg"), 400, 300, ["-colorspace", "CMYK", "-quality", "90"])
    quadrants(p("gray.jpg"), 200, 150, ["-colorspace", "Gray", "-quality", "90"])
    q = os.path.join(tmp, "q.png")
    quadrants(q, 100, 76)
    convert(q, "-type", "TrueColor", "BMP3:" + p("image.bmp"))
    with open(p("image.tga"), "wb") as f:
        f.write(tga_rle_quadrants(100, 76))

    # PNG with alpha: left half opaque red, right half fully transparent,
    # a 50% transparent blue bar across the middle
    convert("-size", "300x200", "xc:none",
            "-fill", "red", "-draw", "rectangle 0,0 149,199",
            "-fill", "rgba(0,0,255,0.5)", "-draw", "rectangle 0,90 299,109",
            "-strip", "PNG32:" + p("alpha.png"))

    # GIF: the first frame has the quadrants, the second is black
    first = os.path.join(tmp, "first.gif")
    quadrants(first, 160, 120)
    convert("-delay", "50", first, "-size", "160x120", "xc:black", "-strip", "-loop", "0",
            p("anim.gif"))

    # broken ones
    with open(p("photo-1024x768.jpg"), "rb") as f:
        good = f.read()
    with open(p("truncated.jpg"), "wb") as f:
        f.write(good[:len(good) * 2 // 5])
    sos = good.index(b"\xff\xda")
    scan = sos + 4 + struct.unpack(">H", good[sos + 2:sos + 4])[0]
    garbage = bytes((i * 151 + 17) & 0xFF for i in range(2048)).replace(b"\xff", b"\x00")
    with open(p("corrupt.jpg"), "wb") as f:
        f.write(good[:scan] + garbage + good[scan + len(garbage):])
    with open(p("not-an-image.jpg"), "wb") as f:
        f.write(b"This is a text file with an image extension, not an image.\n" * 4)
    with open(p("bomb.png"), "wb") as f:
        f.write(png_bomb())
    with open(p("photo-320x240.jpg"), "rb") as f:
        small = f.read()
    with open(p("bomb.jpg"), "wb") as f:
        f.write(jpeg_set_size(small, 65000, 65000))

    for name in sorted(os.listdir(out)):
        if name.endswith((".md",)):
            continue
        size = os.path.getsize(p(name))
        assert size < 200 * 1024, f"{name} is {size} bytes"
        print(f"{size:8d}  {name}")


if __name__ == "__main__":
    main()
