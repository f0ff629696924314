// genai_stream.mjs - one generateContentStream call through the official
// @google/genai Node.js SDK (pinned in package.json) with one function
// declaration, read the way applications read it (chunk.text, chunk.functionCalls).
//
//   BASE_URL=http://127.0.0.1:PORT API_KEY=k MODEL=m node genai_stream.mjs
//
// BASE_URL is the server root; the SDK calls
// BASE_URL/v1beta/models/MODEL:streamGenerateContent?alt=sse.
// Optional env PROMPT.  Prints exactly one JSON line on stdout:
//   {"text": <chunk.text joined>, "function_calls": [{"name","args","id"}],
//    "finish_reason": <last seen>, "usage": <last usageMetadata or null>,
//    "model_version": <last seen or null>, "chunks": <count>}
//   error: {"error": <message>, "status": <HTTP status or null>}   (exit status 1)
import { GoogleGenAI } from '@google/genai';

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const ai = new GoogleGenAI({
    apiKey: process.env.API_KEY || 'test-key',
    apiVersion: 'v1beta',
    httpOptions: { baseUrl: process.env.BASE_URL, timeout: 20000 },
  });
  try {
    const stream = await ai.models.generateContentStream({
      model: process.env.MODEL || 'gemini-mock',
      contents: process.env.PROMPT || 'What is the weather in Paris?',
      config: {
        tools: [{
          functionDeclarations: [{
            name: 'get_weather',
            description: 'Get the current weather for a city.',
            parameters: {
              type: 'OBJECT',
              properties: { city: { type: 'STRING', description: 'City name' } },
              required: ['city'],
            },
          }],
        }],
      },
    });
    let text = '';
    const calls = [];
    let finish = null;
    let usage = null;
    let version = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      const t = chunk.text;
      if (typeof t === 'string') text += t;
      for (const fc of chunk.functionCalls || []) {
        calls.push({ name: fc.name, args: fc.args, id: fc.id === undefined ? null : fc.id });
      }
      const c = chunk.candidates && chunk.candidates[0];
      if (c && c.finishReason) finish = c.finishReason;
      if (chunk.usageMetadata) usage = chunk.usageMetadata;
      if (chunk.modelVersion) version = chunk.modelVersion;
    }
    out({ text, function_calls: calls, finish_reason: finish, usage, model_version: version, chunks });
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
