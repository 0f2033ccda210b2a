"""Message templates are Jinja2, checked before they are saved and sandboxed when they run.

Hosts write templates, and on a shared deployment a host is not trusted with the process.
So a template is first read as a syntax tree and refused, with its line and the reason,
unless every part of it is on an allow-list; it is never compiled or run before that:

* only output, ``if``, ``for`` and ``filter`` blocks; no ``set``, macros, ``include``,
  ``import``, ``extends`` or ``autoescape`` (HTML stays escaped);
* no calls at all, so no method of any object can run; filters from a short list, whose
  results are capped in size;
* only known variables, and only their documented attributes; no name starting with ``_``;
  constant indexes only, so no attribute name can be built from pieces;
* loops only over the documented lists, at most two deep; arithmetic only ``+`` and ``-``.

What passes then runs in Jinja's ``ImmutableSandboxedEnvironment`` with no globals, strict
undefined variables and a cap on the output: a second wall, not the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

__all__ = [
    "LOOP",
    "NUMBER",
    "TEXT",
    "Group",
    "Kind",
    "ListOf",
    "TemplateProblem",
    "TemplateRenderError",
    "check_source",
    "render_source",
    "sandbox",
]

MAX_SOURCE = 10_000
MAX_VALUE = 10_000
MAX_OUTPUT = 100_000
MAX_LOOP_DEPTH = 2
MAX_ARITHMETIC = 50


class Kind:
    """What a template expression is known to be, so attributes can be checked statically."""

    def describe(self) -> str:
        """How a problem message names this kind of value."""
        return "a value"


@dataclass(frozen=True, eq=False)
class Scalar(Kind):
    """Text or a number: printable, no attributes."""

    name: str

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Group(Kind):
    """A set of named values such as ``guest``; printable only if it has a text form."""

    fields: Mapping[str, Kind]
    printable: bool = False

    def describe(self) -> str:
        return "a group of values (" + ", ".join(sorted(self.fields)) + ")"


@dataclass(frozen=True, eq=False)
class ListOf(Kind):
    """A list to loop over, whose items are ``item``."""

    item: Kind

    def describe(self) -> str:
        return "a list"


class Unknown(Kind):
    """A value whose shape cannot be told before running (a filter's result, say)."""


TEXT = Scalar("text")
NUMBER = Scalar("a number")
UNKNOWN = Unknown()
LOOP = Group(
    dict.fromkeys(("index", "index0", "revindex", "revindex0", "length", "first", "last"), NUMBER)
)


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """Why a template part is refused, and where (line numbers start at 1)."""

    part: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.part}, line {self.line}" if self.line else self.part
        return f"{where}: {self.reason}"


class TemplateRenderError(Exception):
    """A checked template still failed while rendering; the reason carries no value."""


REFUSED_TAGS: dict[type[nodes.Node], str] = {
    nodes.Call: "calling functions or methods is not allowed",
    nodes.Include: "{% include %} is not allowed: a message template stands alone",
    nodes.Import: "{% import %} is not allowed: a message template stands alone",
    nodes.FromImport: "{% from ... import %} is not allowed: a message template stands alone",
    nodes.Extends: "{% extends %} is not allowed: a message template stands alone",
    nodes.Block: "{% block %} is not allowed: a message template stands alone",
    nodes.Macro: "macros are not allowed",
    nodes.CallBlock: "{% call %} is not allowed",
    nodes.Assign: "{% set %} is not allowed",
    nodes.AssignBlock: "{% set %} is not allowed",
    nodes.With: "{% with %} is not allowed",
    nodes.Scope: "{% autoescape %} is not allowed: escaping stays on",
    nodes.ScopedEvalContextModifier: "{% autoescape %} is not allowed: escaping stays on",
    nodes.EvalContextModifier: "{% autoescape %} is not allowed: escaping stays on",
    nodes.Mul: "only + and - are allowed as arithmetic",
    nodes.Div: "only + and - are allowed as arithmetic",
    nodes.FloorDiv: "only + and - are allowed as arithmetic",
    nodes.Mod: "only + and - are allowed as arithmetic",
    nodes.Pow: "only + and - are allowed as arithmetic",
}

