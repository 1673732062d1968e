"""The local cloud as a daemon: what ``mlops local up|status|env|down`` do, in a temporary state dir."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud import DaemonError, down, env_exports, status, up
from tests.integration.localcloud_fixtures.support import DATA_STACK, FUNCTIONS_STACK, eventually, synthesize

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory.getbasetemp() / "localcloud-fixture.out")


def exported_environment(exports: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        environment[name] = shlex.split(value)[0]
    return environment


def test_up_status_env_and_down_manage_one_daemon(assembly: Path, tmp_path: Path) -> None:
    # Given no daemon in a fresh state dir
    state_dir = tmp_path / "state"

    # When it is brought up with the fixture app deployed
    state = up(state_dir, port=0, deploy=assembly)
    try:
        # Then the state file says where it runs and what is deployed
        saved = json.loads((state_dir / "state.json").read_text())
        assert saved["pid"] == state["pid"] and saved["endpoint_url"].startswith("http://127.0.0.1:")
        assert set(saved["stacks"]) == {DATA_STACK, FUNCTIONS_STACK}
        assert (state_dir / "daemon.log").is_file()
        # status reports it running, with the same stacks
        running = status(state_dir)
        assert running["running"] is True
        assert running["enforce_iam"] is True  # as AWS decides, unless started with --no-iam
        assert running["stacks"] == saved["stacks"]
        # a client in another process, configured by the exports, uses it; the daemon runs the Lambda
        bucket = saved["stacks"][DATA_STACK]["BucketName"]
        script = (
            f"import boto3; boto3.client('s3').put_object(Bucket={bucket!r}, Key='incoming/a.csv', Body=b'1')"
        )
        environment = exported_environment(env_exports(running))
        subprocess.run([sys.executable, "-c", script], env=environment, check=True, timeout=60)
        eventually(lambda: status(state_dir)["invocation_count"] >= 1, timeout=30)
        assert status(state_dir)["failed_invocation_count"] == 0
        # bringing it up again finds the running daemon
        assert up(state_dir)["pid"] == state["pid"]
    finally:
        stopped = down(state_dir)

    # And down stops it and its workers
    assert stopped is True
    assert status(state_dir)["running"] is False
    assert not (state_dir / "state.json").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(state["pid"], 0)
    assert down(state_dir) is False
    # and it saved its least-privilege report for `mlops local access`
    saved = json.loads((state_dir / "access-report.json").read_text())
    assert saved["enforced"] is True and saved["endpoint_url"] == state["endpoint_url"]


def test_a_daemon_started_without_iam_says_so_and_saves_no_report(tmp_path: Path) -> None:
    # Given a daemon brought up with enforcement off (`mlops local up --no-iam`)
    state_dir = tmp_path / "state"
    up(state_dir, port=0, enforce_iam=False)
    try:
        # Then its status says so
        assert status(state_dir)["enforce_iam"] is False
    finally:
        down(state_dir)

    # And it recorded nothing, so it saves no report
    assert not (state_dir / "access-report.json").exists()


def test_up_reports_why_the_daemon_did_not_start(tmp_path: Path) -> None:
    # Given the port is taken
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # When a daemon is brought up on it, then the error ends with the daemon's log
        with pytest.raises(DaemonError, match="Address already in use"):
            up(tmp_path / "state", port=port)

    assert status(tmp_path / "state")["running"] is False


def test_a_stale_state_file_is_not_a_running_daemon(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    stale = {"pid": 2**22 + 1, "endpoint_url": "http://127.0.0.1:9", "region": "us-east-1", "stacks": {}}
    (state_dir / "state.json").write_text(json.dumps(stale))

    assert status(state_dir)["running"] is False
    assert not (state_dir / "state.json").exists()
    assert down(state_dir) is False


def test_env_exports_are_shell_safe() -> None:
    state = {"endpoint_url": "http://127.0.0.1:4566", "region": "eu-west-1"}

    exports = env_exports(state)

    assert exports.splitlines() == [
        "export AWS_ENDPOINT_URL=http://127.0.0.1:4566",
        "export AWS_DEFAULT_REGION=eu-west-1",
        "export AWS_REGION=eu-west-1",
        "export AWS_ACCESS_KEY_ID=testing",
        "export AWS_SECRET_ACCESS_KEY=testing",
    ]
