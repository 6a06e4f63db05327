from seenpapers import ingest, lookup

from .conftest import HF_API, SEEDS


def ingested(db):
    for path in ingest.files_under([SEEDS, HF_API]):
        ingest.ingest_file(db, path)
    return db


def test_unknown_papers_are_new_with_empty_fields(db):
    [answer] = lookup.lookup(ingested(db), [{"title": "A Paper Nobody Has Written Yet"}])
    assert answer == {
        "status": "new", "paper_id": None, "title": None, "first_seen": None, "last_seen": None,
        "times_seen": 0, "read_at": None, "digests": [], "duplicate_of": None, "same_as_index": None,
    }


def test_known_papers_are_found_by_id_url_or_title_variant(db):
    ingested(db)
    answers = lookup.lookup(db, [
        {"title": "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"},
        {"title": "whatever the page calls it", "arxiv_id": "2405.15738v2"},
        {"title": "", "url": "https://arxiv.org/abs/2405.15738"},
        {"title": "convllava  hierarchical backbones as visual encoder for large multimodal models!"},
    ])
    assert {a["paper_id"] for a in answers} == {answers[0]["paper_id"]} and answers[0]["paper_id"]
    assert answers[0]["status"] == "seen" and answers[0]["first_seen"] == "2024-05-27"
    assert [a["same_as_index"] for a in answers] == [None, 0, 0, 0]


def test_same_as_index_links_repeats_within_one_request_even_when_new(db):
    answers = lookup.lookup(ingested(db), [
        {"title": "Brand New Idea"}, {"title": "Other"}, {"title": "brand-new idea"},
        {"title": "X", "arxiv_id": "2601.00001"}, {"title": "Y", "arxiv_id": "2601.00001v2"},
        {"title": "Brand New Idea", "arxiv_id": "2601.99999"},
    ])
    assert [a["same_as_index"] for a in answers] == [None, None, 0, None, 3, 0]
    assert {a["status"] for a in answers} == {"new"}


def test_two_ids_with_one_title_in_a_request_are_not_the_same(db):
    answers = lookup.lookup(db, [{"title": "T", "arxiv_id": "2601.00001"}, {"title": "T", "arxiv_id": "2601.00002"}])
    assert answers[1]["same_as_index"] is None


def test_recent_digests_are_the_five_latest(db):
    [answer] = lookup.lookup(ingested(db), [{"title": "Matryoshka Representation Learning"}])
    dates = [d["date"] for d in answer["digests"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 5
    assert answer["last_seen"] == dates[0] and answer["first_seen"] == dates[-1]


def test_lookup_never_writes(db):
    ingested(db)
    changes = db.conn.total_changes
    lookup.lookup(db, [{"title": "Pointer Networks"}, {"title": "new one"}])
    assert db.conn.total_changes == changes


def test_paper_detail_has_sightings_newest_first(db):
    [answer] = lookup.lookup(ingested(db), [{"title": "Pointer Networks"}])
    detail = lookup.paper(db, answer["paper_id"])
    assert detail["title"] == "Pointer Networks" and len(detail["sightings"]) == 3
    assert [s["digest_date"] for s in detail["sightings"]] == sorted((s["digest_date"] for s in detail["sightings"]), reverse=True)
    assert detail["duplicates"] == [] and detail["status"] == "seen"
    assert lookup.paper(db, 10**9) is None
