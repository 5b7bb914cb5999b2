"""What a build was made from: the raw folder's content and the project's own code.

The sensor uses it to start a build only when the raw folder's content changes; `scorecard
build` uses it to do nothing when neither the inputs nor the code changed since the last
successful build (unless a build since ended incomplete: then it runs, to publish what is
missing), and to skip the loaders of sources whose files did not change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import PROJECT_ROOT, Settings, pseudonym_key
from scorecard.ingest.files import sha256_of_files
from scorecard.ingest.vocabulary import vocabulary_files

# The shipped indicator files count as code: a change to one rebuilds everything, as a code change
# does (those under a raw folder elsewhere are inputs, in raw_folder_state).
CODE_FOLDERS = ("pipelines", "assets", "scorecard", "sql", "expectations", "data/raw/indicators")
CODE_SUFFIXES = {".py", ".sql", ".json", ".yaml", ".j2", ".css"}  # (.j2 and .css: the report templates)


def raw_folder_state(raw_dir: Path, previous: dict[str, list]) -> dict[str, list]:
    """{relative path: [size, mtime_ns, sha256]} for every non-hidden file under ``raw_dir``.

    A file is hashed again only when its size or modification time moved.
    """
    state, to_hash = {}, []
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(raw_dir).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        stat = path.stat()
        known = previous.get(relative)
        if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            state[relative] = known
        else:
            state[relative] = [stat.st_size, stat.st_mtime_ns, None]
            to_hash.append((relative, path))
    for (relative, _), sha256 in zip(to_hash, sha256_of_files([path for _, path in to_hash])):
        state[relative][2] = sha256
    return state


def content_digest(state: dict[str, list]) -> str:
    """A digest of the files' names and contents only (not their times)."""
    return hashlib.sha256(json.dumps({path: entry[2] for path, entry in state.items()},
                                     sort_keys=True).encode()).hexdigest()


def code_digest(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    # The shipped vocabulary reads files as code does (a raw folder's own lines are inputs).
    for path in vocabulary_files(root / "data" / "raw" / "vocabulary"):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def changed_files(before: dict[str, list], after: dict[str, list]) -> list[str]:
    """Files added, removed or whose content changed."""
    return sorted(set(before) ^ set(after) | {p for p in set(before) & set(after) if before[p][2] != after[p][2]})


@dataclass(frozen=True)
class Fingerprint:
    files: dict[str, list]
    inputs: str
    code: str
    disclosure_control: bool
    # How child keys are made (``scorecard.ingest.record_level.pseudonym_check``: tells nothing about
    # the key): a new key must rebuild the record-level tables even when no file changed.
    pseudonym: str = ""
    # False once a later build from it ended incomplete (a file refused, an output or a PNG not
    # published): the next build then runs, though nothing changed, to publish what is missing.
    complete: bool = True

    def same_build(self, other: Fingerprint) -> bool:
        return ((self.inputs, self.code, self.disclosure_control, self.pseudonym)
                == (other.inputs, other.code, other.disclosure_control, other.pseudonym))


def fingerprint_path(settings: Settings) -> Path:
    return settings.db_path.with_name(f".{settings.db_path.stem}.last_build.json")


def current_fingerprint(settings: Settings, previous: Fingerprint | None) -> Fingerprint:
    files = raw_folder_state(settings.raw_dir, previous.files if previous else {})
    key, check = pseudonym_key(), ""
    if key:
        # Imported only here: it brings pandera and pandas (~1 s), which a build with no key
        # imports later and an unchanged one not at all.
        from scorecard.ingest.record_level import pseudonym_check

        check = pseudonym_check(key)
    return Fingerprint(files, content_digest(files), code_digest(), settings.disclosure_control, check)


def read_fingerprint(settings: Settings) -> Fingerprint | None:
    try:
        data = json.loads(fingerprint_path(settings).read_text(encoding="utf-8"))
        return Fingerprint(data["files"], data["inputs"], data["code"], data["disclosure_control"],
                           data.get("pseudonym", ""), data.get("complete", True))
    except (OSError, ValueError, KeyError):
        return None


def write_fingerprint(settings: Settings, fingerprint: Fingerprint) -> None:
    path = fingerprint_path(settings)
    path.write_text(json.dumps(fingerprint.__dict__, sort_keys=True), encoding="utf-8")


def mark_incomplete(settings: Settings) -> None:
    """Say that the build after the last successful one ended incomplete (``Fingerprint.complete``)."""
    previous = read_fingerprint(settings)
    if previous is not None and previous.complete:
        write_fingerprint(settings, dataclasses.replace(previous, complete=False))
