"""Datasette served by the daemon, over real HTTP, reading while the daemon writes."""

import json
import shutil
import signal
import urllib.request

from .conftest import HF_API, Daemon


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_datasette_serves_the_tables_with_descriptions(tmp_path):
    daemon = Daemon(tmp_path / "data", "--samples", datasette=True)
    try:
        daemon.wait_idle(digests=5)
        tables = {t["name"]: t for t in get_json(f"{daemon.datasette_url}/seenpapers.json")["tables"]}
        assert {"digests", "papers", "sightings", "duplicates", "reads", "failures", "papers_fts"} <= set(tables)
        assert tables["papers"]["count"] == 172
        rows = get_json(f"{daemon.datasette_url}/seenpapers/papers.json?_search=DirectPred&_shape=array")
        assert [r["title"] for r in rows] == ["Understanding self-supervised Learning Dynamics without Contrastive Pairs"]
        metadata = get_json(f"{daemon.datasette_url}/-/metadata.json")
        assert "digests" in metadata["databases"]["seenpapers"]["tables"]
    finally:
        assert daemon.stop(signal.SIGTERM) == 0


def test_datasette_reads_while_the_daemon_writes(tmp_path):
    daemon = Daemon(tmp_path / "data", datasette=True)
    try:
        files = sorted(HF_API.glob("*.json"))
        for path in files:
            shutil.copyfile(path, daemon.inbox / path.name)
        url = f"{daemon.datasette_url}/seenpapers/digests.json?_shape=array&_size=max"
        # Every read during the ingests answers (urlopen raises on an error page).
        daemon.wait_for(lambda: len(get_json(url)) == len(files), what="all digests visible in Datasette")
        assert "database is locked" not in daemon.log_text()
    finally:
        daemon.stop()
