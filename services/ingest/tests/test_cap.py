"""CAP 1.2 → announcement mapping: real OASIS examples adapted to Indonesian region codes,
BMKG-style alerts, every mapping rule and error path, and hostile XML."""

from __future__ import annotations

import contextlib
import dataclasses
import encodings.aliases
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siaran_ingest.cap import (
    CAP_NAMESPACE,
    MAX_CAP_BYTES,
    CapAlert,
    CapError,
    CapTooLargeError,
    parse_cap,
)

DATA = Path(__file__).parent / "data" / "cap"
REGIONS = frozenset({"73", "73.03", "31", "31.71", "11", "11.01", "ID"})


def is_region(code: str) -> bool:
    return code in REGIONS


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parse(data: bytes, **kwargs: object) -> CapAlert:
    return parse_cap(data, is_region=is_region, **kwargs)  # type: ignore[arg-type]


def errors_of(data: bytes, checker: Callable[[str], bool] = is_region) -> list[tuple[str, str]]:
    with pytest.raises(CapError) as info:
        parse_cap(data, is_region=checker)
    return info.value.details


def tz(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


# --- building small CAP documents -------------------------------------------------------------


def element(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}>{value}</{name}>"


def area(*geocodes: tuple[str, str], desc: str = "Wilayah") -> str:
    codes = "".join(
        f"<geocode><valueName>{name}</valueName><value>{value}</value></geocode>"
        for name, value in geocodes
    )
    return f"<area><areaDesc>{desc}</areaDesc>{codes}</area>"


def info(
    *,
    language: str | None = None,
    category: str | None = "Health",
    event: str | None = "Wabah Demam Berdarah",
    urgency: str | None = "Future",
    severity: str | None = "Moderate",
    effective: str | None = None,
    onset: str | None = None,
    expires: str | None = None,
    headline: str | None = "Waspada demam berdarah",
    description: str | None = "Kasus demam berdarah meningkat.",
    instruction: str | None = "Lakukan 3M plus.",
    web: str | None = "https://example.go.id/dbd",
    areas: tuple[str, ...] = (area(("KEMENDAGRI", "73")),),
) -> str:
    return (
        "<info>"
        + element("language", language)
        + element("category", category)
        + element("event", event)
        + element("urgency", urgency)
        + element("severity", severity)
        + "<certainty>Likely</certainty>"
        + element("effective", effective)
        + element("onset", onset)
        + element("expires", expires)
        + element("headline", headline)
        + element("description", description)
        + element("instruction", instruction)
        + element("web", web)
        + "".join(areas)
        + "</info>"
    )


def alert(
    *,
    identifier: str | None = "kemenkes-2026-0001",
    sender: str | None = "humas@kemkes.go.id",
    sent: str | None = "2026-01-15T09:00:00+07:00",
    status: str | None = "Actual",
    msg_type: str | None = "Alert",
    scope: str | None = "Public",
    references: str | None = None,
    infos: tuple[str, ...] = (info(),),
    namespace: str = CAP_NAMESPACE,
) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<alert xmlns="{namespace}">'
        + element("identifier", identifier)
        + element("sender", sender)
        + element("sent", sent)
        + element("status", status)
        + element("msgType", msg_type)
        + element("scope", scope)
        + element("references", references)
        + "".join(infos)
        + "</alert>"
    ).encode()


# --- the adapted OASIS examples and BMKG-style alerts -----------------------------------------


def test_homeland_security_advisory_targets_the_nation() -> None:
    result = parse(load("homeland_security_national.xml"))

    assert result.msg_type == "new"
    assert result.identifier == "43b080713727"
    assert result.sender == "hsas@dhs.gov"
    assert result.sent == datetime(2003, 4, 2, 14, 39, 1, tzinfo=tz(-5))
    assert result.references == []
    announcement = result.announcement
    assert announcement["id"] == "43b080713727"
    assert announcement["title"] == "Homeland Security Sets Code ORANGE"
    assert announcement["summary"] == "Homeland Security Sets Code ORANGE"
    assert announcement["body"].startswith("The Department of Homeland Security has elevated")
    assert "\n\nA High Condition is declared" in announcement["body"]
    assert announcement["link"] == "http://www.dhs.gov/dhspublic/display?theme=29"
    assert announcement["category"] == "security"
    assert announcement["priority"] == "urgent"  # urgency Immediate
    assert announcement["target"] == {"national": True, "provinces": [], "regencies": []}
    assert announcement["publish_at"] is None
    assert announcement["expires_at"] is None


