"""What every ``mlops`` command group shares: the target platform, clear errors, options, consoles.

Everything the CLI prints goes through rich, which reads ``[...]`` as markup: text that is not ours (names,
reasons, AWS and library messages) goes through :func:`plain` first, or a regular expression such as
``^[a-z][a-z0-9-]{1,62}$`` loses its brackets. Tables are made as ``cli.tables`` says.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Annotated, NoReturn, ParamSpec

import typer
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.markup import escape

from adapters.aws import error_code, error_message
from adapters.catalog import CatalogError
from adapters.deployments import DeploymentTableError
from adapters.endpoints import EndpointError
from adapters.pipeline import PipelineError
from adapters.registry import RegistryError
from adapters.retraining import DecisionTableError
from adapters.storage import StorageError
from cli.target import Cloud, Platform, TargetError, project_name, use_cloud
from domain.training.runs import PipelineRunError

__all__ = [
    "CloudOption", "JsonOption", "clear_errors", "clock", "coloured", "console", "errors", "fail", "plain",
    "platform",
]  # fmt: skip

# No emoji codes: rich would print a name like "a:x:b" as "a❌b".
console = Console(emoji=False)
errors = Console(stderr=True, emoji=False)
P = ParamSpec("P")

CloudOption = Annotated[Cloud, typer.Option("--cloud", help="Where to go: a running local cloud, else AWS.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

# Errors whose message is already a sentence for the user: printed as they are.
_CLEAR = (
    TargetError,
    StorageError,
    CatalogError,
    PipelineError,
    RegistryError,
    PipelineRunError,
    EndpointError,
    DeploymentTableError,
    DecisionTableError,
)


def plain(value: object) -> str:
    """``value`` as text that rich prints as it is, also inside our own markup.

    Parameters
    ----------
    value : object
        Anything that is not ours to format: a name, a reason, an AWS or library message.

    Returns
    -------
    str
        ``str(value)`` with every ``[`` that rich would read as a tag escaped.
    """
    return escape(str(value))


def coloured(status: str, colours: Mapping[str, str], label: str | None = None) -> str:
    """``status`` (or ``label``, shown in its place) as markup in its colour, white when it has none."""
    colour = colours.get(status, "white")
    return f"[{colour}]{plain(label or status)}[/{colour}]"


def clock(value: str | None) -> str:
    """An ISO 8601 time as the CLI shows it: ``2026-11-02 14:03:27`` ("" for none)."""
    return (value or "")[:19].replace("T", " ")


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr (``message`` printed as it is, brackets included), then exit with ``code``."""
    errors.print(f"[red]error:[/red] {plain(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def platform(cloud: Cloud) -> Platform:
    """The deployed platform where ``cloud`` points, with its outputs read (or a clear error)."""
    try:
        use_cloud(cloud)
        found = Platform(project_name())
        found.describe()
    except TargetError as error:
        fail(str(error))
    return found


def clear_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Turn AWS and adapter errors into one line on stderr and exit code 2, not a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except _CLEAR as error:
            fail(str(error))
        except ClientError as error:
            fail(f"AWS refused: {error.response['Error'].get('Message') or error}")
        except S3UploadFailedError as error:
            # boto3's upload_file wraps S3's refusal in its own exception; error_code reads the refusal.
            if not error_code(error):
                fail("the upload failed before S3 answered; check your connection and try again")
            fail(f"AWS refused the upload: {error_message(error) or error_code(error)}")
        except BotoCoreError as error:
            fail(f"cannot reach AWS: {error}")

    return run
