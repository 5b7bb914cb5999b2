"""Start a build when a file under the raw folder is added, changed or removed.

The cursor holds each file's size, mtime and sha256; a file is re-hashed only when its size
or mtime moved, and the run key is a digest of every file's content, so touching a file
without changing it starts nothing, and the same content never builds twice.
"""


import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines.extracts import sha256_of
from pipelines.jobs import build_scorecard
from pipelines.resources import ScorecardPaths


def raw_folder_state(raw_dir: Path, previous: dict[str, list]) -> dict[str, list]:
    """{relative path: [size, mtime_ns, sha256]} for every non-hidden file under ``raw_dir``."""
    state = {}
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(raw_dir).as_posix()
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        stat = path.stat()
        known = previous.get(relative)
        if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            state[relative] = known
        else:
            state[relative] = [stat.st_size, stat.st_mtime_ns, sha256_of(path)]
    return state


def content_digest(state: dict[str, list]) -> str:
    return hashlib.sha256(json.dumps({path: entry[2] for path, entry in state.items()},
                                     sort_keys=True).encode()).hexdigest()


@dg.sensor(job=build_scorecard, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Builds when a file under the raw folder is added, changed or removed.")
def raw_folder_changed(context: dg.SensorEvaluationContext, paths: ScorecardPaths):
    previous = json.loads(context.cursor) if context.cursor else {"digest": None, "files": {}}
    state = raw_folder_state(paths.settings.raw_dir, previous["files"])
    digest = content_digest(state)
    context.update_cursor(json.dumps({"digest": digest, "files": state}))
    if digest == previous["digest"]:
        return dg.SkipReason("No file under the raw folder changed.")
    changed = sorted(set(state) ^ set(previous["files"]) | {
        p for p in state if p in previous["files"] and previous["files"][p][2] != state[p][2]})
    return dg.RunRequest(run_key=digest, tags={"changed_files": ", ".join(changed)[:1000]})
