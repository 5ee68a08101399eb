"""DragBench's metrics as its evaluation scripts define them (DragDiffusion ``drag_bench_evaluation/``,
``run_eval_similarity.py`` and ``run_eval_point_matching.py``; FastDrag ships identical copies).

- Image Fidelity, IF = 1 − LPIPS: AlexNet LPIPS v0.1 between the source and the edit, the edit first resized
  to the source's size (PIL bilinear), both as [-1, 1] tensors resized bilinearly to 224 × 224.
- Mean Distance, MD: each handle's feature in the source is matched by cosine similarity anywhere in the
  edit's features (the first maximum in raster order); MD is the Euclidean pixel distance from that match
  to the pair's target, averaged over all pairs of all samples (per pair, not per image). The features are
  DIFT's (SD-2.1, t = 261, up block 1, ensemble 8, the sample's prompt), upsampled bilinearly to the image.

Images here are (1, 3, H, W) float tensors in [-1, 1]; points (x, y) in image pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import DragInputError, shown

LPIPS_SIZE = 224


def protocol_pair(source: Image.Image, edited: Image.Image) -> tuple[torch.Tensor, torch.Tensor]:
    """The source and the edit as the evaluation compares them: the edit resized to the source's size with
    PIL's bilinear filter, both as (1, 3, H, W) float32 in [-1, 1] (x / 127.5 − 1)."""
    source = source.convert("RGB")
    edited = edited.convert("RGB")
    if edited.size != source.size:
        edited = edited.resize(source.size, Image.BILINEAR)

    def tensor(image: Image.Image) -> torch.Tensor:
        return torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)[None]

    return tensor(source), tensor(edited)


def match_distances(source_features: torch.Tensor, edited_features: torch.Tensor, pairs) -> torch.Tensor:
    """For each (handle, target) pair: the distance in pixels from the target to where the handle's source
    feature matches best in the edit. Features: (1, C, H, W) at the image's size (row = y, column = x); the
    points are whole pixels (the benchmark's are integers; others are truncated, as indexing does). The
    match is the first maximum of the cosine similarity in raster order (numpy's argmax). Returns (pairs,)."""
    _, channels, height, width = edited_features.shape
    flat = F.normalize(edited_features[0].reshape(channels, -1).double(), dim=0, eps=1e-8)
    distances = []
    for (hx, hy), (tx, ty) in pairs:
        vector = F.normalize(source_features[0, :, int(hy), int(hx)].double(), dim=0, eps=1e-8)
        best = int(torch.argmax(vector @ flat))
        row, column = divmod(best, width)
        distances.append(float(np.hypot(ty - row, tx - column)))
    return torch.tensor(distances, dtype=torch.float64)


