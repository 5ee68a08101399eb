"""Readers of the official release files and IP-Adapter (drag/lightningdrag/release.py): the formats load, every
bad file is refused with the file and the fix, pickles never run code."""

import pickle
from collections import OrderedDict

import torch

import lightningdrag_files as files
from helpers import error_of
from drag_editing_pack_under_test.drag.lightningdrag import release

from .common import WIDTHS


def test_release_files_in_the_official_formats_load(release_dir):
    root = release_dir / "lightning-drag-sd15"
    state, widths = release.read_appearance_encoder(root / release.APPEARANCE_FILE, "W")
    assert widths == WIDTHS and not set(release.APPEARANCE_ABSENT_KEYS) & set(state)
    assert len(release.APPEARANCE_ABSENT_KEYS) == 24
    assert len(release.read_point_embedding(root / release.POINT_EMBEDDING_FILE, "W")) == 13
    attention = release.read_point_attention(root / release.ATTENTION_FILE, widths, "W")
    assert attention[("middle", 0)]["proj.weight"].shape == (32, 1024) and attention[("input", 1)]["proj.weight"].dtype == torch.float16
    projection, layers = release.read_ip_adapter(release_dir / "ip-adapter_sd15.bin", widths, "W")
    assert projection["proj.weight"].shape == (3072, 1024) and layers[("output", 11)]["to_k_ip"].shape == (32, 768)


def test_ip_adapter_safetensors_twin_reads_as_the_bin(release_dir, tmp_path):
    twin = files.write_ip_adapter(tmp_path / "ip-adapter_sd15.safetensors", WIDTHS)
    projection, layers = release.read_ip_adapter(twin, WIDTHS, "W")
    expected_projection, expected_layers = release.read_ip_adapter(release_dir / "ip-adapter_sd15.bin", WIDTHS, "W")
    assert projection.keys() == expected_projection.keys() and layers.keys() == expected_layers.keys()
    assert all(torch.equal(projection[k], expected_projection[k]) for k in projection)
    assert all(torch.equal(layers[b][k], expected_layers[b][k]) for b in layers for k in layers[b])


def test_full_size_appearance_key_list_is_the_sd15_unet_without_the_24_keys():
    keys = release.expected_appearance_keys((320, 640, 1280, 1280))
    assert keys["conv_in.weight"] == (320, 4, 3, 3)
    assert keys["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"] == (320, 320)
    assert "up_blocks.3.attentions.2.transformer_blocks.0.norm1.weight" in keys
    assert len(keys) == 686 - 24


def test_bad_release_files_are_refused_with_the_file_and_the_fix(release_dir, tmp_path):
    root = release_dir / "lightning-drag-sd15"
    where = "Put it in models/lightning_drag/."
    msg = error_of(release.read_point_embedding, tmp_path / "nothing.pt", where)
    assert "nothing.pt: file not found" in msg and where in msg
    # A missing key, a wrong shape, another format.
    state = torch.load(root / release.POINT_EMBEDDING_FILE, weights_only=True)
    del state["conv_in.weight"]
    torch.save(state, tmp_path / "missing.pt")
    assert "1 expected key(s) missing, e.g. ['conv_in.weight']" in error_of(release.read_point_embedding, tmp_path / "missing.pt", where)
    attn = files.point_attention_state(WIDTHS)
    attn["30.proj.weight"] = torch.zeros(64, 1024)
    torch.save(attn, tmp_path / "shape.bin")
    msg = error_of(release.read_point_attention, tmp_path / "shape.bin", WIDTHS, where)
    assert "key 30.proj.weight has shape [64, 1024], expected [32, 1024]" in msg
    assert "not a readable safetensors file" in error_of(release.read_appearance_encoder, root / release.ATTENTION_FILE, where)
    assert "is not the expected file" in error_of(release.read_point_embedding, root / release.APPEARANCE_FILE, where)
    (tmp_path / "text.pt").write_text("not weights")
    assert "cannot be read as a PyTorch state dict" in error_of(release.read_point_embedding, tmp_path / "text.pt", where)
    assert "top-level keys" in error_of(release.read_ip_adapter, root / release.ATTENTION_FILE, WIDTHS, where)
    # The main UNet (9 channels) given as the appearance encoder.
    nine = {"conv_in.weight": torch.zeros(32, 9, 3, 3)} | {f"down_blocks.{i}.resnets.0.conv1.weight": torch.zeros(32, 32, 3, 3) for i in range(4)}
    from safetensors.torch import save_file
    save_file(nine, str(tmp_path / "nine.safetensors"))
    assert "9 input channels" in error_of(release.read_appearance_encoder, tmp_path / "nine.safetensors", where)


class _Payload:
    def __reduce__(self):
        return (print, ("unpickled arbitrary code",))


def test_pickles_are_never_unpickled_beyond_tensors(tmp_path, capsys):
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump(OrderedDict(x=_Payload()), f, protocol=2)
    assert "cannot be read as a PyTorch state dict" in error_of(release.read_point_embedding, tmp_path / "evil.pt", "W")
    assert "unpickled arbitrary code" not in capsys.readouterr().out
