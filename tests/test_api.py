"""The HTTP API of a real daemon on a loopback port: answers, refusals and CORS."""

import asyncio
import json
import socket
import time
import urllib.parse

import aiohttp
import pytest

from .conftest import FIXTURES, HF_API, Daemon, with_samples

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    yield from with_samples(tmp_path_factory.mktemp("api"))


def test_health_needs_no_token_and_counts_what_is_known(api):
    status, _, body = api.request("GET", "/api/v1/health", token=False)
    assert status == 200
    assert body["status"] == "ok" and body["papers"] == 172 and body["digests"] == 5
    assert body["version"] and body["last_ingest"].endswith("Z")


def test_lookup_answers_in_input_order(api):
    results = api.lookup("An Unknown Paper", "Matryoshka Representation Learning", "matryoshka representation learning")
    assert [r["status"] for r in results] == ["new", "seen", "seen"]
    assert results[1]["times_seen"] == 5 and len(results[1]["digests"]) == 5
    assert [r["same_as_index"] for r in results] == [None, None, 1]


def test_read_and_unread_change_the_status(api):
    [seen] = api.lookup("Pointer Networks")
    status, _, body = api.request("POST", "/api/v1/read", {"paper_ids": [seen["paper_id"], 99999999]})
    assert (status, body) == (200, {"marked": 1})
    [read] = api.lookup("Pointer Networks")
    assert read["status"] == "read" and read["read_at"]
    status, _, body = api.request("DELETE", f"/api/v1/read/{seen['paper_id']}")
    assert (status, body) == (200, {"unmarked": 1})
    assert api.lookup("Pointer Networks")[0]["status"] == "seen"


def test_paper_route_gives_sightings_or_404(api):
    [seen] = api.lookup("Pointer Networks")
    status, _, paper = api.request("GET", f"/api/v1/papers/{seen['paper_id']}")
    assert status == 200 and paper["title"] == "Pointer Networks" and len(paper["sightings"]) == 3
    status, _, body = api.request("GET", "/api/v1/papers/987654321")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _, body = api.request("GET", "/api/v1/papers/abc")
    assert status == 422


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_paper_ids_outside_sqlite_integers_are_refused_not_crashed_on(api, method):
    route = "/api/v1/papers/" if method == "GET" else "/api/v1/read/"
    for bad in ("0", "9223372036854775808", "99999999999999999999", "\u0663"):
        status, _, body = api.request(method, route + urllib.parse.quote(bad))
        assert (status, body["error"]["code"]) == (422, "bad_shape"), bad
    status, _, _ = api.request(method, route + "9223372036854775807")  # the largest id is a fine id
    assert status == (404 if method == "GET" else 200)


def test_openapi_describes_every_route(api):
    status, _, spec = api.request("GET", "/api/v1/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert described == {
        ("/api/v1/health", "get"), ("/api/v1/lookup", "post"), ("/api/v1/read", "post"),
        ("/api/v1/read/{paper_id}", "delete"), ("/api/v1/papers/{paper_id}", "get"),
        ("/api/v1/digests", "post"), ("/api/v1/openapi.json", "get"),
    }
    result_fields = set(spec["components"]["schemas"]["LookupResult"]["properties"])
    assert result_fields == set(api.lookup("x")[0])


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
@pytest.mark.parametrize("method,path", [("POST", "/api/v1/lookup"), ("GET", "/api/v1/papers/1"),
                                         ("GET", "/api/v1/openapi.json"), ("DELETE", "/api/v1/read/1")])
def test_every_route_but_health_needs_the_token(api, headers, method, path):
    status, response_headers, body = api.request(method, path, {"papers": [{"title": "x"}]} if method == "POST" else None,
                                                 headers=headers, token=False)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert response_headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("host", ["evil.example:7341", "attacker.test", "127.0.0.1:1", ""])
def test_a_foreign_host_is_refused(api, host):
    status, _, body = api.request("GET", "/api/v1/health", headers={"Host": host}, token=False)
    assert status == 403 and body["error"]["code"] == "bad_host"


