"""Every bound the generator puts on what it reads, with safe defaults; `limits:` in the config
changes them. Past a limit an item is still shown, cut, and a finding says what was cut."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Limits:
    """The bounds, each named as it is under `limits:` in pipeline-docs.yml."""

    file_bytes: int = 16 * 1024 * 1024  # one YAML, JSON or Markdown file read from the inputs
    bundle_bytes: int = 64 * 1024 * 1024  # one bundle, downloaded or mirrored
    bundle_members: int = 2_000  # entries of one bundle's tarball
    member_bytes: int = 8 * 1024 * 1024  # one file inside a bundle
    unpacked_bytes: int = 128 * 1024 * 1024  # all the files of one bundle together
    tar_header_bytes: int = 64 * 1024  # one GNU long name or pax header
    download_seconds: float = 60.0  # one bundle's whole download, retries included
    connect_seconds: float = 10.0  # waiting for a bundle server to answer
    bundles: int = 5_000  # bundles listed by one environment
    kustomize_seconds: float = 60.0  # one run of the real kustomize
    kustomize_output_bytes: int = 64 * 1024 * 1024  # what one run of kustomize may print
    overlay_objects: int = 20_000  # objects one overlay renders to
    history_commits: int = 1_000_000  # commits walked per env repo
    options: int = 20_000  # options of one schema
    ref_depth: int = 64  # nested `$ref`s followed in a schema
    name_chars: int = 120  # a service, team, option or template name (longer is cut)
    version_chars: int = 128  # a version (longer is shown cut, compared as a string)
    text_chars: int = 100_000  # one description or message shown on a page

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> Limits:
        """The limits of a `limits:` mapping the config schema has validated."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in `…` when it was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
