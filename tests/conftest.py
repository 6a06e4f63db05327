import os
import shutil
from pathlib import Path

import pytest

from seenpapers import store

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


def copy_with_mtime(src: Path, dest_dir: Path, when: str) -> Path:
    """A copy of a fixture whose modification time is ``when`` (ISO), for year resolution."""
    from datetime import datetime

    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    shutil.copyfile(src, dest)
    stamp = datetime.fromisoformat(when).timestamp()
    os.utime(dest, (stamp, stamp))
    return dest
