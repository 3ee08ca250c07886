"""M14 – M18 and H1 ``decision_engine`` over the real app, the real database and real (tiny) CatBoost models.

Every rejected upload leaves nothing behind: no session, no version, no artefact, no event (DP-21, CC-1).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import create_engine, text

from spotopt.adapters.ml.manifests import manifest_to_json
from spotopt.application.ports.decisions import TrainedModel
from spotopt.bootstrap.settings import Settings
from spotopt.domain.decisions.models import ModelKind
from spotopt.entrypoints.http import middleware
from tests import services
from tests.http_app import ADMIN_TOKEN, app_client, make_settings, reset_database
from tests.integration.ml.tiny import train_tiny

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
UPLOAD = "/api/admin/ml-models/upload"
RISK, PRICE = ModelKind.INTERRUPTION_RISK, ModelKind.PRICE_FORECAST


@dataclass
class Admin:
    client: AsyncTestClient  # type: ignore[type-arg]
    settings: Settings
    risk: TrainedModel
    price: TrainedModel

    def count(self, table: str) -> int:
        engine = create_engine(
            self.settings.database_url.replace("mysql+asyncmy", "mysql+pymysql").replace("+aiosqlite", "")
        )
        with engine.connect() as conn:
            value = conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()  # noqa: S608 - fixed names
        engine.dispose()
        return int(value)

    def stored_artifacts(self) -> list[str]:
        folder = self.settings.model_dir / "artifacts"
        return sorted(p.name for p in folder.glob("*.cbm")) if folder.exists() else []

    async def upload(
        self,
        label: str,
        *models: tuple[str, TrainedModel],
        data: dict[str, bytes] | None = None,
        entries: list[dict[str, Any]] | None = None,
    ) -> Any:
        manifest = {
            "version": label,
            "models": entries if entries is not None else [entry(name, m) for name, m in models],
        }
        parts = data if data is not None else {name: m.artifact for name, m in models}
        files = [("files", (name, blob, "application/octet-stream")) for name, blob in parts.items()]
        return await self.client.post(UPLOAD, headers=ADMIN, data={"manifest": json.dumps(manifest)}, files=files)


def entry(name: str, model: TrainedModel, **changes: Any) -> dict[str, Any]:
    doc = manifest_to_json(model.manifest)
    return {
        "file": name,
        "kind": model.manifest.kind.value,
        "features": doc["features"],
        "reference_row": doc["reference_row"],
        "metrics": {"logloss": 0.3},
        **changes,
    }


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainedModel, TrainedModel]:
    scratch = tmp_path_factory.mktemp("tiny")
    return train_tiny(scratch), train_tiny(scratch, PRICE)


@pytest.fixture
async def admin(tmp_path: Path, models: tuple[TrainedModel, TrainedModel]) -> AsyncIterator[Admin]:
    settings = make_settings(services.test_database_url(tmp_path), tmp_path, model_dir=tmp_path / "models")
    reset_database(settings)
    async with app_client(settings) as client:
        yield Admin(client, settings, *models)


def assert_nothing_registered(admin: Admin) -> None:
    assert admin.count("model_sessions") == 0
    assert admin.count("model_versions") == 0
    assert admin.stored_artifacts() == []
    assert admin.count("system_events") == 0


async def test_m14_registers_a_candidate_session_and_a_repeat_is_200(admin: Admin) -> None:
    """M14, DP-19, DP-21: validated, stored content-addressed, candidate, nothing live; repeat → created false."""
    response = await admin.upload("s1", ("risk.cbm", admin.risk), ("price.cbm", admin.price))
    assert response.status_code == 201, response.text
    body = response.json()
    session = body["session"]
    assert (body["created"], session["version"], session["status"], session["origin"]) == (
        True, "s1", "candidate", "uploaded",
    )  # fmt: skip
    by_kind = {m["kind"]: m for m in session["models"]}
    risk = by_kind["interruption_risk"]
    assert (risk["version_number"], risk["status"], risk["file_name"]) == (1, "candidate", "risk.cbm")
    assert risk["sha256"] == admin.risk.manifest.content_hash
    assert risk["size_bytes"] == len(admin.risk.artifact)
    assert risk["features"] == list(admin.risk.manifest.features)
    assert 0.0 <= risk["smoke_prediction"] <= 1.0
    assert session["file_count"] == 2
    assert session["total_size_bytes"] == len(admin.risk.artifact) + len(admin.price.artifact)
    assert admin.stored_artifacts() == sorted(f"{m.manifest.content_hash}.cbm" for m in (admin.risk, admin.price))
    again = await admin.upload("s1", ("risk.cbm", admin.risk), ("price.cbm", admin.price))
    assert (again.status_code, again.json()["created"], again.json()["session"]["id"]) == (200, False, session["id"])
    clash = await admin.upload("s1", ("risk.cbm", admin.risk))
    assert (clash.status_code, clash.json()["detail"]["code"]) == (409, "version_exists")
    assert admin.count("model_versions") == 2
    health = (await admin.client.get("/health")).json()
    assert health["components"]["decision_engine"] == "loaded"  # rules policy: nothing was activated


async def test_m14_not_a_catboost_model_is_422_model_invalid_and_nothing_is_registered(admin: Admin) -> None:
    response = await admin.upload(
        "bad", data={"risk.cbm": b"this is not a model"}, entries=[entry("risk.cbm", admin.risk)]
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert (detail["code"], detail["file"]) == ("model_invalid", "risk.cbm")
    assert "CatBoost" in detail["reason"]
    assert_nothing_registered(admin)


async def test_m14_feature_order_contract_permuted_columns_are_rejected(admin: Admin) -> None:
    """The feature-order contract at the upload: a model trained in the test, its manifest's columns permuted."""
    features = list(admin.risk.manifest.features)
    features[0], features[1] = features[1], features[0]
    response = await admin.upload(
        "perm", ("risk.cbm", admin.risk), entries=[entry("risk.cbm", admin.risk, features=features)]
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == "model_invalid"
    assert_nothing_registered(admin)


async def test_m14_second_file_invalid_rejects_the_whole_upload(admin: Admin) -> None:
    """Nothing half-registered: the valid first model is neither stored nor registered."""
    response = await admin.upload(
        "half",
        data={"risk.cbm": admin.risk.artifact, "price.cbm": admin.risk.artifact + b"x"},
        entries=[entry("risk.cbm", admin.risk), entry("price.cbm", admin.price)],
    )
    assert (response.status_code, response.json()["detail"]["file"]) == (422, "price.cbm")
    assert_nothing_registered(admin)


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"features": ["instance_family", "moon_phase"]}, 422, "unknown_feature"),
        ({"kind": "weather"}, 400, "validation_error"),
        ({"file": "other.cbm"}, 400, "validation_error"),
        ({"reference_row": {}}, 400, "validation_error"),
        ({"surprise": 1}, 400, "validation_error"),
    ],
)
async def test_m14_invalid_manifests_are_rejected(admin: Admin, change: dict[str, Any], status: int, code: str) -> None:
    response = await admin.upload("m", ("risk.cbm", admin.risk), entries=[entry("risk.cbm", admin.risk, **change)])
    assert (response.status_code, response.json()["detail"]["code"]) == (status, code), response.text
    assert_nothing_registered(admin)


