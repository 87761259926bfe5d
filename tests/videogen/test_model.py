"""The dialect model: templates, pointers, identities, and the errors a bad document gets."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mockserver.cli import main as mock_main
from tests.conftest import DIALECTS
from videogen.dialect import bundled_specs_dir, load_dialect
from videogen.errors import SpecError, TemplateError
from videogen.pointer import MISSING, Pointer
from videogen.reading import required_headers
from videogen.template import compile_template

# -- templates ------------------------------------------------------------------------------


def test_a_whole_placeholder_keeps_its_type_and_an_optional_one_disappears() -> None:
    t = compile_template({"n": "{count}", "s": "id-{count}", "gone": "{maybe?}", "kept": "{here?}", "lit": "{{x}}"})
    assert t.render({"count": 3, "maybe": None, "here": [1]}) == {"n": 3, "s": "id-3", "kept": [1], "lit": "{x}"}


def test_each_expands_a_list_with_the_loop_variable() -> None:
    t = compile_template({"items": [{"$each": "v in videos", "uri": "{v.url}", "i": "{v.index}"}]})
    assert t.render({"videos": [{"url": "a", "index": 0}, {"url": "b", "index": 1}]}) == {
        "items": [{"uri": "a", "i": 0}, {"uri": "b", "i": 1}]
    }
    assert t.render({"videos": []}) == {"items": []}


def test_each_reads_outer_names_through_a_lazy_context() -> None:
    class Lazy(dict[str, Any]):  # like the mock's context: some fields are made on first read
        def __missing__(self, key: str) -> Any:
            if key == "when":
                return "2026-01-01T00:00:00Z"
            raise KeyError(key)

    t = compile_template([{"$each": "v in videos", "uri": "{v.url}", "at": "{when}", "n": "{count}"}])
    ctx = Lazy(videos=[{"url": "a"}, {"url": "b"}], count=2)
    assert t.render(ctx) == [{"uri": "a", "at": "2026-01-01T00:00:00Z", "n": 2}, {"uri": "b", "at": "2026-01-01T00:00:00Z", "n": 2}]
    with pytest.raises(TemplateError, match="no value for"):
        compile_template([{"$each": "v in videos", "x": "{nothing}"}]).render(ctx)


@pytest.mark.parametrize("source", ["{unclosed", "a}b", [{"$each": "nonsense"}], {"x": "{}"}])
def test_malformed_templates_are_refused_at_compile_time(source: Any) -> None:
    with pytest.raises(TemplateError):
        compile_template(source)


# -- pointers -------------------------------------------------------------------------------


@given(
    st.recursive(
        st.integers() | st.text(max_size=5), lambda inner: st.dictionaries(st.text("ab/~", max_size=3), inner, max_size=3), max_leaves=8
    )
)
def test_a_pointer_reads_back_what_it_wrote(value: Any) -> None:
    pointer = Pointer.parse("/a~1b/0/c~0d")
    document = pointer.set(None, value)
    assert pointer.get(document) == value
    assert str(pointer) == "/a~1b/0/c~0d"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("/a/0/b", 1),
        ("/a/1/b", MISSING),  # past the end of a list
        ("/a/-1", MISSING),  # not an index, though Python would take it
        ("/a/\u00b2", MISSING),  # a superscript two: str.isdigit() says yes, int() says no
        ("/a/x", MISSING),  # a name into a list
        ("/s/0", MISSING),  # into a string
        ("/n/0", MISSING),  # into a number
        ("/m/0", "zero"),  # a digit is a plain name in an object
        ("/none/x", MISSING),
    ],
)
def test_a_pointer_walks_objects_and_lists_only(text: str, expected: Any) -> None:
    document = {"a": [{"b": 1}], "s": "str", "n": 5, "m": {"0": "zero"}, "none": None}
    got = Pointer.parse(text).get(document)
    assert got is MISSING if expected is MISSING else got == expected


def test_missing_is_falsy_and_distinct_from_null() -> None:
    assert Pointer.parse("/a/b").get({"a": {}}) is MISSING
    assert Pointer.parse("/a").get({"a": None}) is None
    assert not MISSING


# -- identities, over every bundled dialect --------------------------------------------------


@pytest.mark.parametrize("name", sorted(DIALECTS))
@given(token=st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=16), index=st.integers(0, 9))
def test_every_identity_parses_back_to_what_rendered_it(name: str, token: str, index: int) -> None:
    dialect = DIALECTS[name]
    ctx: dict[str, Any] = {
        **dialect.identity_defaults,
        "token": token,
        "index": index,
        "model": "veo-3.0-generate-001",
        "created_s": 1767225600,
    }
    ctx["id"] = dialect.id_template.render(ctx)
    by_id = dialect.id_template.parse(ctx["id"])
    assert by_id is not None and by_id["token"] == token
    by_name = dialect.name_template.parse(dialect.name_template.render(ctx))
    assert by_name is not None and by_name["id"] == ctx["id"]
    by_file = dialect.file_template.parse(dialect.file_template.render(ctx))
    assert by_file is not None and (by_file["token"], int(by_file["index"])) == (token, index)


# -- documents that are wrong say where --------------------------------------------------------


def mutated(tmp_path: Path, change: Any) -> Path:
    document = yaml.safe_load((bundled_specs_dir() / "xiexus.yaml").read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _poll_ext(d: dict[str, Any]) -> dict[str, Any]:
    ext: dict[str, Any] = d["paths"]["/v1/video/generations/{task_id}"]["get"]["x-videogen"]
    return ext


BREAKS = {
    "no root block": (lambda d: d.pop("x-videogen"), "/x-videogen"),
    "unknown role": (lambda d: _poll_ext(d).update(role="teleport"), "/x-videogen"),
    "template names an unknown field": (lambda d: _poll_ext(d)["responses"].update(queued={"x": "{nonexistent}"}), "nonexistent"),
    "bad source": (lambda d: _poll_ext(d).update(id="cookie:x"), "cookie"),
    "alias with a bad regex": (lambda d: _poll_ext(d).update(aliases=[{"match": "(", "why": "w"}]), "regular expression"),
    "alias naming no parameter": (lambda d: _poll_ext(d).update(aliases=[{"match": "(?P<zzz>.*)", "why": "w"}]), "zzz"),
    "alias that backtracks catastrophically": (
        lambda d: _poll_ext(d).update(aliases=[{"match": "/x/(?P<task_id>(a+)+)$", "why": "w"}]),
        "a repetition inside a repetition",
    ),
    "undefined security scheme": (lambda d: d["paths"]["/v1/video/generations/{task_id}"]["get"].update(security=[{"Nope": []}]), "Nope"),
    "an id source naming no parameter": (lambda d: _poll_ext(d).update(id="path:task_idd"), "path parameter 'task_idd' is not declared"),
    "a poll path that reaches no poll": (
        lambda d: d["x-videogen"]["read"]["poll"].update(path="/v1/nowhere/{handle}"),
        "/x-videogen/read/poll",
    ),
    "states the templates cannot satisfy": (
        lambda d: d["x-videogen"]["read"]["states"][2]["when"].update({"/status": "finished"}),
        "/x-videogen/read/states/2",
    ),
    "a required header with no value to send": (
        lambda d: d["paths"]["/v1/video/generations/{task_id}"]["get"]["parameters"].append(
            {"name": "X-Api-Version", "in": "header", "required": True, "schema": {"type": "string"}}
        ),
        "/paths/~1v1~1video~1generations~1{task_id}/get/parameters/1: the required header 'X-Api-Version' has no value",
    ),
    "a typo in an operation block names the key": (
        lambda d: _poll_ext(d).update(responsess={}),
        "x-videogen: Additional properties are not allowed ('responsess' was unexpected)",
    ),
}


def test_a_required_header_is_sent_by_every_generic_client(tmp_path: Path) -> None:
    def version(d: dict[str, Any]) -> None:
        header = {"name": "X-Api-Version", "in": "header", "required": True, "schema": {"type": "string", "enum": ["2024-11-06"]}}
        d["paths"]["/v1/video/generations/{task_id}"]["get"]["parameters"].append(header)

    dialect = load_dialect(mutated(tmp_path, version))
    poll = dialect.by_role("poll")[0]
    assert poll.headers == (("X-Api-Version", "2024-11-06"),) and dialect.create.headers == ()
    assert required_headers(dialect) == {"X-Api-Version": "2024-11-06"}


def test_a_parameter_name_that_is_no_regex_group_name_still_routes(tmp_path: Path) -> None:
    def rename(d: dict[str, Any]) -> None:
        item = d["paths"].pop("/v1/video/generations/{task_id}")
        item["get"]["parameters"][0]["name"] = "task-id"
        item["get"]["x-videogen"]["id"] = "path:task-id"
        d["paths"]["/v1/video/generations/{task-id}"] = item

    dialect = load_dialect(mutated(tmp_path, rename))
    routed = dialect.router.match("GET", "/v1/video/generations/abc")
    assert routed.target is not None and routed.params == {"task-id": "abc"}


@pytest.mark.parametrize("case", list(BREAKS))
def test_a_broken_document_fails_with_file_and_place(tmp_path: Path, case: str) -> None:
    change, expected = BREAKS[case]
    path = mutated(tmp_path, change)
    with pytest.raises(SpecError) as caught:
        load_dialect(path)
    assert "broken.yaml" in str(caught.value) and expected in str(caught.value)


def test_the_check_command_reports_a_broken_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mutated(tmp_path, lambda d: d.pop("x-videogen"))
    assert mock_main(["check", "--specs", str(path.parent)]) == 1  # like a linter: 1 = problems found
    out = capsys.readouterr()
    assert "broken.yaml" in out.out + out.err
    assert mock_main(["check"]) == 0


def _only_yml(folder: Path) -> Path:
    (folder / "a.yml").write_text("openapi: 3.1.0\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "where,message",
    [
        (lambda p: p / "missing", "not a folder"),
        (lambda p: mutated(p, lambda d: None), "not a folder"),  # a file, not a folder
        (lambda p: p, "no dialect documents"),  # empty
        (_only_yml, "no dialect documents (*.yaml)"),
    ],
    ids=["missing folder", "a file", "empty folder", "only .yml"],
)
def test_the_check_command_exits_2_when_there_is_nothing_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: Any, message: str
) -> None:
    assert mock_main(["check", "--specs", str(where(tmp_path))]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--workers", "0"],
        ["serve", "--workers", "2"],
        ["serve", "--store", "ftp://x"],
        ["serve", "--fault", "boom"],
        ["serve", "--control-token", ""],
        ["serve", "--control-token", "  "],
    ],
)
def test_bad_serve_options_exit_2_before_serving(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert mock_main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_the_bundled_documents_are_untouched_by_loading() -> None:
    raw = yaml.safe_load((bundled_specs_dir() / "gemini.yaml").read_text(encoding="utf-8"))
    before = copy.deepcopy(raw)
    load_dialect(bundled_specs_dir() / "gemini.yaml")
    assert raw == before
