"""The one place in lumen_core that owns sockets, threads, asyncio and aioquic.

It wraps the sans-IO protocol modules for host and client alike.
"""
