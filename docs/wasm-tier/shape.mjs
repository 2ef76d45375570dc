// The cost of a first run's code, JavaScript blocks against WebAssembly (see ../wasm-tier.md):
//   node --v8-pool-size=1 --interrupt-budget=16000 docs/wasm-tier/shape.mjs js|wexp|wloop|wmods
// (after npm install; the flags are the ones memvisor's CLI gives itself on 2 cores). N distinct
// functions (N=500) of the shape of a real usertests block (add esp,k; mov ebx,[ebp-4]; leave;
// ret: three loads through the TLB, lazy flags, registers written back), called CALLS times
// (10 million) in a skewed order that widens as it goes (block k is first called after
// k * CALLS / 2N calls). Pass 1 includes making them (new Function, or one module compiled),
// pass 2 runs them again warm. js: the dispatcher calls JavaScript blocks (today's tier);
// wexp: it calls the WebAssembly exports; wloop: a loop written in WebAssembly calls them
// (br_table); wmods: exports of modules of PER (50) functions each.
import { Code, ModuleBuilder, Op, I32 } from '../../dist/src/cpu/wasm/encoder.js';
const MODE = process.argv[2];
const N = Number(process.env.N ?? 500), CALLS = Number(process.env.CALLS ?? 10_000_000);
const MB = 1 << 20;
const memory = new WebAssembly.Memory({ initial: 2048, maximum: 2048 }); // 128 MiB
const buf = memory.buffer;
const TLB = 16 * MB, REG = 24 * MB, FL = REG + 64, ST = REG + 128, SEQ = 32 * MB;
const tr = new Int32Array(buf, TLB, 1 << 20);
tr.fill(-1);
for (let p = 0x80000; p < 0x81000; p++) tr[p] = 0x80000000 | 0; // lin ^ t = lin - 0x80000000
const R = new Int32Array(buf, REG, 8);
const i32 = new Int32Array(buf, 0, 16 * MB / 4);
const SP = 0x80100000 | 0, BP = 0x80100100 | 0;
i32[(0x100100 - 4) >> 2] = 1234;        // [ebp-4]
i32[0x100100 >> 2] = BP;               // saved ebp
i32[(0x100100 + 4) >> 2] = 0x80200000 | 0; // return address (another page)
// The order of calls: block k becomes reachable after k * (CALLS / 2 / N) calls; popularity ~ 1/(rank+1).
const seq = new Int32Array(buf, SEQ, CALLS);
let x = 12345;
const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 8) / (1 << 24);
for (let i = 0; i < CALLS; i++) {
  const open = Math.min(N, 1 + Math.floor(i / (CALLS / 2 / N)));
  // Zipf-ish over the open blocks, the newest as likely as the oldest
  const r = Math.floor(Math.pow(open, rnd()) - 1);
  seq[i] = open - 1 - Math.min(open - 1, r);
}
const pageBase = (k) => (0x80300000 + k * 4096) | 0;

function jsSource(k) {
  return `const S = [-2146414198, -2146414195, -2146414192, -2146414191], K = [0, 1, 2, 3];
return (function block(c) {
const R = c.reg, tr = c.tlbR, tw = c.tlbW, u8 = c.u8, u16 = c.u16, i32 = c.i32, left = c.batchLeft;
let n = 0, t = 0, s = 0, done = 0, x = 0, L = 394, g3 = R[3], g4 = R[4], g5 = R[5];
try {
out: for (;;) switch (L) {
case 394: {
const v0 = g4;
const b0 = ${k};
const r0 = (v0 + b0) | 0;
g4 = r0;
const a1 = (g5 + -4) | 0;
t = tr[a1 >>> 12]; const v1 = ((t | a1) & 3) === 0 ? i32[(t ^ a1) >>> 2] : (s = 1, n = 1, c.lfOp = 1, c.lfA = v0, c.lfB = b0, c.lfR = r0, c.lfSize = 4, c.batchLeft = left - done - 1, c.rd32(a1));
g3 = v1;
if (s !== 0) { s = 0; if (c.eventPending || c.codeChanged) { x = -2146414192; done += 2; break out; } }
const s2 = g5;
t = tr[s2 >>> 12]; const v2 = ((t | s2) & 3) === 0 ? i32[(t ^ s2) >>> 2] : (s = 1, n = 2, c.lfOp = 1, c.lfA = v0, c.lfB = b0, c.lfR = r0, c.lfSize = 4, c.batchLeft = left - done - 2, c.rd32(s2));
g4 = (s2 + 4) | 0; g5 = v2;
if (s !== 0) { s = 0; if (c.eventPending || c.codeChanged) { x = -2146414191; done += 3; break out; } }
const s3 = g4;
t = tr[s3 >>> 12]; const p3 = ((t | s3) & 3) === 0 ? i32[(t ^ s3) >>> 2] : (s = 1, n = 3, c.lfOp = 1, c.lfA = v0, c.lfB = b0, c.lfR = r0, c.lfSize = 4, c.batchLeft = left - done - 3, c.rd32(s3));
g4 = (s3 + 4) | 0;
if (((p3 ^ ${pageBase(k)}) >>> 12) === 0) {
if (s !== 0) { s = 0; if (c.eventPending || c.codeChanged) { x = p3; done += 4; break out; } }
c.lfOp = 1, c.lfA = v0, c.lfB = b0, c.lfR = r0, c.lfSize = 4; done += 4; if (done + 4 > left) { x = p3; break out; } L = p3 & 4095; continue out;
}
{ c.lfOp = 1, c.lfA = v0, c.lfB = b0, c.lfR = r0, c.lfSize = 4; x = p3; done += 4; break out; }
}
default: { x = (${pageBase(k)} + L) | 0; break out; }
}
R[3] = g3; R[4] = g4; R[5] = g5; c.eip = x; c.batchLeft = left - done;
} catch (e) {
R[3] = g3; R[4] = g4; R[5] = g5; c.startEip = S[n]; c.batchLeft = left - done - K[n];
throw e;
}
});`;
}

