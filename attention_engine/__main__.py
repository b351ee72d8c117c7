"""Command line: ``python -m attention_engine SUBCOMMAND ...`` (``--json`` prints one JSON object).

    kinds [--json]
    generate KIND --seed N [--difficulty D] [--json]
    grade KIND --seed N [--difficulty D] --answer JSON [--json]
    batch KIND --seeds START:STOP [--difficulty D] [--device auto|cpu|cuda] [--jsonl PATH]   JSON lines
    verify --seeds N [--kind K] [--difficulty D] [--jobs J] [--json]   exit 1 on any failure
    count attention --d-model D --heads H [--d-head K] [--layers L] [--no-bias] [--json]
    count gpt --vocab V --context T --d-model D --heads H --layers L --d-ff F [--untied] [--json]
    count bert --vocab V --context T --type-vocab Y --d-model D --heads H --layers L --d-ff F [--no-pooler] [--json]
    kv-cache --layers L --heads H --d-head K --seq-len T --batch B --dtype fp32|fp16|bf16|int8 [--json]
    flops --d-model D --heads H --seq-len T --d-ff F [--layers L] [--json]
    code-kinds [--json]
    code-generate KIND --seed N [--difficulty D] [--json]       a code exercise (prompt, starter, examples)
    code-grade KIND --seed N [--difficulty D] FILE [--examples] [--json]   run FILE in the sandbox

This interface is a stable contract: scripts and the web app's tooling call it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from attention_engine import api, batch
from attention_engine.device import DEVICE_CHOICES
from attention_engine.variant import DIFFICULTIES


def _emit(obj: Any, as_json: bool, text: str | None = None) -> None:
    if as_json:
        print(json.dumps(obj, sort_keys=True))
    else:
        print(text if text is not None else json.dumps(obj, indent=2, sort_keys=True))


def _breakdown_text(obj: dict[str, Any], total_key: str) -> str:
    lines = [f"{name:<40} {value:>16,}" for name, value in obj["breakdown"].items()]
    lines.append(f"{total_key:<40} {obj[total_key]:>16,}")
    return "\n".join(lines)


def cmd_kinds(args: argparse.Namespace) -> int:
    kinds = api.list_kinds()
    # The contract (issue #3) is a bare JSON list of {name, title, topics, difficulties}.
    _emit(kinds, args.json, "\n".join(f"{k['name']:<22} {k['title']}" for k in kinds))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    variant = api.generate(args.kind, args.seed, args.difficulty)
    parts = "\n".join(f"- {p['label']} ({p['name']}, shape {p['shape']})" for p in variant["parts"])
    _emit(variant, args.json, f"{variant['prompt']}\n\nAnswer boxes:\n{parts}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    try:
        answer = json.loads(args.answer)
    except json.JSONDecodeError as exc:
        print(f"--answer is not JSON: {exc}", file=sys.stderr)
        return 2
    variant = api.generate(args.kind, args.seed, args.difficulty)
    result = api.grade(variant, answer)
    _emit(result, args.json, f"score {result['score']:.3f}\n{result['feedback']}")
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    # One variant per line, in seed order: compact JSON with sorted keys, written by orjson (the
    # standard json module caps near 6,000 attention variants/s here, slower than the batch makes
    # them); each line reads back (json.loads) as exactly what `generate` returns for its seed.
    import orjson

    variants = batch.iter_variants(args.kind, range(*args.seeds), args.difficulty, device=args.device)
    out = open(args.jsonl, "wb") if args.jsonl else sys.stdout.buffer
    try:
        out.writelines(orjson.dumps(v, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE) for v in variants)
    except RuntimeError as exc:  # --device cuda without a CUDA device
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.jsonl:
            out.close()
        else:
            out.flush()
    return 0


def cmd_code_kinds(args: argparse.Namespace) -> int:
    from attention_engine import code

    kinds = code.list_code_kinds()
    _emit(kinds, args.json, "\n".join(f"{k['name']:<28} {k['framework']:<6} {k['title']}" for k in kinds))
    return 0


def cmd_code_generate(args: argparse.Namespace) -> int:
    from attention_engine import code

    variant = code.generate(args.kind, args.seed, args.difficulty)
    examples = "\n".join(f"- {e['name']}: {e['description']}" for e in variant["examples"])
    hidden = "\n".join(f"- {t['name']}: {t['description']}" for t in variant["hidden_tests"])
    _emit(variant, args.json, f"{variant['prompt']}\n\nStarter code:\n\n{variant['starter_code']}\n"
                              f"Examples:\n{examples}\nHidden tests:\n{hidden}")
    return 0


def cmd_code_grade(args: argparse.Namespace) -> int:
    from attention_engine import code
    from attention_engine.code.sandbox import SandboxUnavailable

    with open(args.file, encoding="utf-8") as handle:
        source = handle.read()
    variant = code.generate(args.kind, args.seed, args.difficulty)
    try:
        result = code.grade(variant, {"code": source}, examples_only=args.examples)
    except SandboxUnavailable as exc:
        print(f"error: the code was not run: {exc}", file=sys.stderr)
        return 2
    lines = [f"{'pass' if t['passed'] else 'FAIL'}  {t['name']}: {t['message']}" for t in result["tests"]]
    _emit(result, args.json, "\n".join([*lines, f"score {result['score']:.3f}", result["feedback"]]))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from attention_engine.verify import set_single_thread, summary_table

    set_single_thread()
    report = api.verify(args.kind, args.seeds, args.difficulty, jobs=args.jobs)
    _emit(report, args.json, summary_table(report))
    return 0 if report["ok"] else 1


def cmd_count(args: argparse.Namespace) -> int:
    from attention_engine import counting

    if args.model == "attention":
        count = counting.attention_params(args.d_model, args.heads, d_head=args.d_head, bias=not args.no_bias, layers=args.layers)
    elif args.model == "gpt":
        count = counting.gpt_params(args.vocab, args.context, args.d_model, args.heads, args.layers, args.d_ff, tied=not args.untied)
    else:
        count = counting.bert_params(
            args.vocab, args.context, args.type_vocab, args.d_model, args.heads, args.layers, args.d_ff,
            pooler=not args.no_pooler,
        )
    result = count.to_dict()
    _emit(result, args.json, _breakdown_text(result, "total"))
    return 0


def cmd_kv_cache(args: argparse.Namespace) -> int:
    from attention_engine import counting

    data = counting.kv_cache_bytes(args.layers, args.heads, args.d_head, args.seq_len, args.batch, args.dtype).to_dict()
    result = {"bytes": data["total"], "breakdown": data["breakdown"]}
    _emit(result, args.json, _breakdown_text(result, "bytes"))
    return 0


def cmd_flops(args: argparse.Namespace) -> int:
    from attention_engine import counting

    result = counting.flops(args.d_model, args.heads, args.seq_len, args.d_ff, layers=args.layers).to_dict()
    _emit(result, args.json, _breakdown_text(result, "total"))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _seed_range(text: str) -> tuple[int, int]:
    start, sep, stop = text.partition(":")
    try:
        bounds = int(start), int(stop)
    except ValueError:
        bounds = None
    if not sep or bounds is None or not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"expected START:STOP with 0 <= START <= STOP, got {text!r}")
    return bounds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m attention_engine", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(func=func)
        return p

    add("kinds", cmd_kinds, "list the problem kinds")
    for name, func, help_text in (("generate", cmd_generate, "generate a variant"), ("grade", cmd_grade, "grade an answer")):
        p = add(name, func, help_text)
        p.add_argument("kind")
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--difficulty", choices=DIFFICULTIES, default="medium")
        if name == "grade":
            p.add_argument("--answer", required=True, help='JSON object, e.g. {"weights": [[0.5, 0.5], [1, 0]]}')

    p = sub.add_parser("batch", help="generate many variants, one JSON line each, in seed order")
    p.set_defaults(func=cmd_batch)
    p.add_argument("kind")
    p.add_argument("--seeds", type=_seed_range, required=True, help="START:STOP, STOP excluded (like range)")
    p.add_argument("--difficulty", choices=DIFFICULTIES, default="medium")
    p.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="where the torch route runs (auto: ATTN_DEVICE)")
    p.add_argument("--jsonl", help="write to this file instead of stdout")

    p = add("verify", cmd_verify, "verify kinds over many seeds (exit 1 on any failure)")
    p.add_argument("--seeds", type=_positive, required=True)
    p.add_argument("--kind")
    p.add_argument("--difficulty", choices=DIFFICULTIES)
    p.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                   help="worker processes (default: one per CPU)")

    count = sub.add_parser("count", help="parameter counts")
    models = count.add_subparsers(dest="model", required=True)
    for model in ("attention", "gpt", "bert"):
        m = models.add_parser(model)
        m.add_argument("--json", action="store_true")
        m.set_defaults(func=cmd_count)
        if model != "attention":
            m.add_argument("--vocab", type=_positive, required=True)
            m.add_argument("--context", type=_positive, required=True)
        if model == "bert":
            m.add_argument("--type-vocab", type=_positive, required=True)
        m.add_argument("--d-model", type=_positive, required=True)
        m.add_argument("--heads", type=_positive, required=True)
        if model == "attention":
            m.add_argument("--d-head", type=_positive)
            m.add_argument("--layers", type=_positive, default=1)
            m.add_argument("--no-bias", action="store_true")
        else:
            m.add_argument("--layers", type=_positive, required=True)
            m.add_argument("--d-ff", type=_positive, required=True)
        if model == "gpt":
            m.add_argument("--untied", action="store_true", help="separate output projection (not tied to the embedding)")
        if model == "bert":
            m.add_argument("--no-pooler", action="store_true")

    p = add("kv-cache", cmd_kv_cache, "KV-cache size in bytes")
    for flag in ("--layers", "--heads", "--d-head", "--seq-len", "--batch"):
        p.add_argument(flag, type=_positive, required=True)
    p.add_argument("--dtype", choices=("fp32", "fp16", "bf16", "int8"), required=True)

    add("code-kinds", cmd_code_kinds, "list the code exercise kinds")
    for name, func, help_text in (("code-generate", cmd_code_generate, "generate a code exercise"),
                                  ("code-grade", cmd_code_grade, "run a solution file in the sandbox and grade it")):
        p = add(name, func, help_text)
        p.add_argument("kind")
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--difficulty", choices=DIFFICULTIES, default="medium")
        if name == "code-grade":
            p.add_argument("file", help="the solution, a Python file")
            p.add_argument("--examples", action="store_true", help="run only the visible examples")

    p = add("flops", cmd_flops, "forward-pass FLOPs")
    for flag in ("--d-model", "--heads", "--seq-len", "--d-ff"):
        p.add_argument(flag, type=_positive, required=True)
    p.add_argument("--layers", type=_positive, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
