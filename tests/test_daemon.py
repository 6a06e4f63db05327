"""The daemon's life with real files: drop, slow writers, downtime, kill -9, bad input."""

import os
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from .conftest import HF_API, HF_API_ODD, SEEDS, SEENPAPERS, _table_counts


def sightings_of(db_path):
    """Every sighting as (digest sha256, position, title shown, paper's key): ids aside."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return sorted(conn.execute(
            "SELECT d.sha256, s.position, s.title, coalesce(p.arxiv_id, p.title_key) FROM sightings s"
            " JOIN digests d ON d.id = s.digest_id JOIN papers p ON p.id = s.paper_id"))
    finally:
        conn.close()


def test_a_file_dropped_in_the_inbox_becomes_visible(daemon):
    assert daemon.lookup("Matryoshka Representation Learning")[0]["status"] == "new"
    shutil.copyfile(SEEDS / "000_be2405954437598b.txt", daemon.inbox / "digest.txt")
    daemon.wait_for(lambda: daemon.lookup("Matryoshka Representation Learning")[0]["status"] == "seen", what="ingest")
    assert daemon.health()["digests"] == 1


def test_a_slow_writer_gives_one_complete_digest(daemon):
    body = (SEEDS / "004_3a77ad475cd25961.txt").read_bytes()
    with open(daemon.inbox / "slow.txt", "wb") as f:
        for i in range(0, len(body), len(body) // 4 + 1):
            f.write(body[i:i + len(body) // 4 + 1])
            f.flush()
            time.sleep(0.7)  # longer than any quiet period a watcher might wait for
    daemon.wait_idle(digests=1)
    time.sleep(0.5)
    counts = _table_counts(daemon.data_dir / "seenpapers.db")
    assert (counts["digests"], counts["sightings"], counts["failures"]) == (1, 65, 0)


def test_partial_names_wait_until_renamed(daemon):
    partial = daemon.inbox / "papers.json.crdownload"
    partial.write_bytes((HF_API / "2024-11-07.json").read_bytes())
    hidden = daemon.inbox / ".papers.json"
    hidden.write_bytes((HF_API / "2025-07-07.json").read_bytes())
    time.sleep(0.5)
    assert daemon.health()["digests"] == 0
    partial.rename(daemon.inbox / "papers.json")
    daemon.wait_idle(digests=1)
    assert partial.exists() is False and hidden.exists()  # the user's files are left as they are


def test_files_that_arrived_while_down_are_ingested_at_start(start_daemon, tmp_path):
    first = start_daemon()
    assert first.stop() == 0
    for path in sorted(HF_API.glob("*.json"))[:4]:
        shutil.copyfile(path, first.inbox / path.name)
    second = start_daemon()
    second.wait_idle(digests=4)
    assert second.health()["digests"] == 4


def test_files_already_there_are_ingested_oldest_first(start_daemon, tmp_path):
    # Oldest first, as a one-shot ingest of them would go: which title a paper keeps and which
    # of two papers is the duplicate depend on it. (Their checks used to end in any order.)
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    sources = sorted(HF_API.glob("*.json")) + sorted(SEEDS.glob("*.txt"))
    names = [f"{n:03d}-{path.name}" for n in range(6) for path in sources]
    stamp = time.time() - 10_000
    for age, name in enumerate(reversed(names)):  # the last name is the oldest file
        source = sources[names.index(name) % len(sources)]
        (inbox / name).write_bytes(source.read_bytes() + b"\n" * (names.index(name) // len(sources)))
        os.utime(inbox / name, (stamp + age, stamp + age))
    running = start_daemon()
    running.wait_idle(digests=len(names))
    conn = sqlite3.connect(f"file:{running.data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    ingested = [name for (name,) in conn.execute("SELECT name FROM digests ORDER BY id")]
    conn.close()
    assert ingested == list(reversed(names))


def test_sigterm_stops_cleanly_and_logs_to_the_data_dir(daemon):
    assert daemon.stop(signal.SIGTERM) == 0
    log = (daemon.data_dir / "seenpapers.log").read_text()
    assert "stopping" in log and "stopped" in log


def test_kill_9_mid_batch_loses_and_doubles_nothing(start_daemon, tmp_path):
    # Enough distinct digests that the batch is still running when the kill comes: real
    # files, and copies with trailing blank lines (other bytes, the same papers seen again).
    staging = tmp_path / "staging"
    staging.mkdir()
    files = []
    for path in sorted(HF_API.glob("*.json")) + sorted(HF_API_ODD.glob("*.json")) + sorted(SEEDS.glob("*.txt")):
        for copy in range(5):
            files.append(staging / f"{copy}-{path.name}")
            files[-1].write_bytes(path.read_bytes() + b"\n" * copy)
    first = start_daemon()
    for path in files:
        shutil.copyfile(path, first.inbox / path.name)
    first.wait_for(lambda: _table_counts(first.data_dir / "seenpapers.db")["digests"] >= 3, what="some ingests")
    first.proc.kill()  # SIGKILL, mid-batch
    first.proc.wait()
    partial = _table_counts(first.data_dir / "seenpapers.db")["digests"]
    # ... and again at other moments of the restart's own catch-up
    for delay in (0.05, 0.3, 0.6):
        again = start_daemon()
        time.sleep(delay)
        again.proc.kill()
        again.proc.wait()
    second = start_daemon()
    second.wait_idle(digests=len(files))
    # A clean, one-shot ingest of the same files in the same order gives the same sightings.
    clean_dir = tmp_path / "clean"
    done = subprocess.run([SEENPAPERS, "ingest", "--data-dir", str(clean_dir), *map(str, files)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert partial < len(files)
    assert sightings_of(second.data_dir / "seenpapers.db") == sightings_of(clean_dir / "seenpapers.db")
    assert _table_counts(second.data_dir / "seenpapers.db") == _table_counts(clean_dir / "seenpapers.db")


@pytest.mark.parametrize(
    "name,body,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("binary.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40, "binary file"),
        ("truncated.json", (HF_API / "2025-03-12.json").read_bytes()[:20000], "truncated"),
    ],
)
def test_bad_files_are_recorded_and_the_daemon_keeps_serving(daemon, name, body, reason):
    (daemon.inbox / name).write_bytes(body)
    daemon.wait_idle(digests=0, failures=1)
    conn = sqlite3.connect(f"file:{daemon.data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    [(got_name, error)] = conn.execute("SELECT name, error FROM failures").fetchall()
    conn.close()
    assert got_name == name and reason in error
    assert daemon.health()["status"] == "ok"
    assert daemon.lookup("anything")[0]["status"] == "new"
    assert (daemon.inbox / name).read_bytes() == body  # never rewritten or deleted


def test_a_huge_file_is_refused_and_a_latin_1_page_is_read(daemon):
    with open(daemon.inbox / "huge.txt", "wb") as f:
        f.truncate(33 * 1024 * 1024)
    page = "byAK and the research community\n\nMar 11\n\nR\u00e9seaux de neurones: une \u00e9tude\n"
    (daemon.inbox / "latin1.txt").write_bytes(page.encode("latin-1"))
    daemon.wait_idle(digests=1, failures=1)
    assert daemon.lookup("Réseaux de neurones: une étude")[0]["status"] == "seen"


def test_an_extra_inbox_with_a_name_pattern_takes_only_matching_files(start_daemon, tmp_path):
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    running = start_daemon("--inbox", str(downloads / "daily_papers*.json"))
    shutil.copyfile(HF_API / "2024-11-07.json", downloads / "holiday-photos.json")
    shutil.copyfile(HF_API / "2025-07-07.json", downloads / "daily_papers_2025-07-07.json")
    running.wait_idle(digests=1)
    time.sleep(0.3)
    conn = sqlite3.connect(f"file:{running.data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    assert conn.execute("SELECT name FROM digests").fetchall() == [("daily_papers_2025-07-07.json",)]
    conn.close()


def test_the_same_file_dropped_twice_is_one_digest(daemon):
    shutil.copyfile(SEEDS / "002_1b60d9b1a3c1c899.txt", daemon.inbox / "a.txt")
    daemon.wait_idle(digests=1)
    shutil.copyfile(SEEDS / "002_1b60d9b1a3c1c899.txt", daemon.inbox / "b.txt")
    os.utime(daemon.inbox / "a.txt")  # touching a known file changes nothing either
    time.sleep(0.6)
    counts = _table_counts(daemon.data_dir / "seenpapers.db")
    assert (counts["digests"], counts["sightings"]) == (1, 48)


def test_a_folder_moved_into_the_inbox_brings_its_files(daemon, tmp_path):
    batch = tmp_path / "batch"
    (batch / "inner").mkdir(parents=True)
    shutil.copyfile(HF_API / "2024-11-07.json", batch / "a.json")
    shutil.copyfile(HF_API / "2025-07-07.json", batch / "inner" / "b.json")
    batch.rename(daemon.inbox / "batch")
    daemon.wait_idle(digests=2)
