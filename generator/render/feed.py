"""The Atom feed of the announcements (RFC 4287), for readers that follow the pipeline."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..ids import slug
from ..model import Announcement, Model
from . import paths

ATOM = "http://www.w3.org/2005/Atom"
# What XML 1.0 forbids (control characters but tab and line ends, lone surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """A text with each character XML 1.0 forbids replaced by U+FFFD, the replacement character."""
    return _NOT_XML.sub("\ufffd", value)


def _when(date: str) -> str:
    """A fragment's date as an RFC 3339 timestamp (midnight UTC when only the day is given)."""
    return date if "T" in date else f"{date[:10]}T00:00:00Z"


def _entry_id(model: Model, item: Announcement) -> str:
    if model.site_url:
        return f"{model.site_url.rstrip('/')}/changelog/#{slug(item.id)}"
    return f"urn:pipeline-docs:{slug(model.title)}:{slug(item.id)}"


def render_feed(model: Model, summaries: dict[str, str]) -> str:
    """The feed, newest first; its dates are the fragments' own, so it is the same every build."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    base = model.site_url.rstrip("/") + "/" if model.site_url else ""
    if base:
        feed.set("{http://www.w3.org/XML/1998/namespace}base", base)
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"{model.title}: changelog"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = (
        f"{base}feed.xml" if base else f"urn:pipeline-docs:{slug(model.title)}:feed"
    )
    dates = sorted((_when(a.date) for a in model.announcements), reverse=True)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = dates[0] if dates else "1970-01-01T00:00:00Z"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}{paths.FEED}")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=f"{base}changelog/")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = f"{model.title} maintainers"
    for item in sorted(model.announcements, key=lambda a: (a.date, a.id), reverse=True):
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = item.title
        ET.SubElement(entry, f"{{{ATOM}}}id").text = _entry_id(model, item)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _when(item.date)
        ET.SubElement(
            entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base}changelog/#{slug(item.id)}"
        )
        ET.SubElement(entry, f"{{{ATOM}}}category", term=item.type)
        summary = ET.SubElement(entry, f"{{{ATOM}}}summary")
        summary.text = summaries.get(item.id, "")
    ET.indent(feed)
    # ElementTree writes what it is given: every text and attribute value is cleaned here, once
    body = xml_text(ET.tostring(feed, encoding="unicode"))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"
