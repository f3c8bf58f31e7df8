"""Pictures drawn as static SVG: the promotion graph, drift as a heat map, deployments on a
timeline. No script, no request: each is one line of SVG a page shows in a raw HTML block.

Every text and attribute value is cut to its limit (as the `short_*` filters cut it) and
escaped here, by `xml.sax.saxutils`, as it is written; what XML forbids becomes U+FFFD. No
picture links anywhere (MkDocs does not rewrite links inside raw HTML): the pages list the
environments with Markdown links beside them. Time comes from the inputs only: a timeline's
window ends at the newest commit of the env repos."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..analysis.promotion import promotion_order, stages
from ..limits import Limits, cut
from ..model import Change, Environment, Model
from .matrix import Row, versions

SVG_NS = "http://www.w3.org/2000/svg"
HEATMAP_SERVICES = 2_000  # rows of the heat map; past it, the services that drift most
WEEKS = 12  # a timeline's window
MARKS_PER_LANE = 500  # the newest changes a timeline draws per environment
LABEL_CHARS = 20  # a name drawn in a node or beside a lane (its title holds it as pages cut it)

# What XML 1.0 forbids, and C1 controls and DEL, which it allows but nobody means in a name
_NOT_SHOWN = re.compile("[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _clean(value: object) -> str:
    """A value on one line, each character XML forbids (or a control) as U+FFFD."""
    return _NOT_SHOWN.sub("\ufffd", " ".join(str(value).split()))


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


class _Svg:
    """An SVG written element by element, each value escaped as it is written."""

    parts: list[str]

    @classmethod
    def part(cls) -> _Svg:
        """Elements to go inside an SVG, without its own `<svg>` and title."""
        made = cls.__new__(cls)
        made.parts = []
        return made

    def __init__(self, width: float, height: float, css: str, label: str, role: str) -> None:
        self.parts = []
        self.open("svg", xmlns=SVG_NS, class_=f"pd-svg {css}", width=width, height=height,
                  viewBox=f"0 0 {_number(width)} {_number(height)}", role=role,
                  aria_label=label)  # fmt: skip
        self.leaf("title", label)

    @staticmethod
    def _attributes(attributes: dict[str, Any]) -> str:
        # names are this module's own: `class_` is class, `aria_label` aria-label
        return "".join(
            f" {name.rstrip('_').replace('_', '-')}="
            + quoteattr(
                _number(value) if isinstance(value, int | float) else _clean(value),
                {'"': "&quot;"},  # always double quotes
            )
            for name, value in attributes.items()
            if value is not None
        )

    def open(self, tag: str, **attributes: Any) -> None:
        self.parts.append(f"<{tag}{self._attributes(attributes)}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def leaf(self, tag: str, text: str = "", title: str = "", **attributes: Any) -> None:
        """An element with, optionally, a tooltip (its `<title>`) and a text."""
        if not text and not title:
            self.parts.append(f"<{tag}{self._attributes(attributes)}/>")
            return
        self.open(tag, **attributes)
        if title:
            self.leaf("title", title)
        self.parts.append(escape(_clean(text)))
        self.close(tag)

    def done(self) -> str:
        return "".join([*self.parts, "</svg>"])


def _label(name: str, limits: Limits) -> tuple[str, str]:
    """A name as drawn (short enough to fit) and as its title shows it (cut as pages cut it)."""
    whole = cut(name, limits.name_chars)
    return cut(whole, LABEL_CHARS), whole


# --- the promotion graph --------------------------------------------------------------------

NODE_W, NODE_H, COLUMN_W, ROW_H, PAD = 150, 44, 180, 64, 12


@dataclass(frozen=True)
class Picture:
    """One picture: its SVG, on one line."""

    svg: str


def lanes(model: Model) -> dict[str, tuple[int, int]]:
    """Each environment's (stage, lane): its column and row in the graph. An environment takes
    the lane of its first upstream unless another has it in its stage, then the next free one."""
    stage = stages(model)
    envs = {env.name: env for env in reversed(model.environments)}
    taken: dict[int, set[int]] = defaultdict(set)
    place: dict[str, tuple[int, int]] = {}
    for name in promotion_order(model):
        upstreams = [u for u in envs[name].upstreams if u in place and u != name]
        lane = place[upstreams[0]][1] if upstreams else 0
        while lane in taken[stage[name]]:
            lane += 1
        taken[stage[name]].add(lane)
        place[name] = (stage[name], lane)
    return place


def promotion_graph(model: Model) -> Picture | None:
    """A node per environment, by stage (columns) and lane (rows), an arrow per `promotes_from`
    edge, production marked; None without environments."""
    place = lanes(model)
    if not place:
        return None
    envs = {env.name: env for env in reversed(model.environments)}
    edges = [(u, name) for name in place for u in dict.fromkeys(envs[name].upstreams)
             if u in place and u != name]  # fmt: skip
    said = "; ".join(f"{b} is promoted from {a}" for a, b in edges) or "no promotion"
    width = 2 * PAD + max(s for s, _ in place.values()) * COLUMN_W + NODE_W
    height = 2 * PAD + max(r for _, r in place.values()) * ROW_H + NODE_H
    svg = _Svg(width, height, "pd-graph", f"Promotion graph: {said}", "img")
    svg.open("defs")
    svg.open("marker", id="pd-arrow", viewBox="0 0 10 10", refX=9, refY=5, markerWidth=7,
             markerHeight=7, orient="auto-start-reverse")  # fmt: skip
    svg.leaf("path", d="M0 0L10 5L0 10z", class_="pd-arrowhead")
    svg.close("marker")
    svg.close("defs")

    def at(name: str) -> tuple[float, float]:
        stage, lane = place[name]
        return PAD + stage * COLUMN_W, PAD + lane * ROW_H

    for upstream, name in edges:
        (x1, y1), (x2, y2) = at(upstream), at(name)
        x1, y1, x2, y2 = x1 + NODE_W, y1 + NODE_H / 2, x2 - 2, y2 + NODE_H / 2
        bend = max(abs(x2 - x1) / 2, 20)
        path = f"M{_number(x1)} {_number(y1)}C{_number(x1 + bend)} {_number(y1)} " \
               f"{_number(x2 - bend)} {_number(y2)} {_number(x2)} {_number(y2)}"  # fmt: skip
        (up, _), (down, _) = _label(upstream, model.limits), _label(name, model.limits)
        svg.open("path", d=path, class_="pd-edge", marker_end="url(#pd-arrow)")
        svg.leaf("title", f"{up} → {down}")
        svg.close("path")
    for name, (stage, _) in place.items():
        env, (x, y) = envs[name], at(name)
        shown, whole = _label(name, model.limits)
        facts = [f"stage {stage + 1}"] + (["production"] if env.production else [])
        facts += [f"promoted from {', '.join(_label(u, model.limits)[1] for u in env.upstreams)}"
                  if env.upstreams else "a root of the promotion graph"]  # fmt: skip
        facts += [f"{len(env.deployments)} services"] + ([env.status] if env.status else [])
        svg.open("g", class_="pd-node" + (" pd-node-prod" if env.production else ""),
                 data_env=whole)  # fmt: skip
        svg.leaf("title", f"{whole}: {', '.join(facts)}")
        svg.leaf("rect", x=x, y=y, width=NODE_W, height=NODE_H, rx=6)
        middle = x + NODE_W / 2
        svg.leaf(
            "text", shown, x=middle, y=y + (18 if env.production else 27), text_anchor="middle"
        )
        if env.production:
            svg.leaf("text", "production", x=middle, y=y + 34, text_anchor="middle",
                     class_="pd-note")  # fmt: skip
        svg.close("g")
    return Picture(svg.done())


# --- the heat map of drift --------------------------------------------------------------------

CELL_W, CELL_H, GAP, NAMES_W, HEAD_H = 28, 14, 2, 210, 110
STATES = {  # a cell's state -> its class, in the legend's order
    "in sync": "pd-hm-sync",
    "pending": "pd-hm-pending",
    "skipped": "pd-hm-skipped",
    "problem": "pd-hm-problem",
    "not deployed": "pd-hm-none",
    "unreadable": "pd-hm-unreadable",
}
DRIFTING = ("pending", "skipped")


@dataclass(frozen=True)
class Heatmap:
    """The heat map, and how many services it shows of how many."""

    svg: str
    shown: int
    total: int


def cell_state(cell: tuple[dict[str, Any], ...], env: dict[str, Any]) -> str:
    """A cell's state: its facts' problem first (its drift is then a guess), then its drift."""
    if not cell:
        return "unreadable" if env["status"] == "unreadable" else "not deployed"
    if any(d["problem"] for d in cell):
        return "problem"
    return cell[0]["drift"] if cell[0]["drift"] in DRIFTING else "in sync"


def _cell_title(service: str, env: str, cell: tuple[dict[str, Any], ...], state: str,
                limits: Limits) -> str:  # fmt: skip
    shown = [cut(v, limits.version_chars) if v else "?" for v in versions(cell)]
    said = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    if state == "problem":
        drift = cell[0]["drift"] if cell[0]["drift"] in DRIFTING else ""
        problems = "; ".join(cut(d["problem"], limits.text_chars) for d in cell if d["problem"])
        state = f"problem: {problems}" + (f", {drift}" if drift else "")
    return f"{service} in {env}: " + (f"{said}, {state}" if said else state)


def most_drifting(rows: list[Row], columns: list[dict[str, Any]], bound: int) -> list[Row]:
    """The rows to draw: all of them within the bound, else the `bound` services with the most
    pending and skipped environments (ties by name), in the catalog's order."""
    if len(rows) <= bound:
        return rows
    drifting = {id(row): sum(cell_state(c, e) in DRIFTING for c, e in zip(row.cells, columns, strict=True))
                for row in rows}  # fmt: skip
    chosen = sorted(rows, key=lambda row: (-drifting[id(row)], row.service["name"]))[:bound]
    keep = {id(row) for row in chosen}
    return [row for row in rows if id(row) in keep]


