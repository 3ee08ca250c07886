"""A minimal schema-valid JSON body for an operation of the served OpenAPI document (required fields only)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

_INSTANCE_IDS = count(0xA0)
_STRINGS: dict[str, Callable[[], str]] = {
    r"^i-([0-9a-f]{8}|[0-9a-f]{17})$": lambda: f"i-{next(_INSTANCE_IDS):017x}",
    r"^.+\.[^.]+$": lambda: "t3.medium.us-east-1a",
}


def sample_body(document: dict[str, Any], method: str, template: str) -> Any:
    operation = document["paths"].get(template, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return {}
    return _sample(document, content["schema"])


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _sample(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    schema = _resolve(document, schema)
    for key in ("oneOf", "anyOf"):
        if key in schema and "properties" not in schema and "type" not in schema:
            return _sample(document, next(s for s in schema[key] if _resolve(document, s).get("type") != "null"))
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    return _by_type(document, schema, kind)


def _by_type(document: dict[str, Any], schema: dict[str, Any], kind: str) -> Any:
    if kind == "object":
        return _object(document, schema)
    if kind == "array":
        return [_sample(document, schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-01-01T00:00:00Z"
        make = _STRINGS.get(schema.get("pattern", ""))
        return make() if make else "x" * max(1, schema.get("minLength", 1))
    if kind in {"integer", "number"}:
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return int(low) if kind == "integer" else float(low)
    return True


def _object(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    required = list(schema.get("required", []))
    branch: dict[str, Any] = next(iter(schema.get("anyOf", [])), {})
    required += [name for name in branch.get("required", []) if name not in required]
    body = {name: _sample(document, properties.get(name, {})) for name in required}
    for name, rule in branch.get("properties", {}).items():
        if "const" in rule:
            body[name] = rule["const"]
    return body
