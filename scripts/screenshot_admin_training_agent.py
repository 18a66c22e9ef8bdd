"""Screenshot of the Admin tab showing a training run claimed by a training agent in another process (issue 25.5).

Starts a throw-away PostgreSQL cluster (``scripts/pg_test_server.sh``), queues two tiny real segmentation runs
from this "workstation" (``tests/agent_real_run.py``), starts ``medstation train-agent --once`` as a separate
process with its own data folder (the training machine), waits until its real ``train-worker`` is training
the first run, then opens the window on the Admin tab and saves it. The agent, its worker and the cluster
are stopped afterwards; nothing is kept but the PNG.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_admin_training_agent.py \\
        --out docs/screenshots/admin_training_agent.png
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_cluster(folder: Path) -> str:
    """A throw-away cluster in ``folder``; returns the URL of a migrated database ``clinic`` on it."""
    from tests.pg_support import _sql, database_url

    out = subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "start", str(folder)],
                         capture_output=True, text=True, timeout=180)
    if out.returncode != 0:
        raise RuntimeError(f"pg_test_server.sh could not start PostgreSQL: {out.stderr[-1000:]}")
    admin = out.stdout.strip().splitlines()[-1]
    _sql(admin, "CREATE DATABASE clinic")
    url = database_url(admin, "clinic")
    from medstation.store.database import upgrade_to_head
    from medstation.store.engine import make_server_engine

    engine = make_server_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    return url


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "admin_training_agent.png"))
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the agent's worker")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="medstation-agent-shot-"))
    work.chmod(0o755)  # as root the cluster runs as the `postgres` user, which must reach its folder inside
    cluster, home, shared, agent_home = work / "pg", work / "workstation", work / "shared", work / "training-machine"
    agent = None
    try:
        url = start_cluster(cluster)
        os.environ.update(MEDSTATION_HOME=str(home), MEDSTATION_DATABASE_URL=url,
                          MEDSTATION_SHARED_DATA_ROOT=str(shared), MEDSTATION_SAMPLE_STUDY="false",
                          MEDSTATION_KB_STARTER="false")
        from medstation.access.roles import Actor, Role, UserSession
        from medstation.config import Settings
        from medstation.store.database import Database
        from medstation.store.model_registry import ModelRegistry
        from medstation.training import runs
        from tests.agent_real_run import queue_tiny_run

        settings = Settings()
        settings.ensure_dirs()
        db = Database(url, anchor_root=shared)
        registry = ModelRegistry(db)
        first = queue_tiny_run(db, settings, registry, actor="admin")
        queue_tiny_run(db, settings, registry, actor="admin")  # waits behind it: "queued"

        env = {**os.environ, "MEDSTATION_HOME": str(agent_home), "PYTHONPATH": str(ROOT)}
        agent = subprocess.Popen([sys.executable, "-m", "medstation", "train-agent", "--once", "--kinds",
                                  "segmentation", "--heartbeat", "2"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        print(f"train-agent started as pid {agent.pid}", flush=True)
        wait_until(lambda: runs.get(db, first.id).progress.get("fraction", 0) > 0 or agent.poll() is not None,
                   args.timeout, "the agent's worker to start training")
        if agent.poll() is not None:
            raise RuntimeError(f"the agent ended early (exit {agent.returncode}): {runs.get(db, first.id).error}")
        print(f"run #{first.id} claimed by {runs.get(db, first.id).params['agent']['name']}", flush=True)
        db.close()
        return shoot(args.out, Actor("admin", Role.admin), UserSession)
    finally:
        if agent is not None and agent.poll() is None:
            os.killpg(agent.pid, signal.SIGKILL)  # the agent and its worker (the worker dies with the agent anyway)
            agent.wait()
        if (cluster / "data").exists():
            subprocess.run(["bash", str(ROOT / "scripts" / "pg_test_server.sh"), "stop", str(cluster)], timeout=120)
        shutil.rmtree(work, ignore_errors=True)


def shoot(out: str, actor, session_type) -> int:
    """Open the window on the Admin tab, refresh it, select the claimed run and save the PNG."""
    from PySide6.QtCore import QTimer

    from medstation.app import build_services
    from medstation.ui.launch import open_workstation

    services = build_services(session=session_type(actor))
    ws = open_workstation(services, size=(1600, 1000))
    ws.window.select_tab("admin")
    tab = ws.window.admin_tab

    def save() -> None:
        tab.runs_table.selectRow(1)  # the claimed run (the newest, still queued, is row 0)
        tab.runs_table.scrollToTop()
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        ws.window.grab().save(out)
        print(f"saved {out}", flush=True)
        ws.app.quit()

    handle = tab.refresh()
    handle.sig_finished.connect(lambda: QTimer.singleShot(4000, save))  # one live poll (3 s) after the load
    QTimer.singleShot(120000, ws.app.quit)
    ws.app.exec()
    ws.runner.shutdown()
    services.close()
    return 0 if Path(out).exists() else 1


if __name__ == "__main__":
    raise SystemExit(main())
