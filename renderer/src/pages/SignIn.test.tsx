import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { useStore } from '../store/index.js'
import { adminSession, errorBody, stubFetch } from '../test/fakes.js'
import { SignIn } from './SignIn.js'

const signedOut = (error: string | null = null, retryAt: number | null = null) =>
  useStore.setState({ session: { status: 'signed-out', error, retryAt } })

describe('SignIn', () => {
  it('signs in with the admin token', async () => {
    signedOut()
    const { calls } = stubFetch({ 'POST /admin/api/auth/session': { body: adminSession() } })
    render(<SignIn />)
    await userEvent.type(screen.getByTestId('signin-token-input'), '  tok-123  ')
    await userEvent.click(screen.getByTestId('signin-submit'))
    expect(calls[0]?.body).toEqual({ token: 'tok-123' })
    expect(useStore.getState().session.status).toBe('signed-in')
  })

  it('signs in with a name and password, and shows the refusal’s message', async () => {
    signedOut()
    const { calls } = stubFetch({
      'POST /admin/api/auth/session': { status: 401, body: errorBody('wrong name or password', 'sign_in_failed') },
    })
    render(<SignIn />)
    await userEvent.click(screen.getByRole('tab', { name: 'Name and password' }))
    await userEvent.type(screen.getByTestId('signin-name'), 'mia')
    await userEvent.type(screen.getByTestId('signin-password'), 'not-it')
    await userEvent.click(screen.getByTestId('signin-submit'))
    expect(calls[0]?.body).toEqual({ name: 'mia', password: 'not-it' })
    expect((await screen.findByTestId('signin-error')).textContent).toBe('wrong name or password')
  })

  it('while throttled, says how long to wait and keeps the button off', () => {
    signedOut('too many failed sign-ins: wait a minute', Date.now() + 30_000)
    render(<SignIn />)
    expect(screen.getByTestId('signin-error').textContent).toMatch(/Try again in 3\d s\./)
    expect((screen.getByTestId('signin-submit') as HTMLButtonElement).disabled).toBe(true)
  })
})
