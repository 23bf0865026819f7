"""The template key: where it lives by default, created 0600 on first enrolment only, refused when too open;
enrolment input checks and the per-employee cap."""

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from central_server.attendance.face_templates import (
    MAX_TEMPLATES,
    TemplateError,
    TemplateKeyError,
    enrol_embeddings,
    load_template_key,
    load_templates,
)
from central_server.config import ServerConfig, load_server_config
from central_server.org.employees import create_employee
from central_server.org.sites import create_site


def unit_rows(n: int, seed: int = 0) -> np.ndarray:
    e = np.random.default_rng(seed).normal(size=(n, 128)).astype(np.float32)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def test_the_key_lives_in_the_server_data_dir_unless_configured(tmp_path):
    assert ServerConfig(database_url=f"sqlite:///{tmp_path}/db/central.db").templates_key_path == \
        tmp_path / "db" / "templates.key"
    assert ServerConfig(database_url="postgresql://h/db").templates_key_path == Path("var") / "templates.key"
    conf = tmp_path / "server.toml"
    conf.write_text(f'template_key_file = "{tmp_path}/secret/t.key"\n')
    assert load_server_config(conf, env={}).templates_key_path == tmp_path / "secret" / "t.key"
    conf.write_text('template_key = "x"\n')
    with pytest.raises(Exception, match="template_key"):
        load_server_config(conf, env={})


def test_the_key_is_created_0600_on_enrolment_only_and_refused_when_readable_by_others(tmp_path):
    path = tmp_path / "keys" / "templates.key"
    with pytest.raises(TemplateKeyError, match="does not exist"):
        load_template_key(path, create=False)
    assert not path.exists()
    key = load_template_key(path, create=True)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_template_key(path, create=False) == key
    os.chmod(path, 0o644)
    with pytest.raises(TemplateKeyError, match="template key .* accessible by other users"):
        load_template_key(path, create=False)


@pytest.fixture
def employee(engine):
    with engine.begin() as conn:
        create_site(conn, "office-1", "Block Office", "office", actor="test")
        create_employee(conn, {"employee_id": "emp-1", "name": "One", "site_id": "office-1"}, actor="test")
    return "emp-1"


@pytest.mark.parametrize("rows, says", [
    (np.zeros((1, 128), np.float32), "zero or not finite"),
    (np.full((1, 128), np.nan, np.float32), "zero or not finite"),
    (np.ones((1, 64), np.float32), "128-value rows"),
    (np.ones((0, 128), np.float32), "non-empty"),
])
def test_bad_embeddings_are_refused(engine, employee, tmp_path, rows, says):
    with engine.begin() as conn, pytest.raises(TemplateError, match=says):
        enrol_embeddings(conn, employee, rows, tmp_path / "t.key", actor="test")


def test_templates_are_numbered_on_and_capped(engine, employee, tmp_path):
    key = tmp_path / "t.key"
    with engine.begin() as conn:
        assert enrol_embeddings(conn, employee, unit_rows(3), key, actor="test") == [1, 2, 3]
        assert enrol_embeddings(conn, employee, unit_rows(2, 1), key, actor="test") == [4, 5]
        with pytest.raises(TemplateError, match=f"limit of {MAX_TEMPLATES}"):
            enrol_embeddings(conn, employee, unit_rows(MAX_TEMPLATES - 4, 2), key, actor="test")
        got = load_templates(conn, employee, key)
    np.testing.assert_allclose(got, np.vstack([unit_rows(3), unit_rows(2, 1)]), atol=1e-6)
    # Templates of another model version are never compared with this model's embeddings.
    with engine.connect() as conn:
        assert load_templates(conn, employee, key, model_version="some-other-model").shape == (0, 128)
