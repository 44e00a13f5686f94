"""Loopback HTTP servers that speak the formats of CBS's OData v3 feed and PDOK's OGC API.

They serve fixture data to the real clients (cbsodata, requests). Every request is logged,
so a test can assert that a run made none, and faults can be injected: an HTTP status, a
truncated body, a dropped connection or a hang.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

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
#
# PDOK's OGC APIs run on GoKoala (github.com/PDOK/gokoala, internal/ogc/features/url.go). The
# servers below answer as it does:
# - ``/items`` accepts only ``f``, ``limit``, ``cursor``, ``crs``, ``datetime``, ``bbox``,
#   ``bbox-crs`` and the property filters configured for the collection (its queryables);
#   anything else is HTTP 400 "unknown query parameter(s) found: <name>" (RFC 7807);
# - ``limit`` defaults to 10 and is capped at the maximum, never refused (not numeric: 400);
# - pages are linked by ``rel=next`` carrying an opaque ``cursor`` (the next feature id and
#   a checksum of the filtering parameters), never an offset;
# - coordinates are CRS84 unless ``crs`` asks for another offered CRS; ``Content-Crs`` says
#   which; ``bbox`` is in CRS84 unless ``bbox-crs`` says otherwise;
# - ``datetime`` only on a collection with a temporal extent, else 400.

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS_PREFIX = "http://www.opengis.net/def/crs/"
#: The parameters GoKoala's /items knows besides a collection's property filters.
KNOWN_PARAMS = {"f", "limit", "cursor", "crs", "datetime", "bbox", "bbox-crs"}


@dataclass
class OgcCollection:
    """One collection of an OGC API Features service; features are stored in EPSG:28992.

    ``queryables`` are the properties GoKoala is configured to filter on. ``year_property``
    makes it a collection of several years that a client selects with that queryable
    (``?jaarcode=2019``) or with ``datetime`` (the year of the instant); ``years`` is its
    temporal extent.
    """

    id: str
    title: str
    features: list[dict[str, Any]]
    years: tuple[int, ...] = ()
    year_property: str | None = None
    crs: tuple[str, ...] = (CRS84, RD_URI)
    queryables: tuple[str, ...] = ()
    #: The year is chosen only with ``datetime``: ``year_property`` is no queryable.
    datetime_only: bool = False


def _problem(status: int, detail: str) -> tuple[int, bytes, dict[str, str]]:
    title = {400: "Bad Request", 404: "Not Found"}.get(status, "Error")
    body = json.dumps({"title": title, "status": status, "detail": detail,
                       "timeStamp": "2026-11-27T08:00:00Z"})
    return status, body.encode(), {"Content-Type": "application/problem+json"}


def _bounds(feature: dict[str, Any]) -> tuple[float, float, float, float]:
    """The bounding box of a feature's coordinates, whatever shape they have: like a
    spatial index, it does not check the geometry (a ring of two points is served too)."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(part: Any) -> None:
        if isinstance(part, list | tuple) and part and isinstance(part[0], int | float):
            xs.append(float(part[0]))
            ys.append(float(part[1]))
        elif isinstance(part, list | tuple):
            for item in part:
                walk(item)

    walk(feature["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def _bbox_rd(values: list[float], crs: str) -> tuple[float, float, float, float]:
    if crs == RD_URI:
        return values[0], values[1], values[2], values[3]
    from pyproj import Transformer

    to_rd = Transformer.from_crs("OGC:CRS84", "EPSG:28992", always_xy=True)
    return to_rd.transform_bounds(*values)


def _checksum(query: dict[str, str]) -> str:
    """GoKoala's check that the filtering parameters did not change between pages."""
    kept = "".join(query[k] for k in sorted(query) if k not in ("f", "cursor"))
    return format(zlib.crc32(kept.encode()), "08x")


def _encode_cursor(index: int, checksum: str) -> str:
    raw = index.to_bytes(4, "big").lstrip(b"\0") or b"\0"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "|" + checksum


def _decode_cursor(cursor: str, checksum: str) -> int:
    """The feature index a cursor points to; 0 (the first page) for one that does not fit
    the parameters, as GoKoala does."""
    part, _, sum_ = cursor.partition("|")
    if sum_ != checksum:
        return 0
    try:
        return int.from_bytes(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)), "big")
    except ValueError:
        return 0


