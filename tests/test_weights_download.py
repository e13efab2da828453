"""Named weights end to end, against an HTTP server on 127.0.0.1 (never the network):
download through keras.utils.get_file into a temporary Keras cache, hash check,
conversion cached so the second call reads no .pth, and the errors of a failed
download."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import http.server
import os
import socket
import threading

import numpy as np
import pytest
from test_weights_writers import write_py2_legacy

import keras_drn
from keras_drn.weights import WeightsDownloadError
from keras_drn.weights import download
from keras_drn.weights import named
from keras_drn.weights import registry
from keras_drn.weights.convert import torch_key_map


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list  # set per server

    def do_GET(self):  # noqa: N802  (http.server's naming)
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """Serves `directory` on 127.0.0.1; yields (base URL, list of requested paths)."""
    requests = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolate(monkeypatch, tmp_path, mirror=None):
    """A private Keras cache; the mirror (if any) as the only download source; no
    proxy between us and 127.0.0.1."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    if mirror is None:
        monkeypatch.delenv(registry.MIRROR_ENV, raising=False)
    else:
        monkeypatch.setenv(registry.MIRROR_ENV, mirror)


def with_entry(monkeypatch, model, name, **changes):
    """Replaces the registry row (model, name) for this test; returns the new row."""
    old = registry.get_entry(model, name)
    new = dataclasses.replace(old, **changes)
    monkeypatch.setattr(registry, "ENTRIES", tuple(
        new if e is old else e for e in registry.ENTRIES))
    return new


def cache_files():
    root = download.cache_dir()
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


# --------------------------------------------------------------------------- fixtures
def _reference_state(model, arch):
    """A state dict with the reference's keys made from a Keras model's (random)
    weights through the inverse of each slot's layout transform."""
    state = {}
    for slot in torch_key_map(model, arch, "classifier"):
        value = np.array(slot.variable)
        if value.ndim == 4:  # conv [kh, kw, in, out] -> [out, in, kh, kw]
            value = value.transpose(3, 2, 0, 1)
        elif value.ndim == 2:  # fc [in, out] -> [out, in, 1, 1]
            value = value.T[:, :, None, None]
        state[slot.key] = value.astype("float32")
    return state


@pytest.fixture(scope="module")
def d22():
    """A DRN-D-22 with random weights, its outputs, and its weights as a 2017 file."""
    model = keras_drn.DRN_D_22(classifier_activation=None, input_shape=(None, None, 3))
    x = np.random.default_rng(0).normal(size=(1, 32, 40, 3)).astype("float32")
    return model, x, np.asarray(model(x)), _reference_state(model, "drn_d_22")


@pytest.fixture
def served(tmp_path, d22):
    """The D-22 weights as drn_d_22-4bd2f8ea.pth in a served directory, and a
    registry row that carries the file's full SHA-256."""
    root = tmp_path / "www"
    root.mkdir()
    path = root / "drn_d_22-4bd2f8ea.pth"
    write_py2_legacy(d22[3], path)
    return root, path, hashlib.sha256(path.read_bytes()).hexdigest()


def _zero(model):
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, variable.dtype))


# --------------------------------------------------------------------------- tests
def test_download_verify_convert_then_cache_hit(monkeypatch, tmp_path, d22, served):
    model, x, expected, _ = d22
    root, path, digest = served
    with serve(root) as (base, requests):
        isolate(monkeypatch, tmp_path, mirror=base)
        entry = with_entry(monkeypatch, "drn_d_22", "imagenet", sha256=digest)
        _zero(model)
        named.load_named_weights(model, "drn_d_22", "imagenet", arch="drn_d_22")
        np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)
        assert requests == ["/drn_d_22-4bd2f8ea.pth"]
        assert cache_files() == sorted([entry.file_name,
                                        os.path.basename(named.converted_path(entry))])
        # The second call reads only the converted cache: remove the original.
        os.remove(download.cached_path(entry))
        _zero(model)
        named.load_named_weights(model, "drn_d_22", "imagenet", arch="drn_d_22")
        np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)
        # And so does the public constructor.
        again = keras_drn.DRN_D_22(weights="imagenet", classifier_activation=None,
                                   input_shape=(None, None, 3))
        np.testing.assert_allclose(np.asarray(again(x)), expected, atol=1e-5)
        assert requests == ["/drn_d_22-4bd2f8ea.pth"]  # no second download


