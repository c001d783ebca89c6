"""Where swarmscope keeps its files: `$SWARMSCOPE_HOME`, else platformdirs' user data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "SWARMSCOPE_HOME"


def home_dir(part: str, override: str | Path | None = None) -> Path:
    """`override` if given, else `$SWARMSCOPE_HOME/<part>`, else the user data dir's
    swarmscope/<part>."""
    if override:
        return Path(override).expanduser()
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home).expanduser() / part
    return Path(platformdirs.user_data_dir("swarmscope")) / part
