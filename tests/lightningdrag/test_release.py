"""Readers of the official release files and IP-Adapter (drag/lightningdrag/release.py): the formats load, every
bad file is refused with the file and the fix, pickles never run code."""

import pickle
from collections import OrderedDict

import pytest
import torch

import lightningdrag_files as files
from helpers import error_of
from drag_editing_dev.drag.lightningdrag import release

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


def _readers(root, ip_adapter):
    """(reader, file it normally reads) for each pickled file the loader reads."""
    return [
        (lambda p: release.read_point_embedding(p, "W"), root / release.POINT_EMBEDDING_FILE),
        (lambda p: release.read_point_attention(p, WIDTHS, "W"), root / release.ATTENTION_FILE),
        (lambda p: release.read_ip_adapter(p, WIDTHS, "W"), ip_adapter),
    ]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_any_file_that_is_not_the_weights_is_refused_with_our_message(release_dir, tmp_path):
    """Random bytes, random bytes behind a pickle or zip header, truncations of the real files at many
    lengths, a system text file, a pickle with keys of mixed types: never a raw error."""
    root = release_dir / "lightning-drag-sd15"
    mixed = tmp_path / "mixed.pkl"
    torch.save({1: torch.zeros(1), "a": torch.zeros(1), ("t",): torch.zeros(1)}, mixed)
    passwd = b"root:x:0:0:root:/root:/bin/bash\n" * 20

    def blobs():
        """One at a time: the truncations of the 0.3 GB point embedding alone would take gigabytes."""
        g = torch.Generator().manual_seed(0)
        for n in range(200):
            size = int(torch.randint(0, 4096, (1,), generator=g))
            body = bytes(torch.randint(0, 256, (size,), generator=g, dtype=torch.uint8).tolist())
            yield (b"", b"\x80\x02", b"\x80\x04", b"PK\x03\x04")[n % 4] + body
        for _, good in _readers(root, release_dir / "ip-adapter_sd15.bin"):
            data = good.read_bytes()
            for cut in sorted({int(len(data) * f) for f in torch.rand(25, generator=g).tolist()} | {0, 1, 30, 100}):
                yield data[:cut]
            damaged = bytearray(data)
            for at in torch.randint(0, len(data), (20,), generator=g).tolist():
                damaged[at] ^= 0xFF
            yield bytes(damaged)
        yield passwd
        yield mixed.read_bytes()

    raw = []
    path = tmp_path / "blob.bin"
    for n, blob in enumerate(blobs()):
        path.write_bytes(blob)
        for read, _ in _readers(root, path):
            try:
                read(path)  # a bit flipped inside tensor data still reads: that is fine
            except release.DragInputError as error:
                assert str(error).startswith(("release: ", "ip_adapter: ")) and str(path) in str(error) and "W" in str(error)
            except Exception as error:  # noqa: BLE001  what the test is looking for
                raw.append((n, f"{type(error).__name__}: {error}"[:200]))
    assert not raw, raw[:5]
    text = tmp_path / "passwd.pt"
    text.write_bytes(passwd)
    msg = error_of(release.read_point_embedding, text, "W")
    assert "a text file beginning 'root:x:0:0:root:/root:/b'" in msg and "Download the file again" in msg, msg
    assert "unexpected key(s), e.g. ['a', ('t',), 1]" in error_of(release.read_point_embedding, mixed, "W")
