"""dvc.yaml lists exactly the code each stage runs, derived from what its command really loads.

For every stage, its `cmd` (`ailab NAME ...`) is started in a fresh interpreter as the console script starts it
(`ailab NAME --help`: stages/cli.py loads that one command's module and stops before running it). The project
files it needs are then: every module it imported, every project import written anywhere in those modules (also
inside functions, so lazily imported code counts), every file it opened, and the data files of every package it
loaded. Each must be covered by the stage's `deps` (a directory covers the files under it), and each code dep must
cover at least one of them, a folder only files the stage needs (so a change reruns the stage and what follows
it, nothing else).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("ailab", "pipeline", "stages")
DVC_STAGES: dict[str, dict] = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]

PROBE = """
import json, os, sys
root, command, report = sys.argv[1:4]
opened = set()
def record_open(event, args):
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        opened.add(os.path.abspath(os.fspath(args[0])))
sys.addaudithook(record_open)
sys.argv = ["ailab", command, "--help"]
from stages.cli import app
try:
    app()
except SystemExit:
    pass
modules = {name: getattr(m, "__file__", None) for name, m in list(sys.modules.items())}
packages = [name for name, m in list(sys.modules.items()) if hasattr(m, "__path__")]
with open(report, "w") as f:
    json.dump({"modules": modules, "packages": packages, "opened": sorted(opened)}, f)
"""


@dataclass
class StageCode:
    """The project files one stage's command needs, each with why (for the failure message)."""

    command: str
    files: dict[str, str] = field(default_factory=dict)
    """Path relative to the repo root -> how the stage comes to need it."""

    def add(self, path: Path, reason: str) -> None:
        relative = path.resolve().relative_to(ROOT).as_posix()
        self.files.setdefault(relative, reason)


def project_file(path: str | Path | None) -> Path | None:
    """`path` if it is a source or data file of the project's packages (never a cache file), else None."""
    if path is None:
        return None
    path = Path(path).resolve()
    if not path.is_relative_to(ROOT) or "__pycache__" in path.parts or path.suffix == ".pyc":
        return None
    relative = path.relative_to(ROOT)
    return path if relative.parts[0] in PROJECT_PACKAGES and path.is_file() else None


def module_file(name: str) -> Path | None:
    """The source file of project module `name` (package `__init__.py` or module `.py`), if there is one."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def imported_names(source: Path, module: str) -> set[str]:
    """Every module name an `import` anywhere in `source` may load (function-level imports too)."""
    is_package = source.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    expanded = set()
    for name in names:
        parts = name.split(".")
        expanded.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {name for name in expanded if name.split(".")[0] in PROJECT_PACKAGES}


def package_data(package_dir: Path) -> list[Path]:
    """Non-Python files of a package: its own folder and data folders below it, not its subpackages."""
    found = []
    for directory, subdirs, files in os.walk(package_dir):
        here = Path(directory)
        subdirs[:] = [d for d in subdirs if d != "__pycache__" and not (here / d / "__init__.py").is_file()]
        found += [here / f for f in files if not f.endswith((".py", ".pyc"))]
    return found


def probe(command: str, report: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-c", PROBE, str(ROOT), command, str(report)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def stage_code(command: str, loaded: dict) -> StageCode:
    """Close what the probe saw over the project imports written in the loaded modules."""
    code = StageCode(command)
    pending = []
    for name, path in loaded["modules"].items():
        if project_file(path):
            code.add(Path(path), f"imported when `ailab {command}` starts")
            pending.append(name)
    for path in loaded["opened"]:
        if project_file(path):
            code.add(Path(path), f"opened when `ailab {command}` starts")
    seen = set(pending)
    while pending:
        name = pending.pop()
        source = module_file(name)
        if source is None:
            continue
        code.add(source, f"module {name}")
        for imported in sorted(imported_names(source, name) - seen):
            imported_source = module_file(imported)
            if imported_source is not None:
                seen.add(imported)
                pending.append(imported)
                code.add(imported_source, f"imported by {source.relative_to(ROOT).as_posix()}")
    for package in seen | set(loaded["packages"]):
        package_init = module_file(package)
        if package_init is not None and package_init.name == "__init__.py":
            for data in package_data(package_init.parent):
                code.add(data, f"package data of {package}")
    return code


def covers(dep: str, path: str) -> bool:
    dep = dep.rstrip("/")
    return path == dep or path.startswith(dep + "/")


def dep_paths(stage: dict) -> list[str]:
    return [next(iter(dep)) if isinstance(dep, dict) else dep for dep in stage.get("deps", [])]


def dependency_problems(stage_name: str, deps: list[str], code: StageCode) -> list[str]:
    """What dvc.yaml gets wrong about one stage's code: files it runs but does not list, code deps it never runs."""
    problems = [
        f"stage '{stage_name}' runs {path} ({why}) but dvc.yaml does not list it: add `- {path}` (or its folder) "
        f"to stages.{stage_name}.deps"
        for path, why in sorted(code.files.items())
        if not any(covers(dep, path) for dep in deps)
    ]
    problems += [
        f"stage '{stage_name}' lists {dep} in its deps but `ailab {code.command}` runs none of it: remove it "
        f"from stages.{stage_name}.deps"
        for dep in deps
        if dep.split("/")[0] in PROJECT_PACKAGES and not any(covers(dep, path) for path in code.files)
    ]
    for dep in deps:
        if dep.split("/")[0] in PROJECT_PACKAGES and (ROOT / dep).is_dir():
            unused = sorted(
                path.relative_to(ROOT).as_posix() for path in (ROOT / dep).rglob("*")
                if project_file(path) and path.relative_to(ROOT).as_posix() not in code.files
            )  # fmt: skip
            if unused:
                problems.append(
                    f"stage '{stage_name}' lists the folder {dep} but `ailab {code.command}` does not run "
                    f"{', '.join(unused)}: list the files of {dep} it runs instead, in stages.{stage_name}.deps"
                )
    return problems


