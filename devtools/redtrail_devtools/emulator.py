"""An embedded local AWS (moto server) on localhost, for trying redtrail and for tests."""

import logging
import os
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

ACCOUNT = "123456789012"  # moto's default account
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    """Run a moto server on localhost (a free port when 0) and yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    # moto says what it does not emulate (CloudWatch alarms in CloudFormation, Lambda without Docker);
    # redtrail's local stand-ins cover what matters, so those notes would only be noise.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="Tried to parse .* not supported by moto", category=UserWarning)
    chosen = port or free_port()
    server = ThreadedMotoServer(ip_address="localhost", port=chosen, verbose=False)
    server.start()
    try:
        yield f"http://localhost:{chosen}"
    finally:
        server.stop()


def use_local_credentials() -> None:
    """Fake credentials for the local AWS, unless the caller already set some."""
    for name, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(name, value)