def test_severe_thunderstorm_warning_maps_every_field() -> None:
    result = parse(load("severe_thunderstorm_bantaeng.xml"))

    assert result.msg_type == "new"
    assert result.sent == datetime(2003, 6, 17, 14, 57, tzinfo=tz(-7))
    assert result.announcement == {
        "id": "KSTO1055887203",
        "title": "SEVERE THUNDERSTORM WARNING",
        "body": (
            "AT 254 PM PDT...NATIONAL WEATHER SERVICE DOPPLER RADAR INDICATED A SEVERE "
            "THUNDERSTORM OVER SOUTH CENTRAL BANTAENG...MOVING SOUTHWEST AT 5 MPH. HAIL...INTENSE"
            " RAIN AND STRONG DAMAGING WINDS ARE LIKELY WITH THIS STORM.\n\n"
            "TAKE COVER IN A SUBSTANTIAL SHELTER UNTIL THE STORM PASSES."
        ),
        "summary": "SEVERE THUNDERSTORM WARNING",
        "link": None,
        "category": "met",
        "priority": "urgent",
        "hashtags": [],
        # the SAME geocode 006109 is another system's code and is ignored
        "target": {"national": False, "provinces": [], "regencies": ["73.03"]},
        "publish_at": None,
        "expires_at": "2003-06-17T16:00:00-07:00",
    }


def test_earthquake_update_references_the_replaced_announcement() -> None:
    result = parse(load("earthquake_update_jakarta.xml"))

    assert result.msg_type == "update"
    assert result.identifier == "TRI13970876.2"
    assert result.references == ["TRI13970876.1"]
    announcement = result.announcement
    assert announcement["id"] == "TRI13970876.2"
    assert announcement["title"] == "EQ 3.4 Imperial County CA"
    # no instruction: the body is the description alone
    assert announcement["body"].startswith("A minor earthquake measuring 3.4")
    assert announcement["body"].endswith("reviewed by a seismologist)")
    assert announcement["category"] == "geo"
    assert announcement["priority"] == "normal"  # Past / Minor
    assert announcement["link"] == "http://www.trinet.org/scsn/scsn.html"
    assert announcement["target"] == {"national": False, "provinces": [], "regencies": ["31.71"]}


def test_multilingual_amber_alert_prefers_the_indonesian_info() -> None:
    result = parse(load("amber_alert_multilingual.xml"))

    announcement = result.announcement
    assert announcement["title"] == "Amber Alert di DKI Jakarta"
    assert announcement["body"].startswith("TANGGAL/WAKTU: 11/06/03")
    assert announcement["category"] == "rescue"
    assert announcement["priority"] == "urgent"
    assert announcement["target"] == {"national": False, "provinces": ["31"], "regencies": []}


def test_bmkg_tsunami_warning() -> None:
    result = parse(load("bmkg_tsunami_warning.xml"))

    assert result.msg_type == "new"
    assert result.identifier == "BMKG-PDT-20260115093012-01"
    assert result.sender == "bmkg@bmkg.go.id"
    assert result.sent == datetime(2026, 1, 15, 9, 30, 12, tzinfo=UTC)
    announcement = result.announcement
    assert announcement["title"] == "Peringatan Dini Tsunami di Aceh Selatan, Aceh"
    assert announcement["summary"] == announcement["title"]
    assert announcement["body"].startswith("Gempa Mag:7.3, 15-Jan-26 16:28:40 WIB")
    assert announcement["body"].endswith("dinyatakan berakhir.")
    assert "\n\nMasyarakat di pantai Aceh Selatan segera menjauhi pantai" in announcement["body"]
    assert announcement["link"] == "https://www.bmkg.go.id/gempabumi/peringatan-dini-tsunami.bmkg"
    assert announcement["category"] == "geo"
    assert announcement["priority"] == "urgent"  # Immediate / Extreme
    # three areas, 11.01 twice: listed once
    assert announcement["target"] == {
        "national": False,
        "provinces": ["11"],
        "regencies": ["11.01"],
    }
    assert announcement["publish_at"] == "2026-01-15T16:30:12+07:00"  # effective, not onset
    assert announcement["expires_at"] == "2026-01-15T20:30:00+07:00"


