"""Loading and validating mapping files, and matching them to a CSV header."""

from datetime import UTC
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.csvio.errors import MappingError
from accounts.csvio.mapping import KINDS, FieldSpec, FieldType, check_header, converter, load_mapping, parse_mapping

DEALS = {"columns": {"Name": "title", "Stage": "stage", "Sum": "amount"}}


def _mapping(data: object, *, kind: str = "deals"):
    return parse_mapping(data=data, kind=kind)


def _error(data: object, *, kind: str = "deals") -> str:
    with pytest.raises(MappingError) as info:
        _mapping(data, kind=kind)
    return str(info.value)


def test_kinds_and_contract_field_names() -> None:
    assert list(KINDS) == ["users", "accounts", "contacts", "leads", "deals", "interactions"]
    assert set(KINDS["users"].fields) == {"external_id", "name", "email", "manager", "team", "region", "active"}
    assert set(KINDS["accounts"].fields) == {
        "external_id",
        "name",
        "tax_id",
        "sector",
        "revenue",
        "employees",
        "founded",
        "region",
        "parent",
        "owner",
    }
    assert set(KINDS["deals"].fields) == {
        "external_id",
        "title",
        "account",
        "owner",
        "stage",
        "amount",
        "currency",
        "engaged_at",
        "closed_at",
        "expected_close",
        "product",
        "lead",
        "contact",
        "lost_reason",
        "pipeline",
        "contact_name",
        "contact_phone",
        "contact_email",
        "region",
        "line_product",
        "line_quantity",
        "line_price",
    }
    assert {"patronymic", "region", "deal"} <= set(KINDS["contacts"].fields)
    assert {
        "kind",
        "direction",
        "occurred_at",
        "duration_minutes",
        "account",
        "contact",
        "deal",
        "owner",
        "subject",
        "summary",
    } <= set(KINDS["interactions"].fields)
    assert KINDS["deals"].fields["amount"].type is FieldType.MONEY
    assert KINDS["interactions"].fields["kind"].choices == (
        "call",
        "email",
        "meeting",
        "messenger",
        "web_form",
        "chat",
        "letter",
    )


def test_a_valid_mapping_is_frozen() -> None:
    mapping = _mapping(
        {**DEALS, "values": {"stage": {"Won": "won"}}, "defaults": {"currency": "RUB"}, "pipeline": " sales "}
    )
    assert mapping.columns == {"Name": "title", "Stage": "stage", "Sum": "amount"}
    assert mapping.pipeline == "sales"
    assert (mapping.date_order, mapping.phone_country_code) == ("DMY", "7")
    with pytest.raises(TypeError):
        mapping.columns["x"] = "title"  # type: ignore[index]
    with pytest.raises(AttributeError):
        mapping.kind = "users"  # type: ignore[misc]


def test_unknown_kind() -> None:
    assert "unknown kind 'potentials'; expected one of users, accounts" in _error(DEALS, kind="potentials")


def test_unknown_field_is_named_with_a_suggestion() -> None:
    message = _error({"columns": {"Name": "title", "Stage": "stage", "Sum": "ammount"}})
    assert "'ammount' is not a field of deals" in message
    assert "did you mean 'amount'" in message
    assert "'Sum'" in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "top level must be a JSON object"),
        ({}, '"columns" must be a non-empty object'),
        ({"columns": {}}, '"columns" must be a non-empty object'),
        ({**DEALS, "colums": {}}, "unknown key 'colums' (did you mean 'columns'?)"),
        ({"columns": {"Name": "title", "Stage": "stage", "Other": "title"}}, "'Name' and 'Other' both map to 'title'"),
        ({"columns": {"Name": "title", "Stage": 5}}, "'Stage' must map to a field name"),
        ({"columns": {"Name": "title"}}, "deals need 'stage'"),
        ({**DEALS, "values": {"owner": {"a": "b"}}}, "no column maps to 'owner'"),
        ({**DEALS, "values": {"stage": ["won"]}}, "'stage' must be an object"),
        ({**DEALS, "values": {"colour": {}}}, "'colour' is not a field of deals"),
        ({**DEALS, "defaults": {"currency": "XYZ"}}, "defaults: 'currency': 'XYZ' is not a known currency"),
        ({**DEALS, "defaults": {"closed_at": "soon"}}, "defaults: 'closed_at'"),
        ({**DEALS, "defaults": {"currency": None}}, "must be a string, number or boolean"),
        ({**DEALS, "date_order": "YMD"}, '"date_order" must be one of DMY, MDY'),
        ({**DEALS, "phone_country_code": "seven"}, '"phone_country_code" must be 1-3 digits'),
        ({**DEALS, "encoding": "klingon"}, "unknown \"encoding\" 'klingon'"),
        ({**DEALS, "delimiter": ":"}, '"delimiter" must be one of'),
        ({**DEALS, "pipeline": ""}, '"pipeline" must be a non-empty string'),
        ({"columns": {"Name": "title", " Name": "stage"}}, "'Name' is listed twice"),
    ],
)
def test_mapping_errors_name_what_is_wrong(data: object, expected: str) -> None:
    assert expected in _error(data)


