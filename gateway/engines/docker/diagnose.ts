import type { Diagnosis, ModelDefinition } from '../../contract/index.js'
import { dockerMessage } from './client.js'

const make = (cause: string, message: string): Diagnosis => ({ cause, message, exitCode: null, logTail: [] })

/** How to get an image onto a machine that cannot reach its registry. */
export const offlineImageHint = (image: string) =>
  `on a machine with internet run \`docker pull ${image}\` and \`docker save ${image} -o image.tar\`, copy image.tar here, ` +
  `then POST /admin/api/images/load {"path": "/path/to/image.tar"} (or \`docker load -i image.tar\`)`

export function diagnoseDockerUnavailable(message: string): Diagnosis {
  return make('docker_unavailable', message)
}

export function diagnoseImageMissing(def: ModelDefinition, image: string, reason: string): Diagnosis {
  return make(
    'image_missing',
    `image ${image} of model "${def.name}" is not on this machine and could not be pulled (${reason}): ${offlineImageHint(image)}`,
  )
}

/**
 * A refusal of the daemon (`doing`: "create the container", …), in words with the fix. The patterns are the daemon's messages
 * (daemon/nvidia_linux.go, libnetwork's port allocator, the kernel's EADDRINUSE).
 */
export function diagnoseDockerError(def: ModelDefinition, doing: string, err: unknown): Diagnosis {
  const text = dockerMessage(err).trim()
  if (/could not select device driver/.test(text)) {
    return make(
      'nvidia_runtime_missing',
      `Docker cannot give GPUs to model "${def.name}": it has no NVIDIA runtime. Install the NVIDIA Container Toolkit ` +
        '(then `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker), or set `gpus: none` to run on the CPU',
    )
  }
  if (/port is already allocated|address already in use/.test(text)) {
    return make('port_in_use', `the port of model "${def.name}" was taken before its container started: start the model again`)
  }
  if (/No such image/i.test(text)) {
    return make(
      'image_missing',
      `Docker no longer has the image of model "${def.name}" (${text}): start the model again to pull it`,
    )
  }
  return make('docker_error', `Docker could not ${doing} of model "${def.name}": ${text}`)
}
