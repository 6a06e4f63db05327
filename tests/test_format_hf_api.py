import json
from datetime import date, datetime

import pytest

from seenpapers.formats import ParseError, parse

from .conftest import HF_API, HF_API_ODD

NOW = datetime(2026, 11, 22)


def parse_file(path):
    return parse(path.read_bytes(), name=path.name, mtime=NOW)


@pytest.mark.parametrize("path", sorted(HF_API.glob("*.json")), ids=lambda p: p.name)
def test_api_files_give_one_entry_per_item_with_ids_and_unwrapped_abstracts(path):
    items = json.loads(path.read_text())
    digest = parse_file(path)
    assert digest.format == "hf-api"
    assert digest.date == date.fromisoformat(path.stem)
    assert [e.arxiv_id for e in digest.entries] == [i["paper"]["id"] for i in items]
    for entry in digest.entries:
        assert entry.title and "\n" not in entry.title
        assert entry.abstract and "\n" not in entry.abstract
        assert entry.authors and entry.authors_count == len(entry.authors)
        assert entry.published and entry.submitted and entry.upvotes is not None


def test_api_entry_fields():
    entry = parse_file(HF_API / "2024-05-27.json").entries[0]
    assert entry.title == "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    assert entry.abstract.startswith("High-resolution Large Multimodal Models (LMMs) encounter the challenges of excessive")
    assert entry.authors[:2] == ["Chunjiang Ge", "Sijie Cheng"] and entry.authors_count == 9
    assert (entry.arxiv_id, entry.published, entry.upvotes) == ("2405.15738", "2024-05-24", 32)
    assert entry.submitted.startswith("2024-05-27")
    assert entry.url == "https://huggingface.co/papers/2405.15738"


def test_latex_titles_are_kept_for_display_and_normalised_for_matching():
    entries = {e.arxiv_id: e for e in parse_file(HF_API / "2024-06-21.json").entries}
    tau = next(e for e in entries.values() if "bench: A Benchmark for Tool-Agent" in e.title)
    assert tau.title.startswith("$τ$-bench")
    assert tau.title_key.startswith("taubench")
    times = next(e for e in parse_file(HF_API / "2024-10-16.json").entries if "MapReduce" in e.title)
    assert times.title.startswith("LLM$\\times$MapReduce") and times.title_key.startswith("llmtimesmapreduce")


def test_a_lone_dollar_sign_is_just_text():
    entry = next(e for e in parse_file(HF_API / "2025-02-18.json").entries if e.title.startswith("SWE-Lancer"))
    assert "$1 Million" in entry.title


@pytest.mark.parametrize("path", sorted(HF_API_ODD.glob("*.json")), ids=lambda p: p.name)
def test_damaged_downloads_of_python_repr_strings_are_read_in_full(path):
    raw = json.loads(path.read_text())
    items = raw["data"] if isinstance(raw, dict) else raw
    digest = parse_file(path)
    assert len(digest.entries) == len(items)
    assert all(e.arxiv_id and e.title and e.abstract for e in digest.entries)


def test_truncated_json_is_a_clear_error():
    data = (HF_API / "2024-11-07.json").read_bytes()
    with pytest.raises(ParseError, match="not valid JSON.*truncated"):
        parse(data[: len(data) // 2], name="2024-11-07.json", mtime=NOW)


@pytest.mark.parametrize(
    "body,reason",
    [
        ('{"status": "error", "message": "rate limited"}', "without a list of papers"),
        ('["{\'paper\': __import__(\'os\')}"]', "not a paper record"),
        ('["[1, 2, 3]"]', "not a paper record"),
        ("[1, 2, 3]", "none of its 3 items is a paper"),
    ],
)
def test_json_that_holds_no_papers_is_a_clear_error(body, reason):
    with pytest.raises(ParseError, match=reason):
        parse(body.encode(), name="odd.json", mtime=NOW)


def test_an_empty_list_is_a_day_without_papers_not_an_error():
    digest = parse(b"[]", name="2025-01-25.json", mtime=NOW)
    assert (digest.entries, digest.date) == ([], date(2025, 1, 25))


def test_digest_date_falls_back_to_the_day_papers_were_submitted():
    body = (HF_API / "2024-11-07.json").read_bytes()
    assert parse(body, name="download.json", mtime=NOW).date == date(2024, 11, 7)
