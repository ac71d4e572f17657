#!/usr/bin/env python3
"""An example enterprise backend for Switchboard's web chat (standard library only).

It serves the two integration pages of the product documents, filled in for one channel,
with the jQuery and axios versions they name (from `npm install` in this folder), and
plays the enterprise's two server-side parts:

- token mode: issues a token for the page's user (an HMAC of the user id with this
  backend's own key) and answers Switchboard's validation call
  POST /rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate with {"retCode": 0}
  only for tokens it issued;
- authorization mode: signs the page's thirdUserData at POST /webchat/authorizationService
  with the channel's third-party authentication key (auth-v2, docs/integration/auth-v2.md).

Run against `switchboard serve --demo` (see README.md beside this file):

    python3 enterprise.py --switchboard http://127.0.0.1:8080 --demo ../../data/demo.json \
        --secret-key <the WEB channel's secretKey> --port 9000
"""

import argparse
import datetime
import hashlib
import hmac
import http.server
import json
import os
import secrets
import sys
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "auth-v2-signer"))
import sign as auth_v2  # noqa: E402  (the shipped standalone signer)

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARIES = {
    "/token-mode/js/jquery-1.8.0.js": "node_modules/jquery18/lib/node-jquery.js",
    "/token-mode/js/axios.min.js": "node_modules/axios/dist/axios.min.js",
    "/authorization-mode/jquery.js": "node_modules/jquery/dist/jquery.js",
}
# npm's jQuery 1.8.3 is packaged for Node (`module.exports = create(window)`, then
# noConflict): given a `module` object, the browser runs it and gets the same jQuery.
NODE_PACKAGED = {"node_modules/jquery18/lib/node-jquery.js"}
VALIDATE_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate"
SIGN_PATH = "/webchat/authorizationService"


class Enterprise:
    def __init__(self, args):
        self.switchboard = args.switchboard.rstrip("/")
        self.context_path = args.context_path
        demo = json.load(open(args.demo)) if args.demo else {}
        self.tenant = args.tenant or demo.get("tenantSpaceId", "")
        self.channel = args.channel or demo.get("channelConfigId", "")
        self.secret_key = args.secret_key or demo.get("channelSecretKey", "")
        self.user_id, self.user_name, self.locale = args.user_id, args.user_name, args.locale
        self.token_key = secrets.token_bytes(32)
        self.clock_skew = args.clock_skew_seconds

    def token_for(self, user_id):
        return hmac.new(self.token_key, user_id.encode(), hashlib.sha256).hexdigest()

    def page(self, name, public_url):
        text = open(os.path.join(HERE, name, "index.html"), encoding="utf-8").read()
        values = {
            "__CONTEXT_PATH__": self.switchboard + self.context_path,
            "__TOKEN__": self.token_for(self.user_id),
            "__USER_ID__": self.user_id,
            "__USER_NAME__": self.user_name,
            "__TENANT_SPACE_ID__": str(self.tenant),
            "__CHANNEL_CONFIG_ID__": str(self.channel),
            "__LOCALE__": self.locale,
            "__AUTHORIZATION_URL__": public_url + SIGN_PATH,
        }
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    def validate(self, body):
        """Switchboard's token check: {Token, userName, userId, tenantSpaceId}."""
        expected = self.token_for(str(body.get("userId", "")))
        if hmac.compare_digest(expected, str(body.get("Token", ""))) and str(body.get("tenantSpaceId")) == str(self.tenant):
            return {"retCode": 0, "message": "validate success"}
        return {"retCode": 1, "message": "invalid token"}

    def authorize(self, raw_body):
        """Signs the thirdUserData the page will post, as Switchboard will receive it."""
        host = urlparse(self.switchboard).netloc
        uri = self.context_path + "/webclient/chat_client/js/newThirdPartyClient.js"
        at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.clock_skew)
        timestamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (at.microsecond // 1000)
        return auth_v2.sign(self.channel, self.secret_key, timestamp, "POST", uri, [], [("host", host)], raw_body)


def handler(enterprise):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = urlparse(self.path).path
            if path in ("/", "/index.html"):
                links = '<p><a href="/token-mode/">Token mode</a> · <a href="/authorization-mode/">Authorization mode</a></p>'
                return self.reply(200, "text/html; charset=utf-8", links.encode())
            if path in ("/token-mode/", "/authorization-mode/"):
                public = "http://" + self.headers.get("Host", "127.0.0.1")
                return self.reply(200, "text/html; charset=utf-8", enterprise.page(path.strip("/"), public).encode())
            if path in LIBRARIES:
                library = os.path.join(HERE, LIBRARIES[path])
                if not os.path.exists(library):
                    return self.reply(500, "text/plain", b"run `npm install` in examples/webchat first")
                code = open(library, "rb").read()
                if LIBRARIES[path] in NODE_PACKAGED:
                    code = (b"(function () { var module = { exports: {} };\n" + code +
                            b"\nwindow.jQuery = window.$ = module.exports; })();\n")
                return self.reply(200, "application/javascript", code)
            self.reply(404, "text/plain", b"not found")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(length, 64 * 1024)).decode("utf-8")
            path = urlparse(self.path).path
            if path == VALIDATE_PATH:
                answer = enterprise.validate(json.loads(raw or "{}"))
                return self.reply(200, "application/json", json.dumps(answer).encode())
            if path == SIGN_PATH:
                return self.reply(200, "text/plain", enterprise.authorize(raw).encode())
            self.reply(404, "text/plain", b"not found")

        def reply(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--switchboard", default="http://127.0.0.1:8080", help="Switchboard's base URL as pages reach it")
    parser.add_argument("--context-path", default="/service-cloud")
    parser.add_argument("--demo", help="Switchboard's demo.json, for the tenant and channel ids")
    parser.add_argument("--tenant", help="tenantSpaceId (instead of --demo)")
    parser.add_argument("--channel", help="channelConfigId of a WEB channel (instead of --demo)")
    parser.add_argument("--secret-key", default="",
                        help="the channel's third-party authentication key (authorization mode); from --demo if omitted")
    parser.add_argument("--user-id", default="u-1001")
    parser.add_argument("--user-name", default="Zhang San")
    parser.add_argument("--locale", default="en", choices=["en", "zh"])
    parser.add_argument("--clock-skew-seconds", type=int, default=0,
                        help="sign as if the clock were off by this much (to see stale signatures refused)")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    enterprise = Enterprise(args)
    server = http.server.ThreadingHTTPServer((args.listen, args.port), handler(enterprise))
    print("Enterprise example on http://%s:%d/  (token validation URL: http://%s:%d%s)"
          % (args.listen, server.server_address[1], args.listen, server.server_address[1], VALIDATE_PATH), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
