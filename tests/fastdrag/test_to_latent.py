"""The official mapping of image-space points and masks to the latent grid (drag/fastdrag/to_latent.py)."""

from drag_editing_pack_under_test.drag.fastdrag.to_latent import points_to_latent
from drag_editing_pack_under_test.drag.points import DragPoints


def test_points_map_through_the_half_resolution_grid_rounding_half_to_even():
    # x: 221 → 110.5 → 110 (even) → 27.5; 223 → 111.5 → 112 → 28.0. y on a 300-px-high image: int(150)
    # half rows, 101 → 50.5 → 50 → 12.5.
    points = DragPoints.from_pairs([((221, 101), (223, 101))], 512, 300)
    handles, targets = points_to_latent(points)
    assert handles.tolist() == [[12.5, 27.5]]
    assert targets.tolist() == [[12.5, 28.0]]
