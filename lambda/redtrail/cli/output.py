"""What the commands print: tables and text for people, JSON and JSON lines for programs, ``--query`` on the JSON.

On a terminal a table is fitted to its width by rich (long cells folded); elsewhere it keeps a plain aligned
layout that scripts can read. Every cell is escaped before either sees it. Rendering is pure; ``emit`` prints.
"""

import io
import json
import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

# The output formats (``--output``, or ``--format``): each command takes some of them.
TABLE, TEXT, JSON, JSONL = "table", "text", "json", "jsonl"
INTERNAL_ATTRIBUTES = frozenset({"timeBucket", "writeBucket", "rejectedMonth", "eventEncoding", "eventSha256"})
REJECTED_COLUMNS = ("ingestedAt", "eventID", "rejectReason", "sourceObject")
COLUMNS = (
    "eventTime",
    "eventName",
    "eventSource",
    "principal",
    "actor",
    "resource",
    "severity",
    "matchedBy",
    "isWrite",
    "error",
    "awsRegion",
    "provenance",
)
# Columns named otherwise than the attribute they show.
_COLUMN_ATTRIBUTES = {"error": "errorCode"}
# On a terminal: cells this long or shorter keep their line; longer ones fold, to no narrower than the floor.
_UNFOLDED = 24
_FOLDED_FLOOR = 16
_GAP = 2  # spaces between columns
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def plain(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A low-level DynamoDB item as plain JSON values, without the index-only attributes.

    A large event stored compressed (``eventGzip``) comes back as its ``event`` text.
    """
    row = {name: _value(value) for name, value in item.items() if name not in INTERNAL_ATTRIBUTES}
    if row.pop("eventGzip", None) is not None:
        from redtrail.core.items import event_text  # only for the rare large event: the CLI starts without it

        row["event"] = event_text(item)
    return row


def _value(value: Mapping[str, Any]) -> Any:
    (kind, raw), *_ = value.items()
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "NULL":
        return None
    if kind == "L":
        return [_value(element) for element in raw]
    if kind == "M":
        return plain(raw)
    return raw


def escape(text: str) -> str:
    """``text`` with control and bidi characters shown as escapes, so it cannot steer a terminal."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def noun_for(count: int, singular: str, plural_form: str | None = None) -> str:
    """``singular`` for a count of one, else its plural (``singular`` + s unless given)."""
    return singular if count == 1 else plural_form or f"{singular}s"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 event``, ``2 events``, ``0 events``."""
    return f"{count} {noun_for(count, singular, plural_form)}"


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of escaped cells under their columns, and a closing line (``(3 events)``)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: str = ""
    header: bool = True

    def plain(self) -> str:
        """Aligned columns, two spaces apart, whatever their width: the layout scripts and tests read."""
        lines = ([self.columns] if self.header else []) + list(self.rows)
        widths = [self._natural(i) for i in range(len(self.columns))]
        text = [(" " * _GAP).join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines]
        return "\n".join([*text, *([self.footer] if self.footer else [])])

    def fitted(self, width: int) -> str:
        """The table at most ``width`` columns wide (rich): long cells folded onto more lines, nothing cut. When
        its columns cannot fit side by side, each row is a block of ``column  value`` lines instead."""
        floors = [_floor(self._natural(i)) for i in range(len(self.columns))]
        if sum(floors) + _GAP * (len(floors) - 1) <= width:
            text = self._rich(width, floors)
        else:
            pairs = (tuple(zip(self.columns, row, strict=True)) for row in self.rows)
            blocks = [Table(("column", "value"), rows, header=False) for rows in pairs]
            text = "\n\n".join(block._rich(width, [block._natural(0), _FOLDED_FLOOR]) for block in blocks)
        return "\n".join([text, *([self.footer] if self.footer else [])])

    def _natural(self, column: int) -> int:
        return max(len(line[column]) for line in ([self.columns] if self.header else []) + list(self.rows))

    def _rich(self, width: int, floors: Sequence[int]) -> str:
        from rich.console import Console
        from rich.table import Table as RichTable
        from rich.text import Text

        # Text is never read as markup, and the console neither highlights nor styles: a "[bold]" in an event is
        # printed as it is, and rich writes no escape sequence of its own.
        table = RichTable(box=None, show_header=self.header, pad_edge=False, padding=(0, _GAP // 2))
        for column, floor in zip(self.columns, floors, strict=True):
            table.add_column(Text(column), overflow="fold", min_width=floor)
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=width,
            color_system=None,
            markup=False,
            highlight=False,
            emoji=False,
            legacy_windows=False,
            force_terminal=False,
        )
        console.print(table)
        return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n"))


def _floor(natural: int) -> int:
    """The narrowest a column gets: a short one (a time, a name, a region) is never folded."""
    return natural if natural <= _UNFOLDED else _FOLDED_FLOOR


def event_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = COLUMNS, noun: str = "event"
) -> Table | str:
    """Rows as a table counted in ``noun`` (singular), or ``(no events)``."""
    if not rows:
        return f"(no {noun_for(0, noun)})"
    cells = tuple(tuple(_cell(row, column) for column in columns) for row in rows)
    return Table(tuple(columns), cells, f"({plural(len(rows), noun)})")


def render(rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[str] = COLUMNS, noun: str = "event") -> str:
    """Rows as a plain aligned table (counted in ``noun``, singular), one JSON array, or JSON lines (JSON escapes
    control characters)."""
    if fmt in (JSON, JSONL):
        return as_json(list(rows), fmt)
    table = event_table(rows, columns, noun)
    return table.plain() if isinstance(table, Table) else table


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(_COLUMN_ATTRIBUTES.get(column, column))
    if value is None:
        return "-"
    if column == "matchedBy" and row.get("redshiftServiceAccountRegion"):
        return escape(f"{value}({row['redshiftServiceAccountRegion']})")
    if isinstance(value, bool):
        return "write" if value else "read"
    return escape(str(value))


def as_json(document: Any, fmt: str = JSON, *, sort_keys: bool = True) -> str:
    """``document`` as indented JSON, or as JSON lines (one per element of a list; none for an empty one)."""
    if fmt == JSONL:
        elements = document if isinstance(document, list) else [document]
        return "\n".join(json.dumps(element, sort_keys=sort_keys) for element in elements)
    return json.dumps(document, indent=2, sort_keys=sort_keys)


def compile_query(expression: str) -> Any:
    """``--query``'s JMESPath expression, compiled; ValueError in one line when it is none."""
    import jmespath  # type: ignore[import-untyped]

    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as error:
        # jmespath's message draws a caret under the expression, on lines of their own
        words = [line.strip() for line in str(error).splitlines() if line.strip() not in ("", "^")]
        raise ValueError(f"{expression!r}: {' '.join(words)}") from None


def emit(
    document: Any,
    human: Callable[[], Table | str],
    fmt: str,
    query: Any = None,
    *,
    sort_keys: bool = True,
    stream: TextIO | None = None,
) -> None:
    """Print a command's output: its JSON ``document`` (``query``, a compiled ``--query``, picks from it first,
    then printed as JSON whatever the format but JSON lines), or what ``human`` renders for people."""
    out = stream or sys.stdout
    if query is not None:
        text = as_json(query.search(document), JSONL if fmt == JSONL else JSON, sort_keys=sort_keys)
    elif fmt in (JSON, JSONL):
        text = as_json(document, fmt, sort_keys=sort_keys)
    else:
        write(human(), out)
        return
    if text:  # JSON lines of nothing: no line at all
        print(text, file=out)


def write(rendered: Table | str, stream: TextIO | None = None) -> None:
    """A table fitted to the terminal it goes to; in the plain layout to a file or a pipe; text as it is."""
    out = stream or sys.stdout
    if isinstance(rendered, Table):
        rendered = rendered.fitted(shutil.get_terminal_size().columns) if _is_terminal(out) else rendered.plain()
    print(rendered, file=out)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
