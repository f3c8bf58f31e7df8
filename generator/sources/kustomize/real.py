"""The real kustomize (`kustomize build` or `kubectl kustomize`), as Argo CD and Flux use it.

It is run without Helm, plugins or exec functions, with a timeout and an output cap, on a
wrapper kustomization that includes the overlay and asks for origin annotations, so every object
says which file of the repo it came from. The overlay's own files are never changed.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from ...limits import Limits
from ...yamlload import Document, as_dict, load_documents
from .tree import normalise

ORIGIN = "config.kubernetes.io/origin"
FORBIDDEN_FLAGS = ("--enable-helm", "--enable-alpha-plugins", "--enable-exec",
                   "--enable-star", "--load-restrictor", "--helm-command")  # fmt: skip
_VERSION = re.compile(r"v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})")


@dataclass(frozen=True)
class Kustomize:
    """A kustomize to run: the command before the folder, and the version it reports."""

    command: tuple[str, ...]
    version: str  # e.g. "v5.5.0"; "" when it did not say

    @property
    def label(self) -> str:
        tool = "kubectl kustomize" if Path(self.command[0]).name == "kubectl" else "kustomize"
        return f"kustomize {self.version}" + (f" ({tool})" if tool != "kustomize" else "")


class KustomizeError(Exception):
    """kustomize failed; the message is kustomize's own, without this machine's paths."""


def _output(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, timeout=30, check=False,
                              stdin=subprocess.DEVNULL, env=_environment())  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def _version_of(command: tuple[str, ...]) -> str:
    if Path(command[0]).name == "kubectl":
        text = _output([command[0], "version", "--client"])
        line = next((x for x in text.splitlines() if "kustomize" in x.lower()), "")
    else:
        line = _output([command[0], "version"])
    match = _VERSION.search(line)
    return f"v{match[1]}.{match[2]}.{match[3]}" if match else ""


@functools.lru_cache(maxsize=16)
def find_kustomize(setting: str | tuple[str, ...]) -> tuple[Kustomize | None, str]:
    """The kustomize the config asks for (`auto`, `builtin` or a command), or None and why."""
    if setting == "builtin":
        return None, "the config asks for the built-in renderer"
    if isinstance(setting, tuple):
        forbidden = [a for a in setting if a.split("=", 1)[0] in FORBIDDEN_FLAGS]
        if forbidden:
            return None, f"the kustomize command may not pass {', '.join(forbidden)}"
        if shutil.which(setting[0]) is None:
            return None, f"{setting[0]} is not on PATH"
        return Kustomize(setting, _version_of(setting)), ""
    for command in (("kustomize", "build"), ("kubectl", "kustomize")):
        if shutil.which(command[0]) is None:
            continue
        version = _version_of(command)
        if version.startswith("v5."):
            return Kustomize(command, version), ""
    return None, "no kustomize v5 on PATH (kustomize, or kubectl with kustomize v5)"


NOWHERE = "http://127.0.0.1:9"  # the discard port: a proxy that never answers anything


@functools.cache
def _home() -> str:
    """A private, empty home for kustomize and kubectl (kubectl writes its cache under $HOME),
    removed when the run ends."""
    home = tempfile.mkdtemp(prefix="pipeline-docs-kustomize-")
    atexit.register(shutil.rmtree, home, True)
    return home


def _environment() -> dict[str, str]:
    """What kustomize sees of the environment: no plugin folders, no credentials helpers, no
    user's home or kubeconfig, and no way out: every proxy variable names a port nothing answers
    on (kustomize would fetch a remote base or resource through it), and git, which it clones
    remote bases with, may use no transport but local files, never ssh, never prompt."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR")
    home = _home()
    closed = {
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "KUBECONFIG": os.path.join(home, "no-kubeconfig"),
        "GIT_ALLOW_PROTOCOL": "file",
        "GIT_SSH_COMMAND": "false",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        closed[name] = closed[name.lower()] = NOWHERE
    closed["NO_PROXY"] = closed["no_proxy"] = ""
    return {k: v for k, v in os.environ.items() if k in keep} | closed


def _clean(message: str, *places: Path) -> str:
    """kustomize's message without log prefixes or this machine's paths."""
    lines = message.strip().splitlines()
    text = lines[-1] if lines else "kustomize failed"
    start, end = text.find('err="'), text.rstrip().rfind('"')  # klog: `... err="<message>"`
    text = text[start + 5 : end].replace('\\"', '"') if 0 <= start < end - 4 else text
    if text.strip() == ">":  # klog's multi-line form: `err=<`, indented lines, then `>`
        start = max(
            (n for n, line in enumerate(lines) if line.rstrip().endswith("err=<")), default=-1
        )
        text = " ".join(line.strip() for line in lines[start + 1 : -1]) or "kustomize failed"
    for place in sorted({str(p) for p in places}, key=len, reverse=True):
        text = text.replace(place + "/", "").replace(place, ".")
    return text[:2000]


def _run(command: list[str], cwd: Path, limits: Limits) -> bytes:
    """Run kustomize with a timeout and an output cap; raise KustomizeError on failure."""
    chunks: list[bytes] = []
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=errors,
                                       stdin=subprocess.DEVNULL, env=_environment())  # fmt: skip
        except OSError as error:
            raise KustomizeError(f"cannot run {command[0]}: {error}") from error
        with process:
            timer = threading.Timer(limits.kustomize_seconds, process.kill)
            timer.daemon = True
            timer.start()
            size = 0
            try:
                assert process.stdout is not None
                while chunk := process.stdout.read(1 << 16):
                    size += len(chunk)
                    if size > limits.kustomize_output_bytes:
                        raise KustomizeError(
                            f"output over {limits.kustomize_output_bytes} bytes: not read"
                        )
                    chunks.append(chunk)
            finally:
                timer.cancel()
                if process.poll() is None:
                    process.kill()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read(64 * 1024).decode("utf-8", "replace")
            if code < 0:
                message = f"kustomize stopped after {limits.kustomize_seconds:g} s"
            raise KustomizeError(message)
    return b"".join(chunks)


