// openai_responses.mjs - one streamed Responses API call through the official
// OpenAI Node.js SDK (pinned in package.json): responses.stream(...), its
// events iterated, then .finalResponse() as applications read it.
//
//   BASE_URL=http://127.0.0.1:PORT/v1 API_KEY=k MODEL=m node openai_responses.mjs [tools]
//
// With "tools" the request carries one function tool.  Optional env PROMPT.
// Prints exactly one JSON line on stdout:
//   {"text": <response.output_text.delta deltas joined>,
//    "events": [event types in order, consecutive repeats collapsed],
//    "status": <finalResponse().status>, "output_text": <finalResponse().output_text>,
//    "output": [{"type":"message","role","text"} |
//               {"type":"function_call","name","arguments","call_id"} | {"type": other}],
//    "usage": <final response usage or null>, "model": <final response model>}
//   error: {"error": <message>, "status": <HTTP status or null>}   (exit status 1)
import OpenAI from 'openai';

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const withTools = process.argv[2] === 'tools';
  const client = new OpenAI({
    baseURL: process.env.BASE_URL,
    apiKey: process.env.API_KEY || 'test-key',
    maxRetries: 0,
    timeout: 20000,
  });
  const req = {
    model: process.env.MODEL || 'mock-model',
    instructions: 'be brief',
    input: process.env.PROMPT || 'hello',
  };
  if (withTools) {
    req.tools = [{
      type: 'function',
      name: 'get_weather',
      description: 'Get the current weather for a city.',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    }];
  }
  try {
    const stream = client.responses.stream(req);
    let text = '';
    const events = [];
    for await (const ev of stream) {
      if (events[events.length - 1] !== ev.type) events.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
    }
    const final = await stream.finalResponse();
    const output = (final.output || []).map((it) => {
      if (it.type === 'message') {
        return { type: 'message', role: it.role,
                 text: (it.content || []).map((c) => (c.type === 'output_text' ? c.text : '')).join('') };
      }
      if (it.type === 'function_call') {
        return { type: 'function_call', name: it.name, arguments: it.arguments, call_id: it.call_id };
      }
      return { type: it.type };
    });
    out({ text, events, status: final.status, output_text: final.output_text === undefined ? null : final.output_text,
          output, usage: final.usage || null, model: final.model });
    return 0;
  } catch (e) {
    const status = e && typeof e.status === 'number' ? e.status : null;
    let msg = e && e.message ? e.message : String(e);
    if (e && e.cause && e.cause.message && !msg.includes(e.cause.message)) msg += ' (' + e.cause.message + ')';
    out({ error: msg, status });
    return 1;
  }
}

process.exitCode = await main();
