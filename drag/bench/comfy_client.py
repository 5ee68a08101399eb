"""A ComfyUI server's HTTP API, standard library only: upload an image, queue an API-format prompt, wait for it,
fetch what it saved, cancel it. The DragBench runner drives its servers with it; the integration tests drive
theirs with it too (``tests/integration/comfy_server.py``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid


class ExecutionFailed(RuntimeError):
    """A prompt failed validation or execution; ``details`` holds ComfyUI's report (its ``node_errors`` for a
    validation failure, the ``execution_error`` message for a failure while it ran)."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.details = details


class ComfyClient:
    """One ComfyUI server at ``url`` (e.g. ``http://127.0.0.1:8188``). ``http_timeout``: seconds one request may
    take; a busy server answers late, so waits poll rather than hold a request open."""

    def __init__(self, url: str, http_timeout: float = 300.0) -> None:
        self.url = url.rstrip("/")
        self.http_timeout = http_timeout
        self.client_id = str(uuid.uuid4())

    def get(self, path: str, timeout: float | None = None):
        """The JSON answer to GET ``path``."""
        with urllib.request.urlopen(self.url + path, timeout=timeout or self.http_timeout) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict):
        """POST ``body`` as JSON to ``path``; the JSON answer, or None for an empty one."""
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.http_timeout) as r:
            data = r.read()
            return json.loads(data) if data else None

    def upload_image(self, data: bytes, name: str) -> str:
        """Put an image file into the server's input folder as ``name`` (replacing one of that name); returns the
        value LoadImage's ``image`` takes for it."""
        boundary = uuid.uuid4().hex
        fields = [
            (f'name="image"; filename="{name}"\r\nContent-Type: application/octet-stream', data),
            ('name="overwrite"', b"true"),
            ('name="type"', b"input"),
        ]
        body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; {head}\r\n\r\n".encode() + value + b"\r\n" for head, value in fields)
        body += f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.url + "/upload/image", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=self.http_timeout) as r:
            answer = json.loads(r.read())
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else answer["name"]

    def queue(self, prompt: dict) -> str:
        """Queue an API-format prompt; its prompt id. A prompt the server refuses raises ExecutionFailed with the
        server's reasons."""
        try:
            return self.post("/prompt", {"prompt": prompt, "client_id": self.client_id})["prompt_id"]
        except urllib.error.HTTPError as e:
            details = json.loads(e.read() or b"{}")
            raise ExecutionFailed(f"validation failed: {json.dumps(details)[:2000]}", details) from None

    def wait(self, prompt_id: str, timeout: float, stop=None) -> dict:
        """Wait for prompt ``prompt_id`` alone and return its history entry; raise ExecutionFailed if it failed,
        TimeoutError after ``timeout`` s. A poll the busy server answers too late is repeated. ``stop``: an
        optional callable; when it returns true the wait ends with InterruptedError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if stop is not None and stop():
                raise InterruptedError(prompt_id)
            try:
                history = self.get(f"/history/{prompt_id}", timeout=min(self.http_timeout, max(1.0, deadline - time.monotonic())))
            except (TimeoutError, urllib.error.URLError) as e:
                if isinstance(e, urllib.error.HTTPError):
                    raise
                self.check_alive()
                time.sleep(0.5)
                continue
            entry = history.get(prompt_id)
            if entry is not None:
                status = entry.get("status", {})
                if status.get("completed"):
                    return entry
                if status.get("status_str") == "error":
                    errors = [m[1] for m in status.get("messages", []) if m[0] == "execution_error"]
                    message = errors[0]["exception_message"] if errors else json.dumps(status)[:2000]
                    raise ExecutionFailed(message, errors[0] if errors else status)
            time.sleep(0.2)
        raise TimeoutError(f"prompt {prompt_id} did not finish within {timeout} s")

    def run(self, prompt: dict, timeout: float) -> dict:
        """Queue ``prompt`` and wait for it (:meth:`queue`, :meth:`wait`); its history entry."""
        return self.wait(self.queue(prompt), timeout)

    def cancel(self, prompt_id: str) -> None:
        """Take prompt ``prompt_id`` off the queue, or interrupt it if it is the one running (no other)."""
        self.post("/queue", {"delete": [prompt_id]})
        self.post("/interrupt", {"prompt_id": prompt_id})

    def fetch(self, item: dict) -> bytes:
        """The file behind an output entry ``{"filename", "subfolder", "type"}``, through ``/view``."""
        query = urllib.parse.urlencode({k: item.get(k, "") for k in ("filename", "subfolder", "type")})
        with urllib.request.urlopen(f"{self.url}/view?{query}", timeout=self.http_timeout) as r:
            return r.read()

    def check_alive(self) -> None:
        """Called when a poll gets no answer: raise if the server is known to be gone (a subclass that started the
        server knows); by default a late answer is assumed to be a busy server."""


def execution_seconds(entry: dict) -> float | None:
    """How long a prompt ran on the server, from its history entry: the time between its ``execution_start`` and
    ``execution_success`` messages (milliseconds in ComfyUI), in seconds; None when either has no timestamp.
    Queueing time and this client's polling are not in it."""
    stamps = {kind: message.get("timestamp") for kind, message in entry.get("status", {}).get("messages", [])}
    start, end = stamps.get("execution_start"), stamps.get("execution_success")
    return (end - start) / 1000 if start is not None and end is not None else None


def cached_nodes(entry: dict) -> set[str]:
    """The ids of the nodes ComfyUI reused from its cache in a run (its ``execution_cached`` message), from the
    run's history entry."""
    return {node for kind, message in entry["status"]["messages"] if kind == "execution_cached" for node in message["nodes"]}
