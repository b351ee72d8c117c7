"""The program that runs a learner's code inside the sandbox (``attention_engine.code.sandbox``).

It is copied into the sandbox's task folder and run there by the sandbox's own Python, so it
imports nothing of this project: only the standard library, numpy and (for torch tasks) torch.
It trusts nothing it runs: it only calls the learner's function on the cases it is given and
writes what came back as plain arrays. Everything it writes is checked again outside (shapes,
dtypes, sizes), and the comparison with the reference happens outside, where the learner's
code cannot reach it.

Protocol (all paths inside the sandbox):

* ``python harness.py numpy|torch FD`` imports the framework, writes ``ready`` and a newline to
  the pipe ``FD``, then waits for one line on stdin (a warm sandbox is started before the code
  exists), then reads ``/task/solution.py`` (the learner's code), ``/task/cases.json`` and
  ``/task/cases.npz``;
* ``cases.json`` is ``{"entry_point", "device", "cases": [...]}``;
  a case is ``{"name", "call": "function"|"module", "args": [ref...], "kwargs": {name: ref},
  "init": {name: ref}, "state": {name: array name}, "dtype"}`` where a ref is ``{"array":
  name}`` (an array of ``cases.npz``, a torch tensor for torch tasks), ``{"value": json}`` or
  ``{"none": true}``; ``call: module`` builds ``entry_point(**init)``, loads ``state`` into it
  (``load_state_dict``, strict) and calls it with ``args``/``kwargs``;
* it writes to ``FD`` one line of JSON, ``{"status": "ok"|"syntax_error"|"import_error"|"refused",
  "message", "line", "cases": [{"name", "status": "ok"|"error", "message", "outputs": [array
  name, ...]}]}``, then an ``.npz`` archive of the returned arrays, and exits. The sandbox has no
  folder shared with the worker to write into: what comes back is what crosses that pipe.
"""

import builtins
import json
import sys
import traceback

SITE = "/opt/site"
SOLUTION = "/task/solution.py"
REFUSED_MODULES = frozenset({
    "subprocess", "ctypes", "_ctypes", "socket", "_socket", "multiprocessing", "_posixsubprocess",
    "pty", "signal", "resource", "fcntl", "mmap", "shutil", "importlib", "threading", "_thread",
    "asyncio", "http", "urllib", "ssl", "select", "selectors", "os", "posix", "sys", "gc", "inspect",
    "builtins", "pickle", "marshal", "code", "codeop", "runpy", "pathlib", "io", "tempfile",
})
MAX_MESSAGE = 600


def main() -> None:
    sys.path.insert(0, SITE)
    import numpy as np

    framework = sys.argv[1]  # numpy or torch: known when the sandbox starts, before the task
    results_fd = int(sys.argv[2])
    torch = None
    if framework == "torch":
        import torch  # imported before the learner's code: a warm sandbox has it ready

        torch.set_num_threads(1)
        _warm_up(torch)
    _send(results_fd, b"ready\n")  # warm: what a learner would otherwise wait for is done
    sys.stdin.readline()  # the go signal: solution.py and the cases are in place now
    task = json.load(open("/task/cases.json"))
    arrays = dict(np.load("/task/cases.npz", allow_pickle=False))
    results = {"status": "ok", "message": "", "line": None, "cases": []}
    outputs: dict[str, np.ndarray] = {}
    try:
        module = _load_solution(np, torch)
    except _Refused as exc:
        results.update(status="refused", message=str(exc), line=exc.line)
        return _write(results_fd, results, outputs, np)
    except SyntaxError as exc:
        results.update(status="syntax_error", message=_short(f"{exc.msg}"), line=exc.lineno)
        return _write(results_fd, results, outputs, np)
    except BaseException as exc:  # noqa: BLE001 - anything the learner's module raises while loading
        results.update(status="import_error", message=_short(_describe(exc)), line=_solution_line(exc))
        return _write(results_fd, results, outputs, np)
    entry = task["entry_point"]
    target = module.get(entry)
    if target is None:
        results.update(status="import_error", message=f"your code defines no {entry!r}")
        return _write(results_fd, results, outputs, np)
    device = task.get("device", "cpu")
    for index, case in enumerate(task["cases"]):
        try:
            values = _call(target, case, arrays, np, torch, device)
            names = []
            for k, value in enumerate(values):
                name = f"r{index}_{k}"
                outputs[name] = value
                names.append(name)
            results["cases"].append({"name": case["name"], "status": "ok", "message": "", "outputs": names})
        except BaseException as exc:  # noqa: BLE001 - the learner's exception is the result
            results["cases"].append({"name": case["name"], "status": "error", "outputs": [],
                                     "message": _short(_describe(exc)), "line": _solution_line(exc)})
    _write(results_fd, results, outputs, np)


