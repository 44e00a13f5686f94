"""The vlekkenkaart: hand-computed measures, the density surface, the toets, privacy, and
the real care locations of ../shared/data/care."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import page_data, zorg_toml
from tests.servers import LocatieServer
from wijkkompas.cli import main
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.geocode import Geocoder
from wijkkompas.vlekkenkaart.stage import SUPPRESSED, build_vlekkenkaart, write_outputs
from wijkkompas.vlekkenkaart.toets import run_toets
from wijkkompas.vlekkenkaart.vlekken import density, vlekken
from wijkkompas.vlekkenkaart.zorglocaties import read_config

EXAMPLE = Path(__file__).resolve().parents[2] / "voorbeelden" / "zorglocaties.toml"
# Points inside two buurten of the 2021 indeling (RD, metres).
IN_1000 = (241947, 486382)  # BU01411000 Binnenstad Noord
IN_1001 = (242009, 485937)  # BU01411001 Binnenstad Zuid


CONFIG = zorg_toml(bandbreedte_m=300)


def _config(tmp_path, rows: str, text: str = CONFIG):
    (tmp_path / "locaties.csv").write_text("naam,categorie,capaciteit,x,y,adres,postcode,"
                                           "plaats\n" + rows, encoding="utf-8")
    path = tmp_path / "zorg.toml"
    path.write_text(text, encoding="utf-8")
    return read_config(path)


def _inwoners(processed, code):
    t = processed.table
    rows = t[(t.gebiedscode == code) & (t.indicator == "inwoners") & (t.jaar == 2021)
             & (t.indeling == 2021)]
    return float(rows.waarde.iloc[0])


HAND = (f"Opvang A,opvang,20,{IN_1000[0]},{IN_1000[1]},,,\n"
        f"Opvang B,opvang,10,{IN_1000[0] + 100},{IN_1000[1]},,,\n"
        f"Opvang C,opvang,,{IN_1001[0]},{IN_1001[1]},,,\n"
        f"Praktijk D,huisarts,,{IN_1000[0]},{IN_1000[1] + 50},,,\n")


def test_counts_rates_and_location_quotients_by_hand(processed, tmp_path):
    vk = build_vlekkenkaart(processed, _config(tmp_path, HAND))
    m = vk.measures.set_index(["gebiedscode", "categorie"])
    inw_b, inw_g = _inwoners(processed, "BU01411000"), _inwoners(processed, "GM0141")
    row = m.loc[("BU01411000", "opvang")]
    assert row.aantal == 2 and row.capaciteit == 30
    assert row.per_1000 == pytest.approx(2000 / inw_b)
    assert row.locatiequotient == pytest.approx((2 / inw_b) / (3 / inw_g))
    assert m.loc[("BU01411001", "opvang")].aantal == 1
    assert math.isnan(m.loc[("BU01411001", "opvang")].capaciteit)  # unknown stays unknown
    assert m.loc[("BU01411000", "alle")].aantal == 3
    wijk = m.loc[("WK014110", "opvang")]
    assert wijk.aantal == 3 and wijk.per_1000 == pytest.approx(
        3000 / _inwoners(processed, "WK014110"))
    assert m.loc[("GM0141", "opvang")].locatiequotient == pytest.approx(1.0)


def test_density_integrates_to_the_count_and_follows_the_bandwidth():
    points = np.array([[240000.0, 486000.0], [241000.0, 486500.0], [241050.0, 486450.0]])
    bounds = (239000.0, 485000.0, 242000.0, 487500.0)
    narrow = density(points, bounds, bandwidth=200, cell=25)
    wide = density(points, bounds, bandwidth=400, cell=25)
    assert narrow.total() == pytest.approx(3, rel=1e-3)
    assert wide.total() == pytest.approx(3, rel=1e-3)
    single = density(points[:1], bounds, bandwidth=200, cell=25)
    ix = int(np.argmin(abs(single.xs - 240000)))
    iy = int(np.argmin(abs(single.ys - 486000)))
    peak = 1e6 / (2 * math.pi * 200 ** 2)  # per km²
    assert single.values[iy, ix] == pytest.approx(peak, rel=1e-3)
    jx = int(np.argmin(abs(single.xs - 240200)))  # one bandwidth east
    assert single.values[iy, jx] == pytest.approx(peak * math.exp(-0.5), rel=1e-3)
    # Twice the bandwidth: a quarter of the peak for a lone point.
    lone = density(points[:1], bounds, bandwidth=400, cell=25)
    assert lone.values.max() == pytest.approx(single.values.max() / 4, rel=1e-3)
    spots = vlekken(narrow)
    assert len(spots) >= 1 and spots.geometry.is_valid.all()
    assert spots.geometry.iloc[0].contains(
        __import__("shapely.geometry", fromlist=["Point"]).Point(241025, 486475))


def test_density_of_many_points_is_the_sum_over_chunks():
    """More points than one matrix product takes: the surface is still the plain sum."""
    rng = np.random.default_rng(141)
    points = rng.uniform([240000, 485000], [242000, 487000], size=(5000, 2))
    bounds = (240000.0, 485000.0, 242000.0, 487000.0)
    whole = density(points, bounds, bandwidth=300, cell=100)
    parts = [density(points[i:i + 700], bounds, bandwidth=300, cell=100).values
             for i in range(0, 5000, 700)]
    assert np.allclose(whole.values, sum(parts), rtol=1e-9, atol=0)
    assert whole.total() == pytest.approx(5000, rel=1e-2)


def test_toets_on_a_known_case(processed, tmp_path):
    config = _config(tmp_path, HAND)
    vk = build_vlekkenkaart(processed, config)
    # 60 m from A and D, 160 m from B, about 450 m from C.
    toets = run_toets(processed, vk.located, config, IN_1000[0] + 60, IN_1000[1], "opvang", 12)
    assert toets.buurt == "BU01411000" and toets.wijk == "WK014110"
    near = toets.nearby.set_index("straal_m")
    assert near.loc[250].tolist() == [2, 3]  # same category, all categories
    assert near.loc[500].tolist() == [3, 4]
    assert near.loc[1000].tolist() == [3, 4]
    effect = toets.effect.set_index(["niveau", "categorie"])
    buurt = effect.loc[("buurt", "opvang")]
    assert (buurt.aantal_voor, buurt.aantal_na) == (2, 3)
    inw_b, inw_g = _inwoners(processed, "BU01411000"), _inwoners(processed, "GM0141")
    assert buurt.lq_na == pytest.approx((3 / inw_b) / (4 / inw_g))
    assert effect.loc[("wijk", "opvang")].aantal_na == 4
    assert 1 <= toets.draagkracht_rang <= toets.buurten
    assert "Binnen 250 m: 2 locatie(s) van dezelfde categorie" in toets.samenvatting
    assert "(1 = minste draagkracht)" in toets.samenvatting


def test_toets_outside_the_gemeente(processed, tmp_path):
    config = _config(tmp_path, HAND)
    vk = build_vlekkenkaart(processed, config)
    with pytest.raises(WijkkompasError, match="ligt niet in een buurt van Almelo"):
        run_toets(processed, vk.located, config, 155000, 463000, "opvang")


def _coordinates_in(text: str, located) -> list[tuple[float, float]]:
    """Every coordinate pair in ``text`` (WGS84 in either order, or RD) that lies within
    10 m of one of ``located``'s points."""
    numbers = r"(-?\d+(?:\.\d+)?)"
    pairs = [(float(a), float(b)) for a, b in
             re.findall(rf"\[\s*{numbers}\s*,\s*{numbers}\s*\]", text)]
    pairs += [(float(a), float(b)) for a, b in re.findall(rf"{numbers}[,;]{numbers}", text)]
    wgs = located.to_crs("EPSG:4326")
    found = []
    for geom_rd, geom in zip(located.geometry, wgs.geometry, strict=True):
        for a, b in pairs:
            for lon, lat in ((a, b), (b, a)):
                if abs(lon - geom.x) < 1.5e-4 and abs(lat - geom.y) < 1e-4:
                    found.append((a, b))
            if abs(a - geom_rd.x) < 10 and abs(b - geom_rd.y) < 10:
                found.append((a, b))
    return found