def test_hash_prefix_and_host_replacing_mirror(monkeypatch, tmp_path, d22, served):
    """Checked by the prefix in the name when no full digest is known, and found under
    the original URL's path on the mirror (`<base>/drn/<file>`)."""
    model, x, expected, _ = d22
    root, path, digest = served
    (root / "drn").mkdir()
    os.replace(path, root / "drn" / path.name)
    with serve(root) as (base, requests):
        isolate(monkeypatch, tmp_path, mirror=base)
        with_entry(monkeypatch, "drn_d_22", "imagenet", hash_prefix=digest[:8],
                   sha256=None)
        _zero(model)
        named.load_named_weights(model, "drn_d_22", "imagenet", arch="drn_d_22")
        np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)
        assert requests == ["/drn_d_22-4bd2f8ea.pth", "/drn/drn_d_22-4bd2f8ea.pth"]


def test_hash_mismatch_is_refused_and_leaves_nothing(monkeypatch, tmp_path, d22, served):
    """The registry's real prefix (4bd2f8ea) does not match our stand-in file."""
    model = d22[0]
    root, _, digest = served
    before = [np.array(v) for v in model.weights]
    with serve(root) as (base, requests):
        isolate(monkeypatch, tmp_path, mirror=base)
        with pytest.raises(WeightsDownloadError) as info:
            named.load_named_weights(model, "drn_d_22", "imagenet", arch="drn_d_22")
    message = str(info.value)
    assert "WeightsHashError" in message and digest in message
    assert "SHA-256 starting with 4bd2f8ea" in message
    assert requests  # it was downloaded, then refused
    assert cache_files() == []  # no partial, no wrong file, no converted cache
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(before, model.weights))


def test_a_wrong_file_in_the_cache_is_replaced(monkeypatch, tmp_path, d22, served):
    model, x, expected, _ = d22
    root, path, digest = served
    with serve(root) as (base, requests):
        isolate(monkeypatch, tmp_path, mirror=base)
        entry = with_entry(monkeypatch, "drn_d_22", "imagenet", sha256=digest)
        os.makedirs(download.cache_dir())
        with open(download.cached_path(entry), "wb") as f:
            f.write(b"an interrupted download from some other tool")
        named.load_named_weights(model, "drn_d_22", "imagenet", arch="drn_d_22")
        np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)
        assert len(requests) == 1


def test_unreachable_host_says_what_to_do(monkeypatch, tmp_path):
    mirror = f"http://127.0.0.1:{closed_port()}/weights"
    isolate(monkeypatch, tmp_path, mirror=mirror)
    with pytest.raises(WeightsDownloadError) as info:
        keras_drn.DRN_D_22(weights="imagenet")
    error = info.value
    message = str(error)
    assert f"{mirror}/drn_d_22-4bd2f8ea.pth" in message  # every URL tried is listed
    assert f"{mirror}/drn/drn_d_22-4bd2f8ea.pth" in message
    assert "fyu/drn/issues/45" in message
    assert "weights='path/to/drn_d_22-4bd2f8ea.pth'" in message
    assert registry.MIRROR_ENV in message
    assert download.cached_path(registry.get_entry("drn_d_22", "imagenet")) in message
    assert error.__cause__ is None and error.__suppress_context__  # no urllib traceback
    assert cache_files() == []


