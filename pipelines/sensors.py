"""Start a build when a file under the raw folder is added, changed or removed.

The cursor holds each file's size, mtime and sha256; a file is re-hashed only when its size
or mtime moved, and the run key is a digest of every file's content, so touching a file
without changing it starts nothing, and the same content never builds twice.
"""


import json

import dagster as dg

from pipelines.fingerprint import changed_files, content_digest, raw_folder_state
from pipelines.jobs import build_scorecard
from pipelines.resources import ScorecardPaths


@dg.sensor(job=build_scorecard, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Builds when a file under the raw folder is added, changed or removed.")
def raw_folder_changed(context: dg.SensorEvaluationContext, paths: ScorecardPaths):
    previous = json.loads(context.cursor) if context.cursor else {"digest": None, "files": {}}
    state = raw_folder_state(paths.settings.raw_dir, previous["files"])
    digest = content_digest(state)
    context.update_cursor(json.dumps({"digest": digest, "files": state}))
    if digest == previous["digest"]:
        return dg.SkipReason("No file under the raw folder changed.")
    changed = changed_files(previous["files"], state)
    return dg.RunRequest(run_key=digest, tags={"changed_files": ", ".join(changed)[:1000]})
