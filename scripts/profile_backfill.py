"""Where a backfill's time goes: py-spy samples `seenpapers ingest` and all its processes.

    scripts/profile-backfill DIGESTS_DIR [--rate HZ] [--raw FILE]

Ingests DIGESTS_DIR (for instance the corpus `scripts/bench --keep DIR` left in
DIR/corpus-100000) into a new data dir under py-spy, then prints the seconds sampled in
each part of the work, per process: the writer (matching and SQLite) and the parsing
processes. A sample is given to the innermost function of its stack that names a part.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent

# Innermost match wins: a function -> the part of the work it is.
PARTS = {
    # the writer
    "update_search_index": "search index (FTS5), after",
    "_may_match": "compare candidates' fingerprints",
    "_abstract_candidates": "find candidates by shared keys",
    "candidate_pairs": "read candidates (fingerprints, titles)",
    "find_duplicates": "features and decision",
    "find_papers": "identify known papers",
    "index_papers": "write match_keys, match_shingles",
    "_commit_run": "write papers, sightings (and build rows)",
    "_commit": "write digests",
    "write_transaction": "commit (WAL writes)",
    "commit": "check known, other",
    "_in_order": "wait for parsed files",
    "_process_worker": "wait for files to parse",
    # the parsing processes
    "parse": "parse",
    "abstracts_of": "abstract n-grams",
    "prepare_bytes": "clean, hash, title words",
    "prepare_file": "read the file",
    "_sendback_result": "send results (pickle)",
    # threads of the writer's process
    "_ConnectionBase.recv": "receive results (read, unpickle)",
    "_ExecutorManagerThread.wait_result_broken_or_wakeup": "pool's thread: wait for results",
    "_ExecutorManagerThread": "pool's thread: other",
    "Thread._bootstrap": "other threads (progress bar, task queue)",
    "_find_and_load": "start-up (imports)",
}
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*):(?P<line>\d+)\)$")


def part_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        m = FRAME.match(frame)
        if not m:
            continue
        function = m["function"]
        for name in (function, function.split(".")[0]):
            if name in PARTS:
                return PARTS[name]
    leaf = FRAME.match(frames[-1]) if frames else None
    return f"other: {frames[-1]}" if leaf else "no Python frame (a process starting or ending)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("digests", type=Path)
    parser.add_argument("--rate", type=int, default=100, help="samples a second [100]")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw samples here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seenpapers-profile-") as work:
        raw = args.raw or Path(work) / "samples.txt"
        command = [str(BIN / "py-spy"), "record", "--subprocesses", "--format", "raw", "--rate", str(args.rate),
                   "--output", str(raw), "--", str(BIN / "seenpapers"), "ingest", "--data-dir", str(Path(work) / "data"),
                   str(args.digests)]
        done = subprocess.run(command, capture_output=True, text=True)
        print("\n".join(line for line in done.stdout.splitlines() if not line.startswith("py-spy>")).strip())
        if not raw.exists():  # (an ingest with failed files exits 1, and is profiled all the same)
            sys.exit(f"py-spy failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        seconds: collections.Counter = collections.Counter()
        for line in raw.read_text().splitlines():
            stack, count = line.rsplit(" ", 1)
            # A stack starts with its process and the processes above it: 'process 12:"cmd"'.
            processes = re.findall(r'process \d+:"([^"]*)', stack)
            if any("resource_tracker" in p for p in processes):
                continue  # multiprocessing's own helper
            kind = "parsing processes" if any("spawn_main" in p for p in processes) else "writer"
            seconds[kind, part_of(stack.split(";"))] += int(count) / args.rate
    for kind in ("writer", "parsing processes"):
        rows = sorted(((s, part) for (k, part), s in seconds.items() if k == kind), reverse=True)
        total = sum(s for s, _ in rows)
        print(f"\n{kind}: {total:.1f} s sampled")
        for s, part in rows:
            if s >= 0.05:
                print(f"  {s:6.1f} s  {100 * s / total:4.0f}%  {part}")


if __name__ == "__main__":
    main()
