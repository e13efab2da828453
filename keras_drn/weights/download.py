"""Downloading registry files into the Keras cache, checked against their hash.

Files land in `<KERAS_HOME or ~/.keras>/models/keras_drn/` through
`keras.utils.get_file`. A download goes to a temporary name
(`keras_drn.files.atomic_path`), is checked against the registry's SHA-256 (full digest
or the prefix in the file name), and only then renamed into place, so the cache never
holds a partial or wrong file.

The authors' host has been reported down (fyu/drn#45). Set `KERAS_DRN_WEIGHTS_MIRROR`
to one or more base URLs (separated by spaces or commas) to download from a mirror
instead; for each base, `<base>/<file name>` is tried, then `<base>/<path of the
original URL>`. Or pass the path of a local copy as `weights=`.
"""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.parse

from keras_drn.files import atomic_path
from keras_drn.weights import registry

CACHE_SUBDIR = os.path.join("models", "keras_drn")


class WeightsDownloadError(OSError):
    """No URL gave the file; the message lists what was tried and what to do."""


class WeightsHashError(ValueError):
    """A file's SHA-256 does not match the registry."""


TIMEOUT_ENV = "KERAS_DRN_DOWNLOAD_TIMEOUT"


def download_timeout() -> float:
    """Seconds a download may wait for the server at a time ($KERAS_DRN_DOWNLOAD_TIMEOUT,
    default 60)."""
    value = os.environ.get(TIMEOUT_ENV, "60")
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(
            f"{TIMEOUT_ENV}={value!r} is not a number of seconds."
        ) from None
    if seconds <= 0:
        raise ValueError(f"{TIMEOUT_ENV}={value!r} must be positive.")
    return seconds


def keras_home() -> str:
    """The Keras cache root, by Keras's rule (keras/src/backend/config.py), read at
    call time: $KERAS_HOME, else ~/.keras (/tmp/.keras where home is not writable)."""
    if "KERAS_HOME" in os.environ:
        return os.path.expanduser(os.environ["KERAS_HOME"])
    home = os.path.expanduser("~")
    return os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")


def cache_dir() -> str:
    """The directory of downloaded and converted keras_drn weights."""
    return os.path.join(keras_home(), CACHE_SUBDIR)


def cached_path(entry: registry.WeightsEntry) -> str:
    """Where the original file of `entry` is kept once downloaded."""
    return os.path.join(cache_dir(), entry.file_name)


def sha256_of(path: str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_description(entry: registry.WeightsEntry) -> str:
    if entry.sha256:
        return f"SHA-256 {entry.sha256}"
    if entry.hash_prefix:
        return f"SHA-256 starting with {entry.hash_prefix}"
    return "no published hash"


def verify(path: str, entry: registry.WeightsEntry) -> str:
    """Checks `path` against the registry hash of `entry`; returns its SHA-256.
    Raises `WeightsHashError` on a mismatch. Without a published hash, only the
    container is checked (a download that returned an HTML page fails here)."""
    digest = sha256_of(path)
    expected = entry.sha256 or entry.hash_prefix
    if expected and not digest.startswith(expected.lower()):
        raise WeightsHashError(
            f"{path} has SHA-256 {digest}, but {entry.file_name} should have "
            f"{hash_description(entry)}: the file is corrupt, incomplete or a "
            f"different file."
        )
    if not expected and not _plausible(path, entry.kind):
        raise WeightsHashError(
            f"{path} is not a {'caffemodel' if entry.kind == 'caffe' else 'PyTorch'} "
            f"file (a web page instead of the file?)."
        )
    return digest


def _plausible(path: str, kind: str) -> bool:
    from keras_drn.weights import pth_reader

    if kind != "caffe":
        return pth_reader.sniff_format(path) is not None
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    # A NetParameter starts with a field tag (name = 1, layers = 2 or layer = 100),
    # never with markup.
    return bool(head) and head[:1] not in (b"<", b"{")


def mirror_bases() -> list[str]:
    value = os.environ.get(registry.MIRROR_ENV, "")
    return [b.rstrip("/") for b in value.replace(",", " ").split() if b.strip()]


def candidate_urls(entry: registry.WeightsEntry) -> list[str]:
    """The URLs to try, in order: the mirrors' when `KERAS_DRN_WEIGHTS_MIRROR` is set
    (and then only those), otherwise the registry's, then its web-archive copies."""
    bases = mirror_bases()
    if not bases:
        return list(entry.all_urls)
    urls = []
    for base in bases:
        urls.append(f"{base}/{entry.file_name}")
        for url in entry.urls:
            path = urllib.parse.urlsplit(url).path
            urls.append(base + path)
    return list(dict.fromkeys(urls))


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())[:300]
    # get_file raises a bare Exception("URL fetch failure on <url>: <code> -- <msg>").
    return text if type(error) is Exception else f"{type(error).__name__}: {text}"


