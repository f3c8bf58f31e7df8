"""`limits:` in the config: every limit is read from it, used by the code, and documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from conftest import NEXUS, deployment_yaml, make_config, tarball, write

from generator.collect import collect
from generator.config import ConfigError, load_config
from generator.limits import Limits, cut

ROOT = Path(__file__).resolve().parents[1]


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_a_limit_set_in_the_config_reaches_the_code(tmp_path: Path) -> None:
    config = load_config(make_config(tmp_path, limits={"download_seconds": 2.5, "name_chars": 40}))
    assert config.limits.download_seconds == 2.5
    assert config.limits.name_chars == 40
    assert config.limits.bundle_bytes == Limits().bundle_bytes  # the others keep their default


@pytest.mark.parametrize(
    ("limits", "key"),
    [({"no_such_limit": 1}, "limits"), ({"name_chars": 0}, "limits.name_chars"),
     ({"bundle_bytes": "big"}, "limits.bundle_bytes")],
)  # fmt: skip
def test_a_wrong_limit_is_a_config_error_naming_its_key(
    tmp_path: Path, limits: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(make_config(tmp_path, limits=limits))
    assert key in str(error.value)


def test_every_limit_is_used_by_the_code_and_listed_in_security_md() -> None:
    code = "\n".join(p.read_text("utf-8") for p in (ROOT / "generator").rglob("*.py"))
    security = (ROOT / "SECURITY.md").read_text("utf-8")
    for f in dataclasses.fields(Limits):
        used = re.findall(rf"\blimits\.{f.name}\b", code)
        assert used, f"limit {f.name} is never read from config.limits"
        assert f"| `{f.name}` |" in security, f"limit {f.name} is not in SECURITY.md"


def test_cut_keeps_short_text_and_marks_a_cut() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("abcdef", 4) == "abc…"
    assert len(cut("x" * 10_000, 128)) == 128


def test_bundles_past_the_limit_are_shown_from_their_urls_not_downloaded(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    urls = []
    for n in range(3):
        name = f"svc{n}"
        data = tarball({"manifests/d.yaml": deployment_yaml(name, f"corp/{name}:1.{n}.0").encode()})
        write_bytes(mirror / name / f"1.{n}.0" / f"{name}-1.{n}.0.tar.gz", data)
        urls.append(f"{NEXUS}{name}/1.{n}.0/{name}-1.{n}.0.tar.gz")
    write(tmp_path / "envs/prod/environment.yml", yaml.safe_dump({"name": "prod", "bundles": urls}))
    config = make_config(
        tmp_path, environments=[{"name": "prod", "repo": "envs/prod"}],
        bundles={"mirrors": {NEXUS: "mirror/"}}, limits={"bundles": 2},
    )  # fmt: skip
    model = collect(load_config(config))
    [env] = model.environments
    shown = {d.service: (d.version, d.problem) for d in env.deployments}
    assert shown == {"svc0": ("1.0.0", ""), "svc1": ("1.1.0", ""),
                     "svc2": ("1.2.0", "not read: over limits.bundles")}  # fmt: skip
    [over] = [f for f in model.findings if f.rule == "limits/too-many"]
    assert over.file == "prod:environment.yml" and over.line == 4, over  # the third entry
