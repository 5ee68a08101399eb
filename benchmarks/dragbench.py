"""DragBench in one command: run a workflow of the pack over the benchmark on one or more ComfyUI servers, score the
edits with the paper's metrics, and report them (README.md, DragBench).

    python benchmarks/dragbench.py run --dragbench DragBench --workflow "Drag - FastDrag SD1.5, SD2" \\
        --server http://127.0.0.1:8188 --server http://127.0.0.1:8189 [--set NODE.input=value ...]
    COMFYUI_PATH=/path/to/ComfyUI python benchmarks/dragbench.py score dragbench_runs/<run> --dragbench DragBench \\
        --dift-checkpoint v2-1_768-ema-pruned.safetensors --alexnet alexnet-owt-7be5be79.pth --lpips alex.pth
    python benchmarks/dragbench.py report dragbench_runs/<run> --dragbench DragBench [--compare dragbench_runs/<other>]

``run`` needs only Python and the servers (standard library HTTP); ``score`` runs SD-2.1 for the DIFT features
inside ComfyUI, so it runs with ComfyUI's Python and ``COMFYUI_PATH``. Both resume: run the same command again.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from comfy_bench import boot_from_env, load_pack  # noqa: E402

load_pack()
from drag_editing_dev.drag.bench import metrics, report, runner, scoring  # noqa: E402
from drag_editing_dev.drag.bench.comfy_client import ComfyClient  # noqa: E402
from drag_editing_dev.drag.bench.samples import read_samples  # noqa: E402
from drag_editing_dev.drag.bench.workflow import BenchWorkflow, apply_overrides  # noqa: E402
from drag_editing_dev.drag.errors import DragInputError, shown  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / "workflows" / "api"
REPORT = "report"


def _workflow(name: str) -> tuple[str, dict]:
    """(run name, API prompt) of ``name``: a file, or the name of one of the pack's workflows."""
    path = Path(name)
    if not path.is_file():
        path = WORKFLOWS / f"{name}.json"
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in WORKFLOWS.glob("*.json")))
        raise DragInputError(f"--workflow {shown(name)}: no such file, nor a workflow of the pack ({names}).")
    prompt = json.loads(path.read_text())
    if "nodes" in prompt or not all(isinstance(v, dict) and "class_type" in v for v in prompt.values()):
        raise DragInputError(f"--workflow {path}: not in ComfyUI's API format. Export it with Workflow → Export (API), or use workflows/api/.")
    return path.stem, prompt


def _samples(args):
    samples = read_samples(Path(args.dragbench).resolve())
    if getattr(args, "only", None):
        samples = [s for s in samples if any(fnmatch.fnmatch(s.key, pattern) for pattern in args.only)]
        if not samples:
            raise DragInputError(f"--only {' '.join(args.only)}: no sample's <category>/<sample> matches.")
    return samples


def cmd_run(args) -> int:
    name, prompt = _workflow(args.workflow)
    bench = BenchWorkflow.of(apply_overrides(prompt, args.set), args.output_node)
    samples = _samples(args)
    folder = runner.RunFolder(Path(args.out) / (args.run or name))
    clients = [ComfyClient(url) for url in args.server]
    runner.check_servers(clients)
    texts = ", ".join(f"node {n}" for n in bench.texts) or "none: this workflow takes no prompt"
    print(f"{len(samples)} samples → {folder.path}; the edit is node {bench.save}'s first image; the prompt goes to {texts}", file=sys.stderr)
    try:
        outcome = runner.run_samples(bench, samples, clients, folder, args.per_server, args.timeout)
    except KeyboardInterrupt:
        done = sum(folder.done(s) for s in samples)
        print(f"stopped: {done} of {len(samples)} edited. Run the same command again to go on.", file=sys.stderr)
        return 130
    for url, error in outcome.server_errors.items():
        print(f"server {url} stopped answering: {error}", file=sys.stderr)
    keys = {s.key for s in samples}
    failures = {k: f for k, f in folder.failures().items() if k in keys}  # of this selection (--only)
    for key, failure in failures.items():
        print(f"failed {key}: {shown(failure['error'], 300)}", file=sys.stderr)
    done = sum(folder.done(s) for s in samples)
    print(f"{done} of {len(samples)} edited, {len(failures)} failed, {len(outcome.lost)} not run (no server answered) in {folder.path}", file=sys.stderr)
    return 0 if done == len(samples) else 1


