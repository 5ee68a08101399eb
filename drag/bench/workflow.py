"""A workflow of the pack (ComfyUI's API format) made into one prompt per DragBench sample.

The workflow must edit one photo: one LoadImage, feeding one DragPointsEditor either directly or through one
Scale Image for Drag (DragImageScale). For each sample the runner puts the sample's image into that LoadImage,
its pairs and editable region into the editor (at the size the editor sees, :func:`editor_size`), and its prompt
into every CLIPTextEncode that feeds a ``positive`` input (FastDrag's; LightningDrag's workflows take no
prompt). The edit is the first image of the workflow's SaveImage.

Overrides (``NODE.input=value``) change the workflow's inputs for a whole run: NODE is a node id or a class
type (every node of that class), the value is JSON where it parses as JSON (numbers, true/false) and text
otherwise, e.g. ``CheckpointLoaderSimple.ckpt_name=v1-5-pruned-emaonly.safetensors``, ``9.seed=1``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from ..errors import DragInputError, shown
from ..image_size import working_size
from ..prompt_graph import link_of
from .samples import Sample, editor_document

EDITOR = "DragPointsEditor"
SCALE = "DragImageScale"
LOAD = "LoadImage"
SAVE = "SaveImage"
TEXT = "CLIPTextEncode"


def apply_overrides(prompt: dict, overrides: list[str]) -> dict:
    """A copy of API-format ``prompt`` with each ``NODE.input=value`` of ``overrides`` set (module docstring). A
    NODE that matches no node, an input the node does not have, or a text without ``.`` and ``=`` raises
    DragInputError naming what there is."""
    prompt = copy.deepcopy(prompt)
    for override in overrides:
        target, sep, text = override.partition("=")
        node_ref, dot, name = target.rpartition(".")
        if not sep or not dot or not node_ref or not name:
            raise DragInputError(f"--set {shown(override)}: write NODE.input=value, e.g. CheckpointLoaderSimple.ckpt_name=model.safetensors or 9.seed=1.")
        nodes = [node_ref] if node_ref in prompt else [k for k, v in prompt.items() if v.get("class_type") == node_ref]
        if not nodes:
            known = ", ".join(sorted({f"{k} ({v.get('class_type')})" for k, v in prompt.items()}))
            raise DragInputError(f"--set {shown(override)}: the workflow has no node {shown(node_ref)}; its nodes are {known}.")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        for node in nodes:
            inputs = prompt[node]["inputs"]
            if name not in inputs:
                raise DragInputError(
                    f"--set {shown(override)}: node {node} ({prompt[node]['class_type']}) has no input {shown(name)}; "
                    f"its inputs are {', '.join(sorted(inputs))}."
                )
            if link_of(inputs[name]) is not None:
                raise DragInputError(f"--set {shown(override)}: input {name} of node {node} is wired to node {inputs[name][0]}; set that node instead.")
            inputs[name] = value
    return prompt


@dataclass(frozen=True)
class BenchWorkflow:
    """An API-format ``prompt`` and the ids of the nodes each sample changes: the ``load`` (LoadImage), the
    ``editor`` (DragPointsEditor), the ``scale`` between them (DragImageScale, or None), the text encoders that
    take the sample's prompt (``texts``) and the ``save`` node whose first image is the edit."""

    prompt: dict
    load: str
    editor: str
    scale: str | None
    texts: tuple[str, ...]
    save: str

    @classmethod
    def of(cls, prompt: dict, save: str | None = None) -> BenchWorkflow:
        """Find the nodes in ``prompt`` (the module docstring says what it must hold); ``save`` names the output node
        where the workflow has several SaveImage. Anything else raises DragInputError saying what was found."""
        by_class: dict[str, list[str]] = {}
        for node, spec in prompt.items():
            by_class.setdefault(spec.get("class_type"), []).append(node)
        editors = by_class.get(EDITOR, [])
        if len(editors) != 1:
            raise DragInputError(
                f"workflow: DragBench needs a workflow with one {EDITOR}, where each sample's points go; this one has {len(editors)}. "
                "Use one of the pack's single-drag workflows (workflows/api/)."
            )
        editor = editors[0]
        source = link_of(prompt[editor]["inputs"].get("image"))
        scale = None
        if source is not None and prompt.get(source[0], {}).get("class_type") == SCALE:
            scale = source[0]
            source = link_of(prompt[scale]["inputs"].get("image"))
        if source is None or prompt.get(source[0], {}).get("class_type") != LOAD:
            raise DragInputError(
                f"workflow: the {EDITOR} (node {editor}) must take its image from a {LOAD}, directly or through one {SCALE}, "
                "so that each sample's image can be put in."
            )
        saves = by_class.get(SAVE, [])
        if save is None:
            if len(saves) != 1:
                raise DragInputError(
                    f"workflow: name the node whose image is the edit (--output-node); it has {len(saves)} {SAVE} nodes ({', '.join(saves) or 'none'})."
                )
            save = saves[0]
        elif save not in prompt or "images" not in prompt[save]["inputs"]:
            raise DragInputError(f"--output-node {shown(save)}: the workflow has no image output node of that id; its {SAVE} nodes are {', '.join(saves) or 'none'}.")
        texts = tuple(
            node for node in by_class.get(TEXT, [])
            if any(k == "positive" and (link_of(v) or ("",))[0] == node for spec in prompt.values() for k, v in spec["inputs"].items())
        )
        return cls(prompt, source[0], editor, scale, texts, save)

    def editor_size(self, width: int, height: int) -> tuple[int, int]:
        """The size (width, height) of the image the editor gets from a ``width`` × ``height`` photo: the scale
        node's working size (drag/image_size.py, the rule the node runs), or the photo's own size."""
        if self.scale is None:
            return width, height
        inputs = self.prompt[self.scale]["inputs"]
        values = [inputs.get(name) for name in ("size", "fit", "multiple_of")]
        if any(link_of(v) is not None for v in values):
            raise DragInputError(f"workflow: the {SCALE} (node {self.scale}) has a wired size, fit or multiple_of; set them in the workflow instead.")
        size, fit, multiple = values
        return working_size(width, height, size, fit, multiple)

    def for_sample(self, sample: Sample, image_name: str) -> dict:
        """The prompt that edits ``sample``: its photo (uploaded as ``image_name``) in the LoadImage, its pairs and
        mask in the editor at :meth:`editor_size`, its prompt in :attr:`texts`."""
        prompt = copy.deepcopy(self.prompt)
        prompt[self.load]["inputs"]["image"] = image_name
        prompt[self.editor]["inputs"]["points"] = editor_document(sample, *self.editor_size(*sample.size))
        for node in self.texts:
            prompt[node]["inputs"]["text"] = sample.prompt
        return prompt
