"""Whatever bytes arrive, parsing ends in entries or a ParseError: never a crash."""

import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seenpapers.formats import ParseError, parse

from .conftest import HF_API, SEEDS

NOW = datetime(2026, 11, 22)
SEED = (SEEDS / "001_19abc27bf335d619.txt").read_bytes()
API = (HF_API / "2024-11-07.json").read_bytes()


def parses_or_refuses(data: bytes, name: str) -> None:
    try:
        digest = parse(data, name=name, mtime=NOW)
    except ParseError as e:
        assert str(e)
        return
    # A digest of no papers is a digest (a weekend feed); every paper it has has a title.
    assert digest.format and all(e.title for e in digest.entries)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000), st.sampled_from(["a.txt", "a.json", "a.html", "a.eml", "a.xml", "a"]))
def test_random_bytes(data, name):
    parses_or_refuses(data, name)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SEED)), st.integers(0, len(API)), st.binary(max_size=50))
def test_real_digests_cut_anywhere_or_spliced_with_junk(cut_seed, cut_api, junk):
    parses_or_refuses(SEED[:cut_seed] + junk, "page.txt")
    parses_or_refuses(API[:cut_api] + junk, "day.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["paper", "title", "summary", "id", "authors", "name", "upvotes", "publishedAt",
                         "data", "dailyPapers", "submittedOnDailyAt"]) | st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_shape(value):
    parses_or_refuses(json.dumps(value).encode(), "odd.json")
    parses_or_refuses(json.dumps([repr(value)]).encode(), "repr.json")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_any_text_in_any_wrapper(text):
    for wrapped, name in [
        (text, "a.txt"),
        (f"<html><body>{text}</body></html>", "a.html"),
        (f'<?xml version="1.0"?><rss version="2.0"><channel><item><title>{text}</title></item></channel></rss>', "a.xml"),
        (f"From: a@b.c\nTo: d@e.f\nSubject: x\n\n{text}", "a.eml"),
    ]:
        parses_or_refuses(wrapped.encode("utf-8", "surrogatepass"), name)
