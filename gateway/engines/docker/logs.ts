import { createInterface } from 'node:readline'
import { PassThrough, type Readable } from 'node:stream'
import type Docker from 'dockerode'

export interface LogFollow {
  /** Settles when the stream has ended and every line was delivered: the container stopped, or `stop()` ran. */
  ended: Promise<void>
  /** Stops following (detach); the container is not touched. */
  stop(): void
}

/**
 * Follows a container's stdout and stderr from `since` (epoch seconds; 0 = from its start), line by line. Containers
 * are created without a TTY, so Docker multiplexes both streams into one with 8-byte frame headers. The log stream
 * ends by itself when the container stops, which is how a death's last lines are known to be in.
 */
export async function followLogs(container: Docker.Container, since: number, onLine: (line: string) => void): Promise<LogFollow> {
  const raw = (await container.logs({ follow: true, stdout: true, stderr: true, since })) as Readable
  const outputs = [new PassThrough(), new PassThrough()]
  container.modem.demuxStream(raw, outputs[0]!, outputs[1]!)
  const ended = Promise.all(
    outputs.map(
      (output) =>
        new Promise<void>((resolve) =>
          createInterface({ input: output, crlfDelay: Infinity }).on('line', onLine).once('close', resolve),
        ),
    ),
  ).then(() => undefined)
  let done = false
  const finish = () => {
    if (done) return
    done = true
    for (const output of outputs) output.end()
  }
  raw.once('end', finish)
  raw.once('close', finish)
  // A stream cut by a daemon outage ends the same way; the events sweep decides what happened to the container.
  raw.on('error', finish)
  return {
    ended,
    stop() {
      // Destroyed first: no frame can then be written to an ended output.
      raw.destroy()
      finish()
    },
  }
}
