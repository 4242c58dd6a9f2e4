"""Configuration: precedence, every type, every error, masking and the generated docs."""

from __future__ import annotations

import dataclasses
import string
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3d.config import ConfigError, load_settings, options, render_settings
from s3d.config.docs import example_toml, with_reference
from s3d.config.sizes import format_size, parse_size
from s3d.settings import AccessKey, Settings

REPO = Path(__file__).resolve().parent.parent
SECRET = "Sup3rS3cretValue/xyz"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def write(tmp_path: Path, text: str, name: str = "s3d.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(config_file: Path | None, env: dict[str, str], flags: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(config_file, env, flags)
    return str(info.value)


# Precedence.


def test_nothing_configured_gives_the_dataclass_defaults() -> None:
    assert load_settings(None, {}, {}) == Settings()


@pytest.mark.parametrize(
    ("env", "flags", "port"),
    [
        ({}, {}, 1001),
        ({"S3D_SERVER_PORT": "1002"}, {}, 1002),
        ({"S3D_SERVER_PORT": "1002"}, {"server.port": "1003"}, 1003),
        ({}, {"server.port": "1003"}, 1003),
    ],
)
def test_file_then_env_then_flags(
    tmp_path: Path, env: dict[str, str], flags: dict[str, object], port: int
) -> None:
    path = write(tmp_path, "[server]\nport = 1001\nhost = '0.0.0.0'\n")
    settings = load_settings(path, env, flags)
    assert settings.server.port == port
    assert settings.server.host == "0.0.0.0"  # untouched by env and flags


def test_env_and_flags_without_a_file(tmp_path: Path) -> None:
    env = {"S3D_DATA_DIR": str(tmp_path / "d"), "S3D_LOG_LEVEL": "debug"}
    settings = load_settings(None, env, {"log.format": "json"})
    assert settings.data_dir == tmp_path / "d"
    assert (settings.log.level, settings.log.format) == ("debug", "json")


def test_unrelated_s3d_environment_variables_are_ignored() -> None:
    # Kubernetes sets these for a Service named s3d; they must not stop the daemon.
    env = {"S3D_PORT": "tcp://10.0.0.1:9333", "S3D_SERVICE_HOST": "10.0.0.1", "S3D_CONFIG": "x"}
    assert load_settings(None, env, {}) == Settings()


# Every type, from each source.


def test_every_type_from_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
data_dir = "~/s3d-data"
[server]
host = "::1"
port = 0
base_domains = ["s3.local", "localhost"]
anonymous = "read"
shutdown_grace = 5
[[server.access_keys]]
access_key_id = "{KEY_ID}"
secret_access_key = "{SECRET}"
[[server.access_keys]]
access_key_id = "second"
secret_access_key = "with:colon"
[remote]
verify_tls = false
read_timeout = 0.5
""",
    )
    settings = load_settings(path, {}, {})
    assert settings.data_dir == Path("~/s3d-data").expanduser()
    assert settings.server.host == "::1"
    assert settings.server.port == 0
    assert settings.server.base_domains == ("s3.local", "localhost")
    assert settings.server.anonymous == "read"
    assert settings.server.shutdown_grace == 5.0
    assert isinstance(settings.server.shutdown_grace, float)
    assert settings.server.access_keys == (
        AccessKey(KEY_ID, SECRET),
        AccessKey("second", "with:colon"),
    )
    assert settings.remote.verify_tls is False
    assert settings.remote.read_timeout == 0.5


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("false", False), ("1", True), ("0", False), ("yes", True), ("NO", False)],
)
def test_booleans_from_text(text: str, value: bool) -> None:
    assert load_settings(None, {"S3D_REMOTE_VERIFY_TLS": text}, {}).remote.verify_tls is value
    assert load_settings(None, {}, {"remote.verify_tls": text}).remote.verify_tls is value


def test_every_type_from_the_environment() -> None:
    env = {
        "S3D_SERVER_PORT": " 8080 ",
        "S3D_SERVER_SHUTDOWN_GRACE": "2.5",
        "S3D_SERVER_BASE_DOMAINS": "a.example, b.example,,",
        "S3D_SERVER_ACCESS_KEYS": f"{KEY_ID}:{SECRET}, other:se:cret",
        "S3D_SERVER_ANONYMOUS": "read-write",
        "S3D_REMOTE_ENDPOINT_URL": "http://127.0.0.1:9000",
        "S3D_REMOTE_ACCESS_KEY_ID": "",  # empty: unset
    }
    settings = load_settings(None, env, {})
    assert settings.server.port == 8080
    assert settings.server.shutdown_grace == 2.5
    assert settings.server.base_domains == ("a.example", "b.example")
    assert settings.server.access_keys == (AccessKey(KEY_ID, SECRET), AccessKey("other", "se:cret"))
    assert settings.server.anonymous == "read-write"
    assert settings.remote.endpoint_url == "http://127.0.0.1:9000"
    assert settings.remote.access_key_id is None


def test_flags_as_the_command_line_gives_them(tmp_path: Path) -> None:
    cert, key = write(tmp_path, "cert", "c.pem"), write(tmp_path, "key", "k.pem")
    flags: dict[str, object] = {
        "server.access_keys": [f"{KEY_ID}:{SECRET}", "b:c,d:e"],  # --access-key, repeated
        "server.tls_cert_file": str(cert),
        "server.tls_key_file": str(key),
        "remote.max_attempts": "2",
        "data_dir": str(tmp_path),
    }
    settings = load_settings(None, {}, flags)
    assert [k.access_key_id for k in settings.server.access_keys] == [KEY_ID, "b", "d"]
    assert (settings.server.tls_cert_file, settings.server.tls_key_file) == (cert, key)
    assert settings.remote.max_attempts == 2
    assert settings.data_dir == tmp_path


def test_typed_flags_from_python() -> None:
    settings = load_settings(None, {}, {"server.port": 0, "server.base_domains": ("x",)})
    assert (settings.server.port, settings.server.base_domains) == (0, ("x",))


# Errors name the key and the source.


def test_file_type_error_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = "abc"\n')
    assert error_of(path, {}, {}) == f'{path}: server.port: expected an integer, got "abc"'


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[server]\nport = true\n", "server.port: expected an integer, got true"),
        ("[server]\nport = 70000\n", "server.port: must be between 0 and 65535, got 70000"),
        ("[server]\nport = -1\n", "server.port: must be between 0 and 65535, got -1"),
        ("[server]\nshutdown_grace = -1\n", "server.shutdown_grace: must be at least 0"),
        ("[remote]\nconnect_timeout = 0\n", "remote.connect_timeout: must be greater than 0"),
        ("[remote]\nread_timeout = -2.5\n", "remote.read_timeout: must be greater than 0"),
        ("[remote]\nmax_attempts = 0\n", "remote.max_attempts: must be at least 1"),
        ("[remote]\nread_timeout = nan\n", "remote.read_timeout: expected a finite number"),
        (
            '[server]\nanonymous = "all"\n',
            'expected one of off, read, read-write, remote, got "all"',
        ),
        ('[server]\nbase_domains = "a,b"\n', "server.base_domains: expected a list of strings"),
        ("[log]\nlevel = 3\n", "log.level: expected one of debug, info, warning, error, got 3"),
        ("server = 1\n", "server: expected a table ([server])"),
        ("[server]\nprot = 1\n", 'server.prot: unknown key (did you mean "server.port"?)'),
        ("port = 1\n", 'port: unknown key (did you mean "server.port"?)'),
        ("[servr]\nport = 1\n", "[servr]: unknown section (did you mean [server]?)"),
        ("[telemetry]\nx = 1\n", "[telemetry]: unknown section"),
        ('[server]\ntls_cert_file = "/nonexistent/c.pem"\n', "no such file: /nonexistent/c.pem"),
        ('[remote]\nca_bundle = "/"\n', "remote.ca_bundle: not a file: /"),
    ],
)
def test_file_errors(tmp_path: Path, toml: str, expected: str) -> None:
    path = write(tmp_path, toml)
    message = error_of(path, {}, {})
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_port_zero_and_grace_zero_are_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 0\nshutdown_grace = 0\n")
    assert load_settings(path, {}, {}).server.port == 0


def test_tls_certificate_without_key(tmp_path: Path) -> None:
    cert = write(tmp_path, "cert", "c.pem")
    message = error_of(None, {"S3D_SERVER_TLS_CERT_FILE": str(cert)}, {})
    assert message == (
        "environment variable S3D_SERVER_TLS_CERT_FILE: is set, but server.tls_key_file is not"
    )


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nhost = "ok"\nport = = 3\n')
    message = error_of(path, {}, {})
    assert message.startswith(f"{path}: invalid TOML: ")
    assert "line 3" in message
    assert "column" in message


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert error_of(missing, {}, {}) == f"{missing}: configuration file not found"
    assert "cannot read" in error_of(tmp_path, {}, {})  # a directory
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'host = "\xe9"\n')
    assert error_of(bad, {}, {}) == f"{bad}: invalid TOML: not UTF-8 text"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"S3D_SERVER_PORT": "abc"}, "environment variable S3D_SERVER_PORT: expected an integer"),
        ({"S3D_SERVER_PORT": "65536"}, "environment variable S3D_SERVER_PORT: must be between"),
        ({"S3D_REMOTE_VERIFY_TLS": "maybe"}, "S3D_REMOTE_VERIFY_TLS: expected true or false"),
        ({"S3D_LOG_FORMAT": "xml"}, 'S3D_LOG_FORMAT: expected one of text, json, got "xml"'),
        ({"S3D_SERVER_SHUTDOWN_GRACE": "inf"}, "S3D_SERVER_SHUTDOWN_GRACE: expected a finite"),
        ({"S3D_DATA_DIR": ""}, "environment variable S3D_DATA_DIR: expected a path"),
    ],
)
def test_environment_errors(env: dict[str, str], expected: str) -> None:
    assert expected in error_of(None, env, {})


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"server.port": "x"}, 'flag --port: expected an integer, got "x"'),
        ({"remote.endpoint_url": 3}, "flag --remote: expected a string, got 3"),
        ({"remote.connect_timeout": "0"}, "flag --remote-connect-timeout: must be greater than 0"),
        ({"server.anonymous": "yes"}, "flag --server-anonymous: expected one of off"),
        ({"no.such": "1"}, "unknown setting 'no.such'"),
    ],
)
def test_flag_errors(flags: dict[str, object], expected: str) -> None:
    assert expected in error_of(None, {}, flags)


# Secrets never appear in error messages.

SECRET_CASES: list[tuple[str, dict[str, str], dict[str, object], str]] = [
    ("", {"S3D_SERVER_ACCESS_KEYS": SECRET}, {}, "S3D_SERVER_ACCESS_KEYS"),  # no colon
    ("", {"S3D_SERVER_ACCESS_KEYS": f"{KEY_ID}:"}, {}, "S3D_SERVER_ACCESS_KEYS"),
    ("", {"S3D_SERVER_ACCESS_KEYS": f"{SECRET}:x,{SECRET}:y"}, {}, "S3D_SERVER_ACCESS_KEYS"),
    ("", {}, {"server.access_keys": [f"{KEY_ID}:{SECRET}"] * 2}, "flag --access-key"),
    ("", {"S3D_REMOTE_SECRET_ACCESS_KEY": SECRET}, {}, "S3D_REMOTE_SECRET_ACCESS_KEY"),
    ("", {"S3D_REMOTE_SESSION_TOKEN": SECRET}, {}, "S3D_REMOTE_SESSION_TOKEN"),
    ("", {}, {"remote.access_key_id": [SECRET]}, "flag --remote-access-key-id"),
    (f'[remote]\nsecret_access_key = ["{SECRET}"]\n', {}, {}, "remote.secret_access_key"),
    (f'[remote]\nsession_token = "{SECRET}\n', {}, {}, "invalid TOML"),  # unterminated
    (f'[remote]\nsecret_access_key = {{ v = "{SECRET}" }}\n', {}, {}, "secret_access_key"),
    (f'[[server.access_keys]]\naccess_key_id = "{SECRET}"\n', {}, {}, "access_keys[0]"),
    (f'[[server.access_keys]]\nsecret = "{SECRET}"\n', {}, {}, "access_keys[0].secret"),
    (f'[server]\naccess_keys = ["{SECRET}"]\n', {}, {}, "server.access_keys[0]"),
    (f'[server]\naccess_keys = "{SECRET}"\n', {}, {}, "server.access_keys"),
]


@pytest.mark.parametrize(("toml", "env", "flags", "where"), SECRET_CASES)
def test_secrets_never_appear_in_errors(
    tmp_path: Path, toml: str, env: dict[str, str], flags: dict[str, object], where: str
) -> None:
    path = write(tmp_path, toml) if toml else None
    message = error_of(path, env, flags)
    assert where in message
    assert SECRET not in message
    assert SECRET[-6:] not in message


# Rendering.


def test_render_masks_secrets_and_loads_back(tmp_path: Path) -> None:
    cert, key = write(tmp_path, "c", "c.pem"), write(tmp_path, "k", "k.pem")
    env = {
        "S3D_SERVER_ACCESS_KEYS": f"{KEY_ID}:{SECRET},short:{SECRET}",
        "S3D_REMOTE_ACCESS_KEY_ID": "AKIAREMOTEKEYWXYZ",
        "S3D_REMOTE_SECRET_ACCESS_KEY": SECRET,
        "S3D_REMOTE_SESSION_TOKEN": SECRET + "token",
        "S3D_SERVER_TLS_CERT_FILE": str(cert),
        "S3D_SERVER_TLS_KEY_FILE": str(key),
        "S3D_SERVER_BASE_DOMAINS": "a.example,b.example",
    }
    settings = load_settings(None, env, {"remote.verify_tls": "false"})
    text = render_settings(settings)
    assert SECRET not in text
    assert 'access_key_id = "****MPLE"' in text
    assert 'access_key_id = "****"' in text  # "short" is too short to show 4 characters
    assert 'access_key_id = "****WXYZ"' in text
    assert 'secret_access_key = "****"' in text
    assert 'session_token = "****"' in text

    loaded = load_settings(write(tmp_path, text, "rendered.toml"), {}, {})
    masked = AccessKey("****MPLE", "****"), AccessKey("****", "****")
    expected = dataclasses.replace(
        settings,
        server=dataclasses.replace(settings.server, access_keys=masked),
        remote=dataclasses.replace(
            settings.remote,
            access_key_id="****WXYZ",
            secret_access_key="****",
            session_token="****",
        ),
    )
    assert loaded == expected


def test_render_defaults_loads_back(tmp_path: Path) -> None:
    text = render_settings(Settings())
    assert load_settings(write(tmp_path, text), {}, {}) == Settings()


awkward_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)


@given(
    host=awkward_text,
    domains=st.lists(awkward_text, max_size=3),
    data_dir=awkward_text.filter(lambda t: not t.startswith("~")),
    grace=st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    port=st.integers(0, 65535),
)
def test_render_round_trips_any_value(
    host: str, domains: list[str], data_dir: str, grace: float, port: int
) -> None:
    settings = dataclasses.replace(
        Settings(),
        data_dir=Path(data_dir or "."),
        server=dataclasses.replace(
            Settings().server,
            host=host,
            port=port,
            base_domains=tuple(domains),
            shutdown_grace=grace,
        ),
    )
    document = tomllib.loads(render_settings(settings))
    assert document["server"]["host"] == host
    assert document["server"]["base_domains"] == domains
    assert document["server"]["shutdown_grace"] == grace
    assert Path(document["data_dir"]) == settings.data_dir


# The surface itself.


def test_every_option_is_documented_and_unique() -> None:
    opts = options()
    assert all(o.help for o in opts)
    for attribute in ("key", "env", "flag"):
        names = [getattr(o, attribute) for o in opts]
        assert len(names) == len(set(names)), attribute
    assert all(o.env.startswith("S3D_") and o.env.upper() == o.env for o in opts)
    keys = {o.key for o in opts}
    for o in opts:  # "requires" names siblings in the same section
        prefix = f"{o.section}." if o.section else ""
        assert {prefix + s for s in o.metadata.get("requires", ())} <= keys, o.key
    assert all(
        o.flag.startswith("--") and set(o.flag[2:]) <= set(string.ascii_lowercase + "-")
        for o in opts
    )


def test_configuration_doc_is_up_to_date() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert with_reference(doc) == doc, "run `make docs` to regenerate docs/configuration.md"
    for option in options():
        assert f"`{option.key}`" in doc


def test_example_config_is_up_to_date_and_loads() -> None:
    example = REPO / "s3d.example.toml"
    text = example.read_text(encoding="utf-8")
    assert text == example_toml(), "run `make docs` to regenerate s3d.example.toml"
    assert load_settings(example, {}, {}) == Settings()


# Byte sizes: "unit": "bytes" fields take an integer or a string with a unit.

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512", 512),
        ("0", 0),
        ("512B", 512),
        ("64KiB", 64 * KiB),
        ("64Ki", 64 * KiB),
        ("64K", 64 * KiB),
        ("64k", 64 * KiB),
        ("64KB", 64_000),
        ("64kb", 64_000),
        ("10GiB", 10 * GiB),
        ("10 GiB", 10 * GiB),
        (" 10gib ", 10 * GiB),
        ("1.5GiB", 3 * GiB // 2),
        ("1.5G", 3 * GiB // 2),
        ("500MB", 500_000_000),
        ("500M", 500 * MiB),
        ("2T", 2 * TiB),
        ("2TB", 2_000_000_000_000),
        ("1.1KiB", 1126),  # 1126.4, rounded down
        ("10_000", 10_000),
    ],
)
def test_byte_sizes_from_every_source(tmp_path: Path, text: str, size: int) -> None:
    from_env = load_settings(None, {"S3D_CACHE_MAX_SIZE": text}, {})
    from_flag = load_settings(None, {}, {"cache.max_size": text})
    from_file = load_settings(write(tmp_path, f'[cache]\nmax_size = "{text}"\n'), {}, {})
    assert from_env.cache.max_size == from_flag.cache.max_size == size
    assert from_file.cache.max_size == size


def test_byte_sizes_as_toml_integers(tmp_path: Path) -> None:
    path = write(tmp_path, "[cache]\nmax_size = 1_073_741_824\nmin_free_space = 0\n")
    settings = load_settings(path, {}, {})
    assert (settings.cache.max_size, settings.cache.min_free_space) == (GiB, 0)
    assert load_settings(None, {}, {"cache.block_size": 128 * KiB}).cache.block_size == 128 * KiB


FORMS = '(512, "64KiB", "1.5GiB", "500MB" or "2T"; K, KiB, M, MiB… are powers of 1024;'


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('max_size = "10 gigs"', f"cache.max_size: expected a byte size {FORMS}"),
        ('max_size = "1.5"', "cache.max_size: expected a byte size"),  # a fraction needs a unit
        ('max_size = "1e9"', "cache.max_size: expected a byte size"),
        ('max_size = "GiB"', "cache.max_size: expected a byte size"),
        ('max_size = ""', "cache.max_size: expected a byte size"),
        ('max_size = "10PiB"', "cache.max_size: expected a byte size"),
        ("max_size = 1.5", "cache.max_size: expected a byte size"),
        ("max_size = true", "cache.max_size: expected a byte size"),
        ("max_size = -1", "cache.max_size: must be at least 0, got -1"),
        ('max_size = "-1KiB"', "cache.max_size: must be at least 0, got -1KiB"),
        ('block_size = "1KiB"', "cache.block_size: must be at least 64KiB, got 1KiB"),
        ("block_size = 1000", "cache.block_size: must be at least 64KiB, got 1KB"),
    ],
)
def test_byte_size_errors_name_the_key_and_the_forms(
    tmp_path: Path, toml: str, expected: str
) -> None:
    path = write(tmp_path, f"[cache]\n{toml}\n")
    assert error_of(path, {}, {}).startswith(f"{path}: {expected}")


def test_byte_size_errors_from_env_and_flags() -> None:
    message = error_of(None, {"S3D_CACHE_MAX_SIZE": "lots"}, {})
    assert message == (
        f"environment variable S3D_CACHE_MAX_SIZE: expected a byte size {FORMS} KB, MB… are "
        'powers of 1000), got "lots"'
    )
    message = error_of(None, {}, {"cache.whole_object_max": "8 MiBs"})
    assert message.startswith("flag --cache-whole-object-max: expected a byte size (512,")


def test_byte_sizes_render_readably_and_load_back(tmp_path: Path) -> None:
    flags = {
        "cache.max_size": "1.5GiB",
        "cache.min_free_space": "500MB",
        "cache.block_size": "1000001",
        "cache.whole_object_max": "0",
    }
    settings = load_settings(None, {}, flags)
    text = render_settings(settings)
    assert 'max_size = "1.5GiB"\n' in text
    assert 'min_free_space = "500MB"\n' in text
    assert "block_size = 1000001\n" in text  # no unit writes it exactly: the integer
    assert "whole_object_max = 0\n" in text
    assert load_settings(write(tmp_path, text), {}, {}) == settings
    assert 'max_size = "10GiB"' in render_settings(Settings())


@given(st.integers(min_value=0, max_value=1 << 62))
def test_any_byte_size_renders_to_what_loads_back(size: int) -> None:
    settings = load_settings(None, {}, {"cache.max_size": size})
    document = tomllib.loads(render_settings(settings))
    loaded = load_settings(None, {}, {"cache.max_size": document["cache"]["max_size"]})
    assert loaded.cache.max_size == size


def test_byte_size_defaults_are_shown_with_units() -> None:
    by_key = {o.key: o for o in options()}
    assert by_key["cache.max_size"].kind.base == "bytes"
    assert by_key["cache.max_size"].default_text == "10GiB"
    assert by_key["cache.block_size"].default_text == "8MiB"
    assert by_key["cache.max_size"].metavar == "SIZE"
    assert '# max_size = "10GiB"' in example_toml()
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert "| `cache.max_size` | `S3D_CACHE_MAX_SIZE` | `--cache-max-size` | a byte size" in doc
    assert "| `10GiB` |" in doc


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0"),
        (512, "512"),
        (1024, "1KiB"),
        (1126, "1126"),
        (8 * MiB, "8MiB"),
        (3 * GiB // 2, "1.5GiB"),  # rather than 1536MiB
        (3073 * MiB, "3073MiB"),
        (500_000_000, "500MB"),
        (10**12, "1TB"),  # rather than 976562500KiB
        (7 * TiB // 2, "3.5TiB"),
    ],
)
def test_sizes_are_written_in_their_shortest_exact_form(size: int, text: str) -> None:
    assert format_size(size) == text
    assert parse_size(text) == size
