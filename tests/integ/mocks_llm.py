"""
mocks_llm.py - fake Claude (Anthropic Messages) and Gemini (Generative
Language) upstreams, plus an OpenAI chat upstream with the same scripts, for
the translation tests.

They reuse mocks.MockOpenAI's hand-written HTTP/1.1 server (keep-alive, TLS,
request recording, .script(), .wait_requests()) and only replace how an
answer is rendered.  Answers follow the real APIs' field names and framing.

MockClaude(tls=None)      POST /v1/messages (stream when the body says
                          "stream": true: SSE with event: lines),
                          POST /v1/messages/count_tokens,
                          GET /v1/models (the model list, see below)
MockGemini(tls=None)      POST /v1beta/models/{model}:generateContent,
                          :streamGenerateContent?alt=sse (SSE) and without
                          alt=sse (one JSON array), :countTokens,
                          GET /v1beta/models (the model list, see below)
MockOpenAIChat(tls=None)  MockOpenAI (all its behaviours) plus the scripts
                          below, rendered as chat.completion(.chunk)

Every request is recorded in .requests as in MockOpenAI, with one more key:
query (dict name -> last value of the query string).

Scripts (.script([...]), one behaviour per request):
  ("text", text[, finish])         a text answer; finish is a hub-neutral
                                   "stop" | "length" (default "stop")
  ("tool", name, args[, id])       one tool call (args: dict)
  ("tools", [(name, args[, id]), ...])   several tool calls
  ("thinking", thought, signature, answer)   reasoning, then text
  ("thinking_tool", thought, signature, name, args)   reasoning, then a
                                   tool call (Gemini: the signature rides on
                                   the functionCall part)
  ("answer", blocks[, finish])     blocks: ("text", t) | ("thinking", t, sig)
                                   | ("tool", name, args[, id])
  ("status", code, json_body[, headers])   that status and body
  ("reset_after", n)               n stream events (or part of the JSON
                                   body) then a TCP reset
  ("error_event"[, message[, n]])  n text events (default 2), then the API's
                                   in-stream error event, then a clean end
  ("hang",)                        never answer
  ("raw_events", [piece, ...][, head_delay])
                                   a 200 SSE stream of exactly these pieces
                                   (bytes, one chunk each; a number is a
                                   pause of that many seconds), after
                                   head_delay seconds of silence
Without a script the answer is the text "echo: <last user text>".

Credentials (TokenCheck, mixed into all three):
  .valid_tokens      None (default: anything goes) or a set of accepted
                     credentials: Authorization: Bearer X, else x-api-key,
                     else x-goog-api-key, else the query's key=
  .rejected_tokens   the credentials refused, in order (None: none sent)
A refused request is answered 401 in the API's own error shape, its record
gets "auth_rejected": True and the script queue is left alone (the next
request, with a good credential, gets the scripted answer).

Model lists (MockClaude, MockGemini): the list call is answered apart
from the other requests (recorded in .list_requests, never in .requests,
and it consumes no script), in the API's shape:
  .list_models       ids listed (default: the models the real API lists
                     today; MockGemini adds an embedding model that does not
                     support generateContent)
  .list_answer       None, or (status, json) to answer the list call with
                     instead (a failing list endpoint)
With .valid_tokens set, a list call with another credential gets the 401.

Usage reported: input_tokens / promptTokenCount / prompt_tokens =
.input_tokens (11); output = .output_tokens (7); Gemini thinking adds
thoughtsTokenCount = .thoughts_tokens (5).  Text is streamed in .pieces
(3) deltas; tool arguments in 3 partial_json / arguments fragments.

Python 3 standard library only.
"""

import json
import ssl
import time
import urllib.parse

import mocks
from mocks import _PeerClosed, _chunk, _graceful_close, _rst_close

_SCRIPTS = {"text": (1, 2), "tool": (2, 3), "tools": (1, 1), "thinking": (3, 3),
            "thinking_tool": (4, 4), "answer": (1, 2), "status": (2, 3),
            "reset_after": (1, 1), "error_event": (0, 2), "hang": (0, 0),
            "raw_events": (1, 2)}