def test_bmkg_tsunami_cancel() -> None:
    result = parse(load("bmkg_tsunami_cancel.xml"))

    assert result.msg_type == "cancel"
    assert result.references == ["BMKG-PDT-20260115093012-01"]
    assert result.announcement["id"] == "BMKG-PDT-20260115093012-02"
    assert result.announcement["title"] == "Peringatan Dini Tsunami di Aceh Selatan telah berakhir"
    assert result.announcement["priority"] == "normal"


@pytest.mark.parametrize(
    "name",
    [
        "homeland_security_national.xml",
        "severe_thunderstorm_bantaeng.xml",
        "earthquake_update_jakarta.xml",
        "amber_alert_multilingual.xml",
        "bmkg_tsunami_warning.xml",
        "bmkg_tsunami_cancel.xml",
    ],
)
def test_announcements_are_json_shaped(name: str) -> None:
    result = parse(load(name))

    announcement = result.announcement
    assert json.loads(json.dumps(announcement)) == announcement
    assert set(announcement) == {
        "id",
        "title",
        "body",
        "summary",
        "link",
        "category",
        "priority",
        "hashtags",
        "target",
        "publish_at",
        "expires_at",
    }
    assert result.sent.tzinfo is not None


def test_cap_alert_is_frozen() -> None:
    result = parse(alert())
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.identifier = "other"  # type: ignore[misc]


# --- msgType and references -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg_type", "expected"),
    [("Alert", "new"), ("Update", "update"), ("Cancel", "cancel"), ("update", "update")],
)
def test_msg_type_mapping(msg_type: str, expected: str) -> None:
    references = "humas@kemkes.go.id,kemenkes-2026-0000,2026-01-14T09:00:00+07:00"
    result = parse(alert(msg_type=msg_type, references=references))
    assert result.msg_type == expected


@pytest.mark.parametrize("msg_type", ["Ack", "Error", "Notice"])
def test_other_msg_types_are_refused(msg_type: str) -> None:
    [(path, message)] = errors_of(alert(msg_type=msg_type))
    assert path == "alert.msgType"
    assert "expected Alert, Update or Cancel" in message


def test_references_take_the_identifier_of_each_triple() -> None:
    references = (
        "a@x.go.id,ID-1,2026-01-14T09:00:00+07:00\n   b@y.go.id,ID-2,2026-01-14T10:00:00+07:00"
        "\ta@x.go.id,ID-1,2026-01-14T09:00:00+07:00"
    )
    result = parse(alert(msg_type="Update", references=references))
    assert result.references == ["ID-1", "ID-2"]


@pytest.mark.parametrize("bad", ["ID-1", "a@x.go.id,ID-1", "a@x.go.id,,2026-01-14T09:00:00Z"])
def test_malformed_references(bad: str) -> None:
    [(path, message)] = errors_of(alert(msg_type="Update", references=bad))
    assert path == "alert.references"
    assert repr(bad) in message


@pytest.mark.parametrize("msg_type", ["Update", "Cancel"])
def test_update_and_cancel_need_references(msg_type: str) -> None:
    [(path, message)] = errors_of(alert(msg_type=msg_type))
    assert path == "alert.references"
    assert "must reference the announcement" in message


def test_cancel_without_info_carries_only_the_id() -> None:
    references = "humas@kemkes.go.id,kemenkes-2026-0000,2026-01-14T09:00:00+07:00"
    result = parse(alert(msg_type="Cancel", references=references, infos=()))
    assert result.msg_type == "cancel"
    assert result.references == ["kemenkes-2026-0000"]
    assert result.announcement == {"id": "kemenkes-2026-0001"}


