"""Template overrides ([templates] path): what ``whiteglove config check`` says about an operator's
folder, and the sample contexts it renders them with, kept complete for the shipped templates."""
from __future__ import annotations

from pathlib import Path

import jinja2.meta
import pytest

from ticketing.app.cli import main
from ticketing.files.template_samples import SAMPLES
from ticketing.files.templates import Renderer, check_overrides

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
PAIRS = sorted({p.stem for p in TEMPLATES.iterdir() if not p.name.startswith("_")})


def test_there_is_a_sample_context_for_every_shipped_mail_and_no_other():
    assert sorted(SAMPLES) == PAIRS


@pytest.mark.parametrize("name", PAIRS)
def test_every_shipped_template_renders_its_sample_and_the_sample_gives_every_name_it_uses(name):
    renderer = Renderer(TEMPLATES)
    text, html = renderer.render(name, **SAMPLES[name])
    assert text.strip() and "</html>" in html
    for file in (f"{name}.txt", f"{name}.html"):  # names on branches the sample does not take, too
        used = jinja2.meta.find_undeclared_variables(renderer.env.parse((TEMPLATES / file).read_text()))
        macros = {"facts", "quote", "heading", "subheading", "nothing", "late_items"}  # defined by the templates
        assert used - macros <= set(SAMPLES[name]), file


def test_a_folder_of_good_overrides_has_no_problem(tmp_path):
    (tmp_path / "acknowledgement.txt").write_text("Thanks, {{ customer_name }}: {{ ticket.tag }}\n")
    (tmp_path / "_layout.html").write_text("<html><body>ACME {% block body %}{% endblock %}</body></html>\n")
    (tmp_path / ".hidden-editor-file").write_text("{% broken")
    assert check_overrides(tmp_path) == []


def test_each_broken_override_is_one_problem_naming_its_file(tmp_path):
    (tmp_path / "bounce.html").write_text("line one\n{% if %}\n")
    (tmp_path / "acknowledgment.txt").write_text("misspelt\n")
    (tmp_path / "relay.txt").write_text("{{ ticket.tag }} {{ engineer_phone }}\n")
    problems = {p.key: p for p in check_overrides(tmp_path)}
    folder = tmp_path.name
    assert set(problems) == {f"{folder}/bounce.html: line 2", f"{folder}/acknowledgment.txt"}  # syntax first
    assert "rename it to acknowledgement.txt" in problems[f"{folder}/acknowledgment.txt"].fix
    (tmp_path / "bounce.html").unlink()
    (tmp_path / "acknowledgment.txt").unlink()
    [problem] = check_overrides(tmp_path)
    assert problem.key == f"{folder}/relay.txt" and "'engineer_phone' is undefined" in problem.message


def test_a_broken_layout_is_reported_once_for_the_mails_it_breaks(tmp_path):
    (tmp_path / "_layout.html").write_text("{{ support.phone.number }}{% block body %}{% endblock %}")
    problems = check_overrides(tmp_path)
    assert [p.key for p in problems] == [f"{tmp_path.name}/_layout.html"] * 2  # support has no phone; weekly has no support
    assert "acknowledgement.html" in problems[0].message and "weekly.html" in problems[1].message


def test_a_missing_folder_is_a_problem(tmp_path):
    [problem] = check_overrides(tmp_path / "brand")
    assert problem.key == "templates.path" and "no folder" in problem.message


@pytest.fixture
def operator(tmp_path, monkeypatch):
    """A configuration naming a relative overrides folder, checked from another working directory."""
    (tmp_path / "etc" / "brand").mkdir(parents=True)
    config = tmp_path / "etc" / "whiteglove.toml"
    config.write_text(f'[mailbox]\nbackend = "maildir"\npath = "{ROOT / "examples" / "inbox"}"\n'
                      '[support]\naddress = "support@example.com"\n[templates]\npath = "brand"\n')
    monkeypatch.chdir(tmp_path)
    return config


def test_config_check_reports_each_broken_override_on_one_line_and_fails(operator, capsys):
    (operator.parent / "brand" / "welcome.txt").write_text("{{ account }\n")
    (operator.parent / "brand" / "logo.png").write_bytes(b"\x89PNG")
    assert main(["config", "check", "--config", str(operator)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 2 and all(line.startswith("whiteglove: config error: ") for line in lines)
    assert any("brand/welcome.txt: line 1" in line and "fix:" in line for line in lines)
    assert any("brand/logo.png" in line and "never be used" in line for line in lines)


def test_config_check_accepts_good_overrides_and_refuses_a_missing_folder(operator, capsys):
    (operator.parent / "brand" / "acknowledgement.txt").write_text("ACME {{ ticket.tag }}\n")
    assert main(["config", "check", "--config", str(operator)]) == 0
    (operator.parent / "brand" / "acknowledgement.txt").unlink()
    (operator.parent / "brand").rmdir()
    assert main(["config", "check", "--config", str(operator)]) == 2
    err = capsys.readouterr().err
    assert f"templates.path: no folder at {operator.parent / 'brand'}" in err
