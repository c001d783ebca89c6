"""Textual themes of our own, registered by the app before it applies one (apart from
themes/__init__.py, which the command line reads without importing Textual)."""

from __future__ import annotations

from dataclasses import replace

from textual.theme import BUILTIN_THEMES

OKABE_ITO = replace(
    BUILTIN_THEMES["textual-dark"],
    name="swarmscope-okabe-ito",
    error="#D55E00",
    warning="#E69F00",
    success="#009E73",
    accent="#E69F00",
    primary="#0072B2",
)
"""Textual's dark palette with the Okabe-Ito colours for what widgets draw with $error, $warning
and $success (failed tasks, errors on the timeline, alerts): vermillion, not crimson."""

OWN_THEMES = (OKABE_ITO,)
