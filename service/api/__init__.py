"""The HTTP API: the app, its dependencies, routers and schemas."""
