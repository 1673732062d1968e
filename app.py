#!/usr/bin/env python3
"""The CDK app's entry point (`cdk synth`, `cdk deploy`, or `python app.py` with CDK_OUTDIR set)."""

import sys

from stacks.app import build_app
from stacks.config import ConfigError

if __name__ == "__main__":
    try:
        build_app().synth()
    except ConfigError as error:
        sys.exit(f"Invalid configuration:\n{error}")
