"""Signature checks give the same verdicts through libsodium (the fast path) and OpenSSL (the fallback)."""

import base64

import pytest

from hajiri_wire import DeviceKey, signing
from hajiri_wire.errors import BadSignature


@pytest.fixture(params=["libsodium", "openssl"])
def verifier(request, monkeypatch):
    if request.param == "openssl":
        monkeypatch.setattr(signing, "_sodium_open", None)
    elif signing._sodium_open is None:
        pytest.skip("PyNaCl is not installed")
    return signing.verify_signature


def test_good_and_bad_signatures_get_the_same_verdicts(verifier):
    key, other = DeviceKey.generate(), DeviceKey.generate()
    body = b'{"seq":1}'
    sig = key.sign(body)
    verifier(key.public, body, sig)  # a good signature passes
    cases = {
        "other body": (key.public, b'{"seq":2}', sig),
        "other key": (other.public, body, sig),
        "flipped bit": (key.public, body, base64.b64encode(bytes([base64.b64decode(sig)[0] ^ 1])
                                                           + base64.b64decode(sig)[1:]).decode()),
        "short": (key.public, body, base64.b64encode(base64.b64decode(sig)[:63]).decode()),
        "not base64": (key.public, body, "%%%"),
        "empty": (key.public, body, ""),
    }
    for name, (public, data, s) in cases.items():
        with pytest.raises(BadSignature):
            verifier(public, data, s)
            pytest.fail(f"{name} was accepted")
