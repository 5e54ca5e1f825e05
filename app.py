#!/usr/bin/env python3
"""The CDK app: the redtrail stack, configured from the CDK context, checked by cdk-nag at every synth."""

import sys

from aws_cdk import App

from infra.config import ConfigError
from infra.stack import build


def main() -> None:
    """Synthesize; a bad context value exits with a one-line error naming the key."""
    app = App()
    try:
        build(app)
    except ConfigError as error:
        sys.exit(f"redtrail: {error}")
    app.synth()


if __name__ == "__main__":
    main()
