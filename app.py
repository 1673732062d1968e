#!/usr/bin/env python3
"""The CDK app's entry point (`cdk synth`, `cdk deploy`, or `python app.py` with CDK_OUTDIR set)."""

import sys

from stacks.app import build_app
from stacks.config import ConfigError
from stacks.constructs.training_packages import PackagingError

if __name__ == "__main__":
    try:
        build_app().synth()
    except ConfigError as error:
        sys.exit(f"Invalid configuration:\n{error}")
    except PackagingError as error:
        # A team's requirements without a wheel for the training image, say: our message, not a traceback.
        sys.exit(f"Could not build the app's assets:\n{error}")
