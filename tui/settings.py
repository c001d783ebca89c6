"""User settings, next to the keymap: `~/.config/swarmscope/settings.toml` (or the file named by
$SWARMSCOPE_SETTINGS).

    [view]
    alert_toasts = false   # no pop-up when an agent fails: the header and Alerts tab still say it

A flag on the command line (`--no-alert-toasts`) overrides the file for one run.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from platformdirs import user_config_dir

from swarmscope.core.errors import ConfigError

DEFAULTS: dict[str, bool] = {"alert_toasts": True}


def settings_path() -> Path:
    return Path(
        os.environ.get("SWARMSCOPE_SETTINGS")
        or Path(user_config_dir("swarmscope")) / "settings.toml"
    )


def load_settings(path: Path | None = None) -> dict[str, bool]:
    """DEFAULTS, with what the settings file's [view] table sets. A key the file gets wrong is
    an error that names the file: a misspelt setting silently ignored looks like a bug."""
    path = path or settings_path()
    if not path.exists():
        return dict(DEFAULTS)
    try:
        view = tomllib.loads(path.read_text()).get("view", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read settings {path}: {exc}; fix the file or set SWARMSCOPE_SETTINGS"
        ) from None
    if not isinstance(view, dict):
        raise ConfigError(f"settings {path}: [view] must be a table, e.g. alert_toasts = false")
    for key, value in view.items():
        if key not in DEFAULTS:
            raise ConfigError(
                f"settings {path}: no setting {key!r} (there is {', '.join(DEFAULTS)})"
            )
        if not isinstance(value, bool):
            raise ConfigError(f"settings {path}: {key} must be true or false, not {value!r}")
    return {**DEFAULTS, **view}


def alert_toasts(no_alert_toasts: bool, path: Path | None = None) -> bool:
    """Whether a failed agent pops up a toast: the flag turns them off, else the file says."""
    return not no_alert_toasts and load_settings(path)["alert_toasts"]
