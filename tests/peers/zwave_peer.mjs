// The real zwave-js driver on a simulated controller with simulated locks, served by
// @zwave-js/server on 127.0.0.1, plus a small control endpoint for what the default lock
// model lacks. One Node process, no TCP serial link (zwave-js's mock-server mis-frames merged
// packets) and no mDNS (enableDNSServiceDiscovery: false).
//
//   node zwave_peer.mjs [slots,slots,...]     one lock node per number (node ids 2, 3, ...)
//
// Prints one JSON line when every node is ready: {"url": "ws://127.0.0.1:PORT", "control_url":
// "http://127.0.0.1:PORT", "nodes": [2, 3]}. The control endpoint (POST JSON, answers JSON):
//   /reset     every lock empty and alive, quirks off, frame counts zero; the driver's cache
//              shows every slot empty, as after a first full read
//   /forget    {node}: the driver's cache forgets the node's slots (never read)
//   /quirks    {node, refuse_duplicates, masked, battery}: lock behaviours real locks have
//   /fill      {node, code_from}: every slot occupied by the owner's codes (a full table)
//   /put       {node, slot, code}: a code set through the driver (as a crashed pass leaves it)
//   /keypad    {node, slot, unlock}: someone types the code of `slot` at the keypad
//   /dead      {node, dead}: the node stops answering (then the driver marks it dead)
//   /hold      {node}: the next User Code Get is answered only after /release
//   /held      {}: whether a held set arrived; /release {}: let it answer
//   /slots     {node}: what the lock really holds, {slot: {status, code}}
//   /frames    {}: commands each node received from the controller since /reset, by name
//   /reset_frames {}: count from zero again
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ZwavejsServer } from "@zwave-js/server";
import {
  BatteryCCGet,
  BatteryCCReport,
  NotificationCCGet,
  NotificationCCReport,
  UserCodeCCGet,
  UserCodeCCSet,
  UserCodeCCValues,
  UserIDStatus,
} from "@zwave-js/cc";
import { CommandClasses } from "@zwave-js/core";
import { MockController, MockNode, createMockZWaveRequestFrame } from "@zwave-js/testing";
import {
  createAndStartDriverWithMockPort,
  createDefaultMockControllerBehaviors,
  createDefaultMockNodeBehaviors,
} from "zwave-js/Testing";

const slotCounts = (process.argv[2] ?? "30,30").split(",").map(Number);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "doorcode-zwave-peer-"));
const lockIds = slotCounts.map((_, index) => index + 2);

const fresh = () => ({
  refuseDuplicates: false,
  masked: false,
  battery: 87,
  dead: false,
  hold: false,
});
const quirks = new Map(lockIds.map((id) => [id, fresh()]));
const frames = new Map(lockIds.map((id) => [id, {}]));
let held = null; // {resolve, arrived}

const userCodeKey = (slot) => `UserCode_userCode_${slot}`;
const userStatusKey = (slot) => `UserCode_userIdStatus_${slot}`;

function occupied(node, slot) {
  const status = node.state.get(userStatusKey(slot)) ?? UserIDStatus.Available;
  return status !== UserIDStatus.Available && status !== UserIDStatus.StatusNotAvailable;
}

