"""Hostile and malformed DSNs through the real CLI: never a traceback, never the password in any
output, exit 2 for what is malformed (port 0/empty, stray brackets, …), exit 1 for what is well
formed but wrong. Everything between :// and the last @ counts as the secret."""

from __future__ import annotations

import pytest
from faultkit import run

from ticketdb.dsn import DSN

SECRET = "S3cr3t/pw"

MALFORMED = [
    f"mysql://app:{SECRET}@127.0.0.1:0/db",
    f"mysql://app:{SECRET}@127.0.0.1:/db",
    f"mysql://app:{SECRET}@127.0.0.1:00/db",
    f"mysql://app:{SECRET}@[::1/db",
    f"mysql://app:{SECRET}@::1:3306/db",
    f"mysql://app:{SECRET}@127.0.0.1/db#x",
    f"mysql://app:{SECRET}@127.0.0.1:99999/db",
    f"mysq://app:{SECRET}@127.0.0.1/db",
    f"mysql://app:{SECRET}@127.0.0.1,,127.0.0.1/db",
]
COMMANDS = [
    ["migrate", "status"],
    ["migrate", "up"],
    ["doctor"],
    ["drift"],
    ["seed", "--tickets", "10"],
    ["alerts", "run", "--once"],
]


def _secret_parts() -> list[str]:
    return [SECRET, "S3cr3t", "app:S3"]


@pytest.mark.parametrize("i", range(len(MALFORMED)))
def test_malformed_dsn_is_exit_2_without_the_password(i: int) -> None:
    """Each hostile DSN through a different command, by flag and by TICKETDB_DSN."""
    dsn = MALFORMED[i]
    for cmd, env in (
        ([*COMMANDS[i % len(COMMANDS)], "--dsn", dsn], None),
        (COMMANDS[(i + 1) % len(COMMANDS)], {"TICKETDB_DSN": dsn}),
    ):
        res = run(*cmd, env=env, timeout=60)
        out = res.stdout + res.stderr
        assert res.returncode == 2, (cmd, out)
        assert "Traceback" not in out
        assert "malformed DSN" in out
        for part in _secret_parts():
            assert part not in out, (cmd, out)


PASSWORDS = [SECRET, "p@ss#w?rd[1]", "with space", "%zz%", "ünï©ødé"]


@pytest.mark.parametrize("i", range(len(PASSWORDS)))
def test_wrong_password_is_exit_1_without_the_password(server_dsn: DSN, i: int) -> None:
    password = PASSWORDS[i]
    bad = DSN(host=server_dsn.host, port=server_dsn.port, user="nobody_here", password=password)
    raw = f"mysql://nobody_here:{password}@{server_dsn.address}/ticketdb"  # unencoded, as typed
    for j, text in enumerate((bad.url(), raw)):
        cmd = COMMANDS[(2 * i + j) % len(COMMANDS)]
        res = run(*cmd, "--dsn", text, timeout=60)
        out = res.stdout + res.stderr
        assert res.returncode == 1, (cmd, text, out)
        assert "Traceback" not in out
        assert password not in out, (cmd, out)
