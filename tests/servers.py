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
    headers: dict[str, str] = field(default_factory=dict)  # sent with a "status" fault

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
        #: The User-Agent header of every request, in order.
        self.agents: list[str | None] = []
        self.faults: list[Fault] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                outer.agents.append(self.headers.get("User-Agent"))
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
            self._send(handler, fault.status, body,
                       {"Content-Type": "application/json", **fault.headers})
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
    #: Further dimension collections, such as SoortMisdrijf and Perioden of 47018NED.
    dimensions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


_EQ = re.compile(r"^(\w+) eq '([^']*)'$")
_SUBSTRINGOF = re.compile(r"^substringof\('([^']*)',\s*(\w+)\)$")


def _split_top(expression: str, word: str) -> list[str]:
    """Split on `` and `` / `` or `` outside parentheses and quotes."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    token = f" {word} "
    while i < len(expression):
        char = expression[i]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and expression.startswith(token, i):
            parts.append(expression[start:i])
            i += len(token)
            start = i
            continue
        i += 1
    parts.append(expression[start:])
    return parts


def _unwrap(part: str) -> str:
    part = part.strip()
    while part.startswith("(") and part.endswith(")") and _balanced(part[1:-1]):
        part = part[1:-1].strip()
    return part


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _odata_filter(expression: str) -> Any:
    """The subset of OData v3 $filter that CBS clients use: eq and substringof, combined
    with and/or and parentheses."""
    expression = _unwrap(expression)
    ors = _split_top(expression, "or")
    if len(ors) > 1:
        terms = [_odata_filter(part) for part in ors]
        return lambda row: any(term(row) for term in terms)
    ands = _split_top(expression, "and")
    if len(ands) > 1:
        terms = [_odata_filter(part) for part in ands]
        return lambda row: all(term(row) for term in terms)
    if m := _EQ.match(expression):
        key, value = m.group(1), m.group(2)
        return lambda row: str(row.get(key, "")) == value
    if m := _SUBSTRINGOF.match(expression):
        value, key = m.group(1), m.group(2)
        return lambda row: value in str(row.get(key, ""))
    raise ValueError(expression)


class CbsServer(LoopbackServer):
    """CBS's OData v3 feed: /ODataCatalog/Tables and /ODataFeed/odata/<table>/<collection>."""

    def __init__(self, tables: list[CbsTable], page_size: int = 10000) -> None:
        super().__init__()
        self.tables = {t.table_id.lower(): t for t in tables}
        self.page_size = page_size
        #: Collections whose every page links to itself as odata.nextLink (a broken feed).
        self.self_links: set[str] = set()

    def respond(self, url: Any) -> tuple[int, bytes, dict[str, str]]:
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        if [p.lower() for p in parts] == ["odatacatalog", "tables"]:
            return self._catalogue(query)
        if len(parts) >= 3 and [p.lower() for p in parts[:2]] == ["odatafeed", "odata"]:
            table = self.tables.get(parts[2].lower())
            if table is None:
                return _not_found(f"Resource not found for the segment '{parts[2]}'.")
            return self._table(table, parts[3] if len(parts) > 3 else "", query,
                               f"{self.url}{url.path}?{url.query}")
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

    def _table(self, table: CbsTable, name: str, query: dict[str, str],
               requested: str) -> tuple[int, bytes, dict[str, str]]:
        feed = f"{self.url}/ODataFeed/OData/{table.table_id}"
        collections = {
            "TableInfos": table.table_infos,
            "UntypedDataSet": table.rows,
            "TypedDataSet": table.rows,
            "DataProperties": table.data_properties,
            "CategoryGroups": table.category_groups,
            "WijkenEnBuurten": table.regions,
            **table.dimensions,
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
        if name in self.self_links:
            body["odata.nextLink"] = requested
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
        #: Every page links to itself as rel=next (a broken service).
        self.self_link = False
        #: The last page links back to this offset as rel=next (a broken service).
        self.loop_offset: int | None = None

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
        rest = {k: v for k, v in query.items() if k != "offset"}
        rest_query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in rest.items())
        following = offset + limit if offset + limit < len(features) else self.loop_offset
        if following is not None:
            links.append({"rel": "next", "type": "application/geo+json",
                          "href": f"{self.url}{url.path}?{rest_query}&offset={following}"})
        if self.self_link:
            links = [link for link in links if link["rel"] != "next"]
            links.append({"rel": "next", "type": "application/geo+json",
                          "href": f"{self.url}{url.path}?{url.query}"})
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


# --------------------------------------------------------------------------- OGC API Features

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@dataclass
class OgcCollection:
    """One collection of an OGC API Features service; features are stored in EPSG:28992.

    ``year_property`` makes it a collection of several years that a client selects with
    that queryable (``?jaarcode=2019``); ``years`` is its temporal extent.
    """

    id: str
    title: str
    features: list[dict[str, Any]]
    years: tuple[int, ...] = ()
    year_property: str | None = None
    crs: tuple[str, ...] = (CRS84, RD_URI)