def test_loopback_names_are_accepted_as_host(api):
    for name in ("127.0.0.1", "localhost", "LOCALHOST"):
        assert api.request("GET", "/api/v1/health", headers={"Host": f"{name}:{api.port}"})[0] == 200


@pytest.mark.parametrize("origin", ["https://huggingface.co", "http://localhost:8000", "null", "chrome-extension-evil://x"])
def test_web_page_origins_are_refused_even_with_the_token(api, origin):
    status, _, body = api.request("POST", "/api/v1/lookup", {"papers": [{"title": "x"}]}, headers={"Origin": origin})
    assert status == 403 and body["error"]["code"] == "bad_origin"


def test_extension_origins_get_cors_headers(api):
    for origin in (EXTENSION, "moz-extension://0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"):
        status, headers, _ = api.request("POST", "/api/v1/lookup", {"papers": [{"title": "x"}]}, headers={"Origin": origin})
        assert status == 200 and headers["Access-Control-Allow-Origin"] == origin


def test_cors_preflight_for_an_extension_origin(api):
    status, headers, _ = api.request("OPTIONS", "/api/v1/lookup", token=False, headers={
        "Origin": EXTENSION, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
        "Access-Control-Request-Private-Network": "true",
    })
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == EXTENSION
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    assert headers["Access-Control-Allow-Private-Network"] == "true"


def test_cors_preflight_from_a_web_page_is_refused(api):
    status, headers, _ = api.request("OPTIONS", "/api/v1/lookup", token=False, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert status == 403 and "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize(
    "raw,content_type,status,code",
    [
        (b"{not json", "application/json", 400, "bad_json"),
        (b'["a list"]', "application/json", 422, "bad_shape"),
        (b'{"papers": []}', "application/json", 422, "bad_shape"),
        (b'{"papers": "Pointer Networks"}', "application/json", 422, "bad_shape"),
        (b'{"papers": [{"abstract": "no title"}]}', "application/json", 422, "bad_shape"),
        (b'{"papers": [{"title": 42}]}', "application/json", 422, "bad_shape"),
        (b'{"papers": [{"title": "x"}]}', "text/plain", 415, "unsupported_media_type"),
        (b'{"papers": [' + b",".join([b'{"title": "x"}'] * 501) + b"]}", "application/json", 413, "too_many_items"),
        (b'{"papers": [{"title": "' + b"x" * 1_100_000 + b'"}]}', "application/json", 413, "too_large"),
        (b'{"paper_ids": [true]}', "application/json", 422, "bad_shape"),
        (b'{"paper_ids": [9223372036854775808]}', "application/json", 422, "bad_shape"),  # was a 500
    ],
)
def test_bad_requests_get_json_errors(api, raw, content_type, status, code):
    path = "/api/v1/read" if b"paper_ids" in raw else "/api/v1/lookup"
    got, _, body = api.request("POST", path, raw=raw, content_type=content_type)
    assert (got, body["error"]["code"]) == (status, code)
    assert body["error"]["message"]


def test_unknown_routes_and_methods_get_json_errors(api):
    status, _, body = api.request("GET", "/api/v1/nothing")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _, body = api.request("GET", "/api/v1/lookup")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"


def test_a_posted_capture_lands_in_the_inbox_and_is_ingested(api):
    page = "Daily Papers\n\nbyAK and the research community\n\nNov 20\n\nA Captured Paper About Capturing Pages\n"
    status, _, body = api.request("POST", "/api/v1/digests?name=../../etc/passwd", raw=page.encode(), content_type="text/plain")
    assert status == 202 and "/" not in body["name"] and body["name"].endswith(".txt")
    assert (api.inbox / body["name"]).read_text() == page
    api.wait_for(lambda: api.lookup("A Captured Paper About Capturing Pages")[0]["status"] == "seen", what="capture ingested")


