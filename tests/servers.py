"""Loopback HTTP servers that speak the formats of CBS's OData v3 feed and PDOK's OGC API.

They serve fixture data to the real clients (cbsodata, requests). Every request is logged,
so a test can assert that a run made none, and faults can be injected: an HTTP status, a
truncated body, a dropped connection or a hang.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

#: How often (seconds) a server checks whether it should stop.
POLL_INTERVAL = 0.05


@dataclass
class Fault:
    match: str  # substring of the request path and query
    kind: str  # "status", "truncate", "drop" or "hang"
    status: int = 503
    times: int | None = None  # None: every matching request
    seconds: float = 3.0

    def take(self) -> bool:
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 with a request log and fault injection."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.faults: list[Fault] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                for fault in outer.faults:
                    if fault.match in self.path and fault.take():
                        return outer._fault(self, fault)
                status, body, headers = outer.respond(urlsplit(self.path))
                outer._send(self, status, body, headers)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # serve_forever checks for shutdown every poll interval; the default 0.5 s made
        # every test with a server wait up to half a second at teardown.
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": POLL_INTERVAL}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def respond(self, url: Any) -> tuple[int, bytes, dict[str, str]]:
        raise NotImplementedError

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes,
              headers: dict[str, str]) -> None:
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _fault(self, handler: BaseHTTPRequestHandler, fault: Fault) -> None:
        if fault.kind == "status":
            body = json.dumps({"odata.error": {"code": "", "message": {
                "lang": "nl-NL", "value": "Er is een fout opgetreden."}}}).encode()
            self._send(handler, fault.status, body, {"Content-Type": "application/json"})
        elif fault.kind == "truncate":
            status, body, headers = self.respond(urlsplit(handler.path))
            self._send(handler, status, body[: max(1, len(body) // 2)], headers)
        elif fault.kind == "drop":
            handler.close_connection = True
            handler.connection.close()
        elif fault.kind == "hang":
            time.sleep(fault.seconds)
            handler.close_connection = True
        else:
            raise ValueError(fault.kind)


def _json(value: Any, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return 200, body, {"Content-Type": "application/json;charset=utf-8", **(headers or {})}


def _not_found(message: str) -> tuple[int, bytes, dict[str, str]]:
    body = json.dumps({"odata.error": {"code": "", "message": {"lang": "en-US",
                                                                 "value": message}}})
    return 404, body.encode(), {"Content-Type": "application/json"}


# --------------------------------------------------------------------------- CBS OData v3


@dataclass
class CbsTable:
    table_id: str
    table_infos: list[dict[str, Any]]
    data_properties: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    category_groups: list[dict[str, Any]] = field(default_factory=list)


_EQ = re.compile(r"^(\w+) eq '([^']*)'$")
_SUBSTRINGOF = re.compile(r"^substringof\('([^']*)',\s*(\w+)\)$")


def _odata_filter(expression: str) -> Any:
    """The subset of OData v3 $filter that CBS clients use: eq, substringof, joined by or."""
    terms = []
    for part in re.split(r"\s+or\s+", expression.strip()):
        part = part.strip()
        while part.startswith("(") and part.endswith(")"):
            part = part[1:-1].strip()
        if m := _EQ.match(part):
            terms.append(("eq", m.group(1), m.group(2)))
        elif m := _SUBSTRINGOF.match(part):
            terms.append(("in", m.group(2), m.group(1)))
        else:
            raise ValueError(part)

    def keep(row: dict[str, Any]) -> bool:
        for op, key, value in terms:
            field_value = str(row.get(key, ""))
            if (op == "eq" and field_value == value) or (op == "in" and value in field_value):
                return True
        return False

    return keep


class CbsServer(LoopbackServer):
    """CBS's OData v3 feed: /ODataCatalog/Tables and /ODataFeed/odata/<table>/<collection>."""

    def __init__(self, tables: list[CbsTable], page_size: int = 10000) -> None:
        super().__init__()
        self.tables = {t.table_id.lower(): t for t in tables}
        self.page_size = page_size

    def respond(self, url: Any) -> tuple[int, bytes, dict[str, str]]:
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        if [p.lower() for p in parts] == ["odatacatalog", "tables"]:
            return self._catalogue(query)
        if len(parts) >= 3 and [p.lower() for p in parts[:2]] == ["odatafeed", "odata"]:
            table = self.tables.get(parts[2].lower())
            if table is None:
                return _not_found(f"Resource not found for the segment '{parts[2]}'.")
            return self._table(table, parts[3] if len(parts) > 3 else "", query)
        return _not_found(f"Resource not found: {url.path}")

    def _catalogue(self, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        rows = [t.table_infos[0] for t in self.tables.values()]
        if "$filter" in query:
            m = _SUBSTRINGOF.match(query["$filter"].strip())
            if not m:
                return 400, b'{"odata.error": {"message": {"value": "bad filter"}}}', {}
            rows = [r for r in rows if m.group(1) in str(r.get(m.group(2), ""))]
        if "$select" in query:
            keys = [k.strip() for k in query["$select"].split(",")]
            rows = [{k: r.get(k) for k in keys} for r in rows]
        return _json({"odata.metadata": f"{self.url}/ODataCatalog/$metadata#Tables",
                      "value": rows})

    def _table(self, table: CbsTable, name: str,
               query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        feed = f"{self.url}/ODataFeed/OData/{table.table_id}"
        collections = {
            "TableInfos": table.table_infos,
            "UntypedDataSet": table.rows,
            "TypedDataSet": table.rows,
            "DataProperties": table.data_properties,
            "CategoryGroups": table.category_groups,
            "WijkenEnBuurten": table.regions,
        }
        if name == "":
            return _json({"odata.metadata": f"{feed}/$metadata",
                          "value": [{"name": n, "url": f"{feed}/{n}"} for n in collections]})
        if name not in collections:
            return _not_found(f"Resource not found for the segment '{name}'.")
        rows = collections[name]
        if "$filter" in query:
            try:
                keep = _odata_filter(query["$filter"])
            except ValueError:
                return 400, b'{"odata.error": {"message": {"value": "bad filter"}}}', {}
            rows = [r for r in rows if keep(r)]
        if "$select" in query:
            keys = [k.strip() for k in query["$select"].split(",")]
            rows = [{k: r.get(k) for k in keys} for r in rows]
        skip = int(query.get("$skip", 0))
        page = rows[skip: skip + self.page_size]
        body: dict[str, Any] = {"odata.metadata": f"{feed}/$metadata#Cbs.OData.WebAPI.{name}",
                                "value": page}
        if skip + self.page_size < len(rows):
            link = f"{feed}/{name}/?$format=json&$skip={skip + self.page_size}"
            if "$filter" in query:
                link += "&$filter=" + quote(query["$filter"], safe="(),'")
            body["odata.nextLink"] = link
        return _json(body)


# --------------------------------------------------------------------------- PDOK OGC API

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"


class PdokServer(LoopbackServer):
    """PDOK OGC API Features: /cbs/wijken-en-buurten-<jaar>/ogc/v1/collections/<laag>/items."""

    def __init__(self, layers: dict[tuple[int, str], list[dict[str, Any]]],
                 page_size: int = 1000, property_filter: bool = True) -> None:
        super().__init__()
        self.layers = layers
        self.page_size = page_size
        self.property_filter = property_filter

    def respond(self, url: Any) -> tuple[int, bytes, dict[str, str]]:
        m = re.fullmatch(r"/cbs/wijken-en-buurten-(\d{4})/ogc/v1/collections/(\w+)/items",
                         url.path)
        if not m or (int(m.group(1)), m.group(2)) not in self.layers:
            body = json.dumps({"code": "Not Found", "description": f"{url.path} not found"})
            return 404, body.encode(), {"Content-Type": "application/problem+json"}
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        features = self.layers[(int(m.group(1)), m.group(2))]
        if "gemeentecode" in query and not self.property_filter:
            body = json.dumps({"code": "Bad Request",
                               "description": "unknown query parameter: gemeentecode"})
            return 400, body.encode(), {"Content-Type": "application/problem+json"}
        if "gemeentecode" in query:
            features = [f for f in features
                        if f["properties"].get("gemeentecode") == query["gemeentecode"]]
        limit = min(int(query.get("limit", 10)), self.page_size)
        offset = int(query.get("offset", 0))
        page = features[offset: offset + limit]
        links = [{"rel": "self", "type": "application/geo+json", "href": f"{self.url}{url.path}"}]
        if offset + limit < len(features):
            rest = {k: v for k, v in query.items() if k != "offset"}
            rest_query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in rest.items())
            links.append({"rel": "next", "type": "application/geo+json",
                          "href": f"{self.url}{url.path}?{rest_query}&offset={offset + limit}"})
        crs = query.get("crs", "http://www.opengis.net/def/crs/OGC/1.3/CRS84")
        return _json({"type": "FeatureCollection", "timeStamp": "2026-11-27T08:00:00Z",
                      "links": links, "features": page, "numberReturned": len(page)},
                     {"Content-Crs": f"<{crs}>", "Content-Type": "application/geo+json"})


# --------------------------------------------------------------------------- PDOK Locatieserver


class LocatieServer(LoopbackServer):
    """PDOK Locatieserver v3.1 free-text search: /free?q=...&fq=type:adres&rows=1."""

    def __init__(self, addresses: dict[str, tuple[float, float, str]]) -> None:
        super().__init__()
        self.addresses = {" ".join(k.lower().split()): v for k, v in addresses.items()}

    def respond(self, url: Any) -> tuple[int, bytes, dict[str, str]]:
        if not url.path.endswith("/free"):
            return _not_found(url.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        hit = self.addresses.get(" ".join(query.get("q", "").lower().split()))
        docs = [] if hit is None else [{"weergavenaam": hit[2], "type": "adres",
                                        "centroide_rd": f"POINT({hit[0]} {hit[1]})",
                                        "score": 14.2}]
        return _json({"response": {"numFound": len(docs), "start": 0, "maxScore": 14.2,
                                   "numFoundExact": True, "docs": docs}})
