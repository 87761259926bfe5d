"""The pytest plugin, as a user's suite sees it."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_the_fixtures_serve_in_process_and_on_a_socket(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest

        BODY = {"model": "veo-3.0-generate-001", "prompt": "hi"}
        AUTH = {"Authorization": "Bearer k"}

        def test_in_process(videogen_mock):
            task = videogen_mock.client.post("/xiexus/v1/video/generations", json=BODY, headers=AUTH).json()
            assert task["status"] == "queued"
            videogen_mock.advance(600)
            done = videogen_mock.client.get(f"/xiexus/v1/video/generations/{task['task_id']}", headers=AUTH).json()
            assert done["status"] == "completed"
            assert len(videogen_mock.records("xiexus")) == 1

        @pytest.mark.videogen_mock(seed=3, api_keys=frozenset({"only-this"}))
        def test_live_with_options(videogen_mock_live):
            base = videogen_mock_live.url("xiexus")
            assert httpx.post(base + "/v1/video/generations", json=BODY, headers=AUTH).status_code == 401
            ok = httpx.post(base + "/v1/video/generations", json=BODY, headers={"Authorization": "Bearer only-this"})
            assert ok.status_code == 200
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)
