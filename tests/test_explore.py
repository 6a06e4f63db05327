"""Datasette served by the daemon (`seenpapers run`) and alone (`seenpapers explore`), over
real HTTP, reading while the daemon writes. What the pages and queries say in detail is in
test_datasette.py."""

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from .conftest import HF_API, SEENPAPERS, Daemon


def get(url):
    """(status, body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get_json(url):
    status, body = get(url)
    assert status == 200, (url, status, body[:500])
    return json.loads(body)


def canned(base, name, **params):
    return get_json(f"{base}/seenpapers/{name}.json?_shape=array&{urllib.parse.urlencode(params)}")


def test_datasette_serves_the_history_with_descriptions_queries_search_and_charts(tmp_path):
    daemon = Daemon(tmp_path / "data", "--samples", datasette=True)
    try:
        daemon.wait_idle(digests=5)
        base = daemon.datasette_url
        metadata = get_json(f"{base}/-/metadata.json")
        assert metadata["databases"]["seenpapers"]["tables"]["papers"]["description"]
        listing = get_json(f"{base}/seenpapers.json")
        tables = {t["name"]: t for t in listing["tables"]}
        assert {"digests", "papers", "sightings", "duplicates", "reads", "failures", "papers_fts"} <= set(tables)
        assert tables["papers"]["count"] == 172 and tables["match_keys"]["hidden"]
        assert {v["name"] for v in listing["views"]} == {"paper_history", "digest_history"}
        # Full-text search is filled once the first ingests are done.
        daemon.wait_for(lambda: get_json(f"{base}/seenpapers/papers.json?_search=DirectPred&_shape=array"),
                        what="the search index")
        rows = get_json(f"{base}/seenpapers/papers.json?_search=Matryoshka&_shape=array")
        assert "Matryoshka Representation Learning" in {r["title"] for r in rows}
        # Every canned query answers, with what the five sample digests hold.
        queries = metadata["databases"]["seenpapers"]["queries"]
        over_time = canned(base, "digests_over_time")
        assert len(over_time) == 5
        assert (sum(r["new_papers"] for r in over_time), sum(r["seen_again"] for r in over_time)) == (172, 67)
        never_read = canned(base, "shown_often_never_read", min_digests=5)
        assert {r["title"] for r in never_read} == {"Matryoshka Representation Learning",
                                                    "Vector representations of text data in deep learning"}
        assert len(canned(base, "new_in_last_days", days=100000)) == 172
        assert {r["title"] for r in canned(base, "about_topic", topic="Matryoshka")} == {
            "Matryoshka Representation Learning", "2D Matryoshka Sentence Embeddings",
            "Starbucks: Improved Training for 2D Matryoshka Embeddings"}
        assert canned(base, "duplicate_pairs") == []
        assert canned(base, "reading_log") == []
        # A paper marked read through the API shows in Datasette at once.
        paper_id = never_read[0]["paper_id"]
        assert daemon.request("POST", "/api/v1/read", {"paper_ids": [paper_id]})[0] == 200
        assert [r["paper_id"] for r in canned(base, "reading_log")] == [paper_id]
        for name in queries:
            assert get(f"{base}/seenpapers/{name}")[0] == 200, name
        status, page = get(f"{base}/-/dashboards/history")
        assert status == 200 and b"vega-lite.min.js" in page
        assert get(f"{base}/seenpapers.json?sql=DELETE+FROM+reads")[0] == 400
    finally:
        assert daemon.stop(signal.SIGTERM) == 0


def sixty_digests(folder):
    """60 distinct Hugging Face API digests, on 60 days, made of the real fixture papers:
    each shows 14 papers, some new and some seen the days before."""
    pool = [item for path in sorted(HF_API.glob("*.json")) for item in json.loads(path.read_text(encoding="utf-8"))]
    folder.mkdir()
    files = []
    for i in range(60):
        items = [pool[(i * 7 + j) % len(pool)] for j in range(14)]
        path = folder / f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}.json"
        path.write_text(json.dumps(items), encoding="utf-8")
        files.append(path)
    return files


READS = [
    "/seenpapers/digests.json?_shape=array&_size=max",
    "/seenpapers/paper_history.json?_size=20",
    "/seenpapers/digests_over_time.json?_shape=array",
    "/seenpapers/papers.json?_search=language&_shape=array",
    "/seenpapers/shown_often_never_read.json?_shape=array&min_digests=2",
    "/seenpapers/papers?_sort_desc=id&_size=20",
    "/seenpapers/sightings?_facet=digest_id",
    "/seenpapers/about_topic.json?_shape=array&topic=model",
    "/-/dashboards/history",
    "/seenpapers/duplicate_pairs.json?_shape=array",
]


def test_datasette_answers_150_reads_during_a_60_file_ingest(tmp_path):
    files = sixty_digests(tmp_path / "digests")
    daemon = Daemon(tmp_path / "data", datasette=True)
    try:
        base = daemon.datasette_url
        statuses, digest_counts = [], []
        for i, path in enumerate(files):
            shutil.copyfile(path, daemon.inbox / path.name)
            for _ in range(3 if i % 2 == 0 else 2):  # 150 reads in all, between the drops
                url = base + READS[len(statuses) % len(READS)]
                status, body = get(url)
                statuses.append((status, url))
                if status == 200 and url.endswith("_size=max"):
                    digest_counts.append(len(json.loads(body)))
        assert len(statuses) == 150
        assert [s for s in statuses if s[0] != 200] == []
        assert len(set(digest_counts)) > 1  # the reads saw the database grow under them
        url = f"{base}/seenpapers/digests.json?_shape=array&_size=max"
        daemon.wait_for(lambda: len(get_json(url)) == 60, what="all 60 digests visible in Datasette")
        assert sum(r["papers"] for r in canned(base, "digests_over_time")) == 60 * 14
        assert "database is locked" not in daemon.log_text()
    finally:
        assert daemon.stop() == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_explore_serves_datasette_alone_on_a_new_data_dir(tmp_path):
    port = free_port()
    proc = subprocess.Popen([SEENPAPERS, "explore", "--data-dir", str(tmp_path / "data"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == f"Datasette on http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                listing = get_json(f"http://127.0.0.1:{port}/seenpapers.json")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.1)
        assert {v["name"] for v in listing["views"]} == {"paper_history", "digest_history"}
        assert get_json(f"http://127.0.0.1:{port}/seenpapers/digests_over_time.json?_shape=array") == []
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
        proc.stderr.close()
