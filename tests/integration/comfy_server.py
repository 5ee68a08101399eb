"""Start a real ComfyUI with this pack installed, and talk to it over its HTTP API (standard library only).

ComfyUI is found through ``COMFYUI_PATH`` (the folder holding ``main.py``); its Python is
``COMFYUI_PYTHON``, else a ``venv`` beside that folder (what ``shared/tools/comfy-up.sh`` makes), else
this interpreter. The pack is linked into a temporary ``custom_nodes`` folder under a unique name and
is the only custom node pack loaded (with, when asked, the test pack in tests/integration/test_pack);
inputs and outputs go to temporary folders too.

Timeouts are sized for a slow, loaded CPU machine, where one sampling step of a tiny model can take
seconds and the server answers late while it computes: ``COMFY_TEST_HTTP_TIMEOUT`` (one request,
default 300 s) and ``COMFY_TEST_PROMPT_TIMEOUT`` (one prompt, default 1800 s).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

PACK_ROOT = Path(__file__).resolve().parents[2]
PACK_NAME = "drag_editing_under_test"
TEST_PACK = Path(__file__).resolve().parent / "test_pack"
TEST_PACK_NAME = "drag_editing_test_nodes"
HTTP_TIMEOUT = float(os.environ.get("COMFY_TEST_HTTP_TIMEOUT", 300))
PROMPT_TIMEOUT = float(os.environ.get("COMFY_TEST_PROMPT_TIMEOUT", 1800))


def comfyui_path() -> Path | None:
    path = os.environ.get("COMFYUI_PATH")
    return Path(path) if path and (Path(path) / "main.py").is_file() else None


def comfyui_python(root: Path) -> str:
    if os.environ.get("COMFYUI_PYTHON"):
        return os.environ["COMFYUI_PYTHON"]
    venv = root.parent / "venv" / "bin" / "python"
    return str(venv) if venv.is_file() else sys.executable


MODEL_FOLDERS = ("lightning_drag", "ipadapter", "clip_vision", "loras", "controlnet", "checkpoints", "diffusion_models")


def prepare_dirs(workdir: Path, models: Path | None = None, test_pack: bool = False) -> dict[str, Path]:
    """Make the temporary folders and the extra-model-paths file that points ComfyUI at this pack (and
    the test pack when ``test_pack``) and, when given, at the model folders under ``models``
    (:data:`MODEL_FOLDERS`)."""
    dirs = {name: workdir / name for name in ("custom_nodes", "input", "output", "temp", "user")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    for name, target in [(PACK_NAME, PACK_ROOT)] + ([(TEST_PACK_NAME, TEST_PACK)] if test_pack else []):
        link = dirs["custom_nodes"] / name
        if not link.exists():
            link.symlink_to(target, target_is_directory=True)
    config = workdir / "extra_model_paths.yaml"
    lines = [f"drag_editing_tests:\n    custom_nodes: {dirs['custom_nodes']}\n"]
    if models is not None:
        lines += [f"    {name}: {models / name}\n" for name in MODEL_FOLDERS]
    config.write_text("".join(lines))
    dirs["config"] = config
    return dirs


def comfy_args(dirs: dict[str, Path], front_end_root: Path | None = None, extra: tuple[str, ...] = ()) -> list[str]:
    """main.py's arguments for a CPU server with the folders of :func:`prepare_dirs`; ``extra``: more flags
    (e.g. ``--fp16-unet``)."""
    packs = [p.name for p in sorted(dirs["custom_nodes"].iterdir())]
    return [
        "--cpu",
        *extra,
        "--disable-auto-launch",
        "--extra-model-paths-config", str(dirs["config"]),
        "--disable-all-custom-nodes", "--whitelist-custom-nodes", *packs,
        *(["--front-end-root", str(front_end_root)] if front_end_root else []),
        "--input-directory", str(dirs["input"]),
        "--output-directory", str(dirs["output"]),
        "--temp-directory", str(dirs["temp"]),
        "--user-directory", str(dirs["user"]),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ExecutionFailed(RuntimeError):
    """A prompt failed validation or execution; ``details`` holds ComfyUI's report."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.details = details


