"""A schema the site publishes, fetched for `validate --schema URL` in a service repo's CI.

It is downloaded as bundles are (`download.py`: one deadline, retries, a byte limit, redirects
only to the same server), with `limits.file_bytes` as its limit. Unlike a bundle, whose URL names
a version, the published URL names the pipeline's latest schema: it is fetched on every run,
and the last copy it answered is kept in the cache (by its URL), to be used only when the server
cannot be reached (no answer, a timeout, a 5xx). `$ref` URLs inside are never fetched: the
registry holds the fetched document alone.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ..ids import schema_id
from ..limits import Limits
from ..validation import Validator
from ..yamlload import Document, load_json
from .download import _download, _Failed, cache_path, refusal
from .schemas import LoadedSchema, build_registry, read_schema

SERVICE_CACHE = Path(".cache") / "pipeline-docs"  # without a pipeline-docs.yml: in the work tree


class SchemaFetchError(Exception):
    """The schema cannot be had: one line that says why, for stderr."""


def is_url(ref: str) -> bool:
    """Whether `--schema` names an http(s) URL."""
    return urlsplit(ref).scheme in ("http", "https")


def local_path(ref: str) -> str:
    """`--schema` as a path: a `file://` URL as the file it names, anything else as written."""
    parts = urlsplit(ref)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return url2pathname(parts.path)
    return ref


def cache_folder(config_cache: Path | None) -> Path:
    """Where fetched schemas are kept: the config's cache folder, else `.cache/pipeline-docs/`
    in the folder `validate` runs in (a service repo has no pipeline-docs.yml)."""
    return (config_cache if config_cache is not None else SERVICE_CACHE) / "schemas"


def url_validator(url: str, cache: Path, limits: Limits) -> tuple[Validator, str, str]:
    """A validator for the schema at `url`, its id (the URL's file name without `.json` and
    `.schema`), and a note for stderr ("" unless a cached copy stood in for the server)."""
    document, note = fetch_schema(url, cache, limits)
    name = PurePosixPath(unquote(urlsplit(url).path)).name or "schema"
    sid = schema_id(Path(name))
    loaded = LoadedSchema(sid, cache_path(url, cache), url, document)
    registry = build_registry([loaded])  # the document alone: its `$ref` URLs are not retrieved
    try:
        schema, _ = read_schema(loaded, registry, check=False, limits=limits)
    except RecursionError:
        raise SchemaFetchError(f"the schema at {url} is nested too deep to read") from None
    return Validator({sid: loaded}, {sid: schema}, registry, limits=limits), sid, note


def fetch_schema(url: str, cache: Path, limits: Limits) -> tuple[Document, str]:
    """The schema from the server (then kept), else the kept copy when the server cannot be
    reached; and the note that says a copy was used."""
    why = refusal(url, (_origin(url),))
    if why:
        raise SchemaFetchError(f"cannot fetch the schema at {url}: {why}")
    kept = cache_path(url, cache)
    bounded = dataclasses.replace(limits, bundle_bytes=limits.file_bytes)
    try:
        data = _download(url, (_origin(url),), bounded)
    except _Failed as failed:
        copy = _kept_copy(kept, limits) if _passes(failed) else None
        if copy is None:
            raise SchemaFetchError(_message(failed, url, limits)) from None
        when = datetime.fromtimestamp(kept.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
        note = f"{_message(failed, url, limits)}: validating against the copy kept {when}"
        return _schema(copy, url), note
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SchemaFetchError(f"the schema at {url} is not JSON: not UTF-8 text") from None
    document = _schema(text, url)
    _keep(kept, data)  # only a schema: an error page is never kept for a later run
    return document, ""


def _schema(text: str, url: str) -> Document:
    document, found = load_json(text, url)
    if document is None:
        reason = found[0].message if found else "it does not parse"
        raise SchemaFetchError(f"the schema at {url} is not JSON: {reason}")
    if not isinstance(document.data, dict | bool):
        raise SchemaFetchError(f"the document at {url} is not a schema (an object)")
    return document


def _origin(url: str) -> str:
    """The server of a URL, as the one prefix it may redirect within."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _passes(failed: _Failed) -> bool:
    """Whether a failure is the server not being there now, rather than its answer."""
    return failed.retry or failed.rule == "bundle/too-slow"


def _message(failed: _Failed, url: str, limits: Limits) -> str:
    """The download's failure, said of a schema (its messages speak of bundles)."""
    if failed.rule == "bundle/too-large":
        return (
            f"the schema at {url} is over the limit of {limits.file_bytes} bytes "
            "(`limits.file_bytes`): not read"
        )
    if failed.rule == "bundle/too-slow":
        return (
            f"the schema at {url} did not come within {limits.download_seconds:g} s "
            "(`limits.download_seconds`)"
        )
    if failed.rule == "bundle/not-allowed":
        return f"the schema at {url} redirects to another server, which is not asked"
    detail = failed.message.split(f"{url}: ", 1)[-1]
    return f"cannot fetch the schema at {url}: {detail}"


def _kept_copy(path: Path, limits: Limits) -> str | None:
    """The copy an earlier run kept, when there is one within the limit."""
    try:
        if path.stat().st_size > limits.file_bytes:
            return None
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _keep(path: Path, data: bytes) -> None:
    """Keep what the server answered (written aside, then moved: never half a file). A cache
    that cannot be written only means no copy for later."""
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    except OSError:
        if partial is not None:
            Path(partial).unlink(missing_ok=True)