def comfy_dift(name: str, seed: int):
    """``featurize(image, prompt)`` for scoring.py: DIFT's features (dift.py) of an SD-2.x model loaded by ComfyUI
    from ``name``, a file in its checkpoints folder, a path to one, or a diffusers folder. The noise of each image
    is drawn from ``seed``."""
    import comfy.diffusers_load
    import comfy.model_management as mm
    import folder_paths
    import torch

    from comfy_bench import checkpoint
    from drag_editing_dev.drag.bench.dift import DIFT_UP_INDEX, DiftModel, dift_features

    if Path(name).is_dir():
        model, clip, vae = comfy.diffusers_load.load_diffusers(name, embedding_directory=folder_paths.get_folder_paths("embeddings"))
    elif Path(name).is_file() or name in folder_paths.get_filename_list("checkpoints"):
        model, clip, vae = checkpoint(name)
    else:
        raise DragInputError(
            f"--dift-checkpoint {shown(name)}: not a file, a diffusers folder, nor a checkpoint in {folder_paths.get_folder_paths('checkpoints')}. "
            "MD's features are SD-2.1's: put v2-1_768-ema-pruned.safetensors (huggingface.co/stabilityai/stable-diffusion-2-1) "
            "in ComfyUI's models/checkpoints, or name a local diffusers folder of stabilityai/stable-diffusion-2-1."
        )
    kind = type(model.model.model_config).__name__
    if kind != "SD20":
        raise DragInputError(f"--dift-checkpoint {shown(name)}: ComfyUI detects it as {kind}; MD's features are SD-2.1's (detected as SD20).")
    unet = model.model.diffusion_model
    per_level = len(unet.output_blocks) // len(unet.num_res_blocks)
    # ComfyUI runs a block's layers one by one, so the block's own forward hook would never fire: its last layer's does.
    last_layer = unet.output_blocks[(DIFT_UP_INDEX + 1) * per_level - 1][-1]
    alphas = 1 / (model.model.model_sampling.sigmas.double() ** 2 + 1)
    contexts: dict[str, torch.Tensor] = {}

    class Captured(Exception):
        pass

    def encode(batch):
        mm.load_models_gpu([vae.patcher])
        encoder = vae.first_stage_model
        moments = encoder.quant_conv(encoder.encoder(batch.to(vae.device, vae.vae_dtype)))
        return moments.float().chunk(2, dim=1)

    def features(latent, t, context):
        mm.load_models_gpu([model])
        device, dtype = model.load_device, model.model.manual_cast_dtype or model.model.get_dtype()
        out = []

        def keep(module, inputs, output):
            out.append(output)
            raise Captured  # the rest of the UNet is not needed

        handle = last_layer.register_forward_hook(keep)
        try:
            timesteps = torch.full((latent.shape[0],), t, device=device)
            unet(latent.to(device, dtype), timesteps=timesteps, context=context.to(device, dtype))
        except Captured:
            pass
        finally:
            handle.remove()
        return out[0]

    dift = DiftModel(encode, features, alphas, model.model.latent_format.scale_factor)

    def featurize(image, prompt):
        if prompt not in contexts:
            contexts[prompt] = clip.encode_from_tokens(clip.tokenize(prompt))
        generator = torch.Generator().manual_seed(seed)
        return dift_features(image, dift, contexts[prompt], generator)

    return featurize


