"""Each geocoder adapter against a local server speaking that service's real formats.

Nominatim ``/search?format=jsonv2``, Photon ``/api`` (GeoJSON), an ArcGIS GeocodeServer's
``findAddressCandidates`` (f=json) and the Census Bureau's ``locations/onelineaddress``:
the request each sends, the quality read from each one's own fields, and timeouts, HTTP
errors, garbage and empty answers; then which adapter ``JOINTOPS_GEOCODER`` chooses and the
settings refused by name. No app and no database: the adapters and the settings alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jointops.config import PALM_BEACH_COUNTY, ConfigError, load_config, validate_config
from jointops.places.arcgis import ArcGISGeocoder
from jointops.places.census import CensusGeocoder
from jointops.places.choice import geocoder_for, geocoder_name
from jointops.places.gazetteer import DemoGazetteer
from jointops.places.geocoder import Candidate, Geocoder, GeocoderUnavailable
from jointops.places.nominatim import NominatimGeocoder
from jointops.places.photon import PhotonGeocoder
from tests.geocoder_server import Answer, FakeGeocoder, serve

#: what a hung geocoder is given; the others get PATIENT, so a loaded machine is not a hang
TIMEOUT = 0.5
PATIENT = 10.0
LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. https://osm.org/copyright"


@pytest.fixture
def server() -> Iterator[FakeGeocoder]:
    with serve() as fake:
        yield fake


def nominatim_place(**over: Any) -> dict[str, Any]:
    """One result of Nominatim's jsonv2 output (``category`` where json has ``class``)."""
    place = {
        "place_id": 310547,
        "licence": LICENCE,
        "osm_type": "way",
        "osm_id": 41234567,
        "lat": "26.7146",
        "lon": "-80.0540",
        "category": "amenity",
        "type": "courthouse",
        "place_rank": 30,
        "importance": 0.31,
        "addresstype": "amenity",
        "name": "Palm Beach County Courthouse",
        "display_name": "Palm Beach County Courthouse, 205, North Dixie Highway, West Palm "
        "Beach, Palm Beach County, Florida, 33401, United States",
        "boundingbox": ["26.7140", "26.7152", "-80.0548", "-80.0532"],
    }
    return place | over


NOMINATIM = [
    nominatim_place(),
    nominatim_place(
        osm_id=0,
        lat="26.7289",
        lon="-80.0846",
        category="place",
        type="house",
        addresstype="place",
        name="",
        display_name="1800, Palm Beach Lakes Boulevard, West Palm Beach, Florida, 33401, "
        "United States",
    ),
    nominatim_place(
        lat="26.7260",
        lon="-80.0800",
        category="highway",
        type="primary",
        addresstype="road",
        name="Palm Beach Lakes Boulevard",
        display_name="Palm Beach Lakes Boulevard, West Palm Beach, Florida, United States",
    ),
]

PHOTON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-80.0540, 26.7146]},
            "properties": {
                "osm_type": "W",
                "osm_id": 41234567,
                "osm_key": "amenity",
                "osm_value": "courthouse",
                "type": "house",
                "name": "Palm Beach County Courthouse",
                "housenumber": "205",
                "street": "North Dixie Highway",
                "city": "West Palm Beach",
                "postcode": "33401",
                "state": "Florida",
                "country": "United States",
                "countrycode": "US",
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-80.0566, 26.7407]},
            "properties": {
                "osm_type": "W",
                "osm_id": 1001,
                "osm_key": "highway",
                "osm_value": "primary",
                "type": "street",
                "name": "Broadway",
                "city": "West Palm Beach",
                "state": "Florida",
                "country": "United States",
            },
        },
    ],
}


def arcgis_candidate(address: str, x: float, y: float, addr_type: str, score: float) -> Any:
    return {
        "address": address,
        "location": {"x": x, "y": y},
        "score": score,
        "attributes": {"Addr_type": addr_type, "Match_addr": address, "Score": score},
        "extent": {"xmin": x - 0.001, "ymin": y - 0.001, "xmax": x + 0.001, "ymax": y + 0.001},
    }


ARCGIS = {
    "spatialReference": {"wkid": 4326, "latestWkid": 4326},
    "candidates": [
        arcgis_candidate(
            "205 N DIXIE HWY, WEST PALM BEACH, FL, 33401", -80.054, 26.7146, "PointAddress", 100
        ),
        arcgis_candidate(
            "205 N DIXIE HWY, WEST PALM BEACH, FL, 33401", -80.0541, 26.7144, "StreetAddress", 97.5
        ),
        arcgis_candidate(
            "N DIXIE HWY, WEST PALM BEACH, FL, 33401", -80.056, 26.725, "StreetName", 90
        ),
        arcgis_candidate("WEST PALM BEACH, FL", -80.0534, 26.7153, "Locality", 85),
    ],
}

