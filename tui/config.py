"""The user's own files, in `~/.config/swarmscope/` (or where an environment variable says): the
keymap, which remaps any binding by its id, and the settings.

    # keymap.toml ($SWARMSCOPE_KEYMAP)
    [keys]
    "swarm.sort" = "o"
    "app.quit" = "ctrl+q,q"

    # settings.toml ($SWARMSCOPE_SETTINGS)
    [view]
    alert_toasts = false   # no pop-up when an agent fails: the header and Alerts tab still say it

A flag on the command line (`--no-alert-toasts`) overrides the settings file for one run. A file
that says something wrong is an error that names the file: a misspelt setting silently ignored
looks like a bug.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from swarmscope.core.errors import ConfigError

DEFAULTS: dict[str, bool] = {"alert_toasts": True}
KEYMAP = ("keymap", "SWARMSCOPE_KEYMAP", "keys")
SETTINGS = ("settings", "SWARMSCOPE_SETTINGS", "view")
"""(file name, environment variable, table) of each file."""


def config_path(which: tuple[str, str, str]) -> Path:
    name, env, _ = which
    return Path(os.environ.get(env) or Path(user_config_dir("swarmscope")) / f"{name}.toml")


def _table(which: tuple[str, str, str], path: Path | None) -> tuple[Path, Any]:
    """The file's path and its table (None without a file); ConfigError for a file TOML cannot
    read."""
    name, env, table = which
    path = path or config_path(which)
    if not path.exists():
        return path, None
    try:
        return path, tomllib.loads(path.read_text()).get(table, {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {name} {path}: {exc}; fix the file or set {env}") from None


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id -> keys, from the keymap file if there is one."""
    path, keys = _table(KEYMAP, path)
    if keys is None:
        return {}
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise ConfigError(
            f'keymap {path}: [keys] must map binding ids to key strings, e.g. "swarm.sort" = "o"'
        )
    return keys


def load_settings(path: Path | None = None) -> dict[str, bool]:
    """DEFAULTS, with what the settings file's [view] table sets."""
    path, view = _table(SETTINGS, path)
    if view is None:
        return dict(DEFAULTS)
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
