"""Run a learner's code in a fresh bubblewrap sandbox and bring back what it returned.

Each run gets its own sandbox, used once (``bwrap`` from Debian's ``bubblewrap``):

* **Namespaces.** ``--unshare-all``: its own network namespace (nothing listens on its
  127.0.0.1, so Redis and PostgreSQL are out of reach), PID, IPC, UTS, cgroup and user
  namespaces; inside it runs as ``nobody`` (65534) with no capabilities, in a new session
  (no terminal to inject into), killed with its parent.
* **Files.** A read-only root made of ``/usr`` (and the merged ``/lib``, ``/bin`` links), the
  Python installation, and the site-packages holding numpy and torch at ``/opt/site`` with this
  project's own packages masked; the task folder read-only at ``/task``; a private ``/tmp`` of
  ``Limits.tmp_bytes``. No ``/etc`` (no passwd), no ``/home``, ``/root``, project checkout,
  settings, environment (``--clearenv``, and bwrap itself starts with an empty one) or database
  socket, and nothing writable that the worker reads: the results come back through a pipe,
  read with a size cap and checked as untrusted input.
* **Limits.** CPU seconds, address space, file size, open files and no core dumps by
  ``prlimit`` on the sandbox; processes (fork bombs) by a ``pids`` cgroup of its own where the
  worker may create one, else by ``RLIMIT_NPROC`` when the worker is not root (root is exempt
  from it: then no sandbox, see below); the whole sandbox's memory by a memory cgroup where the
  worker may create one, else at most ``FALLBACK_PROCESSES`` processes of ``Limits.memory_bytes``
  each; wall time, printed output and the size of the results are watched from here, and the
  whole sandbox is killed when one runs out.

When any of that cannot be set up (no ``bwrap``, no user namespaces, no way to cap processes),
``SandboxUnavailable`` is raised and the code is not run: never without the sandbox.

A sandbox can be started *warm* (``Sandbox.start``): its Python imports numpy or torch before
any code exists and waits; ``Sandbox.run`` then writes the code and cases and lets it go. The
``Pool`` keeps ``WARM_PER_FRAMEWORK`` warm sandboxes per framework, so a learner does not wait
for ``import torch``, and every run still gets a fresh sandbox.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import io
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HARNESS = Path(__file__).with_name("harness.py")
FRAMEWORKS = ("numpy", "torch")
# This project's own top-level packages: masked inside the sandbox's site-packages, where a
# non-editable install would put them.
PROJECT_PACKAGES = ("attention_engine", "questions", "quizsite", "tests", "bench")
CGROUP_PIDS_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")
CGROUP_MEMORY_ROOTS = ("/sys/fs/cgroup/memory", "/sys/fs/cgroup")
CGROUP_NAME = "attention-sandbox"
READY = b"ready\n"  # the harness's first words on the results pipe: warm and waiting
FALLBACK_PROCESSES = 4  # without a memory cgroup: at most this many processes of Limits.memory_bytes
MAX_ARRAYS = 256  # arrays a run may return
STALE_CGROUP_SECONDS = 300
WARM_PER_FRAMEWORK = 2  # warm sandboxes a worker process keeps per framework


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be set up here; the code was not run."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 10  # CPU time of each process (RLIMIT_CPU); the import of torch included
    wall_seconds: float = 10.0  # from the go signal to the last result written
    memory_bytes: int = 2 * 2**30  # address space of each process (RLIMIT_AS), and of the whole sandbox
    processes: int = 32  # processes and threads in the sandbox at once (FALLBACK_PROCESSES without a memory cgroup)
    output_bytes: int = 256 * 2**10  # printed output kept; more ends the run
    file_bytes: int = 64 * 2**20  # largest file it may write in its /tmp (RLIMIT_FSIZE), and its results
    tmp_bytes: int = 64 * 2**20  # its private /tmp
    open_files: int = 256


@dataclass
class Case:
    """One call of the learner's code: ``entry_point(*args, **kwargs)``, or for ``call="module"``
    ``entry_point(**init)`` with ``state`` loaded, then called. Arrays become tensors of
    ``dtype`` on the run's device for torch tasks."""

    name: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    call: str = "function"
    init: dict[str, Any] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)
    dtype: str | None = None


@dataclass
class CaseResult:
    name: str
    ok: bool
    message: str = ""
    line: int | None = None
    outputs: list[np.ndarray] = field(default_factory=list)