class Cpu {
  constructor() {
    this.reg = R; this.tlbR = tr; this.tlbW = tr; this.u8 = new Uint8Array(buf, 0, 16 * MB); this.u16 = new Uint16Array(buf, 0, 8 * MB); this.i32 = i32;
    this.batchLeft = 1e9; this.eventPending = false; this.codeChanged = false;
    this.lfOp = 0; this.lfA = 2 ** 30; this.lfB = 0; this.lfR = 2 ** 30; this.lfSize = 0; this.eip = 2 ** 30; this.startEip = 2 ** 30;
  }
  rd32(a) { throw new Error(`slow path at ${a}`); }
}

/** The wasm body of block k: the same loads, stores and flag state, in the shared memory. */
function wasmBlock(k, slow) {
  const c = new Code(0);
  const [g3, g4, g5, v0, r0, a1, t, v1, s2, v2, s3, p3, s] = Array.from({ length: 13 }, () => c.local(I32));
  const load = (addr, into) => {
    // t = tlb[addr >>> 12]; into = ((t | addr) & 3) == 0 ? mem[t ^ addr] : slow(addr) (s = 1)
    c.get(addr).i32(12).op(Op.i32ShrU).i32(2).op(Op.i32Shl).mem(Op.i32Load, 2, TLB).set(t);
    c.get(t).get(addr).op(Op.i32Or).i32(3).op(Op.i32And).op(Op.i32Eqz).open(Op.if, I32);
    c.get(t).get(addr).op(Op.i32Xor).mem(Op.i32Load, 2, 0);
    c.op(Op.else).i32(1).set(s).get(addr).call(slow);
    c.end().set(into);
  };
  const checkSlow = () => {
    c.get(s).open(Op.if).i32(0).set(s).i32(0).mem(Op.i32Load, 2, ST + 8).open(Op.if).op(Op.return).end().end();
  };
  c.i32(0).mem(Op.i32Load, 2, REG + 12).set(g3).i32(0).mem(Op.i32Load, 2, REG + 16).set(g4).i32(0).mem(Op.i32Load, 2, REG + 20).set(g5);
  c.get(g4).set(v0);
  c.get(v0).i32(k).op(Op.i32Add).tee(r0).set(g4);
  c.get(g5).i32(4).op(Op.i32Sub).set(a1);
  load(a1, v1); c.get(v1).set(g3); checkSlow();
  c.get(g5).set(s2); load(s2, v2); c.get(s2).i32(4).op(Op.i32Add).set(g4); c.get(v2).set(g5); checkSlow();
  c.get(g4).set(s3); load(s3, p3); c.get(s3).i32(4).op(Op.i32Add).set(g4);
  c.get(p3).i32(pageBase(k)).op(Op.i32Xor).i32(12).op(Op.i32ShrU).op(Op.i32Eqz).open(Op.if).op(Op.unreachable).end();
  // flags, registers, eip, batch
  c.i32(0).i32(1).mem(Op.i32Store, 2, FL);
  c.i32(0).get(v0).mem(Op.i32Store, 2, FL + 4);
  c.i32(0).i32(k).mem(Op.i32Store, 2, FL + 8);
  c.i32(0).get(r0).mem(Op.i32Store, 2, FL + 12);
  c.i32(0).i32(4).mem(Op.i32Store, 2, FL + 16);
  c.i32(0).get(g3).mem(Op.i32Store, 2, REG + 12).i32(0).get(g4).mem(Op.i32Store, 2, REG + 16).i32(0).get(g5).mem(Op.i32Store, 2, REG + 20);
  c.i32(0).get(p3).mem(Op.i32Store, 2, ST);
  c.i32(0).i32(0).mem(Op.i32Load, 2, ST + 4).i32(4).op(Op.i32Sub).mem(Op.i32Store, 2, ST + 4);
  return c;
}

