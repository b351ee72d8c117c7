"""Code exercises: the contract of a code kind, its variants, and grading a learner's code.

A code kind (``CodeKind``) is the numeric kinds' contract for code: ``generate(seed,
difficulty)`` gives the prompt, the function's signature, starter code and the visible example
tests (with their expected results), and keeps the hidden tests and a model solution in the
variant's private ``answer``; ``grade(variant, {"code": ...})`` runs the code on every test in
the sandbox and gives per-test results, a score and the named misconception.

**Verified tests.** Each test's expected result is computed twice before the variant exists:
by the kind's float64 NumPy reference, written from the formula, and by a second route built
on torch's own modules (``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``...);
they must agree to ``ROUTE_TOLERANCE`` or the variant is not made.

**Vetted tests.** The tests are drawn from the seed; a draw is kept only when every catalogued
wrong procedure fails at least one test and no two procedures pass and fail the same tests with
the same results, so a mistake is always caught and always named (``distinct``).

**Comparison.** A test passes when the code returned as many values as asked, each of the
expected shape, of the input's dtype (torch kinds; NumPy kinds may promote), finite where the
reference is finite, and within ``tolerance(dtype)`` of the reference everywhere. The message
says which of these failed: the shape, the dtype, the largest error and where, or a NaN.
**Misconception.** When tests fail, the first catalogued wrong procedure whose results match
the code's on every failed test (NaN where it has NaN) is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from attention_engine import ENGINE_VERSION
from attention_engine.code import answer_problem, not_run, sandbox
from attention_engine.variant import (
    DIFFICULTIES,
    ROUTE_TOLERANCE,
    GenerationError,
    Verification,
    VerificationError,
    check_difficulty,
    check_seed,
    make_rng,
    max_abs_diff,
    quantised_diff,
)

MAX_DRAWS = 50
# (rel, abs) by the input's dtype: float32 code on scores in the thousands loses about 1e-4.
TOLERANCE = {"float64": (1e-6, 1e-7), "float32": (1e-3, 1e-4)}


@dataclass
class Test:
    """One call of the learner's code and what it must return. ``inputs`` are the call's
    arguments by name in the signature's order; ``init``/``state`` build a module first."""

    name: str
    description: str
    inputs: dict[str, Any]
    dtype: str = "float64"
    init: dict[str, Any] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)
    expected: tuple[np.ndarray, ...] = ()


Procedure = Callable[[Test], tuple[np.ndarray, ...]]


@dataclass(frozen=True)
class CodeKind:
    name: str
    title: str
    topics: tuple[str, ...]
    framework: str  # numpy | torch
    entry_point: str
    signature: str
    call: str  # function | module
    returns: tuple[str, ...]  # names of the returned values, in order
    task: Callable[[str], str]  # difficulty -> the prompt (Markdown + LaTeX)
    starter: str
    solution: str  # the model solution shown once graded (also run by the tests of this kind)
    reference: Procedure  # float64 NumPy, from the formula
    second_route: Procedure  # torch's own modules
    second_route_name: str  # what the second route uses, for the verification record
    draw: Callable[[np.random.Generator, str], list[Test]]  # (rng, difficulty) -> tests, examples first
    examples: int  # how many of the drawn tests are shown
    # misconception code -> (the first difficulty whose tests catch it, the wrong procedure)
    wrong: dict[str, tuple[str, Procedure]] = field(default_factory=dict)
    misconceptions: dict[str, str] = field(default_factory=dict)  # code -> message

    def parameters(self) -> tuple[str, ...]:
        """The parameter names of the call, in the signature's order (``forward``'s for a module):
        a test's inputs are passed in this order, whatever order its stored JSON keeps (PostgreSQL's
        jsonb sorts keys)."""
        inside = re.findall(r"\(([^()]*)\)", self.signature)[-1]
        names = [p.split("=")[0].strip() for p in inside.split(",") if p.strip()]
        return tuple(n for n in names if n != "self")

    def procedures(self, difficulty: str) -> dict[str, Procedure]:
        """The wrong procedures the tests of ``difficulty`` catch and name (an overflowing softmax
        only shows on the hard tests' large logits)."""
        level = DIFFICULTIES.index(difficulty)
        return {code: proc for code, (first, proc) in self.wrong.items() if DIFFICULTIES.index(first) <= level}