Keep = Callable[[Any, Callable[[], str]], str]  # the text a function makes of facts, kept


def heatmap(rows: list[Row], columns: list[dict[str, Any]], limits: Limits,
            bound: int | None = None, kept: Keep | None = None) -> Heatmap | None:  # fmt: skip
    """A cell per service and environment, coloured by its state, each with a tooltip, for at
    most `bound` services (default `HEATMAP_SERVICES`); None without services or environments.
    With `kept`, each row is made by it of the facts it draws alone (a merge draws again only
    the rows it changed)."""
    if not rows or not columns:
        return None
    drawn = most_drifting(rows, columns, HEATMAP_SERVICES if bound is None else bound)
    width = NAMES_W + len(columns) * CELL_W + 100  # room for the last slanted name
    height = HEAD_H + len(drawn) * CELL_H + PAD
    svg = _Svg(width, height, "pd-heatmap", f"Drift of {len(drawn)} services in "
               f"{len(columns)} environments", "group")  # fmt: skip
    for index, (state, css) in enumerate(STATES.items()):
        y = PAD + index * 16
        svg.leaf("rect", x=PAD, y=y, width=CELL_W - GAP, height=CELL_H - GAP, class_=css)
        svg.leaf("text", state, x=PAD + CELL_W + 4, y=y + 10, class_="pd-note")
    for index, env in enumerate(columns):
        x, y = NAMES_W + index * CELL_W + CELL_W / 2, HEAD_H - 6
        shown, whole = _label(env["name"], limits)
        svg.leaf("text", shown, title=whole if shown != whole else "", x=x, y=y,
                 transform=f"rotate(-45 {_number(x)} {_number(y)})")  # fmt: skip
    drawn_columns = [{"name": env["name"], "status": env["status"]} for env in columns]
    for number, row in enumerate(drawn):
        facts = {
            "service": row.service["name"],
            "cells": [[{key: d[key] for key in _HEATMAP_DEPLOYMENT} for d in cell]
                      for cell in row.cells],
        }  # fmt: skip
        make = functools.partial(_heatmap_row, number, facts, drawn_columns, limits)
        svg.parts.append(make() if kept is None else
                         kept(["heatmap-row", number, drawn_columns, limits, facts], make))  # fmt: skip
    return Heatmap(svg.done(), len(drawn), len(rows))


