import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from seenpapers import store

# CI runs the same examples every time (a new failure there is found locally first, where
# examples are random); a local run explores.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"
HF_API = FIXTURES / "hf-api"
HF_API_ODD = FIXTURES / "hf-api-odd"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data dir, also set as $SEENPAPERS_DATA_DIR for commands run in the test."""
    path = tmp_path / "data"
    monkeypatch.setenv("SEENPAPERS_DATA_DIR", str(path))
    return path


@pytest.fixture
def db(tmp_path):
    database = store.open_db(tmp_path / "seenpapers.db")
    yield database
    database.close()


def api_item(arxiv_id, title, summary="An abstract that says what the paper does."):
    """One paper as the Hugging Face daily-papers API gives it."""
    return {"paper": {"id": arxiv_id, "title": title, "summary": summary, "authors": [{"name": "A. Author"}],
                      "publishedAt": "2025-01-02T00:00:00.000Z", "upvotes": 3},
            "title": title, "publishedAt": "2025-01-03T00:00:00.000Z"}


def refuse_title(db, title):
    """A trigger that makes SQLite refuse to store a paper: a real failure while writing a file."""
    db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON papers WHEN new.title = '{title}'"
               " BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")


def copy_with_mtime(src: Path, dest_dir: Path, when: str) -> Path:
    """A copy of a fixture whose modification time is ``when`` (ISO), for year resolution."""
    from datetime import datetime

    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    shutil.copyfile(src, dest)
    stamp = datetime.fromisoformat(when).timestamp()
    os.utime(dest, (stamp, stamp))
    return dest


# --- the real daemon, as a separate process -------------------------------------------

import json as _json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

SEENPAPERS = str(Path(sys.executable).parent / "seenpapers")


class Daemon:
    """A ``seenpapers run`` process on a free loopback port, with a tiny HTTP client."""

    def __init__(self, data_dir: Path, *args: str, datasette: bool = False):
        self.data_dir = data_dir
        self.inbox = data_dir / "inbox"
        self.log = open(data_dir.parent / f"daemon-{time.monotonic_ns()}.log", "w+")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [SEENPAPERS, "run", "--data-dir", str(data_dir), "--port", "0",
             *(["--datasette-port", "0"] if datasette else ["--no-datasette"]), *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.log.seek(0)
            raise RuntimeError(f"daemon did not start: {line!r}\n{self.log.read()}")
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.token = (data_dir / "token").read_text().strip()
        self.datasette_url = self.proc.stdout.readline().split()[-1] if datasette else None

    def request(self, method, path, body=None, *, headers=None, token=True, raw=None, content_type="application/json"):
        """(status, headers, parsed JSON or None)."""
        data = raw if raw is not None else (None if body is None else _json.dumps(body).encode())
        all_headers = {}
        if data is not None:
            all_headers["Content-Type"] = content_type
        if token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        all_headers.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                payload = response.read()
                status, response_headers = response.status, response.headers
        except urllib.error.HTTPError as e:
            payload, status, response_headers = e.read(), e.code, e.headers
        return status, response_headers, (_json.loads(payload) if payload else None)

    def lookup(self, *titles):
        status, _, body = self.request("POST", "/api/v1/lookup", {"papers": [{"title": t} for t in titles]})
        assert status == 200, body
        return body["results"]

    def health(self):
        return self.request("GET", "/api/v1/health", token=False)[2]

    def wait_for(self, predicate, timeout=20.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.log_text()}")

    def wait_idle(self, digests: int, failures: int = 0):
        """Wait until the daemon has ingested ``digests`` digests and recorded ``failures``."""
        db = self.data_dir / "seenpapers.db"

        def settled():
            counts = _table_counts(db)
            return counts["digests"] >= digests and counts["failures"] >= failures

        return self.wait_for(settled, what=f"{digests} digests and {failures} failures")

    def log_text(self):
        self.log.flush()
        return Path(self.log.name).read_text()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode


def _table_counts(db_path: Path) -> dict:
    import sqlite3

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("digests", "papers", "sightings", "duplicates", "reads", "failures")}
    finally:
        conn.close()


def with_samples(folder: Path):
    """A daemon on a new data dir that holds the five sample digests: the body of a
    module-scoped fixture (``yield from with_samples(tmp_path_factory.mktemp(...))``)."""
    running = Daemon(folder / "data", "--samples")
    running.wait_idle(digests=5)
    yield running
    running.stop()


@pytest.fixture
def daemon(tmp_path):
    running = Daemon(tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture
def start_daemon(tmp_path):
    """Start (and restart) daemons on one data dir; all are stopped at the end."""
    started = []

    def start(*args, data_dir=None):
        running = Daemon(data_dir or tmp_path / "data", *args)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait()
