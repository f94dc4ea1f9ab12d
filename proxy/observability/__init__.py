"""Logs and metrics: the proxy's only outputs besides its answers.

``logging`` renders every log line as masked JSON (``proxy.privacy`` is the one
redaction point); ``metrics`` owns the Prometheus registry of one app instance.
"""