class GoKoala(LoopbackServer):
    """OGC API Features services under their base paths on one loopback host, strict as
    GoKoala: a landing page, ``/conformance``, ``/collections`` (with ``links``, ``extent``
    and ``crs`` per collection), ``/collections/{id}``, ``/queryables`` and ``/items``.
    ``documents`` replaces the answer for a path (e.g. a ``/collections`` that changed shape).
    """

    def __init__(self, page_size: int = 1000) -> None:
        super().__init__()
        #: GoKoala's maximum limit; the default limit is 10.
        self.page_size = page_size
        self.documents: dict[str, Any] = {}
        #: Every page links to itself as rel=next (a broken service).
        self.self_link = False
        #: The last page of a series links back to the page starting at this feature (a
        #: broken service).
        self.loop_to: int | None = None

    def services(self) -> dict[str, dict[str, OgcCollection]]:
        raise NotImplementedError

    def respond(self, url: Any) -> tuple[int, bytes, dict[str, str]]:
        if url.path in self.documents:
            return _json(self.documents[url.path])
        services = self.services()
        base = next((b for b in services if url.path == b or url.path.startswith(b + "/")),
                    None)
        if base is None:
            return _problem(404, f"{url.path} not found")
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        collections = services[base]
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
        if rest[0] != "collections" or len(rest) < 2 or rest[1] not in collections:
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
            "extent": {"spatial": {"bbox": [[3.2, 50.7, 7.3, 53.6]], "crs": CRS84}},
            "crs": list(c.crs), "storageCrs": RD_URI,
        }
        if c.years:
            described["extent"]["temporal"] = {
                "interval": [[f"{min(c.years)}-01-01T00:00:00Z",
                              f"{max(c.years)}-12-31T23:59:59Z"]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
        return described

    @staticmethod
    def _filters(c: OgcCollection) -> list[str]:
        year = c.year_property if c.year_property and not c.datetime_only else None
        return [*c.queryables, *([year] if year and year not in c.queryables else [])]

    def _queryables(self, home: str, c: OgcCollection) -> dict[str, Any]:
        properties = {name: {"title": name, "type": "integer" if name == c.year_property
                             else "string"} for name in self._filters(c)}
        return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": f"{home}/collections/{c.id}/queryables", "type": "object",
                "title": c.title, "properties": properties}

    def _items(self, path: str, query: dict[str, str],
               c: OgcCollection) -> tuple[int, bytes, dict[str, str]]:
        filters = self._filters(c)
        for name in query:
            if name not in KNOWN_PARAMS and name not in filters:
                return _problem(400, f"unknown query parameter(s) found: {name}")
        try:
            limit = min(int(query.get("limit") or 10), self.page_size)
        except ValueError:
            return _problem(400, "limit must be numeric")
        if limit < 0:
            return _problem(400, "limit can't be negative")
        crs = query.get("crs") or CRS84
        if not crs.startswith(CRS_PREFIX):
            return _problem(400, f"crs param should start with {CRS_PREFIX}, got: {crs}")
        if crs not in c.crs:
            return _problem(400, f"crs {crs} is not supported by collection {c.id}")
        features = c.features
        if query.get("bbox"):
            bbox_crs = query.get("bbox-crs") or CRS84
            values = query["bbox"].split(",")
            if len(values) != 4:
                return _problem(400, "bbox should contain exactly 4 values separated by "
                                     "commas: minx,miny,maxx,maxy")
            try:
                box = _bbox_rd([float(v) for v in values], bbox_crs)
            except ValueError:
                return _problem(400, f"failed to parse bbox {query['bbox']}")
            features = [f for f in features if _intersects(_bounds(f), box)]
        if query.get("datetime"):
            if not c.years or not c.year_property:
                return _problem(400, "datetime param is currently not supported for this "
                                     "collection")
            year = query["datetime"][:4]
            features = [f for f in features
                        if str(f["properties"].get(c.year_property)) == year]
        for key in filters:
            if query.get(key):
                features = [f for f in features if str(f["properties"].get(key)) == query[key]]
        checksum = _checksum(query)
        start = _decode_cursor(query.get("cursor", ""), checksum)
        page = features[start: start + limit]
        if crs == CRS84:
            page = [_to_crs84(f) for f in page]
        links = [{"rel": "self", "type": "application/geo+json",
                  "href": f"{self.url}{path}?{urlencode(query)}"}]
        following = (start + limit if start + limit < len(features)
                     else self.loop_to if len(features) > limit else None)
        if following is not None:
            keep = {**query, "f": query.get("f") or "json",
                    "cursor": _encode_cursor(following, checksum)}
            links.append({"rel": "next", "type": "application/geo+json",
                          "href": f"{self.url}{path}?{urlencode(keep)}"})
        if self.self_link:
            links = [link for link in links if link["rel"] != "next"]
            links.append({"rel": "next", "type": "application/geo+json",
                          "href": f"{self.url}{path}?{urlencode(query)}"})
        return _json({"type": "FeatureCollection", "timeStamp": "2026-11-27T08:00:00Z",
                      "links": links, "features": page, "numberReturned": len(page)},
                     {"Content-Crs": f"<{crs}>", "Content-Type": "application/geo+json"})


def _intersects(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


class OgcApiServer(GoKoala):
    """Given services (base path: collections) on one loopback host, as GoKoala serves them."""

    def __init__(self, services: dict[str, list[OgcCollection]], page_size: int = 1000) -> None:
        super().__init__(page_size)
        self._services = {base.rstrip("/"): {c.id: c for c in cols}
                          for base, cols in services.items()}

    def services(self) -> dict[str, dict[str, OgcCollection]]:
        return self._services


class PdokServer(GoKoala):
    """PDOK's per-year services, ``/cbs/wijken-en-buurten-<jaar>/ogc/v1``, with collections
    ``gemeenten``, ``wijken`` and ``buurten`` from ``layers`` ({(jaar, laag): features}), read
    at each request (a test may remove one). No property filters are configured (as far as we
    know PDOK configures none): a client selects a gemeente with ``bbox``."""

    def __init__(self, layers: dict[tuple[int, str], list[dict[str, Any]]],
                 page_size: int = 1000) -> None:
        super().__init__(page_size)
        self.layers = layers

    def services(self) -> dict[str, dict[str, OgcCollection]]:
        out: dict[str, dict[str, OgcCollection]] = {}
        for (year, layer), features in self.layers.items():
            out.setdefault(f"/cbs/wijken-en-buurten-{year}/ogc/v1", {})[layer] = \
                OgcCollection(layer, layer.capitalize(), features)
        return out


def _to_crs84(feature: dict[str, Any]) -> dict[str, Any]:
    from pyproj import Transformer
    from shapely.geometry import mapping, shape
    from shapely.ops import transform

    to_lonlat = Transformer.from_crs("EPSG:28992", "OGC:CRS84", always_xy=True).transform
    return {**feature, "geometry": mapping(transform(to_lonlat, shape(feature["geometry"])))}


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


