"""The solver's C core, compiled at install time (docs/solver.md says why); everything
else about the package is in pyproject.toml. (Declared here, not in pyproject.toml's
``[tool.setuptools.ext-modules]``, which setuptools still calls experimental and warns of
at every install.)"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("connectfour.solver._core", ["connectfour/solver/_core.c"], extra_compile_args=["-O3"])])
