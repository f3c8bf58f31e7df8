"""Work done once per run: a tarball promoted through environments is read once, `build`
renders the pages once, and the big HTML blocks pass through Markdown unread."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path
from typing import Any

import markdown
import pytest
from conftest import NEXUS, REPO, copy_sample, invoke, make_config, tarball, write

from generator.bundlepack import pack_bundle
from generator.collect import collect
from generator.config import load_config
from generator.kept import Kept
from generator.render import htmlblocks, pages
from generator.render.jinja import html_text, text
from generator.sources import envrepos
from generator.validation import Validator

URL = NEXUS + "cart/2.0.0/cart-2.0.0.tar.gz"


def _promoted(tmp_path: Path, environments: list[str], tar: bytes) -> Path:
    """The same bundle listed by each environment, at a different line in each."""
    mirror = tmp_path / "mirror" / "cart" / "2.0.0"
    mirror.mkdir(parents=True)
    (mirror / "cart-2.0.0.tar.gz").write_bytes(tar)
    for index, name in enumerate(environments):
        blank = "\n" * index  # the entry one line lower in each environment
        write(tmp_path / "envs" / name / "environment.yml",
              f"name: {name}\n{blank}bundles:\n  - url: {URL}\n")  # fmt: skip
    return make_config(
        tmp_path,
        environments=[{"name": n, "repo": f"envs/{n}"} for n in environments],
        bundles={"mirrors": {NEXUS: "mirror/"}},
    )


def test_a_tarball_listed_by_three_environments_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counted_reads(monkeypatch)
    source = REPO / "examples" / "bundles" / "cart" / "2.0.0"
    config = _promoted(tmp_path, ["dev", "staging", "prod"], pack_bundle(source))
    model = collect(load_config(config))
    assert calls == [URL]
    for env in model.environments:
        [deployment] = env.deployments
        assert (deployment.service, deployment.version) == ("cart", "2.0.0")
        assert deployment.images and deployment.workloads


def test_a_finding_about_a_tarball_read_once_names_each_entry_that_lists_it(
    tmp_path: Path,
) -> None:
    # no bundle.yml: a finding about the tarball as a whole, made once, said for each entry
    tar = tarball({"deploy.yml": b"kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\n"})
    config = _promoted(tmp_path, ["dev", "staging", "prod"], tar)
    model = collect(load_config(config))
    missing = sorted(
        (f.file, f.line) for f in model.findings if f.rule == "bundle/missing-bundle-yml"
    )
    assert missing == [("dev:environment.yml", 3), ("prod:environment.yml", 5),
                       ("staging:environment.yml", 4)]  # fmt: skip


def _count_renders(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each render of the pages from here on, by its use_directory_urls."""
    render = pages.render_pages
    calls: list[bool] = []

    def counted(model: object, directory_urls: bool = True, **more: Any) -> dict[str, str]:
        calls.append(directory_urls)
        return render(model, directory_urls, **more)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.import_module("generator.generate"), "render_pages", counted)
    return calls


def test_build_renders_the_pages_once_when_the_checks_find_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_renders(monkeypatch)
    config = copy_sample(tmp_path / "project")
    done = invoke("build", "--config", str(config), "--site-dir", str(tmp_path / "site"))
    assert done.exit_code == 0, done.output
    assert calls == [True]
    assert (tmp_path / "site" / "catalog" / "services" / "payments-api" / "index.html").is_file()


def test_a_guide_finding_makes_build_render_the_pages_again_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_renders(monkeypatch)
    config = copy_sample(tmp_path / "project")
    guide = tmp_path / "project" / "docs" / "guides" / "lost.md"
    write(guide, "# Lost\n\nSee [the nowhere page](../nowhere.md).\n")
    site = tmp_path / "site"
    done = invoke("build", "--config", str(config), "--site-dir", str(site), "--fail-on", "never")
    assert len(calls) == 2, done.output
    health = (site / "health" / "docs" / "index.html").read_text(encoding="utf-8")
    assert "nowhere.md" in health


def _convert(source: str, *extensions: object) -> str:
    return str(markdown.Markdown(extensions=["md_in_html", "pymdownx.superfences", *extensions])
               .convert(source))  # fmt: skip


def test_a_block_between_the_markers_reaches_the_page_byte_for_byte() -> None:
    block = (
        '<div class="pd-x">\n<table><tr><td>*not emphasis* a_b_c [x](y)</td></tr></table>\n</div>'
    )
    source = f"# Page\n\n{htmlblocks.BEGIN}\n{block}\n{htmlblocks.END}\n\nAfter *this*.\n"
    html = _convert(source, htmlblocks.makeExtension())
    assert block in html
    assert "<p>After <em>this</em>.</p>" in html
    assert "pipeline-docs: html" not in html


