"""The ``mlops`` command."""

from __future__ import annotations

import typer

from cli import alarms, data, drift, endpoints, feedback, local, models, pipeline

app = typer.Typer(
    help="The serverless MLOps platform: the same commands against the local cloud and AWS.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(local.app, name="local")
app.add_typer(data.app, name="data")
app.add_typer(pipeline.app, name="pipeline")
app.add_typer(models.app, name="models")
app.add_typer(endpoints.app, name="endpoints")
app.add_typer(drift.app, name="drift")
app.add_typer(alarms.app, name="alarms")
app.add_typer(feedback.app, name="feedback")

if __name__ == "__main__":
    app()
