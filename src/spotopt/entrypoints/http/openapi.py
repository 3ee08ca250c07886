"""An OpenAPI document that tells the truth (api.md §1, issue 8 item 6), for every route the router holds.

Litestar documents each handler's success response and a generic 400. Everything the shared machinery adds to
every route is derived here, once, from the router, so a new route is documented without being listed anywhere:

- the one error body of §1.5 (``ErrorBody``) on every error status;
- the statuses each operation can answer, by realm (401, 403, 429 from the guards), by shape (400, 413, 415 on
  bodies; 400 on query parameters; 404 on path ids) and everywhere (500, 503); a handler adds its own with
  ``responses=documented(...)`` (alternate successes, 409, 422, ``setting_disabled``);
- the two bearer security schemes and each operation's realm;
- ``additionalProperties: false`` where the server rejects unknown body fields (§1.4: ``forbid_unknown_fields``
  Structs, and client/admin POSTs that take no body);
- OpenAPI links from the operations that hand out ids to every operation whose path takes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import OpenAPI
from litestar.routes import BaseRoute, HTTPRoute

from spotopt.entrypoints.http.auth import admin_guard, client_guard
from spotopt.entrypoints.http.errors import ErrorBody
from spotopt.entrypoints.http.middleware import NO_UNKNOWN_FIELDS

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
CLIENT_SCHEME = "client_token"
ADMIN_SCHEME = "admin_token"
_BODY_METHODS = frozenset({"post", "put", "patch"})
_METHODS = ("get", "put", "post", "delete", "patch")

ERRORS: dict[int, str] = {
    400: "`validation_error` (`detail.field`, `detail.reason`) or `malformed_json`",
    401: "`missing_token` or `invalid_token`",
    403: "`wrong_realm`, `client_inactive`, `client_mismatch` or `setting_disabled` (`detail.setting`)",
    404: "`not_found`: unknown, foreign or deleted resource (indistinguishable)",
    409: "conflict with the current state; `detail` carries the state that conflicts",
    413: "`payload_too_large`",
    415: "`unsupported_media_type`: request bodies are `application/json`",
    422: "well-formed request naming something unusable for this operation",
    429: "`rate_limited`: `Retry-After` header and `detail.retry_after_seconds`",
    500: "`internal_error` (`detail.request_id`)",
    503: "`unavailable` (`detail.dependency`, `detail.retryable`)",
}
_SECURITY_SCHEMES = {
    CLIENT_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "Client token (`spo_…`); on POST/PUT a `client_token` body field stands in when the header "
        "is absent (§1.2)",
    },
    ADMIN_SCHEME: {"type": "http", "scheme": "bearer", "description": "Admin token (`spoa_…` or the configured one)"},
}


@dataclass(frozen=True, slots=True)
class Producer:
    """An operation whose success body hands out an id that other operations take as a path parameter."""

    method: str
    path: str
    param: str
    expression: str
    statuses: tuple[str, ...] = ("200", "201")


PRODUCERS: tuple[Producer, ...] = (
    Producer("post", "/api/agents/register", "agent_id", "$response.body#/agent_id"),
    Producer("post", "/api/agents/{agent_id}/replicas", "replica_id", "$response.body#/replica_id"),
    Producer("post", "/api/agents/{agent_id}/issue-switch-command", "command_id", "$response.body#/command/id"),
    Producer("get", "/api/agents/{agent_id}/pending-commands", "command_id", "$response.body#/commands/0/id"),
    Producer("post", "/api/admin/clients/create", "client_id", "$response.body#/client/id", ("201",)),
)


def documented(*statuses: int) -> dict[int, ResponseSpec]:
    """Route-specific statuses for a handler's ``responses=``: errors carry ``ErrorBody``, successes a JSON object."""
    specs: dict[int, ResponseSpec] = {}
    for status in statuses:
        if status < 400:
            specs[status] = ResponseSpec(dict[str, Any], description="Success (alternate status)")
        else:
            specs[status] = ResponseSpec(ErrorBody, description=ERRORS.get(status, "Error"))
    return specs


