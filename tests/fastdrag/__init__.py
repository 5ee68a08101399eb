"""Tests of drag/fastdrag: FastDrag's warp, BNNI, schedule, inversion and K/V consistency."""