def test_shared_export_holds_no_coordinate_of_a_sensitive_location(processed, tmp_path):
    config = _config(tmp_path, HAND)
    vk = build_vlekkenkaart(processed, config)
    toets = run_toets(processed, vk.located, config, IN_1000[0] + 60, IN_1000[1], "opvang")
    written = write_outputs(processed, vk, tmp_path / "uit", toets, say=lambda _: None)
    sensitive = vk.located[vk.located["categorie"] == "opvang"]
    shared = [p for p in written if "intern" not in p.name and p.suffix in (".html", ".csv")]
    assert {p.name for p in shared} == {"vlekkenkaart_gedeeld.html",
                                        "zorglocaties_maten_gedeeld.csv",
                                        "zorglocaties_draagkracht.csv"}
    for path in shared:
        assert _coordinates_in(path.read_text(encoding="utf-8"), sensitive) == [], path.name
    # The internal view shows them: the check above can find them where they are.
    internal = (tmp_path / "uit" / "toets_intern.html").read_text(encoding="utf-8")
    assert _coordinates_in(internal, sensitive)
    html = (tmp_path / "uit" / "vlekkenkaart_gedeeld.html").read_text(encoding="utf-8")
    assert "Praktijk D" in html and "Opvang A" not in html
    measures = pd.read_csv(tmp_path / "uit" / "zorglocaties_maten_gedeeld.csv")
    opvang = measures[measures.categorie == "opvang"].set_index("gebiedscode")
    # 2 + 1 in two buurten of one wijk: every level is under 5 and suppressed alike.
    for code in ("BU01411000", "BU01411001", "WK014110", "GM0141"):
        assert opvang.loc[code, "aantal"] == SUPPRESSED, code
        assert opvang.loc[code, ["per_1000", "locatiequotient", "capaciteit"]].isna().all()
    assert set(opvang.aantal) == {SUPPRESSED, "0"}
    data = page_data(html)
    shown = {f["properties"]["c"]: dict(f["properties"]["t"]) for f in data["buurten"]["features"]}
    assert shown["BU01411000"] == {"Maatschappelijke opvang": SUPPRESSED,
                                   "Huisartsenpraktijk": 1,
                                   "zorglocaties (zonder gevoelige)": 1}
    assert shown["BU01411001"]["Maatschappelijke opvang"] == SUPPRESSED
    assert "Maatschappelijke opvang" not in shown["BU01411002"]  # a zero is not listed
    assert "alle" not in set(measures.categorie)  # totals without the sensitive ones only
    assert not re.search(r"<script[^>]+src=", html)