def test_without_the_extension_the_markers_are_comments_and_the_block_reads_the_same() -> None:
    block = '<div class="pd-x">\n<table><tr><td>1.2.0 &amp; more</td></tr></table>\n</div>'
    source = f"{htmlblocks.BEGIN}\n{block}\n{htmlblocks.END}\n"
    plain, fast = _convert(source), _convert(source, htmlblocks.makeExtension())
    assert block in plain and block in fast
    assert plain.replace(htmlblocks.BEGIN, "").replace(htmlblocks.END, "").strip() == fast.strip()


def test_a_marker_in_code_or_never_closed_is_left_to_markdown() -> None:
    fenced = f"```\n{htmlblocks.BEGIN}\n*x*\n{htmlblocks.END}\n```\n"
    html = _convert(fenced, htmlblocks.makeExtension())
    assert "&lt;!-- pipeline-docs: html --&gt;" in html  # shown as code, not taken
    unclosed = f"{htmlblocks.BEGIN}\n\nsome *text*\n"
    assert "<em>text</em>" in _convert(unclosed, htmlblocks.makeExtension())


@pytest.mark.parametrize("escape", [text, html_text])
def test_a_value_cannot_write_a_marker(escape: object) -> None:
    shown = escape(htmlblocks.BEGIN)  # type: ignore[operator]
    assert shown != htmlblocks.BEGIN and "<" not in shown


def test_a_block_search_skips_is_kept_aside_while_deferring_and_restored_byte_for_byte() -> None:
    skipped = '<div class="pd-history" data-search-exclude="">\n<table><tr><td>old</td></tr></table>\n</div>'
    indexed = '<div class="pd-now">\n<table><tr><td>now</td></tr></table>\n</div>'
    source = "".join(
        f"{htmlblocks.BEGIN}\n{block}\n{htmlblocks.END}\n\n" for block in (indexed, skipped)
    )
    plain = _convert(source, htmlblocks.makeExtension())
    htmlblocks.defer()
    try:
        converted = _convert(source, htmlblocks.makeExtension())
    finally:
        aside = htmlblocks.deferred()
    assert aside == [skipped]
    assert indexed in converted and "old" not in converted  # what search reads
    assert htmlblocks.restore(converted, aside) == plain
    assert htmlblocks.deferred() == []  # deferring stopped


