"""``python -m localcloud serve --port P --state-dir D``: run the local cloud daemon in the foreground."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from localcloud.lifecycle import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, default_state_dir


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the daemon."""
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the local cloud until stopped")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    serve.add_argument(
        "--state-dir", type=Path, default=None, help="default: $MLOPS_STATE_DIR or ~/.mlops/local"
    )
    serve.add_argument("--region", default=DEFAULT_REGION)
    serve.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID)
    serve.add_argument(
        "--no-iam",
        action="store_true",
        help="let every request through (no IAM decisions)",
    )
    arguments = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from localcloud.daemon import serve as run  # imports moto: only when actually serving

    state_dir = (arguments.state_dir or default_state_dir()).expanduser().resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    run(
        port=arguments.port,
        state_dir=state_dir,
        region=arguments.region,
        account_id=arguments.account_id,
        enforce_iam=not arguments.no_iam,
    )


if __name__ == "__main__":
    main()
