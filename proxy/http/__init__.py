"""What every layer speaking to a legacy client shares: reading and binding bodies, rendering errors."""
