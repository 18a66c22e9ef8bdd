"""A real Orthanc PACS for tests and the benchmark: generated config, loopback ports, torn down after.

:class:`OrthancServer` writes a JSON configuration into a temporary folder (its own storage and
index there), starts ``Orthanc`` on 127.0.0.1 with free DICOM and HTTP ports and the DICOMweb
plugin, waits until its REST API answers, and kills it on :meth:`stop`. The Debian packages are
``orthanc`` and ``orthanc-dicomweb`` (``scripts/setup.sh`` installs them); the system service is
never used.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ORTHANC_BINARY = shutil.which("Orthanc") or ("/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").exists() else None)
DICOMWEB_PLUGIN_CANDIDATES = (
    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
    "/usr/lib/orthanc/libOrthancDicomWeb.so.1.7",
)
SKIP_REASON = "the Orthanc binary is not installed (Debian packages orthanc, orthanc-dicomweb; scripts/setup.sh installs them)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """``n`` loopback ports free now and distinct from each other (each is held while the next is chosen:
    two calls of :func:`free_port` in a row may return the same port, since the first was released)."""
    held = [socket.socket() for _ in range(n)]
    try:
        for s in held:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


class HeldPort:
    """A loopback port bound but never listening: connections to it are refused, and no other socket (an
    Orthanc, our listener) can be given it while it is held. ``close()`` releases it."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]

    def close(self) -> None:
        self._socket.close()


def dicomweb_plugin() -> str | None:
    return next((p for p in DICOMWEB_PLUGIN_CANDIDATES if Path(p).exists()), None)


class OrthancServer:
    """One Orthanc process. ``modalities``: {name: (ae_title, host, port, extra options)} it may move to."""

    def __init__(self, folder: Path, *, aet: str = "ORTHANC", modalities: dict | None = None) -> None:
        if ORTHANC_BINARY is None:
            raise RuntimeError(SKIP_REASON)
        self.folder = Path(folder)
        self.aet = aet
        self.dicom_port, self.http_port = free_ports(2)
        self.modalities = modalities or {}
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        return f"{self.base_url}/dicom-web"

    @property
    def dimse(self) -> str:
        return f"{self.aet}@127.0.0.1:{self.dicom_port}"

    def config(self) -> dict:
        modalities = {}
        for name, (ae, host, port, *extra) in self.modalities.items():
            entry = {"AET": ae, "Host": host, "Port": port}
            if extra:
                entry.update(extra[0])
            modalities[name] = entry
        plugin = dicomweb_plugin()
        return {
            "Name": "medstation-test",
            "StorageDirectory": str(self.folder / "storage"),
            "IndexDirectory": str(self.folder / "storage"),
            "DicomAet": self.aet,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomServerEnabled": True,
            "DicomModalities": modalities,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,  # an unknown AE may search and ask for a move (which then fails 0xA801)
            "DicomAlwaysAllowMove": True,
            "DicomCheckModalityHost": False,
            "DicomScpTimeout": 10,
            "StableAge": 1,
            "Plugins": [plugin] if plugin else [],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True, "StudiesMetadata": "Full",
                         "SeriesMetadata": "Full"},
        }

    def start(self, timeout_s: float = 30.0) -> "OrthancServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        config_path = self.folder / "orthanc.json"
        config_path.write_text(json.dumps(self.config(), indent=2))
        log = open(self.folder / "orthanc.log", "wb")
        self.process = subprocess.Popen([ORTHANC_BINARY, str(config_path)], stdout=log, stderr=subprocess.STDOUT,
                                        cwd=self.folder)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {self.process.returncode}: "
                                   f"{(self.folder / 'orthanc.log').read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/system", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("Orthanc did not answer within %.0f s" % timeout_s)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def upload(self, paths) -> list[str]:
        """POST each DICOM file to ``/instances``; returns Orthanc's instance ids."""
        ids = []
        for path in paths:
            req = urllib.request.Request(f"{self.base_url}/instances", data=Path(path).read_bytes(),
                                         headers={"Content-Type": "application/dicom"}, method="POST")
            with urllib.request.urlopen(req, timeout=30) as r:
                ids.append(json.loads(r.read())["ID"])
        return ids

    def get_json(self, path: str):
        with urllib.request.urlopen(f"{self.base_url}{path}", timeout=30) as r:
            return json.loads(r.read())

    def __enter__(self) -> "OrthancServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
