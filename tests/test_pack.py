"""The pack's own start-up behaviour inside ComfyUI (version check), without ComfyUI."""

import drag_editing_dev as pack


def test_an_untested_older_comfyui_is_warned_about(caplog):
    assert pack.version_tuple("0.3.64") < pack.version_tuple("0.33.0") < pack.version_tuple("0.34.1")
    assert pack.version_tuple("v1.2.0rc1") == (1, 2, 0)
    assert not pack.warn_if_untested_comfyui(None) and not pack.warn_if_untested_comfyui("0.3.64")
    assert not pack.warn_if_untested_comfyui("0.33.0") and not pack.warn_if_untested_comfyui("0.40.2")
    assert pack.warn_if_untested_comfyui("0.3.40") and pack.warn_if_untested_comfyui("")
    assert "ComfyUI 0.3.40 is older than the oldest version this node pack is tested on (0.3.64" in caplog.text
