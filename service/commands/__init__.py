"""The composition root: the process runtime with its consumers, and the ``haze`` commands.

The only code that imports both :mod:`service` and :mod:`consumers`.
"""
