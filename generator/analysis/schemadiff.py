"""What changed in the schemas between two releases, classified as API diff tools do:
added, removed, type changed, default changed, enum narrowed or widened, made required,
deprecated. Removals, narrowed enums and new required options break configs that were valid."""

from __future__ import annotations

from ..model import Option, Schema, SchemaChange

ADDED = "added"
REMOVED = "removed"
TYPE_CHANGED = "type changed"
DEFAULT_CHANGED = "default changed"
ENUM_NARROWED = "enum narrowed"
ENUM_WIDENED = "enum widened"
MADE_REQUIRED = "made required"
DEPRECATED = "deprecated"
KINDS = (
    REMOVED,
    ENUM_NARROWED,
    MADE_REQUIRED,
    TYPE_CHANGED,
    DEPRECATED,
    ADDED,
    ENUM_WIDENED,
    DEFAULT_CHANGED,
)


def _options(schemas: tuple[Schema, ...] | list[Schema]) -> dict[str, Option]:
    return {o.id: o for s in schemas for o in s.options if not o.definition}


def _show(value: object) -> str:
    return repr(value) if not isinstance(value, str) else value


def _compare(option_id: str, old: Option, new: Option) -> list[SchemaChange]:
    changes = []
    if set(old.types) != set(new.types) and old.types and new.types:
        narrowed = not set(old.types) <= set(new.types)  # a value valid before may be refused now
        changes.append(SchemaChange(option_id, TYPE_CHANGED, narrowed,
                                    f"type {' | '.join(old.types)} -> {' | '.join(new.types)}"))  # fmt: skip
    if old.has_default != new.has_default or old.default != new.default:
        before = _show(old.default) if old.has_default else "none"
        after = _show(new.default) if new.has_default else "none"
        changes.append(
            SchemaChange(option_id, DEFAULT_CHANGED, False, f"default {before} -> {after}")
        )
    if old.enum and new.enum and not old.has_const:
        gone = [v for v in old.enum if v not in new.enum]
        came = [v for v in new.enum if v not in old.enum]
        if gone:
            changes.append(SchemaChange(option_id, ENUM_NARROWED, True,
                                        "no longer allowed: " + ", ".join(map(_show, gone))))  # fmt: skip
        if came:
            changes.append(SchemaChange(option_id, ENUM_WIDENED, False,
                                        "now allowed: " + ", ".join(map(_show, came))))  # fmt: skip
    elif new.enum and not old.enum:
        changes.append(SchemaChange(option_id, ENUM_NARROWED, True,
                                    "now limited to: " + ", ".join(map(_show, new.enum))))  # fmt: skip
    if new.required and not old.required:
        changes.append(SchemaChange(option_id, MADE_REQUIRED, True, "now required"))
    if new.deprecated and not old.deprecated:
        changes.append(SchemaChange(option_id, DEPRECATED, False,
                                    new.deprecated_message or "deprecated"))  # fmt: skip
    return changes


def _parent(option_id: str) -> str | None:
    """`service:deploy.ports[].name` -> `service:deploy.ports`; None for a top-level option."""
    schema, _, path = option_id.partition(":")
    cut = max(path.rfind("."), path.rfind("["))
    return f"{schema}:{path[:cut]}" if cut > 0 else None


def schema_diff(
    old: tuple[Schema, ...] | list[Schema], new: tuple[Schema, ...] | list[Schema]
) -> list[SchemaChange]:
    """Every change from `old` to `new`, by option id, in a stable order."""
    before, after = _options(old), _options(new)
    changes: list[SchemaChange] = []
    for option_id in sorted(set(before) | set(after)):
        if option_id not in before:
            # required below a parent that existed: configs valid before now fail
            parent = _parent(option_id)
            breaking = after[option_id].required and (parent is None or parent in before)
            detail = "new required option" if after[option_id].required else "new option"
            changes.append(SchemaChange(option_id, ADDED, breaking, detail))
        elif option_id not in after:
            changes.append(SchemaChange(option_id, REMOVED, True, "removed"))
        else:
            changes += _compare(option_id, before[option_id], after[option_id])
    return changes


def covers(announced: str, option_id: str) -> bool:
    """An announcement of `service:deploy` covers `service:deploy.ports[].name` too."""
    if announced == option_id:
        return True
    schema, _, path = announced.partition(":")
    other_schema, _, other_path = option_id.partition(":")
    if schema != other_schema:
        return False
    return other_path.startswith((f"{path}.", f"{path}["))