@pytest.mark.parametrize("msg_type", ["Alert", "Update"])
def test_alert_and_update_need_an_info_block(msg_type: str) -> None:
    references = "humas@kemkes.go.id,kemenkes-2026-0000,2026-01-14T09:00:00+07:00"
    [(path, message)] = errors_of(alert(msg_type=msg_type, references=references, infos=()))
    assert path == "alert.info"
    assert "at least one info block" in message


# --- required fields, status, scope, identifier -----------------------------------------------


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("identifier", "alert.identifier"),
        ("sender", "alert.sender"),
        ("sent", "alert.sent"),
        ("status", "alert.status"),
        ("msg_type", "alert.msgType"),
        ("scope", "alert.scope"),
    ],
)
@pytest.mark.parametrize("value", [None, "   "])
def test_required_alert_fields(field: str, path: str, value: str | None) -> None:
    assert errors_of(alert(**{field: value})) == [(path, "required")]  # type: ignore[arg-type]


def test_every_missing_field_is_reported_at_once() -> None:
    details = errors_of(alert(identifier=None, sent=None, scope=None, infos=(info(event=None),)))
    assert details == [
        ("alert.identifier", "required"),
        ("alert.sent", "required"),
        ("alert.scope", "required"),
        ("alert.info[0].event", "required"),
    ]
    error = CapError(details)
    assert "alert.identifier: required" in str(error)


@pytest.mark.parametrize("status", ["Exercise", "System", "Test", "test"])
def test_only_actual_alerts_are_published(status: str) -> None:
    [(path, message)] = errors_of(alert(status=status))
    assert path == "alert.status"
    assert message.startswith("only Actual alerts are published")
    assert repr(status) in message


@pytest.mark.parametrize("status", ["Draft", "draft"])
def test_a_draft_alert_becomes_a_draft_announcement(status: str) -> None:
    parsed = parse(alert(status=status))
    assert (parsed.msg_type, parsed.announcement["draft"]) == ("new", True)
    assert "draft" not in parse(alert()).announcement


@pytest.mark.parametrize("msg_type", ["Update", "Cancel"])
def test_a_draft_update_or_cancel_is_refused(msg_type: str) -> None:
    refs = "humas@kemkes.go.id,kemenkes-2026-0000,2026-01-15T08:00:00+07:00"
    [(path, message)] = errors_of(alert(status="Draft", msg_type=msg_type, references=refs))
    assert path == "alert.status"
    assert "msgType Alert" in message


def test_actual_is_case_insensitive() -> None:
    assert parse(alert(status="actual")).msg_type == "new"


def test_unknown_status() -> None:
    [(path, message)] = errors_of(alert(status="Real"))
    assert path == "alert.status"
    assert "'Real' is not a CAP value" in message


@pytest.mark.parametrize("scope", ["Restricted", "Private"])
def test_only_public_alerts_are_published(scope: str) -> None:
    [(path, message)] = errors_of(alert(scope=scope))
    assert path == "alert.scope"
    assert message.startswith("only Public alerts are published")


def test_unknown_scope() -> None:
    [(path, _)] = errors_of(alert(scope="Everyone"))
    assert path == "alert.scope"


@pytest.mark.parametrize("identifier", ["two words", "a,b", "a&amp;b", "a&lt;b"])
def test_identifier_without_separators(identifier: str) -> None:
    [(path, _)] = errors_of(alert(identifier=identifier))
    assert path == "alert.identifier"


def test_sender_without_separators() -> None:
    [(path, _)] = errors_of(alert(sender="humas kemkes"))
    assert path == "alert.sender"


