"""Tests of drag/lightningdrag: LightningDrag's layout, files, point network, attention, guidance and checks."""
