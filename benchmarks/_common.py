"""What the memory benchmarks share: one fit in a subprocess under an address-space cap."""

import json
import resource
import subprocess


def run_capped(command, cap_bytes):
    """Runs `command` under an address-space cap of `cap_bytes`: `(the JSON of its last stdout
    line, None)`, or `(None, the last line of its stderr)` when it fails."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))

    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=cap)
    if done.returncode:
        return None, (done.stderr.strip().splitlines() or ["exit code %d" % done.returncode])[-1]
    return json.loads(done.stdout.strip().splitlines()[-1]), None
