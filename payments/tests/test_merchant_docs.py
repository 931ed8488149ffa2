"""docs/INTEGRATION.md is tested: its Python and Node verify recipes accept a real signed delivery."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from payments.tests.merchant_api_support import ApiClient, endpoint_for, new_key, webhook_receiver

DOC = Path(settings.BASE_DIR) / "docs" / "INTEGRATION.md"


def _code_block(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    matching = [block for block in blocks if containing in block]
    assert len(matching) == 1, f"expected one {language} block with {containing!r} in {DOC}"
    return matching[0]


def documented_python_verifier() -> Callable[..., dict[str, Any]]:
    """``verify_flexlmn_signature`` exactly as docs/INTEGRATION.md prints it."""
    namespace: dict[str, Any] = {}
    exec(compile(_code_block("python", "def verify_flexlmn_signature"), str(DOC), "exec"), namespace)  # noqa: S102
    return namespace["verify_flexlmn_signature"]  # type: ignore[no-any-return]


def _a_real_delivery(client: Client, capture: Any) -> tuple[bytes, str, str]:
    """Create and pay nothing: a refund-free event is enough, so send ops' resend of a session event."""
    from payments.merchant_webhooks import merchant_event_emit

    merchant, secret = new_key()
    with webhook_receiver() as receiver:
        _endpoint, signing_secret = endpoint_for(merchant, receiver.url)
        session = ApiClient(client, secret).post("/checkout_sessions", _payload()).json()
        with capture(execute=True):
            merchant_event_emit(
                merchant=merchant,
                type="checkout_session.completed",
                livemode=False,
                data={"object": {"id": session["id"], "object": "checkout_session", "status": "complete"}},
            )
    received = receiver.requests[0]
    return received.body, received.headers["FlexLMN-Signature"], signing_secret


def _payload() -> dict[str, Any]:
    from payments.tests.merchant_api_support import session_payload

    return session_payload()


@pytest.mark.django_db
def test_the_documented_python_recipe_verifies_a_real_delivery(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    body, header, secret = _a_real_delivery(client, django_capture_on_commit_callbacks)
    verify = documented_python_verifier()
    event = verify(body, header, secret)
    assert event["type"] == "checkout_session.completed"
    with pytest.raises(Exception, match="signature mismatch"):
        verify(body + b" ", header, secret)
    with pytest.raises(Exception, match="signature mismatch"):
        verify(body, header, "whsec_wrong")
    with pytest.raises(Exception, match="malformed"):
        verify(body, "v1=abc", secret)
    old = re.sub(r"t=\d+", "t=1000000000", header)
    with pytest.raises(Exception, match="signature mismatch"):
        verify(body, old, secret)


@pytest.mark.django_db
def test_the_documented_python_recipe_refuses_a_replayed_old_delivery(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from payments.merchant_webhooks import signature_header

    body, _header, secret = _a_real_delivery(client, django_capture_on_commit_callbacks)
    stale = signature_header(secret=secret, timestamp=1_000_000_000, body=body)
    with pytest.raises(Exception, match="timestamp outside the tolerance"):
        documented_python_verifier()(body, stale, secret)


NODE_HARNESS = """
const body = Buffer.from(process.env.BODY_B64, "base64");
try {
  const event = verifyFlexlmnSignature(body, process.env.SIGNATURE, process.env.SECRET);
  console.log(JSON.stringify({ ok: true, type: event.type }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: error.message }));
}
"""


@pytest.mark.django_db
def test_the_documented_node_recipe_verifies_a_real_delivery(
    client: Client, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is part of the machine image; the documented Node recipe is tested with it"
    body, header, secret = _a_real_delivery(client, django_capture_on_commit_callbacks)
    script = tmp_path / "verify.js"
    script.write_text(_code_block("javascript", "function verifyFlexlmnSignature") + NODE_HARNESS)

    def run(signature: str, key: str) -> dict[str, Any]:
        env = {"BODY_B64": base64.b64encode(body).decode(), "SIGNATURE": signature, "SECRET": key, "PATH": ""}
        out = subprocess.run([node, str(script)], env=env, capture_output=True, text=True, timeout=30, check=True)
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    assert run(header, secret) == {"ok": True, "type": "checkout_session.completed"}
    assert run(header, "whsec_wrong") == {"ok": False, "error": "signature mismatch"}
    assert run("nonsense", secret) == {"ok": False, "error": "malformed FlexLMN-Signature header"}
