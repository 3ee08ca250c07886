"""Configuration from the environment, compatible with the legacy deployment guide."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

TRUE = {"1", "true", "yes", "on"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    return default if raw is None or raw == "" else raw.strip().lower() in TRUE


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return default if raw is None or raw == "" else int(raw)


def _job_periods(raw: str) -> tuple[tuple[str, int], ...]:
    """``SPOTOPT_JOB_PERIODS="monitor_agent_health=30,..."``: period overrides in seconds, by job name."""
    pairs = (item.split("=", 1) for item in raw.split(",") if item.strip())
    return tuple((name.strip(), int(seconds)) for name, seconds in pairs)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5000
    debug: bool = False
    db_pool_size: int = 10
    enable_background_jobs: bool = True
    redis_url: str | None = None
    model_dir: Path = Path("data/models")
    agent_heartbeat_timeout: int = 120
    admin_token: str | None = None
    agent_rate_limit: int = 600
    client_rate_limit: int = 300
    admin_rate_limit: int = 300
    auth_failure_limit: int = 30
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    max_body_bytes: int = 1024 * 1024
    auto_migrate: bool = True
    job_queue_name: str = "spotopt"
    job_periods: tuple[tuple[str, int], ...] = ()
    # Issue 10 (the hot path): in-process token cache TTL (CL-1's cross-process bound; 0 disables it).
    token_cache_ttl: float = 5.0

    @property
    def is_embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("SPOTOPT_DATA_DIR") or "data").resolve()
        admin_token = env.get("SPOTOPT_ADMIN_TOKEN") or None
        if admin_token is not None and len(admin_token) < 32:
            raise ValueError("SPOTOPT_ADMIN_TOKEN must be at least 32 characters")
        return cls(
            database_url=database_url(env, data_dir),
            data_dir=data_dir,
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 5000),
            debug=_bool(env, "DEBUG", False),
            db_pool_size=_int(env, "DB_POOL_SIZE", 10),
            enable_background_jobs=_bool(env, "ENABLE_BACKGROUND_JOBS", True),
            redis_url=env.get("REDIS_URL") or None,
            model_dir=Path(env.get("MODEL_DIR") or data_dir / "models"),
            agent_heartbeat_timeout=_int(env, "AGENT_HEARTBEAT_TIMEOUT", 120),
            admin_token=admin_token,
            agent_rate_limit=_int(env, "SPOTOPT_AGENT_RATE_LIMIT", 600),
            client_rate_limit=_int(env, "SPOTOPT_CLIENT_RATE_LIMIT", 300),
            admin_rate_limit=_int(env, "SPOTOPT_ADMIN_RATE_LIMIT", 300),
            cors_origins=tuple(o.strip() for o in (env.get("SPOTOPT_CORS_ORIGINS") or "").split(",") if o.strip()),
            auto_migrate=_bool(env, "SPOTOPT_AUTO_MIGRATE", True),
            job_queue_name=env.get("SPOTOPT_JOB_QUEUE") or "spotopt",
            job_periods=_job_periods(env.get("SPOTOPT_JOB_PERIODS") or ""),
            token_cache_ttl=float(env.get("SPOTOPT_TOKEN_CACHE_TTL") or 5.0),
        )


def database_url(env: Mapping[str, str], data_dir: Path) -> str:
    """``DATABASE_URL`` wins; else ``DB_HOST`` & co. build a MySQL URL; else the embedded SQLite file.

    No password has a default: without ``DB_PASSWORD`` the connection is made without one.
    """
    if env.get("DATABASE_URL"):
        url = env["DATABASE_URL"]
        for legacy, modern in (("mysql://", "mysql+asyncmy://"), ("mysql+pymysql://", "mysql+asyncmy://")):
            if url.startswith(legacy):
                url = modern + url[len(legacy) :]
        if url.startswith("sqlite:///"):
            url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url
    if env.get("DB_HOST"):
        user = quote_plus(env.get("DB_USER") or "root")
        password = env.get("DB_PASSWORD")
        auth = f"{user}:{quote_plus(password)}" if password else user
        host, port, name = env["DB_HOST"], env.get("DB_PORT") or "3306", env.get("DB_NAME") or "spotopt"
        return f"mysql+asyncmy://{auth}@{host}:{port}/{name}?charset=utf8mb4"
    return f"sqlite+aiosqlite:///{data_dir / 'spotopt.db'}"