@dataclass(frozen=True)
class Output:
    """One object kustomize rendered, and the repo file it came from (from its origin)."""

    document: Document
    file: str  # repo-relative; "" when kustomize did not say


def build(
    kustomize: Kustomize, tree: Path, overlay: str, work: Path, limits: Limits | None = None
) -> list[Output]:
    """`kustomize build` of one overlay folder of the tree at `tree`; KustomizeError on failure."""
    tree, work = tree.resolve(), work.resolve()
    key = hashlib.sha256(f"{tree}\0{overlay}".encode()).hexdigest()[:16]
    wrapper = work / "wrap" / key
    wrapper.mkdir(parents=True, exist_ok=True)
    target = os.path.relpath(tree / overlay, wrapper) if overlay else os.path.relpath(tree, wrapper)
    spec = {"resources": [target], "buildMetadata": ["originAnnotations"]}
    (wrapper / "kustomization.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    try:
        raw = _run([*kustomize.command, "."], wrapper, limits or Limits())
    except KustomizeError as error:
        raise KustomizeError(_clean(str(error), wrapper, tree)) from None
    documents, _ = load_documents(raw.decode("utf-8", "replace"), overlay or ".")
    base = os.path.relpath(tree, wrapper)
    return [Output(d, _origin(d, base)) for d in documents if isinstance(d.data, dict)]


def _origin(document: Document, base: str) -> str:
    """The repo file an object came from, and its origin annotation removed."""
    metadata = as_dict(document.data.get("metadata"))
    annotations = as_dict(metadata.get("annotations"))
    raw = annotations.pop(ORIGIN, None)
    if "annotations" in metadata and not annotations:
        del metadata["annotations"]
    try:
        origin = as_dict(yaml.safe_load(str(raw))) if raw else {}
    except yaml.YAMLError:
        origin = {}
    path = str(origin.get("path") or origin.get("configuredIn") or "")
    if not path or origin.get("repo"):
        return ""
    parts, base_parts = PurePosixPath(path).parts, PurePosixPath(base).parts
    if parts[: len(base_parts)] != base_parts:
        return ""
    return normalise(PurePosixPath(*parts[len(base_parts) :])) or ""
