"""Turn a list of field rules into one pure function, checked against both schemas.

Compilation fails (``MappingError`` naming file, rule and reason) when a rule reads
a field the source contract does not have, writes a field the target contract does
not have, names an unknown transform, table or column, or when a field the target
contract requires has no rule. As in Cadwyn, a rule that applies to nothing is a
startup error, not a silent no-op.

The compiled ``Mapper`` is pure: it reads a source document, returns a new target
document, and notes unmapped codes in the ``Trace`` it is given. Compiled with
``check_reads`` (PDT's answers), each field it reads is checked against the source
contract as it is read (``proxy.mapping.reads``): the mapper is the only pass over
an upstream answer, and nothing it does not read can fail it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proxy.mapping.converters import with_converter
from proxy.mapping.paths import MISSING, compile_getter, compile_setter, format_path, parse_path
from proxy.mapping.reads import ReadRefused, compile_checked_getter
from proxy.mapping.schemas import CompiledSchema
from proxy.mapping.spec import Condition, EachSpec, FieldRule, OrderSpec, PickSpec, ValueSpec
from proxy.mapping.tables import CodeTable
from proxy.mapping.transforms import DROP, Trace, Transform, TransformError, compile_transform

__all__ = ["Mapper", "MapperFailure", "compile_condition", "compile_mapper", "compile_value"]


class MapperFailure(Exception):
    """A value broke a rule at run time; ``rule`` and ``field`` say which, never the value."""

    def __init__(self, rule: str, field: str, reason: str) -> None:
        super().__init__(f"rule {rule!r} ({field}): {reason}")
        self.rule = rule
        self.field = field
        self.reason = reason


Step = Callable[[Any, dict[str, Any], Trace], bool]
# Sort keys that mean "this item has no position": it goes after the ordered ones.
_NO_KEY = (MISSING, None, DROP)


@dataclass(frozen=True)
class Mapper:
    """A compiled rule list. ``provenance`` maps each target path to the rule that fills it."""

    steps: tuple[Step, ...]
    provenance: Mapping[str, str]

    def __call__(self, source: Any, trace: Trace) -> dict[str, Any]:
        target: dict[str, Any] = {}
        for step in self.steps:
            step(source, target, trace)
        return target


class _Compiler:
    def __init__(
        self,
        file: str,
        tables: Mapping[str, CodeTable],
        failure: Callable[[str, str], Exception],
        *,
        check_reads: bool = False,
    ):
        self.file = file
        self.tables = tables
        self.failure = failure
        self.check_reads = check_reads
        self.provenance: dict[str, str] = {}

    def fail(self, rule: str, reason: str) -> Exception:
        return self.failure(rule, reason)

    def transform(self, rule: str, spec: Any) -> Transform | None:
        try:
            return compile_transform(spec, self.tables)
        except ValueError as exc:
            raise self.fail(rule, str(exc)) from None

    def source_getter(
        self, rule: str, text: str, schema: CompiledSchema, base: tuple[Any, ...], *, whole: bool = True
    ) -> Callable[[Any], Any]:
        """The getter of ``text``; ``whole=False`` when the rule walks the value itself (each/pick)."""
        try:
            path = parse_path(text)
        except ValueError as exc:
            raise self.fail(rule, f"from: {exc}") from None
        if schema.resolve((*base, *path)) is None:
            where = format_path((*base, *path)) if base else text
            raise self.fail(rule, f"from: {schema.source} has no field {where!r}")
        if not self.check_reads:
            # A legacy request was validated whole by its gate before any rule reads it.
            return compile_getter(path)
        checked = compile_checked_getter(schema, base, path, check_value=whole)

        def get(item: Any) -> Any:
            try:
                return checked(item)
            except ReadRefused as refused:
                raise MapperFailure(rule, text, refused.reason) from None

        return get

    def value(self, rule: str, spec: ValueSpec, schema: CompiledSchema, base: tuple[Any, ...]) -> Transform:
        getter = self.source_getter(rule, spec.source, schema, base)
        transform = self.transform(rule, spec.transform)

        def evaluate(item: Any, trace: Trace) -> Any:
            value = getter(item)
            if value is MISSING or value is None or transform is None:
                return value
            try:
                return transform(value, trace)
            except TransformError:
                return MISSING

        return evaluate

    def rules(
        self,
        rules: Sequence[FieldRule],
        source: CompiledSchema,
        target: CompiledSchema,
        source_base: tuple[Any, ...],
        target_base: tuple[Any, ...],
        target_prefix: str,
    ) -> tuple[Step, ...]:
        steps: list[Step] = []
        seen_targets: set[str] = set()
        for rule in rules:
            try:
                to_path = parse_path(rule.to)
                setter = compile_setter(to_path)
            except ValueError as exc:
                raise self.fail(rule.id, f"to: {exc}") from None
            if target.resolve((*target_base, *to_path)) is None:
                raise self.fail(rule.id, f"to: {target.source} has no field {rule.to!r}")
            if rule.to in seen_targets:
                raise self.fail(rule.id, f"to: {rule.to!r} is already written by another rule")
            seen_targets.add(rule.to)
            self.provenance[target_prefix + rule.to] = rule.id
            steps.append(self.rule(rule, source, target, source_base, (*target_base, *to_path), setter))
        self.check_required(rules, target, target_base)
        return tuple(steps)

    def check_required(
        self, rules: Sequence[FieldRule], target: CompiledSchema, base: tuple[Any, ...]
    ) -> None:
        """Every object the rules write must get the fields its schema requires.

        Checked for the top level and for each nested object a dotted ``to``
        reaches (``phone.areaCode`` makes ``phone`` an object that must be whole).
        """
        written = [parse_path(rule.to) for rule in rules]
        whole = set(written)
        prefixes = {path[:depth] for path in written for depth in range(len(path))}
        for prefix in sorted(prefixes, key=len):
            if prefix in whole:
                # A rule writes this object whole (``pick``): its own fields were
                # checked when that rule compiled; other rules only add to it.
                continue
            node = target.resolve((*base, *prefix)) if (base or prefix) else target.schema
            if node is None:
                continue
            children = {
                path[len(prefix)]
                for path in written
                if path[: len(prefix)] == prefix and len(path) > len(prefix)
            }
            for branch in target.branches(node):
                for name in branch.get("required", ()):
                    if name not in children:
                        # The full path, list items as ``[]``: ``phone.'number'``, ``list[].'code'``.
                        full = (*base, *prefix)
                        where = format_path(full).replace("[0]", "[]") + "." if full else ""
                        raise self.fail(
                            "-", f"{target.source} requires {where}{name!r} but no rule writes it"
                        )

    def rule(
        self,
        rule: FieldRule,
        source: CompiledSchema,
        target: CompiledSchema,
        source_base: tuple[Any, ...],
        target_path: tuple[Any, ...],
        setter: Callable[[dict[str, Any], Any], None],
    ) -> Step:
        walks = rule.each is not None or rule.pick is not None
        getter = (
            self.source_getter(rule.id, rule.source, source, source_base, whole=not walks)
            if rule.source
            else None
        )
        # A registered converter (``convert:``) runs first, then the transform.
        transform = with_converter(rule.convert, self.transform(rule.id, rule.transform))
        build_list: Callable[[Any, Trace], Any] | None = None
        if rule.source is not None:
            item_base = (*source_base, *parse_path(rule.source), 0)
            if rule.each is not None:
                build_list = self.each(rule, rule.each, source, target, item_base, target_path)
            elif rule.pick is not None:
                build_list = self.pick(rule, rule.pick, source, target, item_base, target_path)
        rule_id, field_name, has_default, default = (
            rule.id,
            rule.source or rule.to,
            rule.has_default,
            rule.default,
        )
        required = rule.required
        guard = self.source_getter(rule.id, rule.when, source, source_base) if rule.when else None
        setter = _fast_setter(rule.to, setter)
        produce = _producer(getter, build_list, transform)

        def run(item: Any, output: dict[str, Any], trace: Trace) -> bool:
            if guard is not None and guard(item) in (MISSING, None):
                return True
            try:
                value = produce(item, trace)
            except TransformError as exc:
                raise MapperFailure(rule_id, field_name, str(exc)) from None
            if value is DROP:
                return False
            if value is MISSING:
                if required:
                    raise MapperFailure(rule_id, field_name, "required value is absent")
                if has_default:
                    setter(output, default)
                return True
            setter(output, value)
            return True

        return run

    def each(
        self,
        rule: FieldRule,
        spec: EachSpec,
        source: CompiledSchema,
        target: CompiledSchema,
        item_base: tuple[Any, ...],
        target_path: tuple[Any, ...],
    ) -> Callable[[Any, Trace], Any]:
        item_steps = self.rules(
            spec.fields, source, target, item_base, (*target_path, 0), f"{format_path(target_path)}[]."
        )
        keep = self.condition(rule.id, spec.where, source, item_base) if spec.where else None
        sort_key = self.value(rule.id, spec.order_by, source, item_base) if spec.order_by else None
        descending = isinstance(spec.order_by, OrderSpec) and spec.order_by.descending
        limit = spec.limit

        def build(value: Any, trace: Trace) -> Any:
            if not isinstance(value, list):
                raise TransformError("expected a list")
            selected = value if keep is None else [item for item in value if keep(item, trace)]
            if sort_key is not None:
                # Stable sort: ties keep the upstream's order. Items without a key go last.
                keyed = [(sort_key(item, trace), item) for item in selected]
                present = [pair for pair in keyed if pair[0] not in _NO_KEY]
                absent = [pair[1] for pair in keyed if pair[0] in _NO_KEY]
                try:
                    present.sort(key=lambda pair: pair[0], reverse=descending)
                except TypeError:
                    raise TransformError("order_by keys of different types cannot be compared") from None
                selected = [pair[1] for pair in present] + absent
            output: list[dict[str, Any]] = []
            for item in selected:
                mapped: dict[str, Any] = {}
                # A plain loop, not all(<generator>): same stop at the first False,
                # without a generator per item.
                for step in item_steps:
                    if not step(item, mapped, trace):
                        break
                else:
                    output.append(mapped)
                    if limit is not None and len(output) >= limit:
                        break
            return output

        return build

    def pick(
        self,
        rule: FieldRule,
        spec: PickSpec,
        source: CompiledSchema,
        target: CompiledSchema,
        item_base: tuple[Any, ...],
        target_path: tuple[Any, ...],
    ) -> Callable[[Any, Trace], Any]:
        item_steps = self.rules(
            spec.fields, source, target, item_base, target_path, f"{format_path(target_path)}."
        )
        prefer = self.condition(rule.id, spec.prefer, source, item_base) if spec.prefer else None

        def choose(value: Any, trace: Trace) -> Any:
            if not isinstance(value, list):
                raise TransformError("expected a list")
            if not value:
                return MISSING
            chosen = value[0]
            if prefer is not None:
                chosen = next((item for item in value if prefer(item, trace)), chosen)
            mapped: dict[str, Any] = {}
            if not all(step(chosen, mapped, trace) for step in item_steps):
                return MISSING
            return mapped if mapped else MISSING

        return choose

    def condition(
        self, rule: str, spec: Condition, schema: CompiledSchema, base: tuple[Any, ...]
    ) -> Callable[[Any, Trace], bool]:
        evaluate = self.value(rule, spec, schema, base)
        if spec.one_of is not None:
            allowed = tuple(spec.one_of)
            return lambda item, trace: evaluate(item, trace) in allowed
        expected = spec.equals
        return lambda item, trace: bool(evaluate(item, trace) == expected)


def _fast_setter(
    to: str, setter: Callable[[dict[str, Any], Any], None]
) -> Callable[[dict[str, Any], Any], None]:
    """For a top-level key (most rules), one store instead of a walk over parent objects."""
    to_path = parse_path(to)
    if len(to_path) != 1:
        return setter
    key = str(to_path[0])

    def set_key(target: dict[str, Any], value: Any) -> None:
        target[key] = value

    return set_key


def _producer(
    getter: Callable[[Any], Any] | None,
    build_list: Callable[[Any, Trace], Any] | None,
    transform: Transform | None,
) -> Callable[[Any, Trace], Any]:
    """The value a rule writes (or MISSING / DROP); raises TransformError."""
    if getter is None:
        # A rule without ``from`` is a constant: its transform runs on nothing.
        return (
            (lambda item, trace: transform(None, trace))
            if transform is not None
            else (lambda item, trace: MISSING)
        )

    def produce(item: Any, trace: Trace) -> Any:
        value = getter(item)
        if value is MISSING or value is None:
            return MISSING
        if build_list is not None:
            value = build_list(value, trace)
            if value is MISSING:
                return MISSING
        if transform is not None:
            value = transform(value, trace)
        return value

    return produce


def compile_mapper(
    rules: Sequence[FieldRule],
    *,
    source: CompiledSchema,
    target: CompiledSchema,
    tables: Mapping[str, CodeTable],
    failure: Callable[[str, str], Exception],
    file: str,
    check_reads: bool = False,
) -> Mapper:
    """Compile ``rules`` reading ``source``-shaped documents into ``target``-shaped ones.

    ``failure(rule_id, reason)`` builds the exception raised for a broken rule, so
    the caller decides how the file is named (see ``proxy.mapping.catalog``).
    ``check_reads`` for documents nothing validated before (an upstream's answers):
    a read that breaks ``source`` raises ``MapperFailure`` naming the rule and path.
    """
    compiler = _Compiler(file, tables, failure, check_reads=check_reads)
    # One id, one rule: the same rule reused through a YAML anchor is fine (FFR's
    # three report sections share their item rules), two different rules are not.
    by_id: dict[str, FieldRule] = {}
    for rule in _walk(rules):
        if by_id.setdefault(rule.id, rule) != rule:
            raise failure(rule.id, "rule id used more than once in the file")
    steps = compiler.rules(rules, source, target, (), (), "")
    return Mapper(steps, dict(compiler.provenance))


def _walk(rules: Sequence[FieldRule]) -> list[FieldRule]:
    found: list[FieldRule] = []
    for rule in rules:
        found.append(rule)
        for nested in (rule.each, rule.pick):
            if nested is not None:
                found.extend(_walk(nested.fields))
    return found


def compile_value(
    spec: ValueSpec,
    *,
    source: CompiledSchema,
    tables: Mapping[str, CodeTable],
    failure: Callable[[str, str], Exception],
    file: str,
    rule: str,
) -> Transform:
    """Compile a lone ``from`` + ``transform`` (e.g. an operation's channel selector)."""
    return _Compiler(file, tables, failure).value(rule, spec, source, ())


def compile_condition(
    spec: Condition,
    *,
    source: CompiledSchema,
    tables: Mapping[str, CodeTable],
    failure: Callable[[str, str], Exception],
    file: str,
    rule: str,
) -> Callable[[Any, Trace], bool]:
    """Compile a lone condition (``from`` + ``equals``/``in``) over ``source`` documents."""
    return _Compiler(file, tables, failure).condition(rule, spec, source, ())
