"""Run every gateway simulator until interrupted: `python -m osdm.payments.simulators [--port-base 8100]`.

`make run` starts this so the demo marketplace can pay with every method offline. Ports, in order
from the base: sandbox, moyasar, paytabs, paypal, stcpay. The ports are written to
`.osdm/simulators.json` for `manage.py osdm_demo` to configure the demo's gateways.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from .moyasar import MoyasarSimulator
from .paypal import PaypalSimulator
from .paytabs import PaytabsSimulator
from .sandbox import SandboxSimulator
from .stcpay import StcpaySimulator

ORDER = (("sandbox", SandboxSimulator), ("moyasar", MoyasarSimulator), ("paytabs", PaytabsSimulator),
         ("paypal", PaypalSimulator), ("stcpay", StcpaySimulator))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-base", type=int, default=8100)
    parser.add_argument("--state", default=str(Path.cwd() / ".osdm" / "simulators.json"))
    args = parser.parse_args()
    running = {}
    for offset, (slug, cls) in enumerate(ORDER):
        try:
            running[slug] = cls(port=args.port_base + offset).start()
        except OSError:
            running[slug] = cls(port=0).start()  # the preferred port is taken: any free one
    Path(args.state).parent.mkdir(exist_ok=True)
    Path(args.state).write_text(json.dumps({slug: sim.url for slug, sim in running.items()}, indent=2))
    for slug, sim in running.items():
        print(f"  {slug:8} simulator  {sim.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for sim in running.values():
        sim.stop()


if __name__ == "__main__":
    main()
