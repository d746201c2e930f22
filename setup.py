"""The one compiled part of lumen; everything else is declared in pyproject.toml.

lumen_core/video/_gcm.c seals and opens video datagrams with AES-128-GCM through a
keyed OpenSSL context that is reused for every datagram (see its header comment). It is
optional: without a C compiler and OpenSSL's headers lumen installs without it and the
video plane seals through cryptography instead, at about twice the CPU per datagram.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "lumen_core.video._gcm",
            sources=["lumen_core/video/_gcm.c"],
            libraries=["crypto"],
            py_limited_api=True,
            optional=True,
        )
    ],
    # One wheel for every CPython from 3.11 on (the module uses the stable ABI only).
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
