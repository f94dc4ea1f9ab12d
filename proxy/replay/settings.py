"""The recorder's settings: one frozen model, every default with its reason.

Kept in this package so the main ``Settings`` can embed it as one field
(``recorder: RecorderSettings = RecorderSettings()``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RecorderSettings"]


class RecorderSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Off by default: a corpus holds (pseudonymised) customer traffic; recording it
    # is a decision the operator takes per deployment, not something a fresh
    # install does behind their back.
    enabled: bool = False
    # Share of recordable exchanges written. A corpus needs a few thousand varied
    # requests, not every one: 1% of a busy tenant's day is plenty.
    sample_rate: float = Field(default=0.01, ge=0, le=1)
    # Recorded exchanges live in the proxy's database (every replica's, for
    # ``record export``) and are deleted after this many days: a replay wants
    # recent traffic, and pseudonymised traffic is still kept no longer than needed.
    keep_days: int = Field(default=30, ge=1, le=3650)
    # Corpus files (``proxy.replay.files``) rotate at this size, up to max_files
    # rotated files: used by no recorder since recorded traffic moved to the
    # database, still accepted so that existing settings files keep loading.
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=4096)
    max_files: int = Field(default=8, ge=0, le=1000)
    # Exchanges waiting to be masked and written. Full = the writer is behind (slow
    # disk): the exchange is dropped and counted, the client never waits.
    queue_size: int = Field(default=1024, ge=1, le=1_000_000)
    # Under the proxy's data_dir: the corpus key file, and corpus files written by
    # releases before the database held the corpus (``record export`` still reads them).
    directory: str = Field(default="corpus", min_length=1, pattern=r"^[A-Za-z0-9._\-]+$")
    # The pseudonym key (at least 16 bytes). None = $PROXY_CORPUS_KEY, else a key
    # file created once under the corpus directory. Its own key, not the token key:
    # rotating the token key must not change every pseudonym (replays compare
    # across weeks), and a leaked corpus key must not let anyone forge tokens.
    key: str | None = Field(default=None, repr=False)
