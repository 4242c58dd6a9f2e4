"""How ``s3d status`` finds the daemon and its key from the settings (no daemon needed here;
tests/test_cli.py runs it against a real one)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from s3d.cli.admin_client import AdminClientError, endpoint_for, fetch
from s3d.config import ConfigError
from s3d.daemon import local_keys
from s3d.settings import AccessKey, ServerSettings, Settings
from tests.support import free_port, make_tls_cert

KEY = AccessKey("S3DCLIENTTEST0000001", "client-test-secret")


def settings(data_dir: Path, **server: object) -> Settings:
    return Settings(data_dir=data_dir, server=dataclasses.replace(ServerSettings(), **server))


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9333"),
        ("0.0.0.0", "http://127.0.0.1:9333"),  # listening everywhere: ask on loopback
        ("::", "http://[::1]:9333"),
        ("::1", "http://[::1]:9333"),
        ("s3d.internal", "http://s3d.internal:9333"),
    ],
)
def test_the_url_comes_from_host_and_port(tmp_path: Path, host: str, url: str) -> None:
    endpoint = endpoint_for(settings(tmp_path, host=host, access_keys=(KEY,)))
    assert endpoint.url == url
    assert endpoint.key == KEY
    assert endpoint.tls is None


def test_tls_settings_mean_https_trusting_the_daemon_certificate(tmp_path: Path) -> None:
    cert, key = make_tls_cert(tmp_path)
    found = settings(tmp_path, access_keys=(KEY,), tls_cert_file=cert, tls_key_file=key)
    endpoint = endpoint_for(found)
    assert endpoint.url == "https://127.0.0.1:9333"
    assert endpoint.tls is not None
    assert any("s3d test" in str(c.get("subject")) for c in endpoint.tls.get_ca_certs())
    overridden = endpoint_for(found, "http://10.1.2.3:80/")
    assert (overridden.url, overridden.tls) == ("http://10.1.2.3:80", None)


def test_the_generated_key_is_read_never_created(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no access key: none is configured"):
        endpoint_for(settings(tmp_path))
    assert not (tmp_path / local_keys.FILE_NAME).exists()
    generated, created = local_keys.load_or_create(tmp_path)
    assert created
    endpoint = endpoint_for(settings(tmp_path))
    assert endpoint.key == generated
    assert generated.secret_access_key not in repr(endpoint)


def test_unsigned_when_anonymous_and_no_key(tmp_path: Path) -> None:
    assert endpoint_for(settings(tmp_path, anonymous="read")).key is None


def test_a_broken_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / local_keys.FILE_NAME).write_text(json.dumps({"access_key_id": "only"}))
    with pytest.raises(ConfigError, match="not an s3d access key file"):
        endpoint_for(settings(tmp_path))


def test_an_unusable_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")
    found = settings(tmp_path, access_keys=(KEY,), tls_cert_file=bogus, tls_key_file=bogus)
    with pytest.raises(ConfigError, match=r"^server.tls_cert_file: cannot trust "):
        endpoint_for(found)


def test_port_zero_needs_an_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give the daemon's address with --endpoint"):
        endpoint_for(settings(tmp_path, port=0, access_keys=(KEY,)))
    found = settings(tmp_path, port=0, access_keys=(KEY,))
    assert endpoint_for(found, "http://h:1").url == "http://h:1"


def test_something_else_than_s3d_answering(tmp_path: Path) -> None:
    import http.server
    import threading

    class NotS3d(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404 if "missing" in self.path else 200)
            self.end_headers()
            self.wfile.write(b"<html>hello</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", free_port()), NotS3d)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        endpoint = endpoint_for(settings(tmp_path, access_keys=(KEY,)), url)
        with pytest.raises(AdminClientError, match=r"answered, but not with s3d's JSON"):
            fetch(endpoint, "status")
        with pytest.raises(AdminClientError, match=r"answered HTTP 404 without an S3 error"):
            fetch(endpoint, "missing")
    finally:
        server.shutdown()
        server.server_close()
