"""Spans reach an OTLP/HTTP collector when `otel_endpoint` is set, the
last of them exported when the process exits. In a child process: the
exporter is installed once per process."""

from __future__ import annotations

import subprocess
import sys

from conftest import PASSWORD
from receiver import Receiver

CHILD = """
import sys
import doorward

dw = doorward.Doorward(
    database_url="memory://",
    jwt_secret="x" * 40,
    argon2_memory_kib=64,
    argon2_iterations=1,
    otel_endpoint=sys.argv[1],
    otel_service_name="py-app",
)
reg = dw.register_user("john", "john@example.com", sys.argv[2])
dw.users.get(reg.user.id)
print(reg.user.id)
"""


def test_spans_are_exported_over_otlp() -> None:
    with Receiver() as collector:
        endpoint = collector.url.removesuffix("/hooks")
        child = subprocess.run(
            [sys.executable, "-c", CHILD, endpoint, PASSWORD],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        user_id = child.stdout.strip()
        types = {
            value
            for r in collector.requests
            for name, value in r.headers.items()
            if name.lower() == "content-type"
        }
        body = b"".join(r.body for r in collector.requests)
    assert types == {"application/x-protobuf"}
    # OTLP protobuf carries names and string attributes as plain UTF-8.
    for name in ("py-app", "user_registration", "create_user", "users.get", user_id):
        assert name.encode() in body, name
    assert PASSWORD.encode() not in body