def split_pieces(s, n):
    """s cut into n non-empty pieces (fewer when s is short)."""
    if not s:
        return [""]
    n = max(1, min(n, len(s)))
    step = -(-len(s) // n)
    return [s[i:i + step] for i in range(0, len(s), step)]


def _last_user_text_any(j):
    """Last user text of a Claude, Gemini or OpenAI request body."""
    if not isinstance(j, dict):
        return ""
    msgs = j.get("messages")
    if isinstance(msgs, list):
        for m in reversed(msgs):
            if isinstance(m, dict) and m.get("role") == "user":
                c = m.get("content")
                if isinstance(c, str):
                    return c
                if isinstance(c, list):
                    return "".join(p.get("text", "") for p in c
                                   if isinstance(p, dict) and p.get("type") in ("text", None))
                return ""
    cont = j.get("contents")
    if isinstance(cont, list):
        for c in reversed(cont):
            if isinstance(c, dict) and c.get("role", "user") == "user":
                parts = c.get("parts") or []
                t = "".join(p.get("text", "") for p in parts if isinstance(p, dict))
                if t:
                    return t
    return ""


class _Answer:
    """A hub-neutral answer: blocks + finish."""

    def __init__(self, blocks, finish="stop"):
        self.blocks = blocks   # [("text", t) | ("thinking", t, sig) | ("tool", id, name, args)]
        self.finish = finish

    @property
    def has_tool(self):
        return any(b[0] == "tool" for b in self.blocks)

    @property
    def has_thinking(self):
        return any(b[0] == "thinking" for b in self.blocks)


class TokenCheck:
    """Mixin for a mocks.MockOpenAI subclass that has error_status(code, msg):
    credential checking (see the module docstring).  List it before the
    server class: class M(TokenCheck, _LLMBase)."""

    unauthorized_message = "mock: invalid credential"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.valid_tokens = None
        self.rejected_tokens = []

    @staticmethod
    def credential(req):
        """The credential a request presents, or None."""
        h = req["headers"]
        auth = h.get("authorization")
        if auth and auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        for name in ("x-api-key", "x-goog-api-key"):
            if name in h:
                return h[name]
        q = urllib.parse.urlsplit(req["path"]).query
        return dict(urllib.parse.parse_qsl(q, keep_blank_values=True)).get("key")

    def unauthorized(self, req):
        """(status, body[, headers]) of the answer to a refused credential."""
        return self.error_status(401, self.unauthorized_message)

    def list_refusal(self, req):
        """The answer to a model-list call whose credential is refused, or
        None (the call is not counted in .rejected_tokens)."""
        valid = self.valid_tokens
        if valid is not None and self.credential(req) not in valid:
            return self.unauthorized(req)
        return None

    def _gate(self, req):
        valid = self.valid_tokens
        if valid is not None:
            tok = self.credential(req)
            if tok is None or tok not in valid:
                req["auth_rejected"] = True
                self.rejected_tokens.append(tok)
                return (_UNAUTHORIZED,)
        return super()._gate(req)

    def _respond(self, conn, req, b, seq):
        if b is not None and b[0] == _UNAUTHORIZED:
            q = urllib.parse.urlsplit(req["path"]).query
            req["query"] = dict(urllib.parse.parse_qsl(q, keep_blank_values=True))
            return self._send_json(conn, req, *self.unauthorized(req))
        return super()._respond(conn, req, b, seq)


_UNAUTHORIZED = "_unauthorized"  # the behaviour TokenCheck._gate substitutes


class _LLMBase(mocks.MockOpenAI):
    """Common script handling; subclasses render answers and errors.
    extra_scripts: {name: (min_args, max_args)} of a subclass's own scripts
    (it answers them in its _respond or serve)."""

    tool_id_prefix = "call_mock"
    extra_scripts = {}
    list_call = None   # (method, path) of the API's model-list call, if any

    def __init__(self, tls=None, prefix="/v1", pieces=3):
        super().__init__(tls=tls, prefix=prefix)
        self.pieces = pieces
        self.input_tokens = 11
        self.output_tokens = 7
        self.thoughts_tokens = 5
        self.list_models = []
        self.list_answer = None

    def _list_answer(self, req):
        if self.list_call != (req["method"], urllib.parse.urlsplit(req["path"]).path):
            return None
        if self.list_answer is not None:
            return self.list_answer
        return self.list_refusal(req) or (200, self.list_body())

    def list_body(self):  # pragma: no cover - overridden where list_call is set
        raise NotImplementedError

    def script(self, behaviours):
        plain = []
        scripts = dict(_SCRIPTS, **self.extra_scripts)
        for b in behaviours:
            if isinstance(b, (tuple, list)) and b and b[0] in scripts:
                lo, hi = scripts[b[0]]
                if not lo <= len(b) - 1 <= hi:
                    raise ValueError("wrong number of arguments in %r" % (b,))
            else:
                plain.append(b)
        for b in plain:  # MockOpenAI's own behaviours
            if not isinstance(b, (tuple, list)) or not b or b[0] not in mocks._BEHAVIOURS:
                raise ValueError("unknown mock behaviour %r" % (b,))
            lo, hi = mocks._BEHAVIOURS[b[0]]
            if not lo <= len(b) - 1 <= hi:
                raise ValueError("wrong number of arguments in %r" % (b,))
        with self._lock:
            self._queue.extend(tuple(b) for b in behaviours)
        return self

    # -- answers -------------------------------------------------------------
    def _tool_block(self, t, seq, k):
        name, args = t[0], t[1]
        tid = t[2] if len(t) > 2 else "%s_%d_%d" % (self.tool_id_prefix, seq, k)
        return ("tool", tid, name, args)

    def answer_for(self, b, req, seq):
        """_Answer for a script behaviour (None for the default echo)."""
        if b is None:
            return _Answer([("text", "echo: " + _last_user_text_any(req["json"]))])
        name = b[0]
        if name == "text":
            return _Answer([("text", b[1])], b[2] if len(b) > 2 else "stop")
        if name == "tool":
            return _Answer([self._tool_block(b[1:], seq, 0)])
        if name == "tools":
            return _Answer([self._tool_block(t, seq, k) for k, t in enumerate(b[1])])
        if name == "thinking":
            return _Answer([("thinking", b[1], b[2]), ("text", b[3])])
        if name == "thinking_tool":
            return _Answer([("thinking", b[1], b[2]), self._tool_block(b[3:], seq, 0)])
        if name == "answer":
            blocks, k = [], 0
            for x in b[1]:
                if x[0] == "tool":
                    blocks.append(self._tool_block(x[1:], seq, k))
                    k += 1
                else:
                    blocks.append(tuple(x))
            return _Answer(blocks, b[2] if len(b) > 2 else "stop")
        return None

    def _wants_stream(self, req):
        j = req["json"] if isinstance(req["json"], dict) else {}
        return j.get("stream") is True

    # -- sending ---------------------------------------------------------------
    def _send_events(self, conn, req, events, reset_after=None, tail=b""):
        """Send SSE events as chunks; reset_after: RST after that many."""
        hdrs = [("Content-Type", "text/event-stream; charset=utf-8"),
                ("Cache-Control", "no-cache"), ("Transfer-Encoding", "chunked")]
        conn.send(self._head(200, hdrs, req))
        for i, ev in enumerate(events):
            if reset_after is not None and i >= reset_after:
                break
            if isinstance(ev, (int, float)):
                time.sleep(ev)
                continue
            conn.send(_chunk(ev))
        if reset_after is not None:
            time.sleep(0.1)  # let the peer take the events first
            _rst_close(conn.sock)
            return False
        conn.send(b"0\r\n\r\n")
        return True

    def _send_partial_json(self, conn, req, obj):
        body = json.dumps(obj).encode()
        hdrs = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        conn.send(self._head(200, hdrs, req) + body[:len(body) // 2])
        time.sleep(0.05)
        _rst_close(conn.sock)
        return False

    def _respond(self, conn, req, b, seq):
        u = urllib.parse.urlsplit(req["path"])
        req["query"] = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        if b is not None and b[0] in mocks._BEHAVIOURS and b[0] not in _SCRIPTS:
            return mocks.MockOpenAI._respond(self, conn, req, b, seq)
        if b is not None and b[0] == "status":
            return self._send_json(conn, req, b[1], b[2], b[3] if len(b) > 3 else None)
        if b is not None and b[0] == "hang":
            return mocks.MockOpenAI._respond(self, conn, req, b, seq)
        if b is not None and b[0] == "raw_events":
            if len(b) > 2:
                time.sleep(b[2])
            return self._send_events(conn, req, list(b[1]))
        return self.serve(conn, req, b, seq, u.path)

    def serve(self, conn, req, b, seq, path):  # pragma: no cover - overridden
        raise NotImplementedError

    def _generic(self, conn, req, b, seq, stream):
        """Render behaviour b (answer / reset / error) in stream or JSON."""
        name = b[0] if b else None
        if name == "reset_after":
            ans = self.answer_for(("text", "partial answer that will be cut off"), req, seq)
            if stream:
                return self._send_events(conn, req, self.stream_answer(req, seq, ans),
                                         reset_after=b[1])
            return self._send_partial_json(conn, req, self.json_answer(req, seq, ans))
        if name == "error_event":
            msg = b[1] if len(b) > 1 else "Overloaded"
            n = b[2] if len(b) > 2 else 2
            ans = self.answer_for(("text", "partial "), req, seq)
            if not stream:
                return self._send_json(conn, req, *self.error_status(529, msg))
            evs = self.stream_answer(req, seq, ans, cut_text=n)
            return self._send_events(conn, req, evs + [self.error_event(msg)])
        ans = self.answer_for(b, req, seq)
        if stream:
            return self._send_events(conn, req, self.stream_answer(req, seq, ans))
        return self._send_json(conn, req, 200, self.json_answer(req, seq, ans))


# ==========================================================================
# Claude

_CLAUDE_STOP = {"stop": "end_turn", "length": "max_tokens"}


def _sse(event, obj):
    data = json.dumps(obj, ensure_ascii=False).encode()
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


CLAUDE_LIST = [("claude-opus-4-6", "Claude Opus 4.6", "2026-02-12T00:00:00Z"),
               ("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-12T00:00:00Z"),
               ("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-13T00:00:00Z"),
               ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-15T00:00:00Z"),
               ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-09-15T00:00:00Z"),
               ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
               ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-14T00:00:00Z")]

GEMINI_LIST = ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
               "gemini-3-pro-preview", "gemini-3.1-pro-preview", "gemini-3-flash-preview",
               "gemini-3.1-flash-lite-preview"]


class MockClaude(TokenCheck, _LLMBase):
    tool_id_prefix = "toolu_01Mock"
    unauthorized_message = ("OAuth token has expired. Please obtain a new token or "
                            "refresh your existing token.")

    list_call = ("GET", "/v1/models")

    def __init__(self, tls=None, pieces=3):
        super().__init__(tls=tls, prefix="/v1", pieces=pieces)
        self.list_models = [m[0] for m in CLAUDE_LIST]

    def list_body(self):
        known = {m[0]: m for m in CLAUDE_LIST}
        data = [{"type": "model", "id": m,
                 "display_name": known[m][1] if m in known else m,
                 "created_at": known[m][2] if m in known else "2026-10-01T00:00:00Z"}
                for m in self.list_models]
        return {"data": data, "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None}

    def _model(self, req):
        j = req["json"] if isinstance(req["json"], dict) else {}
        m = j.get("model")
        return m if isinstance(m, str) else "claude-mock"

    def error_status(self, code, msg):
        types = {400: "invalid_request_error", 401: "authentication_error",
                 403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
        return code, {"type": "error", "error": {"type": types.get(code, "api_error"),
                                                 "message": msg}}

    def error_event(self, msg):
        return _sse("error", {"type": "error", "error": {"type": "overloaded_error",
                                                         "message": msg}})

    def _stop_reason(self, ans):
        return "tool_use" if ans.has_tool else _CLAUDE_STOP.get(ans.finish, ans.finish)

    def _usage(self, req, n=None):
        return {"input_tokens": self.input_tokens, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": self.output_tokens if n is None else n}

    def json_answer(self, req, seq, ans):
        content = []
        for bl in ans.blocks:
            if bl[0] == "text":
                content.append({"type": "text", "text": bl[1]})
            elif bl[0] == "thinking":
                content.append({"type": "thinking", "thinking": bl[1], "signature": bl[2]})
            else:
                content.append({"type": "tool_use", "id": bl[1], "name": bl[2], "input": bl[3]})
        return {"id": "msg_01MockAnswer%04d" % seq, "type": "message", "role": "assistant",
                "model": self._model(req), "content": content,
                "stop_reason": self._stop_reason(ans), "stop_sequence": None,
                "usage": self._usage(req)}

    def stream_answer(self, req, seq, ans, cut_text=None):
        """SSE events (bytes each).  cut_text: stop after that many text
        deltas (for the in-stream error), without closing anything."""
        u = self._usage(req, 1)
        out = [_sse("message_start", {"type": "message_start", "message": {
            "id": "msg_01MockAnswer%04d" % seq, "type": "message", "role": "assistant",
            "model": self._model(req), "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": u}})]
        ndelta = 0
        for i, bl in enumerate(ans.blocks):
            if bl[0] == "text":
                out.append(_sse("content_block_start", {"type": "content_block_start", "index": i,
                                "content_block": {"type": "text", "text": ""}}))
                if i == 0:
                    out.append(_sse("ping", {"type": "ping"}))
                for p in split_pieces(bl[1], self.pieces):
                    if cut_text is not None and ndelta >= cut_text:
                        return out
                    out.append(_sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                    "delta": {"type": "text_delta", "text": p}}))
                    ndelta += 1
                if cut_text is not None:
                    return out
            elif bl[0] == "thinking":
                out.append(_sse("content_block_start", {"type": "content_block_start", "index": i,
                                "content_block": {"type": "thinking", "thinking": "",
                                                  "signature": ""}}))
                for p in split_pieces(bl[1], self.pieces):
                    out.append(_sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                    "delta": {"type": "thinking_delta", "thinking": p}}))
                out.append(_sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                "delta": {"type": "signature_delta", "signature": bl[2]}}))
            else:
                out.append(_sse("content_block_start", {"type": "content_block_start", "index": i,
                                "content_block": {"type": "tool_use", "id": bl[1], "name": bl[2],
                                                  "input": {}}}))
                args = json.dumps(bl[3])
                for p in [""] + split_pieces(args, 3):
                    out.append(_sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                    "delta": {"type": "input_json_delta", "partial_json": p}}))
            out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": i}))
        out.append(_sse("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": self._stop_reason(ans), "stop_sequence": None},
            "usage": {"output_tokens": self.output_tokens}}))
        out.append(_sse("message_stop", {"type": "message_stop"}))
        return out

    def serve(self, conn, req, b, seq, path):
        if req["method"] == "POST" and path == "/v1/messages/count_tokens":
            return self._send_json(conn, req, 200, {"input_tokens": self.input_tokens})
        if req["method"] != "POST" or path != "/v1/messages":
            return self._send_json(conn, req, *self.error_status(
                404, "mock claude: no route for %s %s" % (req["method"], path)))
        if not isinstance(req["json"], dict):
            return self._send_json(conn, req, *self.error_status(400, "body is not JSON"))
        return self._generic(conn, req, b, seq, self._wants_stream(req))


