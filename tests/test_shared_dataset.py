"""Over the whole real data set in ../shared; skipped in a user's clone, which has none."""

import pytest

from seenpapers import ingest

from .conftest import SHARED

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not (SHARED / "digests").is_dir(), reason="../shared is not beside the project"),
]


def test_all_306_api_days_and_the_seeds_give_4409_papers(db):
    results = [ingest.ingest_file(db, p) for p in ingest.files_under([SHARED / "digests/seeds", SHARED / "digests/hf-api"])]
    assert len(results) == 311 and {r.status for r in results} == {"ingested"}
    assert sum(r.entries for r in results) == 239 + 4243
    assert db["papers"].count == 172 + 4243 - 6
    assert db["sightings"].count == 239 + 4243


def test_every_damaged_download_ingests(db):
    results = [ingest.ingest_file(db, p) for p in ingest.files_under([SHARED / "digests/hf-api-odd"])]
    assert len(results) == 22 and {r.status for r in results} == {"ingested"}