# --- date-times -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2003-04-02T14:39:01-05:00", datetime(2003, 4, 2, 14, 39, 1, tzinfo=tz(-5))),
        ("2026-01-15T09:00:00+07:00", datetime(2026, 1, 15, 2, 0, tzinfo=UTC)),
        ("2026-01-15T02:00:00-00:00", datetime(2026, 1, 15, 2, 0, tzinfo=UTC)),
        ("2026-01-15T02:00:00Z", datetime(2026, 1, 15, 2, 0, tzinfo=UTC)),
        ("2026-01-15T02:00:00.5+00:00", datetime(2026, 1, 15, 2, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_sent_becomes_an_aware_datetime(text: str, expected: datetime) -> None:
    sent = parse(alert(sent=text)).sent
    assert sent == expected
    assert sent.utcoffset() is not None


@pytest.mark.parametrize(
    "text",
    [
        "2003-04-02T14:39:01",  # no offset: ambiguous
        "2003-04-02",
        "2003-04-02 14:39:01+07:00",
        "20030402T143901+0700",
        "2003-13-02T14:39:01+07:00",
        "kemarin",
    ],
)
def test_bad_sent(text: str) -> None:
    [(path, message)] = errors_of(alert(sent=text))
    assert path == "alert.sent"
    assert "is not a CAP date-time" in message


def test_bad_info_datetime_names_its_path() -> None:
    [(path, _)] = errors_of(alert(infos=(info(expires="besok"),)))
    assert path == "alert.info[0].expires"


def test_publish_at_is_effective_never_onset() -> None:
    """A warning goes out before the hazard: onset (when it begins) never delays publication."""
    both = info(effective="2026-01-15T10:00:00+07:00", onset="2026-01-15T12:00:00+07:00")
    onset_only = info(onset="2026-01-15T12:00:00+08:00", expires="2026-01-16T12:00:00+08:00")
    assert parse(alert(infos=(both,))).announcement["publish_at"] == "2026-01-15T10:00:00+07:00"
    announcement = parse(alert(infos=(onset_only,))).announcement
    assert announcement["publish_at"] is None
    assert announcement["expires_at"] == "2026-01-16T12:00:00+08:00"
    announcement = parse(alert()).announcement
    assert announcement["publish_at"] is None
    assert announcement["expires_at"] is None


# --- info content -----------------------------------------------------------------------------


def test_title_falls_back_to_event() -> None:
    announcement = parse(alert(infos=(info(headline=None),))).announcement
    assert announcement["title"] == "Wabah Demam Berdarah"
    assert announcement["summary"] is None


@pytest.mark.parametrize(
    ("description", "instruction", "body"),
    [
        ("Kasus meningkat.", "Lakukan 3M plus.", "Kasus meningkat.\n\nLakukan 3M plus."),
        ("  Kasus meningkat.\n ", None, "Kasus meningkat."),
        (None, "Lakukan 3M plus.", "Lakukan 3M plus."),
        (None, None, "Waspada demam berdarah"),  # nothing else: the title
    ],
)
def test_body(description: str | None, instruction: str | None, body: str) -> None:
    announcement = parse(
        alert(infos=(info(description=description, instruction=instruction),))
    ).announcement
    assert announcement["body"] == body


def test_link_is_web_or_none() -> None:
    assert parse(alert()).announcement["link"] == "https://example.go.id/dbd"
    assert parse(alert(infos=(info(web=None),))).announcement["link"] is None


@pytest.mark.parametrize("web", ["ftp://example.go.id/x", "javascript:alert(1)", "/relative"])
def test_link_must_be_http(web: str) -> None:
    [(path, message)] = errors_of(alert(infos=(info(web=web),)))
    assert path == "alert.info[0].web"
    assert "http or https" in message


@pytest.mark.parametrize(
    ("category", "expected"),
    [("Health", "health"), ("Geo", "geo"), ("CBRNE", "cbrne"), ("Infra", "infra")],
)
def test_category_is_lowercased(category: str, expected: str) -> None:
    assert parse(alert(infos=(info(category=category),))).announcement["category"] == expected


@pytest.mark.parametrize("name", ["category", "event", "urgency", "severity"])
def test_required_info_fields(name: str) -> None:
    assert errors_of(alert(infos=(info(**{name: None}),))) == [  # type: ignore[arg-type]
        (f"alert.info[0].{name}", "required")
    ]


@pytest.mark.parametrize(
    ("urgency", "severity", "priority"),
    [
        ("Immediate", "Minor", "urgent"),
        ("Immediate", "Severe", "urgent"),
        ("Past", "Extreme", "urgent"),
        ("Expected", "Extreme", "urgent"),
        ("Expected", "Minor", "high"),
        ("Future", "Severe", "high"),
        ("Unknown", "Severe", "high"),
        ("Future", "Moderate", "normal"),
        ("Past", "Minor", "normal"),
        ("Unknown", "Unknown", "normal"),
        ("immediate", "minor", "urgent"),
    ],
)
def test_priority(urgency: str, severity: str, priority: str) -> None:
    announcement = parse(alert(infos=(info(urgency=urgency, severity=severity),))).announcement
    assert announcement["priority"] == priority


@given(
    urgency=st.sampled_from(["Immediate", "Expected", "Future", "Past", "Unknown"]),
    severity=st.sampled_from(["Extreme", "Severe", "Moderate", "Minor", "Unknown"]),
)
def test_priority_rule_over_all_combinations(urgency: str, severity: str) -> None:
    priority = parse(alert(infos=(info(urgency=urgency, severity=severity),))).announcement[
        "priority"
    ]
    urgent = urgency == "Immediate" or severity == "Extreme"
    high = not urgent and (urgency == "Expected" or severity == "Severe")
    assert priority == ("urgent" if urgent else "high" if high else "normal")


@pytest.mark.parametrize(("name", "value"), [("urgency", "Now"), ("severity", "Catastrophic")])
def test_unknown_urgency_or_severity(name: str, value: str) -> None:
    [(path, message)] = errors_of(alert(infos=(info(**{name: value}),)))  # type: ignore[arg-type]
    assert path == f"alert.info[0].{name}"
    assert f"{value!r} is not a CAP value" in message


# --- choosing the info block ------------------------------------------------------------------


@pytest.mark.parametrize("language", ["id", "id-ID", "ID-id", "Id"])
def test_indonesian_info_is_preferred(language: str) -> None:
    english = info(language="en-US", headline="Dengue alert")
    indonesian = info(language=language, headline="Waspada DBD")
    announcement = parse(alert(infos=(english, indonesian))).announcement
    assert announcement["title"] == "Waspada DBD"


@pytest.mark.parametrize("languages", [("en-US", "es-US"), (None, "en"), ("en", "ind")])
def test_first_info_when_none_is_indonesian(languages: tuple[str | None, str | None]) -> None:
    first = info(language=languages[0], headline="first")
    second = info(language=languages[1], headline="second")
    assert parse(alert(infos=(first, second))).announcement["title"] == "first"


def test_only_the_chosen_info_is_checked_and_named() -> None:
    broken_english = info(language="en-US", urgency="Whenever")
    indonesian_bad_region = info(language="id", areas=(area(("KEMENDAGRI", "99")),))
    details = errors_of(alert(infos=(broken_english, indonesian_bad_region)))
    assert details == [("alert.info[1].area[0].geocode", "'99' is not an official region code")]


# --- region targeting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value_name", ["KEMENDAGRI", "kemendagri", "BPS", "bps", "region", "REGION", "kode_wilayah"]
)
def test_region_value_names(value_name: str) -> None:
    announcement = parse(alert(infos=(info(areas=(area((value_name, "73.03")),)),))).announcement
    assert announcement["target"] == {"national": False, "provinces": [], "regencies": ["73.03"]}


def test_provinces_regencies_and_nation_across_areas() -> None:
    areas = (
        area(("KEMENDAGRI", "73"), ("SAME", "006109"), ("KEMENDAGRI", "31.71")),
        area(("BPS", "11"), ("region", "73.03"), ("KEMENDAGRI", "73")),
        area(("kode_wilayah", "id")),
    )
    target = parse(alert(infos=(info(areas=areas),))).announcement["target"]
    assert target == {"national": True, "provinces": ["73", "11"], "regencies": ["31.71", "73.03"]}


def test_value_whitespace_is_ignored() -> None:
    areas = (area(("  KEMENDAGRI ", "\n  73.03\n ")),)
    target = parse(alert(infos=(info(areas=areas),))).announcement["target"]
    assert target["regencies"] == ["73.03"]


def test_unofficial_region_code_names_its_path() -> None:
    areas = (area(("KEMENDAGRI", "73")), area(("KEMENDAGRI", "31"), ("KEMENDAGRI", "99.99")))
    details = errors_of(alert(infos=(info(areas=areas),)))
    assert details == [("alert.info[0].area[1].geocode", "'99.99' is not an official region code")]


def test_national_code_is_not_looked_up() -> None:
    calls: list[str] = []

    def checker(code: str) -> bool:
        calls.append(code)
        return code != "ID"

    areas = (area(("KEMENDAGRI", "ID"), ("KEMENDAGRI", "73")),)
    result = parse_cap(alert(infos=(info(areas=areas),)), is_region=checker)
    assert result.announcement["target"]["national"] is True
    assert calls == ["73"]


@pytest.mark.parametrize("value", ["7303", "73.3", "73.03.01", "7", "Sulsel", "IDN", "٧٣"])
def test_malformed_region_codes(value: str) -> None:
    [(path, message)] = errors_of(alert(infos=(info(areas=(area(("KEMENDAGRI", value)),)),)))
    assert path == "alert.info[0].area[0].geocode"
    assert message.startswith(f"{value!r} is not a region code")
    assert "'73.03'" in message


def test_region_geocode_without_value() -> None:
    [(path, message)] = errors_of(alert(infos=(info(areas=(area(("KEMENDAGRI", "")),)),)))
    assert path == "alert.info[0].area[0].geocode"
    assert "needs a value" in message


@pytest.mark.parametrize(
    "areas",
    [
        (),
        (area(),),
        (area(("SAME", "006109"), ("UGC", "CAZ017")),),
        ("<area><areaDesc>Pantai</areaDesc><circle>-5.5,119.9 10</circle></area>",),
    ],
)
def test_no_region_geocode(areas: tuple[str, ...]) -> None:
    [(path, message)] = errors_of(alert(infos=(info(areas=areas),)))
    assert path == "alert.info[0].area"
    assert message.startswith("no region geocode")
    assert "KEMENDAGRI" in message


# --- not CAP 1.2, malformed, too large ---------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "found"),
    [
        (alert(namespace="urn:oasis:names:tc:emergency:cap:1.1"), "cap:1.1"),
        (b"<alert><identifier>x</identifier></alert>", "without a namespace"),
        (f'<feed xmlns="{CAP_NAMESPACE}"/>'.encode(), "<feed>"),
    ],
)
def test_not_a_cap_12_document(document: bytes, found: str) -> None:
    [(path, message)] = errors_of(document)
    assert path == "alert"
    assert message.startswith("not a CAP 1.2 document")
    assert found in message


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"   ",
        b"<alert",
        b"not xml at all",
        alert()[:-3],
        b"\xff\xfe\x00<",
        b"<a>&undefined;</a>",
    ],
)
def test_malformed_xml(document: bytes) -> None:
    [(path, message)] = errors_of(document)
    assert path == "alert"
    assert message.startswith("not well-formed XML")