def generate(kind: CodeKind, seed: int, difficulty: str) -> dict[str, Any]:
    """A verified, vetted variant of a code kind, as JSON (same seed -> same bytes)."""
    rng = make_rng(kind.name, check_seed(seed), check_difficulty(difficulty))
    for _ in range(MAX_DRAWS):
        tests = kind.draw(rng, difficulty)
        for test in tests:
            test.expected = tuple(np.asarray(a, dtype=np.float64) for a in kind.reference(test))
        if distinct(kind.procedures(difficulty), tests, kind):
            break
    else:
        raise GenerationError(f"{kind.name}: no draw of tests tells every mistake apart for seed {seed}")
    verification = _verify(kind, tests)
    examples, hidden = tests[: kind.examples], tests[kind.examples:]
    return {
        "kind": kind.name, "seed": seed, "difficulty": difficulty, "engine_version": ENGINE_VERSION,
        "answer_type": "code", "title": kind.title, "framework": kind.framework,
        "prompt": kind.task(difficulty), "entry_point": kind.entry_point, "signature": kind.signature,
        "starter_code": kind.starter, "returns": list(kind.returns),
        "examples": [_test_json(t, with_expected=True) for t in examples],
        "hidden_tests": [{"name": t.name, "description": t.description} for t in hidden],
        "answer": {"code": kind.solution, "tests": [_test_json(t, with_expected=True) for t in tests]},
        "verification": verification,
    }


def _verify(kind: CodeKind, tests: Sequence[Test]) -> dict[str, Any]:
    """Every test's result by the second route too: the two agree to ``ROUTE_TOLERANCE``, relative
    to the result's size when it exceeds 1 (a rotation of positions in the thousands)."""
    worst = 0.0
    for test in tests:
        for mine, theirs in zip(test.expected, kind.second_route(test), strict=True):
            diff = max_abs_diff(mine, theirs)  # inf when the shapes or the NaNs differ
            if not diff <= ROUTE_TOLERANCE * max(1.0, float(np.max(np.abs(mine), initial=0.0))):
                raise VerificationError(f"{kind.name}: the routes disagree on {test.name} by {diff:.3g}")
            worst = max(worst, diff)
    record = Verification(("numpy-float64", kind.second_route_name), quantised_diff(worst)).to_dict()
    return {**record, "tests": len(tests)}


def distinct(procedures: dict[str, Procedure], tests: Sequence[Test], kind: CodeKind) -> bool:
    """Whether grading tells every wrong procedure apart on these tests: each fails some test by
    its numbers as a learner's code would return them (in the test's dtype), and grading its
    results names that procedure and no other (so no two procedures agree where they fail)."""
    for code, procedure in procedures.items():
        failed = []
        for test in tests:
            results = _try(procedure, test)
            typed = None if results is None else tuple(a.astype(test.dtype) for a in results)
            if typed is None or not compare(typed, test, kind)[0]:
                # as the sandbox would bring it back: raised where the procedure cannot run
                failed.append((test, sandbox.CaseResult(test.name, ok=typed is not None, outputs=list(typed or ()))))
        if not failed or _misconception(procedures, failed) != code:
            return False
    return True


def _try(procedure: Procedure, test: Test) -> tuple[np.ndarray, ...] | None:
    try:
        with np.errstate(all="ignore"):
            return tuple(np.asarray(a, dtype=np.float64) for a in procedure(test))
    except (ValueError, IndexError):  # not applicable to these shapes
        return None


def _same(a: tuple[np.ndarray, ...] | None, b: tuple[np.ndarray, ...] | None, dtype: str = "float64") -> bool:
    """The same results, to the tolerance of ``dtype``, NaN where NaN (None: not applicable)."""
    if a is None or b is None:
        return a is b
    rel, abs_ = TOLERANCE[dtype]
    return len(a) == len(b) and all(
        x.shape == y.shape and np.allclose(x, y, rtol=rel, atol=abs_, equal_nan=True) for x, y in zip(a, b, strict=True)
    )


