"""What a client of Hookline knows and schemathesis cannot read from the OpenAPI document.

- Which names exist: an event to publish, an endpoint's subscriptions and a source must
  name an event type of the catalogue (scripts/schemathesis.sh creates `st.event` first).
- Rules between fields, which JSON Schema does not state: a secret header must be one of
  the endpoint's headers, a batched endpoint cannot be FIFO, an event type's example must
  match its schema, an idempotency key sent again must come with the same request.
- Languages the server parses and documents in prose: filters, templates, JSON Schemas.

Only schema-valid (positive) cases are changed, and only into other schema-valid values:
the positive check still judges every other field as generated, and negative cases are
left exactly as generated.
"""

import uuid

import schemathesis
from schemathesis.generation import GenerationMode

KNOWN_TYPE = "st.event"
A_FILTER = {"field": "data.n", "op": "exists"}


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def _event(body, header_key=None):
    body["event_type"] = KNOWN_TYPE
    if body.get("idempotency_key") is not None:
        # A key reused with another request is refused, rightly; a fresh one is not.
        body["idempotency_key"] = header_key or str(uuid.uuid4())


def _subscriptions(body, patch=False):
    # One exact name, so that a test-fire without `event_type` knows which to send.
    if not patch or "event_types" in body:
        body["event_types"] = [KNOWN_TYPE]


def _auth(auth):
    # Each kind's credentials as the server checks them (header names that are tokens and
    # not Hookline's own, a username without a colon, a token URL as browsers parse it).
    kind = auth.get("type")
    if kind == "api_key":
        auth.update(header="X-Api-Key", value="v")
    elif kind == "bearer":
        auth.update(token="t")
    elif kind == "basic":
        auth.update(username="u", password="p")
    elif kind == "oauth2":
        auth.update(token_url="https://auth.example.com/token", client_id="c", client_secret="s")
    elif kind == "jwt":
        # A key that parses for its algorithm (a PEM has no schema), and claims that leave
        # Hookline's own (iat, exp, nbf, jti) alone within the 4 KB cap.
        auth.update(algorithm="HS256", key="a shared secret of thirty-two bytes or more",
                    claims={"iss": "st"})
        if auth.get("key_id") is not None:
            auth["key_id"] = "k1"


def _endpoint(body, patch=False):
    # URLs as browsers parse them, and durations with their ranges, have no exact schema.
    if not patch or "url" in body:
        # Loopback: the guarded client refuses it at once, so a test-fire answers fast.
        body["url"] = "https://127.0.0.1:9/hook"
    if "timeout" in body:
        body["timeout"] = "30s"
    if body.get("retry_schedule") is not None:
        body["retry_schedule"] = ["5s", "5m"][: len(body["retry_schedule"])]
    if isinstance(body.get("batch"), dict):
        body["batch"]["max_wait"] = "1s"
    if isinstance(body.get("auth"), dict):
        _auth(body["auth"])
    # Certificates and keys are PEM, which no schema states (tested in tests/it/tls.rs).
    body.pop("tls", None)
    _subscriptions(body, patch)
    headers = {name.lower() for name in (body.get("headers") or {})}
    if "secret_headers" in body:
        # Under PATCH the headers may be the stored ones, which the case does not know.
        keep = [] if patch else [h for h in body["secret_headers"] if h.lower() in headers]
        body["secret_headers"] = keep
    if body.get("filter") is not None:
        body["filter"] = A_FILTER
    if body.get("template") is not None:
        body["template"] = None
    if body.get("batch") is not None or (patch and body.get("ordered")):
        body["ordered"] = False
        body["batch"] = body.get("batch")


def _event_type(body):
    # A JSON Schema is a language of its own; the example must match it.
    body.pop("schema", None)
    body.pop("example", None)
    # Paths are compared without the white space around them, which the server trims.
    if isinstance(body.get("sensitive_fields"), list):
        seen, kept = set(), []
        for path in body["sensitive_fields"]:
            if path.strip() not in seen:
                seen.add(path.strip())
                kept.append(path)
        body["sensitive_fields"] = kept


def _try_out(body):
    if body.get("filter") is not None or "filter" in body:
        body["filter"] = A_FILTER
    # Either an envelope to try it on, or an event type whose example to use.
    body.pop("event_type", None)
    if body.get("payload") is None:
        body["payload"] = {"data": {"n": 1}}


