"""Where things live: the data dir, its database, inbox and token; the default ports."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7341
DEFAULT_DATASETTE_PORT = 7342


# Browser origins allowed to call the API. Web pages never are; extensions hold the token.
DEFAULT_ORIGINS = ("chrome-extension://*", "moz-extension://*", "safari-web-extension://*")


def allowed_origins() -> tuple[str, ...]:
    """SEENPAPERS_ALLOWED_ORIGINS (comma-separated, globs allowed) narrows the default,
    e.g. to your own extension: ``chrome-extension://<its id>``."""
    configured = os.environ.get("SEENPAPERS_ALLOWED_ORIGINS", "")
    return tuple(o.strip() for o in configured.split(",") if o.strip()) or DEFAULT_ORIGINS


def default_data_dir() -> Path:
    override = os.environ.get("SEENPAPERS_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("seenpapers", appauthor=False))


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / "seenpapers.db"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def token_path(self) -> Path:
        return self.root / "token"

    @property
    def log_path(self) -> Path:
        return self.root / "seenpapers.log"

    def create(self) -> "DataDir":
        self.root.mkdir(parents=True, exist_ok=True)
        self.inbox.mkdir(exist_ok=True)
        return self

    def token(self) -> str:
        """The API token, created on first use in a file only its owner can read."""
        try:
            return self.token_path.read_text().strip()
        except FileNotFoundError:
            pass
        self.root.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: a second
        # process never reads a half-written token, and the first link wins.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".token-")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32) + "\n")
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, self.token_path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
        return self.token_path.read_text().strip()