async def test_m14_transport_rules(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    """415 unless multipart; 400 without a manifest or with a non-.cbm part; 413 over the upload limit."""
    as_json = await admin.client.post(UPLOAD, headers=ADMIN, json={"version": "x"})
    assert (as_json.status_code, as_json.json()["detail"]["code"]) == (415, "unsupported_media_type")
    files = [("files", ("risk.cbm", admin.risk.artifact, "application/octet-stream"))]
    no_manifest = await admin.client.post(UPLOAD, headers=ADMIN, files=files)
    assert (no_manifest.status_code, no_manifest.json()["detail"]["code"]) == (400, "validation_error")
    wrong_ext = await admin.upload(
        "ext", data={"risk.bin": admin.risk.artifact}, entries=[entry("risk.bin", admin.risk)]
    )
    assert wrong_ext.status_code == 400
    monkeypatch.setitem(middleware.MULTIPART_ROUTES, UPLOAD, 1024)
    too_large = await admin.upload("big", ("risk.cbm", admin.risk))
    assert (too_large.status_code, too_large.json()["detail"]["code"]) == (413, "payload_too_large")
    assert_nothing_registered(admin)


async def test_m15_m16_m17_pointer_swaps_and_sessions(admin: Admin) -> None:
    """DP-20: activate → live, the previous live → fallback; M16 → the fallback live again, the other retired."""
    first = (await admin.upload("s1", ("risk.cbm", admin.risk))).json()["session"]["id"]
    other = train_tiny(admin.settings.data_dir / "other", n=300)
    second = (await admin.upload("s2", ("risk.cbm", other))).json()["session"]["id"]
    activate = "/api/admin/ml-models/activate"
    one = await admin.client.post(activate, headers=ADMIN, json={"session_id": first})
    assert one.status_code == 200, one.text
    assert one.json()["live"] == {"interruption_risk": {"session_id": first, "version": "s1"}}
    assert one.json()["propagation_seconds"] == 5
    two = (await admin.client.post(activate, headers=ADMIN, json={"sessionId": second})).json()
    assert two["live"]["interruption_risk"]["session_id"] == second
    assert two["fallback"]["interruption_risk"]["session_id"] == first
    same = await admin.client.post(activate, headers=ADMIN, json={"session_id": second})
    assert same.status_code == 200
    assert admin.count("system_events") == 4  # 2 registered, 2 activated; the idempotent repeat records nothing
    missing = await admin.client.post(activate, headers=ADMIN, json={"session_id": "nope"})
    assert (missing.status_code, missing.json()["detail"]["code"]) == (404, "not_found")
    back = await admin.client.post("/api/admin/ml-models/fallback", headers=ADMIN)
    assert back.status_code == 200
    assert back.json()["live"]["interruption_risk"]["session_id"] == first
    assert back.json()["fallback"] == {"interruption_risk": None}
    none_left = await admin.client.post("/api/admin/ml-models/fallback", headers=ADMIN)
    assert (none_left.status_code, none_left.json()["detail"]["code"]) == (409, "no_fallback")
    listed = (await admin.client.get("/api/admin/ml-models/sessions", headers=ADMIN)).json()
    assert [(s["version"], s["status"]) for s in listed["sessions"]] == [("s2", "retired"), ("s1", "live")]
    assert listed["total"] == 2
    live_only = (await admin.client.get("/api/admin/ml-models/sessions?status=live&limit=1", headers=ADMIN)).json()
    assert ([s["id"] for s in live_only["sessions"]], live_only["total"]) == ([first], 1)
    bad = await admin.client.get("/api/admin/ml-models/sessions?status=sleeping", headers=ADMIN)
    assert bad.status_code == 400


async def test_m15_an_artefact_failing_its_hash_check_is_409_and_nothing_moves(admin: Admin) -> None:
    session = (await admin.upload("s1", ("risk.cbm", admin.risk))).json()["session"]["id"]
    path = admin.settings.model_dir / "artifacts" / f"{admin.risk.manifest.content_hash}.cbm"
    path.chmod(0o644)
    path.write_bytes(b"CBM1 broken")
    response = await admin.client.post("/api/admin/ml-models/activate", headers=ADMIN, json={"session_id": session})
    assert (response.status_code, response.json()["detail"]["code"]) == (409, "artifact_missing")
    listed = (await admin.client.get("/api/admin/ml-models/sessions", headers=ADMIN)).json()
    assert listed["sessions"][0]["status"] == "candidate"


async def test_m18_policy_versions_and_h1_reports_the_engine_really_serving(admin: Admin) -> None:
    """DP-17, DP-18; H1 ``decision_engine``: ``not loaded`` while the rule estimator stands in (DP-3)."""
    route = "/api/admin/decision-engine/upload"
    created = await admin.client.post(route, headers=ADMIN, json={"engine_kind": "catboost", "blocklist_hours": 12})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["policy_version"], body["engine_kind"], body["previous_policy_version"]) == (
        "policy-v1", "catboost", None,
    )  # fmt: skip
    assert body["policy"]["blocklist_hours"] == 12
    assert len(body["warnings"]) == 2  # no live risk model, no live price model
    same = await admin.client.post(route, headers=ADMIN, json={"engine_kind": "catboost", "blocklist_hours": 12})
    assert (same.status_code, same.json()["policy_version"]) == (200, "policy-v1")
    for bad in ({"engine_kind": "python"}, {"engine_kind": "rules", "code": "import os"}, {"blocklist_hours": 1}):
        response = await admin.client.post(route, headers=ADMIN, json=bad)
        assert (response.status_code, response.json()["detail"]["code"]) == (400, "validation_error")
    files = {"file": ("p.json", b"{}", "application/json")}
    assert (await admin.client.post(route, headers=ADMIN, files=files)).status_code == 415
    assert (await admin.client.get("/health")).json()["components"]["decision_engine"] == "not loaded"
    session = (await admin.upload("s1", ("risk.cbm", admin.risk), ("price.cbm", admin.price))).json()["session"]
    await admin.client.post("/api/admin/ml-models/activate", headers=ADMIN, json={"session_id": session["id"]})
    assert (await admin.client.get("/health")).json()["components"]["decision_engine"] == "loaded"
    rules = await admin.client.post(route, headers=ADMIN, json={"engine_kind": "rules"})
    assert (rules.json()["policy_version"], rules.json()["previous_policy_version"]) == ("policy-v2", "policy-v1")
