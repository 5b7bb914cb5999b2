"""A monthly build, early on the 1st, so each month's committee papers have fresh figures."""

import dagster as dg

from pipelines.jobs import build_scorecard

monthly_build = dg.ScheduleDefinition(
    name="monthly_build", job=build_scorecard, cron_schedule="0 6 1 * *",
    execution_timezone="Europe/London", default_status=dg.DefaultScheduleStatus.RUNNING)
