"""Each command of `pipeline-docs` on a copy of the sample."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import invoke


def test_generate_writes_every_page_and_catalog_json(shared_sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("generate", "--config", str(shared_sample), "--out", str(out))
    assert result.exit_code == 0
    assert (out / "index.md").is_file()
    assert (out / "reference" / "schemas" / "service.md").is_file()
    assert (out / "catalog" / "services" / "payments-api.md").is_file()
    assert "wrote" in result.stderr
    catalog = json.loads((out / "catalog.json").read_text(encoding="utf-8"))
    assert [e["name"] for e in catalog["environments"]] == ["dev", "staging", "production"]
    teams = {t["id"] for t in catalog["teams"]}
    assert len(catalog["services"]) >= 9
    for service in catalog["services"]:
        assert service["owner"] in teams, service["name"]
        assert service["deployments"], service["name"]
        for deployment in service["deployments"]:
            assert deployment["environment"] in ("dev", "staging", "production")
            assert isinstance(deployment["version"], str) and deployment["version"]


def test_generate_leaves_other_files_in_the_folder_alone(
    shared_sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "docs"
    (out / "guides").mkdir(parents=True)
    (out / "guides" / "mine.md").write_text("# Mine\n")
    assert invoke("generate", "--config", str(shared_sample), "--out", str(out)).exit_code == 0
    assert (out / "guides" / "mine.md").read_text() == "# Mine\n"
    assert (out / "index.md").is_file()


def test_check_json_lists_findings_and_exits_0_on_the_sample(shared_sample: Path) -> None:
    result = invoke("check", "--config", str(shared_sample), "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert list(document) == ["findings"]
    assert document["findings"], "the sample has drift warnings"
    for finding in document["findings"]:
        assert {"rule", "severity", "file", "line", "message"} <= set(finding)
        assert finding["severity"] in ("info", "warning")
        assert isinstance(finding["line"], int) or finding["line"] is None


def test_check_fails_on_warnings_when_asked(shared_sample: Path) -> None:
    result = invoke("check", "--config", str(shared_sample), "--fail-on", "warning")
    assert result.exit_code == 1
    assert "catalog/skipped-environment" in result.stdout
    assert "0 errors" in result.stdout


def test_check_exits_1_on_an_option_without_description(sample_config: Path) -> None:
    schema_file = sample_config.parent / "schemas" / "service.schema.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    schema["properties"]["undocumented"] = {"type": "string"}
    text = json.dumps(schema, indent=2)
    schema_file.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"undocumented"' in t)

    result = invoke("check", "--config", str(sample_config), "--format", "json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    [missing] = [f for f in findings if f["rule"] == "schema/missing-description"]
    assert missing["severity"] == "error"
    assert missing["file"] == "schemas/service.schema.json"
    assert missing["line"] == line
    assert "undocumented" in missing["message"]


def test_check_writes_a_report_file_and_text_to_the_terminal(
    shared_sample: Path, tmp_path: Path
) -> None:
    report = tmp_path / "findings.json"
    result = invoke(
        "check", "--config", str(shared_sample), "--format", "json", "--output", str(report)
    )
    assert result.exit_code == 0
    assert json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert "warnings" in result.stdout
    assert not result.stdout.lstrip().startswith("{")


def test_catalog_json_is_the_same_document_as_catalog_json_from_generate(
    shared_sample: Path, tmp_path: Path
) -> None:
    result = invoke("catalog", "--config", str(shared_sample), "--format", "json")
    assert result.exit_code == 0
    invoke("generate", "--config", str(shared_sample), "--out", str(tmp_path / "out"))
    written = json.loads((tmp_path / "out" / "catalog.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == written


def test_catalog_table_shows_every_service(shared_sample: Path) -> None:
    result = invoke("catalog", "--config", str(shared_sample))
    document = json.loads(
        invoke("catalog", "--config", str(shared_sample), "--format", "json").stdout
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "OWNER", "DEV", "STAGING", "PRODUCTION", "FINDINGS"]
    legends = ("<", "FINDINGS:")
    rows = {line.split()[0]: line.split() for line in lines[1:] if not line.startswith(legends)}
    assert set(rows) == {s["name"] for s in document["services"]}
    assert rows["payments-api"] == [
        "payments-api",
        "team-payments",
        "1.4.2",
        "1.4.1",
        "<",
        "1.4.2",
        "!",
        "1",
        "warning",  # it skipped staging
    ]
    assert rows["notifications"][2:] == ["0.2.0", "-", "-"]


def test_catalog_for_one_environment(shared_sample: Path) -> None:
    result = invoke("catalog", "--config", str(shared_sample), "--env", "staging")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "OWNER", "STAGING", "FINDINGS"]
    names = [line.split()[0] for line in lines[1:] if not line.startswith(("<", "FINDINGS:"))]
    assert "legacy-reports" in names
    assert "notifications" not in names  # it runs in dev only


def test_catalog_of_an_unknown_environment_exits_2(shared_sample: Path) -> None:
    result = invoke("catalog", "--config", str(shared_sample), "--env", "nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown environment 'nope'" in result.stderr
    assert "dev, staging, production" in result.stderr


def test_build_makes_the_site(
    built_sample_site: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert (site / "index.html").is_file()
    assert (site / "reference" / "schemas" / "service" / "index.html").is_file()
    assert (site / "catalog" / "services" / "payments-api" / "index.html").is_file()
    assert (site / "catalog.json").is_file()
    assert (site / "search" / "search_index.json").is_file()


def test_version_and_help() -> None:
    assert invoke("--version").exit_code == 0
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("generate", "build", "check", "catalog"):
        assert command in result.stdout
