// openai_chat.mjs - one chat completion through the official OpenAI Node.js SDK
// (pinned in package.json), used by the integration tests as a reference client.
//
//   BASE_URL=http://127.0.0.1:PORT/v1 API_KEY=k MODEL=m node openai_chat.mjs stream|nonstream
//
// Optional env PROMPT (default "hello").  Prints exactly one JSON line on stdout:
//   nonstream: {"content": ..., "model": ..., "finish_reason": ...}
//   stream:    {"content": <deltas joined>, "chunks": <chunk count>, "finish_reason": ...}
//   error:     {"error": <message>, "status": <HTTP status or null>}   (exit status 1)
import OpenAI from 'openai';

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const mode = process.argv[2];
  if (mode !== 'stream' && mode !== 'nonstream') {
    out({ error: 'usage: node openai_chat.mjs stream|nonstream', status: null });
    return 1;
  }
  const client = new OpenAI({
    baseURL: process.env.BASE_URL,
    apiKey: process.env.API_KEY || 'test-key',
    maxRetries: 0,
    timeout: 20000,
  });
  const req = {
    model: process.env.MODEL || 'mock-model',
    messages: [{ role: 'user', content: process.env.PROMPT || 'hello' }],
  };
  try {
    if (mode === 'nonstream') {
      const r = await client.chat.completions.create(req);
      const c = r.choices && r.choices[0];
      out({
        content: c && c.message ? c.message.content : null,
        model: r.model,
        finish_reason: c ? c.finish_reason : null,
      });
    } else {
      const stream = await client.chat.completions.create({ ...req, stream: true });
      let content = '';
      let chunks = 0;
      let finish = null;
      for await (const chunk of stream) {
        chunks++;
        for (const c of chunk.choices || []) {
          if (c.delta && typeof c.delta.content === 'string') content += c.delta.content;
          if (c.finish_reason) finish = c.finish_reason;
        }
      }
      out({ content, chunks, finish_reason: finish });
    }
    return 0;
  } catch (e) {
    const status = e && typeof e.status === 'number' ? e.status : null;
    let msg = e && e.message ? e.message : String(e);
    if (e && e.cause && e.cause.message && !msg.includes(e.cause.message)) {
      msg += ' (' + e.cause.message + ')';
    }
    out({ error: msg, status });
    return 1;
  }
}

process.exitCode = await main();
