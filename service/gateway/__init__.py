"""The HJ 212 gateway (placeholder until the gateway branch lands)."""
