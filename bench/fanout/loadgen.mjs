// Load generator for bench/fanout_bench.py: S sessions x K stock Yjs WebsocketProviders in ONE
// Node process (so every latency is measured against the same clock).
//
// Protocol: the first stdin line is a JSON config
//   {url, rate, seconds, drain_s, connect_concurrency, connect_spread_s, connect_timeout_s,
//    sessions: [{room, tokens: [typist token, peer token, ...] | null}, ...], clients}
// then commands, one per line: "go" (start typing), "quit".
// stdout: one JSON object per line: {event: "synced"|"typing_done"|"result"|"error", ...}.
//
// Per session, client 0 is the typist: `rate` inserts per second of "<seq> " at the end of the
// Y.Text `code`, for `seconds`. Every other client parses the sequence numbers out of each
// remote insert and records now - send time (performance.now(), same process) once per seq.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import readline from 'node:readline'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'

process.setMaxListeners(0) // each provider adds an 'exit' listener
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const fail = (message) => { out({ event: 'error', message }); process.exit(1) }

let hardStop = null
const sessions = [] // {room, tokens, typist, receivers, sendTimes: Float64Array, sent}
const allProviders = []
let latencies = []
let latencyAt = [] // send time (ms after typing started) of each latency sample
let typingStarted = 0
const awarenessBySecond = [] // remote awareness updates applied, per second of the run
let delivered = 0
let duplicates = 0
let closesAfterSync = 0
let cfg = null
let counting = true // false once the result is out: late arrivals are not counted

