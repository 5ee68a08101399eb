"""Every example workflow under ComfyUI's precision and memory flags, each in a ComfyUI started with the flag,
against the same workflows in the session's ComfyUI (fp32, default memory management).

On a CPU, ComfyUI computes in fp32 whatever the storage flag, and loads every model fully, so:

* the storage flags (``--fp8_e4m3fn-unet``, ``--fp16-unet``, ``--bf16-unet``, ``--bf16-vae``,
  ``--fp16-text-enc``) store the weights in that dtype and cast them to fp32 in each layer: the pack's
  own modules (point network, point attention, IP-Adapter) then run through ComfyUI's manual-cast
  layers, which is the path a GPU takes for fp8 weights. The edits differ from fp32 only by the
  weights' rounding: a stated relative tolerance on the edited latents.
* ``--disable-smart-memory`` unloads every model after each prompt; the workflows share models and run
  one after the other, so each finds them unloaded by the one before and the patches' inputs move out
  and back: the same arithmetic on the same machine, so the edits are bit-identical.
* ``--lowvram``, ``--novram`` and ``--gpu-only`` belong to the same exclusive group as ``--cpu`` in
  ComfyUI's arguments, and without ``--cpu`` ComfyUI needs CUDA: they are not testable on a CPU. Their
  paths are forced in-process by test_gpu_paths.py (partial loading onto a stand-in device, outputs kept
  on the device) and run for real on a GPU by ``benchmarks/gpu_check.py``.

tests/integration/gpu_paths_in_process.py forces what a GPU does (fp16 and bf16 compute, partial loads).
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load

from comfy_server import ComfyServer
from example_workflows import NAMES, checkpoint_family, prepared, write_image
from helpers import relative_error

STORAGE_FLAGS = {
    # Relative L2 error of the edited latents allowed against fp32, about twice what the tiny random models give
    # on ComfyUI 0.33 (measured: fp8 0.28, fp16 0.0003, bf16 0.019, bf16 VAE 0.018, fp16 text encoder 0).
    "--fp8_e4m3fn-unet": 0.5,
    "--fp16-unet": 0.005,
    "--bf16-unet": 0.05,
    "--bf16-vae": 0.05,
    "--fp16-text-enc": 0.005,
}
MEMORY_FLAGS = ["--disable-smart-memory"]


def _edits(server, architecture) -> dict[str, dict[str, torch.Tensor]]:
    """Per example workflow, its edited latents (by the id of the node that made them)."""
    write_image(server.dirs["input"])
    edits = {}
    for name in NAMES:
        outputs = server.run(prepared(name, architecture(checkpoint_family(name))))["outputs"]
        edits[name] = {
            node.removeprefix("save_"): load(server.fetch(out["latents"][0]))["latent_tensor"]
            for node, out in outputs.items() if node.startswith("save_")
        }
    return edits


@pytest.fixture(scope="module")
def fp32_edits(comfy, architecture):
    return _edits(comfy, architecture)


@pytest.fixture(scope="module")
def edits_with(comfy_root, test_models, tmp_path_factory, architecture):
    """``edits_with(flag)``: the edits of a ComfyUI started with ``flag`` (stopped once they are made)."""

    def edits(flag: str) -> dict[str, dict[str, torch.Tensor]]:
        server = ComfyServer.start(comfy_root, tmp_path_factory.mktemp("flag"), test_models, extra_args=(flag,))
        try:
            return _edits(server, architecture)
        finally:
            server.stop()

    return edits


@pytest.mark.parametrize("flag", list(STORAGE_FLAGS))
def test_every_workflow_runs_with_weights_stored_in_another_dtype(flag, fp32_edits, edits_with):
    edits = edits_with(flag)
    errors = {}
    for name, latents in fp32_edits.items():
        assert edits[name].keys() == latents.keys()
        for node, reference in latents.items():
            edited = edits[name][node]
            assert edited.shape == reference.shape and bool(torch.isfinite(edited).all()), (name, node)
            errors[f"{name} #{node}"] = relative_error(edited, reference)
    print(flag, {k: round(v, 4) for k, v in errors.items()})
    assert max(errors.values()) < STORAGE_FLAGS[flag], errors


@pytest.mark.parametrize("flag", MEMORY_FLAGS)
def test_every_workflow_gives_the_same_edit_under_a_memory_flag(flag, fp32_edits, edits_with):
    edits = edits_with(flag)
    for name, latents in fp32_edits.items():
        for node, reference in latents.items():
            assert torch.equal(edits[name][node], reference), (flag, name, node)
