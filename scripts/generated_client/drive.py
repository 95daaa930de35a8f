"""A client generated from Hookline's /api/v1/openapi.json by openapi-python-client (PyPI)
manages an event type and an endpoint, publishes, and reads errors, against a real server;
a local receiver checks that the event arrives. Run by scripts/generated-client.sh, which
generates the client first: nothing here is written by hand against the API but this
script's calls.

Usage: drive.py BASE_URL API_KEY
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from hookline_client import AuthenticatedClient
from hookline_client.api.endpoints import create as create_endpoint
from hookline_client.api.endpoints import list_ as list_endpoints
from hookline_client.api.endpoints import read as read_endpoint
from hookline_client.api.endpoints import remove as remove_endpoint
from hookline_client.api.endpoints import update as update_endpoint
from hookline_client.api.event_types import create as create_type
from hookline_client.api.events import publish
from hookline_client.models import (
    ApiError,
    EndpointInput,
    EndpointPatch,
    EndpointView,
    EventTypeView,
    NewEventType,
    PageEndpointView,
    PublishEvent,
    Published,
)

received = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        received.append((dict(self.headers), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def expect(value, kind):
    assert isinstance(value, kind), f"expected {kind.__name__}, got {value!r}"
    return value


def main(base, key):
    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    client = AuthenticatedClient(base_url=base, token=key, raise_on_unexpected_status=True)

    kind = expect(create_type.sync(client=client, body=NewEventType(name="order.created")), EventTypeView)
    assert kind.name == "order.created"

    made = create_endpoint.sync(
        client=client,
        body=EndpointInput(name="orders", url=hook, event_types=["order.created"]),
    )
    endpoint = expect(made, EndpointView)
    assert endpoint.id.startswith("ep_"), endpoint.id
    assert endpoint.enabled and endpoint.timeout == "30s"

    page = expect(list_endpoints.sync(client=client, limit=1), PageEndpointView)
    assert [e.id for e in page.items] == [endpoint.id]

    patched = update_endpoint.sync(
        endpoint.id, client=client, body=EndpointPatch(description="from a generated client")
    )
    assert expect(patched, EndpointView).description == "from a generated client"

    event = PublishEvent(event_type="order.created", data={"order": 1001})
    first = expect(publish.sync(client=client, body=event, idempotency_key="gen-1001"), Published)
    again = expect(publish.sync(client=client, body=event, idempotency_key="gen-1001"), Published)
    assert first.id == again.id and first.deliveries == 1, (first, again)

    # The errors come back as the documented error body, typed.
    wrong = publish.sync(client=client, body=PublishEvent(event_type="order.nope", data={}))
    wrong = expect(wrong, ApiError)
    assert wrong.code == "validation_failed" and wrong.errors[0].path == "event_type", wrong

    deadline = time.monotonic() + 15
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert received, "the receiver got the event"
    headers, envelope = received[0]
    assert envelope["id"] == first.id and envelope["data"] == {"order": 1001}, envelope
    assert headers.get("webhook-id") or headers.get("Webhook-Id"), headers

    assert remove_endpoint.sync_detailed(endpoint.id, client=client).status_code == 204
    gone = expect(read_endpoint.sync(endpoint.id, client=client), ApiError)
    assert gone.code == "not_found", gone
    receiver.shutdown()
    print("[generated-client] event type, endpoint, page, patch, publish, replay, errors, delivery: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
