"""The report folder is replaced as a whole: kills and concurrent runs never mix two reports.

A run writes the whole report into a temporary folder beside ``--out/<scenario>`` and swaps it
in at once, under a lock. The runs here use the hand-worked data (seconds each); a run in a
subprocess is paused just before its swap by ``ROUTES_TEST_PAUSE_BEFORE_SWAP`` so that the
test can kill it at a known point inside the write.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from routes.cli import main
from routes.io import PAUSE_ENV, dir_lock, replace_dir

HAND = Path(__file__).parent / "data" / "handworked"
FAST = ("--no-progress", "--no-map", "--runs", "0")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(HAND, d)
    return d


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) -> sha256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def report(data: Path, out: Path) -> int:
    return main(["report", "--data", str(data), "--out", str(out), *FAST])


def start(data: Path, out: Path, pause: float) -> subprocess.Popen[bytes]:
    env = dict(os.environ, **{PAUSE_ENV: str(pause)})
    # Ctrl-C as at a terminal: the run starts with SIGINT at its default disposition and
    # unblocked, whatever the test process inherited or set.
    return subprocess.Popen([sys.executable, "-m", "routes", "report", "--data", str(data),
                             "--out", str(out), *FAST], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def wait_for_temporary(out: Path, name: str, proc: subprocess.Popen[bytes]) -> Path:
    """Wait until the run's temporary folder holds ``name``; return the folder."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for tmp in out.glob(".baseline.*.tmp"):
            if (tmp / name).exists():
                return tmp
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("the run never reached its write")


def change_supply(data: Path) -> None:
    """Make a second run's tables differ from the first's."""
    p = data / "places.csv"
    p.write_text(p.read_text().replace("origin,10,", "origin,7,"))


@pytest.mark.parametrize("at", ["summary.csv", "index.html"])
def test_kill_during_the_write_keeps_the_earlier_report(data, tmp_path, at):
    out = tmp_path / "out"
    assert report(data, out) == 0
    (out / "baseline" / "notes.txt").write_text("a file of the user's")
    before = tree(out / "baseline")
    change_supply(data)
    proc = start(data, out, pause=600)
    # "summary.csv": among the first files written; "index.html": the last one, just
    # before the swap.
    wait_for_temporary(out, at, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert tree(out / "baseline") == before  # intact, byte for byte
    # The next run cleans up the killed run's temporary folder and writes the new report.
    assert report(data, out) == 0
    assert not list(out.glob(".baseline.*.tmp"))
    after = tree(out / "baseline")
    assert after["summary.csv"] != before["summary.csv"]
    assert after["notes.txt"] == before["notes.txt"]  # another's file is kept
    files = json.loads((out / "baseline" / "provenance.json").read_text())["files"]
    assert set(after) == {*files, "notes.txt"}


def test_two_concurrent_reports_into_the_same_folder(data, tmp_path, capsys):
    out = tmp_path / "out"
    assert report(data, out) == 0
    before = tree(out / "baseline")
    change_supply(data)
    first = start(data, out, pause=600)
    wait_for_temporary(out, "index.html", first)  # the first run holds the lock
    capsys.readouterr()
    t0 = time.perf_counter()
    assert report(data, out) == 2
    err = capsys.readouterr().err
    assert f"{out / 'baseline'} is being written by another routes run" in err
    assert "wait for it to finish or choose another output folder" in err
    assert time.perf_counter() - t0 < 20  # fails at once, before any analysis
    # Interrupted (Ctrl-C), the first run removes its temporary folder; the report is intact.
    first.send_signal(signal.SIGINT)
    try:
        first.communicate(timeout=60)
    except subprocess.TimeoutExpired:   # say where it hangs rather than only that it does
        first.kill()
        out_, err_ = first.communicate()
        raise AssertionError(f"the run ignored Ctrl-C; it wrote: {err_.decode()[-2000:]}") from None
    assert first.returncode == 130
    assert not list(out.glob(".baseline.*.tmp"))
    assert tree(out / "baseline") == before


def test_two_real_concurrent_reports_never_mix(data, tmp_path):
    out = tmp_path / "out"
    procs = [start(data, out, pause=0) for _ in range(2)]
    results = [(p.returncode, err.decode()) for p in procs
               for _, err in [p.communicate(timeout=600)]]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2])  # one waits its turn (finished first) or fails clearly
    for code, err in results:
        assert "Traceback" not in err
        if code == 2:
            assert "is being written by another routes run" in err
    prov = json.loads((out / "baseline" / "provenance.json").read_text())
    assert set(tree(out / "baseline")) == set(prov["files"])


