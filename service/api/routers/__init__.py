"""Thin HTTP routers: parse, check the caller, call one service, answer a schema."""