def test_a_retitled_copy_is_answered_as_a_duplicate_with_its_reason(api):
    papers = json.loads((FIXTURES / "dedup" / "real-pairs.json").read_text(encoding="utf-8"))
    original, copy = (next(p for p in papers if p["arxiv_id"] == i) for i in ("2503.23402", "2507.13739"))
    day = [{"paper": {"id": original["arxiv_id"], "title": original["title"], "summary": original["abstract"]},
            "title": original["title"]}]
    status, _, _ = api.request("POST", "/api/v1/digests?name=day.json", raw=json.dumps(day).encode())
    assert status == 202
    api.wait_for(lambda: api.lookup(original["title"])[0]["status"] == "seen", what="the original ingested")
    status, _, body = api.request("POST", "/api/v1/lookup", {"papers": [
        {"title": copy["title"], "abstract": copy["abstract"], "url": f"https://arxiv.org/abs/{copy['arxiv_id']}v2"},
        {"title": copy["title"]},  # a title alone is never enough
    ]})
    assert status == 200
    duplicate, title_only = body["results"]
    assert duplicate["status"] == "duplicate" and duplicate["paper_id"] is None
    assert duplicate["duplicate_of"]["title"] == original["title"]
    assert duplicate["duplicate_of"]["arxiv_id"] == original["arxiv_id"]  # the badge links to its page
    assert "same abstract" in duplicate["duplicate_of"]["reason"] and 0 < duplicate["duplicate_of"]["similarity"] <= 1
    assert title_only["status"] == "new" and title_only["duplicate_of"] is None


def test_a_lookup_body_that_arrives_in_pieces_is_read_whole(api):
    # 50 papers with abstracts are some 80 kB: more than one read of the socket.
    papers = [{"title": f"Paper {n}", "abstract": "word " * 300} for n in range(50)]
    body = json.dumps({"papers": papers}).encode()
    head = (f"POST /api/v1/lookup HTTP/1.1\r\nHost: 127.0.0.1:{api.port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {api.token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as conn:
        conn.sendall(head + body[:1000])
        time.sleep(0.3)
        conn.sendall(body[1000:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert len(json.loads(answer.split(b"\r\n\r\n", 1)[1])["results"]) == 50


def test_captures_never_replace_a_file(api):
    names = set()
    for n in range(3):
        status, _, body = api.request("POST", "/api/v1/digests?name=same.json", raw=b'[{"title": "T%d"}]' % n,
                                      content_type="application/json")
        assert status == 202
        names.add(body["name"])
    assert len(names) == 3 and "same.json" in names


def test_captures_must_be_text_and_not_empty(api):
    assert api.request("POST", "/api/v1/digests", raw=b"\x89PNG", content_type="image/png")[0] == 415
    assert api.request("POST", "/api/v1/digests", raw=b"  \n", content_type="text/plain")[0] == 422


def test_captures_over_the_size_cap_are_refused(api):
    status, _, body = api.request("POST", "/api/v1/digests", raw=b"x" * (32 * 1024 * 1024 + 10), content_type="text/plain")
    assert status == 413 and body["error"]["code"] == "too_large"


async def test_concurrent_lookups_all_answer_while_a_capture_is_ingested(api):
    headers = {"Authorization": f"Bearer {api.token}"}
    papers = {"papers": [{"title": f"Paper {i}"} for i in range(50)] + [{"title": "Pointer Networks"}]}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{api.url}/api/v1/digests?name=concurrent.json",
                                data=(HF_API / "2025-08-29.json").read_bytes(), headers={"Content-Type": "application/json"}) as response:
            assert response.status == 202

        async def one():
            async with session.post(f"{api.url}/api/v1/lookup", json=papers) as response:
                assert response.status == 200
                return (await response.json())["results"]

        answers = await asyncio.gather(*(one() for _ in range(20)))
    assert all(len(a) == 51 and a[-1]["status"] in ("seen", "read") for a in answers)


def test_allowed_origins_can_be_narrowed_to_one_extension(tmp_path, monkeypatch):
    monkeypatch.setenv("SEENPAPERS_ALLOWED_ORIGINS", EXTENSION)
    narrowed = Daemon(tmp_path / "data")
    try:
        body = {"papers": [{"title": "x"}]}
        assert narrowed.request("POST", "/api/v1/lookup", body, headers={"Origin": EXTENSION})[0] == 200
        other = "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba"
        assert narrowed.request("POST", "/api/v1/lookup", body, headers={"Origin": other})[0] == 403
    finally:
        narrowed.stop()
