"""CLI subcommands that wrap the counting functions, and verify's exit status."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attention_engine import counting

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "attention_engine", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "ATTN_DEVICE": "cpu"})


def cli_json(*args: str) -> dict:
    proc = cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_count_attention_tiny_case_by_hand():
    # d_model 4, 2 heads: W_Q, W_K, W_V, W_O are 4x4 (16 each) and 4 biases of 4: 64 + 16 = 80
    assert cli_json("count", "attention", "--d-model", "4", "--heads", "2")["total"] == 80
    assert cli_json("count", "attention", "--d-model", "4", "--heads", "2", "--no-bias")["total"] == 64


@pytest.mark.parametrize(
    ("args", "call"),
    [
        (("count", "attention", "--d-model", "512", "--heads", "8", "--d-head", "32", "--layers", "6"),
         lambda: counting.attention_params(512, 8, d_head=32, layers=6)),
        (("count", "gpt", "--vocab", "1000", "--context", "64", "--d-model", "32", "--heads", "4", "--layers", "2",
          "--d-ff", "128", "--untied"),
         lambda: counting.gpt_params(1000, 64, 32, 4, 2, 128, tied=False)),
        (("count", "bert", "--vocab", "1000", "--context", "64", "--type-vocab", "2", "--d-model", "32", "--heads", "4",
          "--layers", "2", "--d-ff", "128", "--no-pooler"),
         lambda: counting.bert_params(1000, 64, 2, 32, 4, 2, 128, pooler=False)),
        (("flops", "--d-model", "64", "--heads", "4", "--seq-len", "16", "--d-ff", "256", "--layers", "3"),
         lambda: counting.flops(64, 4, 16, 256, layers=3)),
    ],
)
def test_cli_counts_match_the_library(args, call):
    assert cli_json(*args) == call().to_dict()


def test_kv_cache_prints_bytes():
    # 2 (K and V) x 1 layer x 2 heads x 4 dims x 3 tokens x 1 sequence x 2 bytes (fp16) = 96
    out = cli_json("kv-cache", "--layers", "1", "--heads", "2", "--d-head", "4", "--seq-len", "3", "--batch", "1",
                   "--dtype", "fp16")
    assert out["bytes"] == 96 and "total" not in out
    assert sum(out["breakdown"].values()) == 96


def test_text_output_and_bad_arguments():
    proc = cli("count", "attention", "--d-model", "4", "--heads", "2")
    assert proc.returncode == 0 and "total" in proc.stdout and "80" in proc.stdout
    assert cli("kv-cache", "--layers", "1", "--heads", "2", "--d-head", "4", "--seq-len", "3", "--batch", "1",
               "--dtype", "fp64").returncode == 2
    assert cli("count", "attention", "--d-model", "0", "--heads", "2").returncode == 2


def test_verify_exits_nonzero_on_unknown_kind():
    proc = cli("verify", "--seeds", "1", "--kind", "nope")
    assert proc.returncode == 2 and "unknown kind" in proc.stderr


def test_verify_in_parallel_matches_serial():
    serial = cli_json("verify", "--seeds", "2", "--kind", "layer_norm", "--jobs", "1")
    parallel = cli_json("verify", "--seeds", "2", "--kind", "layer_norm", "--jobs", "2")
    assert serial["ok"] and parallel["ok"]
    strip = [{k: r[k] for k in ("kind", "difficulty", "variants", "failed")} for r in serial["rows"]]
    assert strip == [{k: r[k] for k in ("kind", "difficulty", "variants", "failed")} for r in parallel["rows"]]