# Filters that keep a list a list, and those that pick one item out of it.
LIST_FILTERS = frozenset({"list", "sort", "reverse", "unique"})
ITEM_FILTERS = frozenset({"first", "last"})
ALLOWED_FILTERS = frozenset(
    {
        "capitalize",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "int",
        "join",
        "length",
        "lower",
        "round",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "upper",
        "urlencode",
        "wordwrap",
        *LIST_FILTERS,
        *ITEM_FILTERS,
    }
)
ALLOWED_TESTS = frozenset(
    {
        "defined",
        "undefined",
        "none",
        "number",
        "string",
        "even",
        "odd",
        "divisibleby",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "equalto",
        "in",
    }
)


@cache
def sandbox(*, html: bool) -> ImmutableSandboxedEnvironment:
    """The environment templates run in: no globals, allowed filters only, strict undefined.

    One per kind (HTML escapes, text does not), shared: rendering never changes it.
    """
    environment = ImmutableSandboxedEnvironment(
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_blank_for_none,
    )
    environment.globals.clear()
    environment.filters = {
        name: _capped(function)
        for name, function in environment.filters.items()
        if name in ALLOWED_FILTERS
    }
    environment.tests = {
        name: test for name, test in environment.tests.items() if name in ALLOWED_TESTS
    }
    return environment


def check_source(
    source: str,
    part: str,
    variables: Mapping[str, Kind],
    environment: ImmutableSandboxedEnvironment,
    first_line: int = 1,
) -> list[TemplateProblem]:
    """Every reason to refuse ``source``; an empty list means it may be saved and rendered."""
    if len(source) > MAX_SOURCE:
        return [TemplateProblem(part, None, f"longer than {MAX_SOURCE:,} characters")]
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as err:
        return [TemplateProblem(part, _line(err.lineno, first_line), err.message or "syntax")]
    checker = _Checker(part, variables, first_line)
    checker.statements(tree.body, {}, 0)
    if not checker.problems:
        try:
            environment.compile(source)  # code generation only; nothing of it runs
        except TemplateError as err:
            line = getattr(err, "lineno", None)
            checker.problems.append(TemplateProblem(part, _line(line, first_line), str(err)))
    return checker.problems


def render_source(
    source: str, environment: ImmutableSandboxedEnvironment, context: Mapping[str, Any]
) -> str:
    """Run a checked template in the sandbox; the output is capped at 100,000 characters."""
    try:
        template = environment.from_string(source)
        return _joined(template.generate(dict(context)))
    except TemplateRenderError:
        raise
    except SecurityError as err:
        raise TemplateRenderError(f"refused by the sandbox: {err}") from err
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as err:
        raise TemplateRenderError(f"{type(err).__name__}: {err}") from err


def _joined(chunks: Iterator[str]) -> str:
    size, kept = 0, []
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateRenderError(f"the output is longer than {MAX_OUTPUT:,} characters")
        kept.append(chunk)
    return "".join(kept)


def _blank_for_none(value: Any) -> Any:
    return "" if value is None else value


