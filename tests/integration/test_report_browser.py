"""The audit report in a real browser: headless Chromium (Debian's package; `make test` installs it) paints its
charts from the file alone and asks the network for nothing."""

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from redtrail.cli import report
from tests.unit.test_report import data

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
# No first-run, update, sync or safe-browsing traffic of the browser's own: any request left is the page's.
QUIET = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
]


def screenshot(page: Path, png: Path, net_log: Path) -> None:
    assert BROWSER, "no chromium: `make test` installs Debian's chromium package (apt-get install chromium)"
    subprocess.run(
        [BROWSER, *QUIET, f"--screenshot={png}", "--window-size=1200,2600", f"--log-net-log={net_log}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )


def pixels(png: Path) -> tuple[int, int, int, bytes]:
    """A PNG's width, height, bytes per pixel and unfiltered pixel rows (8-bit RGB or RGBA, not interlaced)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0)
    assert colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw, stride, rows = zlib.decompress(b"".join(chunks)), width * step, bytearray()
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up, corner = previous[x], previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), left), (abs(guess - up), up), (abs(guess - corner), corner))
                line[x] = (line[x] + near[1]) & 0xFF
        rows += line
        previous = line
    return width, height, step, bytes(rows)


def painted(png: Path, colour: str) -> int:
    """How many pixels have exactly ``colour`` (``#rrggbb``)."""
    _, _, step, rows = pixels(png)
    wanted = bytes.fromhex(colour.removeprefix("#"))
    return sum(1 for n in range(0, len(rows), step) if rows[n : n + 3] == wanted)


def page_requests(net_log: Path) -> set[str]:
    """Every URL the page asked for, from the browser's net log (the browser's own requests, which it starts
    with no origin, left out; a file page's requests have the file's opaque origin)."""
    log = json.loads(net_log.read_text())
    types = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    started = (
        entry.get("params") or {} for entry in log["events"] if types.get(entry["type"]) == "URL_REQUEST_START_JOB"
    )
    return {str(params["url"]) for params in started if "url" in params and params.get("initiator") != "not an origin"}


@pytest.mark.slow
def test_the_report_renders_its_charts_offline_in_headless_chromium(tmp_path):
    # Given the report of a month with changes, detections and a failed attempt, written to a file
    page = tmp_path / "report.html"
    page.write_text(report.render(data()))
    png, net_log = tmp_path / "report.png", tmp_path / "net.json"
    # When headless Chromium opens it and takes a screenshot
    screenshot(page, png, net_log)
    # Then the charts were painted (each chart colour covers pixels of the screenshot), and the page asked the
    # network for nothing
    for colour in (report.WRITE_COLOUR, report.DETECTION_COLOUR, report.ACTOR_COLOUR, report.SEVERITY_COLOURS["high"]):
        assert painted(png, colour) > 50, colour
    assert page_requests(net_log) == set()


@pytest.mark.slow
def test_the_network_check_sees_a_page_that_loads_something(tmp_path):
    # Given a page that loads an image from the network (what the report must never do)
    page = tmp_path / "leaky.html"
    page.write_text('<!doctype html><body><img src="https://example.invalid/pixel.png"></body>')
    png, net_log = tmp_path / "leaky.png", tmp_path / "net.json"
    # When the same browser check opens it
    screenshot(page, png, net_log)
    # Then the request is seen: the check above can fail
    assert "https://example.invalid/pixel.png" in page_requests(net_log)