@pytest.mark.parametrize("encoding", ["foo", "utf-7", "shift_jis", "idna", "rot13", "zlib"])
def test_undecodable_encodings(encoding: str) -> None:
    document = alert().replace(b'encoding="UTF-8"', f'encoding="{encoding}"'.encode(), 1)
    [(path, message)] = errors_of(document)
    assert path == "alert"
    assert message.startswith("unsupported character encoding")


def test_prefixed_namespace_and_other_encodings_parse() -> None:
    document = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        f'<cap:alert xmlns:cap="{CAP_NAMESPACE}">'
        "<cap:identifier>x-1</cap:identifier><cap:sender>a@b.id</cap:sender>"
        "<cap:sent>2026-01-15T09:00:00+07:00</cap:sent><cap:status>Actual</cap:status>"
        "<cap:msgType>Alert</cap:msgType><cap:scope>Public</cap:scope>"
        "<cap:info><cap:category>Env</cap:category><cap:event>Kabut asap</cap:event>"
        "<cap:urgency>Expected</cap:urgency><cap:severity>Moderate</cap:severity>"
        "<cap:certainty>Likely</cap:certainty><cap:headline>Kabut asap di Aceh \xe9</cap:headline>"
        "<cap:area><cap:areaDesc>Aceh</cap:areaDesc><cap:geocode><cap:valueName>BPS</cap:valueName>"
        "<cap:value>11</cap:value></cap:geocode></cap:area></cap:info></cap:alert>"
    ).encode("latin-1")
    announcement = parse(document).announcement
    assert announcement["title"] == "Kabut asap di Aceh é"
    assert announcement["priority"] == "high"
    assert announcement["target"]["provinces"] == ["11"]


