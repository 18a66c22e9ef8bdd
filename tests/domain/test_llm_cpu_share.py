"""Threads for the next answer: fewer than configured when other work is running right now."""

from medstation.llm.backends.cpu_share import runnable_others, threads_for_answer


def test_a_quiet_machine_keeps_the_configured_threads():
    assert threads_for_answer(2, 2, 0) == 2
    assert threads_for_answer(4, 8, 3) == 4


def test_other_running_work_takes_cores_away_but_never_the_last_one():
    assert threads_for_answer(2, 2, 1) == 1
    assert threads_for_answer(2, 2, 5) == 1
    assert threads_for_answer(8, 8, 3) == 5


def test_unknown_load_or_one_thread_changes_nothing():
    assert threads_for_answer(2, 2, None) == 2
    assert threads_for_answer(1, 2, 0) == 1
    assert threads_for_answer(0, 2, 0) == 1


def _tasks(tmp_path, states):
    tasks = tmp_path / "task"
    for tid, state in enumerate(states, start=100):
        (tasks / str(tid)).mkdir(parents=True)
        (tasks / str(tid) / "stat").write_text(f"{tid} (python (worker)) {state} 1 2 3\n")
    return tasks


def test_runnable_count_leaves_out_this_process_threads(tmp_path):
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("0.52 0.58 0.59 4/467 12345\n")
    reader_only = _tasks(tmp_path / "a", ["R", "S", "S"])
    assert runnable_others(samples=3, interval_s=0, path=loadavg, task_dir=reader_only) == 3
    # a background slice still in flight (two running threads of ours) is not another program
    busy_here = _tasks(tmp_path / "b", ["R", "R", "R", "S"])
    assert runnable_others(samples=1, path=loadavg, task_dir=busy_here) == 1
    loadavg.write_text("0.52 0.58 0.59 1/467 12345\n")
    assert runnable_others(samples=1, path=loadavg, task_dir=reader_only) == 0
    assert runnable_others(path=tmp_path / "absent") is None
    loadavg.write_text("garbage\n")
    assert runnable_others(samples=1, path=loadavg) is None


def test_the_real_proc_files_are_read():
    import os

    if os.path.exists("/proc/loadavg"):
        assert runnable_others(samples=1) is not None
