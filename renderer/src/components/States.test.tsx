import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { Empty, ErrorState, Loading, NeedsNewerGateway } from './States.js'

describe('state components', () => {
  it('loading is announced politely', () => {
    render(<Loading label="Loading models…" />)
    expect(screen.getByRole('status').textContent).toContain('Loading models…')
  })

  it('empty says what is missing and what to do', () => {
    render(<Empty title="No keys yet">Create one below.</Empty>)
    expect(screen.getByTestId('state-empty').textContent).toBe('No keys yetCreate one below.')
  })

  it('an error is an alert showing the gateway’s message, with a retry', async () => {
    const retry = vi.fn()
    render(<ErrorState message="Docker is not running: start it with sudo systemctl start docker" onRetry={retry} />)
    expect(screen.getByRole('alert').textContent).toContain('sudo systemctl start docker')
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
    expect(retry).toHaveBeenCalledOnce()
  })

  it('a missing route says a newer Cortex is needed, not that something failed', () => {
    render(<NeedsNewerGateway feature="Inspecting a GGUF file" />)
    expect(screen.getByTestId('state-missing').textContent).toContain('Inspecting a GGUF file needs a newer Cortex')
    expect(screen.queryByRole('alert')).toBeNull()
  })
})
