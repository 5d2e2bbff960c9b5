"""``benefits plugins new NAME --kind rest|sql|file`` writes a package that installs and passes the kit as generated."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from benefits import __version__
from benefits.cli import main
from benefits.plugins import PLUGIN_API_VERSION
from benefits.plugins.scaffold import KINDS, package_files


@pytest.mark.parametrize("kind", KINDS)
def test_the_package_has_a_build_system_an_entry_point_secrets_and_a_one_line_kit_test(kind: str) -> None:
    files = package_files("skills-cloud", kind)
    assert set(files) == {
        "pyproject.toml",
        "README.md",
        "benefits_skills_cloud/__init__.py",
        "tests/conftest.py",
        "tests/test_benefits_skills_cloud.py",
        ".github/workflows/test.yml",
    }
    project = tomllib.loads(files["pyproject.toml"])
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["name"] == "benefits-skills-cloud"
    assert project["project"]["entry-points"]["benefits"] == {"skills-cloud": "benefits_skills_cloud"}
    module = files["benefits_skills_cloud/__init__.py"]
    ast.parse(module)
    assert 'type: ClassVar[str] = "skills-cloud"' in module and "class SkillsCloudConnector(" in module
    assert ("SecretStr" in module) is (kind != "file")  # a file export needs no credentials
    assert f'BENEFITS_PLUGIN_API = "{PLUGIN_API_VERSION}"' in module
    assert project["project"]["dependencies"] == [f"benefits>={'.'.join(__version__.split('.')[:2])}"]
    assert "def benefits_restate(" in files["tests/conftest.py"]  # the kit's restatement test runs
    test = [line for line in files["tests/test_benefits_skills_cloud.py"].splitlines() if line.strip()]
    assert len(test) == 3 and test[-1].startswith("TestSkillsCloudConnector = get_connector_tests(")


def test_the_command_writes_the_package_once_and_refuses_bad_names(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["plugins", "new", "acme-hr", "--kind", "file", "--directory", str(tmp_path)])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "benefits-acme-hr" / "benefits_acme_hr" / "__init__.py").is_file()
    again = runner.invoke(main, ["plugins", "new", "acme-hr", "--directory", str(tmp_path)])
    assert again.exit_code == 1 and "benefits-acme-hr already exists" in again.output
    bad = runner.invoke(main, ["plugins", "new", "Acme HR", "--directory", str(tmp_path)])
    assert bad.exit_code == 1 and "plugin name 'Acme HR': use lowercase letters" in bad.output
    listed = runner.invoke(main, ["plugins"])
    assert listed.exit_code == 0 and "benefits.plugins.http_json" in listed.output


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # a venv, a pip install and a nested pytest run per kind
@pytest.mark.parametrize("kind", KINDS)
def test_a_generated_package_installs_offline_and_passes_its_tests(kind: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BENEFITS_LOAD_PLUGINS", "PYTHONPATH")}
    env.update(GX_ANALYTICS_ENABLED="false", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INDEX="1")
    assert (
        CliRunner()
        .invoke(main, ["plugins", "new", f"gen-{kind}", "--kind", kind, "--directory", str(tmp_path)])
        .exit_code
        == 0
    )
    package = tmp_path / f"benefits-gen-{kind}"
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv, cwd=tmp_path, env=env).returncode == 0
    python = venv / "bin" / "python"
    # The throwaway venv sees this environment's packages (benefits, pytest, hatchling) and nothing is downloaded.
    purelib = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path, env=env
        ).stdout.strip()
    )
    (purelib / "benefits_parent.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n"
    )
    pip = run(
        python,
        "-m",
        "pip",
        "install",
        "--no-build-isolation",
        "--no-deps",
        "--no-index",
        "-e",
        package,
        cwd=tmp_path,
        env=env,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    listed = run(python, "-c", "from benefits.cli import main; main()", "plugins", cwd=tmp_path, env=env)
    line = f"gen-{kind} 0.1.0  plugin API {PLUGIN_API_VERSION}  connectors: gen-{kind}  hooks: register_connectors"
    assert line in listed.stdout and "warning" not in listed.stdout, listed.stdout + listed.stderr
    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package, env=env)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the three kinds: benefits and its dependencies are analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.slow  # mypy analyses benefits and its dependencies (pydantic, SQLAlchemy, pandas) the first time
@pytest.mark.parametrize("kind", KINDS)
def test_a_generated_package_passes_ruff_and_mypy_strict_as_generated(
    kind: str, tmp_path: Path, mypy_cache: Path
) -> None:
    assert CliRunner().invoke(main, ["plugins", "new", f"typed-{kind}", "--kind", kind, "--directory", str(tmp_path)])
    package = tmp_path / f"benefits-typed-{kind}"
    env = {**os.environ, "PYTHONPATH": str(package)}
    for check in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        ruff = run(sys.executable, "-m", *check, cwd=package, env=env)
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = run(sys.executable, "-m", "mypy", "--cache-dir", mypy_cache, ".", cwd=package, env=env)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr  # the package's own [tool.mypy]: strict, pydantic plugin
