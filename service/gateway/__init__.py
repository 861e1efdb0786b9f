"""The HJ 212 gateway: loggers connect over TCP, their packets go to a sink (docs/hj212.md)."""
