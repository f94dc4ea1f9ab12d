"""The legacy simulator's settings live with every other setting, in ``proxy.config``.

Re-exported here so the simulator's modules import their settings from their own
package, as the PDT simulator's ``SimulatorSettings`` comes from ``proxy.config``.
"""

from __future__ import annotations

from proxy.config import LegacySimulatorSettings

__all__ = ["LegacySimulatorSettings"]