CENSUS = {
    "result": {
        "input": {
            "address": {"address": "205 N Dixie Hwy, West Palm Beach, FL 33401"},
            "benchmark": {
                "isDefault": True,
                "benchmarkDescription": "Public Address Ranges - Current Benchmark",
                "id": "4",
                "benchmarkName": "Public_AR_Current",
            },
        },
        "addressMatches": [
            {
                "tigerLine": {"side": "R", "tigerLineId": "86813447"},
                "coordinates": {"x": -80.05404, "y": 26.71461},
                "addressComponents": {
                    "zip": "33401",
                    "streetName": "DIXIE",
                    "preType": "",
                    "city": "WEST PALM BEACH",
                    "preDirection": "N",
                    "suffixDirection": "",
                    "fromAddress": "201",
                    "state": "FL",
                    "suffixType": "HWY",
                    "toAddress": "299",
                    "suffixQualifier": "",
                    "preQualifier": "",
                },
                "matchedAddress": "205 N DIXIE HWY, WEST PALM BEACH, FL, 33401",
            }
        ],
    }
}

Adapter = Callable[..., Geocoder]
ADAPTERS: dict[str, Adapter] = {
    "nominatim": lambda url, timeout=PATIENT: NominatimGeocoder(url, timeout, PALM_BEACH_COUNTY),
    "photon": lambda url, timeout=PATIENT: PhotonGeocoder(url, timeout, PALM_BEACH_COUNTY),
    "arcgis": lambda url, timeout=PATIENT: ArcGISGeocoder(
        f"{url}/arcgis/rest/services/Locators/PBC_Composite/GeocodeServer",
        timeout,
        PALM_BEACH_COUNTY,
    ),
    "census": lambda url, timeout=PATIENT: CensusGeocoder(f"{url}/geocoder", timeout),
}
EMPTY = {
    "nominatim": [],
    "photon": {"type": "FeatureCollection", "features": []},
    "arcgis": {"spatialReference": {"wkid": 4326, "latestWkid": 4326}, "candidates": []},
    "census": {"result": {"input": CENSUS["result"]["input"], "addressMatches": []}},
}


# --- each service's request and answer ------------------------------------------------


def test_nominatim_sends_a_jsonv2_search_and_reads_class_type_and_address_type(
    server: FakeGeocoder,
) -> None:
    server.answer = lambda _: Answer.json(NOMINATIM)
    found = ADAPTERS["nominatim"](server.url).search("205 N Dixie Hwy, West Palm Beach")
    [request] = server.requests
    assert request.path == "/search"
    assert request.params["q"] == "205 N Dixie Hwy, West Palm Beach"
    assert request.params["format"] == "jsonv2"
    assert request.params["viewbox"] == "-80.89,26.98,-80.03,26.32"
    assert [c.quality for c in found] == ["rooftop", "interpolated", "centroid"]
    assert found[0] == Candidate(NOMINATIM[0]["display_name"], 26.7146, -80.054, "rooftop")


