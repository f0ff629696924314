// anthropic_stream.mjs - one streamed Messages call through the official
// Anthropic Node.js SDK (pinned in package.json), with one tool and extended
// thinking, read the way applications read it: messages.stream(...).finalMessage().
//
//   BASE_URL=http://127.0.0.1:PORT API_KEY=k MODEL=m node anthropic_stream.mjs [followup]
//
// With "followup", when the first answer holds a tool_use a second streamed
// request sends the conversation back (the assistant content exactly as the
// SDK returned it, then a tool_result for the call) and its summary is
// added as "followup" (same shape, without "followup").
// Optional env PROMPT.  Prints exactly one JSON line on stdout:
//   {"id", "model", "role", "stop_reason", "stop_sequence", "usage",
//    "content": [{"type":"text","text"} | {"type":"thinking","thinking","signature"}
//               | {"type":"redacted_thinking","data"}
//               | {"type":"tool_use","id","name","input"} | {"type": other}],
//    "events": [raw stream event types in order, consecutive repeats collapsed],
//    "text": <text deltas as seen by the 'text' listener>}
//   error: {"error": <message>, "status": <HTTP status or null>}   (exit status 1)
import Anthropic from '@anthropic-ai/sdk';

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const TOOL = {
  name: 'get_weather',
  description: 'Get the current weather for a city.',
  input_schema: {
    type: 'object',
    properties: {
      city: { type: 'string', description: 'City name' },
      unit: { type: 'string', enum: ['c', 'f'] },
    },
    required: ['city'],
  },
};

async function main() {
  const client = new Anthropic({
    baseURL: process.env.BASE_URL,
    apiKey: process.env.API_KEY || 'test-key',
    maxRetries: 0,
    timeout: 20000,
  });
  try {
    const messages = [{ role: 'user', content: process.env.PROMPT || 'What is the weather in Paris?' }];
    const [m, summary] = await turn(client, messages);
    if (process.argv[2] === 'followup') {
      const call = m.content.find((b) => b.type === 'tool_use');
      if (call) {
        messages.push({ role: 'assistant', content: m.content });
        messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18 C, sunny' }] });
        summary.followup = (await turn(client, messages))[1];
      }
    }
    out(summary);
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
  const stream = client.messages.stream({
    model: process.env.MODEL || 'claude-mock',
    max_tokens: 4096,
    thinking: { type: 'enabled', budget_tokens: 2048 },
    tools: [TOOL],
    messages,
  });
  const events = [];
  let text = '';
  stream.on('streamEvent', (ev) => {
    const t = ev.type === 'content_block_delta' && ev.delta ? ev.type + ':' + ev.delta.type : ev.type;
    if (events[events.length - 1] !== t) events.push(t);
  });
  stream.on('text', (d) => { text += d; });
  const m = await stream.finalMessage();
  const content = (m.content || []).map((b) => {
    switch (b.type) {
      case 'text': return { type: 'text', text: b.text };
      case 'thinking': return { type: 'thinking', thinking: b.thinking, signature: b.signature };
      case 'redacted_thinking': return { type: 'redacted_thinking', data: b.data };
      case 'tool_use': return { type: 'tool_use', id: b.id, name: b.name, input: b.input };
      default: return { type: b.type };
    }
  });
  return [m, {
    id: m.id, model: m.model, role: m.role, stop_reason: m.stop_reason,
    stop_sequence: m.stop_sequence === undefined ? null : m.stop_sequence,
    usage: m.usage, content, events, text,
  }];
}

process.exitCode = await main();
