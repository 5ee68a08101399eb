"""LightningDrag (ICML 2025, magic-research/LightningDrag): the method in plain torch.

``layout``: which SD1.5 self-/cross-attention is which (ComfyUI block keys, official processor
indices, point-embedding scale). ``release``: readers of the official weight files. ``point_net``:
the point embedding network and the index maps it reads. ``attention``: the appearance bank, point
and IP-Adapter attention terms as ComfyUI attention patches. ``guidance``: point-following CFG and
its decay schedules. ``noise_prior``: the initial latent.
"""