def test_photon_reads_geojson_features(server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer.json(PHOTON)
    found = ADAPTERS["photon"](server.url).search("courthouse west palm")
    [request] = server.requests
    assert request.path == "/api" and request.params["q"] == "courthouse west palm"
    assert found == [
        Candidate(
            "Palm Beach County Courthouse, 205 North Dixie Highway, West Palm Beach, Florida 33401",
            26.7146,
            -80.054,
            "rooftop",
        ),
        Candidate("Broadway, West Palm Beach, Florida", 26.7407, -80.0566, "centroid"),
    ]


def test_arcgis_asks_find_address_candidates_and_reads_addr_type(server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer.json(ARCGIS)
    found = ADAPTERS["arcgis"](server.url).search("205 N Dixie Hwy")
    [request] = server.requests
    assert request.path.endswith("/GeocodeServer/findAddressCandidates")
    assert request.params["SingleLine"] == "205 N Dixie Hwy"
    assert request.params["f"] == "json"
    assert request.params["outSR"] == "4326"
    assert "Addr_type" in request.params["outFields"].split(",")
    assert [c.quality for c in found] == ["rooftop", "interpolated", "centroid", "centroid"]
    assert (found[0].lat, found[0].lon) == (26.7146, -80.054)


def test_arcgis_in_web_mercator_is_turned_into_degrees(server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer.json(
        {
            "spatialReference": {"wkid": 102100, "latestWkid": 3857},
            "candidates": [
                arcgis_candidate("205 N DIXIE HWY", -8911570.5, 3087859.8, "PointAddress", 100)
            ],
        }
    )
    [found] = ADAPTERS["arcgis"](server.url).search("205 N Dixie Hwy")
    assert found.lat == pytest.approx(26.7146, abs=1e-3)
    assert found.lon == pytest.approx(-80.0540, abs=1e-3)


def test_arcgis_in_a_state_plane_projection_is_refused(server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer.json(
        {
            "spatialReference": {"wkid": 2236},
            "candidates": [arcgis_candidate("A", 9e5, 8e5, "PointAddress", 99)],
        }
    )
    with pytest.raises(GeocoderUnavailable, match="spatial reference 2236"):
        ADAPTERS["arcgis"](server.url).search("205 N Dixie Hwy")


def test_arcgis_error_in_a_200_answer_is_an_error(server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer.json(
        {"error": {"code": 400, "message": "Unable to complete operation.", "details": []}}
    )
    with pytest.raises(GeocoderUnavailable, match="Unable to complete operation"):
        ADAPTERS["arcgis"](server.url).search("205 N Dixie Hwy")


def test_census_asks_onelineaddress_and_every_match_is_interpolated(server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer.json(CENSUS)
    found = ADAPTERS["census"](server.url).search("205 N Dixie Hwy, West Palm Beach, FL 33401")
    [request] = server.requests
    assert request.path == "/geocoder/locations/onelineaddress"
    assert request.params == {
        "address": "205 N Dixie Hwy, West Palm Beach, FL 33401",
        "benchmark": "Public_AR_Current",
        "format": "json",
    }
    assert found == [
        Candidate(
            "205 N DIXIE HWY, WEST PALM BEACH, FL, 33401", 26.71461, -80.05404, "interpolated"
        )
    ]


def test_census_http_400_with_its_errors_list_is_an_error(server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer.json(
        {"errors": ["Address cannot be empty and cannot exceed 100 characters"], "status": "400"},
        status=400,
    )
    with pytest.raises(GeocoderUnavailable, match="HTTP 400"):
        ADAPTERS["census"](server.url).search("x")


# --- what goes wrong, for every adapter ---------------------------------------------


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_an_empty_answer_is_no_candidates(name: str, server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer.json(EMPTY[name])
    assert ADAPTERS[name](server.url).search("nowhere at all") == []


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(Answer(500, b"Internal Server Error"), id="http-500"),
        pytest.param(Answer(503, b'{"error": "overloaded"}'), id="http-503"),
        pytest.param(Answer(302, b""), id="redirect-not-followed"),
        pytest.param(Answer(200, b"<html>Service Unavailable</html>"), id="not-json"),
        pytest.param(Answer(200, b'{"unexpected": true}'), id="wrong-shape"),
        pytest.param(Answer(200, b'[{"lat": "x"}]'), id="garbage-items"),
        pytest.param(Answer(200, b"null"), id="null"),
    ],
)
@pytest.mark.parametrize("name", list(ADAPTERS))
def test_errors_and_garbage_are_geocoder_unavailable(
    name: str, answer: Answer, server: FakeGeocoder
) -> None:
    server.answer = lambda _: answer
    with pytest.raises(GeocoderUnavailable, match=f"The {name} geocoder"):
        ADAPTERS[name](server.url).search("205 N Dixie Hwy")


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_a_geocoder_that_hangs_times_out(name: str, server: FakeGeocoder) -> None:
    server.answer = lambda _: Answer(200, b"[]", delay=5)
    began = time.monotonic()
    with pytest.raises(GeocoderUnavailable, match=f"did not answer within {TIMEOUT:g} s"):
        ADAPTERS[name](server.url, TIMEOUT).search("205 N Dixie Hwy")
    assert time.monotonic() - began < TIMEOUT + 1.5


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_a_geocoder_that_is_down_cannot_be_reached(name: str) -> None:
    with serve() as gone:
        url = gone.url
    with pytest.raises(GeocoderUnavailable, match="cannot be reached"):
        ADAPTERS[name](url).search("205 N Dixie Hwy")


# --- the demo's gazetteer ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("4700 okee", "4700 Okeechobee Blvd, West Palm Beach, FL 33409"),
        ("4700 OKEECHOBEE BOULEVARD", "4700 Okeechobee Blvd, West Palm Beach, FL 33409"),
        ("pbso", "Palm Beach County Sheriff's Office Headquarters"),
        ("Sheriff’s office HQ", "Palm Beach County Sheriff's Office Headquarters"),
        ("1800 palm-beach lakes", "1800 Palm Beach Lakes Blvd, West Palm Beach, FL 33401"),
        ("courthouse dixie", "Palm Beach County Courthouse, 205 N Dixie Hwy"),
        ("palm beach lakes & i-95", "Palm Beach Lakes Blvd & I-95"),
    ],
)
def test_the_demo_gazetteer_forgives_case_punctuation_and_unfinished_words(
    typed: str, first: str
) -> None:
    found = DemoGazetteer().search(typed)
    assert found and found[0].label.startswith(first), [c.label for c in found]


def test_the_demo_gazetteer_finds_nothing_for_nonsense_and_has_every_demo_place() -> None:
    from jointops.demo import EVENTS

    gazetteer = DemoGazetteer()
    assert gazetteer.search("zzqx") == [] and gazetteer.search("  ,. ") == []
    for spec in EVENTS:
        if spec.where:
            address, lat, lon = spec.where
            street = address.split(",")[0]
            assert any((c.lat, c.lon) == (lat, lon) for c in gazetteer.search(street)), address


# --- which geocoder: JOINTOPS_GEOCODER ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("demo", DemoGazetteer),
        ("nominatim", NominatimGeocoder),
        ("photon", PhotonGeocoder),
        ("arcgis", ArcGISGeocoder),
        ("census", CensusGeocoder),
    ],
)
def test_the_geocoder_is_the_one_configured(name: str, kind: type) -> None:
    config = load_config(
        {"JOINTOPS_GEOCODER": name, "JOINTOPS_GEOCODER_URL": "https://geo.office.example"}
    )
    validate_config(config)
    chosen = geocoder_for(config)
    assert chosen is not None and isinstance(chosen, kind) and chosen.name == name
    assert chosen.remote is (name != "demo")


def test_auto_is_the_gazetteer_with_the_demo_directory_else_off_and_never_outside() -> None:
    demo = load_config({})
    assert geocoder_name(demo) == "demo" and isinstance(geocoder_for(demo), DemoGazetteer)
    directory = load_config({"JOINTOPS_LDAP_URL": "ldaps://dc.office.example"})
    assert geocoder_name(directory) == "off" and geocoder_for(directory) is None
    assert geocoder_for(load_config({"JOINTOPS_GEOCODER": "off"})) is None
    # the Census Bureau only when named, at its public address unless another is given
    census = geocoder_for(load_config({"JOINTOPS_GEOCODER": "census"}))
    assert isinstance(census, CensusGeocoder)
    assert census.url == "https://geocoding.geo.census.gov/geocoder/locations/onelineaddress"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"JOINTOPS_GEOCODER": "google"}, "JOINTOPS_GEOCODER: 'google' is not one of"),
        ({"JOINTOPS_GEOCODER": "nominatim"}, "JOINTOPS_GEOCODER_URL: the nominatim geocoder needs"),
        ({"JOINTOPS_GEOCODER": "arcgis"}, "JOINTOPS_GEOCODER_URL: the arcgis geocoder needs"),
        (
            {"JOINTOPS_GEOCODER": "photon", "JOINTOPS_GEOCODER_URL": "geo.office.example"},
            "JOINTOPS_GEOCODER_URL: expected http(s)://",
        ),
        ({"JOINTOPS_GEOCODER_TIMEOUT_S": "60"}, "JOINTOPS_GEOCODER_TIMEOUT_S: between"),
        ({"JOINTOPS_GEOCODER_CACHE_DAYS": "-1"}, "JOINTOPS_GEOCODER_CACHE_DAYS: between"),
    ],
)
def test_geocoder_settings_are_refused_by_name(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        validate_config(load_config(env))
    assert str(refused.value).startswith(says), str(refused.value)


def test_production_sends_addresses_to_a_geocoder_only_over_https() -> None:
    production = {
        "PRODUCTION": True,
        "SECRET_KEY": "5nWtGw2tmX8mylC7p_yBKhGf7wjexvuCFOwHI8t0eow",
        "LDAP_URL": "ldaps://dc.office.example",
        "BASE_URL": "https://jointops.office.example",
    }
    lan = {"JOINTOPS_GEOCODER": "nominatim", "JOINTOPS_GEOCODER_URL": "http://geo.office.lan"}
    validate_config(load_config(lan))
    with pytest.raises(ConfigError, match=r"^JOINTOPS_GEOCODER_URL: production sends .* https"):
        validate_config(load_config(lan) | production)
    secure = lan | {"JOINTOPS_GEOCODER_URL": "https://geo.office.lan"}
    validate_config(load_config(secure) | production)