// Behaviours the default lock model lacks; defined after the defaults, so they come first.
const lockBehaviours = [
  {
    // Count what the controller asks of the lock: the radio budget's ground truth.
    handleCC(controller, self, cc) {
      const counts = frames.get(self.id);
      counts[cc.constructor.name] = (counts[cc.constructor.name] ?? 0) + 1;
      return undefined;
    },
  },
  {
    // A dead node hears nothing: no ACK, no answer (the driver then marks it dead).
    handleCC(controller, self) {
      return quirks.get(self.id).dead ? { action: "stop" } : undefined;
    },
  },
  {
    handleCC(controller, self, cc) {
      if (!(cc instanceof BatteryCCGet)) return undefined;
      const level = quirks.get(self.id).battery;
      return { action: "sendCC", cc: new BatteryCCReport({ nodeId: controller.ownNodeId, level }) };
    },
  },
  {
    // The driver asks a lock for its Access Control state at the interview: it is idle.
    handleCC(controller, self, cc) {
      if (!(cc instanceof NotificationCCGet)) return undefined;
      const idle = new NotificationCCReport({
        nodeId: controller.ownNodeId,
        notificationType: cc.notificationType ?? 0x06,
        notificationEvent: 0x00,
        notificationStatus: 0xff,
      });
      return { action: "sendCC", cc: idle };
    },
  },
  {
    // Locks refuse a PIN another slot holds (with Supervision the refusal is visible).
    handleCC(controller, self, cc) {
      if (!(cc instanceof UserCodeCCSet) || !quirks.get(self.id).refuseDuplicates) return undefined;
      if (cc.userIdStatus === UserIDStatus.Available) return undefined;
      const slots = self.getCCCapabilities(CommandClasses["User Code"]).numUsers;
      for (let slot = 1; slot <= slots; slot++) {
        if (slot !== cc.userId && occupied(self, slot)) {
          if (String(self.state.get(userCodeKey(slot))) === String(cc.userCode)) {
            return { action: "fail" };
          }
        }
      }
      return undefined;
    },
  },
  {
    // A masking lock answers a read of an occupied slot with asterisks.
    transformResponse(controller, self, cc, response) {
      if (!(cc instanceof UserCodeCCGet) || !quirks.get(self.id).masked) return response;
      if (response.action === "sendCC" && response.cc.userCode) {
        response.cc.userCode = "*".repeat(String(response.cc.userCode).length);
      }
      return response;
    },
  },
  {
    // /hold: the next User Code Get is answered only after /release (or 20 s): a write has
    // reached the lock and its confirming read is in flight, where a crash would cut.
    async handleCC(controller, self, cc) {
      if (!(cc instanceof UserCodeCCGet) || !quirks.get(self.id).hold) return undefined;
      quirks.get(self.id).hold = false;
      await new Promise((resolve) => {
        held = { resolve, arrived: true };
        setTimeout(resolve, 20_000);
      });
      held = null;
      return undefined;
    },
  },
];

function lockCapabilities(slots) {
  return {
    genericDeviceClass: 0x40, // Entry Control
    specificDeviceClass: 0x03, // Secure Keypad Door Lock
    isListening: true,
    commandClasses: [
      CommandClasses.Version,
      CommandClasses["Manufacturer Specific"],
      CommandClasses.Supervision,
      { ccId: CommandClasses["User Code"], version: 1, numUsers: slots },
      {
        ccId: CommandClasses["Door Lock"],
        version: 4,
        supportedOperationTypes: [1],
        supportedDoorLockModes: [0x00, 0xff],
      },
      {
        ccId: CommandClasses.Notification,
        version: 8,
        supportsV1Alarm: false,
        notificationTypesAndEvents: { 0x06: [0x01, 0x02, 0x05, 0x06] },
      },
      { ccId: CommandClasses.Battery, version: 1 },
    ],
  };
}

const { driver, mockPort, serial, continueStartup } = await createAndStartDriverWithMockPort({
  logConfig: { enabled: false },
  storage: { cacheDir, lockDir: path.join(cacheDir, "locks") },
  testingHooks: { skipFirmwareIdentification: true },
  // A held read (/hold) must outlast the time a test takes to kill the process waiting on it.
  timeouts: { report: 10_000 },
  features: { softReset: false },
});
const mockController = await MockController.create({ homeId: 0x7e570001, ownNodeId: 1, mockPort, serial });
mockController.defineBehavior(...createDefaultMockControllerBehaviors());
const mockNodes = new Map();
for (const [index, slots] of slotCounts.entries()) {
  const id = index + 2;
  const node = await MockNode.create({ id, controller: mockController, capabilities: lockCapabilities(slots) });
  mockController.addNode(node);
  node.defineBehavior(...createDefaultMockNodeBehaviors());
  node.defineBehavior(...lockBehaviours);
  mockNodes.set(id, node);
}

const ready = new Promise((resolve) => driver.once("all nodes ready", resolve));
continueStartup();
await ready;

const slotsOf = (id) => mockNodes.get(id).getCCCapabilities(CommandClasses["User Code"]).numUsers;

// The driver's cache says what the lock holds after a first full read (empty, after /reset).
function cacheSlots(id) {
  const valueDB = driver.controller.nodes.get(id).valueDB;
  for (let slot = 1; slot <= slotsOf(id); slot++) {
    const node = mockNodes.get(id);
    const status = node.state.get(userStatusKey(slot)) ?? UserIDStatus.Available;
    valueDB.setValue(UserCodeCCValues.userIdStatus(slot).id, status);
    valueDB.setValue(UserCodeCCValues.userCode(slot).id, node.state.get(userCodeKey(slot)) ?? "");
  }
}

function clearLock(id) {
  const node = mockNodes.get(id);
  for (let slot = 1; slot <= slotsOf(id); slot++) {
    node.state.delete(userStatusKey(slot));
    node.state.delete(userCodeKey(slot));
  }
  node.autoAckControllerFrames = true;
  quirks.set(id, fresh());
  frames.set(id, {});
  cacheSlots(id);
}