def _capped(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose result may not grow past ``MAX_VALUE`` (no filter chain can explode)."""

    def capped(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if isinstance(result, str | Markup | list | tuple) and len(result) > MAX_VALUE:
            raise TemplateRenderError(f"a filter produced more than {MAX_VALUE:,} characters")
        return result

    for marker in ("jinja_pass_arg",):
        if hasattr(function, marker):
            setattr(capped, marker, getattr(function, marker))
    return capped


def _line(line: int | None, first_line: int) -> int | None:
    return None if line is None else line + first_line - 1


@dataclass
class _Checker:
    """Walks a template's syntax tree and notes every construct not on the allow-lists."""

    part: str
    variables: Mapping[str, Kind]
    first_line: int
    problems: list[TemplateProblem] = field(default_factory=list)
    arithmetic: int = 0

    def refuse(self, node: nodes.Node, reason: str) -> Kind:
        line = _line(_line_of(node), self.first_line)
        problem = TemplateProblem(self.part, line, reason)
        if problem not in self.problems:
            self.problems.append(problem)
        return UNKNOWN

    def statements(self, body: list[nodes.Node], scope: dict[str, Kind], depth: int) -> None:
        for node in body:
            self.statement(node, scope, depth)

    def statement(self, node: nodes.Node, scope: dict[str, Kind], depth: int) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                self.printed(child, scope)
        elif isinstance(node, nodes.If):
            self.expression(node.test, scope)
            self.statements(node.body, scope, depth)
            self.statements(list(node.elif_), scope, depth)
            self.statements(node.else_, scope, depth)
        elif isinstance(node, nodes.For):
            self.loop(node, scope, depth)
        elif isinstance(node, nodes.FilterBlock):
            self.filter(node.filter, scope)
            self.statements(node.body, scope, depth)
        else:
            self.refuse(node, REFUSED_TAGS.get(type(node), f"{_tag(node)} is not allowed"))

    def printed(self, node: nodes.Node, scope: dict[str, Kind]) -> None:
        if isinstance(node, nodes.TemplateData):
            return
        kind = self.expression(node, scope)
        if isinstance(kind, Group) and not kind.printable:
            self.refuse(node, f"{_path(node)} is {kind.describe()}: print one of them")

    def loop(self, node: nodes.For, scope: dict[str, Kind], depth: int) -> None:
        if depth >= MAX_LOOP_DEPTH:
            self.refuse(node, f"loops may be nested at most {MAX_LOOP_DEPTH} deep")
        if node.recursive:
            self.refuse(node, "recursive loops are not allowed")
        iterated = self.expression(node.iter, scope)
        if not isinstance(iterated, ListOf):
            self.refuse(node, f"{_path(node.iter)} is not a list: loops go over lists only")
        if not isinstance(node.target, nodes.Name):
            self.refuse(node, "loop over one name at a time, as in {% for item in list %}")
            return
        item = iterated.item if isinstance(iterated, ListOf) else UNKNOWN
        inner = {**scope, node.target.name: item, "loop": LOOP}
        if node.test is not None:
            self.expression(node.test, inner)
        self.statements(node.body, inner, depth + 1)
        self.statements(node.else_, scope, depth)

    def expression(self, node: nodes.Node, scope: dict[str, Kind]) -> Kind:
        if isinstance(node, nodes.Const):
            return NUMBER if isinstance(node.value, int | float) else TEXT
        if isinstance(node, nodes.TemplateData):
            return TEXT
        if isinstance(node, nodes.Name):
            return self.name(node, scope)
        if isinstance(node, nodes.Getattr):
            return self.attribute(node, self.expression(node.node, scope), node.attr)
        if isinstance(node, nodes.Getitem):
            return self.item(node, scope)
        if isinstance(node, nodes.Filter):
            return self.filter(node, scope)
        if isinstance(node, nodes.Test):
            return self.test(node, scope)
        if isinstance(node, nodes.Add | nodes.Sub):
            return self.arithmetic_of(node, scope)
        if isinstance(node, nodes.Concat):
            for child in node.nodes:
                self.expression(child, scope)
            return TEXT
        if isinstance(node, nodes.Compare):
            self.expression(node.expr, scope)
            for operand in node.ops:
                self.expression(operand.expr, scope)
            return UNKNOWN
        if isinstance(node, nodes.And | nodes.Or):
            self.expression(node.left, scope)
            self.expression(node.right, scope)
            return UNKNOWN
        if isinstance(node, nodes.Not | nodes.Neg | nodes.Pos):
            self.expression(node.node, scope)
            return UNKNOWN
        if isinstance(node, nodes.CondExpr):
            for branch in (node.test, node.expr1, node.expr2):
                if branch is not None:
                    self.expression(branch, scope)
            return UNKNOWN
        if isinstance(node, nodes.List | nodes.Tuple):
            for child in node.items:
                self.expression(child, scope)
            return UNKNOWN
        return self.refuse(node, REFUSED_TAGS.get(type(node), f"{_tag(node)} is not allowed"))

    def name(self, node: nodes.Name, scope: dict[str, Kind]) -> Kind:
        if node.name in scope:
            return scope[node.name]
        if node.name in self.variables:
            return self.variables[node.name]
        known = ", ".join(sorted(self.variables))
        return self.refuse(node, f"unknown variable {node.name!r} (known: {known})")

    def attribute(self, node: nodes.Node, base: Kind, name: str) -> Kind:
        path = f"{_path(node)}"
        if name.startswith("_"):
            return self.refuse(node, f"{path}: names starting with '_' are not reachable")
        if isinstance(base, Group):
            if name in base.fields:
                return base.fields[name]
            known = ", ".join(sorted(base.fields))
            return self.refuse(node, f"unknown variable {path} (known: {known})")
        if isinstance(base, Unknown):
            return UNKNOWN
        return self.refuse(node, f"{path}: {base.describe()} has no attribute {name!r}")

    def item(self, node: nodes.Getitem, scope: dict[str, Kind]) -> Kind:
        base = self.expression(node.node, scope)
        key = node.arg
        if isinstance(key, nodes.Const) and isinstance(key.value, str):
            return self.attribute(node, base, key.value)
        if isinstance(key, nodes.Const) and isinstance(key.value, int):
            return base.item if isinstance(base, ListOf) else UNKNOWN
        if isinstance(key, nodes.Slice):
            for bound in (key.start, key.stop, key.step):
                if bound is not None and not isinstance(bound, nodes.Const):
                    self.refuse(node, "slices take constant bounds only")
            return base
        return self.refuse(node, "indexes must be constants, as in all_access_codes[0]")

    def filter(self, node: nodes.Filter, scope: dict[str, Kind]) -> Kind:
        if node.name not in ALLOWED_FILTERS:
            allowed = ", ".join(sorted(ALLOWED_FILTERS))
            self.refuse(node, f"the filter {node.name!r} is not allowed (allowed: {allowed})")
        base = self.expression(node.node, scope) if node.node is not None else TEXT
        self.arguments(node, scope)
        if isinstance(base, ListOf) and node.name in LIST_FILTERS:
            return base
        if isinstance(base, ListOf) and node.name in ITEM_FILTERS:
            return base.item
        if node.name in ("length", "count", "int", "round"):
            return NUMBER
        return TEXT if node.name not in ("default", "d") else UNKNOWN

    def test(self, node: nodes.Test, scope: dict[str, Kind]) -> Kind:
        if node.name not in ALLOWED_TESTS:
            self.refuse(node, f"the test {node.name!r} is not allowed")
        self.expression(node.node, scope)
        self.arguments(node, scope)
        return UNKNOWN

    def arguments(self, node: nodes.Filter | nodes.Test, scope: dict[str, Kind]) -> None:
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            self.refuse(node, "*args and **kwargs are not allowed")
        for argument in node.args:
            self.expression(argument, scope)
        for keyword in node.kwargs:
            value = keyword.value
            if keyword.key == "attribute" and not _plain_attribute(value):
                self.refuse(node, "attribute= takes a constant name not starting with '_'")
            else:
                self.expression(value, scope)

    def arithmetic_of(self, node: nodes.Add | nodes.Sub, scope: dict[str, Kind]) -> Kind:
        self.arithmetic += 1
        if self.arithmetic > MAX_ARITHMETIC:
            self.refuse(node, f"more than {MAX_ARITHMETIC} additions in one template")
        self.expression(node.left, scope)
        self.expression(node.right, scope)
        return UNKNOWN


def _line_of(node: nodes.Node) -> int | None:
    """The node's line, or its first child's (a ``Scope`` has none of its own)."""
    line: int | None = getattr(node, "lineno", None)
    if line is None:
        for child in node.iter_child_nodes():
            line = _line_of(child)
            if line is not None:
                break
    return line


def _plain_attribute(node: nodes.Node) -> bool:
    if not isinstance(node, nodes.Const) or not isinstance(node.value, str):
        return False
    return all(part and not part.startswith("_") for part in node.value.split("."))


def _path(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{_path(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        value = node.arg.value
        suffix = f".{value}" if isinstance(value, str) else f"[{value!r}]"
        return f"{_path(node.node)}{suffix}"
    if isinstance(node, nodes.Filter):
        return f"{_path(node.node) if node.node is not None else ''}|{node.name}"
    return "this expression"


def _tag(node: nodes.Node) -> str:
    return f"'{type(node).__name__}'"