def compare(values: Sequence[np.ndarray], test: Test, kind: CodeKind) -> tuple[bool, str]:
    """Whether ``values`` (what the code returned) pass ``test``, and the message saying why not."""
    if len(values) != len(test.expected):
        wanted = ", ".join(kind.returns)
        return False, f"returned {len(values)} value(s), expected {len(test.expected)} ({wanted})"
    rel, abs_ = TOLERANCE[test.dtype]
    report = []
    for name, given, expected in zip(kind.returns, values, test.expected, strict=True):
        if given.shape != expected.shape:
            return False, f"{name} has shape {tuple(given.shape)}, expected {tuple(expected.shape)}"
        if kind.framework == "torch" and given.dtype.kind == "f" and str(given.dtype) != test.dtype:
            return False, f"{name} is {given.dtype} for {test.dtype} inputs: keep the input's dtype"
        given64 = given.astype(np.float64)
        finite = np.isfinite(expected)
        if not np.all(np.isfinite(given64[finite])):
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(given64) & finite)[0])
            return False, f"{name} has NaN or inf at {where} where the answer is finite"
        error = np.abs(given64 - expected)
        allowed = abs_ + rel * np.abs(expected)
        bad = finite & ~(error <= allowed)
        if bad.any():
            where = tuple(int(i) for i in np.unravel_index(np.argmax(np.where(finite, error, -1.0)), error.shape))
            return False, f"{name}: largest error {float(np.max(error[finite])):.3g} at {where}"
        report.append(f"{name} {tuple(given.shape)} largest error {float(np.max(error, initial=0.0)):.1g}")
    return True, "; ".join(report)


def grade(kind: CodeKind, variant: dict[str, Any], answer: Any, *, examples_only: bool = False,
          device: str = "cpu", limits: sandbox.Limits | None = None) -> dict[str, Any]:
    """Run the code on the variant's tests (only the examples with ``examples_only``) in a fresh
    sandbox and grade it. Never raises for bad code; ``SandboxUnavailable`` when the sandbox
    cannot be set up (the code was not run)."""
    problem = answer_problem(answer)
    if problem:
        return not_run(problem)
    code = answer["code"]
    tests = stored_tests(variant)
    if examples_only:
        tests = tests[: len(variant["examples"])]
    cases = [_case(kind, t) for t in tests]
    run = sandbox.run(code, kind.entry_point, cases, framework=kind.framework, device=device, limits=limits)
    return _result(kind, variant, tests, run, examples_only)


def _case(kind: CodeKind, test: Test) -> sandbox.Case:
    order = kind.parameters()
    if not set(test.inputs) <= set(order):
        raise ValueError(f"{kind.name}: inputs {sorted(set(test.inputs) - set(order))} are not in {kind.signature}")
    args = [_as_input(test.inputs[name], test.dtype) for name in order if name in test.inputs]
    if kind.call == "module":
        return sandbox.Case(test.name, args=args, call="module", init=test.init, state={
            k: np.asarray(v, dtype=test.dtype) for k, v in test.state.items()}, dtype=test.dtype)
    return sandbox.Case(test.name, args=args, dtype=test.dtype)


def _as_input(value: Any, dtype: str) -> Any:
    if isinstance(value, np.ndarray):
        return value.astype(dtype) if value.dtype.kind == "f" else value
    return value


def _result(kind: CodeKind, variant: dict[str, Any], tests: list[Test], run: sandbox.RunResult,
            examples_only: bool) -> dict[str, Any]:
    shown = len(variant["examples"])
    base = {"score": 0.0, "tests": [], "misconception": None, "misconception_message": None,
            "format_errors": [], "seconds": round(run.seconds, 3),
            # What the code printed, for debugging the visible examples; never while it ran the
            # hidden tests (it could print their inputs).
            "output": run.output[-2000:] if examples_only else ""}
    if run.status != "ok":
        where = f" (line {run.line})" if run.line else ""
        base["feedback"] = f"{_STATUS[run.status]}{where}: {run.message}" if run.message else _STATUS[run.status]
        base["error"] = {"status": run.status, "message": run.message, "line": run.line}
        return base
    results, failed = [], []
    for index, (test, case) in enumerate(zip(tests, run.cases, strict=False)):
        if not case.ok:
            line = f" (line {case.line})" if case.line else ""
            # A hidden test's exception says its type only: its text is the learner's to choose,
            # and could carry the hidden inputs out (``raise ValueError(repr(Q))``).
            raised = case.message if index < shown else case.message.split(":", 1)[0]
            passed, message = False, f"raised {raised}{line}"
        else:
            passed, message = compare(case.outputs, test, kind)
        results.append({"name": test.name, "description": test.description, "passed": passed, "message": message,
                        "hidden": index >= shown})
        if not passed:
            failed.append((test, case))
    passed_count = sum(r["passed"] for r in results)
    code = None if not failed else _misconception(kind.procedures(variant["difficulty"]), failed)
    score = passed_count / len(tests) if tests else 0.0
    feedback = f"{passed_count} of {len(tests)} {'examples' if examples_only else 'tests'} passed."
    if code:
        feedback += f" Likely mistake: {kind.misconceptions[code]}"
    base.update(score=score, tests=results, misconception=code,
                misconception_message=kind.misconceptions[code] if code else None, feedback=feedback)
    return base