@dataclass
class RunResult:
    """``status``: ``ok`` (each case has its own result), ``syntax_error``, ``import_error``,
    ``refused`` (an import a solution never needs), ``timeout``, ``output_limit``, ``memory``
    or ``crashed`` (the sandbox ended without results)."""

    status: str
    message: str = ""
    line: int | None = None
    cases: list[CaseResult] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0


def available() -> str | None:
    """None when sandboxes can run here, else why not."""
    try:
        _check_setup()
    except SandboxUnavailable as exc:
        return str(exc)
    return None


def run(code: str, entry_point: str, cases: list[Case], *, framework: str = "numpy", device: str = "cpu",
        limits: Limits | None = None) -> RunResult:
    """Run ``code`` on ``cases`` in a fresh sandbox (from the shared warm ``POOL``).

    Only ``device="cpu"``: CUDA would need the GPU's device files inside the sandbox and an
    address space far above ``Limits.memory_bytes``, which is not built yet, so it is refused
    (``SandboxUnavailable``) rather than run with weaker limits."""
    if device != "cpu":
        raise SandboxUnavailable(f"learner code runs on the CPU only; device {device!r} is not available in the sandbox")
    return POOL.take(framework, limits or Limits()).run(code, entry_point, cases, device=device)


class Sandbox:
    """One sandbox process, started warm, run once."""

    def __init__(self, framework: str, limits: Limits):
        if framework not in FRAMEWORKS:
            raise ValueError(f"framework must be one of {FRAMEWORKS}, not {framework!r}")
        self.framework = framework
        self.limits = limits
        self.folder = Path(tempfile.mkdtemp(prefix="sandbox-"))
        (self.folder / "task").mkdir()
        for path in (self.folder, self.folder / "task"):
            os.chmod(path, 0o755)
        shutil.copyfile(HARNESS, self.folder / "task" / "harness.py")
        self.received = b""  # what came through the results pipe so far
        self.cgroups, memory_capped = _cgroups_create(limits)
        # The results come back through a pipe, not a shared folder: nothing the code writes
        # reaches the worker's disk, and nothing there (a FIFO, a link) is opened by the worker.
        self.results, write_end = os.pipe()
        try:
            self.process = subprocess.Popen(
                _command(self.folder, framework, limits, self.cgroups, write_end, _process_limit(limits, memory_capped)),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True, cwd=self.folder, pass_fds=(write_end,),
                # Not the worker's environment: bwrap's own process is the sandbox's PID 1, whose
                # /proc/1/environ the code could read (--clearenv only clears the code's).
                env={"PATH": "/usr/bin:/bin"},
            )
        except OSError as exc:
            self.close()
            raise SandboxUnavailable(f"could not start bwrap: {exc}") from exc
        finally:
            os.close(write_end)
        os.set_blocking(self.results, False)

    @classmethod
    def start(cls, framework: str, limits: Limits | None = None) -> Sandbox:
        _check_setup()
        return cls(framework, limits or Limits())

    def alive(self) -> bool:
        return self.process.poll() is None

    def ready(self) -> bool:
        """Warm: its framework is imported and it waits for the code."""
        with contextlib.suppress(BlockingIOError):
            self.received += os.read(self.results, len(READY))
        return self.received.startswith(READY)

    def run(self, code: str, entry_point: str, cases: list[Case], *, device: str = "cpu") -> RunResult:
        try:
            return self._run(code, entry_point, cases, device)
        finally:
            self.close()

    def _run(self, code: str, entry_point: str, cases: list[Case], device: str) -> RunResult:
        task = self.folder / "task"
        (task / "solution.py").write_text(code, encoding="utf-8")
        spec, arrays = _serialise(cases)
        (task / "cases.json").write_text(json.dumps({"entry_point": entry_point, "device": device, "cases": spec}))
        with open(task / "cases.npz", "wb") as handle:
            np.savez(handle, **arrays)
        started = time.monotonic()
        try:
            self.process.stdin.write(b"go\n")
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # it died while warm; what it printed says why
        output, received, ended = _watch(self.process, self.results, self.limits, started)
        seconds = time.monotonic() - started
        if ended != "exited":
            return RunResult(status=ended, message=_ENDED[ended].format(limits=self.limits), output=output,
                             seconds=seconds)
        result = _read_results(self.received + received, self.limits)
        if result is None:
            status = "memory" if "MemoryError" in output or self.process.returncode in (-9, 137) else "crashed"
            message = _ENDED[status].format(limits=self.limits)
            return RunResult(status=status, message=message, output=output, seconds=seconds)
        result.output, result.seconds = output, seconds
        return result

    def close(self) -> None:
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            _kill(process)
        for group in self.cgroups:
            _cgroup_remove(group)
        self.cgroups = []
        if self.results is not None:
            os.close(self.results)
            self.results = None
        shutil.rmtree(self.folder, ignore_errors=True)


