// openai_tools.mjs - one streamed chat completion with a function tool through
// the official OpenAI Node.js SDK (pinned in package.json); the tool-call
// deltas are reassembled by index the way applications do it.
//
//   BASE_URL=http://127.0.0.1:PORT/v1 API_KEY=k MODEL=m node openai_tools.mjs [followup]
//
// With "followup", when the first answer holds tool calls a second streamed
// request sends the conversation back (assistant message with the
// reassembled tool_calls, then one "tool" message per call) and its summary
// is added as "followup" (same shape).
// Optional env PROMPT.  Prints exactly one JSON line on stdout:
//   {"content": <content deltas joined>, "finish_reason": <last seen>,
//    "tool_calls": [{"index","id","type","name","arguments"}] (by index),
//    "usage": <last usage or null>, "chunks": <count>}
//   error: {"error": <message>, "status": <HTTP status or null>}   (exit status 1)
import OpenAI from 'openai';

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const client = new OpenAI({
    baseURL: process.env.BASE_URL,
    apiKey: process.env.API_KEY || 'test-key',
    maxRetries: 0,
    timeout: 20000,
  });
  try {
    const messages = [{ role: 'user', content: process.env.PROMPT || 'What is the weather in Paris?' }];
    const r = await turn(client, messages);
    if (process.argv[2] === 'followup' && r.tool_calls.length) {
      messages.push({
        role: 'assistant',
        content: r.content || null,
        tool_calls: r.tool_calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
      });
      for (const c of r.tool_calls) messages.push({ role: 'tool', tool_call_id: c.id, content: '18 C, sunny' });
      r.followup = await turn(client, messages);
    }
    out(r);
    return 0;
  } catch (e) {
    const status = e && typeof e.status === 'number' ? e.status : null;
    let msg = e && e.message ? e.message : String(e);
    if (e && e.cause && e.cause.message && !msg.includes(e.cause.message)) msg += ' (' + e.cause.message + ')';
    out({ error: msg, status });
    return 1;
  }
}

async function turn(client, messages) {
  const stream = await client.chat.completions.create({
    model: process.env.MODEL || 'mock-model',
    messages,
    tools: [{
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Get the current weather for a city.',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  const calls = new Map();
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices || []) {
      if (c.finish_reason) finish = c.finish_reason;
      const d = c.delta || {};
      if (typeof d.content === 'string') content += d.content;
      for (const tc of d.tool_calls || []) {
        let cur = calls.get(tc.index);
        if (!cur) {
          cur = { index: tc.index, id: null, type: null, name: '', arguments: '' };
          calls.set(tc.index, cur);
        }
        if (tc.id) cur.id = tc.id;
        if (tc.type) cur.type = tc.type;
        if (tc.function && typeof tc.function.name === 'string') cur.name += tc.function.name;
        if (tc.function && typeof tc.function.arguments === 'string') cur.arguments += tc.function.arguments;
      }
    }
  }
  const tool_calls = [...calls.values()].sort((a, b) => a.index - b.index);
  return { content, finish_reason: finish, tool_calls, usage, chunks };
}

process.exitCode = await main();
