// A stock Yjs WebsocketProvider, driven line by line over stdin (JSON commands) and
// reporting over stdout (JSON events). Usage: node client.mjs <ws base url> <room> <token> [name]
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import readline from 'node:readline'

const [base, room, token, name = 'client'] = process.argv.slice(2)
const doc = new Y.Doc()
const text = doc.getText('code')
const provider = new WebsocketProvider(base, room, doc, {
  WebSocketPolyfill: WebSocket,
  params: { token },
  maxBackoffTime: 500,
  disableBc: true
})
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

provider.on('status', (e) => out({ event: 'status', status: e.status }))
provider.on('sync', (synced) => out({ event: 'sync', synced, text: text.toString() }))
provider.on('connection-close', (e) => out({ event: 'close', code: e ? e.code : null }))
text.observe(() => out({ event: 'text', text: text.toString() }))
// name "-" leaves the presence as a stock provider has it: an empty state at clock 0.
if (name !== '-') provider.awareness.setLocalStateField('user', { name, color: '#30bced' })
provider.awareness.on('change', () => {
  const users = []
  provider.awareness.getStates().forEach((s, id) => {
    if (id !== doc.clientID && s.user) users.push({ id, name: s.user.name, cursor: s.cursor ?? null })
  })
  out({ event: 'awareness', users })
})

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const cmd = JSON.parse(line)
  if (cmd.op === 'insert') text.insert(Math.min(cmd.index ?? text.length, text.length), cmd.text)
  else if (cmd.op === 'append') text.insert(text.length, cmd.text)
  else if (cmd.op === 'delete') text.delete(cmd.index, cmd.length)
  else if (cmd.op === 'cursor') provider.awareness.setLocalStateField('cursor', cmd.cursor)
  else if (cmd.op === 'get') out({ event: 'get', id: cmd.id, text: text.toString(), synced: provider.synced })
  else if (cmd.op === 'disconnect') provider.disconnect()
  else if (cmd.op === 'connect') provider.connect()
  else if (cmd.op === 'quit') { provider.destroy(); process.exit(0) }
})
rl.on('close', () => { provider.destroy(); process.exit(0) })
out({ event: 'started', clientID: doc.clientID })