_STATUS = {
    "syntax_error": "Your code has a syntax error",
    "import_error": "Your code failed while loading",
    "refused": "Your code was not run",
    "timeout": "Your code did not finish in time",
    "output_limit": "Your code printed too much",
    "memory": "Your code ran out of memory",
    "crashed": "Your code ended the process",
}


def _misconception(procedures: dict[str, Procedure], failed: list[tuple[Test, sandbox.CaseResult]]) -> str | None:
    """The first procedure consistent with every failed test: the same results, or, where the
    procedure cannot run on the test's shapes (``K Q^T`` on a non-square test), the code failed
    to run too; at least one test must match by its results."""
    for code, procedure in procedures.items():
        matched, consistent = 0, True
        for test, case in failed:
            candidates = [r for r in _results_of(procedure, test) if r is not None]
            if not candidates:
                consistent = not case.ok
            else:
                given = tuple(o.astype(np.float64) for o in case.outputs)
                consistent = case.ok and any(_same(given, _undefined_as(given, r), test.dtype) for r in candidates)
                matched += consistent
            if not consistent:
                break
        if consistent and matched:
            return code
    return None


def _undefined_as(given: tuple[np.ndarray, ...], results: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """``results`` with each NaN (a procedure's 0/0 or inf/inf) read as 0 where the code gave 0:
    code that makes the mistake and then cleans NaN up, as the task asks for empty rows
    (``nan_to_num``), shows the same mistake."""
    if len(given) != len(results):
        return results
    return tuple(np.where(np.isnan(r) & (g == 0), 0.0, r) if g.shape == r.shape else r
                 for g, r in zip(given, results, strict=True))


def _results_of(procedure: Procedure, test: Test) -> list[tuple[np.ndarray, ...] | None]:
    """What ``procedure`` gives on ``test``: in the test's dtype, and for a float32 test also in
    float64 (NumPy code promotes float32 to float64 as soon as it divides by ``np.sqrt(d)``, and a
    mistake such as an overflowing softmax then shows where float64 overflows)."""
    results = [_try(procedure, test)]
    if test.dtype != "float64":
        results.append(_try(procedure, replace(test, dtype="float64")))
    return results


def _test_json(test: Test, *, with_expected: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": test.name, "description": test.description, "dtype": test.dtype,
        "inputs": {k: _jsonable(v) for k, v in test.inputs.items()},
    }
    if test.init:
        data["init"] = dict(test.init)
    if test.state:
        data["state"] = {k: _jsonable(v) for k, v in test.state.items()}
    if with_expected:
        data["expected"] = [_jsonable(a) for a in test.expected]
    return data


def _jsonable(value: Any) -> Any:
    """An input or expected array as JSON: its shape (an empty axis survives), its dtype, its
    values, and where they are not finite, ``"inf"``, ``"-inf"`` or ``"nan"`` by index."""
    if not isinstance(value, np.ndarray):
        return value
    if value.dtype == bool:
        return {"bool": value.tolist(), "shape": list(value.shape)}
    finite = np.isfinite(value) if value.dtype.kind == "f" else np.ones(value.shape, dtype=bool)
    data: dict[str, Any] = {"array": np.where(finite, value, 0).tolist(), "shape": list(value.shape),
                            "dtype": "int64" if value.dtype.kind in "iu" else "float64"}
    if not finite.all():
        data["nonfinite"] = [[*map(int, index), str(value[tuple(index)])] for index in np.argwhere(~finite)]
    return data


def _from_jsonable(value: Any) -> Any:
    if isinstance(value, dict) and "bool" in value:
        return np.asarray(value["bool"], dtype=bool).reshape(value["shape"])
    if isinstance(value, dict) and "array" in value:
        array = np.asarray(value["array"], dtype=value["dtype"]).reshape(value["shape"])
        for *index, text in value.get("nonfinite", []):
            array[tuple(index)] = float(text)
        return array
    return value


def stored_tests(variant: dict[str, Any]) -> list[Test]:
    """The tests a variant keeps in its private answer, examples first, as ``Test``s."""
    return [_test_from_json(t) for t in variant["answer"]["tests"]]


def _test_from_json(data: dict[str, Any]) -> Test:
    return Test(
        name=data["name"], description=data["description"], dtype=data["dtype"],
        inputs={k: _from_jsonable(v) for k, v in data["inputs"].items()},
        init=dict(data.get("init", {})), state={k: _from_jsonable(v) for k, v in data.get("state", {}).items()},
        expected=tuple(_from_jsonable(a) for a in data.get("expected", [])),
    )
