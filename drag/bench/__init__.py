"""DragBench (Shi et al., DragDiffusion, CVPR 2024): its samples and the metrics papers report on it."""