_HEATMAP_DEPLOYMENT = ("version", "versions", "drift", "problem")  # what a cell draws of each


def _heatmap_row(number: int, facts: dict[str, Any], columns: list[dict[str, Any]],
                 limits: Limits) -> str:  # fmt: skip
    """One service's row of the heat map, the `number`th drawn, made of `facts` alone."""
    svg = _Svg.part()
    y = HEAD_H + number * CELL_H
    shown, whole = _label(facts["service"], limits)
    svg.open("g", class_="pd-row", data_service=whole)
    svg.leaf("text", shown, title=whole if shown != whole else "", x=NAMES_W - 6,
             y=y + CELL_H - 4, text_anchor="end")  # fmt: skip
    for index, (cell, env) in enumerate(zip(facts["cells"], columns, strict=True)):
        cell = tuple(cell)
        state = cell_state(cell, env)
        title = _cell_title(whole, _label(env["name"], limits)[1], cell, state, limits)
        svg.leaf("rect", title=title, x=NAMES_W + index * CELL_W, y=y, width=CELL_W - GAP,
                 height=CELL_H - GAP, class_=STATES[state])  # fmt: skip
    svg.close("g")
    return "".join(svg.parts)


# --- the timeline of deployments ----------------------------------------------------------------

# 714 px wide: a page's text column beside the nav and the table of contents
LANE_H, AXIS_H, PLOT_W, LANE_LABEL_W, KEY_H = 26, 30, 540, 150, 24