@dataclass
class ComfyServer:
    root: Path
    dirs: dict[str, Path]
    url: str
    process: subprocess.Popen
    log_path: Path

    @classmethod
    def start(cls, root: Path, workdir: Path, models: Path | None = None, timeout: float = 300,
              test_pack: bool = False, front_end_root: Path | None = None, extra_args: tuple[str, ...] = ()) -> ComfyServer:
        """Start ComfyUI with the pack (and the test pack), optionally serving the frontend at ``front_end_root``,
        with ``extra_args`` added to its command line."""
        dirs = prepare_dirs(workdir, models, test_pack)
        port = _free_port()
        log_path = workdir / "comfyui.log"
        log = open(log_path, "w")
        process = subprocess.Popen(
            [comfyui_python(root), "main.py", *comfy_args(dirs, front_end_root, extra_args), "--listen", "127.0.0.1", "--port", str(port)],
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = cls(root, dirs, f"http://127.0.0.1:{port}", process, log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {process.returncode}:\n{server.log()[-4000:]}")
            try:
                server.get("/system_stats", timeout=10)
                return server
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        server.stop()
        raise RuntimeError(f"ComfyUI did not answer within {timeout} s:\n{server.log()[-4000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, timeout: float = HTTP_TIMEOUT):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict):
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as r:
            data = r.read()
            return json.loads(data) if data else None

    def run(self, prompt: dict, timeout: float = PROMPT_TIMEOUT) -> dict:
        """Queue an API-format prompt, wait for that prompt alone, return its history entry; raise
        ExecutionFailed on error. A poll that the busy server answers too late is simply repeated."""
        try:
            queued = self.post("/prompt", {"prompt": prompt, "client_id": str(uuid.uuid4())})
        except urllib.error.HTTPError as e:
            details = json.loads(e.read() or b"{}")
            raise ExecutionFailed(f"validation failed: {json.dumps(details)[:2000]}", details) from None
        prompt_id = queued["prompt_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                history = self.get(f"/history/{prompt_id}", timeout=min(HTTP_TIMEOUT, max(1.0, deadline - time.monotonic())))
            except (TimeoutError, urllib.error.URLError) as e:
                if isinstance(e, urllib.error.HTTPError):
                    raise
                if self.process.poll() is not None:
                    raise RuntimeError(f"ComfyUI exited with {self.process.returncode}:\n{self.log()[-4000:]}") from None
                time.sleep(0.5)
                continue
            if prompt_id in history:
                entry = history[prompt_id]
                status = entry.get("status", {})
                if status.get("completed"):
                    return entry
                if status.get("status_str") == "error":
                    errors = [m[1] for m in status.get("messages", []) if m[0] == "execution_error"]
                    message = errors[0]["exception_message"] if errors else json.dumps(status)[:2000]
                    raise ExecutionFailed(message, errors[0] if errors else status)
            time.sleep(0.2)
        raise TimeoutError(f"prompt {prompt_id} did not finish within {timeout} s")

    def fetch(self, item: dict) -> bytes:
        """The file behind an output entry ``{"filename", "subfolder", "type"}``, through ``/view``."""
        query = urllib.parse.urlencode({k: item.get(k, "") for k in ("filename", "subfolder", "type")})
        with urllib.request.urlopen(f"{self.url}/view?{query}", timeout=HTTP_TIMEOUT) as r:
            return r.read()


def cached_nodes(entry: dict) -> set[str]:
    """The ids of the nodes ComfyUI reused from its cache in a run (its ``execution_cached`` message),
    from the run's history entry."""
    return {node for kind, message in entry["status"]["messages"] if kind == "execution_cached" for node in message["nodes"]}


def quick_test(root: Path, workdir: Path) -> str:
    """Run ``main.py --quick-test-for-ci`` with the pack installed; return its output."""
    dirs = prepare_dirs(workdir)
    done = subprocess.run(
        [comfyui_python(root), "main.py", *comfy_args(dirs), "--quick-test-for-ci"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.stdout + done.stderr