async function revive(id) {
  const node = driver.controller.nodes.get(id);
  if (node.status === 3 /* Dead */) await node.ping();
}

function need(id) {
  if (!mockNodes.has(id)) throw new Error(`no lock node ${id}`);
  return id;
}

const routes = {
  "/reset": async () => {
    held?.resolve();
    for (const id of lockIds) {
      clearLock(id);
      await revive(id);
      frames.set(id, {});
    }
    return {};
  },
  "/forget": ({ node }) => {
    const valueDB = driver.controller.nodes.get(need(node)).valueDB;
    for (let slot = 1; slot <= slotsOf(node); slot++) {
      valueDB.removeValue(UserCodeCCValues.userIdStatus(slot).id);
      valueDB.removeValue(UserCodeCCValues.userCode(slot).id);
    }
    return {};
  },
  "/quirks": ({ node, refuse_duplicates, masked, battery }) => {
    const q = quirks.get(need(node));
    if (refuse_duplicates !== undefined) q.refuseDuplicates = refuse_duplicates;
    if (masked !== undefined) q.masked = masked;
    if (battery !== undefined) q.battery = battery;
    return {};
  },
  "/fill": ({ node, code_from }) => {
    const mock = mockNodes.get(need(node));
    for (let slot = 1; slot <= slotsOf(node); slot++) {
      mock.state.set(userStatusKey(slot), UserIDStatus.Enabled);
      mock.state.set(userCodeKey(slot), String(code_from + slot));
    }
    cacheSlots(node);
    return {};
  },
  "/put": async ({ node, slot, code }) => {
    const api = driver.controller.nodes.get(need(node)).commandClasses["User Code"];
    await api.set(slot, UserIDStatus.Enabled, code);
    await api.get(slot);
    return {};
  },
  "/keypad": async ({ node, slot, unlock = true }) => {
    const mock = mockNodes.get(need(node));
    const cc = new NotificationCCReport({
      nodeId: mock.id,
      notificationType: 0x06,
      notificationEvent: unlock ? 0x06 : 0x05,
      eventParameters: Uint8Array.from([slot]),
    });
    await mock.sendToController(createMockZWaveRequestFrame(cc, { ackRequested: false }));
    return {};
  },
  "/dead": async ({ node, dead }) => {
    quirks.get(need(node)).dead = dead;
    mockNodes.get(node).autoAckControllerFrames = !dead;
    if (dead) await driver.controller.nodes.get(node).ping();
    else await revive(node);
    return { status: driver.controller.nodes.get(node).status };
  },
  "/hold": ({ node }) => ((quirks.get(need(node)).hold = true), {}),
  "/held": () => ({ held: held?.arrived ?? false }),
  "/release": () => (held?.resolve(), {}),
  "/slots": ({ node }) => {
    const mock = mockNodes.get(need(node));
    const slots = {};
    for (let slot = 1; slot <= slotsOf(node); slot++) {
      if (occupied(mock, slot)) {
        slots[slot] = { status: mock.state.get(userStatusKey(slot)), code: String(mock.state.get(userCodeKey(slot))) };
      }
    }
    return slots;
  },
  "/frames": () => Object.fromEntries(frames),
  "/reset_frames": () => (lockIds.forEach((id) => frames.set(id, {})), {}),
};

const control = http.createServer((request, response) => {
  let text = "";
  request.on("data", (chunk) => (text += chunk));
  request.on("end", async () => {
    response.setHeader("content-type", "application/json");
    const route = routes[request.url];
    if (route === undefined) {
      response.statusCode = 404;
      response.end(JSON.stringify({ error: `no control route ${request.url}` }));
      return;
    }
    try {
      response.end(JSON.stringify((await route(text ? JSON.parse(text) : {})) ?? {}));
    } catch (error) {
      response.statusCode = 400;
      response.end(JSON.stringify({ error: String(error) }));
    }
  });
});

for (const id of lockIds) clearLock(id);
// The server treats port 0 as "use 3000": let its one listen() take a free port instead.
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (port, host, ...rest) {
  http.Server.prototype.listen = listen;
  return listen.call(this, 0, host, ...rest);
};
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const server = new ZwavejsServer(driver, {
  host: "127.0.0.1",
  enableDNSServiceDiscovery: false,
  logger: quiet,
});
await server.start(true);
control.listen(0, "127.0.0.1", () => {
  const ready = {
    url: `ws://127.0.0.1:${server.server.address().port}`,
    control_url: `http://127.0.0.1:${control.address().port}`,
    nodes: lockIds,
  };
  process.stdout.write(JSON.stringify(ready) + "\n");
});

async function stop() {
  try {
    await server.destroy();
    await driver.destroy();
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    process.exit(0);
  }
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
