"""The house rule: an agent that only emits never pulls in Textual (or Rich)."""

import subprocess
import sys


def test_core_and_emitter_never_import_textual(tmp_path):
    code = (
        "import sys\n"
        "import swarmscope.core\n"
        "from swarmscope.core import Emitter\n"
        f"em = Emitter('a', 'ipc://{tmp_path}/nobody', close_timeout=0.05)\n"
        "em.status('running'); em.close()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