def test_replace_dir_swaps_whole_and_keeps_foreign_files(tmp_path):
    target = tmp_path / "r"
    target.mkdir()
    (target / "old.csv").write_text("old")
    (target / "theirs.csv").write_text("theirs")
    with replace_dir(target, keep=lambda e: e.name != "old.csv") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".r.")
        (tmp / "new.csv").write_text("new")
        assert (target / "old.csv").exists()  # nothing changes before the swap
    assert sorted(p.name for p in target.iterdir()) == ["new.csv", "theirs.csv"]
    with pytest.raises(RuntimeError), replace_dir(target) as tmp:
        (tmp / "half.csv").write_text("half")
        raise RuntimeError("failed mid-write")
    assert sorted(p.name for p in target.iterdir()) == ["new.csv", "theirs.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no lock file left


def test_dir_lock_is_reentrant_in_a_process(tmp_path):
    with dir_lock(tmp_path / "r") as lock, dir_lock(tmp_path / "r"):
        assert lock == tmp_path / ".r.lock" and lock.exists()
    assert list(tmp_path.iterdir()) == []  # the lock file goes with the lock


def test_a_normal_report_leaves_only_report_folders_in_out(data, tmp_path):
    """No lock file or other dot-file is left in --out, by one run or the next."""
    out = tmp_path / "out"
    assert report(data, out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["baseline"]
    assert main(["report", "--data", str(data), "--out", str(out), *FAST,
                 "--compare", "baseline", "baseline"]) == 0
    assert report(data, out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["baseline", "compare_baseline_vs_baseline"]


def test_a_lock_file_removed_by_its_releasing_holder_is_not_trusted(tmp_path, monkeypatch):
    """The unlink race: a run opens the lock file, its holder then removes it on release (and
    unlocks). The run's flock succeeds on the removed file; it must notice that the name no
    longer reaches that file and lock the current one instead, or a third run could lock a
    new file under the same name and both would write."""
    lock = tmp_path / ".r.lock"
    lock.write_text("")
    real_open, opened = os.open, []

    def open_then_released(path, flags, mode=0o777, **kw):
        fd = real_open(path, flags, mode, **kw)
        if Path(path) == lock:
            if not opened:
                os.unlink(lock)  # the previous holder releases just after our open
            opened.append(path)
        return fd

    monkeypatch.setattr(os, "open", open_then_released)
    with dir_lock(tmp_path / "r") as held:
        assert held.exists() and len(opened) == 2  # the removed file was dropped, retried
        monkeypatch.setattr(os, "open", real_open)
        # the file the name reaches is locked: another process fails at once
        code = ("import sys; from routes.io import dir_lock\n"
                "try:\n    dir_lock(sys.argv[1]).__enter__()\n"
                "except Exception as e:\n    print(e); sys.exit(3)\n")
        r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r")],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 3 and "is being written by another routes run" in r.stdout
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- issue 13, item 16
def test_folder_takes_the_file_name_and_headings_name_both(data, tmp_path, capsys):
    """The folder is named after the scenario's file, as typed; the headings show the TOML
    ``name`` and, where it differs, that file, so the page says which folder it is."""
    sc = tmp_path / "my_case.toml"
    sc.write_text('[scenario]\nname = "Middle <post> slowed"\n\n'
                  '[crossings.x_mid]\ndelay_h = 2.5\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["report", "--data", str(data), "--scenario", str(sc), "--out", str(out),
                 *FAST]) == 0
    assert "report Middle <post> slowed (my_case.toml):" in capsys.readouterr().out
    assert report(data, out) == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "baseline", "my_case"]
    page = (out / "my_case" / "index.html").read_text(encoding="utf-8")
    assert "<h1>routes report: Middle &lt;post&gt; slowed (my_case.toml)</h1>" in page
    assert "Scenario: Middle &lt;post&gt; slowed (my_case.toml)" in page
    md = (out / "my_case" / "report.md").read_text(encoding="utf-8")
    assert md.splitlines()[0] == "# routes report: Middle &lt;post&gt; slowed (my\\_case.toml)"
    # a scenario named as its file, and the baseline, show the name alone
    assert "<h1>routes report: baseline</h1>" in (out / "baseline" / "index.html").read_text(
        encoding="utf-8")
    same = tmp_path / "same_name.toml"
    same.write_text('[scenario]\nname = "same_name"\n', encoding="utf-8")
    assert main(["report", "--data", str(data), "--compare", str(same), str(sc), "--out",
                 str(out), *FAST]) == 0
    page = (out / "compare_same_name_vs_my_case" / "index.html").read_text(encoding="utf-8")
    assert ("<h1>routes comparison: same_name vs Middle &lt;post&gt; slowed (my_case.toml)"
            "</h1>") in page
