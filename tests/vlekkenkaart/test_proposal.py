"""Where a proposed location is: RD x and y as numbers, 'x,y' text, or an address."""

from __future__ import annotations

import math

import pytest

from tests.servers import LocatieServer
from wijkkompas.errors import WijkkompasError
from wijkkompas.fetch.geocode import Geocoder
from wijkkompas.vlekkenkaart.stage import locate_proposal, proposal_at


def test_x_and_y_as_numbers():
    assert proposal_at(241900.0, 486300.0) == (241900.0, 486300.0)
    assert proposal_at(241900, 486300) == (241900.0, 486300.0)


def test_text_gives_the_same_point():
    assert locate_proposal("241900, 486300", None, None) == proposal_at(241900.0, 486300.0)


@pytest.mark.parametrize("x, y", [
    (math.nan, 486300.0), (241900.0, math.inf), (241900.0, None), (None, 486300.0),
    (5.0, 52.0),  # degrees instead of RD metres
    (400000.0, 486300.0),  # east of the Netherlands
])
def test_points_that_are_not_rd_coordinates_in_the_netherlands(x, y):
    with pytest.raises(WijkkompasError, match=r"^Ongeldige toetslocatie x=.*, y=.*: geef "
                       "RD-coördinaten in meters binnen Nederland"):
        proposal_at(x, y)


def test_address_through_the_locatieserver(tmp_path):
    server = LocatieServer({"Grotestraat 1 Almelo": (241960.0, 486300.0, "Grotestraat 1")})
    server.start()
    try:
        geocoder = Geocoder(server.url, tmp_path)
        assert proposal_at(None, None, "Grotestraat 1 Almelo", geocoder) == (241960.0, 486300.0)
        with pytest.raises(WijkkompasError, match="Adres 'Nergens 9' niet gevonden"):
            proposal_at(None, None, "Nergens 9", geocoder)
    finally:
        server.stop()


def test_nothing_given():
    with pytest.raises(WijkkompasError, match="Geef de voorgestelde locatie"):
        proposal_at(None, None)
