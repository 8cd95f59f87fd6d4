"""`labelstudio push/pull` check the server address and the token before any work (no server needed): a
missing token or a malformed address is one error line at once, never after the inputs are read, the Label
Studio SDK is imported (seconds) or a request is retried."""

from __future__ import annotations

import sys

import pytest

from conftest import SEED
from quoteattr.cli import PUSH_SYSTEM_HELP, main
from quoteattr.labelstudio.sync import TOKEN_VARIABLE

URL = "http://127.0.0.1:8080"


@pytest.fixture
def no_sdk(monkeypatch):
    """Importing the Label Studio SDK fails: a check that needs it comes too late."""
    monkeypatch.setitem(sys.modules, "label_studio_sdk", None)


def last_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and "retrying" not in err
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize("command", [["pull"], ["push", str(SEED)]])
def test_missing_token_is_reported_before_the_sdk_is_loaded(command, monkeypatch, no_sdk, capsys):
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    assert main(["labelstudio", *command, "--url", URL, "--project", "x"]) == 2
    assert last_error(capsys).startswith(f"error: {TOKEN_VARIABLE}: not set; set it to your Label Studio access token")


@pytest.mark.parametrize("url", ["notaurl", "127.0.0.1:8080", "http://", "http://127.0.0.1:99999", "ftp://host"])
def test_malformed_url_is_refused_without_retries(url, monkeypatch, no_sdk, capsys):
    monkeypatch.setenv(TOKEN_VARIABLE, "quoteattr-test-token")
    assert main(["labelstudio", "pull", "--url", url, "--project", "x"]) == 2
    assert last_error(capsys) == f"error: {url}: not a Label Studio server address; give one like {URL}"


def test_push_checks_before_reading_its_inputs(monkeypatch, capsys):
    def ingest(*args, **kwargs):
        raise AssertionError("inputs read before the address and token were checked")

    monkeypatch.setattr("quoteattr.data.readers.ingest", ingest)
    monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
    assert main(["labelstudio", "push", str(SEED), "--url", "notaurl", "--project", "x"]) == 2
    assert last_error(capsys).startswith("error: notaurl: not a Label Studio server address")


def test_push_help_lists_every_system(capsys):
    with pytest.raises(SystemExit):
        main(["labelstudio", "push", "--help"])
    assert " ".join(PUSH_SYSTEM_HELP.split()) in " ".join(capsys.readouterr().out.split())
