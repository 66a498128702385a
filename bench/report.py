"""Percentiles, the table of figures and the check of each target."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

MET = "met"
MISSED = "MISSED"
NO_TARGET = ""


def percentile(samples: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `samples`, e.g. fraction 0.99 for p99."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Row:
    measurement: str
    figure: str
    target: str = ""
    verdict: str = NO_TARGET


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, measurement: str, figure: str, target: str = "", met: bool | None = None) -> None:
        verdict = NO_TARGET
        if met is not None:
            verdict = MET if met else MISSED
        self.rows.append(Row(measurement, figure, target, verdict))

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def missed(self) -> list[Row]:
        return [row for row in self.rows if row.verdict == MISSED]

    def render(self) -> str:
        """Render the rows as a Markdown table, readable in a terminal and pasteable into docs."""
        header = ("measurement", "figure", "target", "verdict")
        cells = [header] + [(row.measurement, row.figure, row.target, row.verdict) for row in self.rows]
        widths = [max(len(row[column]) for row in cells) for column in range(len(header))]

        def line(values: tuple[str, ...]) -> str:
            return "| " + " | ".join(value.ljust(width) for value, width in zip(values, widths)) + " |"

        lines = [self.title, "", line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|"]
        lines += [line(row) for row in cells[1:]]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
