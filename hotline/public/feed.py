"""The RSS 2.0 feed of published cases: built with the standard library's ElementTree, so
every text is escaped by the serializer and the document is well-formed by construction."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import format_datetime
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from hotline.web.boundary import xml_safe

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime



@dataclass(frozen=True)
class Item:
    title: str
    link: str
    guid: str
    published: datetime
    description: str
    category: str | None


def _text(parent: ET.Element, tag: str, value: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = xml_safe(value)  # a stored text may hold what XML 1.0 forbids (a stray \x0b)
    return el


def rss(title: str, link: str, description: str, language: str, built: datetime, items: Sequence[Item]) -> bytes:
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", title)
    _text(channel, "link", link)
    _text(channel, "description", description)
    _text(channel, "language", language)
    _text(channel, "lastBuildDate", format_datetime(built, usegmt=True))
    for it in items:
        item = ET.SubElement(channel, "item")
        _text(item, "title", it.title)
        _text(item, "link", it.link)
        _text(item, "guid", it.guid, isPermaLink="false")
        _text(item, "pubDate", format_datetime(it.published, usegmt=True))
        _text(item, "description", it.description)
        if it.category:
            _text(item, "category", it.category)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
