import json
import os
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner

from seenpapers.cli import cli

from .conftest import FIXTURES, HF_API, SEEDS, api_item, refuse_title


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_ingest_prints_a_summary_and_exits_0(data_dir):
    result = run("ingest", SEEDS)
    assert result.exit_code == 0
    assert "5 new, 0 already known" in result.output
    for line in ("entries     239", "new papers  172", "seen again  67", "duplicates  0", "failures    0"):
        assert line in result.output
    assert (data_dir / "seenpapers.db").exists()


def test_ingest_again_reports_everything_known(data_dir):
    run("ingest", SEEDS)
    result = run("ingest", SEEDS)
    assert result.exit_code == 0 and "0 new, 5 already known" in result.output


def test_ingest_exits_1_and_names_each_failed_file(data_dir, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "good.json").write_bytes((HF_API / "2024-11-07.json").read_bytes())
    result = run("ingest", inbox)
    assert result.exit_code == 1
    assert "failures    1" in result.output and "empty.txt: failed: empty file" in result.output
    assert "1 new, 0 already known" in result.output


@pytest.mark.parametrize("parallel_from, files_per_commit", [(20, 500), (2, 500), (2, 2)])
def test_a_file_that_cannot_be_written_is_reported_and_the_rest_of_its_batch_goes_in(
        data_dir, tmp_path, monkeypatch, parallel_from, files_per_commit):
    from seenpapers import cli as cli_module, store

    monkeypatch.setattr(cli_module, "PARALLEL_FROM", parallel_from)  # parsed here, or in other processes
    monkeypatch.setattr(cli_module, "FILES_PER_COMMIT", files_per_commit)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, arxiv_id, title in [("a", "2501.00001", "First Paper"), ("b", "2501.00002", "Refused Paper"),
                                  ("c", "2501.00003", "Third Paper")]:
        (inbox / f"{name}.json").write_text(json.dumps([api_item(arxiv_id, title)]))
    db = store.open_db(data_dir / "seenpapers.db")
    refuse_title(db, "Refused Paper")
    result = run("ingest", inbox)
    assert result.exit_code == 1
    assert "2 new, 0 already known" in result.output and "failures    1" in result.output
    assert "b.json: failed: internal error while writing: IntegrityError: refused by a test trigger" in result.output
    assert [t for (t,) in db.execute("SELECT title FROM papers ORDER BY id")] == ["First Paper", "Third Paper"]
    assert [n for (n,) in db.execute("SELECT name FROM failures")] == ["b.json"]


def test_data_dir_option_wins_over_the_environment(data_dir, tmp_path):
    other = tmp_path / "other"
    assert run("ingest", "--data-dir", other, SEEDS).exit_code == 0
    assert (other / "seenpapers.db").exists() and not data_dir.exists()


def test_lookup_json_is_the_api_answer(data_dir):
    run("ingest", SEEDS, HF_API)
    result = run("lookup", "--json", "Matryoshka Representation Learning", "2405.15738", "Unheard Of")
    answers = json.loads(result.output)["results"]
    assert [a["status"] for a in answers] == ["seen", "seen", "new"]
    assert answers[0]["times_seen"] == 5
    assert answers[1]["title"].startswith("ConvLLaVA")


def test_lookup_prints_a_table(data_dir):
    run("ingest", SEEDS)
    result = run("lookup", "Pointer Networks")
    assert result.exit_code == 0 and "seen" in result.output and "Pointer Networks" in result.output


def test_lookup_with_an_abstract_names_the_paper_it_duplicates(data_dir, tmp_path):
    papers = json.loads((FIXTURES / "dedup" / "real-pairs.json").read_text(encoding="utf-8"))
    original, copy = (next(p for p in papers if p["arxiv_id"] == i) for i in ("2503.23402", "2507.13739"))
    digest = tmp_path / "day.json"
    digest.write_text(json.dumps([{"paper": {"id": original["arxiv_id"], "title": original["title"],
                                             "summary": original["abstract"]}, "title": original["title"]}]))
    run("ingest", digest)
    result = CliRunner(env={"COLUMNS": "300"}).invoke(cli, ["lookup", "--abstract", copy["abstract"], copy["title"]])
    assert "duplicate" in result.output and "Diffusion Meets Few-shot" in result.output
    assert "same abstract" in result.output
    assert run("lookup", "--abstract", "x", "one", "two").exit_code == 2


def test_lookup_without_a_database_says_what_to_do(data_dir):
    result = CliRunner().invoke(cli, ["lookup", "x"])
    assert result.exit_code == 1 and "ingest some digests first" in result.output


def test_token_is_created_once_and_private(data_dir):
    first = run("token").output.strip()
    assert len(first) >= 40 and run("token").output.strip() == first
    assert stat.S_IMODE(os.stat(data_dir / "token").st_mode) == 0o600


def test_the_installed_command_runs_end_to_end(data_dir):
    exe = os.path.join(os.path.dirname(sys.executable), "seenpapers")
    done = subprocess.run([exe, "ingest", str(SEEDS)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "new papers  172" in done.stdout
    done = subprocess.run([exe, "lookup", "--json", "Pointer Networks"], capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout)["results"][0]["times_seen"] == 3


def test_a_large_ingest_parses_in_other_processes_and_decides_the_same(data_dir, tmp_path, monkeypatch):
    from seenpapers import cli as cli_module, ingest, store

    from .conftest import HF_API_ODD

    monkeypatch.setattr(cli_module, "PARALLEL_FROM", 2)
    monkeypatch.setattr(cli_module, "FILES_PER_COMMIT", 7)  # several commits, the last one short
    result = run("ingest", SEEDS, HF_API, HF_API_ODD)
    assert result.exit_code == 0 and "failures    0" in result.output
    alone = store.open_db(tmp_path / "alone.db")
    for path in ingest.files_under([SEEDS, HF_API, HF_API_ODD]):
        ingest.ingest_file(alone, path)
    parallel = store.open_db(data_dir / "seenpapers.db")
    query = ("SELECT d.name, s.position, p.arxiv_id, p.title FROM sightings s JOIN digests d ON d.id = s.digest_id"
             " JOIN papers p ON p.id = s.paper_id ORDER BY d.name, s.position")
    assert parallel.execute(query).fetchall() == alone.execute(query).fetchall()
    assert parallel["search_pending"].count == 0  # indexed for search at the end
