"""Our own C-STORE SCP: the destination of a C-MOVE, and (on by choice) a storage target to push to.

:class:`StorageListener` binds ``(host, port)`` (all interfaces by default: a listener bound to
127.0.0.1 is exactly what makes a remote PACS answer 0xC502) and hands each received instance,
still encoded, to ``on_instance(sop_uid, series_uid, study_uid, part10_bytes)`` on pynetdicom's
association thread. :class:`ReceiveIndexer` is the "listen" mode's sink: it writes each instance
atomically under ``received/<study>/<series>/`` and indexes what arrived every ``flush_s`` seconds.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from pydicom import dcmread
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification

from medstation.fileio import atomic_write
from medstation.imaging.pacs.node import DEFAULT_LOCAL_AE, PacsError
from medstation.imaging.pacs.staging import safe_uid
from medstation.jobs import JobContext

log = logging.getLogger(__name__)
OnReceived = Callable[[str, str, str, bytes], None]


class StorageListener:
    """A running C-STORE (and C-ECHO) SCP. Use as a context manager or call :meth:`stop`."""

    def __init__(self, on_instance: OnReceived, *, ae_title: str = DEFAULT_LOCAL_AE, port: int = 11112,
                 host: str = "0.0.0.0") -> None:
        self.on_instance = on_instance
        self.ae_title, self.host, self.port = ae_title, host, port
        self.received = 0
        self._lock = threading.Lock()
        self._server = None

    def _handle_store(self, event) -> int:
        try:
            data = event.encoded_dataset(include_meta=True)
            header = dcmread(BytesIO(data), stop_before_pixels=True, specific_tags=[
                "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
            self.on_instance(str(header.SOPInstanceUID), str(header.SeriesInstanceUID),
                             str(header.StudyInstanceUID), data)
        except Exception:  # a bad instance is refused with "cannot understand", never kills the listener
            log.exception("a received instance could not be stored")
            return 0xC000
        with self._lock:
            self.received += 1
        return 0x0000

    def start(self) -> "StorageListener":
        ae = AE(ae_title=self.ae_title)
        ae.supported_contexts = AllStoragePresentationContexts
        ae.add_supported_context(Verification)
        ae.network_timeout = ae.dimse_timeout = ae.acse_timeout = 30
        try:
            self._server = ae.start_server((self.host, self.port), block=False,
                                           evt_handlers=[(evt.EVT_C_STORE, self._handle_store)])
        except OSError as exc:
            raise PacsError(f"cannot listen on {self.host}:{self.port} ({exc.strerror or exc}): another program "
                            f"(or a running `medstation pacs listen`) holds the port; pick another with --port") from exc
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> "StorageListener":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ReceiveIndexer:
    """Writes pushed instances under ``root/<study>/<series>/<sop>.dcm`` and indexes them in batches.

    ``index(paths)`` is called from this object's own thread (never the network thread), at most every
    ``flush_s`` seconds, with the files that arrived since the last call.
    """

    def __init__(self, root: Path, index: Callable[[list[Path]], None], *, flush_s: float = 1.0) -> None:
        self.root = Path(root)
        self.index = index
        self.flush_s = flush_s
        self.indexed = 0
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="pacs-receive-index", daemon=True)
        self._thread.start()

    def __call__(self, sop_uid: str, series_uid: str, study_uid: str, data: bytes) -> None:
        folder = self.root / safe_uid(study_uid, "Study Instance UID") / safe_uid(series_uid, "Series Instance UID")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{safe_uid(sop_uid, 'SOP Instance UID')}.dcm"
        atomic_write(target, data, durable=False)
        self._queue.put(target)

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[Path] = []
            try:
                item = self._queue.get(timeout=self.flush_s)
                stop = item is None
                if item is not None:
                    batch.append(item)
                while True:
                    item = self._queue.get_nowait()
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
            except queue.Empty:
                pass
            if batch:
                try:
                    self.index(sorted(set(batch)))
                    self.indexed += len(set(batch))
                except Exception:
                    log.exception("indexing received instances failed")

    def close(self) -> None:
        """Index what is still queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(60)


def listen(ctx: JobContext, on_instance: OnReceived, *, ae_title: str, port: int, host: str = "0.0.0.0",
           poll_s: float = 0.5) -> int:
    """Job: run the storage SCP until cancelled; returns how many instances were received."""
    with StorageListener(on_instance, ae_title=ae_title, port=port, host=host) as server:
        ctx.report(0.0, f"listening as {ae_title} on {host}:{server.port}")
        last = -1
        while not ctx.cancelled:
            if server.received != last:
                last = server.received
                ctx.report(0.0, f"listening as {ae_title} on {host}:{server.port}: {last} instances received")
            time.sleep(poll_s)
        return server.received