_ENDED = {
    "timeout": "Stopped after {limits.wall_seconds:g} s: an infinite loop, or far too slow.",
    "output_limit": "Stopped: it printed more than {limits.output_bytes} bytes.",
    "memory": "Stopped: it used more memory than the {limits.memory_bytes} bytes allowed.",
    "crashed": "The code ended the process before returning its results.",
}


class Pool:
    """``WARM_PER_FRAMEWORK`` warm sandboxes per framework, each replaced as soon as it is taken
    (thread-safe): a learner who runs the examples and submits at once finds the second one ready
    too, instead of waiting for ``import torch``."""

    def __init__(self):
        self._lock = threading.Lock()
        self._warm: dict[tuple[str, Limits], list[Sandbox]] = {}
        # A forked worker child must not share its parent's warm sandboxes (one folder, one
        # stdin): it forgets them and starts its own.
        os.register_at_fork(after_in_child=self._forget)
        atexit.register(self.close)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._warm = {}

    def take(self, framework: str, limits: Limits) -> Sandbox:
        _check_setup()
        with self._lock:
            waiting = self._warm.get((framework, limits), [])
            # The one that is ready, else the oldest (it has been starting the longest).
            sandbox = next((box for box in waiting if box.ready()), waiting[0] if waiting else None)
            if sandbox is not None:
                waiting.remove(sandbox)
        if sandbox is None or not sandbox.alive():
            if sandbox is not None:
                sandbox.close()
            sandbox = Sandbox(framework, limits)
        self.warm(framework, limits)
        return sandbox

    def warm(self, framework: str, limits: Limits | None = None) -> None:
        """Have ``WARM_PER_FRAMEWORK`` sandboxes of ``framework`` started and waiting (a worker
        calls this at start)."""
        limits = limits or Limits()
        with self._lock:
            waiting = self._warm.setdefault((framework, limits), [])
            while len(waiting) < WARM_PER_FRAMEWORK:
                waiting.append(Sandbox(framework, limits))

    def close(self) -> None:
        with self._lock:
            warm, self._warm = [box for boxes in self._warm.values() for box in boxes], {}
        for sandbox in warm:
            sandbox.close()


POOL = Pool()


# --- setup ---------------------------------------------------------------------------------------


def _check_setup() -> None:
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    if shutil.which("prlimit") is None:
        raise SandboxUnavailable("prlimit (util-linux) is not installed")
    if os.geteuid() == 0 and _cgroup_root() is None:
        raise SandboxUnavailable(
            "the worker runs as root and cannot create a pids cgroup, so a fork bomb could not be "
            "stopped (RLIMIT_NPROC does not bind root): run the code worker as another user, or "
            "give it a writable cgroup"
        )
    if not _site_packages():
        raise SandboxUnavailable("numpy is not installed where the sandbox can see it")


def _site_packages() -> Path | None:
    spec = importlib.util.find_spec("numpy")
    return Path(spec.origin).parent.parent if spec and spec.origin else None


def _python() -> Path:
    return Path(os.path.realpath(sys.executable))