class AlexNetLPIPS(torch.nn.Module):
    """LPIPS v0.1 on AlexNet: the distance between two (N, 3, H, W) images in [-1, 1], shape (N,).

    Weights from the user's files, unmodified: torchvision's AlexNet (``alexnet-owt-7be5be79.pth``, keys
    ``features.{0,3,6,8,10}.{weight,bias}``; the classifier is not used) and LPIPS's linear heads
    (``lpips`` package ``weights/v0.1/alex.pth``, keys ``lin{0..4}.model.1.weight``)."""

    # The input scaling of LPIPS: ImageNet statistics, expressed for [-1, 1] inputs.
    SHIFT = (-0.030, -0.088, -0.188)
    SCALE = (0.458, 0.448, 0.450)
    CHANNELS = (64, 192, 384, 256, 256)

    def __init__(self) -> None:
        super().__init__()
        conv = torch.nn.Conv2d
        self.features = torch.nn.ModuleDict({
            "0": conv(3, 64, 11, stride=4, padding=2), "3": conv(64, 192, 5, padding=2), "6": conv(192, 384, 3, padding=1),
            "8": conv(384, 256, 3, padding=1), "10": conv(256, 256, 3, padding=1),
        })
        self.lins = torch.nn.ModuleList(conv(c, 1, 1, bias=False) for c in self.CHANNELS)
        self.register_buffer("shift", torch.tensor(self.SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(self.SCALE).view(1, 3, 1, 1), persistent=False)

    def load(self, alexnet: dict[str, torch.Tensor], heads: dict[str, torch.Tensor]) -> "AlexNetLPIPS":
        """Take the weights from torchvision's AlexNet state dict and LPIPS's ``alex.pth``; a missing key or a
        wrong shape raises KeyError / RuntimeError from ``load_state_dict``."""
        state = {f"features.{k.split('.', 1)[1]}": v for k, v in alexnet.items() if k.startswith("features.")}
        state |= {f"lins.{i}.weight": heads[f"lin{i}.model.1.weight"] for i in range(5)}
        self.load_state_dict(state, strict=True)
        return self

    def _taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """AlexNet's activations after relu1 ... relu5 (the layers LPIPS compares)."""
        f = self.features
        x = F.relu(f["0"](x))
        taps = [x]
        x = F.relu(f["3"](F.max_pool2d(x, 3, 2)))
        taps.append(x)
        x = F.relu(f["6"](F.max_pool2d(x, 3, 2)))
        taps.append(x)
        x = F.relu(f["8"](x))
        taps.append(x)
        taps.append(F.relu(f["10"](x)))
        return taps

    def _unit_taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The taps of input ``x``, each scaled to unit length across channels at every pixel."""
        return [t / (t.pow(2).sum(1, keepdim=True).sqrt() + 1e-10) for t in self._taps((x - self.shift) / self.scale)]

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        total = 0
        for lin, ua, ub in zip(self.lins, self._unit_taps(a), self._unit_taps(b)):
            total = total + lin((ua - ub) ** 2).mean((2, 3))
        return total.view(-1)


ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
ALEXNET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
LPIPS_FILE = "alex.pth"
LPIPS_URL = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth"


def load_lpips(alexnet: Path, heads: Path) -> AlexNetLPIPS:
    """The LPIPS of the evaluation from the user's two files (read as tensors only, ``weights_only``): torchvision's
    AlexNet weights at ``alexnet`` and LPIPS v0.1's ``alex.pth`` at ``heads``. A missing or unreadable file raises
    DragInputError with the file's name and where to get it."""
    states = []
    for path, option, name, url in ((alexnet, "--alexnet", ALEXNET_FILE, ALEXNET_URL), (heads, "--lpips", LPIPS_FILE, LPIPS_URL)):
        where = f"{option} {shown(path, 200)}"
        if not Path(path).is_file():
            raise DragInputError(f"{where}: no such file. IF needs {name}; download it from {url} and name it with {option}.")
        try:
            states.append(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as error:  # torch raises several types for a file that is not a tensor pickle
            raise DragInputError(f"{where}: not a weights file torch can read as tensors ({shown(error, 160)}). Use {name} from {url}.") from None
    try:
        return AlexNetLPIPS().load(*states).eval()
    except (KeyError, RuntimeError) as error:
        raise DragInputError(
            f"--alexnet / --lpips: the files do not hold AlexNet and its LPIPS v0.1 heads ({shown(error, 200)}). Use {ALEXNET_FILE} ({ALEXNET_URL}) "
            f"and {LPIPS_FILE} ({LPIPS_URL})."
        ) from None


def image_fidelity(lpips: AlexNetLPIPS, source: torch.Tensor, edited: torch.Tensor) -> float:
    """IF = 1 − LPIPS of one source and its edit ((1, 3, H, W) in [-1, 1], same size, see protocol_pair), both
    resized bilinearly to 224 × 224 first."""
    size = (LPIPS_SIZE, LPIPS_SIZE)
    with torch.no_grad():
        a = F.interpolate(source, size, mode="bilinear", align_corners=False)
        b = F.interpolate(edited, size, mode="bilinear", align_corners=False)
        return 1.0 - float(lpips(a, b)[0])
