"""A stand-in probe worker speaking the worker's line protocol.

It answers every request with a reachable report naming its pid, except for URLs
containing ``hang`` (never answers), ``crash`` (exits) or ``garbage`` (answers nonsense).
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    for line in sys.stdin:
        url = json.loads(line)["url"]
        if "hang" in url:
            time.sleep(3600)
        if "crash" in url:
            sys.exit(3)
        if "garbage" in url:
            sys.stdout.write("this is not a report\n")
        else:
            sys.stdout.write(
                json.dumps({"outcome": "reachable", "detail": str(os.getpid())}) + "\n"
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
