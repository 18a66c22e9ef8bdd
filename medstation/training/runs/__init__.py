"""Training runs: the persisted queue (``queue``), what one run will do (``plan``), its progress bar
(``progress``) and the retraining schedules that queue runs (``schedules``).

The queue API is this package's API (``runs.enqueue``, ``runs.get``, ``runs.finish`` ...).
"""

from medstation.training.runs.queue import (LOG_TAIL_CHARS, ProgressWriter, RunError, RunInfo, enqueue, finish, get,
                                            list_runs, log_tail, mark_running, metrics_of, next_queued,
                                            record_epoch, record_progress, recover_stale_runs)

__all__ = ["LOG_TAIL_CHARS", "ProgressWriter", "RunError", "RunInfo", "enqueue", "finish", "get", "list_runs",
           "log_tail", "mark_running", "metrics_of", "next_queued", "record_epoch", "record_progress",
           "recover_stale_runs"]