def test_a_silent_host_times_out_with_the_helpful_error(monkeypatch, tmp_path):
    """A server that accepts the connection and never answers: the download gives up
    after KERAS_DRN_DOWNLOAD_TIMEOUT instead of hanging."""
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    mirror = f"http://127.0.0.1:{listener.getsockname()[1]}"
    isolate(monkeypatch, tmp_path, mirror=mirror)
    monkeypatch.setenv(download.TIMEOUT_ENV, "1")
    before = socket.getdefaulttimeout()
    start = time.monotonic()
    try:
        with pytest.raises(WeightsDownloadError, match="Could not download"):
            download.fetch(registry.get_entry("drn_d_22", "imagenet"))
    finally:
        listener.close()
    assert time.monotonic() - start < 30
    assert socket.getdefaulttimeout() == before  # restored
    assert cache_files() == []


def test_no_known_url_points_to_the_authors_folder(monkeypatch, tmp_path):
    isolate(monkeypatch, tmp_path)
    entry = registry.get_entry("drnseg_drn_d_38", "cityscapes")
    with pytest.raises(WeightsDownloadError) as info:
        download.fetch(entry)
    message = str(info.value)
    assert "No download URL is known" in message
    assert registry.CITYSCAPES_FOLDER in message
    assert "drn_d_38_cityscapes.pth" in message


def test_mirror_urls(monkeypatch):
    monkeypatch.setenv(registry.MIRROR_ENV, "https://a.example/x/, https://b.example")
    entry = registry.get_entry("drn_a_50", "imagenet")
    assert download.candidate_urls(entry) == [
        "https://a.example/x/resnet50-19c8e357.pth",
        "https://a.example/x/models/resnet50-19c8e357.pth",
        "https://b.example/resnet50-19c8e357.pth",
        "https://b.example/models/resnet50-19c8e357.pth",
    ]
    monkeypatch.delenv(registry.MIRROR_ENV)
    assert download.candidate_urls(entry) == [
        "https://download.pytorch.org/models/resnet50-19c8e357.pth"]


def test_registry_table_is_consistent():
    """Every row names a model that exists, a unique (model, name), and a file whose
    hash prefix (where the name carries one) is what the row checks."""
    from keras_drn.models import DILATION_CONFIGS
    from keras_drn.models import DRN_CONFIGS

    seen = set()
    for entry in registry.ENTRIES:
        assert (entry.model, entry.name) not in seen
        seen.add((entry.model, entry.name))
        assert entry.kind in ("classifier", "segmentation", "caffe")
        assert entry.license and entry.source and entry.notes
        if entry.kind == "classifier":
            assert entry.model in DRN_CONFIGS
            assert entry.hash_prefix and entry.hash_prefix in entry.file_name
        elif entry.kind == "segmentation":
            assert entry.model.removeprefix("drnseg_") in DRN_CONFIGS
            assert entry.urls or entry.manual_url
        else:
            family, dataset = entry.model.split("_", 1)
            assert DILATION_CONFIGS[dataset].name == family
            assert DILATION_CONFIGS[dataset].classes == entry.classes
    assert {e.model for e in registry.ENTRIES if e.name == "imagenet"} == {
        "drn_a_50", "drn_c_26", "drn_c_42", "drn_c_58", "drn_d_22", "drn_d_38",
        "drn_d_54", "drn_d_105"}


def test_without_a_hash_a_web_page_is_still_refused(monkeypatch, tmp_path):
    """The Cityscapes files have no published hash; a link that serves an HTML page
    (as file hosts do when a link changes) must not land in the cache."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "drn_d_22_cityscapes.pth").write_text("<!DOCTYPE html><html>Sign in</html>")
    with serve(root) as (base, requests):
        isolate(monkeypatch, tmp_path, mirror=base)
        entry = registry.get_entry("drnseg_drn_d_22", "cityscapes")
        assert entry.sha256 is None and entry.hash_prefix is None
        with pytest.raises(WeightsDownloadError, match="web page"):
            download.fetch(entry)
    assert requests and cache_files() == []
