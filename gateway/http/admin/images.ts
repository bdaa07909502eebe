import { CortexError } from '../../contract/errors.js'
import { ImageLoadBody, ImagePullBody } from '../../contract/index.js'
import type { ImageService } from '../../engines/docker/types.js'
import type { AdminApp } from './index.js'

/** How long a client should wait before asking again when Docker does not answer. */
const DOCKER_RETRY_SECONDS = 5

/** `/images…`: the Docker daemon's images, `docker load` of a tar, and pulls whose progress goes on /events. */
export function imageRoutes(app: AdminApp, images: ImageService): void {
  app.get('/images', async () => ({ data: await images.list() }))
  app.post('/images/load', { schema: { body: ImageLoadBody } }, async (req) => ({ images: await images.load(req.body.path) }))

  app.post('/images/pull', { schema: { body: ImagePullBody } }, async (req, reply) => {
    const { image } = req.body
    // The pull outlives the request, so a daemon that is down must be refused now, not reported later.
    const docker = images.status()
    if (!docker.available) {
      throw new CortexError('docker_unavailable', docker.message ?? 'Docker does not answer; start it and try again', {
        retryAfterSeconds: DOCKER_RETRY_SECONDS,
      })
    }
    images.pull(image).then(
      () => req.log.info({ image }, 'image pulled'),
      // Watchers see the failure on /events; the log keeps the cause.
      (err: unknown) => req.log.warn({ err, image }, 'image pull failed'),
    )
    return reply.code(202).send({ image })
  })
}
