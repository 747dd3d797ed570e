"""`channels.files.store`: every image a citizen sends loses EXIF (GPS, Artist), XMP, IPTC
and PNG text before anyone downstream sees it; the original stays for the hotline's staff."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PIL import ExifTags, Image, PngImagePlugin

from channels import files

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>LiJubao</dc:creator>'
       b'</rdf:Description></rdf:RDF></x:xmpmeta>')
IPTC = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0c\x1c\x02P\x00\x08LiJubao2"


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def camera_jpeg() -> bytes:
    """A phone photo: EXIF with the owner, GPS and a 90° orientation, plus XMP and IPTC segments."""
    img = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "LiJubao"
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = 6  # rotate 90° clockwise to show
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (27.0, 6.0, 36.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (115.0, 12.0, 7.25)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    data = buf.getvalue()
    extra = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP) + _segment(0xED, IPTC) \
        + _segment(0xFE, b"owner LiJubao")
    return data[:2] + extra + data[2:]


def tagged_png() -> bytes:
    img = Image.new("RGBA", (8, 8), (0, 128, 0, 255))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "LiJubao")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "LiJubao"
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=info, exif=exif)
    return buf.getvalue()


def test_the_fixtures_carry_what_a_phone_puts_there() -> None:
    data = camera_jpeg()
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        assert exif[ExifTags.Base.Artist] == "LiJubao" and exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert b"LiJubao" in tagged_png() and XMP in data and b"8BIM" in data


async def test_a_jpeg_loses_exif_gps_xmp_iptc_and_the_original_stays_for_staff(tmp_path: Path) -> None:
    data = camera_jpeg()
    att = await files.store(tmp_path, data, kind="photo", content_type="image/jpeg", filename="IMG_李举报.jpg",
                            now=NOW)
    kept = (tmp_path / att.location).read_bytes()
    assert att.location.startswith("attachments/2026/11/26/") and att.size == len(kept)
    assert b"LiJubao" not in kept and b"PhoneMaker" not in kept and b"xap/1.0" not in kept
    assert b"8BIM" not in kept and b"Exif\x00\x00" not in kept
    with Image.open(io.BytesIO(kept)) as img:
        assert img.format == "JPEG" and not img.getexif() and img.size == (20, 40)  # turned upright
        r, g, b = img.convert("RGB").getpixel((10, 20))
        assert r > 150 and g < 80 and b < 80
    assert (tmp_path / files.original_of(att.location)).read_bytes() == data
    assert att.filename == "IMG_李举报.jpg"  # staff see it; departments get a neutral name


async def test_a_png_loses_text_chunks_and_exif(tmp_path: Path) -> None:
    att = await files.store(tmp_path, tagged_png(), kind="photo", content_type="image/png", filename="a.png",
                            now=NOW)
    kept = (tmp_path / att.location).read_bytes()
    assert b"LiJubao" not in kept and b"tEXt" not in kept and b"iTXt" not in kept and b"eXIf" not in kept
    with Image.open(io.BytesIO(kept)) as img:
        assert img.format == "PNG" and img.mode == "RGBA" and img.getpixel((1, 1)) == (0, 128, 0, 255)


async def test_a_multipage_fax_tiff_keeps_its_pages(tmp_path: Path) -> None:
    pages = [Image.new("1", (64, 32), 1) for _ in range(3)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:], compression="group4",
                  tiffinfo={ExifTags.Base.Artist: "LiJubao"})
    att = await files.store(tmp_path, buf.getvalue(), kind="fax", content_type="image/tiff", filename="f.tif",
                            now=NOW)
    kept = (tmp_path / att.location).read_bytes()
    assert b"LiJubao" not in kept
    with Image.open(io.BytesIO(kept)) as img:
        assert img.n_frames == 3 and img.info.get("compression") == "group4"


async def test_an_image_that_cannot_be_read_never_leaves_the_originals(tmp_path: Path) -> None:
    att = await files.store(tmp_path, b"\xff\xd8\xffnot really", kind="photo", content_type="image/jpeg",
                            filename="x.jpg", now=NOW)
    assert att.location.startswith("originals/") and att.content_type == "application/octet-stream"
    assert not (tmp_path / "attachments").exists()


async def test_other_files_are_kept_as_they_are(tmp_path: Path) -> None:
    pdf = b"%PDF-1.4\n%%EOF\n"
    att = await files.store(tmp_path, pdf, kind="fax", content_type="application/pdf", filename="f.pdf", now=NOW)
    assert (tmp_path / att.location).read_bytes() == pdf and not (tmp_path / "originals").exists()
