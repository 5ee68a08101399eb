"""Write a random-weight SD-2.1 as a diffusers folder (``unet/``, ``vae/``, ``text_encoder/``, fp16 safetensors),
the other form of the model DragBench's MD takes. Full size: ComfyUI's diffusers loader recognises a UNet only by
the exact configurations of the real models. About 2.6 GB, 1-2 min.

Run with ComfyUI's Python (diffusers and transformers): ``python make_rand_diffusers_sd21.py OUT_DIR``.
"""

import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel


def main(out: Path) -> None:
    torch.manual_seed(0)
    # SD-2.1's UNet: diffusers' SD defaults with 1024-wide text, linear projections and 64 channels per head.
    unet = UNet2DConditionModel(sample_size=96, cross_attention_dim=1024, attention_head_dim=[5, 10, 20, 20], use_linear_projection=True)
    unet.half().save_pretrained(out / "unet", safe_serialization=True)
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, latent_channels=4, sample_size=768,
    )
    vae.half().save_pretrained(out / "vae", safe_serialization=True)
    # OpenCLIP ViT-H's text tower as SD-2.1 ships it: 23 of its 24 layers.
    text = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23, num_attention_heads=16,
        max_position_embeddings=77, hidden_act="gelu", projection_dim=512,
    ))
    # Keys as the released file has them ("text_model.…"); transformers 5 saves them without the prefix.
    state = {k if k.startswith("text_model.") else f"text_model.{k}": v.half().contiguous() for k, v in text.state_dict().items()}
    (out / "text_encoder").mkdir(parents=True, exist_ok=True)
    save_file(state, out / "text_encoder" / "model.safetensors")
    (out / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}\n')


if __name__ == "__main__":
    main(Path(sys.argv[1]))
