import { useState, type FormEvent } from 'react'
import { useAction } from '../../components/useAction.js'
import { useStore } from '../../store/index.js'
import { loadImages } from '../../store/loaders.js'
import { dataOf } from '../../store/remote.js'
import { formatBytes } from '../../units.js'
import { loadImageFile } from './actions.js'

/** Docker images on this machine, and loading one saved elsewhere (`docker save`) for a machine with no registry. */
export function Images() {
  const images = useStore((s) => s.images)
  const docker = useStore((s) => s.docker)
  const list = dataOf(images) ?? []
  const [path, setPath] = useState('')
  const [loaded, setLoaded] = useState<string[] | null>(null)
  const { busy, error, run } = useAction()

  const submit = (e: FormEvent) => {
    e.preventDefault()
    setLoaded(null)
    void run('load', async () => setLoaded(await loadImageFile(path.trim())))
  }
  return (
    <details
      className="panel images"
      onToggle={(e) => (e.currentTarget.open && images.status === 'idle' ? void loadImages() : undefined)}
      data-testid="images"
    >
      <summary>
        <h2>Docker images</h2>
      </summary>
      {docker?.available === false && (
        <p className="notice" data-testid="docker-down">
          {docker.message ?? 'Docker is not available.'}
        </p>
      )}
      {images.status === 'loading' && list.length === 0 && <p className="muted">Loading the images…</p>}
      {images.status === 'error' && docker?.available !== false && (
        <p className="form-error" role="alert">
          {images.error}
        </p>
      )}
      {images.status === 'ready' && list.length === 0 && <p className="muted">No images yet.</p>}
      {list.length > 0 && (
        <table className="grid" data-testid="images-table">
          <thead>
            <tr>
              <th scope="col">Image</th>
              <th scope="col" className="num">
                Size
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((img) => (
              <tr key={img.id}>
                <td className="mono">{img.tags.length > 0 ? img.tags.join(', ') : img.id.slice(0, 19)}</td>
                <td className="num">{formatBytes(img.sizeBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="image-load" onSubmit={submit}>
        <label className="field">
          <span>Load a saved image (a docker save .tar on this machine)</span>
          <input
            value={path}
            onChange={(e) => setPath(e.target.value)}
            placeholder="/srv/images/llama-server.tar"
            className="mono"
            required
            data-testid="image-path"
          />
        </label>
        <button type="submit" disabled={busy !== null || path.trim() === ''} data-testid="image-load">
          {busy ? 'Loading…' : 'Load'}
        </button>
      </form>
      {error && (
        <p className="form-error" role="alert" data-testid="image-error">
          {error}
        </p>
      )}
      {loaded && (
        <p role="status" data-testid="image-loaded">
          Loaded {loaded.length > 0 ? loaded.join(', ') : 'the image (it has no tag)'}.
        </p>
      )}
    </details>
  )
}