def _help(entry: registry.WeightsEntry, target: str) -> str:
    where = f" from {entry.manual_url}" if entry.manual_url else ""
    check = (f"checked against its {hash_description(entry)}" if entry.sha256 or
             entry.hash_prefix else "used as is: no hash is published")
    lines = [
        "To proceed, either:",
        f"  - get {entry.file_name}{where} yourself and pass its path: "
        f"weights={os.path.join('path', 'to', entry.file_name)!r}; or copy it to "
        f"{target} (it is then {check}); or",
        f"  - set {registry.MIRROR_ENV} to the base URL of a mirror that serves "
        f"{entry.file_name} (e.g. {registry.MIRROR_ENV}=https://example.org/drn-weights).",
    ]
    return "\n".join(lines)


def fetch(entry: registry.WeightsEntry) -> str:
    """Returns the path of the original file of `entry` in the Keras cache,
    downloading and verifying it first if needed.

    Raises:
        WeightsDownloadError: every URL failed (or none is known); the message lists
            each URL with its error and how to proceed.
    """
    import keras

    target = cached_path(entry)
    if os.path.exists(target):
        try:
            verify(target, entry)
            return target
        except WeightsHashError:
            os.remove(target)  # ours to manage; fetch a good copy below
    urls = candidate_urls(entry)
    if not urls:
        raise WeightsDownloadError(
            f"No download URL is known for the weights {entry.name!r} of {entry.model} "
            f"({entry.file_name}): {entry.notes}\n{_help(entry, target)}"
        )
    failures = []
    for url in urls:
        previous_timeout = socket.getdefaulttimeout()
        try:
            # get_file reads through urllib, which waits on the process-wide socket
            # timeout: bound it so that a host that never answers fails in time.
            socket.setdefaulttimeout(download_timeout())
            # The download lands on a temporary name beside the target and is renamed
            # over it only once its hash is right; any failure removes it.
            with atomic_path(target) as part:
                downloaded = keras.utils.get_file(
                    fname=os.path.basename(part), origin=url, cache_dir=keras_home(),
                    cache_subdir=CACHE_SUBDIR)
                verify(downloaded, entry)
                if os.path.abspath(downloaded) != os.path.abspath(part):
                    os.replace(downloaded, part)  # Keras fell back to another cache
            return target
        except Exception as error:  # noqa: BLE001  (reported together below)
            failures.append(f"  {url}\n    -> {_short(error)}")
        finally:
            socket.setdefaulttimeout(previous_timeout)
    mirror = os.environ.get(registry.MIRROR_ENV)
    via = f" (from {registry.MIRROR_ENV}={mirror!r})" if mirror else ""
    raise WeightsDownloadError(
        f"Could not download the weights {entry.name!r} of {entry.model} "
        f"({entry.file_name}). Tried{via}:\n" + "\n".join(failures)
        + f"\nThe authors' server has been reported down ({registry.HOST_DOWN_ISSUE}). "
        + _help(entry, target)
    ) from None