@dataclass(frozen=True)
class Window:
    """The weeks a timeline shows: up to the end of the day of the newest commit of the env
    repos, so that it stays the same for every merge of that day (and the pages drawing it
    with it, which a rebuild then reuses)."""

    start: datetime
    end: datetime  # midnight after that day, in its commit's offset: not in the window
    newest: str  # that commit's date, as its repo wrote it
    weeks: int


@dataclass(frozen=True)
class Timeline:
    """A timeline, its window, and the environments with more changes than it draws."""

    svg: str
    window: Window
    marks: int
    over: tuple[tuple[str, int], ...]  # (environment, changes in the window), past the bound
    per_lane: int = MARKS_PER_LANE


def moment(date: str) -> datetime | None:
    """An ISO 8601 date as an aware datetime (UTC when it names no offset: never the local
    time zone of the machine that builds), or None."""
    try:
        found = datetime.fromisoformat(date)
    except (TypeError, ValueError):
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def window(model: Model, weeks: int = WEEKS) -> Window | None:
    """The `weeks` up to the end of the day of the newest commit of the env repos (of their
    newest change when none says when it was made); None when nothing has a date."""
    dated = [(m, env.commit_date) for env in model.environments
             if (m := moment(env.commit_date)) is not None]  # fmt: skip
    if not dated:
        dated = [(m, c.date) for env in model.environments for c in env.history
                 if (m := moment(c.date)) is not None]  # fmt: skip
    if not dated:
        return None
    last, newest = max(dated, key=lambda pair: pair[0])
    end = datetime.combine(last.date() + timedelta(days=1), time(), tzinfo=last.tzinfo)
    return Window(end - timedelta(weeks=weeks), end, newest, weeks)


Dated = tuple[datetime, Change]


