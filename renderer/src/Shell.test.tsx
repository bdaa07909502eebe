import { render, screen } from '@testing-library/react'
import { createMemoryRouter, RouterProvider } from 'react-router'
import { describe, expect, it } from 'vitest'
import { Shell } from './Shell.js'
import { useStore } from './store/index.js'
import { signInAs } from './test/fakes.js'
import { modelView } from './test/models.js'

const renderShell = () =>
  render(
    <RouterProvider
      router={createMemoryRouter([{ path: '/', element: <Shell />, children: [{ index: true, element: <p>page</p> }] }])}
    />,
  )

const navLabels = () => screen.getAllByRole('link').map((a) => a.textContent)

describe('Shell', () => {
  it('an admin with no models sees First run in place of Models, and every section', () => {
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: {} })
    renderShell()
    expect(navLabels()).toEqual(['First run', 'Chat', 'GPUs', 'Usage', 'Keys', 'Settings'])
    expect(screen.getByTestId('user').textContent).toBe('adminadmin')
  })

  it('a member sees models, usage and keys only', () => {
    signInAs('member')
    useStore.setState({ modelsStatus: 'ready', models: {} })
    renderShell()
    expect(navLabels()).toEqual(['Models', 'Chat', 'Usage', 'Keys'])
  })

  it('shows the events stream’s state', () => {
    signInAs('admin')
    useStore.setState({ modelsStatus: 'ready', models: { q: modelView('q') }, connection: 'reconnecting' })
    renderShell()
    expect(navLabels()[0]).toBe('Models')
    expect(screen.getByTestId('connection').textContent).toBe('Reconnecting…')
  })
})
