"""``manage.py bank_report``: its counts are the loaded bank's, and every engine figure is named."""

import json
from collections import Counter
from io import StringIO

from django.core.management import call_command

from tests.bank.test_engine_keys import engine_checks


def run(*args) -> str:
    out = StringIO()
    call_command("bank_report", *args, stdout=out)
    return out.getvalue()


def test_json_counts_match_the_loaded_bank(bank_docs, bank_questions):
    report = json.loads(run("--json"))
    assert report["questions"] == len(bank_questions)
    assert [(t["slug"], t["questions"]) for t in report["topics"]] == \
        [(doc.topic["slug"], len(doc.questions)) for doc in bank_docs]
    assert report["types"] == dict(Counter(q["type"] for q in bank_questions))
    assert sum(report["difficulties"].values()) == len(bank_questions)


def test_sources_are_counted_per_question(bank_questions):
    report = json.loads(run("--json"))
    sources = {s["work"]: s["questions"] for s in report["sources"]}
    vaswani = sum("Vaswani et al. (2017)" in q["source"] for q in bank_questions)
    assert sources["Vaswani et al. (2017)"] == vaswani > 20
    assert sources["3Blue1Brown (2024)"] >= 10
    assert all(n >= 1 for n in sources.values())


def test_every_engine_entry_is_reported_and_reproduced(bank_questions):
    report = json.loads(run("--json"))
    figures = report["engine_figures"]
    assert len(figures) == len(engine_checks(bank_questions))
    assert all(row["reproduced"] for row in figures), [r for r in figures if not r["reproduced"]]
    by_slug = {(row["slug"], row["role"]): row for row in figures}
    gpt3 = by_slug[("pc-gpt3-attention-58b", "key")]
    assert gpt3["function"] == "gpt3_attention_only_params" and gpt3["value"] == 57_982_058_496
    assert gpt3["args"] == {"d_model": 12288, "heads": 96, "d_head": 128, "layers": 96}
    numeric = {q["slug"] for q in bank_questions if q["type"] == "numeric"}
    keyed = {row["slug"] for row in figures if row["role"] == "key"}
    assert set(report["numeric_keys_without_engine"]) == numeric - keyed
    assert "cm-attention-crossover" in report["numeric_keys_without_engine"]  # 12d: no engine counter


def test_text_report(bank_docs, bank_questions):
    text = run()
    assert text.startswith(f"{len(bank_questions)} questions in {len(bank_docs)} topics")
    assert "Questions per type:" in text and "Sources cited" in text
    assert "gpt3_attention_only_params(d_model=12288, heads=96, d_head=128, layers=96).total" in text
    assert "MISMATCH" not in text