class _CompletedOpenAPI(OpenAPI):
    """Litestar's document object; its dictionary form goes through the completion step below."""

    def to_schema(self) -> dict[str, Any]:
        schema = super().to_schema()
        complete: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(self, "complete", None)
        return complete(schema) if complete else schema


@dataclass
class TruthfulOpenAPIConfig(OpenAPIConfig):
    """``OpenAPIConfig`` whose document is completed from the app's router when first served (lazily)."""

    routes: Callable[[], Iterable[BaseRoute]] = field(default=lambda: ())

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        document = _CompletedOpenAPI(**{f.name: getattr(base, f.name) for f in fields(base)})
        document.complete = lambda schema: complete_schema(schema, self.routes())  # type: ignore[attr-defined]
        return document


def complete_schema(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _, error_components = msgspec.json.schema_components([ErrorBody], ref_template="#/components/schemas/{name}")
    schemas.update(error_components)
    components["securitySchemes"] = dict(_SECURITY_SCHEMES)
    strict_bodies: set[str] = set()
    extras: dict[str, dict[str, Any]] = {}
    for method, path, handler in _operations(routes):
        operation = schema.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        realm = _realm(handler)
        if realm is not None:
            operation["security"] = [{realm: []}]
        if method in _BODY_METHODS:
            _close_body(operation, handler, strict_bodies, extras)
        _add_error_statuses(operation, method, realm)
    for component in schemas.values():
        title = component.get("title")
        if title in strict_bodies:
            component["additionalProperties"] = False
        if title in extras:
            _merge(component, extras[title])
    _normalise(schema)
    _add_links(schema.get("paths", {}))
    return schema


def _operations(routes: Iterable[BaseRoute]) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    for route in routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                yield method.lower(), route.path_format or "/", handler


def _realm(handler: HTTPRouteHandler) -> str | None:
    guards = handler.resolve_guards()
    if client_guard in guards:
        return CLIENT_SCHEME
    if admin_guard in guards:
        return ADMIN_SCHEME
    return None


def _close_body(
    operation: dict[str, Any], handler: HTTPRouteHandler, strict: set[str], extras: dict[str, dict[str, Any]]
) -> None:
    """§1.4: which bodies reject unknown fields (a body-less client/admin POST accepts only ``{}``), and the
    rules a Struct states beyond its fields (``openapi_extra``: enums checked by hand, cross-field rules).
    """
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        if handler.opt.get("group") in NO_UNKNOWN_FIELDS:
            empty = {"type": "object", "properties": {}, "additionalProperties": False}
            operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": empty}}}
        return
    for struct in _structs(data.annotation):
        if struct.__struct_config__.forbid_unknown_fields:
            strict.add(struct.__name__)
        extra = _msgspec_constraints(struct)
        _merge(extra, getattr(struct, "openapi_extra", {}))
        extras[struct.__name__] = extra


def _structs(annotation: Any) -> Iterator[type[msgspec.Struct]]:
    seen: set[type] = set()
    pending = [msgspec.inspect.type_info(annotation)]
    while pending:
        info = pending.pop()
        if isinstance(info, msgspec.inspect.StructType) and info.cls not in seen:
            seen.add(info.cls)
            yield info.cls
            pending.extend(f.type for f in info.fields)
        elif isinstance(info, msgspec.inspect.UnionType):
            pending.extend(info.types)
        elif isinstance(info, msgspec.inspect.Metadata):
            pending.append(info.type)
        elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.SetType | msgspec.inspect.FrozenSetType):
            pending.append(info.item_type)
        elif isinstance(info, msgspec.inspect.DictType):
            pending.append(info.value_type)


