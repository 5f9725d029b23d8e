"""The deadline notification against a real Prefect server (the session's `prefect server start`,
fixture prefect_api): a Sở's webhook block, the automation edustat creates for it, and the event a
run emits when the schools' deadline has passed with schools missing, delivered to a local HTTP
endpoint standing for the Sở's chat or mail gateway."""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("prefect")


@pytest.fixture()
def webhook():
    """A local endpoint that keeps every body POSTed to it."""
    received: queue.Queue[str] = queue.Queue()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            received.put(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def deliver_until_received(payload: dict, received: queue.Queue[str], timeout: float) -> str:
    """Emit the deadline event until the webhook receives a notification; its text.

    The server loads a new or updated automation asynchronously (a task after the commit, or its
    reconcile every 5 s), so an event emitted the same instant can be evaluated before the automation
    is loaded, and is then, rightly, not acted on (it happened before the automation existed). In
    production the automation exists long before any deadline; here the event is emitted again every
    20 s, so the test proves delivery, not the server's loading latency."""
    from prefect.events import emit_event
    from prefect.events.worker import EventsWorker

    from pipelines.ops import notify

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        emit_event(notify.DEADLINE_EVENT, resource={"prefect.resource.id": "edustat.so.66", "prefect.resource.name": "Sở 66"},
                   payload=payload)  # fmt: skip
        EventsWorker.drain_all()
        try:
            return json.loads(received.get(timeout=min(20, max(deadline - time.monotonic(), 0.1))))["text"]
        except queue.Empty:
            continue
    pytest.fail(f"no notification reached the webhook within {timeout:.0f} s")


def test_a_missed_deadline_reaches_the_so_through_its_webhook(prefect_api, webhook):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from pipelines.ops import notify

    url, received = webhook
    CustomWebhookNotificationBlock(name="so-66", url=url, json_data={"text": "{{subject}}\n{{body}}"},
                                   allow_private_urls=True).save("so-66", overwrite=True)  # fmt: skip
    automation = notify.ensure_deadline_automation("custom-webhook/so-66")
    assert notify.ensure_deadline_automation("custom-webhook/so-66") == automation  # one automation, updated

    # What report_period emits for Sở 66 with one of its two schools missing after 10/10/2024.
    school = {"school_code": "66647004", "school_name": "Trường Tiểu học Ea Nuôl", "phong_code": "647",
              "deadline": "2024-10-10", "status": "missing"}  # fmt: skip
    payload = {"school_year": "2024-2025", "period": "DN", "regime": "tt24", "province": "66",
               "deadline": "2024-10-10", "missing": 1, "expected": 2, "schools": [school],
               "out": "/srv/edustat/output/2024-2025/DN"}  # fmt: skip
    body = deliver_until_received(payload=payload, received=received, timeout=180)
    assert "2024-2025 DN Sở 66: 1 trường chưa nộp / schools missing" in body
    assert "1 of 2 schools sent nothing" in body
    assert "66647004 Trường Tiểu học Ea Nuôl (Phòng 647)" in body


def test_a_block_that_is_missing_or_not_a_notification_is_refused(prefect_api):
    from prefect.blocks.system import Secret

    from pipelines.ops import notify

    Secret(value="not a notification").save("so-68-secret", overwrite=True)
    for name, said in (("custom-webhook/nowhere", "no notification block"), ("webhook-without-name", "<type>/<name>"),
                       ("secret/so-68-secret", "not a notification block")):  # fmt: skip
        with pytest.raises(notify.NotificationError, match=said):
            notify.ensure_deadline_automation(name)
