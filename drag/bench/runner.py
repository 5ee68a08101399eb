"""Run a workflow over DragBench samples on one or more ComfyUI servers, into a run folder a stopped run resumes.

Each server gets its own workers (two by default: while one prompt runs the next is already queued, so a server
never waits on this client); the samples are shared out as the workers free up. A sample that fails (ComfyUI
refuses the prompt, a node raises, it times out) is recorded with its error and the run goes on; a server that
stops answering gives its sample back and leaves the run to the others.

The run folder, ``<out>/<run>/``:

- ``run.json``: the workflow as run (overrides applied) and its output node; a resumed run must match it.
- ``<category>/<sample>/dragged_image.png``: the edit, at the size the workflow made it (the layout the official
  evaluation reads), and ``edit.json`` beside it: ``{"seconds", "cold", "server", "prompt_id"}``. ``seconds`` is
  the server's own execution time of the prompt; ``cold`` marks the first prompt a server ran in an invocation
  (it includes loading the models).
- ``failures.json``: ``{key: {"error", "server"}}`` for the samples whose last try failed.

A sample counts as done when its ``dragged_image.png`` exists (it is written last, by rename); a resumed run
skips those and tries the rest, failed ones included.
"""

from __future__ import annotations

import json
import queue
import re
import sys
import threading
import time
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ..errors import DragInputError, shown
from .comfy_client import ComfyClient, ExecutionFailed, execution_seconds
from .samples import Sample
from .workflow import EDITOR, BenchWorkflow

EDIT = "dragged_image.png"
EDIT_RECORD = "edit.json"
RUN_RECORD = "run.json"
FAILURES = "failures.json"


class RunFolder:
    """A run's folder (module docstring); safe to use from several worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def edit(self, sample: Sample) -> Path:
        return self.path / sample.category / sample.name / EDIT

    def record(self, sample: Sample) -> Path:
        return self.path / sample.category / sample.name / EDIT_RECORD

    def done(self, sample: Sample) -> bool:
        return self.edit(sample).is_file()

    def start(self, bench: BenchWorkflow) -> None:
        """Write ``run.json`` for a new run; for an existing one, check it was made with the same workflow and
        output node, and refuse (DragInputError) if not: a run's edits must all come from one workflow."""
        record = self.path / RUN_RECORD
        spec = {"workflow": bench.prompt, "output_node": bench.save}
        if record.is_file():
            if json.loads(record.read_text()) != spec:
                raise DragInputError(
                    f"run: {self.path} holds edits made with another workflow or other overrides ({RUN_RECORD}). "
                    "Name a new run (--run), or delete that folder to start it again."
                )
            return
        self.path.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(spec, indent=1))

    def save(self, sample: Sample, image: bytes, record: dict) -> None:
        """Store an edit: its record, then the image (by rename, so an image on disk is always whole)."""
        path = self.edit(sample)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.record(sample).write_text(json.dumps(record))
        partial = path.with_suffix(".partial")
        partial.write_bytes(image)
        partial.replace(path)
        self._update_failures(sample.key, None)

    def fail(self, sample: Sample, error: str, server: str) -> None:
        self._update_failures(sample.key, {"error": error, "server": server})

    def failures(self) -> dict[str, dict]:
        path = self.path / FAILURES
        return json.loads(path.read_text()) if path.is_file() else {}

    def _update_failures(self, key: str, failure: dict | None) -> None:
        with self._lock:
            failures = self.failures()
            if failure is None and key not in failures:
                return
            if failure is None:
                del failures[key]
            else:
                failures[key] = failure
            (self.path / FAILURES).write_text(json.dumps(failures, indent=1))