def test_validation_report(processed, tmp_path):
    rows = (HAND + f"Opvang A,opvang,20,{IN_1000[0]},{IN_1000[1]},,,\n"   # duplicate
            "Zonder plek,huisarts,,,,,,\n"                                # no coordinates
            "Ver weg,huisarts,,155000,463000,,,\n")                       # outside Almelo
    vk = build_vlekkenkaart(processed, _config(tmp_path, rows))
    status = vk.locations.rows.set_index("regel")["status"]
    assert status[6] == "dubbel" and status[7] == "geen coördinaten"
    assert status[8] == "buiten de gemeente"
    assert len(vk.located) == 4
    notes = " ".join(vk.locations.problems)
    assert "locaties.csv regel 6: dubbel" in notes and "regel 7: geen coördinaten" in notes


@pytest.mark.parametrize("row, match", [
    ("X,onbekend,,241000,486000,,,", "onbekende categorie 'onbekend'"),
    ("X,huisarts,veel,241000,486000,,,", "geen getal"),
    ("X,huisarts,,6.66,52.35,,,", "liggen niet in Nederland"),
])
def test_bad_locations_are_rejected_with_file_and_line(processed, tmp_path, row, match):
    with pytest.raises(WijkkompasError, match=f"locaties.csv regel 2: .*{match}"):
        build_vlekkenkaart(processed, _config(tmp_path, row + "\n"))


def test_addresses_are_geocoded_cached_and_reported(processed, tmp_path):
    server = LocatieServer({"Grotestraat 1 7607CM Almelo": (241960.0, 486300.0,
                                                            "Grotestraat 1, 7607CM Almelo")})
    server.start()
    try:
        rows = ("Praktijk Grotestraat,huisarts,,,,Grotestraat 1,7607CM,Almelo\n"
                "Praktijk Nergens,huisarts,,,,Nergensweg 99,9999ZZ,Almelo\n")
        config = _config(tmp_path, rows)
        geocoder = Geocoder(server.url, tmp_path / "raw")
        vk = build_vlekkenkaart(processed, config, geocoder)
        rows_out = vk.locations.rows.set_index("naam")
        assert rows_out.loc["Praktijk Grotestraat", "status"] == "opgenomen"
        assert rows_out.loc["Praktijk Grotestraat", "herkomst"] == "adres (PDOK Locatieserver)"
        assert vk.located.iloc[0].buurt == "BU01411000"
        assert rows_out.loc["Praktijk Nergens", "status"] == "adres niet gevonden"
        assert "regel 3: adres niet gevonden" in " ".join(vk.locations.problems)
        asked = len(server.requests)
        assert asked == 2
        build_vlekkenkaart(processed, config, Geocoder(server.url, tmp_path / "raw"))
        assert len(server.requests) == asked  # both answers came from the cache
    finally:
        server.stop()


