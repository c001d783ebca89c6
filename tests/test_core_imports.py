"""The house rules on imports: core never pulls in Textual or Rich; an agent pays for the SDK only.

Each module is imported in a fresh interpreter, so a module that gets away with it only because
another was imported first (or through an import in a function run at import) is caught.
"""

import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import swarmscope.core

CORE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(swarmscope.core.__path__, prefix="swarmscope.core.")
)
_HEAVY = "sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))"


def _imports_of(module: str) -> subprocess.CompletedProcess:
    code = f"import sys, {module}\nprint({_HEAVY})\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_every_core_module_is_found():
    rooms = {m.split(".")[2] for m in CORE_MODULES}
    assert {"sdk", "wire", "hub", "model", "live", "session", "replay"} <= rooms
    assert len(CORE_MODULES) > 40


def test_no_core_module_imports_textual_or_rich():
    with ThreadPoolExecutor(4) as pool:
        results = dict(zip(CORE_MODULES, pool.map(_imports_of, CORE_MODULES)))
    failed = {m: r.stderr.strip().splitlines()[-1:] for m, r in results.items() if r.returncode}
    assert not failed, failed
    heavy = {m: r.stdout.strip() for m, r in results.items() if r.stdout.strip() != "[]"}
    assert not heavy, heavy


def test_an_agent_loads_the_sdk_and_nothing_of_the_hub_model_or_sessions(tmp_path):
    code = (
        "import sys\n"
        "from swarmscope.core import Emitter\n"
        f"em = Emitter('a', 'ipc://{tmp_path}/nobody', close_timeout=0.05)\n"
        "em.status('running'); em.close()\n"
        "rooms = ('hub', 'model', 'live', 'session', 'replay')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[:3] in\n"
        "                [['swarmscope', 'core', r] for r in rooms])\n"
        f"print(loaded, {_HEAVY})\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] []"


@pytest.mark.parametrize("name", swarmscope.core.__all__)
def test_each_public_name_imports_from_core(name):
    assert getattr(swarmscope.core, name) is not None