# ==========================================================================
# Gemini

_GEMINI_FINISH = {"stop": "STOP", "length": "MAX_TOKENS"}
_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                  404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                  503: "UNAVAILABLE", 529: "UNAVAILABLE"}


class MockGemini(TokenCheck, _LLMBase):
    unauthorized_message = (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.")

    list_call = ("GET", "/v1beta/models")

    def __init__(self, tls=None, pieces=3):
        super().__init__(tls=tls, prefix="/v1beta", pieces=pieces)
        self.list_models = list(GEMINI_LIST)

    def list_body(self):
        models = [{"name": "models/" + m, "version": "001", "displayName": m,
                   "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
                   "supportedGenerationMethods": ["generateContent", "countTokens"]}
                  for m in self.list_models]
        models.append({"name": "models/text-embedding-004", "version": "004",
                       "displayName": "Text Embedding 004",
                       "supportedGenerationMethods": ["embedContent"]})
        return {"models": models}

    def unauthorized(self, req):
        return self.error_status(401, self.unauthorized_message) + (
            {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                 'error="invalid_token"'},)

    def error_status(self, code, msg):
        code = 503 if code == 529 else code
        return code, {"error": {"code": code, "message": msg,
                                "status": _GOOGLE_STATUS.get(code, "INTERNAL")}}

    def error_event(self, msg):
        return _sse(None, {"error": {"code": 503, "message": msg, "status": "UNAVAILABLE"}})

    def _usage(self, ans, final=True):
        u = {"promptTokenCount": self.input_tokens}
        if final:
            u["candidatesTokenCount"] = self.output_tokens
            total = self.input_tokens + self.output_tokens
            if ans.has_thinking:
                u["thoughtsTokenCount"] = self.thoughts_tokens
                total += self.thoughts_tokens
            u["totalTokenCount"] = total
        else:
            u["totalTokenCount"] = self.input_tokens
        u["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.input_tokens}]
        return u

    def _parts(self, ans, stream):
        """Parts, grouped per chunk when streaming ([[part...], ...])."""
        groups = []
        blocks = ans.blocks
        for i, bl in enumerate(blocks):
            if bl[0] == "text":
                for p in (split_pieces(bl[1], self.pieces) if stream else [bl[1]]):
                    groups.append([{"text": p}])
            elif bl[0] == "thinking":
                nxt = blocks[i + 1] if i + 1 < len(blocks) else None
                ps = split_pieces(bl[1], self.pieces) if stream else [bl[1]]
                for k, p in enumerate(ps):
                    part = {"text": p, "thought": True}
                    # The signature rides on a following functionCall, else
                    # on the last thought part.
                    if k == len(ps) - 1 and not (nxt and nxt[0] == "tool"):
                        part["thoughtSignature"] = bl[2]
                    groups.append([part])
            else:
                part = {"functionCall": {"name": bl[2], "args": bl[3]}}
                prev = blocks[i - 1] if i else None
                if prev and prev[0] == "thinking":
                    part["thoughtSignature"] = prev[2]
                groups.append([part])
        return groups

    def _chunk_obj(self, model, seq, parts, finish=None, usage=None):
        cand = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            cand["finishReason"] = finish
        o = {"candidates": [cand]}
        if usage:
            o["usageMetadata"] = usage
        o["modelVersion"] = model
        o["responseId"] = "mockResp%04dGem" % seq
        return o

    def json_answer(self, req, seq, ans):
        parts = [p for g in self._parts(ans, False) for p in g]
        return self._chunk_obj(req.get("gemini_model", "gemini-mock"), seq, parts,
                               _GEMINI_FINISH.get(ans.finish, ans.finish), self._usage(ans))

    def stream_objs(self, req, seq, ans, cut_text=None):
        model = req.get("gemini_model", "gemini-mock")
        groups = self._parts(ans, True)
        if cut_text is not None:
            groups = groups[:cut_text]
        out = []
        for k, g in enumerate(groups):
            last = k == len(groups) - 1 and cut_text is None
            out.append(self._chunk_obj(model, seq, g,
                                       _GEMINI_FINISH.get(ans.finish, ans.finish) if last else None,
                                       self._usage(ans, final=last)))
        return out

    def stream_answer(self, req, seq, ans, cut_text=None):
        return [_sse(None, o) for o in self.stream_objs(req, seq, ans, cut_text)]

    def serve(self, conn, req, b, seq, path):
        pre = "/v1beta/models/"
        if req["method"] != "POST" or not path.startswith(pre) or ":" not in path[len(pre):]:
            return self._send_json(conn, req, *self.error_status(
                404, "mock gemini: no route for %s %s" % (req["method"], path)))
        model, _, method = path[len(pre):].partition(":")
        req["gemini_model"] = model
        req["gemini_method"] = method
        if not isinstance(req["json"], dict):
            return self._send_json(conn, req, *self.error_status(400, "Invalid JSON payload"))
        if method == "countTokens":
            return self._send_json(conn, req, 200, {"totalTokens": self.input_tokens,
                                                    "promptTokensDetails": [
                                                        {"modality": "TEXT",
                                                         "tokenCount": self.input_tokens}]})
        if method == "generateContent":
            return self._generic(conn, req, b, seq, False)
        if method != "streamGenerateContent":
            return self._send_json(conn, req, *self.error_status(404, "unknown method " + method))
        if req["query"].get("alt") == "sse":
            return self._generic(conn, req, b, seq, True)
        return self._send_json_array(conn, req, b, seq)

    def _send_json_array(self, conn, req, b, seq):
        """A stream without alt=sse: one JSON array of the chunks."""
        ans = self.answer_for(b if b and b[0] not in ("reset_after", "error_event") else None,
                              req, seq)
        objs = self.stream_objs(req, seq, ans)
        body = ("[" + ",\r\n".join(json.dumps(o) for o in objs) + "]").encode()
        hdrs = [("Content-Type", "application/json; charset=UTF-8"), ("Content-Length", str(len(body)))]
        conn.send(self._head(200, hdrs, req) + body)
        return True


# ==========================================================================
# OpenAI chat completions with the same scripts

_OPENAI_FINISH = {"stop": "stop", "length": "length"}


class MockOpenAIChat(TokenCheck, _LLMBase):
    tool_id_prefix = "call_mock"
    unauthorized_message = "Incorrect API key provided."

    def __init__(self, tls=None, prefix="/v1", pieces=3):
        super().__init__(tls=tls, prefix=prefix, pieces=pieces)

    def error_status(self, code, msg):
        return code, {"error": {"message": msg, "type": "server_error" if code >= 500
                                else "invalid_request_error", "param": None, "code": None}}

    def error_event(self, msg):
        return _sse(None, {"error": {"message": msg, "type": "server_error",
                                     "param": None, "code": None}})

    def unauthorized(self, req):
        return 401, {"error": {"message": self.unauthorized_message,
                               "type": "invalid_request_error", "param": None,
                               "code": "invalid_api_key"}}

    def _finish(self, ans):
        return "tool_calls" if ans.has_tool else _OPENAI_FINISH.get(ans.finish, ans.finish)

    def _oa_usage(self):
        return {"prompt_tokens": self.input_tokens, "completion_tokens": self.output_tokens,
                "total_tokens": self.input_tokens + self.output_tokens}

    def json_answer(self, req, seq, ans):
        msg = {"role": "assistant", "content": None}
        text = "".join(b[1] for b in ans.blocks if b[0] == "text")
        if text:
            msg["content"] = text
        th = "".join(b[1] for b in ans.blocks if b[0] == "thinking")
        if th:
            msg["reasoning_content"] = th
        tcs = [{"id": b[1], "type": "function",
                "function": {"name": b[2], "arguments": json.dumps(b[3])}}
               for b in ans.blocks if b[0] == "tool"]
        if tcs:
            msg["tool_calls"] = tcs
        return {"id": "chatcmpl-mock-%d" % seq, "object": "chat.completion",
                "created": 1700000000, "model": self._model(req),
                "choices": [{"index": 0, "message": msg, "logprobs": None,
                             "finish_reason": self._finish(ans)}],
                "usage": self._oa_usage()}

    def stream_answer(self, req, seq, ans, cut_text=None):
        base = {"id": "chatcmpl-mock-%d" % seq, "object": "chat.completion.chunk",
                "created": 1700000000, "model": self._model(req)}

        def ch(delta, finish=None):
            return _sse(None, dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None,
                                                   "finish_reason": finish}]))
        out = [ch({"role": "assistant", "content": ""})]
        ndelta, k = 0, 0
        for bl in ans.blocks:
            if bl[0] == "text":
                for p in split_pieces(bl[1], self.pieces):
                    if cut_text is not None and ndelta >= cut_text:
                        return out
                    out.append(ch({"content": p}))
                    ndelta += 1
            elif bl[0] == "thinking":
                for p in split_pieces(bl[1], self.pieces):
                    out.append(ch({"reasoning_content": p}))
            else:
                out.append(ch({"tool_calls": [{"index": k, "id": bl[1], "type": "function",
                                               "function": {"name": bl[2], "arguments": ""}}]}))
                for p in split_pieces(json.dumps(bl[3]), 3):
                    out.append(ch({"tool_calls": [{"index": k, "function": {"arguments": p}}]}))
                k += 1
        if cut_text is not None:
            return out
        out.append(ch({}, self._finish(ans)))
        so = (req["json"] or {}).get("stream_options") if isinstance(req["json"], dict) else None
        if isinstance(so, dict) and so.get("include_usage"):
            out.append(_sse(None, dict(base, choices=[], usage=self._oa_usage())))
        out.append(b"data: [DONE]\n\n")
        return out

    def serve(self, conn, req, b, seq, path):
        if b is None and self._kind(req) != "chat":
            return mocks.MockOpenAI._respond(self, conn, req, b, seq)
        return self._generic(conn, req, b, seq, self._wants_stream(req))
