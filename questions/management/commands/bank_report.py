"""python manage.py bank_report [PATH] [--json]: what the theory bank holds, read from its files.

Prints the questions per topic, per type and per difficulty, the works the questions cite (how
many questions cite each), and which numeric answers are figures of the engine: every
``engine:`` entry of the bank, the ``attention_engine.counting`` function and arguments that
compute it, the value it gives and whether that matches the answer, plus the numeric keys that
no engine figure backs. Nothing is written to the database.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from attention_engine import counting
from questions.catalogue.schema import BankValidationError, load_valid_bank

DEFAULT_BANK = Path(__file__).resolve().parents[2] / "bank"

# "Vaswani et al. (2017), Attention Is All You Need, §3.2" -> "Vaswani et al. (2017)"
_AUTHOR_YEAR = re.compile(r"^(.*?\(\d{4}\))")


def cited_works(source: str) -> list[str]:
    """The works one ``source`` string cites, each once: author (year), or the first two fields."""
    works: list[str] = []
    for part in source.split(";"):
        part = " ".join(part.split())
        if not part:
            continue
        match = _AUTHOR_YEAR.match(part)
        if match and "§" not in match.group(1) and len(match.group(1)) <= 80:
            work = match.group(1)
        else:
            work = ", ".join(field.strip() for field in part.split(",")[:2])
            work = re.sub(r"\s*\(.*$", "", work)  # "GPT2Config (n_embd=768)" -> "GPT2Config"
        if work not in works:
            works.append(work)
    return works


def engine_value(engine: dict[str, Any]) -> int:
    """``counting.<function>(**args)``, reduced to one number by ``field`` (as FORMAT.md says)."""
    result = getattr(counting, engine["function"])(**engine["args"])
    field = engine.get("field")
    if field is None:
        return int(result)
    if field == "total":
        return result.total
    return result.breakdown[field.removeprefix("breakdown.")]


def engine_figures(question: dict, topic: str) -> list[dict[str, Any]]:
    """One row per ``engine:`` entry of a numeric question (on the question or on one answer)."""
    rows = []
    entries = []
    if "engine" in question:
        best = next(a for a in question["answers"] if a["weight"] == 100)
        entries.append(("key", best, question["engine"]))
    entries += [("answer", a, a["engine"]) for a in question["answers"] if "engine" in a]
    for role, answer, engine in entries:
        try:
            computed: int | None = engine_value(engine)
            error = None
        except Exception as exc:  # a broken entry is reported, not fatal
            computed, error = None, f"{type(exc).__name__}: {exc}"
        rows.append({
            "slug": question["slug"],
            "topic": topic,
            "role": role if role == "key" else ("key" if answer["weight"] == 100 else "wrong answer"),
            "value": answer["value"],
            "weight": answer["weight"],
            "function": engine["function"],
            "args": dict(engine["args"]),
            "field": engine.get("field"),
            "engine_value": computed,
            "reproduced": computed is not None and computed == answer["value"],
            **({"error": error} if error else {}),
        })
    return rows


def bank_report(path: Path) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    docs = load_valid_bank(path)
    questions = [(doc.topic["slug"], q) for doc in docs for q in doc.questions]
    works: Counter[str] = Counter()
    for _, q in questions:
        works.update(cited_works(q["source"]))
    figures = [row for topic, q in questions if q["type"] == "numeric" for row in engine_figures(q, topic)]
    backed = {row["slug"] for row in figures if row["role"] == "key"}
    return {
        "bank": str(path),
        "questions": len(questions),
        "topics": [
            {"slug": doc.topic["slug"], "title": doc.topic["title"], "questions": len(doc.questions)}
            for doc in docs
        ],
        "types": dict(sorted(Counter(q["type"] for _, q in questions).items())),
        "difficulties": {level: sum(q["difficulty"] == level for _, q in questions)
                         for level in ("easy", "medium", "hard")},
        "sources": [{"work": work, "questions": n}
                    for work, n in sorted(works.items(), key=lambda item: (-item[1], item[0]))],
        "engine_figures": figures,
        "numeric_keys_without_engine": [q["slug"] for _, q in questions
                                        if q["type"] == "numeric" and q["slug"] not in backed],
    }


def _call(row: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in row["args"].items())
    field = f".{row['field']}" if row["field"] else ""
    return f"{row['function']}({args}){field}"


def render_text(report: dict[str, Any]) -> str:
    lines = [f"{report['questions']} questions in {len(report['topics'])} topics ({report['bank']})", "",
             "Questions per topic:"]
    width = max(len(t["slug"]) for t in report["topics"])
    lines += [f"  {t['slug']:<{width}}  {t['questions']:>4}  {t['title']}" for t in report["topics"]]
    lines += ["", "Questions per type:"]
    lines += [f"  {kind:<18} {n:>4}" for kind, n in report["types"].items()]
    lines += ["", "Questions per difficulty:"]
    lines += [f"  {level:<18} {n:>4}" for level, n in report["difficulties"].items()]
    lines += ["", f"Sources cited ({len(report['sources'])} works; questions citing each):"]
    lines += [f"  {s['questions']:>4}  {s['work']}" for s in report["sources"]]
    figures = report["engine_figures"]
    ok = sum(row["reproduced"] for row in figures)
    lines += ["", f"Engine figures behind numeric answers ({ok} of {len(figures)} reproduced):"]
    for row in figures:
        mark = "ok" if row["reproduced"] else f"MISMATCH (engine gives {row['engine_value']})"
        lines.append(f"  {row['slug']} [{row['role']}] {row['value']} = {_call(row)}  {mark}")
    without = report["numeric_keys_without_engine"]
    lines += ["", f"Numeric keys no engine figure backs ({len(without)}):"]
    lines += [f"  {slug}" for slug in without]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Report what the theory bank holds: topics, types, sources, and the engine figures behind numeric keys."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_BANK), help="bank folder")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, path: str, json: bool = False, **options):
        try:
            report = bank_report(Path(path))
        except BankValidationError as exc:
            raise CommandError(f"The bank has errors:\n{exc}") from exc
        except FileNotFoundError as exc:
            raise CommandError(f"No bank at {path}: {exc}") from exc
        if json:
            self.stdout.write(_dumps(report))
        else:
            self.stdout.write(render_text(report))


def _dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)