def test_geocoder_unreachable(tmp_path):
    geocoder = Geocoder("http://127.0.0.1:9", tmp_path, timeout=1, retries=0)
    with pytest.raises(WijkkompasError, match="Locatieserver was onbereikbaar voor adres"):
        geocoder.locate("Grotestraat 1 Almelo")


def test_real_care_locations_of_twente_load_for_almelo(processed, tmp_path):
    config = read_config(EXAMPLE)
    vk = build_vlekkenkaart(processed, config)
    real = vk.located[~vk.located["bron"].str.startswith("VOORBEELD")]
    counts = real.groupby("categorie").size().to_dict()
    assert counts == {"ggz": 2, "gehandicaptenzorg": 4, "vvt": 6, "ziekenhuis": 1,
                      "asielopvang": 1}
    outside = vk.locations.rows["status"] == "buiten de gemeente"
    assert outside.sum() == 90 - 26  # the other Twente locations are reported, not counted
    assert real["buurt"].notna().all()
    # The invented locations are shown (marked), but counted nowhere.
    example = vk.points[vk.points["voorbeeld"]]
    assert example["bron"].str.startswith("VOORBEELD").all()
    assert set(example["categorie"]) >= {"beschermd_wonen", "maatschappelijke_opvang",
                                         "dagbesteding", "jeugdzorg", "huisarts"}
    assert not vk.located["voorbeeld"].any() and len(vk.located) == len(real)
    gemeente = vk.measures[vk.measures["gebiedscode"] == "GM0141"].set_index("categorie")
    assert gemeente.loc["beschermd_wonen", "aantal"] == 0
    assert gemeente.loc["alle", "aantal"] == len(real)


def test_cli_vlekkenkaart_with_toets(processed, tmp_path, capsys):
    code = main(["vlekkenkaart", "--data-dir", str(processed.data_dir), "--zorglocaties",
                 str(EXAMPLE), "--toets", f"{IN_1000[0]},{IN_1000[1]}", "--categorie",
                 "beschermd_wonen", "--capaciteit", "10", "--out", str(tmp_path / "vk")])
    assert code == 0
    out = capsys.readouterr().out
    assert "Voorgestelde locatie: Beschermd wonen, 10 plaatsen" in out
    toets = (tmp_path / "vk" / "toets.txt").read_text(encoding="utf-8")
    assert toets.startswith("Voorgestelde locatie: Beschermd wonen, 10 plaatsen, in buurt ")
    assert toets.strip() in out  # the summary printed is the one written
    # The shared page holds every open location as a point, and no sensitive one.
    vk = build_vlekkenkaart(processed, read_config(EXAMPLE))
    sensitive = {c for c, cat in vk.config.categories.items() if cat.gevoelig}
    open_names = sorted(vk.located.loc[~vk.located.categorie.isin(sensitive), "naam"])
    data = page_data((tmp_path / "vk" / "vlekkenkaart_gedeeld.html").read_text(encoding="utf-8"))
    names = sorted(data["punten"]["n"])
    # Invented VOORBEELD locations are drawn (marked) but not counted; the rest are the open
    # locations counted, and no point is of a sensitive category.
    assert [n for n in names if "VOORBEELD" not in n] == open_names and open_names
    assert all("VOORBEELD" in n for n in names if n not in open_names)
    assert not [n for n in names if "Beschermd wonen" in n or "opvang" in n.lower()]
    assert data["gedeeld"] is True and "toets" not in data
    assert main(["vlekkenkaart", "--data-dir", str(processed.data_dir), "--zorglocaties",
                 str(EXAMPLE), "--toets", "veel", "--categorie", "huisarts"]) == 1


def test_the_voorbeeld_banner_counts_the_points_drawn(processed):
    """The shared page draws no sensitive point, so its banner counts only what it draws."""
    from wijkkompas.vlekkenkaart.stage import map_payload

    vk = build_vlekkenkaart(processed, read_config(EXAMPLE))
    for gedeeld in (True, False):
        payload = map_payload(processed, vk, gedeeld)
        drawn = sum(payload["punten"]["v"])
        assert drawn > 0 and payload["voorbeeld"]["aantal"] == drawn, gedeeld
    assert map_payload(processed, vk, True)["voorbeeld"]["aantal"] < vk.examples
