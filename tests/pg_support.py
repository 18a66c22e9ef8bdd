"""A real PostgreSQL server for the tests: the store's tests run on SQLite and on PostgreSQL.

The server is the one ``scripts/test.sh`` started (``MEDSTATION_TEST_PG_URL``, a superuser URL);
without it the first test that needs one starts a throw-away cluster with
``scripts/pg_test_server.sh`` and stops it at the end of the session. When no server can be
started the PostgreSQL variants are skipped with the reason, except where
``MEDSTATION_TEST_PG=require`` (CI) makes that a failure.

Each test gets its own database, cloned from a template migrated once to Alembic's head
(``CREATE DATABASE ... TEMPLATE``: milliseconds instead of a migration run per test).

Modules opt in with ``pytestmark = pytest.mark.both_engines``: their tests that use the ``db``
fixture (or ``store_location``) then run once per engine, ids ``[sqlite]`` and ``[postgresql]``.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("sqlite", "postgresql")
TEMPLATE = "medstation_template"


def _admin_url_from_script(tmp_factory) -> tuple[str | None, str, Path | None]:
    """(admin URL or None, reason, cluster dir to stop)."""
    try:
        proc = subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "start"], capture_output=True,
                              text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"scripts/pg_test_server.sh did not run: {exc}", None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None, f"scripts/pg_test_server.sh could not start PostgreSQL: {proc.stderr.strip()[-400:]}", None
    url = proc.stdout.strip().splitlines()[-1]
    cluster = proc.stderr.split("started in ", 1)[1].split(" ", 1)[0] if "started in " in proc.stderr else None
    return url, "", Path(cluster) if cluster else None


def _sql(admin_url: str, *statements: str, database: str = "postgres") -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(drivername="postgresql", database=database)
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def database_url(admin_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory):
    """A superuser URL on a running PostgreSQL server, with a migrated template database."""
    url, reason, cluster = os.environ.get("MEDSTATION_TEST_PG_URL"), "", None
    if not url:
        url, reason, cluster = _admin_url_from_script(tmp_path_factory)
    if url is None:
        if os.environ.get("MEDSTATION_TEST_PG") == "require":
            pytest.fail(f"PostgreSQL is required here (MEDSTATION_TEST_PG=require): {reason}")
        pytest.skip(f"PostgreSQL variant skipped: {reason}")
    from medstation.store.database import upgrade_to_head
    from medstation.store.engine import make_server_engine

    _sql(url, f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)', f'CREATE DATABASE "{TEMPLATE}"')
    engine = make_server_engine(database_url(url, TEMPLATE))
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    yield url
    if cluster is not None:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "stop", str(cluster)], timeout=60)


@pytest.fixture
def pg_url(pg_admin_url):
    """A fresh database at head for one test (an app URL with the superuser's credentials); dropped after."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _sql(pg_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    yield database_url(pg_admin_url, name)
    _sql(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_generate_tests(metafunc) -> None:
    """Run ``both_engines`` tests that use the store once per engine."""
    if metafunc.definition.get_closest_marker("both_engines") is None:
        return
    names = [name for name in ("db", "store_location") if name in metafunc.fixturenames]
    if names:  # both names get the same engine (and, on PostgreSQL, the same test database)
        metafunc.parametrize(names, [(engine,) * len(names) for engine in ENGINES], indirect=True, ids=ENGINES)
