"""Wheel build hook: the extraction core compiled with mypyc, when asked for.

    HATCH_BUILD_HOOK_ENABLE_CUSTOM=1 pip install .

compiles the modules `[tool.hatch.build.targets.wheel.hooks.custom] modules` names into C
extensions beside their sources in the wheel (Python imports the extension first); without the
variable, and for an editable install, the wheel is plain Python. The modules are compiled in a
temporary copy of the package, so that the working tree never holds compiled files that would
shadow its sources after the next edit.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_SETUP = """\
from setuptools import setup
from mypyc.build import mypycify

setup(name="monitor-compiled", ext_modules=mypycify({args!r}))
"""


class MypycBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        modules = self.config.get("modules", [])
        if not modules:
            return
        self._work = Path(tempfile.mkdtemp(prefix="monitor-mypyc-"))
        src = self._work / "src"
        shutil.copytree(
            Path(self.root) / "monitor",
            src / "monitor",
            ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"),
        )
        args = [*self.config.get("mypy-args", []), *(f"monitor/{m}.py" for m in modules)]
        (src / "setup_mypyc.py").write_text(_SETUP.format(args=args), encoding="utf-8")
        build = subprocess.run(
            [sys.executable, "setup_mypyc.py", "build_ext", "--inplace"],
            cwd=src,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if build.returncode != 0:
            raise RuntimeError(f"mypyc could not compile {', '.join(modules)}:\n{build.stdout}")
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        # the modules' extensions, and the library they share at the top level
        for ext in sorted([*src.glob(f"*{suffix}"), *(src / "monitor").glob(f"*{suffix}")]):
            build_data["force_include"][str(ext)] = ext.relative_to(src).as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