# A secret of each kind's form (Standard Webhooks: base64 after `whsec_`).
SECRETS = {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "signing_secret": "s", "key": "k",
           "password": "p", "previous_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
           "previous_key": "k", "previous_password": "p"}


def _verification(v):
    for name, value in SECRETS.items():
        if name in v:
            v[name] = value
    kind = v.get("type")
    if kind == "hmac":
        v.update(header="X-Signature", signed="{body}")
    elif kind == "jwt":
        v["algorithm"] = "HS256"
    elif kind == "api_key" and v.get("header") is None and v.get("query") is None:
        v["header"] = "X-Key"


def _source(body, patch=False):
    if not patch or "event_type" in body:
        body["event_type"] = KNOWN_TYPE
    body.pop("event_type_from", None)
    body.pop("transform", None)
    body.pop("allowed_ips", None)  # CIDRs: no exact schema for IPv6
    if isinstance(body.get("response"), dict):
        body["response"].pop("body", None)
    if isinstance(body.get("dedup"), dict) and body["dedup"].get("header") is not None:
        body["dedup"].pop("json_path", None)
    if isinstance(body.get("verification"), dict):
        _verification(body["verification"])


def _rotate(body):
    # The new secret in the source's form (a Standard Webhooks one: base64 after whsec_).
    if "secret" in body:
        body["secret"] = SECRETS["secret"]


def _test_fire(body):
    # The endpoint subscribes to exactly one type (see _subscriptions), with an example.
    body.pop("event_type", None)


def _whole_numbers(value):
    """JSON Schema counts 157592.0 as an integer; the API reads integers written without a
    fraction, as JSON encoders write them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _portal_link(body):
    # A lifetime is a duration between 1h and 30d, which no schema states.
    if "expires_in" in body:
        body["expires_in"] = "7d"


def _alert_rule(body):
    # Rules between fields and names that must exist, which no schema states: a window
    # between 1m and 1d, a real endpoint (none: every endpoint), a threshold but for a
    # circuit warning, a percent for a failure rate.
    if "window" in body and body["window"] is not None:
        body["window"] = "5m"
    body.pop("endpoint_id", None)
    if body.get("kind") != "circuit_warning" and body.get("threshold") is None:
        body["threshold"] = 10
    if body.get("kind") == "failure_rate" and isinstance(body.get("threshold"), int):
        body["threshold"] = min(body["threshold"], 100)


FIXES = {
    ("POST", "/api/v1/portal-links"): _portal_link,
    ("POST", "/api/v1/alert-rules"): _alert_rule,
    ("PATCH", "/api/v1/endpoints/{id}"): lambda b: _endpoint(b, patch=True),
    ("PATCH", "/api/v1/sources/{id}"): lambda b: _source(b, patch=True),
    ("POST", "/api/v1/endpoints/{id}/test"): _test_fire,
    ("POST", "/api/v1/events"): _event,
    ("POST", "/api/v1/endpoints"): _endpoint,
    ("POST", "/api/v1/event-types"): _event_type,
    ("PUT", "/api/v1/event-types/{name}"): _event_type,
    ("POST", "/api/v1/filters/test"): _try_out,
    ("POST", "/api/v1/templates/preview"): _try_out,
    ("POST", "/api/v1/sources"): _source,
    ("POST", "/api/v1/sources/{id}/secret/rotate"): _rotate,
}


@schemathesis.hook
def map_case(context, case):
    key = (case.method.upper(), case.path)
    # The type the other fixes name stays: a stateful run would otherwise archive or
    # delete it on its way.
    if key[1] == "/api/v1/event-types/{name}" and key[0] in ("PUT", "DELETE"):
        if (case.path_parameters or {}).get("name") == KNOWN_TYPE:
            case.path_parameters["name"] = "st.kept"
    if not _positive(case) or not isinstance(case.body, dict):
        return case
    case.body = _whole_numbers(case.body)
    if key == ("POST", "/api/v1/events"):
        header = None
        for name in list(case.headers or {}):
            if name.lower() == "idempotency-key":
                header = str(uuid.uuid4())
                case.headers[name] = header
        if header is not None:
            case.body.pop("idempotency_key", None)  # the header says it
        _event(case.body, header)
    elif key == ("POST", "/api/v1/events/batch"):
        for event in case.body.get("events") or []:
            if isinstance(event, dict):
                _event(event)
    elif key in FIXES:
        FIXES[key](case.body)
    return case
