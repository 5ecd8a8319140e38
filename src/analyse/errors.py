"""Exception types: one per kind of failure, with messages an epidemiologist can act on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class AnalyseError(Exception):
    """Base class for errors raised deliberately by analyse."""


class ParameterError(AnalyseError, ValueError):
    """A function or command was called with an argument it cannot use.

    Examples: an unknown area code, a column name that is not in the data, an invalid
    confidence level.
    """


class DataValidationError(AnalyseError, ValueError):
    """Input data break a rule (missing column, unknown code, bad weight, broken file ...).

    The message names the file, the column, the rule, how many rows break it and a few example
    row numbers, so the problem can be found in the raw delivery without reading code.
    """

    def __init__(
        self,
        rule: str,
        *,
        file: str | None = None,
        column: str | None = None,
        rows: Sequence[int] | None = None,
        count: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.rule = rule
        self.file = file
        self.column = column
        self.rows = list(rows) if rows is not None else []
        self.count = count if count is not None else (len(self.rows) if rows is not None else None)
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.file:
            parts.append(f"file {self.file!s}")
        if self.column:
            parts.append(f"column {self.column!r}")
        where = ", ".join(parts)
        text = f"{where}: {self.rule}" if where else self.rule
        if self.count:
            text += f" ({self.count} row{'s' if self.count != 1 else ''}"
            if self.rows:
                text += "; e.g. row " + ", ".join(str(r) for r in example_rows(self.rows))
            text += ")"
        if self.hint:
            text += f". {self.hint}"
        return text


def example_rows(rows: Iterable[int], limit: int = 5) -> list[int]:
    """Return up to ``limit`` row numbers to quote in an error message."""
    out = []
    for row in rows:
        out.append(int(row))
        if len(out) == limit:
            break
    return out


class Interrupted(KeyboardInterrupt):
    """A run was stopped by a signal (SIGINT: Ctrl-C, or SIGTERM); what finished was recorded.

    A ``KeyboardInterrupt`` so that code catching ``Exception`` does not swallow it.
    ``exit_code`` is the shell's convention, 128 + the signal number (130, 143).
    """

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        self.signal_name = signal.Signals(self.signum).name
        super().__init__(self.signal_name)
