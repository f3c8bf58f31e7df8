"""Reporters for findings, picked by name: each turns the findings into one text."""

from __future__ import annotations

import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from importlib import metadata

from .model import Finding, Severity
from .rules import RULES

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


# Tabs and line ends are left to each format to escape its own way.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """Control characters shown, not obeyed: no terminal escapes, no invalid XML, and in the
    text report no newline that could fake a line (a CI log reads `::error` lines as commands)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _line_of(text: str) -> str:
    return clean(text).replace("\r", "\\r").replace("\n", "\\n")


def use_colour(stream_is_tty: bool) -> bool:
    """Colour on a terminal unless NO_COLOR is set (https://no-color.org)."""
    return stream_is_tty and not os.environ.get("NO_COLOR")


def text_report(findings: Sequence[Finding], colour: bool = False) -> str:
    """One line per finding, `path:line: level: message [rule]` (a terminal or an editor opens
    `path:line`), its hint below it, then the totals."""
    lines: list[str] = []
    for finding in findings:
        level = finding.severity.value
        if colour:
            level = f"\033[{_COLOURS[finding.severity]}m{level}\033[0m"
        where = _line_of(location(finding))
        message = f"{level}: {_line_of(finding.message)}  [{finding.rule}]"
        lines.append(f"{where}: {message}" if where else message)
        if finding.hint:
            lines.append(f"    hint: {_line_of(finding.hint)}")
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    lines.append(", ".join(plural(counts[s], word) for s, word in _TOTALS))
    return "\n".join(lines) + "\n"


def location(finding: Finding) -> str:
    """`path:line`, or the path alone without a line ("" without a file)."""
    if not finding.file:
        return ""
    return f"{finding.file}:{finding.line}" if finding.line else finding.file


_TOTALS = ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note"))


def plural(number: int, word: str) -> str:
    """`1 warning`, `2 warnings`, `0 notes`: a count and its noun, singular for one."""
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def tally(findings: Sequence[Finding]) -> str:
    """The findings counted by severity, worst first, leaving out the severities without any:
    `1 error, 3 warnings` ("" for no finding)."""
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    return ", ".join(plural(counts[s], word) for s, word in _TOTALS if counts[s])


def json_report(findings: Sequence[Finding], colour: bool = False) -> str:
    """`{"findings": [{rule, severity, file, line, message, hint}]}`."""
    return json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2) + "\n"


REPORTERS: dict[str, Callable[[Sequence[Finding], bool], str]] = {
    "text": text_report,
    "json": json_report,
}


_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_CODEQUALITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def fingerprint(finding: Finding, occurrence: int = 0) -> str:
    """Stable across runs and line shifts: the rule, the file, the message, and which occurrence
    of that same message in that file it is (findings come sorted by line)."""
    key = "\0".join((finding.rule, finding.file or "", finding.message, str(occurrence)))
    return hashlib.sha256(key.encode()).hexdigest()


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """A fingerprint per finding, unique even for the same message on two lines."""
    seen: dict[tuple[str, str, str], int] = {}
    prints = []
    for finding in findings:
        key = (finding.rule, finding.file or "", finding.message)
        prints.append(fingerprint(finding, seen.get(key, 0)))
        seen[key] = seen.get(key, 0) + 1
    return prints


def codequality_report(findings: Sequence[Finding], colour: bool = False) -> str:
    """GitLab Code Quality: a JSON list GitLab shows in merge requests."""
    issues = [
        {
            "description": f"{f.message} [{f.rule}]",
            "check_name": f.rule,
            "fingerprint": print_,
            "severity": _CODEQUALITY[f.severity],
            "location": {"path": f.file or "pipeline-docs.yml", "lines": {"begin": f.line or 1}},
        }
        for f, print_ in zip(findings, fingerprints(findings), strict=True)
    ]
    return json.dumps(issues, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_report(findings: Sequence[Finding], colour: bool = False) -> str:
    """GitHub Actions workflow commands: annotations on the files of a pull request."""
    lines = []
    for f in findings:
        level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}[
            f.severity
        ]
        props = [f"title={_escape_property(f.rule)}"]
        if f.file:
            props.insert(0, f"file={_escape_property(f.file)}")
        if f.line:
            props.insert(1 if f.file else 0, f"line={f.line}")
        lines.append(f"::{level} {','.join(props)}::{_escape_data(clean(f.message))}")
    return "\n".join(lines) + ("\n" if lines else "")


def junit_report(findings: Sequence[Finding], colour: bool = False) -> str:
    """JUnit XML, which GitLab and Jenkins show as tests: one failing case per error or warning."""
    suite = ET.Element("testsuite", name="pipeline-docs check")
    failures = 0
    for f in findings:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=clean(f.file or "pipeline-docs"),
            name=clean(f"{f.rule}: {f.message}"),
        )
        if f.line:
            case.set("line", str(f.line))
        if f.severity is Severity.INFO:
            ET.SubElement(case, "system-out").text = clean(f.message)
            continue
        failures += 1
        failure = ET.SubElement(case, "failure", message=clean(f.message), type=f.severity.value)
        failure.text = clean(f"{f.file or ''}:{f.line or ''}: {f.message}\nhint: {f.hint}")
    if not findings:
        ET.SubElement(suite, "testcase", classname="pipeline-docs", name="no findings")
    suite.set("tests", str(max(len(findings), 1)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element(
        "testsuites", name="pipeline-docs", tests=suite.get("tests", "0"), failures=str(failures)
    )
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def sarif_report(findings: Sequence[Finding], colour: bool = False) -> str:
    """SARIF 2.1.0, for GitHub code scanning and other static-analysis viewers."""
    used = sorted({f.rule for f in findings})
    rules = [
        {
            "id": rule,
            "shortDescription": {"text": RULES[rule].description if rule in RULES else rule},
            "defaultConfiguration": {
                "level": _SARIF_LEVELS[RULES[rule].severity] if rule in RULES else "error"
            },
        }
        for rule in used
    ]
    results = []
    for f, print_ in zip(findings, fingerprints(findings), strict=True):
        location: dict[str, object] = {"artifactLocation": {"uri": f.file or "pipeline-docs.yml"}}
        if f.line:
            location["region"] = {"startLine": f.line}
        results.append({
            "ruleId": f.rule,
            "ruleIndex": used.index(f.rule),
            "level": _SARIF_LEVELS[f.severity],
            "message": {"text": f.message + (f" ({f.hint})" if f.hint else "")},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"pipelineDocs/v1": print_},
        })  # fmt: skip
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pipeline-docs", "version": _version(),
                "informationUri": "https://pypi.org/project/pipeline-docs/", "rules": rules,
            }},
            "results": results,
        }],
    }  # fmt: skip
    return json.dumps(log, indent=2) + "\n"


def _version() -> str:
    try:
        return metadata.version("pipeline-docs")
    except metadata.PackageNotFoundError:
        return "0"


REPORTERS.update(
    junit=junit_report, codequality=codequality_report, github=github_report, sarif=sarif_report
)
