"""How many llama.cpp threads to use for the next answer, given what else wants the CPU right now.

llama.cpp splits every token's work evenly between its threads and waits for the slowest. With as
many threads as cores and one other busy process, each token waits for a thread that only gets half
a core: on 2 cores, 2 threads then decode 30.7 tokens/s where 1 thread keeps 44.7 (quiet: 71.0 and
44.9; ``docs/MEASUREMENTS.md``). So before each answer the runnable-task count of ``/proc/loadavg``
is sampled a few times; when other programs are running, one thread fewer is used. Threads of this
process are not counted: the app's own background work pauses while an answer streams
(:mod:`medstation.foreground`), so a slice already in flight when the answer starts is over in well
under a second (counting it cost the answer 2 s of first token on a 1-thread prompt).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

LOADAVG = Path("/proc/loadavg")


def own_runnable(task_dir: Path = Path("/proc/self/task")) -> int:
    """Threads of this process that are running or runnable now (state R), the caller included."""
    count = 0
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return 1
    for task in tasks:
        try:
            if (task / "stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
                count += 1
        except (OSError, IndexError):
            continue  # the thread ended meanwhile
    return max(1, count)


def runnable_others(samples: int = 5, interval_s: float = 0.01, path: Path = LOADAVG,
                    task_dir: Path = Path("/proc/self/task")) -> int | None:
    """Median number of runnable tasks outside this process, or None where ``/proc`` is absent."""
    counts = []
    for i in range(samples):
        try:
            running = path.read_text().split()[3].split("/")[0]  # "R/T": runnable / all scheduling entities
            counts.append(max(0, int(running) - own_runnable(task_dir)))
        except (OSError, IndexError, ValueError):
            return None
        if i + 1 < samples:
            time.sleep(interval_s)
    return int(statistics.median(counts))


def threads_for_answer(configured: int, cpus: int, others: int | None) -> int:
    """Threads for the next answer: ``configured``, but no more than the cores other programs leave free.

    ``others`` None (unknown) keeps ``configured``; never below 1."""
    if others is None or configured <= 1:
        return max(1, configured)
    free = max(1, cpus - others)
    return max(1, min(configured, free))