class Timelines:
    """The timelines of one window, of every service or of one: a lane per environment, a
    mark per change in the window. Each history is read once, however many timelines."""

    def __init__(self, environments: list[Environment], span: Window, limits: Limits) -> None:
        self.environments, self.span, self.limits = environments, span, limits
        self.changes: dict[str, dict[str | None, list[Dated]]] = {}
        for env in environments:
            lanes = self.changes.setdefault(env.name, defaultdict(list))
            for change in env.history:
                when = moment(change.date)
                if when is not None and span.start <= when < span.end:
                    lanes[None].append((when, change))
                    lanes[change.service].append((when, change))

    def facts(self, service: str | None = None) -> list[Any]:
        """All that `of(service)` draws from (with the limits): the window, and each lane's
        changes in it, so that a page can tell its timeline unchanged without drawing it."""
        lanes = [
            [(c.date, c.service, c.environment, c.from_version, c.to_version, c.author, c.rollback)
             for _, c in self.changes[e.name].get(service, [])]
            for e in self.environments
        ]  # fmt: skip  # what `_mark_title` and `_kind` read of each change
        return [self.span, [e.name for e in self.environments], lanes, MARKS_PER_LANE]

    def of(self, service: str | None = None) -> Timeline:
        """Every service's changes, or one's; rollbacks and removals drawn apart; at most
        `MARKS_PER_LANE` per lane, the newest."""
        span, limits, envs = self.span, self.limits, self.environments
        height = AXIS_H + len(envs) * LANE_H + KEY_H + PAD
        whose = f" of {cut(service, limits.name_chars)}" if service is not None else ""
        svg = _Svg(LANE_LABEL_W + PLOT_W + 2 * PAD, height, "pd-timeline",
                   f"Deployments{whose} in the {span.weeks} weeks up to {span.newest[:10]}, "
                   "by environment", "group")  # fmt: skip
        seconds = (span.end - span.start).total_seconds()

        def x(when: datetime) -> float:
            return LANE_LABEL_W + PLOT_W * (when - span.start).total_seconds() / seconds

        bottom = AXIS_H + len(envs) * LANE_H
        for week in range(span.weeks + 1):
            when = span.start + timedelta(weeks=week)
            svg.leaf("line", x1=x(when), y1=AXIS_H - 6, x2=x(when), y2=bottom, class_="pd-tick")
            if week % 2 == 0 or week == span.weeks:
                svg.leaf("text", _tick(when, week == 0), x=x(when), y=AXIS_H - 10,
                         text_anchor="middle", class_="pd-note")  # fmt: skip
        over: list[tuple[str, int]] = []
        marks = 0
        for index, env in enumerate(envs):
            middle = AXIS_H + index * LANE_H + LANE_H / 2
            shown, whole = _label(env.name, limits)
            svg.open("g", class_="pd-lane", data_env=whole)
            svg.leaf("line", x1=LANE_LABEL_W, y1=middle, x2=LANE_LABEL_W + PLOT_W, y2=middle,
                     class_="pd-axis")  # fmt: skip
            svg.leaf("text", shown, title=whole if shown != whole else "", x=LANE_LABEL_W - 8,
                     y=middle + 4, text_anchor="end")  # fmt: skip
            changes = self.changes[env.name].get(service, [])
            if len(changes) > MARKS_PER_LANE:
                over.append((whole, len(changes)))
                changes = sorted(changes, key=lambda pair: pair[0])[-MARKS_PER_LANE:]
            for when, change in changes:
                _mark(svg, x(when), middle, _kind(change), _mark_title(change, limits))
            marks += len(changes)
            svg.close("g")
        key = bottom + KEY_H / 2 + 4
        for offset, (kind, label) in enumerate(MARKS.items()):
            left = LANE_LABEL_W + offset * 130
            _mark(svg, left, key, kind)
            svg.leaf("text", label, x=left + 10, y=key + 4, class_="pd-note")
        return Timeline(svg.done(), span, marks, tuple(over))


def _mark_title(change: Change, limits: Limits) -> str:
    before = cut(change.from_version, limits.version_chars) if change.from_version else None
    after = cut(change.to_version, limits.version_chars) if change.to_version else None
    what = f"{before or 'first deployed'} → {after or 'removed'}"
    return (f"{change.date[:16].replace('T', ' ')} {cut(change.service, limits.name_chars)} "
            f"in {cut(change.environment, limits.name_chars)}: {what} by "
            f"{cut(change.author, limits.name_chars)}" + (", a rollback" if change.rollback else ""))  # fmt: skip


def _tick(when: datetime, first: bool) -> str:
    """A week's date, its year on the first tick and the first of a year."""
    day = f"{when.day} {_MONTHS[when.month - 1]}"
    return f"{day} {when.year}" if first or (when.month == 1 and when.day <= 7) else day


MARKS = {"deploy": "a deployment", "rollback": "a rollback", "removed": "a removal"}


def _kind(change: Change) -> str:
    return "rollback" if change.rollback else "removed" if change.to_version is None else "deploy"


def _mark(svg: _Svg, x: float, y: float, kind: str, title: str = "") -> None:
    """A circle for a deployment, a diamond for a rollback, a ring for a removal; a mark
    without a title is the legend's."""
    css = ("pd-mark" if title else "pd-key") + f" pd-{kind}"
    if kind == "rollback":
        svg.leaf("path", title=title, d=f"M{_number(x)} {_number(y - 6)}l6 6l-6 6l-6-6z",
                 class_=css)  # fmt: skip
    else:
        svg.leaf("circle", title=title, cx=x, cy=y, r=4.5, class_=css)
