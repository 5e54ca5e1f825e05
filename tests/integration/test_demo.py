import re
import subprocess
import sys

import pytest

from redtrail_devtools.demo import REPORT

pytestmark = pytest.mark.slow


def test_the_demo_runs_end_to_end_on_a_local_aws():
    # Given a machine with no AWS account, and no report of an earlier run
    REPORT.unlink(missing_ok=True)
    # When the demo runs, as `make demo` runs it
    result = subprocess.run(
        [sys.executable, "-m", "redtrail_devtools.demo"], capture_output=True, text=True, timeout=300, check=False
    )
    # Then it deploys the stack locally, processes the files and prints the query table, then stops cleanly
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "stack Redtrail deployed on the local AWS" in out
    processed = re.search(r"processed: (\d+) messages ok, 0 failed attempts", out)
    assert processed, out[-3000:]
    assert int(processed.group(1)) >= 4  # three files and the s3:TestEvent
    decrypt = next((line for line in out.splitlines() if " Decrypt " in line), out[-3000:])
    assert "serviceAccount(us-east-2)" in decrypt
    assert "RebootCluster" in out
    assert "(10 events)" in out
    # And the signed record verified, the three detected calls were alerted (the refused one shown with its error),
    # the two high or critical ones fired their alarms, and the tampered file was found
    assert "no problems" in out
    assert "# 3 alerts arrived on a queue subscribed to the alerts topic" in out
    refused = next(line for line in out.splitlines() if "ModifyClusterIamRoles" in line)
    assert "AccessDenied" in refused  # the failed attempt shows as failed
    assert "[HIGH] alice@corp.example made cluster sales-dw publicly accessible" in out
    for alarm in ("WriteEvents", "HighSeverityEvents"):
        # from INSUFFICIENT_DATA, or from OK when a slow machine evaluated a period before the metric arrived
        assert re.search(rf"Redtrail-Monitoring{alarm}\w+: (INSUFFICIENT_DATA|OK) -> ALARM", out), alarm
        assert re.search(rf'on the alarm topic: ALARM: "Redtrail-Monitoring{alarm}\w+"', out), alarm
    assert "LOG_HASH_MISMATCH" in out
    # And the audit report of the demo's events is written where it says, naming its resources and the tampering
    assert f"wrote {REPORT}" in out
    page = REPORT.read_text(encoding="utf-8")
    for resource in ("cluster:sales-dw", "cluster:scratch", "namespace:testnamespace"):
        assert f"<h3>{resource}</h3>" in page, resource
    assert "<td>datashare:testshare</td><td>555555555555</td>" in page
    assert "[CRITICAL] bob@corp.example deleted cluster scratch (final snapshot: none)" in page
    assert "<td>LOG_HASH_MISMATCH</td>" in page
    assert "AccessDenied" in page  # bob's refused role change, among the failed attempts
    assert out.rstrip().endswith("local AWS stopped")