function percentile (sorted, q) {
  if (sorted.length === 0) return null
  const pos = (sorted.length - 1) * q / 100
  const lo = Math.floor(pos)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

function makeClient (session, index, room, token) {
  const doc = new Y.Doc()
  const text = doc.getText('code')
  const provider = new WebsocketProvider(cfg.url, room, doc, {
    WebSocketPolyfill: WebSocket,
    params: token ? { token } : {},
    connect: false,
    disableBc: true,
    maxBackoffTime: 1000
  })
  // Presence as an editor sets it. Without it the provider's first awareness message carries
  // the default state {} at clock 0, which Clarify's server (pycrdt Awareness) rejects as a
  // malformed frame and closes the socket (1007): see docs/benchmarks.md.
  provider.awareness.setLocalStateField('user', { name: `c${index}`, color: '#30bced' })
  provider.awareness.on('update', (_changes, origin) => {
    if (origin === 'local' || !typingStarted || !counting) return
    const sec = Math.floor((performance.now() - typingStarted) / 1000)
    awarenessBySecond[sec] = (awarenessBySecond[sec] ?? 0) + 1
  })
  const client = { doc, text, provider, synced: false, seen: null }
  provider.on('connection-close', () => { if (client.synced) closesAfterSync++ })
  if (index > 0) {
    client.seen = new Uint8Array(session.sendTimes.length)
    text.observe((ev, tr) => {
      if (tr.local || !counting) return
      const now = performance.now()
      for (const d of ev.delta) {
        if (typeof d.insert !== 'string') continue
        for (const m of d.insert.matchAll(/(\d+) /g)) {
          const seq = Number(m[1])
          if (seq >= session.sent || client.seen[seq]) { duplicates++; continue }
          client.seen[seq] = 1
          delivered++
          latencies.push(now - session.sendTimes[seq])
          latencyAt.push(session.sendTimes[seq] - typingStarted)
        }
      }
    })
  }
  allProviders.push(provider)
  return client
}

function connectClients (makers) {
  // Each client is created just before it connects, the phase paced evenly over
  // `connect_spread_s`, with at most `connect_concurrency` clients connecting (not yet synced)
  // at any time. Pacing matters: y-protocols renews a client's awareness 15 s after it was set,
  // from a 3 s timer started when the provider is created. Providers created in one tick renew
  // in one tick, and that synchronized burst (every client at once, each renewal relayed and
  // re-broadcast by the receiving providers) is not how people join an interview.
  return new Promise((resolve, reject) => {
    if (makers.length === 0) return resolve()
    const phaseStart = performance.now()
    const spreadMs = cfg.connect_spread_s * 1000
    let next = 0
    let inFlight = 0
    let done = 0
    let waiting = false
    const timer = setTimeout(() => reject(new Error(
      `connect timeout: ${done}/${makers.length} clients of this phase synced after ${cfg.connect_timeout_s} s`
    )), cfg.connect_timeout_s * 1000)
    const launch = () => {
      waiting = false
      while (next < makers.length && inFlight < cfg.connect_concurrency) {
        const due = phaseStart + (next / makers.length) * spreadMs
        const now = performance.now()
        if (due > now) {
          if (!waiting) {
            waiting = true
            setTimeout(launch, due - now)
          }
          return
        }
        const c = makers[next++]()
        inFlight++
        c.provider.on('sync', (synced) => {
          if (!synced || c.synced) return
          c.synced = true
          inFlight--
          if (++done === makers.length) {
            clearTimeout(timer)
            resolve()
          } else if (!waiting) {
            launch()
          }
        })
        c.provider.connect()
      }
    }
    launch()
  })
}

async function connectAll () {
  // Typists first, then the other clients: pycrdt-websocket's WebsocketServer never serves
  // a second client that arrives while a new room is still starting (YRoom.start holds the
  // room's start lock for the room's lifetime), so every room gets one synced client first.
  const started = performance.now()
  await connectClients(sessions.map((s) => () => (s.typist = makeClient(s, 0, s.room, s.tokens?.[0]))))
  const receivers = []
  for (const s of sessions) {
    for (let k = 1; k < cfg.clients; k++) {
      receivers.push(() => {
        const c = makeClient(s, k, s.room, s.tokens?.[k])
        s.receivers.push(c)
        return c
      })
    }
  }
  await connectClients(receivers)
  return performance.now() - started
}

function type () {
  // Every typist sends `rate` edits per second, the sessions spread evenly over one period.
  const period = 1000 / cfg.rate
  const edits = Math.round(cfg.seconds * cfg.rate)
  const t0 = performance.now() + 20
  let finished = 0
  return new Promise((resolve) => {
    sessions.forEach((s, i) => {
      const offset = (i / sessions.length) * period
      const step = () => {
        const seq = s.sent
        s.sendTimes[seq] = performance.now()
        s.sent = seq + 1 // before the insert: a receiver may only count seqs already sent
        s.typist.text.insert(s.typist.text.length, `${seq} `)
        if (s.sent >= edits) {
          if (++finished === sessions.length) resolve()
          return
        }
        setTimeout(step, Math.max(0, t0 + offset + s.sent * period - performance.now()))
      }
      setTimeout(step, Math.max(0, t0 + offset - performance.now()))
    })
  })
}

async function drain (expected) {
  const until = performance.now() + cfg.drain_s * 1000
  while (delivered < expected && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function run () {
  const edits = Math.round(cfg.seconds * cfg.rate)
  for (const spec of cfg.sessions) {
    sessions.push({
      room: spec.room,
      tokens: spec.tokens,
      sendTimes: new Float64Array(edits + 1),
      sent: 0,
      typist: null,
      receivers: []
    })
  }
  let connectMs
  try {
    connectMs = await connectAll()
  } catch (e) {
    fail(e.message)
  }
  out({ event: 'synced', clients: allProviders.length, connect_ms: connectMs })
  await goCommand
  const loopDelay = monitorEventLoopDelay({ resolution: 5 })
  loopDelay.enable()
  typingStarted = performance.now()
  await type()
  loopDelay.disable()
  const sent = sessions.reduce((a, s) => a + s.sent, 0)
  out({ event: 'typing_done', sent, typing_ms: performance.now() - typingStarted })
  const expected = sessions.reduce((a, s) => a + s.sent * s.receivers.length, 0)
  await drain(expected)
  counting = false
  // p99 per second of send time: a backlog shows as a rising curve.
  const perSecond = []
  for (let i = 0; i < latencies.length; i++) {
    const sec = Math.max(0, Math.floor(latencyAt[i] / 1000))
    ;(perSecond[sec] ??= []).push(latencies[i])
  }
  const p99BySecond = Array.from(perSecond, (xs) => xs ? percentile(Float64Array.from(xs).sort(), 99) : null)
  latencies = Float64Array.from(latencies).sort()
  const mean = latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1)
  out({
    event: 'result',
    sent,
    expected,
    delivered,
    duplicates,
    closes_after_sync: closesAfterSync,
    p50_ms: percentile(latencies, 50),
    p90_ms: percentile(latencies, 90),
    p99_ms: percentile(latencies, 99),
    p999_ms: percentile(latencies, 99.9),
    max_ms: latencies.length ? latencies[latencies.length - 1] : null,
    mean_ms: mean,
    awareness_by_second: Array.from(awarenessBySecond, (v) => v ?? 0),
    p99_by_second_ms: p99BySecond.map((v) => (v === null ? null : Math.round(v * 10) / 10)),
    loadgen_loop_delay_ms: {
      p50: loopDelay.percentile(50) / 1e6,
      p99: loopDelay.percentile(99) / 1e6,
      max: loopDelay.max / 1e6
    }
  })
}

function quit (code = 0) {
  for (const p of allProviders) {
    try { p.destroy() } catch (_) {}
  }
  if (hardStop) clearTimeout(hardStop)
  // Let the close frames go out, then leave.
  setTimeout(() => process.exit(code), 200)
}

let resolveGo
const goCommand = new Promise((resolve) => { resolveGo = resolve })
const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  if (cfg === null) {
    cfg = JSON.parse(line)
    // Bounded no matter what the parent does.
    const budget = cfg.connect_timeout_s + cfg.seconds + cfg.drain_s + 180
    hardStop = setTimeout(() => fail(`hard stop after ${budget} s`), budget * 1000)
    run().catch((e) => fail(String(e && e.stack ? e.stack : e)))
  } else if (line.trim() === 'go') {
    resolveGo()
  } else if (line.trim() === 'quit') {
    quit(0)
  }
})
rl.on('close', () => quit(0))