def test_pipeline_only_for_deals_and_leads() -> None:
    assert '"pipeline" applies to deals and leads, not accounts' in _error(
        {"columns": {"Name": "name"}, "pipeline": "x"}, kind="accounts"
    )


def test_required_groups_accept_any_member_or_a_default() -> None:
    _mapping({"columns": {"Surname": "last_name"}}, kind="contacts")
    _mapping({"columns": {"When": "occurred_at"}, "defaults": {"kind": "call"}}, kind="interactions")
    assert "contacts need 'name' or 'first_name' or 'last_name'" in _error(
        {"columns": {"Mail": "email"}}, kind="contacts"
    )


def test_load_mapping_reports_malformed_json_with_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"columns": {"Name": "title",}}', encoding="utf-8")
    with pytest.raises(MappingError, match=r"bad.json: malformed JSON at line 1 column 30"):
        load_mapping(path=path, kind="deals")


def test_load_mapping_missing_file_and_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read mapping"):
        load_mapping(path=tmp_path / "none.json", kind="deals")
    with pytest.raises(MappingError, match="unknown kind"):
        load_mapping(path=tmp_path / "none.json", kind="nope")


def test_check_header_names_the_missing_column() -> None:
    mapping = _mapping(DEALS)
    with pytest.raises(MappingError, match=r"no column 'Sum' named in the mapping \(did you mean 'Summ'\?\)"):
        check_header(mapping=mapping, header=["Name", "Stage", "Summ"])
    assert check_header(mapping=mapping, header=[" Name ", "x", "Stage", "Sum"]) == {"Name": 0, "Stage": 2, "Sum": 3}


def test_check_header_hints_at_a_wrong_delimiter() -> None:
    with pytest.raises(MappingError, match="single column 'Name;Stage;Sum': is the delimiter right"):
        check_header(mapping=_mapping(DEALS), header=["Name;Stage;Sum"])


def test_check_header_reads_a_repeated_column_without_a_number_as_its_first() -> None:
    assert check_header(mapping=_mapping(DEALS), header=["Name", "Stage", "Sum", "Stage"])["Stage"] == 1
    # A duplicated column nobody maps is harmless.
    check_header(mapping=_mapping(DEALS), header=["Name", "Stage", "Sum", "x", "x"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_zoho_mappings_are_valid(kind: str, zoho_mapping_dir: Path) -> None:
    mapping = load_mapping(path=zoho_mapping_dir / f"{kind}.json", kind=kind)
    assert mapping.kind == kind


def test_test_mappings_are_valid(test_mapping_dir: Path) -> None:
    paths = sorted(test_mapping_dir.glob("*.json"))
    assert paths
    for path in paths:
        kind = path.stem.split("_")[0]
        assert load_mapping(path=path, kind=kind).kind == kind


@pytest.mark.parametrize(
    ("field_type", "text", "expected"),
    [
        (FieldType.TEXT, " a  b ", "a  b"),
        (FieldType.NAME, " a  b ", "a b"),
        (FieldType.BOOL, "да", True),
        (FieldType.PERCENT, "12,5%", Decimal("12.5")),
        (FieldType.CURRENCY, "руб.", "RUB"),
        (FieldType.YEAR, "1998", 1998),
    ],
)
def test_every_field_type_has_a_parser(field_type: FieldType, text: str, expected: object) -> None:
    parse = converter(FieldSpec("x", field_type), tz=UTC, date_order="DMY", phone_country_code="7")
    assert parse(text) == expected


def test_only_percent_is_unused_by_the_contract_fields() -> None:
    used = {spec.type for kind in KINDS.values() for spec in kind.fields.values()}
    assert set(FieldType) - used == {FieldType.PERCENT}  # BOOL: users' "active"


def test_a_json_key_given_twice_is_an_error_not_silently_dropped(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text('{"columns": {"Amount": "amount", "Name": "title", "Amount": "stage"}}', encoding="utf-8")
    with pytest.raises(MappingError, match=r"twice\.json: key 'Amount' appears twice in one object"):
        load_mapping(path=path, kind="deals")


def test_one_column_may_feed_several_fields() -> None:
    mapping = parse_mapping(data={"columns": {"LEADID": ["external_id", "lead"], "Name": "title", "Stage": "stage"}},
                            kind="deals")
    assert mapping.field_columns == (("LEADID", "external_id"), ("LEADID", "lead"), ("Name", "title"),
                                     ("Stage", "stage"))
    with pytest.raises(MappingError, match="both map to 'lead'"):
        parse_mapping(data={"columns": {"LEADID": ["external_id", "lead"], "Lead": "lead", "Name": "title",
                                        "Stage": "stage"}}, kind="deals")
    with pytest.raises(MappingError, match="must map to a field name or a list of them"):
        parse_mapping(data={"columns": {"LEADID": ["external_id", 3], "Name": "title", "Stage": "stage"}},
                      kind="deals")
