"""An OTLP/HTTP request's body, read as far as it is sound: the one gate OTLP input passes.

Anyone who can reach the port can send anything, so every step is bounded and every failure is a
`Refused` with the HTTP status the OTLP spec asks for and a reason a counter can be kept under:
a body past the size limit (413, also after gzip: a small body that inflates past it is refused,
not inflated), chunks that do not parse (400), an encoding or a content type we do not take (415),
protobuf that does not decode, JSON that does not parse or nests too deep (400). JSON bodies carry
trace and span ids as hex (the OTLP spec's rule, not protobuf's JSON mapping, which wants
base64): they are turned into bytes before the message is built.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import BinaryIO, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

MAX_BODY = 16 * 1024 * 1024
"""Bytes of a body, after gzip, a receiver takes (an exporter's default batch is far less)."""
MAX_CHUNK_LINE = 1024
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_IDS = ("traceId", "spanId", "parentSpanId")

M = TypeVar("M", bound=Message)


class Refused(Exception):
    """A body refused: the HTTP status to answer with, and why (a counter's key, and words)."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason = status, reason


def read_body(
    stream: BinaryIO, length: str | None, chunked: bool, encoding: str, limit: int = MAX_BODY
) -> bytes:
    """The body of a request from its headers (Content-Length, or chunked transfer), inflated if
    gzip'd, at most `limit` bytes either way."""
    if chunked:
        raw = _chunks(stream, limit)
    elif length is not None:
        try:
            size = int(length)
        except ValueError:
            raise Refused(
                400, "length", f"Content-Length {length[:40]!r} is not a number"
            ) from None
        if size < 0:
            raise Refused(400, "length", "a negative Content-Length")
        if size > limit:
            raise Refused(413, "too_large", f"a body of {size:,} bytes, over {limit:,}")
        raw = stream.read(size)
        if len(raw) < size:
            raise Refused(400, "truncated", f"the body ended at {len(raw):,} of {size:,} bytes")
    else:
        raise Refused(411, "length", "no Content-Length and not chunked")
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise Refused(415, "encoding", f"Content-Encoding {encoding[:40]!r}; gzip or none")
    return _gunzip(raw, limit)


def _chunks(stream: BinaryIO, limit: int) -> bytes:
    """A chunked body (what an exporter that does not know its length sends)."""
    parts, total = [], 0
    while True:
        line = stream.readline(MAX_CHUNK_LINE)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise Refused(400, "chunks", f"a chunk size of {line[:40]!r}") from None
        if size == 0:
            while stream.readline(MAX_CHUNK_LINE).strip():  # trailers, to the blank line
                pass
            return b"".join(parts)
        total += size
        if size < 0 or total > limit:
            raise Refused(413, "too_large", f"chunks past {limit:,} bytes")
        part = stream.read(size)
        if len(part) < size or stream.read(2) != b"\r\n":
            raise Refused(400, "chunks", "a chunk shorter than its size said")
        parts.append(part)


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise Refused(400, "gzip", f"not gzip: {exc}") from None
    if len(body) > limit:
        raise Refused(413, "too_large", f"inflates past {limit:,} bytes")
    return body


def parse(body: bytes, content_type: str, message: type[M]) -> M:
    """`body` as the request message `message`, from protobuf or from OTLP's JSON."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == PROTOBUF:
        try:
            return message.FromString(body)
        except (DecodeError, RecursionError, ValueError) as exc:
            raise Refused(400, "protobuf", f"protobuf that does not decode: {exc}") from None
    if kind == JSON:
        try:
            tree = json.loads(body)
            return json_format.ParseDict(
                _ids_as_base64(tree), message(), ignore_unknown_fields=True
            )
        except (ValueError, RecursionError, json_format.ParseError, TypeError) as exc:
            raise Refused(400, "json", f"JSON that does not read: {str(exc)[:200]}") from None
    raise Refused(415, "content_type", f"Content-Type {kind[:60]!r}; {PROTOBUF} or {JSON}")


def _ids_as_base64(node: object) -> object:
    """OTLP JSON's hex ids as protobuf's JSON mapping wants bytes (base64), everywhere they are."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _IDS and isinstance(value, str):
                node[key] = _hex_to_base64(value)
            else:
                _ids_as_base64(value)
    elif isinstance(node, list):
        for item in node:
            _ids_as_base64(item)
    return node


def _hex_to_base64(value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except (ValueError, binascii.Error):
        raise Refused(400, "json", f"an id that is not hex: {value[:40]!r}") from None


def answer(message: Message, content_type: str) -> tuple[bytes, str]:
    """A response message in the request's encoding."""
    if content_type.split(";", 1)[0].strip().lower() == JSON:
        return json_format.MessageToJson(message).encode(), JSON
    return message.SerializeToString(), PROTOBUF
