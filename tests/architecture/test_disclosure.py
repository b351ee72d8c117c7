"""Keys leave the server through one module: `quizsite.disclosure`. No other module of the site
derives a theory key, reads a variant's answer or worked steps, or makes a variant public."""

import re
from pathlib import Path

import pytest

QUIZSITE = Path(__file__).resolve().parents[2] / "quizsite"
KEY_READS = re.compile(
    r"\b(theory_key|right_choices|key_answers|worked_solution|attention_maps|item_key)\("
    r"|variant(\.data)?\[\"(answer|steps|misconceptions)\"\]|\bengine\.public\("
)
# Modules that only import the names from disclosure to call them where a visibility allows.
CALLERS = {"quiz_presenters.py", "course_presenters.py", "serializers.py"}


def _key_reads(path: Path) -> list[str]:
    hits = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        code = line.split("#", 1)[0]
        if KEY_READS.search(code) and not code.lstrip().startswith(("from .disclosure", "from quizsite.disclosure")):
            hits.append(f"{path.name}:{number}: {line.strip()}")
    return hits


@pytest.mark.parametrize(
    "path", sorted(p for p in QUIZSITE.rglob("*.py") if p.name != "disclosure.py"), ids=lambda p: p.name
)
def test_no_module_but_disclosure_reads_a_key(path):
    hits = _key_reads(path)
    if path.name in CALLERS:  # they may name a disclosure function, never touch a key themselves
        hits = [h for h in hits if re.search(r"variant|engine\.public\(|theory_key\(|right_choices|key_answers", h)]
    assert hits == []


def test_the_scan_finds_a_key_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('key = item.variant.data["answer"]\n')
    assert _key_reads(sample)
