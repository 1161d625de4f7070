// The official SignalR JavaScript client as an AICP agent or submitter, for interop tests.
//   node client.mjs agent  <hubUrl> <protocol> <agentId> <capability> <echo|fail|bytes>
//   node client.mjs submit <hubUrl> <protocol> <method> <count> [strategy|-] [bytes]
// protocol: json | messagepack. Agents print "registered <ack json>" once registered and run until stdin closes.
// Submitters print one JSON line per result, then "done".
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { createInterface } from "node:readline";

const [mode, hubUrl, protocol, ...rest] = process.argv.slice(2);

function connect() {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(new URL("/aicp", hubUrl).toString(), { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.Warning);
  if (protocol === "messagepack") builder.withHubProtocol(new MessagePackHubProtocol());
  return builder.build();
}

function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return Uint8Array.from(Buffer.from(value, "base64"));
  throw new Error(`not bytes: ${typeof value}`);
}

async function agent([agentId, capability, behaviour]) {
  const conn = connect();
  conn.on("Execute", async (a) => {
    if (behaviour === "fail") {
      await conn.send("Complete", { taskId: a.taskId, attempt: a.attempt, ok: false, error: { code: "js_error", message: "failing on purpose" } });
      return;
    }
    let result = { agent: agentId, echo: a.payload, attempt: a.attempt };
    if (behaviour === "bytes") {
      const bytes = toBytes(a.payload.data);
      let sum = 0;
      for (const b of bytes) sum = (sum + b) % 65521;
      result = { agent: agentId, length: bytes.length, checksum: sum, payloadType: a.payload.data instanceof Uint8Array ? "bin" : typeof a.payload.data };
    }
    await conn.send("Complete", { taskId: a.taskId, attempt: a.attempt, ok: true, result });
  });
  conn.on("Cancel", () => {});
  await conn.start();
  const ack = await conn.invoke("Register", { agentId, capabilities: [capability], maxConcurrency: 8 });
  console.log("registered " + JSON.stringify(ack));
  const rl = createInterface({ input: process.stdin });
  await new Promise((resolve) => rl.on("close", resolve));
  await conn.stop();
}

async function submit([method, count, strategy, bytes]) {
  const conn = connect();
  await conn.start();
  const tasks = [];
  for (let i = 0; i < Number(count); i++) {
    const payload = bytes
      ? { data: Uint8Array.from({ length: Number(bytes) }, (_, k) => (k * 7 + i) % 256), index: i }
      : { index: i, text: `task ${i}` };
    const request = { method, payload };
    if (strategy && strategy !== "-") request.strategy = strategy;
    tasks.push(conn.invoke("Submit", request));
  }
  for (const result of await Promise.all(tasks)) console.log(JSON.stringify(result));
  console.log("done");
  await conn.stop();
}

try {
  if (mode === "agent") await agent(rest);
  else if (mode === "submit") await submit(rest);
  else throw new Error(`unknown mode ${mode}`);
} catch (e) {
  console.error(e?.stack ?? String(e));
  process.exit(1);
}
