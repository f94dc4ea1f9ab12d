"""Rule lists compiled against tiny inline schemas: every refusal, then run-time behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy.errors import MappingError
from proxy.mapping.compiler import Mapper, MapperFailure, compile_condition, compile_mapper, compile_value
from proxy.mapping.paths import MISSING
from proxy.mapping.spec import Condition, ValueSpec
from proxy.mapping.tables import CodeTable
from proxy.mapping.transforms import Trace, UnmappedCode

from .support import code_table, rules, schema_from

DRAFT7 = "http://json-schema.org/draft-07/schema#"
FILE = "product/operations/op.yaml"
SOURCE: dict[str, Any] = {
    "$schema": DRAFT7,
    "type": "object",
    "properties": {
        "Id": {"type": "string"},
        "Name": {"type": ["string", "null"]},
        "Count": {},
        "Nested": {"type": "object", "properties": {"A": {}}},
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"code": {}, "rank": {}, "kind": {}}},
        },
    },
}
TARGET: dict[str, Any] = {
    "$schema": DRAFT7,
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {},
        "name": {},
        "count": {},
        "deep": {"type": "object", "properties": {"x": {}}},
        "list": {
            "type": "array",
            "items": {"type": "object", "required": ["code"], "properties": {"code": {}, "rank": {}}},
        },
    },
}
TABLES: dict[str, CodeTable] = {"codes": code_table("codes", "code,legacy\nA,alpha\nB,beta\nC,gamma\n")}
ID_RULE: dict[str, Any] = {"id": "r.id", "to": "id", "from": "Id"}


def failure(rule: str, reason: str) -> Exception:
    return MappingError(FILE, reason, rule=None if rule == "-" else rule)


def build(tmp_path: Path, *raw: dict[str, Any]) -> Mapper:
    return compile_mapper(
        rules(*raw),
        source=schema_from(tmp_path, SOURCE, "source.json"),
        target=schema_from(tmp_path, TARGET, "target.json"),
        tables=TABLES,
        failure=failure,
        file=FILE,
    )


def each_rule(**each: Any) -> dict[str, Any]:
    fields = each.pop("fields", [{"id": "r.item.code", "to": "code", "from": "code"}])
    return {"id": "r.list", "to": "list", "from": "items", "each": {"fields": fields, **each}}


REFUSALS: list[Any] = [
    pytest.param(
        [ID_RULE, {"id": "r.name", "to": "name", "from": "Nmae"}],
        "r.name",
        "from: source.json has no field 'Nmae'",
        id="unknown-from",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.nested", "to": "name", "from": "Nested.B"}],
        "r.nested",
        "from: source.json has no field 'Nested.B'",
        id="unknown-nested-from",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.name", "to": "nmae", "from": "Name"}],
        "r.name",
        "to: target.json has no field 'nmae'",
        id="unknown-to",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.deep", "to": "deep.y", "from": "Name"}],
        "r.deep",
        "to: target.json has no field 'deep.y'",
        id="unknown-nested-to",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.a", "to": "name", "from": "Name"}, {"id": "r.b", "to": "name", "from": "Id"}],
        "r.b",
        "to: 'name' is already written by another rule",
        id="duplicate-target",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.id", "to": "name", "from": "Name"}],
        "r.id",
        "rule id used more than once in the file",
        id="duplicate-rule-id",
    ),
    pytest.param(
        [ID_RULE, each_rule(fields=[{"id": "r.id", "to": "code", "from": "code"}])],
        "r.id",
        "rule id used more than once in the file",
        id="duplicate-rule-id-inside-each",
    ),
    pytest.param(
        [{"id": "r.name", "to": "name", "from": "Name"}],
        None,
        "target.json requires 'id' but no rule writes it",
        id="required-target-without-rule",
    ),
    pytest.param(
        [ID_RULE, each_rule(fields=[{"id": "r.item.rank", "to": "rank", "from": "rank"}])],
        None,
        "target.json requires list[].'code' but no rule writes it",
        id="required-item-field-without-rule",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.name", "to": "name", "from": "Name", "transform": "capitalise"}],
        "r.name",
        "unknown transform 'capitalise'",
        id="unknown-transform",
    ),
    pytest.param(
        [
            ID_RULE,
            {
                "id": "r.name",
                "to": "name",
                "from": "Name",
                "transform": {"table": {"name": "kodes", "column": "legacy"}},
            },
        ],
        "r.name",
        "unknown table 'kodes'",
        id="unknown-table",
    ),
    pytest.param(
        [
            ID_RULE,
            {
                "id": "r.name",
                "to": "name",
                "from": "Name",
                "transform": {"table": {"name": "codes", "column": "legasy"}},
            },
        ],
        "r.name",
        "table 'codes' has no column 'legasy'",
        id="unknown-column",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.name", "to": "name", "from": "Name", "transform": {"round": 9}}],
        "r.name",
        "round takes a number of decimals from 0 to 6",
        id="bad-transform-argument",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.name", "to": "name", "from": "Name..x"}],
        "r.name",
        "from: malformed path",
        id="malformed-from",
    ),
    pytest.param(
        [ID_RULE, {"id": "r.list", "to": "list[0].code", "from": "Name"}],
        "r.list",
        "to: target path 'list[0].code' may not index into a list",
        id="to-indexes-a-list",
    ),
    pytest.param(
        [ID_RULE, each_rule(fields=[{"id": "r.item.code", "to": "code", "from": "cod"}])],
        "r.item.code",
        "from: source.json has no field 'items[0].cod'",
        id="unknown-from-inside-each",
    ),
    pytest.param(
        [ID_RULE, each_rule(where={"from": "knd", "equals": "x"})],
        "r.list",
        "from: source.json has no field 'items[0].knd'",
        id="unknown-where-field",
    ),
    pytest.param(
        [ID_RULE, each_rule(order_by={"from": "rank", "transform": "nope"})],
        "r.list",
        "unknown transform 'nope'",
        id="bad-order-by-transform",
    ),
]


@pytest.mark.parametrize(("raw", "rule", "reason"), REFUSALS)
def test_compile_time_refusals(
    tmp_path: Path, raw: list[dict[str, Any]], rule: str | None, reason: str
) -> None:
    with pytest.raises(MappingError) as caught:
        build(tmp_path, *raw)
    error = caught.value
    assert error.file == FILE
    assert error.rule == rule
    assert reason in error.reason
    assert str(error).startswith(f"{FILE}: rule {rule!r}: " if rule else f"{FILE}: ")


def test_compile_value_refuses_unknown_fields(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"rule 'channel': from: source\.json has no field 'Channel'"):
        compile_value(
            ValueSpec.model_validate({"from": "Channel"}),
            source=schema_from(tmp_path, SOURCE, "source.json"),
            tables=TABLES,
            failure=failure,
            file=FILE,
            rule="channel",
        )


def test_compile_value_runs_transform_and_turns_errors_into_missing(tmp_path: Path) -> None:
    value = compile_value(
        ValueSpec.model_validate({"from": "Name", "transform": {"map": {"Sms": "sms"}}}),
        source=schema_from(tmp_path, SOURCE, "source.json"),
        tables=TABLES,
        failure=failure,
        file=FILE,
        rule="channel",
    )
    assert value({"Name": "Sms"}, Trace()) == "sms"
    assert value({"Name": "Fax"}, Trace()) is MISSING
    assert value({"Name": None}, Trace()) is None
    assert value({}, Trace()) is MISSING


# --- run time -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "source", "expected"),
    [
        pytest.param({"to": "name", "from": "Name"}, {"Name": "x"}, {"name": "x"}, id="copy"),
        pytest.param({"to": "name", "from": "Name"}, {}, {}, id="absent-no-default-omitted"),
        pytest.param({"to": "name", "from": "Name"}, {"Name": None}, {}, id="null-no-default-omitted"),
        pytest.param({"to": "name", "from": "Name", "default": "dflt"}, {}, {"name": "dflt"}, id="default"),
        pytest.param(
            {"to": "name", "from": "Name", "default": "dflt"},
            {"Name": None},
            {"name": "dflt"},
            id="default-on-null",
        ),
        pytest.param(
            {"to": "name", "from": "Name", "default": None}, {}, {"name": None}, id="default-null-writes-null"
        ),
        pytest.param(
            {"to": "name", "from": "Name", "default": []}, {}, {"name": []}, id="default-empty-list"
        ),
        pytest.param(
            {"to": "name", "from": "Name", "default": "d"},
            {"Name": "x"},
            {"name": "x"},
            id="present-beats-default",
        ),
        pytest.param(
            {"to": "name", "transform": {"const": "K"}}, {}, {"name": "K"}, id="constant-without-from"
        ),
        pytest.param({"to": "name", "default": "only"}, {}, {"name": "only"}, id="default-without-from"),
        pytest.param(
            {"to": "deep.x", "from": "Nested.A"}, {"Nested": {"A": 1}}, {"deep": {"x": 1}}, id="nested"
        ),
        pytest.param(
            {"to": "name", "from": "Name", "transform": "trim"},
            {"Name": "  "},
            {},
            id="transform-missing-omits",
        ),
        pytest.param(
            {"to": "name", "from": "Name", "transform": "trim", "default": "d"},
            {"Name": "  "},
            {"name": "d"},
            id="nothing-after-transform-takes-the-default",
        ),
        pytest.param(
            {"to": "name", "from": "Name", "transform": {"table": {"name": "codes", "column": "legacy"}}},
            {"Name": "Z"},
            {},
            id="top-level-drop-omits",
        ),
    ],
)
def test_single_rule(
    tmp_path: Path, rule: dict[str, Any], source: dict[str, Any], expected: dict[str, Any]
) -> None:
    mapper = build(tmp_path, {"id": "r.id", "to": "id", "default": "I"}, {"id": "r.x", **rule})
    assert mapper({**source}, Trace()) == {"id": "I", **expected}


@pytest.mark.parametrize(
    ("rule", "source", "reason"),
    [
        pytest.param(
            {"to": "name", "from": "Name", "required": True},
            {},
            "required value is absent",
            id="required-absent",
        ),
        pytest.param(
            {"to": "name", "from": "Name", "required": True},
            {"Name": None},
            "required value is absent",
            id="required-null",
        ),
        pytest.param(
            {"to": "name", "from": "Name", "transform": "integer"},
            {"Name": "abc"},
            "expected an integer",
            id="transform-error",
        ),
        pytest.param(
            {"to": "name", "transform": "upper"},
            {},
            "expected a string",
            id="non-constant-transform-without-from",
        ),
    ],
)
def test_run_time_failures(tmp_path: Path, rule: dict[str, Any], source: dict[str, Any], reason: str) -> None:
    mapper = build(tmp_path, {"id": "r.id", "to": "id", "default": "I"}, {"id": "r.x", **rule})
    with pytest.raises(MapperFailure) as caught:
        mapper(source, Trace())
    assert caught.value.rule == "r.x"
    assert caught.value.field == rule.get("from", "name")
    assert caught.value.reason == reason
    assert str(caught.value) == f"rule 'r.x' ({caught.value.field}): {reason}"


ITEMS: list[dict[str, Any]] = [
    {"code": "A", "rank": 2, "kind": "x"},
    {"code": "B", "rank": None, "kind": "y"},
    {"code": "C", "rank": 1, "kind": "x"},
    {"code": "Z", "rank": 3, "kind": "x"},
    {"code": "A2", "kind": "y"},
    {"code": "B2", "rank": 1, "kind": "y"},
]
CODE_THROUGH_TABLE = [
    {
        "id": "r.item.code",
        "to": "code",
        "from": "code",
        "transform": {"table": {"name": "codes", "column": "legacy"}},
    }
]


@pytest.mark.parametrize(
    ("each", "expected"),
    [
        pytest.param({}, ["A", "B", "C", "Z", "A2", "B2"], id="all-in-order"),
        pytest.param({"where": {"from": "kind", "equals": "x"}}, ["A", "C", "Z"], id="where-equals"),
        pytest.param({"where": {"from": "kind", "in": ["y"]}}, ["B", "A2", "B2"], id="where-in"),
        pytest.param(
            {"where": {"from": "kind", "transform": "upper", "equals": "Y"}},
            ["B", "A2", "B2"],
            id="where-transform",
        ),
        pytest.param(
            {"where": {"from": "rank", "transform": "upper", "equals": 2}},
            [],
            id="where-transform-error-excludes",
        ),
        pytest.param(
            {"order_by": {"from": "rank"}}, ["C", "B2", "A", "Z", "B", "A2"], id="order-stable-keyless-last"
        ),
        pytest.param(
            {"order_by": {"from": "rank", "descending": True}},
            ["Z", "A", "C", "B2", "B", "A2"],
            id="descending-stable-keyless-last",
        ),
        pytest.param({"order_by": {"from": "rank"}, "limit": 2}, ["C", "B2"], id="order-then-limit"),
        pytest.param({"limit": 1}, ["A"], id="limit"),
        pytest.param({"limit": 50}, ["A", "B", "C", "Z", "A2", "B2"], id="limit-above-size"),
        pytest.param(
            {
                "where": {"from": "kind", "equals": "x"},
                "order_by": {"from": "rank", "descending": True},
                "limit": 2,
            },
            ["Z", "A"],
            id="where-order-limit",
        ),
        pytest.param({"fields": CODE_THROUGH_TABLE}, ["alpha", "beta", "gamma"], id="drop-removes-items"),
        pytest.param(
            {"fields": CODE_THROUGH_TABLE, "limit": 2, "order_by": {"from": "rank", "descending": True}},
            ["alpha", "gamma"],
            id="limit-counts-kept-items",
        ),
    ],
)
def test_each(
    tmp_path: Path, request: pytest.FixtureRequest, each: dict[str, Any], expected: list[str]
) -> None:
    mapper = build(tmp_path, ID_RULE, each_rule(**each))
    trace = Trace()
    result = mapper({"Id": "1", "items": [dict(item) for item in ITEMS]}, trace)
    assert [item["code"] for item in result["list"]] == expected
    # Only items the table is asked about are noted: a limit stops the walk.
    unmapped = {"drop-removes-items": ["Z", "A2", "B2"], "limit-counts-kept-items": ["Z"]}
    assert trace.unmapped == [
        UnmappedCode("codes", code) for code in unmapped.get(request.node.callspec.id, [])
    ]


def test_each_maps_several_fields_and_leaves_absent_ones_out(tmp_path: Path) -> None:
    fields = [
        {"id": "r.item.code", "to": "code", "from": "code"},
        {"id": "r.item.rank", "to": "rank", "from": "rank"},
    ]
    mapper = build(tmp_path, ID_RULE, each_rule(fields=fields))
    result = mapper({"Id": "1", "items": [{"code": "A", "rank": 1}, {"code": "B"}]}, Trace())
    assert result == {"id": "1", "list": [{"code": "A", "rank": 1}, {"code": "B"}]}


def test_each_with_default_for_absent_list(tmp_path: Path) -> None:
    mapper = build(tmp_path, ID_RULE, {**each_rule(), "default": []})
    assert mapper({"Id": "1"}, Trace()) == {"id": "1", "list": []}
    assert mapper({"Id": "1", "items": []}, Trace()) == {"id": "1", "list": []}


def test_each_over_a_non_list_fails(tmp_path: Path) -> None:
    mapper = build(tmp_path, ID_RULE, each_rule())
    with pytest.raises(MapperFailure, match="expected a list") as caught:
        mapper({"Id": "1", "items": {"code": "A"}}, Trace())
    assert caught.value.rule == "r.list"


def test_required_inside_each_names_the_item_rule(tmp_path: Path) -> None:
    fields = [{"id": "r.item.code", "to": "code", "from": "code", "required": True}]
    mapper = build(tmp_path, ID_RULE, each_rule(fields=fields))
    with pytest.raises(MapperFailure) as caught:
        mapper({"Id": "1", "items": [{"code": "A"}, {"rank": 1}]}, Trace())
    assert caught.value.rule == "r.item.code"


def test_mapper_does_not_mutate_its_source(tmp_path: Path) -> None:
    mapper = build(tmp_path, ID_RULE, each_rule(order_by={"from": "rank"}))
    source = {"Id": "1", "items": [dict(item) for item in ITEMS]}
    mapper(source, Trace())
    assert source == {"Id": "1", "items": ITEMS}


def test_provenance(tmp_path: Path) -> None:
    fields = [
        {"id": "r.item.code", "to": "code", "from": "code"},
        {"id": "r.item.rank", "to": "rank", "from": "rank"},
    ]
    mapper = build(
        tmp_path,
        ID_RULE,
        {"id": "r.deep", "to": "deep.x", "from": "Nested.A"},
        {"id": "r.name", "to": "name", "from": "Name"},
        each_rule(fields=fields),
    )
    assert dict(mapper.provenance) == {
        "id": "r.id",
        "deep.x": "r.deep",
        "name": "r.name",
        "list": "r.list",
        "list[].code": "r.item.code",
        "list[].rank": "r.item.rank",
    }
    assert len(mapper.steps) == 4


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param({"Id": "1"}, {"id": "1"}, id="guard-absent-rule-skipped"),
        pytest.param({"Id": "1", "Nested": None}, {"id": "1"}, id="guard-null-rule-skipped"),
        pytest.param(
            {"Id": "1", "Nested": {}}, {"id": "1", "deep": {"x": 55}}, id="guard-present-default-applies"
        ),
        pytest.param(
            {"Id": "1", "Nested": {"A": 7}}, {"id": "1", "deep": {"x": 7}}, id="guard-present-value-wins"
        ),
    ],
)
def test_when_guard_limits_a_rule_to_present_parents(
    tmp_path: Path, source: dict[str, Any], expected: dict[str, Any]
) -> None:
    mapper = build(
        tmp_path, ID_RULE, {"id": "r.x", "to": "deep.x", "from": "Nested.A", "default": 55, "when": "Nested"}
    )
    assert mapper(source, Trace()) == expected


def test_when_guard_must_name_a_source_field(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"rule 'r\.x': from: source\.json has no field 'Nope'"):
        build(tmp_path, ID_RULE, {"id": "r.x", "to": "name", "from": "Name", "when": "Nope"})


def test_nested_required_fields_are_checked(tmp_path: Path) -> None:
    target = {
        "$schema": DRAFT7,
        "type": "object",
        "properties": {
            "phone": {
                "type": "object",
                "required": ["area", "number"],
                "properties": {"area": {}, "number": {}, "country": {}},
            }
        },
    }
    with pytest.raises(MappingError, match=r"requires phone\.'number' but no rule writes it"):
        compile_mapper(
            rules({"id": "r.area", "to": "phone.area", "from": "Id"}),
            source=schema_from(tmp_path, SOURCE, "source.json"),
            target=schema_from(tmp_path, target, "target.json"),
            tables=TABLES,
            failure=failure,
            file=FILE,
        )


def test_order_by_keys_of_mixed_types_fail_as_a_mapping_failure(tmp_path: Path) -> None:
    mapper = build(tmp_path, ID_RULE, each_rule(order_by={"from": "rank"}))
    with pytest.raises(MapperFailure, match="cannot be compared"):
        mapper({"Id": "1", "items": [{"code": "A", "rank": 1}, {"code": "B", "rank": "x"}]}, Trace())


# --- pick: one object chosen from a list ------------------------------------------------------

PICK_SOURCE: dict[str, Any] = {
    "$schema": DRAFT7,
    "type": "object",
    "properties": {
        "Id": {"type": "string"},
        "Flag": {},
        "Phones": {
            "type": ["array", "null"],
            "items": {"type": "object", "properties": {"Type": {}, "Area": {}, "Number": {}}},
        },
    },
}
PICK_TARGET: dict[str, Any] = {
    "$schema": DRAFT7,
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {},
        "phone": {
            "type": "object",
            "required": ["area", "number"],
            "properties": {"area": {}, "number": {}, "verified": {}},
        },
    },
}


def pick_rule(**pick: Any) -> dict[str, Any]:
    fields = pick.pop(
        "fields",
        [
            {"id": "r.phone.area", "to": "area", "from": "Area", "transform": "integer"},
            {"id": "r.phone.number", "to": "number", "from": "Number"},
        ],
    )
    return {"id": "r.phone", "to": "phone", "from": "Phones", "pick": {"fields": fields, **pick}}


VERIFIED_RULE: dict[str, Any] = {
    "id": "r.phone.verified",
    "to": "phone.verified",
    "from": "Flag",
    "transform": "boolean",
    "when": "Phones[0]",
}


def build_pick(tmp_path: Path, *raw: dict[str, Any]) -> Mapper:
    return compile_mapper(
        rules(*raw),
        source=schema_from(tmp_path, PICK_SOURCE, "source.json"),
        target=schema_from(tmp_path, PICK_TARGET, "target.json"),
        tables=TABLES,
        failure=failure,
        file=FILE,
    )


def phone(kind: int | None, area: str, number: str) -> dict[str, Any]:
    return {"Type": kind, "Area": area, "Number": number}


PREFER_HOME = {"prefer": {"from": "Type", "equals": 1}}


@pytest.mark.parametrize(
    ("pick", "phones", "flag", "expected"),
    [
        pytest.param(
            PREFER_HOME,
            [phone(2, "21", "900"), phone(1, "11", "800"), phone(1, "31", "700")],
            None,
            {"area": 11, "number": "800"},
            id="first-preferred-wins-over-an-earlier-item",
        ),
        pytest.param(
            PREFER_HOME,
            [phone(2, "21", "900"), phone(3, "11", "800")],
            None,
            {"area": 21, "number": "900"},
            id="no-preferred-item-takes-the-first",
        ),
        pytest.param({}, [phone(2, "21", "900"), phone(1, "11", "800")], None, {"area": 21, "number": "900"}),
        pytest.param(
            PREFER_HOME, [phone(1, "11", "800")], 1, {"area": 11, "number": "800", "verified": True}
        ),
        pytest.param(
            PREFER_HOME, [phone(1, "11", "800")], 0, {"area": 11, "number": "800", "verified": False}
        ),
        pytest.param(PREFER_HOME, [], 1, MISSING, id="empty-list-writes-nothing-not-even-verified"),
        pytest.param(PREFER_HOME, None, 1, MISSING, id="null-list-writes-nothing"),
    ],
)
def test_pick(tmp_path: Path, pick: dict[str, Any], phones: Any, flag: Any, expected: Any) -> None:
    mapper = build_pick(tmp_path, ID_RULE, pick_rule(**pick), VERIFIED_RULE)
    source: dict[str, Any] = {"Id": "1", "Phones": phones}
    if flag is not None:
        source["Flag"] = flag
    got = mapper(source, Trace())
    assert got.get("phone", MISSING) == expected
    assert mapper.provenance["phone.area"] == "r.phone.area"
    assert mapper.provenance["phone.verified"] == "r.phone.verified"


def test_pick_whose_item_maps_to_nothing_writes_nothing(tmp_path: Path) -> None:
    mapper = build_pick(tmp_path, ID_RULE, pick_rule())
    assert mapper({"Id": "1", "Phones": [{"Type": 1}]}, Trace()) == {"id": "1"}


def test_pick_over_a_non_list_fails(tmp_path: Path) -> None:
    mapper = build_pick(tmp_path, ID_RULE, pick_rule())
    with pytest.raises(MapperFailure, match="expected a list"):
        mapper({"Id": "1", "Phones": {"Area": "11"}}, Trace())


@pytest.mark.parametrize(
    ("raw", "rule", "reason"),
    [
        pytest.param(
            pick_rule(fields=[{"id": "r.phone.area", "to": "area", "from": "Area"}]),
            None,
            r"target\.json requires phone\.'number' but no rule writes it",
            id="picked-object-misses-a-required-field",
        ),
        pytest.param(
            pick_rule(
                fields=[
                    {"id": "r.a", "to": "area", "from": "Aera"},
                    {"id": "r.n", "to": "number", "from": "Number"},
                ]
            ),
            "r.a",
            r"from: source\.json has no field 'Phones\[0\]\.Aera'",
            id="unknown-field-inside-pick",
        ),
        pytest.param(
            pick_rule(prefer={"from": "Kind", "equals": 1}),
            "r.phone",
            r"from: source\.json has no field 'Phones\[0\]\.Kind'",
            id="unknown-prefer-field",
        ),
    ],
)
def test_pick_refusals(tmp_path: Path, raw: dict[str, Any], rule: str | None, reason: str) -> None:
    with pytest.raises(MappingError, match=reason) as caught:
        build_pick(tmp_path, ID_RULE, raw)
    assert caught.value.rule == rule


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(
            {"id": "r.x", "to": "phone", "pick": {"fields": [{"id": "r.y", "to": "a", "from": "b"}]}},
            "'pick' needs 'from'",
            id="pick-without-from",
        ),
        pytest.param(
            {
                "id": "r.x",
                "to": "phone",
                "from": "Phones",
                "pick": {"fields": [{"id": "r.y", "to": "a", "from": "b"}]},
                "each": {"fields": [{"id": "r.z", "to": "a", "from": "b"}]},
            },
            "'each' or 'pick', not both",
            id="pick-and-each",
        ),
        pytest.param(
            {"id": "r.x", "to": "phone", "from": "Phones", "pick": {"fields": []}},
            "at least 1 item",
            id="pick-without-fields",
        ),
    ],
)
def test_pick_spec_refusals(raw: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        rules(raw)


def test_the_same_rule_reused_under_one_id_is_one_rule(tmp_path: Path) -> None:
    # FFR's three report sections share their item rules through a YAML anchor.
    item = [{"id": "r.item.code", "to": "code", "from": "code"}]
    first = {"id": "r.list", "to": "list", "from": "items", "each": {"fields": item, "limit": 1}}
    target = {
        **TARGET,
        "properties": {**TARGET["properties"], "other": TARGET["properties"]["list"]},
    }
    second = {"id": "r.other", "to": "other", "from": "items", "each": {"fields": item}}
    mapper = compile_mapper(
        rules(ID_RULE, first, second),
        source=schema_from(tmp_path, SOURCE, "source.json"),
        target=schema_from(tmp_path, target, "target.json"),
        tables=TABLES,
        failure=failure,
        file=FILE,
    )
    got = mapper({"Id": "1", "items": [{"code": "A"}, {"code": "B"}]}, Trace())
    assert got == {"id": "1", "list": [{"code": "A"}], "other": [{"code": "A"}, {"code": "B"}]}
    assert mapper.provenance["other[].code"] == mapper.provenance["list[].code"] == "r.item.code"


@pytest.mark.parametrize(
    ("condition", "document", "expected"),
    [
        pytest.param({"from": "Flag", "equals": True}, {"Flag": True}, True, id="equals-true"),
        pytest.param({"from": "Flag", "equals": True}, {"Flag": False}, False, id="equals-false"),
        pytest.param({"from": "Flag", "equals": True}, {}, False, id="absent-is-not-equal"),
        pytest.param({"from": "Flag", "in": [1, 2]}, {"Flag": 2}, True, id="in"),
        pytest.param(
            {"from": "Id", "transform": {"table": {"name": "codes", "column": "legacy"}}, "equals": "beta"},
            {"Id": "B"},
            True,
            id="through-a-table",
        ),
    ],
)
def test_compile_condition(tmp_path: Path, condition: dict[str, Any], document: Any, expected: bool) -> None:
    check = compile_condition(
        Condition.model_validate(condition),
        source=schema_from(tmp_path, PICK_SOURCE, "source.json"),
        tables=TABLES,
        failure=failure,
        file=FILE,
        rule="after[0]",
    )
    assert check(document, Trace()) is expected


def test_compile_condition_refuses_unknown_fields(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"rule 'after\[0\]': from: source\.json has no field 'Blok'"):
        compile_condition(
            Condition.model_validate({"from": "Blok", "equals": True}),
            source=schema_from(tmp_path, PICK_SOURCE, "source.json"),
            tables=TABLES,
            failure=failure,
            file=FILE,
            rule="after[0]",
        )
