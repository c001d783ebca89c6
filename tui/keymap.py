"""A user keymap file: remap any binding by its id.

`~/.config/swarmscope/keymap.toml` (or the file named by $SWARMSCOPE_KEYMAP):

    [keys]
    "swarm.sort" = "o"
    "app.quit" = "ctrl+q,q"
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from platformdirs import user_config_dir

from swarmscope.core.errors import ConfigError


def keymap_path() -> Path:
    return Path(
        os.environ.get("SWARMSCOPE_KEYMAP") or Path(user_config_dir("swarmscope")) / "keymap.toml"
    )


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id -> keys, from the keymap file if there is one."""
    path = path or keymap_path()
    if not path.exists():
        return {}
    try:
        keys = tomllib.loads(path.read_text()).get("keys", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read keymap {path}: {exc}; fix the file or set SWARMSCOPE_KEYMAP"
        ) from None
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise ConfigError(
            f'keymap {path}: [keys] must map binding ids to key strings, e.g. "swarm.sort" = "o"'
        )
    return keys
