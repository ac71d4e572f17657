#!/usr/bin/env python3
"""Signs a request for Switchboard's auth-v2 scheme (docs/integration/auth-v2.md).

Standard library only. For the web chat loader's authorization mode, sign on your
server the JSON the page will post (without thirdPartAuthorization), e.g.:

    python3 sign.py --access-key 869525871671777281 --secret-key "$SECRET_KEY" \
        --uri /service-cloud/webclient/chat_client/js/newThirdPartyClient.js \
        --header host=cc.example.com --body '{"thirdUserName":"Zhang San",...}'

and put the printed value into the body as "thirdPartAuthorization".
"""

import argparse
import datetime
import hashlib
import hmac
import sys

UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def normalize(value: str) -> str:
    return "".join(chr(b) if b in UNRESERVED else "%%%02X" % b for b in value.encode("utf-8"))


def canonical_request(method, uri, query, headers, body):
    lines = [method.upper(), uri]
    if query:
        lines.append("&".join(sorted(normalize(k) + "=" + normalize(v) for k, v in query)))
    names = sorted(name.lower() for name, _ in headers)
    lines.append(";".join(names))
    lines.append("\n".join(sorted(normalize(n.lower()) + ":" + normalize(v.strip()) for n, v in headers)))
    return "\n".join(lines) + "\n" + normalize(body)


def sign(access_key, secret_key, timestamp, method, uri, query, headers, body):
    signed_headers = ";".join(sorted(name.lower() for name, _ in headers))
    prefix = "auth-v2/%s/%s/%s" % (access_key, timestamp, signed_headers)
    signing_key = hmac.new(secret_key.encode("utf-8"), prefix.encode("utf-8"), hashlib.sha256).hexdigest()
    canonical = canonical_request(method, uri, query, headers, body)
    signature = hmac.new(signing_key.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + "/" + signature


def now_timestamp():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--access-key", required=True, help="the channelConfigId for the web chat loader")
    parser.add_argument("--secret-key", required=True, help="the channel's third-party authentication key")
    parser.add_argument("--method", default="POST")
    parser.add_argument("--uri", default="/service-cloud/webclient/chat_client/js/newThirdPartyClient.js")
    parser.add_argument("--query", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--header", action="append", default=[], metavar="NAME=VALUE",
                        help="a signed header; give at least one (host is usual)")
    parser.add_argument("--body", help="the payload; read from standard input if omitted")
    parser.add_argument("--timestamp", help="yyyy-MM-ddTHH:mm:ss.SSSZ; now if omitted")
    args = parser.parse_args()
    headers = [tuple(h.split("=", 1)) for h in args.header]
    query = [tuple(q.split("=", 1)) for q in args.query]
    if not headers or any(len(h) != 2 for h in headers + query):
        parser.error("give headers (and query parameters) as NAME=VALUE, at least one header")
    body = args.body if args.body is not None else sys.stdin.read()
    print(sign(args.access_key, args.secret_key, args.timestamp or now_timestamp(), args.method, args.uri, query, headers, body))


if __name__ == "__main__":
    main()
