from redtrail import demo


def test_the_demo_runs_end_to_end_on_a_local_aws(capsys, monkeypatch):
    # Given a machine with no AWS account (local credentials only)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # When the demo runs
    status = demo.main()
    # Then it succeeds and its table shows the KMS Decrypt resolved to Redshift's us-east-2 account
    out = capsys.readouterr().out
    assert status == 0
    assert "files: 3 read, 0 skipped, 0 failed" in out
    decrypt = next(line for line in out.splitlines() if " Decrypt " in line)
    assert "serviceAccount(us-east-2)" in decrypt
    assert "RebootCluster" in out
    assert "(6 events)" in out
