"""Built-in simulators of the upstream APIs the proxy talks to.

``profile`` holds the deterministic simulated person every simulator answers from;
``pdt.create_pdt_simulator`` builds the PDT simulator app (the other modules are its parts).
"""
