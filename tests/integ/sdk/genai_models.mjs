// genai_models.mjs - models.list() and models.get() through the official
// @google/genai Node.js SDK (pinned in package.json), as @google/genai 3.x
// does them by default: apiVersion v1, so GET /v1/models and
// GET /v1/models/MODEL, the paths OpenAI clients use too.
//
//   BASE_URL=http://127.0.0.1:PORT API_KEY=k MODEL=m node genai_models.mjs
//
// Prints exactly one JSON line on stdout:
//   {"list": [<model name>...], "get": {"name", "displayName",
//    "inputTokenLimit", "supportedActions"}}
//   error: {"error": <message>, "status": <HTTP status or null>}   (exit status 1)
import { GoogleGenAI } from '@google/genai';

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const ai = new GoogleGenAI({
    apiKey: process.env.API_KEY || 'test-key',
    apiVersion: 'v1',
    httpOptions: { baseUrl: process.env.BASE_URL, timeout: 20000 },
  });
  try {
    const names = [];
    const pager = await ai.models.list();
    for await (const m of pager) names.push(m.name);
    const m = await ai.models.get({ model: process.env.MODEL || 'gemini-mock' });
    out({
      list: names,
      get: {
        name: m.name, displayName: m.displayName,
        inputTokenLimit: m.inputTokenLimit, supportedActions: m.supportedActions,
      },
    });
  } catch (e) {
    out({ error: String(e && e.message ? e.message : e), status: e && e.status ? e.status : null });
    process.exit(1);
  }
}

main();
