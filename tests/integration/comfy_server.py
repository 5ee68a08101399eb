"""Start a real ComfyUI with this pack installed, and talk to it over its HTTP API (the pack's own client,
``drag/bench/comfy_client.py``).

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

import os
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

PACK_ROOT = Path(__file__).resolve().parents[2]
if str(PACK_ROOT / "devtools") not in sys.path:  # run outside pytest (make_workflow_thumbnails.py)
    sys.path.insert(0, str(PACK_ROOT / "devtools"))
from in_process import load_pack  # noqa: E402

load_pack()
from drag_editing_dev.drag.bench.comfy_client import ComfyClient, ExecutionFailed, cached_nodes  # noqa: E402,F401  (the tests import them from here)

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


class ComfyServer(ComfyClient):
    """A ComfyUI process started for the tests, and the client of its HTTP API."""

    def __init__(self, root: Path, dirs: dict[str, Path], url: str, process: subprocess.Popen, log_path: Path) -> None:
        super().__init__(url, HTTP_TIMEOUT)
        self.root, self.dirs, self.process, self.log_path = root, dirs, process, log_path

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

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"ComfyUI exited with {self.process.returncode}:\n{self.log()[-4000:]}")

    def run(self, prompt: dict, timeout: float = PROMPT_TIMEOUT) -> dict:
        """Queue an API-format prompt, wait for that prompt alone, return its history entry; raise
        ExecutionFailed on error."""
        return super().run(prompt, timeout)


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
