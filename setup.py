"""The optional compiled kernel of the capture hot path (netseg/capture/_fastwalk.c).

Everything else about the package is in pyproject.toml. The extension is optional: without a C
compiler the install goes on and netseg uses its numpy path (netseg/capture/native.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "netseg.capture._fastwalk",
            ["netseg/capture/_fastwalk.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
