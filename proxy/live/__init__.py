"""The configuration set a request is answered with, and its live replacement."""

from proxy.live.config_set import ConfigSet, LiveConfig, load_config_set

__all__ = ["ConfigSet", "LiveConfig", "load_config_set"]