class OgcApiServer(LoopbackServer):
    """PDOK-style OGC API Features services under their base paths on one loopback host.

    Each service has a landing page, ``/conformance``, ``/collections`` (with ``links``,
    ``extent`` and ``crs`` per collection), ``/collections/{id}``, ``/queryables`` and
    ``/items`` with ``crs``, ``limit``/``offset`` paging linked by ``rel=next``, filtering on
    queryable properties, a ``Content-Crs`` header, and 400 for an unknown parameter.
    ``documents`` replaces the answer for a path (e.g. a ``/collections`` that changed shape).
    """

    def __init__(self, services: dict[str, list[OgcCollection]], page_size: int = 1000) -> None:
        super().__init__()
        self.services = {base.rstrip("/"): {c.id: c for c in cols}
                         for base, cols in services.items()}
        self.page_size = page_size
        self.documents: dict[str, Any] = {}

    def respond(self, url: Any) -> tuple[int, bytes, dict[str, str]]:
        if url.path in self.documents:
            return _json(self.documents[url.path])
        base = next((b for b in self.services if url.path == b or url.path.startswith(b + "/")),
                    None)
        if base is None:
            return _problem(404, f"{url.path} not found")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        collections = self.services[base]
        home = f"{self.url}{base}"
        rest = [p for p in url.path[len(base):].split("/") if p]
        if not rest:
            return _json({"title": base.strip("/"), "description": "OGC API Features",
                          "links": [
                              {"rel": "self", "type": "application/json", "href": home},
                              {"rel": "conformance", "href": f"{home}/conformance"},
                              {"rel": "data", "type": "application/json",
                               "href": f"{home}/collections"},
                          ]})
        if rest == ["conformance"]:
            return _json({"conformsTo": [
                "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"]})
        if rest == ["collections"]:
            return _json({"links": [{"rel": "self", "type": "application/json",
                                     "href": f"{home}/collections"}],
                          "collections": [self._describe(home, c) for c in collections.values()]})
        if rest[0] != "collections" or rest[1] not in collections:
            return _problem(404, f"{url.path} not found")
        collection = collections[rest[1]]
        if len(rest) == 2:
            return _json(self._describe(home, collection))
        if rest[2:] == ["queryables"]:
            return _json(self._queryables(home, collection))
        if rest[2:] == ["items"]:
            return self._items(url.path, query, collection)
        return _problem(404, f"{url.path} not found")

    @staticmethod
    def _describe(home: str, c: OgcCollection) -> dict[str, Any]:
        own = f"{home}/collections/{c.id}"
        described: dict[str, Any] = {
            "id": c.id, "title": c.title, "itemType": "feature",
            "links": [{"rel": "self", "type": "application/json", "href": own},
                      {"rel": "items", "type": "application/geo+json", "href": f"{own}/items"},
                      {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                       "type": "application/schema+json", "href": f"{own}/queryables"}],
            "extent": {"spatial": {"bbox": [[6.55, 52.30, 6.80, 52.40]], "crs": CRS84}},
            "crs": list(c.crs), "storageCrs": RD_URI,
        }
        if c.years:
            described["extent"]["temporal"] = {
                "interval": [[f"{min(c.years)}-01-01T00:00:00Z",
                              f"{max(c.years)}-12-31T23:59:59Z"]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
        return described

    @staticmethod
    def _queryables(home: str, c: OgcCollection) -> dict[str, Any]:
        properties: dict[str, Any] = {"gemeentecode": {"title": "gemeentecode", "type": "string"}}
        if c.year_property:
            properties[c.year_property] = {"title": c.year_property, "type": "integer"}
        return {"$schema": "https://json-schema.org/draft/2019-09/schema",
                "$id": f"{home}/collections/{c.id}/queryables", "type": "object",
                "title": c.title, "properties": properties}

    def _items(self, path: str, query: dict[str, str],
               c: OgcCollection) -> tuple[int, bytes, dict[str, str]]:
        filters = {"gemeentecode", *([c.year_property] if c.year_property else [])}
        unknown = set(query) - {"f", "crs", "limit", "offset"} - filters
        if unknown:
            return _problem(400, f"unknown query parameter(s): {', '.join(sorted(unknown))}")
        crs = query.get("crs", CRS84)
        if crs not in c.crs:
            return _problem(400, f"crs {crs} is not supported by collection {c.id}")
        features = c.features
        for key in filters & set(query):
            features = [f for f in features if str(f["properties"].get(key)) == query[key]]
        limit = min(int(query.get("limit", 10)), self.page_size)
        offset = int(query.get("offset", 0))
        page = features[offset: offset + limit]
        if crs == CRS84:
            page = [_to_crs84(f) for f in page]
        links = [{"rel": "self", "type": "application/geo+json", "href": f"{self.url}{path}"}]
        if offset + limit < len(features):
            keep = {k: v for k, v in query.items() if k != "offset"}
            rest = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in keep.items())
            links.append({"rel": "next", "type": "application/geo+json",
                          "href": f"{self.url}{path}?{rest}&offset={offset + limit}"})
        return _json({"type": "FeatureCollection", "timeStamp": "2026-11-27T08:00:00Z",
                      "links": links, "features": page, "numberReturned": len(page)},
                     {"Content-Crs": f"<{crs}>", "Content-Type": "application/geo+json"})


def _problem(status: int, detail: str) -> tuple[int, bytes, dict[str, str]]:
    body = json.dumps({"title": "Error", "status": status, "detail": detail})
    return status, body.encode(), {"Content-Type": "application/problem+json"}


def _to_crs84(feature: dict[str, Any]) -> dict[str, Any]:
    from pyproj import Transformer
    from shapely.geometry import mapping, shape
    from shapely.ops import transform

    to_lonlat = Transformer.from_crs("EPSG:28992", "OGC:CRS84", always_xy=True).transform
    return {**feature, "geometry": mapping(transform(to_lonlat, shape(feature["geometry"])))}