function smallModule(from, to) {
  const m = new ModuleBuilder();
  const slow = m.importFunction('env', 'slow', [I32], [I32]);
  m.importMemory('env', 'memory', 2048, 2048);
  for (let k = from; k < to; k++) m.function([], [], wasmBlock(k, slow), `b${k}`);
  return m.encode();
}
function wasmModule() {
  const m = new ModuleBuilder();
  const slow = m.importFunction('env', 'slow', [I32], [I32]);
  m.importMemory('env', 'memory', 2048, 2048);
  const first = 1;
  for (let k = 0; k < N; k++) m.function([], [], wasmBlock(k, slow), `b${k}`);
  // run(from, to): for i in [from, to): R4 = SP, R5 = BP, call block seq[i]
  const c = new Code(2);
  const id = c.local(I32);
  c.open(Op.block).open(Op.loop);
  c.get(0).get(1).op(Op.i32GeU).brIf(1);
  c.i32(0).i32(SP).mem(Op.i32Store, 2, REG + 16).i32(0).i32(BP).mem(Op.i32Store, 2, REG + 20);
  c.get(0).i32(2).op(Op.i32Shl).mem(Op.i32Load, 2, SEQ).set(id);
  c.get(0).i32(1).op(Op.i32Add).set(0);
  // N nested blocks; br_table picks the one whose end is followed by `call k`
  for (let k = 0; k <= N; k++) c.open(Op.block);
  c.get(id).brTable(Array.from({ length: N }, (_, k) => k), N);
  for (let k = 0; k < N; k++) c.end().call(first + k).br(N - k); // after end of block k, depth to the loop = N - k
  c.end(); // block N (out of range): fall through
  c.br(0);
  c.end().end();
  m.function([I32, I32], [], c, 'run');
  return m.encode();
}

const cpu = new Cpu();
const t0 = performance.now();
if (MODE === 'js') {
  const fns = [];
  for (let k = 0; k < N; k++) fns.push(new Function(jsSource(k))());
  const made = performance.now();
  const pass = () => { for (let i = 0; i < CALLS; i++) { R[4] = SP; R[5] = BP; cpu.batchLeft = 1e9; fns[seq[i]](cpu); } };
  pass(); const t1 = performance.now(); pass(); const t2 = performance.now();
  console.log(`js    make ${(made - t0).toFixed(0)} ms, cold pass ${(t1 - t0).toFixed(0)} ms, warm pass ${(t2 - t1).toFixed(0)} ms; eip ${cpu.eip.toString(16)} lfA ${cpu.lfA}`);
} else if (MODE === 'wmods') {
  const per = Number(process.env.PER ?? 50);
  const ex = [];
  let bytesTotal = 0;
  for (let k = 0; k < N; k += per) {
    const bytes = smallModule(k, Math.min(N, k + per)); bytesTotal += bytes.length;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, slow: (a) => { throw new Error(`slow ${a}`); } } });
    for (let j = k; j < Math.min(N, k + per); j++) ex.push(inst.exports[`b${j}`]);
  }
  const made = performance.now();
  const st = new Int32Array(buf, ST, 4); st[1] = 1e9;
  const pass = () => { for (let i = 0; i < CALLS; i++) { R[4] = SP; R[5] = BP; ex[seq[i]](); } };
  pass(); const t1 = performance.now(); pass(); const t2 = performance.now();
  console.log(`wmods per ${per} make ${(made - t0).toFixed(0)} ms (${bytesTotal} bytes), cold pass ${(t1 - t0).toFixed(0)} ms, warm pass ${(t2 - t1).toFixed(0)} ms`);
} else {
  const bytes = wasmModule();
  const mod = new WebAssembly.Module(bytes);
  const inst = new WebAssembly.Instance(mod, { env: { memory, slow: (a) => { throw new Error(`slow ${a}`); } } });
  const made = performance.now();
  const ex = Array.from({ length: N }, (_, k) => inst.exports[`b${k}`]);
  const st = new Int32Array(buf, ST, 4); st[1] = 1e9;
  let pass;
  if (MODE === 'wexp') pass = () => { for (let i = 0; i < CALLS; i++) { R[4] = SP; R[5] = BP; ex[seq[i]](); } };
  else pass = () => { const run = inst.exports.run; for (let i = 0; i < CALLS; i += 10000) run(i, Math.min(CALLS, i + 10000)); };
  pass(); const t1 = performance.now(); pass(); const t2 = performance.now();
  console.log(`${MODE.padEnd(5)} make ${(made - t0).toFixed(0)} ms (${bytes.length} bytes), cold pass ${(t1 - t0).toFixed(0)} ms, warm pass ${(t2 - t1).toFixed(0)} ms; eip ${(st[0] >>> 0).toString(16)} lfA ${new Int32Array(buf, FL, 5)[1]}`);
}
