#!/usr/bin/env python3
"""Create, inspect and rotate the per-environment configuration the SAM template reads.

Run once per stage before the first ``sam deploy``, from the repository root::

    GOOGLE_CLIENT_SECRET=... AFRICASTALKING_API_KEY=... \\
    DARAJA_CONSUMER_KEY=... DARAJA_CONSUMER_SECRET=... DARAJA_PASSKEY=... \\
    DARAJA_SECURITY_CREDENTIAL=... \\
    .venv/bin/python infra/deploy/bootstrap_environment.py --stage prod --region af-south-1 \\
        init --google-client-id ... --auth-redirect-uris ... --admin-emails ... \\
             --order-email-from ... --order-email-to ... --alarm-email ... \\
             --africastalking-username ... --web-origin ... \\
             --mpesa-shortcode ... --mpesa-initiator-name ... --mpesa-callback-base-url ...
    .venv/bin/python infra/deploy/bootstrap_environment.py --stage prod show

An environment set up before M-Pesa gets only the M-Pesa names (nothing else is touched,
the signing key included)::

    DARAJA_CONSUMER_KEY=... DARAJA_CONSUMER_SECRET=... DARAJA_PASSKEY=... \\
    DARAJA_SECURITY_CREDENTIAL=... \\
    .venv/bin/python infra/deploy/bootstrap_environment.py --stage prod init-mpesa \\
        --mpesa-shortcode ... --mpesa-initiator-name ... --mpesa-callback-base-url ...
    .venv/bin/python infra/deploy/bootstrap_environment.py --stage prod \\
        rotate-jwt-key --phase add|promote|retire

An environment set up before SMS delivery reports gets only their token (generated; run
again, it keeps the token and repeats the Delivery Reports URL to set)::

    .venv/bin/python infra/deploy/bootstrap_environment.py --stage prod init-sms-delivery

What it manages (``<stage>`` is dev, staging or prod):

* Secrets Manager (SecretString is the raw value): ``order-system/<stage>/jwt-private-key``
  (PKCS#8 PEM of an EC P-256 key), ``.../google-client-secret``,
  ``.../africastalking-api-key``, ``.../mpesa-consumer-key``, ``.../mpesa-consumer-secret``,
  ``.../mpesa-passkey``, ``.../mpesa-security-credential``, ``.../mpesa-callback-token``
  and ``.../sms-delivery-token`` (64 hex digits each, generated here), and while a rotation
  is under way ``.../jwt-private-key-next``.
* SSM Parameter Store: ``/order-system/<stage>/<name>`` for every name in ``PARAMETERS``
  (all Strings).

Invariants:

1. Secret values are read only from environment variables (``GOOGLE_CLIENT_SECRET``,
   ``AFRICASTALKING_API_KEY``, ``DARAJA_CONSUMER_KEY``, ``DARAJA_CONSUMER_SECRET``,
   ``DARAJA_PASSKEY``, ``DARAJA_SECURITY_CREDENTIAL``; not ``MPESA_*``, the names under
   which ``make dev`` exports the local stand-in's account) or a no-echo prompt when stdin
   is a terminal, never from flags; the signing key, the M-Pesa callback token and the SMS
   delivery-report token are generated here. No secret value is ever printed or put into an
   error message.
2. ``init`` and ``init-mpesa`` validate every value before their first write: on bad input
   they write nothing.
3. ``init`` and ``init-mpesa`` replace nothing that exists unless ``--overwrite`` is given;
   ``init-mpesa`` touches only the M-Pesa names.
3a. The M-Pesa callback token, once stored, is kept by every later ``init`` and
   ``init-mpesa`` (``--overwrite`` included): the C2B URLs registered with Safaricom hold
   it, so changing it is a deliberate step of its own (docs/deploy.md). So is the SMS
   delivery-report token, by ``init`` and ``init-sms-delivery``: the Delivery Reports URL
   set in Africa's Talking's dashboard holds it.
3b. The M-Pesa callback base URL is https, ends in ``/api/v1/payments/callbacks``, is not on
   ``execute-api`` and contains none of the words Safaricom refuses in callback URLs
   (``FORBIDDEN_CALLBACK_WORDS``, in any case).
4. The JWK Set always holds the public key of the current signing key (``jwt-key-id`` /
   ``jwt-private-key``), so every deployed verifier accepts every token the auth function
   signs. A rotation publishes the new public key before the new private key signs
   (``add``, redeploy, ``promote``, redeploy) and drops the old public key only once
   tokens signed with it have expired (``retire``, redeploy).
5. Each rotation phase checks the state it expects and refuses any other; a phase that
   failed half-way can be run again (``promote``), or cleaned up by the next phase
   (an ``add`` that published a key but failed to store it is undone by ``retire``).
6. Everything written is tagged ``project=order-system`` and ``stage=<stage>``.

Rotation states, derived from the key id, the JWK Set's kids and the pending secret:

=========  ====================================  ============================
state      JWK Set / pending secret              next step
=========  ====================================  ============================
steady     {current}, no pending                 ``--phase add``
added      {current, next}, pending = next       redeploy, ``--phase promote``
promoted   {current, previous}, no pending       redeploy, wait, ``--phase retire``
=========  ====================================  ============================

Endpoints: boto3 (botocore >= 1.31) honours ``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>``, so ``AWS_ENDPOINT_URL=http://127.0.0.1:5000`` points this
script at an emulator such as moto. Exit status: 0 done, 1 refused or AWS failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import os
import re
import sys
from dataclasses import dataclass
from secrets import token_hex
from datetime import datetime, timedelta, timezone
from urllib.parse import SplitResult, urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PROJECT = "order-system"
STAGES = ("dev", "staging", "prod")

# ACCESS_TOKEN_TTL_SECONDS and the verifier's leeway in shared/http-api/src/auth.rs.
ACCESS_TOKEN_LIFETIME = timedelta(seconds=24 * 60 * 60)
VERIFIER_LEEWAY = timedelta(seconds=30)

SIGNING_KEY = "jwt-private-key"
PENDING_SIGNING_KEY = "jwt-private-key-next"
CALLBACK_TOKEN = "mpesa-callback-token"
SMS_DELIVERY_TOKEN = "sms-delivery-token"
# Secret name suffix -> (environment variable, description); None: generated here.
SECRETS = {
    SIGNING_KEY: (None, "PKCS#8 PEM of the EC P-256 key that signs access tokens (ES256)"),
    "google-client-secret": ("GOOGLE_CLIENT_SECRET", "Google OAuth client secret"),
    "africastalking-api-key": ("AFRICASTALKING_API_KEY", "Africa's Talking API key"),
    "mpesa-consumer-key": ("DARAJA_CONSUMER_KEY", "Daraja app consumer key (M-Pesa)"),
    "mpesa-consumer-secret": ("DARAJA_CONSUMER_SECRET", "Daraja app consumer secret (M-Pesa)"),
    "mpesa-passkey": ("DARAJA_PASSKEY", "Lipa na M-Pesa Online passkey of the Paybill"),
    "mpesa-security-credential": (
        "DARAJA_SECURITY_CREDENTIAL",
        "M-Pesa initiator password encrypted with Safaricom's certificate (base64), for reversals",
    ),
    CALLBACK_TOKEN: (None, "Token in the path of M-Pesa's callbacks (generated)"),
    SMS_DELIVERY_TOKEN: (
        None,
        "Token in the path of Africa's Talking's SMS delivery reports (generated)",
    ),
}
PENDING_DESCRIPTION = "Next access-token signing key (PKCS#8 PEM), pending promotion"

KEY_ID = "jwt-key-id"
JWKS = "jwt-public-jwks"
# Parameter name suffix -> (type, description). The names that are also init flags
# (--<name>) are the ones in INIT_FLAGS.
PARAMETERS = {
    KEY_ID: ("String", "kid of the current access-token signing key"),
    JWKS: ("String", "JWK Set of the public keys that verify access tokens"),
    "google-client-id": ("String", "Google OAuth client id"),
    "auth-redirect-uris": (
        "String",
        "Comma-separated allowed sign-in redirect URIs (with the console's <origin>/console/callback)",
    ),
    "admin-emails": ("String", "Comma-separated emails of admins"),
    "order-email-from": ("String", "SES-verified sender of new-order emails"),
    "order-email-to": ("String", "Admin address receiving new-order emails"),
    "alarm-email": ("String", "Address subscribed to the alarm topic"),
    "africastalking-username": ("String", "Africa's Talking app username"),
    "web-origin": ("String", "Browser origin of the shop's web front end (the one CORS allows)"),
    "mpesa-shortcode": ("String", "The shop's M-Pesa Paybill (business short code)"),
    "mpesa-initiator-name": ("String", "Daraja API operator (initiator) that requests reversals"),
    "mpesa-callback-base-url": (
        "String",
        "Public base URL of M-Pesa's callbacks: "
        "https://<the API's custom domain>/api/v1/payments/callbacks",
    ),
}
INIT_FLAGS = tuple(name for name in PARAMETERS if name not in (KEY_ID, JWKS))
# What init-mpesa writes: M-Pesa's names only.
MPESA_FLAGS = tuple(name for name in INIT_FLAGS if name.startswith("mpesa-"))
MPESA_SECRETS = tuple(name for name in SECRETS if name.startswith("mpesa-"))

KID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
AT_USERNAME_PATTERN = KID_PATTERN  # the template's AllowedPattern
CLIENT_ID_PATTERN = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,256}$")  # printable, no comma
EMAIL_PATTERN = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# The API's own sign-in callback, and the back-office console's (functions/console).
API_CALLBACK_PATH = "/api/v1/auth/google/callback"
CONSOLE_CALLBACK_PATH = "/console/callback"
MAX_PARAMETER_LENGTH = 4096  # SSM standard tier

# M-Pesa. A Paybill is 5-7 digits; 174379 is Daraja's public sandbox Paybill and `testapi`
# its sandbox initiator, neither of which can move real money.
SHORTCODE_PATTERN = re.compile(r"^[0-9]{5,7}$")
SANDBOX_SHORTCODE = "174379"
INITIATOR_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
SANDBOX_INITIATOR = "testapi"
CALLBACK_PATH = "/api/v1/payments/callbacks"
# Safaricom refuses callback URLs naming these (in any case), and any on execute-api
# (which "exec" covers).
FORBIDDEN_CALLBACK_WORDS = ("mpesa", "m-pesa", "safaricom", "exec", "cmd", "sql", "query")
CALLBACK_TOKEN_BYTES = 32  # 64 hex digits: letters and digits only, none of the words above
MAX_SECRET_LENGTH = 4096

# Africa's Talking's SMS delivery reports: the route the dashboard's Delivery Reports URL
# names (below the API's root, the same custom domain as M-Pesa's callbacks), with the
# token (generated like the callback token) as its last segment.
SMS_DELIVERY_PATH = "/api/v1/notifications/sms/delivery"
API_DOMAIN_PLACEHOLDER = "https://<the API's custom domain>"


class InputError(Exception):
    """Bad input: nothing was written (exit status 2)."""


class Refused(Exception):
    """The stored state is not the one the command expects (exit status 1)."""


# --- names -------------------------------------------------------------------------------


def secret_name(stage: str, suffix: str) -> str:
    return f"{PROJECT}/{stage}/{suffix}"


def parameter_name(stage: str, suffix: str) -> str:
    return f"/{PROJECT}/{stage}/{suffix}"


def tags(stage: str) -> list[dict[str, str]]:
    return [{"Key": "project", "Value": PROJECT}, {"Key": "stage", "Value": stage}]


# --- validation --------------------------------------------------------------------------


def check_email(label: str, value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not EMAIL_PATTERN.match(value) or ".." in value:
        raise InputError(f"{label}: {value!r} is not an email address")
    return value


def split_list(label: str, raw: str) -> list[str]:
    items = [item.strip() for item in raw.split(",")]
    if not raw.strip() or any(not item for item in items):
        raise InputError(f"{label}: give a comma-separated list without empty items")
    return items


def check_email_list(label: str, raw: str) -> str:
    return ",".join(check_email(label, item) for item in split_list(label, raw))


def check_url_scheme(label: str, url: str, stage: str) -> SplitResult:
    """The parts of an https URL (or http://localhost on dev) with a host and no userinfo."""
    if any(c.isspace() for c in url):
        raise InputError(f"{label}: {url!r} contains whitespace")
    parts = urlsplit(url)
    try:
        parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise InputError(f"{label}: {url!r} has an invalid port") from None
    if not parts.hostname or "@" in parts.netloc:
        raise InputError(f"{label}: {url!r} needs a host (and no user info)")
    local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (local and stage == "dev"):
        allowed = "https (or http://localhost)" if stage == "dev" else "https"
        raise InputError(f"{label}: {url!r} must use {allowed} on {stage}")
    return parts


def check_redirect_uris(label: str, raw: str, stage: str) -> str:
    """The allowed sign-in redirect URIs, plus the back-office console's own callback
    (``<origin>/console/callback``) on every origin whose API callback is listed: the console
    is served by the same API, so wherever the API signs people in, so does the console."""
    uris = split_list(label, raw)
    for uri in uris:
        if check_url_scheme(label, uri, stage).fragment or "#" in uri:
            raise InputError(f"{label}: {uri!r} must not have a fragment")
    for uri in list(uris):
        parts = urlsplit(uri)
        if parts.path.rstrip("/").endswith(API_CALLBACK_PATH):
            console = f"{parts.scheme}://{parts.netloc}{CONSOLE_CALLBACK_PATH}"
            if console not in uris:
                uris.append(console)
    return ",".join(uris)


def check_origin(label: str, raw: str, stage: str) -> str:
    """One origin: the template reads it with one dynamic reference, as one allowed origin."""
    origin = raw.strip()
    if "," in origin:
        raise InputError(f"{label}: one origin only (the shop's web front end)")
    parts = check_url_scheme(label, origin, stage)
    if parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")):
        raise InputError(
            f"{label}: {origin!r} must be an origin (scheme://host[:port], no path or "
            "trailing slash)"
        )
    return origin


def check_pattern(label: str, value: str, pattern: re.Pattern, what: str) -> str:
    value = value.strip()
    if not pattern.match(value):
        raise InputError(f"{label}: {value!r} must be {what}")
    return value


def check_africastalking_username(label: str, value: str, stage: str) -> str:
    value = check_pattern(label, value, AT_USERNAME_PATTERN, "1-64 of A-Z a-z 0-9 . _ -")
    if stage == "prod" and value == "sandbox":
        raise InputError(f"{label}: 'sandbox' is the test app; prod needs the live username")
    return value


def check_mpesa_shortcode(label: str, value: str, stage: str) -> str:
    value = check_pattern(label, value, SHORTCODE_PATTERN, "a Paybill number (5-7 digits)")
    if stage == "prod" and value == SANDBOX_SHORTCODE:
        raise InputError(
            f"{label}: {value} is Daraja's sandbox Paybill; prod needs the shop's own"
        )
    return value


def check_mpesa_initiator(label: str, value: str, stage: str) -> str:
    value = check_pattern(label, value, INITIATOR_PATTERN, "1-64 of A-Z a-z 0-9 . _ @ -")
    if stage == "prod" and value == SANDBOX_INITIATOR:
        raise InputError(
            f"{label}: {value!r} is Daraja's sandbox initiator; prod needs the shop's own"
        )
    return value


def check_callback_base_url(label: str, raw: str, stage: str) -> str:
    """Where M-Pesa posts callbacks, as Safaricom accepts it: https on every stage (Safaricom
    must reach it; a local stack gets its URL from make dev, not from here), a public host
    that is not execute-api, path `…/api/v1/payments/callbacks`, none of the words Safaricom
    refuses. Stored without a trailing slash."""
    url = raw.strip().rstrip("/")
    parts = check_url_scheme(label, url, stage)
    if parts.scheme != "https" or parts.hostname in LOOPBACK_HOSTS:
        raise InputError(f"{label}: {url!r} must be a public https URL M-Pesa can reach")
    lowered = url.lower()
    found = [word for word in FORBIDDEN_CALLBACK_WORDS if word in lowered]
    if found:
        raise InputError(
            f"{label}: {url!r} contains {', '.join(repr(w) for w in found)}, which Safaricom "
            "refuses in callback URLs (use the API's custom domain, not execute-api)"
        )
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise InputError(f"{label}: {url!r} must have no query or fragment")
    if not parts.path.endswith(CALLBACK_PATH):
        raise InputError(f"{label}: {url!r} must end with {CALLBACK_PATH}")
    return url


def validate_init_values(
    args: argparse.Namespace, names: tuple[str, ...] = INIT_FLAGS
) -> dict[str, str]:
    """Every flag's value among `names`, checked and normalised; raises InputError listing
    all problems."""
    stage = args.stage
    checks = {
        "google-client-id": lambda label, v: check_pattern(
            label, v, CLIENT_ID_PATTERN, "a client id (printable, no spaces or commas)"
        ),
        "auth-redirect-uris": lambda label, v: check_redirect_uris(label, v, stage),
        "admin-emails": check_email_list,
        "order-email-from": check_email,
        "order-email-to": check_email,
        "alarm-email": check_email,
        "africastalking-username": lambda label, v: check_africastalking_username(
            label, v, stage
        ),
        "web-origin": lambda label, v: check_origin(label, v, stage),
        "mpesa-shortcode": lambda label, v: check_mpesa_shortcode(label, v, stage),
        "mpesa-initiator-name": lambda label, v: check_mpesa_initiator(label, v, stage),
        "mpesa-callback-base-url": lambda label, v: check_callback_base_url(label, v, stage),
    }
    values, problems = {}, []
    for name in names:
        label = f"--{name}"
        try:
            values[name] = checks[name](label, getattr(args, name.replace("-", "_")))
            if len(values[name]) > MAX_PARAMETER_LENGTH:
                raise InputError(f"{label}: longer than {MAX_PARAMETER_LENGTH} characters")
        except InputError as err:
            problems.append(str(err))
    if problems:
        raise InputError("invalid input, nothing written:\n  " + "\n  ".join(problems))
    return values


def check_secret(source: str, value: str) -> str:
    """A secret's value; the message names its source, never the value."""
    if not value:
        raise InputError(f"{source} is empty")
    if len(value) > MAX_SECRET_LENGTH:
        raise InputError(f"{source} is longer than {MAX_SECRET_LENGTH} characters")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise InputError(f"{source} contains whitespace or control characters")
    return value


def read_secret(env_var: str, stage: str) -> str:
    """From the environment, else a no-echo prompt on a terminal; never from flags."""
    if env_var in os.environ:
        return check_secret(f"environment variable {env_var}", os.environ[env_var])
    if not sys.stdin.isatty():
        raise InputError(
            f"environment variable {env_var} is not set and stdin is not a terminal to "
            "prompt on; nothing written"
        )
    return check_secret(env_var, getpass.getpass(f"{env_var} for {stage} (not echoed): "))


# --- signing keys ------------------------------------------------------------------------


def b64url_uint(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()


def b64url_to_int(text: str) -> int:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != 32:
        raise ValueError("coordinate is not 32 bytes")
    return int.from_bytes(raw, "big")


def generate_private_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_private_key(pem: str, what: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 key of a PKCS#8 PEM (the auth function also accepts `\\n` escapes)."""
    try:
        key = serialization.load_pem_private_key(
            pem.replace("\\n", "\n").strip().encode(), password=None
        )
    except (ValueError, TypeError):
        raise Refused(f"{what} is not an unencrypted PKCS#8 PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise Refused(f"{what} is not an EC P-256 key")
    return key


def public_jwk(pem: str, kid: str, what: str) -> dict[str, str]:
    """The public JWK of a private key, as the auth function publishes it."""
    numbers = load_private_key(pem, what).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_uint(numbers.x),
        "y": b64url_uint(numbers.y),
        "kid": kid,
        "use": "sig",
        "alg": "ES256",
    }


def same_public_key(a: dict, b: dict) -> bool:
    return (a["kty"], a["crv"], a["x"], a["y"]) == (b["kty"], b["crv"], b["x"], b["y"])


def new_kid(stage: str, now: datetime, taken: set[str]) -> str:
    """`<stage>-<UTC yyyymmddHHMMSS>`, suffixed -2, -3... if that kid is already used."""
    base = f"{stage}-{now.astimezone(timezone.utc):%Y%m%d%H%M%S}"
    kid, n = base, 1
    while kid in taken:
        n += 1
        kid = f"{base}-{n}"
    if not KID_PATTERN.match(kid):
        raise InputError(f"generated kid {kid!r} does not match {KID_PATTERN.pattern}")
    return kid


def parse_jwks(text: str) -> list[dict]:
    """The keys of a stored JWK Set, checked the way the functions check them."""
    try:
        keys = json.loads(text)["keys"]
    except (ValueError, TypeError, KeyError):
        raise Refused(f"{JWKS} is not a JWK Set ({{\"keys\": [...]}})") from None
    if not isinstance(keys, list) or not keys:
        raise Refused(f"{JWKS} holds no keys")
    for key in keys:
        try:
            ok = key["kty"] == "EC" and key["crv"] == "P-256" and "d" not in key
            ok = ok and bool(KID_PATTERN.match(key["kid"]))
            b64url_to_int(key["x"]), b64url_to_int(key["y"])
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise Refused(f"{JWKS} holds a key that is not a public EC P-256 key with a kid")
    kids = [key["kid"] for key in keys]
    if len(set(kids)) != len(kids):
        raise Refused(f"{JWKS} holds two keys with the same kid")
    return keys


def dump_jwks(keys: list[dict]) -> str:
    """One line (the template's AllowedPattern does not match newlines)."""
    return json.dumps({"keys": keys}, separators=(",", ":"))


# --- AWS ---------------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Param:
    value: str
    type: str
    last_modified: datetime | None


@dataclass
class SecretInfo:
    deleted: bool  # scheduled for deletion: unusable by deploys until restored
    last_changed: datetime | None


class Store:
    """The stage's parameters and secrets. Secret values go in and out, never into text."""

    def __init__(self, session: boto3.session.Session, stage: str):
        self.stage = stage
        self.ssm = session.client("ssm")
        self.secrets = session.client("secretsmanager")

    def param(self, suffix: str) -> Param | None:
        try:
            p = self.ssm.get_parameter(Name=parameter_name(self.stage, suffix))["Parameter"]
        except ClientError as err:
            if error_code(err) == "ParameterNotFound":
                return None
            raise
        return Param(p["Value"], p["Type"], p.get("LastModifiedDate"))

    def put_param(self, suffix: str, value: str) -> None:
        name = parameter_name(self.stage, suffix)
        kind, description = PARAMETERS[suffix]
        common = dict(Name=name, Value=value, Type=kind, Description=description)
        if self.param(suffix) is None:
            self.ssm.put_parameter(**common, Tags=tags(self.stage))
        else:  # SSM refuses Tags together with Overwrite
            self.ssm.put_parameter(**common, Overwrite=True)
            self.ssm.add_tags_to_resource(
                ResourceType="Parameter", ResourceId=name, Tags=tags(self.stage)
            )

    def secret_info(self, suffix: str) -> SecretInfo | None:
        try:
            s = self.secrets.describe_secret(SecretId=secret_name(self.stage, suffix))
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return None
            raise
        return SecretInfo("DeletedDate" in s, s.get("LastChangedDate"))

    def live_secret(self, suffix: str) -> bool:
        info = self.secret_info(suffix)
        return info is not None and not info.deleted

    def secret_value(self, suffix: str) -> str:
        name = secret_name(self.stage, suffix)
        return self.secrets.get_secret_value(SecretId=name)["SecretString"]

    def put_secret(self, suffix: str, value: str, description: str) -> None:
        """Creates the secret, or stores `value` as its new current version."""
        name = secret_name(self.stage, suffix)
        info = self.secret_info(suffix)
        if info is None:
            self.secrets.create_secret(
                Name=name, SecretString=value, Description=description, Tags=tags(self.stage)
            )
            return
        if info.deleted:
            self.secrets.restore_secret(SecretId=name)
        self.secrets.put_secret_value(SecretId=name, SecretString=value)
        self.secrets.update_secret(SecretId=name, Description=description)
        self.secrets.tag_resource(SecretId=name, Tags=tags(self.stage))

    def delete_secret(self, suffix: str) -> None:
        """At once (no recovery window), so the name can be used again."""
        self.secrets.delete_secret(
            SecretId=secret_name(self.stage, suffix), ForceDeleteWithoutRecovery=True
        )


def error_code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def make_session(region: str | None) -> boto3.session.Session:
    session = boto3.session.Session(region_name=region)
    if not session.region_name:
        raise InputError("no region: pass --region or set AWS_REGION")
    return session


def describe_target(session: boto3.session.Session, store: Store) -> str:
    """Where writes go, so a wrong account or a forgotten AWS_ENDPOINT_URL is visible."""
    try:
        account = session.client("sts").get_caller_identity()["Account"]
    except (ClientError, BotoCoreError):
        account = "unknown"
    return (
        f"stage {store.stage}, account {account}, region {session.region_name}, "
        f"endpoint {store.ssm.meta.endpoint_url}"
    )


# --- init --------------------------------------------------------------------------------


def existing_names(
    store: Store,
    secrets: tuple[str, ...] = tuple(SECRETS),
    params: tuple[str, ...] = tuple(PARAMETERS),
) -> list[str]:
    found = [
        secret_name(store.stage, s) + (" (scheduled for deletion)" if info.deleted else "")
        for s in secrets
        if (info := store.secret_info(s)) is not None
    ]
    found += [parameter_name(store.stage, p) for p in params if store.param(p) is not None]
    return found


def new_token(store: Store, suffix: str) -> str | None:
    """A fresh token (64 hex digits) for the generated secret `suffix`, or None when the
    stage has one: it is kept (invariant 3a)."""
    if store.live_secret(suffix):
        return None
    return token_hex(CALLBACK_TOKEN_BYTES)


def new_callback_token(store: Store) -> str | None:
    """A fresh M-Pesa callback token, or None when the stage has one."""
    return new_token(store, CALLBACK_TOKEN)


def api_root(callback_base_url: str | None) -> str:
    """The API's public root (scheme, custom domain, base path if any), from the M-Pesa
    callback base URL (that root + CALLBACK_PATH); a placeholder without one."""
    if callback_base_url and callback_base_url.endswith(CALLBACK_PATH):
        return callback_base_url[: -len(CALLBACK_PATH)]
    return API_DOMAIN_PLACEHOLDER


def print_sms_delivery_next_steps(stage: str, root: str, kept_token: bool) -> None:
    """Where Africa's Talking must post delivery reports; the token by its secret's name."""
    token = secret_name(stage, SMS_DELIVERY_TOKEN)
    if kept_token:
        print(f"Kept the existing SMS delivery-report token {token} (the Delivery Reports URL "
              "set in Africa's Talking's dashboard holds it).")
    print(f"Set the Africa's Talking app's Delivery Reports URL (dashboard: SMS, SMS Callback "
          f"URLs, Delivery Reports) to {root}{SMS_DELIVERY_PATH}/<{token}>, the token being "
          f"the secret's value (aws secretsmanager get-secret-value --secret-id {token} "
          "--query SecretString --output text).")


def print_mpesa_next_steps(stage: str, values: dict[str, str], kept_token: bool) -> None:
    token = secret_name(stage, CALLBACK_TOKEN)
    if kept_token:
        print(f"Kept the existing M-Pesa callback token {token} (the registered C2B URLs hold it).")
    base = values["mpesa-callback-base-url"]
    print(f"Register the Paybill's C2B URLs with Daraja (registerurl, once per token): "
          f"{base}/<{token}>/c2b/validation and {base}/<{token}>/c2b/confirmation.")


def cmd_init(args: argparse.Namespace, store: Store) -> None:
    stage = store.stage
    values = validate_init_values(args)
    existing = existing_names(store)
    if existing and not args.overwrite:
        raise Refused(
            "these already exist; nothing written (pass --overwrite to replace them, which "
            "also replaces the signing key and signs everyone out):\n  " + "\n  ".join(existing)
        )
    secrets = {s: read_secret(env, stage) for s, (env, _) in SECRETS.items() if env}
    callback_token = new_callback_token(store)
    if callback_token is not None:
        secrets[CALLBACK_TOKEN] = callback_token
    sms_delivery_token = new_token(store, SMS_DELIVERY_TOKEN)
    if sms_delivery_token is not None:
        secrets[SMS_DELIVERY_TOKEN] = sms_delivery_token

    kid = new_kid(stage, utc_now(), taken=set())
    private_pem = generate_private_pem()
    values[KEY_ID] = kid
    values[JWKS] = dump_jwks([public_jwk(private_pem, kid, "the generated key")])
    secrets[SIGNING_KEY] = private_pem

    # Public key, then private key, then kid: a failure part-way leaves no kid that
    # points at a key the JWK Set lacks. Re-run with --overwrite to finish.
    written = []
    try:
        store.put_param(JWKS, values[JWKS])
        written.append(parameter_name(stage, JWKS))
        for suffix, value in secrets.items():
            store.put_secret(suffix, value, SECRETS[suffix][1])
            written.append(secret_name(stage, suffix))
        for suffix in PARAMETERS:
            if suffix != JWKS:
                store.put_param(suffix, values[suffix])
                written.append(parameter_name(stage, suffix))
        if store.secret_info(PENDING_SIGNING_KEY) is not None:
            # A rotation under way would refer to a key the new JWK Set lacks.
            store.delete_secret(PENDING_SIGNING_KEY)
            print(f"deleted the pending {secret_name(stage, PENDING_SIGNING_KEY)}")
    except (ClientError, BotoCoreError):
        if written:
            print("written before the failure: " + ", ".join(written), file=sys.stderr)
        raise

    print(f"Wrote the {stage} configuration:")
    for suffix in SECRETS:
        print(f"  secret {secret_name(stage, suffix)}  (value not shown)")
    for suffix in PARAMETERS:
        print(f"  {parameter_name(stage, suffix)} = {values[suffix]}")
    print("Register each auth-redirect-uris entry (the console's callback too) with the "
          "provider as an authorized redirect URI.")
    print_mpesa_next_steps(stage, values, kept_token=callback_token is None)
    print_sms_delivery_next_steps(
        stage, api_root(values["mpesa-callback-base-url"]), kept_token=sms_delivery_token is None
    )
    print(f"Signing key id: {kid}. Next: build, then sam deploy --config-env {config_env(stage)}")


def config_env(stage: str) -> str:
    """samconfig.toml's environment of `stage`."""
    return "default" if stage == "dev" else stage


def cmd_init_mpesa(args: argparse.Namespace, store: Store) -> None:
    """M-Pesa's parameters and secrets only, for a stage set up before M-Pesa (or to
    replace them with --overwrite); the callback token is generated once and then kept."""
    stage = store.stage
    values = validate_init_values(args, MPESA_FLAGS)
    existing = existing_names(store, MPESA_SECRETS, MPESA_FLAGS)
    if existing and not args.overwrite:
        raise Refused(
            "these already exist; nothing written (pass --overwrite to replace them; the "
            "callback token is kept):\n  " + "\n  ".join(existing)
        )
    secrets = {s: read_secret(SECRETS[s][0], stage) for s in MPESA_SECRETS if SECRETS[s][0]}
    callback_token = new_callback_token(store)
    if callback_token is not None:
        secrets[CALLBACK_TOKEN] = callback_token
    written = []
    try:
        for suffix, value in secrets.items():
            store.put_secret(suffix, value, SECRETS[suffix][1])
            written.append(secret_name(stage, suffix))
        for suffix in MPESA_FLAGS:
            store.put_param(suffix, values[suffix])
            written.append(parameter_name(stage, suffix))
    except (ClientError, BotoCoreError):
        if written:
            print("written before the failure: " + ", ".join(written), file=sys.stderr)
        raise
    print(f"Wrote the {stage} M-Pesa configuration:")
    for suffix in MPESA_SECRETS:
        print(f"  secret {secret_name(stage, suffix)}  (value not shown)")
    for suffix in MPESA_FLAGS:
        print(f"  {parameter_name(stage, suffix)} = {values[suffix]}")
    print_mpesa_next_steps(stage, values, kept_token=callback_token is None)
    print(f"Next: sam deploy --config-env {config_env(stage)} (the stack reads them at deploy "
          "time)")


def cmd_init_sms_delivery(args: argparse.Namespace, store: Store) -> None:
    """The SMS delivery-report token only, for a stage set up before delivery reports:
    generated once, then kept (a second run only repeats where Africa's Talking posts)."""
    stage = store.stage
    token = new_token(store, SMS_DELIVERY_TOKEN)
    if token is not None:
        store.put_secret(SMS_DELIVERY_TOKEN, token, SECRETS[SMS_DELIVERY_TOKEN][1])
        print(f"Wrote the {stage} SMS delivery-report token:")
        print(f"  secret {secret_name(stage, SMS_DELIVERY_TOKEN)}  (value not shown)")
    # The API's domain is the one M-Pesa's callbacks use, when the stage has them.
    base = store.param("mpesa-callback-base-url")
    print_sms_delivery_next_steps(stage, api_root(base and base.value), kept_token=token is None)
    print(f"Next: sam deploy --config-env {config_env(stage)} (the stack reads it at deploy "
          "time)")


# --- rotation ----------------------------------------------------------------------------


@dataclass
class KeyState:
    kid: str
    keys: list[dict]
    pending: bool

    @property
    def kids(self) -> list[str]:
        return [key["kid"] for key in self.keys]

    def key(self, kid: str) -> dict:
        return next(key for key in self.keys if key["kid"] == kid)

    @property
    def phase(self) -> str:
        """steady, added or promoted (see the module docstring), else inconsistent."""
        if self.kid not in self.kids:
            return "inconsistent"
        if self.pending:
            return "added" if len(self.keys) == 2 else "inconsistent"
        return "steady" if len(self.keys) == 1 else "promoted"


def load_key_state(store: Store) -> KeyState:
    kid, jwks = store.param(KEY_ID), store.param(JWKS)
    if kid is None or jwks is None or not store.live_secret(SIGNING_KEY):
        raise Refused(f"the {store.stage} signing key is not set up; run init first")
    return KeyState(kid.value, parse_jwks(jwks.value), store.live_secret(PENDING_SIGNING_KEY))


def require_phase(state: KeyState, expected: str, hint: str) -> None:
    if state.phase != expected:
        raise Refused(
            f"expected the rotation state '{expected}' but it is '{state.phase}' "
            f"(kid {state.kid}, JWK Set kids {state.kids}, pending key "
            f"{'present' if state.pending else 'absent'}); {hint}"
        )


def require_current_key_matches(store: Store, state: KeyState) -> None:
    pem = store.secret_value(SIGNING_KEY)
    if not same_public_key(public_jwk(pem, state.kid, "the current key"), state.key(state.kid)):
        raise Refused(
            f"the current private key does not match the JWK Set's key {state.kid}; "
            "fix the configuration (or init --overwrite) before rotating"
        )


def rotate_add(store: Store, state: KeyState) -> None:
    require_phase(state, "steady", "finish the rotation under way first (see show)")
    require_current_key_matches(store, state)
    kid = new_kid(store.stage, utc_now(), taken=set(state.kids))
    pem = generate_private_pem()
    # Publish first: if storing the key then fails, `retire` removes the orphan public key.
    store.put_param(JWKS, dump_jwks([state.key(state.kid), public_jwk(pem, kid, "new key")]))
    store.put_secret(PENDING_SIGNING_KEY, pem, PENDING_DESCRIPTION)
    pending = secret_name(store.stage, PENDING_SIGNING_KEY)
    print(f"Added key {kid}: published next to {state.kid}, private key in {pending}; "
          f"tokens are still signed by {state.kid}.")
    print(f"Next: redeploy {store.stage} (every function then accepts both keys), "
          "then run rotate-jwt-key --phase promote.")


def rotate_promote(store: Store, state: KeyState) -> None:
    require_phase(state, "added", "run --phase add first")
    pending_pem = store.secret_value(PENDING_SIGNING_KEY)
    pending = public_jwk(pending_pem, "-", "the pending key")
    new = next((k for k in state.keys if same_public_key(k, pending)), None)
    if new is None:
        raise Refused("the pending key is not in the JWK Set; run --phase retire to drop "
                      "the unused published key, then --phase add again")
    old = next(k for k in state.keys if k is not new)
    current = public_jwk(store.secret_value(SIGNING_KEY), "-", "the current key")
    if not any(same_public_key(current, k) for k in (old, new)):
        raise Refused("the current private key is in neither the JWK Set nor pending")
    # Each step is skipped when done, so a promote that failed part-way can be re-run.
    if not same_public_key(current, new):
        store.put_secret(SIGNING_KEY, pending_pem, SECRETS[SIGNING_KEY][1])
    if state.kid != new["kid"]:
        store.put_param(KEY_ID, new["kid"])
    if state.keys != [new, old]:
        store.put_param(JWKS, dump_jwks([new, old]))
    store.delete_secret(PENDING_SIGNING_KEY)
    print(f"Promoted key {new['kid']}: it is the current key (new secret version); "
          f"{old['kid']} stays published.")
    print(f"Next: redeploy {store.stage} (new tokens are then signed by {new['kid']}); "
          f"{lifetime_text()} after that deploy finished, run rotate-jwt-key --phase retire.")


def lifetime_text() -> str:
    return (f"access tokens live {ACCESS_TOKEN_LIFETIME.total_seconds():.0f} s "
            f"({ACCESS_TOKEN_LIFETIME.total_seconds() / 3600:g} h) plus "
            f"{VERIFIER_LEEWAY.seconds} s verifier leeway: at least that long")


def rotate_retire(store: Store, state: KeyState, force: bool) -> None:
    print(f"Token lifetime (shared/http-api/src/auth.rs): {lifetime_text()} after the "
          "promote deploy before retiring.")
    require_phase(state, "promoted", "retire follows promote (see show)")
    require_current_key_matches(store, state)
    promoted_at = store.param(KEY_ID).last_modified
    earliest = promoted_at + ACCESS_TOKEN_LIFETIME + VERIFIER_LEEWAY if promoted_at else None
    if earliest and utc_now() < earliest and not force:
        raise Refused(
            f"{parameter_name(store.stage, KEY_ID)} changed at {promoted_at:%Y-%m-%d %H:%M:%S} "
            f"UTC; tokens signed by the old key may be valid until at least "
            f"{earliest:%Y-%m-%d %H:%M:%S} UTC (count from the promote deploy). Retry then, "
            "or pass --force if the old key is compromised (its holders are signed out)"
        )
    retired = [kid for kid in state.kids if kid != state.kid]
    store.put_param(JWKS, dump_jwks([state.key(state.kid)]))
    print(f"Retired {', '.join(retired)}; the JWK Set holds only {state.kid}.")
    print(f"Next: redeploy {store.stage} (tokens signed by the retired keys are then refused).")


def cmd_rotate(args: argparse.Namespace, store: Store) -> None:
    state = load_key_state(store)
    if args.phase == "add":
        rotate_add(store, state)
    elif args.phase == "promote":
        rotate_promote(store, state)
    else:
        rotate_retire(store, state, args.force)


# --- show --------------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace, store: Store) -> None:
    """Names, non-secret values and, for secrets, only whether they exist."""
    stage = store.stage
    print("Secrets Manager (values never shown):")
    for suffix in (*SECRETS, PENDING_SIGNING_KEY):
        info = store.secret_info(suffix)
        if info is None:
            status = "absent"
        elif info.deleted:
            status = "scheduled for deletion"
        else:
            status = "present"
            if info.last_changed:
                status += f", last changed {info.last_changed:%Y-%m-%d %H:%M:%S %Z}"
        print(f"  {secret_name(stage, suffix)}: {status}")
    print("SSM Parameter Store:")
    params = {suffix: store.param(suffix) for suffix in PARAMETERS}
    for suffix, p in params.items():
        shown = f"({p.type}) {p.value}" if p else "absent"
        print(f"  {parameter_name(stage, suffix)}: {shown}")
    try:
        state = load_key_state(store)
        print(f"Signing key rotation: {state.phase} (kid {state.kid}, JWK Set kids "
              f"{', '.join(state.kids)})")
    except Refused as err:
        print(f"Signing key rotation: unknown ({err})")


# --- command line ------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Create, show and rotate an environment's deploy-time configuration. "
        "Secrets come from GOOGLE_CLIENT_SECRET / AFRICASTALKING_API_KEY / DARAJA_CONSUMER_KEY / "
        "DARAJA_CONSUMER_SECRET / DARAJA_PASSKEY / DARAJA_SECURITY_CREDENTIAL or a prompt.",
    )
    p.add_argument("--stage", required=True, choices=STAGES)
    p.add_argument("--region", help="AWS region (default: AWS_REGION / the profile's)")
    sub = p.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create every parameter and secret of the stage")
    for name in INIT_FLAGS:
        init.add_argument(f"--{name}", required=True, help=PARAMETERS[name][1])
    init.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing values, including the signing key (signs everyone out)",
    )

    mpesa = sub.add_parser(
        "init-mpesa",
        help="create (or with --overwrite replace) only the M-Pesa parameters and secrets",
    )
    for name in MPESA_FLAGS:
        mpesa.add_argument(f"--{name}", required=True, help=PARAMETERS[name][1])
    mpesa.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing M-Pesa values (the callback token is kept)",
    )

    sub.add_parser(
        "init-sms-delivery",
        help="create only the SMS delivery-report token (kept when it exists)",
    )

    rotate = sub.add_parser("rotate-jwt-key", help="rotate the access-token signing key")
    rotate.add_argument("--phase", required=True, choices=("add", "promote", "retire"))
    rotate.add_argument(
        "--force",
        action="store_true",
        help="retire before the token lifetime has passed (old key compromised)",
    )

    sub.add_parser("show", help="print names and non-secret values")
    return p


COMMANDS = {
    "init": cmd_init,
    "init-mpesa": cmd_init_mpesa,
    "init-sms-delivery": cmd_init_sms_delivery,
    "rotate-jwt-key": cmd_rotate,
    "show": cmd_show,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        session = make_session(args.region)
        store = Store(session, args.stage)
        print(describe_target(session, store))
        COMMANDS[args.command](args, store)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Refused as err:
        print(f"refused: {err}", file=sys.stderr)
        return 1
    except ClientError as err:
        op = err.operation_name
        msg = err.response.get("Error", {}).get("Message", "")
        print(f"error: AWS {op} failed: {error_code(err)}: {msg}", file=sys.stderr)
        return 1
    except BotoCoreError as err:
        print(f"error: AWS: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
