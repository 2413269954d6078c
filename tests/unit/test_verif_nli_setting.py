"""The `verifier_nli` setting: the graph's verify step asks for the NLI slot's verifier (trained
under the home by `sovereign eval train-verifier --nli`) and, when it cannot have it, says why
and falls back to the baseline, as for any unavailable verifier."""

from __future__ import annotations

from pathlib import Path

from graph.services import Services
from graph.settings import Settings
from tests.unit.test_verif_stance import tiny_nli_folder


def test_verifier_nli_is_passed_with_the_home(tmp_path: Path) -> None:
    folder = tiny_nli_folder(tmp_path / "nli")
    settings = Settings(home=tmp_path / "home", verifier_nli=folder)
    services = Services(settings)
    services.verifier()
    # the slot's artifact is looked for under this home, by the model's hash; none was trained
    (note,) = services.notes
    assert str(tmp_path / "home" / "verification" / "verifier_nli_") in note
    assert "sovereign eval train-verifier" in note and services.verifier_name() == "tfidf"


def test_without_the_setting_the_shipped_default_is_used(tmp_path: Path) -> None:
    services = Services(Settings(home=tmp_path / "home"))
    assert services.verifier() is not None and services.verifier_name() == "default"
    assert services.notes == []


def test_a_missing_nli_model_is_one_line(tmp_path: Path) -> None:
    services = Services(Settings(home=tmp_path, verifier_nli=tmp_path / "none.onnx"))
    services.verifier()
    assert len(services.notes) == 1 and "not found" in services.notes[0]
    assert "\n" not in services.notes[0]