def _add_error_statuses(operation: dict[str, Any], method: str, realm: str | None) -> None:
    parameters = operation.get("parameters", [])
    statuses = {500, 503}
    if realm is not None:
        statuses |= {401, 403, 429}
    if method in _BODY_METHODS:
        statuses |= {400, 413, 415}
    if any(p.get("in") == "query" for p in parameters):
        statuses.add(400)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    responses = operation.setdefault("responses", {})
    if "400" in responses and "400" not in _documented_errors(responses):
        del responses["400"]  # Litestar's generic ValidationException body, whether or not the route can send it
    for status in sorted(statuses):
        if str(status) in responses:
            continue
        response: dict[str, Any] = {
            "description": ERRORS[status],
            "content": {"application/json": {"schema": ERROR_REF}},
        }
        if status == 429:
            response["headers"] = {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}}
        responses[str(status)] = response
    for status, response in responses.items():
        if int(status) >= 400:
            response.setdefault("content", {"application/json": {"schema": ERROR_REF}})
    operation["responses"] = dict(sorted(responses.items()))


def _documented_errors(responses: dict[str, Any]) -> set[str]:
    return {
        status
        for status, response in responses.items()
        if response.get("content", {}).get("application/json", {}).get("schema") == ERROR_REF
    }


def _add_links(paths: dict[str, Any]) -> None:
    """Every operation taking a produced id in its path is linked from its producers (stateful testing)."""
    for producer in PRODUCERS:
        source = paths.get(producer.path, {}).get(producer.method)
        if source is None:
            continue
        source_params = {p["name"] for p in source.get("parameters", []) if p.get("in") == "path"}
        links: dict[str, Any] = {}
        for item in paths.values():
            for method in _METHODS:
                target = item.get(method)
                if target is None or "operationId" not in target:
                    continue
                params = [p["name"] for p in target.get("parameters", []) if p.get("in") == "path"]
                if producer.param not in params or not set(params) - {producer.param} <= source_params:
                    continue
                links[target["operationId"]] = {
                    "operationId": target["operationId"],
                    "parameters": {
                        name: producer.expression if name == producer.param else f"$request.path.{name}"
                        for name in params
                    },
                }
        for status in producer.statuses:
            response = source.get("responses", {}).get(status)
            if response is not None and links:
                response["links"] = links


_CONSTRAINTS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern"}
    | {"minItems", "maxItems", "minProperties", "maxProperties"}
)


def _msgspec_constraints(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The field constraints as msgspec itself enforces them (Litestar drops some, e.g. ``ge=0``)."""
    _, definitions = msgspec.json.schema_components([struct])
    properties: dict[str, Any] = {}
    for name, prop in definitions.get(struct.__name__, {}).get("properties", {}).items():
        variants = [prop, *(v for v in prop.get("anyOf", []) if v.get("type") != "null")]
        found = {key: value for variant in variants for key, value in variant.items() if key in _CONSTRAINTS}
        if found:
            properties[name] = found
    return {"properties": properties} if properties else {}


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def _normalise(node: Any) -> None:
    """Say the same thing in the form generators read right: a nullable scalar as a type list (Litestar writes
    ``oneOf`` of bare types with the constraints beside it) and integer bounds as integers.
    """
    if isinstance(node, list):
        for item in node:
            _normalise(item)
        return
    if not isinstance(node, dict):
        return
    variants = node.get("oneOf")
    if isinstance(variants, list) and variants and all(isinstance(v, dict) and set(v) == {"type"} for v in variants):
        types = [v["type"] for v in variants]
        if all(isinstance(t, str) for t in types):
            del node["oneOf"]
            node["type"] = types
    declared = node.get("type")
    if declared == "integer" or (isinstance(declared, list) and "integer" in declared):
        for key in _BOUNDS:
            if isinstance(node.get(key), float) and node[key].is_integer():
                node[key] = int(node[key])
    for key, value in node.items():
        if key != "examples":
            _normalise(value)