def test_the_built_pages_hold_what_was_kept_aside_and_search_indexes_none_of_it(
    tmp_path: Path,
) -> None:
    config = copy_sample(tmp_path / "project")
    site = tmp_path / "site"
    done = invoke("build", "--config", str(config), "--site-dir", str(site))
    assert done.exit_code == 0, done.output
    pages = list(site.rglob("*.html"))
    assert not [p for p in pages if "pipeline-docs: deferred" in p.read_text(encoding="utf-8")]
    service = (site / "catalog" / "services" / "payments-api" / "index.html").read_text("utf-8")
    assert 'class="pd-history" data-search-exclude=""' in service
    assert 'class="pd-picture pd-picture-timeline"' in service
    index = (site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "pd-history" not in index and "<svg" not in index


def _counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read = envrepos.read_bundle
    calls: list[str] = []

    def counted(data: bytes, url: str, *args: object, **kwargs: object) -> object:
        calls.append(url)
        return read(data, url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(envrepos, "read_bundle", counted)
    return calls


def test_a_second_run_reads_no_tarball_and_knows_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(copy_sample(tmp_path / "project"))
    calls = _counted_reads(monkeypatch)
    cold = collect(config)
    assert calls  # the sample's bundles, read from their tarballs
    calls.clear()
    warm = collect(config)
    assert calls == []
    assert warm.environments == cold.environments
    assert warm.findings == cold.findings


def test_a_kept_read_is_not_used_for_another_tarball_nor_when_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = REPO / "examples" / "bundles" / "cart" / "2.0.0"
    config_file = _promoted(tmp_path, ["prod"], pack_bundle(source))
    calls = _counted_reads(monkeypatch)
    collect(load_config(config_file))
    # re-uploaded under the same URL: another sha256, read again
    other = tmp_path / "other"
    shutil.copytree(source, other)
    (other / "bundle.yml").write_text(
        (other / "bundle.yml").read_text().replace("2.0.0", "2.0.1"), encoding="utf-8"
    )
    tar = tmp_path / "mirror" / "cart" / "2.0.0" / "cart-2.0.0.tar.gz"
    tar.write_bytes(pack_bundle(other))
    [deployment] = collect(load_config(config_file)).environments[0].deployments
    assert deployment.version == "2.0.1"
    assert calls == [URL, URL]
    kept = tmp_path / ".cache" / "bundle-reads.json"
    assert kept.is_file()
    kept.write_text('{"salt": "broken', encoding="utf-8")
    [deployment] = collect(load_config(config_file)).environments[0].deployments
    assert deployment.version == "2.0.1"
    assert calls == [URL, URL, URL]


def test_a_changed_schema_makes_the_kept_reads_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = copy_sample(tmp_path / "project")
    calls = _counted_reads(monkeypatch)
    collect(load_config(config_file))
    first = len(calls)
    schema = next((tmp_path / "project" / "schemas").glob("*.json"))
    schema.write_text(schema.read_text().replace('"description"', '"description"', 1) + "\n")
    collect(load_config(config_file))
    assert len(calls) == first  # the same content: kept reads used
    data = schema.read_text()
    schema.write_text(data.replace("{", '{"$comment": "changed",', 1), encoding="utf-8")
    collect(load_config(config_file))
    assert len(calls) == 2 * first


def test_an_unchanged_validate_file_is_not_checked_again_and_a_changed_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(copy_sample(tmp_path / "project"))
    checked: list[str] = []
    check = Validator.check

    def counted(self: Validator, document: object, schema_id: str, what: str = "") -> object:
        checked.append(getattr(document, "file", ""))
        return check(self, document, schema_id, what)  # type: ignore[arg-type]

    monkeypatch.setattr(Validator, "check", counted)
    cold = collect(config)
    services = [f for f in checked if "/.pipeline.yml" in f]
    assert services  # the sample's service configs, checked
    checked.clear()
    assert collect(config).findings == cold.findings
    assert [f for f in checked if "/.pipeline.yml" in f] == []
    target = next((tmp_path / "project" / "examples" / "services").glob("*/.pipeline.yml"))
    target.write_text(target.read_text() + "no_such_option_here: 1\n", encoding="utf-8")
    warm = collect(config)
    assert [f for f in checked if "/.pipeline.yml" in f] == [config.display(target)]
    new = set(warm.findings) - set(cold.findings)
    assert any("no_such_option_here" in f.message for f in new)


def test_two_builds_of_the_same_inputs_differ_only_in_build_json(tmp_path: Path) -> None:
    config = copy_sample(tmp_path / "project")
    sites = [tmp_path / "first", tmp_path / "second"]
    for site in sites:
        done = invoke("build", "--config", str(config), "--site-dir", str(site))
        assert done.exit_code == 0, done.output
    files = [sorted(p.relative_to(s) for s in [site] for p in s.rglob("*") if p.is_file())
             for site in sites]  # fmt: skip
    assert files[0] == files[1]
    # sitemap.xml holds the day of the build, which two builds a second apart may not share
    stamped = {Path("build.json"), Path("sitemap.xml"), Path("sitemap.xml.gz")}
    differ = [
        name
        for name in files[0]
        if name not in stamped and (sites[0] / name).read_bytes() != (sites[1] / name).read_bytes()
    ]
    assert differ == []
    built = json.loads((sites[0] / "build.json").read_text(encoding="utf-8"))["built"]
    when = built[:16].replace("T", " ")  # as the stamp shows it
    pages = [p for p in sites[0].rglob("*.html")]
    assert pages and not [p for p in pages if when in p.read_text(encoding="utf-8")]


def test_an_unchanged_environment_yml_is_not_checked_against_its_schema_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = _promoted(
        tmp_path, ["dev", "prod"], pack_bundle(REPO / "examples" / "bundles" / "cart" / "2.0.0")
    )
    checked: list[str] = []
    check = Validator.check

    def counted(self: Validator, document: object, schema_id: str, what: str = "") -> object:
        checked.append(schema_id)
        return check(self, document, schema_id, what)  # type: ignore[arg-type]

    monkeypatch.setattr(Validator, "check", counted)
    cold = collect(load_config(config_file))
    assert checked.count("environment") == 2
    checked.clear()
    assert collect(load_config(config_file)).findings == cold.findings
    assert checked.count("environment") == 0
    env = tmp_path / "envs" / "prod" / "environment.yml"
    env.write_text(env.read_text() + "unknown_key_here: 1\n", encoding="utf-8")
    warm = collect(load_config(config_file))
    assert checked.count("environment") == 1
    assert any("unknown_key_here" in f.message for f in set(warm.findings) - set(cold.findings))


def test_a_kept_file_holds_what_the_last_run_used_and_nothing_of_another_salt(
    tmp_path: Path,
) -> None:
    first = Kept(tmp_path, "things", "salt 1")
    first.put({"n": 1}, "a")
    first.put({"n": 2}, "b")
    first.save()
    second = Kept(tmp_path, "things", "salt 1")
    assert second.get("a") == {"n": 1}
    second.save()  # "b" went unused: dropped
    third = Kept(tmp_path, "things", "salt 1")
    assert (third.get("a"), third.get("b")) == ({"n": 1}, None)
    other = Kept(tmp_path, "things", "salt 2")  # other schemas, limits or code
    assert other.get("a") is None
    unsaved = (tmp_path / "things.json").stat().st_mtime_ns
    fourth = Kept(tmp_path, "things", "salt 1")
    assert fourth.get("a") == {"n": 1}
    fourth.save()  # nothing added, nothing unused: not written again
    assert (tmp_path / "things.json").stat().st_mtime_ns == unsaved
    assert Kept(None, "things").get("a") is None