@pytest.fixture(scope="module")
def stages_code(tmp_path_factory) -> dict[str, StageCode]:
    """The project files each dvc.yaml stage's command needs, probed in parallel fresh interpreters."""
    reports = tmp_path_factory.mktemp("deps")
    commands = {}
    for name, stage in DVC_STAGES.items():
        words = stage["cmd"].split()
        assert words[0] == "ailab", f"stage '{name}': cmd must be an `ailab COMMAND` so its code can be found"
        commands[name] = words[1]
    running = {name: probe(command, reports / f"{name}.json") for name, command in commands.items()}
    found = {}
    for name, proc in running.items():
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"`ailab {commands[name]} --help` failed:\n{stderr}"
        found[name] = stage_code(commands[name], json.loads((reports / f"{name}.json").read_text()))
    return found


@pytest.mark.parametrize("stage_name", list(DVC_STAGES))
def test_dvc_yaml_lists_exactly_the_code_each_stage_runs(stage_name, stages_code):
    problems = dependency_problems(stage_name, dep_paths(DVC_STAGES[stage_name]), stages_code[stage_name])
    assert not problems, "\n".join(problems)


def test_a_stage_never_runs_another_stages_command_module(stages_code):
    for name, code in stages_code.items():
        own = f"stages/{code.command.replace('-', '_')}.py"
        others = [f for f in code.files if f.startswith("stages/") and f != own and f.removeprefix("stages/")
                  in {f"{c.command.replace('-', '_')}.py" for c in stages_code.values()}]  # fmt: skip
        assert not others, f"stage '{name}' loads {others}: stages/cli.py must load only the command it runs"


def test_a_missing_or_needless_dep_is_named_with_the_stage_to_fix(stages_code):
    code = stages_code["train"]
    deps = [dep for dep in dep_paths(DVC_STAGES["train"]) if dep != "stages/train.py"] + ["stages/generate.py"]
    problems = dependency_problems("train", deps, code)
    assert problems == [
        "stage 'train' runs stages/train.py (imported when `ailab train` starts) but dvc.yaml does not list it: "
        "add `- stages/train.py` (or its folder) to stages.train.deps",
        "stage 'train' lists stages/generate.py in its deps but `ailab train` runs none of it: remove it from "
        "stages.train.deps",
    ]
