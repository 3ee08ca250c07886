"""Rules a request Struct enforces beyond its fields' types, stated for the OpenAPI document (``openapi_extra``).

A Struct sets ``openapi_extra: ClassVar[dict[str, Any]]``; ``openapi.py`` merges it into the Struct's component.
Only constraints the server really enforces belong here (checked by hand in a controller or the domain).
"""

from __future__ import annotations

from typing import Any

POOL_ID_PATTERN = r"^.+\.[^.]+$"  # <instance_type>.<az>: the AZ is the text after the last "." (PR-34)


def at_least_one_of(*names: str) -> dict[str, Any]:
    """At least one of ``names`` is present and not null."""
    return {"anyOf": [{"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names]}


def enum_of(*values: str) -> dict[str, Any]:
    """An optional string field checked against a closed list by hand (``null`` means omitted)."""
    return {"enum": [*values, None]}


def null_unless(field: str, const: str, needed: str) -> dict[str, Any]:
    """``needed`` is present and not null when ``field`` equals ``const``, and null or absent otherwise."""
    return {
        "anyOf": [
            {
                "required": [field, needed],
                "properties": {field: {"const": const}, needed: {"not": {"type": "null"}}},
            },
            {"properties": {field: {"not": {"const": const}}, needed: {"type": "null"}}},
        ]
    }
