"""Project hygiene: dependency files agree, CI calls the README's test command, the CLI works."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import analyse
from analyse.run import cli

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {
        _name(r): r for r in project["dependencies"] + project["optional-dependencies"]["test"]
    }
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d): d for d in env["dependencies"] if isinstance(d, str)}
    conda.pop("python")
    conda.pop("pip")
    assert set(conda) == set(wanted)
    # Same lower bounds, so the two environments cannot drift apart silently.
    for name, requirement in wanted.items():
        assert requirement.replace(" ", "") == conda[name].replace(" ", ""), name


def test_constraints_file_pins_every_direct_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = {
        _name(line): line.split("==")[1]
        for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert _name(requirement) in pinned, requirement


def test_ci_runs_the_test_command_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make run" in readme
    commands = [
        line.strip()
        for line in ci.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "make test" in commands
    assert 'exit "$rc"' in ci


def test_readme_lists_every_dependency_with_a_reason():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8").lower()
    for requirement in project["dependencies"]:
        assert f"| {_name(requirement)} |" in readme, requirement


def test_tracked_files_contain_no_data_reports_or_notebook_outputs():
    listed = subprocess.run(
        ["git", "ls-files", "data", "reports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:  # not a git checkout (e.g. an sdist): nothing to check
        return
    tracked = [f for f in listed.stdout.splitlines() if not f.endswith("README.md")]
    assert tracked == []


def test_version_and_cli_help_list_subcommands(capsys):
    assert re.match(r"\d+\.\d+", analyse.__version__)
    result = subprocess.run(
        [sys.executable, "-m", "analyse.run.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("run", "areas", "catalogue"):
        assert command in result.stdout


def test_cli_error_is_one_line_not_a_traceback(capsys):
    code = cli.main(["catalogue", "--agreement", "nowhere-2030"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("analyse: error: unknown agreement 'nowhere-2030'")
    assert "Traceback" not in err
