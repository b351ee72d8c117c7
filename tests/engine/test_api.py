"""The public API and CLI: contract shapes, errors, determinism, torch-free imports."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attention_engine import ENGINE_VERSION, api, registry
from attention_engine import code as code_kinds

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "ATTN_DEVICE": "cpu"}
    proc = subprocess.run([sys.executable, "-m", "attention_engine", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_engine_version_is_a_string():
    assert isinstance(ENGINE_VERSION, str) and ENGINE_VERSION.count(".") == 2


def test_light_imports_do_not_load_torch():
    code = (
        "import sys\n"
        "import attention_engine, attention_engine.api, attention_engine.parsing, attention_engine.registry\n"
        "from attention_engine import api\n"
        "kinds = api.list_kinds()\n"
        "assert kinds, 'no kinds'\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print(len(kinds))\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_grading_stored_variants_does_not_load_torch(tmp_path):
    # Every kind's grader works from the stored JSON alone, so grading never needs torch.
    stored = tmp_path / "variants.json"
    stored.write_text(json.dumps([api.generate(kind, 2) for kind in registry.registered_names()]))
    code = (
        "import json, sys\n"
        "from attention_engine import api\n"
        f"variants = json.loads(open({str(stored)!r}).read())\n"
        "for v in variants:\n"
        "    g = api.grade(v, v['answer'])\n"
        "    assert g['score'] == 1.0, (v['kind'], g)\n"
        "assert 'torch' not in sys.modules\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_list_kinds_shape():
    kinds = api.list_kinds()
    names = [k["name"] for k in kinds]
    assert "self_attention" in names and "code_attention_torch" in names
    for k in kinds:
        code = k["name"] in code_kinds.CODE_KINDS
        assert k["answer_type"] == ("code" if code else "numeric")
        assert set(k) == {"name", "title", "topics", "difficulties", "answer_type"} | ({"framework"} if code else set())
        assert k["difficulties"] == ["easy", "medium", "hard"]
        assert k["topics"] and all(isinstance(t, str) for t in k["topics"])


def test_every_registered_kind_is_installed():
    assert registry.available_names() == registry.registered_names()
    assert len(registry.registered_names()) >= 15


def test_unknown_kind_and_bad_difficulty():
    with pytest.raises(ValueError, match="unknown kind"):
        api.generate("no_such_kind", 1)
    with pytest.raises(ValueError, match="difficulty"):
        api.generate("self_attention", 1, "impossible")
    with pytest.raises(ValueError, match="seed"):
        api.generate("self_attention", -1)
    with pytest.raises(ValueError, match="unknown kind"):
        api.grade({"kind": "nope"}, {})


def test_determinism_and_seeds_differ():
    a = json.dumps(api.generate("self_attention", 11, "hard"), sort_keys=True)
    b = json.dumps(api.generate("self_attention", 11, "hard"), sort_keys=True)
    c = json.dumps(api.generate("self_attention", 12, "hard"), sort_keys=True)
    d = json.dumps(api.generate("self_attention", 11, "easy"), sort_keys=True)
    assert a == b
    assert a != c and a != d


def test_determinism_across_processes():
    # A fresh interpreter (fresh hash seed, fresh torch) gives the same bytes.
    code = ("import json; from attention_engine import api; "
            "print(json.dumps(api.generate('self_attention', 5, 'medium'), sort_keys=True))")
    out = run_python(code).stdout.strip()
    assert out == json.dumps(api.generate("self_attention", 5, "medium"), sort_keys=True)


def test_public_hides_the_key():
    v = api.generate("self_attention", 1)
    p = api.public(v)
    assert "answer" not in p and "steps" not in p and "verification" not in p
    assert p["parts"] == v["parts"] and p["prompt"] == v["prompt"]
    assert "answer" in v  # public does not mutate


def test_cli_kinds_and_generate():
    kinds = json.loads(run_cli("kinds", "--json").stdout)
    assert isinstance(kinds, list)
    assert "self_attention" in [k["name"] for k in kinds]
    assert set(kinds[0]) == {"name", "title", "topics", "difficulties", "answer_type"}
    assert {k["answer_type"] for k in kinds} == {"numeric", "code"}
    out = json.loads(run_cli("generate", "self_attention", "--seed", "1", "--json").stdout)
    assert out == api.generate("self_attention", 1)
    text = run_cli("generate", "self_attention", "--seed", "1").stdout
    assert "Answer boxes" in text


def test_cli_grade():
    v = api.generate("self_attention", 1, "easy")
    out = json.loads(run_cli("grade", "self_attention", "--seed", "1", "--difficulty", "easy",
                             "--answer", json.dumps(v["answer"]), "--json").stdout)
    assert out["score"] == 1.0
    assert {"score", "parts", "feedback", "misconception", "format_errors"} <= set(out)
    bad = json.loads(run_cli("grade", "self_attention", "--seed", "1", "--answer", '{"scores": "x"}', "--json").stdout)
    assert bad["score"] == 0.0 and bad["format_errors"]


def test_cli_errors_exit_nonzero():
    proc = run_cli("generate", "no_such_kind", "--seed", "1", "--json", check=False)
    assert proc.returncode == 2 and "unknown kind" in proc.stderr
    proc = run_cli("grade", "self_attention", "--seed", "1", "--answer", "{not json", check=False)
    assert proc.returncode == 2


def test_cli_verify_small():
    proc = run_cli("verify", "--seeds", "2", "--kind", "self_attention")
    assert "self_attention" in proc.stdout and proc.stdout.strip().endswith("OK")
    report = json.loads(run_cli("verify", "--seeds", "1", "--kind", "self_attention", "--json").stdout)
    assert report["ok"] is True and len(report["rows"]) == 3
