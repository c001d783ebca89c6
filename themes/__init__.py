"""swarmscope's themes: one .tcss file each, shipped as package data.

Each file styles swarmscope's own component classes under `App.-ss-NAME`;
the chrome around them comes from the Textual theme paired with it here.
"""

from __future__ import annotations

from pathlib import Path

THEMES: dict[str, str] = {
    "dark": "textual-dark",
    "light": "textual-light",
    "ansi": "ansi-dark",
    "colorblind": "swarmscope-okabe-ito",  # textual_themes.py
}
"""swarmscope theme -> the Textual theme that supplies its base palette."""


def stylesheets() -> list[Path]:
    """Every theme's stylesheet, and NO_COLOR's; all are loaded, the App's classes pick which
    apply."""
    here = Path(__file__).parent
    return [*(here / f"{name}.tcss" for name in THEMES), here / "no-color.tcss"]
