"""Process isolation: the supervisor (parent side), the worker (child side), the wire protocol."""