def _warm_up(torch) -> None:
    """Run once what attention code calls, so its first-call set-up is not the learner's wait."""
    x = torch.ones(2, 3, 4, dtype=torch.float64)
    for dtype in (torch.float32, torch.float64):
        scores = (x.to(dtype) @ x.to(dtype).transpose(-2, -1)).masked_fill(torch.eye(3, dtype=torch.bool), float("-inf"))
        torch.nan_to_num(torch.softmax(scores, dim=-1)) @ x.to(dtype)
        torch.nn.functional.scaled_dot_product_attention(x.to(dtype), x.to(dtype), x.to(dtype))
        torch.nn.Linear(4, 4).to(dtype)(x.to(dtype))


class _Refused(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _load_solution(np, torch) -> dict:
    """Run the learner's module with an ``__import__`` that refuses what a solution never needs
    (processes, sockets, native calls): the sandbox would contain them anyway, the refusal is the
    clear message. numpy, torch and math are ready."""
    source = open(SOLUTION, encoding="utf-8", errors="replace").read()
    code = compile(source, "solution.py", "exec")
    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        top = name.split(".")[0]
        if top in REFUSED_MODULES and (globals or {}).get("__name__") == "solution":
            frame = sys._getframe(1)
            line = frame.f_lineno if frame.f_code.co_filename == "solution.py" else None
            raise _Refused(f"import {name} is not allowed here: a solution needs only numpy, torch and math", line)
        return real_import(name, globals, locals, fromlist, level)

    safe_builtins = dict(vars(builtins))
    safe_builtins["__import__"] = guarded_import
    for name in ("open", "exec", "eval", "compile", "input", "breakpoint", "exit", "quit", "help"):
        safe_builtins.pop(name, None)
    namespace = {"__name__": "solution", "__builtins__": safe_builtins, "np": np, "numpy": np}
    if torch is not None:
        namespace["torch"] = torch
    exec(code, namespace)  # noqa: S102 - inside the sandbox, which is the point
    return namespace


def _ref(ref, arrays, np, torch, device, dtype):
    if "none" in ref:
        return None
    if "value" in ref:
        return ref["value"]
    array = arrays[ref["array"]]
    if torch is None:
        return array.copy()
    tensor = torch.from_numpy(array.copy())
    if tensor.is_floating_point() and dtype:
        tensor = tensor.to(getattr(torch, dtype))
    return tensor.to(device)


def _call(target, case, arrays, np, torch, device):
    dtype = case.get("dtype")
    args = [_ref(r, arrays, np, torch, device, dtype) for r in case.get("args", [])]
    kwargs = {k: _ref(r, arrays, np, torch, device, dtype) for k, r in case.get("kwargs", {}).items()}
    if case.get("call") == "module":
        init = {k: _ref(r, arrays, np, torch, device, dtype) for k, r in case.get("init", {}).items()}
        module = target(**init)
        if dtype:  # parameters in the test's dtype before loading: load_state_dict keeps the module's dtype
            module.to(getattr(torch, dtype))
        state = {k: _ref({"array": v}, arrays, np, torch, device, dtype) for k, v in case.get("state", {}).items()}
        module.load_state_dict(state, strict=True)
        module.to(device)
        with torch.no_grad():
            returned = module(*args, **kwargs)
    elif torch is not None:
        with torch.no_grad():
            returned = target(*args, **kwargs)
    else:
        returned = target(*args, **kwargs)
    values = returned if isinstance(returned, tuple) else (returned,)
    return [_as_array(v, np, torch, position) for position, v in enumerate(values)]


def _as_array(value, np, torch, position):
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "fiub":
        return np.asarray(value)
    kind = "a tensor" if torch is not None else "a numpy array"
    raise TypeError(f"returned value {position + 1} is {type(value).__name__}, expected {kind} of numbers")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "MemoryError: the code ran out of memory"
    if isinstance(exc, RecursionError):
        return "RecursionError: maximum recursion depth exceeded"
    if isinstance(exc, BlockingIOError) and exc.errno == 11:
        return "BlockingIOError: the code started more processes or threads than allowed"
    return f"{type(exc).__name__}: {exc}"


def _solution_line(exc: BaseException) -> int | None:
    """The last line of the learner's own file in the traceback (where to look)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "solution.py":
            line = frame.lineno
    return line


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _write(fd, results, outputs, np) -> None:
    import io

    archive = io.BytesIO()
    np.savez(archive, **outputs)
    _send(fd, json.dumps(results).encode() + b"\n" + archive.getvalue())


def _send(fd, data: bytes) -> None:
    import os

    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


if __name__ == "__main__":
    main()
    # The results are written: leave without the interpreter's shutdown, which with torch loaded
    # takes most of a second the learner would wait for.
    sys.stdout.flush()
    sys.stderr.flush()
    import os

    os._exit(0)
