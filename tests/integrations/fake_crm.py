"""An in-repo fake Salesforce on 127.0.0.1 (a thread, werkzeug, TLS with a throwaway
self-signed certificate), speaking the subset the connector uses:

- POST /services/oauth2/token (refresh_token grant) → a new access token;
- PATCH|GET /services/data/vXX.X/sobjects/Opportunity/{external id field}/{our id}:
  upsert (201 created, 204 updated) and read; 300 when several records carry the id;
- GET /services/data/vXX.X/queryAll/?q=SELECT … WHERE SystemModstamp > <moment> …
  (FROM Opportunity, and FROM Task … AND WhatId != null for the activities);

and the faults tests inject: an expired token (401), 429 and 5xx answers, several records
with one id (300), deletions, and duplicate and out-of-order change events (`replay_events`:
every version of every record and Task, twice, newest first).

FakeHubSpot (below) serves the deals, owners, and notes subset (notes search by
`hs_lastmodifieddate`, associations v4 batch read notes → deals), with `replay_notes` for
duplicate and out-of-order delivery.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import secrets
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

EXTERNAL_FIELD = "PRM_Id__c"
MODSTAMP = "%Y-%m-%dT%H:%M:%S.%f"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class FakeSalesforce:
    refresh_token: str = "refresh-1"
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    replay_events: bool = False  # queryAll answers every version, twice, newest first
    users: list[dict[str, Any]] = field(default_factory=list)  # {"Id", "Name", "Email"}
    created_at: dict[str, dt.datetime] = field(default_factory=dict)  # our id → arrival
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # Task Id → Task
    task_history: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Any = field(default_factory=lambda: itertools.count(secrets.randbelow(10**9) * 1000))
    _last: dt.datetime = field(default_factory=lambda: dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    url: str = ""
    cert: str = ""
    # Called with each request before it is answered (in the server's thread): tests check
    # what the worker's database session is doing during the call, or edit our side then.
    on_request: Any = None

    # --- what tests do on the CRM side ---------------------------------------------------

    def credentials(self) -> dict[str, str]:
        return {
            "client_id": "client",
            "client_secret": "secret",
            "refresh_token": self.refresh_token,
            "token_url": f"{self.url}/services/oauth2/token",
            "instance_url": self.url,
            "access_token": "",
        }

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.faults.extend(statuses)

    def by_prm_id(self, prm_id: Any) -> list[dict[str, Any]]:
        with self.lock:
            return [
                dict(r)
                for r in self.records.values()
                if r.get(EXTERNAL_FIELD) == str(prm_id) and not r["IsDeleted"]
            ]

    def edit(self, crm_id: str, **fields: Any) -> None:
        with self.lock:
            self.records[crm_id].update(fields)
            self._touch(self.records[crm_id])

    def delete(self, crm_id: str) -> None:
        with self.lock:
            self.records[crm_id]["IsDeleted"] = True
            self._touch(self.records[crm_id])

    def add_copy(self, crm_id: str) -> str:
        """A second record carrying the same id of ours (a Salesforce 300 from then on)."""
        with self.lock:
            copy = dict(self.records[crm_id], Id=self._new_id())
            self.records[copy["Id"]] = copy
            self._touch(copy)
            return copy["Id"]

    def count(self, method: str) -> int:
        return sum(1 for m, _, _ in self.calls if m == method)

    def add_task(
        self, what_id: str | None, subject: str, description: str = "", **fields: Any
    ) -> str:
        """A Task on a record (an Opportunity's Id, or an Account's "001…", or none)."""
        with self.lock:
            task = {
                "attributes": {"type": "Task"},
                "Id": f"00T{next(self._ids):015d}",
                "WhatId": what_id,
                "Subject": subject,
                "Description": description or None,
                "ActivityDate": None,
                "IsDeleted": False,
                **fields,
            }
            self.tasks[task["Id"]] = task
            self._touch(task, self.task_history)
            return task["Id"]

    def edit_task(self, task_id: str, **fields: Any) -> None:
        with self.lock:
            self.tasks[task_id].update(fields)
            self._touch(self.tasks[task_id], self.task_history)

    def delete_task(self, task_id: str) -> None:
        with self.lock:
            self.tasks[task_id]["IsDeleted"] = True
            self._touch(self.tasks[task_id], self.task_history)

    # --- internals --------------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"006{next(self._ids):015d}"

    def _touch(self, record: dict[str, Any], history: list[dict[str, Any]] | None = None) -> None:
        now = max(dt.datetime.now(dt.UTC), self._last + dt.timedelta(milliseconds=1))
        self._last = now
        record["SystemModstamp"] = now.strftime(MODSTAMP)[:-3] + "+0000"
        (self.history if history is None else history).append(dict(record))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if self.on_request is not None:
            self.on_request(request)
        with self.lock:
            response = self._answer(request)
            self.calls.append((request.method, request.path, response.status_code))
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token":
            return self._token(request)
        if self.faults:
            status = self.faults.pop(0)
            return _json([{"errorCode": "FAULT", "message": f"injected {status}"}], status)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return _json([{"errorCode": "INVALID_SESSION_ID", "message": "expired"}], 401)
        match = re.match(r"^/services/data/v[\d.]+/sobjects/Opportunity/(\w+)/(.+)$", request.path)
        if match and match.group(1) == EXTERNAL_FIELD:
            return self._by_external_id(request, match.group(2))
        if re.match(r"^/services/data/v[\d.]+/queryAll/?$", request.path):
            soql = request.args.get("q", "")
            return self._query_tasks(soql) if " FROM Task " in soql else self._query(soql)
        if re.match(r"^/services/data/v[\d.]+/query/?$", request.path):
            return self._query_users(request.args.get("q", ""))
        return _json([{"errorCode": "NOT_FOUND", "message": request.path}], 404)

    def _token(self, request: Request) -> Response:
        if request.form.get("refresh_token") != self.refresh_token:
            return _json({"error": "invalid_grant"}, 400)
        token = f"token-{len(self.tokens) + len(self.calls)}"
        self.tokens.add(token)
        return _json({"access_token": token, "instance_url": self.url, "token_type": "Bearer"})

    def _by_external_id(self, request: Request, prm_id: str) -> Response:
        matches = self.by_prm_id(prm_id)
        if len(matches) > 1:
            urls = [f"/services/data/v59.0/sobjects/Opportunity/{r['Id']}" for r in matches]
            return _json(urls, 300)
        if request.method == "GET":
            return _json(matches[0]) if matches else _json([{"errorCode": "NOT_FOUND"}], 404)
        body = json.loads(request.get_data() or b"{}")
        if matches:
            self.edit(matches[0]["Id"], **body)
            return Response(status=204)
        record = {
            "Id": self._new_id(),
            EXTERNAL_FIELD: prm_id,
            "IsDeleted": False,
            "Name": "",
            "Amount": None,
            "CloseDate": None,
            "StageName": "",
            "NextStep": None,
            "Description": None,
            **body,
        }
        self.records[record["Id"]] = record
        self.created_at.setdefault(prm_id, dt.datetime.now(dt.UTC))
        self._touch(record)
        return _json({"id": record["Id"], "success": True, "errors": [], "created": True}, 201)

    def _query_users(self, soql: str) -> Response:
        """GET …/query/?q=SELECT Id, Name, Email FROM User WHERE IsActive = true …"""
        return _users_answer(soql, self.users)

    def _query(self, soql: str) -> Response:
        found = re.search(r"SystemModstamp > (\S+)", soql)
        since = found.group(1) if found else "1970-01-01T00:00:00Z"
        since_moment = dt.datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        pool = self.history if self.replay_events else list(self.records.values())
        rows = [r for r in pool if _moment(r["SystemModstamp"]) > since_moment]
        rows.sort(key=lambda r: r["SystemModstamp"])
        if self.replay_events:
            rows = [dict(r) for r in reversed(rows) for _ in (1, 2)]
        return _json({"totalSize": len(rows), "done": True, "records": rows})

    def _query_tasks(self, soql: str) -> Response:
        """queryAll of Task … WHERE SystemModstamp > <moment> AND WhatId != null."""
        if "WhatId != null" not in soql:
            return _json([{"errorCode": "MALFORMED_QUERY", "message": soql}], 400)
        since = _since(soql)
        pool = self.task_history if self.replay_events else list(self.tasks.values())
        rows = [r for r in pool if _moment(r["SystemModstamp"]) > since and r["WhatId"] is not None]
        rows.sort(key=lambda r: r["SystemModstamp"])
        if self.replay_events:
            rows = [dict(r) for r in reversed(rows) for _ in (1, 2)]
        return _json({"totalSize": len(rows), "done": True, "records": rows})


def _since(soql: str) -> dt.datetime:
    found = re.search(r"SystemModstamp > (\S+)", soql)
    since = found.group(1) if found else "1970-01-01T00:00:00Z"
    return dt.datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _users_answer(soql: str, users: list[dict[str, Any]]) -> Response:
    if " FROM User" not in soql:
        return _json([{"errorCode": "INVALID_TYPE", "message": soql}], 400)
    rows = [{"attributes": {"type": "User"}, **u} for u in users]
    return _json({"totalSize": len(rows), "done": True, "records": rows})


def _moment(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class RunningFake:
    """The fake served on a free port of 127.0.0.1 with TLS, until `stop()`."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="fake-crm-"))
        cert, key = self_signed_certificate(self.folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.fake = FakeSalesforce(cert=str(cert))
        self.server = make_server(
            "127.0.0.1",
            0,
            self.fake,
            threaded=True,
            ssl_context=context,
            request_handler=QuietHandler,
        )
        self.fake.url = f"https://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@dataclass
class FakeHubSpot:
    """The CRM v3 deals subset: batch upsert by a unique property, read by it, search by
    `hs_lastmodifieddate` (paged); a private app token; injected faults."""

    token: str = "pat-1"
    id_property: str = "prm_id"
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[int] = field(default_factory=list)
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    page_size: int = 2  # small pages, so paging is exercised
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Any = field(default_factory=lambda: itertools.count(1001))
    _last: dt.datetime = field(default_factory=lambda: dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    created_at: dict[str, dt.datetime] = field(default_factory=dict)
    url: str = ""
    cert: str = ""
    on_request: Any = None  # as FakeSalesforce.on_request
    owners: list[dict[str, Any]] = field(default_factory=list)  # {"id", "email", "firstName"…}
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)  # note id → note (+"deals")
    note_history: list[dict[str, Any]] = field(default_factory=list)
    replay_notes: bool = False  # the notes search answers every version, twice, newest first
    refused: set[str] = field(default_factory=set)  # paths answered 403 (a missing scope)

    def credentials(self) -> dict[str, str]:
        return {"access_token": self.token, "api_url": self.url}

    def add_note(self, deal_ids: list[str], body: str) -> str:
        """A note (HTML body, as HubSpot stores it) associated with these deals."""
        with self.lock:
            now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
            note = {
                "id": str(next(self._ids)),
                "createdAt": now,
                "properties": {"hs_note_body": body, "hs_timestamp": now},
                "deals": list(deal_ids),
            }
            self.notes[note["id"]] = note
            self._touch(note)
            self.note_history.append(_copy(note))
            return note["id"]

    def edit_note(self, note_id: str, body: str) -> None:
        with self.lock:
            note = self.notes[note_id]
            note["properties"]["hs_note_body"] = body
            self._touch(note)
            self.note_history.append(_copy(note))

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.faults.extend(statuses)

    def by_prm_id(self, prm_id: Any) -> list[dict[str, Any]]:
        with self.lock:
            return [
                dict(r["properties"], id=r["id"])
                for r in self.records.values()
                if r["properties"].get(self.id_property) == str(prm_id) and not r.get("archived")
            ]

    def edit(self, crm_id: str, **properties: Any) -> None:
        with self.lock:
            self.records[crm_id]["properties"].update(properties)
            self._touch(self.records[crm_id])

    def archive(self, crm_id: str) -> None:
        """Delete a deal as HubSpot does: archived, gone from search, in the archived list."""
        with self.lock:
            record = self.records[crm_id]
            self._touch(record)
            record["archived"] = True
            record["archivedAt"] = record["updatedAt"]

    def count(self, method: str) -> int:
        return sum(1 for m, _, _ in self.calls if m == method)

    def _touch(self, record: dict[str, Any]) -> None:
        now = max(dt.datetime.now(dt.UTC), self._last + dt.timedelta(milliseconds=1))
        self._last = now
        record["updatedAt"] = now.isoformat().replace("+00:00", "Z")
        record["properties"]["hs_lastmodifieddate"] = str(int(now.timestamp() * 1000))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if self.on_request is not None:
            self.on_request(request)
        with self.lock:
            response = self._answer(request)
            self.calls.append((request.method, request.path, response.status_code))
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if self.faults:
            status = self.faults.pop(0)
            return _json({"status": "error", "message": f"injected {status}"}, status)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"status": "error", "message": "Authentication credentials"}, 401)
        if request.path in self.refused:
            return _json({"status": "error", "category": "MISSING_SCOPES"}, 403)
        if request.path == "/crm/v3/objects/deals/batch/upsert":
            return self._upsert(json.loads(request.get_data()))
        if request.path == "/crm/v3/objects/deals/search":
            return self._search(json.loads(request.get_data()))
        if request.path == "/crm/v3/objects/notes/search":
            return self._search_notes(json.loads(request.get_data()))
        if request.path == "/crm/v4/associations/notes/deals/batch/read":
            return self._note_deals(json.loads(request.get_data()))
        if re.match(r"^/crm/v3/owners/?$", request.path):
            start = int(request.args.get("after") or 0)
            page = self.owners[start : start + self.page_size]
            answer: dict[str, Any] = {"results": [{"archived": False, **o} for o in page]}
            if start + self.page_size < len(self.owners):
                answer["paging"] = {"next": {"after": str(start + self.page_size)}}
            return _json(answer)
        if request.path == "/crm/v3/objects/deals" and request.method == "GET":
            return self._archived(request)
        match = re.match(r"^/crm/v3/objects/deals/([^/]+)$", request.path)
        if match and request.method == "GET":
            found = self.by_prm_id(match.group(1))
            if not found:
                return _json({"status": "error", "message": "not found"}, 404)
            return _json(self._out(self.records[found[0]["id"]]))
        return _json({"status": "error", "message": request.path}, 404)

    def _out(self, record: dict[str, Any], new: bool | None = None) -> dict[str, Any]:
        body = {
            "id": record["id"],
            "properties": dict(record["properties"]),
            "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"],
            "archived": bool(record.get("archived")),
        }
        if record.get("archived"):
            body["archivedAt"] = record["archivedAt"]
        return body if new is None else {**body, "new": new}

    def _archived(self, request: Request) -> Response:
        """GET /crm/v3/objects/deals?archived=true (paged; without it, live deals)."""
        archived = request.args.get("archived", "").lower() == "true"
        rows = [r for r in self.records.values() if bool(r.get("archived")) == archived]
        start = int(request.args.get("after") or 0)
        page = rows[start : start + self.page_size]
        answer: dict[str, Any] = {"results": [self._out(r) for r in page]}
        if start + self.page_size < len(rows):
            answer["paging"] = {"next": {"after": str(start + self.page_size)}}
        return _json(answer)

    def _upsert(self, body: dict[str, Any]) -> Response:
        results = []
        for item in body["inputs"]:
            found = self.by_prm_id(item["id"])
            if found:
                self.edit(found[0]["id"], **item["properties"])
                results.append(self._out(self.records[found[0]["id"]], new=False))
                continue
            crm_id = str(next(self._ids))
            now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
            record = {
                "id": crm_id,
                "createdAt": now,
                "properties": {**item["properties"], item["idProperty"]: item["id"]},
            }
            self.records[crm_id] = record
            self.created_at.setdefault(item["id"], dt.datetime.now(dt.UTC))
            self._touch(record)
            results.append(self._out(record, new=True))
        stamp = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        return _json(
            {"status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp}
        )

    def _search(self, body: dict[str, Any]) -> Response:
        since = int(body["filterGroups"][0]["filters"][0]["value"])
        rows = sorted(
            (r for r in self.records.values()
             if int(r["properties"]["hs_lastmodifieddate"]) > since and not r.get("archived")),
            key=lambda r: int(r["properties"]["hs_lastmodifieddate"]),
        )  # fmt: skip
        start = int(body.get("after") or 0)
        page = rows[start : start + self.page_size]
        answer: dict[str, Any] = {"total": len(rows), "results": [self._out(r) for r in page]}
        if start + self.page_size < len(rows):
            answer["paging"] = {"next": {"after": str(start + self.page_size)}}
        return _json(answer)

    def _search_notes(self, body: dict[str, Any]) -> Response:
        """POST /crm/v3/objects/notes/search, by hs_lastmodifieddate > <ms> (paged)."""
        since = int(body["filterGroups"][0]["filters"][0]["value"])
        pool = self.note_history if self.replay_notes else list(self.notes.values())
        rows = sorted(
            (n for n in pool if int(n["properties"]["hs_lastmodifieddate"]) > since),
            key=lambda n: int(n["properties"]["hs_lastmodifieddate"]),
        )
        if self.replay_notes:
            rows = [n for n in reversed(rows) for _ in (1, 2)]
        start = int(body.get("after") or 0)
        page = rows[start : start + self.page_size]
        wanted = set(body.get("properties") or [])
        results = [
            {
                "id": n["id"],
                "properties": {k: v for k, v in n["properties"].items() if k in wanted},
                "createdAt": n["createdAt"],
                "updatedAt": n["updatedAt"],
                "archived": False,
            }
            for n in page
        ]
        answer: dict[str, Any] = {"total": len(rows), "results": results}
        if start + self.page_size < len(rows):
            answer["paging"] = {"next": {"after": str(start + self.page_size)}}
        return _json(answer)

    def _note_deals(self, body: dict[str, Any]) -> Response:
        """POST /crm/v4/associations/notes/deals/batch/read: a note with no deal is an
        error of the batch (207), as HubSpot answers."""
        results, errors = [], []
        for item in body["inputs"]:
            deals = self.notes.get(item["id"], {}).get("deals") or []
            if not deals:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "message": f"No deal is associated with note {item['id']}",
                    }
                )
                continue
            results.append({
                "from": {"id": item["id"]},
                "to": [
                    {"toObjectId": int(d), "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 214, "label": None}
                    ]}
                    for d in deals
                ],
            })  # fmt: skip
        stamp = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        answer: dict[str, Any] = {
            "status": "COMPLETE", "results": results, "startedAt": stamp, "completedAt": stamp,
        }  # fmt: skip
        if errors:
            answer.update(numErrors=len(errors), errors=errors)
        return _json(answer, 207 if errors else 200)


def _copy(note: dict[str, Any]) -> dict[str, Any]:
    return {**note, "properties": dict(note["properties"]), "deals": list(note["deals"])}


class RunningHubSpot(RunningFake):
    def __init__(self) -> None:  # noqa: D107
        self.folder = Path(tempfile.mkdtemp(prefix="fake-hubspot-"))
        cert, key = self_signed_certificate(self.folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.fake = FakeHubSpot(cert=str(cert))  # type: ignore[assignment]
        self.server = make_server(
            "127.0.0.1", 0, self.fake, threaded=True, ssl_context=context,
            request_handler=QuietHandler,
        )  # fmt: skip
        self.fake.url = f"https://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
