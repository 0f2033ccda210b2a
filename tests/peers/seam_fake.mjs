// Seam's own fake (@seamapi/fake-seam-connect) on 127.0.0.1, with a small control endpoint.
//
// The fake listens on every interface by default; wrapping http.Server.prototype.listen makes
// both servers bind loopback only. Prints one JSON line when ready:
//   {"api_url": ..., "control_url": ..., "api_key": ..., "workspace_id": ...}
// The control endpoint (POST JSON) puts into the fake's store what its API cannot produce:
//   /device           add a device with the properties a test needs (capabilities, online)
//   /update_device    change a device (online: false, battery...)
//   /delete_device    a device gone at the vendor
//   /update_access_code  status, errors, warnings of a code
//   /delete_access_code  Seam removing a code by itself (a time-bound code that ended)
//   /add_event        an event (lock.unlocked with access_code_id and method "keycode")
//   /codes            every access code in the store (whatever device)
//   /outage           the workspace answers 503 on every route until /recover
//   /throttle         the next `times` calls to `routes` answer 429 rate_limited with
//                     Retry-After: `retry_after` seconds (the fake has no rate limit of its own)
import http from "node:http";
import { createFake } from "@seamapi/fake-seam-connect";

const listen = http.Server.prototype.listen;
const servers = [];
http.Server.prototype.listen = function (...args) {
  servers.push(this);
  if (typeof args[0] === "object" && args[0] !== null) {
    return listen.call(this, { ...args[0], host: "127.0.0.1" }, ...args.slice(1));
  }
  const port = typeof args[0] === "number" || typeof args[0] === "string" ? args[0] : 0;
  const callback = args.find((arg) => typeof arg === "function");
  return listen.call(this, Number(port), "127.0.0.1", callback);
};

const API_KEY = "seam_doorcode_test_key";
const fake = await createFake();
const db = fake.database;
const workspace = db.addWorkspace({ name: "doorcode tests", workspace_id: "ws_doorcode" });
db.addApiKey({ workspace_id: workspace.workspace_id, token: API_KEY });
const account = db.addConnectedAccount({
  provider: "august",
  workspace_id: workspace.workspace_id,
  user_identifier: { email: "host@example.test" },
});

const OUTAGE_ROUTES = [
  "/devices/list",
  "/devices/get",
  "/access_codes/list",
  "/access_codes/get",
  "/access_codes/create",
  "/access_codes/update",
  "/access_codes/delete",
  "/events/list",
];

let throttle = { routes: [], times: 0, retryAfter: 0 };

const routes = {
  "/device": (body) =>
    db.addDevice({
      device_type: body.device_type ?? "august_lock",
      name: body.name,
      display_name: body.name,
      device_id: body.device_id,
      workspace_id: workspace.workspace_id,
      connected_account_id: account.connected_account_id,
      can_program_online_access_codes: true,
      properties: { online: true, name: body.name, ...(body.properties ?? {}) },
    }),
  "/update_device": (body) => db.updateDevice(body),
  "/delete_device": (body) => (db.deleteDevice(body.device_id), {}),
  "/update_access_code": (body) => db.updateAccessCode(body),
  "/delete_access_code": (body) => (db.deleteAccessCode(body.access_code_id), {}),
  "/add_event": (body) => db.addEvent({ workspace_id: workspace.workspace_id, ...body }),
  "/codes": () => db.getState().access_codes,
  "/outage": (body) => (
    db.simulateWorkspaceOutage(workspace.workspace_id, { routes: body.routes ?? OUTAGE_ROUTES }), {}
  ),
  "/recover": () => (db.simulateWorkspaceOutageRecovery(workspace.workspace_id), {}),
  "/throttle": (body) => {
    throttle = {
      routes: body.routes ?? OUTAGE_ROUTES,
      times: body.times ?? 1,
      retryAfter: body.retry_after ?? 60,
    };
    return {};
  },
  "/reset": () => {
    throttle = { routes: [], times: 0, retryAfter: 0 };
    for (const code of [...db.getState().access_codes]) db.deleteAccessCode(code.access_code_id);
    for (const device of [...db.getState().devices]) db.deleteDevice(device.device_id);
    return {};
  },
};

const control = http.createServer((request, response) => {
  let text = "";
  request.on("data", (chunk) => (text += chunk));
  request.on("end", () => {
    const route = routes[request.url];
    response.setHeader("content-type", "application/json");
    if (route === undefined) {
      response.statusCode = 404;
      response.end(JSON.stringify({ error: `no control route ${request.url}` }));
      return;
    }
    try {
      response.end(JSON.stringify(route(text ? JSON.parse(text) : {}) ?? {}));
    } catch (error) {
      response.statusCode = 400;
      response.end(JSON.stringify({ error: String(error) }));
    }
  });
});

await fake.startServer({ port: 0 });
const api = servers[0];
if (!api.listening) await new Promise((resolve) => api.once("listening", resolve));

// A throttled call is answered here, before the fake sees it: as Seam does, with its error shape.
const serve = api.listeners("request");
api.removeAllListeners("request");
api.on("request", (request, response) => {
  const path = request.url.split("?")[0];
  if (throttle.times > 0 && throttle.routes.includes(path)) {
    throttle.times -= 1;
    request.resume();
    response.writeHead(429, {
      "content-type": "application/json",
      "retry-after": String(throttle.retryAfter),
    });
    response.end(JSON.stringify({ error: { type: "rate_limited", message: "Too many requests" } }));
    return;
  }
  for (const listener of serve) listener.call(api, request, response);
});
control.listen(0, () => {
  const ready = {
    api_url: `http://127.0.0.1:${api.address().port}`,
    control_url: `http://127.0.0.1:${control.address().port}`,
    api_key: API_KEY,
    workspace_id: workspace.workspace_id,
  };
  process.stdout.write(JSON.stringify(ready) + "\n");
});