def test_size_limit_is_checked_before_parsing() -> None:
    document = alert()
    padded = document + b" " * (MAX_CAP_BYTES - len(document))
    assert parse(padded).identifier == "kemenkes-2026-0001"  # exactly at the limit

    with pytest.raises(CapTooLargeError) as info_:
        parse(padded + b" ")
    assert isinstance(info_.value, CapError)
    [(path, message)] = info_.value.details
    assert path == "alert"
    assert str(MAX_CAP_BYTES) in message

    # not even parsed: garbage over the limit is "too large", not "malformed"
    with pytest.raises(CapTooLargeError):
        parse(b"<" * 101, max_bytes=100)


# --- hostile documents ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "hostile_billion_laughs.xml",
        "hostile_external_entity.xml",
        "hostile_external_dtd.xml",
        "hostile_internal_dtd.xml",
    ],
)
def test_hostile_documents_are_refused_without_expansion(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(CapError) as info_:
        parse(load(name))
    assert time.perf_counter() - started < 1.0
    assert info_.value.details == [("alert", "DTDs and entities are not allowed")]
    text = str(info_.value)
    assert "lol" not in text
    assert "root:" not in text


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SIARAN-SECRET-SENTINEL")
    document = alert(infos=(info(description="&xxe;"),)).replace(
        b"<alert", f'<!DOCTYPE alert [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]><alert'.encode(), 1
    )
    with pytest.raises(CapError) as info_:
        parse(document)
    assert info_.value.details == [("alert", "DTDs and entities are not allowed")]
    assert "SENTINEL" not in str(info_.value)


def test_parameter_entities_are_refused() -> None:
    document = alert().replace(
        b"<alert",
        b'<!DOCTYPE alert [<!ENTITY % p SYSTEM "http://attacker.example.com/x.dtd"> %p;]><alert',
        1,
    )
    assert errors_of(document) == [("alert", "DTDs and entities are not allowed")]


# --- CapError and robustness ------------------------------------------------------------------


def test_cap_error_shapes() -> None:
    single = CapError("alert.info[0].area[0].geocode", "'99.99' is not an official region code")
    assert single.details == [
        ("alert.info[0].area[0].geocode", "'99.99' is not an official region code")
    ]
    assert isinstance(single, ValueError)
    assert str(single) == "alert.info[0].area[0].geocode: '99.99' is not an official region code"
    several = CapError([("a", "x"), ("b", "y")])
    assert several.details == [("a", "x"), ("b", "y")]
    assert str(several) == "a: x; b: y"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_cap_error(data: bytes) -> None:
    with contextlib.suppress(CapError):
        parse(data)


@settings(max_examples=300, deadline=None)
@given(
    encoding=st.sampled_from(sorted(set(encodings.aliases.aliases.values()))),
    body=st.sampled_from([b"<alert/>", b"", b"\xff\xfe<\x00a\x00/\x00>\x00"])
    | st.binary(max_size=50),
)
def test_declared_encodings_raise_only_cap_error(encoding: str, body: bytes) -> None:
    data = f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + body
    with contextlib.suppress(CapError):
        parse(data)


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=12), value_name=st.sampled_from(["KEMENDAGRI", "BPS", "SAME"]))
def test_arbitrary_geocodes_raise_only_cap_error(value: str, value_name: str) -> None:
    safe = "".join(c for c in value if c.isprintable())
    document = alert(infos=(info(areas=(area((value_name, escape(safe))),)),))
    try:
        target = parse(document).announcement["target"]
    except CapError as exc:
        details = exc.details
        assert details
        assert all(path.startswith("alert.info[0].area") for path, _ in details)
    else:
        codes = [*target["provinces"], *target["regencies"]]
        assert all(code in REGIONS for code in codes)
        assert target["national"] or codes


@settings(max_examples=200, deadline=None)
@given(
    headline=st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), min_size=1, max_size=80
    )
)
def test_text_round_trips(headline: str) -> None:
    document = alert(infos=(info(headline=escape(headline)),))
    announcement = parse(document).announcement
    expected = headline.strip() or "Wabah Demam Berdarah"
    assert announcement["title"] == expected