@functools.cache
def _binds() -> tuple[str, ...]:
    """The read-only file system the sandbox sees (see the module docstring); worked out once."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("lib", "lib64", "bin", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), f"/{name}"]
        elif path.is_dir():
            args += ["--ro-bind", str(path), f"/{name}"]
    prefix = Path(sys.base_prefix).resolve()
    if not str(prefix).startswith("/usr/"):
        args += ["--ro-bind", str(prefix), str(prefix)]
    site = _site_packages()
    args += ["--ro-bind", str(site), "/opt/site"]
    torch_spec = importlib.util.find_spec("torch")
    if torch_spec and torch_spec.origin and Path(torch_spec.origin).parent.parent != site:
        args += ["--ro-bind", str(Path(torch_spec.origin).parent), "/opt/site/torch"]
    for entry in sorted(site.iterdir()):  # this project's own files, if installed there
        name = entry.name
        if name in PROJECT_PACKAGES or name.startswith(("__editable__", "attention_quiz")) or name.endswith(
            (".pth", ".egg-link")
        ):
            args += ["--tmpfs", f"/opt/site/{name}"] if entry.is_dir() else ["--ro-bind", "/dev/null", f"/opt/site/{name}"]
    return tuple(args)


def _command(folder: Path, framework: str, limits: Limits, cgroups: list[Path], results_fd: int,
             processes: int) -> list[str]:
    bwrap = [
        "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8",
        "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MKL_NUM_THREADS", "1",
        "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        *_binds(),
        "--ro-bind", str(folder / "task"), "/task",
        "--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
        "--uid", "65534", "--gid", "65534", "--hostname", "sandbox", "--chdir", "/tmp",
        str(_python()), "-I", "-B", "/task/harness.py", framework, str(results_fd),
    ]
    prlimit = [
        "prlimit", f"--cpu={limits.cpu_seconds}", f"--as={limits.memory_bytes}", f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}", "--core=0", f"--nproc={processes}", "--",
    ]
    if not cgroups:
        return prlimit + bwrap
    # Join the cgroups, then become the sandbox: every process it starts stays counted there.
    join = 'IFS=:; for group in $0; do echo $$ > "$group/cgroup.procs" || exit 125; done; exec "$@"'
    return ["/bin/sh", "-c", join, ":".join(map(str, cgroups)), *prlimit, *bwrap]


def _process_limit(limits: Limits, memory_capped: bool) -> int:
    """The process limit: without a memory cgroup, memory is only capped per process
    (RLIMIT_AS), so at most ``FALLBACK_PROCESSES`` of them keep the sandbox's total bounded."""
    return limits.processes if memory_capped else min(limits.processes, FALLBACK_PROCESSES)


@functools.cache
def _cgroup_root() -> Path | None:
    """Where this worker may make a pids cgroup per sandbox (v1 ``pids`` or v2), or None; found
    once per process (and the groups a killed worker left there swept then)."""
    return _cgroup_parent(CGROUP_PIDS_ROOTS, "pids", "pids.max")


@functools.cache
def _memory_root() -> Path | None:
    """Where it may make a memory cgroup per sandbox, or None (then fewer processes: ``_processes``)."""
    return _cgroup_parent(CGROUP_MEMORY_ROOTS, "memory", "memory.limit_in_bytes", "memory.max")


def _cgroup_parent(roots: tuple[str, ...], controller: str, *files: str) -> Path | None:
    for root in roots:
        base = Path(root)
        if not (base / "cgroup.procs").exists():
            continue
        if base == Path("/sys/fs/cgroup") and controller not in _read(base / "cgroup.controllers"):
            continue
        parent = base / CGROUP_NAME
        with contextlib.suppress(OSError):
            parent.mkdir(exist_ok=True)
            if base == Path("/sys/fs/cgroup"):
                (base / "cgroup.subtree_control").write_text(f"+{controller}")
            if any((parent / name).exists() for name in files):
                _cgroups_sweep(parent)
                return parent
    return None


def _cgroups_sweep(parent: Path) -> None:
    """Remove the empty cgroups of sandboxes whose worker died before removing them: empty and
    older than ``STALE_CGROUP_SECONDS`` (a sandbox being started joins its group within moments)."""
    now = time.time()
    for group in parent.glob("run-*"):
        with contextlib.suppress(OSError):
            if now - group.stat().st_mtime > STALE_CGROUP_SECONDS and not _read(group / "cgroup.procs").strip():
                group.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _cgroups_create(limits: Limits) -> tuple[list[Path], bool]:
    """The cgroups one sandbox joins: its memory (where it may) and its processes (where it may),
    and whether its memory is capped as a whole."""
    name = f"run-{uuid.uuid4().hex[:12]}"
    groups = []
    memory = _memory_root()
    if memory is not None:
        (memory / name).mkdir()
        limit_file = "memory.max" if (memory / name / "memory.max").exists() else "memory.limit_in_bytes"
        (memory / name / limit_file).write_text(str(limits.memory_bytes))
        groups.append(memory / name)
    pids = _cgroup_root()
    if pids is not None:
        if pids != memory:
            (pids / name).mkdir()
            groups.append(pids / name)
        (pids / name / "pids.max").write_text(str(_process_limit(limits, memory is not None)))
    return groups, memory is not None


def _cgroup_remove(group: Path) -> None:
    for _ in range(100):  # the killed processes leave it within moments
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            for pid in _read(group / "cgroup.procs").split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            time.sleep(0.02)


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 9)  # bwrap, and with it the sandbox's PID namespace
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


# --- a run ---------------------------------------------------------------------------------------


