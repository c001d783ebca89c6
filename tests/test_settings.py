"""settings.toml: the one switch it has, and a file it cannot use said as such."""

from pathlib import Path

import pytest

from swarmscope.core.errors import ConfigError
from swarmscope.tui.config import alert_toasts, load_settings


def test_no_file_means_the_defaults(tmp_path: Path):
    assert load_settings(tmp_path / "none.toml") == {"alert_toasts": True}
    assert alert_toasts(False, tmp_path / "none.toml")
    assert not alert_toasts(True, tmp_path / "none.toml")  # --no-alert-toasts


def test_the_file_turns_alert_toasts_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "settings.toml"
    path.write_text("[view]\nalert_toasts = false\n")
    monkeypatch.setenv("SWARMSCOPE_SETTINGS", str(path))
    assert not alert_toasts(False)


@pytest.mark.parametrize(
    "text, says",
    [
        ("[view]\nalert_toast = false\n", "no setting 'alert_toast'"),
        ('[view]\nalert_toasts = "no"\n', "must be true or false"),
        ("[view\n", "cannot read settings"),
    ],
)
def test_a_wrong_file_is_said_with_its_path(tmp_path: Path, text: str, says: str):
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=says) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