class Progress:
    """One status line on ``stream``: samples done of all, failures, seconds per edit (the servers' own times)
    and the time left at the rate of this invocation; redrawn in place on a terminal, a line per change
    otherwise."""

    def __init__(self, total: int, done: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.failed = total, done, 0
        self.stream = stream
        self.started, self.done_here = time.monotonic(), 0
        self.seconds: list[float] = []
        self._lock = threading.Lock()

    def update(self, seconds: float | None = None, failed: bool = False) -> None:
        with self._lock:
            if failed:
                self.failed += 1
            else:
                self.done += 1
                if seconds is not None:
                    self.seconds.append(seconds)
            self.done_here += 1
            self.stream.write(("\r" if self.stream.isatty() else "") + self.line() + ("" if self.stream.isatty() else "\n"))
            self.stream.flush()

    def line(self) -> str:
        width = 24
        filled = round(width * self.done / max(1, self.total))
        per_edit = f"{sum(self.seconds) / len(self.seconds):.2f} s per edit" if self.seconds else "- s per edit"
        left = self.total - self.done - self.failed
        eta = (time.monotonic() - self.started) / self.done_here * left if self.done_here else 0
        return f"dragbench {'█' * filled}{'░' * (width - filled)} {self.done}/{self.total} · {self.failed} failed · {per_edit} · {eta / 60:.0f} min left"


def upload_name(sample: Sample) -> str:
    """The file name a sample's photo gets in a server's input folder: unique per sample, safe on any disk."""
    return "dragbench_" + re.sub(r"[^A-Za-z0-9._-]", "_", f"{sample.category}__{sample.name}") + sample.image.suffix


def check_servers(clients: list[ComfyClient]) -> None:
    """Refuse (DragInputError) a server that does not answer or lacks the pack's nodes, before anything is queued."""
    for client in clients:
        try:
            info = client.get(f"/object_info/{EDITOR}", timeout=30)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise DragInputError(f"--server {client.url}: no ComfyUI answers there ({shown(error, 120)}). Start it, or fix the address.") from None
        if EDITOR not in info:
            raise DragInputError(f"--server {client.url}: that ComfyUI has no {EDITOR}; install this pack into its custom_nodes and restart it.")


@dataclass
class Outcome:
    """What an invocation of :func:`run_samples` did: keys edited, failed (with errors), and left undone because
    no server answered (``lost``, with the last connection error)."""

    edited: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    server_errors: dict[str, str] = field(default_factory=dict)


def run_samples(
    bench: BenchWorkflow,
    samples: list[Sample],
    clients: list[ComfyClient],
    folder: RunFolder,
    per_server: int = 2,
    timeout: float = 1800.0,
    stream: TextIO = sys.stderr,
) -> Outcome:
    """Edit every sample of ``samples`` not yet done in ``folder`` with ``bench`` across ``clients`` (module
    docstring). A KeyboardInterrupt takes this run's prompts off the servers' queues (interrupting the one
    running) and is raised again once the workers have stopped; what finished stays done."""
    folder.start(bench)
    pending = [s for s in samples if not folder.done(s)]
    progress = Progress(len(samples), len(samples) - len(pending), stream)
    work: queue.Queue[Sample] = queue.Queue()
    for sample in pending:
        work.put(sample)
    outcome, stop = Outcome(), threading.Event()
    cold = {client.url: True for client in clients}
    lock = threading.Lock()

    def edit(client: ComfyClient, sample: Sample) -> None:
        prompt = bench.for_sample(sample, client.upload_image(sample.image.read_bytes(), upload_name(sample)))
        with lock:
            first, cold[client.url] = cold[client.url], False
        prompt_id = client.queue(prompt)
        try:
            entry = client.wait(prompt_id, timeout, stop=stop.is_set)
        except (InterruptedError, TimeoutError):
            client.cancel(prompt_id)
            raise
        images = entry.get("outputs", {}).get(bench.save, {}).get("images", [])
        if not images:
            raise ExecutionFailed(f"node {bench.save} of the workflow saved no image", entry.get("status", {}))
        seconds = execution_seconds(entry)
        folder.save(sample, client.fetch(images[0]), {"seconds": seconds, "cold": first, "server": client.url, "prompt_id": prompt_id})
        outcome.edited.append(sample.key)
        progress.update(seconds)

    unfinished = [len(pending)]  # neither edited nor failed; a sample given back by a silent server still counts

    def finished() -> None:
        with lock:
            unfinished[0] -= 1

    def worker(client: ComfyClient) -> None:
        while not stop.is_set():
            try:
                sample = work.get(timeout=0.2)
            except queue.Empty:
                with lock:
                    if unfinished[0] == 0:  # else another worker may still give a sample back
                        return
                continue
            try:
                edit(client, sample)
                finished()
            except InterruptedError:
                return
            except (ExecutionFailed, TimeoutError, DragInputError, urllib.error.HTTPError) as error:
                folder.fail(sample, str(error), client.url)
                outcome.failed[sample.key] = str(error)
                progress.update(failed=True)
                finished()
            except (urllib.error.URLError, ConnectionError) as error:
                work.put(sample)
                outcome.server_errors[client.url] = shown(error, 200)
                return
            except Exception as error:  # anything else (a full disk, an answer of another shape) fails the sample, never the run
                folder.fail(sample, f"{type(error).__name__}: {error}", client.url)
                outcome.failed[sample.key] = str(error)
                progress.update(failed=True)
                finished()

    # Round robin, so that a run of few samples still spreads over the servers.
    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for _ in range(per_server) for c in clients]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for thread in threads:
            thread.join()
        raise
    finally:
        if stream.isatty():
            stream.write("\n")
    while not work.empty():
        outcome.lost.append(work.get_nowait().key)
    return outcome