def _serialise(cases: list[Case]) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}

    def ref(value: Any) -> dict[str, Any]:
        if value is None:
            return {"none": True}
        if isinstance(value, np.ndarray):
            name = f"a{len(arrays)}"
            arrays[name] = value
            return {"array": name}
        return {"value": value}

    spec = []
    for case in cases:
        spec.append({
            "name": case.name, "call": case.call, "dtype": case.dtype,
            "args": [ref(a) for a in case.args], "kwargs": {k: ref(v) for k, v in case.kwargs.items()},
            "init": {k: ref(v) for k, v in case.init.items()},
            "state": {k: ref(v)["array"] for k, v in case.state.items()},
        })
    return spec, arrays


def _watch(process: subprocess.Popen, results: int, limits: Limits, started: float) -> tuple[str, bytes, str]:
    """Read what the sandbox prints and what it sends back until it exits; kill it on the wall
    time, the output limit or results larger than ``Limits.file_bytes``. Returns (output,
    results, "exited" | "timeout" | "output_limit")."""
    printed = process.stdout.fileno()
    streams: dict[int, list[bytes]] = {printed: [], results: []}
    caps = {printed: limits.output_bytes, results: limits.file_bytes}
    sizes = dict.fromkeys(streams, 0)
    ended = "exited"
    with selectors.DefaultSelector() as selector:
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
        open_fds = set(streams)
        while open_fds and ended == "exited":
            left = limits.wall_seconds - (time.monotonic() - started)
            if left <= 0:
                ended = "timeout"
                break
            for key, _ in selector.select(timeout=min(left, 0.5)):
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(key.fd)
                    open_fds.discard(key.fd)
                    continue
                sizes[key.fd] += len(chunk)
                if sizes[key.fd] > caps[key.fd]:
                    ended = "output_limit"
                    break
                streams[key.fd].append(chunk)
    if ended != "exited":
        _kill(process)
    else:
        try:
            process.wait(timeout=max(0.1, limits.wall_seconds - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            _kill(process)
            ended = "timeout"
    process.stdout.close()
    output = b"".join(streams[printed]).decode("utf-8", errors="replace")[: limits.output_bytes]
    return output, b"".join(streams[results]), ended


def _read_results(received: bytes, limits: Limits) -> RunResult | None:
    """What the harness sent, checked as untrusted input (the learner's code ran in the same
    process and could have sent anything). None when it is missing or malformed in any way."""
    try:
        if not received.startswith(READY):
            return None
        header, _, archive = received[len(READY):].partition(b"\n")
        raw = json.loads(header)
        arrays = _load_npz(archive, limits.file_bytes)
        return _result_of(raw, arrays)
    except Exception:  # noqa: BLE001 - whatever it is (deep JSON, a bad archive), it is not a result
        return None


def _result_of(raw: Any, arrays: dict[str, np.ndarray]) -> RunResult | None:
    if not isinstance(raw, dict) or raw.get("status") not in ("ok", "syntax_error", "import_error", "refused"):
        return None
    result = RunResult(status=raw["status"], message=str(raw.get("message", ""))[:1000], line=_int(raw.get("line")))
    cases = raw.get("cases", [])
    if not isinstance(cases, list):
        return None
    for case in cases:
        if not isinstance(case, dict):
            return None
        names = case.get("outputs") if isinstance(case.get("outputs"), list) else []
        if any(not isinstance(n, str) or n not in arrays for n in names):
            return None
        result.cases.append(CaseResult(
            name=str(case.get("name", "")), ok=case.get("status") == "ok", message=str(case.get("message", ""))[:1000],
            line=_int(case.get("line")), outputs=[arrays[n] for n in names],
        ))
    return result


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _load_npz(data: bytes, cap: int) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` the sandbox sent: at most ``MAX_ARRAYS``, no pickles, only numbers,
    and no more bytes than ``cap`` however large a size an archive or an array header claims."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_ARRAYS or sum(m.file_size for m in members) > cap:
            raise ValueError("results too large")
        for member in members:
            if not member.filename.endswith(".npy"):
                raise ValueError("not an array")
            with archive.open(member) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read_header(handle)
                if dtype.hasobject or dtype.kind not in "fiub" or int(np.prod(shape, dtype=np.int64)) * dtype.itemsize > cap:
                    raise ValueError("not an array of numbers of a sensible size")
            with archive.open(member) as handle:
                arrays[member.filename.removesuffix(".npy")] = np.lib.format.read_array(handle, allow_pickle=False)
    return arrays
