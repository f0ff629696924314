// anthropic_count.mjs - messages.countTokens through the official Anthropic
// Node.js SDK (pinned in package.json).
//
//   BASE_URL=http://127.0.0.1:PORT API_KEY=k MODEL=m node anthropic_count.mjs
//
// Optional env PROMPT.  Prints exactly one JSON line on stdout:
//   {"input_tokens": <number>, "keys": [keys of the result object]}
//   error: {"error": <message>, "status": <HTTP status or null>}   (exit status 1)
import Anthropic from '@anthropic-ai/sdk';

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const client = new Anthropic({
    baseURL: process.env.BASE_URL,
    apiKey: process.env.API_KEY || 'test-key',
    maxRetries: 0,
    timeout: 20000,
  });
  try {
    const r = await client.messages.countTokens({
      model: process.env.MODEL || 'claude-mock',
      system: 'You are terse.',
      tools: [{
        name: 'get_weather',
        description: 'Get the current weather for a city.',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      }],
      messages: [{ role: 'user', content: process.env.PROMPT || 'What is the weather in Paris today?' }],
    });
    out({ input_tokens: r.input_tokens, keys: Object.keys(r).sort() });
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