def _write_report(folder: Path, samples, compare_to: Path | None = None) -> str:
    """Write the run's table (CSV, JSON) and its HTML page (beside a second run's when ``compare_to``) into
    ``<run>/report``; return the table as text."""
    out = folder / REPORT
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    views = []
    for run in [folder] + ([compare_to] if compare_to else []):
        scores = run / scoring.SCORES
        if not scores.is_file():
            raise DragInputError(f"report: {run} has no {scoring.SCORES}; score it first (dragbench.py score).")
        records = {r["key"]: r for r in json.loads(scores.read_text())}
        rows = report.table(list(records.values()))
        failures = {k: f["error"] for k, f in runner.RunFolder(run).failures().items()}
        edits = {k: Path(os.path.relpath(run / k / runner.EDIT, out)).as_posix() for k in records}
        views.append(report.RunView(run.name, rows, records, failures, edits))
    shown_samples = []
    for sample in samples:
        source = sources / f"{sample.key.replace('/', '__')}.jpg"
        if not source.is_file():
            with Image.open(sample.image) as image:
                image.convert("RGB").save(source, quality=90)
        shown_samples.append(report.SampleView(sample.key, sample.prompt, f"sources/{source.name}", sample.size, sample.pairs))
    (out / "table.csv").write_text(report.to_csv(views[0].rows))
    (out / "table.json").write_text(json.dumps(report.to_json(views[0].rows), indent=1))
    page = "compare_" + compare_to.name + ".html" if compare_to else "index.html"
    title = f"DragBench: {folder.name}" + (f" vs {compare_to.name}" if compare_to else "")
    (out / page).write_text(report.to_html(title, views, shown_samples))
    text = "\n\n".join(f"{view.name}\n{report.to_text(view.rows)}" for view in views)
    return f"{text}\n\nreport: {out / page}"


def cmd_score(args) -> int:
    samples = _samples(args)
    folder = runner.RunFolder(Path(args.run_dir).resolve())
    lpips = metrics.load_lpips(Path(args.alexnet), Path(args.lpips))
    dift = str(Path(args.dift_checkpoint).resolve()) if Path(args.dift_checkpoint).exists() else args.dift_checkpoint
    boot_from_env("cpu" if args.cpu else "cuda")  # it moves into ComfyUI's folder: every path is resolved above
    featurize = comfy_dift(dift, args.seed)
    scoring.score_run(folder, samples, featurize, lpips, lambda i, n: print(f"scored {i}/{n}", file=sys.stderr))
    print(_write_report(folder.path, samples))
    return 0


def cmd_report(args) -> int:
    print(_write_report(Path(args.run_dir), _samples(args), Path(args.compare) if args.compare else None))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="edit every sample with a workflow, on one or more ComfyUI servers")
    run.add_argument("--workflow", required=True, help="an API-format workflow file, or a workflow of the pack by name (workflows/api/)")
    run.add_argument("--server", action="append", required=True, help="a ComfyUI URL with this pack installed; repeat for more servers (one per GPU)")
    run.add_argument("--out", default="dragbench_runs", help="the folder holding the runs")
    run.add_argument("--run", help="the run's name (default: the workflow's); the same name resumes a run")
    run.add_argument("--set", action="append", default=[], metavar="NODE.input=value", help="override a workflow input (node id or class type)")
    run.add_argument("--output-node", help="the id of the node whose first image is the edit (needed when there are several SaveImage)")
    run.add_argument("--per-server", type=int, default=2, help="prompts kept in flight on each server")
    run.add_argument("--timeout", type=float, default=1800, help="seconds one edit may take before it counts as failed")
    score = commands.add_parser("score", help="MD and IF of a run's edits (run with ComfyUI's Python and COMFYUI_PATH)")
    score.add_argument("run_dir")
    score.add_argument("--dift-checkpoint", required=True, help="SD-2.1: a checkpoint in ComfyUI's checkpoints folder, a path, or a diffusers folder")
    score.add_argument("--alexnet", required=True, help=f"torchvision's {metrics.ALEXNET_FILE}")
    score.add_argument("--lpips", required=True, help=f"LPIPS v0.1's {metrics.LPIPS_FILE}")
    score.add_argument("--seed", type=int, default=42, help="the seed of DIFT's latent samples and noise")
    score.add_argument("--cpu", action="store_true", help="run the features on the CPU")
    rep = commands.add_parser("report", help="the table and the HTML page of a scored run, or of two side by side")
    rep.add_argument("run_dir")
    rep.add_argument("--compare", help="a second scored run")
    for command in (run, score, rep):
        command.add_argument("--dragbench", required=True, help="the DragBench folder (<category>/<sample>/original_image.png, meta_data.pkl)")
        command.add_argument("--only", nargs="+", metavar="PATTERN", help="only the samples whose <category>/<sample> matches, e.g. 'animals/*'")
    args = parser.parse_args(argv)
    try:
        return {"run": cmd_run, "score": cmd_score, "report": cmd_report}[args.command](args)
    except DragInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
